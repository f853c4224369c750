"""Detection rules for ballot stuffing, each explained, and surgical invalidation by rule.

Every rule has a name, a title and a description in both languages, parameters an organizer may change per
campaign (``Campaign.vote_rule_settings``: ``{rule: {parameter: value}}``), and returns the ballots it flags
with a reason per ballot, written from the evidence stored with each ballot (voting.evidence). An organizer
selects ballots by rule or rule combination — ``"network_24,burst+single_purpose"`` means flagged by
network_24, or by both burst and single_purpose — reads the preview (per case: counts and ranks before and
after, and how many selected ballots look honest by the other signals), then invalidates with a reason
through voting.ballots.invalidate (audited, never deleted, recount-verified).
"""

from __future__ import annotations

import bisect
import json
import math
import statistics
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from accounts.models import User
from accounts.permissions import require_staff
from campaigns.models import Campaign
from cases.models import Case
from pingxuan.errors import Conflict, Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from voting.ballots import invalidate
from voting.evidence import VIRTUAL
from voting.models import Ballot, BallotAudit

# Facts --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """One valid ballot's evidence, as the rules read it."""

    id: int
    case_id: int
    category_id: int
    voter_id: int
    created_at: datetime
    subnet: str
    network: str
    automated: bool
    seconds_since_verified: int | None
    phone_class: str


@dataclass
class Ballots:
    """The valid ballots of one campaign with the per-voter and per-case aggregates the rules share."""

    items: list[Facts]
    voter_ballots: Counter = field(default_factory=Counter)
    by_case: dict[int, list[Facts]] = field(default_factory=dict)
    case_category: dict[int, int] = field(default_factory=dict)
    by_voter: dict[int, list[Facts]] = field(default_factory=dict)  # each voter's ballots, oldest first
    memo: dict = field(default_factory=dict)  # what several rules and previews of one evaluation share

    @property
    def by_id(self) -> dict[int, Facts]:
        if "by_id" not in self.memo:
            self.memo["by_id"] = {b.id: b for b in self.items}
        return self.memo["by_id"]

    def __post_init__(self) -> None:
        by_case: dict[int, list[Facts]] = defaultdict(list)
        by_voter: dict[int, list[Facts]] = defaultdict(list)
        for b in self.items:
            self.voter_ballots[b.voter_id] += 1
            by_case[b.case_id].append(b)
            by_voter[b.voter_id].append(b)
            self.case_category[b.case_id] = b.category_id
        self.by_case = dict(by_case)
        self.by_voter = dict(by_voter)

    def fresh(self, b: Facts, seconds: float) -> bool:
        """Verified moments before this ballot and never voted again."""
        return (
            b.seconds_since_verified is not None
            and b.seconds_since_verified <= seconds
            and self.voter_ballots[b.voter_id] == 1
        )


def load_ballots(campaign_id: int) -> Ballots:
    rows = db.session.execute(
        select(
            Ballot.id, Ballot.case_id, Ballot.category_id, Ballot.voter_id, Ballot.created_at, Ballot.subnet_hash,
            Ballot.network_hash, Ballot.automated, Ballot.seconds_since_verified, Ballot.phone_class,
        )
        .where(Ballot.campaign_id == campaign_id, Ballot.invalidated_at.is_(None))
        .order_by(Ballot.created_at, Ballot.id)
    ).all()  # fmt: skip
    return Ballots([Facts(*row) for row in rows])


# Rules --------------------------------------------------------------------------------------------------------

Flags = dict[int, str]  # ballot id -> why this rule flags it


@dataclass(frozen=True)
class Rule:
    name: str
    title: object  # lazy strings: rendered in the reader's language
    description: object
    defaults: dict[str, float]
    detect: Callable[[Ballots, dict[str, float]], Flags]
    voter_wide: bool = False  # flags all of a voter's ballots: scoping to a case keeps the voter's other ones
    window: bool = False  # flags every ballot of a time window: no evidence against one ballot ("look honest")


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.0f} %" if total else "0 %"


def _concentration(ballots: Ballots, p: dict[str, float], key: str, label: str) -> Flags:
    """Networks whose ballots in a category went overwhelmingly to one case, far above that case's share of the
    category: honest offices and carriers spread their votes like everyone else, a farm does not."""
    in_category: Counter = Counter()
    per_case: Counter = Counter()
    case_total: Counter = Counter()
    category_total: Counter = Counter()
    for b in ballots.items:
        net = getattr(b, key)
        in_category[(net, b.category_id)] += 1
        per_case[(net, b.case_id)] += 1
        case_total[b.case_id] += 1
        category_total[b.category_id] += 1
    crowded: dict[tuple[str, int], str] = {}
    for (net, case_id), n in per_case.items():
        category = ballots.case_category[case_id]
        of_network = in_category[(net, category)]
        fraction = n / of_network
        rest = category_total[category] - of_network  # the baseline leaves the network itself out
        baseline = (case_total[case_id] - n) / rest if rest else 0.0
        if n >= p["min_votes"] and fraction >= p["concentration"] and fraction - baseline >= p["margin"]:
            crowded[(net, case_id)] = _(
                "%(label)s network %(net)s: %(n)d of its %(total)d ballots in this category (%(share)s) went to "
                "this case, which has %(baseline)s of the category's other ballots",
                label=label, net=net[:8], n=n, total=of_network, share=_share(n, of_network),
                baseline=f"{100 * baseline:.0f} %",
            )  # fmt: skip
    keyed = ((b, (getattr(b, key), b.case_id)) for b in ballots.items)
    return {b.id: crowded[k] for b, k in keyed if k in crowded}


def network_24(ballots: Ballots, p: dict[str, float]) -> Flags:
    return _concentration(ballots, p, "subnet", "/24")


def network_16(ballots: Ballots, p: dict[str, float]) -> Flags:
    return _concentration(ballots, p, "network", "/16")


