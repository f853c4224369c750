"""The unit of work: one commit per request, side effects dispatched only after it succeeds."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from pingxuan.extensions import db

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


@contextmanager
def savepoint() -> Iterator[None]:
    """A SAVEPOINT for one item of a bulk action: its rollback also drops the side effects it queued."""
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
