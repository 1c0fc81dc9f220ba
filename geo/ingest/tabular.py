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
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from python_calamine import CalamineError, CalamineWorkbook

from geo.errors import IngestError, SchemaError
from geo.ingest.encodings import sniff_text_encoding
from geo.ingest.profiles import REQUIRED, Profile, describe_fields, missing_fields
from geo.labels import COORDINATE_WORDS
from geo.text import normalise_header

#: Column holding the reason a row's geometry could not be read (kept, then quarantined).
UNREADABLE = "_hetu_unreadable"

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


def table_row(index: int) -> int:
    """The spreadsheet row of a table's ``index``-th data row (0-based; the header is row 1)."""
    return index + 2


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
) -> tuple[pd.DataFrame, str]:
    """Read a CSV or Excel sheet as text cells, deciding the CSV's encoding and delimiter.

    Parameters
    ----------
    path : path-like
        ``.csv``/``.txt``/``.tsv`` (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16)
        or ``.xlsx``/``.xlsm``/``.xls``.
    sheet : str or int, optional
        The Excel sheet (:func:`choose_sheet`); default the first.
    encoding : str, optional
        Override the sniffed CSV encoding.

    Returns
    -------
    frame : DataFrame
        Every cell as a string (blank cells NaN), column names stripped.
    note : str
        The encoding decision, for the import record.

    Raises
    ------
    IngestError
        When the file cannot be decoded or parsed.
    """
    p = Path(path)
    if p.suffix.lower() in EXCEL_SUFFIXES:
        name, _ = choose_sheet(p, sheet=sheet)
        df, note = _read_excel(p, sheet=name), "Excel: not applicable"
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
        df = _parse_csv(text.removeprefix("\ufeff"), source=p.name, tab=p.suffix == ".tsv")
    df.columns = [str(c).strip().removeprefix("\ufeff") for c in df.columns]
    if df.columns.duplicated().any():
        dup = sorted({c for c in df.columns[df.columns.duplicated()]})
        raise SchemaError(f"{p.name}: column name(s) appear twice: {', '.join(dup)}; rename them")
    return df, note


def _parse_csv(text: str, *, source: str, tab: bool) -> pd.DataFrame:
    if not text.strip():
        raise IngestError(f"{source}: the file is empty")
    delimiter = "\t" if tab else ","
    if not tab:
        try:
            delimiter = csv.Sniffer().sniff(text[:65536], delimiters=",\t;|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        return pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise IngestError(
            f"{source}: not a readable CSV table ({' '.join(str(exc).split())}); "
            "check that every row has the same number of columns"
        ) from exc


def _excel_error(p: Path, what: str, exc: Exception) -> IngestError:
    return IngestError(
        f"{p}: cannot read {what} ({' '.join(str(exc).split()) or type(exc).__name__}); check "
        "that the file opens in Excel without a password, and save it again as .xlsx"
    )


def _read_excel(p: Path, *, sheet: str) -> pd.DataFrame:
    try:  # calamine: .xlsx, .xlsm and the old .xls (also one renamed .xlsx), 8x openpyxl's speed
        return pd.read_excel(p, sheet_name=sheet, dtype=str, engine="calamine")
    except (ValueError, KeyError, OSError, CalamineError) as exc:
        raise _excel_error(p, f"sheet {sheet}", exc) from exc


def _workbook(p: Path) -> CalamineWorkbook:
    """Open a workbook by its content, not its suffix (an .xls saved as .xlsx reads too)."""
    try:
        with open(p, "rb") as fh:
            return CalamineWorkbook.from_filelike(fh)
    except (ValueError, OSError, CalamineError) as exc:
        raise _excel_error(p, "the workbook", exc) from exc


def _header(book: CalamineWorkbook, name: str, *, p: Path) -> list[str]:
    """A sheet's first row, as column names (blank cells left out)."""
    try:
        first = next(iter(book.get_sheet_by_name(name).iter_rows()), [])
    except (ValueError, KeyError, CalamineError) as exc:
        raise _excel_error(p, f"sheet {name}", exc) from exc
    return [str(c).strip() for c in first if str(c).strip()]


def choose_sheet(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    needs: Callable[[list[str]], list[str]] | None = None,
    hint: str = "",
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
        missing = needs(_header(book, name, p=p)) if needs else []
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
    name, why = choose_sheet(p, sheet=sheet, needs=needs, hint=hint)
    return name, [why]


def _find(columns: list[str], names: set[str], suffix: str | None = None) -> str | None:
    for col in columns:
        key = _key(col)
        if key in names or (suffix and key.endswith(suffix)):
            return col
    return None


def _parse_column(df: pd.DataFrame, col: str, *, reasons: list[str | None]) -> np.ndarray:
    values = np.full(len(df), np.nan)
    for i, cell in enumerate(df[col].tolist()):
        try:
            v = parse_coordinate(cell)
        except ValueError as exc:
            if reasons[i] is None:
                reasons[i] = f"row {table_row(i)}, field {col}: {exc}; correct the cell"
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
                    f"row {table_row(i)}, field {wkt}: not WKT ({' '.join(str(exc).split())})"
                )
        out = gpd.GeoDataFrame(df.drop(columns=wkt), geometry=list(geoms))
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
    if any(reasons):
        out[UNREADABLE] = reasons
    return out
