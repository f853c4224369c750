"""The back office's service tokens page (administrators): make a token for an integration with its scopes,
see when each was last used and what it requested, revoke it."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from accounts import service_tokens as tokens
from backoffice.security import StaffOnly, actor
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError
from workflow.definition import ADMIN


class ServiceTokensView(StaffOnly, BaseView):
    def is_accessible(self) -> bool:
        person = actor()
        return person is not None and person.role == ADMIN

    def is_visible(self) -> bool:
        return self.is_accessible()

    def _page(self, new_token: str | None = None, errors: dict | None = None, status: int = 200):
        person = actor()
        listed = tokens.list_service_tokens(person)
        shown = request.args.get("requests", type=int)
        requests = tokens.recent_requests(person, shown) if shown else []
        page = self.render("accounts/admin/service_tokens.html", tokens=listed, areas=tokens.AREAS,
                           area_names=tokens.AREA_NAMES, scope_title=tokens.scope_title,
                           roles=tokens.SERVICE_ROLES, new_token=new_token, errors=errors or {},
                           shown=shown, requests=requests, form=request.form)  # fmt: skip
        return page, status

    @expose("/")
    def index(self):
        return self._page()

    @expose("/", methods=("POST",))
    def create(self):
        scopes = request.form.getlist("scopes")
        try:
            plain, _record = tokens.create_service_token(
                actor(), request.form.get("name", ""), scopes, request.form.get("role", "organizer")
            )
        except DomainError as error:
            rollback()
            flash(str(error.message), "error")
            return self._page(errors=error.field_errors, status=error.status)
        commit()
        flash(_("Copy the token now: it is shown only once."), "success")
        return self._page(new_token=plain)

    @expose("/<int:token_id>/revoke", methods=("POST",))
    def revoke(self, token_id: int):
        try:
            record = tokens.revoke_service_token(actor(), token_id)
        except DomainError as error:
            rollback()
            flash(str(error.message), "error")
            return redirect(url_for(".index"))
        commit()
        flash(_("Token “%(name)s” revoked.", name=record.name), "success")
        return redirect(url_for(".index"))


def register(admin: Admin) -> None:
    admin.add_view(ServiceTokensView(name=_l("Service tokens"), category=_l("People"), endpoint="admin_service_tokens",
                                     url="/admin/service-tokens"))  # fmt: skip
