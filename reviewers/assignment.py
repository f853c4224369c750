"""Assigning reviewers: proposals computed by the min-cost-flow solver, adjusted by hand, then applied."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from flask_babel import gettext as _
from sqlalchemy import BigInteger, Select, cast, func, select, update

from accounts.models import User
from accounts.permissions import require_expert, require_staff
from campaigns.models import Campaign, Domain
from cases.models import Case
from pingxuan.db import locked, utcnow
from pingxuan.errors import Conflict as ConflictError
from pingxuan.errors import Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from reviewers import solver
from reviewers.conflicts import (
    automatic_conflicts,
    case_affiliations,
    conflicted_pairs,
    record_automatic_conflicts,
    roles,
    store_automatic,
)
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
    expert_categories,
    expert_domains,
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


def _unstarted_ids(campaign: Campaign) -> set[int]:
    return set(
        db.session.scalars(
            select(Assignment.id)
            .join(Case)
            .where(Case.campaign_id == campaign.id, Assignment.status == PENDING, ~Assignment.review.has())
        )
    )


_PAIR = 1 << 32  # a (case, expert) pair as one number: case × _PAIR + expert


def _among(values: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in the sorted array ``ordered``."""
    if not len(ordered):
        return np.zeros(len(values), dtype=bool)
    return ordered[np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)] == values


def _index(ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``values`` in the sorted ``ids``, and which of them are there at all."""
    at = np.minimum(np.searchsorted(ids, values), max(len(ids) - 1, 0))
    return at, (ids[at] == values) if len(ids) else np.zeros(len(values), dtype=bool)


def build_problem(campaign: Campaign, mode: str = TOPUP) -> solver.Instance:
    """The assignment problem for a campaign's cases under review: what is missing, who may take it.

    In top-up mode every live assignment stays and only what is missing is assigned; in full mode the
    unstarted ones are open to change as well. Read as plain rows into arrays (a national campaign has
    millions of case-expert pairs), the automatic conflicts found on the way are stored in one statement.
    """
    in_review = (Case.campaign_id == campaign.id, Case.state.in_(reviewable_states()))
    case_rows = db.session.execute(
        select(Case.id, Case.domain_id, Case.category_id).where(*in_review).order_by(Case.id)
    ).all()
    expert_rows = db.session.execute(
        select(Expert.user_id, Expert.max_load, Expert.organization, Expert.parent_org)
        .join(User, User.id == Expert.user_id)
        .where(Expert.active.is_(True), User.active.is_(True))
        .order_by(Expert.user_id)
    ).all()
    case_ids = np.array([r[0] for r in case_rows], dtype=np.int64)
    expert_ids = np.array([r[0] for r in expert_rows], dtype=np.int64)
    # Conflicts: those recorded, and the automatic ones not recorded yet (stored now, for organizers to see).
    # (A million of them at national scale: read as one number per pair, not as rows.)
    db.session.flush()
    pair = cast(Conflict.case_id, BigInteger) * _PAIR + Conflict.expert_id
    recorded = select(pair).join(Case, Case.id == Conflict.case_id).where(*in_review)
    known = np.sort(_numbers(recorded.where(Conflict.source != DISMISSED)))
    dismissed = np.sort(_numbers(recorded.where(Conflict.source == DISMISSED)))  # by an organizer: no conflict
    found = automatic_conflicts(
        ((r[0], [name or "" for name in r[1:]]) for r in db.session.execute(case_affiliations(campaign, *in_review))),
        [(r[0], r[2], r[3]) for r in expert_rows],
        roles(campaign),
    )
    found_keys = np.array([c * _PAIR + e for c, e in found], dtype=np.int64)
    overruled = _among(found_keys, dismissed)
    new = dict(itertools.compress(found.items(), ~(_among(found_keys, known) | overruled)))
    store_automatic(new)
    conflicts = np.concatenate([known, found_keys[~overruled]])
    conflicts = np.stack([conflicts // _PAIR, conflicts % _PAIR], axis=1)
    # Pairs assigned before (declined or released ones are never proposed again) and the live ones per case.
    soft = _unstarted_ids(campaign) if mode == FULL else set()
    assigned = select(Assignment.id, Assignment.case_id, Assignment.expert_id, Assignment.status).join(Case)
    existing = [row for row in db.session.execute(assigned.where(*in_review)) if row[0] not in soft]
    taken = np.array([(r[1], r[2]) for r in existing], dtype=np.int64).reshape(-1, 2)
    live_per_case = np.zeros(len(case_ids), dtype=np.int64)
    live_cases = np.array([r[1] for r in existing if r[3] in LIVE], dtype=np.int64)
    at, there = _index(case_ids, live_cases)
    np.add.at(live_per_case, at[there], 1)
    live = select(Assignment.expert_id, func.count()).where(Assignment.status.in_(LIVE))
    if soft:
        live = live.where(Assignment.id.not_in(soft))
    loads = dict(db.session.execute(live.group_by(Assignment.expert_id)).all())
    current = np.array([loads.get(r[0], 0) for r in expert_rows], dtype=np.int64)
    maximum = np.maximum(np.array([r[1] for r in expert_rows], dtype=np.int64), current)
    needs = np.maximum(campaign.reviewers_per_case - live_per_case, 0)
    costs = match_costs([r[1] for r in case_rows], [r[2] for r in case_rows], expert_ids, *_expertise(expert_ids))
    forbidden = np.concatenate([conflicts, taken])
    rows, in_rows = _index(case_ids, forbidden[:, 0])
    cols, in_cols = _index(expert_ids, forbidden[:, 1])
    both = in_rows & in_cols
    costs[rows[both], cols[both]] = solver.FORBIDDEN
    return solver.Instance(case_ids, needs, expert_ids, current, maximum, costs)


def _expertise(expert_ids: np.ndarray) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(expert, domain) and (expert, category) pairs of these experts; a domain's category counts as theirs."""
    domains = db.session.execute(
        select(expert_domains.c.expert_id, expert_domains.c.domain_id, Domain.category_id).join(
            Domain, Domain.id == expert_domains.c.domain_id
        )
    ).all()
    categories = db.session.execute(select(expert_categories.c.expert_id, expert_categories.c.category_id)).all()
    return [(e, d) for e, d, _c in domains], [(e, c) for e, c in categories] + [(e, c) for e, _d, c in domains]


def match_costs(
    case_domains: list[int | None],
    case_categories: list[int | None],
    expert_ids: np.ndarray,
    domains: list[tuple[int, int]],
    categories: list[tuple[int, int]],
) -> np.ndarray:
    """match_cost for every case (its domain and category) and expert (their (expert, domain) and (expert,
    category) pairs) at once, as a cases × experts matrix: one row per kind of case (domain and category: a
    few dozen), then copied to the cases of that kind."""
    kinds = sorted({(d, c) for d, c in zip(case_domains, case_categories, strict=True)}, key=str)
    kind_of = {kind: i for i, kind in enumerate(kinds)}
    table = np.full((len(kinds), len(expert_ids)), solver.NO_MATCH, dtype=np.int16)
    by_domain: dict[int, list[int]] = {}
    by_category: dict[int, list[int]] = {}
    for i, (domain, category) in enumerate(kinds):
        by_domain.setdefault(domain, []).append(i)
        by_category.setdefault(category, []).append(i)
    columns = {int(e): j for j, e in enumerate(expert_ids)}
    for expert_id, category in categories:
        if expert_id in columns and category is not None:
            table[by_category.get(category, []), columns[expert_id]] = solver.CATEGORY_MATCH
    for expert_id, domain in domains:  # after the categories: a domain match is the better one
        if expert_id in columns and domain is not None:
            table[by_domain.get(domain, []), columns[expert_id]] = solver.DOMAIN_MATCH
    return table[[kind_of[kind] for kind in zip(case_domains, case_categories, strict=True)]]


def _numbers(statement: Select) -> np.ndarray:
    """The one integer column of a select, as an array, read through the database driver directly: a million
    rows go through SQLAlchemy's result machinery at a few microseconds each, seconds in all."""
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[name] for name in compiled.positiontup] if compiled.positional else compiled.params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return np.fromiter(itertools.chain.from_iterable(cursor.fetchall()), dtype=np.int64)
    finally:
        cursor.close()


