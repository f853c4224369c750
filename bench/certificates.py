"""Benchmark: certificates, rendered through awards.certificates and issued in batches by real Celery workers.

1. Time per certificate through awards.certificates (render_html + render_pdf_html: sandboxed Jinja, QR code,
   folder-only URL fetcher, the shared FontConfiguration) against a bare WeasyPrint render of the same HTML
   (``weasyprint.HTML(string=html, base_url=folder).write_pdf()``) in the same run: the ratio.
2. A batch of 70 certificates (``issue_batch``: one task per certificate) processed by one
   ``celery -A shell.worker worker`` process against two: the ratio of wall times.

Its own SQLite database and storage in a temporary folder; Redis at PINGXUAN_BENCH_REDIS_URL (default
redis://127.0.0.1:6379/13) on a queue of its own; loopback only; bounded (a few minutes at most).
Run: ./dev.sh bench (or .venv/bin/python bench/certificates.py).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS_URL = os.environ.get("PINGXUAN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SECRET = "bench-secret"
BATCH, RENDERS, DEADLINE = 70, 12, 150.0


def make_app(folder: Path, queue: str):
    from shell import create_app

    return create_app({
        "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}}, "STORAGE_DIR": str(folder / "storage"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SERVER_NAME_FOR_MAIL": "http://127.0.0.1:5000",
        "RATELIMIT_STORAGE_URI": "memory://", "MAIL_BACKEND": "outbox",
        "CELERY": {
            "broker_url": REDIS_URL, "task_always_eager": False, "task_serializer": "json", "accept_content": ["json"],
            "broker_connection_retry_on_startup": True, "task_ignore_result": True, "task_default_queue": queue,
        },
    })  # fmt: skip


def per_certificate() -> tuple[float, float]:
    """Median seconds per certificate: through awards.certificates, and bare WeasyPrint on the same HTML."""
    import weasyprint

    from awards import certificates
    from awards.models import Certificate
    from pingxuan.clock import today

    content = {
        "award_name": "2017智慧城市运行十佳典型案例", "award_name_en": "Top ten typical cases: smart city operation",
        "title": "青岛市城市云脑一网统管综合指挥平台", "recipient": "青岛市大数据发展管理局",
        "case_number": "2017-CO-0007", "campaign_title": "2017智慧青岛典型案例评选活动",
        "organizer": "青岛市智慧城市建设领导小组办公室", "date_text": "2017年6月30日",
    }  # fmt: skip
    number = "PX2017-C-0007"
    cert = Certificate(number=number, kind=certificates.CASE_AWARD, campaign_id=1, content=content,
                       issued_on=today(), signature=certificates.sign(number, content))  # fmt: skip
    folder = certificates._folder(cert.kind)
    html = certificates.render_html(cert)
    # warm up both paths (font loading, first layout)
    certificates.render_pdf_html(html, folder)
    with certificates.WEASYPRINT_LOCK:  # WeasyPrint is not thread-safe: every rendering in a process takes turns
        weasyprint.HTML(string=html, base_url=str(folder) + "/").write_pdf()
    ours, bare = [], []
    for _ in range(RENDERS):  # interleaved, so a noisy moment hits both
        t0 = time.perf_counter()
        pdf = certificates.render_pdf_html(certificates.render_html(cert), folder)
        t1 = time.perf_counter()
        with certificates.WEASYPRINT_LOCK:
            plain = weasyprint.HTML(string=html, base_url=str(folder) + "/").write_pdf()
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        bare.append(t2 - t1)
    assert pdf.startswith(b"%PDF") and plain.startswith(b"%PDF")
    return statistics.median(ours), statistics.median(bare)


def awarded_cases(n: int) -> None:
    """n awarded cases spread over the categories (at most the award quota in each), through fire()."""
    from campaigns.models import VOTE_CLOSED
    from pingxuan.db import commit
    from tests.factories import Factory
    from workflow.engine import fire

    make = Factory()
    campaign = make.campaign()
    categories = len(campaign.categories)
    campaign.awards_per_category = -(-n // categories)
    commit()
    finalists = [make.case("public_vote", category_index=i % categories, title=f"智慧城市典型案例{i + 1:03d}")
                 for i in range(n)]  # fmt: skip
    campaign.vote_status = VOTE_CLOSED
    commit()
    organizer = make.organizer()
    for case in finalists:
        fire(case, "propose", organizer)
    make.past_notice(finalists)  # the public notice is over, no objection
    for case in finalists:
        fire(case, "confirm_award", organizer)
    commit()


def start_workers(count: int, folder: Path, queue: str) -> list[tuple[subprocess.Popen, Path]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGXUAN_")}
    env |= {
        "PINGXUAN_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}", "PINGXUAN_BROKER_URL": REDIS_URL,
        "PINGXUAN_STORAGE_DIR": str(folder / "storage"), "PINGXUAN_INSTANCE_PATH": str(folder / "instance"),
        "PINGXUAN_SECRET_KEY": SECRET, "PINGXUAN_PUBLIC_URL": "http://127.0.0.1:5000",
        "PINGXUAN_RATELIMIT_STORAGE_URI": "memory://",
    }  # fmt: skip
    workers = []
    for i in range(count):
        log = folder / f"worker-{count}-{i}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "shell.worker", "worker", "--pool=solo",
            "--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", queue, "-n", f"bench{i}-{queue}@%h",
            "--loglevel=INFO",
        ]  # fmt: skip
        with log.open("wb") as out:
            workers.append((subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT), log))
    deadline = time.monotonic() + 60
    for proc, log in workers:  # ready: connected and consuming
        while b"ready." not in log.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
    return workers


def stop_workers(workers: list[tuple[subprocess.Popen, Path]]) -> None:
    for proc, _log in workers:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc, _log in workers:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def batch_wall_time(workers: int, folder: Path, queue: str) -> tuple[float, list[int]]:
    """Seconds from queueing a batch of BATCH certificates until none is pending, with ``workers`` processes,
    and how many tasks each worker ran."""
    from sqlalchemy import func, select, update

    from accounts.models import User
    from awards import certificates
    from awards.models import FAILED, PENDING, SUPERSEDED, Certificate
    from campaigns.models import Campaign
    from pingxuan.db import commit
    from pingxuan.extensions import db
    from workflow.definition import STAFF

    # Each run issues a fresh batch: the previous run's certificates are set aside (benchmark data only).
    db.session.execute(update(Certificate).values(status=SUPERSEDED))
    commit()
    organizer = next(u for u in db.session.scalars(select(User)) if u.role in STAFF)
    campaign = db.session.scalar(select(Campaign).where(Campaign.is_current.is_(True)))
    running = start_workers(workers, folder, queue)
    try:
        started = time.perf_counter()
        batch = certificates.issue_batch(campaign, organizer)
        commit()  # the tasks go to Redis now
        total = len(batch.certificates)
        while True:
            db.session.rollback()
            pending = db.session.scalar(
                select(func.count()).where(Certificate.batch_id == batch.id, Certificate.status == PENDING)
            )
            if pending == 0:
                break
            if time.perf_counter() - started > DEADLINE:
                raise RuntimeError(f"{pending} of {total} certificates still pending after {DEADLINE:.0f} s")
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        failed = db.session.scalar(
            select(func.count()).where(Certificate.batch_id == batch.id, Certificate.status == FAILED)
        )
        if failed:
            raise RuntimeError(f"{failed} certificates failed")
        assert total == BATCH, total
    finally:
        stop_workers(running)
    return elapsed, [log.read_text(errors="replace").count("succeeded in") for _proc, log in running]


def redis_reachable() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - any failure means: no broker for part 2
        return str(error)
    return None


def main() -> None:
    from flask_migrate import upgrade

    from pingxuan.extensions import db

    queue = f"pingxuan-bench-{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix="pingxuan-bench-") as tmp:
        folder = Path(tmp)
        app = make_app(folder, queue)
        with app.app_context():
            upgrade()
            ours, bare = per_certificate()
            print(f"per certificate: awards.certificates {ours * 1000:.0f} ms, bare WeasyPrint {bare * 1000:.0f} ms "
                  f"(median of {RENDERS}); ratio {ours / bare:.2f}")  # fmt: skip

            problem = redis_reachable()
            if problem:
                print(f"batch: skipped, Redis at {REDIS_URL} is not reachable ({problem})")
                return
            t0 = time.perf_counter()
            awarded_cases(BATCH)
            print(f"set-up: {BATCH} awarded cases through fire() in {time.perf_counter() - t0:.1f} s")
            one, _shares = batch_wall_time(1, folder, queue)
            two, shares = batch_wall_time(2, folder, queue)
            print(f"batch of {BATCH}: 1 worker {one:.1f} s ({one / BATCH * 1000:.0f} ms each), 2 workers {two:.1f} s "
                  f"(tasks per worker {shares}); ratio 1 worker / 2 workers {one / two:.2f}")  # fmt: skip
            print(
                f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (other work on the machine "
                "shrinks the gain of a second worker)"
            )
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
