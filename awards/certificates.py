"""Certificates: numbered, signed, rendered to PDF by WeasyPrint, verifiable by anyone.

Rendering is locked down: the Jinja environment is sandboxed and autoescaping, and the URL fetcher serves
only files inside the certificate's own template folder (no other file, no network). A certificate's HMAC
covers its number and everything printed on it, so a changed digit or an altered text fails verification;
the stored SHA-256 of the PDF tells whether an uploaded file is the one that was issued.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import segno
import yaml
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import Unit, User
from accounts.permissions import require_staff
from awards import notice, publication
from awards.models import FAILED, ISSUED, PENDING, SUPERSEDED, Certificate, CertificateBatch, OrganizationAward
from campaigns.models import Campaign
from cases.models import Case
from pingxuan import metrics, pdf_fonts, storage
from pingxuan.clock import day, left, today
from pingxuan.db import locked, utcnow
from pingxuan.errors import Conflict, Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.filenames import UniqueNames
from pingxuan.paths import PROJECT_ROOT
from pingxuan.queue import enqueue
from pingxuan.signing import same_secret
from workflow.definition import STAFF, TRANSITION_BY_NAME

TEMPLATES = PROJECT_ROOT / "pdf_templates"
CASE_AWARD, ORGANIZATION_AWARD = "case_award", "organization_award"
SHARED = "_shared"  # the layout, style and seal every kind of certificate shares
AWARDED = TRANSITION_BY_NAME["confirm_award"].dest
log = logging.getLogger(__name__)


# Signing -----------------------------------------------------------------------------------------------


def sign(number: str, content: dict[str, Any]) -> str:
    message = json.dumps({"number": number, "content": content}, sort_keys=True, ensure_ascii=False)
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_url(certificate: Certificate) -> str:
    base = current_app.config["SERVER_NAME_FOR_MAIL"].rstrip("/")
    return f"{base}/verify/{certificate.number}?s={certificate.signature[:16]}"


@dataclass
class Verification:
    valid: bool
    message: str
    certificate: Certificate | None = None


def verify(number: str, signature: str | None = None) -> Verification:
    """Is this a current certificate of the published results whose content still matches its signature?

    Read from the newest publication only (``awards.publication``): what the public checks is what was
    published, and a certificate corrected since shows as replaced.
    """
    found = publication.published_certificate(number)
    if found is None:
        return Verification(False, _("No certificate with this number was issued."))
    _snapshot, entry = found
    number = (number or "").strip()
    certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
    expected = sign(number, entry["content"])
    record_changed = certificate is None or certificate.content != entry["content"]
    if record_changed or not hmac.compare_digest(expected, entry["signature"]):
        return Verification(False, _("This certificate's record has been altered."), certificate)
    if signature is not None and not same_secret(expected[: len(signature)], signature or "-"):
        return Verification(False, _("The verification code does not belong to this number."), certificate)
    if not entry["current"]:
        return Verification(False, _("This certificate was replaced by a corrected one."), certificate)
    return Verification(True, _("Genuine certificate."), certificate)


def verify_file(data: bytes) -> Verification:
    """Is this PDF byte for byte a certificate we issued?"""
    digest = hashlib.sha256(data).hexdigest()
    certificate = db.session.scalar(select(Certificate).where(Certificate.sha256 == digest))
    if certificate is None:
        return Verification(False, _("This file is not a certificate issued here, or it has been modified."))
    result = verify(certificate.number)
    return Verification(result.valid, result.message if not result.valid else _("This is the issued file."),
                        certificate)  # fmt: skip


# Rendering ---------------------------------------------------------------------------------------------


@cache
def _environment(kind: str) -> SandboxedEnvironment:
    folders = [str(_folder(kind)), str(TEMPLATES / SHARED)]
    return SandboxedEnvironment(loader=FileSystemLoader(folders), autoescape=True, undefined=StrictUndefined)


def _folder(kind: str) -> Path:
    folder = (TEMPLATES / kind).resolve()
    if folder.parent != TEMPLATES.resolve() or not (folder / "template.html").is_file():
        raise NotFound(_("No certificate template named %(kind)s.", kind=kind))
    return folder


def template_folder(kind: str) -> Path:
    """The folder of a kind of document under pdf_templates/ (certificates, the meeting book, …)."""
    return _folder(kind)


def render_template(kind: str, **context: Any) -> str:
    """Render a document's HTML in the sandboxed, autoescaping environment of its folder."""
    return _environment(kind).get_template("template.html").render(**context)


