"""/healthz says the process answers; /readyz says it can serve, and names the dependency that is down."""

from __future__ import annotations

import pytest

from shell import create_app
from tests.conftest import base_config
from tests.services import _free_port


def readyz(app) -> tuple[int, dict]:
    response = app.test_client().get("/readyz")
    return response.status_code, response.get_json()


def test_ready_when_everything_answers(app, client):
    assert client.get("/healthz").data == b"ok"
    status, body = readyz(app)
    assert status == 200 and body == {"status": "ready", "checks": {"database": "ok", "redis": "not used",
                                                                     "storage": "ok", "sms": "ok",
                                                                     "captcha": "ok"}}  # fmt: skip


@pytest.mark.postgresql_only
def test_ready_with_redis_and_s3(app_config, redis_url, s3_endpoint, s3_storage_url):
    app = create_app(app_config | {"RATELIMIT_STORAGE_URI": redis_url, "STORAGE_URL": s3_storage_url,
                                   "S3_ENDPOINT": s3_endpoint})  # fmt: skip
    status, body = readyz(app)
    assert status == 200 and set(body["checks"].values()) == {"ok"}


def test_database_down_is_503(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/nothing"
    status, body = readyz(create_app(base_config(tmp_path, url)))
    assert status == 503 and body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("error") and body["checks"]["storage"] == "ok"


def test_database_behind_the_migrations_is_503(tmp_path):
    status, body = readyz(create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}")))
    assert status == 503 and "migrations" in body["checks"]["database"]


def test_redis_down_is_503(app_config):
    app = create_app(app_config | {"RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_free_port()}/0"})
    status, body = readyz(app)
    assert status == 503 and body["checks"]["redis"].startswith("error") and body["checks"]["database"] == "ok"


def test_storage_down_is_503(app_config):
    app = create_app(
        app_config | {"STORAGE_URL": "s3://pingxuan-gone/x", "S3_ENDPOINT": f"http://127.0.0.1:{_free_port()}"}
    )
    status, body = readyz(app)
    assert status == 503 and body["checks"]["storage"].startswith("error") and body["checks"]["database"] == "ok"
