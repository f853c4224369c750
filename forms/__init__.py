"""WTForms classes of the pages, one module per domain.

Forms carry CSRF, confirmation fields and rendering; business rules stay in operations. A view passes the
form's data to an operation and shows the operation's ``Invalid.field_errors`` next to the fields with
``show_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm


def show_errors(form: FlaskForm, field_errors: Mapping[str, str], names: Mapping[str, str] | None = None) -> list[str]:
    """Attach each operation error to its form field; return the messages that belong to no field.

    ``names`` maps an operation's field name to the form's field name where they differ.
    """
    leftover: list[str] = []
    for key, message in field_errors.items():
        field = getattr(form, (names or {}).get(key, key), None)
        if field is None or not hasattr(field, "errors"):
            leftover.append(str(message))
            continue
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        if str(message) not in field.errors:
            field.errors.append(str(message))
    return leftover


def int_or_none(value: object) -> int | None:
    """A select's value as an id: empty means none, anything not a number becomes an id that never exists."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
