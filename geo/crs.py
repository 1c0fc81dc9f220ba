"""Coordinate reference systems: storage, metric zones, and inference.

Hetu stores everything in CGCS2000 geographic (EPSG:4490), measures in the
CGCS2000 3-degree Gauss-Kruger zone of the data (EPSG:4534–4554, by central
meridian) and draws in EPSG:4326. A file without a ``.prj`` gets its CRS
inferred from coordinate magnitudes, and the decision is returned as a note
for the import record: never a silent default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo.errors import CRSError

STORAGE_EPSG = 4490
DRAW_EPSG = 4326

#: China's rough geographic box, lon/lat.
CHINA_BOX = (73.0, 3.0, 135.1, 54.0)


@dataclass(frozen=True)
class CRSDecision:
    """How an input's CRS was decided.

    Attributes
    ----------
    epsg : int or None
        The EPSG code, when the CRS has one.
    wkt : str
        The CRS as WKT, for CRSs without a code.
    how : str
        ``"file"`` (from the file), ``"override"`` (given by the caller) or
        ``"inferred"`` (from coordinate magnitudes).
    note : str
        A sentence saying what was assumed and why.
    """

    epsg: int | None
    wkt: str
    how: str
    note: str

    @property
    def crs(self) -> CRS:
        """The decided CRS as a :class:`pyproj.CRS`."""
        return CRS.from_epsg(self.epsg) if self.epsg else CRS.from_wkt(self.wkt)


def gauss_kruger_epsg(central_meridian: int) -> int:
    """Return the EPSG code of the CGCS2000 3-degree zone without prefix for a CM.

    Parameters
    ----------
    central_meridian : int
        Central meridian in degrees east, a multiple of 3 in 75–135.

    Returns
    -------
    int
        One of EPSG:4534–4554.
    """
    if central_meridian % 3 or not 75 <= central_meridian <= 135:
        raise CRSError(
            f"central meridian {central_meridian} is not a 3-degree zone meridian in China "
            "(75, 78, …, 135)"
        )
    return 4534 + (central_meridian - 75) // 3


def central_meridian_for(lon: float) -> int:
    """Return the 3-degree zone's central meridian nearest to ``lon``, clamped to China."""
    return int(min(135, max(75, 3 * round(lon / 3))))


def _zone_meridian(crs: CRS) -> int | None:
    """The central meridian of a CGCS2000 3-degree Gauss-Kruger zone (EPSG:4513–4554), else None."""
    code = crs.to_epsg(min_confidence=100) if crs.is_projected else None
    if code is None or not 4513 <= code <= 4554:
        return None
    return 75 + 3 * (code - (4513 if code <= 4533 else 4534))


def metric_crs(gdf: gpd.GeoDataFrame, *, central_meridian: int | None = None) -> CRS:
    """Return the CGCS2000 3-degree Gauss-Kruger CRS to measure ``gdf`` in.

    The zone is the one whose central meridian is nearest the centre of the data's
    bounds (the bounds alone are transformed, not the data). Data already in that zone
    (EPSG:4513–4554, with or without the zone prefix) are measured in their own CRS, so
    nothing is reprojected.

    Parameters
    ----------
    gdf : GeoDataFrame
        Data with a CRS set.
    central_meridian : int, optional
        The office's central meridian; otherwise the one nearest the data's centre.

    Returns
    -------
    pyproj.CRS
    """
    if central_meridian is None:
        if gdf.crs is None:
            raise CRSError("the frame has no CRS; set one with .set_crs() before measuring")
        crs = CRS.from_user_input(gdf.crs)
        bounds = gdf.geometry.total_bounds  # NaN when every geometry is empty or missing
        central_meridian = 114
        if np.isfinite(bounds).all():
            to_geo = Transformer.from_crs(crs, STORAGE_EPSG, always_xy=True)
            gx, gy = np.meshgrid(np.linspace(bounds[0], bounds[2], 9),
                                 np.linspace(bounds[1], bounds[3], 9))  # fmt: skip
            lon, _ = to_geo.transform(gx.ravel(), gy.ravel())
            lon = lon[np.isfinite(lon)]
            if len(lon):
                central_meridian = central_meridian_for((lon.min() + lon.max()) / 2)
        if _zone_meridian(crs) == central_meridian:
            return crs
    return CRS.from_epsg(gauss_kruger_epsg(central_meridian))


