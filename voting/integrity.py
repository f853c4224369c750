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
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

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
from voting.models import Ballot

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

    def __post_init__(self) -> None:
        by_case: dict[int, list[Facts]] = defaultdict(list)
        for b in self.items:
            self.voter_ballots[b.voter_id] += 1
            by_case[b.case_id].append(b)
            self.case_category[b.case_id] = b.category_id
        self.by_case = dict(by_case)

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
    """A case whose ballots come from virtual-operator numbers far more often than the campaign's do."""
    total = len(ballots.items) or 1
    baseline = sum(b.phone_class == VIRTUAL for b in ballots.items) / total
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
            {"min_votes": 10, "share": 0.3, "lift": 3.0}, virtual_numbers,
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
    )
}  # fmt: skip


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


def report(campaign: Campaign, actor: User) -> list[CaseIntegrity]:
    """The cases ranked by evidence (share of their ballots any rule flags), with each rule's count."""
    require_staff(actor)
    ballots = load_ballots(campaign.id)
    flags = detect(campaign, ballots)
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(ballots.by_case)))}
    rows = []
    for case_id, items in ballots.by_case.items():
        ids = {b.id for b in items}
        per_rule = {name: len(ids.intersection(f)) for name, f in flags.items()}
        any_rule = set().union(*(ids.intersection(f) for f in flags.values()))
        rows.append(CaseIntegrity(cases[case_id], len(items), per_rule, len(any_rule)))
    return sorted(rows, key=lambda r: (-r.evidence, -r.flagged, -r.total, r.case.id))


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
    ballots = load_ballots(campaign.id)
    flags = detect(campaign, ballots)
    picked = selected(flags, combos)
    facts = {b.id: b for b in ballots.items}
    if case_ids:
        wanted = set(case_ids)
        picked = {i: names for i, names in picked.items() if facts[i].case_id in wanted}
    chosen = {name for c in combos for name in c}
    others = [f for name, f in flags.items() if name not in chosen]
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
    return Preview(combos, picked, rows)


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


def ballot_flags(campaign: Campaign) -> dict[int, dict[str, str]]:
    """Ballot id -> {rule: reason} for every flagged valid ballot of the campaign."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for name, flags in detect(campaign).items():
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
