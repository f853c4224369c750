"""Reading an archive back: its integrity (hashes and signature) and the restore into an empty database."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from archives import rows as archive_rows
from archives.export import FORMAT, FORMAT_VERSION, MANIFEST, SIGNATURE, sign
from pingxuan import storage
from pingxuan.errors import Conflict, Invalid
from pingxuan.extensions import db
from pingxuan.signing import same_secret


@dataclass
class Integrity:
    manifest: dict[str, Any]
    manifest_sha256: str
    signature_valid: bool
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Every entry is the one the manifest names (the signature is judged separately)."""
        return not self.problems


def check_integrity(path: Path) -> Integrity:
    """Recompute the hash of every entry and compare with the manifest; check the manifest's signature."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise Invalid(_("This file is not a campaign archive: %(error)s", error=str(error))) from error
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names:
            raise Invalid(_("This file is not a campaign archive: it has no manifest."))
        body = archive.read(MANIFEST)
        try:
            manifest = json.loads(body)
        except ValueError as error:
            raise Invalid(_("The archive's manifest is damaged.")) from error
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise Invalid(_("This file is not a campaign archive: its manifest has another format."))
        version = manifest.get("format_version")
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:  # a newer one may mean other things
            raise Invalid(_("This archive is in format %(version)s; this installation reads formats 1 to %(latest)d. "
                            "Verify or restore it with the version of pingxuan that made it, or a newer one.",
                            version=version, latest=FORMAT_VERSION))  # fmt: skip
        signature = archive.read(SIGNATURE).decode(errors="replace") if SIGNATURE in names else ""
        result = Integrity(manifest, hashlib.sha256(body).hexdigest(), same_secret(sign(body), signature))
        expected = {f"tables/{t}.jsonl": meta["sha256"] for t, meta in manifest.get("tables", {}).items()}
        expected |= {f"files/{digest}": digest for digest in manifest.get("files", {})}
        for name in sorted(names - expected.keys() - {MANIFEST, SIGNATURE}):
            result.problems.append(_("%(name)s is in the archive but not in its manifest.", name=name))
        for name, digest in sorted(expected.items()):
            if name not in names:
                result.problems.append(_("%(name)s is missing from the archive.", name=name))
                continue
            actual = hashlib.sha256()
            try:
                with archive.open(name) as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):  # noqa: B023  (read at once)
                        actual.update(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError):
                result.problems.append(_("%(name)s is damaged: it cannot be read back.", name=name))
                continue
            if actual.hexdigest() != digest:
                result.problems.append(_("%(name)s has been changed since the archive was made.", name=name))
        for digest in manifest.get("missing_files", []):
            result.problems.append(_("The file %(sha)s was already missing when the archive was made.", sha=digest))
    return result


def table_rows(archive: zipfile.ZipFile, table: str) -> Iterator[dict[str, Any]]:
    with archive.open(f"tables/{table}.jsonl") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_rows(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> dict[str, int]:
    """Insert every archived row into the current database, parents first, keeping the ids."""
    archived = manifest.get("tables", {})
    known = {t.name: t for t in archive_rows.tables()}
    unknown = sorted(set(archived) - set(known))
    if unknown:
        raise Invalid(_("The archive holds tables this version does not know: %(names)s", names=", ".join(unknown)))
    loaded: dict[str, int] = {}
    for table in archive_rows.tables():
        if table.name not in archived:
            continue
        batch: list[dict[str, Any]] = []
        for row in table_rows(archive, table.name):
            extra = set(row) - set(table.c.keys())
            if extra:
                raise Invalid(_("The archive's %(table)s rows have columns this version does not know: %(names)s",
                                table=table.name, names=", ".join(sorted(extra))))  # fmt: skip
            batch.append({name: archive_rows.from_json(table.c[name], value) for name, value in row.items()})
            if len(batch) == 1000:
                db.session.execute(table.insert(), batch)
                batch = []
        if batch:
            db.session.execute(table.insert(), batch)
        loaded[table.name] = archived[table.name]["rows"]
    _reset_sequences(loaded)
    return loaded


def _reset_sequences(tables: dict[str, int]) -> None:
    """On PostgreSQL, rows inserted with their ids leave the id sequences behind: move them past the ids."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in archive_rows.tables():
        id_column = table.c.get("id")
        if table.name in tables and id_column is not None and isinstance(id_column.type, sa.Integer):
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            ))  # fmt: skip


def database_is_empty() -> bool:
    return all(db.session.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is None
               for t in archive_rows.tables())  # fmt: skip


def import_archive(path: Path) -> dict[str, int]:
    """Restore an archive into an empty database. Refused, with nothing changed, unless every entry matches the
    manifest and the manifest carries this installation's signature (the same secret key also keeps the
    certificates' signatures and the voters' hashes valid after the move)."""
    integrity = check_integrity(path)
    if not integrity.intact:
        raise Invalid(_("The archive failed verification; nothing was imported."), reasons=integrity.problems)
    if not integrity.signature_valid:
        raise Invalid(_("The archive's signature does not match this installation's secret key; nothing was "
                        "imported. Restore it where PINGXUAN_SECRET_KEY is the one it was made with."))  # fmt: skip
    if not database_is_empty():
        raise Conflict(_("An archive is restored into an empty database only; this one has data."))
    with zipfile.ZipFile(path) as archive:
        loaded = load_rows(archive, integrity.manifest)
        for digest in integrity.manifest.get("files", {}):
            if storage.store(archive.read(f"files/{digest}")) != digest:
                raise Invalid(_("A file of the archive does not match its name."))
    db.session.flush()
    return loaded
