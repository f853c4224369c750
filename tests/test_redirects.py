"""No ``next`` sends a visitor to another site (issue 18): one helper, ``pingxuan.net.safe_next``, decides for
every page that follows a ``next`` (log in, the vote's verification, the captcha, the language switch)."""

from __future__ import annotations

import re

import pytest

from campaigns.models import VOTE_OPEN
from pingxuan.db import commit
from pingxuan.net import safe_next
from tests.factories import PASSWORD
from tests.phone import last_code

HOSTILE = [
    "/\t/evil.example/phish", "/\n/evil.example", "/\r/evil.example", "\t//evil.example", "//evil.example",
    "///evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "https://evil.example/",
    "http:evil.example", "javascript:alert(1)", "data:text/html,x", " //evil.example", "/\u2028/evil.example",
    "/\u00a0/evil.example", "/\x00/evil.example", "/\u200b/evil.example", "evil.example", "http://localhost.evil/",
]  # fmt: skip


@pytest.mark.parametrize("target", HOSTILE)
def test_nothing_that_leaves_the_site_is_followed(app, target):
    with app.test_request_context("/"):
        assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", ["/showcase/cases/3", "/notice?year=2017&x=%2F%2Fevil", "/a/b?next=//x",
                                    "/%09/evil.example", "http://localhost/dashboard"])  # fmt: skip
def test_paths_of_this_site_are_followed(app, target):
    with app.test_request_context("/"):
        assert safe_next(target, "/fallback") == target.removeprefix("http://localhost")


def test_verifying_a_number_never_redirects_elsewhere(app, make):
    campaign = make.campaign()
    campaign.vote_status = VOTE_OPEN
    commit()
    client = app.test_client()
    page = client.get("/showcase/verify?next=/%09/evil.example/phish").get_data(as_text=True)
    hidden = re.search(r'name="next" value="([^"]*)"', page).group(1)
    assert "evil" not in hidden
    client.post("/showcase/verify/code", data={"phone": "13800138000", "next": "/\t/evil.example/phish"})
    hostile = {"phone": "13800138000", "code": last_code(), "next": "/\t/evil.example/phish"}
    done = client.post("/showcase/verify/check", data=hostile)
    assert done.status_code == 302 and "evil" not in done.headers["Location"]
    assert done.headers["Location"].endswith("/showcase")


def test_the_captcha_page_keeps_no_foreign_next(client):
    page = client.get("/showcase/captcha?next=/%09/evil.example/phish").get_data(as_text=True)
    assert re.search(r'name="next" value="([^"]*)"', page).group(1) == "/showcase"


def test_logging_in_never_redirects_elsewhere(client, make):
    user = make.applicant()
    answer = client.post("/login?next=/%09/evil.example", data={"email": user.email, "password": PASSWORD})
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard"
    back = client.get("/language/en?next=/%5C/evil.example", headers={"Referer": "https://evil.example/"})
    assert back.status_code == 302 and "evil" not in back.headers["Location"]
