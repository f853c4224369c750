"""Business rules of the case dossier: create, edit, attach files, check completeness, number.

Operations take an explicit actor, flush but never commit; the caller commits once (pingxuan.db.commit).
State changes are not here: they go through workflow.engine.fire().
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import filetype
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from PIL import Image, ImageOps
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import User
from campaigns.models import Campaign, Category, Domain, Organization
from campaigns.operations import current_campaign
from cases import dossier
from cases.models import PRIVATE_FILE, PUBLIC_FILE, VISIBILITIES, Attachment, Case
from pingxuan import storage
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.filenames import safe_filename
from pingxuan.i18n import pick
from workflow.definition import APPLICANT, EDIT, PRIVATE_FILES, STAFF, STATE_BY_NAME, VIEW
from workflow.roles import global_roles, has_permission

REFERENCE_FIELDS = ("category_id", "domain_id", "recommending_org_id")  # staff may correct these
_REFERENCE_TYPES = frozenset({dossier.CATEGORY, dossier.DOMAIN, dossier.ORGANIZATION})

VISIBILITY_LABELS = {PUBLIC_FILE: _l("Public"), PRIVATE_FILE: _l("Private")}
IMAGES = frozenset({"image/jpeg", "image/png"})
DOCUMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})  # objections' files


# Reading ------------------------------------------------------------------------------------------------


def get_case(case_id: int, actor: User | None, permission: str = VIEW) -> Case:
    """Load a case the actor may see; a case they may not see is reported as not found, not as forbidden."""
    case = db.session.get(Case, case_id)
    if case is None or not has_permission(actor, case, VIEW):
        raise NotFound(_("No such case."))
    if permission != VIEW and not has_permission(actor, case, permission):
        raise Forbidden(_("You may not do this with the case in its current state."))
    return case


# Writing ------------------------------------------------------------------------------------------------


def create_case(actor: User, data: dict[str, Any] | None = None, campaign: Campaign | None = None) -> Case:
    """Start a draft for the actor's unit; drafts may be incomplete, but what is given must be valid."""
    if actor.role != APPLICANT or actor.unit_id is None:
        raise Forbidden(_("Only members of an applicant unit can create cases."))
    campaign = campaign or current_campaign()
    case = Case(campaign=campaign, unit_id=actor.unit_id, created_by=actor)
    _apply(case, data or {})
    _titled(case)
    db.session.add(case)
    db.session.flush()
    return case


def update_case(case: Case, actor: User, data: dict[str, Any], expected_version: int | None = None) -> Case:
    """Change dossier fields while the case is editable; either every field is saved or none is."""
    if not has_permission(actor, case, EDIT):
        raise Forbidden(_("This case cannot be edited in its current state."))
    _check_version(case, expected_version)
    _apply(case, data)
    _titled(case)
    _claim(case)
    db.session.flush()
    return case


def _titled(case: Case) -> None:
    """A draft always has a title: it is how the unit finds it again in its list."""
    if not (case.title or "").strip():
        raise Invalid(_("A draft needs a title."), {"title": _("Give the case a title to save it.")})


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != case.version:
        raise Conflict(_("Someone else changed this case first. Reload it and try again."))


