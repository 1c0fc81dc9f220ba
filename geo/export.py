"""Exports of the rectification ledger (台账) for the office and its cron jobs.

:func:`write_ledger_xlsx` writes the status frame to an Excel workbook with a
summary sheet (counts by township and by issue type) and the ledger sheet (one
row per patch). Headers and labels come from :mod:`geo.labels`. The workbook is
written to a temporary file and moved into place, so a scheduled run never
leaves half a file where the clerk expects the ledger.
"""

from __future__ import annotations

import math
import os
import stat
import tempfile
import unicodedata
from collections.abc import Collection
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from geo._errors import CRSError, SchemaError
from geo.crs import STORAGE_EPSG
from geo.labels import COLUMNS, EXPORT, ISSUE_TYPES, RELATIONS, STATES, TEXT, label

__all__ = ["LEDGER_COLUMNS", "Period", "sheet_name", "write_ledger_xlsx"]

#: Patch ids new and closed in the reporting period: ``(new_ids, closed_ids)``.
Period = tuple[Collection[str], Collection[str]]

#: Columns of the ledger sheet, in order, and how each is written.
LEDGER_COLUMNS: dict[str, str] = {
    "patch_id": "text",
    "batch_id": "text",
    "issue_type": "issue_type",
    "township": "text",
    "admin_code": "text",
    "water_name": "text",
    "segment_id": "text",
    "segment_name": "text",
    "relation": "relation",
    "area_m2": "area",
    "detected_on": "date",
    "issued_on": "date",
    "state": "state",
    "state_since": "datetime",
    "deadline": "date",
    "overdue_days": "int",
    "chief_village": "text",
    "chief_township": "text",
    "chief_county": "text",
    "description": "text",
    "centroid_lon": "coord",
    "centroid_lat": "coord",
}

#: Lifecycle states in order: the columns of the summary tables.
LIFECYCLE = (
    "issued",
    "verifying",
    "confirmed",
    "dismissed",
    "monitored",
    "rectifying",
    "rectified",
    "closed",
)

