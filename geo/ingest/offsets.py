"""GCJ-02 and BD-09: the offset coordinates of Chinese web maps, back to CGCS2000.

Gaode/AMap, Tencent and Google-China give GCJ-02; Baidu gives BD-09 (lon/lat,
``bd09ll``). Both are WGS84 shifted by hundreds of metres (docs/architecture.md, Input pitfalls 1).
A source declared so is converted with prcoords' iterative inverse (sub-
millimetre against the forward formula) and then taken as CGCS2000, which
differs from WGS84 by centimetres. Nothing is converted unless declared:
the offset cannot be told from the coordinates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import prcoords
import shapely

#: Declared sources and what each means.
SOURCE_CRS: dict[str, str] = {
    "wgs84": "WGS84 (GPS, Tianditu, KML, GPX): taken as CGCS2000",
    "cgcs2000": "CGCS2000",
    "gcj02": "GCJ-02 (Gaode/AMap, Tencent, Google China)",
    "bd09": "BD-09 lon/lat (Baidu bd09ll)",
}

_ALIASES = {
    "gcj": "gcj02",
    "gcj-02": "gcj02",
    "gcj02": "gcj02",
    "mars": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "bd": "bd09",
    "bd-09": "bd09",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "baidu": "bd09",
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "gps": "wgs84",
    "cgcs2000": "cgcs2000",
}


def source_crs_name(value: str) -> str:
    """Normalise a declared source (``gcj02``, ``GCJ-02``, ``baidu`` …) to a :data:`SOURCE_CRS` key.

    Raises
    ------
    ValueError
        For anything else (the caller wraps it in a typed error).
    """
    key = _ALIASES.get(str(value).strip().lower())
    if key is None:
        raise ValueError(
            f"unknown source coordinate system {value!r}; use one of {', '.join(SOURCE_CRS)}"
        )
    return key


def _inverse(source: str) -> Any:
    if source == "gcj02":
        return prcoords.gcj_wgs_bored
    if source == "bd09":
        return prcoords.bd_wgs_bored
    return None


def to_wgs84(lon: float, lat: float, *, source: str) -> tuple[float, float]:
    """Convert one GCJ-02 or BD-09 point to WGS84 (≈ CGCS2000).

    Parameters
    ----------
    lon, lat : float
        Degrees, in the declared source system (note the lon, lat order).
    source : str
        ``gcj02`` or ``bd09`` (``wgs84``/``cgcs2000`` return the input).

    Returns
    -------
    tuple of float
        ``(lon, lat)`` in WGS84.
    """
    inverse = _inverse(source_crs_name(source))
    if inverse is None:
        return lon, lat
    out = inverse(prcoords.Coords(lat, lon))  # prcoords takes (lat, lon)
    return out.lon, out.lat


def from_wgs84(lon: float, lat: float, *, source: str) -> tuple[float, float]:
    """Convert one WGS84 point to GCJ-02 or BD-09 (the forward offset), ``(lon, lat)``."""
    key = source_crs_name(source)
    if key == "gcj02":
        out = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    elif key == "bd09":
        out = prcoords.wgs_bd(prcoords.Coords(lat, lon))
    else:
        return lon, lat
    return out.lon, out.lat


def geometries_to_wgs84(geoms: np.ndarray, *, source: str) -> np.ndarray:
    """Convert an array of shapely geometries (lon/lat) from GCJ-02/BD-09 to WGS84.

    Parameters
    ----------
    geoms : ndarray of shapely geometries
        In the declared source system; missing geometries pass through.
    source : str
        ``gcj02`` or ``bd09``.

    Returns
    -------
    ndarray
        New geometries; the input is not changed.
    """
    inverse = _inverse(source_crs_name(source))
    if inverse is None:
        return np.asarray(geoms, dtype=object).copy()

    def convert(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        for i, (lon, lat) in enumerate(coords):
            if np.isfinite(lon) and np.isfinite(lat):
                c = inverse(prcoords.Coords(lat, lon))
                out[i] = (c.lon, c.lat)
            else:
                out[i] = (lon, lat)
        return out

    return shapely.transform(np.asarray(geoms, dtype=object), convert)
