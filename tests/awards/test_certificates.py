"""Certificates: real PDFs with Chinese text, verification, a locked-down template, a real Celery worker."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from sqlalchemy import select

from awards import certificates
from awards.models import ISSUED, SUPERSEDED, Certificate
from campaigns.models import VOTE_CLOSED
from pingxuan import pdf_fonts as pdf_fonts_module
from pingxuan import storage
from pingxuan.db import commit
from pingxuan.extensions import db
from tests.factories import Factory
from tests.notifications.test_worker import broker_app, queue_name, start_worker, stop_worker  # noqa: F401


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_fonts(data: bytes, tmp_path) -> str:
    path = tmp_path / "f.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


def page_image(data: bytes, tmp_path):
    from PIL import Image

    (tmp_path / "c.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", str(tmp_path / "c.pdf"), str(tmp_path / "page")],
                   check=True)  # fmt: skip
    return Image.open(tmp_path / "page.png").convert("L")


def awarded_case(make, title: str = "智慧城管综合执法平台"):
    case = make.case("public_vote", title=title)
    case.campaign.vote_status = VOTE_CLOSED
    commit()

    make.award(case)
    return case


def test_certificate_pdf_has_the_award_and_title_in_chinese_and_verifies(app, make, tmp_path):
    case = awarded_case(make)
    batch = certificates.issue_batch(case.campaign, make.organizer())
    commit()  # eager: rendered in-process right after the commit
    certificate = db.session.scalar(select(Certificate).where(Certificate.case_id == case.id))
    assert certificate.status == ISSUED and certificate.batch_id == batch.id
    pdf = certificates.pdf_of(certificate)
    assert hashlib.sha256(pdf).hexdigest() == certificate.sha256
    text = pdf_text(pdf, tmp_path)
    assert case.category.award_zh in text.replace(" ", "") and "智慧城管综合执法平台" in text
    assert certificate.number in text
    # small enough to mail and to zip by the hundred: the Chinese faces are cut down (pingxuan.pdf_fonts)
    assert len(pdf) < 150 * 1024, f"{len(pdf) // 1024} KB"
    assert "Pingxuan-Serif" in pdf_fonts(pdf, tmp_path)
    # the page rendered to an image is not blank, and a phone reads the QR code's link
    image = page_image(pdf, tmp_path)
    low, high = image.getextrema()
    assert high - low > 100 and sum(image.histogram()[:128]) > 200, "ink on the page"
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [certificates.verify_url(certificate)]

    assert certificates.verify(certificate.number, certificate.signature[:16]).valid
    changed = certificate.number[:-1] + ("1" if certificate.number[-1] != "1" else "2")
    assert not certificates.verify(changed).valid
    assert not certificates.verify(certificate.number, "0" * 16).valid
    assert certificates.verify_file(pdf).valid
    tampered = pdf[:1000] + bytes([pdf[1000] ^ 1]) + pdf[1001:]
    assert tampered != pdf and not certificates.verify_file(tampered).valid
    certificate.content = {**certificate.content, "recipient": "冒名单位"}
    assert not certificates.verify(certificate.number).valid, "an altered record fails its signature"


def test_a_character_outside_the_cut_down_faces_prints_from_the_full_font(app, make, tmp_path):
    """The cut-down faces hold GB2312; a rarer character in a title or a unit's name prints from the system's
    full Noto face, named next in the CSS (that certificate is then bigger)."""
    case = awarded_case(make, title="犇龘𠮷智慧园区平台")
    certificates.issue_batch(case.campaign, make.organizer())
    commit()
    certificate = db.session.scalar(select(Certificate).where(Certificate.case_id == case.id))
    pdf = certificates.pdf_of(certificate)
    assert "“犇龘𠮷智慧园区平台”" in pdf_text(pdf, tmp_path).replace(" ", "")
    fonts = pdf_fonts(pdf, tmp_path)
    assert "Pingxuan-Serif-Bold" in fonts and "Noto-Serif-CJK-SC-Bold" in fonts, fonts


def test_the_cut_down_faces_are_right_for_any_pdf_reader(app, tmp_path, monkeypatch, caplog):
    faces = pdf_fonts_module.font_faces(Path(app.config["FONT_CACHE_DIR"]))
    files = re.findall(r'url\("file://([^"]+)"\)', faces.css)
    assert len(files) == len(pdf_fonts_module.FACES)
    for file in files:
        font = TTFont(file)
        charset = font["CFF "].cff.topDictIndex[0].charset
        # WeasyPrint writes glyph ids as CIDs, and a reader (MuPDF, Acrobat) finds the glyph by CID
        assert charset == [".notdef"] + [f"cid{gid:05d}" for gid in range(1, len(charset))]
        assert len(charset) < 8000 and font["name"].getDebugName(1).startswith("Pingxuan ")
    # what the templates print themselves is in the cut-down faces
    held = set(pdf_fonts_module.repertoire())
    for template in certificates.TEMPLATES.glob("*/*.html"):
        text = re.sub(r"{[{%].*?[}%]}|<[^>]*>", "", template.read_text(encoding="utf-8"))
        assert set(text.strip()) - set(" \n") <= held, template
    # without the system font, the faces are left out (the system fonts print, as before) and it is said
    monkeypatch.setattr(pdf_fonts_module, "FACES", (pdf_fonts_module.Face("X", "normal", "No Such Font:weight=80"),))
    assert pdf_fonts_module.font_faces(tmp_path).css == "" and "No Such Font" in caplog.text


def test_a_template_cannot_load_local_files_or_the_network(app, make, tmp_path, monkeypatch):
    evil = certificates.TEMPLATES / "zz_test_evil"
    evil.mkdir()
    try:
        (evil / "meta.yaml").write_text("title_zh: x\n")
        (evil / "template.html").write_text(
            '<html><body><p>visible</p><iframe src="file:///etc/passwd"></iframe>'
            '<img src="file:///etc/passwd"><img src="http://example.com/x.png">'
            '<link rel="stylesheet" href="file:///etc/passwd">'
            '<object data="file:///etc/passwd"></object>{{ content.title }}</body></html>'
        )
        case = awarded_case(make)
        content = certificates.case_content(case, case.created_at.date())
        cert = Certificate(number="T-1", kind="zz_test_evil", campaign_id=case.campaign_id, content=content,
                           issued_on=case.created_at.date(), signature="x")  # fmt: skip
        db.session.add(cert)
        db.session.flush()
        started = time.monotonic()
        pdf = certificates.render_pdf_html(certificates.render_html(cert), evil.resolve())
        assert time.monotonic() - started < 20, "no network wait"
        text = pdf_text(pdf, tmp_path)
        assert "visible" in text and "root:" not in text and "/bin/" not in text
        assert b"root:x:0:0" not in pdf
    finally:
        shutil.rmtree(evil)


def test_sandboxed_template_cannot_reach_python_internals(app):
    env = certificates.SandboxedEnvironment(autoescape=True)
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__[1].__subclasses__() }}").render()
    assert "&lt;script&gt;" in env.from_string("{{ x }}").render(x="<script>")


def test_reissue_keeps_the_old_certificate_superseded(app, make):
    case = awarded_case(make)
    organizer = make.organizer()
    certificates.issue_batch(case.campaign, organizer)
    commit()
    old = db.session.scalar(select(Certificate).where(Certificate.case_id == case.id))
    new = certificates.reissue(old, organizer, {"title": "智慧城管综合执法平台（更正）"})
    commit()
    assert old.status == SUPERSEDED and new.status == ISSUED and new.supersedes_id == old.id
    assert not certificates.verify(old.number).valid and certificates.verify(new.number).valid
    assert storage.read(old.sha256) != storage.read(new.sha256)


def test_zip_entry_names_from_unit_names_are_safe_and_distinct(app, make):
    """Entry names come from units' names: no path, nothing Windows refuses, no bidi trick, no repeats."""
    import io
    import zipfile

    from awards.models import CertificateBatch
    from pingxuan.filenames import safe_filename

    campaign = make.campaign()
    batch = CertificateBatch(campaign_id=campaign.id)
    db.session.add(batch)
    recipients = ["../../../etc/cron.d/x", 'a<b>c:d"e/f\\g|h?i*j', "控\x00制\x07字符\x1b", "\u202egnp.exe", "尾点. . ",
                  "同名", "同名"]  # fmt: skip
    for i, recipient in enumerate(recipients):
        number = "PX-SAME" if recipient == "同名" else f"PX-{i}"
        db.session.add(Certificate(number=number if i < 6 else "px-same", kind="case_award", campaign_id=campaign.id,
                                   content={"recipient": recipient}, issued_on=campaign.created_at.date(),
                                   signature="x", status=ISSUED, sha256=storage.store(f"%PDF-{i}".encode()),
                                   batch=batch))  # fmt: skip
    commit()
    names = zipfile.ZipFile(io.BytesIO(storage.read(certificates.batch_zip(batch)))).namelist()
    assert len(names) == len(recipients) and len({n.casefold() for n in names}) == len(names), names
    for name in names:
        assert name.endswith(".pdf") and not any(c in name for c in '<>:"/\\|?*'), name
        assert not any(ord(c) < 32 or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in name), name
        assert not name.startswith(".") and name == name.strip(" .")
    assert "PX-0-.._.._.._etc_cron.d_x.pdf" in names and "PX-2-控制字符.pdf" in names and "PX-3-gnp.exe.pdf" in names
    assert [safe_filename(n) for n in ("CON", "lpt1.txt", "nul .pdf", " .. ", "报告. .", "a" * 300 + ".pdf")] == [
        "_CON",
        "_lpt1.txt",
        "_nul .pdf",
        "file",
        "报告",
        "a" * 116 + ".pdf",
    ]


