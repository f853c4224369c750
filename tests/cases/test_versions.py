"""Dossier versions (issue 11, item 4): each submission freezes the dossier; the office and the unit compare two
versions character by character on the case's page and through the API, and no one else sees them."""

from __future__ import annotations

from html.parser import HTMLParser

from accounts.operations import create_api_token
from cases.models import Case
from cases.operations import attach_file, remove_attachment, update_case
from cases.versions import compare, versions
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import ACCEPTED, Assignment
from tests.factories import PDF, PNG, login
from workflow.engine import fire

BEFORE = "平台覆盖全市十个区市，日均处理案件三千件。\n群众满意度达到百分之九十。"
AFTER = "平台覆盖全市十个区市，日均处理案件五千件。\n群众满意度达到百分之九十。"
REVISED_PDF = PDF.replace(b"%%EOF", b"% revised\n%%EOF")


def resubmitted(make) -> tuple[Case, object]:
    """A case submitted, returned, revised (a paragraph, the app's name, the PDF replaced, a photo added) and
    resubmitted: versions 1 and 2."""
    owner = make.applicant()
    case = make.case("returned", owner=owner, description=BEFORE, app_name="Smart Parking")
    update_case(case, owner, {"description": AFTER, "app_name": "Smart Packing"})
    remove_attachment(case, owner, case.attachments[0].id)
    attach_file(case, owner, "document", "申报书.pdf", REVISED_PDF)
    attach_file(case, owner, "photo", "现场.png", PNG)
    commit()
    fire(case, "resubmit", owner)
    commit()
    return case, make.organizer()


def test_resubmission_freezes_version_2_and_the_diff_marks_only_the_changed_characters(app, make):
    case, _organizer = resubmitted(make)
    first, second = versions(case)
    assert (first.number, second.number) == (1, 2)
    assert first.fields["description"] == BEFORE and second.fields["description"] == AFTER
    assert [a["filename"] for a in first.attachments] == ["申报书.pdf"]

    diff = compare(case, 1, 2)
    assert [f.field for f in diff.changed_fields] == ["description", "app_name"]
    segments = {f.field: [(s.op, s.text) for s in f.segments] for f in diff.changed_fields}
    assert segments["description"] == [
        ("equal", "平台覆盖全市十个区市，日均处理案件"),
        ("delete", "三"),
        ("insert", "五"),
        ("equal", "千件。\n群众满意度达到百分之九十。"),
    ]
    assert segments["app_name"] == [("equal", "Smart "), ("delete", "Parking"), ("insert", "Packing")], "whole words"
    replaced, added = diff.attachments
    assert replaced.status == "replaced" and replaced.old["filename"] == replaced.new["filename"] == "申报书.pdf"
    assert replaced.old["sha256"] != replaced.new["sha256"]
    assert added.status == "added" and added.new["filename"] == "现场.png" and added.old is None


class _Marked(HTMLParser):
    """The segments of each changed field as the versions page marks them up (screen-reader labels left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[tuple[str, str]]] = {}
        self.field: str | None = None
        self.op = "equal"
        self.hidden = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "dd" and "data-field" in attrs:
            self.field = attrs["data-field"]
            self.fields[self.field] = []
        elif tag in ("ins", "del") and self.field:
            self.op = "insert" if tag == "ins" else "delete"
        elif tag == "span" and attrs.get("class") == "sr-only":
            self.hidden = True

    def handle_endtag(self, tag):
        if tag == "dd":
            self.field = None
        elif tag in ("ins", "del"):
            self.op = "equal"
        elif tag == "span":
            self.hidden = False

    def handle_data(self, data):
        if self.field and not self.hidden:
            self.fields[self.field].append((self.op, data))


def bearer(user) -> dict[str, str]:
    token, _record = create_api_token(user, "tests")
    commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_office_and_the_unit_compare_on_the_page_and_in_the_api_and_no_one_else_can(app, client, make):
    case, organizer = resubmitted(make)
    owner = case.created_by
    login(client, owner)
    detail = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f"/cases/{case.id}/versions?from=1&amp;to=2" in detail and "Compare with the previous version" in detail
    response = client.get(f"/cases/{case.id}/versions")  # the newest against the one before
    assert response.status_code == 200
    page = _Marked()
    page.feed(response.get_data(as_text=True))
    api = client.get(f"/api/v1/cases/{case.id}/versions/1/diff/2", headers=bearer(owner)).get_json()
    assert page.fields == {
        f["field"]: [(s["op"], s["text"]) for s in f["segments"]] for f in api["dossier"] if f["changed"]
    }
    assert [c["status"] for c in api["attachments"]] == ["replaced", "added"]
    listed = client.get(f"/api/v1/cases/{case.id}/versions", headers=bearer(organizer)).get_json()
    assert [(v["number"], v["transition"]) for v in listed] == [(1, "submit"), (2, "resubmit")]
    login(client, organizer)
    assert 'data-status="replaced"' in client.get(f"/cases/{case.id}/versions?from=1&to=2").get_data(as_text=True)
    assert client.get(f"/cases/{case.id}/versions?from=1&to=3").status_code == 404

    # An assigned expert reviews "version 2" but may not compare; other units and the public see nothing.
    fire(case, "approve", organizer)
    expert = make.expert()
    db.session.add(Assignment(case_id=case.id, expert_id=expert.id, status=ACCEPTED))
    commit()
    login(client, expert)
    assert 'data-version="2"' in client.get(f"/review/cases/{case.id}/score").get_data(as_text=True)
    assert "Dossier versions" not in client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert client.get(f"/cases/{case.id}/versions").status_code == 403
    assert client.get(f"/api/v1/cases/{case.id}/versions", headers=bearer(expert)).status_code == 403
    stranger = make.applicant()
    login(client, stranger)
    assert client.get(f"/cases/{case.id}/versions").status_code == 404
    assert client.get(f"/api/v1/cases/{case.id}/versions/1/diff/2", headers=bearer(stranger)).status_code == 404
    assert client.get(f"/api/v1/cases/{case.id}/versions").status_code == 401
    public = make.case("public_vote")
    assert app.test_client().get(f"/cases/{public.id}/versions").status_code == 403