def _minute(b: Facts) -> int:
    return int(b.created_at.timestamp() // 60)


def _burst_minutes(items: list[Facts], p: dict[str, float]) -> dict[int, str]:
    """Minutes of one case far above its own rolling median, measured in MADs (robust to earlier bursts)."""
    per_minute = Counter(_minute(b) for b in items)
    if not per_minute:
        return {}
    first, window = min(per_minute), int(p["window_minutes"])
    bursts: dict[int, str] = {}
    recent: list[int] = []  # the counts of the window before the current minute, sorted
    for minute in range(first, max(per_minute) + 1):
        n = per_minute.get(minute, 0)
        if n >= p["min_votes"] and recent:
            median = statistics.median(recent)
            mad = statistics.median(abs(x - median) for x in recent)
            spread = max(1.4826 * mad, p["min_spread"])
            if n > median + p["mads"] * spread:
                bursts[minute] = _(
                    "%(n)d ballots in one minute against a median of %(median)s (spread %(spread)s) in the %(window)d "
                    "minutes before",
                    n=n, median=f"{median:g}", spread=f"{spread:.1f}", window=window,
                )  # fmt: skip
        bisect.insort(recent, n)
        if minute - first >= window:
            recent.remove(per_minute.get(minute - window, 0))
    return bursts


def burst(ballots: Ballots, p: dict[str, float]) -> Flags:
    flags: Flags = {}
    for items in ballots.by_case.values():
        bursts = _burst_minutes(items, p)
        flags.update({b.id: bursts[_minute(b)] for b in items if _minute(b) in bursts})
    return flags


def fresh_voter(ballots: Ballots, p: dict[str, float]) -> Flags:
    reason = _("verified %(s)d seconds before this ballot and never voted again")
    return {b.id: reason % {"s": b.seconds_since_verified} for b in ballots.items if ballots.fresh(b, p["seconds"])}


def automation(ballots: Ballots, p: dict[str, float]) -> Flags:
    reason = _("the browser announced itself as headless or automated")
    return {b.id: reason for b in ballots.items if b.automated}


def virtual_numbers(ballots: Ballots, p: dict[str, float]) -> Flags:
    """A case whose ballots come from virtual-operator numbers far more often than the campaign's do: over the
    whole case, or within a window of ``window_minutes`` (at 50,000 voters a few hundred such ballots in three
    hours are a small share of a case's day, yet most of its hour).

    Within a window the case's n ballots hold v from such numbers, where the campaign's share q (of the day, or
    of the other cases' ballots of the same window, whichever is higher: an hour when many honest voters use
    such numbers lifts every case alike) predicts n·q, give or take √(n·q·(1−q)).
    """
    total = len(ballots.items) or 1
    baseline = sum(b.phone_class == VIRTUAL for b in ballots.items) / total
    width = p["window_minutes"] * 60
    every = [b.created_at.timestamp() for b in ballots.items]  # oldest first, as loaded
    every_virtual = [b.created_at.timestamp() for b in ballots.items if b.phone_class == VIRTUAL]
    flags: Flags = {}
    for items in ballots.by_case.values():
        virtual = [b for b in items if b.phone_class == VIRTUAL]
        share = len(virtual) / len(items)
        if len(virtual) >= p["min_votes"] and share >= p["share"] and share >= p["lift"] * baseline:
            reason = _(
                "virtual-operator number; %(share)s of this case's ballots come from such numbers against %(base)s "
                "campaign-wide",
                share=_share(len(virtual), len(items)), base=f"{100 * baseline:.1f} %",
            )  # fmt: skip
            flags.update({b.id: reason for b in virtual})
            continue
        times = [b.created_at.timestamp() for b in items]
        moments = [b.created_at.timestamp() for b in virtual]
        spans: list[list] = []  # [start, end, v, n, q] of the first window that stood out, merged
        for i, start in enumerate(moments):
            end = start + width
            v = bisect.bisect_right(moments, end) - i
            if v < p["min_votes"]:
                continue
            n = bisect.bisect_right(times, end) - bisect.bisect_left(times, start)
            rest = bisect.bisect_right(every, end) - bisect.bisect_left(every, start) - n
            rest_virtual = bisect.bisect_right(every_virtual, end) - bisect.bisect_left(every_virtual, start) - v
            q = max(baseline, rest_virtual / rest if rest else 0.0)
            if v >= p["lift"] * n * q and v - n * q >= p["z"] * max(n * q * (1 - q), 1.0) ** 0.5:
                if spans and start <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], moments[bisect.bisect_right(moments, end) - 1])
                else:
                    spans.append([start, moments[bisect.bisect_right(moments, end) - 1], v, n, q])
        for a, b_end, v, n, q in spans:
            reason = _(
                "virtual-operator number; %(v)d of this case's %(n)d ballots within %(w)d minutes came from such "
                "numbers, against %(base)s campaign-wide",
                v=v, n=n, w=int(p["window_minutes"]), base=f"{100 * q:.1f} %",
            )  # fmt: skip
            flags.update({b.id: reason for b, t in zip(virtual, moments, strict=True) if a <= t <= b_end})
    return flags


def single_purpose(ballots: Ballots, p: dict[str, float]) -> Flags:
    """Voters who voted once, for one case, inside a burst of that case."""
    flags: Flags = {}
    for items in ballots.by_case.values():
        bursts = _burst_minutes(items, p)
        for b in items:
            if _minute(b) in bursts and ballots.voter_ballots[b.voter_id] == 1:
                flags[b.id] = _("the voter's only ballot, cast inside a burst of this case")
    return flags


