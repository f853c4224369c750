"""axe-core on every public page (phone viewport) and on each role's main page, in Chinese and in English:
no serious or critical violation. axe-core comes from the npm registry (package.json, ``./dev.sh install``)
and is injected into the page by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from awards.objections import forward_objection, lodge_objection
from pingxuan.clock import today
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.awards.test_notice import PHONE as OBJECTOR
from tests.awards.test_notice import proposed, verified
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.login import log_in
from tests.e2e.test_vote_flow import _finalists
from tests.factories import Factory
from workflow.definition import DUE_DATE
from workflow.engine import fire

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = ("zh", "en")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def chromium() -> Iterator:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: ./dev.sh install runs npm ci (package.json pins axe-core)")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: ./dev.sh install puts it there (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _with_lang(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


def serious_violations(page, url: str) -> list[str]:
    """Open ``url``, run axe-core on it and describe every serious or critical violation found."""
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response.status if response else 'no answer'}"
    page.wait_for_load_state("networkidle")  # the voter's own state arrives after the page
    return axe_serious(page)


def axe_serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands (a menu opened, say)."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{page.url}: {v['id']} ({v['impact']}) {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:5])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def _public_urls(app) -> list[str]:
    case_id, _title, _category = _finalists(app)
    with app.app_context():
        from cases.models import Case

        category_id = db.session.get(Case, case_id).category_id
        db.session.remove()
    return [
        "/", "/showcase", f"/showcase?category={category_id}", f"/showcase/cases/{case_id}", "/showcase/verify",
        "/results", "/verify", "/verify/NO-SUCH-NUMBER", "/login", "/notice",
    ]  # fmt: skip


def test_public_pages_on_a_phone(live_server, chromium):
    found: list[str] = []
    urls = _public_urls(live_server.app)
    for lang in LANGUAGES:
        context = chromium.new_context(
            **PHONE, locale="en-US" if lang == "en" else "zh-CN", bypass_csp=True
        )  # axe injected
        page = context.new_page()
        page.set_default_timeout(15_000)
        for url in urls:
            found += serious_violations(page, live_server.url + _with_lang(url, lang))
        context.close()
    assert not found, "\n".join(found)


def test_each_roles_main_page(live_server, chromium):
    _public_urls(live_server.app)  # a campaign with finalists, so the pages have something in them
    with live_server.app.app_context():
        make = Factory()
        people = {role: getattr(make, role)().email for role in ("applicant", "expert", "organizer", "admin")}
        db.session.remove()
    found: list[str] = []
    for role, email in people.items():
        context = chromium.new_context(**DESKTOP, locale="zh-CN", bypass_csp=True)  # axe is injected inline
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, live_server.url, email)
        page.goto(live_server.url + "/dashboard")  # each role's own main page
        main = page.url
        assert "/login" not in main, f"{role} did not log in"
        for lang in LANGUAGES:
            found += [f"{role}: {v}" for v in serious_violations(page, _with_lang(main, lang))]
        context.close()
    assert not found, "\n".join(found)


def test_staff_pages_at_1280(live_server, chromium):
    """Every staff tool (issue 20): the campaign home, the back office's lists and forms, worklists, eligibility,
    assignment, the vote and its integrity, the objections, awards, certificates, in Chinese and English."""
    _public_urls(live_server.app)  # finalists in the public vote
    with live_server.app.app_context():
        make = Factory()
        make.case("eligibility_check")
        campaign_id = make.campaign().id
        email = make.organizer().email
        db.session.remove()
    urls = [
        "/staff", "/admin/cases/", "/admin/users/", "/admin/users/new/", f"/admin/campaigns/edit/?id={campaign_id}",
        "/admin/events/", "/admin/workflow/", "/admin/rubric/", "/worklists", "/review/eligibility",
        "/review/assignment", "/review/progress", "/vote-admin/", f"/vote-admin/{campaign_id}/integrity",
        "/notice/objections", "/admin/awards/ranking/", "/admin/awards/certificates/",
    ]  # fmt: skip
    found: list[str] = []
    context = chromium.new_context(**DESKTOP, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, email)
    for lang in LANGUAGES:
        for url in urls:
            found += serious_violations(page, live_server.url + _with_lang(url, lang))
    context.close()
    assert not found, "\n".join(found)


def unit_pages(app) -> tuple[str, list[str], str]:
    """A unit with a proposed case under objection and a returned case; its pages, and an organizer's email."""
    with app.app_context():
        make = Factory()
        cases, organizer, _notice = proposed(make)
        case = cases["A"]
        objection = lodge_objection(case, verified(), OBJECTOR, "cutoff", "该系统2017年5月才上线，晚于截止日期。")
        forward_objection(objection, organizer, "请说明上线时间并提供验收报告。", today() + timedelta(days=3))
        returned = make.case("eligibility_check", owner=case.created_by, title="青岛市不动产登记一网通办")
        fire(returned, "return_for_revision", organizer, comment="请补充2016年的办件量。",
             fields={DUE_DATE: today() + timedelta(days=5)})  # fmt: skip
        commit()
        urls = ["/my-cases", f"/cases/{case.id}", f"/cases/{returned.id}", f"/cases/{returned.id}/edit",
                f"/cases/{case.id}/versions", f"/objections/{objection.id}", "/notifications", "/unit",
                "/worklists", "/password"]  # fmt: skip
        found = case.created_by.email, urls, organizer.email
        db.session.remove()
    return found


def test_the_pages_that_tell_a_unit_what_is_asked_of_it(live_server, chromium):
    """Issue 21: /my-cases with an objection to answer and the certificates' empty state, the case page with it,
    a returned case's page with its banner, the objection and the notifications, on a phone, in both languages."""
    email, pages, _organizer = unit_pages(live_server.app)
    urls = [pages[0], pages[1], pages[2], pages[5], pages[6]]  # my cases, the case under objection, the returned
    found: list[str] = []  # one, the objection, the notifications
    context = chromium.new_context(**PHONE, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, email)
    for lang in ("en", "zh"):  # Chinese last: the language chosen stays, and the screenshots are in Chinese
        for url in urls:
            found += serious_violations(page, live_server.url + _with_lang(url, lang))
    for name, url in (("my-cases", urls[0]), ("objection-case", urls[1]), ("objection", urls[3])):
        page.goto(live_server.url + url)
        page.screenshot(path=f"/tmp/unit21-{name}-390.png", full_page=True)
    context.close()
    assert not found, "\n".join(found)
