"""The case workflow, declared once as plain data (Plone's definition.xml, in Python).

Every other part of pingxuan derives from this module: the ``transitions`` machine, the guards a transition
checks, who may see or edit a case in each state, the worklists, the buttons in pages and in the back office,
the API's allowed actions, the diagram and the access-matrix tests. No other module lists states or
transitions.

Roles are global (``applicant``, ``expert``, ``organizer``, ``admin``, and ``anonymous`` for everyone) or
local to one case (``owner``: a member of the case's unit; ``reviewer``: an expert assigned to it).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from pingxuan.i18n import pick

# Roles -------------------------------------------------------------------------------------------------
ANONYMOUS = "anonymous"
APPLICANT = "applicant"
EXPERT = "expert"
ORGANIZER = "organizer"
ADMIN = "admin"
OWNER = "owner"
REVIEWER = "reviewer"

GLOBAL_ROLES = (APPLICANT, EXPERT, ORGANIZER, ADMIN)
LOCAL_ROLES = (OWNER, REVIEWER)
STAFF = frozenset({ORGANIZER, ADMIN})

# Permissions a state grants ------------------------------------------------------------------------------
VIEW = "view"  # read the dossier
HISTORY = "history"  # read the timeline of workflow events with their comments
EDIT = "edit"  # change the dossier and its attachments
REVIEW = "review"  # score against the rubric
SEE_SCORES = "see_scores"  # see every expert's scores
PUBLIC = "public"  # appear in the public showcase
VOTE = "vote"  # receive public votes
OBJECT = "object"  # receive objections (异议) during the public notice of the proposed awards
PRIVATE_FILES = "private_files"  # open the attachments the unit keeps private (others see only the public ones)
VERSIONS = "versions"  # compare the dossier's submitted versions (what changed on resubmission)
PERMISSIONS = (VIEW, HISTORY, EDIT, REVIEW, SEE_SCORES, PUBLIC, VOTE, OBJECT, PRIVATE_FILES, VERSIONS)

# Inputs a transition may require beside its comment (workflow.engine.FIELDS reads, checks and applies each).
DUE_DATE = "due_date"  # by when the unit's revision is due
FIELDS = (DUE_DATE,)


@dataclass(frozen=True)
class State:
    name: str
    title_zh: str
    title_en: str
    permissions: dict[str, frozenset[str]]
    final: bool = False

    def roles_for(self, permission: str) -> frozenset[str]:
        return self.permissions.get(permission, frozenset())


@dataclass(frozen=True)
class Transition:
    name: str
    title_zh: str
    title_en: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    guards: tuple[str, ...] = ()
    comment_required: bool = False
    required_fields: tuple[str, ...] = ()  # more inputs it needs (a due date), read and applied by workflow.engine
    actions: tuple[str, ...] = ()  # run inside the transaction, after the state moved
    effects: tuple[str, ...] = ()  # run after the transaction commits
    style: str = "primary"  # how a button for it looks: primary, secondary, danger


@dataclass(frozen=True)
class Worklist:
    name: str
    title_zh: str
    title_en: str
    states: tuple[str, ...]
    roles: frozenset[str]  # a case is on a person's list when they hold one of these roles on it
    condition: str = ""  # a named filter of workflow.worklists (e.g. an objection is open), beyond the state


@dataclass(frozen=True)
class Step:
    """Something recorded on a case's timeline that moves no state: a step in handling an objection."""

    name: str
    title_zh: str
    title_en: str


def _p(**permissions: set[str]) -> dict[str, frozenset[str]]:
    """A permission map; the timeline with its comments and the dossier's versions are for the unit and the office
    in every state (experts review the dossier as it stands; the public never sees earlier versions), and the
    private attachments for them and the case's reviewers (a finalist's public page shows only the public ones)."""
    permissions.setdefault(HISTORY, {OWNER, ORGANIZER, ADMIN})
    permissions.setdefault(VERSIONS, {OWNER, ORGANIZER, ADMIN})
    permissions.setdefault(PRIVATE_FILES, {OWNER, REVIEWER, ORGANIZER, ADMIN})
    return {name: frozenset(roles) for name, roles in permissions.items()}