def slow_drip(ballots: Ballots, p: dict[str, float]) -> Flags:
    """Hours after hours where much of a case's ballots are fresh voters from a few networks that keep sending
    them: stuffing kept under every rate limit. A network "keeps sending" when it brought this case fresh
    voters in at least ``hours`` different hours (a household or an office does not, hour after hour)."""
    flags: Flags = {}
    for items in ballots.by_case.values():
        fresh = [b for b in items if ballots.fresh(b, p["seconds"])]
        hours_of: dict[str, set[int]] = defaultdict(set)
        for b in fresh:
            hours_of[b.subnet].add(_minute(b) // 60)
        steady = sorted((n for n, h in hours_of.items() if len(h) >= p["hours"]), key=lambda n: -len(hours_of[n]))
        steady_set = set(steady[: int(p["networks"])])
        if not steady_set:
            continue
        per_hour: dict[int, list[Facts]] = defaultdict(list)
        for b in items:
            per_hour[_minute(b) // 60].append(b)
        high: dict[int, list[Facts]] = {}
        for hour, hour_items in per_hour.items():
            dripping = [b for b in hour_items if b.subnet in steady_set and ballots.fresh(b, p["seconds"])]
            if len(dripping) >= p["min_per_hour"] and len(dripping) / len(hour_items) >= p["share"]:
                high[hour] = dripping
        run: list[int] = []
        for hour in [*sorted(high), None]:
            if hour is not None and (not run or hour <= run[-1] + 1 + p["gap_hours"]):
                run.append(hour)
                continue
            if run and run[-1] - run[0] + 1 >= p["hours"]:
                reason = _(
                    "fresh voter from one of a few networks that brought most of this case's ballots for %(n)d "
                    "hours in a row",
                    n=run[-1] - run[0] + 1,
                )
                flags.update({b.id: reason for h in run for b in high[h]})
            run = [hour] if hour is not None else []
    return flags


# Coordinated voting: judged per case against its own category, so a popular case at a busy hour is not a signal
# (campaign-wide ``burst`` is), while a few hundred voters who arrive together for one mid-table case are.


def _excess(observed: float, expected: float, p: dict[str, float], least: str) -> bool:
    """A count that stands out against its expectation: enough of it, a multiple of it, and beyond chance (a
    Poisson count's spread is the square root of its mean)."""
    return (
        observed >= p[least]
        and observed >= p["lift"] * expected
        and observed - expected >= p["z"] * max(expected, 1.0) ** 0.5
    )


def _outnumbers(observed: int, in_category: int, share: float, p: dict[str, float]) -> tuple[bool, float]:
    """Whether a case's ``observed`` voters among its category's ``in_category`` voters of a window stand out
    against the case's ``share`` of the category outside the window, and how many the rest of the window's
    voters predict (the expected E the page shows: the others times the case's odds).

    Enough of them and a multiple of E, as in _excess; and beyond chance judged as a share of the window's
    voters: a case with share s gets N·s of N voters, give or take √(N·s·(1−s)) (a binomial count). Judged
    against E alone, a small window's few other voters make E itself a guess, and a popular case's lucky hour
    (15 of 24 voters where a third is usual) passed; the more voters a campaign has, the more such hours.
    """
    if share >= 1:
        return False, float(in_category)
    expected = (in_category - observed) * share / (1 - share)
    mean = in_category * share
    return (
        observed >= p["min_voters"]
        and observed >= p["lift"] * expected
        and observed - mean >= p["z"] * max(mean * (1 - share), 1.0) ** 0.5
    ), expected


@dataclass
class Group:
    """Voters who verified within a window of each other and voted the same case first, more of them than the
    category's traffic of that window predicts."""

    case_id: int
    voters: set[int]
    expected: float  # honest voters of the same shape the category's baseline expects among the voters struck
    ballots_per_voter: float
    spared: set[int] = field(default_factory=set)  # the window's voters of kinds its honest voters explain
    outstanding: list[list[float]] = field(default_factory=list)  # its outstanding hours, for the baseline

    @property
    def expected_ballots(self) -> float:
        return self.expected * self.ballots_per_voter


def coordinated_groups(ballots: Ballots, p: dict[str, float]) -> dict[int, Group]:
    """Per case, the voters of its outstanding windows.

    A candidate is a voter whose first ballot came at most ``seconds`` after verifying; its moment is the
    verification, its shape (with ``alike``) the number of its ballots (6 or more counting as 6), the number of
    categories they fall in (4 or more as 4) and whether they were cast in one sitting (``sitting_minutes``
    from the first), since a script's voters vote alike: honest voters of the same hour who voted the case
    first but more or fewer ballots, in other categories or over the day, are not compared with the group and
    not struck with it. For each case and shape, a window of ``window_minutes`` over the candidates' moments
    holds O voters who voted this case first, of the category's N candidates of that shape in the window; the
    case's share s of the category's first votes outside the window predicts N·s (the page shows the E the
    window's other voters predict). The share is measured twice, the second time without the voters the first
    pass found, so an attack spread over hours does not raise its own baseline, and without other cases' groups
    in N (an attack inside another's hours in one category is not honest traffic); the passes go on until the
    groups stand still. Each group then spares its voters of the kinds honest traffic accounts for (_spare).
    """
    key = ("coordinated", tuple(sorted(p.items())))
    if key not in ballots.memo:
        ballots.memo[key] = _coordinated_groups(ballots, p)
    return ballots.memo[key]


Shape = tuple[int, int, bool]  # ballots, categories, one sitting
PASSES = 4  # the first finds the groups; the next judge each case without the others' groups, until they settle


def _coordinated_groups(ballots: Ballots, p: dict[str, float]) -> dict[int, Group]:
    seconds, width, sitting = p["seconds"], p["window_minutes"] * 60, p["sitting_minutes"] * 60
    candidates: list[tuple[float, int, int, int, Shape]] = []  # (verified, voter, case, category, shape)
    for voter, items in ballots.by_voter.items():
        first = items[0]
        if first.seconds_since_verified is None or not 0 <= first.seconds_since_verified <= seconds:
            continue
        one_sitting = (items[-1].created_at - first.created_at).total_seconds() <= sitting
        categories = len({b.category_id for b in items})
        shape = (min(len(items), 6), min(categories, 2), one_sitting) if p["alike"] else (0, 0, True)
        moment = first.created_at.timestamp() - first.seconds_since_verified
        candidates.append((moment, voter, first.case_id, first.category_id, shape))
    candidates.sort()
    by_case: dict[tuple[int, Shape], list[tuple[float, int]]] = defaultdict(list)
    by_category: dict[tuple[int, Shape], list[tuple[float, int]]] = defaultdict(list)
    kind = _evidence_kinds(ballots)
    for moment, voter, case_id, category, shape in candidates:
        by_case[(case_id, shape)].append((moment, voter))
        by_category[(category, shape)].append((moment, voter))
    found: dict[int, Group] = {}
    before: dict[int, frozenset[int]] | None = None
    for _pass in range(PASSES):  # until the groups stand still: each pass judges by the groups of the one before
        now = {case_id: frozenset(g.voters) for case_id, g in found.items() if g.voters}
        if now == before:
            break
        before = now
        flagged = {v for g in found.values() for v in g.voters}
        grouped = {v: g.case_id for g in found.values() for v in g.voters}
        # a case's share is measured outside its outstanding hours too, not only without its group: a group found
        # in part (another attack of the category in its hours cut it) would otherwise raise its own baseline
        hours = {case_id: g.outstanding for case_id, g in found.items()}
        case_first: dict[int, list[float]] = defaultdict(list)  # the baseline's first votes, every shape
        category_first: dict[int, list[float]] = defaultdict(list)
        for moment, voter, case_id, category, _shape in candidates:
            if voter not in flagged:
                case_first[case_id].append(moment)
                category_first[category].append(moment)
        found = {}
        for (case_id, shape), points in by_case.items():
            category = ballots.case_category[case_id]
            mine, theirs = case_first[case_id], category_first[category]
            moments = [m for m, _v in points]
            case_voters = {v for _m, v in points}
            # the category's voters of this shape, but for another case's group: a script's voters are not the
            # honest traffic this case is judged against (two attacks in one category, one inside the other's hours)
            traffic = by_category[(category, shape)]
            if grouped:
                traffic = [(m, v) for m, v in traffic if grouped.get(v, case_id) == case_id]
            others = [m for m, _v in traffic]
            own_hours = hours.get(case_id, [])
            spans: list[list[float]] = []
            shares: list[float] = []
            for i, start in enumerate(moments):
                end = start + width
                j = bisect.bisect_right(moments, end)
                in_category = bisect.bisect_right(others, end) - bisect.bisect_left(others, start)
                # the case's share of its category's first votes outside this window: a group does not raise
                # its own baseline
                away = _union([[start, end], *own_hours]) if own_hours else [[start, end]]
                rest_mine = len(mine) - _within(mine, away)
                rest_theirs = len(theirs) - _within(theirs, away)
                share = rest_mine / rest_theirs if rest_theirs > 0 else 1.0
                # the honest voters of this case the rest of the category's voters of this window predict
                if _outnumbers(j - i, in_category, share, p)[0]:
                    shares.append(share)
                    if spans and start <= spans[-1][1]:
                        spans[-1][1] = max(spans[-1][1], moments[j - 1])
                    else:
                        spans.append([start, moments[j - 1]])
            share = statistics.mean(shares) if shares else 0.0
            if not spans:
                continue
            joined: list[list[float]] = []  # a group spread over hours may pass window by window: one span
            for a, b in spans:
                if joined and a - joined[-1][1] <= width:
                    joined[-1][1] = b
                else:
                    joined.append([a, b])
            spans = [_densest(moments, others, a, b, share, p["lift"]) for a, b in joined]
            voters = {v for m, v in points if any(a <= m <= b for a, b in spans)}
            # the case's share among the category's voters of this shape away from its hours (voters who cast three
            # ballots in one category pick a mid-table case first more often than voters of one ballot do), drawn
            # towards the share of every shape by SHAPE_PRIOR voters' worth where the shape has few
            away = _union(joined + [list(h) for h in own_hours])
            alike = [v for m, v in traffic if v not in flagged and not any(a <= m <= b for a, b in away)]
            own = sum(v in case_voters for v in alike)
            shape_share = (own + SHAPE_PRIOR * share) / (len(alike) + SHAPE_PRIOR)
            voters, spared, expected = _spare(voters, spans, kind, traffic, max(share, shape_share), p)
            group = found.setdefault(case_id, Group(case_id, set(), 0.0, 0.0))
            group.spared |= spared
            group.outstanding = _union(group.outstanding + joined)
            if not voters:
                continue
            per_voter = statistics.mean(ballots.voter_ballots[v] for v in voters)
            total = len(group.voters) + len(voters)
            group.ballots_per_voter = (group.ballots_per_voter * len(group.voters) + per_voter * len(voters)) / total
            group.voters |= voters
            group.expected += expected
    found = {case_id: g for case_id, g in found.items() if g.voters}
    return found


SHAPE_PRIOR = 20  # how many voters of a shape its share needs before it counts more than the share of every shape
KIND_CHANCE = 0.001  # a kind of a group's voters is spared when honest traffic reaches its count this often


def _poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for a Poisson count X of this mean."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    below = sum(math.exp(i * math.log(mean) - mean - math.lgamma(i + 1)) for i in range(k))
    return max(0.0, 1.0 - below)


def _union(spans: list[list[float]]) -> list[list[float]]:
    joined: list[list[float]] = []
    for a, b in sorted(spans):
        if joined and a <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], b)
        else:
            joined.append([a, b])
    return joined


