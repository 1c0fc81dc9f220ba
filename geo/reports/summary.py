"""The leaders' sheets of the Excel 台账: summary, charts, shoreline survey and patrols.

:func:`summary_tables` counts the status frame per state by township, by
river, by chief level and by issue type, with totals, overdue counts, the
closure rate (销号率 = closed / all patches) and, for a reporting period, the
patches issued (本期新增) and closed (本期销号) in it. :func:`overdue_list`
lists the overdue patches, longest overdue first. The ``write_*`` functions
put these, a charts sheet and the survey sheets (岸线巡查, 河长巡河) into an
``xlsxwriter`` workbook; :func:`geo.reports.excel.write_ledger_xlsx` calls them.

**Chief level.** A patch is counted under the highest level that has a chief
on its primary segment (the ``chief_<level>`` columns of the status frame):
a river with a county chief (县级河长) is a county-level river, whatever chiefs
its townships and villages also have. That is how offices rank their rivers
(县级/乡级/村级河湖) and what a county leader reads: how many patches sit on
the rivers the county's own chiefs answer for.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from geo.errors import SchemaError
from geo.labels import (
    COLUMNS,
    EXPORT,
    FIELD_WORK,
    INTEGRITY,
    ISSUE_TYPES,
    LEDGER_SUMMARY,
    LEVELS,
    SOURCES,
    STATES,
    TEXT,
    VERIFICATION,
    label,
)
from geo.policy.sources import SOURCE_CODES, source_of
from geo.policy.verification import PROBLEM_STATES, VERIFIED_STATES
from geo.records import attr_value
from geo.text import display_width

__all__ = [
    "LIFECYCLE",
    "OVERDUE_COLUMNS",
    "Formats",
    "chief_level",
    "overdue_list",
    "summary_tables",
    "write_charts",
    "write_coverage",
    "write_patrols",
    "write_summary",
]

#: Patch ids new and closed in the reporting period: ``(new_ids, closed_ids)``.
Period = tuple[Collection[str], Collection[str]]

#: Lifecycle states in order: the columns of the summary tables.
LIFECYCLE = (
    "issued",
    "verifying",
    "proposed",
    "confirmed",
    "dismissed",
    "monitored",
    "rectifying",
    "rectified",
    "closed",
)
#: Columns of :func:`overdue_list`, in order.
OVERDUE_COLUMNS = (
    "patch_id",
    "township",
    "water_name",
    "segment_name",
    "state",
    "chief_township",
    "chief_village",
    "deadline",
    "overdue_days",
)
#: States that end a patch's case: never overdue.
SETTLED = ("closed", "dismissed")
#: The widest column, in Excel width units.
MAX_WIDTH = 60

_FONT = "Microsoft YaHei"
_HEADER_FILL = "#DDEBF7"
_OVERDUE_FILL = "#FFC7CE"
_OVERDUE_FONT = "#9C0006"
_TABLES = ("township", "water_name", "chief_level", "issue_type", "source")
_LEVEL_ORDER = tuple(LEVELS)  # highest first


def patch_source(frame: pd.DataFrame) -> pd.Series:
    """Who found each patch: a code of :data:`geo.policy.sources.SOURCE_CODES`.

    ``issued`` (上级下发), ``selfcheck`` (自查), ``survey`` (巡河; the old value
    ``survey`` too), ``hotline`` (12345), ``report`` (举报), ``undercover`` (暗访) …
    (:func:`geo.policy.sources.source_of`).
    """
    attrs = frame["attrs"] if "attrs" in frame else pd.Series(None, index=frame.index)
    return attrs.map(lambda a: source_of(attr_value(a, ("source",)))).astype(object)


def overdue_mask(frame: pd.DataFrame) -> pd.Series:
    """Return which patches are overdue: days past the deadline and not settled."""
    if "overdue_days" not in frame or "state" not in frame:
        return pd.Series(False, index=frame.index)
    days = pd.to_numeric(frame["overdue_days"], errors="coerce").fillna(0)
    return (days > 0) & ~frame["state"].isin(SETTLED)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].fillna("").astype(str).str.strip()


def chief_level(frame: pd.DataFrame) -> pd.Series:
    """Return, per patch, the highest chief level named on its primary segment.

    Parameters
    ----------
    frame : DataFrame
        The status frame, with ``chief_<level>`` columns (any subset).

    Returns
    -------
    Series
        A level of :data:`geo.labels.LEVELS` (``"county"`` …), or ``""`` when
        the segment has no chief (or the patch no segment).
    """
    out = pd.Series("", index=frame.index, dtype=object)
    for level in reversed(_LEVEL_ORDER):  # lowest first, so higher levels win
        named = _text(frame, f"chief_{level}") != ""
        out = out.mask(named, level)
    return out


def _keys_and_rows(frame: pd.DataFrame, by: str) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Return the grouping key per patch and the table's rows ``(key, label)`` in order."""
    if by == "township":
        keys = _text(frame, "township")
        column = "township_code" if "township_code" in frame else "admin_code"
        codes = _text(frame, column) if column in frame else keys
        first = pd.DataFrame({"k": keys, "c": codes}).groupby("k")["c"].min()
        order = sorted(first.index, key=lambda k: (first[k] == "", first[k], k))  # unplaced last
        return keys, [(k, k or TEXT["no_township"]) for k in order]
    if by == "water_name":
        keys = _text(frame, "water_name")
        sizes = keys.value_counts()
        order = sorted(sizes.index, key=lambda k: (k == "", -sizes[k], k))
        return keys, [(k, k or LEDGER_SUMMARY["no_water"]) for k in order]
    if by == "source":  # who found it: the province's batches, the office's 自查, patrols
        keys = patch_source(frame)
        found = [k for k in SOURCE_CODES if (keys == k).any()]
        return keys, [(k, SOURCES[k]) for k in found]
    if by == "chief_level":
        keys = chief_level(frame)
        present = set(keys)
        order = [lv for lv in _LEVEL_ORDER if lv in present] + ([""] if "" in present else [])
        return keys, [(k, LEVELS[k] if k else TEXT["no_chief"]) for k in order]
    keys = _text(frame, "issue_type")
    extra = sorted(set(keys) - set(ISSUE_TYPES) - {""})
    order = [*ISSUE_TYPES, *extra] + ([""] if (keys == "").any() else [])
    return keys, [(k, label(ISSUE_TYPES, k) if k else "-") for k in order]


