"""Expert review: assignment proposals, the expert's worklist, scoring, the ranking, progress and shortlisting.

Blind: an expert reaches only their own assignments and reviews; rankings, proposals, progress and other
experts' reviews are for organizers, and nothing here is shown to applicants.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from accounts.models import User
from accounts.permissions import require_staff
from api.auth import api_blueprint, require_actor, secured
from api.review_present import assignment as present_assignment
from api.review_present import criterion, proposal, ranking_row, review
from api.review_schemas import (
    AssignmentInputSchema,
    AssignmentSchema,
    CriterionSchema,
    DeclineInputSchema,
    ProgressSchema,
    ProposalAdjustSchema,
    ProposalInputSchema,
    ProposalSchema,
    RankingSchema,
    RemindersResultSchema,
    ReopenInputSchema,
    ReviewInputSchema,
    ReviewSchema,
    ShortlistInputSchema,
    ShortlistQuerySchema,
    ShortlistSchema,
    WaiveInputSchema,
)
from campaigns.models import Campaign, Category
from cases.operations import current_campaign, get_case
from pingxuan.db import commit
from pingxuan.errors import NotFound
from pingxuan.extensions import db
from pingxuan.i18n import pick
from reviewers import assignment as assigning
from reviewers import progress, scoring, shortlist
from reviewers.aggregation import case_results
from reviewers.models import Assignment, Proposal
from workflow.definition import STAFF

blp = api_blueprint("api_reviews", __name__, "Expert review: assignment, scoring, ranking, progress, shortlisting")


def _proposal(item: Proposal, actor: User) -> dict[str, Any]:
    return proposal(assigning.preview_proposal(item, actor))


def _category(category_id: int) -> tuple[Campaign, Category]:
    campaign = current_campaign()
    category = db.session.get(Category, category_id)
    if category is None or category.campaign_id != campaign.id:
        raise NotFound(_("No such category in the current campaign."))
    return campaign, category


def _shortlist(preview: shortlist.Preview) -> dict[str, Any]:
    rank = 0

    def rows(results):
        nonlocal rank
        out = []
        for result in results:
            rank += 1
            out.append(ranking_row(rank, result))
        return out

    return {
        "category": {"id": preview.category.id, "name": pick(preview.category, "name")},
        "size": preview.size,
        "ready": preview.ready,
        "finalists": rows(preview.finalists),
        "others": rows(preview.others),
        "blockers": {str(case_id): reasons for case_id, reasons in preview.blockers.items()},
    }


# Assignment ---------------------------------------------------------------------------------------------


@blp.route("/assignment/proposals", methods=["POST"])
@blp.arguments(ProposalInputSchema)
@blp.response(201, ProposalSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def create_proposal(data: dict[str, Any]):
    """Compute an optimal assignment proposal for the current campaign's cases under review (organizers)."""
    actor = require_actor()
    created = assigning.propose(current_campaign(), actor, data["mode"])
    commit()
    return _proposal(created, actor)


