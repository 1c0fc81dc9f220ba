"""Coordinates in a table: the columns that hold them, the cells, the order of the pair.

Columns are found by name (经度/纬度, lon/lat, 东坐标/北坐标, X/Y, or a WKT
column), or named by the caller. Cells may be degree-minute-second strings
(``114°18′00″``, ``114度18分``), carry hemisphere letters, or be typed with
full-width digits and punctuation (``１１４．３``); all are normalised. Swapped
columns are detected from the magnitudes and swapped, and the decision is
recorded. Surveyors' X is the northing (docs/architecture.md, Input pitfalls 1): an X/Y pair is
assigned by magnitude, never by name alone.

The CRS is not decided here: the points come back without one, for
:func:`geo.ingest.readers.read_layer` to take the caller's, or infer it. The table itself is
read by :func:`geo.ingest.tabular.read_table`.
"""

from __future__ import annotations

import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import SchemaError
from geo.ingest.headers import sheet_rows, table_row
from geo.labels import COORDINATE_WORDS
from geo.text import normalise_header

__all__ = [
    "COORDINATE_HINT", "UNREADABLE", "has_coordinates", "is_coordinate_name",
    "parse_coordinate", "points_from_table",
]  # fmt: skip

#: Column holding the reason a row's geometry could not be read (kept, then quarantined).
UNREADABLE = "_hetu_unreadable"

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
_COORDINATE_NAMES = _LON | _LAT | _EAST | _NORTH | _X | _Y | _WKT


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


def is_coordinate_name(cell: str) -> bool:
    """Whether a header cell names a coordinate (经度, X, 东坐标 …) or WKT column."""
    key = _key(cell)
    return key in _COORDINATE_NAMES or key.endswith((_W["lon"], _W["lat"]))


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