def template_meta(kind: str) -> dict[str, Any]:
    return yaml.safe_load((_folder(kind) / "meta.yaml").read_text(encoding="utf-8"))


def render_html(certificate: Certificate) -> str:
    qr = segno.make(verify_url(certificate), error="m").svg_inline(scale=4)
    return render_template(
        certificate.kind, content=certificate.content, number=certificate.number, qr_svg=qr,
        verify_url=verify_url(certificate),
    )  # fmt: skip


def _fetcher(*folders: Path):
    from weasyprint.urls import URLFetcher

    class FolderFetcher(URLFetcher):
        """Serves files under the template's folders and data: URLs; refuses everything else."""

        def fetch(self, url: str, headers: Any = None):
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(folder) for folder in folders) and path.is_file():
                    return super().fetch(url, headers)
            log.warning("certificate template tried to load %s; refused", url)
            raise ValueError(f"refused: {url}")

    return FolderFetcher(allowed_protocols=("file", "data"))


@cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


WEASYPRINT_LOCK = threading.RLock()
"""WeasyPrint is not thread-safe (its font configuration, fontconfig and Pango are shared): three batches at once in
the threaded development server with eager tasks hung once and crashed in ``add_font_face`` once. Every rendering
in the process holds this lock, layout and writing alike; nothing that waits for the database runs under it."""


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


def render_pdf(html: str, folder: Path) -> RenderedPdf:
    """The one place that runs WeasyPrint, one rendering at a time in the process (``WEASYPRINT_LOCK``).

    Laid out with files loadable from the kind's own folder and the shared one, nothing else. The cut-down Chinese
    faces (``pingxuan.pdf_fonts``: "Pingxuan Serif" and "Pingxuan Sans", which the templates name before the full
    system fonts) come with every document; their folder is readable too.
    """
    import weasyprint  # imported here: about a second, paid by workers only

    with WEASYPRINT_LOCK:
        faces = pdf_fonts.font_faces(Path(current_app.config["FONT_CACHE_DIR"]))
        fetcher = _fetcher(folder, (TEMPLATES / SHARED).resolve(), faces.folder)
        font_config = _fonts()
        css = [weasyprint.CSS(string=faces.css, url_fetcher=fetcher, font_config=font_config)] if faces.css else []
        document = weasyprint.HTML(string=html, base_url=str(folder) + "/", url_fetcher=fetcher).render(
            stylesheets=css, font_config=font_config
        )
        return RenderedPdf(document.write_pdf(), len(document.pages))


def render_pdf_html(html: str, folder: Path) -> bytes:
    return render_pdf(html, folder).data


def render_certificate(certificate_id: int) -> Certificate:
    """Render one certificate and store its PDF; a failure is recorded on it, to be shown and retried."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound(_("No such certificate."))
    if certificate.status == ISSUED:
        return certificate  # queued twice (a batch took over a pending one): rendered already
    try:
        pdf = render_pdf_html(render_html(certificate), _folder(certificate.kind))
    except Exception as error:  # every failure is shown to the organizer, who can retry
        log.exception("certificate %s failed", certificate.number)
        certificate.status, certificate.error = FAILED, f"{type(error).__name__}: {error}"
        metrics.certificate_rendered("failed")
        db.session.flush()
        return certificate
    certificate.sha256 = storage.store(pdf)
    certificate.status, certificate.error, certificate.rendered_at = ISSUED, None, utcnow()
    metrics.certificate_rendered("issued")
    db.session.flush()
    return certificate


def stored_pdf(certificate: Certificate) -> str:
    """The SHA-256 of the certificate's PDF in storage (to stream it); not found until rendered."""
    if certificate.status not in (ISSUED, SUPERSEDED) or not certificate.sha256:
        raise NotFound(_("This certificate has not been rendered."))
    return certificate.sha256


