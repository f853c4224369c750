"""Business rules of the case dossier: create, edit, attach files, check completeness, number.

Operations take an explicit actor, flush but never commit; the caller commits once (pingxuan.db.commit).
State changes are not here: they go through workflow.engine.fire().
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any
from urllib.parse import urlparse

import filetype
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from accounts.models import User
from campaigns.models import Campaign, Category, Domain, Organization
from cases.models import PRIVATE_FILE, PUBLIC_FILE, VISIBILITIES, Attachment, Case
from pingxuan import storage
from pingxuan.clock import today
from pingxuan.db import utcnow
from pingxuan.errors import Conflict, Forbidden, Invalid, NotFound
from pingxuan.extensions import db
from pingxuan.filenames import safe_filename
from pingxuan.i18n import pick
from pingxuan.text import hidden_character_error
from workflow.definition import APPLICANT, EDIT, PRIVATE_FILES, STAFF, STATE_BY_NAME, VIEW
from workflow.roles import global_roles, has_permission

TEXT_FIELDS = {
    "title": 200,
    "construction_unit": 200,
    "operating_unit": 200,
    "summary": 500,
    "description": 20000,
    "innovation": 5000,
    "effects": 5000,
    "beneficiaries": 5000,
    "public_url": 500,
    "app_name": 200,
}
SINGLE_LINE_FIELDS = frozenset({"title", "construction_unit", "operating_unit", "public_url", "app_name"})
REFERENCE_FIELDS = ("category_id", "domain_id", "recommending_org_id")
OTHER_FIELDS = ("in_operation_since", "investment")
EDITABLE_FIELDS = (*TEXT_FIELDS, *REFERENCE_FIELDS, *OTHER_FIELDS)

# What submission needs; public_url and app_name are alternatives (one of them is enough).
REQUIRED_FIELDS = (
    "title", "category_id", "domain_id", "recommending_org_id", "construction_unit", "operating_unit",
    "in_operation_since", "investment", "summary", "description", "innovation", "effects", "beneficiaries",
)  # fmt: skip

FIELD_LABELS = {
    "title": _l("Title"),
    "category_id": _l("Category"),
    "domain_id": _l("Domain"),
    "recommending_org_id": _l("Recommending organization"),
    "construction_unit": _l("Construction unit"),
    "operating_unit": _l("Operating unit"),
    "in_operation_since": _l("In operation since"),
    "investment": _l("Investment (CNY)"),
    "summary": _l("Summary"),
    "description": _l("Description"),
    "innovation": _l("Innovation"),
    "effects": _l("Effects"),
    "beneficiaries": _l("Beneficiaries"),
    "public_url": _l("Public URL"),
    "app_name": _l("App name"),
    "attachments": _l("Attachments"),
}

VISIBILITY_LABELS = {PUBLIC_FILE: _l("Public"), PRIVATE_FILE: _l("Private")}
IMAGES = frozenset({"image/jpeg", "image/png"})
DEFAULT_VISIBILITY = {"photo": PUBLIC_FILE, "document": PRIVATE_FILE}
ATTACHMENT_KINDS = {
    "photo": {"image/jpeg", "image/png"},
    "document": {"application/pdf", "image/jpeg", "image/png"},
}


# Reading ------------------------------------------------------------------------------------------------


def get_case(case_id: int, actor: User | None, permission: str = VIEW) -> Case:
    """Load a case the actor may see; a case they may not see is reported as not found, not as forbidden."""
    case = db.session.get(Case, case_id)
    if case is None or not has_permission(actor, case, VIEW):
        raise NotFound(_("No such case."))
    if permission != VIEW and not has_permission(actor, case, permission):
        raise Forbidden(_("You may not do this with the case in its current state."))
    return case


def current_campaign() -> Campaign:
    campaign = db.session.scalar(select(Campaign).where(Campaign.is_current.is_(True)))
    if campaign is None:
        raise NotFound(_("No campaign is open."))
    return campaign


# Writing ------------------------------------------------------------------------------------------------


def create_case(actor: User, data: dict[str, Any] | None = None, campaign: Campaign | None = None) -> Case:
    """Start a draft for the actor's unit; drafts may be incomplete, but what is given must be valid."""
    if actor.role != APPLICANT or actor.unit_id is None:
        raise Forbidden(_("Only members of an applicant unit can create cases."))
    campaign = campaign or current_campaign()
    case = Case(campaign=campaign, unit_id=actor.unit_id, created_by=actor)
    _apply(case, data or {})
    db.session.add(case)
    db.session.flush()
    return case


def update_case(case: Case, actor: User, data: dict[str, Any], expected_version: int | None = None) -> Case:
    """Change dossier fields while the case is editable; either every field is saved or none is."""
    if not has_permission(actor, case, EDIT):
        raise Forbidden(_("This case cannot be edited in its current state."))
    _check_version(case, expected_version)
    _apply(case, data)
    _claim(case)
    db.session.flush()
    return case


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


