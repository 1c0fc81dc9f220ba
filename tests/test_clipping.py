"""The NumPy clip of convex patches gives GEOS's overlap areas, whatever the range's shape."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity

from geo.matching.clipping import MAX_RANGE_COORDS, convex_overlaps


def _ranges(rng: np.random.Generator) -> np.ndarray:
    out = []
    for _ in range(40):  # river ranges: buffered wiggly lines, either orientation
        x = np.linspace(0, 2000, 40)
        y = rng.normal(0, 40, 40).cumsum()
        g = shapely.buffer(shapely.LineString(np.c_[x, y]), rng.uniform(20, 90), cap_style="flat")
        out.append(shapely.reverse(g) if rng.random() < 0.5 else g)
    hole = [(500, -100), (800, -100), (800, 100), (500, 100)]
    out.append(shapely.Polygon([(0, -500), (2000, -500), (2000, 500), (0, 500)], [hole]))
    out.append(
        shapely.MultiPolygon([shapely.box(100, -50, 300, 50), shapely.box(400, -50, 600, 50)])
    )
    star = [(1000 + 300 * np.cos(t) * (1 + (k % 2)), 300 * np.sin(t) * (1 + (k % 2)))
            for k, t in enumerate(np.linspace(0, 2 * np.pi, 24, endpoint=False))]  # fmt: skip
    out.append(shapely.Polygon(star))  # concave
    return np.array(out)


def _patches(rng: np.random.Generator, n: int) -> np.ndarray:
    centre = rng.uniform([0, -400], [2000, 400], (n, 2)) + 3_000_000.0  # far from the origin
    size = rng.uniform(2, 150, n)
    pp = shapely.buffer(shapely.points(centre), size, quad_segs=int(rng.integers(1, 4)))
    rot = rng.random(n) < 0.3
    pp[rot] = shapely.reverse(pp[rot])  # clockwise
    dent = rng.random(n) < 0.15  # non-convex: bitten
    pp[dent] = shapely.difference(
        pp[dent], shapely.buffer(shapely.points(centre[dent] + size[dent, None]), size[dent] * 0.6)
    )
    return pp


def test_areas_equal_geos_and_non_convex_left_to_geos() -> None:
    rng = np.random.default_rng(7)
    rg = np.array([shapely.affinity.translate(g, 3_000_000.0, 3_000_000.0) for g in _ranges(rng)])
    pp = _patches(rng, 3000)
    ri, pi = shapely.STRtree(pp).query(rg, predicate="intersects")
    got = convex_overlaps(pp[pi], rg, ri)
    want = shapely.area(shapely.intersection(pp[pi], rg[ri]))
    done = ~np.isnan(got)
    assert done.sum() > 0.7 * len(pi)
    np.testing.assert_allclose(got[done], want[done], rtol=1e-9, atol=1e-6)
    # every pair of a non-convex patch is GEOS's, every convex one is ours
    convex = np.isclose(shapely.area(pp[pi]), shapely.area(shapely.convex_hull(pp[pi])), rtol=1e-12)
    convex &= shapely.get_num_interior_rings(pp[pi]) == 0
    assert (done == convex).all()
    assert (got[done & (want == 0)] < 1e-6).all()


@pytest.mark.parametrize(
    "patch",
    [
        shapely.box(10, 10, 20, 20),  # inside the hole: nothing
        shapely.box(-5, -5, 5, 5),  # across the corner of the exterior
        shapely.box(15, -5, 25, 5),  # across the exterior edge, inside the hole's span
        shapely.Polygon([(0, 0), (10, 0), (10, 0), (10, 10), (0, 10)]),  # a repeated vertex
        shapely.Polygon([(0, 0), (5, 0), (10, 0), (10, 10), (0, 10)]),  # collinear vertices
    ],
)
def test_holes_corners_and_degenerate_vertices(patch: shapely.Geometry) -> None:
    rng_ = shapely.Polygon(
        [(0, 0), (40, 0), (40, 40), (0, 40)], [[(8, 8), (30, 8), (30, 30), (8, 30)]]
    )
    got = convex_overlaps(np.array([patch]), np.array([rng_]), np.array([0]))
    assert got[0] == pytest.approx(shapely.area(shapely.intersection(patch, rng_)), abs=1e-9)


def test_long_ranges_and_other_types_are_left_to_geos() -> None:
    t = np.linspace(0, 2 * np.pi, MAX_RANGE_COORDS + 10, endpoint=False)
    lake = shapely.Polygon(np.c_[100 * np.cos(t), 100 * np.sin(t)])
    pp = np.array([shapely.box(90, -5, 110, 5), shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])])
    got = convex_overlaps(pp, np.array([lake, shapely.box(0, 0, 5, 5)]), np.array([0, 1]))
    assert np.isnan(got).all()
    assert convex_overlaps(pp[:0], np.array([lake]), np.array([], dtype=int)).shape == (0,)
