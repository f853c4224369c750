"""The awards API: ranking by hand, confirmation refused while the vote is open, organization awards limit,
batches, retry, reissue, downloads limited to the owning unit, public verification and results."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select

from awards import certificates
from awards.models import Certificate
from campaigns.models import VOTE_OPEN
from campaigns.operations import organizations
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.api.conftest import bearer  # noqa: F401  (fixture)
from tests.awards.test_pages import awarded, close_vote, finalists


@pytest.fixture(autouse=True)
def _english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the API answers in the caller's language


def test_final_ranking_by_hand_and_confirmation_refused_while_the_vote_is_open(app, client, make, bearer):  # noqa: F811
    cases = finalists(make)
    category = cases["A"].category
    campaign = category.campaign
    campaign.vote_status = VOTE_OPEN
    commit()
    staff = bearer(make.organizer())
    body = client.get(f"/api/v1/categories/{category.id}/final-ranking?n=2", headers=staff).get_json()
    assert [(e["case_id"], e["rank"], e["expert_score"], e["votes"], e["vote_score"], e["final"], e["within_cut"])
            for e in body["entries"]] == [
        (cases["B"].id, 1, 60.0, 400, 100.0, 72.0, True),
        (cases["A"].id, 2, 80.0, 200, 50.0, 71.0, True),
        (cases["C"].id, 3, 90.0, 100, 25.0, 70.5, False),
    ]  # fmt: skip
    assert body["size"] == 2 and body["decided"] is False and body["refusals"]

    refused = client.post(f"/api/v1/categories/{category.id}/awards", json={"size": 2}, headers=staff)
    assert refused.status_code == 422
    assert refused.get_json()["message"] == "The public vote is not closed yet."
    assert refused.get_json()["reasons"] == ["The public vote is not closed yet."]

    close_vote(campaign)
    done = client.post(f"/api/v1/categories/{category.id}/awards", json={"size": 2}, headers=staff)
    assert done.status_code == 200, done.get_json()
    assert [(e["case_id"], e["state"]) for e in done.get_json()["entries"]] == [
        (cases["B"].id, "proposed"), (cases["A"].id, "proposed"), (cases["C"].id, "not_awarded"),
    ]  # fmt: skip
    assert done.get_json()["decided"] is True
    repeated = client.post(f"/api/v1/categories/{category.id}/awards", json={"size": 2}, headers=staff)
    assert repeated.status_code == 409  # the API's rule for a repeated action
    assert repeated.get_json() == {"message": "The awards of this category are already confirmed."}

    applicant = bearer(cases["A"].created_by)
    assert client.get(f"/api/v1/categories/{category.id}/final-ranking", headers=applicant).status_code == 403
    assert client.get(f"/api/v1/categories/{category.id}/final-ranking").status_code == 401


def test_organization_participation_and_the_limit(app, client, make, bearer):  # noqa: F811
    make.campaign()
    orgs = organizations()
    first = finalists(make, {"A": (80.0, 10)}, recommending_org_id=orgs[0].id)
    finalists(make, {"B": (70.0, 5)}, recommending_org_id=orgs[1].id)
    campaign = first["A"].campaign
    campaign.organization_awards = 1
    commit()
    staff = bearer(make.organizer())
    table = client.get(f"/api/v1/campaigns/{campaign.id}/organization-participation", headers=staff).get_json()
    assert {(r["organization_id"], r["submitted"], r["shortlisted"], r["conferred"]) for r in table} == {
        (orgs[0].id, 1, 1, False), (orgs[1].id, 1, 1, False),
    }  # fmt: skip
    url = f"/api/v1/campaigns/{campaign.id}/organization-awards"
    too_many = client.post(url, json={"organization_ids": [orgs[0].id, orgs[1].id]}, headers=staff)
    assert too_many.status_code == 422 and "organizations" in too_many.get_json()["errors"]
    done = client.post(url, json={"organization_ids": [orgs[0].id]}, headers=staff)
    assert done.status_code == 200 and [a["organization_id"] for a in done.get_json()] == [orgs[0].id]
    repeated = client.post(url, json={"organization_ids": [orgs[0].id]}, headers=staff)
    assert repeated.status_code == 409
    assert repeated.get_json() == {"message": "These organizations are already awarded."}


def test_batch_retry_reissue_zip_and_downloads(app, client, make, bearer, tmp_path, monkeypatch):  # noqa: F811
    cases, organizer = awarded(make, size=1)
    campaign = cases["A"].campaign
    staff = bearer(organizer)
    monkeypatch.setattr(certificates, "TEMPLATES", tmp_path / "missing")
    started = client.post(f"/api/v1/campaigns/{campaign.id}/certificate-batches", headers=staff)
    assert started.status_code == 201
    batch = started.get_json()
    assert batch["progress"]["failed"] == 1 and batch["progress"]["percent"] == 100
    failed = batch["certificates"][0]
    assert failed["status"] == "failed" and "case_award" in failed["error"]
    monkeypatch.undo()
    retried = client.post(f"/api/v1/certificates/{failed['id']}/retry", headers=staff)
    assert retried.status_code == 200
    progress = client.get(f"/api/v1/certificate-batches/{batch['id']}", headers=staff).get_json()["progress"]
    assert progress == {"total": 1, "issued": 1, "failed": 0, "pending": 0, "percent": 100, "finished": True}
    again = client.post(f"/api/v1/certificates/{failed['id']}/retry", headers=staff)
    assert again.status_code == 409

    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/certificate-batches/{batch['id']}/zip",
                                                    headers=staff).data))  # fmt: skip
    assert len(archive.namelist()) == 1 and archive.read(archive.namelist()[0]).startswith(b"%PDF")

    # the owning unit downloads its own; another unit gets 404; the public gets 401
    owner, other = bearer(cases["B"].created_by), bearer(cases["A"].created_by)
    pdf = client.get(f"/api/v1/certificates/{failed['id']}/pdf", headers=owner)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert client.get(f"/api/v1/certificates/{failed['id']}/pdf", headers=other).status_code == 404
    assert client.get(f"/api/v1/certificates/{failed['id']}/pdf").status_code == 401

    # public verification by number and by file
    certificate = db.session.get(Certificate, failed["id"])
    genuine = client.get(f"/api/v1/verify/{certificate.number}?s={certificate.signature[:16]}").get_json()
    assert genuine["valid"] is True and genuine["certificate"]["content"]["title"] == cases["B"].title
    changed = certificate.number[:-1] + ("2" if certificate.number[-1] != "2" else "3")
    assert client.get(f"/api/v1/verify/{changed}").get_json() == {
        "valid": False, "message": "No certificate with this number was issued.", "certificate": None,
    }  # fmt: skip
    upload = client.post("/api/v1/verify", data={"file": (io.BytesIO(pdf.data), "c.pdf")},
                         content_type="multipart/form-data")  # fmt: skip
    assert upload.get_json()["valid"] is True
    tampered = pdf.data[:-10] + b"0000000000"
    upload = client.post("/api/v1/verify", data={"file": (io.BytesIO(tampered), "c.pdf")},
                         content_type="multipart/form-data")  # fmt: skip
    assert upload.get_json()["valid"] is False

    # reissue with a correction: new number, old superseded and no longer genuine
    new = client.post(f"/api/v1/certificates/{failed['id']}/reissue", json={"title": "更正后的标题"}, headers=staff)
    assert new.status_code == 201 and new.get_json()["supersedes_id"] == failed["id"]
    assert new.get_json()["status"] == "issued" and new.get_json()["content"]["title"] == "更正后的标题"
    assert client.get(f"/api/v1/verify/{certificate.number}").get_json()["valid"] is False
    latest = db.session.scalar(select(Certificate).where(Certificate.id == new.get_json()["id"]))
    assert hashlib.sha256(certificates.pdf_of(latest)).hexdigest() == new.get_json()["sha256"]


def test_public_results_in_rank_order(app, client, make):
    cases, _organizer = awarded(make, size=2)
    body = client.get("/api/v1/results").get_json()
    first = body["categories"][0]
    assert [(c["rank"], c["case_id"]) for c in first["cases"]] == [(1, cases["B"].id), (2, cases["A"].id)]
    assert all(not c["cases"] for c in body["categories"][1:])
    assert client.get("/api/v1/results?year=1999").status_code == 404
