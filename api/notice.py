"""The public notice (公示) of proposed awards and the objections (异议) to them, through the same operations as the
pages (awards.notice, awards.objections, awards.decisions): publishing the notice, its public listing, lodging an
objection (a verified voter's ``X-Voter-Token``, as for a vote), forwarding it to the unit, the unit's answer, the
office's decision and the confirmation of the awards once the notice is over."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from accounts.models import User
from api.auth import Unauthorized, api_blueprint, require_actor, secured
from api.cases import _Parser
from api.endpoints import found, refusals, staff
from api.fields import FileUpload, UtcDateTime
from api.present import paginate
from api.schemas import PageInfoSchema, PageQuerySchema
from awards import notice, objections, publication
from awards.decisions import confirm_proposed
from awards.models import OBJECTION_DISMISSED, OBJECTION_UPHELD, Notice, Objection, ObjectionFile
from campaigns.models import Campaign
from campaigns.operations import campaign_of_year
from cases.models import Case
from cases.operations import get_case
from pingxuan import storage
from pingxuan.db import commit, rollback
from pingxuan.errors import DomainError, Invalid
from pingxuan.extensions import db
from pingxuan.i18n import pick
from voting import abuse
from voting.operations import voter_from_token

blp = api_blueprint("api_awards_notice", __name__, "Public notice of the proposed awards and objections to them")
blp.ARGUMENTS_PARSER = _Parser()
blp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**blp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "form_and_files": "multipart/form-data"}  # fmt: skip
blp.register_error_handler(429, abuse.too_many)

STATUSES = list(objections.STATUS_LABELS)
TEXT_MAX = 5000


# Schemas ------------------------------------------------------------------------------------------------


class GroundSchema(Schema):
    key = fields.String(required=True, validate=validate.OneOf(list(objections.GROUNDS)))
    label = fields.String(required=True)


class NoticeSchema(Schema):
    id = fields.Integer(required=True)
    campaign_id = fields.Integer(required=True)
    category_id = fields.Integer(required=True, allow_none=True, metadata={"description": "null: whole campaign"})
    starts_on = fields.Date(required=True, metadata={"description": "First day objections are accepted"})
    ends_on = fields.Date(required=True, metadata={"description": "Last day objections are accepted"})
    contact = fields.String(required=True, metadata={"description": "The office's contact shown on the notice"})
    published_at = UtcDateTime(required=True)
    published_by = fields.String(required=True, allow_none=True, metadata={"description": "null: the system"})
    case_ids = fields.List(fields.Integer(), required=True)


class NoticeCaseSchema(Schema):
    case_id = fields.Integer(required=True)
    number = fields.String(required=True, allow_none=True)
    title = fields.String(required=True)
    unit = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    accepting_objections = fields.Boolean(required=True)
    refusal = fields.String(required=True, allow_none=True, metadata={"description": "Why objections are refused now"})
    url = fields.String(required=True, metadata={"description": "The case's public page"})


class NoticeCategorySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    award = fields.String(required=True)
    cases = fields.List(fields.Nested(NoticeCaseSchema), required=True)


class PublicNoticeSchema(Schema):
    campaign_id = fields.Integer(required=True)
    campaign = fields.String(required=True)
    contact = fields.String(required=True)
    grounds = fields.List(fields.Nested(GroundSchema), required=True, metadata={"description": "Grounds to object"})
    categories = fields.List(fields.Nested(NoticeCategorySchema), required=True,
                             metadata={"description": "Categories with a case in public notice"})  # fmt: skip


class NoticeQuerySchema(Schema):
    year = fields.Integer(validate=validate.Range(min=1900, max=9999),
                          metadata={"description": "The campaign's year (default: the current campaign)"})  # fmt: skip


class PublishNoticeSchema(Schema):
    category_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The category (omitted or null: the whole campaign)"},
    )
    starts_on = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "First day (default: today; the next working day if not one)"},
    )


class LodgeSchema(Schema):
    """One multipart/form-data body: the objection and its evidence."""

    phone = fields.String(
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": "The number verified for the X-Voter-Token (for the reply)"},
    )
    ground = fields.String(required=True, validate=validate.OneOf(list(objections.GROUNDS)))
    text = fields.String(
        required=True,
        validate=validate.Length(max=TEXT_MAX),
        metadata={"description": "The objection, at least 10 characters"},
    )
    anonymous = fields.Boolean(load_default=False, metadata={"description": "Do not tell the unit who objected"})
    files = fields.List(
        FileUpload(),
        load_default=list,
        validate=validate.Length(max=objections.MAX_FILES),
        metadata={"description": "Evidence: photos (JPEG, PNG) or PDF, checked from their bytes"},
    )


class LodgedSchema(Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    dossier_version = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The dossier version the objection is against"}
    )
    reference = fields.String(
        required=True, metadata={"description": "The number the objector quotes to the office (year-id, 26-0012)"}
    )
    message = fields.String(required=True)


class ObjectionFileSchema(Schema):
    id = fields.Integer(required=True)
    part = fields.String(
        required=True,
        validate=validate.OneOf(["grounds", "response"]),
        metadata={"description": "grounds: the objector's evidence; response: the unit's"},
    )
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    url = fields.String(required=True)


class ObjectionSchema(Schema):
    id = fields.Integer(required=True)
    case_id = fields.Integer(required=True)
    case_number = fields.String(required=True, allow_none=True)
    case_title = fields.String(required=True)
    notice_id = fields.Integer(required=True)
    ground = fields.String(required=True, validate=validate.OneOf(list(objections.GROUNDS)))
    ground_label = fields.String(required=True)
    text = fields.String(required=True)
    anonymous = fields.Boolean(required=True)
    objector = fields.String(
        required=True, allow_none=True, metadata={"description": "The masked number; null to the unit when anonymous"}
    )
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_label = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    forwarded_at = UtcDateTime(required=True, allow_none=True)
    forward_note = fields.String(required=True)
    response_due = fields.Date(required=True, allow_none=True)
    response = fields.String(required=True)
    responded_at = UtcDateTime(required=True, allow_none=True)
    reason = fields.String(required=True, metadata={"description": "Why upheld or dismissed (sent to the objector)"})
    decided_at = UtcDateTime(required=True, allow_none=True)
    moved_up_case_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The case proposed in its place, if one moved up"}
    )
    dossier_version = fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "The number of the dossier version it was lodged against (GET /cases/{id}/versions)"},
    )  # fmt: skip
    files = fields.List(fields.Nested(ObjectionFileSchema), required=True)


class ObjectionPageSchema(Schema):
    items = fields.List(fields.Nested(ObjectionSchema), required=True)
    pagination = fields.Nested(PageInfoSchema, required=True)


class ObjectionQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    case_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class ForwardSchema(Schema):
    note = fields.String(
        load_default="", validate=validate.Length(max=TEXT_MAX), metadata={"description": "What the unit should answer"}
    )
    due = fields.Date(load_default=None, allow_none=True, metadata={"description": "Response due by (required)"})


class AnswerSchema(Schema):
    """One multipart/form-data body: the unit's answer and its attachments."""

    response = fields.String(required=True, validate=validate.Length(max=TEXT_MAX))
    files = fields.List(FileUpload(), load_default=list, validate=validate.Length(max=objections.MAX_FILES),
                        metadata={"description": "Photos (JPEG, PNG) or PDF, checked from their bytes"})  # fmt: skip


class DecisionSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf([OBJECTION_UPHELD, OBJECTION_DISMISSED]))
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=TEXT_MAX),
        metadata={"description": "Required; sent to the objector"},
    )
    move_up = fields.Boolean(
        load_default=False,
        metadata={"description": "When upheld: propose the next case of the ranking, with a notice of its own"},
    )


class ConfirmProposedSchema(Schema):
    category_id = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Only this category (omitted or null: the campaign)"},
    )


class RefusedCaseSchema(Schema):
    case_id = fields.Integer(required=True)
    number = fields.String(required=True, allow_none=True)
    message = fields.String(required=True)
    reasons = fields.List(fields.String(), required=True)


class ConfirmedSchema(Schema):
    confirmed = fields.List(fields.Integer(), required=True, metadata={"description": "Cases now awarded"})
    refused = fields.List(
        fields.Nested(RefusedCaseSchema),
        required=True,
        metadata={"description": "Proposed awards not confirmable yet, with why"},
    )
    results_version = fields.Integer(
        required=True, allow_none=True, metadata={"description": "The published results' version, now showing them"}
    )


# Presentation -------------------------------------------------------------------------------------------


def _notice(item: Notice) -> dict[str, Any]:
    publisher = db.session.get(User, item.published_by_id) if item.published_by_id else None
    return {
        "id": item.id, "campaign_id": item.campaign_id, "category_id": item.category_id, "starts_on": item.starts_on,
        "ends_on": item.ends_on, "contact": item.contact, "published_at": item.published_at,
        "published_by": publisher.name if publisher else None, "case_ids": [e.case_id for e in item.entries],
    }  # fmt: skip


