"""Overlap areas of convex patches with ranges, by clipping in NumPy over all pairs.

Most remote-sensing patches are convex polygons of a few vertices; the pairs whose
range does not cover the patch (it crosses a range's edge) each need the area of
``range ∩ patch``. A GEOS overlay per pair costs ~35 µs whatever the sizes (it
builds a topology graph); clipping each ring of the range against the patch's
half-planes (Sutherland–Hodgman) is a few array operations over the vertices of
*all* pairs at once.

Why the area is exact for any range: clipping a closed ring against a half-plane
gives a closed ring whose winding number is the original's inside the half-plane
and 0 outside (the pieces it adds along the clip line cancel), so its signed
(shoelace) area is that of ``ring ∩ half-plane`` with the ring's orientation;
a convex patch is the intersection of its edges' half-planes. The range's area
inside the patch is then the exterior rings' clipped areas minus the holes', each
taken with its ring's own orientation. A non-convex patch, a patch with holes or
several parts, and a range of very many vertices are left to GEOS (NaN here).
Coordinates are taken relative to the patch's first vertex, so that products of
projected coordinates (millions of metres) keep their precision.
"""

from __future__ import annotations

import numpy as np
import shapely

#: Patches with more edges than this go to GEOS (each edge is one pass over the vertices).
MAX_PATCH_EDGES = 64
#: Ranges with more vertices than this go to GEOS (clipped to the patch's box first).
MAX_RANGE_COORDS = 1000

_POLYGON = 3


