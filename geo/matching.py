"""Matching: which management range and segment each patch lands in, and how.

:func:`match_patches` is the analyst's and the benchmarks' entry point: plain
GeoDataFrames in any CRS, measured in metres in the CGCS2000 3-degree
Gauss-Kruger zone of the data, vectorised with shapely 2 and an STRtree.

Relations, one per patch (repeated on each of its rows):

- ``inside``: covered by one range (at least ``1 - tolerance`` of its area);
- ``straddles``: covered by two or more ranges together; the largest share is
  primary, ties (shares equal to 1 ppm) broken by the
  smallest id (string order);
- ``partly_outside``: overlaps one or more ranges but less than ``1 - tolerance``
  of it is covered (takes precedence over ``straddles``: the uncovered part
  is what the office must check with the province);
- ``near``: overlaps nothing, but a range lies within ``near_m``: the nearest
  range (ties: smallest id) and the distance;
- ``outside``: nothing within ``near_m``; ``range_id`` is empty and
  ``distance_m`` is the distance to the nearest range (NaN when there is none).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._errors import SchemaError
from geo.crs import metric_crs
from geo.store import Ledger

RESULT_COLUMNS = ["patch_id", "range_id", "relation", "overlap_m2", "share", "distance_m"]
RESULT_COLUMNS += ["primary"]


def _metric_geoms(gdf: gpd.GeoDataFrame, crs: object) -> np.ndarray:
    if gdf.crs is None:
        raise SchemaError("a frame has no CRS; set it with .set_crs() before matching")
    geoms = gdf.geometry.to_crs(crs).to_numpy()
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    return geoms


def match_patches(
    patches: gpd.GeoDataFrame,
    ranges: gpd.GeoDataFrame,
    *,
    near_m: float = 1000.0,
    id_column: str = "range_id",
    central_meridian: int | None = None,
    tolerance: float = 0.005,
) -> pd.DataFrame:
    """Match patches to management ranges.

    Parameters
    ----------
    patches : GeoDataFrame
        With a ``patch_id`` column; any CRS.
    ranges : GeoDataFrame
        With an ``id_column`` column; any CRS. Several rows may share an id.
    near_m : float
        Distance within which a patch outside every range is ``near``.
    id_column : str
        The ranges' id column (``"segment_id"`` matches segments); the output
        column has the same name.
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the data.
    tolerance : float
        Share of a patch's area that may fall outside and still count as covered.

    Returns
    -------
    DataFrame
        One row per overlapping (patch, range) pair plus one row per patch that
        overlaps nothing, with ``patch_id, <id_column>, relation, overlap_m2,
        share, distance_m, primary``; sorted by patch, primary first.

    Raises
    ------
    SchemaError
        If a frame lacks its id column or a CRS.
    """
    for frame, col, name in ((patches, "patch_id", "patches"), (ranges, id_column, "ranges")):
        if col not in frame.columns:
            raise SchemaError(f"{name} needs a {col!r} column; found {list(frame.columns)}")
    columns = [c if c != "range_id" else id_column for c in RESULT_COLUMNS]
    if patches.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    crs = metric_crs(patches, central_meridian=central_meridian)
    pg = _metric_geoms(patches, crs)
    rg = _metric_geoms(ranges, crs) if len(ranges) else np.array([], dtype=object)
    pid = patches["patch_id"].astype(str).to_numpy()
    rid = ranges[id_column].astype(str).to_numpy() if len(ranges) else np.array([], dtype=str)
    area = shapely.area(pg)
    tree = shapely.STRtree(rg)
    pi, ri = tree.query(pg, predicate="intersects")
    overlap = shapely.area(shapely.intersection(pg[pi], rg[ri])) if len(pi) else np.array([])
    pairs = pd.DataFrame({"i": pi, id_column: rid[ri] if len(ri) else [], "overlap_m2": overlap})
    pairs = pairs[pairs["overlap_m2"] > 0]
    pairs = pairs.groupby(["i", id_column], as_index=False, sort=False)["overlap_m2"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pairs["share"] = pairs["overlap_m2"].to_numpy() / area[pairs["i"].to_numpy()]
    covered = pairs.groupby("i")["share"].sum()
    count = pairs.groupby("i")[id_column].size()
    relation = np.where(
        covered < 1 - tolerance, "partly_outside", np.where(count >= 2, "straddles", "inside")
    )
    pairs["relation"] = pairs["i"].map(pd.Series(relation, index=covered.index))
    pairs["distance_m"] = 0.0
    pairs["_rank"] = pairs["share"].round(6)  # shares equal to 1 ppm tie; the id decides
    pairs = pairs.sort_values(["i", "_rank", id_column], ascending=[True, False, True])
    pairs["primary"] = ~pairs["i"].duplicated()

    rest = np.setdiff1d(np.arange(len(pg)), pairs["i"].unique())
    lonely = _nearest(pg, rg, rid, rest, tree, near_m=near_m, id_column=id_column)
    out = pd.concat([pairs, lonely], ignore_index=True) if len(lonely) else pairs
    out = out.sort_values(["i", "primary"], ascending=[True, False], kind="stable")
    out.insert(0, "patch_id", pid[out["i"].to_numpy()])
    return out[columns].reset_index(drop=True)


def _nearest(
    pg: np.ndarray,
    rg: np.ndarray,
    rid: np.ndarray,
    rest: np.ndarray,
    tree: shapely.STRtree,
    *,
    near_m: float,
    id_column: str,
) -> pd.DataFrame:
    """Rows for patches that overlap nothing: ``near`` with the nearest range, or ``outside``."""
    if not len(rest):
        return pd.DataFrame()
    dist = np.full(len(rest), np.nan)
    nearest = np.full(len(rest), None, dtype=object)
    ok = ~shapely.is_empty(pg[rest]) & ~shapely.is_missing(pg[rest])
    if len(rg) and ok.any():
        (qi, ti), d = tree.query_nearest(pg[rest[ok]], return_distance=True, all_matches=True)
        hits = pd.DataFrame({"q": qi, "id": rid[ti], "d": d}).sort_values(["q", "d", "id"])
        first = hits.drop_duplicates("q")
        idx = np.flatnonzero(ok)[first["q"].to_numpy()]
        dist[idx] = first["d"].to_numpy()
        nearest[idx] = first["id"].to_numpy()
    near = dist <= near_m
    return pd.DataFrame(
        {
            "i": rest,
            id_column: np.where(near, nearest, None),
            "overlap_m2": 0.0,
            "share": 0.0,
            "distance_m": dist,
            "relation": np.where(near, "near", "outside"),
            "primary": True,
        }
    )


def match_ledger(ledger: Ledger, *, near_m: float | None = None) -> pd.DataFrame:
    """Match every patch in the ledger to its segments and store the result.

    Parameters
    ----------
    ledger : Ledger
        The open ledger; its settings give the central meridian and ``near_m``.
    near_m : float, optional
        Override the office's ``near_m``.

    Returns
    -------
    DataFrame
        The assignments stored: ``patch_id, segment_id, range_id, relation,
        overlap_m2, share, distance_m, primary``.
    """
    settings = ledger.settings
    segments = ledger.segments()
    result = match_patches(
        ledger.patches(),
        segments,
        near_m=settings.near_m if near_m is None else near_m,
        id_column="segment_id",
        central_meridian=settings.central_meridian,
    )
    range_of = dict(zip(segments["segment_id"], segments["range_id"], strict=True))
    result.insert(2, "range_id", result["segment_id"].map(range_of))
    ledger.replace_assignments(result)
    return result
