"""Time in the office's zone: Asia/Shanghai (UTC+8), the one zone Hetu uses.

Every timestamp the ledger stores is ISO-8601 with ``+08:00``; a naive time
means Beijing time; "today" is today in Beijing, wherever the machine runs.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """Return the current time in Asia/Shanghai, to the second."""
    return dt.datetime.now(TZ).replace(microsecond=0)


def as_time(value: dt.datetime | dt.date | str | None) -> str:
    """Normalise a time to ISO-8601 with the +08:00 offset (naive means Asia/Shanghai)."""
    if value is None:
        return now().isoformat()
    if isinstance(value, str):
        value = (
            dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
        )
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(9, 0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=TZ)
    return value.astimezone(TZ).replace(microsecond=0).isoformat()


def as_date(value: dt.date | str | None) -> dt.date:
    """Return a date from a date, a datetime or an ISO text; ``None`` means today here."""
    if value is None:
        return dt.datetime.now(TZ).date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
