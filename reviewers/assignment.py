"""Assigning reviewers: proposals computed by the min-cost-flow solver, adjusted by hand, then applied."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from accounts.models import User
from accounts.permissions import require_expert, require_staff
from campaigns.models import Campaign
from cases.models import Case
from pingxuan.db import locked, utcnow
from pingxuan.errors import Conflict as ConflictError
from pingxuan.errors import Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from reviewers import solver
from reviewers.conflicts import conflicted_pairs, record_automatic_conflicts
from reviewers.models import (
    ACCEPTED,
    DECLARED,
    DECLINED,
    DISMISSED,
    LIVE,
    OPEN,
    PENDING,
    RELEASED,
    REPORTED,
    SUBMITTED,
    SUBMITTED_REVIEW,
    Assignment,
    Conflict,
    Expert,
    Proposal,
    ReviewAudit,
)
from workflow.definition import REVIEW, REVIEWER, STAFF, VIEW, states_granting
from workflow.roles import has_permission

FULL, TOPUP = "full", "topup"


def reviewable_states() -> tuple[str, ...]:
    return states_granting(REVIEW, {REVIEWER})


def match_cost(expert: Expert, case: Case) -> int:
    domain_ids = {d.id for d in expert.domains}
    if case.domain_id in domain_ids:
        return solver.DOMAIN_MATCH
    if case.category_id in {c.id for c in expert.categories} or any(
        d.category_id == case.category_id for d in expert.domains
    ):
        return solver.CATEGORY_MATCH
    return solver.NO_MATCH


def _cases(campaign: Campaign) -> list[Case]:
    return list(
        db.session.scalars(
            select(Case).where(Case.campaign_id == campaign.id, Case.state.in_(reviewable_states())).order_by(Case.id)
        )
    )


def _experts() -> list[Expert]:
    return list(db.session.scalars(select(Expert).join(User).where(Expert.active.is_(True), User.active.is_(True))))


def _unstarted(campaign: Campaign) -> list[Assignment]:
    """Pending assignments nobody has acted on: a full re-proposal may move them."""
    return list(
        db.session.scalars(
            select(Assignment)
            .join(Case)
            .where(Case.campaign_id == campaign.id, Assignment.status == PENDING, ~Assignment.review.has())
        )
    )


def build_problem(campaign: Campaign, mode: str = TOPUP) -> tuple[solver.Problem, list[Case], list[Expert]]:
    """The assignment problem for a campaign's cases under review: what is missing, who may take it.

    In top-up mode every live assignment stays and only what is missing is assigned; in full mode the
    unstarted ones are open to change as well.
    """
    cases, experts = _cases(campaign), _experts()
    record_automatic_conflicts(cases, experts)
    case_ids = [c.id for c in cases]
    conflicts = conflicted_pairs(case_ids)
    soft = {a.id for a in _unstarted(campaign)} if mode == FULL else set()
    existing = db.session.scalars(select(Assignment).where(Assignment.case_id.in_(case_ids))) if case_ids else []
    taken: set[tuple[int, int]] = set()
    live_per_case: dict[int, int] = {}
    for a in existing:
        if a.id in soft:
            continue
        taken.add((a.case_id, a.expert_id))  # declined or released pairs are never proposed again
        if a.status in LIVE:
            live_per_case[a.case_id] = live_per_case.get(a.case_id, 0) + 1
    live = select(Assignment.expert_id, func.count()).where(Assignment.status.in_(LIVE))
    if soft:
        live = live.where(Assignment.id.not_in(soft))
    loads = dict(db.session.execute(live.group_by(Assignment.expert_id)).all())
    needs = {c.id: max(0, campaign.reviewers_per_case - live_per_case.get(c.id, 0)) for c in cases}
    capacity = {e.user_id: (loads.get(e.user_id, 0), max(e.max_load, loads.get(e.user_id, 0))) for e in experts}
    costs = {
        (c.id, e.user_id): match_cost(e, c)
        for c in cases
        for e in experts
        if (c.id, e.user_id) not in conflicts and (c.id, e.user_id) not in taken
    }
    return solver.Problem(needs, capacity, costs), cases, experts


def propose(campaign: Campaign, actor: User, mode: str = TOPUP) -> Proposal:
    """Compute an optimal proposal. ``full`` first releases pending assignments nobody has started."""
    require_staff(actor)
    if mode not in (FULL, TOPUP):
        raise Invalid(_("Unknown mode."), {"mode": _("Choose full or top-up.")})
    problem, _cases_, _experts_ = build_problem(campaign, mode)
    solution = solver.solve(problem)
    proposal = Proposal(
        campaign_id=campaign.id, mode=mode, pairs=[list(p) for p in solution.pairs],
        uncovered=[[case_id, missing, _uncovered_reason(problem, case_id)]
                   for case_id, missing in sorted(solution.missing.items())],
        total_cost=solution.total_cost, created_by_id=actor.id,
    )  # fmt: skip
    db.session.add(proposal)
    db.session.flush()
    return proposal


def propose_replacement(campaign: Campaign) -> Proposal | None:
    """After a decline or a declared conflict: a top-up proposal made by the system, waiting for an organizer
    to preview and apply it (nothing is assigned without them). None when nothing is missing."""
    problem, _cases_, _experts_ = build_problem(campaign, TOPUP)
    if not any(problem.needs.values()):
        return None
    solution = solver.solve(problem)
    proposal = Proposal(
        campaign_id=campaign.id, mode=TOPUP, pairs=[list(p) for p in solution.pairs],
        uncovered=[[case_id, missing, _uncovered_reason(problem, case_id)]
                   for case_id, missing in sorted(solution.missing.items())],
        total_cost=solution.total_cost, created_by_id=None,
    )  # fmt: skip
    db.session.add(proposal)
    db.session.flush()
    return proposal


def pending_replacement(campaign: Campaign) -> Proposal | None:
    """The newest replacement proposal the system made that no organizer has applied yet."""
    return db.session.scalar(
        select(Proposal)
        .where(Proposal.campaign_id == campaign.id, Proposal.created_by_id.is_(None), Proposal.applied_at.is_(None))
        .order_by(Proposal.id.desc())
        .limit(1)
    )


def _uncovered_reason(problem: solver.Problem, case_id: int) -> str:
    candidates = [e for (c, e) in problem.costs if c == case_id]
    if not candidates:
        return _("No expert without a conflict is left for this case.")
    if all(problem.capacity[e][0] >= problem.capacity[e][1] for e in candidates):
        return _("Every expert who could review it has reached their load limit.")
    return _("Too few experts with free capacity: %(n)d possible.", n=len(candidates))


def adjust_proposal(
    proposal: Proposal, actor: User, add: list[tuple[int, int]], remove: list[tuple[int, int]]
) -> Proposal:
    """Hand edits before applying: a pair that is conflicted or already assigned is refused with why."""
    require_staff(actor)
    locked(Proposal, proposal.id)  # an edit racing its application waits for it, then is refused
    if proposal.applied_at is not None:
        raise ConflictError(_("This proposal has been applied already."))
    pairs = [p for p in proposal.pairs if (p[0], p[1]) not in set(map(tuple, remove))]
    present = {(p[0], p[1]) for p in pairs}
    errors: dict[str, str] = {}
    for case_id, expert_id in add:
        if (case_id, expert_id) in present:
            continue
        case, expert = db.session.get(Case, case_id), db.session.get(Expert, expert_id)
        if case is None or expert is None:
            errors[f"{case_id}-{expert_id}"] = _("No such case or expert.")
            continue
        if (case_id, expert_id) in conflicted_pairs([case_id]):
            errors[f"{case_id}-{expert_id}"] = _("This expert has a conflict of interest with this case.")
            continue
        pairs.append([case_id, expert_id, match_cost(expert, case)])
        present.add((case_id, expert_id))
    if errors:
        raise Invalid(_("Some pairs cannot be added."), errors)
    proposal.pairs = pairs
    db.session.flush()
    return proposal


def apply_proposal(proposal: Proposal, actor: User) -> list[Assignment]:
    """Create the assignments; conflicts and load limits are checked again at this moment."""
    require_staff(actor)
    claimed = db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.applied_at.is_(None))
        .values(applied_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # applied before, or by a parallel request this very moment
        raise ConflictError(_("This proposal has been applied already."))
    wanted = {(case_id, expert_id) for case_id, expert_id, _cost in proposal.pairs}
    if proposal.mode == FULL:
        campaign = db.session.get(Campaign, proposal.campaign_id)
        for assignment in _unstarted(campaign):
            if (assignment.case_id, assignment.expert_id) in wanted:
                wanted.discard((assignment.case_id, assignment.expert_id))
            else:
                assignment.status = RELEASED
                assignment.reason = _("Reassigned by a new proposal.")
                db.session.add(ReviewAudit(assignment_id=assignment.id, action="reassigned", actor_id=actor.id))
    created = [
        assign(db.session.get(Case, case_id), db.session.get(User, expert_id), actor)
        for case_id, expert_id in sorted(wanted)
    ]
    db.session.refresh(proposal)
    return created


def assign(case: Case, expert_user: User, actor: User) -> Assignment:
    """Assign one expert to one case (also used for hand assignment); parallel requests for the same expert take
    turns, so the second is told the pair exists or the load limit is reached."""
    require_staff(actor)
    if case.state not in reviewable_states():
        raise ConflictError(_("Reviewers can only be assigned to cases under expert review."))
    # The expert's row stays locked until the commit: a parallel assignment of the same expert waits, then sees
    # this one (no duplicate pair, no load beyond the limit).
    expert = locked(Expert, expert_user.id)
    if expert is None or not expert.active:
        raise Invalid(_("This person is not an active expert."))
    record_automatic_conflicts([case], [expert])
    if (case.id, expert.user_id) in conflicted_pairs([case.id]):
        raise Invalid(_("This expert has a conflict of interest with this case."))
    existing = db.session.scalar(
        select(Assignment).where(Assignment.case_id == case.id, Assignment.expert_id == expert.user_id)
    )
    if existing is not None:
        raise ConflictError(_("This expert was assigned to this case before."))
    load = db.session.scalar(
        select(func.count()).where(Assignment.expert_id == expert.user_id, Assignment.status.in_(LIVE))
    )
    if load >= expert.max_load:
        raise Invalid(_("This expert has reached their load limit of %(n)d.", n=expert.max_load))
    assignment = Assignment(
        case_id=case.id, expert_id=expert.user_id, status=PENDING, assigned_by_id=actor.id,
        due_date=case.campaign.review_closes,
    )  # fmt: skip
    db.session.add(assignment)
    db.session.flush()
    return assignment


def respond(assignment: Assignment, actor: User, accept: bool, reason: str | None = None) -> Assignment:
    """The expert accepts, or declines with a reason; a decline leaves the case to the next proposal."""
    require_expert(actor)
    if assignment.expert_id != actor.id:
        raise NotFound(_("No such assignment."))
    if assignment.status not in (PENDING, ACCEPTED):
        raise ConflictError(_("This assignment can no longer be changed."))
    if accept:
        if assignment.status == ACCEPTED:  # a repeated action: 409, the API's rule for repeats
            raise ConflictError(_("You have accepted this assignment already."))
        assignment.status = ACCEPTED
    else:
        reason = (reason or "").strip()
        if not reason:
            raise Invalid(_("Give a reason for declining."), {"reason": _("A reason is required.")})
        if assignment.review is not None and assignment.review.status == SUBMITTED_REVIEW:
            raise Forbidden(_("A submitted review cannot be declined."))
        assignment.status = DECLINED
        assignment.reason = reason
        db.session.add(ReviewAudit(assignment_id=assignment.id, action="declined", actor_id=actor.id, reason=reason))
        db.session.flush()
        propose_replacement(assignment.case.campaign)
    db.session.flush()
    return assignment


def declare_conflict(actor: User, case: Case, reason: str) -> Conflict:
    """An expert declares a conflict with a case they may see; a pending or accepted assignment is released.

    Once the expert's review is submitted it counts in the ranking, so the expert alone cannot take it back: the
    conflict is *reported* (recorded, on the organizers' list) and an organizer decides (``decide_conflict``).
    A case the expert may not see is not found, as when they ask for it: nothing is recorded."""
    require_expert(actor)
    if not has_permission(actor, case, VIEW):
        raise NotFound(_("No such case."))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give the reason for the conflict."), {"reason": _("A reason is required.")})
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.case_id == case.id, Assignment.expert_id == actor.id)
    )
    conflict = db.session.scalar(select(Conflict).where(Conflict.case_id == case.id, Conflict.expert_id == actor.id))
    if assignment is not None and assignment.status == SUBMITTED:
        if conflict is None:
            conflict = Conflict(case_id=case.id, expert_id=actor.id, source=REPORTED, reason=reason)
            db.session.add(conflict)
        elif conflict.source == DISMISSED:  # reported again, with a new reason: the office decides again
            conflict.source, conflict.reason = REPORTED, reason
        if conflict.source == REPORTED:
            db.session.add(ReviewAudit(assignment_id=assignment.id, action="conflict_reported", actor_id=actor.id,
                                       reason=reason))  # fmt: skip
        db.session.flush()
        return conflict
    if conflict is None:
        conflict = Conflict(case_id=case.id, expert_id=actor.id, source=DECLARED, reason=reason)
        db.session.add(conflict)
    if assignment is not None and assignment.status in OPEN:
        _release(assignment, actor, reason, "released_conflict")
    db.session.flush()
    return conflict


def _release(assignment: Assignment, actor: User, reason: str, action: str) -> None:
    assignment.status = RELEASED
    assignment.reason = reason
    assignment.updated_at = utcnow()
    db.session.add(ReviewAudit(assignment_id=assignment.id, action=action, actor_id=actor.id, reason=reason))
    db.session.flush()
    if assignment.case.state in reviewable_states():
        propose_replacement(assignment.case.campaign)


def reported_conflicts(campaign_id: int) -> list[Conflict]:
    """Conflicts reported after a submitted review, waiting for an organizer's decision: their worklist."""
    return list(
        db.session.scalars(
            select(Conflict).join(Case).where(Case.campaign_id == campaign_id, Conflict.source == REPORTED)
            .order_by(Conflict.id)
        )
    )  # fmt: skip


def get_conflict(conflict_id: int, actor: User) -> Conflict:
    require_staff(actor)
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None:
        raise NotFound(_("No such conflict."))
    return conflict


def decide_conflict(actor: User, conflict: Conflict, uphold: bool, reason: str) -> Conflict:
    """An organizer decides a reported conflict: upheld, the expert's submitted review is released and leaves the
    ranking; dismissed, the review keeps counting. Either way audited with the organizer's reason."""
    require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give the reason for the decision."), {"reason": _("A reason is required.")})
    if conflict.source != REPORTED:
        raise ConflictError(_("This conflict is not waiting for a decision."))
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.case_id == conflict.case_id, Assignment.expert_id == conflict.expert_id)
    )
    if uphold:
        conflict.source = DECLARED
        if assignment is not None and assignment.status in LIVE:
            _release(assignment, actor, reason, "conflict_upheld")
    else:
        conflict.source = DISMISSED
        if assignment is not None:
            db.session.add(ReviewAudit(assignment_id=assignment.id, action="conflict_dismissed", actor_id=actor.id,
                                       reason=reason))  # fmt: skip
    db.session.flush()
    return conflict


