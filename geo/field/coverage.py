"""Shoreline coverage: how many kilometres of bank the survey tracks went along.

**The shoreline of a segment** (:func:`bank_lines`) is the boundary of its
management-range polygon without the cross-cuts at its two ends. A segment is
cut from a river's range by straight lines across the water (and a range that
ends at a county line or a confluence ends the same way), so the exterior ring
has four sharp corners: split there, the two longest pieces are the two banks
and the two short ones are the cuts, which are not shoreline. When the fourth
sharpest corner turns less than :data:`CORNER_DEG` the ring is taken whole
(a lake, a pond, a closed range); holes (islands) are shoreline too. Both banks
count, as in a shoreline survey (排查河湖岸线) that walks each side.

**Surveyed** means the parts of a bank within ``within_m`` metres of a track,
measured in the data's CGCS2000 Gauss-Kruger zone. A track along the middle of
a narrow river covers both banks; along one side of a wide river, one bank.
Coverage is surveyed over shoreline length, per segment and per township
(the first nine digits of the segment's ``admin_code``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as crs_mod
from geo.errors import SchemaError
from geo.matching.core import metric_geoms

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

#: Default distance, in metres, from a track within which the bank counts as surveyed.
WITHIN_M = 50.0
#: A ring whose fourth sharpest corner turns less than this (degrees) is shoreline whole.
CORNER_DEG = 45.0
#: Segment columns carried into every output, when present.
SEGMENT_KEYS = ("segment_id", "range_id", "water_name", "admin_code")
#: Columns of :func:`shoreline_coverage` (besides the ``geometry`` of the gaps).
COVERAGE_COLUMNS = (
    *SEGMENT_KEYS,
    "shoreline_km",
    "surveyed_km",
    "gap_km",
    "coverage_pct",
    "n_tracks",
)
#: Columns of :func:`township_coverage`.
TOWNSHIP_COLUMNS = ("township_code", "n_segments", "shoreline_km", "surveyed_km", "coverage_pct")


def _ring_banks(ring: shapely.LinearRing, *, whole: bool) -> list[shapely.LineString]:
    """Split a ring at its four sharpest corners; return the two longest pieces."""
    xy = np.asarray(ring.coords)[:-1]
    n = len(xy)
    if whole or n < 4:
        return [shapely.LineString(ring.coords)]
    prev = xy - np.roll(xy, 1, axis=0)
    nxt = np.roll(xy, -1, axis=0) - xy
    a = np.arctan2(nxt[:, 1], nxt[:, 0]) - np.arctan2(prev[:, 1], prev[:, 0])
    turn = np.degrees(np.abs((a + np.pi) % (2 * np.pi) - np.pi))
    order = np.argsort(-turn, kind="stable")
    if turn[order[3]] < CORNER_DEG:
        return [shapely.LineString(ring.coords)]
    corners = np.sort(order[:4])
    pieces = []
    for k in range(4):
        i, j = corners[k], corners[(k + 1) % 4]
        idx = list(range(i, j + 1)) if j > i else [*range(i, n), *range(0, j + 1)]
        pieces.append(shapely.LineString(xy[idx]))
    pieces.sort(key=lambda g: -g.length)
    return pieces[:2]


def _banks_of(geom: shapely.Geometry) -> list[shapely.LineString]:
    out: list[shapely.LineString] = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        out += _ring_banks(poly.exterior, whole=False)
        out += [shapely.LineString(r.coords) for r in poly.interiors]
    return out


def _metric_segments(
    segments: gpd.GeoDataFrame, central_meridian: int | None
) -> tuple[gpd.GeoDataFrame, object]:
    if "segment_id" not in segments.columns:
        raise SchemaError(
            f"segments need a 'segment_id' column; found {list(segments.columns)}"
            " (read them with Ledger.segments())"
        )
    crs = crs_mod.metric_crs(segments, central_meridian=central_meridian)
    return segments, crs


def bank_lines(
    segments: gpd.GeoDataFrame, *, central_meridian: int | None = None
) -> gpd.GeoDataFrame:
    """Return the shoreline of each segment: its banks, one row per bank line.

    Parameters
    ----------
    segments : GeoDataFrame
        Management-range polygons with ``segment_id`` (``Ledger.segments()``); any CRS.
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the data.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, columns ``segment_id, range_id, water_name, admin_code`` (those
        present), ``bank`` (1, 2, … within the segment) and ``length_m``; one
        LineString per bank, in segment order.

    Raises
    ------
    SchemaError
        If ``segment_id`` is missing or the frame has no CRS.
    """
    _, crs = _metric_segments(segments, central_meridian)
    keys = [c for c in SEGMENT_KEYS if c in segments.columns]
    geoms = metric_geoms(segments, crs)
    rows, lines = [], []
    for (_, seg), geom in zip(segments[keys].iterrows(), geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        for k, line in enumerate(_banks_of(geom), start=1):
            rows.append({**seg.to_dict(), "bank": k, "length_m": float(line.length)})
            lines.append(line)
    out = gpd.GeoDataFrame(
        rows or {c: [] for c in [*keys, "bank", "length_m"]}, geometry=lines, crs=crs
    )
    return out.to_crs(crs_mod.STORAGE_EPSG)


def _in_period(
    tracks: gpd.GeoDataFrame, start: dt.date | None, end: dt.date | None
) -> gpd.GeoDataFrame:
    if start is None and end is None:
        return tracks
    if "started_at" not in tracks.columns:
        raise SchemaError("tracks need a 'started_at' column to be filtered by period")
    day = pd.to_datetime(tracks["started_at"].str[:10], errors="coerce").dt.date
    keep = day.notna()
    if start is not None:
        keep &= day.map(lambda d: d is not None and not pd.isna(d) and d >= start)
    if end is not None:
        keep &= day.map(lambda d: d is not None and not pd.isna(d) and d <= end)
    return tracks[keep.astype(bool)]


def _lines_only(geom: shapely.Geometry) -> shapely.Geometry:
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type.endswith("LineString")]
    flat = [p for g in parts for p in getattr(g, "geoms", [g]) if not p.is_empty]
    if not flat:
        return shapely.MultiLineString()
    return shapely.line_merge(shapely.MultiLineString(flat))


def shoreline_pieces(
    tracks: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    within_m: float = WITHIN_M,
    start: dt.date | None = None,
    end: dt.date | None = None,
    central_meridian: int | None = None,
) -> gpd.GeoDataFrame:
    """Split every bank into covered and uncovered pieces: the map layer.

    Parameters
    ----------
    tracks : GeoDataFrame
        Survey tracks (``Ledger.tracks()``); any CRS.
    segments : GeoDataFrame
        As for :func:`bank_lines`.
    within_m : float
        Largest distance, in metres, from a track for a bank to count as surveyed.
    start, end : datetime.date, optional
        Only tracks that started on these days or between them (inclusive).
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the segments.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, the segment columns, ``bank``, ``covered`` (bool) and
        ``length_m``; one (Multi)LineString per bank and state, empty pieces left out.
    """
    if within_m < 0 or not math.isfinite(within_m):
        raise SchemaError(f"within_m must be a distance in metres >= 0; got {within_m!r}")
    _, crs = _metric_segments(segments, central_meridian)
    banks = bank_lines(segments, central_meridian=central_meridian).to_crs(crs)
    used = _in_period(tracks, start, end)
    tgeoms = metric_geoms(used, crs) if len(used) else np.array([], dtype=object)
    tgeoms = tgeoms[~shapely.is_missing(tgeoms)] if len(tgeoms) else tgeoms
    zones = shapely.buffer(tgeoms, within_m, quad_segs=16) if len(tgeoms) else tgeoms
    tree = shapely.STRtree(zones)
    rows, geoms = [], []
    keys = [c for c in banks.columns if c not in ("geometry", "length_m")]
    for (_, bank), line in zip(banks[keys].iterrows(), banks.geometry.to_numpy(), strict=True):
        hit = tree.query(line, predicate="intersects")
        zone = shapely.union_all(zones[hit]) if len(hit) else shapely.Polygon()
        covered = _lines_only(shapely.intersection(line, zone))
        gap = _lines_only(shapely.difference(line, zone))
        for flag, piece in ((True, covered), (False, gap)):
            if piece.is_empty or piece.length == 0:
                continue
            rows.append({**bank.to_dict(), "covered": flag, "length_m": float(piece.length)})
            geoms.append(piece)
    cols = [*keys, "covered", "length_m"]
    out = gpd.GeoDataFrame(rows or {c: [] for c in cols}, geometry=geoms, crs=crs)
    out["covered"] = out["covered"].astype(bool)
    out.attrs["hetu"] = {"within_m": within_m, "n_tracks": len(used)}
    return out.to_crs(crs_mod.STORAGE_EPSG)


def shoreline_coverage(
    tracks: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    within_m: float = WITHIN_M,
    start: dt.date | None = None,
    end: dt.date | None = None,
    central_meridian: int | None = None,
    pieces: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Return the shoreline surveyed per segment, with the gaps as lines.

    Parameters
    ----------
    tracks, segments, within_m, start, end, central_meridian
        As for :func:`shoreline_pieces`.
    pieces : GeoDataFrame, optional
        Its result for the same arguments, when already computed (for the map layer).

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per segment (every segment, surveyed or not), columns
        :data:`COVERAGE_COLUMNS` (those segment columns present): ``shoreline_km``,
        ``surveyed_km``, ``gap_km``, ``coverage_pct`` (0–100, NaN for a segment
        without shoreline) and ``n_tracks`` (tracks that touch the segment's
        covered shoreline); the geometry is the gaps (MultiLineString, empty when
        fully covered).

    Raises
    ------
    SchemaError
        If a frame lacks its columns or a CRS, or ``within_m`` is negative.
    """
    _, crs = _metric_segments(segments, central_meridian)
    if pieces is None:
        pieces = shoreline_pieces(
            tracks,
            segments,
            within_m=within_m,
            start=start,
            end=end,
            central_meridian=central_meridian,
        )
    pieces = pieces.to_crs(crs)
    keys = [c for c in SEGMENT_KEYS if c in segments.columns]
    base = pd.DataFrame(segments[keys]).drop_duplicates("segment_id").reset_index(drop=True)
    used = _in_period(tracks, start, end)
    tgeoms = metric_geoms(used, crs) if len(used) else np.array([], dtype=object)
    tree = shapely.STRtree(tgeoms)
    rows, gaps = [], []
    for _, seg in base.iterrows():
        mine = pieces[pieces["segment_id"] == seg["segment_id"]]
        cov = mine[mine["covered"]]
        total = float(mine["length_m"].sum())
        done = float(cov["length_m"].sum())
        n_tracks = 0
        if len(cov) and len(tgeoms):
            near = tree.query(cov.geometry.to_numpy(), predicate="dwithin", distance=within_m)
            n_tracks = len(set(near[1].tolist()))
        gap = mine[~mine["covered"]].geometry
        gaps.append(_lines_only(shapely.union_all(gap.to_numpy())) if len(gap) else None)
        rows.append(
            {
                **seg.to_dict(),
                "shoreline_km": total / 1000,
                "surveyed_km": done / 1000,
                "gap_km": (total - done) / 1000,
                "coverage_pct": 100 * done / total if total > 0 else float("nan"),
                "n_tracks": n_tracks,
            }
        )
    gaps = [g if g is not None else shapely.MultiLineString() for g in gaps]
    cols = [c for c in COVERAGE_COLUMNS if c in keys or c not in SEGMENT_KEYS]
    out = gpd.GeoDataFrame(rows or {c: [] for c in cols}, geometry=gaps, crs=crs)
    out.attrs["hetu"] = {"within_m": within_m, "n_tracks": len(used)}
    return out.to_crs(crs_mod.STORAGE_EPSG)


