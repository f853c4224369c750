"""The dossier form a campaign declares drives the unit's form, the API (its JSON Schema and the checks), the
versions' diff, the meeting book and the export; the 2017 form is today's fields."""

from __future__ import annotations

import copy
import re
import subprocess
from datetime import date, timedelta
from io import BytesIO

from accounts.models import User
from accounts.operations import create_api_token
from awards.export import result_rows
from books import operations as books
from books.models import ISSUED, PER_CATEGORY
from campaigns.operations import organizations
from cases import dossier
from cases.models import Case
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import PDF, PNG, login
from workflow.definition import TRANSITION_BY_NAME
from workflow.engine import fire

TODAYS_FIELDS = [
    "title", "category_id", "domain_id", "recommending_org_id", "construction_unit", "operating_unit",
    "in_operation_since", "investment", "summary", "description", "innovation", "effects", "beneficiaries",
    "public_url", "app_name",
]  # fmt: skip


def bearer(user: User) -> dict[str, str]:
    """The Authorization header of a fresh personal access token of ``user``."""
    plain, _record = create_api_token(user, "tests")
    commit()
    return {"Authorization": f"Bearer {plain}"}


def own_form() -> dict:
    """The 2017 form without the app name, with the number of users, the stage reached and a required QR code."""
    data = copy.deepcopy(dossier.DEFAULT_FORM)
    content = data["sections"][1]["fields"]
    data["sections"][1]["fields"] = [f for f in content if f["key"] != "app_name"] + [
        {"key": "users", "type": "number", "label_zh": "使用人数", "label_en": "Number of users", "unit_zh": "人",
         "unit_en": "people", "min": "0", "required": True, "public": True},
        {"key": "stage", "type": "choice", "label_zh": "推广阶段", "label_en": "Stage reached", "public": True,
         "choices": [{"value": "pilot", "label_zh": "试点", "label_en": "Pilot"},
                     {"value": "citywide", "label_zh": "全市推广", "label_en": "City-wide"}]},
    ]  # fmt: skip
    data["sections"][2]["fields"].append(
        {"key": "qr_code", "type": "file", "label_zh": "下载二维码", "label_en": "Download QR code",
         "required": True, "kinds": ["png"], "max_count": 1, "public": True}
    )  # fmt: skip
    data["one_of"] = []
    return data


def test_the_2017_form_is_todays_fields_and_its_json_schema_is_public(app, client, make):
    campaign = make.campaign()
    form = dossier.form_of(campaign)
    assert [f.key for f in form.value_fields] == TODAYS_FIELDS
    assert [f.key for f in form.file_slots] == ["document", "photo"]

    schema = client.get(f"/api/v1/campaigns/{campaign.id}/dossier-form?lang=en").get_json()
    ordered = [key for section in schema["x-sections"] for key in section["fields"]]
    assert ordered == [*TODAYS_FIELDS, "document", "photo"]
    assert set(schema["properties"]) == {*TODAYS_FIELDS, "document", "photo"}
    assert schema["properties"]["summary"]["maxLength"] == 500
    assert schema["properties"]["investment"]["minimum"] == 0
    assert schema["properties"]["title"]["title"] == "Title"
    assert "public_url" not in schema["required"] and "app_name" not in schema["required"]
    assert {"title", "summary", "investment", "document"} <= set(schema["required"])
    assert schema["x-one-of"][0]["keys"] == ["public_url", "app_name"]
    assert client.get("/api/v1/campaigns/999999/dossier-form").status_code == 404


def test_a_declaration_cannot_drop_a_field_the_rules_use(app):
    data = copy.deepcopy(dossier.DEFAULT_FORM)
    data["sections"][0]["fields"] = [f for f in data["sections"][0]["fields"] if f["key"] != "in_operation_since"]
    data["sections"][1]["fields"].append({"key": "state", "type": "text", "label_zh": "状态"})
    try:
        dossier.parse(data)
    except dossier.DeclarationError as error:
        assert "in_operation_since" in error.errors
        assert any("reserved" in message for message in error.errors.values())
    else:
        raise AssertionError("the declaration was accepted")


def _upload(client, case_id: int, auth: dict, kind: str, payload: bytes, name: str):
    return client.post(f"/api/v1/cases/{case_id}/attachments", headers=auth,
                       data={"kind": kind, "file": (BytesIO(payload), name)})  # fmt: skip


