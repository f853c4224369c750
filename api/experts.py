"""The expert pool (profiles, import from a sheet) and conflicts of interest."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from accounts.models import User
from accounts.permissions import require_staff
from api.auth import api_blueprint, require_actor, secured
from api.present import refused_rows
from api.review_present import case_ref, expert, person
from api.review_schemas import (
    ConflictDecisionSchema,
    ConflictInputSchema,
    ConflictSchema,
    ExpertImportResultSchema,
    ExpertImportSchema,
    ExpertInputSchema,
    ExpertSchema,
)
from cases.models import Case
from cases.operations import current_campaign
from pingxuan.db import commit
from pingxuan.errors import NotFound
from pingxuan.extensions import db
from reviewers.assignment import decide_conflict, declare_conflict, get_conflict
from reviewers.conflicts import list_conflicts
from reviewers.models import Conflict
from reviewers.pool import get_expert, get_expert_user, import_experts, list_pool, read_sheet, update_profile

blp = api_blueprint("api_experts", __name__, "The expert pool and conflicts of interest")


def _expert(user: User) -> dict[str, Any]:
    return expert(next(entry for entry in list_pool(require_actor()) if entry.user.id == user.id))


def _conflict(item: Conflict) -> dict[str, Any]:
    return {
        "id": item.id,
        "case": case_ref(item.case),
        "expert": person(item.expert),
        "source": item.source,
        "reason": item.reason,
        "created_at": item.created_at,
    }


@blp.route("/experts", methods=["GET"])
@blp.response(200, ExpertSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def list_experts():
    """Every expert account with affiliation, expertise, load limit and current load (organizers)."""
    return [expert(entry) for entry in list_pool(require_actor())]


@blp.route("/experts/<int:user_id>", methods=["GET"])
@blp.response(200, ExpertSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def show_expert(user_id: int):
    """One expert's profile (organizers)."""
    require_staff(require_actor())
    return _expert(get_expert(user_id).user)


@blp.route("/experts/<int:user_id>", methods=["PUT"])
@blp.arguments(ExpertInputSchema)
@blp.response(200, ExpertSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def edit_expert(data: dict[str, Any], user_id: int):
    """Create or change the profile of an expert account; only the fields sent are changed."""
    actor = require_staff(require_actor())
    user = get_expert_user(user_id)
    update_profile(actor, user, data, current_campaign())
    commit()
    return _expert(user)


@blp.route("/experts/import", methods=["POST"])
@blp.arguments(ExpertImportSchema, location="files")
@blp.response(200, ExpertImportResultSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def import_sheet(files: dict[str, Any]):
    """Import experts from a CSV or Excel sheet: every row or none; 422 reports the problems row by row.

    In a 422 answer, ``errors`` maps each wrong row's number (the header is row 1) to its problems.
    """
    actor = require_staff(require_actor())
    upload = files["file"]
    rows = read_sheet(upload.filename or "", upload.read())
    report = import_experts(actor, current_campaign(), rows)
    if not report.ok:
        raise refused_rows(report.errors)
    commit()
    return {"rows": len(rows), "created": report.created}


@blp.route("/conflicts", methods=["GET"])
@blp.response(200, ConflictSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def conflicts():
    """Every conflict of interest of the current campaign, automatic and declared, newest first (organizers)."""
    require_staff(require_actor())
    found = [_conflict(item) for item in list_conflicts(current_campaign().id)]
    commit()  # the automatic conflicts found now stay recorded
    return found


@blp.route("/cases/<int:case_id>/conflicts", methods=["POST"])
@blp.arguments(ConflictInputSchema)
@blp.response(201, ConflictSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def declare(data: dict[str, Any], case_id: int):
    """The calling expert declares a conflict with a case they may see (any other: 404, nothing recorded); an
    assignment not yet submitted is released at once. After the expert's review was submitted the conflict is
    reported (source ``reported``) and an organizer decides; the review counts until then."""
    actor = require_actor()
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(_("No such case."))
    conflict = declare_conflict(actor, case, data.get("reason") or "")
    commit()
    return _conflict(conflict)


@blp.route("/conflicts/<int:conflict_id>/decision", methods=["POST"])
@blp.arguments(ConflictDecisionSchema)
@blp.response(200, ConflictSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="The conflict is not waiting for a decision")
@secured(blp)
def decide(data: dict[str, Any], conflict_id: int):
    """An organizer upholds (the expert's submitted review is released and leaves the ranking) or dismisses a
    reported conflict, with a reason kept in the review audit."""
    actor = require_actor()
    conflict = decide_conflict(actor, get_conflict(conflict_id, actor), data["decision"] == "uphold", data["reason"])
    commit()
    return _conflict(conflict)
