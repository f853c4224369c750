"""The back office's own pages: the start page (worklists) and the workflow diagram with case counts."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from sqlalchemy import func, select

from backoffice.security import StaffOnly
from campaigns.models import Campaign
from cases.models import Case
from pingxuan.extensions import db
from workflow import diagram
from workflow.definition import STATES


def state_counts(campaign_id: int | None = None) -> dict[str, int]:
    query = select(Case.state, func.count()).group_by(Case.state)
    if campaign_id is not None:
        query = query.where(Case.campaign_id == campaign_id)
    return {state: count for state, count in db.session.execute(query).all()}


def _chosen_campaign() -> tuple[list[Campaign], Campaign | None]:
    """All campaigns and the one asked for (``?campaign=<id>``; ``all`` or nothing listed: every campaign)."""
    campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.year.desc())))
    wanted = request.args.get("campaign", "")
    chosen = next((c for c in campaigns if str(c.id) == wanted), None)
    return campaigns, chosen


class StaffIndexView(StaffOnly, AdminIndexView):
    """``/admin/``: the back office has no start page of its own; staff start on the campaign home."""

    def __init__(self, case_view, **kwargs):
        super().__init__(**kwargs)
        self.case_view = case_view

    @expose("/")
    def index(self):
        return redirect(url_for("staff.home", **request.args))


class WorkflowView(StaffOnly, BaseView):
    """The declared workflow as a diagram, with how many cases are in each state now."""

    def __init__(self, case_view, **kwargs):
        super().__init__(**kwargs)
        self.case_view = case_view

    @expose("/")
    def index(self):
        campaigns, chosen = _chosen_campaign()
        counts = state_counts(chosen.id if chosen else None)
        rows = [(state, counts.get(state.name, 0), self.case_view.state_url(state.name)) for state in STATES]
        return self.render(
            "backoffice/workflow.html",
            svg=diagram.svg(counts),
            rows=rows,
            total=sum(counts.values()),
            campaigns=campaigns,
            chosen=chosen,
        )
