"""Sessions and tokens end when their person says so (issue 14): a session cookie copied before a logout or a
password change is anonymous afterwards, personal API tokens made before a password change are revoked, and a
reset link sets one password even when it is posted twice at once."""

from __future__ import annotations

import re

from accounts.operations import create_api_token
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.accounts.test_pages import _last_mail_link
from tests.cases.browsing import english_client
from tests.factories import PASSWORD, login
from tests.races import first_writes_together, parallel


def _logged_in(client) -> bool:
    return client.get("/password").status_code == 200  # a page for logged-in people only


def test_logout_and_a_new_password_end_earlier_sessions_and_tokens(app, make):
    user = make.applicant()
    laptop, thief, phone = app.test_client(), app.test_client(), app.test_client()
    assert laptop.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    thief.set_cookie("session", laptop.get_cookie("session").value)  # a copy of the cookie
    assert _logged_in(thief)
    laptop.post("/logout")
    assert not _logged_in(laptop) and not _logged_in(thief)  # the copy is anonymous too

    login(laptop, user)
    login(phone, user)
    tokens = [create_api_token(user, name)[0] for name in ("script", "api caller", "other script")]
    commit()
    bearer = [{"Authorization": f"Bearer {token}"} for token in tokens]
    changed = laptop.post("/password", data={"current_password": PASSWORD, "new_password": "Laoshan-2017-spring",
                                             "confirm": "Laoshan-2017-spring"})  # fmt: skip
    assert changed.status_code == 302
    assert _logged_in(laptop) and not _logged_in(phone)  # this session goes on, the other device's ends
    assert [app.test_client().get("/api/v1/me", headers=h).status_code for h in bearer] == [401, 401, 401]

    tokens = [create_api_token(user, name)[0] for name in ("caller", "other")]
    commit()
    bearer = [{"Authorization": f"Bearer {token}"} for token in tokens]
    api = app.test_client()
    new = {"current_password": "Laoshan-2017-spring", "new_password": "Fushan-road-2018"}
    changed = api.post("/api/v1/me/password", headers=bearer[0], json=new)
    assert changed.status_code == 204
    assert [api.get("/api/v1/me", headers=h).status_code for h in bearer] == [200, 401]  # the caller's goes on
    assert not _logged_in(laptop)


def test_a_reset_link_posted_twice_at_once_sets_one_password(app, make, caplog):
    caplog.set_level("INFO", logger="pingxuan.mail")
    user = make.applicant()
    app.test_client().post("/forgot", data={"email": user.email})
    link = _last_mail_link(caplog, user.email)
    db.session.remove()

    def reset(i: int):
        with app.app_context():
            password = f"Zhanqiao-pier-{i}"
            response = english_client(app).post(link, data={"password": password, "confirm": password})
            db.session.remove()
            return response.status_code, re.sub(r"\s+", " ", response.get_data(as_text=True))

    with first_writes_together("users", 2):
        results = parallel(2, reset)
    assert sorted(status for status, _page in results) == [302, 422], results
    assert "used already" in next(page for status, page in results if status == 422)
