"""Helpers for API tests: bearer headers from real personal access tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from accounts.operations import create_api_token
from pingxuan.db import commit


@pytest.fixture
def bearer(app) -> Callable[[User | None], dict[str, str]]:
    """``bearer(user)`` gives the Authorization header of a fresh token (``{}`` for None: anonymous)."""
    cache: dict[int, dict[str, str]] = {}

    def headers(user: User | None) -> dict[str, str]:
        if user is None:
            return {}
        if user.id not in cache:
            plain, _record = create_api_token(user, "tests")
            commit()
            cache[user.id] = {"Authorization": f"Bearer {plain}"}
        return cache[user.id]

    return headers
