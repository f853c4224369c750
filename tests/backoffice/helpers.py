"""Helpers shared by the back-office tests."""

from __future__ import annotations

import re

from flask import Flask

from backoffice.cases import CaseView


def admin(app: Flask):
    return app.extensions["admin"][0]


def case_view(app: Flask) -> CaseView:
    return next(v for v in admin(app)._views if isinstance(v, CaseView))


def in_english(client) -> None:
    """Assertions on messages read the English msgids, whatever Chinese the lead fills in later."""
    with client.session_transaction() as session:
        session["locale"] = "en"


def text(response) -> str:
    return response.get_data(as_text=True)


def outcome_rows(html: str) -> dict[int, bool]:
    """{case id: moved?} from the result table of the transition page."""
    return {int(i): ok == "yes" for i, ok in re.findall(r'data-case="(\d+)" data-ok="(yes|no)"', html)}