_STAFF = {ORGANIZER, ADMIN}
_PRIVATE = _p(view={OWNER, *_STAFF})

STATES: tuple[State, ...] = (
    State("draft", "草稿", "Draft", _p(view={OWNER, *_STAFF}, edit={OWNER})),
    State("submitted", "已提交", "Submitted", _PRIVATE),
    State("eligibility_check", "资格审查中", "Eligibility check", _PRIVATE),
    State("returned", "退回修改", "Returned for revision", _p(view={OWNER, *_STAFF}, edit={OWNER})),
    State("ineligible", "不符合条件", "Ineligible", _PRIVATE),
    State("withdrawn", "已撤回", "Withdrawn", _PRIVATE, final=True),
    State(
        "expert_review",
        "专家评审中",
        "Expert review",
        _p(view={OWNER, REVIEWER, *_STAFF}, review={REVIEWER}, see_scores=_STAFF),
    ),
    State(
        "not_shortlisted",
        "未入围",
        "Not shortlisted",
        _p(view={OWNER, REVIEWER, *_STAFF}, see_scores=_STAFF),
        final=True,
    ),
    State(
        "public_vote",
        "公众投票中",
        "Public vote",
        _p(view={ANONYMOUS}, see_scores=_STAFF, public={ANONYMOUS}, vote={ANONYMOUS}),
    ),
    State(
        "proposed",
        "拟获奖（公示中）",
        "Proposed for award (public notice)",
        _p(view={ANONYMOUS}, see_scores=_STAFF, public={ANONYMOUS}, object={ANONYMOUS}),
    ),
    State(  # not final: when an upheld objection frees a place, the next case in the ranking moves up
        "not_awarded",
        "未获奖",
        "Not awarded",
        _p(view={OWNER, REVIEWER, *_STAFF}, see_scores=_STAFF),
    ),
    State(
        "awarded",
        "已获奖",
        "Awarded",
        _p(view={ANONYMOUS}, see_scores=_STAFF, public={ANONYMOUS}),
        final=True,
    ),
)

