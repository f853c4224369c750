"""Meeting books: the office binds the finalists' dossiers into one printable book per category, and each
expert gets one with only the cases assigned to them (without the units' names when the review is blind).

A book is an HTML document rendered by WeasyPrint from ``pdf_templates/meeting_book/`` with the same sandboxed
Jinja and the same URL fetcher as the certificates (nothing outside the template's folders, no network): a
cover, a table of contents whose page numbers come from CSS ``target-counter``, and each dossier with its
photos embedded and its documents listed with their SHA-256. Each book is one Celery task, so a run of books
shows progress and a failed book is retried alone, as certificate batches do.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from accounts.models import User
from accounts.permissions import require_staff
from awards.certificates import Progress, render_pdf, render_template, template_folder
from books.models import FAILED, ISSUED, PENDING, PER_CATEGORY, PER_EXPERT, BookRun, MeetingBook
from campaigns.models import Campaign
from cases import dossier
from cases.models import Case
from cases.operations import dossier_rows, form_of
from pingxuan import storage
from pingxuan.clock import size, today
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.i18n import pick
from pingxuan.queue import enqueue
from reviewers.models import LIVE, Assignment
from workflow.definition import ANONYMOUS, REVIEW, REVIEWER, STAFF, TRANSITIONS, VOTE, states_granting

KIND = "meeting_book"  # the folder under pdf_templates/
SCOPES = (PER_CATEGORY, PER_EXPERT)
SHOWN_ABOVE = ("title", "category_id", "domain_id")  # in the dossier's heading already


def bound_states() -> tuple[str, ...]:
    """The cases a meeting discusses: those under expert review and the finalists, in the public vote and after
    it (proposed, awarded or not), so an award meeting or the year's record can be bound after the awards too."""
    finalists = list(states_granting(VOTE, {ANONYMOUS}))
    for state in finalists:  # every state a finalist can reach (the declaration's transitions)
        finalists += [t.dest for t in TRANSITIONS if state in t.sources and t.dest not in finalists]
    return tuple(dict.fromkeys((*states_granting(REVIEW, {REVIEWER}), *finalists)))


def _category_cases(campaign: Campaign, category_id: int | None = None) -> dict[int, list[int]]:
    where = [Case.campaign_id == campaign.id, Case.state.in_(bound_states())]
    if category_id is not None:
        where.append(Case.category_id == category_id)
    rows = db.session.execute(
        select(Case.category_id, Case.id).where(*where).order_by(Case.category_id, Case.number, Case.id)
    )  # fmt: skip
    found: dict[int, list[int]] = {}
    for category_id, case_id in rows:
        found.setdefault(category_id, []).append(case_id)
    return found


def _expert_cases(campaign: Campaign) -> dict[int, list[int]]:
    rows = db.session.execute(
        select(Assignment.expert_id, Case.id).join(Case, Case.id == Assignment.case_id)
        .where(Case.campaign_id == campaign.id, Assignment.status.in_(LIVE), Case.state.in_(bound_states()))
        .order_by(Assignment.expert_id, Case.category_id, Case.number, Case.id)
    )  # fmt: skip
    found: dict[int, list[int]] = {}
    for expert_id, case_id in rows:
        found.setdefault(expert_id, []).append(case_id)
    return found