def infer_crs(
    bounds: tuple[float, float, float, float],
    *,
    central_meridian: int | None = None,
    source: str = "input",
) -> CRSDecision:
    """Infer a CRS from the coordinate magnitudes of a layer without one.

    Rules (docs/architecture.md, Input pitfalls 1): degrees inside China →
    EPSG:4490; an easting with a zone prefix (1.3e7–4.6e7) → the exact 6- or 3-degree zone; a plain
    Gauss-Kruger easting (2e5–8e5) with a northing (1.9e6–6.1e6) → the
    3-degree zone of the office's central meridian. Swapped axes are refused.

    Parameters
    ----------
    bounds : tuple
        ``(minx, miny, maxx, maxy)`` of the layer.
    central_meridian : int, optional
        The office's central meridian, needed for plain Gauss-Kruger eastings.
    source : str
        The file name, for messages.

    Returns
    -------
    CRSDecision

    Raises
    ------
    CRSError
        When no rule applies.
    """
    minx, miny, maxx, maxy = bounds
    if any(math.isnan(v) for v in bounds):
        raise CRSError(f"{source}: has no coordinates to infer a CRS from; give --crs")
    lon0, lat0, lon1, lat1 = CHINA_BOX
    if lon0 <= minx and maxx <= lon1 and lat0 <= miny and maxy <= lat1:
        return CRSDecision(
            STORAGE_EPSG,
            "",
            "inferred",
            "no .prj: coordinates are degrees inside China; assumed CGCS2000 (EPSG:4490)",
        )
    if minx >= 1.3e7 and maxx < 4.6e7 and miny >= 1.9e6 and maxy <= 6.1e6:
        zone = int(minx // 1e6)
        if zone != int(maxx // 1e6):
            raise CRSError(f"{source}: eastings span zones {zone}–{int(maxx // 1e6)}; give --crs")
        if 13 <= zone <= 23:
            epsg, kind = 4491 + zone - 13, f"6-degree zone {zone} (CM {6 * zone - 3}E)"
        elif 25 <= zone <= 45:
            epsg, kind = 4513 + zone - 25, f"3-degree zone {zone} (CM {3 * zone}E)"
        else:
            raise CRSError(f"{source}: easting prefix {zone} is no Gauss-Kruger zone in China")
        return CRSDecision(
            epsg,
            "",
            "inferred",
            f"no .prj: eastings carry zone prefix {zone}; assumed CGCS2000 {kind}, EPSG:{epsg}",
        )
    if minx >= 2e5 and maxx <= 8e5 and miny >= 1.9e6 and maxy <= 6.1e6:
        if central_meridian is None:
            raise CRSError(
                f"{source}: no .prj and Gauss-Kruger coordinates without zone prefix; the central "
                "meridian cannot be inferred: set [office] central_meridian in hetu.toml "
                "or give --crs"
            )
        epsg = gauss_kruger_epsg(central_meridian)
        return CRSDecision(
            epsg,
            "",
            "inferred",
            f"no .prj: Gauss-Kruger coordinates without zone prefix; assumed CGCS2000 3-degree "
            f"zone with the office's central meridian {central_meridian}E, EPSG:{epsg}",
        )
    if minx >= 1.9e6 and maxx <= 6.1e6 and ((miny >= 2e5 and maxy <= 8e5) or miny >= 1.3e7):
        raise CRSError(
            f"{source}: X and Y look swapped (X holds northings {minx:.0f}–{maxx:.0f}); "
            "swap the columns or give the CRS explicitly"
        )
    raise CRSError(
        f"{source}: no .prj and coordinates {bounds!r} match no CRS Hetu can infer; give --crs"
    )


def finite_mask(geoms: np.ndarray | gpd.GeoSeries) -> np.ndarray:
    """Whether each geometry's coordinates are all finite (no NaN or infinity).

    A missing or empty geometry counts as finite: it has no coordinate to be wrong.
    """
    geoms = np.asarray(geoms, dtype=object)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = np.zeros(len(geoms), dtype=bool)
    bad[index[~np.isfinite(coords).all(axis=1)]] = True
    return ~bad


def check_extent(
    gdf: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float] | None,
    *,
    source: str,
    fix: str = "the CRS is probably wrong: give --crs, or fix [office] extent",
) -> None:
    """Refuse a layer (in EPSG:4490) whose bounds fall outside the office's extent.

    Geometries with a non-finite coordinate are left to the caller (the readers
    quarantine them), so one NaN does not hide where the rest lies.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer in EPSG:4490.
    extent : tuple or None
        ``(min_lon, min_lat, max_lon, max_lat)``; ``None`` checks only China's box.
    source : str
        The file name, for messages.
    fix : str
        What the message advises.

    Raises
    ------
    CRSError
        When the data falls outside.
    """
    geoms = gdf.geometry.to_numpy()
    usable = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & finite_mask(geoms)
    if not usable.any():
        return
    minx, miny, maxx, maxy = shapely.total_bounds(geoms[usable])
    ex = extent or CHINA_BOX
    if minx < ex[0] or miny < ex[1] or maxx > ex[2] or maxy > ex[3]:
        where = "the office's extent" if extent else "China"
        raise CRSError(
            f"{source}: data spans lon {minx:.4f}–{maxx:.4f}, lat {miny:.4f}–{maxy:.4f}, outside "
            f"{where} {tuple(ex)}; {fix}"
        )
