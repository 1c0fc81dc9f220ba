"""Working days on the Chinese calendar: deadlines and overdue days.

Public holidays and 调休 make-up working days come from the chinese-calendar
package for the years it knows (2004–2026 in 1.11.0), then from the office's
settings (``[calendar] holidays`` and ``workdays``, copied from the State
Council's notice each autumn). A date in a year neither knows falls back to
Monday–Friday with a :class:`CalendarWarning`, never a crash.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar


class CalendarWarning(UserWarning):
    """A date beyond every known holiday arrangement was counted Monday–Friday."""


@lru_cache(maxsize=4096)
def _package_workday(day: dt.date) -> bool | None:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days.

    Attributes
    ----------
    holidays : frozenset of date
        Extra days off (the office's entry of a year the package lacks).
    workdays : frozenset of date
        Extra working days (调休 make-up days on weekends).
    years : frozenset of int
        Years the office's lists cover completely; in them a weekday not in
        ``holidays`` is a working day.
    """

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    workdays: frozenset[dt.date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def from_lists(
        cls, *, holidays: Iterable[str | dt.date] = (), workdays: Iterable[str | dt.date] = ()
    ) -> WorkCalendar:
        """Build a calendar from ISO date lists; the years they mention count as covered."""
        hol = frozenset(_as_date(d) for d in holidays)
        work = frozenset(_as_date(d) for d in workdays)
        return cls(hol, work, frozenset(d.year for d in hol | work))

    def is_workday(self, day: dt.date) -> bool:
        """Return whether ``day`` is a working day."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        known = None if day.year in self.years else _package_workday(day)
        if known is not None:
            return known
        if day.year not in self.years:
            warnings.warn(
                f"no holiday arrangement known for {day.year}: counted Monday–Friday; "
                f"add the State Council's {day.year} notice to [calendar] in hetu.toml",
                CalendarWarning,
                stacklevel=3,
            )
        return day.weekday() < 5

    def add(self, start: dt.date, days: int) -> dt.date:
        """Return the date ``days`` working days after ``start`` (``start`` itself not counted)."""
        day, left = start, days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Return the working days after ``start`` up to and including ``end`` (0 if none)."""
        n, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            n += self.is_workday(day)
        return n


def _as_date(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
