"""Bearer-token authentication: 401 JSON without or with a bad token, revoked tokens stop working."""

from __future__ import annotations

from accounts.models import ApiToken
from accounts.operations import create_api_token
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import PASSWORD, login


def test_no_token_is_401_json(app, client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.is_json and response.get_json()["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_or_malformed_token_is_401_even_on_public_endpoints(app, client, make):
    make.campaign()
    for header in ("Bearer px_not-a-token", "Basic dXNlcjpwYXNz", "Bearer", "px_only"):
        for path in ("/api/v1/me", "/api/v1/cases", "/api/v1/campaigns/current"):
            response = client.get(path, headers={"Authorization": header})
            assert response.status_code == 401, (header, path)
            assert response.get_json()["message"]


def test_session_cookie_does_not_authenticate(app, client, make):
    user = make.applicant()
    login(client, user)
    assert client.get("/api/v1/me").status_code == 401


def test_token_lifecycle_and_revocation(app, client, make):
    user = make.applicant()
    plain, _record = create_api_token(user, "laptop")
    commit()
    auth = {"Authorization": f"Bearer {plain}"}

    me = client.get("/api/v1/me", headers=auth)
    assert me.status_code == 200
    assert me.get_json()["email"] == user.email
    assert me.get_json()["unit"]["id"] == user.unit_id

    second_plain, second_record = create_api_token(user, "ci")  # made on the account page
    commit()
    second = {"token": second_plain, "id": second_record.id}
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second['token']}"}).status_code == 200

    listed = client.get("/api/v1/me/tokens", headers=auth).get_json()
    assert {t["name"] for t in listed} == {"laptop", "ci"}
    assert all("token" not in t for t in listed)

    assert client.delete(f"/api/v1/me/tokens/{second['id']}", headers=auth).status_code == 204
    revoked = client.get("/api/v1/me", headers={"Authorization": f"Bearer {second['token']}"})
    assert revoked.status_code == 401
    assert revoked.get_json()["message"]
    assert db.session.get(ApiToken, second["id"]).revoked_at is not None
    assert client.get("/api/v1/me", headers=auth).status_code == 200


def test_token_name_required_and_someone_elses_token_not_found(app, client, make, bearer):
    user, other = make.applicant(), make.expert()
    response = client.post("/api/v1/me/tokens", json={"name": " "}, headers=bearer(user))
    assert response.status_code == 403  # a token makes no tokens (issue 18)
    _plain, record = create_api_token(other, "theirs")
    commit()
    assert client.delete(f"/api/v1/me/tokens/{record.id}", headers=bearer(user)).status_code == 404


def test_inactive_user_token_refused(app, client, make, bearer):
    user = make.expert()
    auth = bearer(user)
    user.active = False
    commit()
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_change_password(app, client, make, bearer):
    user = make.applicant()
    wrong = client.post(
        "/api/v1/me/password", json={"current_password": "nope", "new_password": "short"}, headers=bearer(user)
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.get_json()["errors"]
    ok = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a much better secret"},
        headers=bearer(user),
    )
    assert ok.status_code == 204
    missing = client.post("/api/v1/me/password", json={}, headers=bearer(user))
    assert missing.status_code == 422
    assert set(missing.get_json()["errors"]) == {"current_password", "new_password"}


def test_api_is_csrf_exempt(app_config, tmp_path):
    from shell import create_app

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        from tests.factories import Factory

        user = Factory().applicant()
        plain, _ = create_api_token(user, "csrf")
        _other, record = create_api_token(user, "old")
        commit()
        client = app.test_client()
        response = client.delete(f"/api/v1/me/tokens/{record.id}", headers={"Authorization": f"Bearer {plain}"})
        assert response.status_code == 204
        db.session.remove()
