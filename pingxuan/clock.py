"""The campaign's local calendar and the one way times, dates and deadlines are shown.

Windows and cut-offs are dates in the city's time zone (``PINGXUAN_TIMEZONE``). The database keeps naive UTC
times; every page, mail and export shows them through :func:`shown` (to the minute, in the campaign's zone, the
zone named), dates through :func:`day` and what is left of a deadline through :func:`left`. The templates get
them as the filters ``when``, ``day`` and ``left`` (``shell/web.py``; Flask-Babel's ``datetimeformat`` and
``dateformat`` are the same functions there, so no page can show another format). The API keeps RFC 3339 with
the offset (``api.fields.UtcDateTime``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import ngettext

DEFAULT_TZ = "Asia/Shanghai"


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE", DEFAULT_TZ) if has_app_context() else DEFAULT_TZ)


def local_now() -> datetime:
    return datetime.now(zone())


def today() -> date:
    return local_now().date()


def local(moment: datetime) -> datetime:
    """A stored time (naive UTC) or an aware one, in the campaign's zone."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone())


def zone_label(moment: datetime | None = None) -> str:
    """The zone's name as shown after a time: its offset from UTC then (``UTC+8``, ``UTC+5:45``)."""
    offset = local(moment or datetime.now(UTC)).utcoffset() or timedelta(0)
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    return f"UTC{'+' if offset >= timedelta(0) else '-'}{hours}" + (f":{minutes:02d}" if minutes else "")


def shown(moment: datetime | date | None, *_ignored: object, **_also_ignored: object) -> str:
    """A stored time (naive UTC, as the database keeps it) in the campaign's zone, to the minute, with the zone
    named: what a page, mail or export shows a person. One format in every language (``2017-05-20 14:30
    UTC+8``). A date alone is shown as :func:`day` shows it."""
    if moment is None or moment == "":
        return ""
    if not isinstance(moment, datetime):
        return day(moment)
    return f"{local(moment):%Y-%m-%d %H:%M} {zone_label(moment)}"


def day(value: date | datetime | None, *_ignored: object, **_also_ignored: object) -> str:
    """A date (a deadline, a window's end) in the one date format: ``2017-05-20``. A stored time is first put
    in the campaign's zone, so its day is the local one."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = local(value).date()
    return f"{value:%Y-%m-%d}"


def days_left(deadline: date, on: date | None = None) -> int:
    """Whole days from today (the campaign's) to the deadline: 0 on the day itself, negative once it passed."""
    return (deadline - (on or today())).days


def left(deadline: date | datetime | None, on: date | None = None) -> str:
    """What is left of a deadline, in words: "3 days left", "due today", "overdue by 2 days"."""
    if deadline is None or deadline == "":
        return ""
    if isinstance(deadline, datetime):
        deadline = local(deadline).date()
    n = days_left(deadline, on)
    if n > 0:
        return ngettext("%(num)d day left", "%(num)d days left", n)
    if n == 0:
        return _("due today")
    return ngettext("overdue by %(num)d day", "overdue by %(num)d days", -n)


def size(n: int | None) -> str:
    """A file's size as a reader says it: "721 bytes", "0.7 KB", "2.3 MB" (in the reader's language)."""
    if n is None:
        return ""
    if int(n) < 1000:
        return ngettext("%(num)d byte", "%(num)d bytes", int(n))
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"
