"""CSV and Excel tables with coordinates: the field's and the clerks' spreadsheets.

Columns are found by name (经度/纬度, lon/lat, 东坐标/北坐标, X/Y, or a WKT
column), or named by the caller. Cells may be degree-minute-second strings
(``114°18′00″``, ``114度18分``), carry hemisphere letters, or be typed with
full-width digits and punctuation (``１１４．３``); all are normalised. Swapped
columns are detected from the magnitudes and swapped, and the decision is
recorded. Surveyors' X is the northing (docs/architecture.md, Input pitfalls 1): an X/Y pair is
assigned by magnitude, never by name alone.

The CRS is not decided here: the points come back without one, for
:func:`geo.ingest.readers.read_layer` to take the caller's, or infer it.

Workbooks (``.xlsx``, ``.xlsm`` and the old ``.xls``, recognised by their content) are read
with python-calamine. :func:`choose_sheet` decides the sheet: the one named, else the first
whose header row has what the kind of data needs (:func:`sheet_for`), so a cover sheet or
填表说明 in front is passed over; the choice is a decision of the import record.

The header need not be row 1: :func:`read_table` takes the row the kind's column names are
in (:mod:`geo.ingest.headers`: titles and 填报单位 lines above it, a two-row header, blank rows
and a footer below the data), and keeps where each row is in the sheet
(:func:`sheet_rows`), so that :func:`table_row` gives the row Excel shows in every message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pandas.io.parsers import TextParser
from python_calamine import CalamineError, CalamineWorkbook

from geo.errors import IngestError, SchemaError
from geo.ingest.encodings import sniff_text_encoding
from geo.ingest.headers import SCAN_ROWS, Header, HeaderSpec, SheetRows, data_rows, find_header
from geo.ingest.profiles import REQUIRED, Profile, describe_fields, missing_fields
from geo.labels import COORDINATE_WORDS
from geo.text import normalise_header

#: Column holding the reason a row's geometry could not be read (kept, then quarantined).
UNREADABLE = "_hetu_unreadable"
#: Key of ``frame.attrs`` holding a table's :class:`~geo.ingest.headers.SheetRows`.
ROWS = "hetu_rows"

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")

_W = COORDINATE_WORDS
# Column names as :func:`_key` gives them (``the_geom`` is ``thegeom``).
_LON = {"lon", "lng", "long", "longitude", "jd", _W["lon"], _W["lon_east"]}
_LAT = {"lat", "latitude", "wd", _W["lat"], _W["lat_north"]}
_EAST = {"easting", "east", "e", _W["easting"], _W["easting_dir"], _W["easting_survey"]}
_NORTH = {"northing", "north", "n", _W["northing"], _W["northing_dir"], _W["northing_survey"]}
_X = {"x", "xzb", "xcoord", "pointx", _W["x"], _W["x_alt"]}
_Y = {"y", "yzb", "ycoord", "pointy", _W["y"], _W["y_alt"]}
_WKT = {"wkt", "geometry", "geom", "shape", "thegeom", _W["geometry"], _W["geometry_alt"]}
_HEMI = f"NSEW{_W['north']}{_W['south']}{_W['east']}{_W['west']}"
_NEGATIVE = {"S", "W", _W["south"], _W["west"]}
#: The coordinate columns looked for, as messages name them.
COORDINATE_HINT = (
    f"{_W['lon']}/{_W['lat']}, lon/lat, {_W['easting']}/{_W['northing']}, X/Y or a WKT column"
)

_DMS = re.compile(
    rf"^(?P<h1>[{_HEMI}])?\s*(?P<deg>[-+]?\d+(?:\.\d+)?)\s*"
    rf"(?:(?:°|{_W['degree']}|d|:)\s*"
    rf"(?:(?P<min>\d+(?:\.\d+)?)\s*(?:′|'|{_W['minute']}|m|:)?\s*"
    rf"(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:″|′′|''|\"|{_W['second']}|s)?)?)?)?"
    rf"\s*(?P<h2>[{_HEMI}])?$",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")


def table_row(index: int, rows: SheetRows | None = None) -> int:
    """The spreadsheet row of a table's ``index``-th data row (0-based), as Excel shows it.

    ``rows`` is where the table sits (:func:`sheet_rows`); without it the header is row 1.
    """
    return (rows or SheetRows()).row(index)


def sheet_rows(frame: pd.DataFrame) -> SheetRows | None:
    """Where a frame read from a table sits in its sheet; None for a layer's features."""
    rows = frame.attrs.get(ROWS)
    return rows if isinstance(rows, SheetRows) else None


def row_number(index: int, rows: SheetRows | None) -> int:
    """The row a message names: a table's spreadsheet row, else the feature's number from 1."""
    return rows.row(index) if rows is not None else index + 1


