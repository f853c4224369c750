"""Vote integrity, measured: honest voters with realistic habits and eight attack shapes, each against its own
finalist, fed through the real vote operation; then the integrity page's recommended selections, each previewed
and invalidated as shown, and per attack the precision (the share of what its target's recommendation struck
that are attack ballots) and the recall, and the honest ballots struck overall.

Honest voters (seeded): a day's rhythm (quiet at night, peaks at lunch and in the evening), several categories
and cases per voter with popular cases more popular, one session or two, a third voting once from a shared
link; their addresses are shared office NATs (one address for a whole office), mobile-carrier CGNAT pools and
home lines; a few honest voters use virtual-operator or IoT numbers. Every voter has a number of its own (by
construction, so 50,000 voters fit).

Attacks of ``--attack`` voters each: a burst from one /24; a slow drip from three /24s under every rate limit,
all day; a farm spread over a /16; fresh voters on virtual numbers from residential proxies; a headless-browser
script (these verify a number moments before voting and vote once); and the camouflaged shape: residential
addresses in the honest voters' own ranges, a different /16 each, a common browser, verified minutes before,
the target first and then cover votes — two other finalists of its category within an hour (``camouflage``),
the same spread over six hours (``camouflage_hours``), or five cover votes reaching other categories
(``camouflage_heavy``); and the camouflaged shape behind the carriers' CGNAT pools, the honest voters' own kind
(``imitation``, ``imitation_hours``), judged on recall only.

    .venv/bin/python bench/vote_integrity.py [--honest 2000] [--attack 300] [--seed 7]

Runs on SQLite in a temporary folder (what is measured is the detection, not throughput). The small fixed-seed
run is tests/voting/test_integrity_generator.py.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ATTACKS = (
    "burst_24", "slow_drip", "farm_16", "virtual_numbers", "headless", "camouflage", "camouflage_hours",
    "camouflage_heavy", "imitation", "imitation_hours",
)  # fmt: skip
CAMOUFLAGED = {  # hours, cover votes
    "camouflage": (1, 2), "camouflage_hours": (6, 2), "camouflage_heavy": (1, 5), "imitation": (1, 2),
    "imitation_hours": (6, 2),
}  # fmt: skip
# The camouflaged shape behind the carriers' CGNAT pools, where most honest voters sit: an attacker who knows that
# the coordinated rule spares the kinds its group does not fill. Judged on recall (it must be struck whole); its
# precision is what the evidence allows, since the honest voters of its hours who voted alike are of its kind.
IMITATIONS = {"imitation", "imitation_hours"}
UAS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 "
    "Mobile Safari/537.36 MicroMessenger/8.0.49",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S9180) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0 "
    "Mobile Safari/537.36",
)
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36"
)
GOAL, HONEST_GOAL = 0.95, 0.005  # issue 18: precision and recall per shape; honest ballots struck
HOURLY = (1, 1, 1, 1, 1, 2, 4, 7, 9, 8, 7, 8, 10, 9, 7, 7, 8, 9, 10, 12, 12, 10, 6, 3)  # a day's rhythm


@dataclass
class Vote:
    at: datetime
    voter: int
    case: int  # index into the finalists
    address: str
    user_agent: str
    referrer: str
    label: str  # "honest" or the attack's name


@dataclass
class Traffic:
    phones: dict[int, str] = field(default_factory=dict)  # voter -> number
    verified: dict[int, datetime] = field(default_factory=dict)
    votes: list[Vote] = field(default_factory=list)
    targets: dict[str, int] = field(default_factory=dict)  # attack -> finalist index


def generate(seed: int, day: datetime, categories: list[list[int]], honest: int, attack: int) -> Traffic:
    """The day's traffic: ``honest`` honest voters and about ``attack`` ballots per attack shape."""
    rnd = random.Random(seed)
    t = Traffic()
    popularity = {case: 1 / (1 + rank) ** 0.8 for cases in categories for rank, case in enumerate(cases)}
    next_voter = iter(range(10**9))
    serial = iter(range(10**8))

    def phone(kind: str = "") -> str:
        """Distinct by construction: the n-th number's last eight digits are n times a number prime to 10^8
        (mod 10^8), a bijection, so random-looking numbers never repeat whatever the prefix."""
        kind = kind or rnd.choices(["mobile", "virtual", "iot"], [95, 4, 1])[0]
        prefix = {"mobile": rnd.choice(["138", "139", "135", "186", "187", "150", "158", "133", "199"]),
                  "virtual": rnd.choice(["170", "171", "162", "165", "167"]),
                  "iot": rnd.choice(["144", "146", "148"])}[kind]  # fmt: skip
        return prefix + f"{(next(serial) * 48271 + 1234567) % 10**8:08d}"

    def moment(hours: tuple[int, ...] = HOURLY) -> datetime:
        hour = rnd.choices(range(24), hours)[0]
        return day + timedelta(hours=hour, seconds=rnd.randrange(3600))

    offices = [f"58.56.{rnd.randrange(256)}.{rnd.randrange(1, 255)}" for _ in range(max(3, honest // 70))]
    carriers = [(112, 224), (117, 136), (223, 104)]  # CGNAT pools: many people behind few addresses per /24

    homes = [27, 36, 39, 60, 101, 113, 119, 120, 121]

    def residential() -> str:
        return f"{rnd.choice(homes)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"

    spare_16s = [(a, b) for a in homes for b in range(256)]  # the camouflaged attackers': a different /16 each
    rnd.shuffle(spare_16s)
    spare = itertools.cycle(spare_16s)

    def honest_address() -> str:
        kind = rnd.choices(["office", "carrier", "home"], [40, 35, 25])[0]
        if kind == "office":
            return rnd.choice(offices)
        if kind == "carrier":
            a, b = rnd.choice(carriers)
            return f"{a}.{b}.{rnd.randrange(64)}.{rnd.randrange(1, 16)}"
        return residential()

    def choose(cases: list[int]) -> int:
        return rnd.choices(cases, [popularity[c] for c in cases])[0]

    # Attack targets: five mid-table finalists in different places, never a category's leader.
    candidates = [cases[rank] for cases in categories for rank in range(1, len(cases))]
    rnd.shuffle(candidates)
    t.targets = dict(zip(ATTACKS, candidates, strict=False))

    for _ in range(honest):
        voter = next(next_voter)
        t.phones[voter] = phone()
        start = moment()
        t.verified[voter] = start
        address, ua = honest_address(), rnd.choice(UAS)
        referrer = rnd.choice(["https://mp.weixin.qq.com/s/x", "", "https://www.qingdao.gov.cn/"])
        if rnd.random() < 0.33:  # a shared link: one vote for one case, moments after verifying
            case = choose(rnd.choice(categories))
            t.votes.append(
                Vote(start + timedelta(seconds=rnd.randrange(8, 90)), voter, case, address, ua, referrer, "honest")
            )
            continue
        sessions = [start] + ([moment()] if rnd.random() < 0.3 else [])
        t.verified[voter] = min(sessions)  # a second session earlier in the day is the one that verified
        chosen: set[int] = set()
        for n, begin in enumerate(sorted(sessions)):
            at = begin + timedelta(seconds=rnd.randrange(10, 120))
            where = address if n == 0 else honest_address()
            for cases in rnd.sample(categories, rnd.randint(1, min(3, len(categories)))):
                for _k in range(rnd.randint(1, 3)):
                    case = choose(cases)
                    if case in chosen or sum(c in cases for c in chosen) >= 3:
                        continue
                    chosen.add(case)
                    at += timedelta(seconds=rnd.randrange(5, 60))
                    t.votes.append(Vote(at, voter, case, where, ua, referrer, "honest"))

    def attacker(label: str, at: datetime, address: str, ua: str, kind: str = "mobile") -> None:
        voter = next(next_voter)
        t.phones[voter] = phone(kind)
        t.verified[voter] = at - timedelta(seconds=rnd.randrange(15, 70))
        t.votes.append(Vote(at, voter, t.targets[label], address, ua, "", label))

    start = day + timedelta(hours=rnd.randrange(9, 20))
    for _i in range(attack):  # one /24, within a quarter of an hour
        attacker(
            "burst_24",
            start + timedelta(seconds=rnd.randrange(900)),
            f"45.76.12.{rnd.randrange(2, 30)}",
            rnd.choice(UAS),
        )
    drip_nets = ["103.21.7", "103.21.9", "185.11.40"]
    for i in range(attack):  # all day, a few an hour: under every rate limit
        at = day + timedelta(seconds=int(i * 86400 / attack) + rnd.randrange(60))
        attacker("slow_drip", at, f"{rnd.choice(drip_nets)}.{rnd.randrange(2, 250)}", rnd.choice(UAS))
    start = day + timedelta(hours=rnd.randrange(9, 20))
    for _i in range(attack):  # one provider's /16, one or two addresses per /24, within an hour
        attacker(
            "farm_16",
            start + timedelta(seconds=rnd.randrange(3600)),
            f"154.85.{rnd.randrange(256)}.{rnd.randrange(2, 250)}",
            rnd.choice(UAS),
        )
    start = day + timedelta(hours=rnd.randrange(8, 18))
    for _i in range(attack):  # virtual numbers through residential proxies, over three hours
        address = residential()
        attacker(
            "virtual_numbers", start + timedelta(seconds=rnd.randrange(3 * 3600)), address, rnd.choice(UAS), "virtual"
        )
    start = day + timedelta(hours=rnd.randrange(8, 18))
    for _i in range(attack):  # a headless browser through residential proxies, over two hours
        address = residential()
        attacker("headless", start + timedelta(seconds=rnd.randrange(2 * 3600)), address, HEADLESS)
    for label, (hours, cover) in CAMOUFLAGED.items():
        # Residential proxies in the honest voters' own carrier ranges, a different /16 each, a common browser,
        # verified minutes before; the target first, then cover votes: the category's other finalists (up to the
        # daily limit) and, beyond it, finalists of other categories.
        start = day + timedelta(hours=rnd.randrange(8, 22 - hours))
        target = t.targets[label]
        home = next(cases for cases in categories if target in cases)
        for _i in range(attack):
            voter = next(next_voter)
            t.phones[voter] = phone("mobile")
            at = start + timedelta(seconds=rnd.randrange(hours * 3600))
            t.verified[voter] = at - timedelta(seconds=rnd.randrange(60, 600))
            a, b = next(spare)
            address = f"{a}.{b}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
            if label in IMITATIONS:
                a, b = rnd.choice(carriers)
                address = f"{a}.{b}.{rnd.randrange(64)}.{rnd.randrange(1, 16)}"
            ua = rnd.choice(UAS)
            referrer = rnd.choice(["https://mp.weixin.qq.com/s/x", "", "https://www.qingdao.gov.cn/"])
            others = rnd.sample([c for c in home if c != target], 2)
            elsewhere = [c for cases in categories if cases is not home for c in cases]
            others += rnd.sample(elsewhere, max(0, cover - 2))
            for case in [target, *others]:
                t.votes.append(Vote(at, voter, case, address, ua, referrer, label))
                at += timedelta(seconds=rnd.randrange(5, 60))
    t.votes.sort(key=lambda v: v.at)
    return t


@contextmanager
def simulated_clock():
    """The vote operation reads the time through voting.ballots.utcnow/today; the generator sets it per ballot."""
    import voting.ballots as ballots

    saved = ballots.utcnow, ballots.today
    now: list[datetime] = [saved[0]()]
    ballots.utcnow = lambda: now[0]
    ballots.today = saved[1]  # one simulated day: the vote date stays today's
    try:
        yield now
    finally:
        ballots.utcnow, ballots.today = saved


def feed(traffic: Traffic, keep: Callable[[str], bool] = lambda label: True) -> dict[int, str]:
    """Write the voters as verification leaves them and cast the kept votes through voting.ballots.cast_vote at
    their simulated moments; ballot id -> label."""
    from sqlalchemy import insert, select

    from pingxuan.db import commit, savepoint
    from pingxuan.errors import Conflict
    from pingxuan.extensions import db
    from voting.ballots import cast_vote
    from voting.evidence import phone_class
    from voting.models import Voter
    from voting.privacy import phone_hash

    votes = [v for v in traffic.votes if keep(v.label)]
    voters = {v.voter for v in votes}
    rows = [
        {"phone_hash": phone_hash(p), "phone_class": phone_class(p), "verified_at": traffic.verified[v],
         "created_at": traffic.verified[v]}
        for v, p in traffic.phones.items() if v in voters
    ]  # fmt: skip
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(Voter), rows[start : start + 5000])
    commit()
    ids = dict(db.session.execute(select(Voter.phone_hash, Voter.id)).all())
    voter_ids = {v: ids[phone_hash(p)] for v, p in traffic.phones.items() if v in voters}
    labels: dict[int, str] = {}
    with simulated_clock() as now:
        for n, vote in enumerate(votes):
            now[0] = vote.at
            try:
                with savepoint():  # committed in batches: the feed measures detection, not fsync
                    result = cast_vote(voter_ids[vote.voter], vote.case, vote.address, vote.user_agent, vote.referrer)
                labels[result.ballot_id] = vote.label
            except Conflict:  # a daily limit: the generator's voters may hit it like real ones
                pass
            if n % 500 == 499:
                commit()
        commit()
    return labels


@dataclass
class Outcome:
    per_attack: dict[str, tuple[float, float, int, str]]  # attack -> (precision, recall, ballots, selection)
    honest: int
    honest_struck: int
    honest_by_rule: dict[str, int]  # honest ballots struck, by the recommended selection that struck them
    seconds_feed: float
    seconds_detect: float
    recommendations: int = 0

    @property
    def honest_struck_share(self) -> float:
        return self.honest_struck / self.honest if self.honest else 0.0


def run(campaign, organizer, finalists: list[list[int]], seed: int, honest: int, attack: int) -> Outcome:
    """Feed the traffic through voting.ballots.cast_vote, take every recommendation of the integrity page as
    previewed, invalidate them, measure: per attack the precision of its target's recommendation (the share of
    the ballots it struck that are attack ballots) and the recall (the share of its ballots struck)."""
    day = datetime.combine(datetime.now().date(), datetime.min.time()) - timedelta(hours=8)  # local midnight, UTC
    traffic = generate(seed, day, finalists, honest, attack)
    started = time.perf_counter()
    labels = feed(traffic)
    return measure(campaign, organizer, labels, traffic.targets, time.perf_counter() - started)


def measure(campaign, organizer, labels: dict[int, str], targets: dict[str, int], fed: float) -> Outcome:
    """The integrity page's recommendations over the fed ballots (ballot id -> label), each previewed and then
    invalidated as shown, against what each ballot was."""
    from sqlalchemy import select

    from pingxuan.db import commit
    from pingxuan.extensions import db
    from voting import integrity
    from voting.ballots import recount
    from voting.models import Ballot

    started = time.perf_counter()
    # What the integrity page recommends, case by case, each previewed and then invalidated as shown.
    recommended = integrity.recommend(campaign, organizer)
    struck_by = {r.case.id: set(r.preview.ballots) for r in recommended}  # case -> what its preview showed
    selections = {r.case.id: r.selection for r in recommended}
    total = len(set().union(*struck_by.values()))
    cases = [r.case.id for r in recommended]
    struck = integrity.invalidate_recommended(campaign, organizer, cases, "benchmark", total) if cases else 0
    commit()
    assert struck == total
    detected = time.perf_counter() - started
    assert recount(campaign) == [], "the counts must equal a recount after the invalidation"
    invalid = set(db.session.scalars(select(Ballot.id).where(Ballot.invalidated_at.is_not(None))))
    assert invalid == set().union(*struck_by.values())
    per_attack = {}
    attacks = {b for b, label in labels.items() if label != "honest"}
    for name in ATTACKS:
        target = targets[name]
        attack_ids = {b for b, label in labels.items() if label == name}
        flagged = struck_by.get(target, set())
        hit = len(flagged & attacks)  # another shape's cover vote for this target is an attack ballot too
        per_attack[name] = (
            hit / len(flagged) if flagged else 0.0, len(invalid & attack_ids) / len(attack_ids), len(attack_ids),
            selections.get(target, "-"),
        )  # fmt: skip
    honest_ids = {b for b, label in labels.items() if label == "honest"}
    honest_struck = honest_ids & invalid
    by_case: Counter = Counter()
    counted: set[int] = set()
    for c, ids in struck_by.items():  # a ballot two recommendations hold counts once, for the first
        by_case[selections[c]] += len((ids & honest_struck) - counted)
        counted |= ids
    by_case = +by_case
    return Outcome(per_attack, len(honest_ids), len(honest_struck), dict(by_case), fed, detected, len(recommended))


def report(outcome: Outcome) -> str:
    lines = [f"{'attack':<17} {'ballots':>7} {'precision':>9} {'recall':>7}  recommended for its target"]
    for name, (precision, recall, n, selection) in outcome.per_attack.items():
        lines.append(f"{name:<17} {n:>7} {precision:>9.3f} {recall:>7.3f}  {selection}")
    share = 100 * outcome.honest_struck_share
    lines.append(f"honest ballots struck: {outcome.honest_struck} of {outcome.honest} ({share:.2f} %)")
    if outcome.honest_by_rule:
        lines.append("  by selection: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcome.honest_by_rule.items())))
    misses = [
        f"{name} {what} {value:.4f}"
        for name, (precision, recall, _n, _s) in outcome.per_attack.items()
        for what, value in (("precision", precision), ("recall", recall))
        if value < GOAL and (what == "recall" or name not in IMITATIONS)
    ] + ([f"honest struck {share:.2f} %"] if outcome.honest_struck_share > HONEST_GOAL else [])
    lines.append(
        "issue 18's goals (imitations: recall only): " + ("met" if not misses else "missed: " + ", ".join(misses))
    )
    lines.append(
        f"{outcome.recommendations} cases with a recommended selection; fed in {outcome.seconds_feed:.1f} s; "
        f"recommendation, previews and invalidations in {outcome.seconds_detect:.1f} s"
    )
    return "\n".join(lines)


def plan_like_a_campaign() -> None:
    """Tell SQLite's planner what a campaign's ballots look like (one campaign, a few ballots per voter), as
    ANALYZE would on a filled table: with no statistics it counts a voter's earlier ballots through the index
    on campaign_id, a scan of every ballot per vote, and a 50,000-voter feed takes an hour instead of minutes.
    PostgreSQL's vote is one statement with its own plan (voting.ballots); the evidence is the same."""
    from sqlalchemy import text

    from pingxuan.extensions import db

    db.session.execute(text("ANALYZE"))  # creates sqlite_stat1
    db.session.execute(text("DELETE FROM sqlite_stat1 WHERE tbl = 'ballots'"))
    stats = {"ix_ballots_campaign_id": "1000000 1000000", "ix_ballots_voter_id": "1000000 3",
             "ix_ballots_case_id": "1000000 50000", "ix_ballots_created_at": "1000000 1"}  # fmt: skip
    for index, stat in stats.items():
        db.session.execute(text("INSERT INTO sqlite_stat1 VALUES ('ballots', :i, :s)"), {"i": index, "s": stat})
    db.session.commit()
    db.engine.dispose()  # the planner reads the statistics when a connection opens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest", type=int, default=2000)
    parser.add_argument("--attack", type=int, default=300, help="voters per attack shape")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--db", type=Path, help="keep the fed ballots in this SQLite file (with a .json of what each ballot is), "
        "or, if it exists, measure a copy of it without feeding again: the detection rules change, the ballots not",
    )  # fmt: skip
    args = parser.parse_args()
    from flask_migrate import upgrade

    from accounts.models import User
    from campaigns.models import VOTE_OPEN, Campaign
    from pingxuan.db import commit
    from pingxuan.extensions import db
    from shell import create_app
    from tests.factories import Factory

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "bench.sqlite3"
        kept = args.db.with_suffix(".json") if args.db else None
        if args.db and args.db.exists():
            shutil.copyfile(args.db, work)
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work}", "SECRET_KEY": "bench", "STORAGE_DIR": tmp,
            "RATELIMIT_ENABLED": False, "TESTING": True,
        })  # fmt: skip
        with app.app_context():
            if args.db and args.db.exists():
                saved = json.loads(kept.read_text())
                args.honest, args.attack, args.seed = saved["honest"], saved["attack"], saved["seed"]
                campaign = db.session.get(Campaign, saved["campaign"])
                labels = {int(k): v for k, v in saved["labels"].items()}
                organizer = db.session.get(User, saved["organizer"])
                outcome = measure(campaign, organizer, labels, saved["targets"], saved["seconds_feed"])
            else:
                upgrade()
                plan_like_a_campaign()
                make = Factory()
                campaign = make.campaign()
                campaign.vote_status = VOTE_OPEN
                commit()
                finalists = [[make.case("public_vote", category_index=c).id for _ in range(5)] for c in range(4)]
                organizer = make.organizer()
                commit()
                ids = {"campaign": campaign.id, "organizer": organizer.id}
                day = datetime.combine(datetime.now().date(), datetime.min.time()) - timedelta(hours=8)
                traffic = generate(args.seed, day, finalists, args.honest, args.attack)
                started = time.perf_counter()
                labels = feed(traffic)
                fed = time.perf_counter() - started
                if args.db:
                    db.session.close()
                    db.engine.dispose()
                    shutil.copyfile(work, args.db)
                    kept.write_text(json.dumps({
                        "honest": args.honest, "attack": args.attack, "seed": args.seed, **ids,
                        "targets": traffic.targets, "labels": labels, "seconds_feed": fed,
                    }))  # fmt: skip
                    campaign, organizer = (
                        db.session.get(Campaign, ids["campaign"]),
                        db.session.get(User, ids["organizer"]),
                    )
                outcome = measure(campaign, organizer, labels, traffic.targets, fed)
    print(f"vote integrity: {args.honest} honest voters, {args.attack} voters per attack, seed {args.seed}")
    print(report(outcome))


if __name__ == "__main__":
    main()
