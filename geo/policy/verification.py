"""核查 and 认定 as rules: the 核查 deadline, the deadline a state is entered with. Pure, no I/O.

Defaults and where they come from (docs/architecture.md, Deadlines in every state):

- **核查期限** ``[lifecycle] verify_days = 25`` working days from 下发 (or a batch's own
  ``hetu ingest … --verify-by DATE``). No national rule fixes it; the default is the
  practice the seeds and county reports show for a whole batch: 松溪县 checked its
  488 patches from 4月1日 to 5月5日 2023 (25 working days), 山东 its 6,382 in the three
  weeks after they were issued at the end of August 2020.
- **整改期限** at 认定: the office's ``[[lifecycle.deadline]]`` rules (``rectify_days``),
  counted from the 认定 day and kept when 整改 starts.
- **监管复查日期** of 挂账监管 ``[lifecycle] review_days = 90`` days: each 挂账 item is
  looked at again every quarter, as the 回头看 rounds of 长寿区 (河湖库地物遥感图斑核查
  "回头看"分类判定要点表, 2025) and 五河县 (698 historic patches) do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geo.policy.lifecycle import DeadlineRule, deadline_for, rectify_days
from geo.policy.workdays import WorkCalendar

__all__ = [
    "PROBLEM_STATES",
    "REVIEW_DAYS",
    "VERIFIED_STATES",
    "VERIFY_DAYS",
    "VERIFY_STATES",
    "entry_deadline",
    "stage_of",
    "verify_deadline",
]

#: The states of 核查 (a patch issued and not yet decided).
VERIFY_STATES = frozenset({"issued", "verifying", "proposed"})
#: States of a patch 认定 as a problem (问题图斑: the base of 整改销号率).
PROBLEM_STATES = frozenset({"confirmed", "monitored", "rectifying", "rectified", "closed"})
#: States past 核查 (已核查: the numerator of 核查完成率).
VERIFIED_STATES = PROBLEM_STATES | {"dismissed"}

#: Default working days from 下发 to 核查 done (松溪县 2023, see the module).
VERIFY_DAYS = 25
#: Default days between reviews of a 挂账监管 problem (a quarter).
REVIEW_DAYS = 90


def stage_of(state: str) -> str:
    """The stage a state's deadline belongs to: ``verify`` 核查, ``review`` 监管, ``rectify``."""
    if state in VERIFY_STATES:
        return "verify"
    return "review" if state == "monitored" else "rectify"


def _day(value: Any) -> dt.date | None:
    """The date of an ISO date or time, ``None`` for a missing value (None, NaN, "")."""
    if value is None or value == "" or value != value:
        return None
    if isinstance(value, dt.date):
        return value if not isinstance(value, dt.datetime) else value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def verify_deadline(
    issued_on: Any,
    *,
    verify_by: Any = None,
    days: int = VERIFY_DAYS,
    calendar: WorkCalendar | None = None,
) -> str | None:
    """Return the 核查 deadline of a patch (ISO day), or ``None`` without an issue day.

    Parameters
    ----------
    issued_on : date or str
        The day the patch was issued (下发).
    verify_by : date or str, optional
        The batch's own deadline (``--verify-by``); wins when given.
    days : int
        Working days (with ``calendar``, else calendar days) from 下发.
    calendar : WorkCalendar, optional
        The office's working days.
    """
    explicit = _day(verify_by)
    if explicit is not None:
        return explicit.isoformat()
    start = _day(issued_on)
    if start is None:
        return None
    return deadline_for(start, days, calendar=calendar).isoformat()


def entry_deadline(
    *,
    target: str,
    source: str,
    current: str | None,
    day: dt.date,
    issue_type: str | None,
    level: str | None,
    settings: Any,
) -> str:
    """Return the deadline a patch gets on entering ``target`` (a deadline state).

    ``monitored`` gets its 监管 review date (``settings.review_days``); a move from
    ``confirmed`` into ``rectifying`` keeps the 整改期限 set at 认定 (``current``);
    otherwise the office's rectification rules apply, counted from ``day``.
    """
    calendar = settings.calendar
    if target == "monitored":
        days = getattr(settings, "review_days", REVIEW_DAYS)
        return deadline_for(day, days, calendar=None).isoformat()
    if source == "confirmed" and target == "rectifying" and current:
        return current
    rules: tuple[DeadlineRule, ...] = settings.deadline_rules
    days = rectify_days(rules, issue_type=issue_type, level=level, default=settings.rectify_days)
    return deadline_for(day, days, calendar=calendar).isoformat()
