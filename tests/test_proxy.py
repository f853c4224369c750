"""Behind a reverse proxy the count of trusted proxies must be set; the app says so when it is not."""

from __future__ import annotations

import logging


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "PROXY_COUNT" in r.getMessage()]


def test_forwarded_requests_with_no_trusted_proxy_log_one_warning(app, client, caplog):
    caplog.set_level(logging.WARNING, logger="pingxuan.net")
    client.get("/healthz")
    assert _warnings(caplog) == []  # a direct request: nothing to say
    client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.8"})
    assert len(_warnings(caplog)) == 1  # once per process, not once per request
    assert "PINGXUAN_PROXY_COUNT" in _warnings(caplog)[0]


def test_no_warning_when_the_proxy_count_is_set(app, client, caplog):
    app.config["PROXY_COUNT"] = 1
    caplog.set_level(logging.WARNING, logger="pingxuan.net")
    client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    assert _warnings(caplog) == []
