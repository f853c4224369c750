"""The applicant's case pages, through HTTP: drafts, uploads, submission, timeline, permissions."""

from __future__ import annotations

import re
from datetime import date, timedelta
from io import BytesIO

from sqlalchemy import select

from cases.models import Attachment, Case
from notifications.models import Notification, OutboxMail
from pingxuan.extensions import db
from tests.factories import PDF, login
from workflow.models import WorkflowEvent


def _form(make, **overrides) -> dict:
    """A complete dossier as the edit form posts it."""
    data = make.dossier()
    form = {key: "" if value is None else str(value) for key, value in data.items()}
    form.update(overrides)
    return form


def _version(case_id: int) -> str:
    db.session.expire_all()
    return str(db.session.get(Case, case_id).version)


def test_dashboard_lists_the_units_cases_with_state_deadline_and_actions(client, make):
    campaign = make.campaign()
    me = make.applicant()
    mine = make.case(owner=me)
    make.case()  # another unit's case
    finalist = make.case("public_vote")  # another unit's finalist: public, but not one of my cases
    login(client, me)
    page = client.get("/my-cases").get_data(as_text=True)
    assert mine.title in page and finalist.title not in page
    assert page.count('data-case="') == 1
    assert 'data-state="draft"' in page
    assert f"/cases/{mine.id}/transitions/submit" in page
    assert str(campaign.submission_closes.year) in page
    assert 'href="/cases/new"' in page


