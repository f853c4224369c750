"""The language a person chooses stays (issue 21): ``?lang=en`` or the language link is remembered in a cookie,
in the session and, when logged in, in the account; public pages keep it in their links."""

from __future__ import annotations

import re

from accounts.models import User
from pingxuan.extensions import db
from pingxuan.i18n import LANGUAGE_COOKIE
from tests.factories import PASSWORD, login


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_lang_en_stays_from_page_to_page(client):
    assert _lang(client.get("/login?lang=en").get_data(as_text=True)) == "en"
    assert client.get_cookie(LANGUAGE_COOKIE).value == "en"
    for path in ("/login", "/register", "/"):
        assert _lang(client.get(path).get_data(as_text=True)) == "en", path


def test_the_cookie_alone_keeps_the_language(app):
    """A new session (the browser reopened, or after logging out) still speaks the language chosen."""
    client = app.test_client()
    client.get("/login?lang=en")
    fresh = app.test_client()
    fresh.set_cookie(LANGUAGE_COOKIE, client.get_cookie(LANGUAGE_COOKIE).value)
    assert _lang(fresh.get("/login").get_data(as_text=True)) == "en"


def test_choosing_chinese_again_stays_chinese(client):
    client.get("/login?lang=en")
    back = client.get("/language/zh_Hans_CN?next=/login")
    assert back.status_code == 302
    assert _lang(client.get("/register").get_data(as_text=True)) == "zh-CN"
    assert client.get_cookie(LANGUAGE_COOKIE).value == "zh_Hans_CN"


def test_the_account_keeps_the_choice_for_the_next_login(app, make):
    user = make.applicant()
    client = app.test_client()
    login(client, user)
    assert _lang(client.get("/my-cases?lang=en").get_data(as_text=True)) == "en"
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    elsewhere = app.test_client()  # another browser: no cookie, no session
    answer = elsewhere.post("/login", data={"email": user.email, "password": PASSWORD}, follow_redirects=True)
    assert _lang(answer.get_data(as_text=True)) == "en"


def test_links_to_public_pages_carry_the_language(client):
    """A public page is cached by its URL and reads no cookie: from an English page its links say lang=en."""
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert re.search(r'href="/showcase\?lang=en"', page)
    client.get("/login?lang=en")
    page = client.get("/register").get_data(as_text=True)  # English from the cookie
    assert re.search(r'href="/results\?lang=en"', page)


def test_a_public_english_page_sets_no_cookie_and_its_language_link_remembers(client, make):
    make.campaign()
    answer = client.get("/results?lang=en")
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    page = answer.get_data(as_text=True)
    switch = re.search(r'href="(/language/zh_Hans_CN[^"]*)"', page).group(1).replace("&amp;", "&")
    back = client.get(switch)
    assert back.status_code == 302 and "lang=" not in back.headers["Location"]
    assert client.get_cookie(LANGUAGE_COOKIE).value == "zh_Hans_CN"


def test_english_counts_say_1_vote_and_2_votes(app, make):
    from campaigns.models import VOTE_OPEN
    from pingxuan.db import commit
    from tests.awards.test_pages import finalists

    cases = finalists(make, spec={"A": (90, 1), "B": (80, 2)})
    cases["A"].campaign.vote_status = VOTE_OPEN
    commit()
    client = app.test_client()
    one = client.get(f"/showcase/cases/{cases['A'].id}?lang=en").get_data(as_text=True)
    assert 'id="vote-count">1 vote<' in one
    gallery = client.get("/showcase?lang=en").get_data(as_text=True)
    assert ">1 vote<" in gallery and ">2 votes<" in gallery and "1 votes" not in gallery
    assert ">2 票<" in client.get("/showcase").get_data(as_text=True)