def _claim(case: Case) -> None:
    """Bump the version only if the row still has the version and state this request read and checked.

    One conditional UPDATE, so of parallel edits of one version exactly one lands (the others get 409), and an
    edit racing ``fire()`` (a resubmission) never lands on the case in its new state: ``fire`` bumps the version
    too. The row stays locked until the commit, on PostgreSQL and SQLite alike.
    """
    claimed = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.version == case.version, Case.state == case.state)
        .values(version=Case.version + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(_("Someone else changed this case first. Reload it and try again."))
    set_committed_value(case, "version", case.version + 1)


def form_of(case: Case) -> dossier.DossierForm:
    """The dossier form the case's campaign declares."""
    return dossier.form_of(case.campaign)


def field_label(case: Case, key: str) -> str | None:
    """A field's label in the page's language; None for anything the form does not declare."""
    item = form_of(case).get(key)
    return item.label if item is not None else None


def _apply(case: Case, data: dict[str, Any]) -> None:
    form = form_of(case)
    unknown = sorted(key for key in data if (item := form.get(key)) is None or item.is_file)
    values, errors = _clean(case, form, {key: found for key, found in data.items() if key not in unknown})
    if unknown:  # every fault at once: the fields this campaign's form does not ask, and the values refused
        raise Invalid(_("Unknown fields."), {**errors, **{name: _("Unknown field.") for name in unknown}})
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    for name, found in values.items():
        dossier.store(case, form.by_key[name], found)


def _clean(case: Case, form: dossier.DossierForm, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in data.items():
        item = form.by_key[name]
        if item.type in _REFERENCE_TYPES:
            continue
        values[name], message = dossier.clean(item, raw)
        if message:
            errors[name] = message
    campaign_id = case.campaign_id or (case.campaign.id if case.campaign else None)
    category_id = data.get("category_id", case.category_id)
    if "category_id" in data:
        category = db.session.get(Category, category_id) if category_id else None
        if category_id and (category is None or category.campaign_id != campaign_id):
            errors["category_id"] = _("Choose a category of this campaign.")
        values["category_id"] = category_id or None
    if "domain_id" in data or ("category_id" in data and case.domain_id):
        domain_id = data.get("domain_id", case.domain_id)
        domain = db.session.get(Domain, domain_id) if domain_id else None
        if domain_id and (domain is None or domain.category_id != category_id):
            errors["domain_id"] = _("Choose a domain of the chosen category.")
        values["domain_id"] = domain_id or None
    if "recommending_org_id" in data:
        org_id = data["recommending_org_id"]
        if org_id and db.session.get(Organization, org_id) is None:
            errors["recommending_org_id"] = _("Choose a recommending organization from the list.")
        values["recommending_org_id"] = org_id or None
    return values, errors


def dossier_errors(case: Case) -> dict[str, str]:
    """Everything that stops the case from being submitted, per field, all at once: each field the form requires
    and the dossier lacks is named, and every value is checked again against the form's limits."""
    form = form_of(case)
    errors = dossier.missing(form, case, case.category.code if case.category else None)
    _values, invalid = _clean(
        case, form, {"domain_id": case.domain_id, "recommending_org_id": case.recommending_org_id}
    )
    for name, message in invalid.items():
        errors.setdefault(name, message)
    return errors


# Attachments --------------------------------------------------------------------------------------------


def attach_file(
    case: Case, actor: User, kind: str, filename: str, data: bytes, visibility: str | None = None
) -> Attachment:
    """Store an upload after checking its real type from its bytes, never from its name.

    ``visibility``: public (anyone who may view the case, e.g. on the showcase) or private (the unit, its
    reviewers and the office); photos are public and documents private unless the unit says otherwise."""
    if not has_permission(actor, case, EDIT):
        raise Forbidden(_("This case cannot be edited in its current state."))
    slot = form_of(case).get(kind)
    if slot is None or not slot.is_file:
        raise Invalid(_("Unknown attachment kind."), {"kind": _("Choose one of the form's file slots.")})
    if slot.max_count is not None and sum(1 for a in case.attachments if a.kind == kind) >= slot.max_count:
        raise Invalid(
            _("This slot is full."),
            {"file": ngettext("At most %(num)d file.", "At most %(num)d files.", slot.max_count)},
        )
    if slot.max_mb is not None and len(data) > slot.max_mb * 1024 * 1024:
        raise Invalid(_("The file is too large."), {"file": _("At most %(mb)d MB.", mb=slot.max_mb)})
    visibility = _checked_visibility(visibility or (PUBLIC_FILE if slot.public else PRIVATE_FILE))
    name, content_type = checked_upload(slot.content_types, filename, data)
    display = _display_copy(data, DISPLAY_WIDTH if kind == "photo" else SCAN_WIDTH) if content_type in IMAGES else None
    digest = storage.store(data)
    attachment = Attachment(
        case=case, kind=kind, filename=name, content_type=content_type, size=len(data), sha256=digest,
        uploaded_by_id=actor.id, display_sha256=storage.store(display) if display else None, visibility=visibility,
    )  # fmt: skip
    db.session.add(attachment)
    _claim(case)
    db.session.flush()
    return attachment


def checked_upload(allowed: frozenset[str], filename: str, data: bytes) -> tuple[str, str]:
    """The safe file name and the real type of an upload, read from its bytes, never from its name; shared by
    dossier attachments (``allowed``: the slot's types) and the files of objections and their answers."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if not data:
        raise Invalid(_("The file is empty."), {"file": _("The file is empty.")})
    if len(data) > limit:
        raise Invalid(_("The file is too large."), {"file": _("At most %(mb)d MB.", mb=limit // (1024 * 1024))})
    guessed = filetype.guess(data)
    content_type = guessed.mime if guessed else "application/octet-stream"
    if content_type not in allowed:
        names = ", ".join(name.upper() for name, kind in dossier.FILE_KINDS.items() if kind in allowed)
        raise Invalid(
            _("This file is not an allowed type."),
            {"file": _("The file's content is not %(allowed)s.", allowed=names)},
        )
    return safe_filename((filename or "").replace("\\", "/").rsplit("/", 1)[-1]), content_type


DISPLAY_WIDTH = 1200  # px: sharp on a phone, a fraction of a camera's original
SCAN_WIDTH = 2400  # px: a scanned page stays legible
# A 519 KB PNG of 13000×13700 px took 0.7 GB to decode (Pillow only refuses above twice its own default).
# 50 megapixels is more than any camera photo; the size is read from the header, before anything is decoded.
MAX_PIXELS = 50_000_000


def _display_copy(data: bytes, width: int = DISPLAY_WIDTH) -> bytes | None:
    """A JPEG at most ``width`` wide for public pages on phones; upright, without EXIF (no GPS leaks)."""
    try:
        with warnings.catch_warnings():  # Pillow's own warning above 89 MP is our refusal (ours starts at 50 MP)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(BytesIO(data))
        with opened as image:
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.draft("RGB", (width, width * 4))  # JPEG: decode at a reduced scale, fast
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                background = Image.new("RGB", image.size, (255, 255, 255))
                background.paste(image, mask=image.getchannel("A"))
                image = background
            elif image.mode != "RGB":
                image = image.convert("RGB")
            if image.width > width:
                height = max(1, round(image.height * width / image.width))
                image = image.resize((width, height), Image.Resampling.LANCZOS)
            out = BytesIO()
            # Only the pixels: no EXIF, XMP or ICC, and no comment (Pillow would copy the original's COM segment,
            # where a camera app or the uploader may have written a position).
            image.save(out, "JPEG", quality=82, optimize=True, progressive=True, comment=b"")
            return out.getvalue()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise Invalid(_("This picture is too large."), {"file": _("The picture has too many pixels.")}) from error
    except (OSError, ValueError):  # bytes that look like a picture but do not decode: keep them, show no copy
        return None


def remove_attachment(case: Case, actor: User, attachment_id: int) -> None:
    if not has_permission(actor, case, EDIT):
        raise Forbidden(_("This case cannot be edited in its current state."))
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise NotFound(_("No such attachment."))
    case.attachments.remove(attachment)
    _claim(case)
    db.session.flush()


def set_visibility(case: Case, actor: User, attachment_id: int, visibility: str) -> Attachment:
    """The unit makes an attachment public or keeps it to itself, its reviewers and the office."""
    if not has_permission(actor, case, EDIT):
        raise Forbidden(_("This case cannot be edited in its current state."))
    attachment = get_attachment(case, attachment_id, actor)
    attachment.visibility = _checked_visibility(visibility)
    _claim(case)
    db.session.flush()
    return attachment


def _checked_visibility(visibility: str) -> str:
    if visibility not in VISIBILITIES:
        raise Invalid(_("Please correct the marked fields."), {"visibility": _("Choose public or private.")})
    return visibility


def sees_private_files(actor: User | None, case: Case) -> bool:
    """The unit, the case's reviewers and the office (the declaration's ``private_files``) see every attachment
    as uploaded; everybody else only the public ones, pictures as a copy without EXIF."""
    return has_permission(actor, case, PRIVATE_FILES)


def visible_attachments(case: Case, actor: User | None) -> list[Attachment]:
    if sees_private_files(actor, case):
        return list(case.attachments)
    return [a for a in case.attachments if a.visibility == PUBLIC_FILE]


def get_attachment(case: Case, attachment_id: int, actor: User | None) -> Attachment:
    """An attachment of the case the actor may open (a private one is "not found" for the public)."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise NotFound(_("No such attachment."))
    if attachment.visibility != PUBLIC_FILE and not sees_private_files(actor, case):
        raise NotFound(_("No such attachment."))
    return attachment


@dataclass(frozen=True)
class ServedFile:
    sha256: str
    content_type: str
    filename: str


def served_file(case: Case, attachment: Attachment, actor: User | None) -> ServedFile:
    """What to send: the original to the unit, its reviewers and the office; to anyone else a picture as the copy
    without EXIF (its GPS position, camera, owner), never the original."""
    original = ServedFile(attachment.sha256, attachment.content_type, attachment.filename)
    if sees_private_files(actor, case) or attachment.content_type not in IMAGES:
        return original
    digest = public_copy(attachment)
    if digest is None:
        raise NotFound(_("No such attachment."))
    stem = attachment.filename.rsplit(".", 1)[0] if "." in attachment.filename else attachment.filename
    return ServedFile(digest, "image/jpeg", f"{stem}.jpg")


def public_copy(attachment: Attachment) -> str | None:
    """The SHA-256 of the picture's copy without EXIF (made now for one stored before copies were), or None for
    bytes that do not decode as a picture."""
    if attachment.display_sha256:
        return attachment.display_sha256
    return picture_copy(attachment.sha256, DISPLAY_WIDTH if attachment.kind == "photo" else SCAN_WIDTH)


def picture_copy(sha256: str, width: int = SCAN_WIDTH) -> str | None:
    """The SHA-256 of a stored picture's re-encoded copy, upright, without any metadata (EXIF with its GPS
    position and camera, XMP, comments), or None for bytes that do not decode as a picture."""
    try:
        copy = _display_copy(storage.read(sha256), width)
    except Invalid:
        return None
    return storage.store(copy) if copy else None


# Numbering ----------------------------------------------------------------------------------------------


def assign_number(case: Case) -> str:
    """Give a submitted case its readable number, e.g. 2017-CO-0007, once; dense per category.

    The counter is bumped with one UPDATE ... RETURNING, so two simultaneous submissions never share a number.
    """
    if case.number:
        return case.number
    value = db.session.execute(
        update(Category)
        .where(Category.id == case.category_id)
        .values(last_case_number=Category.last_case_number + 1)
        .returning(Category.last_case_number)
    ).scalar_one()
    case.number = f"{case.campaign.year}-{case.category.abbr}-{value:04d}"
    if case.submitted_at is None:
        case.submitted_at = utcnow()
    db.session.flush()
    return case.number


# Staff corrections --------------------------------------------------------------------------------------


def reclassify_case(case: Case, actor: User, data: dict[str, Any], expected_version: int | None = None) -> Case:
    """Staff correct a case's category, domain or recommending organization while the case is still open."""
    if not (global_roles(actor) & STAFF):
        raise Forbidden(_("Only organizers can reclassify a case."))
    if STATE_BY_NAME[case.state].final:
        raise Conflict(_("A case whose selection is over cannot be reclassified."))
    unknown = sorted(set(data) - set(REFERENCE_FIELDS))
    if unknown:
        raise Invalid(_("Unknown fields."), {name: _("Unknown field.") for name in unknown})
    _check_version(case, expected_version)
    _apply(case, data)
    _claim(case)
    db.session.flush()
    return case


class DossierRow(tuple):
    """(field, label, value as shown), and ``link``: whether the value is a web address to link."""

    link: bool

    def __new__(cls, name: str, label: str, shown: str, link: bool = False) -> DossierRow:
        row = super().__new__(cls, (name, label, shown))
        row.link = link
        return row


def dossier_rows(case: Case, public_only: bool = False) -> list[DossierRow]:
    """(field, label, value as shown) for every field of the case's form that holds a value, in the form's order:
    pages, the experts' view and the meeting book. ``public_only``: the fields the form shows the public."""
    form = form_of(case)
    code = case.category.code if case.category else None
    named = {
        "category_id": pick(case.category, "name") if case.category else "",
        "domain_id": pick(case.domain, "name") if case.domain else "",
        "recommending_org_id": pick(case.recommending_org, "name") if case.recommending_org else "",
    }
    rows = []
    for item in form.value_fields:
        if not item.applies_to(code) or (public_only and not item.public):
            continue
        shown = named[item.key] if item.key in named else dossier.shown(item, dossier.value(case, item))
        rows.append(DossierRow(item.key, item.label, shown or "", item.type == dossier.URL))
    return rows
