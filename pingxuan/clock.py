"""The campaign's local calendar: windows and cut-offs are dates in the city's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TZ = "Asia/Shanghai"


def local_now() -> datetime:
    tz = current_app.config.get("TIMEZONE", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ
    return datetime.now(ZoneInfo(tz))


def today() -> date:
    return local_now().date()


def shown(moment: datetime | None) -> str:
    """A stored time (naive UTC, as the database keeps it) in the campaign's zone, to the minute, with the zone
    named: what a page, mail or export shows a person."""
    if moment is None:
        return ""
    tz = ZoneInfo(current_app.config.get("TIMEZONE", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ)
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    zone = f"UTC{'+' if offset >= timedelta(0) else '-'}{abs(hours)}" + (f":{minutes:02d}" if minutes else "")
    return f"{local:%Y-%m-%d %H:%M} {zone}"