def where(index: int, rows: SheetRows | None) -> str:
    """``row N`` (a table's spreadsheet row) or ``feature N`` (a layer's, from 1)."""
    return f"row {rows.row(index)}" if rows is not None else f"feature {index + 1}"


def stored_row(index: int, rows: SheetRows | None) -> int:
    """The ``row`` a quarantined feature is stored with, read back by :func:`table_row`.

    A table's row is stored as its spreadsheet row - 2 (as it was when the header was
    always row 1, so earlier ledgers read the same); a layer's feature as its position.
    """
    return rows.row(index) - 2 if rows is not None else index


def _key(name: object) -> str:
    """A column name as matched: :func:`geo.text.normalise_header`, without 中心点/中心."""
    return normalise_header(name).removeprefix(_W["centre_point"]).removeprefix(_W["centre"])


def parse_coordinate(value: object) -> float | None:
    """Parse one coordinate cell: decimal, DMS string, full-width text; blank gives None.

    Parameters
    ----------
    value : object
        A cell, e.g. ``114.3``, ``"114°18′00″"``, ``"E114°18'"``, ``"28度30分15.5秒"``,
        ``"１１４．３"``, ``"3,098,000.5"``, ``"30.5S"``.

    Returns
    -------
    float or None

    Raises
    ------
    ValueError
        When the text is no coordinate (the caller names the row and field).
    """
    if value is None:
        return None
    if isinstance(value, int | float | np.number):
        return None if np.isnan(value) else float(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text or text.lower() in {"nan", "none", "null", "na", "n/a", "-"}:
        return None
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    m = _DMS.match(text)
    if m is None:
        raise ValueError(f"{value!r} is not a coordinate")
    deg = float(m["deg"])
    minutes = float(m["min"]) if m["min"] else 0.0
    seconds = float(m["sec"]) if m["sec"] else 0.0
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"{value!r}: minutes and seconds must be under 60")
    if (minutes or seconds) and not float(m["deg"]).is_integer():
        raise ValueError(f"{value!r}: degrees with a fraction cannot carry minutes")
    sign = -1.0 if deg < 0 or text.startswith("-") else 1.0
    hemi = (m["h1"] or m["h2"] or "").upper()
    if hemi in _NEGATIVE:
        sign = -1.0
    if m["h1"] and m["h2"]:
        raise ValueError(f"{value!r} names a hemisphere twice")
    return sign * (abs(deg) + minutes / 60 + seconds / 3600)


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
    coordinates = _LON | _LAT | _EAST | _NORTH | _X | _Y | _WKT

    def known(cell: str) -> bool:
        if normalise_header(cell) in keys:
            return True
        key = _key(cell)
        return spec.coordinates and (key in coordinates or key.endswith((_W["lon"], _W["lat"])))

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


def _find(columns: list[str], names: set[str], suffix: str | None = None) -> str | None:
    for col in columns:
        key = _key(col)
        if key in names or (suffix and key.endswith(suffix)):
            return col
    return None


def _parse_column(df: pd.DataFrame, col: str, *, reasons: list[str | None]) -> np.ndarray:
    values = np.full(len(df), np.nan)
    rows = sheet_rows(df)
    for i, cell in enumerate(df[col].tolist()):
        try:
            v = parse_coordinate(cell)
        except ValueError as exc:
            if reasons[i] is None:
                reasons[i] = f"row {table_row(i, rows)}, field {col}: {exc}; correct the cell"
            continue
        values[i] = np.nan if v is None else v
    return values