def _within(moments: list[float], spans: list[list[float]]) -> int:
    """How many of the sorted ``moments`` fall in the disjoint ``spans``."""
    return sum(bisect.bisect_right(moments, b) - bisect.bisect_left(moments, a) for a, b in spans)


Kind = tuple[bool, int]  # the voter's /24 carried other voters' ballots; how soon after verifying it voted


def _evidence_kinds(ballots: Ballots) -> dict[int, Kind]:
    """Each voter's kind, from its first ballot: whether its /24 (IPv6 /64) carried other voters' ballots too (an
    office's NAT, a carrier's CGNAT) and how soon after verifying it voted (under a minute, under three, later)."""
    sharing: dict[str, set[int]] = defaultdict(set)
    for b in ballots.items:
        if b.subnet:
            sharing[b.subnet].add(b.voter_id)
    kinds: dict[int, Kind] = {}
    for voter, items in ballots.by_voter.items():
        first = items[0]
        seconds = first.seconds_since_verified if first.seconds_since_verified is not None else 10**9
        kinds[voter] = (len(sharing.get(first.subnet, ())) > 1, (seconds >= 60) + (seconds >= 180))
    return kinds


def _spare(
    voters: set[int], spans: list[list[float]], kind: dict[int, Kind], traffic: list[tuple[float, int]],
    share: float, p: dict[str, float],
) -> tuple[set[int], set[int], float]:  # fmt: skip
    """The group split by its voters' kind: a kind whose voters the category's other voters of that kind and
    shape in the group's spans account for is spared, since its voters come as the honest voters of those hours
    do (the category's offices voting over lunch while a script's proxies vote too): no more than ``lift`` times
    the E they predict at the case's share, or a count honest traffic reaches by chance once in KIND_CHANCE⁻¹
    (Poisson). The other kinds are the group's.

    The group as a whole has already stood out, so a kind is not asked to stand out on its own beyond z (a small
    attack spread evenly over the kinds would slip through); it is spared only when honest traffic accounts for
    it. A kind an attack fills is not accounted for (a script whose voters all sit behind CGNAT is struck whole),
    so imitation hides at most a few times the honest voters a kind expects. Returns the voters struck, those
    spared and the honest voters expected among the struck."""
    members: dict[Kind, set[int]] = defaultdict(set)
    for v in voters:
        members[kind[v]].add(v)
    by_kind: dict[Kind, list[float]] = defaultdict(list)  # the category's voters of the group's shape, per kind
    for m, v in traffic:
        by_kind[kind[v]].append(m)
    struck: set[int] = set()
    spared: set[int] = set()
    left = 0.0
    for k, chosen in members.items():
        others = by_kind[k]
        in_category = _within(others, spans)
        expected = (in_category - len(chosen)) * share / (1 - share) if share < 1 else float(in_category)
        if len(chosen) > p["lift"] * expected and _poisson_tail(len(chosen), expected) < KIND_CHANCE:
            struck |= chosen
            left += min(expected, len(chosen))
        else:
            spared |= chosen
    return struck, spared, left


def _densest(
    moments: list[float], others: list[float], a: float, b: float, share: float, lift: float = 3.0
) -> list[float]:
    """The part of a flagged span [a, b] where the case's voters stand out most against what the category's
    voters of the same shape predict there (Kulldorff's scan statistic: O·ln(O/E) − (O − E), largest): a window
    that flags a group also reaches up to a window's width before and after it, where only honest voters are;
    the more voters a campaign has, the more of them that overhang strikes."""
    lo, hi = bisect.bisect_left(moments, a), bisect.bisect_right(moments, b)
    inside = moments[lo:hi]
    if share >= 1 or len(inside) < 2:
        return [a, b]
    ratio = share / (1 - share)
    best, found = -1.0, (a, b)
    for i, start in enumerate(inside):
        before = bisect.bisect_left(others, start)
        for j in range(i, len(inside)):
            end = inside[j]
            observed = j - i + 1
            expected = max((bisect.bisect_right(others, end) - before - observed) * ratio, 0.5)
            if observed <= expected:
                continue
            score = observed * math.log(observed / expected) - (observed - expected)
            if score > best:
                best, found = score, (start, end)
    # The densest part of a strong group is its core: the score prefers it to the group's thinner edges (18
    # voters in its last minutes where 1.3 were expected) once the core outnumbers its expectation sixty-fold.
    # The group runs on as long as its voters beyond the core still outnumber what the category's voters there
    # predict ``lift`` times over; honest voters of the hour around it do not (they come at the case's share).
    start, end = found
    start, end = (
        _extend(inside, others, start, end, ratio, lift, -1),
        _extend(inside, others, start, end, ratio, lift, 1),
    )
    # the group's own pace: its first and last voters lie within a few of its gaps of the part found
    gap = 10 * (end - start) / max(bisect.bisect_right(moments, end) - bisect.bisect_left(moments, start) - 1, 1)
    return [max(a, start - gap), min(b, end + gap)]