def test_incomplete_draft_then_submit_reports_every_missing_field(client, make):
    make.campaign()
    me = make.applicant()
    login(client, me)
    response = client.post("/cases/new", data={"title": "智慧停车"})
    assert response.status_code == 302
    case = db.session.scalars(select(Case).where(Case.unit_id == me.unit_id)).one()
    assert case.title == "智慧停车" and case.state == "draft"

    # Fill most of the dossier, leaving out summary, description, the URL/app name, the investment, and no PDF.
    form = _form(make, summary="", description="", public_url="", app_name="", investment="", version=_version(case.id))
    assert client.post(f"/cases/{case.id}/edit", data=form).status_code == 302

    response = client.post(
        f"/cases/{case.id}/transitions/submit", data={"expected_version": _version(case.id)}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "5 fields need attention" in page
    for message in (
        "Summary is required.",
        "Description is required.",
        "Investment (CNY) is required.",
        "Give a public URL or the name of the app.",
        "Document (PDF, JPEG, PNG): attach at least one file.",
    ):
        assert message in page, message
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "draft"
    assert db.session.scalar(select(WorkflowEvent).where(WorkflowEvent.case_id == case.id)) is None


def test_wrong_values_are_refused_field_by_field_and_nothing_is_saved(client, make):
    me = make.applicant()
    case = make.case(owner=me, complete=False, title="原标题")
    login(client, me)
    form = _form(make, title="新标题", investment="-5", in_operation_since="2016-13-01", public_url="ftp://x")
    form["version"] = _version(case.id)
    response = client.post(f"/cases/{case.id}/edit", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter an amount in CNY of zero or more." in page
    assert "Enter a date as YYYY-MM-DD." in page
    assert "Enter a web address starting with http:// or https://." in page
    assert 'value="新标题"' in page  # what the person typed is kept in the form
    db.session.expire_all()
    assert db.session.get(Case, case.id).title == "原标题"


def test_domain_of_another_category_is_refused(client, make):
    campaign = make.campaign()
    me = make.applicant()
    case = make.case(owner=me, complete=False)
    login(client, me)
    other = campaign.categories[1].domains[0]
    form = _form(make, domain_id=str(other.id), version=_version(case.id))
    response = client.post(f"/cases/{case.id}/edit", data=form)
    assert response.status_code == 422
    assert "Choose a domain of the chosen category." in response.get_data(as_text=True)


def test_executable_renamed_to_pdf_is_refused_and_nothing_stored(client, make, app):
    me = make.applicant()
    case = make.case(owner=me, complete=False)
    login(client, me)
    for payload in (b"MZ\x90\x00" + b"\x00" * 200, b"\x7fELF\x02\x01\x01" + b"\x00" * 200):
        response = client.post(
            f"/cases/{case.id}/attachments",
            data={"kind": "document", "file": (BytesIO(payload), "x.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "This file is not an allowed type." in page
        assert "The file&#39;s content is not PDF, JPEG, PNG." in page or "content is not PDF" in page
    assert db.session.scalar(select(Attachment).where(Attachment.case_id == case.id)) is None
    from pathlib import Path

    stored = [p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file()]
    assert stored == []


def test_a_new_case_starts_with_a_file_saved_with_the_draft(client, make):
    """Issue 23: the first file is chosen on the new case's page; saving the draft uploads it. Without the title
    nothing is saved and the page says the title is what is missing."""
    make.campaign()
    me = make.applicant()
    login(client, me)
    page = client.get("/cases/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="upload-file"' in page and 'data-slot="document"' in page

    untitled = client.post("/cases/new", data={"title": "", "upload-kind": "document",
                                               "upload-file": (BytesIO(PDF), "申报书.pdf")},
                           content_type="multipart/form-data")  # fmt: skip
    assert untitled.status_code == 422
    assert "Give the case a title to save it." in untitled.get_data(as_text=True)
    assert db.session.scalar(select(Case).where(Case.unit_id == me.unit_id)) is None

    response = client.post("/cases/new", data={"title": "智慧停车", "upload-kind": "document",
                                               "upload-file": (BytesIO(PDF), "申报书.pdf")},
                           content_type="multipart/form-data")  # fmt: skip
    case = db.session.scalars(select(Case).where(Case.unit_id == me.unit_id)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case.id}/edit#attachments")
    assert [(a.kind, a.filename) for a in case.attachments] == [("document", "申报书.pdf")]
    assert "申报书.pdf" in client.get(f"/cases/{case.id}/edit").get_data(as_text=True)

    wrong = client.post("/cases/new", data={"title": "另一个", "upload-kind": "photo",
                                            "upload-file": (BytesIO(PDF), "申报书.pdf")},
                        content_type="multipart/form-data")  # fmt: skip
    assert wrong.status_code == 422, "a PDF is not a photo: neither the draft nor the file is saved"
    assert db.session.scalars(select(Case).where(Case.unit_id == me.unit_id)).all() == [case]


def test_upload_download_and_remove_a_pdf(client, make):
    me = make.applicant()
    case = make.case(owner=me, complete=False)
    login(client, me)
    response = client.post(
        f"/cases/{case.id}/attachments",
        data={"kind": "document", "file": (BytesIO(PDF), "申报书.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "申报书.pdf" in response.get_data(as_text=True)
    attachment = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).one()
    download = client.get(f"/cases/{case.id}/attachments/{attachment.id}?download=1")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    client.post(f"/cases/{case.id}/attachments/{attachment.id}/remove")
    db.session.expire_all()
    assert db.session.scalar(select(Attachment).where(Attachment.case_id == case.id)) is None


def test_submit_complete_case_shows_timeline_notification_and_mail(client, make):
    me = make.applicant()
    case = make.case(owner=me)
    login(client, me)
    response = client.post(
        f"/cases/{case.id}/transitions/submit", data={"expected_version": _version(case.id)}, follow_redirects=True
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-state="submitted"' in page
    assert 'data-transition="submit"' in page  # the timeline entry
    assert me.name in page
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.state == "submitted" and re.match(r"\d{4}-[A-Z]+-0001", case.number)
    assert case.number in page
    assert db.session.scalar(select(Notification).where(Notification.user_id == me.id)) is not None
    assert db.session.scalar(select(OutboxMail).where(OutboxMail.recipient == me.email)) is not None
    dashboard = client.get("/my-cases").get_data(as_text=True)
    assert '<span class="badge">1</span>' in dashboard


def test_withdraw(client, make):
    me = make.applicant()
    case = make.case("submitted", owner=me)
    login(client, me)
    response = client.post(
        f"/cases/{case.id}/transitions/withdraw", data={"expected_version": _version(case.id)}, follow_redirects=True
    )
    assert 'data-state="withdrawn"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "withdrawn"


def test_stale_page_is_told_someone_else_acted_first(client, make):
    me = make.applicant()
    case = make.case(owner=me)
    stale = _version(case.id)
    client.post(f"/cases/{case.id}/edit", data={})  # not logged in: nothing happens
    login(client, me)
    client.post(f"/cases/{case.id}/edit", data=_form(make, title="改过的标题", version=stale))  # bumps the version
    response = client.post(
        f"/cases/{case.id}/transitions/submit", data={"expected_version": stale}, follow_redirects=True
    )
    assert "Someone else acted on this case first" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "draft"


def test_stale_dossier_save_is_refused(client, make):
    me = make.applicant()
    case = make.case(owner=me)
    stale = _version(case.id)
    login(client, me)
    assert client.post(f"/cases/{case.id}/edit", data=_form(make, title="第一次", version=stale)).status_code == 302
    response = client.post(f"/cases/{case.id}/edit", data=_form(make, title="第二次", version=stale))
    assert response.status_code == 409
    assert "Someone else changed this case first" in response.get_data(as_text=True)


def test_member_of_another_unit_gets_404_on_case_and_attachments(client, make):
    case = make.case()
    attachment = case.attachments[0]
    login(client, make.applicant())
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.get(f"/cases/{case.id}/attachments/{attachment.id}").status_code == 404
    assert client.get(f"/cases/{case.id}/edit").status_code == 404
    response = client.post(f"/cases/{case.id}/transitions/withdraw", data={"expected_version": "1"})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "draft"


def test_logged_out_visitor_is_sent_to_log_in(client, make):
    case = make.case()
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_case_page_shows_dossier_attachments_and_refused_buttons(client, make):
    me = make.applicant()
    case = make.case(owner=me, complete=False, title="未完成的案例")
    login(client, me)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "未完成的案例" in page
    assert "Recommending organization" in page  # labels from FIELD_LABELS
    assert re.search(r'<button[^>]*value="submit"[^>]*disabled', page)
    assert "fields need attention" in page
    assert re.search(r'<button[^>]*value="withdraw"[^>]*>', page)
    assert not re.search(r'<button[^>]*value="withdraw"[^>]*disabled', page)


def test_submitted_case_cannot_be_edited(client, make):
    me = make.applicant()
    case = make.case("submitted", owner=me)
    login(client, me)
    assert client.get(f"/cases/{case.id}/edit").status_code == 403
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/edit" not in page


def test_organizer_sees_comment_box_for_return(client, make):
    case = make.case("submitted")
    organizer = make.organizer()
    login(client, organizer)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'name="comment"' in page and 'name="due_date"' in page
    due = (date.today() + timedelta(days=7)).isoformat()
    response = client.post(
        f"/cases/{case.id}/transitions/return_for_revision",
        data={"expected_version": _version(case.id), "comment": "", "due_date": due},
        follow_redirects=True,
    )
    assert "needs a comment" in response.get_data(as_text=True)
    response = client.post(
        f"/cases/{case.id}/transitions/return_for_revision",
        data={"expected_version": _version(case.id), "comment": "请补充应用成效数据", "due_date": due},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert 'data-state="returned"' in page and "请补充应用成效数据" in page
