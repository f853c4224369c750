"""Writing a campaign archive: the campaign's rows as JSON Lines, its stored files once each, a signed manifest.

The file is a ZIP (readable with any tool, for decades):
``manifest.json`` (what is inside, with the SHA-256 of every entry), ``manifest.sig`` (HMAC-SHA256 of the
manifest with the installation's secret key), ``tables/<table>.jsonl`` (one row per line, sorted by primary key)
and ``files/<sha256>`` (each stored file once). The manifest's own SHA-256 is what the office publishes: anyone
holding the archive can then check that nothing in it changed, without the secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, text

from accounts.models import User
from accounts.permissions import require_staff
from archives import rows as archive_rows
from archives.models import DONE, FAILED, CampaignArchive
from campaigns.models import Campaign
from pingxuan import storage
from pingxuan.db import utcnow
from pingxuan.errors import NotFound
from pingxuan.extensions import db
from pingxuan.queue import enqueue

# Format 2 writes every time with its offset (+00:00); format 1 wrote naive UTC, and is still read (archives.rows).
FORMAT, FORMAT_VERSION = "pingxuan-campaign-archive", 2
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"


@dataclass
class Written:
    path: Path
    manifest_sha256: str
    tables: dict[str, int]
    files: int
    missing_files: list[str]


def sign(manifest: bytes) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), manifest, hashlib.sha256).hexdigest()


def key_fingerprint() -> str:
    """Which key signs this installation's archives, without revealing it: an installation that finds its own
    fingerprint in a manifest holds the signing key, and then the signature decides (archives.verify)."""
    return sign(b"pingxuan archive signing key")[:16]


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    lines = (json.dumps({k: archive_rows.to_json(v) for k, v in row.items()}, ensure_ascii=False, sort_keys=True)
             for row in rows)  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def schema_revision() -> str | None:
    try:
        return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # a database built without migrations (never in production)
        db.session.rollback()
        return None


def write_archive(campaign: Campaign, target: Path) -> Written:
    """Write the archive of ``campaign`` to ``target``; files are copied one at a time, never all in memory."""
    selected = archive_rows.campaign_rows(campaign.id)
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "campaign": {"id": campaign.id, "year": campaign.year, "title_zh": campaign.title_zh,
                     "title_en": campaign.title_en},
        "created_at": archive_rows.to_json(utcnow()), "schema_revision": schema_revision(), "key": key_fingerprint(),
        "tables": {}, "files": {}, "missing_files": [],
    }  # fmt: skip
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, table_rows in selected.items():
            data = _jsonl(table_rows)
            archive.writestr(f"tables/{name}.jsonl", data)
            manifest["tables"][name] = {"rows": len(table_rows), "sha256": hashlib.sha256(data).hexdigest()}
        for digest in sorted(archive_rows.stored_files(selected)):
            try:
                data = storage.read(digest)
            except (FileNotFoundError, ValueError):
                manifest["missing_files"].append(digest)
                continue
            archive.writestr(zipfile.ZipInfo(f"files/{digest}"), data, compress_type=zipfile.ZIP_STORED)
            manifest["files"][digest] = len(data)
        body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        archive.writestr(MANIFEST, body)
        archive.writestr(SIGNATURE, sign(body))
    return Written(target, hashlib.sha256(body).hexdigest(), {k: v["rows"] for k, v in manifest["tables"].items()},
                   len(manifest["files"]), manifest["missing_files"])  # fmt: skip


def request_archive(campaign: Campaign, actor: User) -> CampaignArchive:
    """From the back office: record the request and make the archive in a background task."""
    require_staff(actor)
    record = CampaignArchive(campaign_id=campaign.id, created_by_id=actor.id)
    db.session.add(record)
    db.session.flush()
    enqueue("archives.make_archive", record.id)
    return record


def archives_of(campaign: Campaign, actor: User) -> list[CampaignArchive]:
    """The campaign's archives, newest first."""
    require_staff(actor)
    return list(db.session.scalars(select(CampaignArchive).where(CampaignArchive.campaign_id == campaign.id)
                                   .order_by(CampaignArchive.id.desc())))  # fmt: skip


def finished_archive(archive_id: int, actor: User) -> CampaignArchive:
    """An archive that is made (its file in storage); any other is not found."""
    require_staff(actor)
    record = db.session.get(CampaignArchive, archive_id)
    if record is None or record.status != DONE or not record.sha256:
        raise NotFound(_("No such archive."))
    return record


def file_name(record: CampaignArchive) -> str:
    return f"pingxuan-{record.campaign.year}-archive-{record.id}.zip"


def make_archive(record_id: int) -> CampaignArchive:
    """Write the archive to a temporary file, then keep it in storage; a failure is recorded, to be retried."""
    record = db.session.get(CampaignArchive, record_id)
    if record is None:
        raise NotFound(_("No such archive."))
    handle, name = tempfile.mkstemp(suffix=".zip")
    os.close(handle)
    try:
        written = write_archive(record.campaign, Path(name))
        with open(name, "rb") as written_file:
            record.sha256 = storage.store_stream(written_file)[0]
        record.manifest_sha256, record.size = written.manifest_sha256, Path(name).stat().st_size
        record.status, record.error = DONE, None
    except Exception as error:  # shown to the organizer beside the request
        record.status, record.error = FAILED, f"{type(error).__name__}: {error}"
    finally:
        Path(name).unlink(missing_ok=True)
    record.finished_at = utcnow()
    db.session.flush()
    return record