def _extend(
    inside: list[float], others: list[float], start: float, end: float, ratio: float, lift: float, way: int
) -> float:
    """The edge of [start, end] moved outward (``way`` -1: earlier, 1: later) to the case's voter up to which
    those beyond the edge (at least 3) most exceed ``lift`` times what the category's other voters there predict:
    the group's thinner edge adds voters far faster than its expectation, the honest voters after it do not."""
    if way > 0:
        beyond = inside[bisect.bisect_right(inside, end) :]
        category = [bisect.bisect_right(others, m) - bisect.bisect_right(others, end) for m in beyond]
    else:
        beyond = inside[: bisect.bisect_left(inside, start)][::-1]
        category = [bisect.bisect_left(others, start) - bisect.bisect_left(others, m) for m in beyond]
    found, best = (end if way > 0 else start), 0.0
    for n, (moment, in_category) in enumerate(zip(beyond, category, strict=True), start=1):
        expected = max(in_category - n, 0) * ratio  # the category's other voters between the edge and here
        excess = n - lift * max(expected, 1.0)  # grows while the voters beyond come at over lift times the rate
        if n >= 3 and excess > best:
            found, best = moment, excess
    return found


def coordinated(ballots: Ballots, p: dict[str, float]) -> Flags:
    flags: Flags = {}
    for group in coordinated_groups(ballots, p).values():
        reason = _(
            "one of %(n)d voters who verified within %(w)d minutes of each other and voted this case first "
            "(case %(case)d), against %(e)s expected from its category",
            n=len(group.voters), w=int(p["window_minutes"]), case=group.case_id, e=f"{group.expected:.1f}",
        )  # fmt: skip
        flags.update({b.id: reason for v in group.voters for b in ballots.by_voter[v]})
    return flags


def case_burst(ballots: Ballots, p: dict[str, float]) -> Flags:
    """A case's ballots of a window far above what the rest of its category's ballots of that window predict
    (the case's share of the category outside the window): a busy hour lifts every case of a category alike."""
    width = p["window_minutes"] * 60
    category_times: dict[int, list[float]] = defaultdict(list)
    for b in ballots.items:
        category_times[b.category_id].append(b.created_at.timestamp())
    flags: Flags = {}
    for case_id, items in ballots.by_case.items():
        everyone = category_times[ballots.case_category[case_id]]
        times = [b.created_at.timestamp() for b in items]
        spans: list[list] = []  # [start, end, observed, expected] of the strongest window, merged
        for i, start in enumerate(times):
            j = bisect.bisect_right(times, start + width)
            observed = j - i
            in_category = bisect.bisect_right(everyone, start + width) - bisect.bisect_left(everyone, start)
            rest_case, rest_category = len(times) - observed, len(everyone) - in_category
            share = rest_case / rest_category if rest_category else 0.0
            expected = (in_category - observed) * share / (1 - share) if share < 1 else float(in_category)
            if _excess(observed, expected, p, "min_votes"):
                if spans and start <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], times[j - 1])
                    if observed > spans[-1][2]:
                        spans[-1][2:] = [observed, expected]
                else:
                    spans.append([start, times[j - 1], observed, expected])
        if not spans:
            continue
        starts = [s[0] for s in spans]
        for b, t in zip(items, times, strict=True):
            k = bisect.bisect_right(starts, t) - 1
            if k >= 0 and t <= spans[k][1]:
                flags[b.id] = _(
                    "%(n)d ballots within %(w)d minutes where the rest of the category predicts %(e)s",
                    n=spans[k][2], w=int(p["window_minutes"]), e=f"{spans[k][3]:.1f}",
                )  # fmt: skip
    return flags


def camouflage(ballots: Ballots, p: dict[str, float]) -> Flags:
    """Voters who came fresh, voted this case first and then spread ``others`` or more votes over other cases in
    the same sitting (votes that hide the one that matters), where such voters are far more common among this
    case's first voters than among the rest of its category's."""
    sitting = p["sitting_minutes"] * 60
    thin: dict[int, list[int]] = defaultdict(list)  # case -> voters
    first_voters: Counter = Counter()
    for voter, items in ballots.by_voter.items():
        first = items[0]
        if first.seconds_since_verified is None or first.seconds_since_verified > p["seconds"]:
            continue
        first_voters[first.case_id] += 1
        rest = items[1:]
        if (
            len({b.case_id for b in rest}) >= p["others"]
            and (rest[-1].created_at - first.created_at).total_seconds() <= sitting
        ):
            thin[first.case_id].append(voter)
    category_thin: Counter = Counter()
    category_first: Counter = Counter()
    for case_id, n in first_voters.items():
        category_first[ballots.case_category[case_id]] += n
        category_thin[ballots.case_category[case_id]] += len(thin.get(case_id, ()))
    flags: Flags = {}
    for case_id, voters in thin.items():
        category = ballots.case_category[case_id]
        rest_first = category_first[category] - first_voters[case_id]
        rate = (category_thin[category] - len(voters)) / rest_first if rest_first else 0.0
        expected = first_voters[case_id] * rate
        if _excess(len(voters), expected, p, "min_voters"):
            reason = _(
                "%(n)d of this case's %(first)d first voters spread other votes in the same sitting, against "
                "%(e)s expected from its category",
                n=len(voters), first=first_voters[case_id], e=f"{expected:.1f}",
            )  # fmt: skip
            flags.update({b.id: reason for v in voters for b in ballots.by_voter[v]})
    return flags


