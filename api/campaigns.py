"""The current campaign (categories, domains, windows) and the recommending organizations."""

from __future__ import annotations

from typing import Any

from api.auth import api_blueprint, secured
from api.schemas import CampaignSchema, OrganizationSchema
from campaigns.models import Campaign
from campaigns.operations import organizations
from cases.operations import current_campaign
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


@blp.route("/organizations", methods=["GET"])
@blp.response(200, OrganizationSchema(many=True))
@secured(blp, public=True)
def list_organizations():
    """Recommending organizations a case can name."""
    return [{"id": o.id, "name": pick(o, "name"), "kind": o.kind} for o in organizations()]
