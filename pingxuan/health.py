"""Readiness: what a load balancer or an orchestrator asks before sending a node traffic (``/readyz``).

``/healthz`` only says the process answers; ``/readyz`` says it can serve: the database answers and its schema
is at the migrations' head, every Redis the configuration names answers, and the file storage is reachable.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import sqlalchemy as sa
from flask import current_app

from pingxuan import storage
from pingxuan.extensions import db
from pingxuan.paths import PROJECT_ROOT

OK = "ok"


@cache
def migration_heads() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_heads())


def redis_urls() -> list[str]:
    """Every Redis the configuration uses: broker, rate-limit storage, cache (each once)."""
    config = current_app.config
    candidates = [
        config["CELERY"].get("broker_url"),
        config.get("RATELIMIT_STORAGE_URI"),
        config.get("CACHE_REDIS_URL"),
    ]
    urls: list[str] = []
    for url in candidates:
        if url and url.startswith(("redis://", "rediss://")) and url not in urls:
            urls.append(url)
    return urls


def _database() -> str:
    with db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        try:
            current = set(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
        except sa.exc.DBAPIError:
            current = set()
    if current != migration_heads():
        raise RuntimeError(f"migrations: database at {sorted(current) or 'none'}, code at {sorted(migration_heads())}")
    return OK


def _redis() -> str:
    import redis

    for url in redis_urls():
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    return OK if redis_urls() else "not used"


def _storage() -> str:
    storage.check()
    return OK


CHECKS: dict[str, Callable[[], str]] = {"database": _database, "redis": _redis, "storage": _storage}


def register(app, name: str, check: Callable[[], str]) -> None:
    """A domain's own readiness check (the SMS gateway's configuration, …), wired by the application shell."""
    app.extensions.setdefault("pingxuan.ready_checks", {})[name] = check


def readiness() -> tuple[bool, dict[str, str]]:
    """Run every check; a failing one reports its error instead of ``ok``."""
    results: dict[str, str] = {}
    for name, check in {**CHECKS, **current_app.extensions.get("pingxuan.ready_checks", {})}.items():
        try:
            results[name] = check()
        except Exception as error:  # noqa: BLE001  any failure is "not ready", reported with its cause
            results[name] = f"error: {type(error).__name__}: {error}"[:500]
    return all(not value.startswith("error") for value in results.values()), results
