"""Service tokens and campaign archives through the API, administrators only (issue 20): a token made with the
administrator's password (a token alone makes none), shown once, then working within its scopes until revoked;
an archive made, listed with its hashes and downloaded."""

from __future__ import annotations

import io
import zipfile

from tests.factories import PASSWORD

EN = {"Accept-Language": "en"}


def test_an_administrator_makes_lists_and_revokes_a_service_token(app, client, make, bearer):
    make.campaign()
    admin = make.admin()
    auth = {**bearer(admin), **EN}
    wanted = {"name": "人事系统", "scopes": ["people:read"], "password": PASSWORD}
    without = client.post("/api/v1/service-tokens", json={**wanted, "password": "wrong"}, headers=auth)
    assert without.status_code == 422 and "password" in without.get_json()["errors"]
    made = client.post("/api/v1/service-tokens", json=wanted, headers=auth)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["token"].startswith("pxs_") and body["scopes"] == ["people:read"] and body["role"] == "organizer"
    assert "password" not in body
    listed = client.get("/api/v1/service-tokens", headers=auth).get_json()
    assert [t["id"] for t in listed] == [body["id"]] and all("token" not in t for t in listed)

    service = {"Authorization": f"Bearer {body['token']}", **EN}
    assert client.get("/api/v1/units", headers=service).status_code == 200
    assert client.get("/api/v1/service-tokens", headers=service).status_code == 403  # tokens make no tokens
    audit = client.get(f"/api/v1/service-tokens/{body['id']}/requests", headers=auth).get_json()
    assert [(r["path"], r["allowed"]) for r in audit][:2] == [("/api/v1/service-tokens", False),
                                                              ("/api/v1/units", True)]  # fmt: skip

    revoked = client.post(f"/api/v1/service-tokens/{body['id']}/revoke", headers=auth)
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert client.get("/api/v1/units", headers=service).status_code == 401


def test_only_administrators_reach_service_tokens_and_archives(app, client, make, bearer):
    campaign = make.campaign()
    organizer = {**bearer(make.organizer()), **EN}
    assert client.get("/api/v1/service-tokens", headers=organizer).status_code == 403
    assert (
        client.post(
            "/api/v1/service-tokens",
            headers=organizer,
            json={"name": "x", "scopes": ["people:read"], "password": PASSWORD},
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/campaigns/{campaign.id}/archives", headers=organizer).status_code == 403
    assert client.get(f"/api/v1/campaigns/{campaign.id}/archives", headers=organizer).status_code == 403
    assert client.get("/api/v1/service-tokens").status_code == 401


def test_an_administrator_makes_lists_and_downloads_an_archive(app, client, make, bearer):
    case = make.case("public_vote")
    auth = {**bearer(make.admin()), **EN}
    url = f"/api/v1/campaigns/{case.campaign_id}/archives"
    made = client.post(url, headers=auth)
    assert made.status_code == 201, made.get_json()
    record = made.get_json()
    assert record["status"] == "done", record  # the test queue makes it at once
    [listed] = client.get(url, headers=auth).get_json()
    assert listed["manifest_sha256"] == record["manifest_sha256"] and len(listed["sha256"]) == 64
    download = client.get(listed["download"], headers=auth)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(download.data)).testzip() is None
    assert client.get("/api/v1/archives/999999/download", headers=auth).status_code == 404
