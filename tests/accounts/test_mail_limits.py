"""Asking for reset links and sending invitations mail whoever is named (issue 14): both are limited per client
address and per target address, the same for an address with an account as for one without."""

from __future__ import annotations

from accounts.operations import create_api_token
from pingxuan.db import commit
from tests.factories import login


def test_reset_requests_and_invitations_are_limited_per_address_and_per_inbox(app, client, make):
    app.config.update(FORGOT_LIMIT_EMAIL="2 per hour", FORGOT_LIMIT_IP="4 per minute",
                      INVITE_LIMIT_EMAIL="1 per day", INVITE_LIMIT_IP="3 per minute")  # fmt: skip
    user = make.applicant()

    def forgot(email: str, address: str) -> int:
        return client.post("/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": address}).status_code

    assert [forgot(user.email, f"203.0.113.{n}") for n in range(3)] == [302, 302, 429]  # one inbox, many addresses
    assert [forgot("nobody@example.org", f"198.51.100.{n}") for n in range(3)] == [302, 302, 429]  # no account: same
    assert [forgot(f"person{n}@example.org", "192.0.2.1") for n in range(5)] == [302] * 4 + [429]  # one address

    login(client, user)
    token, _record = create_api_token(user, "script")
    commit()

    def invite(email: str, address: str) -> int:
        return client.post("/unit", data={"email": email}, environ_base={"REMOTE_ADDR": address}).status_code

    assert invite("colleague@example.org", "192.0.2.10") == 302
    assert invite("colleague@example.org", "192.0.2.11") == 429  # one invitation a day to one inbox
    bearer = {"Authorization": f"Bearer {token}"}
    again = client.post("/api/v1/unit/invitations", json={"email": "colleague@example.org"}, headers=bearer,
                        environ_base={"REMOTE_ADDR": "192.0.2.12"})  # fmt: skip
    assert again.status_code == 429 and again.get_json()["message"]  # whichever way it is sent
    assert [invite(f"colleague{n}@example.org", "192.0.2.20") for n in range(4)] == [302, 302, 302, 429]


def test_registrations_are_limited_per_address(app, client):
    app.config.update(REGISTER_LIMIT_IP="2 per hour")

    def register(address: str) -> int:
        return client.post("/register", data={"unit_name": "某单位"}, environ_base={"REMOTE_ADDR": address}).status_code

    assert [register("203.0.113.7") for _ in range(3)] == [422, 422, 429]  # the form's errors, then the limit
    assert register("203.0.113.8") == 422  # another address is not held up


def test_registrations_mail_one_inbox_a_few_times_only(app, client, make):
    """Registering mails the address named (a link to confirm, or a note to its owner): limited per inbox as well,
    the same for an address with an account as for one without."""
    from tests.accounts.test_pages import _registration
    from tests.factories import credit_code

    app.config.update(REGISTER_LIMIT_EMAIL="2 per hour")
    owner = make.applicant()

    def register(email: str, n: int) -> int:
        data = _registration(email=email, unit_name=f"单位{n}", credit_code=credit_code())
        return client.post("/register", data=data, environ_base={"REMOTE_ADDR": f"203.0.113.{n}"}).status_code

    assert [register(owner.email, n) for n in range(3)] == [302, 302, 429]  # from three addresses
    assert [register("nobody@example.org", n) for n in range(3, 6)] == [302, 302, 429]
