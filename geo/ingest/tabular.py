"""CSV and Excel tables: the field's and the clerks' spreadsheets.

Workbooks (``.xlsx``, ``.xlsm`` and the old ``.xls``, recognised by their content) are read
with python-calamine. :func:`choose_sheet` decides the sheet: the one named, else the first
whose header row has what the kind of data needs (:func:`sheet_for`), so a cover sheet or
填表说明 in front is passed over; the choice is a decision of the import record.

The header need not be row 1: :func:`read_table` takes the row the kind's column names are
in (:mod:`geo.ingest.headers`: titles and 填报单位 lines above it, a two-row header, blank rows
and a footer below the data), and keeps where each row is in the sheet
(:func:`sheet_rows`), so that :func:`table_row` gives the row Excel shows in every message.

The coordinates in a table (columns found by name, DMS and full-width cells, swapped pairs)
are :mod:`geo.ingest.coordinates`'; its public names, and the row helpers of
:mod:`geo.ingest.headers`, are importable from here as before.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.io.parsers import TextParser
from python_calamine import CalamineError, CalamineWorkbook

from geo.errors import IngestError, SchemaError
from geo.ingest.coordinates import (
    COORDINATE_HINT,
    UNREADABLE,
    has_coordinates,
    is_coordinate_name,
    parse_coordinate,
    points_from_table,
)
from geo.ingest.encodings import sniff_text_encoding
from geo.ingest.headers import (
    ROWS,
    SCAN_ROWS,
    Header,
    HeaderSpec,
    SheetRows,
    data_rows,
    find_header,
    row_number,
    sheet_rows,
    stored_row,
    table_row,
    where,
)
from geo.ingest.profiles import REQUIRED, Profile, describe_fields, missing_fields
from geo.text import normalise_header

__all__ = [
    "COORDINATE_HINT", "EXCEL_SUFFIXES", "ROWS", "TABLE_SUFFIXES", "UNREADABLE", "choose_sheet",
    "has_coordinates", "header_spec", "parse_coordinate", "points_from_table", "read_table",
    "row_number", "sheet_for", "sheet_rows", "stored_row", "table_row", "where",
]  # fmt: skip

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def read_table(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    header: HeaderSpec | None = None,
    header_row: int | None = None,
) -> tuple[pd.DataFrame, str]:
    """Read a CSV or Excel sheet as text cells, finding its header row and its data rows.

    Parameters
    ----------
    path : path-like
        ``.csv``/``.txt``/``.tsv`` (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16)
        or ``.xlsx``/``.xlsm``/``.xls``.
    sheet : str or int, optional
        The Excel sheet (:func:`choose_sheet`); default the first.
    encoding : str, optional
        Override the sniffed CSV encoding.
    header : HeaderSpec, optional
        The column names the kind being read knows: the header is the row among the first
        20 that holds most of them (:func:`geo.ingest.headers.find_header`); default
        coordinate names only.
    header_row : int, optional
        The header's row (from 1, as Excel counts), where the search is wrong.

    Returns
    -------
    frame : DataFrame
        Every cell as a string (blank cells NaN), column names stripped; rows above the
        header, blank rows and a trailing footer (合计, 备注, 填表说明 …) left out.
        ``frame.attrs["hetu_rows"]`` is where the rows are in the sheet (:func:`sheet_rows`).
    note : str
        The encoding decision, for the import record.

    Raises
    ------
    IngestError
        When the file cannot be decoded or parsed.
    SchemaError
        For a ``header_row`` that is no row of the sheet, or a column name given twice.
    """
    p = Path(path)
    spec = header or HeaderSpec()
    if p.suffix.lower() in EXCEL_SUFFIXES:
        name, _ = choose_sheet(p, sheet=sheet)
        df, found = _read_excel(p, sheet=name, spec=spec, header_row=header_row)
        note = "Excel: not applicable"
    else:
        raw = p.read_bytes()
        try:
            if encoding:
                text, note = raw.decode(encoding), f"{encoding}: given by the caller"
            else:
                enc, why = sniff_text_encoding(raw)
                text, note = raw.decode(enc), f"{enc}: {why}"
        except (UnicodeDecodeError, LookupError) as exc:
            raise IngestError(
                f"{p}: text is not {encoding or 'UTF-8 or GB18030'} ({exc}); "
                "save it as UTF-8, or give the encoding"
            ) from exc
        df, found = _read_csv(
            text.removeprefix("\ufeff"), source=p.name, tab=p.suffix == ".tsv", spec=spec,
            header_row=header_row,
        )  # fmt: skip
    df.columns = [str(c).strip().removeprefix("\ufeff") for c in df.columns]
    if df.columns.duplicated().any():
        dup = sorted({c for c in df.columns[df.columns.duplicated()]})
        raise SchemaError(f"{p.name}: column name(s) appear twice: {', '.join(dup)}; rename them")
    df, rows = _data(df, found, spec=spec)
    log.info("%s: header: %s", p.name, found.note)
    for note in rows.notes[0 if found.plain else 1 :]:
        log.info("%s: %s", p.name, note)
    df.attrs[ROWS] = rows
    return df, note


def _known(spec: HeaderSpec) -> Callable[[str], bool]:
    """Whether a cell is a column name of ``spec`` (or a coordinate column's)."""
    keys = {normalise_header(n) for n in spec.names}

    def known(cell: str) -> bool:
        if normalise_header(cell) in keys:
            return True
        return spec.coordinates and is_coordinate_name(cell)

    return known


def _text(value: object) -> str:
    """A cell as text: stripped, ``""`` for an empty one (None, NaN, NaT)."""
    if isinstance(value, str):
        return value.strip()
    return "" if value is None or pd.isna(value) else str(value).strip()


def _find_header(
    cells: list[list[str]], spec: HeaderSpec, header_row: int | None, *, source: str
) -> Header:
    try:
        return find_header(cells, _known(spec), given=header_row)
    except SchemaError as exc:
        raise SchemaError(f"{source}: {exc}") from exc


def _unique(names: tuple[str, ...], width: int) -> list[str]:
    """Column names as pandas gives them: blanks ``Unnamed: j``, repeats ``name.1``."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for j in range(width):
        name = names[j].strip() if j < len(names) and names[j].strip() else f"Unnamed: {j}"
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(f"{name}.{n}" if n else name)
    return out


def _data(df: pd.DataFrame, found: Header, *, spec: HeaderSpec) -> tuple[pd.DataFrame, SheetRows]:
    """Leave out blank rows and the footer; say where the rows are and why."""
    keys = {normalise_header(n) for n in spec.key}
    key = next((j for j, c in enumerate(df.columns) if normalise_header(c) in keys), None)
    blank = df.isna().all(axis=1).to_numpy() if len(df.columns) else np.ones(len(df), bool)
    first = found.index + 2
    keep, skipped, notes = data_rows(
        len(df), blank=blank, text=lambda i: [_text(v) for v in df.iloc[i]], first=first, key=key
    )
    if len(keep) != len(df):
        df = df.iloc[keep].reset_index(drop=True)
    said = () if found.plain else (f"header: {found.note}",)
    rows = SheetRows(header=found.index + 1, first=first, skipped=skipped, notes=(*said, *notes))
    return df, rows


def _read_csv(
    text: str, *, source: str, tab: bool, spec: HeaderSpec, header_row: int | None
) -> tuple[pd.DataFrame, Header]:
    if not text.strip():
        raise IngestError(f"{source}: the file is empty")
    delimiter = "\t" if tab else ","
    if not tab:
        try:
            delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",\t;|").delimiter
        except csv.Error:
            delimiter = ","
    starts = [0]

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            starts.append(starts[-1] + len(line))
            yield line

    reader = csv.reader(lines(), delimiter=delimiter, skipinitialspace=True)
    cells: list[list[str]] = []
    begins: list[int] = []
    try:
        while len(cells) < max(SCAN_ROWS, header_row or 0) + 1:
            begins.append(starts[reader.line_num])
            cells.append([c.strip() for c in next(reader)])
    except StopIteration:
        begins.pop()
    except csv.Error as exc:
        raise IngestError(f"{source}: not a readable CSV table ({exc}); save it again") from exc
    found = _find_header(cells, spec, header_row, source=source)
    try:
        df = pd.read_csv(
            io.StringIO(text[begins[found.index]:]), sep=delimiter, dtype=str,
            skipinitialspace=True, skip_blank_lines=False,
        )  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise IngestError(
            f"{source}: not a readable CSV table ({' '.join(str(exc).split())}); "
            "check that every row has the same number of columns as the header (taken from "
            f"row {found.index + 1}: give --header-row N if the column names are in row N)"
        ) from exc
    if found.names is not None:
        df.columns = _unique(found.names, len(df.columns))
    return df, found


def _excel_error(p: Path, what: str, exc: Exception) -> IngestError:
    return IngestError(
        f"{p}: cannot read {what} ({' '.join(str(exc).split()) or type(exc).__name__}); check "
        "that the file opens in Excel without a password, and save it again as .xlsx"
    )


def _cell(value: object) -> object:
    """A calamine cell as pandas' ``read_excel`` gives it (whole floats int, dates datetimes)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def _read_excel(
    p: Path, *, sheet: str, spec: HeaderSpec, header_row: int | None
) -> tuple[pd.DataFrame, Header]:
    try:  # calamine: .xlsx, .xlsm and the old .xls (also one renamed .xlsx), 8x openpyxl's speed
        values = _workbook(p).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except (ValueError, KeyError, OSError, CalamineError) as exc:
        raise _excel_error(p, f"sheet {sheet}", exc) from exc
    top = max(SCAN_ROWS, header_row or 0) + 1
    cells = [[_text(c) for c in row] for row in values[:top]]
    found = _find_header(cells, spec, header_row, source=p.name)
    data = [[_cell(c) for c in row] for row in values[found.index :]]
    if not data:
        return pd.DataFrame(), found
    if found.names is not None:
        data[0] = _unique(found.names, len(data[0]))
    try:  # as pandas.read_excel(dtype=str) parses the rows (blank rows kept, then left out)
        df = TextParser(data, header=0, dtype=str, skip_blank_lines=False).read()
    except (ValueError, pd.errors.ParserError) as exc:
        raise _excel_error(p, f"sheet {sheet}", exc) from exc
    return df, found


