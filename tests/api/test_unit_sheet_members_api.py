"""The units sheet takes the members' e-mail addresses and invites them in the same all-or-nothing import; staff
invitations are not throttled per client address like the self-service ones (issue 20)."""

from __future__ import annotations

import io

from openpyxl import Workbook

from accounts.models import Invitation, Unit
from notifications.models import OutboxMail
from pingxuan.extensions import db
from tests.api.test_people_api import COLUMNS, EN, unit_rows, upload
from tests.factories import login


def sheet(rows: list[list[str]], members: list[str]) -> bytes:
    book = Workbook()
    book.active.append([*COLUMNS, "members"])
    for row, cell in zip(rows, members, strict=True):
        book.active.append([*row, cell])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_the_sheet_invites_members_all_or_nothing(app, client, make, bearer):
    make.campaign()
    staff = {**bearer(make.organizer()), **EN}
    taken = make.applicant()
    before = Unit.query.count()
    rows = unit_rows(30)
    members = [f"a{i}@example.org; b{i}@example.org" for i in range(30)]
    members[4] = "not an address"
    members[6] = "a3@example.org"  # given in row 5 already
    members[8] = taken.email
    refused = upload(client, staff, sheet(rows, members))
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert set(errors) == {"6", "8", "10"}  # the header is row 1
    assert "valid e-mail" in errors["6"] and "row 5" in errors["8"] and "has an account" in errors["10"]
    assert Unit.query.count() == before and Invitation.query.count() == 0

    members[4], members[6], members[8] = "c4@example.org", "", "C8@Example.org，d8@example.org"
    done = upload(client, staff, sheet(rows, members))
    assert done.status_code == 201, done.get_json()
    invited = done.get_json()["invited"]
    assert len(invited) == 2 * 30 - 1 - 2  # index 4: one address, 6: none, 8: two
    units = {u.name: u.id for u in Unit.query}
    assert {i["email"] for i in invited if i["unit_id"] == units[rows[8][0]]} == {"c8@example.org", "d8@example.org"}
    assert db.session.query(Invitation).filter(Invitation.role == "applicant").count() == 57
    assert db.session.query(OutboxMail).filter(OutboxMail.recipient == "c8@example.org").count() == 1


def test_staff_invitations_are_not_throttled_per_address_self_service_ones_are(app, client, make, bearer):
    app.config.update(INVITE_LIMIT_IP="3 per minute", INVITE_LIMIT_EMAIL="1 per day")
    make.campaign()
    staff = {**bearer(make.organizer()), **EN}
    unit = make.unit()
    answers = [client.post(f"/api/v1/units/{unit.id}/invitations", json={"email": f"m{n}@example.org"},
                           headers=staff, environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code
               for n in range(6)]  # fmt: skip
    assert answers == [201] * 6
    experts = [client.post("/api/v1/invitations", json={"email": f"e{n}@example.org", "role": "expert"},
                           headers=staff, environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code
               for n in range(4)]  # fmt: skip
    assert experts == [201] * 4
    again = client.post(f"/api/v1/units/{unit.id}/invitations", json={"email": "m0@example.org"}, headers=staff)
    assert again.status_code == 429  # one inbox is still protected

    member = make.applicant()
    login(client, member)
    own = [client.post("/unit", data={"email": f"colleague{n}@example.org"},
                       environ_base={"REMOTE_ADDR": "192.0.2.60"}).status_code for n in range(4)]  # fmt: skip
    assert own == [302, 302, 302, 429]  # the self-service page keeps the per-address limit
