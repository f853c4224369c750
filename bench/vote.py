"""The public vote under load, in the production shape, on loopback.

PostgreSQL (a database ``pingxuan_bench`` created and dropped here), Redis for the rate limiter, gunicorn with
two sync workers serving the app, and a load generator on the same machine (wrk when installed, otherwise a
small multi-process Python client). Many distinct voters: their signed session cookies are made up front.

In one run: requests/s and p50/p99 latency of a trivial endpoint (/healthz), of the vote endpoint and of the
showcase page; the ratios to the trivial endpoint are the figures. Then every acknowledged vote must be in the
database exactly once and no unacknowledged one at all.

    .venv/bin/python bench/vote.py [--seconds 8] [--connections 32]

Env: PINGXUAN_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
PINGXUAN_BENCH_REDIS_URL (default redis://127.0.0.1:6379/14), PINGXUAN_BENCH_DATABASE (default pingxuan_bench).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402

PG_URL = os.environ.get("PINGXUAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PINGXUAN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DB_NAME = os.environ.get("PINGXUAN_BENCH_DATABASE", "pingxuan_bench")  # one per concurrent run
SECRET = "pingxuan-bench-secret"
HIGH = "1000000 per minute"
OVERRIDES = {  # the limiter stays on (Redis), its limits raised so that the rules, not the limits, are measured
    "VOTE_LIMIT_IP": HIGH, "VOTE_LIMIT_VOTER": HIGH, "CODE_LIMIT_IP": HIGH, "CODE_LIMIT_PHONE": HIGH,
}  # fmt: skip
CASES_PER_CATEGORY, CATEGORIES = 3, 4
VOTERS = 6000


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def bench_db_url() -> str:
    base, _, _db = PG_URL.rpartition("/")
    return f"{base}/{DB_NAME}"


def create_database() -> None:
    with psycopg.connect(_plain(PG_URL), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    with psycopg.connect(_plain(PG_URL), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def app_config(instance: Path) -> dict:
    return {
        "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": bench_db_url(), "SQLALCHEMY_ENGINE_OPTIONS": {},
        "STORAGE_DIR": str(instance / "storage"),
        "RATELIMIT_STORAGE_URI": REDIS_URL, "WTF_CSRF_ENABLED": True, "SERVER_NAME_FOR_MAIL": "http://127.0.0.1",
        **OVERRIDES,
    }  # fmt: skip


def prepare(instance: Path) -> tuple[list[tuple[int, int]], list[int], dict[int, tuple[str, str]]]:
    """Migrate, open the vote with finalists in several categories, make voters and their session cookies."""
    from flask import g, session
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import insert

    from campaigns.models import VOTE_OPEN
    from pingxuan.db import commit
    from pingxuan.extensions import db
    from shell import create_app
    from tests.factories import Factory
    from voting.models import Voter

    app = create_app(app_config(instance))
    with app.app_context():
        upgrade()
        make = Factory()
        campaign = make.campaign()
        campaign.vote_status = VOTE_OPEN
        commit()
        case_ids = [
            make.case("public_vote", category_index=c).id for c in range(CATEGORIES) for _ in range(CASES_PER_CATEGORY)
        ]
        db.session.execute(insert(Voter), [{"phone_hash": f"bench-{n:058d}"} for n in range(VOTERS)])
        commit()
        voter_ids = [v for (v,) in db.session.execute(db.select(Voter.id).order_by(Voter.id))]
        serializer = app.session_interface.get_signing_serializer(app)
        cookies: dict[int, tuple[str, str]] = {}
        for voter_id in voter_ids:
            with app.test_request_context():
                g.pop("csrf_token", None)  # generate_csrf caches in g, which the outer app context shares
                session["voter_id"] = voter_id
                token = generate_csrf()
                cookies[voter_id] = (serializer.dumps(dict(session)), token)
        db.engine.dispose()
    # Each voter votes once for every case (3 per category: all allowed); voters vary fastest, so concurrent
    # requests belong to different voters. Every 20th request repeats an earlier one: it must be refused.
    pairs = [(v, c) for c in case_ids for v in voter_ids]
    return pairs, case_ids, cookies


def start_gunicorn(instance: Path, port: int) -> subprocess.Popen:
    module = instance / "bench_wsgi.py"
    module.write_text(
        textwrap.dedent(f"""
        from shell import create_app
        app = create_app({app_config(instance)!r})
        """)
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{instance}", "PINGXUAN_INSTANCE_PATH": str(instance)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "bench_wsgi:app"],
        cwd=instance, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _request(port, b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n")[0] == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def _request(port: int, raw: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """One request on a fresh connection (gunicorn's sync workers close each connection, like wrk sees)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    response = b"".join(chunks)
    return int(response[9:12]), response


def _vote_request(case_id: int, cookie: str, token: str) -> bytes:
    return (
        f"POST /showcase/cases/{case_id}/vote HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
        f"Cookie: session={cookie}\r\nX-CSRFToken: {token}\r\nUser-Agent: bench\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


def _worker(port: int, requests: list, threads: int, seconds: float, out) -> None:
    """One load-generator process: ``threads`` connections in a loop over its share of the requests."""
    results: list[tuple[int, float, int]] = []  # (request index, latency s, status or -1)
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    position = [0]

    def loop() -> None:
        local = []
        while time.monotonic() < stop:
            with lock:
                i = position[0]
                position[0] += 1
            if i >= len(requests):
                break
            index, raw = requests[i]
            started = time.perf_counter()
            try:
                status = _request(port, raw)[0]
            except (OSError, ValueError):  # refused, reset, or closed without a status line (a killed worker)
                status = -1
            local.append((index, time.perf_counter() - started, status))
        with lock:
            results.extend(local)

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put(results)


def load(port: int, requests: list[tuple[int, bytes]], connections: int, seconds: float) -> dict:
    processes = max(1, min(4, (os.cpu_count() or 2)))
    per = max(1, connections // processes)
    queue: mp.Queue = mp.Queue()
    shares = [requests[p::processes] for p in range(processes)]
    started = time.perf_counter()
    procs = [mp.Process(target=_worker, args=(port, shares[p], per, seconds, queue)) for p in range(processes)]
    for p in procs:
        p.start()
    results = [item for _ in procs for item in queue.get()]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(r[1] for r in results)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"n": len(results), "rps": len(results) / elapsed, "p50": pct(0.50), "p99": pct(0.99), "results": results}


def wrk_load(port: int, path: str, connections: int, seconds: float) -> dict | None:
    """wrk for the GET endpoints when Debian's wrk is installed (the Python client is used otherwise)."""
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    done = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, timeout=seconds + 30,
    )  # fmt: skip
    rps = p50 = p99 = float("nan")
    for line in done.stdout.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(parts[1])
        elif parts[:1] == ["50%"]:
            p50 = _ms(parts[1])
        elif parts[:1] == ["99%"]:
            p99 = _ms(parts[1])
    return {"n": None, "rps": rps, "p50": p50, "p99": p99}


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def verify(pairs_sent: dict[int, tuple[int, int]], results: list[tuple[int, float, int]]) -> tuple[bool, str]:
    """Every acknowledged vote once in the database, no unacknowledged one, no duplicates."""
    with psycopg.connect(_plain(bench_db_url())) as conn:
        rows = conn.execute("SELECT voter_id, case_id, count(*) FROM ballots GROUP BY voter_id, case_id").fetchall()
        live = dict(conn.execute("SELECT case_id, valid FROM vote_counts").fetchall())
    in_db = {(v, c): n for v, c, n in rows}
    acked: dict[tuple[int, int], int] = {}
    for index, _latency, status in results:
        if status == 200:
            acked[pairs_sent[index]] = acked.get(pairs_sent[index], 0) + 1
    doubled_acks = sum(1 for n in acked.values() if n > 1)
    doubled_rows = sum(1 for n in in_db.values() if n > 1)
    lost = sum(1 for pair in acked if pair not in in_db)
    unacked = sum(1 for pair in in_db if pair not in acked)
    per_case: dict[int, int] = {}
    for (_v, c), n in in_db.items():
        per_case[c] = per_case.get(c, 0) + n
    counts_ok = all(live.get(c, 0) == n for c, n in per_case.items())
    ok = not (doubled_acks or doubled_rows or lost or unacked) and counts_ok
    return ok, (
        f"acknowledged {len(acked)}, ballots {sum(in_db.values())}, lost {lost}, "
        f"doubled {doubled_rows + doubled_acks}, "
        f"in the database but not acknowledged {unacked}, live counts match ballots: {counts_ok}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each phase")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    begun = time.monotonic()
    redis.Redis.from_url(REDIS_URL).flushdb()
    instance = Path(tempfile.mkdtemp(prefix="pingxuan-bench-"))
    os.environ["PINGXUAN_INSTANCE_PATH"] = str(instance)
    create_database()
    server = None
    try:
        pairs, case_ids, cookies = prepare(instance)
        port = _free_port()
        server = start_gunicorn(instance, port)
        print(f"setup {time.monotonic() - begun:.1f} s: {len(case_ids)} finalists, {len(cookies)} voters, "
              f"gunicorn 2 sync workers, PostgreSQL {DB_NAME}, limiter on Redis; load generator: "
              f"{'wrk (GET) + ' if shutil.which('wrk') else ''}Python, {args.connections} connections")  # fmt: skip

        health_raw = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        show_raw = b"GET /showcase HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        figures: dict[str, dict] = {}
        # The same Python client for every endpoint, so the ratios compare like with like.
        figures["healthz"] = load(port, [(i, health_raw) for i in range(10**6)], args.connections, args.seconds)
        requests: list[tuple[int, bytes]] = []
        sent: dict[int, tuple[int, int]] = {}
        for i, (voter_id, case_id) in enumerate(pairs):
            cookie, token = cookies[voter_id]
            requests.append((i, _vote_request(case_id, cookie, token)))
            sent[i] = (voter_id, case_id)
            if i % 20 == 19:  # a repeat of a recent vote: must be refused, never counted twice
                j = len(sent) + 10**7
                v, c = pairs[i - 7]
                requests.append((j, _vote_request(c, *cookies[v])))
                sent[j] = (v, c)
        figures["vote"] = load(port, requests, args.connections, args.seconds)
        figures["showcase"] = load(port, [(i, show_raw) for i in range(10**6)], args.connections, args.seconds)
        wrk = {name: wrk_load(port, path, args.connections, args.seconds / 2)
               for name, path in (("healthz", "/healthz"), ("showcase", "/showcase"))}  # fmt: skip

        base = figures["healthz"]["rps"]
        print(f"{'endpoint':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}  statuses")
        for name, fig in figures.items():
            statuses: dict[int, int] = {}
            for _i, _l, status in fig["results"]:
                statuses[status] = statuses.get(status, 0) + 1
            print(f"{name:<10} {fig['rps']:>8.0f} {fig['p50']:>8.1f} {fig['p99']:>8.1f} {fig['rps'] / base:>6.0%}  "
                  f"{dict(sorted(statuses.items()))}")  # fmt: skip
        for name, fig in wrk.items():
            if fig:
                print(f"wrk {name:<6} {fig['rps']:>8.0f} {fig['p50']:>8.1f} {fig['p99']:>8.1f}")
        print(f"vote / trivial throughput: {figures['vote']['rps'] / base:.0%} (the cookie-and-CSRF vote of a page "
              "without JavaScript, through Flask; the page script's vote and its 50 % goal: bench/public.py); "
              f"showcase / trivial: {figures['showcase']['rps'] / base:.0%}")  # fmt: skip
        ok, summary = verify(sent, figures["vote"]["results"])
        print(("OK   " if ok else "FAIL ") + summary)
        print(f"total {time.monotonic() - begun:.1f} s")
        return 0 if ok else 1
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        drop_database()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
