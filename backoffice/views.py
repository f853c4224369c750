"""Set-up (campaigns, taxonomy, organizations), people (units, users) and audit (events, outbox) views."""

from __future__ import annotations

from flask import request
from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, PasswordField, TextAreaField
from wtforms.validators import InputRequired

from accounts.models import UNIT_KINDS, Unit, User
from accounts.operations import check_unit, create_user_by_staff, update_user
from backoffice.base import ReadOnlyModelView, StaffModelView
from backoffice.cases import state_title, transition_title
from backoffice.security import actor
from campaigns.models import VOTE_CLOSED, VOTE_NOT_OPEN, VOTE_OPEN, Campaign, Category, Domain, Organization
from campaigns.operations import check_campaign_settings, set_current_campaign
from campaigns.settings import (
    CAMPAIGN_FIELDS,
    CATEGORY_FIELDS,
    DOMAIN_FIELDS,
    ORGANIZATION_FIELDS,
    add_category,
    add_domain,
    add_organization,
    audit,
    locked_settings,
    settings_of,
    update_campaign,
    update_category,
    update_domain,
    update_organization,
)
from pingxuan.errors import Invalid
from pingxuan.extensions import db
from pingxuan.i18n import pick
from workflow.definition import ADMIN, APPLICANT, EXPERT, GLOBAL_ROLES, ORGANIZER, STATES, STEPS, TRANSITIONS
from workflow.models import WorkflowEvent

ROLE_LABELS = {APPLICANT: _l("Applicant"), EXPERT: _l("Expert"), ORGANIZER: _l("Organizer"), ADMIN: _l("Administrator")}
UNIT_KIND_LABELS = {
    "government": _l("Government body"),
    "enterprise": _l("Enterprise"),
    "institution": _l("Public institution"),
}
ORG_KIND_LABELS = {"district": _l("District"), "department": _l("City department")}
VOTE_LABELS = {VOTE_NOT_OPEN: _l("Not open"), VOTE_OPEN: _l("Open"), VOTE_CLOSED: _l("Closed")}

BILINGUAL = {
    "title_zh": _l("Title (Chinese)"),
    "title_en": _l("Title (English)"),
    "name_zh": _l("Name (Chinese)"),
    "name_en": _l("Name (English)"),
    "award_zh": _l("Award (Chinese)"),
    "award_en": _l("Award (English)"),
    "organizer_zh": _l("Organizer (Chinese)"),
    "organizer_en": _l("Organizer (English)"),
}


def _label(labels: dict, attr: str):
    return lambda view, context, model, name: labels.get(getattr(model, attr), getattr(model, attr))


# Set-up ---------------------------------------------------------------------------------------------------


class DayListField(TextAreaField):
    """Days as text, one per line (or separated by commas); campaigns.settings checks each is a date."""

    def process_formdata(self, valuelist: list) -> None:
        if valuelist:
            self.data = valuelist[0].replace(",", " ").split()

    def _value(self) -> str:
        return "\n".join(str(day) for day in self.data or [])

    def populate_obj(self, obj: object, name: str) -> None:
        setattr(obj, name, list(self.data or []))


