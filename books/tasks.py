"""Celery task of meeting books: one book per task, so a run renders in parallel and fails per book."""

from __future__ import annotations

from celery import shared_task

from books.operations import render_book as _render
from pingxuan.db import commit


@shared_task(name="books.render_book")
def render_book(book_id: int) -> str:
    book = _render(book_id)
    commit()
    return book.status