def request_books(campaign: Campaign, actor: User, scope: str, category_id: int | None = None) -> BookRun:
    """Bind the books of a campaign (one per category, or one per expert) and queue one rendering per book.
    With ``category_id`` (books per category only) just that category's book is bound."""
    require_staff(actor)
    if scope not in SCOPES:
        raise Invalid(_("Choose books per category or per expert."), {"scope": _("Not a known choice.")})
    if category_id is not None and scope != PER_CATEGORY:
        raise Invalid(_("Please correct the marked fields."),
                      {"category_id": _("A category is chosen for books per category only.")})  # fmt: skip
    if category_id is not None and all(c.id != category_id for c in campaign.categories):
        raise Invalid(_("Please correct the marked fields."), {"category_id": _("No such category in this campaign.")})
    run = BookRun(campaign_id=campaign.id, scope=scope, created_by_id=actor.id)
    db.session.add(run)
    if scope == PER_CATEGORY:
        order = {c.id: c.position for c in campaign.categories}
        bound = _category_cases(campaign, category_id)
        for bound_category, case_ids in sorted(bound.items(), key=lambda i: order.get(i[0], 0)):
            run.books.append(MeetingBook(campaign_id=campaign.id, category_id=bound_category, case_ids=case_ids))
    else:
        for expert_id, case_ids in _expert_cases(campaign).items():
            run.books.append(MeetingBook(campaign_id=campaign.id, expert_id=expert_id, case_ids=case_ids,
                                         blind=campaign.blind_review))  # fmt: skip
    if not run.books:
        raise Invalid(_("No case is under review or among the finalists: there is nothing to bind."))
    db.session.flush()
    for book in run.books:
        enqueue("books.render_book", book.id)
    return run


def _photo(attachment: Any) -> str | None:
    try:
        data = storage.read(attachment.display_sha256 or attachment.sha256)
    except (FileNotFoundError, ValueError):
        return None
    kind = "image/jpeg" if attachment.display_sha256 else attachment.content_type
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def _dossier(case: Case, blind: bool) -> dict[str, Any]:
    form = form_of(case)
    naming = {item.key for item in form.fields if item.names_applicant}  # left out of blind books
    pictures = {slot.key for slot in form.file_slots if slot.kinds and set(slot.kinds) <= {"jpeg", "png"}}
    photos = [a for a in case.attachments if a.kind in pictures]
    hide = _masker(case) if blind else (lambda text: text)
    return {
        "id": case.id, "number": case.number or "", "title": hide(case.title),
        "unit": None if blind else case.unit.name,
        "category": pick(case.category, "name") if case.category else "",
        "domain": pick(case.domain, "name") if case.domain else "",
        "rows": [(label, hide(str(value))) for name, label, value in dossier_rows(case)
                 if name not in SHOWN_ABOVE and not (blind and name in naming)],
        "photos": [(hide(a.filename), uri) for a in photos if (uri := _photo(a))],
        "documents": [(hide(a.filename), a.sha256, size(a.size)) for a in case.attachments if a.kind not in pictures],
    }  # fmt: skip


def _masker(case: Case) -> Callable[[str], str]:
    """Blind review: the applicant's and the builders' names are masked wherever the dossier's text names them."""
    declared = [dossier.value(case, item) for item in form_of(case).value_fields if item.names_applicant]
    names = sorted({n.strip() for n in (case.unit.name, *declared) if isinstance(n, str) and len(n.strip()) >= 2},
                   key=len, reverse=True)  # fmt: skip
    if not names:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(n) for n in names))
    mask = _("[the unit]")
    return lambda text: pattern.sub(mask, text or "")


def book_title(book: MeetingBook) -> str:
    if book.category is not None:
        return pick(book.category, "name")
    expert = db.session.get(User, book.expert_id)
    return _("Cases assigned to %(name)s", name=expert.name if expert else "")


def render_html(book: MeetingBook) -> str:
    cases = db.session.scalars(select(Case).where(Case.id.in_(book.case_ids))).all()
    by_id = {c.id: c for c in cases}
    dossiers = [_dossier(by_id[i], book.blind) for i in book.case_ids if i in by_id]
    campaign = book.run.campaign
    return render_template(
        KIND, campaign_title=pick(campaign, "title"), organizer=pick(campaign, "organizer"), title=book_title(book),
        dossiers=dossiers, blind=book.blind, date_text=f"{today():%Y-%m-%d}",
        labels={"contents": _("Contents"), "book": _("Review meeting book"), "unit": _("Applicant unit"),
                "category": _("Category"), "domain": _("Domain"), "photos": _("Photos"),
                "documents": _("Documents (SHA-256)"),
                "cases": ngettext("%(num)d case", "%(num)d cases", len(dossiers)),
                "blind": _("Blind review: the units' names are left out.")},
        page_footer=_page_footer(),
    )  # fmt: skip