class CampaignView(StaffModelView):
    column_list = ("year", "title_zh", "submission_opens", "submission_closes", "vote_status", "is_current")
    column_labels = {
        **BILINGUAL,
        "year": _l("Year"),
        "in_operation_before": _l("In operation on or before"),
        "submission_opens": _l("Submission opens"),
        "submission_closes": _l("Submission closes"),
        "review_opens": _l("Review opens"),
        "review_closes": _l("Review closes"),
        "vote_opens": _l("Vote opens"),
        "vote_closes": _l("Vote closes"),
        "vote_status": _l("Public vote"),
        "awards_per_category": _l("Awards per category"),
        "reviewers_per_case": _l("Reviewers per case"),
        "expert_weight": _l("Expert weight (%)"),
        "public_weight": _l("Public weight (%)"),
        "shortlist_per_category": _l("Finalists per category (empty: twice the awards)"),
        "votes_per_category_per_day": _l("Votes per voter per category per day"),
        "vote_identity": _l("Who may vote"),
        "show_live_counts": _l("Show vote counts while the vote is open"),
        "organization_awards": _l("Organization awards"),
        "blind_review": _l("Blind review (experts' books omit the units)"),
        "notice_working_days": _l("Public notice: working days"),
        "notice_holidays": _l("Public notice: days off (YYYY-MM-DD, one per line)"),
        "notice_contact": _l("Public notice: contact"),
        "is_current": _l("Current campaign"),
        "created_at": _l("Created"),
    }
    column_formatters = {
        "vote_status": _label(VOTE_LABELS, "vote_status"),
        "vote_identity": lambda view, context, model, name: dict(CampaignView.form_choices["vote_identity"]).get(
            model.vote_identity, model.vote_identity
        ),
    }
    column_details_exclude_list = ("categories",)
    column_default_sort = ("year", True)
    # The vote is opened and closed by the voting module, not by editing a field.
    form_columns = (
        "year", "title_zh", "title_en", "organizer_zh", "organizer_en", "in_operation_before",
        "submission_opens", "submission_closes", "review_opens", "review_closes", "vote_opens", "vote_closes",
        "awards_per_category", "shortlist_per_category", "reviewers_per_case", "expert_weight", "public_weight",
        "votes_per_category_per_day", "vote_identity", "show_live_counts", "organization_awards", "blind_review",
        "notice_working_days", "notice_holidays", "notice_contact", "is_current",
    )  # fmt: skip
    form_overrides = {"notice_holidays": DayListField}
    form_choices = {"vote_identity": [
        ("sms", _l("A verified mobile number (SMS code)")),
        ("wechat", _l("A WeChat user of the official account (in WeChat only)")),
        ("either", _l("Either: WeChat inside WeChat, SMS elsewhere")),
    ]}  # fmt: skip

    def edit_form(self, obj: Campaign | None = None) -> Form:
        """Settings locked by the campaign's phase are shown read-only, with the reason beneath."""
        form = super().edit_form(obj)
        if obj is not None:
            for name, reason in locked_settings(obj).items():
                field = form._fields.get(name)
                if field is not None:
                    field.render_kw = {**(field.render_kw or {}), "readonly": True, "disabled": True}
                    field.validators = []  # a disabled field is not posted; the operation keeps its value
                    field.description = reason
        return form

    def save_new(self, form: Form) -> Campaign:
        wanted = bool(form.is_current.data)
        campaign = Campaign()
        form.populate_obj(campaign)
        for column in Campaign.__table__.columns:  # fields left empty take the column's default
            if (
                getattr(campaign, column.key, None) is None
                and column.default is not None
                and not callable(column.default.arg)
            ):
                setattr(campaign, column.key, column.default.arg)
        campaign.is_current = False
        db.session.add(campaign)
        check_campaign_settings(campaign)
        db.session.flush()
        audit(campaign, actor(), "campaign", campaign.id, "created", None, settings_of(campaign))
        if wanted:
            set_current_campaign(campaign)
        return campaign

    def save_existing(self, form: Form, campaign: Campaign) -> None:
        """Every change goes through campaigns.settings: checked together, locked by phase, audited."""
        was_current, wanted = campaign.is_current, bool(form.is_current.data)
        locks = locked_settings(campaign)
        changes = {
            name: field.data
            for name, field in form._fields.items()
            if name in CAMPAIGN_FIELDS and not (name in locks and name not in request.form)
        }
        update_campaign(campaign, changes, actor())
        if wanted and not was_current:
            set_current_campaign(campaign)
        elif was_current and not wanted:
            raise Invalid(
                _("Please correct the marked fields."),
                {"is_current": _("Make another campaign current instead; one campaign is always current.")},
            )
        db.session.flush()


