"""Campaign set-up for staff and integrations: every setting, categories, domains, rubric, YAML import/export, clone.

Scope area ``campaign`` (``campaign:read`` for GET, ``campaign:write`` for the rest). Every change goes through
campaigns.settings / campaigns.transfer: field errors (422), phase locks (the locked field's error says why),
each change audited with its value before and after (``GET /campaigns/{id}/changes``).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from accounts.permissions import require_staff
from api.auth import api_blueprint, require_actor, secured
from api.fields import UtcDateTime
from campaigns import settings, transfer
from campaigns.models import VOTE_IDENTITIES, Campaign, Category, Domain, Organization
from pingxuan.db import commit
from pingxuan.errors import NotFound
from pingxuan.extensions import db

blp = api_blueprint(
    "api_campaign_setup", __name__, "Campaign set-up (staff): settings, categories, domains, rubric, YAML, clone"
)


# Schemas ------------------------------------------------------------------------------------------------------

_DAY = {"allow_none": True}


class SettingsSchema(Schema):
    """Every setting of a campaign; in a PATCH each is optional and only those sent change."""

    year = fields.Integer()
    title_zh = fields.String()
    title_en = fields.String()
    organizer_zh = fields.String()
    organizer_en = fields.String()
    in_operation_before = fields.Date(metadata={"description": "Eligibility cut-off: in operation on or before"})
    submission_opens = fields.Date(**_DAY)
    submission_closes = fields.Date(**_DAY)
    review_opens = fields.Date(**_DAY)
    review_closes = fields.Date(**_DAY)
    vote_opens = fields.Date(**_DAY)
    vote_closes = fields.Date(**_DAY)
    awards_per_category = fields.Integer()
    shortlist_per_category = fields.Integer(allow_none=True, metadata={"description": "Empty: twice the awards"})
    reviewers_per_case = fields.Integer()
    expert_weight = fields.Integer(metadata={"description": "Percent; expert + public = 100"})
    public_weight = fields.Integer()
    votes_per_category_per_day = fields.Integer()
    vote_identity = fields.String(
        validate=validate.OneOf(VOTE_IDENTITIES),
        metadata={"description": "Who may vote: sms (a verified number), wechat (a WeChat user), either"},
    )  # fmt: skip
    show_live_counts = fields.Boolean()
    organization_awards = fields.Integer()
    blind_review = fields.Boolean()
    notice_working_days = fields.Integer(metadata={"description": "Length of the public notice (公示期), 1 to 60"})
    notice_holidays = fields.List(
        fields.String(), metadata={"description": "Days off (YYYY-MM-DD) the notice does not count as working days"}
    )
    notice_contact = fields.String(metadata={"description": "Who to contact about the notice, shown on it"})


class CampaignSettingsSchema(SettingsSchema):
    id = fields.Integer(dump_only=True)
    is_current = fields.Boolean(dump_only=True)
    vote_status = fields.String(dump_only=True)
    locked = fields.Dict(
        keys=fields.String(), values=fields.String(), dump_only=True,
        metadata={"description": "Settings that may no longer change, each with the reason"},
    )  # fmt: skip
    categories = fields.List(fields.Dict(), dump_only=True)


class CategoryInputSchema(Schema):
    code = fields.String()
    abbr = fields.String(metadata={"description": "One to four capital letters, used in case numbers"})
    name_zh = fields.String()
    name_en = fields.String()
    award_zh = fields.String()
    award_en = fields.String()
    position = fields.Integer(metadata={"description": "0-based place among the campaign's categories"})


class CategoryChangeSchema(CategoryInputSchema):
    """Only the fields sent change."""


class DomainInputSchema(Schema):
    name_zh = fields.String()
    name_en = fields.String()
    description = fields.String()
    position = fields.Integer()


class DomainChangeSchema(DomainInputSchema):
    """Only the fields sent change."""


class OrganizationInputSchema(Schema):
    name_zh = fields.String(required=True, metadata={"description": "The Chinese name; unique"})
    name_en = fields.String(metadata={"description": "The English name; unique when given"})
    kind = fields.String(
        validate=validate.OneOf(settings.ORGANIZATION_KINDS),
        metadata={"description": "district (the default) or department (a city department)"},
    )
    active = fields.Boolean(metadata={"description": "false: cases can no longer name it (those that do keep it)"})


class OrganizationChangeSchema(OrganizationInputSchema):
    """Only the fields sent change."""


class OrganizationSetupSchema(OrganizationInputSchema):
    id = fields.Integer(dump_only=True)


class CriterionItemSchema(Schema):
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    weight = fields.Integer(required=True, metadata={"description": "Percent; a rubric's weights add up to 100"})
    max_score = fields.Integer(required=True)
    guidance_zh = fields.String(load_default="")
    guidance_en = fields.String(load_default="")


class RubricSchema(Schema):
    category_id = fields.Integer(
        allow_none=True, load_default=None,
        metadata={"description": "Empty: the campaign's rubric; a category: its own rubric (empty list drops it)"},
    )  # fmt: skip
    criteria = fields.List(fields.Nested(CriterionItemSchema), required=True)


class RubricQuerySchema(Schema):
    category_id = fields.Integer(load_default=None)


class ChangeSchema(Schema):
    id = fields.Integer()
    subject = fields.String(metadata={"description": "campaign, category, domain, rubric, organization, …"})
    subject_id = fields.Integer(allow_none=True)
    field = fields.String()
    before = fields.String(allow_none=True)
    after = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()


class ImportSchema(Schema):
    yaml = fields.String(required=True, metadata={"description": "The campaign file (as GET /campaigns/{id}/export)"})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Report what would change; write nothing"})
    make_current = fields.Boolean(load_default=False)


class ImportReportSchema(Schema):
    dry_run = fields.Boolean()
    year = fields.Integer(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    created = fields.List(fields.String())
    changed = fields.List(fields.String())


class CloneSchema(Schema):
    year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100),
                          metadata={"description": "Default: the next year"})  # fmt: skip
    dates = fields.Dict(
        keys=fields.String(), values=fields.Date(allow_none=True), load_default=None,
        metadata={"description": "Windows and cut-off to set instead of the source's moved by the years between"},
    )  # fmt: skip
    make_current = fields.Boolean(load_default=False)


# Presenters ---------------------------------------------------------------------------------------------------


def _settings(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id, **settings.settings_of(campaign), "is_current": campaign.is_current,
        "vote_status": campaign.vote_status, "locked": settings.locked_settings(campaign),
        "categories": [
            {
                "id": c.id, "code": c.code, "abbr": c.abbr, "name_zh": c.name_zh, "name_en": c.name_en,
                "award_zh": c.award_zh, "award_en": c.award_en, "position": c.position,
                "domains": [{"id": d.id, "name_zh": d.name_zh, "name_en": d.name_en, "position": d.position}
                            for d in c.domains],
            }
            for c in campaign.categories
        ],
    }  # fmt: skip


def _campaign(campaign_id: int) -> Campaign:
    require_staff(require_actor())
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


def _category(campaign: Campaign, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = db.session.get(Category, category_id)
    if category is None or category.campaign_id != campaign.id:
        raise NotFound("No such category in this campaign.")
    return category


def _rubric(campaign: Campaign, category: Category | None) -> dict[str, Any]:
    return {
        "category_id": category.id if category else None,
        "criteria": [settings.criterion_values(c) for c in settings.own_rubric(campaign, category)],
    }


# Endpoints ----------------------------------------------------------------------------------------------------


@blp.route("/campaigns", methods=["GET"])
@blp.response(200, CampaignSettingsSchema(many=True))
@secured(blp)
def list_campaigns():
    """Every campaign with all its settings (staff)."""
    require_staff(require_actor())
    return [_settings(c) for c in db.session.scalars(db.select(Campaign).order_by(Campaign.year))]


@blp.route("/campaigns/<int:campaign_id>/settings", methods=["GET"])
@blp.response(200, CampaignSettingsSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def show_settings(campaign_id: int):
    """All settings of a campaign, its categories and domains, and which settings are locked and why."""
    return _settings(_campaign(campaign_id))


@blp.route("/campaigns/<int:campaign_id>/settings", methods=["PATCH"])
@blp.arguments(SettingsSchema(partial=True))
@blp.response(200, CampaignSettingsSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def update_settings(data: dict[str, Any], campaign_id: int):
    """Change some settings; 422 with a message per field when they do not fit together or are locked."""
    campaign = _campaign(campaign_id)
    settings.update_campaign(campaign, data, require_actor())
    commit()
    return _settings(campaign)


@blp.route("/campaigns/<int:campaign_id>/changes", methods=["GET"])
@blp.response(200, ChangeSchema(many=True))
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def list_changes(campaign_id: int):
    """The audit of the campaign's set-up, newest first: who changed which field, from what to what."""
    return settings.setting_changes(_campaign(campaign_id))


