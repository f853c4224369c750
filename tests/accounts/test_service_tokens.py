"""Service tokens: made by an administrator in the back office with explicit scopes, limited to them in the
API, every request audited under the token's name, revocable at once."""

from __future__ import annotations

import re

from accounts.models import ApiToken, ApiTokenRequest
from accounts.service_tokens import create_service_token
from pingxuan.db import commit
from tests.backoffice.helpers import in_english
from tests.factories import login
from workflow.models import WorkflowEvent

EN = {"Accept-Language": "en"}


def _made_in_the_back_office(client, admin, name: str, scopes: list[str]) -> str:
    login(client, admin)
    in_english(client)
    page = client.post("/admin/service-tokens/", data={"name": name, "scopes": scopes, "role": "organizer"})
    assert page.status_code == 200
    return re.search(r"<code>(pxs_[^<]+)</code>", page.get_data(as_text=True)).group(1)


def test_an_admin_makes_lists_and_revokes_a_token_and_only_admins_may(app, make):
    make.campaign()
    admin, organizer = make.admin(), make.organizer()
    client = app.test_client()
    login(client, organizer)
    assert client.get("/admin/service-tokens/").status_code == 403
    plain = _made_in_the_back_office(client, admin, "省大数据局对接", ["campaign:read"])
    listed = client.get("/admin/service-tokens/").get_data(as_text=True)
    assert "省大数据局对接" in listed and plain not in listed  # shown once only
    assert ">Campaigns: read<" in listed, "the scope in words (this admin reads English), its key only in a tooltip"

    refused = client.post("/admin/service-tokens/", data={"name": "", "scopes": ["nope:read"]}, headers=EN)
    assert refused.status_code == 422
    assert ApiToken.query.filter(ApiToken.scopes.is_not(None)).count() == 1

    api = app.test_client()
    auth = {"Authorization": f"Bearer {plain}", **EN}
    assert api.get("/api/v1/campaigns/current", headers=auth).status_code == 200
    token = ApiToken.query.filter_by(name="省大数据局对接").one()
    assert client.post(f"/admin/service-tokens/{token.id}/revoke").status_code == 302
    revoked = api.get("/api/v1/campaigns/current", headers=auth)
    assert revoked.status_code == 401 and revoked.get_json()["message"]
    assert "revoked" in client.get("/admin/service-tokens/").get_data(as_text=True)


def test_scopes_limit_what_a_token_reaches(app, make):
    make.campaign()
    case = make.case("submitted")
    plain, _record = create_service_token(make.admin(), "只读", ["campaign:read"])
    commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {plain}", **EN}
    assert client.get("/api/v1/campaigns/current", headers=auth).status_code == 200
    for method, url in (
        ("post", f"/api/v1/cases/{case.id}/transitions/start_check"),  # cases:write
        ("get", "/api/v1/cases"),  # cases:read
        ("get", "/api/v1/me/tokens"),  # the account: never for a service token
        ("post", "/api/v1/me/tokens"),
    ):
        answer = getattr(client, method)(url, headers=auth, json={"name": "x"} if method == "post" else None)
        assert answer.status_code == 403, url
        assert "lacks the scope" in answer.get_json()["message"]
    assert client.get(f"/api/v1/cases/{case.id}", headers=auth).status_code == 403
    assert WorkflowEvent.query.filter_by(case_id=case.id, transition="start_check").count() == 0


def test_every_request_is_audited_under_the_tokens_name(app, make):
    make.campaign()
    case = make.case("submitted")
    plain, record = create_service_token(make.admin(), "城市大脑", ["cases:write"])
    commit()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {plain}", **EN}
    assert client.get(f"/api/v1/cases/{case.id}", headers=auth).status_code == 200  # write includes read
    fired = client.post(f"/api/v1/cases/{case.id}/transitions/start_check", headers=auth)
    assert fired.status_code == 200, fired.get_json()
    assert client.get("/api/v1/experts", headers=auth).status_code == 403
    trail = [(r.method, r.path, r.scope, r.allowed) for r in ApiTokenRequest.query.order_by(ApiTokenRequest.id)]
    assert trail == [
        ("GET", f"/api/v1/cases/{case.id}", "cases:read", True),
        ("POST", f"/api/v1/cases/{case.id}/transitions/start_check", "cases:write", True),
        ("GET", "/api/v1/experts", "review:read", False),
    ]
    event = WorkflowEvent.query.filter_by(case_id=case.id, transition="start_check").one()
    assert event.actor.name == "城市大脑"  # the workflow's own audit names the token
    admin_client = app.test_client()
    login(admin_client, record.created_by)
    page = admin_client.get(f"/admin/service-tokens/?requests={record.id}").get_data(as_text=True)
    assert f"POST /api/v1/cases/{case.id}/transitions/start_check" in page
