"""Test fixtures: every test that takes ``app`` runs on SQLite and on PostgreSQL, schema built by migrations."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from pingxuan.extensions import db
from shell import create_app
from tests import services
from tests.cases.browsing import BrowserLikeClient
from tests.factories import Factory

BACKENDS = ["sqlite", "postgresql"]


def base_config(tmp: Path, database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True} if database_url.startswith("postgresql") else {},
        "STORAGE_DIR": str(tmp / "storage"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME_FOR_MAIL": "http://localhost",
        "SMS_BACKEND": "tests.phone:Phone",  # the outbox keeps codes redacted: tests read them on the "phone"
    }


@pytest.fixture(scope="session")
def throwaway() -> Iterator[services.Throwaway]:
    servers = services.Throwaway()
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def postgres_url(throwaway) -> str:
    """A PostgreSQL database whose public schema is rebuilt by the migrations once per session."""
    url = services.postgres_url(throwaway)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app(base_config(Path("/tmp"), url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url(throwaway) -> str:
    return services.redis_url(throwaway)


@pytest.fixture(scope="session")
def s3_endpoint(throwaway) -> str:
    """A SeaweedFS S3 gateway for this session, started the first time a test asks for it (a few seconds)."""
    endpoint = throwaway.s3()
    for name, value in services.S3_KEYS.items():  # boto3 reads its keys from the environment, as in production
        os.environ.setdefault(name, value)
    return endpoint


@pytest.fixture(scope="session")
def s3_bucket(s3_endpoint) -> str:
    """One bucket per session (SeaweedFS gives each bucket its own volumes); tests use their own prefixes."""
    services.s3_client(s3_endpoint).create_bucket(Bucket="pingxuan-test")
    return "pingxuan-test"


@pytest.fixture
def s3_storage_url(s3_bucket) -> str:
    """``PINGXUAN_STORAGE_URL`` for a test: the session's bucket under a prefix of its own."""
    return f"s3://{s3_bucket}/{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    app = create_app(base_config(path.parent, f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


def _truncate_all(app: Flask) -> None:
    """Empty every table and restart the sequences. DELETE, children first, rather than TRUNCATE: a test leaves
    a few rows, and TRUNCATE of ~50 tables costs PostgreSQL new files for each (a third of a second per test)."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(sa.text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
        db.engine.dispose()


def pytest_generate_tests(metafunc) -> None:
    """Every test that uses the database runs on both backends, except those marked ``postgresql_only``
    (properties such as concurrent writers that SQLite, which serializes writers, cannot show)."""
    if "backend" in metafunc.fixturenames:
        only_pg = metafunc.definition.get_closest_marker("postgresql_only") is not None
        metafunc.parametrize("backend", ["postgresql"] if only_pg else BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(request, backend, tmp_path) -> str:
    if backend == "postgresql":
        return request.getfixturevalue("postgres_url")
    template = request.getfixturevalue("sqlite_template")
    target = tmp_path / "test.sqlite3"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config(tmp_path, database_url) -> dict:
    """Override in a test module to change settings before the app is made."""
    return base_config(tmp_path, database_url)


@pytest.fixture
def app(app_config, backend) -> Iterator[Flask]:
    application = create_app(app_config)
    application.test_client_class = BrowserLikeClient  # nothing cached in g leaks between requests
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        db.session.remove()
        ctx.pop()
        if backend == "postgresql":
            _truncate_all(application)
        else:
            with application.app_context():
                db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app) -> Factory:
    return Factory()


def pytest_sessionstart(session) -> None:
    """Named services (CI) must answer before any test runs: fail the whole run at once, loudly, never skip."""
    problems = []
    for name, check in (
        ("PINGXUAN_TEST_POSTGRES_URL", services.check_postgres),
        ("PINGXUAN_TEST_REDIS_URL", services.check_redis),
    ):
        url = os.environ.get(name)
        if not url:
            continue
        try:
            check(url)
        except services.ServiceUnavailable as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        pytest.exit("required test services are unreachable:\n  " + "\n  ".join(problems), returncode=3)


def pytest_report_header(config) -> list[str]:
    return [
        f"postgresql: {os.environ.get('PINGXUAN_TEST_POSTGRES_URL') or 'throwaway server'}",
        f"redis: {os.environ.get('PINGXUAN_TEST_REDIS_URL') or 'throwaway server'}",
    ]
