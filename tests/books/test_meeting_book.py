"""Meeting books on the demo campaign: the table of contents' page numbers are where each dossier starts, every
finalist is bound, an expert's book holds only their cases (no unit's name when the review is blind), and the
organizers' page, the experts' page and the API give each book only to whom it belongs."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import select

from accounts.models import User
from awards import certificates
from books import operations as books
from books.models import FAILED, ISSUED, PER_CATEGORY, PER_EXPERT, MeetingBook
from campaigns.models import Campaign
from cases.models import Case
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import LIVE, Assignment
from shell import demo
from tests.api.conftest import bearer  # noqa: F401  (the fixture)
from tests.factories import login, value
from workflow.definition import APPLICANT, EXPERT, ORGANIZER

TOC_LINE = re.compile(r"^\s*(\d{4}-[A-Z]+-\d{4})\s+(.+?)\s*\.{3,}\s*(\d+)\s*$")


def pages_of(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "book.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@pytest.fixture
def campaign(app) -> Campaign:
    demo.build("pingxuan-demo")
    return db.session.scalar(select(Campaign).where(Campaign.is_current))  # 2017; the demo also has 2016


def organizer() -> User:
    return db.session.scalar(select(User).where(User.role == ORGANIZER).order_by(User.id))


def test_category_books_bind_every_finalist_and_the_contents_point_at_their_pages(app, campaign, tmp_path):
    run = books.request_books(campaign, organizer(), PER_CATEGORY)
    commit()  # eager Celery renders every book now
    bound = db.session.scalars(
        select(Case).where(Case.campaign_id == campaign.id, Case.state.in_(books.bound_states()))
    ).all()
    assert len(bound) >= 8 and {b.status for b in run.books} == {ISSUED}
    seen: set[int] = set()
    for book in run.books:
        pages = pages_of(books.pdf_of(book), tmp_path)
        assert book.pages == len([p for p in pages if p.strip()])
        toc = [m for line in pages[1].splitlines() if (m := TOC_LINE.match(line))]
        assert [m.group(1) for m in toc] == [db.session.get(Case, i).number for i in book.case_ids]
        for match in toc:
            number, title, page = match.group(1), match.group(2), int(match.group(3))
            starts = pages[page - 1]
            assert number in starts.splitlines()[0], "the running header names the case on its first page"
            assert title in starts
            assert number not in pages[page - 2].splitlines()[0], "the dossier starts on that page, not before"
            assert f"{page} / {len(pages) - 1}" in starts or f"{page} of {len(pages) - 1}" in starts or \
                f"第 {page} 页" in starts  # fmt: skip
        seen |= set(book.case_ids)
    assert seen == {c.id for c in bound}


def test_an_experts_book_holds_only_their_cases_and_no_unit_when_blind(app, campaign, tmp_path):
    campaign.blind_review = True
    commit()
    run = books.request_books(campaign, organizer(), PER_EXPERT)
    commit()
    book = run.books[0]
    assert book.blind and book.status == ISSUED
    mine = set(db.session.scalars(select(Assignment.case_id).where(
        Assignment.expert_id == book.expert_id, Assignment.status.in_(LIVE))))  # fmt: skip
    assert set(book.case_ids) <= mine and book.case_ids
    text = "".join(pages_of(books.pdf_of(book), tmp_path))
    for case in db.session.scalars(select(Case).where(Case.state.in_(books.bound_states()))):
        assert (case.title in text) == (case.id in book.case_ids)
        if case.id in book.case_ids:
            assert case.unit.name not in text, "blind review: no unit's name"
            assert value(case, "construction_unit") not in text and value(case, "operating_unit") not in text
    campaign.blind_review = False
    commit()
    seen = books.request_books(campaign, organizer(), PER_EXPERT)
    commit()
    case = db.session.get(Case, seen.books[0].case_ids[0])
    assert case.unit.name in "".join(pages_of(books.pdf_of(seen.books[0]), tmp_path))


def test_pages_give_each_book_to_whom_it_belongs(app, campaign, client):
    login(client, organizer())
    client.get("/language/en")
    page = client.post("/admin/books/start", data={"campaign": campaign.id, "scope": PER_EXPERT},
                       follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "100 %" in page and "0 failed" in page
    book = db.session.scalar(select(MeetingBook).order_by(MeetingBook.id))
    pdf = client.get(f"/admin/books/{book.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    owner = db.session.get(User, book.expert_id)
    other = db.session.scalar(select(User).where(User.role == EXPERT, User.id != owner.id))
    applicant = db.session.scalar(select(User).where(User.role == APPLICANT))
    login(client, owner)
    listing = client.get("/review/books").get_data(as_text=True)
    assert f"/review/books/{book.id}.pdf" in listing
    assert client.get(f"/review/books/{book.id}.pdf").data == pdf.data
    assert "/review/books" in client.get("/review/mine").get_data(as_text=True)
    for stranger in (other, applicant):
        login(client, stranger)
        assert client.get(f"/review/books/{book.id}.pdf").status_code == 404
    assert client.get(f"/admin/books/{book.id}/pdf").status_code in (302, 403)


def test_api_binds_follows_retries_and_downloads(app, campaign, client, bearer, tmp_path, monkeypatch):  # noqa: F811
    staff = bearer(organizer())
    monkeypatch.setattr(certificates, "TEMPLATES", tmp_path / "missing")  # every book fails to render
    started = client.post(f"/api/v1/campaigns/{campaign.id}/meeting-books", json={"scope": PER_CATEGORY},
                          headers=staff)  # fmt: skip
    assert started.status_code == 201, started.get_json()
    run = started.get_json()
    assert run["progress"]["failed"] == run["progress"]["total"] > 0 and run["progress"]["percent"] == 100
    failed = run["books"][0]
    assert failed["status"] == FAILED and "meeting_book" in failed["error"]
    monkeypatch.undo()
    retried = client.post(f"/api/v1/meeting-books/{failed['id']}/retry", headers=staff)
    assert retried.status_code == 200 and retried.get_json()["status"] == ISSUED
    again = client.post(f"/api/v1/meeting-books/{failed['id']}/retry", headers=staff)
    assert again.status_code == 409
    assert client.get(f"/api/v1/meeting-book-runs/{run['id']}", headers=staff).get_json()["progress"]["issued"] == 1
    pdf = client.get(f"/api/v1/meeting-books/{failed['id']}/pdf", headers=staff)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    bad = client.post(f"/api/v1/campaigns/{campaign.id}/meeting-books", json={"scope": "everyone"}, headers=staff)
    assert bad.status_code == 422 and "scope" in bad.get_json()["errors"]
    expert = db.session.scalar(select(User).where(User.role == EXPERT))
    assert client.get(f"/api/v1/meeting-books/{failed['id']}/pdf", headers=bearer(expert)).status_code == 404
    assert client.post(f"/api/v1/campaigns/{campaign.id}/meeting-books", json={"scope": PER_EXPERT},
                       headers=bearer(expert)).status_code == 403  # fmt: skip