_SETTLED = ("closed", "dismissed")
_CST = timezone(timedelta(hours=8))
_FONT = "Microsoft YaHei"
_OVERDUE_FILL = "#FFC7CE"
_OVERDUE_FONT = "#9C0006"
_HEADER_FILL = "#DDEBF7"
_MAX_WIDTH = 60
_SHEET_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
_NUM_FORMATS = {
    "area": "#,##0.00",
    "int": "0",
    "coord": "0.000000",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
_LABELS: dict[str, dict[str, str]] = {
    "issue_type": ISSUE_TYPES,
    "relation": RELATIONS,
    "state": STATES,
}


def _display_width(text: str) -> int:
    """Return the width of ``text`` in Excel units, full-width characters counting 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "FW" else 1 for ch in text)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return False
    if isinstance(value, float):
        return math.isnan(value)
    return pd.api.types.is_scalar(value) and bool(pd.isna(value))


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _parse_datetime(value: Any) -> datetime | None:
    """Return a naive datetime in Beijing time (Excel has no time zones)."""
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(_CST).replace(tzinfo=None)
    return when


def _overdue(frame: pd.DataFrame) -> pd.Series:
    if "overdue_days" not in frame or "state" not in frame:
        return pd.Series(False, index=frame.index)
    days = pd.to_numeric(frame["overdue_days"], errors="coerce").fillna(0)
    return (days > 0) & ~frame["state"].isin(_SETTLED)


def _centroids(frame: pd.DataFrame) -> tuple[list[float], list[float]]:
    """Return centroid longitudes and latitudes (EPSG:4490) of the frame's geometry."""
    n = len(frame)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None or n == 0:
        return [math.nan] * n, [math.nan] * n
    geoms = frame.geometry
    if geoms.crs is None and not (geoms.isna() | geoms.is_empty).all():
        raise CRSError("patches: the frame has no CRS; set EPSG:4490 with .set_crs() first")
    points = gpd.GeoSeries(shapely.centroid(geoms.values), index=frame.index, crs=geoms.crs)
    if points.crs is not None and not points.crs.equals(f"EPSG:{STORAGE_EPSG}"):
        points = points.to_crs(STORAGE_EPSG)
    return points.x.tolist(), points.y.tolist()


class _Formats:
    """The workbook's cell formats, each in a plain and an overdue (red) variant."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": _FONT, "font_size": 10, "valign": "vcenter"}
        self.header = book.add_format(
            {
                **base,
                "bold": True,
                "bg_color": _HEADER_FILL,
                "border": 1,
                "text_wrap": True,
                "align": "center",
            }
        )
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.subtitle = book.add_format({**base, "bold": True, "font_size": 11})
        self.cell = book.add_format({**base, "border": 1})
        self.total = book.add_format({**base, "border": 1, "bold": True})
        self.percent = book.add_format({**base, "border": 1, "num_format": "0.0%"})
        self._cells: dict[tuple[str, bool], Format] = {}
        for kind in ("text", *_NUM_FORMATS):
            for late in (False, True):
                props = dict(base)
                if kind in _NUM_FORMATS:
                    props["num_format"] = _NUM_FORMATS[kind]
                if kind == "text":
                    props["num_format"] = "@"
                if late:
                    props.update(bg_color=_OVERDUE_FILL, font_color=_OVERDUE_FONT)
                self._cells[kind, late] = book.add_format(props)

    def data(self, kind: str, late: bool) -> Format:
        """Return the format of a ledger cell of ``kind``."""
        return self._cells[kind if kind in _NUM_FORMATS else "text", late]


def _write_value(sheet: Worksheet, row: int, col: int, kind: str, value: Any, fmt: Format) -> str:
    """Write one ledger cell and return its text, for the column width."""
    if _missing(value) or (kind not in ("area", "int", "coord") and str(value) == ""):
        sheet.write_blank(row, col, None, fmt)
        return ""
    if kind in ("area", "int", "coord"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if math.isnan(number) or math.isinf(number):
            sheet.write_string(row, col, str(value), fmt)
            return str(value)
        number = round(number, {"int": 0, "area": 2, "coord": 6}[kind])
        sheet.write_number(row, col, number, fmt)
        return f"{number:,.6f}" if kind == "coord" else f"{number:,.2f}"
    if kind in ("date", "datetime"):
        parsed = _parse_date(value) if kind == "date" else _parse_datetime(value)
        if parsed is not None:
            sheet.write_datetime(row, col, parsed, fmt)
            return parsed.isoformat()[:16]
    text = label(_LABELS[kind], value) if kind in _LABELS else str(value)
    # write_string: a value starting with = + - @ stays text, never a formula.
    sheet.write_string(row, col, text, fmt)
    return text


def _write_ledger(sheet: Worksheet, frame: pd.DataFrame, fmt: _Formats) -> None:
    columns = list(LEDGER_COLUMNS)
    widths = [_display_width(COLUMNS[c]) for c in columns]
    for col, name in enumerate(columns):
        sheet.write_string(0, col, COLUMNS[name], fmt.header)
    lons, lats = _centroids(frame)
    values: dict[str, list[Any]] = {
        c: frame[c].tolist() if c in frame.columns else [None] * len(frame) for c in columns
    }
    values["centroid_lon"], values["centroid_lat"] = lons, lats
    late = _overdue(frame).tolist()
    for i in range(len(frame)):
        for col, name in enumerate(columns):
            kind = LEDGER_COLUMNS[name]
            text = _write_value(sheet, i + 1, col, kind, values[name][i], fmt.data(kind, late[i]))
            if 2 * len(text) > widths[col]:  # only then can the width grow
                wide = len(text) if text.isascii() else _display_width(text)
                widths[col] = max(widths[col], wide)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(width + 2, _MAX_WIDTH))
    sheet.set_row(0, 30)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, len(frame), len(columns) - 1)


def _write_table(
    sheet: Worksheet,
    top: int,
    frame: pd.DataFrame,
    *,
    by: str,
    heading: str,
    row_labels: list[tuple[object, str]],
    fmt: _Formats,
    period: Period | None = None,
) -> int:
    """Write a state-by-``by`` count table at row ``top``; return the next free row."""
    states = frame["state"] if "state" in frame else pd.Series(dtype=object)
    keys = frame[by] if by in frame else pd.Series("", index=frame.index)
    late = _overdue(frame)
    header = [
        heading,
        *(STATES[s] for s in LIFECYCLE),
        COLUMNS["total"],
        STATES["overdue"],
        COLUMNS["closure_rate"],
    ]
    ids = frame["patch_id"].astype(str) if "patch_id" in frame else pd.Series("", index=frame.index)
    fresh = closed = None
    if period is not None:
        header += [EXPORT["new_in_period"], EXPORT["closed_in_period"]]
        fresh, closed = ids.isin(set(period[0])), ids.isin(set(period[1]))
    for col, text in enumerate(header):
        sheet.write_string(top, col, text, fmt.header)

    def write_row(row: int, name: str, mask: pd.Series, cell: Format) -> None:
        sheet.write_string(row, 0, name, cell)
        counts = states[mask].value_counts()
        for col, state in enumerate(LIFECYCLE, start=1):
            sheet.write_number(row, col, int(counts.get(state, 0)), cell)
        total = int(mask.sum())
        sheet.write_number(row, len(LIFECYCLE) + 1, total, cell)
        sheet.write_number(row, len(LIFECYCLE) + 2, int((late & mask).sum()), cell)
        if total:
            rate = counts.get("closed", 0) / total
            sheet.write_number(row, len(LIFECYCLE) + 3, rate, fmt.percent)
        else:
            sheet.write_blank(row, len(LIFECYCLE) + 3, None, fmt.percent)
        if fresh is not None and closed is not None:
            sheet.write_number(row, len(LIFECYCLE) + 4, int((fresh & mask).sum()), cell)
            sheet.write_number(row, len(LIFECYCLE) + 5, int((closed & mask).sum()), cell)

    row = top + 1
    for key, name in row_labels:
        write_row(row, name, keys.fillna("").astype(str) == key, fmt.cell)
        row += 1
    write_row(row, COLUMNS["total"], pd.Series(True, index=frame.index), fmt.total)
    return row + 1


def _write_summary(
    sheet: Worksheet,
    frame: pd.DataFrame,
    *,
    title: str,
    as_of: str,
    fmt: _Formats,
    period: Period | None = None,
) -> list[tuple[object, str]]:
    """Write the summary sheet; return the township rows ``(key, name)`` in order."""
    width = len(LIFECYCLE) + (6 if period is not None else 4)
    sheet.merge_range(0, 0, 0, width - 1, "", fmt.title)
    sheet.write_string(0, 0, f"{title}    {TEXT['as_of']} {as_of}", fmt.title)
    sheet.set_row(0, 26)

    towns = frame["township"].fillna("").astype(str) if "township" in frame else None
    town_rows: list[tuple[object, str]] = []
    if towns is not None and not frame.empty:
        codes = frame["admin_code"].fillna("").astype(str) if "admin_code" in frame else towns
        order = pd.DataFrame({"town": towns, "code": codes}).groupby("town")["code"].min()
        for town in order.sort_values(kind="stable").index:
            town_rows.append((town, town or TEXT["no_township"]))
    sheet.write_string(2, 0, TEXT["by_township"], fmt.subtitle)
    frame_towns = frame.assign(township=towns) if towns is not None else frame
    row = _write_table(
        sheet,
        3,
        frame_towns,
        by="township",
        heading=COLUMNS["township"],
        row_labels=town_rows,
        fmt=fmt,
        period=period,
    )

    types = list(ISSUE_TYPES)
    if "issue_type" in frame:
        types += sorted(set(frame["issue_type"].dropna().astype(str)) - set(ISSUE_TYPES))
    sheet.write_string(row + 1, 0, TEXT["by_issue_type"], fmt.subtitle)
    _write_table(
        sheet,
        row + 2,
        frame,
        by="issue_type",
        heading=COLUMNS["issue_type"],
        row_labels=[(t, label(ISSUE_TYPES, t)) for t in types],
        fmt=fmt,
        period=period,
    )

    names = [n for _, n in town_rows] + [label(ISSUE_TYPES, t) for t in types]
    first = max([_display_width(n) for n in names] + [_display_width(COLUMNS["township"]), 8])
    sheet.set_column(0, 0, min(first + 2, _MAX_WIDTH))
    sheet.set_column(1, width - 1, 12)
    return town_rows


def sheet_name(name: str, taken: Collection[str] = ()) -> str:
    r"""Return ``name`` made a valid, unused Excel sheet name.

    Characters ``[]:*?/\`` become ``_``; the name is cut to 31 characters and
    numbered (``name(2)``) when it clashes, case-insensitively, with ``taken``.

    Parameters
    ----------
    name : str
        The wanted name, e.g. a township.
    taken : collection of str
        Names already in the workbook.

    Returns
    -------
    str
    """
    base = (name.translate(_SHEET_FORBIDDEN).strip("'") or "_")[:31]
    used = {t.casefold() for t in taken}
    candidate, n = base, 1
    while candidate.casefold() in used:
        n += 1
        suffix = f"({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    return candidate


def _replace_or_fallback(tmp: Path, target: Path) -> Path:
    """Move ``tmp`` over ``target``; if the target is locked, use a timestamped name."""
    try:
        os.replace(tmp, target)
    except PermissionError:
        # Windows: the target is open in Excel. Keep the new ledger beside it.
        stamp = datetime.now(_CST).strftime("%H%M%S")
        fallback = target.with_name(f"{target.stem}_{stamp}{target.suffix}")
        os.replace(tmp, fallback)
        return fallback
    return target


def write_ledger_xlsx(
    patches: gpd.GeoDataFrame | pd.DataFrame,
    path: str | os.PathLike,
    *,
    as_of: str | None = None,
    title: str | None = None,
    period: Period | None = None,
    township_sheets: bool = False,
) -> Path:
    """Write the rectification ledger (台账) to an Excel workbook.

    Sheet ``汇总`` holds a title row and counts by state per township and per
    issue type, with totals, overdue counts and the closure rate (closed /
    total). Sheet ``图斑台账`` holds one row per patch with Chinese headers,
    a frozen header row, an autofilter and overdue rows in light red. Text is
    always written as text, so codes keep their leading zeros and a value
    starting with ``=`` is never a formula.

    Parameters
    ----------
    patches : GeoDataFrame or DataFrame
        The ledger's status frame. Centroid columns are filled when it has a
        geometry. Not modified.
    path : path-like
        The ``.xlsx`` file to write; its directory must exist.
    as_of : str, optional
        Date the data stand at, shown in the title row; defaults to today (UTC+8).
    title : str, optional
        Title of the summary sheet; defaults to ``labels.TEXT["ledger"]``.
    period : (collection of str, collection of str), optional
        Patch ids issued and closed in the reporting period; when given, the
        summary tables gain the columns 本期新增 and 本期销号.
    township_sheets : bool
        Also write one ledger sheet per township (same layout as ``图斑台账``),
        after it, in the order of the summary.

    Returns
    -------
    pathlib.Path
        The file written: ``path``, or ``<stem>_<HHMMSS><suffix>`` beside it when
        ``path`` is locked (open in Excel on Windows).

    Raises
    ------
    SchemaError
        If a non-empty frame lacks ``patch_id`` or ``state``.
    CRSError
        If the frame has geometries but no CRS.
    """
    if not patches.empty:
        missing = [c for c in ("patch_id", "state") if c not in patches.columns]
        if missing:
            raise SchemaError(
                f"patches: the status frame lacks {missing}; found {list(patches.columns)}; "
                "build it with the ledger's status function"
            )
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        book = xlsxwriter.Workbook(
            tmp,
            {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
        )
        fmt = _Formats(book)
        summary = book.add_worksheet(TEXT["summary"])
        ledger = book.add_worksheet(TEXT["ledger_sheet"])
        towns = _write_summary(
            summary,
            patches,
            title=title or TEXT["ledger"],
            as_of=as_of or datetime.now(_CST).date().isoformat(),
            fmt=fmt,
            period=period,
        )
        _write_ledger(ledger, patches, fmt)
        if township_sheets and "township" in patches:
            keys = patches["township"].fillna("").astype(str)
            taken = [TEXT["summary"], TEXT["ledger_sheet"]]
            for key, name in towns:
                taken.append(sheet_name(name, taken))
                _write_ledger(book.add_worksheet(taken[-1]), patches[keys == key], fmt)
        book.close()
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
        os.chmod(tmp, mode)
        return _replace_or_fallback(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