def _expand(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices ``starts[k] + 0 … lengths[k]-1`` for every ``k``, concatenated."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.intp)
    offsets = np.cumsum(lengths) - lengths
    return np.arange(total) - np.repeat(offsets - starts, lengths)


def _next(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Index of each vertex's successor in its (cyclic, contiguous) group."""
    length = np.bincount(group, minlength=n_groups)
    end = np.cumsum(length)
    nxt = np.arange(1, len(group) + 1)
    last = nxt == end[group]
    nxt[last] = (end - length)[group[last]]
    return nxt


def _signed_twice(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Twice the signed (shoelace) area of each cyclic group of vertices."""
    if not len(group):
        return np.zeros(n_groups)
    nxt = _next(group, n_groups)
    return np.bincount(group, weights=x * y[nxt] - x[nxt] * y, minlength=n_groups)


def _rings(rg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ring of ``rg`` without its closing vertex.

    Returns the ring's owner (position in ``rg``), the flat ``(n, 2)`` coordinates,
    each ring's first coordinate and length there, and its weight: ``+1`` or ``-1``
    so that ``weight × signed area`` counts an exterior positively and a hole
    negatively, whatever the rings' orientations.
    """
    parts, owner = shapely.get_parts(rg, return_index=True)
    rings, of_part = shapely.get_rings(parts, return_index=True)
    exterior = np.ones(len(rings), dtype=bool)
    exterior[1:] = of_part[1:] != of_part[:-1]
    n = shapely.get_num_coordinates(rings)
    coords = shapely.get_coordinates(rings)
    keep = np.ones(len(coords), dtype=bool)
    keep[np.cumsum(n) - 1] = False  # the closing vertex repeats the first
    coords, n = coords[keep], n - 1
    start = np.cumsum(n) - n
    group = np.repeat(np.arange(len(rings)), n)
    local = coords - np.repeat(coords[start], n, axis=0)  # precision of the orientation
    orient = np.sign(_signed_twice(local[:, 0], local[:, 1], group, len(rings)))
    weight = np.where(exterior, orient, -orient)
    return owner[of_part], coords, start, n, weight


def _convex_patches(pp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices of the convex hole-free patches of ``pp``, counter-clockwise, locally.

    Returns the positions in ``pp`` of the patches that qualify, their origins (first
    vertex) and an ``(m, E, 2)`` array of vertices relative to the origin; a patch
    of fewer than ``E`` vertices repeats its last vertex (clipping twice by the same
    half-plane changes nothing; an edge of length 0 keeps everything).
    """
    ok = (shapely.get_type_id(pp) == _POLYGON) & (shapely.get_num_interior_rings(pp) == 0)
    ext = shapely.get_exterior_ring(pp)
    n = np.where(ok, shapely.get_num_coordinates(ext) - 1, 0)
    ok &= (n >= 3) & (n <= MAX_PATCH_EDGES)
    idx = np.flatnonzero(ok)
    empty = (idx, np.zeros((0, 2)), np.zeros((0, 1, 2)))
    if not len(idx):
        return empty
    n = n[idx]
    coords = shapely.get_coordinates(ext[idx])
    at = _expand(np.cumsum(n + 1) - (n + 1), n)  # without the closing vertex
    coords = coords[at]
    start = np.cumsum(n) - n
    origin = coords[start]
    group = np.repeat(np.arange(len(idx)), n)
    local = coords - origin[group]
    nxt = _next(group, len(idx))
    orient = np.sign(_signed_twice(local[:, 0], local[:, 1], group, len(idx)))
    d = local[nxt] - local
    turn = d[:, 0] * d[nxt, 1] - d[:, 1] * d[nxt, 0]  # at each vertex's successor
    convex = np.bincount(group, weights=(turn * orient[group] < 0), minlength=len(idx)) == 0
    convex &= orient != 0
    e = int(n.max())
    verts = np.empty((len(idx), e, 2))
    slot = np.arange(len(group)) - start[group]
    verts[group, slot] = local
    pad = np.arange(e)[None, :] >= n[:, None]
    verts[pad] = np.repeat(local[start + n - 1], e - n, axis=0)
    verts[orient < 0] = verts[orient < 0][:, ::-1]  # counter-clockwise
    return idx[convex], origin[convex], verts[convex]


def convex_overlaps(pp: np.ndarray, rg: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Areas of ``pp[k] ∩ rg[ri[k]]`` for convex patches; NaN where GEOS must decide.

    Parameters
    ----------
    pp : ndarray of shapely geometries
        The patch of each pair, in metres.
    rg : ndarray of shapely geometries
        The ranges the pairs refer to (each once).
    ri : ndarray of int
        The range of each pair, a position in ``rg``.

    Returns
    -------
    ndarray of float
        The overlap area of each pair (m²), NaN for a pair whose patch is not a convex
        polygon without holes of at most :data:`MAX_PATCH_EDGES` edges or whose range
        has more than :data:`MAX_RANGE_COORDS` vertices.
    """
    out = np.full(len(pp), np.nan)
    if not len(pp):
        return out
    used = np.unique(ri)
    small = np.zeros(len(rg), dtype=bool)
    small[used] = shapely.get_num_coordinates(rg[used]) <= MAX_RANGE_COORDS
    keep, origin, verts = _convex_patches(pp)
    fits = small[ri[keep]]
    keep, origin, verts = keep[fits], origin[fits], verts[fits]
    if not len(keep):
        return out
    ring_owner, coords, start, n, weight = _rings(rg[used])
    local_range = np.searchsorted(used, ri[keep])
    ring_count = np.bincount(ring_owner, minlength=len(used))
    ring_first = np.cumsum(ring_count) - ring_count
    pair_rings = np.repeat(np.arange(len(keep)), ring_count[local_range])
    ring_of = _expand(ring_first[local_range], ring_count[local_range])
    x, y, group = _near_box(coords, start[ring_of], n[ring_of], pp[keep], pair_rings)
    pair = pair_rings[group]
    x -= origin[pair, 0]
    y -= origin[pair, 1]
    for e in range(verts.shape[1]):
        a = verts[:, e]
        b = verts[:, (e + 1) % verts.shape[1]]
        x, y, group = _clip(x, y, group, len(ring_of), a[pair], b[pair])
        pair = pair_rings[group]
    twice = _signed_twice(x, y, group, len(ring_of)) * weight[ring_of]
    area = np.bincount(pair_rings, weights=twice, minlength=len(keep)) / 2
    out[keep] = np.maximum(area, 0.0)
    return out


def _near_box(
    coords: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
    pp: np.ndarray,
    pair_rings: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair's rings (``coords[start:start+length]``) without the vertices far off its patch.

    A vertex that lies beyond one side of the patch's bounding box together with both
    its neighbours is dropped: a run of such vertices is replaced by the segment
    joining the run's neighbours, which lie beyond the same side, so the ring changes
    only inside that side's half-plane, which the patch does not reach, and its clip
    by the patch is the same. A vertex beyond two sides (a corner) counts for one, the
    same for its neighbours, so that a run never turns a corner. Most of a
    river range's vertices are such, and every later pass is shorter for it.
    """
    group = np.repeat(np.arange(len(start)), length)
    at = _expand(start, length)
    x, y = coords[at, 0], coords[at, 1]
    box = shapely.bounds(pp)[pair_rings]
    per_ring = np.repeat(box, length, axis=0)
    code = (x < per_ring[:, 0]).view(np.uint8)  # one bit per side of the box
    code = code | ((y < per_ring[:, 1]).view(np.uint8) << np.uint8(1))
    code |= (x > per_ring[:, 2]).view(np.uint8) << np.uint8(2)
    code |= (y > per_ring[:, 3]).view(np.uint8) << np.uint8(3)
    code &= ~code + np.uint8(1)  # one side per vertex (its lowest bit): a run shares it
    nxt = _next(group, len(start))
    prv = np.empty_like(nxt)
    prv[nxt] = np.arange(len(nxt))
    keep = (code == 0) | (code != code[nxt]) | (code != code[prv])
    return x[keep], y[keep], group[keep]


def _clip(
    x: np.ndarray,
    y: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    a: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Sutherland–Hodgman pass: each group's ring cut to the left of its edge ``a → b``.

    ``a`` and ``b`` are given per vertex. For each edge ``v → w`` of a ring, in order:
    the crossing point when ``v`` and ``w`` lie on different sides, then ``w`` when it
    is inside; a ring wholly outside leaves no vertex.
    """
    if not len(x):
        return x, y, group
    side = (b[:, 0] - a[:, 0]) * (y - a[:, 1]) - (b[:, 1] - a[:, 1]) * (x - a[:, 0])
    inside = side >= 0
    if inside.all():
        return x, y, group
    nxt = _next(group, n_groups)
    keep = inside[nxt]
    cross = inside != keep
    count = cross.astype(np.intp) + keep
    at = np.cumsum(count) - count
    total = int(count.sum())
    nx, ny = np.empty(total), np.empty(total)
    c = np.flatnonzero(cross)
    s0, s1 = side[c], side[nxt[c]]
    t = s0 / (s0 - s1)
    nx[at[c]] = x[c] + t * (x[nxt[c]] - x[c])
    ny[at[c]] = y[c] + t * (y[nxt[c]] - y[c])
    k = np.flatnonzero(keep)
    nx[at[k] + cross[k]] = x[nxt[k]]
    ny[at[k] + cross[k]] = y[nxt[k]]
    return nx, ny, np.repeat(group, count)
