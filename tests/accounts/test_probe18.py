"""Accounts against the second security probe (issue 18): logging out takes a POST with the CSRF token, tokens
cannot mint tokens, and no answer of /login or /register tells whether an address has an account."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from accounts.models import ApiToken
from accounts.operations import create_api_token
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import login


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
