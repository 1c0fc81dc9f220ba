"""Fill a province's own Excel template (省厅模板) with the ledger's patches.

Provinces hand counties an ``.xlsx`` with merged title rows, a fixed column
order and styled header rows, and want it back filled in. :func:`fill_template`
opens the template with openpyxl, finds the header row, and writes one row per
patch below it, keeping the template's styles, column widths, merged cells and
any footer (填报人, 审核人 …), which moves down below the rows.

Which frame column goes under which header is the *column map*: header text
→ a source, loadable from TOML (:func:`load_column_map`)::

    [columns]
    "序号" = "#"                     # the row number, 1, 2, …
    "图斑编号" = "patch_id"          # a status-frame column
    "问题类型" = "issue_type"        # states, issue types, relations: their Chinese labels
    "问题类型代码" = "issue_type|code"  # the province's code (1–4, 9)
    "整改状态" = "state|raw"         # the identifier itself
    "下发时间" = "issued_on|date"    # a date cell (dates are detected by column too)
    "县(市、区)" = "text:示范县"      # the same text on every row

Values are never formulas: a text starting with ``=`` is written as text.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tomllib
from collections.abc import Mapping
from copy import copy
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

import openpyxl
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from geo.errors import SettingsError, TemplateError
from geo.fileio import temp_beside
from geo.labels import ISSUE_TYPE_CODES, ISSUE_TYPES, RELATIONS, STATES, label
from geo.reports.excel import _parse_date, _parse_datetime, _replace_or_fallback
from geo.text import normalise_header

__all__ = ["TRANSFORMS", "TemplateError", "fill_template", "load_column_map", "parse_source"]

#: What may follow ``column|`` in a column map source.
TRANSFORMS = ("auto", "raw", "label", "code", "date", "datetime")
_LABELS = {"issue_type": ISSUE_TYPES, "relation": RELATIONS, "state": STATES}
_CODES = {"issue_type": {name: code for code, name in ISSUE_TYPE_CODES.items()}}
_DATES = {"detected_on": "date", "issued_on": "date", "deadline": "date", "state_since": "datetime"}
_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
_SEARCH_ROWS = 30


def _key(text: object) -> str:
    """Header text as matched: :func:`geo.text.normalise_header`, notes kept (面积（亩）≠ 面积)."""
    return normalise_header(text, keep_notes=True)


def parse_source(source: str) -> tuple[str, str]:
    """Split a column map source into ``(kind, value)``.

    Parameters
    ----------
    source : str
        ``#``, ``text:LITERAL``, ``column`` or ``column|transform``.

    Returns
    -------
    (str, str)
        ``("seq", "")``, ``("text", literal)`` or ``(transform, column)`` with
        ``transform`` one of :data:`TRANSFORMS`.

    Raises
    ------
    TemplateError
        If the source is empty or names an unknown transform.
    """
    text = source.strip()
    if text == "#":
        return "seq", ""
    if text.startswith("text:"):
        return "text", source.lstrip()[5:]
    column, _, transform = (part.strip() for part in text.partition("|"))
    transform = transform or "auto"
    if not column or transform not in TRANSFORMS:
        raise TemplateError(
            f"column map source {source!r}: write '#', 'text:…', a column name, or "
            f"'column|transform' with transform one of {', '.join(TRANSFORMS)}"
        )
    return transform, column


def load_column_map(path: str | os.PathLike) -> dict[str, str]:
    """Read a column map (header text → source) from the ``[columns]`` table of a TOML file.

    Parameters
    ----------
    path : path-like
        The TOML file (UTF-8); order of the entries is kept.

    Returns
    -------
    dict
        Header text → source, each source checked with :func:`parse_source`.

    Raises
    ------
    SettingsError
        If the file is missing, not TOML, lacks ``[columns]`` or holds a bad entry.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{p}: no such column map file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{p}: not a UTF-8 TOML file ({exc})") from exc
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise SettingsError(
            f'{p}: no [columns] table; write one line per template header, e.g. "图斑编号" = '
            '"patch_id"'
        )
    for header, source in columns.items():
        if not isinstance(source, str):
            raise SettingsError(f"{p}: [columns] {header!r} = {source!r}: the source must be text")
        try:
            parse_source(source)
        except TemplateError as exc:
            raise SettingsError(f"{p}: [columns] {header!r}: {exc}") from None
    return dict(columns)