def township_coverage(coverage: pd.DataFrame) -> pd.DataFrame:
    """Roll segment coverage up per township (the first nine digits of ``admin_code``).

    Parameters
    ----------
    coverage : DataFrame
        From :func:`shoreline_coverage`.

    Returns
    -------
    DataFrame
        Columns :data:`TOWNSHIP_COLUMNS`, one row per township code (``""`` for
        segments without an admin code), sorted by code; ``coverage_pct`` is
        surveyed over shoreline kilometres, not a mean of percentages.
    """
    if "admin_code" not in coverage.columns:
        raise SchemaError(
            "coverage needs an 'admin_code' column for the township roll-up; "
            f"found {list(coverage.columns)}"
        )
    code = coverage["admin_code"].fillna("").astype(str).str[:9]
    df = pd.DataFrame(
        {
            "township_code": code,
            "shoreline_km": coverage["shoreline_km"].astype(float),
            "surveyed_km": coverage["surveyed_km"].astype(float),
        }
    )
    out = df.groupby("township_code", sort=True).agg(
        n_segments=("shoreline_km", "size"),
        shoreline_km=("shoreline_km", "sum"),
        surveyed_km=("surveyed_km", "sum"),
    )
    out["coverage_pct"] = (
        100 * out["surveyed_km"] / out["shoreline_km"].where(out["shoreline_km"] > 0)
    )
    return out.reset_index()[list(TOWNSHIP_COLUMNS)]


def coverage_ledger(
    ledger: Ledger,
    *,
    within_m: float = WITHIN_M,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> gpd.GeoDataFrame:
    """Shoreline coverage of the ledger's segments by its survey tracks.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    within_m, start, end
        As for :func:`shoreline_coverage`.

    Returns
    -------
    GeoDataFrame
        As :func:`shoreline_coverage`, measured in the office's zone.
    """
    return shoreline_coverage(
        ledger.tracks(),
        ledger.segments(),
        within_m=within_m,
        start=start,
        end=end,
        central_meridian=ledger.settings.central_meridian,
    )