def _count_table(
    frame: pd.DataFrame, by: str, late: pd.Series, period: Period | None
) -> pd.DataFrame:
    keys, rows = _keys_and_rows(frame, by)
    states = _text(frame, "state")
    labels = [name for _, name in rows]
    order = [k for k, _ in rows]
    if frame.empty:
        counts = pd.DataFrame(0, index=order, columns=list(LIFECYCLE))
    else:
        counts = pd.crosstab(keys.to_numpy(), states.to_numpy()).reindex(
            index=order, columns=list(LIFECYCLE)
        )
        counts = counts.fillna(0).astype(int)
    ids = _text(frame, "patch_id")
    flags = {"total": pd.Series(True, index=frame.index), "overdue": late}
    if period is not None:
        flags["new_in_period"] = ids.isin(set(map(str, period[0])))
        flags["closed_in_period"] = ids.isin(set(map(str, period[1])))
    table = counts.copy()
    for name, flag in flags.items():
        table[name] = (
            flag.groupby(keys.to_numpy()).sum().reindex(order).fillna(0).astype(int).to_numpy()
        )
    whole = {s: int((states == s).sum()) for s in LIFECYCLE}
    whole |= {name: int(flag.sum()) for name, flag in flags.items()}
    table.loc["\0total"] = pd.Series(whole)
    closed = table["closed"].astype(float)
    table["closure_rate"] = (closed / table["total"].where(table["total"] > 0)).astype(float)
    _stage_rates(table)
    table.index = [*labels, COLUMNS["total"]]
    cols = [*LIFECYCLE, "total", "uncleared", "overdue", "closure_rate", *STAGE_RATES]
    if period is not None:
        cols += ["new_in_period", "closed_in_period"]
    return table[cols]


#: The two rates offices report, each over its own stage (:func:`_stage_rates`).
STAGE_RATES = ("verify_rate", "rectify_rate")


