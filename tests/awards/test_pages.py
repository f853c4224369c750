"""Award pages: the organizer's ranking, awards, certificates and dashboard; the applicant's download; the
public results and verification. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from openpyxl import load_workbook
from sqlalchemy import select

from awards import certificates, publication
from awards.decisions import confirm_awards
from awards.models import FAILED, ISSUED, SUPERSEDED, Certificate, OrganizationAward
from campaigns.models import VOTE_CLOSED, VOTE_OPEN
from campaigns.operations import organizations
from pingxuan.clock import day
from pingxuan.db import commit
from pingxuan.extensions import db
from reviewers.models import Assignment, Review
from tests.factories import login
from tests.voting.test_integrity import Votes
from voting.models import VoteCount

# Hand-computed (weights 70/30): votes 200, 400, 100 → vote scores 50, 100, 25 (the leader has 400)
#   A: 0.7×80 + 0.3×50  = 71.0     B: 0.7×60 + 0.3×100 = 72.0     C: 0.7×90 + 0.3×25 = 70.5
# so the ranking is B, A, C; a cut at 2 awards B and A.
SPEC = {"A": (80.0, 200), "B": (60.0, 400), "C": (90.0, 100)}


def finalists(make, spec=SPEC, category_index: int = 0, **fields) -> dict:
    """Cases in the public vote, each reviewed by an expert of its own (so its normalized score is the raw one)."""
    cases = {}
    for name, (score, votes) in spec.items():
        case = make.case("public_vote", category_index=category_index, title=f"案例{name}", **fields)
        assignment = db.session.scalar(select(Assignment).where(Assignment.case_id == case.id))
        db.session.add(Review(assignment_id=assignment.id, total=Decimal(str(score))))
        if votes:
            db.session.add(VoteCount(case_id=case.id, valid=votes))
        cases[name] = case
    commit()
    return cases


def close_vote(campaign) -> None:
    campaign.vote_status = VOTE_CLOSED
    commit()


def awarded(make, size: int = 2) -> tuple[dict, object]:
    cases = finalists(make)
    campaign = cases["A"].campaign
    close_vote(campaign)
    organizer = make.organizer()
    confirm_awards(campaign, cases["A"].category, organizer, size=size)
    commit()
    make.end_notice(campaign, organizer)
    return cases, organizer


def english(client) -> None:
    """The msgids are English; the default locale is Chinese once the catalogue is filled."""
    client.get("/language/en")


def staff_client(client, make):
    organizer = make.organizer()
    login(client, organizer)
    english(client)
    return organizer


def rows_of(html: str) -> list[dict]:
    """The ranking table's rows as dicts of the cells' classes."""
    rows = []
    for match in re.finditer(r'<tr data-case="(\d+)" data-rank="(\d+)"[^>]*>(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'<td class="text-right (\w[\w-]*)">(?:<strong>)?([^<]*)', match.group(3)))
        rows.append({**cells, "case": int(match.group(1)), "rank": int(match.group(2))})
    return rows


# Ranking and award confirmation ----------------------------------------------------------------------


def test_ranking_page_shows_every_component_computed_by_hand(app, client, make):
    cases = finalists(make)
    staff_client(client, make)
    category = cases["A"].category
    html = client.get(f"/admin/awards/ranking/{category.id}?n=2").get_data(as_text=True)
    rows = rows_of(html)
    assert [r["case"] for r in rows] == [cases["B"].id, cases["A"].id, cases["C"].id]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert [(r["expert"], r["votes"], r["vote-score"], r["final"]) for r in rows] == [
        ("60.00", "400", "100.00", "72.000"),
        ("80.00", "200", "50.00", "71.000"),
        ("90.00", "100", "25.00", "70.500"),
    ]
    # the preview marks the cut at 2; the default cut is the campaign's awards_per_category
    assert html.count("table-success") == 2
    assert "Propose the top 2 for award" in html
    default = client.get(f"/admin/awards/ranking/{category.id}").get_data(as_text=True)
    assert "Propose the top 3 for award" in default  # 10 per category, only 3 finalists


def test_confirming_is_refused_while_the_vote_is_open_then_awards_the_top_n(app, client, make):
    cases = finalists(make)
    campaign = cases["A"].campaign
    campaign.vote_status = VOTE_OPEN
    commit()
    staff_client(client, make)
    category = cases["A"].category
    page = client.get(f"/admin/awards/ranking/{category.id}").get_data(as_text=True)
    assert "The public vote is not closed yet." in page, "the reason is shown before pressing"
    response = client.post(
        f"/admin/awards/ranking/{category.id}/confirm", data={"size": 2, "confirmed": "1"}, follow_redirects=True
    )
    assert "The public vote is not closed yet." in response.get_data(as_text=True)
    db.session.expire_all()
    assert {c.state for c in cases.values()} == {"public_vote"}

    close_vote(campaign)
    response = client.post(
        f"/admin/awards/ranking/{category.id}/confirm", data={"size": 2, "confirmed": "1"}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "2 cases proposed for award" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (cases["B"].state, cases["A"].state, cases["C"].state) == ("proposed", "proposed", "not_awarded")
    make.end_notice(campaign)
    db.session.expire_all()
    assert (cases["B"].state, cases["A"].state, cases["C"].state) == ("awarded", "awarded", "not_awarded")
    # after the decision the page shows the decided ranking with each outcome
    assert [r["case"] for r in rows_of(response.get_data(as_text=True))] == [cases[k].id for k in "BAC"]


def test_award_pages_are_for_staff_only(app, client, make):
    finalists(make, {"A": (70.0, 1)})
    applicant = make.applicant()
    login(client, applicant)
    for url in ("/admin/awards/ranking/", "/admin/awards/organizations/", "/admin/awards/certificates/",
                "/admin/dashboard/", "/admin/awards/ranking/export.xlsx"):  # fmt: skip
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/awards/certificates/start", data={"confirmed": "1"}).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/admin/awards/ranking/").status_code == 302


# Organization awards ---------------------------------------------------------------------------------


def test_organization_awards_table_and_limit(app, client, make):
    make.campaign()
    orgs = organizations()
    first = finalists(make, {"A": (80.0, 10)}, recommending_org_id=orgs[0].id)
    finalists(make, {"B": (70.0, 5)}, recommending_org_id=orgs[1].id)
    campaign = first["A"].campaign
    campaign.organization_awards = 1
    commit()
    staff_client(client, make)
    page = client.get("/admin/awards/organizations/").get_data(as_text=True)
    assert f'data-organization="{orgs[0].id}"' in page and f'data-organization="{orgs[1].id}"' in page
    row = re.search(rf'<tr data-organization="{orgs[0].id}".*?</tr>', page, re.S).group(0)
    assert [int(n) for n in re.findall(r'<td class="text-right">(\d+)</td>', row)] == [1, 1, 1, 0]

    too_many = client.post("/admin/awards/organizations/", data={"organization": [orgs[0].id, orgs[1].id]})
    assert "at most 1 organization award." in too_many.get_data(as_text=True)
    assert db.session.scalar(select(OrganizationAward.id)) is None

    done = client.post("/admin/awards/organizations/", data={"organization": [orgs[0].id]}, follow_redirects=True)
    assert "1 organization award confirmed" in done.get_data(as_text=True)
    assert [a.organization_id for a in db.session.scalars(select(OrganizationAward))] == [orgs[0].id]


# Certificates ----------------------------------------------------------------------------------------


def test_batch_progress_reaches_100_and_the_zip_holds_the_pdfs(app, client, make):
    cases, _organizer = awarded(make)
    staff_client(client, make)
    response = client.post("/admin/awards/certificates/start", data={"confirmed": "1"})
    assert response.status_code == 302
    batch_url = response.headers["Location"]
    batch_id = int(batch_url.rstrip("/").split("/")[-1])
    progress = client.get(f"/admin/awards/certificates/batches/{batch_id}/progress").get_json()
    assert progress["percent"] == 100 and progress["finished"] is True
    assert (progress["total"], progress["issued"], progress["failed"]) == (2, 2, 0)
    page = client.get(batch_url).get_data(as_text=True)
    assert "100 %" in page and 'data-finished="yes"' in page

    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/admin/awards/certificates/batches/{batch_id}/zip").data))
    names = archive.namelist()
    assert len(names) == 2 and all(n.endswith(".pdf") for n in names)
    assert all(archive.read(n).startswith(b"%PDF") for n in names)
    issued = {c.sha256 for c in db.session.scalars(select(Certificate))}
    assert {hashlib.sha256(archive.read(n)).hexdigest() for n in names} == issued


def test_a_failed_certificate_shows_its_error_and_can_be_retried(app, client, make, tmp_path, monkeypatch):
    awarded(make, size=1)
    staff_client(client, make)
    monkeypatch.setattr(certificates, "TEMPLATES", tmp_path / "no-templates")  # the kind's folder is missing
    batch_url = client.post("/admin/awards/certificates/start", data={"confirmed": "1"}).headers["Location"]
    certificate = db.session.scalar(select(Certificate))
    assert certificate.status == FAILED
    page = client.get(batch_url).get_data(as_text=True)
    assert "No certificate template named case_award" in page and "Retry" in page
    progress = client.get(batch_url + "/progress").get_json()
    assert progress["failed"] == 1 and progress["failures"][0]["number"] == certificate.number

    monkeypatch.undo()  # the folder is back
    response = client.post(f"/admin/awards/certificates/{certificate.id}/retry", follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert certificate.status == ISSUED and certificate.error is None
    assert client.get(batch_url + "/progress").get_json()["issued"] == 1


def test_reissue_with_a_correction_keeps_the_old_one_listed_as_superseded(app, client, make):
    awarded(make, size=1)
    staff_client(client, make)
    client.post("/admin/awards/certificates/start", data={"confirmed": "1"})
    old = db.session.scalar(select(Certificate))
    form = client.get(f"/admin/awards/certificates/{old.id}/reissue").get_data(as_text=True)
    assert old.content["title"] in form
    response = client.post(
        f"/admin/awards/certificates/{old.id}/reissue",
        data={"award_name": old.content["award_name"], "title": "案例B（更正）", "recipient": old.content["recipient"]},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    db.session.expire_all()
    new = db.session.scalar(select(Certificate).where(Certificate.supersedes_id == old.id))
    assert old.status == SUPERSEDED and new.status == ISSUED and new.content["title"] == "案例B（更正）"
    assert f'data-certificate="{old.id}" data-status="superseded"' in html
    assert f'data-certificate="{new.id}" data-status="issued"' in html


# Applicants ------------------------------------------------------------------------------------------


def test_an_awarded_unit_downloads_only_its_own_certificate(app, client, make):
    cases, organizer = awarded(make, size=1)
    certificates.issue_batch(cases["A"].campaign, organizer)
    commit()
    winner = cases["B"]  # rank 1
    certificate = db.session.scalar(select(Certificate).where(Certificate.case_id == winner.id))
    owner = winner.created_by
    login(client, owner)
    english(client)
    page = client.get("/my-cases").get_data(as_text=True)
    link = f"/my-certificates/{certificate.id}.pdf"
    assert "My certificates" in page and link in page
    response = client.get(link)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert hashlib.sha256(response.data).hexdigest() == certificate.sha256

    other = cases["A"].created_by  # a unit with a case but no award
    other_client = app.test_client()
    login(other_client, other)
    english(other_client)
    assert other_client.get(link).status_code == 404
    page = other_client.get("/my-cases").get_data(as_text=True)
    assert link not in page and "No certificate yet." in page  # the section says what is true (issue 21)
    assert app.test_client().get(link).status_code == 302  # log in first


# Public: verification and results --------------------------------------------------------------------


def test_verify_page_genuine_changed_digit_and_modified_upload(app, client, make):
    cases, organizer = awarded(make, size=1)
    certificates.issue_batch(cases["A"].campaign, organizer)
    commit()
    certificate = db.session.scalar(select(Certificate))
    url = certificates.verify_url(certificate).removeprefix("http://localhost") + "&lang=en"
    english(client)
    page = client.get(url).get_data(as_text=True)
    assert 'data-valid="yes"' in page and "Genuine certificate." in page
    assert certificate.content["award_name"] in page and certificate.content["title"] in page
    assert certificate.content["recipient"] in page

    changed = certificate.number[:-1] + ("2" if certificate.number[-1] != "2" else "3")
    page = client.get(f"/verify/{changed}").get_data(as_text=True)
    assert 'data-valid="no"' in page and certificate.content["recipient"] not in page
    page = client.get(f"/verify/{certificate.number}?s=0000000000000000").get_data(as_text=True)
    assert 'data-valid="no"' in page
    for odd in ("签名", "%ED%A0%80", "%FF%FE", "é" * 40):  # non-ASCII codes: a clear "no", never a 500
        response = client.get(f"/verify/{certificate.number}?s={odd}")
        assert response.status_code == 200 and 'data-valid="no"' in response.get_data(as_text=True)
    assert 'data-valid="yes"' in client.get(f"/verify?number={certificate.number}").get_data(as_text=True)

    pdf = certificates.pdf_of(certificate)
    genuine = client.post("/verify", data={"file": (io.BytesIO(pdf), "c.pdf")}, content_type="multipart/form-data")
    assert 'data-valid="yes"' in genuine.get_data(as_text=True)
    assert "This is the issued file." in genuine.get_data(as_text=True)
    tampered = pdf[:2000] + bytes([pdf[2000] ^ 1]) + pdf[2001:]
    modified = client.post("/verify", data={"file": (io.BytesIO(tampered), "c.pdf")},
                           content_type="multipart/form-data")  # fmt: skip
    assert 'data-valid="no"' in modified.get_data(as_text=True)
    assert client.post("/verify", data={}).status_code == 422


def test_results_page_lists_awarded_cases_in_rank_order_and_nothing_private(app, client, make):
    cases, organizer = awarded(make, size=2)
    draft = make.case("draft", title="未公开的草稿")
    org = cases["A"].recommending_org
    db.session.add(OrganizationAward(campaign_id=cases["A"].campaign_id, organization_id=org.id))
    commit()
    assert org.name_zh not in client.get("/results").get_data(as_text=True), "not published yet"
    publication.publish(cases["A"].campaign, organizer)
    commit()
    html = client.get("/results").get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'<li data-case="(\d+)"', html)]
    assert listed == [cases["B"].id, cases["A"].id]
    assert cases["C"].title not in html and draft.title not in html
    assert f'href="/showcase/cases/{cases["B"].id}"' in html or f'href="/cases/{cases["B"].id}"' in html
    assert org.name_zh in html
    # the linked case page is public
    link = re.search(rf'href="(/[^"]*/{cases["B"].id})"', html).group(1)
    assert app.test_client().get(link).status_code == 200

    public_csv = client.get("/results.csv")
    rows = list(csv.reader(io.StringIO(public_csv.data.decode("utf-8-sig"))))
    assert [r[3] for r in rows[1:]] == ["案例B", "案例A"] and len(rows[0]) == 6, "no scores in the public file"


def test_organizer_exports_open_with_every_finalist_in_rank_order(app, client, make):
    cases, _organizer = awarded(make, size=2)
    campaign = cases["A"].campaign
    staff_client(client, make)
    response = client.get(f"/admin/awards/ranking/export.xlsx?campaign={campaign.id}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][:4] == ["Category", "Rank", "Case number", "Title"]
    assert [(r[1], r[3], r[9]) for r in values[1:]] == [(1, "案例B", 72.0), (2, "案例A", 71.0), (3, "案例C", 70.5)]
    assert [r[10] for r in values[1:]] == ["Awarded", "Awarded", "Not awarded"]

    text = client.get(f"/admin/awards/ranking/export.csv?campaign={campaign.id}").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [(r[1], r[3], r[6], r[7]) for r in rows[1:]] == [
        ("1", "案例B", "60.0", "400"), ("2", "案例A", "80.0", "200"), ("3", "案例C", "90.0", "100"),
    ]  # fmt: skip


# Dashboard -------------------------------------------------------------------------------------------


def test_dashboard_figures_match_the_data(app, client, make):
    campaign = make.campaign()
    make.case("submitted", investment="150000000.00")  # 1.5 亿元, category 0
    make.case("submitted", investment="50000000.00")  # 0.5 亿元, category 0
    make.case("submitted", investment="1234567890.00", category_index=3)  # 12.35 亿元
    make.case("draft", investment="990000000.00")  # a draft is not counted
    staff_client(client, make)
    html = client.get(f"/admin/dashboard/?campaign={campaign.id}").get_data(as_text=True)
    first, fourth = campaign.categories[0], campaign.categories[3]

    def figures(category_id):
        row = re.search(rf'<tr data-category="{category_id}">(.*?)</tr>', html, re.S).group(1)
        return re.findall(r'class="text-right (?:count|investment)">([^<]*)<', row)

    assert figures(first.id) == ["2", "2.00"]
    assert figures(fourth.id) == ["1", "12.35"]
    total = re.search(r'<tr class="total">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'class="text-right (?:count|investment)">([^<]*)<', total) == ["3", "14.35"]
    assert "228" in html and "179.70" in html, "the article's quoted figures beside them"
    for chart in ("chart-states", "chart-funnel", "chart-investment", "chart-review", "chart-votes"):
        assert re.search(rf'id="{chart}"><svg [^>]*role="img"', html), chart
    assert "<script" not in html.split("chart-states")[1].split("programme-figures")[0], "no JS for the charts"
    funnel = re.findall(r"<tr><td>([^<]+)</td><td class=\"text-right\">(\d+)</td></tr>", html)
    assert funnel[:5] == [("Started (draft)", "4"), ("Submitted", "3"), ("Eligible", "0"), ("Shortlisted", "0"),
                          ("Awarded", "0")]  # fmt: skip


def _votes_chart(client, campaign, lang: str) -> tuple[list[str], list[float]]:
    """The day labels under the votes chart's columns, and where each stands (x)."""
    html = client.get(f"/admin/dashboard/?campaign={campaign.id}&lang={lang}").get_data(as_text=True)
    chart = html.split('id="chart-votes"')[1].split("</svg>")[0]
    found = re.findall(r'<text x="([\d.]+)" y="\d+" text-anchor="middle">([^<]+)</text>', chart)
    return [label for _x, label in found], [float(x) for x, _label in found]