class CategoryView(StaffModelView):
    column_list = ("campaign", "position", "code", "abbr", "name_zh", "name_en", "award_zh")
    column_labels = {
        **BILINGUAL,
        "campaign": _l("Campaign"),
        "position": _l("Position"),
        "code": _l("Code"),
        "abbr": _l("Abbreviation (in case numbers)"),
        "domains": _l("Domains"),
        "last_case_number": _l("Last case number"),
    }
    column_filters = (IntEqualFilter(Category.campaign_id, _l("Campaign")),)
    column_default_sort = [("campaign_id", True), ("position", False)]
    form_columns = ("campaign", "position", "code", "abbr", "name_zh", "name_en", "award_zh", "award_en")
    form_create_columns = ("campaign", "code", "abbr", "name_zh", "name_en", "award_zh", "award_en")
    form_edit_columns = ("position", "code", "abbr", "name_zh", "name_en", "award_zh", "award_en")
    column_formatters = {"campaign": lambda view, context, model, name: model.campaign.year}

    def save_new(self, form: Form) -> Category:
        campaign = form.campaign.data
        if campaign is None:
            raise Invalid(_("Please correct the marked fields."), {"campaign": _("This field is required.")})
        return add_category(campaign, {n: form[n].data for n in CATEGORY_FIELDS}, actor())  # placed last

    def save_existing(self, form: Form, category: Category) -> None:
        fields = (*CATEGORY_FIELDS, "position")
        update_category(category, {n: form[n].data for n in fields if n in form._fields}, actor())


class DomainView(StaffModelView):
    column_list = ("category", "position", "name_zh", "name_en")
    column_labels = {
        **BILINGUAL,
        "category": _l("Category"),
        "position": _l("Position"),
        "description": _l("Description"),
    }
    column_searchable_list = ("name_zh", "name_en")
    column_filters = (IntEqualFilter(Domain.category_id, _l("Category")),)
    column_default_sort = [("category_id", False), ("position", False)]
    form_columns = ("category", "position", "name_zh", "name_en", "description")
    form_create_columns = ("category", "name_zh", "name_en", "description")
    form_edit_columns = ("position", "name_zh", "name_en", "description")

    def save_new(self, form: Form) -> Domain:
        category = form.category.data
        if category is None:
            raise Invalid(_("Please correct the marked fields."), {"category": _("This field is required.")})
        return add_domain(category, {n: form[n].data or "" for n in DOMAIN_FIELDS}, actor())  # placed last

    def save_existing(self, form: Form, domain: Domain) -> None:
        fields = (*DOMAIN_FIELDS, "position")
        update_domain(domain, {n: form[n].data for n in fields if n in form._fields}, actor())

    column_formatters = {
        "category": lambda view, context, model, name: (
            f"{model.category.campaign.year} · {pick(model.category, 'name')}"
        )
    }


class OrganizationView(StaffModelView):
    column_list = ("name_zh", "name_en", "kind", "active")
    column_labels = {**BILINGUAL, "kind": _l("Kind"), "active": _l("Active")}
    column_searchable_list = ("name_zh", "name_en")
    column_formatters = {"kind": _label(ORG_KIND_LABELS, "kind")}
    form_columns = ("name_zh", "name_en", "kind", "active")
    form_choices = {"kind": list(ORG_KIND_LABELS.items())}

    def save_new(self, form: Form) -> Organization:
        return add_organization({n: form[n].data for n in ORGANIZATION_FIELDS}, actor())

    def save_existing(self, form: Form, organization: Organization) -> None:
        update_organization(organization, {n: form[n].data for n in ORGANIZATION_FIELDS}, actor())


# People ---------------------------------------------------------------------------------------------------


class UnitView(StaffModelView):
    column_list = ("name", "kind", "district", "credit_code", "contact_name", "contact_phone")
    column_labels = {
        "name": _l("Name"),
        "kind": _l("Kind"),
        "district": _l("District"),
        "credit_code": _l("Unified social credit code"),
        "parent_org": _l("Parent organization"),
        "contact_name": _l("Contact person"),
        "contact_phone": _l("Contact phone"),
        "created_at": _l("Registered"),
        "members": _l("Members"),
    }
    column_searchable_list = ("name", "credit_code")
    column_filters = (
        FilterEqual(Unit.kind, _l("Kind"), options=lambda: [(k, str(UNIT_KIND_LABELS[k])) for k in UNIT_KINDS]),
    )
    column_formatters = {"kind": _label(UNIT_KIND_LABELS, "kind")}
    column_details_exclude_list = ("members",)
    form_columns = ("name", "kind", "district", "credit_code", "parent_org", "contact_name", "contact_phone")
    form_choices = {"kind": [(k, UNIT_KIND_LABELS[k]) for k in UNIT_KINDS]}

    def check(self, model: Unit) -> None:
        check_unit(model)


