"""Cases: listing what the caller may view, drafting, editing, attachments and the timeline."""

from __future__ import annotations

from typing import Any

import flask
from flask_smorest import Blueprint
from marshmallow import Schema
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from api.auth import api_blueprint, current_actor, require_actor, secured
from api.present import attachment as present_attachment
from api.present import case_detail, case_summary, dossier_version, event, paginate, version_diff
from api.schemas import (
    AttachmentPatchSchema,
    AttachmentSchema,
    AttachmentUploadSchema,
    CaseInputSchema,
    CaseListQuerySchema,
    CasePageSchema,
    CasePatchSchema,
    CaseSchema,
    DossierVersionSchema,
    EventSchema,
    VersionDiffSchema,
)
from cases.models import Case
from cases.operations import (
    attach_file,
    create_case,
    get_attachment,
    get_case,
    remove_attachment,
    served_file,
    set_visibility,
    update_case,
)
from cases.versions import compare, versions
from pingxuan import storage
from pingxuan.db import commit
from workflow.definition import VERSIONS
from workflow.history import events as case_events
from workflow.history import may_see_history
from workflow.worklists import visible_cases_query


class _Parser(FlaskParser):
    """Adds a ``form_and_files`` location, so one schema describes a whole multipart/form-data body."""

    __location_map__ = {**FlaskParser.__location_map__, "form_and_files": "load_form_and_files"}

    def load_form_and_files(self, req: flask.Request, schema: Schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


blp = api_blueprint("api_cases", __name__, "Cases: dossiers, attachments and their timeline")
blp.ARGUMENTS_PARSER = _Parser()
blp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
    **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
    "form_and_files": "multipart/form-data",
}

BINARY = {"type": "string", "format": "binary"}


@blp.route("/cases", methods=["GET"])
@blp.arguments(CaseListQuerySchema, location="query")
@blp.response(200, CasePageSchema)
@secured(blp, public=True)
def list_cases(args: dict[str, Any]):
    """Cases the caller may view, newest first (anonymous callers see the public ones)."""
    actor = current_actor()
    query = visible_cases_query(actor, (args["state"],) if "state" in args else None)
    if "category" in args:
        query = query.where(Case.category_id == args["category"])
    if "campaign" in args:
        query = query.where(Case.campaign_id == args["campaign"])
    items, pagination = paginate(query, args["page"], args["per_page"])
    return {"items": [case_summary(case) for case in items], "pagination": pagination}


@blp.route("/cases", methods=["POST"])
@blp.arguments(CaseInputSchema)
@blp.response(201, CaseSchema)
@blp.alt_response(403, "FORBIDDEN")
@secured(blp)
def create_draft(data: dict[str, Any]):
    """Start a draft for the caller's unit in the current campaign; drafts may be incomplete."""
    actor = require_actor()
    case = create_case(actor, data)
    commit()
    return case_detail(case, actor)


@blp.route("/cases/<int:case_id>", methods=["GET"])
@blp.response(200, CaseSchema)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def get_one(case_id: int):
    """The dossier with its state, attachments and the workflow actions the caller may take now."""
    actor = current_actor()
    return case_detail(get_case(case_id, actor), actor)


@blp.route("/cases/<int:case_id>", methods=["PATCH"])
@blp.arguments(CasePatchSchema)
@blp.response(200, CaseSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(409, "CONFLICT")
@secured(blp)
def edit(data: dict[str, Any], case_id: int):
    """Change dossier fields while the state lets the caller edit; all fields are saved or none."""
    actor = require_actor()
    data = dict(data)
    version = data.pop("version", None)
    case = get_case(case_id, actor)
    update_case(case, actor, data, expected_version=version)
    commit()
    return case_detail(case, actor)


@blp.route("/cases/<int:case_id>/attachments", methods=["POST"])
@blp.arguments(AttachmentUploadSchema, location="form_and_files")
@blp.response(201, AttachmentSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def upload_attachment(form: dict[str, Any], case_id: int):
    """Attach a photo (JPEG, PNG) or a document (PDF, JPEG, PNG); the type is checked from the bytes."""
    actor = require_actor()
    case = get_case(case_id, actor)
    upload = form["file"]
    item = attach_file(case, actor, form["kind"], upload.filename or "", upload.read(), form.get("visibility"))
    commit()
    return present_attachment(item)


@blp.route("/cases/<int:case_id>/attachments/<int:attachment_id>", methods=["PATCH"])
@blp.arguments(AttachmentPatchSchema)
@blp.response(200, AttachmentSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@blp.alt_response(422, "UNPROCESSABLE_ENTITY")
@secured(blp)
def change_attachment(data: dict[str, Any], case_id: int, attachment_id: int):
    """Make an attachment public or private while the case is editable (the unit's choice)."""
    actor = require_actor()
    item = set_visibility(get_case(case_id, actor), actor, attachment_id, data["visibility"])
    commit()
    return present_attachment(item)


@blp.route("/cases/<int:case_id>/attachments/<int:attachment_id>", methods=["GET"])
@blp.alt_response(
    200, schema=BINARY, content_type="application/octet-stream", description="The file's bytes", success=True
)
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def download_attachment(case_id: int, attachment_id: int):
    """Download an attachment of a case the caller may view: a private one only for the unit, its reviewers and
    the office (anyone else: 404); a picture for the public as its copy without EXIF."""
    actor = current_actor()
    case = get_case(case_id, actor)
    served = served_file(case, get_attachment(case, attachment_id, actor), actor)
    response = storage.send(served.sha256, served.content_type, served.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/cases/<int:case_id>/attachments/<int:attachment_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def delete_attachment(case_id: int, attachment_id: int):
    """Remove an attachment while the case is editable."""
    actor = require_actor()
    remove_attachment(get_case(case_id, actor), actor, attachment_id)
    commit()


@blp.route("/cases/<int:case_id>/events", methods=["GET"])
@blp.response(200, EventSchema(many=True))
@blp.alt_response(404, "NOT_FOUND")
@secured(blp, public=True)
def timeline(case_id: int):
    """The case's workflow events, oldest first."""
    actor = current_actor()
    case = get_case(case_id, actor)
    insider = may_see_history(actor, case)
    return [event(item, actor, insider) for item in case_events(case)]


@blp.route("/cases/<int:case_id>/versions", methods=["GET"])
@blp.response(200, DossierVersionSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def list_versions(case_id: int):
    """The dossier as each submission and resubmission froze it, oldest first: for the office and the unit."""
    case = get_case(case_id, require_actor(), VERSIONS)
    return [dossier_version(item) for item in versions(case)]


@blp.route("/cases/<int:case_id>/versions/<int:old>/diff/<int:new>", methods=["GET"])
@blp.response(200, VersionDiffSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def diff_versions(case_id: int, old: int, new: int):
    """What changed from version ``old`` to version ``new``, field by field (text character by character) and
    attachment by attachment; the same diff the case's versions page shows."""
    case = get_case(case_id, require_actor(), VERSIONS)
    return version_diff(case, compare(case, old, new))