@blp.route("/assignment/proposals/<int:proposal_id>", methods=["GET"])
@blp.response(200, ProposalSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def show_proposal(proposal_id: int):
    """A proposal with its pairs and their match, loads per expert, and the cases it could not cover."""
    actor = require_actor()
    return _proposal(assigning.get_proposal(proposal_id, actor), actor)


@blp.route("/assignment/proposals/<int:proposal_id>", methods=["PATCH"])
@blp.arguments(ProposalAdjustSchema)
@blp.response(200, ProposalSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="The proposal has been applied already")
@secured(blp)
def adjust(data: dict[str, Any], proposal_id: int):
    """Add or remove [case, expert] pairs by hand; a conflicted pair is refused with the reason per pair."""
    actor = require_actor()
    changed = assigning.adjust_proposal(
        assigning.get_proposal(proposal_id, actor),
        actor,
        [tuple(p) for p in data["add"]],
        [tuple(p) for p in data["remove"]],
    )
    commit()
    return _proposal(changed, actor)


@blp.route("/assignment/proposals/<int:proposal_id>/apply", methods=["POST"])
@blp.response(200, AssignmentSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="The proposal has been applied already")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY", description="A pair became conflicted or over the load limit")
@secured(blp)
def apply(proposal_id: int):
    """Create the proposal's assignments (conflicts and load limits are checked again); all or none."""
    actor = require_actor()
    created = assigning.apply_proposal(assigning.get_proposal(proposal_id, actor), actor)
    commit()
    return [present_assignment(a) for a in created]


@blp.route("/assignments", methods=["POST"])
@blp.arguments(AssignmentInputSchema)
@blp.response(201, AssignmentSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def assign_by_hand(data: dict[str, Any]):
    """Assign one expert to one case by hand (organizers); conflicts and the load limit still apply."""
    actor = require_staff(require_actor())
    case = get_case(data["case_id"], actor)
    expert_user = db.session.get(User, data["expert_id"])
    if expert_user is None:
        raise NotFound(_("No such expert."))
    created = assigning.assign(case, expert_user, actor)
    commit()
    return present_assignment(created)


@blp.route("/me/assignments", methods=["GET"])
@blp.response(200, AssignmentSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def my_assignments():
    """The calling expert's worklist: assigned cases with due date, assignment status and review status."""
    return [present_assignment(a) for a in assigning.assignments_of(require_actor())]


@blp.route("/assignments/<int:assignment_id>/accept", methods=["POST"])
@blp.response(200, AssignmentSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def accept(assignment_id: int):
    """The assigned expert accepts the assignment."""
    actor = require_actor()
    answered = assigning.respond(assigning.get_assignment(assignment_id, actor), actor, accept=True)
    commit()
    return present_assignment(answered)


@blp.route("/assignments/<int:assignment_id>/decline", methods=["POST"])
@blp.arguments(DeclineInputSchema)
@blp.response(200, AssignmentSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def decline(data: dict[str, Any], assignment_id: int):
    """The assigned expert declines with a reason; the case waits for the next (top-up) proposal."""
    actor = require_actor()
    assignment = assigning.get_assignment(assignment_id, actor)
    answered = assigning.respond(assignment, actor, accept=False, reason=data.get("reason"))
    commit()
    return present_assignment(answered)


# Scoring ------------------------------------------------------------------------------------------------


@blp.route("/campaigns/current/rubric", methods=["GET"])
@blp.response(200, CriterionSchema(many=True))
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def current_rubric():
    """The current campaign's weighted criteria with their maximum scores and guidance."""
    require_actor()
    criteria = scoring.ensure_default_rubric(current_campaign())
    commit()  # the default rubric, created the first time it is asked for
    return [criterion(c) for c in criteria]


def _review_assignment(assignment_id: int, actor: User) -> Assignment:
    """The caller's own assignment, or any for organizers; nobody else learns that it exists."""
    return assigning.get_assignment(assignment_id, actor)


@blp.route("/assignments/<int:assignment_id>/review", methods=["GET"])
@blp.response(200, ReviewSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def show_review(assignment_id: int):
    """The review of an assignment: the expert's own, or any for organizers."""
    actor = require_actor()
    return review(_review_assignment(assignment_id, actor))


@blp.route("/assignments/<int:assignment_id>/review", methods=["PUT"])
@blp.arguments(ReviewInputSchema)
@blp.response(200, ReviewSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="The review is closed (submitted, waived) or the case moved on")
@secured(blp)
def save(data: dict[str, Any], assignment_id: int):
    """Save a draft of the scores, or submit them; every score out of range or missing is reported at once.

    Errors are keyed by criterion id. An organizer may enter or correct the scores for the expert (from the
    meeting's paper score sheet) with a ``note`` saying where they come from; the review's ``history`` then
    shows "entered by <organizer> for <expert>".
    """
    actor = require_actor()
    assignment = _review_assignment(assignment_id, actor)
    scoring.ensure_default_rubric(assignment.case.campaign)
    if actor.role in STAFF:  # an organizer entering or correcting the expert's scores (paper score sheets)
        scoring.enter_review_for_expert(
            assignment, actor, data["scores"], data.get("comment") or "", data["submit"], data.get("note") or ""
        )
    else:
        scoring.save_review(assignment, actor, data["scores"], data.get("comment") or "", data["submit"])
    commit()
    return review(assignment)


@blp.route("/assignments/<int:assignment_id>/reopen", methods=["POST"])
@blp.arguments(ReopenInputSchema)
@blp.response(200, AssignmentSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def reopen(data: dict[str, Any], assignment_id: int):
    """Reopen a submitted review so the expert can change it, saying why (organizers)."""
    actor = require_staff(require_actor())
    reopened = scoring.reopen_review(_review_assignment(assignment_id, actor), actor, data.get("comment") or "")
    commit()
    return present_assignment(reopened)


@blp.route("/assignments/<int:assignment_id>/waive", methods=["POST"])
@blp.arguments(WaiveInputSchema)
@blp.response(200, AssignmentSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def waive(data: dict[str, Any], assignment_id: int):
    """Let shortlisting go ahead without this outstanding review, with a reason on record (organizers)."""
    actor = require_staff(require_actor())
    waived = scoring.waive_review(_review_assignment(assignment_id, actor), actor, data.get("reason") or "")
    commit()
    return present_assignment(waived)


# Results ------------------------------------------------------------------------------------------------


@blp.route("/categories/<int:category_id>/ranking", methods=["GET"])
@blp.response(200, RankingSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def ranking(category_id: int):
    """The category's reviewed cases, best normalized mean first, with every expert's totals (organizers)."""
    require_staff(require_actor())
    campaign, category = _category(category_id)
    results = case_results(campaign, category.id)
    return {
        "category": {"id": category.id, "name": pick(category, "name")},
        "items": [ranking_row(rank, result) for rank, result in enumerate(results, start=1)],
    }


@blp.route("/progress", methods=["GET"])
@blp.response(200, ProgressSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def review_progress():
    """Reviews assigned, submitted, waived and outstanding, per category and per expert (organizers)."""
    require_staff(require_actor())
    campaign = current_campaign()

    def row(key: int, item: progress.Progress) -> dict[str, Any]:
        numbers = ("assigned", "submitted", "waived", "outstanding", "percent")
        return {"id": key, "label": item.label, **{name: getattr(item, name) for name in numbers}}

    return {
        "categories": [
            row(category.id, item)
            for category, item in zip(campaign.categories, progress.by_category(campaign), strict=True)
        ],
        "experts": [row(user.id, item) for user, item in progress.by_expert(campaign)],
    }


@blp.route("/reminders", methods=["POST"])
@blp.response(200, RemindersResultSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def reminders():
    """Mail now every expert whose reviews are due within two days or overdue (organizers)."""
    require_staff(require_actor())
    sent = progress.send_reminders()
    commit()
    return {"sent": sent}


@blp.route("/categories/<int:category_id>/shortlist", methods=["GET"])
@blp.arguments(ShortlistQuerySchema, location="query")
@blp.response(200, ShortlistSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def shortlist_preview(args: dict[str, Any], category_id: int):
    """Preview the finalists (top ``size``, the campaign's default when left out) and what still blocks them."""
    actor = require_staff(require_actor())
    campaign, category = _category(category_id)
    return _shortlist(shortlist.preview(campaign, category, actor, args.get("size")))


@blp.route("/categories/<int:category_id>/shortlist", methods=["POST"])
@blp.arguments(ShortlistInputSchema, required=False)
@blp.response(200, ShortlistSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT", description="Already confirmed: a repeated request changes nothing")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def shortlist_confirm(data: dict[str, Any], category_id: int):
    """Confirm the shortlist: finalists to the public vote, the rest out; refused (422) while reviews are missing."""
    actor = require_staff(require_actor())
    campaign, category = _category(category_id)
    confirmed = shortlist.confirm(campaign, category, actor, data.get("size"))
    commit()
    return _shortlist(confirmed)