def pdf_of(certificate: Certificate) -> bytes:
    return storage.read(stored_pdf(certificate))


# Issuing -----------------------------------------------------------------------------------------------


def _date_text(on: date) -> str:
    return f"{on.year}年{on.month}月{on.day}日"


def case_content(case: Case, on: date) -> dict[str, Any]:
    campaign = case.campaign
    return {
        "award_name": case.category.award_zh, "award_name_en": case.category.award_en, "title": case.title,
        "recipient": case.unit.name, "case_number": case.number, "campaign_title": campaign.title_zh,
        "organizer": campaign.organizer_zh, "date_text": _date_text(on),
    }  # fmt: skip


def organization_content(award: OrganizationAward, on: date) -> dict[str, Any]:
    campaign = award.campaign
    return {
        "award_name": f"{campaign.title_zh}组织奖", "award_name_en": f"Organization award, {campaign.title_en}",
        "title": "", "recipient": award.organization.name_zh, "campaign_title": campaign.title_zh,
        "organizer": campaign.organizer_zh, "date_text": _date_text(on),
    }  # fmt: skip


def _next_number(campaign: Campaign, kind: str) -> str:
    """The next number of its kind in the campaign, dense (PX2017-C-0001, …). The campaign's row is locked until
    the commit, so parallel issues and corrections take turns and never count the same rows twice."""
    locked(Campaign, campaign.id)
    prefix = f"PX{campaign.year}-{'C' if kind == CASE_AWARD else 'O'}-"
    used = db.session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(Certificate.campaign_id == campaign.id, Certificate.kind == kind)  # fmt: skip
    )
    return f"{prefix}{used + 1:04d}"


def _new(campaign: Campaign, kind: str, content: dict, batch: CertificateBatch | None, **links: Any) -> Certificate:
    number = _next_number(campaign, kind)
    certificate = Certificate(
        number=number, kind=kind, campaign_id=campaign.id, content=content, issued_on=today(),
        signature=sign(number, content), status=PENDING, batch=batch, **links,
    )  # fmt: skip
    db.session.add(certificate)
    db.session.flush()
    return certificate


PENDING_GRACE = timedelta(minutes=10)  # a pending certificate's task is on its way; after this it counts as lost


def _to_queue_again(certificate: Certificate) -> bool:
    """A failed certificate, or one pending so long its task was lost; not one a batch has just queued (three
    organizers pressing at once would otherwise render every certificate three times, one after another)."""
    if certificate.status == FAILED:
        return True
    queued_at = certificate.batch.created_at if certificate.batch is not None else None
    return certificate.status == PENDING and (queued_at is None or utcnow() - queued_at > PENDING_GRACE)


PROPOSED = TRANSITION_BY_NAME["confirm_award"].sources[0]


@dataclass(frozen=True)
class Issuing:
    """Where a campaign's certificates stand: how many awards they are for, how many are still to issue, and,
    while no award is confirmed, what must happen first and when (said on the certificates page, so an empty
    list never reads as "all issued")."""

    awarded: int  # awarded cases and conferred organization awards
    to_issue: int  # of them without a certificate, or whose certificate failed
    waiting: str | None  # no award confirmed yet: why, and when issuing becomes possible