def _file(objection: Objection, item: ObjectionFile) -> dict[str, Any]:
    url = url_for("api_awards_notice.objection_file", objection_id=objection.id, file_id=item.id, _external=True)
    return {"id": item.id, "part": item.part, "filename": item.filename, "content_type": item.content_type,
            "size": item.size, "sha256": item.sha256, "url": url}  # fmt: skip


def _objection(item: Objection, actor: User) -> dict[str, Any]:
    return {
        "id": item.id, "case_id": item.case_id, "case_number": item.case.number, "case_title": item.case.title,
        "notice_id": item.notice_id, "ground": item.ground, "ground_label": str(objections.GROUNDS[item.ground]),
        "text": item.text, "anonymous": item.anonymous, "objector": objections.objector_shown(item, actor),
        "status": item.status, "status_label": str(objections.STATUS_LABELS[item.status]),
        "created_at": item.created_at, "forwarded_at": item.forwarded_at, "forward_note": item.forward_note,
        "response_due": item.response_due, "response": item.response, "responded_at": item.responded_at,
        "reason": item.reason, "decided_at": item.decided_at, "moved_up_case_id": item.moved_up_case_id,
        "dossier_version": item.dossier_version, "files": [_file(item, f) for f in item.files],
    }  # fmt: skip


def _uploads(files: list) -> list[objections.Upload]:
    return [objections.Upload(f.filename or "file", f.read()) for f in files]


def _campaign(campaign_id: int) -> Campaign:
    return found(Campaign, campaign_id, _("No such campaign."))


def _category(campaign: Campaign, category_id: int | None):
    if category_id is None:
        return None
    found = next((c for c in campaign.categories if c.id == category_id), None)
    if found is None:
        raise Invalid(_("Please correct the marked fields."), {"category_id": _("No such category in this campaign.")})
    return found


def _run(operation, *args, **kwargs):
    """Call an operation and commit; on refusal nothing is kept."""
    try:
        result = operation(*args, **kwargs)
        commit()
    except DomainError:
        rollback()
        raise
    return result


# Public -------------------------------------------------------------------------------------------------


