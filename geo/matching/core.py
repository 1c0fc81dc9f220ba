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
overlaid by GEOS; the bounded nearest search measures, at once, the boundary pieces whose
boxes reach each patch; and the GEOS work
(shapely releases the GIL) is spread over a thread pool in chunks of
*ranges*, each chunk prepared by the thread that uses it, so that no prepared
geometry is ever shared between threads (sharing them once aborted with a
glibc heap error). ``engine="dask"`` runs the same kernel per spatial
partition of a dask-geopandas frame (:mod:`geo.matching.partitions`).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo.errors import SchemaError
from geo.matching.clipping import convex_overlaps

log = logging.getLogger(__name__)

RESULT_COLUMNS = ["patch_id", "range_id", "relation", "overlap_m2", "share", "distance_m"]
RESULT_COLUMNS += ["primary"]
#: Engines :func:`match_patches` accepts.
ENGINES = ("local", "dask")
#: Ranges per thread task: small enough to balance two cores, large enough to amortise.
_RANGE_CHUNK = 256
#: Geometries per thread task of the projection (fewer are projected in one thread).
_PROJECT_CHUNK = 20_000
#: Patches per thread task of the nearest-range search.
_NEAR_CHUNK = 20_000
#: Candidate boundary pieces per patch above which the bounded search asks GEOS's nearest search.
_WITHIN_PER_GEOM = 64
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
    tasks = _chunks(len(geoms), max(_PROJECT_CHUNK, -(-len(geoms) // workers)))
    if CRS.from_user_input(gdf.crs) != CRS.from_user_input(crs):
        src, dst = gdf.crs, crs

        def project(lo: int, hi: int) -> np.ndarray:
            fn = Transformer.from_crs(src, dst, always_xy=True).transform
            return shapely.transform(geoms[lo:hi], lambda x, y: fn(x, y), interleaved=False)

        geoms = np.concatenate(_run(project, tasks, workers))
    valid = np.concatenate(_run(lambda lo, hi: shapely.is_valid(geoms[lo:hi]), tasks, workers))
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
    nw = _workers(workers)
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


def _workers(workers: int | None) -> int:
    if workers is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    return max(1, int(workers))


def _run(fn: Any, tasks: list[tuple[int, int]], workers: int) -> list[Any]:
    if workers == 1 or len(tasks) <= 1:
        return [fn(lo, hi) for lo, hi in tasks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hetu-match") as pool:
        return list(pool.map(lambda t: fn(*t), tasks))


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


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
    parts = _run(work, _chunks(len(rg), size), workers)
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
    nw = _workers(workers)
    rg = _own_objects(rg)
    area = shapely.area(pg)
    # ids ranked in string order, so that comparing codes is comparing ids
    uniq, code = np.unique(rid, return_inverse=True)
    ri, pi, overlap = _pairs(pg, area, rg, workers=nw)
    keep = overlap > 0
    pi, rc, overlap = pi[keep], code[ri[keep]], overlap[keep]
    if len(uniq) != len(rid) and len(pi):  # rows sharing an id: sum their overlaps
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
    covered = np.bincount(pi, weights=share, minlength=len(pg))
    count = np.bincount(pi, minlength=len(pg))
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
    rest = np.flatnonzero(count == 0)
    lonely = _nearest(pg, rg, uniq, code, rest, near_m=near_m, workers=nw)
    if not len(lonely):
        return pairs
    out = pd.concat([pairs, lonely], ignore_index=True)
    return out.iloc[np.argsort(out["i"].to_numpy(), kind="stable")].reset_index(drop=True)


def _boundary_pieces(rg: np.ndarray, *, k: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Cut the boundaries of ``rg`` into lines of at most ``k`` vertices, with their owner.

    The distance from a geometry that overlaps no range to a range is the distance
    to its boundary; small pieces have tight boxes, so a nearest search in a tree
    of pieces measures a few short lines instead of whole river-long polygons.
    Consecutive pieces share their end vertex. Built with index arithmetic over the
    coordinates in order (no sort), so it costs about one pass over them.
    """
    parts, owner = shapely.get_parts(rg, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    rings, ring_of = shapely.get_rings(parts[poly], return_index=True)
    lines = np.concatenate([rings, parts[~poly]])
    line_owner = np.concatenate([owner[poly][ring_of], owner[~poly]])
    n_line = shapely.get_num_coordinates(lines)
    single = n_line < 2  # points (or empty): kept whole
    other, other_owner = lines[single & (n_line > 0)], line_owner[single & (n_line > 0)]
    lines, line_owner, n_line = lines[~single], line_owner[~single], n_line[~single]
    coords = shapely.get_coordinates(lines)
    step = k - 1
    npc = np.maximum(1, -(-(n_line - 1) // step))  # pieces per line
    line_of = np.repeat(np.arange(len(lines)), npc)
    j = np.arange(len(line_of)) - np.repeat(np.cumsum(npc) - npc, npc)  # piece number in line
    first = (np.cumsum(n_line) - n_line)[line_of] + j * step  # its first coordinate
    length = np.minimum((j + 1) * step, n_line[line_of] - 1) - j * step + 1
    at = np.repeat(first - (np.cumsum(length) - length), length) + np.arange(length.sum())
    piece_of = np.repeat(np.arange(len(line_of)), length)
    pieces = shapely.linestrings(coords[at], indices=piece_of) if len(at) else lines[:0]
    return (
        np.concatenate([pieces, other]),
        np.concatenate([line_owner[line_of], other_owner]),
    )


def nearest_ranges(
    pg: np.ndarray,
    rg: np.ndarray,
    rank: np.ndarray,
    *,
    workers: int = 1,
    within: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The nearest range of each geometry and its distance (ties: the smallest ``rank``).

    Parameters
    ----------
    pg : ndarray of geometries
        The geometries to place, in metres.
    rg : ndarray of geometries
        The ranges, in the same CRS.
    rank : ndarray of int
        One number per range; among equally near ranges the smallest wins.
    workers : int
        Threads.
    within : float, optional
        A distance most geometries are expected within: searched first with that bound
        (a short search), the rest without one. Same result, faster when most are near.

    Returns
    -------
    (ndarray of int, ndarray of float)
        The position in ``rg`` of the nearest range (-1 for none) and the
        distance (NaN for none); 0 for a geometry that intersects a range.
    """
    best = np.full(len(pg), -1, dtype=np.intp)
    dist = np.full(len(pg), np.nan)
    ok = np.flatnonzero(~shapely.is_empty(pg) & ~shapely.is_missing(pg))
    if not len(rg) or not len(ok):
        return best, dist
    qi, ti = shapely.STRtree(rg).query(pg[ok], predicate="intersects")
    if len(qi):  # touching (or degenerate inside): distance 0, the smallest rank
        order = np.lexsort((rank[ti], qi))
        qi, ti = qi[order], ti[order]
        first = np.ones(len(qi), dtype=bool)
        first[1:] = qi[1:] != qi[:-1]
        best[ok[qi[first]]], dist[ok[qi[first]]] = ti[first], 0.0
        ok = ok[best[ok] < 0]
    pieces, owner = _boundary_pieces(rg)
    tree = shapely.STRtree(pieces)

    def work(lo: int, hi: int, bound: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sub = todo[lo:hi]
        qi, pi, d = _within(tree, pieces, pg[sub], bound) if bound else (None, None, None)
        if qi is None:
            (qi, pi), d = tree.query_nearest(
                pg[sub], max_distance=bound, return_distance=True, all_matches=True
            )
        ti = owner[pi]
        order = np.lexsort((rank[ti], d, qi))
        qi, ti, d = qi[order], ti[order], d[order]
        first = np.ones(len(qi), dtype=bool)
        first[1:] = qi[1:] != qi[:-1]
        return sub[qi[first]], ti[first], d[first]

    bounds = [within, None] if within is not None and within > 0 else [None]
    for bound in bounds if len(pieces) else []:
        todo = ok[best[ok] < 0]
        size = max(1000, min(_NEAR_CHUNK, -(-len(todo) // (4 * workers))))
        tasks = _chunks(len(todo), size)
        for at, ti, d in _run(lambda lo, hi, b=bound: work(lo, hi, b), tasks, workers):
            best[at], dist[at] = ti, d
    return best, dist


def _within(
    tree: shapely.STRtree, pieces: np.ndarray, geoms: np.ndarray, bound: float
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Every piece within ``bound`` of each geometry, with its distance.

    The pieces whose boxes reach each geometry's box grown by ``bound`` (a query of
    boxes only), measured all at once: several times cheaper than GEOS's nearest
    search bounded by the same distance, whose priority queue measures node by
    node. Gives ``None`` when the boxes would gather more than
    :data:`_WITHIN_PER_GEOM` pieces per geometry (a bound large for the data), so
    that the caller searches nearest instead.
    """
    b = shapely.bounds(geoms)
    boxes = shapely.box(b[:, 0] - bound, b[:, 1] - bound, b[:, 2] + bound, b[:, 3] + bound)
    qi, pi = tree.query(boxes)
    if len(qi) > _WITHIN_PER_GEOM * len(geoms):
        return None, None, None
    d = shapely.distance(geoms[qi], pieces[pi])
    near = d <= bound
    return qi[near], pi[near], d[near]


def _nearest(
    pg: np.ndarray,
    rg: np.ndarray,
    uniq: np.ndarray,
    code: np.ndarray,
    rest: np.ndarray,
    *,
    near_m: float,
    workers: int,
) -> pd.DataFrame:
    """Rows for patches that overlap nothing: ``near`` with the nearest range, or ``outside``."""
    if not len(rest):
        return pd.DataFrame()
    best, dist = nearest_ranges(pg[rest], rg, code, workers=workers, within=near_m)
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
