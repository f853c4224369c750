"""The public side under load, in the production shape: gunicorn (sync workers, 2 × cores + 1 as `./dev.sh serve`
starts them) + PostgreSQL + Redis, and the same app behind Debian's nginx with docs/deploy/nginx.conf. Load
from wrk only (a Lua script sends the votes of many distinct voters as the case page's script does: their signed
session cookie and the voter token /showcase/voter gave them, made up front).

Prints, for each endpoint, requests/s, p50, p99 and its share of the throughput of /healthz, measured in the same
run just before it, directly and through nginx; then /results with 256 connections through nginx; then the vote's
check: every acknowledged vote in the database exactly once, the live counts equal to the ballots.

    .venv/bin/python bench/public.py [--seconds 6]

Env: PINGXUAN_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
PINGXUAN_BENCH_REDIS_URL (default redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
import redis  # noqa: E402
from vote import (  # noqa: E402  (the shared set-up of the vote benchmark)
    OVERRIDES,
    REDIS_URL,
    SECRET,
    _free_port,
    _ms,
    _plain,
    bench_db_url,
    create_database,
    drop_database,
)  # fmt: skip

CATEGORIES, FINALISTS, VOTERS, PER_CATEGORY = 7, 20, 1000, 3
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
VOTE_LUA = r"""
-- Each wrk thread sends its own slice of (case, cookie, token) lines: distinct voters, no pair twice, except
-- every 20th request repeats an earlier one of the same thread (it must be refused, never counted twice).
-- The requests are formatted once, in init(), and no response() callback is defined: wrk then spends its
-- time sending, not in Lua (the load generator shares the two cores with the server it measures).
local requests, index = {}, 0
function setup(thread)
  thread:set("slice", THREAD_COUNTER)
  THREAD_COUNTER = (THREAD_COUNTER or 0) + 1
end
function init(args)
  local n = tonumber(slice or 0)
  local total = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % total == n then
      local case, cookie, token = line:match("(%S+) (%S+) (%S+)")
      requests[#requests + 1] = wrk.format("POST", "/showcase/cases/" .. case .. "/vote",
        {["Cookie"] = "session=" .. cookie, ["X-Voter-Token"] = token, ["Accept"] = "application/json",
         ["Content-Length"] = "0"}, "")
    end
    i = i + 1
  end
