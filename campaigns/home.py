"""The staff's campaign home: one campaign's phases, counts, what needs doing now, deadlines and warnings.

Everything is of one campaign only. The to-do lists are the declaration's worklists (``workflow.worklists``)
counted for this campaign; the phases are read from the campaign's dates and from what has happened (a notice
published, certificates issued); warnings come from the same checks the tools run (likely duplicates, the
vote's integrity rules).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from accounts.models import User
from accounts.permissions import require_staff
from awards.models import OBJECTION_FORWARDED, OBJECTION_PENDING, CertificateBatch, Notice, Objection
from campaigns.models import VOTE_CLOSED, VOTE_NOT_OPEN, VOTE_OPEN, Campaign
from cases.eligibility import SIMILAR_TITLE
from cases.models import Case, DuplicateDecision
from pingxuan.clock import today
from pingxuan.errors import NotFound
from pingxuan.extensions import db
from reviewers.models import OPEN, Assignment
from voting.models import Ballot
from workflow.definition import INITIAL_STATE, STATES, TRANSITION_BY_NAME, Worklist
from workflow.worklists import worklist_query, worklists_for

# A rule that flags at least this share of the valid ballots (and at least MANY_BALLOTS of them) is a warning.
FLAGGED_SHARE = 0.05
MANY_BALLOTS = 20
ACTIVE_STATES = tuple(s.name for s in STATES if not s.final and s.name != INITIAL_STATE)
# Read from the declaration: the eligibility check runs on the cases "start_check" and "approve" take,
# proposed awards are confirmed by "confirm_award".
CHECKING = tuple({s for name in ("start_check", "approve") for s in TRANSITION_BY_NAME[name].sources})
ELIGIBLE = TRANSITION_BY_NAME["approve"].dest
PROPOSED, AWARDED = TRANSITION_BY_NAME["confirm_award"].sources, TRANSITION_BY_NAME["confirm_award"].dest

PAST, NOW, NEXT = "past", "now", "next"


@dataclass
class Phase:
    key: str
    label: str
    starts: date | None
    ends: date | None
    status: str = NEXT  # past, now or next (today falls inside it, before or after it)


@dataclass
class Deadline:
    key: str
    label: str
    due: date
    count: int

    @property
    def days_left(self) -> int:
        return (self.due - today()).days


@dataclass
class Home:
    campaign: Campaign
    campaigns: list[Campaign]
    today: date
    phases: list[Phase]
    counts: list[tuple[str, int]]  # (state name, cases) for every declared state, in order
    total: int
    todo: list[tuple[Worklist, int]]  # the non-empty worklists of this person, this campaign
    deadlines: list[Deadline] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ballots: int = 0


def chosen_campaign(campaign_id: int | None) -> tuple[list[Campaign], Campaign]:
    """Every campaign (newest first) and the one asked for, else the current one, else the newest."""
    campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.year.desc())))
    chosen = next((c for c in campaigns if c.id == campaign_id), None) if campaign_id is not None else None
    if campaign_id is not None and chosen is None:
        raise NotFound(_l("No such campaign."))
    chosen = chosen or next((c for c in campaigns if c.is_current), None) or (campaigns[0] if campaigns else None)
    if chosen is None:
        raise NotFound(_l("No campaign is open."))
    return campaigns, chosen


def state_counts(campaign: Campaign) -> dict[str, int]:
    rows = db.session.execute(
        select(Case.state, func.count()).where(Case.campaign_id == campaign.id).group_by(Case.state)
    ).all()
    return {state: n for state, n in rows}


def _status(starts: date | None, ends: date | None, on: date, busy: bool = False) -> str:
    if starts is not None and on < starts:
        return NEXT
    if ends is not None and on > ends:
        return PAST
    if starts is None and ends is None:
        return NOW if busy else NEXT
    return NOW


def _later(a: date | None, b: date | None) -> date | None:
    return max(a, b) if a is not None and b is not None else (a or b)


def phases(campaign: Campaign, counts: dict[str, int], on: date) -> list[Phase]:
    notices = db.session.execute(
        select(func.min(Notice.starts_on), func.max(Notice.ends_on)).where(Notice.campaign_id == campaign.id)
    ).one()
    first_batch = db.session.scalar(
        select(func.min(CertificateBatch.created_at)).where(CertificateBatch.campaign_id == campaign.id)
    )
    checking = sum(counts.get(state, 0) for state in CHECKING)
    awarded = counts.get(AWARDED, 0)
    result = [
        Phase("submission", str(_l("Submission")), campaign.submission_opens, campaign.submission_closes),
        # checked as cases come in, until the review opens or the submission closes, whichever is later
        Phase(
            "eligibility",
            str(_l("Eligibility check")),
            campaign.submission_opens,
            _later(campaign.submission_closes, campaign.review_opens),
        ),
        Phase("review", str(_l("Expert review")), campaign.review_opens, campaign.review_closes),
        Phase("vote", str(_l("Public vote")), campaign.vote_opens, campaign.vote_closes),
        Phase("notice", str(_l("Public notice")), notices[0], notices[1]),
        Phase("awards", str(_l("Awards confirmed")), notices[1], None),
        Phase("certificates", str(_l("Certificates")), first_batch.date() if first_batch else None, None),
    ]
    for phase in result:
        phase.status = _status(phase.starts, phase.ends, on)
    eligibility = result[1]
    eligibility.status = NOW if checking else (PAST if counts.get(ELIGIBLE) or eligibility.status == PAST
                                               else eligibility.status)  # fmt: skip
    vote = result[3]
    vote.status = {VOTE_OPEN: NOW, VOTE_CLOSED: PAST}.get(campaign.vote_status, vote.status)
    notice, awards, certificates = result[4], result[5], result[6]
    if notices[1] is None:
        notice.status = awards.status = NEXT
    elif awards.status == NOW and awarded and not any(counts.get(state) for state in PROPOSED):
        awards.status = PAST
    if first_batch is None:
        certificates.status = NEXT
    return result


def deadlines(campaign: Campaign, on: date) -> list[Deadline]:
    found: list[Deadline] = []
    outstanding = db.session.scalar(
        select(func.count())
        .select_from(Assignment)
        .join(Case, Case.id == Assignment.case_id)
        .where(Case.campaign_id == campaign.id, Assignment.status.in_(OPEN))
    )
    if outstanding and campaign.review_closes is not None and campaign.review_closes >= on:
        found.append(Deadline("reviews", str(_l("Reviews outstanding")), campaign.review_closes, outstanding))
    if campaign.vote_status == VOTE_OPEN and campaign.vote_closes is not None:
        found.append(Deadline("vote", str(_l("The public vote closes")), campaign.vote_closes, 0))
    answers = db.session.execute(
        select(func.min(Objection.response_due), func.count())
        .join(Case, Case.id == Objection.case_id)
        .where(Case.campaign_id == campaign.id, Objection.status == OBJECTION_FORWARDED)
    ).one()
    if answers[1] and answers[0] is not None:
        found.append(Deadline("answers", str(_l("Units' answers to objections due")), answers[0], answers[1]))
    pending = db.session.scalar(
        select(func.count())
        .select_from(Objection)
        .join(Case, Case.id == Objection.case_id)
        .where(Case.campaign_id == campaign.id, Objection.status.in_(OBJECTION_PENDING))
    )
    notice_end = db.session.scalar(select(func.max(Notice.ends_on)).where(Notice.campaign_id == campaign.id))
    if notice_end is not None and notice_end >= on:
        found.append(Deadline("notice", str(_l("The public notice ends")), notice_end, pending or 0))
    return sorted(found, key=lambda d: d.due)


def open_duplicate_flags(campaign: Campaign) -> int:
    """Pairs of cases of one unit with very similar titles that nobody has decided on (cases in progress)."""
    previous = db.session.scalar(select(Campaign.id).where(Campaign.year == campaign.year - 1))
    ids = [campaign.id] + ([previous] if previous is not None else [])
    rows = db.session.execute(
        select(Case.id, Case.unit_id, Case.title, Case.campaign_id, Case.state).where(
            Case.campaign_id.in_(ids), Case.state != INITIAL_STATE
        )
    ).all()
    by_unit: dict[int, list] = defaultdict(list)
    for row in rows:
        by_unit[row.unit_id].append(row)
    decided = {
        (low, high)
        for low, high in db.session.execute(select(DuplicateDecision.case_id, DuplicateDecision.other_case_id))
    }
    pairs = set()
    for group in by_unit.values():
        if len(group) < 2:
            continue
        simple = {r.id: "".join(ch for ch in (r.title or "").lower() if ch.isalnum()) for r in group}
        for a in group:
            if a.campaign_id != campaign.id or a.state not in ACTIVE_STATES or not simple[a.id]:
                continue
            for b in group:
                if b.id == a.id or not simple[b.id]:
                    continue
                pair = (min(a.id, b.id), max(a.id, b.id))
                if pair in pairs or pair in decided:
                    continue
                if SequenceMatcher(None, simple[a.id], simple[b.id]).ratio() >= SIMILAR_TITLE:
                    pairs.add(pair)
    return len(pairs)


def ballot_warnings(campaign: Campaign) -> tuple[int, list[tuple[str, int]]]:
    """The valid ballots and each integrity rule that flags many of them: (rule label, ballots flagged)."""
    if campaign.vote_status == VOTE_NOT_OPEN:
        return 0, []
    total = db.session.scalar(
        select(func.count())
        .select_from(Ballot)
        .where(Ballot.campaign_id == campaign.id, Ballot.invalidated_at.is_(None))
    )
    if not total:
        return 0, []
    from voting.integrity import RULES, detect

    flagged = detect(campaign)
    many = [
        (str(RULES[name].title), len(flags))
        for name, flags in flagged.items()
        if len(flags) >= MANY_BALLOTS and len(flags) >= FLAGGED_SHARE * total
    ]
    return total, many


def campaign_home(actor: User, campaign_id: int | None = None) -> Home:
    require_staff(actor)
    campaigns, campaign = chosen_campaign(campaign_id)
    on = today()
    counts = state_counts(campaign)
    todo = []
    for worklist in worklists_for(actor):
        query = worklist_query(worklist.name, actor, campaign.id).order_by(None).subquery()
        n = db.session.scalar(select(func.count()).select_from(query)) or 0
        if n:
            todo.append((worklist, n))
    home = Home(
        campaign=campaign,
        campaigns=campaigns,
        today=on,
        phases=phases(campaign, counts, on),
        counts=[(state.name, counts.get(state.name, 0)) for state in STATES],
        total=sum(counts.values()),
        todo=todo,
        deadlines=deadlines(campaign, on),
    )
    duplicates = open_duplicate_flags(campaign)
    if duplicates:
        home.warnings.append(
            ngettext(
                "%(num)d likely duplicate pair is not decided yet (eligibility check).",
                "%(num)d likely duplicate pairs are not decided yet (eligibility check).",
                duplicates,
            )
        )
    home.ballots, many = ballot_warnings(campaign)
    for label, n in many:
        home.warnings.append(
            str(_l("The rule “%(rule)s” flags %(n)d of %(total)d valid ballots.", rule=label, n=n, total=home.ballots))
        )
    return home