def _workbook(p: Path) -> CalamineWorkbook:
    """Open a workbook by its content, not its suffix (an .xls saved as .xlsx reads too)."""
    try:
        with open(p, "rb") as fh:
            return CalamineWorkbook.from_filelike(fh)
    except (ValueError, OSError, CalamineError) as exc:
        raise _excel_error(p, "the workbook", exc) from exc


def _header(
    book: CalamineWorkbook, name: str, *, p: Path, spec: HeaderSpec, header_row: int | None
) -> list[str]:
    """A sheet's column names: its header row's (:func:`geo.ingest.headers.find_header`)."""
    top = max(SCAN_ROWS, header_row or 0) + 1
    try:
        values = book.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=top)
        cells = [[_text(c) for c in row] for row in values]
    except (ValueError, KeyError, CalamineError) as exc:
        raise _excel_error(p, f"sheet {name}", exc) from exc
    if not any(any(row) for row in cells):
        return []
    found = _find_header(cells, spec, header_row, source=p.name)
    return [c for c in (found.names or cells[found.index]) if c]


def choose_sheet(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    needs: Callable[[list[str]], list[str]] | None = None,
    hint: str = "",
    header: HeaderSpec | None = None,
    header_row: int | None = None,
) -> tuple[str, str]:
    """Decide which sheet of a workbook to read.

    Parameters
    ----------
    path : path-like
        An Excel workbook (``.xlsx``, ``.xlsm``, ``.xls``).
    sheet : str or int, optional
        The sheet the caller names: its name; a text of digits that is no sheet's name is
        its number counting from 1 (as a person counts); an int is its 0-based position.
        Without it, the first sheet whose header row ``needs`` finds nothing missing in.
    needs : callable, optional
        ``needs(header) -> what is missing`` (short names); default: nothing is needed,
        so the first sheet is taken.
    hint : str
        Appended to the error when no sheet has what is needed (e.g. the accepted names).
    header, header_row : optional
        How each sheet's header row is found (:func:`read_table`).

    Returns
    -------
    name : str
        The sheet.
    decision : str
        Which sheet, and why (for the import record).

    Raises
    ------
    SchemaError
        For a sheet that does not exist (naming the sheets there are), or when no sheet has
        what is needed (naming what each lacks).
    """
    p = Path(path)
    book = _workbook(p)
    names = [str(n) for n in book.sheet_names]
    listed = ", ".join(f"{i} {n}" for i, n in enumerate(names, 1))
    if sheet is not None:
        if isinstance(sheet, str) and sheet.strip() in names:
            return sheet.strip(), f"sheet {sheet.strip()}: as given"
        text = str(sheet).strip()
        index = sheet if isinstance(sheet, int) else int(text) - 1 if text.isdigit() else -1
        if not 0 <= index < len(names):
            raise SchemaError(
                f"{p.name}: there is no sheet {sheet!r}; its sheets are {listed}: "
                "give a name or a number from this list"
            )
        return names[index], f"sheet {names[index]} (number {index + 1} of {len(names)}): as given"
    lacking: dict[str, list[str]] = {}
    for i, name in enumerate(names, 1):  # only the sheets up to the first that fits are read
        missing = (
            needs(_header(book, name, p=p, spec=header or HeaderSpec(), header_row=header_row))
            if needs
            else []
        )
        if not missing:
            why = "the only one" if len(names) == 1 else f"number {i} of {len(names)}"
            skipped = "; ".join(f"{n} lacks {', '.join(m)}" for n, m in lacking.items())
            return name, f"sheet {name} ({why})" + (
                f": the first with the needed columns ({skipped})" if skipped else ""
            )
        lacking[name] = missing
    if len(names) == 1:
        return names[0], f"sheet {names[0]} (the only one)"  # the reader names what it lacks
    each = "; ".join(f"sheet {n} lacks {', '.join(m)}" for n, m in lacking.items())
    raise SchemaError(
        f"{p.name}: no sheet has the needed columns: {each}. Rename the columns, add their "
        f"names to an alias profile (--profile), or name the sheet (--sheet)"
        + (f". {hint}" if hint else "")
    )


