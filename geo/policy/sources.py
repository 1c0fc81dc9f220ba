"""Where a problem came from (问题来源) and the clock each source sets. Pure, no I/O.

A county 河长办 keeps one 问题清单 fed by many sources: the province's remote-sensing
batches (上级下发), its own 自查, 巡河 findings, the 12345 hotline, 举报, 明查暗访, 督查,
上级交办 items and 媒体曝光. A patch stores who found it in its ``attrs`` under
``source`` (the Chinese name, e.g. ``12345``); :func:`source_of` maps that value to a
code of :data:`SOURCE_CODES` (the old value ``survey`` of survey patches reads as
巡河).

The deadlines of a problem from a source (``[problems]`` in ``hetu.toml``, per source
in ``[problems.sources."12345"]``), counted in working days from 受理:

- **办结** ``close_days = 10`` for a general case, ``close_days_major = 20`` for a 重大
  one: 澧县 河长制 投诉举报 rule (一般问题 10 个工作日内办结, 重大问题 20 个工作日内);
  it goes on the problem's issue event, like the 核查 deadline of a batch, so overdue
  days and the escalation ladder work on it;
- **受理** ``accept_days = 1``: 广东 10101101 河湖 热线 (1 个工作日内受理);
- **反馈** ``feedback_days = 10``: 福建 96133 (10 个工作日内反馈).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geo.errors import SettingsError
from geo.policy.lifecycle import deadline_for
from geo.policy.workdays import WorkCalendar

__all__ = [
    "PROBLEM_SOURCES",
    "SOURCE_CODES",
    "SOURCE_PREFIX",
    "ProblemRules",
    "SourceClock",
    "problem_rules_from_toml",
    "source_code",
    "source_deadlines",
    "source_of",
]

#: Every source code and the name a patch's ``attrs["source"]`` holds (the Chinese label
#: is :data:`geo.labels.SOURCES`). ``issued`` is a province batch (no ``source``).
SOURCE_CODES: dict[str, str] = {
    "issued": "上级下发",
    "selfcheck": "自查",
    "survey": "巡河",
    "hotline": "12345",
    "report": "举报",
    "undercover": "暗访",
    "inspection": "督查",
    "assigned": "上级交办",
    "media": "媒体",
    "other": "其他",
}
#: The sources ``hetu ingest LEDGER problems FILE --source`` accepts (by name).
PROBLEM_SOURCES: tuple[str, ...] = (
    "12345", "举报", "暗访", "督查", "上级交办", "巡河", "媒体", "其他",
)  # fmt: skip
#: The patch id prefix of each problem source (pinyin initials), so that a 受理编号
#: never collides with a province 图斑编号 or another source's number.
SOURCE_PREFIX: dict[str, str] = {
    "hotline": "RX",
    "report": "JB",
    "undercover": "AF",
    "inspection": "DC",
    "assigned": "JZ",
    "survey": "XH",
    "media": "MT",
    "other": "QT",
}
#: Other values read as a source (older ledgers, the hotline's own names).
_ALIASES = {"survey": "survey", "巡查": "survey", "巡查发现": "survey", "热线": "hotline",
            "12345热线": "hotline", "群众举报": "report", "明查暗访": "undercover",
            "媒体曝光": "media"}  # fmt: skip
_BY_NAME = {name: code for code, name in SOURCE_CODES.items()} | _ALIASES


def source_of(name: str | None) -> str:
    """The source code of a patch's ``attrs["source"]`` (``issued`` when it names none).

    A value no source knows is ``issued`` too: Hetu writes only the names of
    :data:`SOURCE_CODES`, so another value is a column of the province's own file.
    """
    if name is None or not str(name).strip():
        return "issued"
    return _BY_NAME.get(str(name).strip(), "issued")


def source_code(name: str) -> str | None:
    """The code of a problem source given by name (``12345`` → ``hotline``), else None."""
    code = _BY_NAME.get(str(name).strip())
    return code if code is not None and SOURCE_CODES[code] in PROBLEM_SOURCES else None


@dataclass(frozen=True)
class SourceClock:
    """The working days of one source: 受理, 反馈, 办结 (一般 / 重大)."""

    accept_days: int = 1
    feedback_days: int = 10
    close_days: int = 10
    close_days_major: int = 20


@dataclass(frozen=True)
class ProblemRules:
    """The ``[problems]`` settings: the default clock, per-source clocks, point circles.

    Attributes
    ----------
    clock : SourceClock
        The default clock (澧县 10/20, 广东 1, 福建 10 working days; module doc).
    sources : mapping
        Source code → its own clock, where the office sets one.
    point_buffer_m : float
        Radius of the circle a case given as a point is drawn as (m): the site of a
        complaint is an address, not an outline.
    """

    clock: SourceClock = field(default_factory=SourceClock)
    sources: Mapping[str, SourceClock] = field(default_factory=dict)
    point_buffer_m: float = 20.0

    def clock_of(self, code: str) -> SourceClock:
        """The clock of a source code (its own, else the default)."""
        return self.sources.get(code, self.clock)


_CLOCK_KEYS = ("accept_days", "feedback_days", "close_days", "close_days_major")


def problem_rules_from_toml(table: Mapping[str, Any], *, source: str) -> ProblemRules:
    """Build :class:`ProblemRules` from the checked ``[problems]`` table.

    Raises
    ------
    SettingsError
        For a ``[problems.sources.NAME]`` that names no problem source.
    """
    base = SourceClock(**{k: table[k] for k in _CLOCK_KEYS if k in table})
    own = {}
    for name, spec in table.get("sources", {}).items():
        code = source_code(name)
        if code is None:
            raise SettingsError(
                f"{source}: [problems.sources.{name}] is not a problem source; "
                f"use one of {', '.join(PROBLEM_SOURCES)}"
            )
        own[code] = SourceClock(**{k: spec.get(k, getattr(base, k)) for k in _CLOCK_KEYS})
    return ProblemRules(base, own, float(table.get("point_buffer_m", 20.0)))


def source_deadlines(
    received: dt.date,
    *,
    code: str,
    major: bool,
    rules: ProblemRules,
    calendar: WorkCalendar | None,
) -> dict[str, str]:
    """The 受理, 反馈 and 办结 deadlines (ISO days) of a case received on ``received``.

    Working days on ``calendar`` (the office's; ``None`` counts calendar days), the
    receiving day itself not counted.
    """
    clock = rules.clock_of(code)
    close = clock.close_days_major if major else clock.close_days
    return {
        "accept_by": deadline_for(received, clock.accept_days, calendar=calendar).isoformat(),
        "feedback_by": deadline_for(received, clock.feedback_days, calendar=calendar).isoformat(),
        "close_by": deadline_for(received, close, calendar=calendar).isoformat(),
    }