@blp.route("/campaigns/<int:campaign_id>/categories", methods=["POST"])
@blp.arguments(CategoryInputSchema)
@blp.response(201, CampaignSettingsSchema)
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="Cases have been submitted: the categories are locked")
@secured(blp)
def create_category(data: dict[str, Any], campaign_id: int):
    """Add a category (code, abbreviation, names, award titles)."""
    campaign = _campaign(campaign_id)
    settings.add_category(campaign, data, require_actor())
    commit()
    return _settings(campaign)


@blp.route("/categories/<int:category_id>", methods=["PATCH"])
@blp.arguments(CategoryChangeSchema(partial=True))
@blp.response(200, CampaignSettingsSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def update_category(data: dict[str, Any], category_id: int):
    """Rename a category, change its award titles or its place; code and place lock with the first submission."""
    category = db.session.get(Category, category_id)
    campaign = _campaign(category.campaign_id if category else 0)
    settings.update_category(category, data, require_actor())
    commit()
    return _settings(campaign)


@blp.route("/categories/<int:category_id>/domains", methods=["POST"])
@blp.arguments(DomainInputSchema)
@blp.response(201, CampaignSettingsSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def create_domain(data: dict[str, Any], category_id: int):
    """Add a domain to a category."""
    category = db.session.get(Category, category_id)
    campaign = _campaign(category.campaign_id if category else 0)
    settings.add_domain(category, data, require_actor())
    commit()
    return _settings(campaign)


@blp.route("/domains/<int:domain_id>", methods=["PATCH"])
@blp.arguments(DomainChangeSchema(partial=True))
@blp.response(200, CampaignSettingsSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def update_domain(data: dict[str, Any], domain_id: int):
    """Rename a domain, describe it or move it within its category."""
    domain = db.session.get(Domain, domain_id)
    campaign = _campaign(domain.category.campaign_id if domain else 0)
    settings.update_domain(domain, data, require_actor())
    commit()
    return _settings(campaign)


def _organization(organization: Organization) -> dict[str, Any]:
    return {"id": organization.id, **settings.organization_values(organization)}


@blp.route("/organizations", methods=["POST"])
@blp.arguments(OrganizationInputSchema)
@blp.response(201, OrganizationSetupSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def create_organization(data: dict[str, Any]):
    """Add a recommending organization (推荐单位, staff); a name used already is refused at its field (422).
    Audited with the current campaign's set-up changes."""
    organization = settings.add_organization(data, require_staff(require_actor()))
    commit()
    return _organization(organization)


@blp.route("/organizations/<int:organization_id>", methods=["PATCH"])
@blp.arguments(OrganizationChangeSchema(partial=True))
@blp.response(200, OrganizationSetupSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def update_organization(data: dict[str, Any], organization_id: int):
    """Rename a recommending organization, change its kind or retire it (``active``: false); audited."""
    actor = require_staff(require_actor())
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(_("No such organization."))
    settings.update_organization(organization, data, actor)
    commit()
    return _organization(organization)


@blp.route("/campaigns/<int:campaign_id>/rubric", methods=["GET"])
@blp.arguments(RubricQuerySchema, location="query")
@blp.response(200, RubricSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def show_rubric(query: dict[str, Any], campaign_id: int):
    """The campaign's rubric, or with ``category_id`` that category's own (empty: it uses the campaign's)."""
    campaign = _campaign(campaign_id)
    return _rubric(campaign, _category(campaign, query["category_id"]))


@blp.route("/campaigns/<int:campaign_id>/rubric", methods=["PUT"])
@blp.arguments(RubricSchema)
@blp.response(200, RubricSchema)
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="Scoring has started: the rubric is locked")
@secured(blp)
def replace_rubric(data: dict[str, Any], campaign_id: int):
    """Replace the campaign's rubric or a category's own; the weights add up to 100."""
    campaign = _campaign(campaign_id)
    category = _category(campaign, data["category_id"])
    settings.set_rubric(campaign, data["criteria"], require_actor(), category)
    commit()
    return _rubric(campaign, category)


class DossierFormDeclarationSchema(Schema):
    """The dossier form as data: ``sections`` of ``fields`` (key, type, label_zh/en, help_zh/en, required, limits,
    public, categories) and ``one_of`` rules; the JSON Schema at ``GET /campaigns/{id}/dossier-form``."""

    sections = fields.List(fields.Dict(), required=True)
    one_of = fields.List(fields.Dict(), load_default=list)


class DossierFormPutSchema(DossierFormDeclarationSchema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Check only; change nothing"})


@blp.route("/campaigns/<int:campaign_id>/dossier-form/declaration", methods=["GET"])
@blp.response(200, DossierFormDeclarationSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def show_dossier_form(campaign_id: int):
    """The campaign's dossier form as the declaration organizers edit (the 2017 form when it declares none)."""
    return settings.dossier_form_data(_campaign(campaign_id))


@blp.route("/campaigns/<int:campaign_id>/dossier-form/declaration", methods=["PUT"])
@blp.arguments(DossierFormPutSchema)
@blp.response(200, DossierFormDeclarationSchema)
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="Cases were submitted: a change that could invalidate them")
@secured(blp)
def replace_dossier_form(data: dict[str, Any], campaign_id: int):
    """Replace the dossier form (``dry_run``: check only). Once a case is submitted, removing a field, making one
    required, changing a type or narrowing a limit is refused with the reasons; wording, order and new optional
    fields are allowed. Audited like every setting."""
    campaign = _campaign(campaign_id)
    dry_run = data.pop("dry_run")
    form = settings.set_dossier_form(campaign, data, require_actor(), dry_run=dry_run)
    commit()
    return settings.dossier_form_to_data(form)


@blp.route("/campaigns/<int:campaign_id>/export", methods=["GET"])
@blp.response(200, {"type": "object", "description": "The YAML mapping"}, content_type="application/yaml")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def export_campaign(campaign_id: int):
    """The campaign's configuration as YAML: settings, categories, domains, rubric, organizations."""
    campaign = _campaign(campaign_id)
    return Response(
        transfer.export_yaml(campaign),
        mimetype="application/yaml",
        headers={"Content-Disposition": f"attachment; filename=campaign-{campaign.year}.yaml"},
    )


def _report(report: transfer.ImportReport) -> dict[str, Any]:
    return {
        "dry_run": report.dry_run, "year": report.year, "created": report.created, "changed": report.changed,
        "campaign_id": report.campaign.id if report.campaign else None,
    }  # fmt: skip


@blp.route("/campaigns/import", methods=["POST"])
@blp.arguments(ImportSchema)
@blp.response(200, ImportReportSchema)
@blp.alt_response(409, "CONFLICT", description="A locked setting would change")
@secured(blp)
def import_campaign(data: dict[str, Any]):
    """Create the file's campaign, or update the one of its year; ``dry_run`` lists what would change."""
    actor = require_staff(require_actor())
    report = transfer.import_config(
        transfer.parse_yaml(data["yaml"]), actor, dry_run=data["dry_run"], make_current=data["make_current"]
    )
    commit()
    return _report(report)


@blp.route("/campaigns/<int:campaign_id>/clone", methods=["POST"])
@blp.arguments(CloneSchema)
@blp.response(201, CampaignSettingsSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def clone_campaign(data: dict[str, Any], campaign_id: int):
    """Next year's edition: dates moved by a year unless given; taxonomy, rubric, organizations and expert pool
    copied; no cases, no ballots."""
    campaign = _campaign(campaign_id)
    clone = transfer.clone_campaign(
        campaign, require_actor(), year=data["year"], dates=data["dates"], make_current=data["make_current"]
    )
    commit()
    return _settings(clone)
