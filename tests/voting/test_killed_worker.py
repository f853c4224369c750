"""A killed worker loses nothing: under vote load in the production shape (gunicorn with two sync workers,
PostgreSQL, the limiter on Redis), one gunicorn worker is killed with SIGKILL mid-run. Afterwards every
acknowledged vote is in the database exactly once and the live counts equal a recount.

A vote is acknowledged only after the statement that stores it has committed; were it acknowledged before (a
response sent, then the commit), the ballots of the killed worker's in-flight requests would be missing here.
Requests cut off by the kill got no answer: their ballot may or may not be stored, and either is correct (a
retry is refused as a second vote for the same case on the same day).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest

from pingxuan.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow

spec = importlib.util.spec_from_file_location("bench_vote", PROJECT_ROOT / "bench" / "vote.py")
bench = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
spec.loader.exec_module(bench)


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_worker_killed_mid_run_loses_no_acknowledged_vote(postgres_url, redis_url, monkeypatch):
    monkeypatch.setattr(bench, "PG_URL", postgres_url)
    monkeypatch.setattr(bench, "REDIS_URL", redis_url)
    monkeypatch.setattr(bench, "DB_NAME", "pingxuan_killed_worker")
    monkeypatch.setattr(bench, "VOTERS", 600)
    instance = Path(tempfile.mkdtemp(prefix="pingxuan-killed-"))
    monkeypatch.setenv("PINGXUAN_INSTANCE_PATH", str(instance))
    bench.create_database()
    server = None
    try:
        pairs, _case_ids, cookies = bench.prepare(instance)
        port = bench._free_port()
        server = bench.start_gunicorn(instance, port)
        requests, sent = [], {}
        for i, (voter_id, case_id) in enumerate(pairs):
            requests.append((i, bench._vote_request(case_id, *cookies[voter_id])))
            sent[i] = (voter_id, case_id)
        killed: list[int] = []

        def kill_one_worker() -> None:
            time.sleep(2.5)
            victim = _workers(server.pid)[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

        killer = threading.Thread(target=kill_one_worker)
        killer.start()
        figures = bench.load(port, requests, connections=16, seconds=7)
        killer.join()
        assert killed, "no worker was killed"
        results = figures["results"]
        acknowledged = [sent[i] for i, _latency, status in results if status == 200]
        cut_off = {sent[i] for i, _latency, status in results if status not in (200, 409, 429)}
        assert len(acknowledged) > 200 and len(acknowledged) == len(set(acknowledged))
        with psycopg.connect(bench._plain(bench.bench_db_url())) as conn:
            rows = conn.execute("SELECT voter_id, case_id, count(*) FROM ballots GROUP BY voter_id, case_id").fetchall()
            live = dict(conn.execute("SELECT case_id, valid FROM vote_counts").fetchall())
            recounted = dict(
                conn.execute(
                    "SELECT case_id, count(*) FROM ballots WHERE invalidated_at IS NULL GROUP BY case_id"
                ).fetchall()
            )
        stored = {(v, c): n for v, c, n in rows}
        assert all(n == 1 for n in stored.values()), "a vote stored twice"
        lost = [pair for pair in acknowledged if pair not in stored]
        assert lost == [], f"{len(lost)} acknowledged votes are not in the database"
        unexplained = [pair for pair in stored if pair not in set(acknowledged) and pair not in cut_off]
        status_of = {sent[i]: status for i, _latency, status in results}
        assert unexplained == [], f"stored though refused: {[(p, status_of.get(p)) for p in unexplained][:10]}"
        assert live == recounted, "the live counts differ from a recount"
        assert _workers(server.pid), "gunicorn did not replace the killed worker"
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        bench.drop_database()
