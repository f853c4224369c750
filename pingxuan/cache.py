"""A short-lived cache shared by every process of the app (Redis in production, in-process when embedded).

Public pages are built from data that changes rarely (the finalists, the published results) beside data that
changes on every vote (the counts, read fresh on each request). The rarely changing part is cached under a
*generation*: an operation that changes it calls ``bump(name)``, which takes effect after its transaction
commits, so the next request builds it anew and every process sees the same generation (the counter lives in
the shared cache). Entries also expire after a minute, so a lost bump costs at most that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_caching import Cache

from pingxuan.db import after_commit

cache = Cache()
TIMEOUT = 60
SHOWCASE, RESULTS = "showcase", "results"  # the generations of the public pages (finalists; published results)


def init_app(app: Flask) -> None:
    url = app.config.get("CACHE_REDIS_URL") or ""
    settings = {"CACHE_KEY_PREFIX": "px:", "CACHE_DEFAULT_TIMEOUT": TIMEOUT}
    if app.config.get("CACHE_TYPE"):
        settings["CACHE_TYPE"] = app.config["CACHE_TYPE"]
    elif url.startswith(("redis://", "rediss://")):
        settings |= {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
    else:
        settings["CACHE_TYPE"] = "SimpleCache"
    cache.init_app(app, config=settings)


def _generation_key(name: str) -> str:
    return f"gen:{name}"


def cached(name: str, key: str, build: Callable[[], Any], timeout: int = TIMEOUT) -> Any:
    """``build()`` at most once per generation of ``name`` (and per ``timeout``) for this ``key``.

    A hit costs one round trip to the shared cache: the generation and the entry are read together (MGET) and
    the entry carries the generation it was built under, so an entry of an older generation is built anew.
    """
    current, entry = cache.get_many(_generation_key(name), f"{name}:{key}")
    current = current or 0
    if entry is not None and entry[0] == current:
        return entry[1]
    value = build()
    cache.set(f"{name}:{key}", (current, value), timeout=timeout)
    return value


def bump(name: str) -> None:
    """Make every entry of ``name`` stale once the current transaction commits."""

    def go() -> None:
        cache.cache.inc(_generation_key(name))  # atomic on Redis (INCR); the backend applies the key prefix

    after_commit(go)
