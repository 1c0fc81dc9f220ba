"""The quarterly assessment of townships ("4+1" 督查考核): closure, timeliness, overdue, recurrence.

Seed 001 (株洲) describes the "4+1" system: every quarter ("4") the office
assesses each subordinate area and publishes the result with rewards and
penalties, and the year-end assessment ("1") feeds the performance review.
:func:`assess` computes, for each township over a period, what such an
assessment of the remote-sensing patches rests on, from the ledger's own
history (the events, replayed up to the end of the period, not today's state):

- ``closure_rate`` (销号率): of the patches due in the period, the share closed
  by its end. *Due* means: closed within the period, or, still not closed at
  its end, with a deadline on or before its end (the backlog carried over
  counts). Patches dismissed or kept on the books (``monitored``) at the end
  are not due.
- ``on_time_rate`` (按期销号率): of the same patches, the share closed on or
  before their deadline.
- ``overdue_patch_days`` (逾期图斑·天数): the sum over patches of the days
  within the period each spent past its deadline while still being worked on
  (counted like the ledger's overdue days: working days unless
  ``[calendar] count = "calendar"``).
- ``recurrences`` (反弹回潮): patches issued in the period that the matching
  linked to an earlier one closed at the end of the period (the links' kinds
  re-evaluated then: :func:`geo.matching.identity.relink`).

The score is the sum of one column of points per component, so a reader can
check it by hand (:func:`score_components`, :class:`AssessmentRule`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo.clock import as_date
from geo.errors import SchemaError
from geo.labels import ASSESSMENT, GRADES, SOURCES, TEXT, label
from geo.matching.identity import relink
from geo.policy.assessment import DEFAULT_RULE, AssessmentRule
from geo.policy.lifecycle import DEFAULT_LIFECYCLE, Lifecycle, overdue_days
from geo.policy.verification import VERIFY_STATES, stage_of
from geo.policy.workdays import WorkCalendar
from geo.reports.summary import patch_source

if TYPE_CHECKING:  # geo.settings imports this module; geo.ledger.store imports geo.settings
    from geo.ledger.store import Ledger

__all__ = [
    "ASSESSMENT_COLUMNS",
    "BY_SOURCE_COLUMNS",
    "assess",
    "assess_by_source",
    "quarter_bounds",
    "score_components",
]

#: Columns of :func:`assess_by_source`.
BY_SOURCE_COLUMNS = ["township", "source", "n_due", "n_closed", "n_on_time", "n_overdue"]
#: The columns of :func:`assess`, in order.
ASSESSMENT_COLUMNS = [
    "township",
    "township_code",
    "n_due",
    "n_closed",
    "closure_rate",
    "n_on_time",
    "on_time_rate",
    "n_overdue",
    "overdue_patch_days",
    "recurrences",
    "closure_points",
    "on_time_points",
    "overdue_points",
    "recurrence_points",
    "score",
    "rank",
    "grade",
]
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$")
_CLOSED = "closed"


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a quarter written ``2026Q2`` (or ``2026-Q2``).

    Raises
    ------
    SchemaError
        If ``quarter`` is not a year followed by Q1–Q4.
    """
    found = _QUARTER.match(str(quarter))
    if found is None:
        raise SchemaError(f"quarter {quarter!r} is not a quarter; write it like 2026Q2")
    year, q = int(found.group(1)), int(found.group(2))
    first = dt.date(year, 3 * q - 2, 1)
    after = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return first, after - dt.timedelta(days=1)


def _as_day(value: dt.date | str, name: str) -> dt.date:
    try:
        return as_date(value)
    except ValueError:
        raise SchemaError(f"{name} {value!r} is not a date; give YYYY-MM-DD") from None


# -- scoring ---------------------------------------------------------------------------------