def issuing(campaign: Campaign) -> Issuing:
    cases = db.session.scalars(select(Case.id).where(Case.campaign_id == campaign.id, Case.state == AWARDED)).all()
    awards = db.session.scalars(select(OrganizationAward.id).where(OrganizationAward.campaign_id == campaign.id)).all()
    live = db.session.execute(
        select(Certificate.case_id, Certificate.organization_award_id).where(
            Certificate.campaign_id == campaign.id, Certificate.status.not_in((SUPERSEDED, FAILED))
        )
    ).all()
    made = {(case_id, award_id) for case_id, award_id in live}
    to_issue = sum((c, None) not in made for c in cases) + sum((None, a) not in made for a in awards)
    waiting = None
    if not cases and not awards:
        proposed = db.session.scalar(
            select(func.count()).where(Case.campaign_id == campaign.id, Case.state == PROPOSED)
        )
        running = [n for n in notice.notices(campaign) if n.ends_on >= today()]
        if running:
            end = max(n.ends_on for n in running)
            waiting = _(
                "No award is confirmed yet. The public notice runs until %(date)s (%(left)s): the awards can "
                "be confirmed after it ends, then the certificates issued.",
                date=day(end),
                left=left(end),
            )
        elif proposed:
            waiting = ngettext(
                "No award is confirmed yet: %(num)d proposed award waits for its public notice and confirmation. "
                "Certificates can be issued once the award is confirmed.",
                "No award is confirmed yet: %(num)d proposed awards wait for their public notice and confirmation. "
                "Certificates can be issued once the awards are confirmed.", proposed)  # fmt: skip
        else:
            waiting = _(
                "No award is confirmed yet: awards are proposed after the public vote, published for public "
                "notice, then confirmed. Certificates can be issued once the awards are confirmed."
            )
    return Issuing(awarded=len(cases) + len(awards), to_issue=to_issue, waiting=waiting)  # fmt: skip


def issue_batch(campaign: Campaign, actor: User) -> CertificateBatch:
    """Create the missing certificates of a campaign (awarded cases, conferred organizations) and queue one
    rendering task per certificate; certificates that failed before are queued again."""
    require_staff(actor)
    locked(Campaign, campaign.id)  # a parallel issue waits, then finds these certificates made
    waiting = issuing(campaign).waiting
    if waiting:
        raise Invalid(waiting)
    batch = CertificateBatch(campaign_id=campaign.id, created_by_id=actor.id)
    db.session.add(batch)
    db.session.flush()
    on = today()
    live = select(Certificate).where(Certificate.campaign_id == campaign.id, Certificate.status != SUPERSEDED)
    current = {(c.case_id, c.organization_award_id): c for c in db.session.scalars(live)}
    for case in db.session.scalars(
        select(Case).where(Case.campaign_id == campaign.id, Case.state == AWARDED).order_by(Case.category_id, Case.id)
    ):
        existing = current.get((case.id, None))
        if existing is None:
            _new(campaign, CASE_AWARD, case_content(case, on), batch, case_id=case.id)
        elif _to_queue_again(existing):
            existing.batch = batch
    for award in db.session.scalars(select(OrganizationAward).where(OrganizationAward.campaign_id == campaign.id)):
        existing = current.get((None, award.id))
        if existing is None:
            _new(campaign, ORGANIZATION_AWARD, organization_content(award, on), batch, organization_award_id=award.id)
        elif _to_queue_again(existing):
            existing.batch = batch
    db.session.flush()
    if not batch.certificates:
        raise Invalid(_("Every certificate of this campaign has been issued already."))
    for certificate in batch.certificates:
        certificate.status, certificate.error = PENDING, None
        enqueue("awards.render_certificate", certificate.id)
    publication.publish(campaign, actor, _("Certificates issued."))  # verification reads the publication
    return batch


def retry(certificate: Certificate, actor: User) -> Certificate:
    require_staff(actor)
    if certificate.status != FAILED:
        raise Conflict(_("Only a failed certificate can be retried."))
    certificate.status, certificate.error = PENDING, None
    db.session.flush()
    enqueue("awards.render_certificate", certificate.id)
    return certificate