@blp.route("/notice", methods=["GET"])
@blp.arguments(NoticeQuerySchema, location="query")
@blp.response(200, PublicNoticeSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def public_notice(args: dict[str, Any]):
    """The proposed awards in public notice, per category, with their dates and whether objections are accepted."""
    campaign = campaign_of_year(args.get("year"))
    categories = []
    for category, entries in notice.notice_listing(campaign):
        if not entries:
            continue
        cases = []
        for case, current in entries:
            refusal = objections.objection_window_error(case)
            cases.append({
                "case_id": case.id, "number": case.number, "title": case.title, "unit": case.unit.name,
                "starts_on": current.starts_on, "ends_on": current.ends_on, "accepting_objections": refusal is None,
                "refusal": refusal, "url": url_for("cases.detail", case_id=case.id, _external=True),
            })  # fmt: skip
        categories.append({"id": category.id, "name": pick(category, "name"), "award": pick(category, "award"),
                           "cases": cases})  # fmt: skip
    return {
        "campaign_id": campaign.id, "campaign": pick(campaign, "title"), "contact": campaign.notice_contact or "",
        "grounds": [{"key": key, "label": str(label)} for key, label in objections.GROUNDS.items()],
        "categories": categories,
    }  # fmt: skip


@blp.route("/cases/<int:case_id>/objections", methods=["POST"])
@blp.arguments(LodgeSchema, location="form_and_files")
@blp.response(201, LodgedSchema)
@refusals(blp, 404, 422, 429)
@blp.alt_response(409, "CONFLICT", description="Not in public notice, the notice is over, or today's limit reached")
@blp.doc(parameters=[{"in": "header", "name": abuse.VOTER_HEADER, "required": True, "schema": {"type": "string"},
                      "description": "The voter token of a number verified with POST /voters/verify"}])  # fmt: skip
@secured(blp, public=True)
@abuse.objection_limits
def lodge(form: dict[str, Any], case_id: int):
    """Object to a proposed award during its notice period, as a member of the public verified by a one-time code;
    the outcome is sent to the number by SMS."""
    voter_id = voter_from_token(request.headers.get(abuse.VOTER_HEADER))
    if voter_id is None:
        raise Unauthorized(_("Verify a mobile number first and send its voter token as X-Voter-Token."))
    case = get_case(case_id, None)
    lodged = _run(objections.lodge_objection, case, voter_id, form["phone"], form["ground"], form["text"],
                  anonymous=form["anonymous"], uploads=_uploads(form["files"]))  # fmt: skip
    return {"id": lodged.id, "case_id": case.id, "status": lodged.status, "dossier_version": lodged.dossier_version,
            "reference": objections.reference(lodged),
            "message": _("Your objection is recorded. You will be told the outcome by SMS.")}  # fmt: skip


# The office ---------------------------------------------------------------------------------------------


@blp.route("/campaigns/<int:campaign_id>/notices", methods=["GET"])
@blp.response(200, NoticeSchema(many=True))
@refusals(blp, 403, 404)
@secured(blp)
def list_notices(campaign_id: int):
    """The campaign's public notices, newest first, with the cases each lists (organizers)."""
    staff()
    return [_notice(n) for n in notice.notices(_campaign(campaign_id))]


@blp.route("/campaigns/<int:campaign_id>/notices", methods=["POST"])
@blp.arguments(PublishNoticeSchema)
@blp.response(201, NoticeSchema)
@refusals(blp, 403, 404, 422)
@blp.alt_response(409, "CONFLICT", description="No proposed award is waiting for a notice here")
@secured(blp)
def publish(data: dict[str, Any], campaign_id: int):
    """Publish the proposed awards not yet on a notice, of a category or of the whole campaign, for the campaign's
    notice period in working days (organizers)."""
    actor = staff()
    campaign = _campaign(campaign_id)
    published = _run(notice.publish_notice, campaign, actor, _category(campaign, data["category_id"]),
                     data["starts_on"])  # fmt: skip
    return _notice(published)


@blp.route("/campaigns/<int:campaign_id>/objections", methods=["GET"])
@blp.arguments(ObjectionQuerySchema, location="query")
@blp.response(200, ObjectionPageSchema)
@refusals(blp, 403, 404)
@secured(blp)
def list_objections(args: dict[str, Any], campaign_id: int):
    """The campaign's objections, newest first, by status or case (organizers)."""
    actor = staff()
    campaign = _campaign(campaign_id)
    query = (select(Objection).join(Case, Case.id == Objection.case_id).where(Case.campaign_id == campaign.id)
             .order_by(Objection.id.desc()))  # fmt: skip
    if "status" in args:
        query = query.where(Objection.status == args["status"])
    if "case_id" in args:
        query = query.where(Objection.case_id == args["case_id"])
    items, pagination = paginate(query, args["page"], args["per_page"])
    return {"items": [_objection(o, actor) for o in items], "pagination": pagination}


@blp.route("/cases/<int:case_id>/objections", methods=["GET"])
@blp.response(200, ObjectionSchema(many=True))
@refusals(blp, 403, 404)
@secured(blp)
def case_objections(case_id: int):
    """A case's objections: all of them for organizers, the ones forwarded to it for the case's unit."""
    actor = require_actor()
    return [_objection(o, actor) for o in objections.case_objections(get_case(case_id, actor), actor)]


@blp.route("/objections/<int:objection_id>", methods=["GET"])
@blp.response(200, ObjectionSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def get_objection(objection_id: int):
    """One objection: organizers any, the case's unit once it is forwarded (never the number of an anonymous
    objector); anything else is not found."""
    actor = require_actor()
    return _objection(objections.visible_objection(objection_id, actor), actor)


@blp.route("/objections/<int:objection_id>/files/<int:file_id>", methods=["GET"])
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type="application/octet-stream",
                  description="The file's bytes", success=True)  # fmt: skip
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def objection_file(objection_id: int, file_id: int):
    """A file of an objection (evidence or the unit's answer), for whoever may read the objection: the office
    as lodged, the unit a picture as a re-encoded copy without metadata (EXIF, GPS, XMP, comments)."""
    actor = require_actor()
    served = objections.served_file(objections.visible_objection(objection_id, actor), file_id, actor)
    return storage.send(served.sha256, served.content_type, served.filename)


@blp.route("/objections/<int:objection_id>/forward", methods=["POST"])
@blp.arguments(ForwardSchema)
@blp.response(200, ObjectionSchema)
@refusals(blp, 403, 404, 422)
@blp.alt_response(409, "CONFLICT", description="Already forwarded or decided")
@secured(blp)
def forward(data: dict[str, Any], objection_id: int):
    """Ask the case's unit to answer the objection by a due date (organizers)."""
    actor = require_actor()
    objection = objections.visible_objection(objection_id, actor)
    _run(objections.forward_objection, objection, actor, data["note"], data["due"])
    return _objection(objection, actor)


@blp.route("/objections/<int:objection_id>/answer", methods=["POST"])
@blp.arguments(AnswerSchema, location="form_and_files")
@blp.response(200, ObjectionSchema)
@refusals(blp, 403, 404, 422)
@blp.alt_response(409, "CONFLICT", description="Not waiting for the unit's answer")
@secured(blp)
def answer(form: dict[str, Any], objection_id: int):
    """The case's unit answers an objection forwarded to it, with attachments if it likes."""
    actor = require_actor()
    objection = objections.visible_objection(objection_id, actor)
    _run(objections.answer_objection, objection, actor, form["response"], _uploads(form["files"]))
    return _objection(objection, actor)


@blp.route("/objections/<int:objection_id>/decision", methods=["POST"])
@blp.arguments(DecisionSchema)
@blp.response(200, ObjectionSchema)
@refusals(blp, 403, 404, 422)
@blp.alt_response(409, "CONFLICT", description="Already decided, or no case can move up")
@secured(blp)
def decide(data: dict[str, Any], objection_id: int):
    """Uphold (the proposed award is revoked; ``move_up`` proposes the next case of the ranking with a notice of
    its own) or dismiss, with a reason; the objector is told the outcome by SMS (organizers)."""
    actor = require_actor()
    objection = objections.visible_objection(objection_id, actor)
    _run(objections.decide_objection, objection, actor, data["outcome"] == OBJECTION_UPHELD, data["reason"],
         move_up=data["move_up"])  # fmt: skip
    return _objection(objection, actor)


@blp.route("/campaigns/<int:campaign_id>/proposed-awards/confirm", methods=["POST"])
@blp.arguments(ConfirmProposedSchema)
@blp.response(200, ConfirmedSchema)
@refusals(blp, 403, 404)
@blp.alt_response(409, "CONFLICT", description="No proposed award to confirm")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY", description="None can be confirmed yet; reasons per case")
@secured(blp)
def confirm(data: dict[str, Any], campaign_id: int):
    """Confirm every proposed award whose notice is over with no objection undecided; the results are published.
    The others stay proposed and are listed with why; when none can be confirmed, 422 with the reasons."""
    actor = require_actor()
    campaign = _campaign(campaign_id)
    outcomes = _run(confirm_proposed, campaign, actor, _category(campaign, data["category_id"]))
    refused = [{"case_id": o.case.id, "number": o.case.number, "message": o.error.message,
                "reasons": o.error.reasons or [o.error.message]} for o in outcomes if o.error is not None]  # fmt: skip
    confirmed = [o.case.id for o in outcomes if o.error is None]
    if not confirmed:
        raise Invalid(
            _("No proposed award can be confirmed yet."),
            reasons=[f"{r['number'] or r['case_id']}: {reason}" for r in refused for reason in r["reasons"]],
        )
    latest = publication.latest(campaign.id)
    return {"confirmed": confirmed, "refused": refused, "results_version": latest.version if latest else None}
