"""People through the API (staff and service tokens): units one by one or from a sheet (all or nothing, errors
per row), members' and experts' invitations (a link, never a password), users and role grants."""

from __future__ import annotations

import io
import random

from openpyxl import Workbook

from accounts.models import Invitation, Unit, User
from accounts.service_tokens import create_service_token
from pingxuan.db import commit
from tests.factories import credit_code

EN = {"Accept-Language": "en"}
COLUMNS = ["name", "kind", "district", "credit_code", "parent_org", "contact_name", "contact_phone"]


def units_sheet(rows: list[list[str]]) -> bytes:
    book = Workbook()
    book.active.append(COLUMNS)
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def unit_rows(n: int, seed: int = 1, prefix: str = "青岛测试单位") -> list[list[str]]:
    rng = random.Random(seed)
    return [[f"{prefix}{i}", ("government", "enterprise", "institution")[i % 3], "市南区", credit_code(rng), "",
             f"联系人{i}", f"1390000{i:04d}"] for i in range(n)]  # fmt: skip


def upload(client, headers, data: bytes, filename: str = "units.xlsx"):
    return client.post("/api/v1/units/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", headers=headers)  # fmt: skip


def test_units_from_a_sheet_all_or_nothing_with_errors_per_row(app, client, make, bearer):
    make.campaign()
    staff = {**bearer(make.organizer()), **EN}
    rows = unit_rows(50)
    bad = [row[:] for row in rows]
    bad[3][3] = bad[3][3][:-1] + ("0" if bad[3][3][-1] != "0" else "1")  # a wrong check digit
    bad[7][3] = bad[5][3]  # the same code twice
    bad[9][1] = "company"
    refused = upload(client, staff, units_sheet(bad))
    assert refused.status_code == 422
    body = refused.get_json()
    assert set(body["errors"]) == {"5", "9", "11"}  # sheet rows: the header is row 1
    assert "check digit" in body["errors"]["5"] and "row 7" in body["errors"]["9"] and "kind" in body["errors"]["11"]
    assert Unit.query.count() == 0  # nothing created when any row is refused

    done = upload(client, staff, units_sheet(rows))
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["rows"] == 50 and len(done.get_json()["created"]) == 50
    assert Unit.query.count() == 50
    again = upload(client, staff, units_sheet(rows[:1]))
    assert again.status_code == 422 and "registered already" in again.get_json()["errors"]["2"]
    csv = ",".join(COLUMNS) + "\n" + ",".join(unit_rows(1, seed=9, prefix="崂山区测试单位")[0]) + "\n"
    assert upload(client, staff, csv.encode(), "units.csv").status_code == 201
    assert upload(client, {**bearer(make.applicant()), **EN}, csv.encode(), "units.csv").status_code == 403


def test_members_experts_and_users_through_a_service_token(app, client, make):
    make.campaign()
    plain, _record = create_service_token(make.admin(), "人事系统", ["people:write"])
    commit()
    auth = {"Authorization": f"Bearer {plain}", **EN}
    made = client.post("/api/v1/units", json=dict(zip(COLUMNS, unit_rows(1)[0], strict=True)), headers=auth)
    assert made.status_code == 201, made.get_json()
    unit_id = made.get_json()["id"]
    invited = client.post(f"/api/v1/units/{unit_id}/invitations", json={"email": "member@example.org"}, headers=auth)
    assert invited.status_code == 201 and invited.get_json()["expires_at"].endswith("+00:00")
    expert = client.post("/api/v1/invitations", json={"email": "expert@example.org", "role": "expert"}, headers=auth)
    assert expert.status_code == 201
    assert {(i.email, i.role, i.unit_id) for i in Invitation.query} == {
        ("member@example.org", "applicant", unit_id), ("expert@example.org", "expert", None),
    }  # fmt: skip
    assert User.query.filter(User.email.in_(["member@example.org", "expert@example.org"])).count() == 0
    assert client.get(f"/api/v1/units/{unit_id}", headers=auth).get_json()["name"] == "青岛测试单位0"

    organizer = make.organizer(name="改名前")
    users = client.get("/api/v1/users?role=organizer", headers=auth).get_json()
    assert organizer.id in [u["id"] for u in users]
    renamed = client.patch(f"/api/v1/users/{organizer.id}", json={"name": "改名后"}, headers=auth)
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "改名后"
    promoted = client.patch(f"/api/v1/users/{organizer.id}", json={"role": "admin"}, headers=auth)
    assert promoted.status_code == 422 and "role" in promoted.get_json()["errors"]  # organizers grant no admin

    read_only, _r = create_service_token(make.admin(), "只读人事", ["people:read"])
    commit()
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {read_only}"}).status_code == 200
    refused = client.post("/api/v1/units", json={}, headers={"Authorization": f"Bearer {read_only}"})
    assert refused.status_code == 403


def test_a_unit_s_one_line_fields_refuse_separators_and_control_characters_through_the_api(app, client, make, bearer):
    """The unit's name, district, parent organization and contact person, by the API one by one or in a sheet, are
    checked like the registration form: a line separator in a name ends up in a mail's subject nobody can send."""
    make.campaign()
    staff = {**bearer(make.organizer()), **EN}
    fields = ("name", "district", "parent_org", "contact_name")
    for n, separator in enumerate(["\u2028", "\u2029", "\x85", "\x1b"]):
        row = dict(zip(COLUMNS, unit_rows(1, seed=n)[0], strict=True))
        bad = {**row, **{field: f"青岛{separator}云帆" for field in fields}}
        refused = client.post("/api/v1/units", json=bad, headers=staff)
        assert refused.status_code == 422, refused.get_json()
        errors = refused.get_json()["errors"]
        assert all(errors[field].startswith("Remove the hidden character") for field in fields), errors
        csv = ",".join(COLUMNS) + "\n" + ",".join(bad[column] for column in COLUMNS) + "\n"
        sheet = upload(client, staff, csv.encode(), "units.csv")
        assert sheet.status_code == 422 and sheet.get_json()["errors"]["2"].count("hidden character") == 4
    assert Unit.query.count() == 0
