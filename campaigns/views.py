"""The staff's campaign home (where organizers and administrators land) and the staff navigation's helpers."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from campaigns.home import campaign_home
from campaigns.models import Campaign
from pingxuan.extensions import db
from workflow.definition import STAFF

bp = Blueprint("staff", __name__, template_folder="templates")

# Where each worklist is worked on (the tool of that step); any other worklist opens on /worklists.
WORKLIST_TOOLS = {
    "to_check": ("review_pages.eligibility", {}),
    "to_shortlist": ("review_pages.shortlist_page", {}),
    "to_award": ("admin_ranking.index", {"campaign": True}),
    "objections_to_handle": ("awards.objection_list", {}),
}


def worklist_url(name: str, campaign: Campaign) -> str:
    endpoint, args = WORKLIST_TOOLS.get(name, ("workflow_pages.worklists", {}))
    url = url_for(endpoint, **({"campaign": campaign.id} if args.get("campaign") else {}))
    return url if name in WORKLIST_TOOLS else f"{url}#worklist-{name}"


@bp.app_context_processor
def _staff_helpers() -> dict:
    def staff_nav_campaign() -> int | None:
        """The campaign the staff navigation's per-campaign links open: the one on screen, else the current one."""
        wanted = request.args.get("campaign", type=int)
        if wanted is not None and db.session.get(Campaign, wanted) is not None:
            return wanted
        return db.session.scalar(select(Campaign.id).where(Campaign.is_current.is_(True)))

    def is_staff_user() -> bool:
        return bool(current_user.is_authenticated and current_user.role in STAFF)

    return {"staff_nav_campaign": staff_nav_campaign, "is_staff_user": is_staff_user}


@bp.get("/staff")
@login_required
def home():
    home = campaign_home(current_user._get_current_object(), request.args.get("campaign", type=int))
    todo = [(worklist, n, worklist_url(worklist.name, home.campaign)) for worklist, n in home.todo]
    return render_template("campaigns/home.html", home=home, todo=todo)


@bp.get("/review", strict_slashes=False)
@login_required
def review_start():
    """``/review`` (a prefix every review page shares) opens the person's own review page, never a 404."""
    if current_user.role in STAFF:
        return redirect(url_for("review_pages.eligibility"))
    return redirect(url_for("review_pages.my_reviews"))


@bp.get("/admin/case/")
@bp.get("/admin/case")
def admin_case_typo():
    return redirect(url_for("admin_cases.index_view"), 301)
