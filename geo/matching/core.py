"""Matching: which management range and segment each patch lands in, and how.

:func:`geo.matching.match_patches` is the analyst's and the benchmarks' entry point: plain
GeoDataFrames in any CRS, measured in metres in the CGCS2000 3-degree
Gauss-Kruger zone of the data.

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
- ``outside``: nothing within ``near_m``; the id is empty and ``distance_m``
  is the distance to the nearest range (NaN when there is none).

How the in-memory engine is fast (docs/architecture.md, Input pitfalls 4): the STRtree
holds the *patches* and is queried with the *ranges*, so the prepared side is
the large range polygons, each prepared once; a pair whose range covers the
patch takes the patch's own area without an intersection, and a convex patch
crossing a range's edge is clipped in NumPy (:mod:`geo.matching.clipping`) rather than
overlaid by GEOS; the nearest search measures, at once, only the boundary pieces its
bounds cannot rule out (:mod:`geo.matching.nearest`); and the GEOS work
(shapely releases the GIL) is spread over a thread pool (:mod:`geo.matching.pool`) in chunks of
*ranges*, each chunk prepared by the thread that uses it, so that no prepared
geometry is ever shared between threads (sharing them once aborted with a
glibc heap error). ``engine="dask"`` runs the same kernel per spatial
partition of a dask-geopandas frame (:mod:`geo.matching.partitions`).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo.errors import SchemaError
from geo.matching.clipping import convex_overlaps
from geo.matching.nearest import nearest_ranges
from geo.matching.pool import chunks, run_chunks, thread_count

log = logging.getLogger(__name__)

RESULT_COLUMNS = ["patch_id", "range_id", "relation", "overlap_m2", "share", "distance_m"]
RESULT_COLUMNS += ["primary"]
#: Engines :func:`match_patches` accepts.
ENGINES = ("local", "dask")
#: Ranges per thread task: small enough to balance two cores, large enough to amortise.
_RANGE_CHUNK = 256
#: Geometries per thread task of the projection (fewer are projected in one thread).
_PROJECT_CHUNK = 20_000
#: Ranges with more vertices than this are clipped to a patch's box before the overlay: an
#: overlay costs ~25 µs whatever its size up to a few hundred vertices (a river range), so
#: only long rings (lakes, whole-river ranges) gain from the clip's Python loop.
_CLIP_ABOVE = 1000


def metric_geoms(gdf: gpd.GeoDataFrame, crs: object, *, workers: int = 1) -> np.ndarray:
    """Return the frame's geometries in the metric ``crs`` as an array.

    With ``workers`` > 1 a large frame is projected and checked in that many threads, each
    with a transformer of its own (pyproj and GEOS release the GIL; a transformer is not
    shared between threads).
    """
    if gdf.crs is None:
        raise SchemaError("a frame has no CRS; set it with .set_crs() before matching")
    geoms = gdf.geometry.to_numpy()
    if not len(geoms):
        return geoms
    tasks = chunks(len(geoms), max(_PROJECT_CHUNK, -(-len(geoms) // workers)))
    if CRS.from_user_input(gdf.crs) != CRS.from_user_input(crs):
        src, dst = gdf.crs, crs

        def project(lo: int, hi: int) -> np.ndarray:
            fn = Transformer.from_crs(src, dst, always_xy=True).transform
            return shapely.transform(geoms[lo:hi], lambda x, y: fn(x, y), interleaved=False)

        geoms = np.concatenate(run_chunks(project, tasks, workers))
    valid = np.concatenate(
        run_chunks(lambda lo, hi: shapely.is_valid(geoms[lo:hi]), tasks, workers)
    )
    bad = ~valid & ~shapely.is_missing(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    return geoms


def check_columns(patches: Any, ranges: Any, id_column: str) -> None:
    """Raise :class:`SchemaError` when a frame lacks its id column."""
    for frame, col, name in ((patches, "patch_id", "patches"), (ranges, id_column, "ranges")):
        if col not in frame.columns:
            raise SchemaError(f"{name} needs a {col!r} column; found {list(frame.columns)}")


def empty_result(id_column: str) -> pd.DataFrame:
    """Return a matching result with no rows."""
    columns = [c if c != "range_id" else id_column for c in RESULT_COLUMNS]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def match_in_crs(
    patches: gpd.GeoDataFrame,
    ranges: gpd.GeoDataFrame,
    *,
    crs: CRS,
    near_m: float = 1000.0,
    id_column: str = "range_id",
    tolerance: float = 0.005,
    workers: int | None = None,
) -> pd.DataFrame:
    """Match in a given metric CRS: the kernel both engines run.

    Parameters
    ----------
    patches, ranges : GeoDataFrame
        As for :func:`match_patches`.
    crs : pyproj.CRS
        The metric CRS to measure in.
    near_m, id_column, tolerance, workers
        As for :func:`match_patches`.

    Returns
    -------
    DataFrame
        As :func:`match_patches`.
    """
    if patches.empty:
        return empty_result(id_column)
    nw = thread_count(workers)
    pg = metric_geoms(patches, crs, workers=nw)
    rg = metric_geoms(ranges, crs, workers=nw) if len(ranges) else np.array([], dtype=object)
    pid = patches["patch_id"].astype(str).to_numpy()
    rid = ranges[id_column].astype(str).to_numpy() if len(ranges) else np.array([], dtype=str)
    out = _match_arrays(pg, rg, rid, near_m=near_m, tolerance=tolerance, workers=workers)
    out.insert(0, "patch_id", pid[out.pop("i").to_numpy()])
    ids = out.pop("id").astype(object)
    out[id_column] = ids.where(ids.notna(), None)  # one dtype whatever the engine
    columns = [c if c != "range_id" else id_column for c in RESULT_COLUMNS]
    return out[columns]


def _own_objects(rg: np.ndarray) -> np.ndarray:
    """Return ``rg`` with no geometry object repeated (each is prepared by one thread only)."""
    seen: set[int] = set()
    dup = np.zeros(len(rg), dtype=bool)
    for k, g in enumerate(rg):
        if id(g) in seen and g is not None:
            dup[k] = True
        seen.add(id(g))
    if not dup.any():
        return rg
    rg = rg.copy()
    rg[dup] = shapely.from_wkb(shapely.to_wkb(rg[dup]))
    return rg


def _pairs(
    pg: np.ndarray, area: np.ndarray, rg: np.ndarray, *, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping (patch, range) pairs and their overlap areas, threaded by range chunks."""
    ptree = shapely.STRtree(pg)

    def work(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        own = rg[lo:hi]
        shapely.prepare(own)  # this thread's ranges only: never shared across threads
        ri, pi = ptree.query(own, predicate="intersects")
        rr = own[ri]
        pp = pg[pi]
        overlap = area[pi].copy()
        part = np.flatnonzero(~shapely.covers(rr, pp))  # covered: the patch's own area
        if len(part):
            cut = convex_overlaps(pp[part], own, ri[part])  # convex patches, in NumPy
            rest = np.isnan(cut)
            if rest.any():
                cut[rest] = _overlap_areas(pp[part[rest]], rr[part[rest]])
            overlap[part] = cut
        shapely.destroy_prepared(own)
        return ri + lo, pi, overlap

    size = max(16, min(_RANGE_CHUNK, -(-len(rg) // (8 * workers))))
    parts = run_chunks(work, chunks(len(rg), size), workers)
    if not parts:
        return np.array([], dtype=np.intp), np.array([], dtype=np.intp), np.array([])
    ri, pi, overlap = (np.concatenate(x) for x in zip(*parts, strict=True))
    return ri, pi, overlap


def _overlap_areas(pp: np.ndarray, rr: np.ndarray) -> np.ndarray:
    """Areas of ``pp[i] ∩ rr[i]``; a range of many vertices is first cut to the patch's box.

    The overlay of a small patch with a long ring (a lake, a river-long range) costs in
    the ring's vertices; clipping the ring to the patch's bounding box (a linear pass,
    :func:`shapely.clip_by_rect`) leaves a few vertices and the same intersection.
    """
    big = np.flatnonzero(shapely.get_num_coordinates(rr) > _CLIP_ABOVE)
    if len(big):
        clipped = rr.copy()
        boxes = shapely.bounds(pp[big]).tolist()
        for k, box in zip(big.tolist(), boxes, strict=True):
            clipped[k] = shapely.clip_by_rect(rr[k], *box)
        try:
            return shapely.area(shapely.intersection(pp, clipped))
        except shapely.errors.GEOSException:  # a clip GEOS could not overlay: the whole rings
            log.debug("clipped overlay failed; overlaying the whole ranges")
    return shapely.area(shapely.intersection(pp, rr))


def _match_arrays(
    pg: np.ndarray,
    rg: np.ndarray,
    rid: np.ndarray,
    *,
    near_m: float,
    tolerance: float,
    workers: int | None,
) -> pd.DataFrame:
    """The kernel: geometry arrays in metres to result rows keyed by patch position ``i``."""
    nw = thread_count(workers)
    rg = _own_objects(rg)
    area = shapely.area(pg)
    # ids ranked in string order, so that comparing codes is comparing ids
    uniq, code = np.unique(rid, return_inverse=True)
    ri, pi, overlap = _pairs(pg, area, rg, workers=nw)
    keep = overlap > 0
    touch = (pi[~keep], ri[~keep])  # intersecting with no area: distance 0
    pairs, count = _pair_rows(area, uniq, code, pi[keep], ri[keep], overlap[keep], tolerance)
    rest = np.flatnonzero(count == 0)
    lonely = _nearest(pg, rg, uniq, code, rest, touch, near_m=near_m, workers=nw)
    if not len(lonely):
        return pairs
    out = pd.concat([pairs, lonely], ignore_index=True)
    return out.iloc[np.argsort(out["i"].to_numpy(), kind="stable")].reset_index(drop=True)


def _pair_rows(
    area: np.ndarray,
    uniq: np.ndarray,
    code: np.ndarray,
    pi: np.ndarray,
    ri: np.ndarray,
    overlap: np.ndarray,
    tolerance: float,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows of the overlapping pairs, and the number of ranges each patch overlaps.

    ``area`` holds every patch's area (so its length is the number of patches).
    """
    rc = code[ri]
    if len(uniq) != len(code) and len(pi):  # rows sharing an id: sum their overlaps
        key = pi.astype(np.int64) * len(uniq) + rc
        ukey, inv = np.unique(key, return_inverse=True)
        overlap = np.bincount(inv, weights=overlap)
        pi, rc = (ukey // len(uniq)).astype(np.intp), (ukey % len(uniq)).astype(np.intp)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = overlap / area[pi]
    rank = np.round(share, 6)  # shares equal to 1 ppm tie; the id decides
    order = np.lexsort((rc, -rank, pi))
    pi, rc, overlap, share = pi[order], rc[order], overlap[order], share[order]
    primary = np.ones(len(pi), dtype=bool)
    primary[1:] = pi[1:] != pi[:-1]
    covered = np.bincount(pi, weights=share, minlength=len(area))
    count = np.bincount(pi, minlength=len(area))
    rel = np.where(
        covered < 1 - tolerance, "partly_outside", np.where(count >= 2, "straddles", "inside")
    )
    pairs = pd.DataFrame(
        {
            "i": pi,
            "id": uniq[rc] if len(uniq) else np.array([], dtype=object),
            "relation": rel[pi],
            "overlap_m2": overlap,
            "share": share,
            "distance_m": 0.0,
            "primary": primary,
        }
    )
    return pairs, count


def _nearest(
    pg: np.ndarray,
    rg: np.ndarray,
    uniq: np.ndarray,
    code: np.ndarray,
    rest: np.ndarray,
    touch: tuple[np.ndarray, np.ndarray],
    *,
    near_m: float,
    workers: int,
) -> pd.DataFrame:
    """Rows for patches that overlap nothing: ``near`` with the nearest range, or ``outside``.

    ``touch`` holds the (patch, range) pairs that intersect with no area.
    """
    if not len(rest):
        return pd.DataFrame()
    at = np.full(len(pg), -1, dtype=np.intp)
    at[rest] = np.arange(len(rest))
    mine = at[touch[0]] >= 0
    best, dist = nearest_ranges(
        pg[rest],
        rg,
        code,
        workers=workers,
        within=near_m,
        intersecting=(at[touch[0][mine]], touch[1][mine]),
    )
    near = dist <= near_m
    ids = np.full(len(rest), None, dtype=object)
    ids[near] = uniq[code[best[near]]]
    return pd.DataFrame(
        {
            "i": rest,
            "id": ids,
            "relation": np.where(near, "near", "outside"),
            "overlap_m2": 0.0,
            "share": 0.0,
            "distance_m": dist,
            "primary": True,
        }
    )