def score_components(table: pd.DataFrame, rule: AssessmentRule = DEFAULT_RULE) -> pd.DataFrame:
    """Add the points of each component, the score and the rank to a table of components.

    Parameters
    ----------
    table : DataFrame
        ``closure_rate`` and ``on_time_rate`` (0–1, NaN when nothing was due),
        ``overdue_patch_days`` and ``recurrences`` (counts >= 0). Not modified.
    rule : AssessmentRule
        The points.

    Returns
    -------
    DataFrame
        A copy with ``closure_points``, ``on_time_points``, ``overdue_points``,
        ``recurrence_points``, ``score`` (their sum, 2 decimals), ``rank``
        (1 = best; equal scores share a rank) and ``grade`` (等次: 优秀, 良好, 合格 or
        不合格, by the rule's thresholds).

    Raises
    ------
    SchemaError
        If a column is missing, a rate lies outside 0–1 or a count is negative.
    """
    need = ["closure_rate", "on_time_rate", "overdue_patch_days", "recurrences"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise SchemaError(
            f"assessment table lacks {', '.join(missing)}; columns found: "
            + ", ".join(map(str, table.columns))
        )
    out = table.copy()
    rates = {}
    for col in ("closure_rate", "on_time_rate"):
        rate = pd.to_numeric(out[col], errors="raise").astype(float)
        bad = rate.notna() & ~rate.between(0.0, 1.0)
        if bad.any():
            raise SchemaError(f"{col} must lie between 0 and 1; got {rate[bad].iloc[0]!r}")
        rates[col] = rate.fillna(1.0).to_numpy()
    counts = {}
    for col in ("overdue_patch_days", "recurrences"):
        value = pd.to_numeric(out[col], errors="raise").astype(float).to_numpy()
        if (value < 0).any() or np.isnan(value).any():
            raise SchemaError(f"{col} must be counts >= 0")
        counts[col] = value
    out["closure_points"] = np.round(rule.closure * rates["closure_rate"], 2)
    out["on_time_points"] = np.round(rule.on_time * rates["on_time_rate"], 2)
    out["overdue_points"] = np.round(
        np.maximum(0.0, rule.overdue - rule.overdue_per_day * counts["overdue_patch_days"]), 2
    )
    out["recurrence_points"] = np.round(
        np.maximum(0.0, rule.recurrence - rule.recurrence_each * counts["recurrences"]), 2
    )
    points = ["closure_points", "on_time_points", "overdue_points", "recurrence_points"]
    out["score"] = np.round(out[points].sum(axis=1).to_numpy(dtype=float), 2)
    out["rank"] = out["score"].rank(method="min", ascending=False).astype(int)
    out["grade"] = [GRADES[rule.grade(v)] for v in out["score"]]
    return out


# -- the components from the history ---------------------------------------------------------


@lru_cache(maxsize=64)
def _can_be_overdue(state: str) -> bool:
    """Whether :func:`geo.policy.lifecycle.overdue_days` counts 整改 days in ``state``.

    The assessment scores rectification: a 核查 or 监管 review deadline passed is counted
    by ``hetu status`` and escalated, not scored here.
    """
    late = overdue_days(dt.date(2000, 1, 3), state, dt.date(2000, 1, 10)) > 0
    return late and stage_of(state) == "rectify"


def _counted_days(start: dt.date, end: dt.date, calendar: WorkCalendar | None) -> np.ndarray:
    """Cumulative counted days: ``cum[i]`` = days counted in ``start .. start + i - 1``."""
    n = (end - start).days + 1
    if calendar is None:
        flags = np.ones(n, dtype=np.int64)
    else:
        flags = np.array(
            [calendar.is_workday(start + dt.timedelta(days=i)) for i in range(n)], dtype=np.int64
        )
    return np.concatenate([[0], np.cumsum(flags)])


def _ten(values: pd.Series) -> pd.Series:
    """The first ten characters (the date of an ISO time), missing values kept missing."""
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")
    return text.str.slice(0, 10)


def _history(events: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    """Events up to ``end``, with their day, carried deadline and the next event's day."""
    need = ["patch_id", "at", "to_state", "deadline"]
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise SchemaError(f"events lack {', '.join(missing)} (a ledger's events() frame is needed)")
    ev = events[need + (["from_state"] if "from_state" in events.columns else [])].copy()
    if "event_id" in events.columns:
        ev = ev.iloc[np.argsort(events["event_id"].to_numpy(), kind="stable")]
    ev["day"] = pd.to_datetime(_ten(ev["at"]), format="%Y-%m-%d", errors="coerce")
    ev = ev[ev["day"].notna() & (ev["day"] <= pd.Timestamp(end))]
    ev["deadline"] = pd.to_datetime(_ten(ev["deadline"]), format="%Y-%m-%d", errors="coerce")
    ev["deadline"] = ev.groupby("patch_id", sort=False)["deadline"].ffill()
    ev["next_day"] = ev.groupby("patch_id", sort=False)["day"].shift(-1)
    return ev.reset_index(drop=True)


def _overdue_by_patch(
    ev: pd.DataFrame, start: dt.date, end: dt.date, calendar: WorkCalendar | None
) -> pd.Series:
    """Counted days in ``start .. end`` each patch spent past its deadline while being worked on."""
    cum = _counted_days(start, end, calendar)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    states = {s: _can_be_overdue(str(s)) for s in ev["to_state"].dropna().unique()}
    eligible = ev["to_state"].map(states).fillna(False).astype(bool)
    runs = ev[eligible & ev["deadline"].notna()]
    if runs.empty:
        return pd.Series(dtype=float)
    n = (t1 - t0).days + 1  # days as offsets from start: 0 .. n - 1

    def offset(col: str) -> np.ndarray:
        return (runs[col] - t0).dt.days.to_numpy(dtype=float, na_value=np.nan)

    lo_i = np.maximum(np.maximum(offset("day"), offset("deadline") + 1), 0)
    hi_i = np.minimum(np.nan_to_num(offset("next_day"), nan=n) - 1, n - 1)
    lo_i, hi_i = lo_i.astype(np.int64), hi_i.astype(np.int64)
    ok = hi_i >= lo_i
    days = np.zeros(len(runs), dtype=np.int64)
    days[ok] = cum[hi_i[ok] + 1] - cum[lo_i[ok]]
    return pd.Series(days, index=runs["patch_id"].to_numpy()).groupby(level=0).sum()


def _day_of(ids: pd.Series, days: pd.Series) -> pd.Series:
    """The day of each id in ``days`` (NaT where it has none; no closure at all gives NaT too)."""
    return pd.to_datetime(ids.map(days.to_dict()))


def _per_patch(
    status: pd.DataFrame,
    ev: pd.DataFrame,
    links: pd.DataFrame | None,
    *,
    start: dt.date,
    end: dt.date,
    calendar: WorkCalendar | None,
    lifecycle: Lifecycle,
) -> pd.DataFrame:
    """One row per patch: township, due, closed, on time, overdue days, recurrence."""
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    last = ev.groupby("patch_id", sort=False).tail(1).set_index("patch_id")
    into_closed = ev["to_state"].eq(_CLOSED)
    if "from_state" in ev.columns:
        into_closed &= ev["from_state"].ne(_CLOSED)
    closing = ev[into_closed].groupby("patch_id", sort=False).tail(1).set_index("patch_id")
    out = pd.DataFrame({"patch_id": status["patch_id"].astype(str)})
    town = status["township"].fillna("").astype(str) if "township" in status.columns else ""
    out["township"] = town
    named = "township_code" if "township_code" in status.columns else "admin_code"
    code = status[named] if named in status.columns else pd.Series("", index=out.index)
    out["township_code"] = code.fillna("").astype(str).str[:9]
    out["state_end"] = out["patch_id"].map(last["to_state"])
    out["deadline_end"] = _day_of(out["patch_id"], last["deadline"])
    out["closed_on"] = _day_of(out["patch_id"], closing["day"])
    is_closed = out["state_end"].eq(_CLOSED) & out["closed_on"].notna()
    closed_in = is_closed & out["closed_on"].between(t0, t1)
    exempt = (lifecycle.open_exempt | VERIFY_STATES) - {_CLOSED}  # 核查's deadline is not 整改's
    open_due = (
        ~is_closed
        & ~out["state_end"].isin(exempt)
        & out["state_end"].notna()
        & out["deadline_end"].notna()
        & (out["deadline_end"] <= t1)
    )
    out["due"] = closed_in | open_due
    out["closed"] = closed_in
    out["on_time"] = closed_in & (
        out["deadline_end"].isna() | (out["closed_on"] <= out["deadline_end"])
    )
    overdue = _overdue_by_patch(ev, start, end, calendar)
    out["overdue_days"] = out["patch_id"].map(overdue).fillna(0).astype(int)
    out["recurrence"] = False
    if links is not None and len(links):
        rec_ids = set(links.loc[links["kind"].eq("recurrence"), "patch_id"].astype(str))
        first = ev.groupby("patch_id", sort=False)["day"].first()
        issued = (
            pd.to_datetime(status["issued_on"].astype(str).str[:10], errors="coerce")
            if "issued_on" in status.columns
            else pd.Series(pd.NaT, index=out.index)
        )
        issued = issued.fillna(out["patch_id"].map(first))
        out["recurrence"] = out["patch_id"].isin(rec_ids) & issued.between(t0, t1)
    return out


def _inputs(source: Any, calendar: WorkCalendar | None, end: dt.date) -> tuple:
    if isinstance(source, Mapping):
        missing = [k for k in ("status", "events") if k not in source]
        if missing:
            raise SchemaError(
                f"assess needs a ledger or a mapping with 'status', 'events' (and 'links'); "
                f"missing {', '.join(missing)}"
            )
        links = source.get("links")
        return (
            source["status"],
            source["events"],
            None if links is None else relink(links, source["status"]),
            calendar,
            DEFAULT_LIFECYCLE,
            {},
        )
    settings = source.settings
    status = source.status_frame(as_of=end)
    return (
        status,
        source.events(as_of=end),
        relink(source.links(), status),
        settings.calendar,
        source.lifecycle,
        dict(settings.townships),
    )


def assess(
    source: Ledger | Mapping[str, pd.DataFrame],
    *,
    start: dt.date | str,
    end: dt.date | str,
    rule: AssessmentRule | None = None,
    calendar: WorkCalendar | None = None,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """Assess every township over a period: the components, their points, score and rank.

    Parameters
    ----------
    source : Ledger or mapping
        An open ledger, or frames: ``{"status": Ledger.status_frame(), "events":
        Ledger.events(), "links": Ledger.links()}`` (``links`` optional).
    start, end : date or str
        The first and last day of the period (inclusive; see :func:`quarter_bounds`).
    rule : AssessmentRule, optional
        The points; default the ledger's settings (``settings.assessment`` when the
        office set ``[assessment]``), else :data:`DEFAULT_RULE`.
    calendar : WorkCalendar, optional
        For frames only: count overdue days in working days (default calendar
        days). A ledger counts them as its settings say.
    as_of : date or str, optional
        Today (default: today in Asia/Shanghai). A period not over yet is assessed
        up to this day: nothing after it is known, so nothing after it is counted.

    Returns
    -------
    DataFrame
        :data:`ASSESSMENT_COLUMNS`, one row per township (every township in the
        settings, and every one a patch lies in), best score first. Rates are
        NaN where nothing was due. Patches placed in no township form a last row
        :data:`geo.labels.TEXT` ``no_township`` (未明确乡镇), scored but without a rank.

    Raises
    ------
    SchemaError
        If a date is not a date, ``start`` is after ``end``, or the frames lack columns.
    """
    per, _status, townships, rule = _assessed(source, start, end, rule, calendar, as_of)
    per["township"] = per["township"].where(per["township"].ne(""), TEXT["no_township"])
    grouped = per.groupby("township", sort=True)
    table = pd.DataFrame(
        {
            "township_code": grouped["township_code"].agg(
                lambda s: s.mode().iloc[0] if len(s) else ""
            ),
            "n_due": grouped["due"].sum(),
            "n_closed": grouped["closed"].sum(),
            "n_on_time": grouped["on_time"].sum(),
            "n_overdue": grouped["overdue_days"].agg(lambda s: int((s > 0).sum())),
            "overdue_patch_days": grouped["overdue_days"].sum(),
            "recurrences": grouped["recurrence"].sum(),
        }
    )
    for code, name in townships.items():
        if name not in table.index:
            table.loc[name] = [str(code)[:9], 0, 0, 0, 0, 0, 0]
    table = table.rename_axis("township").reset_index()
    counts = ["n_due", "n_closed", "n_on_time", "n_overdue", "overdue_patch_days", "recurrences"]
    table[counts] = table[counts].astype(int)
    due = table["n_due"].where(table["n_due"] > 0)
    table["closure_rate"] = table["n_closed"] / due
    table["on_time_rate"] = table["n_on_time"] / due
    scored = score_components(table, rule)  # from the exact rates; shown to 4 decimals
    scored[["closure_rate", "on_time_rate"]] = scored[["closure_rate", "on_time_rate"]].round(4)
    # patches no code, segment or boundary places are listed, scored, never ranked
    unplaced = scored["township"].eq(TEXT["no_township"])
    rank = scored["score"].where(~unplaced).rank(method="min", ascending=False)
    scored["rank"] = rank.astype("Int64")
    scored = scored.sort_values(["rank", "township"], kind="stable", na_position="last")
    scored = scored.reset_index(drop=True)
    return scored[ASSESSMENT_COLUMNS]


def _assessed(
    source: Any,
    start: dt.date | str,
    end: dt.date | str,
    rule: AssessmentRule | None,
    calendar: WorkCalendar | None,
    as_of: dt.date | str | None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], AssessmentRule]:
    """The period checked; each patch's row (:func:`_per_patch`), the status, townships, rule."""
    t0, t1 = _as_day(start, "start"), _as_day(end, "end")
    if t0 > t1:
        raise SchemaError(f"the period starts ({t0}) after it ends ({t1}); swap start and end")
    today = as_date(None) if as_of is None else _as_day(as_of, "as_of")
    if today < t0:
        raise SchemaError(f"the period starts ({t0}) after as_of ({today}): nothing to assess yet")
    t1 = min(t1, today)
    status, events, links, cal, lifecycle, townships = _inputs(source, calendar, t1)
    if rule is None:
        settings = getattr(source, "settings", None)
        rule = getattr(settings, "assessment", None) or DEFAULT_RULE
    ev = _history(events, t1)
    per = _per_patch(status, ev, links, start=t0, end=t1, calendar=cal, lifecycle=lifecycle)
    return per, status, townships, rule


def assess_by_source(
    source: Ledger | Mapping[str, pd.DataFrame],
    *,
    start: dt.date | str,
    end: dt.date | str,
    calendar: WorkCalendar | None = None,
    as_of: dt.date | str | None = None,
) -> pd.DataFrame:
    """The assessment's counts per township and 问题来源 (上级下发, 自查, 12345, 暗访 …).

    The same patches, period and rules as :func:`assess` (parameters alike), split by
    who found each problem (:func:`geo.reports.summary.patch_source`): what a township
    had due, closed, closed on time and let run overdue, per source.

    Returns
    -------
    DataFrame
        :data:`BY_SOURCE_COLUMNS`, one row per township and source with a patch due or
        overdue, townships in name order and sources in :data:`geo.labels.SOURCES` order.
    """
    per, status, _townships, _rule = _assessed(source, start, end, None, calendar, as_of)
    per["source"] = patch_source(status).to_numpy()
    per["township"] = per["township"].where(per["township"].ne(""), TEXT["no_township"])
    per["n_overdue"] = per["overdue_days"] > 0
    per = per[per["due"] | per["n_overdue"]]
    grouped = per.groupby(["township", "source"], sort=False)
    table = pd.DataFrame(
        {
            "n_due": grouped["due"].sum(),
            "n_closed": grouped["closed"].sum(),
            "n_on_time": grouped["on_time"].sum(),
            "n_overdue": grouped["n_overdue"].sum(),
        }
    ).reset_index()
    order = {code: k for k, code in enumerate(SOURCES)}
    table["_o"] = table["source"].map(order).fillna(len(order))
    table = table.sort_values(["township", "_o"], kind="stable").drop(columns="_o")
    table["source"] = table["source"].map(lambda c: label(SOURCES, c))
    counts = ["n_due", "n_closed", "n_on_time", "n_overdue"]
    table[counts] = table[counts].astype(int)
    return table[BY_SOURCE_COLUMNS].reset_index(drop=True)


def in_classes(table: pd.DataFrame, classes: Mapping[str, str]) -> pd.DataFrame:
    """Rank the townships of an :func:`assess` table within their classes (分类考核).

    Seed 001 (株洲 "4+1"): counties are assessed in classes (A组, B组) and ranked within
    each. ``classes`` maps 9-digit township codes to a class (``[township_classes]``);
    a township not listed is in class 未分类. Returns a copy with a first column
    ``class``, ``rank`` counted within the class, ordered by class then rank.
    """
    out = table.copy()
    names = [classes.get(str(c)[:9], ASSESSMENT["no_class"]) for c in out["township_code"]]
    out.insert(0, "class", names)
    placed = out["rank"].notna()
    rank = out["score"].where(placed).groupby(out["class"]).rank(method="min", ascending=False)
    out["rank"] = rank.astype("Int64")
    order = {c: i for i, c in enumerate(dict.fromkeys([*classes.values(), *names]))}
    out = out.assign(_c=out["class"].map(order))
    out = out.sort_values(["_c", "rank", "township"], kind="stable", na_position="last")
    return out.drop(columns="_c").reset_index(drop=True)


# -- the published sheet ----------------------------------------------------------------------


def assessment_notes(rule: AssessmentRule, *, workdays: bool = True) -> list[str]:
    """The 评分说明 under the assessment sheet: each component, its points and the 等次."""
    unit = "工作日" if workdays else "自然日"
    return [
        f"销号率得分 = {rule.closure:g} × 销号率（应销号图斑中期末已销号的比例）；",
        f"按期销号得分 = {rule.on_time:g} × 按期销号率（在整改期限内销号的比例）；",
        f"逾期项得分 = {rule.overdue:g} − {rule.overdue_per_day:g} × 逾期图斑·天数（{unit}），"
        "扣完为止；",
        f"反弹回潮项得分 = {rule.recurrence:g} − {rule.recurrence_each:g} × 反弹回潮数，扣完为止；",
        "本期无应销号图斑的，销号率和按期销号率按满分计；未明确乡镇的图斑计分不排名。",
        f"等次（满分 {rule.max_score:g} 分，按得分率）："
        f"{GRADES['excellent']} ≥ {rule.excellent:g}%，"
        f"{GRADES['good']} ≥ {rule.good:g}%，"
        f"{GRADES['passing']} ≥ {rule.passing:g}%，"
        f"其余为{GRADES['failing']}（默认依开化县“河长制”工作考核办法）。",
    ]


def write_assessment_xlsx(
    table: pd.DataFrame,
    path: str | Any,
    *,
    title: str,
    period: str,
    rule: AssessmentRule = DEFAULT_RULE,
    workdays: bool = True,
    by_source: pd.DataFrame | None = None,
) -> Any:
    """Write the assessment as a titled sheet (考核得分表) with its 评分说明, atomically.

    Parameters
    ----------
    table : DataFrame
        :func:`assess`'s table (columns :data:`ASSESSMENT_COLUMNS`).
    path : path-like
        The ``.xlsx`` file.
    title : str
        The title row (e.g. ``示范县 2026年第2季度乡镇河湖遥感图斑整改考核得分表``).
    period : str
        The period line (``考核期：2026-04-01 至 2026-06-30``).
    rule : AssessmentRule
        The points and thresholds, explained under the table.
    workdays : bool
        Whether overdue days are working days (said in the notes).
    by_source : DataFrame, optional
        :func:`assess_by_source`'s table, written as a second sheet (按问题来源).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import xlsxwriter

    from geo.fileio import XLSX_TEXT, move_into_place, print_setup, temp_beside

    labels = {**ASSESSMENT, "grade": ASSESSMENT["grade"]}
    cols = [c for c in table.columns if c in labels and c != "township_code"]
    with temp_beside(path) as tmp:
        book = xlsxwriter.Workbook(tmp, XLSX_TEXT)
        sheet = _titled_table(book, ASSESSMENT["sheet"], title, period, table[cols], labels)
        row = 4 + len(table) + 1
        sheet.write_string(row, 0, ASSESSMENT["notes"], book.add_format({"bold": True}))
        for k, text in enumerate(assessment_notes(rule, workdays=workdays), start=1):
            sheet.write_string(row + k, 0, f"{k}. {text}")
        if by_source is not None:
            _titled_table(book, ASSESSMENT["by_source_sheet"],
                          f"{title}（{ASSESSMENT['by_source_title']}）", period,
                          by_source[BY_SOURCE_COLUMNS], labels)  # fmt: skip
        print_setup(book)
        book.close()
        return move_into_place(tmp, path)


def _titled_table(
    book: Any, name: str, title: str, period: str, table: pd.DataFrame, labels: Mapping
) -> Any:
    """A sheet with the title and period rows and ``table`` under them (headers on row 4)."""
    sheet = book.add_worksheet(name)
    sheet.repeat_rows(3)
    bold = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "text_wrap": True, "bg_color": "#DDEBF7"})
    cell = book.add_format({"border": 1})
    pct = book.add_format({"border": 1, "num_format": "0.0%"})
    sheet.write_string(0, 0, title, bold)
    sheet.write_string(1, 0, period)
    cols = list(table.columns)
    for c, key in enumerate(cols):
        sheet.write_string(3, c, labels[key], head)
        sheet.set_column(c, c, 12 if c else 14)
    for r, rec in enumerate(table.to_dict("records"), start=4):
        for c, key in enumerate(cols):
            value = rec[key]
            if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                sheet.write_blank(r, c, None, cell)
            elif isinstance(value, str):
                sheet.write_string(r, c, value, cell)
            else:
                sheet.write_number(r, c, float(value), pct if key.endswith("_rate") else cell)
    return sheet


def assessment_title(
    office: str, start: dt.date, end: dt.date, quarter: str | None = None
) -> tuple[str, str]:
    """The title and period lines of the assessment sheet."""
    if quarter and re.fullmatch(r"\d{4}", quarter.strip()):
        when = f"{quarter.strip()}年度"
    elif quarter:
        year, q = _QUARTER.match(quarter).groups()  # type: ignore[union-attr]
        when = f"{year}年第{'一二三四'[int(q) - 1]}季度"
    else:
        when = f"{start.isoformat()}至{end.isoformat()}"
    title = f"{office}{ASSESSMENT['title'].format(period=when)}"
    return title, ASSESSMENT["period"].format(start=start.isoformat(), end=end.isoformat())
