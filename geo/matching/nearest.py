"""The nearest range of geometries that overlap none: exact, in rounds of growing radius.

A patch that overlaps no range is ``near`` the nearest one within ``near_m``, or
``outside`` with the distance to it (:mod:`geo.matching.core`). The distance to a range
is the distance to its boundary, cut into short pieces with tight boxes
(:func:`_boundary_pieces`); each patch then measures only the pieces its bounds cannot
rule out (:class:`PieceIndex`), several times fewer than GEOS's nearest search, whose
priority queue measures node by node, and those far from every range take a second
round whose radius the first one bounded.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.matching.pool import chunks, run_chunks

#: Patches per thread task of the nearest-range search.
_NEAR_CHUNK = 20_000
#: Candidate boundary pieces per patch above which a round asks GEOS's nearest search.
_WITHIN_PER_GEOM = 256
#: Boundary coordinates cut into pieces at a time.
_BATCH = 500_000
#: Added to a bound (m), against rounding: a piece exactly at a bound is still measured.
_SLACK_M = 1e-6
#: Rounds of growing radius before the geometries still open ask GEOS's nearest search.
_ROUNDS = 6


def closest(qi: np.ndarray, ti: np.ndarray, d: np.ndarray, rank: np.ndarray) -> tuple:
    """Of pairs (geometry ``qi``, range ``ti``, distance ``d``), the nearest per geometry.

    Ties go to the smallest ``rank[ti]``. Returns ``qi, ti, d`` of one pair per geometry,
    in the order of ``qi``.
    """
    order = np.lexsort((rank[ti], d, qi))
    qi, ti, d = qi[order], ti[order], d[order]
    first = np.ones(len(qi), dtype=bool)
    first[1:] = qi[1:] != qi[:-1]
    return qi[first], ti[first], d[first]


def _boundary_pieces(
    rg: np.ndarray, *, k: int = 16
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut the boundaries of ``rg`` into lines of at most ``k`` vertices, with their owner.

    Also gives each piece's first, middle and last vertex (``(n, 3, 2)``): points of the
    piece, from which a distance's upper bound is cheap; and all its vertices
    (``(n, k, 2)``, the last one repeated), from which a lower bound is.

    The distance from a geometry that overlaps no range to a range is the distance
    to its boundary; small pieces have tight boxes, so a nearest search in a tree
    of pieces measures a few short lines instead of whole river-long polygons
    (:func:`_cut_lines`).
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
    verts, owners, lengths = [], [], []
    # lines a batch at a time: the coordinates in flight stay small whatever the ranges
    cut = np.searchsorted(np.cumsum(n_line), np.arange(1, 1 + n_line.sum() // _BATCH) * _BATCH)
    for lo, hi in zip(np.r_[0, cut], np.r_[cut, len(lines)], strict=True):
        if hi > lo:
            piece_verts, piece_line, length = _cut_lines(lines[lo:hi], n_line[lo:hi], k)
            verts.append(piece_verts)
            owners.append(line_owner[lo:hi][piece_line])
            lengths.append(length)
    verts.append(np.repeat(shapely.get_coordinates(other)[:, None, :], k, axis=1))
    owners.append(other_owner)
    lengths.append(np.ones(len(other), dtype=np.intp))
    verts, length = np.concatenate(verts), np.concatenate(lengths)
    row = np.arange(len(verts))
    samples = verts[row[:, None], np.column_stack([0 * length, (length - 1) // 2, length - 1])]
    line = length > 1
    whole = np.arange(k)[None, :] < length[line, None]
    pieces = np.empty(len(verts), dtype=object)
    pieces[line] = shapely.linestrings(
        verts[line][whole], indices=np.repeat(np.arange(line.sum()), length[line])
    )
    pieces[~line] = shapely.points(verts[~line, 0])  # a point is kept a point
    return pieces, np.concatenate(owners), samples, verts


def _cut_lines(
    lines: np.ndarray, n_line: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vertices of the pieces of at most ``k`` vertices of ``lines``.

    Returns ``(n, k, 2)`` vertices (a short piece repeats its last), the line of each
    piece and its number of vertices. Consecutive pieces share their end vertex; built
    with index arithmetic over the coordinates in order (no sort), about one pass over them.
    """
    coords = shapely.get_coordinates(lines)
    step = k - 1
    npc = np.maximum(1, -(-(n_line - 1) // step))  # pieces per line
    line_of = np.repeat(np.arange(len(lines)), npc)
    j = np.arange(len(line_of)) - np.repeat(np.cumsum(npc) - npc, npc)  # piece number in line
    first = (np.cumsum(n_line) - n_line)[line_of] + j * step  # its first coordinate
    length = np.minimum((j + 1) * step, n_line[line_of] - 1) - j * step + 1
    every = first[:, None] + np.minimum(np.arange(k), length[:, None] - 1)
    return coords[every], line_of, length


def _lower_bounds(verts: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A lower bound of the distance from each box to each polyline (``verts``, ``(n, k, 2)``).

    A point ``p`` of the segment ``v → w`` (length ``l``) is no nearer to the box than
    ``d(v) - |pv|`` nor than ``d(w) - |pw|``, where ``d`` is the distance to the box (it
    changes by no more than the distance moved); as ``|pv| + |pw| = l``, the larger of
    the two is at least ``(d(v) + d(w) - l) / 2``. The bound is the least of that over the
    segments: exact at vertices, tight for the short segments of digitised banks.
    """
    x, y = verts[..., 0], verts[..., 1]
    dx = np.maximum(np.maximum(box[:, 0:1] - x, x - box[:, 2:3]), 0.0)
    dy = np.maximum(np.maximum(box[:, 1:2] - y, y - box[:, 3:4]), 0.0)
    d = np.hypot(dx, dy)
    seg = np.hypot(np.diff(x, axis=1), np.diff(y, axis=1))
    return ((d[:, 1:] + d[:, :-1] - seg) / 2).min(axis=1)


def nearest_ranges(
    pg: np.ndarray,
    rg: np.ndarray,
    rank: np.ndarray,
    *,
    workers: int = 1,
    within: float | None = None,
    index: PieceIndex | None = None,
    intersecting: tuple[np.ndarray, np.ndarray] | None = None,
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
        A distance most geometries are expected within: the first radius searched
        (:meth:`PieceIndex.nearest`). The result is the same whatever it is; only the
        time differs.
    index : PieceIndex, optional
        ``PieceIndex.of(rg, rank)`` when the caller has built it already.
    intersecting : (ndarray of int, ndarray of int), optional
        Every (geometry, range) pair that intersects, as positions in ``pg`` and
        ``rg``, when the caller knows them already (a match's pairs of area 0);
        otherwise they are searched for.

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
    if intersecting is None:
        qi, ti = shapely.STRtree(rg).query(pg[ok], predicate="intersects")
        qi = ok[qi]
    else:
        qi, ti = intersecting
    if len(qi):  # touching (or degenerate inside): distance 0, the smallest rank
        qi, ti, _ = closest(qi, ti, np.zeros(len(qi)), rank)
        best[qi], dist[qi] = ti, 0.0
        ok = ok[best[ok] < 0]
    if not len(ok):
        return best, dist
    if index is None:
        index = PieceIndex.of(rg, rank)
    if index is None:
        return best, dist
    if within is None or not within > 0:
        within = index.typical_gap
    size = max(1000, min(_NEAR_CHUNK, -(-len(ok) // (4 * workers))))
    tasks = chunks(len(ok), size)
    found = run_chunks(lambda lo, hi: index.nearest(pg[ok[lo:hi]], within), tasks, workers)
    for (lo, hi), (ti, d) in zip(tasks, found, strict=True):
        best[ok[lo:hi]], dist[ok[lo:hi]] = ti, d
    return best, dist


class PieceIndex:
    """Boundary pieces of the ranges in a tree, with what bounds a distance to them cheaply.

    :meth:`of` builds it from the ranges; :meth:`nearest` searches in rounds of growing
    radius.
    """

    @classmethod
    def of(cls, rg: np.ndarray, rank: np.ndarray) -> PieceIndex | None:
        """The index of the boundaries of ``rg`` (None when they have none)."""
        pieces, owner, samples, verts = _boundary_pieces(rg)
        return cls(pieces, owner, samples, verts, rank) if len(pieces) else None

    def __init__(
        self,
        pieces: np.ndarray,
        owner: np.ndarray,
        samples: np.ndarray,
        verts: np.ndarray,
        rank: np.ndarray,
    ) -> None:
        # samples: three of each piece's own vertices, (n, 3, 2); a distance to a point of a
        # piece is an upper bound of the distance to the piece. verts: all of them (n, k, 2),
        # for a lower bound finer than the boxes' gap
        self.pieces, self.owner, self.samples, self.rank = pieces, owner, samples, rank
        self.verts = verts
        self.tree = shapely.STRtree(pieces)
        self.box = shapely.bounds(pieces)
        diag = np.hypot(self.box[:, 2] - self.box[:, 0], self.box[:, 3] - self.box[:, 1])
        self.typical_gap = float(max(4 * np.median(diag), 1.0))

    def nearest(self, geoms: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """The nearest range of each geometry (none empty) and its distance, exactly.

        Round by round, each geometry still open looks at the pieces whose boxes reach
        its box grown by its own radius. A piece is measured only if its lower bounds
        (its box's gap, then :func:`_lower_bounds` from its vertices) are no more than both
        the radius and an upper bound: the exact distance to the piece holding the
        candidates' vertex nearest the geometry's first vertex, which is always measured.
        Bounds carry :data:`_SLACK_M` against rounding. The smallest distance so measured
        is exact once it is within the radius: every piece nearer than the radius was a
        candidate, and every candidate the bounds set aside is farther. Otherwise the next
        radius is that upper bound (which cannot fail), or four times the radius when no
        piece was in reach.
        Geometries that would gather more than :data:`_WITHIN_PER_GEOM` candidates, or
        are still open after :data:`_ROUNDS` rounds, ask GEOS's nearest search.
        """
        n = len(geoms)
        best = np.full(n, -1, dtype=np.intp)
        dist = np.full(n, np.nan)
        gbox = shapely.bounds(geoms)
        nc = shapely.get_num_coordinates(geoms)
        probe = shapely.get_coordinates(geoms)[np.cumsum(nc) - nc]  # each one's first vertex
        r = np.full(n, float(radius))
        todo = np.arange(n)
        for _ in range(_ROUNDS):
            if not len(todo):
                break
            done, nxt, crowded = self._round(geoms, gbox, probe, r, todo, best, dist)
            todo = todo[~done]
            r[todo] = nxt[~done]
            if len(crowded):
                self._geos(geoms, crowded, best, dist)
        if len(todo):
            self._geos(geoms, todo, best, dist)
        return best, dist

    def _round(
        self,
        geoms: np.ndarray,
        gbox: np.ndarray,
        probe: np.ndarray,
        r: np.ndarray,
        todo: np.ndarray,
        best: np.ndarray,
        dist: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One round for the geometries ``todo``, writing ``best``/``dist`` of those it settles.

        Returns which of ``todo`` are finished (settled or crowded), the next radius of
        each, and the crowded ones (positions in ``geoms``), left to GEOS's search.
        """
        rr = r[todo]
        b = gbox[todo]
        grow = rr + _SLACK_M
        boxes = shapely.box(b[:, 0] - grow, b[:, 1] - grow, b[:, 2] + grow, b[:, 3] + grow)
        qi, pi = self.tree.query(boxes)  # sorted by qi
        per = np.bincount(qi, minlength=len(todo))
        crowded = per > _WITHIN_PER_GEOM
        if crowded.any():
            keep = ~crowded[qi]
            qi, pi = qi[keep], pi[keep]
        done = np.zeros(len(todo), dtype=bool)
        nxt = 4 * rr  # nothing in reach; a patch with candidates takes their upper bound
        if len(qi):
            pb, gb = self.box[pi], b[qi]
            gap = np.hypot(
                np.maximum(0, np.maximum(pb[:, 0] - gb[:, 2], gb[:, 0] - pb[:, 2])),
                np.maximum(0, np.maximum(pb[:, 1] - gb[:, 3], gb[:, 1] - pb[:, 3])),
            )
            s = self.samples[pi] - probe[todo[qi]][:, None, :]
            ub = np.sqrt((s * s).sum(axis=2).min(axis=1))
            starts = np.flatnonzero(np.r_[True, qi[1:] != qi[:-1]])
            upper = np.full(len(todo), np.inf)
            upper[qi[starts]] = np.minimum.reduceat(ub, starts)
            # the piece of the nearest vertex, measured: a bound often the distance itself
            mark = np.flatnonzero(ub == upper[qi])
            mark = mark[np.r_[True, qi[mark[1:]] != qi[mark[:-1]]]]
            exact = shapely.distance(geoms[todo[qi[mark]]], self.pieces[pi[mark]])
            upper[qi[mark]] = exact
            reach = np.minimum(upper, rr) + _SLACK_M  # a tie at a bound is measured
            near = np.flatnonzero(gap <= reach[qi])
            near = near[_lower_bounds(self.verts[pi[near]], gb[near]) <= reach[qi[near]]]
            known = np.full(len(qi), np.nan)
            known[mark] = exact  # a candidate whatever the bounds, and not measured twice
            near = np.union1d(near, mark)
            qi, pi, d = qi[near], pi[near], known[near]
            measure = np.isnan(d)
            d[measure] = shapely.distance(geoms[todo[qi[measure]]], self.pieces[pi[measure]])
            qi, ti, d = closest(qi, self.owner[pi], d, self.rank)
            hit = d <= rr[qi]
            done[qi[hit]] = True
            best[todo[qi[hit]]], dist[todo[qi[hit]]] = ti[hit], d[hit]
            nxt = np.where(np.isfinite(upper), np.maximum(upper, rr), nxt)
        return done | crowded, nxt, todo[crowded]

    def _geos(
        self, geoms: np.ndarray, which: np.ndarray, best: np.ndarray, dist: np.ndarray
    ) -> None:
        """GEOS's nearest search for the geometries ``which`` (ties: the smallest rank)."""
        (qi, pi), d = self.tree.query_nearest(geoms[which], return_distance=True, all_matches=True)
        qi, ti, d = closest(qi, self.owner[pi], d, self.rank)
        best[which[qi]], dist[which[qi]] = ti, d