def _span(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else None


def _inside(span: tuple[float, float] | None, lo: float, hi: float) -> bool:
    return span is not None and lo <= span[0] and span[1] <= hi


def _is_easting(span: tuple[float, float] | None) -> bool:
    return _inside(span, 2e5, 8e5) or _inside(span, 1.3e7, 4.6e7)


def _is_northing(span: tuple[float, float] | None) -> bool:
    return _inside(span, 1.9e6, 6.1e6)


def _is_lon(span: tuple[float, float] | None) -> bool:
    return _inside(span, 73.0, 135.1)


def _is_lat(span: tuple[float, float] | None) -> bool:
    return _inside(span, 3.0, 54.0)


def _order(
    a: np.ndarray, b: np.ndarray, *, names: tuple[str, str], labels: str
) -> tuple[np.ndarray, np.ndarray, str]:
    """Return (east/lon, north/lat, note) from a pair whose first is meant to be east/lon."""
    sa, sb = _span(a), _span(b)
    first, second = names
    if (_is_lon(sa) and _is_lat(sb)) or (_is_easting(sa) and _is_northing(sb)):
        return a, b, f"coordinates from {labels}: {first} east/longitude, {second} north/latitude"
    if (_is_lat(sa) and _is_lon(sb)) or (_is_northing(sa) and _is_easting(sb)):
        return (
            b,
            a,
            (
                f"columns {first}/{second} hold north/east in that order: swapped "
                f"({first} taken as the northing or latitude, {second} as the easting or longitude)"
            ),
        )
    return a, b, f"coordinates from {labels}: {first} taken as east/longitude (magnitudes unclear)"


def points_from_table(
    df: pd.DataFrame,
    *,
    source: str,
    x_col: str | None = None,
    y_col: str | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Make geometries from a table's coordinate (or WKT) columns.

    Parameters
    ----------
    df : DataFrame
        From :func:`read_table` (not changed).
    source : str
        The file name, for messages.
    x_col, y_col : str, optional
        The easting/longitude and northing/latitude columns, overriding the
        search by name and the swap detection.

    Returns
    -------
    frame : GeoDataFrame
        Without a CRS; the coordinate columns are kept as attributes. Rows whose
        coordinates cannot be read get no geometry and a reason in the
        :data:`UNREADABLE` column (blank coordinates give a null geometry).
    decisions : list of str
        Which columns were used, and any swap.

    Raises
    ------
    SchemaError
        When no coordinate columns are found (lists the columns and the names
        looked for) or a named column is absent.
    """
    cols = [str(c) for c in df.columns]
    reasons: list[str | None] = [None] * len(df)
    if x_col or y_col:
        absent = [c for c in (x_col, y_col) if c is None or c not in cols]
        if absent:
            raise SchemaError(
                f"{source}: coordinate column(s) {absent} not found; give both, from: "
                f"{', '.join(cols)}"
            )
        east = _parse_column(df, x_col, reasons=reasons)
        north = _parse_column(df, y_col, reasons=reasons)
        note = f"coordinates from {x_col} (east/longitude) and {y_col} (north/latitude), as given"
        return _frame(df, east, north, reasons), [note]
    for a_col, b_col, labels in _pairs(cols):
        if a_col and b_col:
            a = _parse_column(df, a_col, reasons=reasons)
            b = _parse_column(df, b_col, reasons=reasons)
            east, north, note = _order(a, b, names=(a_col, b_col), labels=labels)
            return _frame(df, east, north, reasons), [note]
    wkt = _find(cols, _WKT)
    if wkt:
        geoms = np.full(len(df), None, dtype=object)
        for i, cell in enumerate(df[wkt].tolist()):
            if not isinstance(cell, str) or not cell.strip():
                continue
            try:
                geoms[i] = shapely.from_wkt(unicodedata.normalize("NFKC", cell))
            except shapely.errors.ShapelyError as exc:
                reasons[i] = (
                    f"row {table_row(i, sheet_rows(df))}, field {wkt}: not WKT "
                    f"({' '.join(str(exc).split())})"
                )
        out = gpd.GeoDataFrame(df.drop(columns=wkt), geometry=list(geoms))
        out.attrs = dict(df.attrs)
        if any(reasons):
            out[UNREADABLE] = reasons
        return out, [f"geometry from the WKT column {wkt}"]
    raise SchemaError(
        f"{source}: no coordinate columns found among: {', '.join(cols) or 'no columns'}. "
        f"Expected {COORDINATE_HINT}; or name them with --x-col and --y-col"
    )


def _pairs(cols: list[str]) -> tuple[tuple[str | None, str | None, str], ...]:
    """The coordinate column pairs found by name, in the order they are tried."""
    return (
        (_find(cols, _LON, _W["lon"]), _find(cols, _LAT, _W["lat"]), "longitude/latitude columns"),
        (_find(cols, _EAST), _find(cols, _NORTH), "easting/northing columns"),
        (_find(cols, _X), _find(cols, _Y), "X/Y columns"),
    )


def has_coordinates(columns: list[str]) -> bool:
    """Return whether :func:`points_from_table` finds coordinate (or WKT) columns by name."""
    cols = [str(c) for c in columns]
    return any(a and b for a, b, _ in _pairs(cols)) or _find(cols, _WKT) is not None


def _frame(
    df: pd.DataFrame, east: np.ndarray, north: np.ndarray, reasons: list[str | None]
) -> gpd.GeoDataFrame:
    ok = np.isfinite(east) & np.isfinite(north)
    geoms = np.full(len(df), None, dtype=object)
    geoms[ok] = shapely.points(east[ok], north[ok])
    out = gpd.GeoDataFrame(df.copy(), geometry=list(geoms))
    out.attrs = dict(df.attrs)
    if any(reasons):
        out[UNREADABLE] = reasons
    return out
