"""Back-office pages of a campaign's set-up: its rubric, its configuration as a file (export, import with a dry
run), next year's edition (clone) and the audit of every set-up change."""

from __future__ import annotations

from typing import Any

import yaml
from flask import Blueprint, Flask, Response, flash, redirect, request, url_for
from flask_admin import Admin, BaseView, expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from awards.admin import chosen_campaign
from backoffice.base import report
from backoffice.security import StaffOnly, actor
from campaigns import settings, transfer
from campaigns.models import Campaign, Category
from campaigns.operations import organizations
from cases import dossier
from forms.cases import case_form
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, Invalid
from pingxuan.extensions import db

SETUP = _l("Set-up")
BLANK_ROWS = 2


def _category(campaign: Campaign) -> Category | None:
    wanted = request.values.get("category", type=int)
    return next((c for c in campaign.categories if c.id == wanted), None)


class RubricView(StaffOnly, BaseView):
    """The campaign's rubric, or one category's own: a row per criterion, blank rows to add, empty rows dropped."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        campaigns, campaign = chosen_campaign()
        category = _category(campaign)
        errors: dict[str, str] = {}
        rows: list[dict[str, Any]] = [settings.criterion_values(c) for c in settings.own_rubric(campaign, category)]
        if request.method == "POST":
            rows = self._posted_rows()
            try:
                settings.set_rubric(campaign, [r for r in rows if any(str(v).strip() for v in r.values())], actor(),
                                    category)  # fmt: skip
                commit()
                flash(_("The rubric is saved."), "success")
                return redirect(url_for(".index", campaign=campaign.id, category=category.id if category else ""))
            except DomainError as error:
                rollback()
                report(error)
                errors = error.field_errors
        rows += [dict.fromkeys(settings.CRITERION_FIELDS, "") for _n in range(BLANK_ROWS)]
        return self.render(
            "campaigns/admin/rubric.html", campaigns=campaigns, campaign=campaign, category=category, rows=rows,
            errors=errors, locked=settings.scoring_started(campaign),
        )  # fmt: skip

    @staticmethod
    def _posted_rows() -> list[dict[str, Any]]:
        columns = {name: request.form.getlist(name) for name in settings.CRITERION_FIELDS}
        count = max((len(v) for v in columns.values()), default=0)
        return [
            {name: (values[i] if i < len(values) else "") for name, values in columns.items()} for i in range(count)
        ]


class CampaignFileView(StaffOnly, BaseView):
    """Export the configuration as YAML, import a file (a dry run first), clone into next year's edition."""

    @expose("/")
    def index(self):
        campaigns, campaign = chosen_campaign()
        return self.render("campaigns/admin/file.html", campaigns=campaigns, campaign=campaign, report=None,
                           next_year=campaign.year + 1)  # fmt: skip

    @expose("/export")
    def export(self):
        _campaigns, campaign = chosen_campaign()
        return Response(
            transfer.export_yaml(campaign), mimetype="application/yaml",
            headers={"Content-Disposition": f"attachment; filename=campaign-{campaign.year}.yaml"},
        )  # fmt: skip

    @expose("/import", methods=("POST",))
    def import_file(self):
        campaigns, campaign = chosen_campaign()
        upload = request.files.get("file")
        dry_run = bool(request.form.get("dry_run"))
        result = None
        try:
            if upload is None or not upload.filename:
                raise DomainError(_("Choose a campaign file (YAML) to import."))
            result = transfer.import_config(transfer.parse_yaml(upload.read()), actor(), dry_run=dry_run)
            commit()
            flash(_("Dry run: nothing was written.") if dry_run else _("The campaign file is imported."), "success")
        except DomainError as error:
            rollback()
            report(error)
        return self.render("campaigns/admin/file.html", campaigns=campaigns, campaign=campaign, report=result,
                           next_year=campaign.year + 1)  # fmt: skip

    @expose("/clone", methods=("POST",))
    def clone(self):
        _campaigns, campaign = chosen_campaign()
        try:
            year = request.form.get("year", type=int)
            if year is None:
                raise DomainError(_("Enter the new edition's year."), {"year": _("Enter a whole number.")})
            clone = transfer.clone_campaign(
                campaign, actor(), year=year, make_current=bool(request.form.get("current"))
            )
            commit()
            flash(_("Campaign %(year)d created: taxonomy, rubric and experts copied, no cases.", year=clone.year),
                  "success")  # fmt: skip
            return redirect(url_for(".index", campaign=clone.id))
        except DomainError as error:
            rollback()
            report(error)
        return redirect(url_for(".index", campaign=campaign.id))