end
function request()
  index = index + 1
  if index % 20 == 0 and index > 10 then return requests[((index - 8) % #requests) + 1] end
  return requests[((index - 1) % #requests) + 1]
end
function done(summary, latency, requests)
  local statuses = summary.errors.status
  io.write(string.format("ACK non2xx=%d requests=%d\n", statuses, summary.requests))
end
"""


def config(instance: Path) -> dict:
    """The production settings where they cost time (the engine's options: the pool pings a connection before
    lending it), the limits raised (bench/vote.py's OVERRIDES)."""
    from pingxuan.config import engine_options

    return {
        "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": bench_db_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(bench_db_url()),
        "STORAGE_DIR": str(instance / "storage"), "RATELIMIT_STORAGE_URI": REDIS_URL, "CACHE_REDIS_URL": REDIS_URL,
        "WTF_CSRF_ENABLED": True, "SERVER_NAME_FOR_MAIL": "http://127.0.0.1", "PROXY_COUNT": 1, **OVERRIDES,
    }  # fmt: skip


def prepare(instance: Path) -> tuple[list[int], Path, int, int]:
    """7 categories × 20 finalists in the open vote; a past campaign with published results; the voters."""
    from flask import session
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from awards import publication
    from campaigns.models import VOTE_CLOSED, VOTE_OPEN
    from cases.models import Case
    from pingxuan.db import commit
    from pingxuan.extensions import db
    from shell import create_app
    from tests.factories import Factory
    from voting.models import Voter
    from voting.operations import voter_token
    from workflow.definition import TRANSITION_BY_NAME

    app = create_app(config(instance))
    with app.app_context():
        upgrade()
        make = Factory()
        past = make.campaign()  # the past edition first (the taxonomy file names 2017: it becomes 2016)
        past.year, past.title_zh, past.title_en = 2016, "2016智慧青岛典型案例评选", "2016 typical case selection"
        commit()
        campaign = make.campaign(votes_per_category_per_day=PER_CATEGORY)  # the current edition
        campaign.vote_status = VOTE_OPEN
        commit()
        case_ids = [make.case("public_vote", category_index=c, title=f"典型案例{c}-{i}").id
                    for c in range(CATEGORIES) for i in range(FINALISTS)]  # fmt: skip
        # the published results of a past edition: the same finalists' shape, ten awarded per category
        past.vote_status = VOTE_CLOSED
        owner = make.applicant()
        awarded = TRANSITION_BY_NAME["confirm_award"].dest
        for c, category in enumerate(past.categories):
            for i in range(10):
                unit = make.unit()
                db.session.add(Case(campaign_id=past.id, unit_id=unit.id, created_by_id=owner.id,
                                    category_id=category.id, number=f"2016-{c}-{i:04d}", title=f"往届案例{c}-{i}",
                                    state=awarded))  # fmt: skip
        commit()
        publication.publish(past, make.organizer(), "bench")
        commit()
        db.session.execute(insert(Voter), [{"phone_hash": f"bench-{n:058d}"} for n in range(VOTERS)])
        commit()
        voter_ids = [v for (v,) in db.session.execute(select(Voter.id).order_by(Voter.id))]
        serializer = app.session_interface.get_signing_serializer(app)
        lines = []
        by_category = [case_ids[c * FINALISTS : (c + 1) * FINALISTS] for c in range(CATEGORIES)]
        for n, voter_id in enumerate(voter_ids):
            with app.test_request_context():
                session["voter_id"] = voter_id
                session.permanent = True  # as verify_check leaves it
                token = voter_token(voter_id)  # what /showcase/voter hands the page's script
                cookie = serializer.dumps(dict(session))
            for cases in by_category:  # three votes per category, the campaign's own limit
                for k in range(PER_CATEGORY):
                    lines.append(f"{cases[(n + k * 7) % FINALISTS]} {cookie} {token}")
        votes_file = instance / "votes.txt"
        votes_file.write_text("\n".join(lines) + "\n")
        first_category = campaign.categories[0].id
        db.engine.dispose()
        return case_ids, votes_file, first_category, len(lines)


def start_gunicorn(instance: Path, port: int, workers: int = 2) -> subprocess.Popen:
    module = instance / "public_wsgi.py"
    module.write_text(textwrap.dedent(f"""
        from shell import create_app
        app = create_app({config(instance)!r})
    """))  # fmt: skip
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{instance}", "PINGXUAN_INSTANCE_PATH": str(instance)}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-w", str(workers), "-k", "sync", "-b",
                             f"127.0.0.1:{port}", "--log-level", "warning", "public_wsgi:app"],
                            cwd=instance, env=env, start_new_session=True)  # fmt: skip
    _wait(port)
    return proc


def start_nginx(folder: Path, listen: int, upstream: int) -> subprocess.Popen:
    text = (ROOT / "docs" / "deploy" / "nginx.conf").read_text()
    for pattern, value in ((r"(?m)^pid [^;]+;", f"pid {folder}/nginx.pid;"),
                           (r"error_log [^;]+;", f"error_log {folder}/error.log warn;"),
                           (r"access_log [^;]+;", "access_log off;"),
                           (r"proxy_cache_path \S+", f"proxy_cache_path {folder}/cache"),
                           (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream};"),
                           (r"listen 80;", f"listen 127.0.0.1:{listen} backlog=4096;")):  # fmt: skip
        text = re.sub(pattern, value, text, count=1)
    (folder / "nginx.conf").write_text(text)
    user = "user root;" if os.geteuid() == 0 else ""
    proc = subprocess.Popen([NGINX, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", f"daemon off; {user}"],
                            start_new_session=True)  # fmt: skip
    _wait(listen)
    return proc


def _wait(port: int) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def wrk(port: int, path: str, seconds: float, connections: int = 32, script: Path | None = None,
        args: list[str] | None = None) -> dict:  # fmt: skip
    command = ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "--timeout", "5s"]
    if script:
        command += ["-s", str(script)]
    command.append(f"http://127.0.0.1:{port}{path}")
    if args:
        command += ["--", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    figures = {"rps": float("nan"), "p50": float("nan"), "p99": float("nan"), "errors": 0, "non2xx": 0}
    for line in done.stdout.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif parts[:1] == ["50%"]:
            figures["p50"] = _ms(parts[1])
        elif parts[:1] == ["99%"]:
            figures["p99"] = _ms(parts[1])
        elif "Socket errors" in line:
            figures["errors"] = sum(int(n) for n in re.findall(r"\d+", line))
        elif line.startswith("  Non-2xx"):
            figures["non2xx"] = int(parts[-1])
        elif line.startswith("ACK "):
            figures["ack_requests"] = int(line.split("requests=")[1])
            figures["ack_non2xx"] = int(line.split("non2xx=")[1].split()[0])
    return figures


def measure_vote(port: int, script: Path, votes_file: Path, seconds: float, gunicorn: subprocess.Popen,
                 profile: Path | None) -> dict:  # fmt: skip
    """The vote under wrk; with ``profile``, py-spy samples every gunicorn worker for the same seconds."""
    if profile is None:
        return wrk(port, "/", seconds, script=script, args=[str(votes_file), "2"])
    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(gunicorn.pid),
                            "--subprocesses", "--nonblocking", "--rate", "200", "--format", "raw", "--duration",
                            str(max(1, int(seconds) - 1)), "--output", str(profile)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    figures = wrk(port, "/", seconds, script=script, args=[str(votes_file), "2"])
    spy.wait(timeout=60)
    print_profile(profile)
    return figures


def print_profile(profile: Path, entries: int = 15) -> None:
    """The functions with the largest share of the vote handler's samples (inclusive), and the share of all the
    workers' samples the handler has: where a vote's time in the worker goes."""
    from collections import Counter

    inclusive: Counter = Counter()
    handled = everything = 0
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, n = stack.split(";"), int(count)
        everything += n
        start = next((i for i, frame in enumerate(frames) if frame.startswith("VoteFastPath._vote ")), None)
        if start is None:
            continue
        handled += n
        for frame in set(frames[start + 1 :]):
            function, _, where = frame.partition(" (")
            inclusive[f"{function} ({where.rsplit('/', 1)[-1].split(':')[0]})"] += n  # per function, not per line
    print(f"profile: the vote handler has {handled / max(everything, 1):.0%} of the workers' {everything} samples "
          f"(the rest: gunicorn's accept, parse, write and close); its top entries, inclusive:")  # fmt: skip
    for frame, n in inclusive.most_common(entries):
        print(f"  {n / max(handled, 1):6.1%}  {frame}")


def check_votes(figures: dict) -> tuple[bool, str]:
    with psycopg.connect(_plain(bench_db_url())) as conn:
        doubled = conn.execute(
            "SELECT count(*) FROM (SELECT voter_id, case_id, vote_date FROM ballots "
            "GROUP BY voter_id, case_id, vote_date HAVING count(*) > 1) d"
        ).fetchone()[0]
        ballots = conn.execute("SELECT count(*) FROM ballots").fetchone()[0]
        mismatched = conn.execute("SELECT count(*) FROM vote_counts v LEFT JOIN (SELECT case_id, count(*) n FROM "
                                  "ballots WHERE invalidated_at IS NULL GROUP BY case_id) b ON b.case_id = v.case_id "
                                  "WHERE v.valid <> coalesce(b.n, 0)").fetchone()[0]  # fmt: skip
    acked = figures.get("ack_requests", 0) - figures.get("ack_non2xx", 0)
    lost = max(0, acked - ballots)  # an acknowledged vote must be a ballot; in-flight ones at the cut may add
    ok = doubled == 0 and mismatched == 0 and lost == 0 and ballots - acked <= 64
    return ok, (f"acknowledged {acked}, ballots {ballots}, lost {lost}, doubled {doubled}, "
                f"counts ≠ ballots on {mismatched} cases")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each measurement")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn sync workers (default: 2 × cores + 1, as ./dev.sh serve)",
    )
    parser.add_argument("--vote-only", action="store_true", help="/healthz and the vote only (a quicker loop)")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="sample the gunicorn workers with py-spy during the vote (raw stacks to FILE, kept out "
                             "of git) and print the vote handler's top entries")  # fmt: skip
    args = parser.parse_args()
    if not shutil.which("wrk") or not Path(NGINX).exists():
        print("bench/public.py needs Debian's wrk and nginx (./dev.sh install)", file=sys.stderr)
        return 2
    begun = time.monotonic()
    redis.Redis.from_url(REDIS_URL).flushdb()
    instance = Path(tempfile.mkdtemp(prefix="pingxuan-bench-public-"))
    os.environ["PINGXUAN_INSTANCE_PATH"] = str(instance)
    create_database()
    procs: list[subprocess.Popen] = []
    try:
        case_ids, votes_file, category_id, votes = prepare(instance)
        port, proxy = _free_port(), _free_port()
        procs.append(start_gunicorn(instance, port, args.workers))
        (instance / "nginx").mkdir()
        procs.append(start_nginx(instance / "nginx", proxy, port))
        script = instance / "vote.lua"
        script.write_text(VOTE_LUA)
        print(
            f"setup {time.monotonic() - begun:.0f} s: {CATEGORIES}×{FINALISTS} finalists, live counts on, "
            f"{votes} distinct votes ready; gunicorn {args.workers} sync workers, PostgreSQL, Redis; nginx; "
            "wrk, 32 connections"
        )
        pages = {
            "showcase": "/showcase", "category page": f"/showcase?category={category_id}",
            "finalist page": f"/showcase/cases/{case_ids[3]}", "results (published)": "/results?year=2016",
        }  # fmt: skip
        if args.vote_only:
            wrk(port, "/healthz", 6)  # warm every worker (each imports the app when it starts)
            healthz = wrk(port, "/healthz", args.seconds)
            vote = measure_vote(port, script, votes_file, args.seconds, procs[0], args.profile)
            print(
                f"/healthz {healthz['rps']:.0f} req/s p99 {healthz['p99']:.1f} ms; vote {vote['rps']:.0f} req/s "
                f"= {vote['rps'] / healthz['rps']:.0%}, p99 {vote['p99']:.1f} ms, errors {vote['errors']}"
            )
            ok, summary = check_votes(vote)
            print(("OK   " if ok else "FAIL ") + summary)
            return 0 if ok else 1
        for path in pages.values():  # warm the app's cache and nginx's
            wrk(port, path, 1, 4)
            wrk(proxy, path, 1, 4)
        rows: list[tuple[str, dict, float]] = []
        # Each endpoint's share is of the /healthz measured just before it: the machine is shared, and its speed
        # drifts over a minute more than the goals' margins (a single /healthz at the start biased the last rows).
        healthz = wrk(port, "/healthz", args.seconds)
        rows.append(("/healthz", healthz, 1.0))
        vote = measure_vote(port, script, votes_file, args.seconds, procs[0], args.profile)
        rows.append(("vote (POST)", vote, vote["rps"] / healthz["rps"]))
        before_vote = healthz
        for name, path in pages.items():
            healthz = wrk(port, "/healthz", args.seconds)
            fig = wrk(port, path, args.seconds)
            fig["healthz"] = healthz["rps"]
            rows.append((name, fig, fig["rps"] / healthz["rps"]))
        proxied = wrk(proxy, "/healthz", args.seconds)  # /healthz is not cacheable: through nginx to gunicorn
        for name, path in list(pages.items())[:3]:
            fig = wrk(proxy, path, args.seconds)
            rows.append((f"{name} via nginx", fig, fig["rps"] / healthz["rps"]))
        crowd = wrk(proxy, pages["results (published)"], 20, connections=256)
        print(f"{'endpoint':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'/healthz':>9} {'errors':>7}  "
              "(/healthz req/s just before)")  # fmt: skip
        for name, fig, ratio in rows:
            print(f"{name:<28} {fig['rps']:>8.0f} {fig['p50']:>8.1f} {fig['p99']:>8.1f} {ratio:>8.0%} "
                  f"{fig['errors'] + fig['non2xx'] if name != 'vote (POST)' else fig['errors']:>7}"
                  + (f"  ({fig['healthz']:.0f})" if "healthz" in fig else ""))  # fmt: skip
        print(f"(/healthz via nginx: {proxied['rps']:.0f} req/s)")
        print(
            f"/results via nginx, 256 connections, 20 s: {crowd['rps']:.0f} req/s, p99 {crowd['p99']:.0f} ms, "
            f"errors {crowd['errors'] + crowd['non2xx']} (goal: 0 errors, p99 ≤ 1 s)"
        )
        goals = [
            ("vote ≥ 50 % of /healthz", vote["rps"] / before_vote["rps"] >= 0.5),
            ("vote p99 ≤ 3 × /healthz p99", vote["p99"] <= 3 * before_vote["p99"]),
        ]
        goals += [(f"{name} ≥ 50 %", ratio >= 0.5) for name, _f, ratio in rows[2:5]]
        goals += [("results ≥ 80 %", rows[5][2] >= 0.8)]
        goals += [(f"{name} ≥ 90 %", ratio >= 0.9) for name, _f, ratio in rows[6:9]]
        goals += [
            ("256 connections: 0 errors, p99 ≤ 1 s", crowd["errors"] + crowd["non2xx"] == 0 and crowd["p99"] <= 1000)
        ]
        print("goals: " + "; ".join(f"{name} {'met' if met else 'MISSED'}" for name, met in goals))
        ok, summary = check_votes(vote)
        print(("OK   " if ok else "FAIL ") + summary)
        print(f"total {time.monotonic() - begun:.0f} s")
        return 0 if ok else 1
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
        drop_database()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
