"""Cases through the API: drafting, editing with versions, attachments, submission errors, timeline."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest

from cases.models import Attachment, Case
from pingxuan.extensions import db
from tests.factories import PDF, PNG
from workflow.models import WorkflowEvent


def _stored_files(app) -> set[Path]:
    return {p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()}


def test_create_edit_and_read_a_draft(app, client, make, bearer):
    campaign = make.campaign()
    owner = make.applicant()
    dossier = make.dossier(campaign)
    dossier["in_operation_since"] = dossier["in_operation_since"].isoformat()
    created = client.post("/api/v1/cases", json={"title": "智慧停车"}, headers=bearer(owner))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["state"]["name"] == "draft" and body["state"]["title"] == "草稿"
    assert body["can_edit"] is True and "category_id" in body["missing"]
    case_id, version = body["id"], body["version"]

    edited = client.patch(f"/api/v1/cases/{case_id}", json={**dossier, "version": version}, headers=bearer(owner))
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["version"] == version + 1
    assert edited.get_json()["category"]["id"] == dossier["category_id"]

    stale = client.patch(f"/api/v1/cases/{case_id}", json={"title": "old", "version": version}, headers=bearer(owner))
    assert stale.status_code == 409
    assert stale.get_json()["message"]
    assert db.session.get(Case, case_id).title == dossier["title"]

    state = client.patch(f"/api/v1/cases/{case_id}", json={"state": "awarded"}, headers=bearer(owner))
    assert state.status_code == 422 and "state" in state.get_json()["errors"]


def test_only_applicants_create_cases(app, client, make, bearer):
    make.campaign()
    response = client.post("/api/v1/cases", json={}, headers=bearer(make.expert()))
    assert response.status_code == 403
    assert response.get_json()["message"]


def test_domain_errors_come_all_at_once(app, client, make, bearer):
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    response = client.patch(
        f"/api/v1/cases/{case.id}",
        json={"category_id": 999999, "public_url": "ftp://x", "investment": "-5", "title": "t" * 201},
        headers=bearer(owner),
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) >= {"category_id", "public_url", "investment", "title"}


def test_submission_with_five_problems_reports_all_and_changes_nothing(app, client, make, bearer):
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    auth = bearer(owner)
    document = case.attachments[0].id
    assert client.delete(f"/api/v1/cases/{case.id}/attachments/{document}", headers=auth).status_code == 204
    blanked = client.patch(
        f"/api/v1/cases/{case.id}",
        json={"summary": "", "effects": "  ", "beneficiaries": None},
        headers=auth,
    )
    assert blanked.status_code == 200
    before = blanked.get_json()
    assert set(before["missing"]) == {"summary", "effects", "beneficiaries", "document"}
    events = WorkflowEvent.query.filter_by(case_id=case.id).count()

    response = client.post(
        f"/api/v1/cases/{case.id}/transitions/submit", json={"version": before["version"]}, headers=auth
    )
    assert response.status_code == 422
    body = response.get_json()
    assert set(body["errors"]) == {"summary", "effects", "beneficiaries", "document"}
    assert body["reasons"] and body["message"]

    after = client.get(f"/api/v1/cases/{case.id}", headers=auth).get_json()
    assert after["state"]["name"] == "draft"
    assert after["version"] == before["version"]
    assert after["number"] is None
    assert WorkflowEvent.query.filter_by(case_id=case.id).count() == events
    submit = next(a for a in after["actions"] if a["name"] == "submit")
    assert submit["allowed"] is False and set(submit["errors"]) == set(body["errors"])


@pytest.mark.parametrize("payload", [b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 600, b"MZ\x90\x00\x03" + b"\x00" * 600])
def test_executable_named_pdf_is_refused_and_not_stored(app, client, make, bearer, payload):
    from io import BytesIO

    owner = make.applicant()
    case = make.case("draft", owner=owner)
    version, files = case.version, _stored_files(app)
    response = client.post(
        f"/api/v1/cases/{case.id}/attachments",
        data={"kind": "document", "file": (BytesIO(payload), "申报书.pdf")},
        content_type="multipart/form-data",
        headers=bearer(owner),
    )
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]
    assert Attachment.query.filter_by(case_id=case.id).count() == 1
    assert _stored_files(app) == files
    db.session.expire_all()
    assert db.session.get(Case, case.id).version == version


def test_upload_download_delete_attachment(app, client, make, bearer):
    from io import BytesIO

    owner = make.applicant()
    case = make.case("draft", owner=owner)
    auth = bearer(owner)
    missing = client.post(
        f"/api/v1/cases/{case.id}/attachments", data={}, content_type="multipart/form-data", headers=auth
    )
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"kind", "file"}
    uploaded = client.post(
        f"/api/v1/cases/{case.id}/attachments",
        data={"kind": "photo", "file": (BytesIO(PNG), "现场.png")},
        content_type="multipart/form-data",
        headers=auth,
    )
    assert uploaded.status_code == 201, uploaded.get_json()
    item = uploaded.get_json()
    assert item["content_type"] == "image/png" and item["filename"] == "现场.png"

    download = client.get(item["url"], headers=auth)
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download.headers["Content-Disposition"]

    # Others may not download from a draft they cannot see, nor delete from it.
    assert client.get(item["url"], headers=bearer(make.applicant())).status_code == 404
    assert client.get(item["url"]).status_code == 404
    assert client.delete(item["url"], headers=bearer(make.organizer())).status_code == 403
    assert client.delete(item["url"], headers=auth).status_code == 204
    assert client.get(item["url"], headers=auth).status_code == 404


def test_public_case_documents_and_timeline(app, client, make, bearer):
    owner = make.applicant()
    case = make.case("public_vote", owner=owner)
    document = case.attachments[0]  # private, as documents are unless the unit makes them public
    assert client.get(f"/api/v1/cases/{case.id}/attachments/{document.id}").status_code == 404
    download = client.get(f"/api/v1/cases/{case.id}/attachments/{document.id}", headers=bearer(owner))
    assert download.status_code == 200 and download.data == PDF

    public = client.get(f"/api/v1/cases/{case.id}/events").get_json()
    assert [e["transition"] for e in public] == ["submit", "start_check", "approve", "shortlist"]
    assert all(e["actor"] is None and e["comment"] is None for e in public)
    inside = client.get(f"/api/v1/cases/{case.id}/events", headers=bearer(owner)).get_json()
    assert inside[0]["actor"] == owner.name and inside[-1]["comment"] == "test"


def test_transition_conflicts_and_comment(app, client, make, bearer):
    case = make.case("submitted")
    organizer = make.organizer()
    auth = bearer(organizer)
    stale = client.post(
        f"/api/v1/cases/{case.id}/transitions/start_check", json={"version": case.version - 1}, headers=auth
    )
    assert stale.status_code == 409
    assert stale.get_json()["message"]
    no_comment = client.post(f"/api/v1/cases/{case.id}/transitions/return_for_revision", headers=auth)
    assert no_comment.status_code == 422 and "comment" in no_comment.get_json()["errors"]
    fired = client.post(
        f"/api/v1/cases/{case.id}/transitions/return_for_revision",
        json={"comment": "请补充附件", "version": case.version, "due_date": "2099-12-31"},
        headers=auth,
    )
    assert fired.status_code == 200, fired.get_json()
    body = fired.get_json()
    assert body["state"]["name"] == "returned" and body["event"]["comment"] == "请补充附件"
    again = client.post(
        f"/api/v1/cases/{case.id}/transitions/start_check", json={"version": body["version"]}, headers=auth
    )
    assert again.status_code == 409
    assert again.get_json()["message"]


def test_list_filters_and_pagination(app, client, make, bearer):
    owner = make.applicant()
    drafts = [make.case("draft", owner=owner) for _ in range(3)]
    other_category = make.case("submitted", owner=owner, category_index=1)
    make.case("draft")  # another unit's
    auth = bearer(owner)
    page = client.get("/api/v1/cases?per_page=2", headers=auth).get_json()
    assert page["pagination"] == {"page": 1, "per_page": 2, "total": 4, "pages": 2}
    assert len(page["items"]) == 2
    states = client.get("/api/v1/cases?state=draft&per_page=100", headers=auth).get_json()
    assert {c["id"] for c in states["items"]} == {c.id for c in drafts}
    category = client.get(f"/api/v1/cases?category={other_category.category_id}", headers=auth).get_json()
    assert [c["id"] for c in category["items"]] == [other_category.id]
    assert client.get("/api/v1/cases").get_json()["pagination"]["total"] == 0


def test_titles_follow_accept_language(app, client, make):
    case = make.case("public_vote")
    with app.app_context():  # a fresh app context per request, as in production (the locale is cached on it)
        english = client.get(f"/api/v1/cases/{case.id}", headers={"Accept-Language": "en"}).get_json()
    with app.app_context():
        chinese = client.get(f"/api/v1/cases/{case.id}", headers={"Accept-Language": "zh-CN"}).get_json()
    assert english["state"]["title"] == "Public vote"
    assert chinese["state"]["title"] == "公众投票中"


def _photo_with_gps() -> bytes:
    """A 64×32 JPEG whose EXIF holds a GPS position and "rotate 90°" (as phones write it)."""
    from PIL import Image

    image = Image.new("RGB", (64, 32), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif.get_ifd(0x8825).update({1: "N", 2: (36.0, 4.0, 12.5), 3: "E", 4: (120.0, 22.0, 1.5)})
    buffer = BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_finalists_files_the_public_sees_only_public_ones_and_pictures_without_exif(app, client, make, bearer):
    """Photos public and documents private by default, as the unit chooses; the public gets a picture only as a
    re-encoded copy (no GPS, upright), a private file is a 404, the unit and the office open everything."""
    from PIL import Image

    from tests.factories import login

    owner = make.applicant()
    case = make.case("draft", owner=owner)  # its application form (a PDF) is private by default
    auth = bearer(owner)

    def upload(kind: str, name: str, data: bytes, **extra) -> dict:
        response = client.post(f"/api/v1/cases/{case.id}/attachments", headers=auth,
                               data={"kind": kind, "file": (BytesIO(data), name), **extra},
                               content_type="multipart/form-data")  # fmt: skip
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    photo = upload("photo", "现场.jpg", _photo_with_gps())
    hidden = upload("photo", "机房.png", PNG)
    brochure = upload("document", "宣传册.pdf", PDF, visibility="public")
    assert (photo["visibility"], hidden["visibility"], brochure["visibility"]) == ("public", "public", "public")
    made_private = client.patch(f"/api/v1/cases/{case.id}/attachments/{hidden['id']}", json={"visibility": "private"},
                                headers=auth)  # fmt: skip
    assert made_private.status_code == 200 and made_private.get_json()["visibility"] == "private"
    assert client.patch(f"/api/v1/cases/{case.id}/attachments/{hidden['id']}", json={"visibility": "everyone"},
                        headers=auth).status_code == 422  # fmt: skip
    form = case.attachments[0]
    assert form.visibility == "private"
    make.advance(db.session.get(Case, case.id), "public_vote", owner)
    db.session.expire_all()

    anonymous = app.test_client()
    for url in (f"/showcase/cases/{case.id}/photos/{photo['id']}", f"/cases/{case.id}/attachments/{photo['id']}"):
        served = anonymous.get(url)
        assert served.status_code == 200, url
        shown = Image.open(BytesIO(served.data))
        assert 0x8825 not in shown.getexif() and shown.size == (32, 64), (url, dict(shown.getexif()))
    for attachment_id in (form.id, hidden["id"]):
        assert anonymous.get(f"/cases/{case.id}/attachments/{attachment_id}").status_code == 404
        assert anonymous.get(f"/api/v1/cases/{case.id}/attachments/{attachment_id}").status_code == 404
    assert anonymous.get(f"/showcase/cases/{case.id}/photos/{hidden['id']}").status_code == 404
    assert anonymous.get(f"/cases/{case.id}/attachments/{brochure['id']}").data == PDF
    listed = {a["filename"] for a in anonymous.get(f"/api/v1/cases/{case.id}").get_json()["attachments"]}
    assert listed == {"现场.jpg", "宣传册.pdf"}
    page = anonymous.get(f"/showcase/cases/{case.id}").get_data(as_text=True)
    assert "宣传册.pdf" in page and f"/photos/{photo['id']}" in page and f"/photos/{hidden['id']}" not in page

    for insider in (owner, make.organizer()):
        login(client, insider)
        assert client.get(f"/cases/{case.id}/attachments/{form.id}").data == PDF
        original = client.get(f"/cases/{case.id}/attachments/{photo['id']}").data
        assert 0x8825 in Image.open(BytesIO(original)).getexif(), "the unit and the office get the original"
        assert "申报书.pdf" in client.get(f"/cases/{case.id}").get_data(as_text=True)