def get_assignment(assignment_id: int, actor: User) -> Assignment:
    """An assignment for its expert or an organizer; to anyone else (applicants) it does not exist (blindness)."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or (actor.role not in STAFF and assignment.expert_id != actor.id):
        raise NotFound(_("No such assignment."))
    return assignment


def assignments_of(actor: User) -> list[Assignment]:
    """The expert's own live assignments (pending, accepted, submitted), soonest due first: their worklist."""
    require_expert(actor)
    rows = db.session.scalars(
        select(Assignment).where(Assignment.expert_id == actor.id, Assignment.status.in_(LIVE)).order_by(Assignment.id)
    )
    return sorted(rows, key=lambda a: (a.status not in OPEN, a.due_date is None, a.due_date, a.id))


def assignment_for(case: Case, actor: User) -> Assignment:
    """The expert's live assignment on this case; anyone else (or a released/declined expert) is refused."""
    require_expert(actor)
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.case_id == case.id, Assignment.expert_id == actor.id, Assignment.status.in_(LIVE)
        )
    )
    if assignment is None:
        raise Forbidden(_("This case is not assigned to you."))
    return assignment


def get_proposal(proposal_id: int, actor: User) -> Proposal:
    require_staff(actor)
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(_("No such proposal."))
    return proposal


