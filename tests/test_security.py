"""Site-wide defences of the application shell: redirects that stay on the site, security headers."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing.converters import NumberConverter

from tests.factories import PASSWORD, login

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


def _every_get_path(app) -> list[str]:
    """One URL per GET route of the app (arguments filled with an existing-looking id or a word)."""
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {}
        for name in rule.arguments:
            values[name] = 1 if isinstance(rule._converters[name], NumberConverter) else "x"
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            values["filename"] = "site.css" if rule.endpoint == "static" else "x.css"
        try:
            paths.add(rule.build(values, append_unknown=False)[1])
        except (ValueError, TypeError):  # a converter of its own that wants a number
            paths.add(rule.build(dict.fromkeys(values, 1), append_unknown=False)[1])
    return sorted(paths)


def _assert_protected(path: str, response) -> None:
    headers = response.headers
    assert response.status_code < 500, path
    assert headers.get("X-Frame-Options") == "DENY", path
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), path
    assert headers.get("X-Content-Type-Options") == "nosniff", path
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", path


def test_every_page_refuses_to_be_framed_anonymous_and_staff(app, make):
    case = make.case("public_vote")  # so some of the id-1 pages exist
    assert case.id
    paths = _every_get_path(app)
    assert len(paths) > 50 and "/admin/cases/" in paths and "/api/v1/openapi.json" in paths
    anonymous, staff = app.test_client(), app.test_client()
    login(staff, make.organizer())
    for client in (anonymous, staff):
        for path in paths:
            _assert_protected(path, client.get(path))
    assert "Strict-Transport-Security" not in anonymous.get("/").headers


@pytest.fixture
def secure_config(app_config) -> dict:
    return app_config | {"SECURE_COOKIES": True}


def test_secure_cookies_and_hsts_when_configured(secure_config, make):
    from shell import create_app

    app = create_app(secure_config)
    client = app.test_client()
    with app.app_context():
        user = make.applicant()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_is_httponly_and_lax_by_default(client, make):
    user = make.applicant()
    cookie = client.post("/login", data={"email": user.email, "password": PASSWORD}).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


# Flask-Admin's templates still write these handlers; pingxuan/static/csp.js binds the same behaviour instead.
BOUND_BY_CSP_JS = (
    r"return modelActions\.execute\('[^']*'\);?|return faHelpers\.safeConfirm\('.*'\);?"
    r"|faForm\.addInlineField\(this, '[^']*'\);?|return false;?"
)


def _inline_script_problems(path: str, response) -> list[str]:
    """Inline scripts without this response's nonce, inline handlers and javascript: links: what the CSP blocks."""
    policy = response.headers.get("Content-Security-Policy", "")
    if response.mimetype != "text/html":
        return []
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", policy)
    problems = []
    for tag in re.findall(r"<script\b[^>]*>", html):
        if "src=" in tag:
            continue
        if nonce is None or f'nonce="{nonce.group(1)}"' not in tag:
            problems.append(f"{path}: inline script without the nonce: {tag}")
    for handler in re.findall(r"\son[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*')", html):
        if not re.fullmatch(BOUND_BY_CSP_JS, handler[1:-1].strip()):
            problems.append(f"{path}: inline handler {handler}")
    problems += [f"{path}: javascript: link" for _ in re.findall(r"href=\"javascript:(?!void\(0\))", html)]
    return problems


def _inline_style_problems(path: str, response) -> list[str]:
    """Inline styles, which the policy's style-src (no 'unsafe-inline') refuses: style="…" attributes anywhere and
    <style> elements without this response's nonce."""
    if response.mimetype != "text/html":
        return []
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers.get("Content-Security-Policy", "").split("style-src")[-1])
    problems = [f"{path}: style attribute {found}" for found in re.findall(r"<[^>]*\sstyle\s*=[^>]*>", html)]
    for tag in re.findall(r"<style\b[^>]*>", html):
        if nonce is None or f'nonce="{nonce.group(1)}"' not in tag:
            problems.append(f"{path}: <style> without the nonce")
    return problems


def test_no_page_needs_inline_script_beyond_its_nonce(app, make):
    owner = make.applicant()
    case = make.case("draft", owner=owner)
    make.case("public_vote")
    paths = _every_get_path(app) + [f"/cases/{case.id}/edit", "/cases/999999/edit"]
    anonymous, applicant, staff = app.test_client(), app.test_client(), app.test_client()
    login(applicant, owner)
    login(staff, make.organizer())
    problems = []
    for client in (anonymous, applicant, staff):
        for path in paths:
            response = client.get(path)
            policy = response.headers["Content-Security-Policy"]
            assert "'unsafe-inline'" not in policy.split("script-src", 1)[-1].split(";")[0], (path, policy)
            assert "'unsafe-inline'" not in policy.split("style-src", 1)[-1].split(";")[0], (path, policy)
            problems += _inline_script_problems(path, response) + _inline_style_problems(path, response)
    assert not problems, "\n".join(sorted(set(problems)))
    policy = staff.get("/admin/cases/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self' 'nonce-" in policy