INITIAL_STATE = "draft"

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "submit", "提交", "Submit", ("draft",), "submitted", frozenset({OWNER}),
        guards=("submission_window_open", "dossier_complete"),
        actions=("assign_number", "freeze_version"), effects=("notify_owner",),
    ),
    Transition(
        "withdraw", "撤回", "Withdraw", ("draft", "submitted", "eligibility_check", "returned"), "withdrawn",
        frozenset({OWNER}), effects=("notify_owner",), style="danger",
    ),
    Transition(
        "start_check", "开始资格审查", "Start eligibility check", ("submitted",), "eligibility_check",
        frozenset(_STAFF), effects=("notify_owner",),
    ),
    Transition(
        "return_for_revision", "退回修改", "Return for revision", ("submitted", "eligibility_check"), "returned",
        frozenset(_STAFF), comment_required=True, required_fields=(DUE_DATE,), effects=("notify_owner",),
        style="secondary",
    ),
    Transition(
        "resubmit", "重新提交", "Resubmit", ("returned",), "eligibility_check", frozenset({OWNER}),
        guards=("dossier_complete",), actions=("freeze_version",), effects=("notify_owner",),
    ),
    Transition(
        "approve", "资格审查通过", "Approve as eligible", ("eligibility_check",), "expert_review",
        frozenset(_STAFF), guards=("dossier_complete", "in_operation_before_cutoff"), effects=("notify_owner",),
    ),
    Transition(
        "reject", "判定不符合条件", "Reject as ineligible", ("eligibility_check",), "ineligible",
        frozenset(_STAFF), comment_required=True, effects=("notify_owner",), style="danger",
    ),
    Transition(
        "reinstate", "恢复资格审查", "Reinstate for eligibility check", ("ineligible",), "eligibility_check",
        frozenset(_STAFF), comment_required=True, effects=("notify_owner",), style="secondary",
    ),
    Transition(
        "shortlist", "入围公众投票", "Shortlist for public vote", ("expert_review",), "public_vote",
        frozenset(_STAFF), guards=("reviews_complete",), effects=("notify_owner",),
    ),
    Transition(
        "not_shortlist", "未入围", "Do not shortlist", ("expert_review",), "not_shortlisted",
        frozenset(_STAFF), guards=("reviews_complete",), effects=("notify_owner",), style="secondary",
    ),
    Transition(
        "propose", "拟授予奖项", "Propose for award", ("public_vote",), "proposed", frozenset(_STAFF),
        guards=("vote_closed", "within_award_quota"), effects=("notify_owner",),
    ),
    Transition(
        "move_up", "递补拟获奖", "Move up into the proposed awards", ("not_awarded",), "proposed",
        frozenset(_STAFF), guards=("vote_closed", "within_award_quota"), comment_required=True,
        effects=("notify_owner",), style="secondary",
    ),
    Transition(
        "confirm_award", "确认获奖", "Confirm the award", ("proposed",), "awarded", frozenset(_STAFF),
        guards=("notice_period_over", "no_open_objection"), effects=("notify_owner",),
    ),
    Transition(
        "revoke", "撤销拟获奖", "Revoke the proposed award", ("proposed",), "not_awarded", frozenset(_STAFF),
        comment_required=True, effects=("notify_owner",), style="danger",
    ),
    Transition(
        "not_award", "不授予奖项", "Do not award", ("public_vote",), "not_awarded", frozenset(_STAFF),
        guards=("vote_closed",), effects=("notify_owner",), style="secondary",
    ),
)  # fmt: skip

WORKLISTS: tuple[Worklist, ...] = (
    Worklist("my_drafts", "待提交的案例", "Cases to complete and submit", ("draft", "returned"), frozenset({OWNER})),
    Worklist(
        "to_check", "待资格审查", "Cases waiting for eligibility check",
        ("submitted", "eligibility_check"), frozenset(_STAFF),
    ),
    Worklist("my_reviews", "我的评审任务", "My assigned reviews", ("expert_review",), frozenset({REVIEWER})),
    Worklist("to_shortlist", "待确定入围", "Cases waiting for shortlisting", ("expert_review",), frozenset(_STAFF)),
    Worklist("to_award", "待评定奖项", "Finalists waiting for the award decision", ("public_vote",), frozenset(_STAFF)),
    Worklist(
        "objections_to_handle", "待处理的异议", "Objections to handle", ("proposed",), frozenset(_STAFF),
        condition="open_objection",
    ),
    Worklist(
        "ready_to_confirm", "待确认获奖", "Proposed awards ready to confirm", ("proposed",), frozenset(_STAFF),
        condition="ready_to_confirm",
    ),
    Worklist(
        "objections_to_answer", "待答复的异议", "Objections waiting for your answer", ("proposed",),
        frozenset({OWNER}), condition="awaiting_response",
    ),
)  # fmt: skip

STEPS: tuple[Step, ...] = (
    Step("notice_published", "公示发布", "Public notice published"),
    Step("objection_lodged", "收到异议", "Objection lodged"),
    Step("objection_forwarded", "异议转交申报单位", "Objection forwarded to the unit"),
    Step("objection_answered", "申报单位答复异议", "Unit answered the objection"),
    Step("objection_upheld", "异议成立", "Objection upheld"),
    Step("objection_dismissed", "异议不成立", "Objection dismissed"),
    Step("award", "授予奖项", "Award"),  # the one-step award of runs before the public notice existed
)