BURST_DEFAULTS = {"window_minutes": 60, "mads": 8, "min_spread": 1.0, "min_votes": 8}
RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "network_24", _l("Crowded /24 network"),
            _l("A /24 network (IPv6 /64) whose ballots in a category went mostly to one case, far above that case's "
               "share of the category's other ballots."),
            {"min_votes": 10, "concentration": 0.6, "margin": 0.35}, network_24,
        ),
        Rule(
            "network_16", _l("Crowded /16 network"),
            _l("The same at /16 (IPv6 /48): a farm spread over many /24 networks of one provider."),
            {"min_votes": 25, "concentration": 0.6, "margin": 0.35}, network_16,
        ),
        Rule(
            "burst", _l("Burst"),
            _l("Ballots of a minute far above the case's rolling median of the hour before, measured in median "
               "absolute deviations."),
            BURST_DEFAULTS, burst,
        ),
        Rule(
            "fresh_voter", _l("Fresh voter"),
            _l("The voter verified a number seconds before this ballot and never voted again."),
            {"seconds": 120}, fresh_voter,
        ),
        Rule(
            "automation", _l("Automated browser"),
            _l("The user agent names a headless browser, an automation driver or an HTTP library, or is missing."),
            {}, automation,
        ),
        Rule(
            "virtual_numbers", _l("Virtual numbers"),
            _l("A case whose ballots come from virtual-operator numbers (170, 171, 162, 165, 167) far more often than "
               "the campaign's; its ballots from such numbers."),
            {"min_votes": 10, "share": 0.3, "lift": 3.0, "window_minutes": 60, "z": 5.0}, virtual_numbers,
        ),
        Rule(
            "single_purpose", _l("Single-purpose voter"),
            _l("The voter voted once, for one case, inside a burst of that case."),
            BURST_DEFAULTS, single_purpose,
        ),
        Rule(
            "slow_drip", _l("Slow drip"),
            _l("For hours in a row most of a case's ballots came from fresh voters of a few networks: stuffing kept "
               "under every rate limit."),
            {"seconds": 120, "networks": 5, "share": 0.3, "min_per_hour": 2, "hours": 3, "gap_hours": 1}, slow_drip,
        ),
        Rule(
            "coordinated", _l("Coordinated voters"),
            _l("Voters who verified within minutes of each other and voted alike (the same case first, as many "
               "ballots in as many categories, in one sitting or not), far more of them than the case's share of "
               "its category's voters of that time and shape predicts, beyond chance; all their ballots, the cover "
               "votes for other cases included. Its voters of a kind (an address shared with other voters or not, "
               "how soon after verifying they voted) that the category's other voters of that kind in those hours "
               "account for (no more than the same multiple of what they predict, or a count chance reaches once "
               "in a thousand) are left out."),
            {"seconds": 900, "window_minutes": 60, "alike": 1, "sitting_minutes": 30, "min_voters": 10, "lift": 3.0,
             "z": 5.0}, coordinated,
            voter_wide=True,
        ),
        Rule(
            "case_burst", _l("Burst within the category"),
            _l("A case's ballots of an hour far above what the other cases of its category received in that hour "
               "predict: a busy hour lifts every case alike, a campaign for one case does not."),
            {"window_minutes": 60, "min_votes": 20, "lift": 2.0, "z": 5.0}, case_burst, window=True,
        ),
        Rule(
            "camouflage", _l("Camouflage votes"),
            _l("Fresh voters who voted this case first and spread other votes in the same sitting, far more often "
               "than the first voters of the category's other cases; all their ballots."),
            {"seconds": 900, "sitting_minutes": 30, "others": 2, "min_voters": 10, "lift": 1.5, "z": 4.0},
            camouflage, voter_wide=True,
        ),
    )
}  # fmt: skip


PARAMETERS: dict[str, object] = {  # every rule parameter's label: pages show these, never the keys
    "min_votes": _l("at least this many ballots"), "concentration": _l("share going to one case"),
    "margin": _l("above the case's usual share by"), "window_minutes": _l("window (minutes)"),
    "mads": _l("deviations above the median"), "min_spread": _l("least spread"),
    "seconds": _l("seconds after verifying"), "share": _l("share"), "lift": _l("times what is expected"),
    "networks": _l("networks at most"), "min_per_hour": _l("ballots per hour at least"),
    "hours": _l("hours in a row"), "gap_hours": _l("gap allowed (hours)"),
    "alike": _l("ballot counts may differ by"), "min_voters": _l("at least this many voters"),
    "z": _l("significance (z)"), "sitting_minutes": _l("one sitting (minutes)"),
    "others": _l("other votes in the sitting at least"),
}  # fmt: skip


def rule_title(name: str) -> str:
    rule = RULES.get(name)
    return str(rule.title) if rule else name


def parameter_title(name: str) -> str:
    return str(PARAMETERS.get(name, name))


def parameters_text(values: dict[str, float]) -> str:
    """A rule's parameters in words: "at least this many ballots: 10; share going to one case: 0.6"."""
    return _("; ").join(_("%(name)s: %(value)s", name=parameter_title(k), value=f"{v:g}") for k, v in values.items())


def selection_title(selection: str | list[str] | list[frozenset[str]]) -> str:
    """A selection in words, by the rules' titles: "Burst and Fresh voter, or Crowded /24 network"."""
    parsed = bool(selection) and all(isinstance(combo, frozenset) for combo in selection)
    combos = list(selection) if parsed else parse_selection(selection)  # type: ignore[arg-type]
    terms = [_(" and ").join(rule_title(n) for n in sorted(combo)) for combo in combos]
    return _("; or ").join(terms)


def parameters(campaign: Campaign, name: str) -> dict[str, float]:
    """A rule's parameters: its defaults overridden by the campaign's settings."""
    chosen = (campaign.vote_rule_settings or {}).get(name) or {}
    return {key: float(chosen.get(key, value)) for key, value in RULES[name].defaults.items()}


def set_parameters(campaign: Campaign, actor: User, settings: dict[str, dict[str, float]]) -> None:
    """Change rule parameters of a campaign; unknown rules or parameters and non-positive values are refused."""
    require_staff(actor)
    errors: dict[str, str] = {}
    clean: dict[str, dict[str, float]] = {}
    for name, values in (settings or {}).items():
        if name not in RULES or not isinstance(values, dict):
            errors[name] = _("No such rule.")
            continue
        for key, value in values.items():
            if key not in RULES[name].defaults:
                errors[f"{name}.{key}"] = _("No such parameter.")
            elif not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                errors[f"{name}.{key}"] = _("Enter a number of at least 0.")
            else:
                clean.setdefault(name, {})[key] = float(value)
    if errors:
        raise Invalid(_("Some rule parameters are not valid."), errors)
    campaign.vote_rule_settings = {**(campaign.vote_rule_settings or {}), **clean}
    db.session.flush()


def detect(campaign: Campaign, ballots: Ballots | None = None) -> dict[str, Flags]:
    """Every rule's flags over the campaign's valid ballots."""
    ballots = ballots if ballots is not None else load_ballots(campaign.id)
    return {name: rule.detect(ballots, parameters(campaign, name)) for name, rule in RULES.items()}


# Selection ----------------------------------------------------------------------------------------------------


def parse_selection(selection: str | list[str]) -> list[frozenset[str]]:
    """``"a,b+c"`` (or ``["a", "b+c"]``): flagged by a, or by both b and c."""
    terms = selection.split(",") if isinstance(selection, str) else list(selection)
    combos = [frozenset(part.strip() for part in term.split("+") if part.strip()) for term in terms]
    combos = [c for c in combos if c]
    unknown = sorted({name for c in combos for name in c} - set(RULES))
    if not combos or unknown:
        message = _("Choose rules from: %(names)s.", names=", ".join(RULES))
        raise Invalid(message, {"rules": message})
    return combos


def selected(flags: dict[str, Flags], combos: list[frozenset[str]]) -> dict[int, list[str]]:
    """The ballots the selection picks, each with the rules (of the picked combinations) that flag it."""
    picked: dict[int, list[str]] = {}
    for combo in combos:
        ids = set.intersection(*(set(flags[name]) for name in combo))
        for ballot_id in ids:
            names = picked.setdefault(ballot_id, [])
            names.extend(sorted(combo - set(names)))
    return picked


# Report, preview, invalidation --------------------------------------------------------------------------------


@dataclass
class CaseIntegrity:
    case: Case
    total: int
    per_rule: dict[str, int]  # rule -> ballots of this case it flags
    flagged: int  # ballots flagged by at least one rule

    @property
    def evidence(self) -> float:
        return self.flagged / self.total if self.total else 0.0


class Evaluation(NamedTuple):
    """One reading of a campaign's valid ballots and every rule's flags, shared by the report and the
    recommendations of one page (at 50,000 voters a reading takes seconds)."""

    ballots: Ballots
    flags: dict[str, Flags]


