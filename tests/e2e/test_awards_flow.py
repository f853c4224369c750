"""End to end in a real browser: an organizer confirms the awards of one category, issues the certificates and
watches the batch reach 100 %, downloads the ZIP; the awarded unit downloads its certificate; a visitor
verifies it through the link of its QR code."""

from __future__ import annotations

import hashlib
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from awards import certificates
from awards.models import Certificate
from campaigns.models import Campaign
from pingxuan.extensions import db
from tests.awards.test_pages import close_vote, finalists
from tests.e2e.login import log_in
from tests.factories import Factory

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/e2e-awards.png")
CERTIFICATE_PNG = Path("/tmp/e2e-certificate")


def test_confirm_issue_download_and_verify(live_server, browser_page, tmp_path):
    with live_server.app.app_context():
        make = Factory()
        cases = finalists(make)
        close_vote(cases["A"].campaign)
        organizer = make.organizer()
        category_id, winner_id, campaign_id = cases["A"].category_id, cases["B"].id, cases["A"].campaign_id
        organizer_email, owner_email = organizer.email, cases["B"].created_by.email
        titles = {name: case.title for name, case in cases.items()}
        db.session.remove()
    page, base = browser_page, live_server.url
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation, bound by csp.js (no inline handler)
    blocked: list[str] = []  # the Content-Security-Policy allows no inline script without the page's nonce
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    # The organizer previews the cut at 2 and confirms.
    log_in(page, base, organizer_email)
    page.goto(f"{base}/admin/awards/ranking/{category_id}?n=2")
    ranks = page.locator("table.ranking tbody tr")
    assert ranks.count() == 3 and titles["B"] in ranks.nth(0).inner_text()
    page.click("form.confirm-awards button[type=submit]")
    page.wait_for_url(re.compile(rf".*/admin/awards/ranking/{category_id}$"))
    outcomes = page.locator("table.ranking td.outcome").all_inner_texts()
    assert len(outcomes) == 3 and outcomes[0] == outcomes[1] != outcomes[2]
    with live_server.app.app_context():  # the public notice ends with no objection; the office confirms
        make.end_notice(db.session.get(Campaign, campaign_id))
        db.session.remove()

    # Issue the certificates; the batch page's bar reaches 100 %.
    page.goto(f"{base}/admin/awards/certificates/")
    page.click("form.start-batch button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/awards/certificates/batches/\d+$"))
    page.wait_for_function("() => document.getElementById('batch-bar').textContent.trim() === '100 %'", timeout=60_000)
    assert page.locator("#batch-progress").get_attribute("aria-valuenow") == "100"
    with page.expect_download() as download_info:
        page.click("a.batch-zip")
    archive_path = tmp_path / "batch.zip"
    download_info.value.save_as(archive_path)
    with zipfile.ZipFile(archive_path) as archive:
        names = archive.namelist()
        assert len(names) == 2 and all(archive.read(n).startswith(b"%PDF") for n in names)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # The dashboard draws its charts on the server: SVG in the page, no script.
    page.goto(f"{base}/admin/dashboard/")
    assert page.locator(".chart-box svg").count() == 5
    page.screenshot(path="/tmp/e2e-awards-dashboard.png", full_page=True)

    with live_server.app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.case_id == winner_id))
        number, sha256 = certificate.number, certificate.sha256
        verify_path = certificates.verify_url(certificate).removeprefix(live_server.url)
        db.session.remove()

    # The awarded unit downloads its certificate from its dashboard.
    page.goto(f"{base}/logout")
    if page.locator("section.card form[action='/logout']").count():  # a POST (issue 18)
        page.click("section.card form[action='/logout'] button")
    log_in(page, base, owner_email)
    page.goto(f"{base}/my-cases")
    with page.expect_download() as download_info:
        page.click(".my-certificates a.button")
    pdf_path = tmp_path / "certificate.pdf"
    download_info.value.save_as(pdf_path)
    assert hashlib.sha256(pdf_path.read_bytes()).hexdigest() == sha256
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(pdf_path), str(CERTIFICATE_PNG)], check=True)

    # A visitor follows the QR code's link.
    page.goto(f"{base}/logout")
    if page.locator("section.card form[action='/logout']").count():  # a POST (issue 18)
        page.click("section.card form[action='/logout'] button")
    page.goto(f"{base}{verify_path}")
    verdict = page.locator(".verdict")
    assert verdict.get_attribute("data-valid") == "yes"
    assert number in page.locator(".certificate-content").inner_text()
    assert titles["B"] in page.locator(".certificate-content").inner_text()
    # and checks the downloaded file
    page.set_input_files("#file", str(pdf_path))
    page.click(".verify-forms form[method=post] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#file-verdict").get_attribute("data-valid") == "yes"
    page.screenshot(path="/tmp/e2e-awards-verify.png", full_page=True)
    assert not [m for m in blocked if "script" in m], blocked
