"""Chips as arrays: warp a window onto the chip grid, measure it, draw it.

The pure numeric steps of :mod:`geo.imagery.chipping`: :func:`warp_chip` (GDAL's warper
onto a small square grid), :func:`zone_masks` (the patch's pixels and the ring's),
:func:`chip_indicators` (brightness, NDVI, NDWI inside the patch against a ring around
it) and :func:`render_chip` (a stretched image with the patch outlined).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from affine import Affine
from PIL import Image, ImageDraw
from pyproj import CRS, Transformer
from rasterio.crs import CRS as RioCRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.features import geometry_mask
from rasterio.warp import reproject

from geo.errors import ImageryError, NoDataError

OUTLINE_RGB = (255, 230, 0)
NODATA_RGB = (128, 128, 128)


def zone_masks(
    geom: shapely.Geometry, transform: Affine, size_px: int, ring_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """The patch's pixels and those of the ring ``ring_m`` around it, on a chip's grid.

    The same masks as ``rasterio.features.rasterize`` of the patch and of its buffer
    (pixel centres, ``all_touched=False``), from :func:`polygon_masks`; a patch that
    covers no pixel centre (smaller than a pixel) keeps every pixel it touches.

    Parameters
    ----------
    geom : shapely geometry
        The patch (polygon or multipolygon) in the chip's CRS.
    transform : Affine
        The chip's transform (north up).
    size_px : int
        The chip's width and height.
    ring_m : float
        The ring's width, in the CRS's units.

    Returns
    -------
    inside, ring : numpy.ndarray
        Boolean ``(size_px, size_px)`` masks; ``ring`` excludes ``inside``.
    """
    shape = (size_px, size_px)
    grown, inside = polygon_masks([geom.buffer(ring_m), geom], transform, shape)
    if not inside.any():  # a patch smaller than a pixel
        inside = geometry_mask([geom], out_shape=shape, transform=transform, invert=True,
                               all_touched=True)  # fmt: skip
    return inside, grown & ~inside


def polygon_masks(
    geoms: Sequence[shapely.Geometry], transform: Affine, shape: tuple[int, int]
) -> list[np.ndarray]:
    """Rasterise polygons by their pixel centres, as GDAL does, in one pass of NumPy.

    GDAL's scanline rule (``rasterize`` with ``all_touched=False``): on the row of
    centre ``y``, an edge from ``y1`` to ``y2`` (``y1 < y2``) crosses it when
    ``y1 <= y < y2``, at ``x``; a pixel is inside when an odd number of crossings lie
    at columns ``floor(x + 0.5)`` or left of it (even-odd, so holes stay out); an
    edge lying on a row of centres, drawn from right to left, fills its columns too.
    Coordinates go to pixels by the inverse geotransform as GDAL computes it, so the
    masks are GDAL's to the pixel (``tests/test_imagery_masks.py``).

    Parameters
    ----------
    geoms : sequence of shapely geometry
        Polygons or multipolygons (at most 16), in the transform's CRS.
    transform : Affine
        North-up transform of the grid.
    shape : tuple of int
        ``(rows, cols)``.

    Returns
    -------
    list of numpy.ndarray
        One boolean ``shape`` mask per geometry.
    """
    rows, cols = shape
    parts = np.asarray(geoms, dtype=object)
    if all(type(g) is shapely.Polygon for g in geoms):  # the usual case: no parts to split
        which = np.arange(len(parts))
    else:
        parts, which = shapely.get_parts(parts, return_index=True)
    rings, of_part = shapely.get_rings(parts, return_index=True)
    xy, of_ring = shapely.get_coordinates(rings, return_index=True)
    # GDAL's inverse of a north-up geotransform, applied as GDAL does
    px = -transform.c / transform.a + xy[:, 0] * (1.0 / transform.a)
    py = -transform.f / transform.e + xy[:, 1] * (1.0 / transform.e)
    edge = np.flatnonzero(of_ring[:-1] == of_ring[1:])  # vertex k to k + 1 of one ring
    geom = which[of_part[of_ring[edge]]]
    xa, ya, xb, yb = px[edge], py[edge], px[edge + 1], py[edge + 1]
    down = ya < yb
    x1, x2 = np.where(down, xa, xb), np.where(down, xb, xa)
    y1, y2 = np.minimum(ya, yb), np.maximum(ya, yb)
    # every edge against every row of centres: crossed when y1 <= r + 0.5 < y2
    centre = np.arange(rows) + 0.5
    k, r = np.nonzero((centre >= y1[:, None]) & (centre < y2[:, None]))
    y1k, x1k = y1[k], x1[k]
    at = (centre[r] - y1k) * (x2[k] - x1k) / (y2[k] - y1k) + x1k
    col = np.clip(np.floor(at + 0.5), 0, cols).astype(np.int64)
    cell = (geom[k] * rows + r) * (cols + 1) + col
    counts = np.bincount(cell, minlength=len(geoms) * rows * (cols + 1))
    masks = np.cumsum(counts.reshape(len(geoms), rows, cols + 1)[:, :, :cols], axis=2) & 1 == 1
    row = ya - 0.5
    flat = np.flatnonzero((ya == yb) & (row == np.floor(row)) & (row >= 0) & (row < rows))
    if len(flat):  # rare: edges along a row of centres, filled when they run right to left
        ring = of_ring[edge]  # ... in each ring's clockwise order on screen (GDAL's, whatever
        turn = np.bincount(ring, weights=xa * yb - xb * ya, minlength=len(rings))  # it is given)
        for j in flat[(xb[flat] < xa[flat]) == (turn[ring[flat]] > 0)]:
            c0, c1 = np.clip(np.floor([min(xa[j], xb[j]) + 0.5, max(xa[j], xb[j]) + 0.5]), 0, cols)
            masks[geom[j], int(row[j]), int(c0) : int(c1)] = True
    return list(masks)


def chip_indicators(
    chip: np.ndarray,
    *,
    inside: np.ndarray,
    ring: np.ndarray,
    bands: Mapping[str, int],
    display: Sequence[int],
) -> dict[str, float]:
    """Measure a chip inside the patch against the ring around it.

    Parameters
    ----------
    chip : numpy.ndarray
        ``(bands, rows, cols)`` float, NaN for nodata.
    inside, ring : numpy.ndarray
        Boolean ``(rows, cols)`` masks of the patch and of the ring around it.
    bands : mapping
        Role (``red``, ``green``, ``nir`` …) → 0-based position in ``chip``.
    display : sequence of int
        0-based positions of the bands whose mean is the brightness.

    Returns
    -------
    dict of str to float
        ``valid_share`` (of patch pixels with data), ``brightness_patch``,
        ``brightness_ring`` (mean digital number of the display bands),
        ``brightness_ratio`` (patch / ring: free of the sensor's scale); with a
        near-infrared band, ``ndvi_*`` (red) and ``ndwi_*`` (green, McFeeters)
        as ``_patch``, ``_ring`` and ``_diff`` (patch − ring). Keys that cannot be
        computed (an empty ring, no NIR) are left out. Indices from digital
        numbers, not reflectance: compare them between dates, not to thresholds
        from the literature.

    Raises
    ------
    NoDataError
        If no pixel inside the patch has data.
    """
    valid = np.isfinite(chip).all(axis=0)
    n_inside = np.count_nonzero(inside)
    # the usual chip has data everywhere: the masks as they are
    use_in, use_ring = (inside, ring) if valid.all() else (inside & valid, ring & valid)
    n_valid = np.count_nonzero(use_in)
    if n_inside == 0 or not n_valid:
        raise NoDataError("every pixel inside the patch is nodata")
    out: dict[str, float] = {"valid_share": n_valid / n_inside}
    shown = list(display)
    bright = (chip if shown == list(range(len(chip))) else chip[shown]).mean(axis=0)
    out["brightness_patch"] = float(bright[use_in].mean())
    if use_ring.any():
        out["brightness_ring"] = float(bright[use_ring].mean())
        if out["brightness_ring"] > 0:
            out["brightness_ratio"] = out["brightness_patch"] / out["brightness_ring"]
    for name, other in (("ndvi", "red"), ("ndwi", "green")):
        if "nir" not in bands or other not in bands:
            continue
        nir, vis = chip[bands["nir"]], chip[bands[other]]
        total = nir + vis
        with np.errstate(invalid="ignore", divide="ignore"):
            index = (nir - vis) / total if name == "ndvi" else (vis - nir) / total
        ok = np.isfinite(index) & (total > 0)
        if (use_in & ok).any():
            out[f"{name}_patch"] = float(index[use_in & ok].mean())
        if (use_ring & ok).any():
            out[f"{name}_ring"] = float(index[use_ring & ok].mean())
        if f"{name}_patch" in out and f"{name}_ring" in out:
            out[f"{name}_diff"] = out[f"{name}_patch"] - out[f"{name}_ring"]
    return {k: round(float(v), 4) for k, v in out.items()}


def render_chip(
    chip: np.ndarray,
    *,
    display: Sequence[int],
    outline: shapely.Geometry,
    transform: Affine,
) -> Image.Image:
    """Draw a chip as an image: a 2–98 % stretch shared by the bands, the patch outlined.

    Parameters
    ----------
    chip : numpy.ndarray
        ``(bands, rows, cols)`` float, NaN for nodata (drawn transparent).
    display : sequence of int
        0-based positions of the red, green, blue bands (or one grey band).
    outline : shapely geometry
        The patch, in the chip's CRS.
    transform : Affine
        The chip's transform.

    Returns
    -------
    PIL.Image.Image
        RGB, or RGBA when some pixels have no data.
    """
    rgb = chip[list(display)]
    if rgb.shape[0] == 1:
        rgb = np.repeat(rgb, 3, axis=0)
    valid = np.isfinite(rgb).all(axis=0)
    whole = bool(valid.all())  # the usual case: no nodata to mask or fill
    levels = _whole_levels(rgb) if whole else None
    if levels is not None:  # 8-bit values (the usual case): the stretch as a table of 256
        lo, hi = _stretch_limits(levels[:, ::2, ::2])
        hi = hi if hi > lo else lo + 1.0
        table = _scale(np.arange(256, dtype=np.float64), lo, hi)
        # looked up band by band and interleaved by PIL: a transposed NumPy copy is slower
        img = Image.merge("RGB", [Image.fromarray(band, "L") for band in table[levels]])
    else:
        # the stretch from every other row and column: the same limits to a grey level or so
        sub = rgb[:, ::2, ::2]
        values = sub.reshape(len(rgb), -1) if whole else sub[:, valid[::2, ::2]]
        values = values if values.size else rgb[:, valid]
        lo, hi = np.percentile(values, (2, 98)) if values.size else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1.0
        # one copy in pixel order, then scaled in place (in float64, as the limits)
        scaled = rgb.transpose(1, 2, 0).astype(np.result_type(rgb, lo), order="C")
        if not whole:
            np.nan_to_num(scaled, copy=False, nan=lo)
        pixels = _scale(scaled, lo, hi)
        if not whole:
            pixels[~valid] = NODATA_RGB
        img = Image.fromarray(pixels, "RGB")
        if not whole:
            img.putalpha(Image.fromarray((valid * 255).astype(np.uint8), "L"))
    draw = ImageDraw.Draw(img)
    inv = ~transform
    width = max(1, round(img.width / 128))
    for poly in getattr(outline, "geoms", [outline]):
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = shapely.get_coordinates(ring)
            cols, rows = inv @ (xy[:, 0], xy[:, 1])  # the ring's vertices in chip pixels
            draw.line(np.column_stack([cols, rows]).ravel().tolist(), fill=OUTLINE_RGB,
                      width=width, joint="curve")  # fmt: skip
    return img


def _scale(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``values`` stretched from ``lo .. hi`` to ``0 .. 255`` as bytes (in place)."""
    values -= lo
    values *= 255.0 / (hi - lo)
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)