def evaluate(campaign: Campaign, actor: User) -> Evaluation:
    require_staff(actor)
    return _evaluation(campaign)


_evaluations_lock = threading.Lock()
KEPT_EVALUATIONS = 2  # per application: its latest evaluations, by what they read


def _evaluation(campaign: Campaign) -> Evaluation:
    """The campaign's valid ballots and every rule's flags, computed once for the page, its previews and the
    invalidation that follows while nothing they read has changed: at 50,000 voters an evaluation takes seconds.

    Kept by the application (a database of its own) and by the campaign's ballots (how many, the newest, sums of
    their voters and cases), the newest invalidation or restoration, the rule settings and the reader's language
    (the reasons are written in it)."""
    ballots_seen = db.session.execute(
        select(func.count(), func.max(Ballot.id), func.sum(Ballot.voter_id), func.sum(Ballot.case_id)).where(
            Ballot.campaign_id == campaign.id
        )
    ).one()
    key = (
        campaign.id, *ballots_seen, db.session.scalar(select(func.max(BallotAudit.id))),
        json.dumps(campaign.vote_rule_settings or {}, sort_keys=True), str(get_locale()),
    )  # fmt: skip
    kept: OrderedDict[tuple, Evaluation] = current_app.extensions.setdefault("pingxuan.integrity", OrderedDict())
    with _evaluations_lock:
        found = kept.get(key)
        if found is not None:
            kept.move_to_end(key)
            return found
    ballots = load_ballots(campaign.id)
    found = Evaluation(ballots, detect(campaign, ballots))
    with _evaluations_lock:
        kept[key] = found
        while len(kept) > KEPT_EVALUATIONS:
            kept.popitem(last=False)
    return found


def report(campaign: Campaign, actor: User, evaluation: Evaluation | None = None) -> list[CaseIntegrity]:
    """The cases ranked by evidence (share of their ballots any rule flags), with each rule's count."""
    require_staff(actor)
    ballots, flags = evaluation or evaluate(campaign, actor)
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(ballots.by_case)))}
    rows = []
    for case_id, items in ballots.by_case.items():
        ids = {b.id for b in items}
        per_rule = {name: len(ids.intersection(f)) for name, f in flags.items()}
        any_rule = set().union(*(ids.intersection(f) for f in flags.values()))
        rows.append(CaseIntegrity(cases[case_id], len(items), per_rule, len(any_rule)))
    return sorted(rows, key=lambda r: (-r.evidence, -r.flagged, -r.total, r.case.id))


# What an organizer may select per case without reading every rule: each term names an attack shape on its own
# and strikes few honest ballots where it fires (measured by bench/vote_integrity.py).
RECOMMENDED = ("network_24", "network_16", "automation", "virtual_numbers+fresh_voter", "slow_drip", "coordinated")
RECOMMEND_MIN_BALLOTS = 10
RECOMMEND_MIN_NEW = 0.5  # a term joins a case's selection when half of what it picks there is new
RECOMMEND_MIN_SHARE = 0.05  # ... and the selection strikes this share of the case's ballots, or moves its rank,
RECOMMEND_ENOUGH = 50  # ... or this many (300 ballots of a 10,000-ballot case: 3 %)


@dataclass
class Recommendation:
    case: Case
    selection: str  # scoped to this case: preview and invalidate it with case_ids=[case.id]
    preview: Preview


def recommend(campaign: Campaign, actor: User, evaluation: Evaluation | None = None) -> list[Recommendation]:
    """For each case where the evidence concentrates, the selection scoped to that case that strikes it, with the
    preview of what it would strike; most ballots first.

    The terms of RECOMMENDED join a case's selection in order, each when it adds at least RECOMMEND_MIN_BALLOTS
    ballots of the case (a voter-wide rule's ballots count for the case the voter voted first) and half of
    what it picks there: a term that mostly repeats an earlier one would add only its own collateral. A case is
    recommended when the selection strikes at least 5 % of its ballots (or 50 of them) or changes its rank.
    A coordinated group stands on its count too since it must stand out as a share of its window's voters
    beyond chance (z 5): at 50,000 voters the 300 voters of an attack on a case with 10,000 ballots are 3 %.
    """
    require_staff(actor)
    ballots, flags = evaluation or evaluate(campaign, actor)
    facts = ballots.by_id
    terms: dict[int, list[str]] = defaultdict(list)
    taken: dict[int, set[int]] = defaultdict(set)  # case -> ballots the terms chosen so far pick
    for term in RECOMMENDED:  # a term joins a case's selection if it adds enough ballots to the earlier ones
        combo = parse_selection(term)
        voter_wide = all(RULES[name].voter_wide for name in combo[0])
        per_case: dict[int, set[int]] = defaultdict(set)
        for i in selected(flags, combo):
            per_case[ballots.by_voter[facts[i].voter_id][0].case_id if voter_wide else facts[i].case_id].add(i)
        for case_id, ids in per_case.items():
            new = len(ids - taken[case_id])
            if new >= RECOMMEND_MIN_BALLOTS and new >= RECOMMEND_MIN_NEW * len(ids):
                terms[case_id].append(term)
                taken[case_id] |= ids
    found = []
    for case_id, chosen in terms.items():
        selection = ",".join(chosen)
        shown = _preview(campaign, ballots, flags, parse_selection(selection), [case_id])
        own = next((c for c in shown.cases if c.case.id == case_id), None)
        if own is None or (
            own.selected < min(RECOMMEND_MIN_SHARE * own.before, RECOMMEND_ENOUGH) and own.rank_after == own.rank_before
        ):
            continue  # a few ballots of a case that they neither make nor move: no evidence concentrates there
        found.append(Recommendation(own.case, selection, shown))
    return sorted(found, key=lambda r: (-r.preview.total, r.case.id))


@dataclass
class CasePreview:
    case: Case
    before: int
    after: int
    rank_before: int  # within the case's category, by valid ballots
    rank_after: int
    selected: int
    look_honest: int  # selected ballots that no rule outside the selection flags and whose voter is not fresh


@dataclass
class Preview:
    selection: list[frozenset[str]]
    ballots: dict[int, list[str]]  # ballot id -> rules that select it
    cases: list[CasePreview]
    estimated_honest: float | None = None  # honest ballots expected among them, where the rules can estimate it
    spared_voters: int | None = None  # voters of the groups' windows spared as looking like the category's honest

    @property
    def total(self) -> int:
        return len(self.ballots)


def _ranks(totals: dict[int, int], category_of: dict[int, int]) -> dict[int, int]:
    ranks: dict[int, int] = {}
    by_category: dict[int, list[int]] = defaultdict(list)
    for case_id, category in category_of.items():
        by_category[category].append(case_id)
    for case_ids in by_category.values():
        ordered = sorted(case_ids, key=lambda c: -totals.get(c, 0))
        for case_id in case_ids:  # ties share the better rank
            ranks[case_id] = 1 + sum(totals.get(o, 0) > totals.get(case_id, 0) for o in ordered)
    return ranks


