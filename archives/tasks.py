"""Celery task of archives: a campaign's archive is made in the background (it copies every stored file)."""

from __future__ import annotations

from celery import shared_task

from archives.export import make_archive as _make
from pingxuan.db import commit


@shared_task(name="archives.make_archive")
def make_archive(record_id: int) -> str:
    record = _make(record_id)
    commit()
    return record.status