# Indexes, built once ----------------------------------------------------------------------------------
STATE_BY_NAME: dict[str, State] = {state.name: state for state in STATES}
TRANSITION_BY_NAME: dict[str, Transition] = {t.name: t for t in TRANSITIONS}
WORKLIST_BY_NAME: dict[str, Worklist] = {w.name: w for w in WORKLISTS}
STATE_NAMES: tuple[str, ...] = tuple(STATE_BY_NAME)
STEP_BY_NAME: dict[str, Step] = {step.name: step for step in STEPS}
TIMELINE_ENTRIES: dict[str, Transition | Step] = {**TRANSITION_BY_NAME, **STEP_BY_NAME}  # titles of timeline rows


def event_title(name: str) -> str:
    """What a timeline row says happened, in the reader's language: its transition's or step's title."""
    entry = TIMELINE_ENTRIES.get(name)
    return pick(entry, "title") if entry else name


def transitions_from(state: str) -> tuple[Transition, ...]:
    return tuple(t for t in TRANSITIONS if state in t.sources)


def path_to(state: str) -> list[Transition]:
    """The shortest sequence of declared transitions from the initial state to ``state`` (demo data and tests
    build a case in any state by firing these, so its timeline is a real one)."""
    queue: deque[tuple[str, list[Transition]]] = deque([(INITIAL_STATE, [])])
    seen = {INITIAL_STATE}
    while queue:
        current, path = queue.popleft()
        if current == state:
            return path
        for t in transitions_from(current):
            if t.dest not in seen:
                seen.add(t.dest)
                queue.append((t.dest, [*path, t]))
    raise ValueError(f"{state} is unreachable")


def states_granting(permission: str, roles: set[str] | frozenset[str]) -> tuple[str, ...]:
    """States in which any of ``roles`` holds ``permission``; used to build list queries."""
    return tuple(s.name for s in STATES if s.roles_for(permission) & roles)


def check_declaration() -> list[str]:
    """Consistency problems in the declaration; the test suite asserts there are none."""
    problems: list[str] = []
    known_roles = {ANONYMOUS, *GLOBAL_ROLES, *LOCAL_ROLES}
    if INITIAL_STATE not in STATE_BY_NAME:
        problems.append(f"initial state {INITIAL_STATE} is not declared")
    for state in STATES:
        for permission, roles in state.permissions.items():
            if permission not in PERMISSIONS:
                problems.append(f"{state.name}: unknown permission {permission}")
            if roles - known_roles:
                problems.append(f"{state.name}: unknown roles {sorted(roles - known_roles)}")
    for t in TRANSITIONS:
        for name in (*t.sources, t.dest):
            if name not in STATE_BY_NAME:
                problems.append(f"{t.name}: unknown state {name}")
        if t.roles - known_roles:
            problems.append(f"{t.name}: unknown roles {sorted(t.roles - known_roles)}")
        problems.extend(f"{t.name}: unknown field {name}" for name in t.required_fields if name not in FIELDS)
        if any(STATE_BY_NAME[s].final for s in t.sources if s in STATE_BY_NAME):
            problems.append(f"{t.name}: leaves a final state")
    reachable = {INITIAL_STATE}
    frontier = [INITIAL_STATE]
    while frontier:
        current = frontier.pop()
        for t in transitions_from(current):
            if t.dest not in reachable:
                reachable.add(t.dest)
                frontier.append(t.dest)
    problems.extend(f"state {s.name} is unreachable" for s in STATES if s.name not in reachable)
    for w in WORKLISTS:
        problems.extend(f"worklist {w.name}: unknown state {s}" for s in w.states if s not in STATE_BY_NAME)
    objecting = [s.name for s in STATES if s.roles_for(OBJECT)]
    problems.extend(f"{name}: receives objections but is not public" for name in objecting
                    if ANONYMOUS not in STATE_BY_NAME[name].roles_for(VIEW))  # fmt: skip
    return problems