def reissue(certificate: Certificate, actor: User, corrections: dict[str, str]) -> Certificate:
    """Correct a certificate: a new number and file; the old one stays on record, marked superseded."""
    require_staff(actor)
    allowed = {"title", "recipient", "award_name"}
    unknown = set(corrections) - allowed
    if unknown:
        raise Invalid(_("These fields cannot be corrected."), {name: _("Not correctable.") for name in unknown})
    # Claimed with a conditional UPDATE: of two corrections sent at once, one supersedes it, the other is refused.
    claimed = db.session.execute(
        update(Certificate)
        .where(Certificate.id == certificate.id, Certificate.status == ISSUED)
        .values(status=SUPERSEDED)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(_("Only an issued certificate can be corrected."))
    set_committed_value(certificate, "status", SUPERSEDED)
    content = {**certificate.content, **{k: v.strip() for k, v in corrections.items() if v and v.strip()}}
    campaign = db.session.get(Campaign, certificate.campaign_id)
    links = {"case_id": certificate.case_id, "organization_award_id": certificate.organization_award_id}
    replacement = _new(campaign, certificate.kind, content, certificate.batch, supersedes_id=certificate.id, **links)
    enqueue("awards.render_certificate", replacement.id)
    publication.publish(campaign, actor, _("Certificate %(old)s corrected as %(new)s.", old=certificate.number,
                                           new=replacement.number))  # fmt: skip
    return replacement


@dataclass
class Progress:
    total: int
    issued: int
    failed: int
    pending: int

    @property
    def percent(self) -> int:
        return round(100 * (self.issued + self.failed) / self.total) if self.total else 100

    @property
    def finished(self) -> bool:
        return self.pending == 0


def progress(batch: CertificateBatch) -> Progress:
    rows = dict(db.session.execute(
        select(Certificate.status, func.count()).where(Certificate.batch_id == batch.id).group_by(Certificate.status)
    ).all())  # fmt: skip
    issued = rows.get(ISSUED, 0) + rows.get(SUPERSEDED, 0)
    return Progress(sum(rows.values()), issued, rows.get(FAILED, 0), rows.get(PENDING, 0))


def batch_zip(batch: CertificateBatch) -> str:
    """Write the batch's issued PDFs as one ZIP into storage and return its SHA-256.

    Each PDF is copied in chunks from storage into a spooled scratch file (memory up to 1 MB, then disk) and
    the result is stored in chunks, so neither the ZIP nor a whole batch is ever held in memory. Entries carry
    the certificate's render time, not now: the same batch gives the same ZIP, stored once.
    """
    entry_name = UniqueNames()  # a unit's name may hold "../", "<>:|?*", bidi controls, …: never in an entry name
    with storage.spooled() as scratch:
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:  # PDFs are compressed
            for certificate in batch.certificates:
                if certificate.status == ISSUED and certificate.sha256:
                    name = entry_name(f"{certificate.number}-{certificate.content.get('recipient', '')}.pdf")
                    stamp = (certificate.rendered_at or utcnow()).timetuple()[:6]
                    with archive.open(zipfile.ZipInfo(name, date_time=stamp), "w", force_zip64=True) as entry:
                        for chunk in storage.chunks(certificate.sha256):
                            entry.write(chunk)
        return storage.store_stream(scratch)[0]


def certificates_of_unit(unit: Unit) -> list[Certificate]:
    """What an applicant unit may download: the current certificates of its awarded cases."""
    return list(db.session.scalars(
        select(Certificate).join(Case, Case.id == Certificate.case_id)
        .where(Case.unit_id == unit.id, Certificate.status == ISSUED).order_by(Certificate.id)
    ))  # fmt: skip


def get_certificate(certificate_id: int, actor: User | None) -> Certificate:
    """A certificate the person may download: staff any, an applicant unit only its own current ones.

    Anything else is "not found", so a unit cannot learn which numbers exist.
    """
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is not None and actor is not None and getattr(actor, "is_authenticated", False):
        if actor.role in STAFF:
            return certificate
        if actor.unit_id is not None and certificate.id in {c.id for c in certificates_of_unit(actor.unit)}:
            return certificate
    raise NotFound(_("No such certificate."))
