"""Accounts against the second security probe (issue 18): logging out takes a POST with the CSRF token, tokens
cannot mint tokens, and no answer of /login or /register tells whether an address has an account."""

from __future__ import annotations

import re
import statistics
import time

import pytest
from sqlalchemy import func, select

from accounts.models import ApiToken
from accounts.operations import create_api_token
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import PASSWORD, login


def _logged_in(client) -> bool:
    return client.get("/password").status_code == 200


class TestLogoutTakesAPost:
    @pytest.fixture
    def app_config(self, app_config):
        return app_config | {"WTF_CSRF_ENABLED": True}

    def test_a_link_elsewhere_no_longer_logs_out(self, client, make):
        login(client, make.applicant())
        page = client.get("/logout")  # what an <img src=…/logout> on another site makes the browser ask
        assert page.status_code == 200 and _logged_in(client)
        assert client.post("/logout").status_code == 400 and _logged_in(client)  # a forged POST has no token
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
        assert client.post("/logout", data={"csrf_token": token}).status_code == 302
        assert not _logged_in(client)

    def test_every_page_offers_a_logout_button_not_a_link(self, client, make):
        login(client, make.applicant())
        page = client.get("/dashboard", follow_redirects=True).get_data(as_text=True)
        assert 'href="/logout"' not in page
        assert re.search(r'<form method="post" action="/logout"[^>]*><input type="hidden" name="csrf_token"', page)


def test_a_token_cannot_mint_tokens_that_would_outlive_it(app, client, make):
    user = make.applicant()
    plain, record = create_api_token(user, "laptop")
    commit()
    auth = {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}
    minted = client.post("/api/v1/me/tokens", json={"name": "spare"}, headers=auth)
    assert minted.status_code == 403 and "cannot create API tokens" in minted.get_json()["message"]
    assert [t["name"] for t in client.get("/api/v1/me/tokens", headers=auth).get_json()] == ["laptop"]
    login(client, user)  # a person logged in still makes them on the account page
    assert client.post("/tokens", data={"name": "spare"}).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)) == 2


class TestLoginSaysNothingAboutAccounts:
    @pytest.fixture
    def app_config(self, app_config):  # the production hash, so its cost shows; limits off for the timing
        return app_config | {"PASSWORD_HASH_METHOD": "scrypt", "RATELIMIT_ENABLED": False}

    def test_an_unknown_address_takes_as_long_and_reads_the_same(self, client, make):
        user = make.applicant()

        def attempt(email: str) -> tuple[float, int, str]:
            started = time.perf_counter()
            answer = client.post("/login", data={"email": email, "password": "not-the-password"})
            elapsed = time.perf_counter() - started
            return elapsed, answer.status_code, _flash(answer.get_data(as_text=True))

        known = [attempt(user.email) for _ in range(5)]
        unknown = [attempt(f"nobody{i}@example.org") for i in range(5)]
        assert {(status, words) for _t, status, words in known} == {(status, words) for _t, status, words in unknown}
        fast, slow = statistics.median(t for t, *_ in unknown), statistics.median(t for t, *_ in known)
        assert fast > slow / 3, (fast, slow)  # (it was 2–8 ms against 85–128 ms)


def _flash(page: str) -> str:
    return re.search(r'<div class="flash flash-error"[^>]*>([^<]*)</div>', page).group(1)


def test_failed_logins_for_one_account_slow_down_whatever_the_address(client, make):
    user = make.admin()

    def attempt(email: str, password: str, n: int):
        return client.post("/login", data={"email": email, "password": password},
                           environ_base={"REMOTE_ADDR": f"198.51.100.{n}"})  # fmt: skip

    for email in (user.email, "nobody@example.org"):  # an account, and an address without one: the same
        assert [attempt(email, "wrong", n).status_code for n in range(4)] == [401, 401, 401, 401]
        waiting = attempt(email, PASSWORD, 9)  # even the right password waits now
        assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
        time.sleep(1.1)
        assert attempt(email, "wrong", 10).status_code == 401
        assert attempt(email, "wrong", 11).headers["Retry-After"] == "2"  # the delay grows
    time.sleep(2.1)
    assert attempt(user.email, PASSWORD, 12).status_code == 302  # not a lockout
    client.post("/logout")
    assert attempt(user.email, "wrong", 13).status_code == 401  # a success clears the count


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b"])
def test_line_separators_in_one_line_fields_are_refused_at_the_field(client, separator):
    from tests.accounts.test_pages import _registration

    data = _registration(unit_name=f"青岛{separator}云帆", contact_name=f"王{separator}芳", name=f"王{separator}明")
    answer = client.post("/register", data=data, headers={"Accept-Language": "en"})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    for field in ("unit_name", "contact_name", "name"):
        assert re.search(rf'id="{field}-error">Remove the hidden character', page), field
