"""The points of the quarterly "4+1" township assessment, as the office sets them.

Pure rules (no data): :class:`AssessmentRule` and its ``[assessment]`` table in
``hetu.toml``. The scoring over the ledger's history is
:func:`geo.reports.assessment.assess`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from geo.errors import SettingsError, check_keys

__all__ = ["DEFAULT_RULE", "AssessmentRule", "assessment_rule_from_toml"]


@dataclass(frozen=True)
class AssessmentRule:
    """The points of the assessment: a maximum per component, and deductions with caps.

    ``score = closure_points + on_time_points + overdue_points + recurrence_points``, where

    - ``closure_points = closure × closure_rate``
    - ``on_time_points = on_time × on_time_rate``
    - ``overdue_points = max(0, overdue − overdue_per_day × overdue_patch_days)``
    - ``recurrence_points = max(0, recurrence − recurrence_each × recurrences)``

    A township with nothing due has no rate and gets the component's full points
    (it has nothing left undone). The deductions stop at zero (扣完为止), so no
    component goes negative and the score lies between 0 and :attr:`max_score`.

    The default's structure follows seed 001 (株洲, "4+1" 督查考核制度: a quarterly
    assessment whose results are published, ranked, rewarded and penalised) and
    the close-out duty of seeds 000 (柳州: "逐一整改销号，实现四乱问题动态清零") and
    002 ("问题清单实行滚动、销号、闭环管理"), which is why closure weighs most.
    The seeds publish no weights: the numbers are a starting point for the office
    to set in ``[assessment]`` of ``hetu.toml``.

    Attributes
    ----------
    closure : float
        Points for a 100% closure rate (default 50).
    on_time : float
        Points for a 100% on-time rate (default 20).
    overdue : float
        Points kept when nothing is overdue (default 20).
    overdue_per_day : float
        Deducted per overdue patch-day (default 0.1: 200 patch-days take all 20).
    recurrence : float
        Points kept when nothing recurs (default 10).
    recurrence_each : float
        Deducted per recurrence (default 2: five take all 10).
    excellent, good, passing : float
        The 等次 thresholds, in percent of :attr:`max_score`: 优秀 at or above
        ``excellent`` (default 90), 良好 at or above ``good`` (80), 合格 at or above
        ``passing`` (70), 不合格 below. The defaults are 开化县《“河长制”工作考核办法》
        (总得分 ≥ 90 优秀, ≥ 80 良好, ≥ 70 合格, out of 100).
    """

    closure: float = 50.0
    on_time: float = 20.0
    overdue: float = 20.0
    overdue_per_day: float = 0.1
    recurrence: float = 10.0
    recurrence_each: float = 2.0
    excellent: float = 90.0
    good: float = 80.0
    passing: float = 70.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SettingsError(f"assessment rule: {f.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise SettingsError(
                    f"assessment rule: {f.name} must be a finite number >= 0, got {value!r}"
                )
        if not 100 >= self.excellent >= self.good >= self.passing:
            raise SettingsError(
                "assessment rule: the 等次 thresholds must satisfy 100 >= excellent >= good >= "
                f"passing (percent of the best score); got {self.excellent}, {self.good}, "
                f"{self.passing}"
            )
        if self.max_score <= 0:
            raise SettingsError(
                "assessment rule: every component weighs 0; give closure, on_time, overdue "
                "or recurrence some points"
            )

    def grade(self, score: float) -> str:
        """The 等次 of ``score``: ``excellent``, ``good``, ``passing`` or ``failing``."""
        percent = 100.0 * score / self.max_score
        for name in ("excellent", "good", "passing"):
            if percent >= getattr(self, name) - 1e-9:
                return name
        return "failing"

    @property
    def max_score(self) -> float:
        """The best possible score (the sum of the components' points)."""
        return self.closure + self.on_time + self.overdue + self.recurrence


#: The default rule (100 points: closure 50, on time 20, overdue 20, recurrence 10).
DEFAULT_RULE = AssessmentRule()
_KEYS = tuple(f.name for f in fields(AssessmentRule))


def assessment_rule_from_toml(
    mapping: Mapping[str, Any], *, source: str = "settings"
) -> AssessmentRule:
    """Build an :class:`AssessmentRule` from the ``[assessment]`` table of ``hetu.toml``.

    Example::

        [assessment]
        closure = 50            # points for a 100% closure rate (销号率)
        on_time = 20            # points for a 100% on-time rate (按期销号率)
        overdue = 20            # points kept with nothing overdue ...
        overdue_per_day = 0.1   # ... less this per overdue patch-day, not below 0
        recurrence = 10         # points kept with no recurrence (反弹回潮) ...
        recurrence_each = 2     # ... less this per recurrence, not below 0
        excellent = 90          # 等次 thresholds, percent of the best score (开化县):
        good = 80               # 优秀 >= 90, 良好 >= 80, 合格 >= 70, else 不合格
        passing = 70

    Keys left out keep their defaults (:data:`DEFAULT_RULE`).

    Parameters
    ----------
    mapping : mapping
        The parsed table.
    source : str
        The settings file, named in error messages.

    Returns
    -------
    AssessmentRule

    Raises
    ------
    SettingsError
        For an unknown key (named, with the known ones), a value that is not a
        number, or a negative one.
    """
    if not isinstance(mapping, Mapping):
        raise SettingsError(f"{source}: [assessment] must be a table, got {mapping!r}")
    check_keys(mapping, _KEYS, where=f"{source}: [assessment]")
    values: dict[str, float] = {}
    for key, value in mapping.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(
                f"{source}: [assessment] {key} must be a number, got {value!r}; "
                "fix the value or delete the line to use the default"
            )
        if not math.isfinite(value) or value < 0:
            raise SettingsError(
                f"{source}: [assessment] {key} must be a number >= 0, got {value!r}"
            )
        values[key] = float(value)
    try:
        return AssessmentRule(**values)
    except SettingsError as exc:
        raise SettingsError(f"{source}: [assessment]: {exc}") from None