def sheet_for(
    p: Path,
    sheet: str | int | None,
    kind: str,
    profile: Profile,
    *,
    coordinates: bool = True,
    x_col: str | None = None,
    y_col: str | None = None,
    header_row: int | None = None,
) -> tuple[str | int | None, list[str]]:
    """For a workbook: the sheet to read as ``kind`` (:func:`choose_sheet`), and why.

    The sheet needs the fields :data:`geo.ingest.profiles.REQUIRED` names for ``kind``
    (through ``profile``'s aliases) and, with ``coordinates``, coordinate columns (or
    ``x_col`` and ``y_col``). Another file, or one that does not exist, gives
    ``(sheet, [])``: nothing to decide.
    """
    if p.suffix.lower() not in EXCEL_SUFFIXES or not p.is_file():
        return sheet, []

    def needs(header: list[str]) -> list[str]:
        missing = missing_fields(header, kind, profile=profile)
        given = bool(x_col and y_col and {x_col, y_col} <= set(header))
        if coordinates and not (given or has_coordinates(header)):
            missing.append("coordinates")
        return missing

    hint = describe_fields(REQUIRED[kind], kind, profile)
    hint += f"; coordinates: {COORDINATE_HINT}" if coordinates else ""
    name, why = choose_sheet(
        p, sheet=sheet, needs=needs, hint=hint,
        header=header_spec(kind, profile, coordinates=coordinates), header_row=header_row,
    )  # fmt: skip
    return name, [why]


def header_spec(kind: str, profile: Profile, *, coordinates: bool = True) -> HeaderSpec:
    """The column names a header of ``kind`` holds: every alias of ``profile``'s ``kind``.

    The id column (a footer leaves it empty) is the first field :data:`REQUIRED` names.
    """
    fields = profile[kind]
    names = tuple(n for aliases in fields.values() for n in aliases)
    return HeaderSpec(names=names, key=fields[REQUIRED[kind][0]], coordinates=coordinates)
