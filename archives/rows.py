"""Which rows of the database make up one campaign, and how a row is written to and read from JSON.

Derived from the schema, not listed by hand, so a table added later is archived without changing this module:
- a row is **owned** by the campaign when one of its foreign keys points at an owned row (campaign → its
  categories → their cases → ballots, reviews, events, …);
- a row is **referenced** when an archived row points at it (the units, users, organizations and voters the
  campaign's rows name), and a row **extends** an archived one when its primary key is a foreign key to it
  (an expert's profile beside their user row);
- what is neither (other campaigns, API tokens, invitations, one-time codes, the mail and SMS outboxes) stays
  out. Voters are kept as their keyed phone hash only; people's password hashes are replaced by a mark that
  matches no password, so a restored archive lets nobody in until they reset their password.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from pingxuan.extensions import db

# The record of archives made is not part of one; the SMS outbox points at its campaign (for the office's costs) but
# holds masked numbers and delivery records, not the selection.
NOT_ARCHIVED = frozenset({"campaign_archives", "sms_messages"})
SCRUBBED = {("users", "password_hash"): "!archived"}  # matches no password hash format


def tables() -> list[sa.Table]:
    """Every table of the schema in dependency order (a parent before the tables pointing at it)."""
    return [t for t in db.metadata.sorted_tables if t.name not in NOT_ARCHIVED]


def _key(table: sa.Table) -> list[sa.Column]:
    return list(table.primary_key.columns)


def _select_in(table: sa.Table, column: sa.Column, values: set) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    ordered = sorted(values, key=repr)
    for start in range(0, len(ordered), 500):  # bounded IN lists
        chunk = ordered[start : start + 500]
        query = sa.select(table).where(column.in_(chunk))
        found.extend(dict(row._mapping) for row in db.session.execute(query))
    return found


def campaign_rows(campaign_id: int) -> dict[str, list[dict[str, Any]]]:
    """The campaign's rows, per table, each table's rows sorted by primary key."""
    every = tables()
    by_name = {t.name: t for t in every}
    picked: dict[str, dict[tuple, dict[str, Any]]] = {t.name: {} for t in every}

    def add(table: sa.Table, rows: list[dict[str, Any]]) -> bool:
        grew = False
        for row in rows:
            key = tuple(row[c.name] for c in _key(table))
            if key not in picked[table.name]:
                picked[table.name][key] = row
                grew = True
        return grew

    def values(table_name: str, column: str) -> set:
        return {row[column] for row in picked[table_name].values() if row[column] is not None}

    campaigns = by_name["campaigns"]
    add(campaigns, _select_in(campaigns, campaigns.c.id, {campaign_id}))
    owned = {"campaigns"}
    for table in every:  # dependency order: a parent's owned rows are known before its children are looked at
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            keys = values(parent, fk.column.name) if parent in owned and parent != table.name else set()
            if keys and add(table, _select_in(table, fk.parent, keys)):
                owned.add(table.name)
    grew = True
    while grew:  # the rows they point at, and the rows extending those, until nothing new comes in
        grew = False
        for table in every:
            for fk in table.foreign_keys:
                parent = by_name.get(fk.column.table.name)
                wanted = values(table.name, fk.parent.name) - values(fk.column.table.name, fk.column.name)
                if parent is not None and wanted:
                    grew |= add(parent, _select_in(parent, fk.column, wanted))
            for fk in table.foreign_keys:
                if fk.parent.primary_key and fk.column.table.name in by_name and fk.column.table.name != table.name:
                    wanted = values(fk.column.table.name, fk.column.name) - values(table.name, fk.parent.name)
                    if wanted:
                        grew |= add(table, _select_in(table, fk.parent, wanted))
    return {name: [scrub(name, rows[k]) for k in sorted(rows, key=repr)] for name, rows in picked.items() if rows}


def scrub(table: str, row: dict[str, Any]) -> dict[str, Any]:
    return {c: SCRUBBED.get((table, c), v) for c, v in row.items()}


def to_json(value: Any) -> Any:
    """A value as JSON. A time states its zone (``2017-05-20T06:30:00+00:00``): the database keeps naive UTC, and
    an archive is read decades later by people and tools that cannot know that."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def from_json(column: sa.Column, value: Any) -> Any:
    """The inverse of ``to_json``, led by the column's type. A time comes back as the naive UTC the database
    keeps: one with an offset is moved to UTC; one without (archives of format 1) already was UTC."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.DateTime):
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    if isinstance(kind, sa.Date):
        return date.fromisoformat(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Decimal(value)
    if isinstance(kind, sa.LargeBinary):
        return base64.b64decode(value)
    return value


HASH_NOT_A_FILE = frozenset({"result_renderings"})  # the row holds its bytes; its sha256 is their ETag, not storage


def stored_files(rows: dict[str, list[dict[str, Any]]]) -> set[str]:
    """The SHA-256 of every stored file the rows name (columns called ``sha256`` or ``*_sha256``)."""
    found: set[str] = set()
    for table, table_rows in rows.items():
        if table in HASH_NOT_A_FILE:
            continue
        for row in table_rows:
            for column, value in row.items():
                if (column == "sha256" or column.endswith("_sha256")) and isinstance(value, str) and len(value) == 64:
                    found.add(value)
    return found
