"""Requests racing each other: threads released together, and a hook that holds each thread's first write to a
table until every thread has read what it is about to change (so a check-then-write shows its race every time)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from pingxuan.extensions import db


def parallel(count: int, work: Callable[[int], object]) -> list:
    """Run ``work(i)`` in ``count`` threads released together; their results (or exceptions) in order."""
    barrier = threading.Barrier(count, timeout=30)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # surfaced by the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return results


@contextmanager
def first_writes_together(table: str, count: int, inserts_into: tuple[str, ...] = ()) -> Iterator[None]:
    """Hold each thread's first UPDATE of ``table`` (or INSERT into one of ``inserts_into``: the write a rule
    checked by reading comes down to before its fix) until ``count`` threads are there (the app's engine)."""
    barrier, local = threading.Barrier(count, timeout=30), threading.local()
    prefixes = (f"UPDATE {table.upper()} ", *(f"INSERT INTO {name.upper()} " for name in inserts_into))

    def hold(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith(prefixes) and not getattr(local, "held", False):
            local.held = True
            barrier.wait()

    sa.event.listen(db.engine, "before_cursor_execute", hold)
    try:
        yield
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", hold)