class UserView(StaffModelView):
    column_list = ("name", "email", "role", "unit", "active", "created_at")
    column_details_list = ("name", "email", "role", "unit", "active", "locale", "created_at")
    column_labels = {
        "name": _l("Full name"),
        "email": _l("E-mail"),
        "role": _l("Role"),
        "unit": _l("Unit"),
        "active": _l("May log in"),
        "locale": _l("Language"),
        "created_at": _l("Created"),
        "password": _l("First password"),
    }
    column_searchable_list = ("name", "email")
    column_filters = (
        FilterEqual(User.role, _l("Role"), options=lambda: [(r, str(ROLE_LABELS[r])) for r in GLOBAL_ROLES]),
        FilterEqual(User.active, _l("May log in"), options=lambda: [("1", "✓"), ("0", "✗")]),
    )
    column_formatters = {
        "role": _label(ROLE_LABELS, "role"),
        "locale": lambda view, context, model, name: _("English") if model.locale == "en" else _("Chinese"),
    }
    column_export_exclude_list = ("password_hash",)
    form_columns = ("name", "email", "role", "unit", "active")
    form_choices = {"role": [(r, ROLE_LABELS[r]) for r in GLOBAL_ROLES]}
    column_default_sort = ("created_at", True)

    def get_create_form(self):
        form = self.get_form()
        form.password = PasswordField(_l("First password"), [InputRequired()])
        return form

    def get_edit_form(self):
        form = self.get_form()
        del form.email  # the address is the login; it is not changed here
        return form

    def save_new(self, form: Form) -> User:
        return create_user_by_staff(
            actor(), form.email.data or "", form.name.data or "", form.password.data or "", form.role.data,
            form.unit.data, bool(form.active.data),
        )  # fmt: skip

    def save_existing(self, form: Form, user: User) -> None:
        update_user(actor(), user, form.name.data or "", form.role.data, form.unit.data, bool(form.active.data))


# Audit ----------------------------------------------------------------------------------------------------


def _transition_options() -> list[tuple[str, str]]:
    return [(t.name, pick(t, "title")) for t in (*TRANSITIONS, *STEPS)]


def _state_options() -> list[tuple[str, str]]:
    return [(s.name, pick(s, "title")) for s in STATES]


class WorkflowEventView(ReadOnlyModelView):
    """The audit trail: append-only in the database, and read-only here."""

    column_list = ("created_at", "case", "transition", "from_state", "to_state", "actor", "comment")
    column_labels = {
        "created_at": _l("Time"),
        "case": _l("Case"),
        "transition": _l("Action"),
        "from_state": _l("From"),
        "to_state": _l("To"),
        "actor": _l("By"),
        "comment": _l("Comment"),
    }
    column_filters = (
        FilterEqual(WorkflowEvent.transition, _l("Action"), options=_transition_options),
        FilterEqual(WorkflowEvent.to_state, _l("To"), options=_state_options),
        IntEqualFilter(WorkflowEvent.case_id, _l("Case")),
    )
    column_default_sort = ("id", True)
    column_formatters = {
        "transition": lambda view, context, model, name: transition_title(model.transition),
        "from_state": lambda view, context, model, name: (
            state_title(model.from_state) if model.from_state != model.to_state else _("(unchanged)")
        ),
        "to_state": lambda view, context, model, name: state_title(model.to_state),
        "actor": lambda view, context, model, name: model.actor.name if model.actor else "",
    }
    column_formatters_detail = column_formatters


class OutboxMailView(ReadOnlyModelView):
    column_list = ("created_at", "recipient", "subject", "backend", "sent_at", "error")
    column_labels = {
        "created_at": _l("Queued"),
        "recipient": _l("Recipient"),
        "subject": _l("Subject"),
        "body": _l("Text"),
        "backend": _l("Backend"),
        "sent_at": _l("Sent"),
        "error": _l("Error"),
    }
    column_searchable_list = ("recipient", "subject")
    column_default_sort = ("id", True)
    column_formatters = {
        "backend": lambda view, context, model, name: (
            _("Mail server (SMTP)") if model.backend == "smtp" else _("Kept in the outbox only (not sent)")
        ),
    }
    column_formatters_detail = column_formatters
