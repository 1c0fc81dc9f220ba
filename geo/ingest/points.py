"""Patches given as points: a circle of the stated area (or radius) around each.

Many offices keep a patch list as centre points with an area (中心点 + 面积: 经度/纬度 and
TBMJ in a spreadsheet, or placemarks in a KML). A patch needs an outline to be matched to
a management range, so :func:`circles_from_points` draws each point as a circle: of the
area in a column or one area for all (``point_area``), or of one radius
(``point_buffer``). Areas are in square metres unless a unit says otherwise: in the
column's name (``面积（亩）``, ``TBMJ_公顷``), in the cell (``2.5亩``) or in the one area
given (``3亩``): 亩 (666.67 m², 1/15 公顷), 公顷/ha/hm², 平方公里/km², 平方米/m²/㎡.
The circle is drawn in the CGCS2000 Gauss-Kruger zone of the data
(:func:`geo.crs.metric_crs`), as a polygon whose area is the stated one, and returned in
the frame's CRS; a list of points given neither is refused, naming both.
"""

from __future__ import annotations

import math
import re
import unicodedata

import geopandas as gpd
import numpy as np
import shapely

from geo import crs as crs_mod
from geo.errors import SchemaError
from geo.ingest.tabular import UNREADABLE, sheet_rows, where
from geo.text import normalise_header

__all__ = ["QUAD_SEGS", "circles_from_points"]

#: Segments per quarter circle of a drawn circle (64 vertices).
QUAD_SEGS = 16
#: Radius factor that gives the polygon of :data:`QUAD_SEGS` the area of the true circle.
_TO_POLYGON = math.sqrt(2 * math.pi / (4 * QUAD_SEGS * math.sin(2 * math.pi / (4 * QUAD_SEGS))))


#: Area units as written in sheets and the square metres of one (1 亩 = 10000/15 m²).
AREA_UNITS = {
    "亩": 10000 / 15,
    "公顷": 10000.0,
    "hm2": 10000.0,
    "hm²": 10000.0,
    "ha": 10000.0,
    "平方公里": 1e6,
    "km2": 1e6,
    "km²": 1e6,
    "m²": 1.0,
    "平方米": 1.0,
    "m2": 1.0,
    "㎡": 1.0,
}
_UNIT = re.compile(
    r"^(?P<head>.*?)[\s_（(\[]*(?P<unit>"
    + "|".join(sorted(map(re.escape, AREA_UNITS), key=len, reverse=True))
    + r")[\s)）\]]*$",
    re.IGNORECASE,
)


def area_unit(text: object) -> tuple[str, float | None]:
    """Split a trailing area unit off a header or cell: ``("面积", 666.67)`` for ``面积（亩）``.

    Returns the text without the unit and the square metres of one unit, or the text
    (stripped) and ``None`` when it names no unit.
    """
    value = unicodedata.normalize("NFKC", str(text)).strip()
    found = _UNIT.match(value)
    if not found:
        return value, None
    before = value[: found.start("unit")]
    if found["unit"][0].isascii() and before[-1:].isascii() and before[-1:].isalpha():
        return value, None  # "Alpha" ends in ha but names no hectares
    return found["head"].strip(), AREA_UNITS[found["unit"].lower()]


def _unit_name(factor: float) -> str:
    return next(k for k, v in AREA_UNITS.items() if v == factor)


def _is_point(geoms: np.ndarray) -> np.ndarray:
    """Points, and multipoints of one point (as shapefiles store points)."""
    kinds = shapely.get_type_id(geoms)
    single = shapely.get_num_geometries(geoms) == 1
    return ((kinds == 0) | ((kinds == 4) & single)) & ~shapely.is_empty(geoms)