def _stage_rates(table: pd.DataFrame) -> None:
    """Add 未清零 and the rates of the two stages to a count table (in place).

    ``uncleared`` (未清零): not settled, 挂账监管 included; ``verify_rate`` (核查完成率):
    已核查 / 下发 (past 核查: 认定 a problem or not); ``rectify_rate`` (整改销号率):
    已销号 / 问题图斑 (the ministry's basis). NaN where the base is 0.
    """
    states = [s for s in LIFECYCLE if s in table.columns]
    table["uncleared"] = table[[s for s in states if s not in SETTLED]].sum(axis=1)
    verified = table[[s for s in states if s in VERIFIED_STATES]].sum(axis=1).astype(float)
    problems = table[[s for s in states if s in PROBLEM_STATES]].sum(axis=1).astype(float)
    table["verify_rate"] = verified / table["total"].where(table["total"] > 0)
    table["rectify_rate"] = table["closed"].astype(float) / problems.where(problems > 0)


def summary_tables(frame: pd.DataFrame, *, period: Period | None = None) -> dict[str, pd.DataFrame]:
    """Count the status frame per state by township, river, chief level and issue type.

    Parameters
    ----------
    frame : DataFrame
        The ledger's status frame (``Ledger.status_frame``).
    period : (collection of str, collection of str), optional
        Patch ids issued and closed in the reporting period.

    Returns
    -------
    dict of DataFrame
        Keys ``township``, ``water_name``, ``chief_level`` and ``issue_type``.
        Each table is indexed by the rows' Chinese labels, with a last row
        ``合计`` (the whole frame); columns are the states of :data:`LIFECYCLE`,
        ``total``, ``uncleared`` (未清零, 挂账监管 included), ``overdue``,
        ``closure_rate`` (closed / total, NaN for no patches), ``verify_rate``
        (核查完成率) and ``rectify_rate`` (整改销号率, :func:`_stage_rates`) and,
        with a period, ``new_in_period`` and ``closed_in_period``.
        Townships are ordered by their smallest code (unplaced last), rivers by count.
    """
    late = overdue_mask(frame)
    return {by: _count_table(frame, by, late, period) for by in _TABLES}