def _page_footer() -> str:
    """A CSS ``content`` value saying "page X of Y" in the current language (WeasyPrint fills the counters)."""
    before, middle, after = re.split("\x00|\x01", _("Page %(page)s of %(pages)s", page="\x00", pages="\x01"))
    quoted = [
        json.dumps(part, ensure_ascii=False) for part in (before, middle, after)
    ]  # a CSS string is quoted like a JSON one here
    return f"{quoted[0]} counter(page) {quoted[1]} counter(pages) {quoted[2]}"


def render_book(book_id: int) -> MeetingBook:
    """Render one book and keep its PDF; a failure is recorded on it, shown to the organizer and retried."""
    book = db.session.get(MeetingBook, book_id)
    if book is None:
        raise NotFound(_("No such meeting book."))
    try:
        rendered = render_pdf(render_html(book), template_folder(KIND))
    except Exception as error:  # every failure is shown to the organizer, who can retry
        book.status, book.error = FAILED, f"{type(error).__name__}: {error}"
        db.session.flush()
        return book
    book.sha256 = storage.store(rendered.data)
    book.pages = rendered.pages
    book.status, book.error, book.rendered_at = ISSUED, None, utcnow()
    db.session.flush()
    return book


def retry(book: MeetingBook, actor: User) -> MeetingBook:
    require_staff(actor)
    if book.status != FAILED:
        raise Conflict(_("Only a failed book can be rendered again."))
    book.status, book.error = PENDING, None
    db.session.flush()
    enqueue("books.render_book", book.id)
    return book


def progress(run: BookRun) -> Progress:
    rows = dict(db.session.execute(
        select(MeetingBook.status, func.count()).where(MeetingBook.run_id == run.id).group_by(MeetingBook.status)
    ).all())  # fmt: skip
    return Progress(sum(rows.values()), rows.get(ISSUED, 0), rows.get(FAILED, 0), rows.get(PENDING, 0))


def runs_of(campaign: Campaign) -> list[BookRun]:
    return list(db.session.scalars(select(BookRun).where(BookRun.campaign_id == campaign.id)
                                   .order_by(BookRun.id.desc())))  # fmt: skip


def get_run(run_id: int, actor: User | None) -> BookRun:
    run = db.session.get(BookRun, run_id)
    if run is None or actor is None or not getattr(actor, "is_authenticated", False) or actor.role not in STAFF:
        raise NotFound(_("No such run of meeting books."))
    return run


def books_of_expert(actor: User) -> list[MeetingBook]:
    """An expert's own books, newest first (only rendered ones)."""
    return list(db.session.scalars(
        select(MeetingBook).where(MeetingBook.expert_id == actor.id, MeetingBook.status == ISSUED)
        .order_by(MeetingBook.id.desc())
    ))  # fmt: skip


def get_book(book_id: int, actor: User | None) -> MeetingBook:
    """Staff see every book; an expert only their own; to anyone else a book does not exist."""
    book = db.session.get(MeetingBook, book_id)
    signed_in = actor is not None and getattr(actor, "is_authenticated", False)
    own = book is not None and signed_in and book.expert_id == actor.id and book.status == ISSUED
    if book is not None and signed_in and (actor.role in STAFF or own):
        return book
    raise NotFound(_("No such meeting book."))


def stored_pdf(book: MeetingBook) -> str:
    """The SHA-256 of the book's PDF in storage (to stream it); not found until rendered."""
    if book.status != ISSUED or not book.sha256:
        raise NotFound(_("This book has not been rendered."))
    return book.sha256


def pdf_of(book: MeetingBook) -> bytes:
    return storage.read(stored_pdf(book))


def file_name(book: MeetingBook) -> str:
    who = f"category-{book.category_id}" if book.category_id else f"expert-{book.expert_id}"
    return f"meeting-book-{book.run.campaign.year}-{who}-{book.id}.pdf"
