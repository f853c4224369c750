"""Field types shared by every schema of the API.

The database stores naive UTC datetimes (``pingxuan.db.utcnow``); marshmallow would print them without an
offset, which the OpenAPI ``date-time`` format (RFC 3339) does not allow and which a client in Beijing would
read as local time. Every datetime of the API goes through :class:`UtcDateTime`; tests/api/test_datetimes.py
walks the OpenAPI document and fails on any other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields
from werkzeug.datastructures import FileStorage


class UtcDateTime(fields.DateTime):
    """An RFC 3339 datetime that always carries its offset: naive values are UTC, as the database keeps them."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        """Accept any offset; hand the operations the naive UTC datetime the database stores."""
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed


class FileUpload(Upload):
    """A multipart file; a plain text field of the same name is a 422 ("choose a file"), not an AttributeError."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ValidationError(_("Choose a file to upload."))
        return value