def _header_texts(sheet: Worksheet, row: int) -> dict[int, str]:
    """Column number → header text of ``row``, a merged cell giving its top-left value."""
    texts = {}
    for col in range(1, sheet.max_column + 1):
        value = sheet.cell(row, col).value
        if value is None:
            for m in sheet.merged_cells.ranges:
                if m.min_row <= row <= m.max_row and m.min_col <= col <= m.max_col:
                    value = sheet.cell(m.min_row, m.min_col).value
                    break
        if _key(value):
            texts[col] = str(value).strip()
    return texts


def _find_header(sheet: Worksheet, wanted: list[str], header_row: int | None) -> int:
    if header_row is not None:
        if not 1 <= header_row <= max(sheet.max_row, 1):
            raise TemplateError(
                f"header row {header_row} is outside the template's rows 1–{sheet.max_row}"
            )
        return header_row
    keys = {_key(h) for h in wanted}
    best, hits = 0, 0
    for row in range(1, min(sheet.max_row, _SEARCH_ROWS) + 1):
        found = len(keys & {_key(t) for t in _header_texts(sheet, row).values()})
        if found > hits:
            best, hits = row, found
    if not hits:
        raise TemplateError(
            f"none of the column map's headers ({', '.join(wanted)}) is in the first "
            f"{_SEARCH_ROWS} rows of the template; check the map against the template, or "
            "give the header row"
        )
    return best


def _value(row: Mapping[str, Any], kind: str, column: str, seq: int) -> tuple[Any, str | None]:
    """Return the cell value and its number format (``None``: keep the template's)."""
    if kind == "seq":
        return seq, None
    if kind == "text":
        return column, None
    value = row[column]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    if not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value):
        return None, None
    if kind == "auto":
        kind = _DATES.get(column, "label" if column in _LABELS else "raw")
    if kind in ("date", "datetime"):
        parsed = _parse_date(value) if kind == "date" else _parse_datetime(value)
        if parsed is not None:
            return parsed, _FORMATS[kind]
    elif kind == "label":
        return label(_LABELS.get(column, {}), value), None
    elif kind == "code":
        return _CODES.get(column, {}).get(str(value), str(value)), None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
        return value, None
    return str(value), None


def _set(cell: Any, value: Any, number_format: str | None) -> None:
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"  # never a formula, even when it starts with '='
    else:
        cell.value = value
    if number_format is not None and not is_date_format(cell.number_format):
        cell.number_format = number_format  # a template's own date format is kept


def _filled(sheet: Worksheet, row: int) -> bool:
    return any(c.value is not None and str(c.value).strip() for c in sheet[row])


class _Proto:
    """The style a data cell copies: a template data cell's, or the header's made plain."""

    def __init__(self, cell: Any, *, plain: bool = False) -> None:
        self.border = copy(cell.border)
        self.alignment = copy(cell.alignment)
        self.number_format = cell.number_format
        font = cell.font
        self.font = Font(name=font.name, sz=font.sz) if plain else copy(font)
        self.fill = None if plain else copy(cell.fill)
        self.protection = copy(cell.protection)

    def apply(self, cell: Any) -> None:
        cell.border, cell.alignment, cell.font = self.border, self.alignment, self.font
        cell.number_format, cell.protection = self.number_format, self.protection
        if self.fill is not None:
            cell.fill = self.fill


def _move_footer(sheet: Worksheet, first: int, rows: int) -> None:
    """Move the non-empty rows from ``first`` down by ``rows`` (values, styles, merges, heights)."""
    last = sheet.max_row
    heights = {r: sheet.row_dimensions[r].height for r in range(first, last + 1)}
    for merged in list(sheet.merged_cells.ranges):
        if merged.min_row >= first:
            sheet.merged_cells.remove(merged)
            merged.shift(0, rows)
            sheet.merged_cells.add(merged)
    sheet.move_range(f"A{first}:{get_column_letter(sheet.max_column)}{last}", rows=rows)
    for r in range(last, first - 1, -1):
        sheet.row_dimensions[r + rows].height = heights[r]
        sheet.row_dimensions[r].height = None