def propose(campaign: Campaign, actor: User, mode: str = TOPUP) -> Proposal:
    """Compute an optimal proposal. ``full`` first releases pending assignments nobody has started."""
    require_staff(actor)
    if mode not in (FULL, TOPUP):
        raise Invalid(_("Unknown mode."), {"mode": _("Choose full or top-up.")})
    return _stored(campaign, build_problem(campaign, mode), mode, actor.id)


def _stored(campaign: Campaign, problem: solver.Instance, mode: str, created_by_id: int | None) -> Proposal:
    """Solve the problem and store the outcome as a proposal (one row: its pairs are one JSON document)."""
    solution = solver.solve(problem)
    proposal = Proposal(
        campaign_id=campaign.id, mode=mode, pairs=[list(p) for p in solution.pairs],
        uncovered=[[case_id, missing, _uncovered_reason(problem, case_id)]
                   for case_id, missing in sorted(solution.missing.items())],
        total_cost=solution.total_cost, created_by_id=created_by_id,
    )  # fmt: skip
    db.session.add(proposal)
    db.session.flush()
    return proposal


def propose_replacement(campaign: Campaign) -> Proposal | None:
    """After a decline or a declared conflict: a top-up proposal made by the system, waiting for an organizer
    to preview and apply it (nothing is assigned without them). None when nothing is missing."""
    problem = build_problem(campaign, TOPUP)
    if not problem.needs.any():
        return None
    return _stored(campaign, problem, TOPUP, None)


def pending_replacement(campaign: Campaign) -> Proposal | None:
    """The newest replacement proposal the system made that no organizer has applied yet."""
    return db.session.scalar(
        select(Proposal)
        .where(Proposal.campaign_id == campaign.id, Proposal.created_by_id.is_(None), Proposal.applied_at.is_(None))
        .order_by(Proposal.id.desc())
        .limit(1)
    )


def _uncovered_reason(problem: solver.Instance, case_id: int) -> str:
    row = int(np.searchsorted(problem.case_ids, case_id))
    candidates = problem.candidates_of(row)
    if not len(candidates):
        return _("No expert without a conflict is left for this case.")
    if (problem.current[candidates] >= problem.maximum[candidates]).all():
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
