"""Celery entry point for workers: ``celery -A pingxuan.worker worker``."""

from pingxuan import create_app

app = create_app()
celery = app.extensions["celery"]
