"""Asking before an action that cannot be undone or that acts on many things.

A button carries ``data-confirm="what will happen"`` (``static/csp.js`` shows it; when the person agrees the
form is sent with ``confirmed=1``). The view checks ``confirmed()`` before it acts: a form sent without it
(no JavaScript, a second tab, a script) gets a page that says what will happen and asks again, with the
same fields. Nothing is done until the person says yes.
"""

from __future__ import annotations

from flask import render_template, request
from markupsafe import Markup


def confirmed() -> bool:
    return request.form.get("confirmed") == "1"


def ask(message: str, details: list[str] | None = None, cancel_url: str | None = None, button: str | None = None):
    """The confirmation page for the form just posted: it posts the same fields again with ``confirmed=1``."""
    fields = [(name, value) for name, values in request.form.lists() for value in values if name != "confirmed"]
    return render_template(
        "confirm.html",
        message=Markup.escape(message),
        details=details or [],
        fields=fields,
        action=request.full_path.rstrip("?"),
        cancel_url=cancel_url or request.referrer or "/",
        button=button,
    )
