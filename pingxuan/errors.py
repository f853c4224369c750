"""Errors that business operations raise; pages, API, admin and CLI translate them, never re-check them."""

from __future__ import annotations


class DomainError(Exception):
    """A refused request: ``message`` for people, ``field_errors`` per input field, ``status`` for HTTP."""

    status = 400

    def __init__(self, message: str, field_errors: dict[str, str] | None = None, reasons: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = dict(field_errors or {})
        self.reasons = list(reasons or [])

    def to_dict(self) -> dict:
        body: dict = {"message": self.message}
        if self.field_errors:
            body["errors"] = self.field_errors
        if self.reasons:
            body["reasons"] = self.reasons
        return body


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422


class Unavailable(DomainError):
    """A service the request needs refused it for reasons of ours (an SMS gateway's account, its templates)."""

    status = 503
