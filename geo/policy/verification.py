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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from geo.errors import SettingsError
from geo.policy.lifecycle import DeadlineRule, deadline_for, rectify_days
from geo.policy.workdays import WorkCalendar

__all__ = [
    "DEFAULT_CLASSES",
    "DEFAULT_DUTY_UNITS",
    "DETAIL_FIELDS",
    "PROBLEM_STATES",
    "REVIEW_DAYS",
    "SEVERITIES",
    "VERDICTS",
    "VERDICT_STATE",
    "VERIFIED_STATES",
    "VERIFY_DAYS",
    "VERIFY_STATES",
    "FeatureClass",
    "check_detail",
    "classes_from_settings",
    "entry_deadline",
    "find_class",
    "stage_of",
    "verdict_evidence",
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


# --- 分类判定: verdicts, 地物类别 and the evidence each needs -------------------------------

#: The four verdicts of 分类判定 (长寿区, 河湖库地物遥感图斑核查"回头看"分类判定要点表, 2025):
#: 不是问题, 不是问题·历史不碍洪, 问题·历史碍洪 (挂账监管问题图斑), 问题.
VERDICTS = ("not_problem", "not_problem_historic", "problem_historic", "problem")
#: The state each verdict puts a patch in.
VERDICT_STATE = {
    "not_problem": "dismissed",
    "not_problem_historic": "dismissed",
    "problem_historic": "monitored",
    "problem": "confirmed",
}
#: 严重程度 of a problem (水利部 河湖"四乱"问题认定及清理整治标准: 一般 / 较严重 / 重大).
SEVERITIES = ("general", "serious", "major")

_PHOTO = frozenset({"photo_watermarked"})
_PERMIT = frozenset({"photo_watermarked", "permit"})
_EXPLAINED = frozenset({"photo_watermarked", "document"})


@dataclass(frozen=True)
class FeatureClass:
    """One 地物类别 of the classification table and what each verdict on it needs.

    Attributes
    ----------
    key : str
        Identifier (``bridge``); ``label`` the Chinese name (桥梁), ``group`` its
        group (涉河建设项目).
    verdicts : tuple of str
        The verdicts allowed on it (of :data:`VERDICTS`).
    evidence : mapping
        Verdict → the sets of evidence kinds, any one of which suffices (every
        kind of a set is needed).
    """

    key: str
    label: str
    group: str
    verdicts: tuple[str, ...] = VERDICTS
    evidence: Mapping[str, tuple[frozenset[str], ...]] = field(default_factory=dict)

    def missing(self, verdict: str, kinds: Iterable[str]) -> str | None:
        """Describe the evidence ``verdict`` still needs on this class, or ``None``."""
        options = self.evidence.get(verdict, (_PHOTO,))
        have = set(kinds)
        if any(need <= have for need in options):
            return None
        return " or ".join("+".join(sorted(need)) for need in options)


def _cls(key: str, label: str, group: str, **evidence: tuple[frozenset[str], ...]) -> FeatureClass:
    base = {v: (_PHOTO,) for v in VERDICTS} | {
        "not_problem_historic": (_EXPLAINED,),
        "problem_historic": (_EXPLAINED,),
    }
    return FeatureClass(key, label, group, VERDICTS, base | evidence)


#: The default classification table, after 长寿区's 判定要点表 (2025): every verdict needs a
#: watermarked site photo; a 不是问题 for a 涉河建设项目 needs the competent water
#: authority's permit as well (许可文件 showing 类别、内容、位置、界限; else 审查意见 or
#: 洪水影响评价 as a document too), for a 水利工程 the 水工程建设规划同意书 or an
#: explanation; a historic verdict needs the explanation (document) of when it was built.
DEFAULT_CLASSES: tuple[FeatureClass, ...] = (
    _cls("dam", "拦河闸坝", "水利工程", not_problem=(_PERMIT, _EXPLAINED)),
    _cls("hydrology", "水文设施", "水利工程", not_problem=(_PERMIT, _EXPLAINED)),
    _cls("water_works", "其他水利工程", "水利工程", not_problem=(_PERMIT, _EXPLAINED)),
    _cls("bridge", "桥梁", "涉河建设项目", not_problem=(_PERMIT,)),
    _cls("wharf", "码头", "涉河建设项目", not_problem=(_PERMIT,)),
    _cls("pipeline", "管线", "涉河建设项目", not_problem=(_PERMIT,)),
    _cls("intake", "取排水口", "涉河建设项目", not_problem=(_PERMIT,)),
    _cls("road", "道路", "涉河建设项目", not_problem=(_PERMIT,)),
    _cls("river_project", "其他涉河建设项目", "涉河建设项目", not_problem=(_PERMIT,)),
    _cls("building", "房屋", "其他地物"),
    _cls("greenhouse", "大棚及种植", "其他地物"),
    _cls("pile", "堆放物", "其他地物"),
    _cls("sand", "采砂及取土", "其他地物"),
    _cls("water_change", "水位变化", "其他地物"),
    _cls("other", "其他", "其他地物"),
)

#: The 行业主管部门 that shares a problem's responsibility with the township government, by
#: problem type (河长制 部门分工: 水利 for 河道管理范围内的占用、采砂和涉河建设, 住房和城乡建设
#: for 垃圾, as 株洲 and 张家口 in the seeds assign them); replace in ``[verification.duty_units]``.
DEFAULT_DUTY_UNITS: dict[str, str] = {
    "occupation": "县水利局",
    "mining": "县水利局",
    "dumping": "县住房和城乡建设局",
    "construction": "县水利局",
    "other": "县水利局",
}


def classes_from_settings(
    table: Mapping[str, Any], *, source: str, kinds: Iterable[str]
) -> tuple[FeatureClass, ...]:
    """Build the office's classification table from ``[verification.classes.KEY]`` tables.

    Each class has ``label``, ``group``, optional ``verdicts`` and ``evidence``
    (``verdict = [[kind, ...], ...]``). The office's table replaces the default.

    Raises
    ------
    SettingsError
        Naming the class and key, for an unknown verdict or evidence kind.
    """
    known = set(kinds)
    out = []
    for key, spec in table.items():
        verdicts = tuple(spec.get("verdicts", VERDICTS))
        bad = [v for v in verdicts if v not in VERDICTS]
        if bad:
            raise SettingsError(
                f"{source}: [verification.classes.{key}] verdicts {bad} unknown; "
                f"use {', '.join(VERDICTS)}"
            )
        evidence = {}
        for verdict, options in spec.get("evidence", {}).items():
            if verdict not in VERDICTS:
                raise SettingsError(
                    f"{source}: [verification.classes.{key}.evidence] {verdict!r} is not a "
                    f"verdict; use {', '.join(VERDICTS)}"
                )
            sets = tuple(frozenset(o) for o in options)
            wrong = sorted({k for o in sets for k in o} - known)
            if wrong:
                raise SettingsError(
                    f"{source}: [verification.classes.{key}.evidence] {verdict}: unknown "
                    f"kind(s) {wrong}; use {', '.join(sorted(known))}"
                )
            evidence[verdict] = sets
        base = _cls(key, "", "")
        out.append(
            FeatureClass(
                key,
                str(spec.get("label", key)),
                str(spec.get("group", "")),
                verdicts,
                {**base.evidence, **evidence},
            )
        )
    if not any(c.key == "other" for c in out):
        out.append(next(c for c in DEFAULT_CLASSES if c.key == "other"))
    return tuple(out)


def find_class(classes: Iterable[FeatureClass], name: Any) -> FeatureClass | None:
    """The class named by key or Chinese label (``bridge`` or ``桥梁``), else ``None``."""
    text = "" if name is None or name != name else str(name).strip()
    for cls in classes:
        if text in (cls.key, cls.label):
            return cls
    return None


# --- what a step records besides its state (geo.ledger.details stores it) -----------------

#: Kinds of detail and their fields: ``name -> (type, bound)``; ``text`` up to bound
#: characters, ``number`` from 0 to bound, ``bool``, ``choice`` of a tuple.
DETAIL_FIELDS: dict[str, dict[str, tuple[str, Any]]] = {
    "verdict": {
        "category": ("choice", VERDICTS),
        "basis": ("text", 500),
        "severity": ("choice", SEVERITIES),
        "blocks_flood": ("bool", None),
        "subtype": ("text", 40),
        "issue_type": ("choice", ("occupation", "mining", "dumping", "construction", "other")),
        "feature_class": ("text", 40),
    },
    "duty": {
        "unit": ("text", 200),
        "person": ("text", 40),
        "phone": ("text", 40),
        "measures": ("text", 2000),
        "plan": ("text", 2000),
        "case_filed": ("bool", None),
        "case_unit": ("text", 100),
        "case_no": ("text", 60),
        "demolished_m2": ("number", 1e7),
        "cleared_t": ("number", 1e7),
        "cleared_m3": ("number", 1e7),
    },
    "acceptance": {
        "inspector": ("text", 40),
        "opinion": ("text", 1000),
        "passed": ("bool", None),
    },
    "proposal": {
        "target": ("choice", ("confirmed", "dismissed", "monitored")),
        "opinion": ("text", 1000),
    },
    "review": {"approved": ("bool", None), "reason": ("text", 1000)},
    "recheck": {"passed": ("bool", None), "round": ("text", 40), "finding": ("text", 1000)},
    # a problem from a source (12345, 举报 …, geo.policy.sources): the reply to whoever
    # reported it (反馈), and the call back asking whether they are satisfied (回访)
    "feedback": {"content": ("text", 1000)},
    "revisit": {"satisfied": ("bool", None), "note": ("text", 1000)},
}


def check_detail(kind: str, data: Mapping[str, Any], *, classes: Iterable[FeatureClass]) -> dict:
    """Check one detail and return it normalised (unknown fields and bad values refused).

    Raises
    ------
    ValueError
        One line naming the field, the value and what it must be.
    """
    spec = DETAIL_FIELDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown detail {kind!r}; use {', '.join(DETAIL_FIELDS)}")
    out: dict[str, Any] = {}
    for name, value in data.items():
        if value is None or value == "":
            continue
        if name not in spec:
            raise ValueError(f"{kind}: unknown field {name!r}; fields: {', '.join(spec)}")
        typ, bound = spec[name]
        if typ == "text":
            text = str(value).strip()
            if len(text) > bound:
                raise ValueError(f"{kind}.{name}: at most {bound} characters, got {len(text)}")
            out[name] = text
        elif typ == "choice":
            if value not in bound:
                raise ValueError(f"{kind}.{name}: {value!r} is not one of {', '.join(bound)}")
            out[name] = value
        elif typ == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{kind}.{name}: give true or false, got {value!r}")
            out[name] = value
        else:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{kind}.{name}: {value!r} is not a number") from None
            if not 0 <= number <= bound:
                raise ValueError(f"{kind}.{name}: {number} is not in 0..{bound:g}")
            out[name] = number
    if kind == "verdict" and "feature_class" in out:
        cls = find_class(classes, out["feature_class"])
        if cls is None:
            raise ValueError(
                f"verdict.feature_class: {out['feature_class']!r} is not in the classification "
                "table ([verification.classes])"
            )
        out["feature_class"] = cls.key
        if "category" in out and out["category"] not in cls.verdicts:
            raise ValueError(
                f"verdict.category: {out['category']} is not allowed for {cls.label}; "
                f"allowed: {', '.join(cls.verdicts)}"
            )
    if not out:
        raise ValueError(f"{kind}: nothing recorded")
    return out


def verdict_evidence(
    classes: Iterable[FeatureClass], feature_class: Any, verdict: str, kinds: Iterable[str]
) -> str | None:
    """The evidence a verdict on a patch of ``feature_class`` still needs (``None``: enough).

    A patch of no known class is judged by the lifecycle's own evidence rules only.
    """
    cls = find_class(classes, feature_class)
    return None if cls is None else cls.missing(verdict, kinds)
