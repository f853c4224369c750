"""Account pages through HTTP: registration, login and its rate limit, passwords, invitations, tokens."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from stdnum.cn import uscc

from accounts.models import ApiToken, Unit, User
from accounts.operations import create_api_token
from notifications.models import OutboxMail
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import PASSWORD, credit_code, login

CODE_BODY = "91370200MA3C5XKL0"


def _registration(**overrides) -> dict:
    data = {
        "unit_name": "青岛市智慧城市示范单位",
        "kind": "enterprise",
        "district": "市南区",
        "credit_code": CODE_BODY + uscc.calc_check_digit(CODE_BODY),
        "parent_org": "",
        "contact_name": "王工",
        "contact_phone": "13912345678",
        "name": "王小明",
        "email": "wang@example.org",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    return data | overrides


def _last_mail_link(caplog, recipient: str) -> str:
    """The link of the last mail to ``recipient`` as it was sent (the outbox keeps secret links redacted)."""
    logged = [r.getMessage() for r in caplog.records if r.name == "pingxuan.mail"]
    sent = [m for m in logged if m.startswith(f"mail to {recipient}:")]
    assert sent, f"no mail to {recipient}"
    return re.search(r"http://localhost(/\S+)", sent[-1]).group(1)


def test_registration_with_bad_check_digit_and_phone_shows_both_errors_and_creates_nothing(client):
    code = _registration()["credit_code"]
    wrong_digit = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = client.post("/register", data=_registration(credit_code=wrong_digit, contact_phone="12345"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "its check digit does not match" in page
    assert "Enter a mainland mobile number" in page
    # each message sits next to its own field
    assert re.search(r'id="credit_code-error">[^<]*check digit', page)
    assert re.search(r'id="contact_phone-error">[^<]*mobile number', page)
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_registration_reports_every_missing_field_at_once(client):
    response = client.post("/register", data={"confirm": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("unit_name", "kind", "district", "credit_code", "contact_name", "contact_phone", "name", "email"):
        assert f'id="{field}-error"' in page, field
    assert 'id="password-error"' in page
    assert 'id="confirm-error"' in page


def test_mismatched_confirmation_creates_nothing(client):
    response = client.post("/register", data=_registration(confirm="something else"))
    assert response.status_code == 422
    assert "The passwords differ." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def register(client, caplog, **overrides) -> str:
    """Fill in the registration form; returns the confirmation link mailed to the address given."""
    caplog.set_level("INFO", logger="pingxuan.mail")
    data = _registration(**overrides)
    response = client.post("/register", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/register/sent", response.status_code
    return _last_mail_link(caplog, data["email"])


def test_register_confirm_by_mail_then_logged_in_on_my_cases(client, make, caplog):
    make.campaign()
    link = register(client, caplog)
    assert link.startswith("/register/confirm/")
    assert "Check your mail" in client.get("/register/sent").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0  # nothing before the link is confirmed
    shown = client.get(link)  # opening the link (a mail scanner does) only shows what will be registered
    assert shown.status_code == 200 and "青岛市智慧城市示范单位" in shown.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0
    response = client.post(link, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/my-cases"
    page = response.get_data(as_text=True)
    assert "王小明" in page and "New case" in page
    user = db.session.scalar(select(User).where(User.email == "wang@example.org"))
    assert user.unit.name == "青岛市智慧城市示范单位" and user.role == "applicant"
    client.post("/logout")
    assert client.post("/login", data={"email": "wang@example.org", "password": PASSWORD}).status_code == 302
    client.post("/logout")
    again = client.post(link)  # the link works once
    assert "confirmed already" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 1
    outbox = db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == "wang@example.org"))
    assert "/register/confirm/" not in outbox.body and "[link]" in outbox.body  # staff never read the link
    forged = client.get(link[:-8] + "AAAAAAAA")
    assert forged.status_code == 422 and "not valid" in forged.get_data(as_text=True)


def test_a_registration_link_expires_after_two_days(client, make, caplog, monkeypatch):
    import time

    link = register(client, caplog)
    later = time.time() + 48 * 3600 + 60
    monkeypatch.setattr("cryptography.fernet.time.time", lambda: later)
    expired = client.post(link)
    assert expired.status_code == 422 and "expired" in expired.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_registering_an_address_that_has_an_account_tells_the_visitor_nothing_and_mails_its_owner(
    client, make, caplog, monkeypatch
):
    """Issue 18: /register said "An account with this e-mail address exists already" to anyone who asked."""
    import accounts.operations as ops

    caplog.set_level("INFO", logger="pingxuan.mail")
    owner = make.applicant(email="owner@example.org", name="李主任")
    hashed: list[str] = []
    real_hash = ops._hash
    monkeypatch.setattr(ops, "_hash", lambda password: hashed.append(password) or real_hash(password))

    def answer(email: str, **overrides):
        data = _registration(email=email, unit_name=f"单位{email}", credit_code=credit_code(), **overrides)
        return client.post("/register", data=data, follow_redirects=True)

    taken, new = answer("OWNER@example.org"), answer("new@example.org")
    assert taken.status_code == new.status_code == 200
    assert taken.get_data(as_text=True) == new.get_data(as_text=True)  # the same page, word for word
    assert "Check your mail" in taken.get_data(as_text=True)
    assert len(hashed) == 2  # the same work for both: one password hash each, no shortcut for a taken address
    note = [r.getMessage() for r in caplog.records if r.getMessage().startswith("mail to owner@example.org:")]
    assert len(note) == 1 and "someone tried to register" in note[0] and "/forgot" in note[0] and "李主任" in note[0]
    assert "/register/confirm/" not in note[0]  # nothing to confirm: the address has its account
    assert "/register/confirm/" in _last_mail_link(caplog, "new@example.org")
    assert db.session.scalar(select(func.count()).select_from(User)) == 1  # the owner only, nothing created

    # with another field wrong, the page lists that field's error and says nothing about the address
    taken, new = answer("owner@example.org", contact_phone="123"), answer("new2@example.org", contact_phone="123")
    assert taken.status_code == new.status_code == 422
    for page in (taken.get_data(as_text=True), new.get_data(as_text=True)):
        assert 'id="contact_phone-error"' in page and 'id="email-error"' not in page and "exists already" not in page
    db.session.expire_all()
    assert db.session.get(User, owner.id).unit_id == owner.unit_id


def test_login_wrong_password_then_right(client, make):
    user = make.applicant()
    response = client.post("/login", data={"email": user.email, "password": "wrong"})
    assert response.status_code == 401
    assert "The e-mail address or the password is wrong." in response.get_data(as_text=True)
    response = client.post("/login?next=/notifications", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    response = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/dashboard"
    client.post("/logout")
    assert client.get("/my-cases").status_code == 302


def test_login_is_rate_limited(client, app):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    statuses = [client.post("/login", data={"email": "x@example.org", "password": "y"}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert "Too many attempts" in client.post("/login", data={}).get_data(as_text=True)
    assert client.get("/login").status_code == 200  # only POSTs count


def test_change_password(client, make):
    user = make.applicant()
    login(client, user)
    response = client.post(
        "/password", data={"current_password": "nope", "new_password": "new password 1", "confirm": "new password 1"}
    )
    assert response.status_code == 422 and "The current password is wrong." in response.get_data(as_text=True)
    response = client.post(
        "/password", data={"current_password": PASSWORD, "new_password": "new password 1", "confirm": "new password 1"}
    )
    assert response.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": "new password 1"}).status_code == 302


def test_password_reset_flow_end_to_end(client, make, caplog):
    caplog.set_level("INFO", logger="pingxuan.mail")
    user = make.applicant()
    unknown = client.post("/forgot", data={"email": "nobody@example.org"}, follow_redirects=True)
    known = client.post("/forgot", data={"email": user.email}, follow_redirects=True)
    message = "If an account exists for this address"
    assert message in unknown.get_data(as_text=True) and message in known.get_data(as_text=True)
    assert db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == "nobody@example.org")) is None

    link = _last_mail_link(caplog, user.email)
    assert link.startswith("/reset/")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "short", "confirm": "short"})
    assert response.status_code == 422 and "at least 8 characters" in response.get_data(as_text=True)
    response = client.post(link, data={"password": "brand new secret", "confirm": "brand new secret"})
    assert response.status_code == 302  # logged in
    assert client.get("/my-cases").status_code == 200
    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": "brand new secret"}).status_code == 302
    client.post("/logout")
    again = client.post(link, data={"password": "another secret 9", "confirm": "another secret 9"})
    assert "used already" in again.get_data(as_text=True)


def test_invitation_flow(client, make, caplog):
    caplog.set_level("INFO", logger="pingxuan.mail")
    me = make.applicant()
    case = make.case(owner=me, title="本单位的案例")
    login(client, me)
    page = client.get("/unit").get_data(as_text=True)
    assert me.email in page
    response = client.post("/unit", data={"email": "colleague@example.org"}, follow_redirects=True)
    assert "We have sent an invitation to colleague@example.org." in response.get_data(as_text=True)
    duplicate = client.post("/unit", data={"email": me.email})
    assert duplicate.status_code == 422 and "exists already" in duplicate.get_data(as_text=True)

    link = _last_mail_link(caplog, "colleague@example.org")
    assert link.startswith("/invitations/")
    client.post("/logout")
    assert "colleague@example.org" in client.get(link).get_data(as_text=True)
    response = client.post(link, data={"name": "李同事", "password": "colleague pass", "confirm": "colleague pass"})
    assert response.status_code == 302
    colleague = db.session.scalar(select(User).where(User.email == "colleague@example.org"))
    assert colleague.unit_id == me.unit_id
    page = client.get("/my-cases").get_data(as_text=True)
    assert "李同事" in page and "本单位的案例" in page
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.get(link).status_code == 409  # an invitation works once


def test_unit_page_is_for_applicants_only(client, make):
    login(client, make.expert())
    assert client.get("/unit").status_code == 404


def test_api_tokens_created_once_listed_and_revoked(client, make):
    user = make.applicant()
    login(client, user)
    assert "Give the token a name." in client.post("/tokens", data={"name": ""}).get_data(as_text=True)
    page = client.post("/tokens", data={"name": "导入脚本"}).get_data(as_text=True)
    token = re.search(r'<code class="token">(px_[^<]+)</code>', page).group(1)
    assert "导入脚本" in page
    listing = client.get("/tokens").get_data(as_text=True)
    assert "导入脚本" in listing and token not in listing  # shown once only
    record = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    client.post(f"/tokens/{record.id}/revoke")
    assert "导入脚本" not in client.get("/tokens").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ApiToken, record.id).revoked_at is not None


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return app_config | {"WTF_CSRF_ENABLED": True}

    def test_post_without_token_is_refused(self, client, make):
        user = make.applicant()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 1
        response = client.post("/register", data=_registration())
        assert response.status_code == 400
        assert db.session.scalar(select(func.count()).select_from(Unit)) == 1

    def test_post_with_token_from_the_page_works(self, client, make):
        user = make.applicant()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302


def test_fields_longer_than_kept_are_refused_each_at_its_field(client, make):
    """Issue 14: a 201-character unit name was a 500 on PostgreSQL and kept whole on SQLite."""
    data = _registration(unit_name="青" * 201, district="区" * 101, parent_org="上" * 201, contact_name="王" * 101,
                         name="明" * 101, email="w" * 250 + "@example.org")  # fmt: skip
    response = client.post("/register", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field, limit in (("unit_name", 200), ("district", 100), ("parent_org", 200), ("contact_name", 100),
                         ("name", 100), ("email", 254)):  # fmt: skip
        assert re.search(rf'id="{field}-error">At most {limit} characters', page), field
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 0

    token, _record = create_api_token(make.organizer(), "integration")
    commit()
    unit = {key: data[key] for key in ("kind", "credit_code", "contact_phone")}
    unit |= {"name": "青" * 201, "district": "市南区", "contact_name": "王" * 101}
    answer = client.post("/api/v1/units", json=unit, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {"name": "At most 200 characters.", "contact_name": "At most 100 characters."}
