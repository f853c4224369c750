"""Objections (异议) to proposed awards during their public notice, and how the office handles them.

An objector verifies a number with the voters' one-time code (voting.voters; the same verified session), is
known by the keyed hash of that number, and gives it again for the reply: it is kept sealed (encrypted with
a key derived from the secret key) only until the outcome is sent by SMS, then erased. The office forwards an
objection to the unit, the unit answers on its case page by a due date, and the office upholds it (the
proposed award is revoked; the next case in the ranking may move up with a notice of its own) or dismisses
it, always with a reason. Every step is on the case's timeline; the public sees none of it
(the ``history`` permission).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date

from cryptography.fernet import Fernet
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import case as when
from sqlalchemy import func, or_, select, update

from accounts.models import User
from accounts.permissions import require_staff
from awards import notice
from awards.models import (
    OBJECTION_ANSWERED,
    OBJECTION_DISMISSED,
    OBJECTION_FORWARDED,
    OBJECTION_OPEN,
    OBJECTION_PENDING,
    OBJECTION_UPHELD,
    Objection,
    ObjectionFile,
)
from awards.ranking import decided_ranking
from cases.models import Case
from cases.operations import DOCUMENT_TYPES, IMAGES, ServedFile, checked_upload, picture_copy
from cases.versions import current_number
from pingxuan import storage
from pingxuan.clock import today
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.queue import enqueue
from voting.models import Voter
from voting.privacy import mask_phone, phone_hash
from voting.sms import send_sms
from voting.voters import normalize_phone, open_number
from workflow.definition import ANONYMOUS, OBJECT, OWNER, STAFF, STATE_BY_NAME, TRANSITION_BY_NAME
from workflow.engine import check_guards, fire, record_step
from workflow.guards import latest_notice
from workflow.models import WorkflowEvent
from workflow.roles import roles_on

GROUNDS = {
    "cutoff": _l("Went into operation after the cut-off date"),
    "copied": _l("Copied or untrue dossier"),
    "identity": _l("The unit is not who it says it is"),
    "other": _l("Other"),
}
STATUS_LABELS = {
    OBJECTION_OPEN: _l("Open"),
    OBJECTION_FORWARDED: _l("Forwarded to the unit"),
    OBJECTION_ANSWERED: _l("Answered by the unit"),
    OBJECTION_UPHELD: _l("Upheld"),
    OBJECTION_DISMISSED: _l("Dismissed"),
}
MAX_PER_NUMBER_PER_DAY = 5  # objections one verified number may lodge a day
MAX_FILES = 5
MIN_TEXT, MAX_TEXT = 10, 5000  # characters of the objection's explanation
MOVE_UP = TRANSITION_BY_NAME["move_up"]


@dataclass
class Upload:
    filename: str
    data: bytes


def _fernet() -> Fernet:
    digest = hashlib.sha256(("objection-contact:" + current_app.config["SECRET_KEY"]).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def objection_window_error(case: Case) -> str | None:
    """Why the public cannot object to this case now, or None."""
    if ANONYMOUS not in _granted(case):
        return _("This case is not in public notice: objections are not accepted.")
    current = latest_notice(case.id)
    if current is None:
        return _("This case is not in public notice: objections are not accepted.")
    if today() < current.starts_on:
        return _("The public notice starts on %(date)s.", date=current.starts_on.isoformat())
    if today() > current.ends_on:
        return _("The public notice ended on %(date)s: objections are no longer accepted.",
                 date=current.ends_on.isoformat())  # fmt: skip
    return None


def _granted(case: Case) -> frozenset[str]:
    return STATE_BY_NAME[case.state].roles_for(OBJECT)


def _store_files(objection: Objection, part: str, uploads: list[Upload]) -> None:
    if len(uploads) > MAX_FILES:
        raise Invalid(
            ngettext("Attach at most %(num)d file.", "Attach at most %(num)d files.", MAX_FILES),
            {"files": _("Too many files.")},
        )
    for upload in uploads:
        name, content_type = checked_upload(DOCUMENT_TYPES, upload.filename, upload.data)
        objection.files.append(ObjectionFile(part=part, filename=name, content_type=content_type,
                                             size=len(upload.data), sha256=storage.store(upload.data)))  # fmt: skip


def _take_daily_place(voter: Voter) -> None:
    """One of the number's places for today, taken by a conditional UPDATE of the voter's counter: of parallel
    objections from one number, only as many as places are left get one (a count read first let 6 of 10 through)."""
    day = today()
    taken = db.session.execute(
        update(Voter)
        .where(
            Voter.id == voter.id,
            or_(
                Voter.objections_on.is_(None),
                Voter.objections_on != day,
                Voter.objections_used < MAX_PER_NUMBER_PER_DAY,
            ),
        )
        .values(
            objections_used=when((Voter.objections_on == day, Voter.objections_used + 1), else_=1),
            objections_on=day,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise Conflict(
            ngettext(
                "This number has reached today's limit of %(num)d objection. Try again tomorrow.",
                "This number has reached today's limit of %(num)d objections. Try again tomorrow.",
                MAX_PER_NUMBER_PER_DAY,
            )
        )


def carried_number(voter_id: int | None, sealed: object) -> str | None:
    """The number a visitor verified to object (sealed in their session by the verify page), if it is the number
    of the voter they are verified as: the form then sends the reply to it without asking for it again."""
    number = open_number(sealed)
    if number is None or voter_id is None:
        return None
    voter = db.session.get(Voter, voter_id)
    return number if voter is not None and voter.phone_hash == phone_hash(number) else None


def lodge_objection(
    case: Case,
    voter_id: int | None,
    phone: str,
    ground: str,
    text: str,
    anonymous: bool = False,
    uploads: list[Upload] | None = None,
) -> Objection:
    """A verified member of the public objects to a proposed award during its notice period."""
    refused = objection_window_error(case)
    if refused:
        raise Conflict(refused)
    voter = db.session.get(Voter, voter_id) if voter_id is not None else None
    if voter is None:
        raise Forbidden(_("Verify your mobile number first."))
    errors: dict[str, str] = {}
    try:
        phone = normalize_phone(phone)
        if phone_hash(phone) != voter.phone_hash:
            errors["phone"] = _("Enter the number you verified.")
    except Invalid as error:
        errors.update(error.field_errors)
    if ground not in GROUNDS:
        errors["ground"] = _("Choose the grounds of your objection.")
    text = (text or "").strip()
    if len(text) < MIN_TEXT:
        errors["text"] = _("Explain your objection in at least %(n)d characters.", n=MIN_TEXT)
    elif len(text) > MAX_TEXT:
        errors["text"] = _("At most %(n)d characters.", n=MAX_TEXT)
    if errors:
        raise Invalid(_("Please correct the objection."), errors)
    _take_daily_place(voter)
    objection = Objection(
        case_id=case.id, notice_id=latest_notice(case.id).id, ground=ground, text=text,
        phone_hash=voter.phone_hash, phone_masked=mask_phone(phone), anonymous=bool(anonymous),
        contact_sealed=_fernet().encrypt(phone.encode()).decode(), status=OBJECTION_OPEN,
        dossier_version=current_number(case),
    )  # fmt: skip
    _store_files(objection, "grounds", uploads or [])
    db.session.add(objection)
    db.session.flush()
    record_step(case, "objection_lodged", None, _("Objection %(id)d: %(ground)s", id=objection.id,
                                                 ground=str(GROUNDS[ground])))  # fmt: skip
    return objection


@dataclass(frozen=True)
class Limits:
    """What the objection form says before anything is refused (the same numbers ``lodge_objection`` applies)."""

    min_text: int
    max_text: int
    per_day: int
    files: int
    file_mb: int


def limits() -> Limits:
    file_mb = current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
    return Limits(MIN_TEXT, MAX_TEXT, MAX_PER_NUMBER_PER_DAY, MAX_FILES, file_mb)


def reference(objection: Objection) -> str:
    """The number an objector quotes to the office (on the confirmation and in the outcome's text): the
    campaign's year and the objection's own number, e.g. 26-0012; the office finds it at /objections/12."""
    return f"{objection.case.campaign.year % 100:02d}-{objection.id:04d}"


def may_read(objection: Objection, actor: User | None) -> bool:
    """The office reads every objection; the case's unit only the ones forwarded to it; nobody else any."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if actor.role in STAFF:
        return True
    return objection.forwarded_at is not None and OWNER in roles_on(actor, objection.case)


def visible_objection(objection_id: int, actor: User | None) -> Objection:
    """An objection the actor may read; any other is reported as not found, like a case one may not see."""
    objection = db.session.get(Objection, objection_id)
    if objection is None or not may_read(objection, actor):
        raise NotFound(_("No such objection."))
    return objection


def served_file(objection: Objection, file_id: int, actor: User) -> ServedFile:
    """A file of an objection the actor may read: the office gets it as lodged; anyone else (the unit) gets a
    picture as a re-encoded copy without its metadata, so an anonymous objector's photo does not tell the unit
    where it was taken or with which phone."""
    found = next((f for f in objection.files if f.id == file_id), None)
    if found is None:
        raise NotFound(_("No such file."))
    if actor.role in STAFF or found.content_type not in IMAGES:
        return ServedFile(found.sha256, found.content_type, found.filename)
    digest = picture_copy(found.sha256)
    if digest is None:
        raise NotFound(_("No such file."))
    stem = found.filename.rsplit(".", 1)[0] if "." in found.filename else found.filename
    return ServedFile(digest, "image/jpeg", f"{stem}.jpg")


def objector_shown(objection: Objection, actor: User) -> str | None:
    """The objector's masked number, except to the unit when the objector asked to be anonymous."""
    return objection.phone_masked if actor.role in STAFF or not objection.anonymous else None


def case_objections(case: Case, actor: User) -> list[Objection]:
    """A case's objections as the actor may list them: all for the office, the forwarded ones for the unit."""
    if actor.role in STAFF:
        return objections_of(case)
    if OWNER in roles_on(actor, case):
        return forwarded_to_unit(case)
    raise Forbidden(_("Only the office and the case's unit see its objections."))


def objections_of(case: Case) -> list[Objection]:
    return list(db.session.scalars(select(Objection).where(Objection.case_id == case.id).order_by(Objection.id)))


def awaiting_answer(cases: list[Case]) -> list[Objection]:
    """The objections forwarded to these cases' unit that it has not answered yet, the soonest due first."""
    ids = [case.id for case in cases]
    if not ids:
        return []
    return list(db.session.scalars(
        select(Objection).where(Objection.case_id.in_(ids), Objection.status == OBJECTION_FORWARDED)
        .order_by(Objection.response_due, Objection.id)
    ))  # fmt: skip


def awaiting_unit_answer(actor: User | None, cases: list[Case]) -> list[Objection]:
    """What the actor's unit is asked to answer now, on these cases (nothing for the office or anyone else)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role in STAFF:
        return []
    return [objection for objection in awaiting_answer(cases) if may_read(objection, actor)]


def forwarded_to_unit(case: Case) -> list[Objection]:
    """What the unit sees: the objections forwarded to it (never the objector's number; none if anonymous)."""
    return [o for o in objections_of(case) if o.forwarded_at is not None]


def forward_objection(objection: Objection, actor: User, note: str, due: date | None) -> Objection:
    """The office asks the unit to respond by a due date."""
    require_staff(actor)
    if objection.status != OBJECTION_OPEN:
        raise Conflict(_("This objection has already been forwarded or decided."))
    errors: dict[str, str] = {}
    if due is None:
        errors["due"] = _("A due date is required.")
    elif due < today():
        errors["due"] = _("The due date cannot be in the past.")
    if errors:
        raise Invalid(_("Say by when the unit must respond."), errors)
    objection.status, objection.forwarded_at = OBJECTION_FORWARDED, utcnow()
    objection.forward_note, objection.response_due = (note or "").strip(), due
    db.session.flush()
    record_step(objection.case, "objection_forwarded", actor,
                _("Objection %(id)d: response due by %(date)s. %(note)s", id=objection.id, date=due.isoformat(),
                  note=objection.forward_note))  # fmt: skip
    enqueue("notifications.notify_objection_forwarded", objection.id)  # the unit's members, in the app and by mail
    return objection


def answer_objection(objection: Objection, actor: User, text: str, uploads: list[Upload] | None = None) -> Objection:
    """The unit answers an objection forwarded to it, with files if it likes."""
    if OWNER not in roles_on(actor, objection.case):
        raise Forbidden(_("Only the case's unit may answer this objection."))
    if objection.status != OBJECTION_FORWARDED:
        raise Conflict(_("This objection is not waiting for your answer."))
    text = (text or "").strip()
    if not text:
        raise Invalid(_("Write your answer."), {"response": _("An answer is required.")})
    objection.status, objection.response = OBJECTION_ANSWERED, text
    objection.responded_at, objection.responded_by_id = utcnow(), actor.id
    _store_files(objection, "response", uploads or [])
    db.session.flush()
    record_step(objection.case, "objection_answered", actor, _("Objection %(id)d answered.", id=objection.id))
    return objection


def next_in_ranking(case: Case) -> Case | None:
    """The best-ranked case of the category that was not awarded and may move up now (the declared guards)."""
    for entry in decided_ranking(case.campaign, case.category):
        candidate = entry.case
        if candidate.id == case.id or candidate.state not in MOVE_UP.sources:
            continue
        if _ever_revoked(candidate):
            continue
        return candidate if not check_guards(candidate, MOVE_UP, None) else None
    return None


def _ever_revoked(case: Case) -> bool:
    revoke = TRANSITION_BY_NAME["revoke"].name
    return bool(db.session.scalar(select(func.count()).where(WorkflowEvent.case_id == case.id,
                                                             WorkflowEvent.transition == revoke)))  # fmt: skip


def decide_objection(objection: Objection, actor: User, upheld: bool, reason: str, move_up: bool = False) -> Objection:
    """Uphold (the proposed award is revoked; optionally the next case moves up with its own notice) or dismiss,
    always with a reason; the objector is told the outcome by SMS and their number is then erased."""
    require_staff(actor)
    if objection.status not in OBJECTION_PENDING:
        raise Conflict(_("This objection has already been decided."))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give the reason for the decision."), {"reason": _("A reason is required.")})
    case = objection.case
    objection.reason, objection.decided_at, objection.decided_by_id = reason, utcnow(), actor.id
    if upheld:
        objection.status = OBJECTION_UPHELD
        db.session.flush()
        record_step(case, "objection_upheld", actor, _("Objection %(id)d upheld: %(reason)s", id=objection.id,
                                                       reason=reason))  # fmt: skip
        fire(case, TRANSITION_BY_NAME["revoke"].name, actor, reason)
        if move_up:
            candidate = next_in_ranking(case)
            if candidate is None:
                raise Conflict(_("No other case of this category can move up."))
            fire(candidate, MOVE_UP.name, actor, _("Moves up after an upheld objection to %(number)s.",
                                                   number=case.number or case.title))  # fmt: skip
            notice.publish_notice(case.campaign, None, case.category, cases=[candidate])
            objection.moved_up_case_id = candidate.id
    else:
        objection.status = OBJECTION_DISMISSED
        db.session.flush()
        record_step(case, "objection_dismissed", actor, _("Objection %(id)d dismissed: %(reason)s",
                                                          id=objection.id, reason=reason))  # fmt: skip
    _tell_objector(objection, upheld)
    db.session.flush()
    return objection


def _tell_objector(objection: Objection, upheld: bool) -> None:
    if not objection.contact_sealed:
        return
    phone = _fernet().decrypt(objection.contact_sealed.encode()).decode()
    outcome = _("upheld") if upheld else _("dismissed")
    values = {"case_title": objection.case.title, "outcome": outcome, "reason": objection.reason,
              "reference": reference(objection)}  # fmt: skip
    send_sms(phone, "objection.outcome", values, campaign_id=objection.case.campaign_id)
    objection.contact_sealed = None
