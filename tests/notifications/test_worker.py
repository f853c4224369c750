"""A real Celery worker process delivers the state-change notification queued after a commit.

The app here is configured like production (Redis broker, tasks not eager); the worker is started with
``celery -A shell.worker worker`` and the same PINGXUAN_* variables a deployment would set. Firing
``submit`` writes nothing by itself: the Notification and OutboxMail rows appear only once the worker ran.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from notifications.models import Notification, OutboxMail
from pingxuan.db import commit
from pingxuan.extensions import db
from pingxuan.paths import PROJECT_ROOT
from shell import create_app
from tests.cases.browsing import BrowserLikeClient
from tests.conftest import _truncate_all, base_config
from tests.factories import Factory, login
from tests.smtp import SmtpSink
from workflow.engine import fire

pytestmark = pytest.mark.worker

TIMEOUT = 60


@pytest.fixture
def queue_name() -> str:
    # A queue of its own: parallel test sessions sharing one Redis never take each other's tasks.
    return f"pingxuan-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def broker_app(tmp_path, postgres_url, redis_url, queue_name):
    config = base_config(tmp_path, postgres_url)
    config["CELERY"] = {
        "broker_url": redis_url,
        "task_always_eager": False,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,
        "task_default_queue": queue_name,
    }
    app = create_app(config)
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.remove()
        ctx.pop()
        _truncate_all(app)


def start_worker(
    tmp_path: Path, postgres_url: str, redis_url: str, queue_name: str, extra_env: dict | None = None
) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGXUAN_")}
    env |= {
        "PINGXUAN_DATABASE_URL": postgres_url,
        "PINGXUAN_BROKER_URL": redis_url,
        "PINGXUAN_STORAGE_DIR": str(tmp_path / "storage"),
        "PINGXUAN_INSTANCE_PATH": str(tmp_path / "instance"),
        "PINGXUAN_SECRET_KEY": "test-secret",
        "PINGXUAN_PUBLIC_URL": "http://localhost",
        "PINGXUAN_RATELIMIT_STORAGE_URI": "memory://",
        "PINGXUAN_FONT_CACHE_DIR": current_app.config["FONT_CACHE_DIR"],  # built once, not per worker (3 s)
        **(extra_env or {}),
    }
    log = tmp_path / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "shell.worker", "worker", "--pool=solo", "-c", "1",
        "--without-heartbeat", "--without-gossip", "--without-mingle", "-Q", queue_name, "--loglevel=INFO",
        "-n", f"{queue_name}@%h",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, log


def stop_worker(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task, then exit
        try:
            return proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("the worker did not stop within 30 s of SIGTERM")
    return proc.returncode


def counts(case_id: int) -> tuple[int, int]:
    db.session.rollback()  # see what other connections committed since
    notes = db.session.scalar(select(func.count(Notification.id)).where(Notification.case_id == case_id))
    mails = db.session.scalar(select(func.count(OutboxMail.id)))
    return notes, mails


def test_worker_delivers_the_state_change_notification(broker_app, tmp_path, postgres_url, redis_url, queue_name):
    assert broker_app.extensions["celery"].conf.task_always_eager is False
    make = Factory()
    owner = make.applicant()
    colleague = make.applicant(unit=owner.unit)
    case = make.case(owner=owner)  # a complete draft; creating it fires nothing
    mails_before = counts(case.id)[1]

    fire(case, "submit", owner)
    commit()  # queues notifications.notify_case_event in Redis instead of running it here
    assert case.state == "submitted"
    time.sleep(0.5)
    assert counts(case.id) == (0, mails_before), "with a broker the notification must not be written in-process"

    proc, log = start_worker(tmp_path, postgres_url, redis_url, queue_name)
    try:
        deadline = time.monotonic() + TIMEOUT
        while counts(case.id) != (2, mails_before + 2):
            if proc.poll() is not None:
                pytest.fail(f"the worker exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(f"no notification within {TIMEOUT} s; worker log:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
    finally:
        status = stop_worker(proc)
    output = log.read_text(errors="replace")
    assert status == 0, output
    assert "notifications.notify_case_event" in output and "succeeded" in output, output

    notes = db.session.scalars(select(Notification).where(Notification.case_id == case.id)).all()
    assert {n.user_id for n in notes} == {owner.id, colleague.id}
    assert all(case.number in n.message_zh and case.number in n.message_en for n in notes)
    mails = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(2)).all()
    assert {m.recipient for m in mails} == {owner.email, colleague.email}
    assert all(m.sent_at is not None and m.error is None and f"/cases/{case.id}" in m.body for m in mails)


def test_mail_goes_out_from_the_worker_never_inside_the_request(broker_app, tmp_path, postgres_url, redis_url,
                                                                 queue_name):  # fmt: skip
    """Issue 14: a reset request and an invitation answer at once; the SMTP server hears from the worker."""
    sink = SmtpSink()
    smtp = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink.port}
    broker_app.config.update(smtp)
    owner = Factory().applicant()
    client = BrowserLikeClient(broker_app, broker_app.response_class)  # nothing cached in g between requests
    try:
        assert client.post("/forgot", data={"email": owner.email}).status_code == 302
        login(client, owner)
        invited = client.post("/unit", data={"email": "colleague@example.org"})
        assert invited.status_code == 302 and invited.headers["Location"] == "/unit", invited.headers
        time.sleep(0.5)
        assert sink.messages == [], "the requests talked to the mail server themselves"
        db.session.rollback()
        queued = db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == "colleague@example.org"))
        assert (
            queued.sent_at is None and "[link]" in queued.body and "/invitations/" not in queued.body
        )  # link left out

        env = {f"PINGXUAN_{name}": str(value) for name, value in smtp.items()}
        env["PINGXUAN_TASK_QUEUE"] = queue_name  # the tasks the worker queues itself (the reset's mail) too
        proc, log = start_worker(tmp_path, postgres_url, redis_url, queue_name, env)
        try:
            deadline = time.monotonic() + TIMEOUT
            while len(sink.messages) < 2:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the worker sent {len(sink.messages)} mails:\n{log.read_text(errors='replace')}")
                time.sleep(0.2)
        finally:
            stop_worker(proc)
    finally:
        sink.close()
    assert re.search(r"http://localhost/reset/\S+", sink.texts(owner.email)[0])
    assert re.search(r"http://localhost/invitations/[\w-]{20,}", sink.texts("colleague@example.org")[0])
    db.session.rollback()
    assert all(m.sent_at is not None for m in db.session.scalars(select(OutboxMail)))