def _apply(case: Case, data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    if unknown:
        raise Invalid(_("Unknown fields."), {name: _("Unknown field.") for name in unknown})
    values, errors = _clean(case, data)
    if errors:
        raise Invalid(_("Please correct the marked fields."), errors)
    for name, value in values.items():
        setattr(case, name, value)


def _clean(case: Case, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, limit in TEXT_FIELDS.items():
        if name not in data:
            continue
        text = (data[name] or "").strip()
        if message := hidden_character_error(text, multiline=name not in SINGLE_LINE_FIELDS):
            errors[name] = message
        elif len(text) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
        elif name == "public_url" and text and urlparse(text).scheme not in ("http", "https"):
            errors[name] = _("Enter a web address starting with http:// or https://.")
        elif name == "public_url" and text and not urlparse(text).netloc:
            errors[name] = _("Enter a complete web address.")
        values[name] = text
    if "in_operation_since" in data:
        value = data["in_operation_since"]
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value) if value.strip() else None
            except ValueError:
                errors["in_operation_since"] = _("Enter a date as YYYY-MM-DD.")
        if isinstance(value, date) and value > today():
            errors["in_operation_since"] = _("The date lies in the future.")
        values["in_operation_since"] = value
    if "investment" in data:
        value = data["investment"]
        try:
            value = None if value in (None, "") else Decimal(str(value))
            if value is not None and (not value.is_finite() or value < 0 or value >= Decimal("1e14")):
                errors["investment"] = _("Enter an amount in CNY of zero or more.")
        except InvalidOperation:
            errors["investment"] = _("Enter an amount in CNY of zero or more.")
        values["investment"] = value
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
    """Everything that stops the case from being submitted, per field, all at once."""
    errors: dict[str, str] = {}
    for name in REQUIRED_FIELDS:
        value = getattr(case, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = _("%(field)s is required.", field=FIELD_LABELS[name])
    if not case.public_url and not case.app_name:
        errors["public_url"] = _("Give a public URL or the name of the app.")
    _values, invalid = _clean(case, {name: getattr(case, name) for name in EDITABLE_FIELDS if name != "category_id"})
    for name, message in invalid.items():
        errors.setdefault(name, message)
    if not any(a.kind == "document" for a in case.attachments):
        errors["attachments"] = _("Attach at least one document (PDF).")
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
    visibility = _checked_visibility(visibility or DEFAULT_VISIBILITY.get(kind, PRIVATE_FILE))
    name, content_type = checked_upload(kind, filename, data)
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


def checked_upload(kind: str, filename: str, data: bytes) -> tuple[str, str]:
    """The safe file name and the real type of an upload, read from its bytes, never from its name; shared by
    dossier attachments and the files of objections and their answers."""
    if kind not in ATTACHMENT_KINDS:
        raise Invalid(_("Unknown attachment kind."), {"kind": _("Choose photo or document.")})
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if not data:
        raise Invalid(_("The file is empty."), {"file": _("The file is empty.")})
    if len(data) > limit:
        raise Invalid(_("The file is too large."), {"file": _("At most %(mb)d MB.", mb=limit // (1024 * 1024))})
    guessed = filetype.guess(data)
    content_type = guessed.mime if guessed else "application/octet-stream"
    if content_type not in ATTACHMENT_KINDS[kind]:
        allowed = "PDF, JPEG, PNG" if kind == "document" else "JPEG, PNG"
        raise Invalid(
            _("This file is not an allowed type."),
            {"file": _("The file's content is not %(allowed)s.", allowed=allowed)},
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
        with Image.open(BytesIO(data)) as image:
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
            image.save(out, "JPEG", quality=82, optimize=True, progressive=True)
            return out.getvalue()
    except Image.DecompressionBombError as error:
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
    width = DISPLAY_WIDTH if attachment.kind == "photo" else SCAN_WIDTH
    try:
        copy = _display_copy(storage.read(attachment.sha256), width)
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


def dossier_rows(case: Case) -> list[tuple[str, str, str]]:
    """(field, label, value as shown) for every dossier field, in the form's order: pages and the meeting book."""
    values = {
        "category_id": pick(case.category, "name") if case.category else "",
        "domain_id": pick(case.domain, "name") if case.domain else "",
        "recommending_org_id": pick(case.recommending_org, "name") if case.recommending_org else "",
        "in_operation_since": case.in_operation_since.isoformat() if case.in_operation_since else "",
        "investment": f"{case.investment:,.2f}" if case.investment is not None else "",
    }
    rows = []
    for name, label in FIELD_LABELS.items():
        if name == "attachments":
            continue
        value = values[name] if name in values else getattr(case, name)
        rows.append((name, label, value or ""))
    return rows
