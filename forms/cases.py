"""Forms of the case pages: the dossier, uploads and workflow buttons.

The dossier form only collects text; cases.operations parses and validates every value (dates, amounts, the
domain belonging to the category), so the rules exist once.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice

from campaigns.models import Campaign, Organization
from cases.models import Case
from cases.operations import FIELD_LABELS, TEXT_FIELDS
from forms import int_or_none
from pingxuan.i18n import pick
from workflow.definition import Transition

LONG_TEXT = ("summary", "description", "innovation", "effects", "beneficiaries")


class CaseForm(FlaskForm):
    version = HiddenField()
    title = StringField(FIELD_LABELS["title"])
    category_id = SelectField(FIELD_LABELS["category_id"], validate_choice=False)
    domain_id = SelectField(FIELD_LABELS["domain_id"], validate_choice=False)
    recommending_org_id = SelectField(FIELD_LABELS["recommending_org_id"], validate_choice=False)
    construction_unit = StringField(FIELD_LABELS["construction_unit"])
    operating_unit = StringField(FIELD_LABELS["operating_unit"])
    in_operation_since = StringField(FIELD_LABELS["in_operation_since"], description=_l("YYYY-MM-DD"))
    investment = StringField(FIELD_LABELS["investment"], description=_l("In CNY, e.g. 1250000.00"))
    summary = TextAreaField(FIELD_LABELS["summary"], description=_l("One or two sentences, at most 500 characters."))
    description = TextAreaField(FIELD_LABELS["description"])
    innovation = TextAreaField(FIELD_LABELS["innovation"])
    effects = TextAreaField(FIELD_LABELS["effects"])
    beneficiaries = TextAreaField(FIELD_LABELS["beneficiaries"])
    public_url = StringField(FIELD_LABELS["public_url"], description=_l("A public URL or an app name is needed."))
    app_name = StringField(FIELD_LABELS["app_name"])

    def set_choices(self, campaign: Campaign, organizations: list[Organization]) -> None:
        """Fill the selects from the campaign's taxonomy; each domain remembers its category for the filter."""
        none = SelectChoice("", _l("Choose…"))
        self.category_id.choices = [none] + [SelectChoice(str(c.id), pick(c, "name")) for c in campaign.categories]
        self.domain_id.choices = [none] + [
            SelectChoice(str(d.id), pick(d, "name"), {"data-category": str(c.id)})
            for c in campaign.categories
            for d in c.domains
        ]
        self.recommending_org_id.choices = [none] + [SelectChoice(str(o.id), pick(o, "name")) for o in organizations]

    def fill_from(self, case: Case) -> None:
        """Show the stored dossier (on GET)."""
        for name in TEXT_FIELDS:
            getattr(self, name).data = getattr(case, name) or ""
        for name in ("category_id", "domain_id", "recommending_org_id"):
            value = getattr(case, name)
            getattr(self, name).data = str(value) if value else ""
        self.in_operation_since.data = case.in_operation_since.isoformat() if case.in_operation_since else ""
        self.investment.data = f"{case.investment:f}" if case.investment is not None else ""
        self.version.data = str(case.version)

    def dossier(self) -> dict[str, Any]:
        """The submitted values in the shape cases.operations expects."""
        data: dict[str, Any] = {name: getattr(self, name).data or "" for name in TEXT_FIELDS}
        for name in ("category_id", "domain_id", "recommending_org_id"):
            data[name] = int_or_none(getattr(self, name).data)
        data["in_operation_since"] = (self.in_operation_since.data or "").strip()
        data["investment"] = (self.investment.data or "").strip().replace(",", "")
        return data

    def expected_version(self) -> int | None:
        return int_or_none(self.version.data)


class AttachmentForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("document", _l("Document (PDF, JPEG, PNG)")),
            SelectChoice("photo", _l("Photo (JPEG, PNG)")),
        ],
        validate_choice=False,
    )
    file = FileField(_l("File"))
    visibility = SelectField(
        _l("Who may see it"),
        choices=[
            SelectChoice("", _l("As usual: photos public, documents private")),
            SelectChoice("public", _l("Public")),
            SelectChoice("private", _l("Private: my unit, its reviewers and the office")),
        ],
        validate_choice=False,
    )


class TransitionForm(FlaskForm):
    """One workflow button: the version the page showed, a comment and the required fields where the transition
    needs them (as text: workflow.engine reads and checks them, for every route alike)."""

    expected_version = HiddenField()
    comment = TextAreaField(_l("Comment"))
    due_date = StringField(_l("Revision due by"))

    def required_fields(self, transition: Transition) -> dict[str, Any]:
        return {name: self[name].data for name in transition.required_fields}
