"""Hostile input gets a clear 4xx, never a 500 (issue 14): huge integers, deep JSON, lone surrogates, NUL,
text where a file is expected. Every test runs on SQLite and PostgreSQL (whose integers are 32-bit)."""

from __future__ import annotations

import io

import pytest

from cases.models import Case
from pingxuan.extensions import db
from tests.factories import PDF, login

HUGE = [2**31, 2**63, 2**64 + 1, 10**30]


def test_huge_ids_in_paths_are_not_found(app, client, make, bearer):
    owner = make.applicant()
    login(client, owner)
    for number in HUGE:
        for path in (f"/cases/{number}", f"/cases/{number}/edit", f"/api/v1/cases/{number}", f"/verify/{number}"):
            headers = bearer(owner) if path.startswith("/api/") else {}
            assert client.get(path, headers=headers).status_code in (200, 404), path


def test_huge_integers_in_queries_json_and_forms_are_refused(app, client, make, bearer):
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    auth = bearer(owner)
    for number in HUGE:
        listed = client.get(f"/api/v1/cases?category={number}&campaign={number}", headers=auth)
        assert listed.status_code in (200, 404, 422), listed.get_json()
        patched = client.patch(f"/api/v1/cases/{case.id}", json={"category_id": number}, headers=auth)
        assert patched.status_code == 422 and patched.get_json()["message"], patched.get_json()
        versioned = client.patch(f"/api/v1/cases/{case.id}", json={"title": "x", "version": number}, headers=auth)
        assert versioned.status_code in (409, 422), versioned.get_json()
    login(client, owner)
    page = client.post(f"/cases/{case.id}/edit", data={"title": "x", "category_id": str(10**30)})
    assert 400 <= page.status_code < 500
    staff = make.organizer()
    login(client, staff)
    response = client.get(f"/admin/cases/details/?id={10**30}")
    assert response.status_code < 500
    db.session.expire_all()
    assert db.session.get(Case, case.id).title == case.title  # nothing half-written


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/voters/code", "/api/v1/me/tokens"])
def test_deeply_nested_json_is_a_400(app, client, make, bearer, path):
    body = "[" * 5000 + "]" * 5000
    response = client.post(path, data=body, content_type="application/json", headers=bearer(make.applicant()))
    assert response.status_code == 400 and response.get_json()["message"]
    nested = '{"title": ' + "[" * 5000 + "]" * 5000 + "}"
    response = client.post(path, data=nested, content_type="application/json")
    assert response.status_code == 400


def test_lone_surrogates_and_nul_in_json_text_are_refused(app, client, make, bearer):
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    for title in ('"\\ud800"', '"a\\u0000b"'):
        body = '{"title": ' + title + "}"
        response = client.patch(
            f"/api/v1/cases/{case.id}", data=body, content_type="application/json", headers=bearer(owner)
        )
        assert response.status_code == 422 and response.get_json()["message"], response.get_json()


def test_nul_in_a_form_is_refused(app, client, make):
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    login(client, owner)
    response = client.post(f"/cases/{case.id}/edit", data={"title": "a\x00b"})
    assert response.status_code == 422
    db.session.expire_all()
    assert "\x00" not in db.session.get(Case, case.id).title


def test_text_where_a_file_is_expected(app, client, make, bearer):
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    api = client.post(
        f"/api/v1/cases/{case.id}/attachments", data={"kind": "document", "file": "not a file"}, headers=bearer(owner)
    )
    assert api.status_code == 422, api.get_json()
    login(client, owner)
    page = client.post(f"/cases/{case.id}/attachments", data={"kind": "document", "file": "not a file"})
    assert 300 <= page.status_code < 500
    verify = client.post("/verify", data={"file": "not a file"})
    assert verify.status_code == 422
    upload = client.post(
        f"/cases/{case.id}/attachments", data={"kind": "document", "file": (io.BytesIO(b""), "empty.pdf")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert upload.status_code < 500


def test_a_small_png_of_too_many_pixels_is_refused_before_decoding(app, client, make, bearer):
    """A few hundred KB that decode to 178 megapixels (0.7 GB): refused from the header, nothing stored."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (13000, 13700)).save(buffer, "PNG")
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    before = len(case.attachments)
    response = client.post(
        f"/api/v1/cases/{case.id}/attachments",
        data={"kind": "photo", "file": (io.BytesIO(buffer.getvalue()), "bomb.png")},
        content_type="multipart/form-data", headers=bearer(owner),
    )  # fmt: skip
    assert response.status_code == 422 and response.get_json()["message"], response.get_json()
    db.session.expire_all()
    assert len(db.session.get(Case, case.id).attachments) == before


def test_a_csv_field_beyond_the_parsers_limit_is_a_422(app, client, make, bearer):
    """Python's csv refuses a field over 128 KB (``field larger than field limit``): the sheet is refused."""
    make.campaign()
    sheet = "email,name\n" + "a@example.org," + "长" * 200_000 + "\n"
    response = client.post(
        "/api/v1/experts/import", data={"file": (io.BytesIO(sheet.encode()), "experts.csv")},
        content_type="multipart/form-data", headers=bearer(make.organizer()),
    )  # fmt: skip
    assert response.status_code == 422 and "128 KB" in response.get_json()["message"], response.get_json()


def test_hidden_characters_are_refused_in_titles_names_and_addresses_and_stripped_from_file_names(
    app, client, make, bearer
):
    """A right-to-left override makes "gnp.exe" read "exe.png": refused with the field named (form and API alike);
    an upload's name is cleaned instead (nobody retypes it)."""
    from tests.accounts.test_pages import _registration

    owner = make.applicant()
    case = make.case("draft", owner=owner)
    auth = bearer(owner)
    api = client.patch(f"/api/v1/cases/{case.id}", json={"title": "智慧\u202egnp.exe"}, headers=auth)
    assert api.status_code == 422 and "U+202E" in api.get_json()["errors"]["title"], api.get_json()
    uploaded = client.post(
        f"/api/v1/cases/{case.id}/attachments", headers=auth, content_type="multipart/form-data",
        data={"kind": "document", "file": (io.BytesIO(PDF), "申报书\u202efdp.exe\u0007.pdf")},
    )  # fmt: skip
    assert uploaded.status_code == 201 and uploaded.get_json()["filename"] == "申报书fdp.exe.pdf", uploaded.get_json()
    staff = bearer(make.organizer())
    invited = client.post("/api/v1/invitations", json={"email": "ex\u202epert@example.org", "role": "expert"},
                          headers=staff)  # fmt: skip
    assert invited.status_code == 422 and invited.get_json()["errors"]["email"], invited.get_json()

    login(client, owner)
    page = client.post(f"/cases/{case.id}/edit", data={"title": "智慧\u2067停车", "version": str(case.version)})
    assert page.status_code == 422 and 'id="title-error"' in page.get_data(as_text=True)
    client.post("/logout")
    registered = client.post("/register", data=_registration(email="wang\u202e@example.org", unit_name="单位\u202d"))
    text = registered.get_data(as_text=True)
    assert registered.status_code == 422 and 'id="email-error"' in text and 'id="unit_name-error"' in text
    db.session.expire_all()
    assert db.session.get(Case, case.id).title == case.title