def fill_template(
    frame: pd.DataFrame,
    template: str | os.PathLike,
    out: str | os.PathLike,
    *,
    column_map: Mapping[str, str],
    header_row: int | None = None,
    title: str | None = None,
    sheet: str | None = None,
) -> Path:
    """Fill a province ``.xlsx`` template with one row per patch of ``frame``.

    The header row is the one among the first 30 holding most of the map's
    headers (compared without whitespace; a merged header cell counts for
    every column it spans), unless ``header_row`` is given. Rows are written
    from the first row below the header block; each cell takes the style of
    the template's cell in that first data row (or of the header row when the
    template has no styled data row), the cell's number format becoming
    ``yyyy-mm-dd`` for dates. Rows below the header that hold text (a
    signature footer) move down below the data. Widths, merged title rows,
    print settings and header styles stay as the template has them.

    Parameters
    ----------
    frame : DataFrame
        The ledger's status frame (``Ledger.status_frame``), one row per patch.
    template : path-like
        The province's ``.xlsx`` template; not modified.
    out : path-like
        The file to write (atomically: a temporary file, then a rename; a
        timestamped name beside it when the target is open in Excel).
    column_map : mapping
        Header text → source (see :func:`parse_source` and the module docs).
    header_row : int, optional
        1-based row of the headers, when the search should not decide.
    title : str, optional
        Replaces the text of the template's first cell (its merged title).
    sheet : str, optional
        Sheet to fill; default the template's active sheet.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    TemplateError
        If a header of the map is not in the template (both are listed), a
        source names a column the frame lacks, or the template cannot be read.
    """
    sources = {header: parse_source(source) for header, source in column_map.items()}
    columns = {h: v for h, (k, v) in sources.items() if k not in ("seq", "text")}
    missing = [f"{h} → {v}" for h, v in columns.items() if v not in frame.columns]
    if missing:
        raise TemplateError(
            f"column map names columns the status frame lacks: {'; '.join(missing)}; "
            f"its columns are {', '.join(map(str, frame.columns))}"
        )
    src = Path(template)
    try:
        book = openpyxl.load_workbook(src)
    except (OSError, BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
        raise TemplateError(
            f"{src}: cannot open the template as .xlsx ({exc}); save it from Excel as .xlsx"
        ) from exc
    if sheet is not None and sheet not in book.sheetnames:
        raise TemplateError(f"{src}: no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
    ws = book[sheet] if sheet is not None else book.active
    row = _find_header(ws, list(sources), header_row)
    texts = _header_texts(ws, row)
    by_key: dict[str, int] = {}
    for col, text in texts.items():
        by_key.setdefault(_key(text), col)
    absent = [h for h in sources if _key(h) not in by_key]
    if absent:
        raise TemplateError(
            f"{src}: header(s) {', '.join(absent)} of the column map are not in row {row} "
            f"of sheet {ws.title}; the template's headers are {', '.join(texts.values())}"
        )
    spans = [m.max_row for m in ws.merged_cells.ranges if m.min_row <= row <= m.max_row]
    first = max(spans, default=row) + 1
    cols = sorted(by_key.values())
    footer = next((r for r in range(first, ws.max_row + 1) if _filled(ws, r)), None)
    if footer != first and any(ws.cell(first, c).has_style for c in cols):
        protos = {c: _Proto(ws.cell(first, c)) for c in cols}
    else:  # no styled data row: the header's borders, font and alignment
        protos = {c: _Proto(ws.cell(row, c), plain=True) for c in cols}
    if footer is not None:
        gap = 1 if footer > first else 0
        shift = first + len(frame) + gap - footer
        if shift > 0:
            _move_footer(ws, footer, shift)
    if title is not None:
        ws.cell(1, 1).value = title
    targets = [(by_key[_key(h)], kind, value) for h, (kind, value) in sources.items()]
    for seq, record in enumerate(frame.to_dict("records"), start=1):
        r = first + seq - 1
        for col in cols:
            protos[col].apply(ws.cell(r, col))
        for col, kind, source in targets:
            _set(ws.cell(r, col), *_value(record, kind, source, seq))
    target = Path(out)
    with temp_beside(target) as tmp:
        book.save(tmp)
        return _replace_or_fallback(tmp, target)