def _whole_levels(rgb: np.ndarray) -> np.ndarray | None:
    """``rgb`` as bytes when every value is a whole number from 0 to 255, else None."""
    if rgb.dtype.kind not in "uif" or rgb.min() < 0 or rgb.max() > 255:
        return None
    levels = rgb.astype(np.uint8)
    return levels if np.array_equal(levels, rgb) else None


def _stretch_limits(levels: np.ndarray) -> tuple[float, float]:
    """``np.percentile(levels.astype(np.float32), (2, 98))``, to the bit, from a histogram.

    NumPy's default (linear) rule: the order statistics ``k = floor((n - 1) q)`` and
    ``k + 1``, weighted by the fraction, in the same float32 and float64 steps as
    ``np.percentile`` takes (``tests/test_imagery_render.py`` compares them).
    """
    n = levels.size
    below = np.cumsum(np.bincount(levels.ravel(), minlength=256))
    at = (n - 1) * (np.array([2.0, 98.0]) / 100)
    k = np.floor(at)
    frac = at - k
    k = k.astype(np.intp)
    a = np.searchsorted(below, k, side="right").astype(np.float32)
    b = np.searchsorted(below, np.minimum(k + 1, n - 1), side="right").astype(np.float32)
    step = b - a
    lo, hi = np.where(frac >= 0.5, b - step * (1 - frac), a + step * frac)
    return lo, hi


