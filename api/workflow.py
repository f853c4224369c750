"""Workflow actions on a case (through workflow.engine.fire) and the worklists (review queues)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from accounts.models import User
from api.auth import api_blueprint, require_actor, secured
from api.present import case_summary, event, paginate, state
from api.schemas import (
    TransitionInputSchema,
    TransitionResultSchema,
    WorklistPageSchema,
    WorklistQuerySchema,
    WorklistSchema,
)
from campaigns.models import Campaign
from cases.operations import get_case
from pingxuan.db import commit
from pingxuan.errors import NotFound
from pingxuan.extensions import db
from pingxuan.i18n import pick
from workflow.definition import FIELDS, Worklist
from workflow.engine import fire
from workflow.worklists import worklist_query, worklists_for

blp = api_blueprint("api_workflow", __name__, "Workflow actions on cases and the worklists")


@blp.route("/cases/<int:case_id>/transitions/<name>", methods=["POST"])
@blp.arguments(TransitionInputSchema, required=False)
@blp.response(200, TransitionResultSchema)
@blp.alt_response(403, "FORBIDDEN", description="The caller's role may not take this action")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="Not possible from the current state, or someone else acted first")
@secured(blp)
def fire_transition(data: dict[str, Any], case_id: int, name: str):
    """Take a workflow action; 422 lists every guard's refusal and field error when guards refuse, or the missing
    comment and required fields (``due_date`` to return a case for revision)."""
    actor = require_actor()
    case = get_case(case_id, actor)
    fields = {key: data[key] for key in FIELDS if key in data}
    happened = fire(case, name, actor, comment=data.get("comment"), expected_version=data.get("version"), fields=fields)
    commit()
    return {
        "case_id": case.id,
        "state": state(case.state),
        "version": case.version,
        "number": case.number,
        "event": event(happened, actor, insider=True),
    }


def _campaign_id(requested: int | None) -> int | None:
    if requested is not None:
        return requested
    return db.session.scalar(select(Campaign.id).where(Campaign.is_current.is_(True)))


def _worklist(worklist: Worklist, actor: User, campaign_id: int | None) -> dict[str, Any]:
    query = worklist_query(worklist.name, actor, campaign_id)
    return {
        "name": worklist.name,
        "title": pick(worklist, "title"),
        "states": [state(name) for name in worklist.states],
        "count": db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())),
    }


@blp.route("/worklists", methods=["GET"])
@blp.arguments(WorklistQuerySchema(only=("campaign",)), location="query")
@blp.response(200, WorklistSchema(many=True))
@secured(blp)
def list_worklists(args: dict[str, Any]):
    """The caller's worklists with the number of cases on each (current campaign unless another is asked)."""
    actor = require_actor()
    campaign_id = _campaign_id(args.get("campaign"))
    return [_worklist(w, actor, campaign_id) for w in worklists_for(actor)]


@blp.route("/worklists/<name>", methods=["GET"])
@blp.arguments(WorklistQuerySchema, location="query")
@blp.response(200, WorklistPageSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def show_worklist(args: dict[str, Any], name: str):
    """The cases on one of the caller's worklists, most recently changed first."""
    actor = require_actor()
    mine = {w.name: w for w in worklists_for(actor)}
    if name not in mine:
        raise NotFound(_("No such worklist."))
    campaign_id = _campaign_id(args.get("campaign"))
    items, pagination = paginate(worklist_query(name, actor, campaign_id), args["page"], args["per_page"])
    return {
        "worklist": _worklist(mine[name], actor, campaign_id),
        "items": [case_summary(case) for case in items],
        "pagination": pagination,
    }