def test_the_votes_chart_names_its_days_as_every_page_does_in_both_languages(app, client, make):
    """The axis shows the one date format (clock.day, 2026-12-05) in Chinese and in English, not a bare 12-05; with
    a month of voting days the labels thin out so no two overlap."""
    campaign = make.campaign()
    case = make.case("public_vote")
    votes = Votes(campaign)
    for at in (datetime(2026, 12, 5, 2), datetime(2026, 12, 5, 3), datetime(2026, 12, 6, 4)):
        votes.add(case, at)
    commit()
    staff_client(client, make)
    for lang in ("zh", "en"):
        labels, _x = _votes_chart(client, campaign, lang)
        assert labels == ["2026-12-05", "2026-12-06"] == [day(date(2026, 12, 5)), day(date(2026, 12, 6))], lang

    for n in range(2, 27):  # December 7 to 31
        votes.add(case, datetime(2026, 12, 5, 2) + timedelta(days=n))
    commit()
    labels, xs = _votes_chart(client, campaign, "en")
    assert labels[0] == "2026-12-05" and all(re.fullmatch(r"2026-12-\d\d", label) for label in labels)
    assert min(b - a for a, b in pairwise(xs)) >= 7 * len("2026-12-05"), "labels ten characters wide do not overlap"


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3+4", "@SUM(A1)", "\tTAB", "\rCR"]


