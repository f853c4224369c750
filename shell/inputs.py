"""Hostile input becomes a clear 4xx, never a 500: huge integers, deeply nested JSON, lone surrogates.

Three layers: integers in paths are bounded by the converter (out of range: 404, like any unknown id); JSON
bodies are checked once before any view parses them (nesting depth, unpaired surrogates, integers beyond
what a column holds); and whatever still reaches the database out of range (an integer in a query string or a
form, PostgreSQL's 32-bit columns) is answered 422 instead of an OverflowError or DataError.
"""

from __future__ import annotations

import json

from flask import Flask, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError
from werkzeug.routing import IntegerConverter

from pingxuan.db import rollback
from pingxuan.errors import DomainError, Invalid

INT_MAX = 2**31 - 1  # PostgreSQL's integer; every id column fits
JSON_INT_MAX = 2**53  # integers beyond this are not exact in JSON clients either; bigger is refused outright
MAX_DEPTH = 32


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` that matches only 0…2^31-1: a larger id is simply not found (the OpenAPI document says so)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (werkzeug's signature)
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


class BadJson(DomainError):
    status = 400


def _depth_exceeds(text: str, limit: int) -> bool:
    """Scan brackets outside strings without recursing (``json.loads`` recurses and raises RecursionError)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _problem(value: object) -> str | None:
    """The first thing in a parsed JSON document a column cannot hold, as a message (iteratively)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _("The text contains invalid characters (an unpaired surrogate).")
            if "\x00" in item:
                return _("The text contains a NUL character.")
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > JSON_INT_MAX:
            return _("A number is out of range.")
    return None


def check_body() -> None:
    """Refuse, before any view runs, what no column can store."""
    if request.form and any("\x00" in value for value in request.form.values()):
        raise Invalid(_("The text contains a NUL character."))
    if not request.is_json:
        return
    text = request.get_data(cache=True, as_text=True)
    if not text:
        return
    if _depth_exceeds(text, MAX_DEPTH):
        raise BadJson(_("The JSON document is nested too deeply (at most %(n)d levels).", n=MAX_DEPTH))
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return  # not JSON: the view's parser answers with its own 400/422
    if message := _problem(document):
        raise Invalid(message)


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: the ``int`` converter must be in place when the rules are built."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(check_body)

    def answer(refusal: DomainError):
        rollback()  # PostgreSQL refuses anything more in the failed transaction (the error page reads the user)
        return app.handle_user_exception(refusal)

    def out_of_range(_error: Exception):
        return answer(Invalid(_("A value is out of range or too long.")))

    def too_deep(_error: Exception):
        return answer(BadJson(_("The request is nested too deeply.")))

    def bad_text(_error: Exception):
        return answer(Invalid(_("The text contains invalid characters (an unpaired surrogate).")))

    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, out_of_range)
    app.register_error_handler(RecursionError, too_deep)
    app.register_error_handler(UnicodeEncodeError, bad_text)