@functools.lru_cache(maxsize=64)
def _rio_crs(wkt: str) -> RioCRS:
    return RioCRS.from_wkt(wkt)


def warp_chip(
    data: np.ndarray,
    src_transform: Affine,
    src_crs: Any,
    dst_transform: Affine,
    dst_crs: CRS,
    size_px: int,
) -> np.ndarray:
    """Reproject a small array onto a ``size_px`` square grid, bilinearly (GDAL's warper).

    Between two CRSs, the array is first placed in the chip's CRS by the affine map
    that fits the change of CRS over the chip (:func:`_local_affine`), so GDAL only
    resamples; where no affine map fits within a tenth of a pixel, GDAL projects.

    Parameters
    ----------
    data : numpy.ndarray
        ``(bands, rows, cols)`` float32 source, NaN for nodata.
    src_transform, src_crs
        Where ``data`` lies.
    dst_transform, dst_crs
        The chip's grid.
    size_px : int
        The chip's width and height.

    Returns
    -------
    numpy.ndarray
        ``(bands, size_px, size_px)`` float32, NaN where the source has no data.

    Raises
    ------
    ImageryError
        If GDAL cannot warp between the two CRSs.
    """
    chip = np.full((data.shape[0], size_px, size_px), np.nan, dtype=np.float32)
    dst = _rio_crs(dst_crs.to_wkt())
    local = _local_affine(src_crs.to_wkt(), dst_crs.to_wkt(), dst_transform, size_px)
    if local is not None:  # the window's pixels placed in the chip's CRS: nothing left to project
        src_transform, src_crs = local * src_transform, dst
    try:
        reproject(
            data,
            chip,
            src_transform=src_transform,
            src_crs=src_crs,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs=dst,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    except RasterioError as exc:
        raise ImageryError(
            f"the chip cannot be reprojected to {dst_crs.to_string()} ({exc})"
        ) from exc
    return chip


_LOCAL = threading.local()  # a pyproj Transformer is not to be shared between threads


def _local_affine(src_wkt: str, dst_wkt: str, transform: Affine, size_px: int) -> Affine | None:
    """The affine map from the source CRS to the chip's CRS over the chip, if one fits.

    Over a chip (metres to a few kilometres) a change of CRS is affine to well within
    a pixel: fitted on a 3 × 3 grid of the chip's points, it is used when it misses none
    of them by more than a tenth of a chip pixel, so GDAL resamples without building a
    coordinate transformation for every chip (that cost ~35 ms a chip). None otherwise.
    """
    if src_wkt == dst_wkt:
        return None
    cache = _LOCAL.__dict__.setdefault("transformers", {})
    key = (src_wkt, dst_wkt)
    if key not in cache:
        cache[key] = Transformer.from_crs(
            CRS.from_wkt(dst_wkt), CRS.from_wkt(src_wkt), always_xy=True
        )
    steps = np.array([0.0, size_px / 2, size_px])
    cols, rows = (a.ravel() for a in np.meshgrid(steps, steps))
    xc, yc = transform @ (cols, rows)
    xs, ys = cache[key].transform(xc, yc)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return None
    mx, my = xs.mean(), ys.mean()
    design = np.column_stack([xs - mx, ys - my, np.ones_like(xs)])
    fit, *_ = np.linalg.lstsq(design, np.column_stack([xc, yc]), rcond=None)
    miss = np.abs(design @ fit - np.column_stack([xc, yc])).max()
    if not np.isfinite(miss) or miss > 0.1 * abs(transform.a):
        return None
    (a, d), (b, e), (c0, f0) = fit
    return Affine(a, b, c0 - a * mx - b * my, d, e, f0 - d * mx - e * my)
