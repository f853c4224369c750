"""The organizers' eligibility check: pre-checks, return for revision with a due date, bulk approval.

Approve, reject and start_check are ordinary workflow actions (POST /cases/<id>/transitions/<name>).
"""

from __future__ import annotations

from typing import Any

from accounts.permissions import require_staff
from api.auth import api_blueprint, require_actor, secured
from api.present import event, state
from api.review_present import case_ref
from api.review_schemas import (
    BulkApproveInputSchema,
    BulkApproveResultSchema,
    PrechecksSchema,
    ReturnInputSchema,
    ReturnResultSchema,
)
from cases.eligibility import bulk_approve, prechecks, return_for_revision
from cases.operations import get_case
from pingxuan.db import commit
from pingxuan.errors import NotFound

blp = api_blueprint("api_eligibility", __name__, "Eligibility check: pre-checks, return for revision, bulk approval")


@blp.route("/cases/<int:case_id>/prechecks", methods=["GET"])
@blp.response(200, PrechecksSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def case_prechecks(case_id: int):
    """The automatic pre-checks of a case, each passed or failed with its reason (organizers)."""
    actor = require_staff(require_actor())
    case = get_case(case_id, actor)
    checks = prechecks(case)
    return {
        "case": case_ref(case),
        "passed": all(c.passed for c in checks),
        "checks": [{"name": c.name, "passed": c.passed, "reason": c.reason} for c in checks],
    }


@blp.route("/cases/<int:case_id>/return", methods=["POST"])
@blp.arguments(ReturnInputSchema)
@blp.response(200, ReturnResultSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="Not possible from the current state, or someone else acted first")
@secured(blp)
def return_case(data: dict[str, Any], case_id: int):
    """Return the case to its unit for revision, with what to change (comment) and by when (due_date)."""
    actor = require_staff(require_actor())
    case = get_case(case_id, actor)
    happened = return_for_revision(case, actor, data.get("comment") or "", data.get("due_date"), data.get("version"))
    commit()
    return {
        "case_id": case.id,
        "state": state(case.state),
        "version": case.version,
        "number": case.number,
        "revision_due": case.revision_due,
        "event": event(happened, actor, insider=True),
    }


@blp.route("/eligibility/bulk-approve", methods=["POST"])
@blp.arguments(BulkApproveInputSchema)
@blp.response(200, BulkApproveResultSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def bulk(data: dict[str, Any]):
    """Approve every listed case whose pre-checks all pass; the others are skipped with the reason."""
    actor = require_staff(require_actor())
    cases, skipped = [], {}
    for case_id in dict.fromkeys(data["case_ids"]):
        try:
            cases.append(get_case(case_id, actor))
        except NotFound as error:
            skipped[case_id] = error.message
    approved, refused = bulk_approve(cases, actor)
    commit()
    skipped.update(refused)
    return {"approved": [c.id for c in approved], "skipped": {str(k): v for k, v in skipped.items()}}
