"""The back office's own pages: the start page (worklists) and the workflow diagram with case counts."""

from __future__ import annotations

from flask import request
from flask_admin import AdminIndexView, BaseView, expose
from sqlalchemy import func, select

from backoffice.security import StaffOnly, actor
from campaigns.models import Campaign
from cases.models import Case
from pingxuan.extensions import db
from workflow import diagram
from workflow.definition import STATES
from workflow.worklists import worklist_query, worklists_for


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
    def __init__(self, case_view, **kwargs):
        super().__init__(**kwargs)
        self.case_view = case_view

    @expose("/")
    def index(self):
        person = actor()
        lists = []
        for worklist in worklists_for(person):
            query = worklist_query(worklist.name, person).order_by(None).subquery()
            count = db.session.scalar(select(func.count()).select_from(query))
            lists.append((worklist, count, self.case_view.states_url(worklist.states)))
        return self.render("backoffice/index.html", worklists=lists, counts=state_counts())


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
            mermaid=diagram.mermaid(counts),
            rows=rows,
            total=sum(counts.values()),
            campaigns=campaigns,
            chosen=chosen,
        )
