"""The caller's in-app notifications."""

from __future__ import annotations

from typing import Any

from api.auth import api_blueprint, require_actor, secured
from api.schemas import NotificationListSchema, NotificationQuerySchema
from notifications.operations import list_notifications, mark_all_read, unread_count
from pingxuan.db import commit
from pingxuan.i18n import pick

blp = api_blueprint("api_notifications", __name__, "In-app notifications")


@blp.route("/notifications", methods=["GET"])
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationListSchema)
@secured(blp)
def notifications(args: dict[str, Any]):
    """The caller's latest notifications, newest first, in the request's language."""
    user = require_actor()
    items = [
        {
            "id": note.id,
            "case_id": note.case_id,
            "link": note.link or (f"/cases/{note.case_id}" if note.case_id else None),
            "message": pick(note, "message"),
            "created_at": note.created_at,
            "read_at": note.read_at,
        }
        for note in list_notifications(user, args["limit"])
    ]
    return {"unread": unread_count(user), "items": items}


@blp.route("/notifications/read", methods=["POST"])
@blp.response(204)
@secured(blp)
def mark_read():
    """Mark every notification of the caller as read."""
    mark_all_read(require_actor())
    commit()
