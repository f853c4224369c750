"""Who may use the back office: organizers and administrators, on every admin page without exception."""

from __future__ import annotations

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from accounts.models import User
from workflow.definition import STAFF
from workflow.roles import global_roles, is_authenticated


def actor() -> User | None:
    """The logged-in person as a plain User (operations must not receive Flask-Login's proxy)."""
    user = current_user._get_current_object() if current_user else None
    return user if is_authenticated(user) else None


def is_staff() -> bool:
    return bool(global_roles(actor()) & STAFF)


def login_url() -> str:
    if "accounts.login" in current_app.view_functions:
        return url_for("accounts.login", next=request.full_path)
    return "/login?next=" + request.full_path


class StaffOnly:
    """Mixed into every admin view: anonymous people are sent to log in, everyone else who is not staff gets 403.

    Flask-Admin calls ``is_accessible`` before each exposed method (``_handle_view``), so custom ``@expose``
    routes are covered as well as the list, create, edit, details and action endpoints.
    """

    def is_accessible(self) -> bool:
        return is_staff()

    def inaccessible_callback(self, name, **kwargs):  # noqa: ARG002
        if actor() is None:
            return redirect(login_url())
        abort(403)
