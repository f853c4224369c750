"""Site-wide defences of the application shell: redirects that stay on the site, security headers."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD

OFFSITE = [
    "//evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "https://evil.example/x",
    "/\t/evil.example/x",
    "javascript:alert(1)",
    "http://localhost.evil.example/x",
]


@pytest.mark.parametrize("target", OFFSITE)
def test_language_switch_never_redirects_off_site(client, target):
    response = client.get("/language/en", query_string={"next": target})
    assert response.status_code == 302 and response.location == "/"
    response = client.get("/language/en", headers={"Referer": target})
    assert response.status_code == 302 and response.location == "/"


def test_language_switch_goes_back_to_the_page_on_this_site(client):
    assert client.get("/language/en?next=/showcase?c=1").location == "/showcase?c=1"
    assert client.get("/language/en", headers={"Referer": "http://localhost/results"}).location == "/results"


@pytest.mark.parametrize("target", OFFSITE)
def test_login_never_redirects_off_site(client, make, target):
    user = make.applicant()
    response = client.post("/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "evil" not in response.location and "javascript" not in response.location


def test_login_follows_a_local_next(client, make):
    user = make.applicant()
    response = client.post("/login?next=/unit", data={"email": user.email, "password": PASSWORD})
    assert response.location == "/unit"
