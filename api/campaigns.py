"""The current campaign (categories, domains, windows) and the recommending organizations."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from api.auth import api_blueprint, secured
from api.schemas import CampaignSchema, OrganizationSchema
from campaigns.models import Campaign
from campaigns.operations import organizations
from cases.dossier import form_of, json_schema
from cases.operations import current_campaign
from pingxuan.errors import NotFound
from pingxuan.extensions import db
from pingxuan.i18n import pick

blp = api_blueprint("api_campaigns", __name__, "The campaign's taxonomy and time windows")

_WINDOWS = (
    "in_operation_before", "submission_opens", "submission_closes", "review_opens", "review_closes",
    "vote_opens", "vote_closes", "vote_status", "awards_per_category",
)  # fmt: skip


def _campaign(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "year": campaign.year,
        "title": pick(campaign, "title"),
        "organizer": pick(campaign, "organizer"),
        **{name: getattr(campaign, name) for name in _WINDOWS},
        "categories": [
            {
                "id": category.id,
                "code": category.code,
                "abbr": category.abbr,
                "name": pick(category, "name"),
                "award": pick(category, "award"),
                "domains": [{"id": d.id, "name": pick(d, "name")} for d in category.domains],
            }
            for category in campaign.categories
        ],
    }


@blp.route("/campaigns/current", methods=["GET"])
@blp.response(200, CampaignSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def current():
    """The campaign new cases go to, with its categories, domains and time windows."""
    return _campaign(current_campaign())


@blp.route("/campaigns/<int:campaign_id>/dossier-form", methods=["GET"])
@blp.response(200, description="JSON Schema (2020-12) of the campaign's dossier form")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def dossier_form(campaign_id: int):
    """The dossier form the campaign declares, as JSON Schema: each field with its label, help, type and limits,
    its section (``x-section``) and whether the public sees it (``x-public``); ``required`` is what submission
    needs (a draft may lack it). File slots are uploaded to ``/cases/{id}/attachments`` with their key as kind."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return json_schema(form_of(campaign), pick(campaign, "title"))


@blp.route("/organizations", methods=["GET"])
@blp.response(200, OrganizationSchema(many=True))
@secured(blp, public=True)
def list_organizations():
    """Recommending organizations a case can name."""
    return [{"id": o.id, "name": pick(o, "name"), "kind": o.kind} for o in organizations()]
