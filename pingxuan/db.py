"""The unit of work: one commit per request, side effects dispatched only after it succeeds.

And the few tools that let the database, not a check in Python, settle what parallel requests race for: a row
locked until the commit (``locked``), a unique constraint's refusal turned into a clear answer (``unique_or``),
savepoints that behave alike on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from pingxuan.errors import DomainError
from pingxuan.extensions import db

M = TypeVar("M")

log = logging.getLogger(__name__)
_PENDING = "pingxuan.after_commit"


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current transaction commits; drop it if the transaction rolls back."""
    db.session.info.setdefault(_PENDING, []).append(callback)


def commit() -> None:
    """Commit the session, then run the callbacks queued by operations (mail, Celery tasks)."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        discard_pending()
        raise
    pending = db.session.info.pop(_PENDING, [])
    for callback in pending:
        try:
            callback()
        except Exception:  # a failed notification must not turn a committed action into an error page
            log.exception("after-commit callback failed")


def rollback() -> None:
    db.session.rollback()
    discard_pending()


def discard_pending() -> None:
    db.session.info.pop(_PENDING, None)


def _begin_writing() -> None:
    """SQLite: begin the transaction now, holding the database's write lock (BEGIN IMMEDIATE).

    The sqlite3 driver begins a transaction only at the first INSERT/UPDATE, so a SAVEPOINT before any would start
    one that its RELEASE commits, and a lock taken by reading would be no lock. Writers take turns on SQLite
    anyway; this only makes the turn start here. Nothing to do on PostgreSQL.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def locked(model: type[M], key: Any) -> M | None:
    """The row, freshly read, with its write lock held until the transaction ends: a parallel request doing the
    same waits here, then reads what this one committed (SELECT … FOR UPDATE; on SQLite the database's lock)."""
    _begin_writing()
    return db.session.get(model, key, with_for_update=True, populate_existing=True)


def is_unique_violation(error: BaseException) -> bool:
    """A unique constraint refused the row: a parallel request wrote the same one first."""
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) == "23505" or getattr(original, "sqlite_errorname", None) in (
        "SQLITE_CONSTRAINT_UNIQUE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
    )


@contextmanager
def unique_or(refusal: Callable[[], DomainError]) -> Iterator[None]:
    """Write the block's rows in a savepoint; when a unique constraint refuses them (a parallel request wrote the
    same after this one checked), undo just that and raise ``refusal()`` (called after the undo, so it may read
    what the other request committed to say which field is taken)."""
    try:
        with savepoint():
            yield
            db.session.flush()
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        raise refusal() from error


@contextmanager
def savepoint() -> Iterator[None]:
    """A SAVEPOINT for one item of a bulk action: its rollback also drops the side effects it queued."""
    _begin_writing()
    pending = db.session.info.setdefault(_PENDING, [])
    mark = len(pending)
    nested = db.session.begin_nested()
    try:
        yield
    except Exception:
        nested.rollback()
        del pending[mark:]
        raise
    nested.commit()