def test_a_campaigns_own_form_runs_a_case_from_draft_to_the_meeting_book(app, client, make, tmp_path):
    campaign = make.campaign()
    campaign.dossier_form = own_form()
    commit()
    owner = make.applicant()
    auth = bearer(owner)

    schema = client.get(f"/api/v1/campaigns/{campaign.id}/dossier-form?lang=en").get_json()
    assert "app_name" not in schema["properties"]
    assert schema["properties"]["users"]["x-unit"] == "people" and schema["properties"]["users"]["minimum"] == 0
    assert schema["properties"]["stage"]["enum"] == ["pilot", "citywide", None]
    assert schema["properties"]["qr_code"]["x-kinds"] == ["image/png"]
    assert {"users", "qr_code"} <= set(schema["required"]) and "stage" not in schema["required"]

    data = {**make.dossier(campaign), "in_operation_since": "2016-06-01", "users": "120000", "stage": "pilot"}
    refused = client.post("/api/v1/cases", json={**data, "app_name": "掌上停车", "users": "-3", "stage": "x"},
                          headers=auth)  # fmt: skip
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"app_name", "users", "stage"}

    created = client.post("/api/v1/cases", json=data, headers=auth)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    case_id = body["id"]
    assert body["dossier"]["users"] == "120000" and body["dossier"]["stage"] == "pilot"
    assert "app_name" not in body["dossier"]
    assert _upload(client, case_id, auth, "document", PDF, "申报书.pdf").status_code == 201
    assert _upload(client, case_id, auth, "qr_code", PDF, "二维码.pdf").status_code == 422  # PNG only

    # Submission without the required QR code is refused, naming it.
    version = client.get(f"/api/v1/cases/{case_id}", headers=auth).get_json()["version"]
    refused = client.post(f"/api/v1/cases/{case_id}/transitions/submit", json={"version": version},
                          headers={**auth, "Accept-Language": "en"})  # fmt: skip
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"qr_code"}
    assert "Download QR code" in refused.get_json()["errors"]["qr_code"]

    # The page names it too, and shows the new fields with their required marks; the app name is gone.
    login(client, owner)
    page = client.get(f"/cases/{case_id}/edit?lang=en").get_data(as_text=True)
    assert 'data-field="users"' in page and "Number of users" in page and "Stage reached" in page
    assert 'data-field="app_name"' not in page and "App name" not in page
    assert re.search(r'data-field="users">\s*<label[^>]*>Number of users <span class="required-mark"', page)
    assert 'value="qr_code"' in page  # a file slot to upload into
    submitted = client.post(f"/cases/{case_id}/transitions/submit?lang=en", data={"expected_version": version},
                            follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "Download QR code: attach at least one file." in submitted

    assert _upload(client, case_id, auth, "qr_code", PNG, "二维码.png").status_code == 201
    version = client.get(f"/api/v1/cases/{case_id}", headers=auth).get_json()["version"]
    done = client.post(f"/api/v1/cases/{case_id}/transitions/submit", json={"version": version}, headers=auth)
    assert done.status_code == 200, done.get_json()

    # Returned, the unit changes the number of users on the page and resubmits: the diff shows it.
    organizer = make.organizer()
    version = done.get_json()["version"]
    returned = client.post(f"/api/v1/cases/{case_id}/transitions/return_for_revision", headers=bearer(organizer),
                           json={"version": version, "comment": "请核实使用人数",
                                 "due_date": (today() + timedelta(days=7)).isoformat()})  # fmt: skip
    assert returned.status_code == 200, returned.get_json()
    case = db.session.get(Case, case_id)
    db.session.refresh(case)
    form = {key: ("" if value is None else str(value)) for key, value in data.items()}
    form |= {"users": "150000", "stage": "citywide", "version": str(case.version)}
    assert client.post(f"/cases/{case_id}/edit", data=form).status_code == 302
    db.session.refresh(case)
    assert dossier.value(case, dossier.form_of(campaign).by_key["users"]) == 150000
    version = client.get(f"/api/v1/cases/{case_id}", headers=auth).get_json()["version"]
    again = client.post(f"/api/v1/cases/{case_id}/transitions/resubmit", json={"version": version}, headers=auth)
    assert again.status_code == 200, again.get_json()

    diff = client.get(f"/api/v1/cases/{case_id}/versions/1/diff/2?lang=en", headers=auth).get_json()
    changed = {f["field"]: (f["old"], f["new"]) for f in diff["dossier"] if f["changed"]}
    assert changed == {"users": ("120000 people", "150000 people"), "stage": ("Pilot", "City-wide")}
    page = client.get(f"/cases/{case_id}/versions?lang=en").get_data(as_text=True)
    assert "Number of users" in page and "150000 people" in page

    # On to the meeting book: the new fields are bound with their labels; the export has a column each.
    case = db.session.get(Case, case_id)
    staff = db.session.get(User, organizer.id)
    for name in ("approve", "shortlist"):
        make.prepare(case, TRANSITION_BY_NAME[name])
        fire(case, name, staff, comment="test")
        commit()
    run = books.request_books(campaign, staff, PER_CATEGORY)
    commit()
    book = next(b for b in run.books if case_id in b.case_ids)
    assert book.status == ISSUED
    path = tmp_path / "book.pdf"
    path.write_bytes(books.pdf_of(book))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "使用人数" in text and "150000 人" in text and "全市推广" in text and "应用名称" not in text

    header = result_rows(campaign, full=True)[0]
    assert "使用人数" in header and "推广阶段" in header and "应用名称" not in header
    assert organizations()  # the recommending organizations the dossier names exist


def test_the_in_operation_date_keeps_its_rule_whatever_the_label(app, client, make):
    campaign = make.campaign()
    data = own_form()
    data["sections"][0]["fields"][6]["label_en"] = "Went live on"
    campaign.dossier_form = data
    commit()
    owner = make.applicant()
    future = (today() + timedelta(days=3)).isoformat()
    response = client.post("/api/v1/cases", json={"in_operation_since": future, "title": "x"},
                           headers={**bearer(owner), "Accept-Language": "en"})  # fmt: skip
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"in_operation_since": "The date lies in the future."}
    assert date.fromisoformat(future) > today()


def test_no_draft_without_a_title(app, client, make):
    make.campaign()
    owner = make.applicant()
    auth = {**bearer(owner), "Accept-Language": "en"}
    refused = client.post("/api/v1/cases", json={"summary": "只有摘要"}, headers=auth)
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"title"}
    login(client, owner)
    page = client.post("/cases/new?lang=en", data={"title": "  ", "summary": "只有摘要"})
    assert page.status_code == 422 and "Give the case a title to save it." in page.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == 0

    created = client.post("/api/v1/cases", json={"title": "智慧停车"}, headers=auth).get_json()
    blanked = client.patch(f"/api/v1/cases/{created['id']}", json={"title": ""}, headers=auth)
    assert blanked.status_code == 422 and set(blanked.get_json()["errors"]) == {"title"}
