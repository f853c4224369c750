"""Campaign archives through the API (administrators): make one in the background, list them with their hashes,
download one, as in the back office (Audit → Campaign archives). Scope area ``campaign``."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from marshmallow import Schema, fields

from accounts.permissions import require_admin
from api.auth import api_blueprint, require_actor, secured
from api.fields import UtcDateTime
from archives import export
from archives.models import DONE, CampaignArchive
from campaigns.models import Campaign
from pingxuan import storage
from pingxuan.db import commit
from pingxuan.errors import NotFound
from pingxuan.extensions import db

blp = api_blueprint("api_campaign_archives", __name__, "Campaign archives (administrators)")
ZIP = {"type": "string", "format": "binary"}


class ArchiveSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    status = fields.String(metadata={"description": "pending, done or failed"})
    created_at = UtcDateTime()
    created_by_id = fields.Integer(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)
    size = fields.Integer(allow_none=True, metadata={"description": "Bytes of the ZIP"})
    sha256 = fields.String(allow_none=True, metadata={"description": "SHA-256 of the ZIP"})
    manifest_sha256 = fields.String(
        allow_none=True, metadata={"description": "SHA-256 of its manifest: what the office publishes"}
    )
    error = fields.String(allow_none=True)
    download = fields.String(allow_none=True, metadata={"description": "Where to download it once done"})


def _archive(record: CampaignArchive) -> dict[str, Any]:
    done = record.status == DONE and record.sha256
    return {
        **{name: getattr(record, name) for name in ("id", "campaign_id", "status", "created_at", "created_by_id",
                                                    "finished_at", "size", "sha256", "manifest_sha256", "error")},
        "download": url_for("api_campaign_archives.download", archive_id=record.id) if done else None,
    }  # fmt: skip


def _campaign(campaign_id: int) -> Campaign:
    require_admin(require_actor())
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


@blp.route("/campaigns/<int:campaign_id>/archives", methods=["GET"])
@blp.response(200, ArchiveSchema(many=True))
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def list_archives(campaign_id: int):
    """The campaign's archives, newest first, with their hashes."""
    return [_archive(r) for r in export.archives_of(_campaign(campaign_id), require_actor())]


@blp.route("/campaigns/<int:campaign_id>/archives", methods=["POST"])
@blp.response(201, ArchiveSchema)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def create_archive(campaign_id: int):
    """Make the campaign's archive in the background (every row and stored file, signed manifest); poll the list
    until its status is done, then download it."""
    record = export.request_archive(_campaign(campaign_id), require_actor())
    commit()
    db.session.refresh(record)  # made already when the queue runs tasks at once
    return _archive(record)


@blp.route("/archives/<int:archive_id>/download", methods=["GET"])
@blp.alt_response(200, schema=ZIP, content_type="application/zip", description="The archive", success=True)
@blp.alt_response(403, "FORBIDDEN")
@blp.alt_response(404, "NOT_FOUND")
@secured(blp)
def download(archive_id: int):
    """The archive's ZIP (404 until it is made)."""
    record = export.finished_archive(archive_id, require_admin(require_actor()))
    return storage.send(record.sha256, "application/zip", export.file_name(record))
