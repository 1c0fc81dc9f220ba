"""How often, how long and how far a river chief must patrol (巡河), as published rules say.

Pure rules (no data): a :class:`PatrolRule` per chief level, the presets taken from
published local rules, and the calendar periods a rule is counted in. The counting over
tracks is :func:`geo.field.patrols.patrol_report`.

**Per river.** Every rule below counts patrols of each river (河湖) a chief is responsible
for, not patrols of the chief: 丁湖镇 says "对每条责任河湖巡河至少1次", and a chief of three
rivers who walks one of them every week has patrolled one.

**Presets** (``[patrols] preset`` in ``hetu.toml``; the default is ``"aheqi"``):

- ``aheqi`` — 阿合奇县水利局《巡河要求》(2022-06-14): 县级 每季度不少于1次; 乡级 3–12月每月不少于
  1次; 村级 3–12月每周不少于1次; every patrol at least 30 minutes, and for 乡、村级 at least
  2 km.
- ``dinghu`` — 泗县丁湖镇《巡河工作具体要求》: 镇级 每月对每条责任河湖至少1次; 村级 每月至少2次;
  at least 5 minutes and 300 m.
- ``guangzhou`` — 《广州市河长湖长巡查河湖指导意见》(穗河长办〔2021〕49号, as reported by 广州日报
  2021-07-06): 市级 每季度不少于1次; 村居级 (no warning) 每旬不少于1天次; at least 10 minutes and
  1 km; a 河长助理 may patrol for a chief. 区级 and 镇街级 frequencies depend on the river's
  warning level and are not published in that report.

A level a preset does not name takes the ``aheqi`` rule, and a level no published rule
names (province, city in the county presets) takes :data:`FALLBACK` — every report says
which rule and source each row was counted by.

**Periods** are calendar periods: ISO weeks (Monday–Sunday), 旬 (days 1–10, 11–20,
21–end), months, quarters, half years, years. A period is judged in the report in which it
**ends**, over all its days (a June report judges the second quarter with the patrols of
April to June; an April report judges April and the weeks ending in April, not the
quarter), so consecutive reports judge every period once. Only periods in the rule's
months count (by the middle day for weeks and 旬; by any of its months for longer periods).
Patrols are counted as days: the tracks a patrol app splits one walk into count once per
day and river.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geo.errors import SettingsError, check_keys
from geo.labels import LEVELS

__all__ = [
    "DEFAULT_PRESET",
    "FALLBACK",
    "PERIODS",
    "PRESETS",
    "PatrolRule",
    "PatrolRules",
    "counted_periods",
    "patrol_rules",
]

#: Period names and how a person reads them.
PERIODS: dict[str, str] = {
    "week": "每周",
    "ten_days": "每旬",
    "month": "每月",
    "quarter": "每季度",
    "half_year": "每半年",
    "year": "每年",
}
_ALL_MONTHS = tuple(range(1, 13))
_MARCH_TO_DECEMBER = tuple(range(3, 13))


@dataclass(frozen=True)
class PatrolRule:
    """One level's patrol duty on each of its rivers.

    Attributes
    ----------
    per : str
        The period (a key of :data:`PERIODS`).
    times : int
        Patrol days required in each period.
    months : tuple of int
        The months the duty applies in (阿合奇: March to December).
    min_minutes, min_km : float
        The shortest patrol that counts (0: no minimum).
    source : str
        The published rule it comes from.
    """

    per: str = "month"
    times: int = 1
    months: tuple[int, ...] = _ALL_MONTHS
    min_minutes: float = 0.0
    min_km: float = 0.0
    source: str = ""

    def describe(self) -> str:
        """The rule as an office writes it: ``3–12月每周不少于1次，每次不少于30分钟、2公里``."""
        when = "" if self.months == _ALL_MONTHS else _months_text(self.months)
        text = f"{when}{PERIODS[self.per]}不少于{self.times}次"
        least = []
        if self.min_minutes:
            least.append(f"{self.min_minutes:g}分钟")
        if self.min_km:
            least.append(f"{self.min_km:g}公里")
        return text + (f"，每次不少于{'、'.join(least)}" if least else "")


def _months_text(months: tuple[int, ...]) -> str:
    ms = sorted(months)
    if ms == list(range(ms[0], ms[-1] + 1)):
        return f"{ms[0]}–{ms[-1]}月"
    return "、".join(str(m) for m in ms) + "月"


_AHEQI = "阿合奇县水利局《巡河要求》（2022年6月14日）"
_DINGHU = "泗县丁湖镇《巡河工作具体要求》"
_GUANGZHOU = "《广州市河长湖长巡查河湖指导意见》（穗河长办〔2021〕49号）"

#: The presets, by name: chief level to rule.
PRESETS: dict[str, dict[str, PatrolRule]] = {
    "aheqi": {
        "county": PatrolRule("quarter", 1, min_minutes=30, source=_AHEQI),
        "township": PatrolRule("month", 1, _MARCH_TO_DECEMBER, 30, 2.0, _AHEQI),
        "village": PatrolRule("week", 1, _MARCH_TO_DECEMBER, 30, 2.0, _AHEQI),
    },
    "dinghu": {
        "township": PatrolRule("month", 1, min_minutes=5, min_km=0.3, source=_DINGHU),
        "village": PatrolRule("month", 2, min_minutes=5, min_km=0.3, source=_DINGHU),
    },
    "guangzhou": {
        "city": PatrolRule("quarter", 1, min_minutes=10, min_km=1.0, source=_GUANGZHOU),
        "village": PatrolRule("ten_days", 1, min_minutes=10, min_km=1.0, source=_GUANGZHOU),
    },
}
#: The preset used when the office names none.
DEFAULT_PRESET = "aheqi"
#: Levels no published county rule names: a city chief as 广州 counts him, a province
#: chief twice a year (Hetu's own choice, kept from Hetu 0.1; set it in ``hetu.toml``).
FALLBACK: dict[str, PatrolRule] = {
    "city": PRESETS["guangzhou"]["city"],
    "province": PatrolRule("half_year", 1, source="河图默认（无公开规定，请在设置中改为本地规定）"),
}

_RULE_KEYS = ("per", "times", "months", "min_minutes", "min_km")


def _rule_from_toml(
    level: str, table: Mapping[str, Any], base: PatrolRule, source: str
) -> PatrolRule:
    check_keys(table, _RULE_KEYS, where=f"{source}: [patrols.levels.{level}]")
    per = table.get("per", base.per)
    if per not in PERIODS:
        raise SettingsError(
            f"{source}: [patrols.levels.{level}] per must be one of {', '.join(PERIODS)}, "
            f"got {per!r}"
        )
    times = table.get("times", base.times)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise SettingsError(f"{source}: [patrols.levels.{level}] times must be an integer >= 1")
    months = tuple(table.get("months", base.months))
    if not months or any(not isinstance(m, int) or not 1 <= m <= 12 for m in months):
        raise SettingsError(
            f"{source}: [patrols.levels.{level}] months must list months 1–12, e.g. [3, 4, 5]"
        )
    least = {}
    for key in ("min_minutes", "min_km"):
        value = table.get(key, getattr(base, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise SettingsError(f"{source}: [patrols.levels.{level}] {key} must be a number >= 0")
        least[key] = float(value)
    return PatrolRule(per, times, months, **least, source=f"{source} [patrols.levels.{level}]")


@dataclass(frozen=True)
class PatrolRules:
    """The rule of every level, the preset they start from, and the distance to a river."""

    levels: Mapping[str, PatrolRule] = field(default_factory=dict)
    preset: str = DEFAULT_PRESET
    within_m: float = 100.0

    def rule(self, level: str) -> PatrolRule | None:
        """The rule of ``level`` (None for a level Hetu does not know)."""
        return self.levels.get(level)


def patrol_rules(
    *,
    preset: str = DEFAULT_PRESET,
    levels: Mapping[str, Mapping[str, Any] | PatrolRule] | None = None,
    every_days: Mapping[str, float] | None = None,
    within_m: float = 100.0,
    source: str = "settings",
) -> PatrolRules:
    """Build the rules of every level from a preset and the office's own changes.

    Parameters
    ----------
    preset : str
        A key of :data:`PRESETS`.
    levels : mapping, optional
        Level to a :class:`PatrolRule` or a ``[patrols.levels.<level>]`` table
        (``per, times, months, min_minutes, min_km``); keys left out keep the preset's.
    every_days : mapping, optional
        Hetu 0.1's ``[patrols.every_days]``: one patrol every so many days, read as that
        many days' worth of periods (7 → weekly, 10 → 旬, 30 → monthly, 91 → quarterly,
        182 → half-yearly, 365 → yearly; the nearest).
    within_m : float
        How close a track must come to a chief's segment to count for its river.
    source : str
        Named in error messages.

    Returns
    -------
    PatrolRules

    Raises
    ------
    SettingsError
        For an unknown preset or level, or a bad value.
    """
    if preset not in PRESETS:
        raise SettingsError(
            f"{source}: [patrols] preset must be one of {', '.join(PRESETS)}, got {preset!r}"
        )
    rules = {**FALLBACK, **PRESETS[DEFAULT_PRESET], **PRESETS[preset]}
    lengths = {"week": 7, "ten_days": 10, "month": 30, "quarter": 91, "half_year": 182, "year": 365}
    for level, days in (every_days or {}).items():
        per = min(lengths, key=lambda p: abs(lengths[p] - float(days)))
        base = rules.get(level, PatrolRule())
        rules[level] = PatrolRule(
            per, 1, base.months, base.min_minutes, base.min_km, f"{source} [patrols.every_days]"
        )
    for level, table in (levels or {}).items():
        if level not in LEVELS:
            raise SettingsError(
                f"{source}: [patrols.levels.{level}] is no chief level; "
                f"use one of {', '.join(LEVELS)}"
            )
        if isinstance(table, PatrolRule):
            rules[level] = table
        else:
            rules[level] = _rule_from_toml(level, table, rules.get(level, PatrolRule()), source)
    if not within_m >= 0:
        raise SettingsError(f"{source}: [patrols] within_m must be a number >= 0")
    return PatrolRules(levels=rules, preset=preset, within_m=float(within_m))


def _period_of(day: dt.date, per: str) -> tuple[dt.date, dt.date]:
    if per == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    last = calendar.monthrange(day.year, day.month)[1]
    if per == "ten_days":
        lo = 1 if day.day <= 10 else 11 if day.day <= 20 else 21
        hi = {1: 10, 11: 20, 21: last}[lo]
        return day.replace(day=lo), day.replace(day=hi)
    if per == "month":
        return day.replace(day=1), day.replace(day=last)
    span = {"quarter": 3, "half_year": 6, "year": 12}[per]
    first = (day.month - 1) // span * span + 1
    end_month = first + span - 1
    end = dt.date(day.year, end_month, calendar.monthrange(day.year, end_month)[1])
    return dt.date(day.year, first, 1), end


def counted_periods(
    start: dt.date, end: dt.date, rule: PatrolRule
) -> list[tuple[dt.date, dt.date]]:
    """The calendar periods of ``rule`` a report from ``start`` to ``end`` judges.

    Parameters
    ----------
    start, end : datetime.date
        The report's dates, both included.
    rule : PatrolRule
        The rule.

    Returns
    -------
    list of (date, date)
        The periods (first and last day) that end within the dates and lie in the
        rule's months, in order; a period may begin before ``start``.
    """
    out = []
    lo, hi = _period_of(start, rule.per)
    while lo <= end:
        length = (hi - lo).days + 1
        if rule.per in ("week", "ten_days"):
            active = (lo + dt.timedelta(days=length // 2)).month in rule.months
        else:
            active = any(m in rule.months for m in range(lo.month, hi.month + 1))
        if start <= hi <= end and active:
            out.append((lo, hi))
        lo, hi = _period_of(hi + dt.timedelta(days=1), rule.per)
    return out