def match_kind(cost: int) -> str:
    """How well an expert's expertise fits a case, read back from the solver's match cost."""
    if cost <= solver.DOMAIN_MATCH:
        return "domain"
    if cost <= solver.CATEGORY_MATCH:
        return "category"
    return "none"


@dataclass
class ExpertLoad:
    expert: Expert
    current: int  # live assignments that stay when the proposal is applied
    proposed: int = 0

    @property
    def after(self) -> int:
        return self.current + self.proposed


@dataclass
class ProposalPreview:
    proposal: Proposal
    loads: list[ExpertLoad]
    matches: list[tuple[Case, list[tuple[User, str]]]]  # case → [(expert, match kind)]
    uncovered: list[tuple[Case, int, str]]  # case, reviewers missing, why
    experts: list[Expert] = field(default_factory=list)  # every active expert, for adding a pair by hand
    cases: list[Case] = field(default_factory=list)  # every case under review, for adding a pair by hand


def preview_proposal(proposal: Proposal, actor: User) -> ProposalPreview:
    """What applying the proposal would do: each expert's load against their limit, each case's reviewers."""
    require_staff(actor)
    campaign = db.session.get(Campaign, proposal.campaign_id)
    experts = _experts()
    soft = {a.id for a in _unstarted(campaign)} if proposal.mode == FULL and proposal.applied_at is None else set()
    live = select(Assignment.expert_id, func.count()).where(Assignment.status.in_(LIVE))
    if soft:
        live = live.where(Assignment.id.not_in(soft))
    current = dict(db.session.execute(live.group_by(Assignment.expert_id)).all())
    loads = {e.user_id: ExpertLoad(e, current.get(e.user_id, 0)) for e in experts}
    by_case: dict[int, list[tuple[User, str]]] = {}
    for case_id, expert_id, cost in proposal.pairs:
        if expert_id not in loads:
            expert = db.session.get(Expert, expert_id)
            loads[expert_id] = ExpertLoad(expert, current.get(expert_id, 0))
        loads[expert_id].proposed += 1
        by_case.setdefault(case_id, []).append((loads[expert_id].expert.user, match_kind(cost)))
    cases = _cases(campaign)
    known = {c.id: c for c in cases}

    def case(case_id: int) -> Case:
        return known.get(case_id) or db.session.get(Case, case_id)

    matches = [(case(cid), pairs) for cid, pairs in sorted(by_case.items())]
    uncovered = [(case(cid), missing, why) for cid, missing, why in proposal.uncovered]
    ordered = sorted(loads.values(), key=lambda load: (-load.after, load.expert.user.name))
    return ProposalPreview(proposal, ordered, matches, uncovered, experts, cases)
