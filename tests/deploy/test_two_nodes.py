"""Stateless nodes, proven: two gunicorn instances and a Celery worker, each in its own instance folder with no
shared local disk, on one PostgreSQL, Redis and S3 (SeaweedFS). A unit uploads through node A and an organizer
downloads through node B; a certificate batch rendered by the worker is downloaded through node A; a vote
through node B shows in node A's counts; a session, a CSRF token, a captcha and the login rate limit made on
one node hold on the other."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import select

from awards import certificates
from awards.models import ISSUED, Certificate
from campaigns.models import VOTE_OPEN
from cases.models import Attachment
from pingxuan.db import commit
from pingxuan.extensions import db
from pingxuan.paths import PROJECT_ROOT
from shell import create_app
from tests import altcha_client, services
from tests.awards.test_certificates import awarded_case
from tests.conftest import _truncate_all, base_config
from tests.deploy.test_nginx import free_port, wait_for
from tests.factories import PASSWORD, PDF, Factory
from voting.ballots import votable_states
from voting.models import Voter
from voting.operations import voter_token

SECRET = "two-nodes-secret"


@pytest.fixture
def cluster(tmp_path, postgres_url, redis_url, s3_endpoint, s3_storage_url):
    """The test process's app (for set-up and checks) plus node A, node B and a worker, sharing only services."""
    queue = f"pingxuan-nodes-{uuid.uuid4().hex[:12]}"
    limits = redis.Redis.from_url(redis_url)  # the login limit is counted from zero: an earlier test of this
    for key in limits.scan_iter("LIMITS:*"):  # process may have logged in from 127.0.0.1 within the minute
        limits.delete(key)
    shared = {
        "PINGXUAN_DATABASE_URL": postgres_url, "PINGXUAN_BROKER_URL": redis_url, "PINGXUAN_SECRET_KEY": SECRET,
        "PINGXUAN_STORAGE_URL": s3_storage_url, "PINGXUAN_S3_ENDPOINT": s3_endpoint,
        "PINGXUAN_RATELIMIT_LOGIN": "5 per minute", "PINGXUAN_PUBLIC_URL": "http://localhost",
        "PINGXUAN_TASK_QUEUE": queue, **services.S3_KEYS,
    }  # fmt: skip
    config = base_config(tmp_path / "test", postgres_url) | {
        "SECRET_KEY": SECRET, "STORAGE_URL": s3_storage_url, "S3_ENDPOINT": s3_endpoint,
    }  # fmt: skip
    config["CELERY"] = {
        "broker_url": redis_url, "task_always_eager": False, "task_serializer": "json", "accept_content": ["json"],
        "broker_connection_retry_on_startup": True, "task_ignore_result": True, "task_default_queue": queue,
    }  # fmt: skip
    app = create_app(config)
    base = {k: v for k, v in os.environ.items() if not k.startswith("PINGXUAN_")} | {"PYTHONPATH": str(PROJECT_ROOT)}
    procs, ports = [], []
    for name in ("a", "b"):
        folder = tmp_path / f"node-{name}"
        (folder / "metrics").mkdir(parents=True)  # each node's gunicorn workers add up their samples here
        env = base | shared | {"PINGXUAN_INSTANCE_PATH": str(folder), "PINGXUAN_STORAGE_DIR": str(folder / "none"),
                               "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}  # fmt: skip
        port = free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        procs.append(subprocess.Popen([gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=PROJECT_ROOT,
                                      env=env, start_new_session=True))  # fmt: skip
        ports.append(port)
    folder = tmp_path / "worker"
    env = base | shared | {"PINGXUAN_INSTANCE_PATH": str(folder), "PINGXUAN_STORAGE_DIR": str(folder / "none")}
    worker_log = (tmp_path / "worker.log").open("wb")
    procs.append(subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shell.worker", "worker", "--pool=solo", "-Q", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"{queue}@%h"],
        cwd=PROJECT_ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT, start_new_session=True,
    ))  # fmt: skip
    ctx = app.app_context()
    ctx.push()
    try:
        for port in ports:
            wait_for(port)
        yield app, [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
        worker_log.close()
        db.session.remove()
        ctx.pop()
        _truncate_all(app)
        for name in ("node-a", "node-b", "worker"):  # nothing was written to a node's own disk (but metrics)
            assert not (tmp_path / name / "none").exists()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def login(browser: requests.Session, node: str, email: str, password: str = PASSWORD) -> requests.Response:
    token = csrf_token(browser.get(f"{node}/login").text)
    return browser.post(f"{node}/login", data={"email": email, "password": password, "csrf_token": token},
                        allow_redirects=False)  # fmt: skip


@pytest.mark.postgresql_only
def test_two_nodes_and_a_worker_share_nothing_but_the_services(cluster):
    app, (node_a, node_b) = cluster
    make = Factory()
    owner, organizer = make.applicant(), make.organizer()
    case = make.case(owner=owner, complete=False)

    # A unit logs in on node A and uploads there with the CSRF token node A's form carries… to node B.
    unit = requests.Session()
    assert login(unit, node_a, owner.email).status_code == 302
    token = csrf_token(unit.get(f"{node_a}/cases/{case.id}/edit").text)
    uploaded = unit.post(f"{node_b}/cases/{case.id}/attachments", data={"kind": "document", "csrf_token": token},
                         files={"file": ("申报书.pdf", PDF)}, allow_redirects=False)  # fmt: skip
    assert uploaded.status_code == 302, uploaded.text
    db.session.rollback()
    attachment = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).one()

    # An organizer logged in on node B downloads it through node B, then node A with the same cookie.
    office = requests.Session()
    assert login(office, node_b, organizer.email).status_code == 302
    for node in (node_b, node_a):
        download = office.get(f"{node}/cases/{case.id}/attachments/{attachment.id}?download=1")
        assert download.status_code == 200 and download.content == PDF

    # A certificate batch rendered by the worker (its own folder) downloads through node A.
    awarded = awarded_case(make)
    batch = certificates.issue_batch(awarded.campaign, organizer)
    commit()  # queues one task per certificate to the worker
    deadline = time.monotonic() + 90
    while True:
        db.session.rollback()
        certificate = db.session.scalar(select(Certificate).where(Certificate.case_id == awarded.id))
        if certificate.status == ISSUED:
            break
        assert time.monotonic() < deadline, "the worker rendered nothing in 90 s"
        time.sleep(0.5)
    response = office.get(f"{node_a}/admin/awards/certificates/batches/{batch.id}/zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert [archive.read(n) for n in archive.namelist()] == [certificates.pdf_of(certificate)]
    assert office.get(f"{node_b}/my-certificates/{certificate.id}.pdf").content == certificates.pdf_of(certificate)

    # A vote through node B shows in node A's counts.
    finalist = make.case(votable_states()[0], title="智慧路灯")
    finalist.campaign.vote_status = VOTE_OPEN
    voter = Voter(phone_hash="e" * 64)
    db.session.add(voter)
    commit()
    before = requests.get(f"{node_a}/api/v1/showcase/cases/{finalist.id}").json()["votes"]
    voted = requests.post(f"{node_b}/api/v1/showcase/cases/{finalist.id}/vote",
                          headers={"X-Voter-Token": voter_token(voter.id)})  # fmt: skip
    assert voted.status_code == 200, voted.text
    assert requests.get(f"{node_a}/api/v1/showcase/cases/{finalist.id}").json()["votes"] == (before or 0) + 1

    # Node B's /metrics counts that vote whichever of its two gunicorn workers took the vote or the scrape.
    accepted = 'pingxuan_votes_total{outcome="accepted",reason=""} 1.0'
    scrapes = [requests.get(f"{node_b}/metrics").text for _ in range(8)]
    assert all(accepted in scrape for scrape in scrapes), [s for s in scrapes if accepted not in s][:1]

    # A captcha challenge fetched from node A is solved and answered on node B; replaying that payload on node A
    # is refused (the used challenge is recorded in Redis).
    person = requests.Session()
    challenge = person.get(f"{node_a}/api/v1/captcha").json()
    solved = altcha_client.payload(challenge)
    assert person.post(f"{node_b}/api/v1/captcha", json={"payload": solved}).status_code == 204
    assert requests.post(f"{node_a}/api/v1/captcha", json={"payload": solved}).status_code == 422

    # The login limit (5 per minute per address) counts the attempts on both nodes together: two logins above.
    stranger = requests.Session()
    statuses = [login(stranger, node, "nobody@example.org", "wrong").status_code
                for node in (node_a, node_b, node_a, node_b)]  # fmt: skip
    assert statuses[-1] == 429 and 429 not in statuses[:3], statuses
