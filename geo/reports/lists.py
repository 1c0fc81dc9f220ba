"""The three lists an office publishes each period: 问题清单, 责任清单, 任务清单.

Offices keep their river problems as three lists handled 滚动、销号、闭环 (南昌青云谱区
2021, seed 002: "继续对各类问题清单实行滚动、销号、闭环管理"; 株洲 names the set 问题清单、
责任清单、任务清单). No published form of those three lists was found, so the columns come
from the practice docs/documents.md cites (长寿区's 要点表, 景德镇's 一个问题、一套整改措施、
一张整改进度表). :func:`lists_workbook` writes them as one workbook per period (a quarter
``2026Q1`` or a month ``2026-04``), three printable sheets with the same rows:

- **问题清单** — what the problem is and where: 问题编号, 问题来源, 河湖, 河段, 乡镇,
  问题类型, 问题描述, 面积, 发现（下发）日期, 严重程度, 状态;
- **责任清单** — who answers for it: the 河长 of each level of its segment (the chiefs'
  list; 河长助理 and 巡查员 are no chiefs), 责任单位 (recorded at 落实责任, else the township
  government and the settings' ``duty_units``), 责任人, 联系电话;
- **任务清单** — what is to be done by when: the task of its stage (核查认定, 整改销号,
  监管复查), 整改措施, 责任单位, 完成时限, 期限类别, 完成情况, 逾期天数.

The rows are the ledger **as of** a day (:meth:`Ledger.status_frame`, replayed to its
end): every patch issued by then, except those judged 不是问题 and those closed before
the period began (a problem closed in the period is listed once more, 已销号, then drops
off: 销号). The columns of 责任单位, 责任人 and 整改措施 are those of the verification
details (:func:`geo.ledger.details.detail_columns`).

Each sheet has a title row, a 数据截至 row, then the header with 序号 first (repeated on
every printed page); text is written as text, never a formula (``write_string``), and
every sheet prints A4 landscape, one page wide (:func:`geo.fileio.print_setup`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo.clock import as_date, implausible, now
from geo.errors import SchemaError
from geo.fileio import xlsx_workbook
from geo.labels import COLUMNS, ISSUE_TYPES, LEVELS, LISTS, NOTICE, SOURCES, STATES, TEXT, label
from geo.policy.verification import stage_of
from geo.reports.assessment import quarter_bounds
from geo.reports.documents import output_folder
from geo.reports.excel import PRINT_FOOTER
from geo.reports.summary import Formats, patch_source
from geo.text import display_width

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

__all__ = ["LIST_COLUMNS", "list_tables", "lists_workbook", "period_bounds"]

#: The columns of each list (keys of :data:`geo.labels.COLUMNS` or :data:`LISTS`), after 序号.
LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "problems": ("patch_id", "source", "water_name", "segment_name", "township", "issue_type",
                 "description", "area_m2", "found_on", "severity", "state"),
    "duties": ("patch_id", "water_name", "segment_name", "township", "chief_county",
               "chief_township", "chief_village", "duty_unit", "duty_person", "duty_phone"),
    "tasks": ("patch_id", "water_name", "segment_name", "task", "measures", "duty_unit", "due",
              "deadline_kind", "progress", "overdue_days"),
}  # fmt: skip
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_SETTLED = ("closed", "dismissed")
_MAX_WIDTH = 48


def period_bounds(period: str) -> tuple[dt.date, dt.date, str]:
    """The first and last day of a period, and its name as a person reads it.

    Parameters
    ----------
    period : str
        A quarter (``2026Q1``) or a month (``2026-04``).

    Returns
    -------
    (date, date, str)

    Raises
    ------
    SchemaError
        For anything else.
    """
    text = str(period).strip()
    month = _MONTH.match(text)
    if month and 1 <= int(month.group(2)) <= 12:
        year, m = int(month.group(1)), int(month.group(2))
        first = dt.date(year, m, 1)
        after = dt.date(year + 1, 1, 1) if m == 12 else dt.date(year, m + 1, 1)
        return first, after - dt.timedelta(days=1), LISTS["month"].format(year=year, month=m)
    try:
        first, last = quarter_bounds(text)
    except SchemaError:
        raise SchemaError(
            f"period {period!r} is neither a quarter nor a month; write it like 2026Q1 or 2026-04"
        ) from None
    return first, last, LISTS["quarter"].format(year=first.year, q=(first.month + 2) // 3)


def _day(value: Any) -> str:
    return "" if value is None or value != value or value == "" else str(value)[:10]


def _task(state: str) -> str:
    if state in _SETTLED:
        return LISTS["task_done"]
    return LISTS[f"task_{stage_of(state)}"]


def list_tables(frame: pd.DataFrame, *, start: dt.date) -> dict[str, pd.DataFrame]:
    """The three lists from a status frame (``Ledger.status_frame(as_of=…)``).

    Parameters
    ----------
    frame : DataFrame
        The status frame of the lists' day, with the verification detail columns.
    start : datetime.date
        The period's first day: a problem closed before it is left out.

    Returns
    -------
    dict of str to DataFrame
        ``problems``, ``duties``, ``tasks``: :data:`LIST_COLUMNS` (Chinese text and
        numbers), the same rows in the same order (township, river, segment, id).
    """
    settled_before = frame["state"].eq("closed") & (
        frame["state_since"].map(_day).fillna("") < start.isoformat()
    )
    rows = frame[~frame["state"].eq("dismissed") & ~settled_before]
    rows = rows.assign(_id=rows["patch_id"].astype(str)).sort_values(
        ["township", "water_name", "segment_name", "_id"], kind="stable", na_position="last"
    )
    state = rows["state"].astype(str)
    found = rows["issued_on"].map(_day)
    values: dict[str, pd.Series] = {
        "patch_id": rows["_id"],
        "source": patch_source(rows).map(lambda k: SOURCES.get(k, k)),
        "issue_type": rows["issue_type"].map(lambda k: label(ISSUE_TYPES, str(k))),
        "area_m2": pd.to_numeric(rows["area_m2"], errors="coerce").round(1),
        "found_on": found.where(found != "", rows["detected_on"].map(_day)),
        "state": state.map(lambda s: label(STATES, s)),
        "task": state.map(_task),
        "due": rows["deadline"].map(_day).where(~state.isin(_SETTLED), ""),
        "progress": state.map(lambda s: label(STATES, s)),
        "overdue_days": pd.to_numeric(rows["overdue_days"], errors="coerce")
        .fillna(0)
        .astype(int)
        .where(~state.isin(_SETTLED), 0),
    }
    out = {}
    for name, cols in LIST_COLUMNS.items():
        table = {}
        for col in cols:
            if col in values:
                table[col] = values[col]
            else:
                table[col] = rows[col].fillna("").astype(str) if col in rows else ""
        out[name] = pd.DataFrame(table, index=rows.index).reset_index(drop=True)
    return out


def _head(col: str) -> str:
    if col.startswith("chief_"):
        return COLUMNS.get(col) or f"{label(LEVELS, col.removeprefix('chief_'))}河长"
    return LISTS.get(col) or COLUMNS.get(col, col)


def _sheet(book: Any, fmt: Formats, name: str, table: pd.DataFrame, *, title: str,
           as_of_line: str) -> None:  # fmt: skip
    """One list as a printable sheet: title, 数据截至, header (序号 first), rows."""
    sheet = book.add_worksheet(LISTS[name])
    heads = [NOTICE["number"], *(_head(c) for c in table.columns)]
    sheet.write_string(0, 0, title, fmt.title)
    sheet.write_string(1, 0, as_of_line, fmt.note)
    top = 2
    for col, head in enumerate(heads):
        sheet.write_string(top, col, head, fmt.header)
    sheet.set_column(0, 0, 6)
    for col, column in enumerate(table.columns, start=1):
        texts = table[column].astype(str)
        width = max([display_width(heads[col]), *(display_width(t) for t in texts)], default=6)
        sheet.set_column(col, col, min(width + 2, _MAX_WIDTH))
    for i, record in enumerate(table.itertuples(index=False), start=top + 1):
        sheet.write_number(i, 0, i - top, fmt.number)
        for col, value in enumerate(record, start=1):
            if isinstance(value, int | float) and not isinstance(value, bool):
                if value == value:
                    sheet.write_number(i, col, value, fmt.number if float(value).is_integer()
                                       else fmt.km)  # fmt: skip
                else:
                    sheet.write_blank(i, col, None, fmt.cell)
            else:
                sheet.write_string(i, col, str(value), fmt.cell)  # text, never a formula
    sheet.set_row(top, 30)
    sheet.freeze_panes(top + 1, 2)
    sheet.write_string(top + len(table) + 2, 0, LISTS["note"], fmt.note)
    sheet.repeat_rows(top)
    sheet.set_footer(PRINT_FOOTER)
    sheet.autofilter(top, 0, top + len(table), len(heads) - 1)


def lists_workbook(
    ledger: Ledger,
    out_dir: str | os.PathLike,
    *,
    period: str | None = None,
    as_of: dt.date | str | None = None,
) -> Path:
    """Write the period's 问题清单, 责任清单 and 任务清单 as one workbook.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    out_dir : path-like
        The folder (created); the file is ``河湖三个清单_<period>.xlsx``.
    period : str, optional
        ``2026Q1`` or ``2026-04``; default the month of ``as_of``.
    as_of : date or str, optional
        The day the lists show the ledger as it stood (replayed to its end); default the
        period's last day, or today when that is later. It must fall in the period.

    Returns
    -------
    pathlib.Path
        The workbook written.

    Raises
    ------
    SchemaError
        For a period not written like ``2026Q1`` or ``2026-04``, a day that is no date,
        a period or day not from 2000 to tomorrow (:func:`geo.clock.implausible`), or a day
        outside the period.
    OutputError
        If ``out_dir`` cannot be a folder.
    """
    try:
        day = as_date(as_of) if as_of is not None else None
    except ValueError:
        raise SchemaError(f"as_of {as_of!r} is not a date; give YYYY-MM-DD") from None
    if period is None:
        period = f"{(day or now().date()):%Y-%m}"
    start, end, name = period_bounds(period)
    why = implausible(start) or (implausible(day) if day is not None else None)
    if why:
        raise SchemaError(f"the lists' period {period}: {why}; give a period from 2000 to this one")
    if day is None:
        day = min(end, now().date())
    if not start <= day <= end:
        raise SchemaError(
            f"--as-of {day} is outside the period {period} ({start} to {end}); "
            "give a day within it, or another --period"
        )
    folder = output_folder(out_dir, what="lists")
    folder.mkdir(parents=True, exist_ok=True)
    frame = ledger.status_frame(as_of=day)
    tables = list_tables(frame, start=start)
    office = ledger.settings.office_name
    line = f"{TEXT['as_of']} {day}    {LISTS['period']} {start} {LISTS['to']} {end}"
    target = folder / LISTS["file"].format(period=period)
    with xlsx_workbook(target) as book:
        fmt = Formats(book)
        for key, table in tables.items():
            title = LISTS["title"].format(office=office, period=name, sheet=LISTS[key])
            _sheet(book, fmt, key, table, title=title, as_of_line=line)
    return target