@pytest.mark.worker
@pytest.mark.postgresql_only
def test_a_real_worker_renders_the_certificate(broker_app, tmp_path, postgres_url, redis_url, queue_name):  # noqa: F811
    make = Factory()
    case = make.case("public_vote", title="互联网医院服务平台")
    case.campaign.vote_status = VOTE_CLOSED
    commit()

    organizer = make.organizer()
    make.award(case, organizer)
    certificates.issue_batch(case.campaign, organizer)
    commit()
    certificate = db.session.scalar(select(Certificate).where(Certificate.case_id == case.id))
    assert certificate.status == "pending", "with a broker nothing renders in-process"
    proc, log = start_worker(tmp_path, postgres_url, redis_url, queue_name)
    try:
        deadline = time.monotonic() + 90
        while True:
            db.session.rollback()
            db.session.refresh(certificate)
            if certificate.status != "pending":
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"certificate not rendered; worker log:\n{log.read_text(errors='replace')}")
            time.sleep(0.3)
    finally:
        stop_worker(proc)
    assert certificate.status == ISSUED, certificate.error
    pdf = (tmp_path / "storage" / certificate.sha256[:2] / certificate.sha256).read_bytes()
    text = pdf_text(pdf, tmp_path)
    assert "互联网医院服务平台" in text and case.category.award_zh in text.replace(" ", "")


