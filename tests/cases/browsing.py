"""A test client that behaves like a browser between requests: only cookies carry over.

The ``app`` fixture keeps one application context open for the whole test, and Flask's ``g`` lives there, so
Flask-Login's cached user and Flask-Babel's cached locale would leak from one request (or from factory code
run between requests) into the next. This client drops those caches before every request.
"""

from __future__ import annotations

from flask import Flask, g
from flask.testing import FlaskClient

PER_REQUEST_CACHES = ("_login_user", "_flask_babel")


class BrowserLikeClient(FlaskClient):
    def open(self, *args, **kwargs):
        for name in PER_REQUEST_CACHES:
            g.pop(name, None)
        try:
            return super().open(*args, **kwargs)
        finally:
            for name in PER_REQUEST_CACHES:
                g.pop(name, None)


def english_client(app: Flask) -> FlaskClient:
    """Pages in English, so assertions read the msgids whatever the Chinese catalogue holds."""
    app.test_client_class = BrowserLikeClient
    client = app.test_client()
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client
