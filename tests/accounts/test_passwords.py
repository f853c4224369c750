"""Choosing a password (issue 14): one rule everywhere a password is chosen, and guesses at the current password
limited like logins."""

from __future__ import annotations

import re

from accounts.operations import create_api_token, password_error
from pingxuan.db import commit
from tests.accounts.test_pages import _last_mail_link, _registration
from tests.factories import PASSWORD, login


def test_common_and_personal_passwords_are_refused_wherever_one_is_chosen(client, make, caplog):
    for weak in ("12345678", "Password123", "QWERTYUIOP", "aaaaaaaa", "87654321", "12121212", "woaini1314"):
        assert password_error(weak), weak
    assert password_error("wang.xiaoming", email="Wang.Xiaoming@example.org")
    assert password_error("wang@example.org", email="wang@example.org")
    assert password_error("Ouyang Xiaoming", name="ouyang xiaoming")
    assert password_error("Laoshan-2017-spring", email="wang@example.org", name="王小明") is None

    register = client.post("/register", data=_registration(password="12345678", confirm="12345678"))
    assert register.status_code == 422
    assert re.search(
        r'id="password-error">[^<]*one of the first that anyone would try', register.get_data(as_text=True)
    )

    user = make.applicant()
    login(client, user)
    changed = client.post("/password", data={"current_password": PASSWORD, "new_password": user.email,
                                             "confirm": user.email})  # fmt: skip
    assert changed.status_code == 422 and 'id="new_password-error">Do not use your e-mail' in changed.get_data(
        as_text=True
    )
    token, _record = create_api_token(user, "script")
    commit()
    api = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "12345678"},
                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert api.status_code == 422 and "anyone would try" in api.get_json()["errors"]["new_password"]

    caplog.set_level("INFO", logger="pingxuan.mail")
    client.post("/logout")
    client.post("/forgot", data={"email": user.email})
    reset = client.post(_last_mail_link(caplog, user.email), data={"password": "1qaz2wsx", "confirm": "1qaz2wsx"})
    assert reset.status_code == 422 and "anyone would try" in reset.get_data(as_text=True)


def test_guesses_at_the_current_password_are_limited(app, client, make):
    app.config.update(PASSWORD_LIMIT="3 per minute")
    user = make.applicant()
    token, _record = create_api_token(user, "script")
    commit()
    headers = {"Authorization": f"Bearer {token}"}

    def guess(n: int, address: str = "203.0.113.1") -> int:
        body = {"current_password": f"guess number {n}", "new_password": "Laoshan-2017-spring"}
        return client.post("/api/v1/me/password", json=body, headers=headers,
                           environ_base={"REMOTE_ADDR": address}).status_code  # fmt: skip

    assert [guess(n) for n in range(4)] == [422, 422, 422, 429]
    assert guess(5, address="198.51.100.2") == 429  # a new address does not reset the account's allowance
    login(client, user)
    new = {"new_password": "Laoshan-2017-spring", "confirm": "Laoshan-2017-spring"}
    pages = [client.post("/password", data=new | {"current_password": f"guess {n}"}).status_code for n in range(4)]
    assert pages == [422, 422, 422, 429]
