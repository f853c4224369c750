"""The Content-Security-Policy forbids inline script: the back office's bulk actions (Flask-Admin writes them as
onclick handlers, pingxuan/static/csp.js binds them instead), the campaign selector and the case editor's
category filter still work in chromium, and no script is refused on the way."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pingxuan.extensions import db
from reviewers.models import Assignment
from tests.e2e.login import log_in
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


# Report every CSP violation to the page (an init script runs before the page's own, outside its policy).
VIOLATIONS = """document.addEventListener("securitypolicyviolation", function (e) {
  (window.__violations = window.__violations || []).push(e.violatedDirective + " " + (e.blockedURI || "inline")
    + " " + (e.sample || ""));
});"""


def test_no_page_applies_or_needs_an_inline_style(live_server, open_browser):
    """style-src has no 'unsafe-inline' (issue 18): the public pages, the captcha page with the ALTCHA widget at
    work, an applicant's, an expert's and the office's pages, the back office included, are shown in chromium
    and no style is refused on any of them (no style="…" attribute, no <style> element, none injected)."""
    from tests.e2e.test_vote_flow import _finalists

    case_id, _title, _category = _finalists(live_server.app)
    with live_server.app.app_context():
        make = Factory()
        from cases.models import Case

        case = db.session.get(Case, case_id)
        category_id, campaign_id, owner = case.category_id, case.campaign_id, case.unit.members[0].email
        reviewed = make.case("expert_review")  # assignments: the review progress page draws its bars
        assigned = db.session.scalar(select(Assignment).where(Assignment.case_id == reviewed.id))
        expert = assigned.expert.email if assigned else make.expert().email
        organizer = make.organizer().email
        db.session.remove()
    public = ["/", "/showcase", f"/showcase?category={category_id}", f"/showcase/cases/{case_id}", "/showcase/verify",
              "/results", "/verify", "/verify/NO-SUCH-NUMBER", "/login", "/register", "/forgot", "/notice",
              f"/showcase/captcha?next=/showcase/cases/{case_id}"]  # fmt: skip
    applicant = ["/dashboard", "/my-cases", f"/cases/{case_id}", "/unit", "/tokens", "/notifications"]
    staff = ["/staff", "/worklists", "/review/eligibility", "/review/assignment", "/review/progress", "/vote-admin/",
             f"/vote-admin/{campaign_id}/integrity", "/notice/objections", "/admin/", "/admin/cases/",
             f"/admin/cases/details/?id={case_id}", "/admin/users/", "/admin/users/new/", "/admin/units/",
             f"/admin/campaigns/edit/?id={campaign_id}", "/admin/events/", "/admin/workflow/", "/admin/rubric/",
             "/admin/dashboard/", "/admin/awards/ranking/", "/admin/awards/certificates/", "/admin/books/",
             "/admin/messages/", "/admin/messages/account.password_reset/en", "/admin/outbox/",
             "/admin/archives/"]  # fmt: skip
    base, refused = live_server.url, []

    def visit(page, who: str, paths: list[str]) -> None:
        for path in paths:
            response = page.goto(base + path)
            assert response is not None and response.status < 500, (who, path)
            page.wait_for_load_state("networkidle")
            if "/showcase/captcha" in path and page.locator("altcha-widget").count():
                page.get_by_text("我不是机器人").click()  # the widget at work (as a thumb taps it), then verified
                page.wait_for_selector("altcha-widget [data-state=verified]")
            violations = page.evaluate("window.__violations || []")
            refused.extend(f"{who} {path}: {v}" for v in violations if v.startswith("style-src"))

    roles = [("public", None, public), ("applicant", owner, applicant),
             ("expert", expert, ["/dashboard", "/review/mine"]), ("organizer", organizer, staff)]  # fmt: skip
    for who, email, paths in roles:
        page = open_browser()
        page.add_init_script(VIOLATIONS)
        page.on("console", lambda m, who=who: refused.append(f"{who}: {m.text}") if "style-src" in m.text
                or "apply inline style" in m.text else None)  # fmt: skip
        if email:
            log_in(page, base, email)
        visit(page, who, paths)
        page.context.browser.close()
    assert not refused, "\n".join(refused)
