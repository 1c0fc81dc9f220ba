"""Time in the office's zone: Asia/Shanghai (UTC+8), the one zone Hetu uses.

Every timestamp the ledger stores is ISO-8601 with ``+08:00``; a naive time
means Beijing time; "today" is today in Beijing, wherever the machine runs.
:func:`implausible` is the one bound on the dates and times of things that
happened (an issue date, a transition, a survey fix): from :data:`EARLIEST`
to tomorrow.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
#: The earliest plausible date of anything Hetu records (remote-sensing patches, patrols).
EARLIEST = dt.date(2000, 1, 1)


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
    try:
        return value.astimezone(TZ).replace(microsecond=0).isoformat()
    except OverflowError as exc:  # year 1 or 9999 moved into +08:00
        raise ValueError(f"{value.isoformat()} is out of the calendar's range") from exc


def as_date(value: dt.date | str | None) -> dt.date:
    """Return a date from a date, a datetime or an ISO text; ``None`` means today here."""
    if value is None:
        return dt.datetime.now(TZ).date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def implausible(value: dt.datetime | dt.date | str) -> str | None:
    """Say why a date or time cannot be when something happened; ``None`` when it can.

    A record's date lies from :data:`EARLIEST` (2000-01-01) to tomorrow in
    Beijing (a day of slack for clocks and zones): the one bound every input's
    dates and times are checked against.

    Parameters
    ----------
    value : datetime, date or str
        A date, a time (naive means Asia/Shanghai) or its ISO text.

    Returns
    -------
    str or None
        E.g. ``"2205-01-01 is after tomorrow (2026-12-02)"``; the caller adds
        the file, row and field, or the option, and the fix.

    Raises
    ------
    ValueError
        When ``value`` is a text that is no ISO date or time.
    """
    if isinstance(value, str):
        text = value.strip()
        value = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    day = value
    if isinstance(value, dt.datetime):
        try:
            day = value.astimezone(TZ).date() if value.tzinfo else value.date()
        except OverflowError:  # at the ends of the calendar: its own date tells
            day = value.date()
    latest = as_date(None) + dt.timedelta(days=1)
    shown = value.isoformat()
    if day < EARLIEST:
        return f"{shown} is before {EARLIEST.isoformat()}"
    if day > latest:
        return f"{shown} is after tomorrow ({latest.isoformat()})"
    return None
