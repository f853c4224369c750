"""Logs: a request id on every response, JSON lines on demand, and the id carried into the Celery task the
request queued (a real worker writing JSON)."""

from __future__ import annotations

import json
import logging
import time

import pytest

from pingxuan import logs
from pingxuan.db import commit
from tests.factories import Factory
from tests.notifications.test_worker import broker_app, queue_name, start_worker, stop_worker  # noqa: F401
from workflow.engine import fire


def test_request_id_is_kept_when_sane_and_made_otherwise(client):
    assert client.get("/healthz", headers={"X-Request-ID": "edge-42.a"}).headers["X-Request-ID"] == "edge-42.a"
    made = client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["X-Request-ID"]
    assert made != "<script>" and len(made) == 32


def test_json_lines_carry_the_request_id():
    token = logs.REQUEST_ID.set("abc123")
    try:
        record = logging.LogRecord("pingxuan.test", logging.WARNING, __file__, 1, "投票 %s", ("ok",), None)
        line = logs.handler("json").format(record)
    finally:
        logs.REQUEST_ID.reset(token)
    assert json.loads(line) | {"time": None} == {
        "time": None, "level": "WARNING", "logger": "pingxuan.test", "message": "投票 ok", "request_id": "abc123"
    }  # fmt: skip


@pytest.mark.worker
def test_a_task_logs_with_the_request_id_that_queued_it(broker_app, tmp_path, postgres_url, redis_url, queue_name):  # noqa: F811
    make = Factory()
    owner = make.applicant()
    case = make.case(owner=owner)
    token = logs.REQUEST_ID.set("req-from-the-web-7")
    try:
        fire(case, "submit", owner)
        commit()  # queues the notification task with the request id in its headers
    finally:
        logs.REQUEST_ID.reset(token)
    proc, log = start_worker(tmp_path, postgres_url, redis_url, queue_name, {"PINGXUAN_LOG_FORMAT": "json"})
    try:
        deadline = time.monotonic() + 60
        while '"request_id": "req-from-the-web-7"' not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.3)
    finally:
        stop_worker(proc)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines and any(entry["request_id"] == "req-from-the-web-7" for entry in lines)


def test_case_transitions_do_not_fill_the_log_line_by_line(app, make, caplog):
    """The state machine library logs each callback of each transition at INFO: kept out unless debugging."""
    with caplog.at_level(logging.INFO):
        case = make.case("expert_review")
    assert case.state == "expert_review"
    assert [r.getMessage() for r in caplog.records if r.name.startswith("transitions")] == []
