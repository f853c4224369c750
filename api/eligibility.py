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
    BulkDecisionInputSchema,
    BulkDecisionResultSchema,
    DuplicateDecisionInputSchema,
    PrechecksSchema,
    ReturnInputSchema,
    ReturnResultSchema,
)
from cases.eligibility import bulk_approve, bulk_reject, bulk_return, decide_duplicate, prechecks, return_for_revision
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
    return _prechecks(get_case(case_id, actor))


def _prechecks(case) -> dict[str, Any]:
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


def _cases(ids: list[int], actor) -> tuple[list, dict[int, str]]:
    cases, skipped = [], {}
    for case_id in dict.fromkeys(ids):
        try:
            cases.append(get_case(case_id, actor))
        except NotFound as error:
            skipped[case_id] = error.message
    return cases, skipped


@blp.route("/eligibility/bulk-approve", methods=["POST"])
@blp.arguments(BulkApproveInputSchema)
@blp.response(200, BulkApproveResultSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def bulk(data: dict[str, Any]):
    """Approve every listed case whose pre-checks all pass; the others are skipped with the reason.

    ``include_possible_duplicates`` also approves the cases whose only failed pre-check is an open
    likely-duplicate flag (a confirmed duplicate never is)."""
    actor = require_staff(require_actor())
    cases, skipped = _cases(data["case_ids"], actor)
    approved, refused = bulk_approve(cases, actor, data["include_possible_duplicates"])
    commit()
    skipped.update(refused)
    return {"approved": [c.id for c in approved], "skipped": {str(k): v for k, v in skipped.items()}}


def _bulk_decision(data: dict[str, Any], decide) -> dict[str, Any]:
    actor = require_staff(require_actor())
    cases, skipped = _cases(data["case_ids"], actor)
    done, refused = decide(cases, actor)
    commit()
    skipped.update(refused)
    return {"done": [c.id for c in done], "skipped": {str(k): v for k, v in skipped.items()}}


@blp.route("/eligibility/bulk-reject", methods=["POST"])
@blp.arguments(BulkDecisionInputSchema)
@blp.response(200, BulkDecisionResultSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def bulk_reject_cases(data: dict[str, Any]):
    """Reject every listed case with one comment; a case that cannot be rejected now is skipped with why."""
    return _bulk_decision(data, lambda cases, actor: bulk_reject(cases, actor, data["comment"]))


@blp.route("/eligibility/bulk-return", methods=["POST"])
@blp.arguments(BulkDecisionInputSchema)
@blp.response(200, BulkDecisionResultSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def bulk_return_cases(data: dict[str, Any]):
    """Return every listed case for revision with one comment and one due date."""
    return _bulk_decision(data, lambda cases, actor: bulk_return(cases, actor, data["comment"], data.get("due_date")))


@blp.route("/cases/<int:case_id>/duplicates/<int:other_id>", methods=["PUT"])
@blp.arguments(DuplicateDecisionInputSchema)
@blp.response(200, PrechecksSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def decide(data: dict[str, Any], case_id: int, other_id: int):
    """Decide a likely-duplicate flag between two cases: ``different`` projects (acknowledged) or ``duplicate``,
    with a reason; answers the case's pre-checks as they now stand."""
    actor = require_staff(require_actor())
    case = get_case(case_id, actor)
    decide_duplicate(case, other_id, actor, data["decision"], data["reason"])
    commit()
    return _prechecks(case)
