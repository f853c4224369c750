"""docs/deploy/nginx.conf, started with Debian's nginx binary on free ports in front of a real gunicorn: the app
sees the client's address (not nginx's), a second request for the published results is a cache HIT, and with
gunicorn stopped the results still answer 200 from the cache."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from pingxuan.extensions import db
from pingxuan.paths import PROJECT_ROOT
from tests.awards.test_pages import awarded
from voting.ballots import votable_states
from voting.models import Ballot, Voter
from voting.operations import voter_token
from voting.privacy import ip_hash

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CLIENT_ADDRESS = "127.0.0.2"  # the visitor; nginx reaches gunicorn from 127.0.0.1


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with closing(socket.socket()) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def get(port: int, path: str, method: str = "GET", headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20, source_address=(CLIENT_ADDRESS, 0))
    try:
        conn.request(method, path, headers={"X-Forwarded-For": "6.6.6.6", **(headers or {})})  # a lie nginx drops
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def nginx_config(tmp: Path, listen: int, upstream: int) -> Path:
    text = (PROJECT_ROOT / "docs" / "deploy" / "nginx.conf").read_text()
    for pattern, value in (
        (r"(?m)^pid [^;]+;", f"pid {tmp}/nginx.pid;"), (r"error_log [^;]+;", f"error_log {tmp}/error.log warn;"),
        (r"access_log [^;]+;", f"access_log {tmp}/access.log;"),
        (r"proxy_cache_path \S+", f"proxy_cache_path {tmp}/cache"),
        (r"server 127\.0\.0\.1:8000;", f"server 127.0.0.1:{upstream};"),
        (r"listen 80;", f"listen 127.0.0.1:{listen};"),
    ):  # fmt: skip
        text, found = re.subn(pattern, value, text)
        assert found == 1, pattern
    config = tmp / "nginx.conf"
    config.write_text(text)
    return config


@pytest.fixture
def deployed(app, tmp_path):
    if not Path(NGINX).exists():
        pytest.fail("Debian's nginx is not installed: ./dev.sh install puts it there (apt-get install nginx)")
    gunicorn_port, nginx_port = free_port(), free_port()
    env = {**os.environ, "PINGXUAN_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "PINGXUAN_SECRET_KEY": app.config["SECRET_KEY"], "PINGXUAN_INSTANCE_PATH": str(tmp_path / "instance"),
           "PINGXUAN_STORAGE_DIR": app.config["STORAGE_DIR"], "PINGXUAN_PROXY_COUNT": "1",
           "PYTHONPATH": str(PROJECT_ROOT)}  # fmt: skip
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", "2", "-b", f"127.0.0.1:{gunicorn_port}", "wsgi:app"],
        cwd=PROJECT_ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    folder = tmp_path / "nginx"
    folder.mkdir()
    user = "user root;" if os.geteuid() == 0 else ""  # workers that may write the test's own cache folder
    nginx = subprocess.Popen([NGINX, "-c", str(nginx_config(folder, nginx_port, gunicorn_port)), "-p", str(folder),
                              "-g", f"daemon off; {user}"], start_new_session=True)  # fmt: skip
    try:
        wait_for(gunicorn_port)
        wait_for(nginx_port)
        yield nginx_port, gunicorn
    finally:
        for proc in (nginx, gunicorn):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)


@pytest.mark.postgresql_only  # the production shape: one backend is enough for the proxy
def test_nginx_in_front_passes_the_client_address_caches_results_and_survives_a_restart(app, make, deployed):
    port, gunicorn = deployed
    cases, _organizer = awarded(make, size=2)  # awarded and published
    case = cases["A"]

    status, headers, body = get(port, "/results")
    assert status == 200 and headers["x-cache-status"] == "MISS" and case.title.encode() in body
    status, headers, again = get(port, "/results")
    assert status == 200 and headers["x-cache-status"] == "HIT" and again == body

    # The app sees the visitor's address, not nginx's nor the header the visitor forged: a ballot's evidence.
    finalist = make.case(votable_states()[0], title="智慧路灯")
    finalist.campaign.vote_status = VOTE_OPEN
    voter = Voter(phone_hash="f" * 64)
    db.session.add(voter)
    commit()
    status, _headers, body = get(port, f"/api/v1/showcase/cases/{finalist.id}/vote", "POST",
                                 {"X-Voter-Token": voter_token(voter.id)})  # fmt: skip
    assert status == 200, body
    db.session.expire_all()
    ballot = db.session.scalar(select(Ballot))
    assert ballot.ip_hash == ip_hash(CLIENT_ADDRESS) != ip_hash("127.0.0.1")

    os.killpg(gunicorn.pid, signal.SIGTERM)
    gunicorn.wait(timeout=20)
    status, headers, stale = get(port, "/results")
    assert status == 200 and stale == again and headers["x-cache-status"] in ("HIT", "STALE", "UPDATING")
    status, _headers, _body = get(port, "/dashboard")
    assert status == 502, "pages that are not public are never served from the cache"