class ChangesView(StaffOnly, BaseView):
    """Who changed which setting of the campaign, from what to what (newest first)."""

    @expose("/")
    def index(self):
        campaigns, campaign = chosen_campaign()
        changes = settings.setting_changes(campaign)
        from accounts.models import User

        people = {
            u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_({c.actor_id for c in changes})))
        }
        return self.render("campaigns/admin/changes.html", campaigns=campaigns, campaign=campaign, changes=changes,
                           people=people)  # fmt: skip


class DossierFormView(StaffOnly, BaseView):
    """The campaign's dossier form: its fields at a glance, the declaration to edit (the campaign file's format:
    add, reorder, relabel), a check without saving, and a preview as a unit sees the form."""

    @expose("/", methods=("GET", "POST"))
    def index(self):
        campaigns, campaign = chosen_campaign()
        text = yaml.safe_dump(settings.dossier_form_data(campaign), allow_unicode=True, sort_keys=False)
        errors: dict[str, str] = {}
        declared = dossier.form_of(campaign)
        if request.method == "POST":
            action = request.form.get("action", "")
            by_rows = action in ("rows", "rows-check") or bool(request.form.get("move"))
            text = request.form.get("declaration", "") if not by_rows else text
            check_only = action in ("check", "rows-check")
            try:
                data = _rows_declaration(campaign) if by_rows else _yaml_mapping(text)
                declared = settings.set_dossier_form(campaign, data, actor(), dry_run=check_only)
                if check_only:
                    rollback()
                    flash(_("The dossier form can be saved as it is."), "success")
                else:
                    commit()
                    flash(_("The dossier form is saved."), "success")
                    return redirect(url_for(".index", campaign=campaign.id) + ("#dossier-fields" if by_rows else ""))
            except DomainError as error:
                rollback()
                report(error)
                errors = error.field_errors
        preview = case_form(declared, formdata=None, meta={"csrf": False})
        preview.set_choices(campaign, organizations())
        return self.render(
            "campaigns/admin/dossier_form.html", campaigns=campaigns, campaign=campaign, text=text, errors=errors,
            declaration=declared, preview=preview, locked=settings.dossier_submitted(campaign), types=dossier.TYPES,
            core=dossier.CORE,
        )  # fmt: skip


def _rows_declaration(campaign: Campaign) -> dict[str, Any]:
    """The per-field editor's rows as a declaration: each row's inputs are named ``<key>.<attribute>``."""
    form = request.form
    rows: dict[str, dict[str, Any]] = {}
    for key in form.getlist("key"):
        row: dict[str, Any] = {name: form.get(f"{key}.{name}") for name in (*settings.ROW_TEXTS, *settings.ROW_LIMITS)
                               if f"{key}.{name}" in form}  # fmt: skip
        row |= {name: f"{key}.{name}" in form for name in ("required", "public", "remove")}
        if form.get(f"{key}.type"):
            row["type"] = form.get(f"{key}.type")
        rows[key] = row
    added = {name: form.get(f"new.{name}", "") for name in ("key", "type", "label_zh", "label_en", "section")}
    return settings.dossier_form_from_rows(campaign, rows, added, form.get("move", ""))


def _yaml_mapping(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise Invalid(_("The declaration is not valid YAML."), {"declaration": str(error)}) from error


def register(app: Flask, admin: Admin) -> None:
    app.register_blueprint(Blueprint("campaign_setup", __name__, template_folder="templates"))
    admin.add_view(RubricView(name=_l("Rubric"), category=SETUP, endpoint="admin_rubric", url="/admin/rubric"))
    admin.add_view(DossierFormView(name=_l("Dossier form"), category=SETUP, endpoint="admin_dossier_form",
                                   url="/admin/dossier-form"))  # fmt: skip
    admin.add_view(CampaignFileView(name=_l("Campaign file and next edition"), category=SETUP,
                                    endpoint="admin_campaign_file", url="/admin/campaign-file"))  # fmt: skip
    admin.add_view(ChangesView(name=_l("Set-up changes"), category=SETUP, endpoint="admin_setup_changes",
                               url="/admin/setup-changes"))  # fmt: skip