def overdue_list(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the overdue patches, the longest overdue first.

    Parameters
    ----------
    frame : DataFrame
        The status frame; ``overdue_days`` counts working days past the deadline.

    Returns
    -------
    DataFrame
        Columns :data:`OVERDUE_COLUMNS` (missing ones empty), one row per patch that
        is overdue and not settled, sorted by ``overdue_days`` (largest first),
        then ``patch_id``.
    """
    rows = frame[overdue_mask(frame).to_numpy()]
    out = pd.DataFrame(
        {c: (rows[c] if c in rows else pd.Series("", index=rows.index)) for c in OVERDUE_COLUMNS}
    )
    out["overdue_days"] = pd.to_numeric(out["overdue_days"], errors="coerce").astype(int)
    out["_id"] = out["patch_id"].astype(str)
    out = out.sort_values(["overdue_days", "_id"], ascending=[False, True], kind="stable")
    return out.drop(columns="_id").reset_index(drop=True)


class Formats:
    """The workbook's cell formats (one set per workbook)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": _FONT, "font_size": 10, "valign": "vcenter"}
        boxed = {**base, "border": 1}
        self.header = book.add_format(
            {**boxed, "bold": True, "bg_color": _HEADER_FILL, "text_wrap": True, "align": "center"}
        )
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.subtitle = book.add_format({**base, "bold": True, "font_size": 11})
        self.note = book.add_format({**base, "italic": True, "font_color": "#595959"})
        self.cell = book.add_format({**boxed, "num_format": "@"})
        self.number = book.add_format({**boxed, "num_format": "0"})
        self.total = book.add_format({**boxed, "bold": True})
        self.percent = book.add_format({**boxed, "num_format": "0.0%"})
        self.total_percent = book.add_format({**boxed, "bold": True, "num_format": "0.0%"})
        self.km = book.add_format({**boxed, "num_format": "#,##0.00"})
        self.pct100 = book.add_format({**boxed, "num_format": "0.0"})
        self.day = book.add_format({**boxed, "num_format": "yyyy-mm-dd"})
        self.overdue = book.add_format({"bg_color": _OVERDUE_FILL, "font_color": _OVERDUE_FONT})
        self._columns: dict[str, Format] = {}
        for kind, num in {
            "text": "@",
            "area": "#,##0.00",
            "int": "0",
            "coord": "0.000000",
            "date": "yyyy-mm-dd",
            "datetime": "yyyy-mm-dd hh:mm",
        }.items():
            self._columns[kind] = book.add_format({**base, "num_format": num})

    def column(self, kind: str) -> Format:
        """Return the column format of a ledger column of ``kind``."""
        return self._columns.get(kind, self._columns["text"])


def _put(sheet: Worksheet, row: int, col: int, value: Any, fmt: Format) -> None:
    """Write a number, a string (never a formula) or a blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        sheet.write_number(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def _title(sheet: Worksheet, text: str, width: int, fmt: Formats) -> None:
    sheet.merge_range(0, 0, 0, width - 1, "", fmt.title)
    sheet.write_string(0, 0, text, fmt.title)  # a string, never a formula
    sheet.set_row(0, 26)


def _headers(sheet: Worksheet, row: int, names: list[str], fmt: Formats) -> None:
    for col, text in enumerate(names):
        sheet.write_string(row, col, text, fmt.header)


#: Where the township table sits on the summary sheet, for the charts.
TableRef = dict[str, int]


def write_summary(
    sheet: Worksheet,
    frame: pd.DataFrame,
    *,
    title: str,
    as_of: str,
    fmt: Formats,
    period: Period | None = None,
    overdue_rows: int = 500,
    chain_head: str | None = None,
) -> tuple[list[tuple[str, str]], TableRef]:
    """Write the summary sheet.

    Returns the township rows ``(key, name)`` in order (for the township
    sheets) and where the township table is (for the charts): its header row,
    first and last data rows, total row and the columns of the state counts,
    the overdue count and the closure rate. ``chain_head`` (the ledger's 链首校验码)
    is shown in the title row.
    """
    tables = summary_tables(frame, period=period)
    width = len(next(iter(tables.values())).columns) + 1
    head = f"    {INTEGRITY['chain_head']} {chain_head}" if chain_head else ""
    _title(sheet, f"{title}    {TEXT['as_of']} {as_of}{head}", width, fmt)
    heads = {
        "township": (TEXT["by_township"], COLUMNS["township"]),
        "water_name": (LEDGER_SUMMARY["by_water"], COLUMNS["water_name"]),
        "chief_level": (LEDGER_SUMMARY["by_chief_level"], LEDGER_SUMMARY["chief_level"]),
        "issue_type": (TEXT["by_issue_type"], COLUMNS["issue_type"]),
        "source": (SOURCES["by_source"], SOURCES["source"]),
    }
    names = {**STATES, **COLUMNS, **EXPORT}
    row, ref, firsts = 2, {}, [COLUMNS["township"]]
    for by, table in tables.items():
        subtitle, heading = heads[by]
        sheet.write_string(row, 0, subtitle, fmt.subtitle)
        _headers(sheet, row + 1, [heading, *(names[c] for c in table.columns)], fmt)
        if by == "township":
            ref = {
                "header": row + 1,
                "first": row + 2,
                "last": row + len(table),  # the row above the total
                "total": row + 1 + len(table),
                "overdue": 1 + list(table.columns).index("overdue"),
                "rate": 1 + list(table.columns).index("closure_rate"),
            }
        for i, (name, values) in enumerate(table.iterrows(), start=row + 2):
            is_total = i == row + 1 + len(table)
            sheet.write_string(i, 0, str(name), fmt.total if is_total else fmt.cell)
            for col, (key, value) in enumerate(values.items(), start=1):
                if key in ("closure_rate", *STAGE_RATES):
                    cell = fmt.total_percent if is_total else fmt.percent
                    _put(sheet, i, col, None if pd.isna(value) else float(value), cell)
                else:
                    _put(sheet, i, col, int(value), fmt.total if is_total else fmt.number)
            firsts.append(str(name))
        row += len(table) + 3
    sheet.write_string(row - 1, 0, VERIFICATION["rates_note"], fmt.note)
    row += 1
    row = _write_overdue(sheet, row, frame, fmt=fmt, limit=overdue_rows)
    first = max([display_width(n) for n in firsts] + [8])
    sheet.set_column(0, 0, min(first + 2, MAX_WIDTH))
    sheet.set_column(1, max(width, len(OVERDUE_COLUMNS)) - 1, 13)
    towns = list(tables["township"].index[:-1])
    keys = [k for k, _ in _keys_and_rows(frame, "township")[1]]
    return list(zip(keys, towns, strict=True)), ref


def _write_overdue(
    sheet: Worksheet, row: int, frame: pd.DataFrame, *, fmt: Formats, limit: int
) -> int:
    late = overdue_list(frame)
    sheet.write_string(row, 0, LEDGER_SUMMARY["overdue_list"], fmt.subtitle)
    heads = [COLUMNS[c] for c in OVERDUE_COLUMNS[:-1]] + [LEDGER_SUMMARY["overdue_workdays"]]
    _headers(sheet, row + 1, heads, fmt)
    row += 2
    if late.empty:
        sheet.write_string(row, 0, LEDGER_SUMMARY["none_overdue"], fmt.note)
        return row + 1
    for values in late.head(max(limit, 0)).itertuples(index=False):
        for col, (name, value) in enumerate(zip(OVERDUE_COLUMNS, values, strict=True)):
            if name == "overdue_days":
                sheet.write_number(row, col, int(value), fmt.number)
            elif name == "state":
                sheet.write_string(row, col, label(STATES, value), fmt.cell)
            elif name == "deadline" and (day := _iso_day(value)) is not None:
                sheet.write_datetime(row, col, day, fmt.day)
            else:
                text = (
                    ""
                    if value is None or (isinstance(value, float) and math.isnan(value))
                    else value
                )
                sheet.write_string(row, col, str(text), fmt.cell)
        row += 1
    if len(late) > limit:
        sheet.write_string(
            row, 0, LEDGER_SUMMARY["overdue_more"].format(n=len(late) - limit), fmt.note
        )
        row += 1
    return row


def _iso_day(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def write_charts(
    book: xlsxwriter.Workbook, sheet: Worksheet, summary: Worksheet, ref: TableRef
) -> None:
    """Draw the charts sheet from the summary's township table.

    Three native Excel charts: patches per state (the table's total row),
    closure rate per township and overdue patches per township.
    """
    name = summary.get_name()
    states = (name, ref["header"], 1, ref["header"], len(LIFECYCLE))
    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": TEXT["by_state"],
            "categories": list(states),
            "values": [name, ref["total"], 1, ref["total"], len(LIFECYCLE)],
            "data_labels": {"value": True},
        }
    )
    _style(chart, TEXT["by_state"], COLUMNS["count"])
    sheet.insert_chart(1, 1, chart, {"x_scale": 1.6, "y_scale": 1.2})
    if ref["last"] < ref["first"]:
        return
    towns = [name, ref["first"], 0, ref["last"], 0]
    rate = book.add_chart({"type": "bar"})
    rate.add_series(
        {
            "name": COLUMNS["closure_rate"],
            "categories": towns,
            "values": [name, ref["first"], ref["rate"], ref["last"], ref["rate"]],
            "data_labels": {"value": True, "num_format": "0%"},
        }
    )
    _style(rate, TEXT["closure_by_township"], COLUMNS["closure_rate"])
    # In a bar chart the x axis is the (vertical) category axis: first township on top.
    rate.set_x_axis({"reverse": True, "num_font": {"name": _FONT}})
    rate.set_y_axis({"num_format": "0%", "min": 0, "max": 1, "name": COLUMNS["closure_rate"]})
    sheet.insert_chart(20, 1, rate, {"x_scale": 1.6, "y_scale": 1.4})
    late = book.add_chart({"type": "column"})
    late.add_series(
        {
            "name": STATES["overdue"],
            "categories": towns,
            "values": [name, ref["first"], ref["overdue"], ref["last"], ref["overdue"]],
            "fill": {"color": _OVERDUE_FONT},
            "data_labels": {"value": True},
        }
    )
    _style(late, LEDGER_SUMMARY["overdue_by_township"], COLUMNS["count"])
    sheet.insert_chart(42, 1, late, {"x_scale": 1.6, "y_scale": 1.2})


def _style(chart: Any, title: str, axis: str) -> None:
    font = {"name": _FONT}
    chart.set_title({"name": title, "name_font": {**font, "size": 12}})
    chart.set_legend({"none": True})
    chart.set_y_axis({"name": axis, "num_font": font, "name_font": font})
    chart.set_x_axis({"num_font": font})


def _need(frame: pd.DataFrame, columns: Collection[str], what: str, source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: the frame lacks {missing}; found {list(frame.columns)}; "
            f"build it with {source}"
        )


def _write_block(
    sheet: Worksheet,
    row: int,
    frame: pd.DataFrame,
    columns: Mapping[str, tuple[str, Format]],
    fmt: Formats,
) -> int:
    """Write ``frame``'s ``columns`` (header, format) as a table at ``row``; return the next row."""
    _headers(sheet, row, [head for head, _ in columns.values()], fmt)
    for i, values in enumerate(frame[list(columns)].itertuples(index=False), start=row + 1):
        for col, (value, (_, cell)) in enumerate(zip(values, columns.values(), strict=True)):
            if isinstance(value, bool):
                value = FIELD_WORK["behind"] if value else ""
            elif value is not None and not isinstance(value, str) and pd.isna(value):
                value = None
            elif hasattr(value, "isoformat") and not isinstance(value, str):
                value = value.isoformat()[:10]
            elif hasattr(value, "item"):
                value = value.item()
            _put(sheet, i, col, value, cell)
    return row + 1 + len(frame)


def write_coverage(
    sheet: Worksheet,
    coverage: pd.DataFrame,
    *,
    as_of: str,
    fmt: Formats,
    township_names: Mapping[str, str] | None = None,
) -> None:
    """Write the 岸线巡查 sheet from :func:`geo.field.coverage.shoreline_coverage`'s frame."""
    from geo.field.coverage import township_coverage

    _need(coverage, ("segment_id", "shoreline_km", "surveyed_km"), "coverage", "geo.field.coverage")
    names = dict(township_names or {})
    _title(sheet, f"{FIELD_WORK['coverage_sheet']}    {TEXT['as_of']} {as_of}", 8, fmt)
    within = coverage.attrs.get("hetu", {}).get("within_m")
    if within is not None:
        sheet.write_string(1, 0, LEDGER_SUMMARY["coverage_rule"].format(m=f"{within:g}"), fmt.note)
    row = 3
    if "admin_code" in coverage:
        towns = township_coverage(coverage)
        towns["township"] = towns["township_code"].map(names).fillna("")
        total = pd.DataFrame(
            {
                "township_code": [COLUMNS["total"]],
                "township": [""],
                "n_segments": [int(towns["n_segments"].sum())],
                "shoreline_km": [towns["shoreline_km"].sum()],
                "surveyed_km": [towns["surveyed_km"].sum()],
            }
        )
        km = total["shoreline_km"].iloc[0]
        total["coverage_pct"] = 100 * total["surveyed_km"] / km if km > 0 else math.nan
        sheet.write_string(row, 0, LEDGER_SUMMARY["coverage_by_township"], fmt.subtitle)
        cols = {
            "township_code": (FIELD_WORK["township_code"], fmt.cell),
            "township": (COLUMNS["township"], fmt.cell),
            "n_segments": (FIELD_WORK["n_segments"], fmt.number),
            "shoreline_km": (FIELD_WORK["shoreline_km"], fmt.km),
            "surveyed_km": (FIELD_WORK["surveyed_km"], fmt.km),
            "coverage_pct": (FIELD_WORK["coverage_pct"], fmt.pct100),
        }
        row = _write_block(sheet, row + 1, pd.concat([towns, total]), cols, fmt) + 1
    segs = coverage.assign(
        gap_km=coverage.get("gap_km", coverage["shoreline_km"] - coverage["surveyed_km"])
    )
    if "coverage_pct" not in segs:
        share = segs["surveyed_km"] / segs["shoreline_km"].where(segs["shoreline_km"] > 0)
        segs["coverage_pct"] = 100 * share
    segs = pd.DataFrame(segs.drop(columns="geometry", errors="ignore"))
    segs = segs.sort_values("coverage_pct", kind="stable", na_position="last")
    sheet.write_string(row, 0, LEDGER_SUMMARY["coverage_by_segment"], fmt.subtitle)
    cols = {
        "segment_id": (COLUMNS["segment_id"], fmt.cell),
        "water_name": (COLUMNS["water_name"], fmt.cell),
        "admin_code": (COLUMNS["admin_code"], fmt.cell),
        "shoreline_km": (FIELD_WORK["shoreline_km"], fmt.km),
        "surveyed_km": (FIELD_WORK["surveyed_km"], fmt.km),
        "gap_km": (FIELD_WORK["gap_km"], fmt.km),
        "coverage_pct": (FIELD_WORK["coverage_pct"], fmt.pct100),
        "n_tracks": (FIELD_WORK["n_tracks"], fmt.number),
    }
    _write_block(sheet, row + 1, segs, {k: v for k, v in cols.items() if k in segs}, fmt)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 7, 15)


def write_patrols(sheet: Worksheet, patrols: pd.DataFrame, *, fmt: Formats) -> None:
    """Write the 河长巡河 sheet from :func:`geo.field.patrols.patrol_completion`'s frame."""
    from geo.field.patrols import behind, completion_by_level

    need = ("chief_id", "name", "level", "level_label", "done", "required", "behind")
    _need(patrols, need, "patrols", "geo.field.patrols.patrols_ledger")
    span = patrols.attrs.get("hetu", {})
    when = ""
    if span.get("start") and span.get("end"):
        when = LEDGER_SUMMARY["period_range"].format(start=span["start"], end=span["end"])
        when = f"    {EXPORT['period']} {when}"
    _title(sheet, f"{FIELD_WORK['patrol_sheet']}{when}", 8, fmt)
    levels = completion_by_level(patrols)
    credited = patrols[["done", "required"]].min(axis=1).sum()
    need_all = int(patrols["required"].sum())
    total = {
        "level_label": COLUMNS["total"],
        "n_chiefs": len(patrols),
        "done": int(patrols["done"].sum()),
        "required": need_all,
        "completion_pct": 100 * credited / need_all if need_all else math.nan,
        "n_behind": int(patrols["behind"].sum()),
    }
    sheet.write_string(2, 0, LEDGER_SUMMARY["patrol_by_level"], fmt.subtitle)
    cols = {
        "level_label": (LEDGER_SUMMARY["chief_level"], fmt.cell),
        "n_chiefs": (FIELD_WORK["n_chiefs"], fmt.number),
        "done": (FIELD_WORK["done"], fmt.number),
        "required": (FIELD_WORK["required"], fmt.number),
        "completion_pct": (FIELD_WORK["completion_pct"], fmt.pct100),
        "n_behind": (FIELD_WORK["n_behind"], fmt.number),
    }
    row = _write_block(sheet, 3, pd.concat([levels, pd.DataFrame([total])]), cols, fmt) + 1
    late = behind(patrols)
    sheet.write_string(row, 0, LEDGER_SUMMARY["patrol_behind"], fmt.subtitle)
    cols = {
        "name": (LEDGER_SUMMARY["chief_name"], fmt.cell),
        "level_label": (LEDGER_SUMMARY["chief_level"], fmt.cell),
        "n_segments": (FIELD_WORK["n_segments"], fmt.number),
        "done": (FIELD_WORK["done"], fmt.number),
        "required": (FIELD_WORK["required"], fmt.number),
        "completion_pct": (FIELD_WORK["completion_pct"], fmt.pct100),
        "shortfall": (FIELD_WORK["shortfall"], fmt.number),
        "last_patrol": (FIELD_WORK["last_patrol"], fmt.cell),
    }
    row = _write_block(sheet, row + 1, late, {k: v for k, v in cols.items() if k in late}, fmt)
    if late.empty:
        sheet.write_string(row, 0, LEDGER_SUMMARY["none_behind"], fmt.note)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 7, 14)


def xl_cell(row: int, col: int, *, absolute_col: bool = False) -> str:
    """Return the A1 reference of a cell (``$P2`` with ``absolute_col``)."""
    return xl_rowcol_to_cell(row, col, col_abs=absolute_col)