def preview(campaign: Campaign, actor: User, selection: str | list[str], case_ids: list[int] | None = None) -> Preview:
    """What invalidating the selection would do, per case, before anything is written."""
    require_staff(actor)
    combos = parse_selection(selection)
    ballots, flags = _evaluation(campaign)
    return _preview(campaign, ballots, flags, combos, case_ids)


def _scoped(
    ballots: Ballots, flags: dict[str, Flags], picked: dict[int, list[str]], case_ids: list[int] | None
) -> dict[int, list[str]]:
    """The picked ballots of the chosen cases; a ballot a voter-wide rule picks belongs also to the case its voter
    voted first (a coordinated voter's cover votes for other cases go with the vote for the case)."""
    if not case_ids:
        return picked
    wanted = set(case_ids)
    facts = ballots.by_id
    voter_wide = {name for name, rule in RULES.items() if rule.voter_wide}
    return {
        i: names
        for i, names in picked.items()
        if facts[i].case_id in wanted
        or (voter_wide.intersection(names) and ballots.by_voter[facts[i].voter_id][0].case_id in wanted)
    }


def _preview(
    campaign: Campaign, ballots: Ballots, flags: dict[str, Flags], combos: list[frozenset[str]],
    case_ids: list[int] | None,
) -> Preview:  # fmt: skip
    picked = _scoped(ballots, flags, selected(flags, combos), case_ids)
    facts = ballots.by_id
    chosen = {name for c in combos for name in c}
    others = [f for name, f in flags.items() if name not in chosen and not RULES[name].window]
    fresh_seconds = parameters(campaign, "fresh_voter")["seconds"]
    before = {case_id: len(items) for case_id, items in ballots.by_case.items()}
    removed = Counter(facts[i].case_id for i in picked)
    honest = Counter(
        facts[i].case_id
        for i in picked
        if not any(i in f for f in others) and not ballots.fresh(facts[i], fresh_seconds)
    )
    after = {case_id: n - removed[case_id] for case_id, n in before.items()}
    rank_before, rank_after = _ranks(before, ballots.case_category), _ranks(after, ballots.case_category)
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(removed)))}
    rows = [
        CasePreview(cases[c], before[c], after[c], rank_before[c], rank_after[c], removed[c], honest[c])
        for c in sorted(removed, key=lambda c: -removed[c])
    ]
    estimate = spared = None
    if all("coordinated" in combo for combo in combos):  # the groups' baseline says how many honest voters they hold
        groups = coordinated_groups(ballots, parameters(campaign, "coordinated"))
        scope = set(case_ids or groups)
        estimate = sum(g.expected_ballots for case_id, g in groups.items() if case_id in scope)
        spared = sum(len(g.spared) for case_id, g in groups.items() if case_id in scope)
    return Preview(combos, picked, rows, estimate, spared)


def preview_ballots(result: Preview, limit: int = 200) -> list[tuple[Ballot, list[str]]]:
    """The first ``limit`` ballots a preview holds (oldest first), each with the rules that select it: which
    ballots an invalidation would strike, for the organizer to read before striking them."""
    ids = sorted(result.ballots)[:limit]
    rows = db.session.scalars(select(Ballot).where(Ballot.id.in_(ids or [-1])).order_by(Ballot.created_at, Ballot.id))
    return [(b, result.ballots[b.id]) for b in rows]


def invalidate_selection(
    campaign: Campaign, actor: User, selection: str | list[str], reason: str, case_ids: list[int] | None = None,
    expected: int | None = None,
) -> int:  # fmt: skip
    """Invalidate what the preview showed. ``expected`` (the previewed total) guards against ballots that
    arrived or changed since: then nothing is written and the organizer previews again."""
    result = preview(campaign, actor, selection, case_ids)
    if expected is not None and expected != result.total:
        raise Conflict(
            _("The selection now holds %(n)d ballots, not %(e)d: preview again.", n=result.total, e=expected)
        )
    if not (reason or "").strip():
        raise Invalid(_("Say why the ballots are invalid."), {"reason": _("A reason is required.")})
    rules = " | ".join("+".join(sorted(c)) for c in result.selection)
    return invalidate(sorted(result.ballots), actor, f"{reason.strip()} [{rules}]")


def invalidate_recommended(
    campaign: Campaign, actor: User, case_ids: list[int], reason: str, expected: int | None = None
) -> int:
    """Invalidate what the recommendations for these cases showed, each ballot with the reason and the
    recommended selection that struck it. ``expected`` (the previewed total) guards as in invalidate_selection."""
    if not (reason or "").strip():
        raise Invalid(_("Say why the ballots are invalid."), {"reason": _("A reason is required.")})
    wanted = set(case_ids)
    chosen = [r for r in recommend(campaign, actor) if r.case.id in wanted]
    if not chosen:
        raise Invalid(_("No recommendation for these cases."), {"case": _("Choose a case with a recommendation.")})
    total = len({i for r in chosen for i in r.preview.ballots})
    if expected is not None and expected != total:
        raise Conflict(_("The selection now holds %(n)d ballots, not %(e)d: preview again.", n=total, e=expected))
    done: set[int] = set()
    n = 0
    for r in chosen:
        ids = sorted(set(r.preview.ballots) - done)
        done.update(ids)
        n += invalidate(ids, actor, f"{reason.strip()} [{r.selection} @ {r.case.number or r.case.id}]")
    return n


def ballot_flags(campaign: Campaign) -> dict[int, dict[str, str]]:
    """Ballot id -> {rule: reason} for every flagged valid ballot of the campaign."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for name, flags in _evaluation(campaign).flags.items():
        for ballot_id, reason in flags.items():
            found[ballot_id][name] = reason
    return dict(found)


@dataclass(frozen=True)
class BallotPage:
    ballots: list[tuple[Ballot, dict[str, str]]]  # each ballot with {rule: reason}
    total: int
    page: int
    per_page: int


def case_ballots(
    case_id: int, actor: User | None, rule: str | None = None, page: int = 1, per_page: int = 50
) -> BallotPage:
    """A case's ballots with their evidence and flags, newest first, optionally only those a rule flags.

    Staff only; anyone else gets 404, as if the case had no ballots to show (evidence is not for the public).
    """
    try:
        require_staff(actor)
    except Forbidden:
        raise NotFound(_("No such case.")) from None
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(_("No such case."))
    if rule is not None and rule not in RULES:
        raise Invalid(_("No such rule."), {"rule": _("Choose rules from: %(names)s.", names=", ".join(RULES))})
    flags = ballot_flags(case.campaign)
    query = select(Ballot).where(Ballot.case_id == case.id)
    if rule is not None:
        ids = [i for i, found in flags.items() if rule in found]
        query = query.where(Ballot.id.in_(ids or [-1]))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page, per_page = max(1, page), min(max(1, per_page), 500)
    rows = db.session.scalars(
        query.order_by(Ballot.created_at.desc(), Ballot.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return BallotPage([(b, flags.get(b.id, {})) for b in rows], total, page, per_page)
