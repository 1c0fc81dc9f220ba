"""The patch and ring masks of a chip are GDAL's rasterisation, pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.features import geometry_mask, rasterize

from geo.imagery.chips import polygon_masks, zone_masks

SIZE = 64
T = Affine(0.7, 0, 1000.0, 0, -0.7, 2000.0)  # a chip of 64 px of 0.7 m


def _gdal(geom: shapely.Geometry) -> np.ndarray:
    return rasterize([geom], out_shape=(SIZE, SIZE), transform=T, dtype="uint8").astype(bool)


def _px(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Chip pixel coordinates (column, row) to the chip's CRS."""
    return [(T.c + T.a * x, T.f + T.e * y) for x, y in points]


def _star(rng: np.random.Generator, cx: float, cy: float, radius: float) -> shapely.Geometry:
    k = int(rng.integers(3, 25))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    rad = radius * rng.uniform(0.2, 1.0, k)
    ring = np.column_stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)])
    return shapely.make_valid(shapely.Polygon(ring))


def _shapes(kind: str, rng: np.random.Generator) -> list[shapely.Geometry]:
    x0, y0 = T.c, T.f
    span = SIZE * T.a
    out: list[shapely.Geometry] = []
    for _ in range(40):
        cx, cy = x0 + rng.uniform(0, span), y0 - rng.uniform(0, span)
        if kind == "concave":
            out.append(_star(rng, cx, cy, rng.uniform(3, 25)))
        elif kind == "holes":
            outer = shapely.Point(cx, cy).buffer(rng.uniform(8, 20))
            hole = shapely.Point(cx + rng.uniform(-3, 3), cy + rng.uniform(-3, 3))
            out.append(outer.difference(hole.buffer(rng.uniform(1, 6))))
        elif kind == "multi":
            far = shapely.Point(cx + 25, cy - 10).buffer(rng.uniform(0.5, 6))
            out.append(shapely.make_valid(_star(rng, cx, cy, 10).union(far)))
        elif kind == "tiny":  # under a pixel: often no pixel centre inside
            out.append(shapely.Point(cx, cy).buffer(rng.uniform(0.05, 0.5)))
        elif kind == "edge":  # touching or crossing the chip's sides
            side = rng.integers(4)
            cx = x0 if side == 0 else x0 + span if side == 1 else cx
            cy = y0 if side == 2 else y0 - span if side == 3 else cy
            out.append(_star(rng, cx, cy, rng.uniform(2, 30)))
        elif kind == "aligned":  # edges on rows and columns of pixel centres, both orientations
            a, b = rng.integers(1, 40, 2).astype(float)
            w, h = rng.integers(3, 22, 2)
            s, t = int(rng.integers(1, h)), int(rng.integers(1, w))
            step = _px([(a, b), (a + w, b), (a + w, b + s + 0.5), (a + t, b + s + 0.5),
                        (a + t, b + h + 0.5), (a + 0.5, b + h + 0.5)])  # fmt: skip
            hole = _px([(a + 0.2, b + 0.5), (a + t - 0.5, b + 0.5), (a + t - 0.5, b + h - 0.5),
                        (a + 0.2, b + h - 0.5)])  # fmt: skip
            frame = _px([(a - 1, b - 1.5), (a + w + 1.5, b - 1.5), (a + w + 1.5, b + h + 2.5),
                         (a - 1, b + h + 2.5)])  # fmt: skip
            out += [shapely.Polygon(step), shapely.Polygon(step[::-1])]
            out += [shapely.Polygon(frame, [hole]), shapely.Polygon(frame[::-1], [hole[::-1]])]
            out.append(shapely.Polygon(frame[::-1], [hole]))
    return [g for g in out if not g.is_empty]


@pytest.mark.parametrize("kind", ["concave", "holes", "multi", "tiny", "edge", "aligned"])
def test_polygon_masks_are_gdals_rasterisation(kind):
    shapes = _shapes(kind, np.random.default_rng(len(kind)))
    assert len(shapes) >= 40
    for geom in shapes:
        ours = polygon_masks([geom, geom.buffer(2.0)], T, (SIZE, SIZE))
        assert np.array_equal(ours[0], _gdal(geom)), geom.wkt
        assert np.array_equal(ours[1], _gdal(geom.buffer(2.0))), geom.wkt


@pytest.mark.parametrize("kind", ["concave", "holes", "multi", "tiny", "edge"])
def test_zone_masks_are_the_patch_and_its_ring_as_rasterised_before(kind):
    rng = np.random.default_rng(7)
    tiny = 0
    for geom in _shapes(kind, rng):
        zones = rasterize([(geom.buffer(5.0), 1), (geom, 2)], out_shape=(SIZE, SIZE),
                          transform=T, dtype="uint8")  # fmt: skip
        inside = zones == 2
        if not inside.any():
            tiny += 1
            inside = geometry_mask([geom], out_shape=(SIZE, SIZE), transform=T, invert=True,
                                   all_touched=True)  # fmt: skip
        got_inside, got_ring = zone_masks(geom, T, SIZE, 5.0)
        assert np.array_equal(got_inside, inside), geom.wkt
        assert np.array_equal(got_ring, (zones > 0) & ~inside), geom.wkt
    assert kind != "tiny" or tiny > 0  # the fallback for patches under a pixel was exercised