def test_weasyprint_renders_one_document_at_a_time_in_a_process(app, make, monkeypatch):
    """WeasyPrint is not thread-safe (issue 18: three batches at once hung once and crashed in add_font_face once):
    certificates rendered from three threads at once (as by eager tasks in a threaded server) take turns, layout
    and writing alike, and every one comes out whole."""
    import threading

    import weasyprint

    from tests.races import parallel

    active, overlaps = [0], []
    guard = threading.Lock()

    def watched(original):
        def run(*args, **kwargs):
            with guard:
                active[0] += 1
                overlaps.append(active[0])
            try:
                time.sleep(0.05)  # a window wide enough for another thread to enter if nothing serializes
                return original(*args, **kwargs)
            finally:
                with guard:
                    active[0] -= 1

        return run

    monkeypatch.setattr(weasyprint.HTML, "render", watched(weasyprint.HTML.render))
    monkeypatch.setattr(weasyprint.document.Document, "write_pdf", watched(weasyprint.document.Document.write_pdf))
    case = awarded_case(make)
    certificates.issue_batch(case.campaign, make.organizer())
    db.session.commit()  # not pingxuan's commit: nothing renders yet
    certificate_id = db.session.scalar(select(Certificate.id).where(Certificate.case_id == case.id))
    html = certificates.render_html(db.session.get(Certificate, certificate_id))
    folder = certificates._folder(certificates.CASE_AWARD)

    def render(i: int) -> bytes:
        with app.app_context():
            return certificates.render_pdf_html(html, folder)

    pdfs = parallel(3, render)
    assert all(isinstance(pdf, bytes) and pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF") for pdf in pdfs)
    assert overlaps and max(overlaps) == 1, overlaps


def test_with_no_award_confirmed_the_page_says_so_and_when_issuing_will_be_possible(client, make):
    """Not "every certificate has been issued" (issue 20): what is true, and what must happen first."""
    from datetime import timedelta

    from pingxuan.clock import day, today
    from tests.factories import login

    case = make.case("proposed")
    login(client, make.organizer())
    client.get("/language/en")
    page = client.get(f"/admin/awards/certificates/?campaign={case.campaign_id}").get_data(as_text=True)
    assert "1 proposed award waits for its public notice" in page
    notice = make.past_notice([case])
    notice.starts_on, notice.ends_on = today() - timedelta(days=2), today() + timedelta(days=3)
    commit()
    page = client.get(f"/admin/awards/certificates/?campaign={case.campaign_id}").get_data(as_text=True)
    assert "No award is confirmed yet" in page and f"runs until {day(notice.ends_on)} (3 days left)" in page
    assert "issued already" not in page
    assert re.search(r'id="issue-certificates"[^>]* disabled', page)
    refused = client.post("/admin/awards/certificates/start", data={"campaign": case.campaign_id, "confirmed": "1"},
                          follow_redirects=True).get_data(as_text=True)  # fmt: skip
    assert "No award is confirmed yet" in refused and "issued already" not in refused
    assert not db.session.scalars(select(Certificate)).all()

    notice.starts_on, notice.ends_on = today() - timedelta(days=9), today() - timedelta(days=1)
    make.end_notice(case.campaign)
    page = client.get(f"/admin/awards/certificates/?campaign={case.campaign_id}").get_data(as_text=True)
    assert "1 of 1 awards has no certificate yet." in page
    assert not re.search(r'id="issue-certificates"[^>]* disabled', page)
