"""Celery tasks of awards: one certificate per task, so a batch runs in parallel and fails per certificate."""

from __future__ import annotations

from celery import shared_task

from awards.certificates import render_certificate as _render
from pingxuan.db import commit


@shared_task(name="awards.render_certificate")
def render_certificate(certificate_id: int) -> str:
    certificate = _render(certificate_id)
    commit()
    return certificate.status
