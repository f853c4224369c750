"""Celery entry point for workers: ``celery -A shell.worker worker``.

Celery's ``-A`` looks for an attribute named ``app`` first and then ``celery``: the Flask app must therefore
not be called ``app`` here, or Celery picks it up and fails with "'Flask' object has no attribute ...".
"""

from shell import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