def test_exports_store_text_that_looks_like_a_formula_as_text(app, client, make):
    """Titles and unit names are typed by applicants: no export may hand them to a spreadsheet as formulas."""
    cases = finalists(make, spec={str(i): (80.0 - i, 100 + i) for i in range(len(FORMULAS))})
    for case, formula in zip(cases.values(), FORMULAS, strict=True):
        case.title = formula
        case.unit.name = formula + " unit"
    commit()
    campaign = cases["0"].campaign
    close_vote(campaign)
    confirm_awards(campaign, cases["0"].category, make.organizer(), size=len(FORMULAS))
    commit()
    make.end_notice(campaign)
    staff_client(client, make)

    book = load_workbook(io.BytesIO(client.get(f"/admin/awards/ranking/export.xlsx?campaign={campaign.id}").data))
    cells = [row[3:5] for row in book.worksheets[0].iter_rows(min_row=2)]
    kept = sorted(f.replace("\r", "\n") for f in FORMULAS)  # XML reads a lone CR back as LF
    assert sorted(c.value for c, _ in cells) == kept  # the text itself is kept
    assert all(c.data_type == "s" and u.data_type == "s" for c, u in cells)

    for url in (f"/admin/awards/ranking/export.csv?campaign={campaign.id}", "/results.csv"):
        rows = list(csv.reader(io.StringIO(client.get(url).data.decode("utf-8-sig"))))[1:]
        assert len(rows) == len(FORMULAS)
        for row in rows:
            assert not any(isinstance(v, str) and v[:1] in "=+-@\t\r" for v in row[3:5]), row
        assert sorted(r[3] for r in rows) == sorted("'" + f for f in FORMULAS)
