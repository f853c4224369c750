"""Only organizers and administrators get into the back office, on every one of its URLs."""

from __future__ import annotations

import pytest

from tests.backoffice.helpers import admin
from tests.factories import login

PARAMS = {
    "transition_name": "start_check",
    "case_id": "1",
    "attachment_id": "1",
    "export_type": "csv",
    "filename": "x.css",
    "category_id": "1",  # the awards pages (awards/admin.py)
    "archive_id": "1",  # campaign archives (archives/admin.py)
    "run_id": "1",  # meeting books (books/admin.py)
    "book_id": "1",
    "key": "account.password_reset",  # message templates (notifications/admin.py)
    "locale": "en",
    "fmt": "csv",
    "batch_id": "1",
    "certificate_id": "1",
    "token_id": "1",  # service tokens (accounts/admin.py)
}


def admin_urls(app) -> list[tuple[str, str]]:
    """(method, url) for every route of every registered admin view (static files excluded)."""
    endpoints = {view.endpoint for view in admin(app)._views}
    urls = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rsplit(".", 1)[0]
        if blueprint not in endpoints or rule.endpoint.endswith(".static"):
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", PARAMS[arg]).replace(f"<int:{arg}>", PARAMS[arg])
            url = url.replace(f"<path:{arg}>", PARAMS[arg])
        method = "GET" if "GET" in rule.methods else "POST"
        urls.append((method, url))
    return urls


def test_every_admin_view_is_covered(app):
    urls = admin_urls(app)
    assert ("GET", "/admin/") in urls
    for expected in ("/admin/cases/", "/admin/workflow/", "/admin/events/", "/admin/users/", "/admin/outbox/"):
        assert ("GET", expected) in urls
    assert ("POST", "/admin/cases/action/") in urls
    assert any(url.startswith("/admin/cases/transition/") for _m, url in urls)


def test_anonymous_is_sent_to_log_in_everywhere(app, client, make):
    make.case("submitted")
    for method, url in admin_urls(app):
        response = client.open(url, method=method)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", ["applicant", "expert"])
def test_applicants_and_experts_are_refused_everywhere(app, client, make, role):
    case = make.case("submitted")
    user = make.applicant(unit=case.unit) if role == "applicant" else make.expert()
    login(client, user)
    for method, url in admin_urls(app):
        response = client.open(url, method=method, data={"ids": [case.id], "rowid": [case.id]})
        assert response.status_code == 403, url
    assert case.state == "submitted"


@pytest.mark.parametrize("role", ["organizer", "admin"])
def test_staff_get_in(client, make, role):
    login(client, getattr(make, role)())
    assert client.get("/admin/").headers["Location"] == "/staff"  # the back office starts on the campaign home
    for url in ("/admin/cases/", "/admin/workflow/", "/admin/events/", "/admin/campaigns/",
                "/admin/categories/", "/admin/domains/", "/admin/organizations/", "/admin/units/",
                "/admin/users/", "/admin/outbox/"):  # fmt: skip
        assert client.get(url).status_code == 200, url
