"""Every API error is JSON with a message (and field errors where there are any); pages keep their own."""

from __future__ import annotations


def test_validation_errors_are_flattened_json(app, client, make, bearer):
    user = make.applicant()
    make.campaign()
    response = client.post(
        "/api/v1/cases", json={"title": 5, "category_id": "x", "state": "awarded"}, headers=bearer(user)
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["message"]
    assert set(body["errors"]) == {"title", "category_id", "state"}
    assert all(isinstance(v, str) for v in body["errors"].values())


def test_query_validation_and_bad_json(app, client, make, bearer):
    user = make.organizer()
    response = client.get("/api/v1/cases?state=nowhere&page=0", headers=bearer(user))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"state", "page"}
    response = client.post("/api/v1/me/tokens", data="{not json", content_type="application/json", headers=bearer(user))
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_404_and_405_are_json(app, client, make, bearer):
    user = make.organizer()
    for response in (
        client.get("/api/v1/nothing-here", headers=bearer(user)),
        client.get("/api/v1/cases/999999", headers=bearer(user)),
        client.put("/api/v1/me", headers=bearer(user)),
    ):
        assert response.status_code in (404, 405)
        assert response.is_json and response.get_json()["message"]


def test_unknown_transition_is_404(app, client, make, bearer):
    case = make.case("submitted")
    response = client.post(f"/api/v1/cases/{case.id}/transitions/teleport", headers=bearer(make.organizer()))
    assert response.status_code == 404
    assert response.get_json()["message"]


def test_pages_still_get_html_errors(app, client):
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert not response.is_json