def _number(value: object) -> float | None:
    """A positive finite number from a cell (full-width digits, thousands commas), else None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None


def _area(value: object, factor: float) -> float | None:
    """Square metres of an area cell: a number in ``factor`` m² units, or one with its unit."""
    number = _number(value)
    if number is not None:
        return number * factor
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    head, own = area_unit(value)
    number = _number(head) if own is not None else None
    return None if number is None else number * own


def _area_column(gdf: gpd.GeoDataFrame, name: str, *, source: str) -> str:
    columns = [c for c in gdf.columns if c not in ("geometry", UNREADABLE)]
    for col in columns:
        if normalise_header(col) == normalise_header(name):
            return col
    for col in columns:  # 面积 names the column 面积（亩）
        if normalise_header(area_unit(col)[0]) == normalise_header(area_unit(name)[0]):
            return col
    raise SchemaError(
        f"{source}: point_area {name!r} is neither a number of square metres nor a column; "
        f"the columns are: {', '.join(map(str, columns))}"
    )


def circles_from_points(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    point_area: str | float | None = None,
    point_buffer: float | None = None,
    central_meridian: int | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Draw the point features of a patch layer as circles.

    Parameters
    ----------
    gdf : GeoDataFrame
        As :func:`geo.ingest.readers.read_layer` returns it (a CRS set; source columns;
        reasons in the ``_hetu_unreadable`` column). Not changed.
    source : str
        The file name, for messages; a table's rows are named as its spreadsheet rows
        (the header is row 1), other features by their number from 1.
    point_area : str or float, optional
        The circle's area in square metres: a number for every point, or the column holding
        each point's (``TBMJ``, ``面积``; matched like field names).
    point_buffer : float, optional
        The circle's radius in metres, instead of ``point_area``.
    central_meridian : int, optional
        The office's Gauss-Kruger zone; default the zone of the data.

    Returns
    -------
    frame : GeoDataFrame
        A copy with every point replaced by its circle; a point whose area cell is blank,
        not a number or not above zero gets no geometry and its reason in
        ``_hetu_unreadable`` (so it is quarantined). Other geometries are unchanged.
    decisions : list of str
        How many points were drawn, how, and in which CRS.

    Raises
    ------
    SchemaError
        When both options are given, a radius or area is not above zero, ``point_area``
        names no column, or every feature is a point and neither option is given (the
        message names the options).
    """
    if point_area is not None and point_buffer is not None:
        raise SchemaError(f"{source}: give point_area or point_buffer, not both")
    geoms = gdf.geometry.to_numpy()
    points = np.flatnonzero(_is_point(geoms))
    if not len(points):
        return gdf, []
    if point_area is None and point_buffer is None:
        present = int((~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)).sum())
        if len(points) < present:
            return gdf, []  # a stray point among outlines: quarantined as not a polygon
        raise SchemaError(
            f"{source}: all {len(points)} feature(s) are points (a centre, no outline), and a "
            "patch needs an area: give --point-area FIELD (the column of each patch's area in "
            "m², e.g. TBMJ or 面积), --point-area M2 (one area for all) or --point-buffer M "
            "(a circle of M metres radius)"
        )
    rows = sheet_rows(gdf)  # a table's rows are named as Excel shows them
    reasons = list(gdf[UNREADABLE]) if UNREADABLE in gdf.columns else [None] * len(gdf)
    radius = np.full(len(gdf), np.nan)
    one_area = _area(point_area, 1.0)  # one area for all ("400", "3亩"), else a column's name
    if point_buffer is not None:
        if _number(point_buffer) is None:
            raise SchemaError(f"{source}: point_buffer {point_buffer!r} must be metres above 0")
        radius[points] = float(point_buffer)
        how = f"circles of {float(point_buffer):g} m radius"
    elif one_area is not None:
        radius[points] = math.sqrt(one_area / math.pi)
        how = f"circles of {one_area:g} m²"
        if _number(point_area) is None:  # the area was given with its unit
            how = f"circles of {point_area} ({one_area:g} m²)"
    else:
        col = _area_column(gdf, str(point_area), source=source)
        factor = area_unit(col)[1] or 1.0
        unit = _unit_name(factor)
        how = f"circles of the area in {col} ({unit}" + (
            f", 1 {unit} = {factor:.6g} m²)" if factor != 1.0 else ")"
        )
        cells = gdf[col].to_numpy()
        for i in points:
            area = _area(cells[i], factor)
            if area is None:
                reasons[i] = (
                    f"{where(i, rows)}, field {col}: {cells[i]!r} is not an area above 0 {unit}; "
                    "a point needs its area to be drawn: fill the cell"
                )
            else:
                radius[i] = math.sqrt(area / math.pi)
    drawn = points[np.isfinite(radius[points])]
    metric = crs_mod.metric_crs(gdf, central_meridian=central_meridian)
    centres = gpd.GeoSeries(geoms[drawn], crs=gdf.crs).to_crs(metric).to_numpy()
    circles = shapely.buffer(
        shapely.get_geometry(centres, 0), radius[drawn] * _TO_POLYGON, quad_segs=QUAD_SEGS
    )
    out = gdf.copy()
    fixed = geoms.copy()
    fixed[drawn] = gpd.GeoSeries(circles, crs=metric).to_crs(gdf.crs).to_numpy()
    failed = np.setdiff1d(points, drawn)
    fixed[failed] = None
    out = out.set_geometry(list(fixed), crs=gdf.crs)
    if len(failed):
        out[UNREADABLE] = reasons
    decision = (
        f"{len(drawn)} point(s) drawn as {how}, in {metric.name} (EPSG:{metric.to_epsg()}), "
        f"stored in EPSG:{crs_mod.STORAGE_EPSG}"
    )
    if len(failed):
        decision += f"; {len(failed)} point(s) without a usable area quarantined"
    return out, [decision]
