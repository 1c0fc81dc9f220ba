"""The self-check's work per window: read both scenes, normalise, mask, compare, polygonise.

:func:`fit_radiometry` fits the after scene's bands to the before scene's on a sample
of tiles inside the ranges; :func:`detect_window` finds the changed regions of one
window (clouds and shadows masked, misregistration tolerated, noise removed) and
:func:`merge_regions` joins the regions cut by window edges. :class:`SceneReader`
keeps one dataset handle per thread. The orchestration, the kinds and the placing on
segments are in :mod:`geo.imagery.detect`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.enums import Resampling
from rasterio.features import rasterize, shapes
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from geo.errors import OutsideError

log = logging.getLogger(__name__)

__all__ = [
    "DetectOptions",
    "Fit",
    "Grid",
    "Region",
    "SceneReader",
    "detect_window",
    "fit_radiometry",
    "grid_of",
    "iter_windows",
    "merge_regions",
]


@dataclass(frozen=True)
class DetectOptions:
    """Tuning of :func:`detect_changes` (the defaults suit 0.5–10 m imagery).

    Attributes
    ----------
    threshold : float
        Change magnitude, in robust deviations of the unchanged pixels, above which a
        pixel changed (after a 3 × 3 mean).
    shift_px : int
        Misregistration tolerated, in pixels of the before grid.
    cloud_level : float or None
        Brightness (mean of the bands, before scene's digital numbers) from which a
        spectrally flat pixel is a cloud; default 78 % of the data type's maximum for
        8-bit data, else the sample's median plus eight interquartile ranges.
    flatness : float
        Largest (max − min) / mean of the bands of a cloud pixel.
    shadow_ratio : float
        A pixel whose brightness falls below this share of the other date's is shadow
        when every band fell alike (see ``shadow_spread``).
    shadow_spread : float
        Largest ratio between the bands' after/before ratios (3 × 3 means) of a shadow.
    shadow_dark : float
        A shadow is darker than this share of the sample's median brightness.
    mask_grow_m : float
        Clouds and shadows are grown by this much (their soft rims), in metres.
    window_px : int
        Side of the windows processed at once.
    sample_windows : int
        Tiles of 128 × 128 pixels inside the ranges sampled for the radiometric fit.
    """

    threshold: float = 3.0
    shift_px: int = 2
    cloud_level: float | None = None
    flatness: float = 0.2
    shadow_ratio: float = 0.6
    shadow_spread: float = 1.35
    shadow_dark: float = 0.6
    mask_grow_m: float = 20.0
    window_px: int = 512
    sample_windows: int = 64


@dataclass
class Grid:
    """The before scene's grid, onto which the after scene is read."""

    crs: Any
    transform: Affine
    width: int
    height: int
    px_area: float  # m² of a pixel when the CRS is metric, else 0 (measured later)
    res: float  # pixel size in metres (approximate for geographic grids)


@dataclass
class Fit:
    """The radiometric fit (after → before per band) and the mask levels."""

    gain: np.ndarray  # (nb,) before ≈ gain · after + offset
    offset: np.ndarray
    sigma: np.ndarray  # robust deviation of the residuals per band
    cloud_level: float
    dark_level: float  # brightness below which a pixel can be shadow


@dataclass
class Region:
    """A changed region of one window and its sums (joined across windows when ``edge``)."""

    geom: shapely.Geometry
    edge: bool
    sums: np.ndarray  # count, mag, d_ndvi, d_ndwi, d_bright, ndwi_b, ndvi_a, blue_ratio


class SceneReader:
    """One before dataset and one warped after dataset per thread."""

    def __init__(self, before: Path, after: Path, grid: Grid, bands: tuple) -> None:
        self.before, self.after, self.grid, self.bands = before, after, grid, bands
        self.local = threading.local()
        self.opened: list[Any] = []
        self.lock = threading.Lock()

    def _handles(self) -> tuple[Any, Any]:
        h = getattr(self.local, "h", None)
        if h is None:
            b = rasterio.open(self.before)
            a_src = rasterio.open(self.after)
            g = self.grid
            same = (a_src.crs == g.crs and a_src.transform.almost_equals(g.transform)
                    and (a_src.width, a_src.height) == (g.width, g.height))  # fmt: skip
            a = a_src if same else WarpedVRT(
                a_src, crs=self.grid.crs, transform=self.grid.transform, width=self.grid.width,
                height=self.grid.height, resampling=Resampling.bilinear,
                add_alpha=a_src.nodata is None,
            )  # fmt: skip
            if same:
                a_src = b  # nothing more to close twice
            h = self.local.h = (b, a)
            with self.lock:
                self.opened += [a, a_src, b]
        return h

    def read(self, win: Window) -> tuple[np.ndarray, np.ndarray]:
        """Both scenes over ``win`` as float32 ``(nb, rows, cols)``, NaN where no data."""
        b, a = self._handles()
        out = []
        for ds, idx in ((b, self.bands[0]), (a, self.bands[1])):
            data = ds.read(list(idx), window=win).astype(np.float32)
            if ds.nodata is not None:
                bad = (data == np.float32(ds.nodata)).any(axis=0)
            else:  # an alpha band or an internal mask (all valid without either)
                bad = ds.dataset_mask(window=win) == 0
            data[:, bad] = np.nan
            out.append(data)
        return out[0], out[1]

    def close(self) -> None:
        """Close every handle the threads opened."""
        for ds in self.opened:
            with contextlib.suppress(Exception):
                ds.close()


def _filter(arr: np.ndarray, r: int, op: Any) -> np.ndarray:
    """Min, max, and or or over a (2r+1)² neighbourhood of the last two axes (separable)."""
    out = arr.copy()
    if r <= 0:
        return out
    for axis in (-1, -2):
        src = out.copy()
        for k in range(1, r + 1):
            hi = [slice(None)] * out.ndim
            lo = list(hi)
            hi[axis], lo[axis] = slice(k, None), slice(None, -k)
            op(out[tuple(hi)], src[tuple(lo)], out=out[tuple(hi)])
            op(out[tuple(lo)], src[tuple(hi)], out=out[tuple(lo)])
    return out


def _box_mean(arr: np.ndarray) -> np.ndarray:
    """Mean over 3 × 3 pixels (edges by their neighbours inside), NaN-free float input."""
    s = arr.astype(np.float32, copy=True)
    s[1:] += arr[:-1]
    s[:-1] += arr[1:]
    t = s.copy()
    t[:, 1:] += s[:, :-1]
    t[:, :-1] += s[:, 1:]
    t *= np.float32(1 / 9)
    return t


def _grow(mask: np.ndarray, r: int) -> np.ndarray:
    return _filter(mask, r, np.logical_or)


def _open(mask: np.ndarray) -> np.ndarray:
    return _filter(_filter(mask, 1, np.logical_and), 1, np.logical_or) & mask


def _indices(x: np.ndarray, pos: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NDVI, NDWI (McFeeters) and brightness (mean of the bands) of ``(nb, r, c)``."""
    nir, red, green = x[pos["nir"]], x[pos["red"]], x[pos["green"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir - red) / (nir + red)
        ndwi = (green - nir) / (green + nir)
    return ndvi, ndwi, x.mean(axis=0)


def _cloud(
    x: np.ndarray, level: float, flatness: float, pos: Mapping[str, int] | None = None
) -> np.ndarray:
    """Bright, spectrally flat pixels (and, with a blue band, no redder than blue)."""
    bright = x.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        flat = (x.max(axis=0) - x.min(axis=0)) / bright
    out = (bright >= level) & (flat <= flatness)
    if pos is not None and "blue" in pos:  # clouds scatter blue; spoil and sand are redder
        out &= x[pos["blue"]] >= 0.95 * x[pos["red"]]
    return out


def _robustfit_radiometry(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
    """Fit y ≈ g·x + o robustly; return g, o and the residuals' robust deviation."""
    qx, qy = np.percentile(x, [25, 50, 75]), np.percentile(y, [25, 50, 75])
    g = (qy[2] - qy[0]) / (qx[2] - qx[0]) if qx[2] > qx[0] else 1.0
    o = qy[1] - g * qx[1]
    keep = np.ones(len(x), bool)
    for _ in range(3):
        res = y - (g * x + o)
        mad = 1.4826 * np.median(np.abs(res - np.median(res))) + 1e-6
        keep = np.abs(res) <= 3 * mad
        xs, ys = x[keep], y[keep]
        if len(xs) < 50 or np.ptp(xs) == 0:
            break
        mx, my = xs.mean(), ys.mean()
        g = float(((xs - mx) * (ys - my)).sum() / ((xs - mx) ** 2).sum())
        o = float(my - g * mx)
    res = y[keep] - (g * x[keep] + o)
    return float(g), float(o), float(1.4826 * np.median(np.abs(res - np.median(res))))


def iter_windows(grid: Grid, size: int) -> Iterator[Window]:
    """The grid in windows of ``size`` pixels, row by row."""
    for r in range(0, grid.height, size):
        for c in range(0, grid.width, size):
            yield Window(c, r, min(size, grid.width - c), min(size, grid.height - r))


def _halo(win: Window, h: int, grid: Grid) -> Window:
    c0, r0 = max(0, win.col_off - h), max(0, win.row_off - h)
    c1 = min(grid.width, win.col_off + win.width + h)
    r1 = min(grid.height, win.row_off + win.height + h)
    return Window(c0, r0, c1 - c0, r1 - r0)


def fit_radiometry(reader: SceneReader, aoi: Any, opts: DetectOptions, dtype: str, pos: Any) -> Fit:
    """Fit after → before per band on a sample of small tiles inside the ranges."""
    tiles = [
        w for w in iter_windows(reader.grid, 128)
        if aoi.intersects(shapely.box(*rasterio.windows.bounds(w, reader.grid.transform)))
    ]  # fmt: skip
    step = max(1, len(tiles) // opts.sample_windows)
    bs, as_ = [], []
    for sub in tiles[::step][: opts.sample_windows]:
        t = rasterio.windows.transform(sub, reader.grid.transform)
        shape = (int(sub.height), int(sub.width))
        piece = shapely.intersection(
            aoi, shapely.box(*rasterio.windows.bounds(sub, reader.grid.transform))
        )
        inside = rasterize([piece], out_shape=shape, transform=t).astype(bool)
        b, a = reader.read(sub)
        ok = np.isfinite(b).all(axis=0) & np.isfinite(a).all(axis=0) & inside
        bs.append(b[:, ok])
        as_.append(a[:, ok])
    b = np.concatenate(bs, axis=1) if bs else np.empty((0, 0))
    a = np.concatenate(as_, axis=1) if as_ else np.empty((0, 0))
    every = max(1, b.shape[1] // 60_000)  # a regular subsample is plenty for two numbers
    b, a = b[:, ::every].astype(np.float64), a[:, ::every].astype(np.float64)
    if b.shape[1] < 100:
        raise OutsideError(
            "the two scenes share fewer than 100 valid pixels inside the ranges: check that "
            "both cover the ranges (and the same place)"
        )
    if opts.cloud_level is not None:
        level = float(opts.cloud_level)
    elif np.dtype(dtype) == np.uint8:
        level = 0.78 * 255
    else:
        q = np.percentile(b.mean(axis=0), [25, 50, 75])
        level = float(q[1] + 8 * (q[2] - q[0]))
    clear = ~_cloud(b, level, opts.flatness, pos)
    gains = np.ones(b.shape[0], np.float32)
    offsets = np.zeros(b.shape[0], np.float32)
    sigmas = np.ones(b.shape[0], np.float32)
    for _ in range(2):  # the second pass leaves out the after scene's clouds too
        for k in range(b.shape[0]):
            g, o, sd = _robustfit_radiometry(b[k, clear], a[k, clear])
            if not 0.2 <= g <= 5.0:  # a degenerate sample: match medians only
                g, o = 1.0, float(np.median(b[k, clear]) - np.median(a[k, clear]))
            gains[k], offsets[k] = g, o
            sigmas[k] = max(sd, 1e-3 * float(np.ptp(b[k, clear]) or 1.0), 0.5)
        norm = gains[:, None] * a + offsets[:, None]
        clear &= ~_cloud(norm, level, opts.flatness, pos)
    log.debug("fit on %d pixels (%d clear): gain %s offset %s sigma %s", b.shape[1],
              int(clear.sum()), gains, offsets, sigmas)  # fmt: skip
    dark = opts.shadow_dark * float(np.median(b[:, clear].mean(axis=0)))
    return Fit(gains, offsets, sigmas, level, dark)


def detect_window(
    win: Window,
    reader: SceneReader,
    aoi: Any,
    fit: Fit,
    opts: DetectOptions,
    pos: Mapping[str, int],
    min_px: float,
) -> tuple[list[Region], int, int]:
    """Detect in one window; return regions and the observed / unobserved pixels in the ranges."""
    grid = reader.grid
    r = opts.shift_px
    grow = max(1, math.ceil(opts.mask_grow_m / grid.res))
    h = r + grow + 3
    ct = rasterio.windows.transform(win, grid.transform)
    box = shapely.box(*rasterio.windows.bounds(win, grid.transform))
    piece = shapely.intersection(aoi, box)
    if piece.is_empty:
        return [], 0, 0
    shape = (int(win.height), int(win.width))
    inside_core = rasterize([piece], out_shape=shape, transform=ct).astype(bool)
    rows_in, cols_in = np.flatnonzero(inside_core.any(axis=1)), np.flatnonzero(inside_core.any(0))
    if not len(rows_in):
        return [], 0, 0
    # only the part of the window the ranges cover, plus a halo for the neighbourhoods
    r0, r1, c0, c1 = rows_in[0], rows_in[-1] + 1, cols_in[0], cols_in[-1] + 1
    sub = Window(win.col_off + c0, win.row_off + r0, c1 - c0, r1 - r0)
    outer = _halo(sub, h, grid)
    t = rasterio.windows.transform(outer, grid.transform)
    oshape = (int(outer.height), int(outer.width))
    inside = rasterize([shapely.intersection(aoi, shapely.box(
        *rasterio.windows.bounds(outer, grid.transform)))], out_shape=oshape, transform=t
    ).astype(bool)  # fmt: skip
    b, a = reader.read(outer)
    a *= fit.gain[:, None, None]
    a += fit.offset[:, None, None]
    valid = np.isfinite(b).all(axis=0) & np.isfinite(a).all(axis=0)
    b[:, ~valid] = 0.0
    a[:, ~valid] = 0.0
    cloud = _cloud(b, fit.cloud_level, opts.flatness, pos)
    cloud |= _cloud(a, fit.cloud_level, opts.flatness, pos)
    # a shadow darkens every band alike (on either date); an object changes their balance
    lo_ratio, hi_ratio = np.full(oshape, np.inf, np.float32), np.zeros(oshape, np.float32)
    sum_b, sum_a = np.zeros(oshape, np.float32), np.zeros(oshape, np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(b.shape[0]):
            sb, sa = _box_mean(b[k]), _box_mean(a[k])
            ratio = sa / sb
            np.minimum(lo_ratio, ratio, out=lo_ratio)
            np.maximum(hi_ratio, ratio, out=hi_ratio)
            sum_b += sb
            sum_a += sa
        mean_ratio = sum_a / sum_b
        stable = hi_ratio / lo_ratio < opts.shadow_spread
    low = fit.dark_level * b.shape[0]
    dark = ((mean_ratio < opts.shadow_ratio) & (sum_a < low)) | (
        (mean_ratio > 1 / opts.shadow_ratio) & (sum_b < low)
    )
    masked = _grow((cloud | (dark & stable)) & valid, grow)
    del lo_ratio, hi_ratio, sum_b, sum_a, mean_ratio, stable, dark, cloud
    # misregistration: each date against the other date's envelope within r pixels
    acc = np.zeros(oshape, np.float32)
    for k in range(b.shape[0]):
        bk, ak = b[k], a[k]
        d = np.maximum(ak - _filter(bk, r, np.maximum), _filter(bk, r, np.minimum) - ak)
        d = np.maximum(d, bk - _filter(ak, r, np.maximum), out=d)
        d = np.maximum(d, _filter(ak, r, np.minimum) - bk, out=d)
        np.maximum(d, 0, out=d)
        d *= np.float32(1 / fit.sigma[k])
        acc += d * d
    mag = _box_mean(np.where(valid, np.sqrt(acc / b.shape[0]), np.float32(0)))
    del acc
    change = _open((mag >= opts.threshold) & valid & ~masked & inside)
    # the part of the core window analysed
    ro, co = int(sub.row_off - outer.row_off), int(sub.col_off - outer.col_off)
    core = np.s_[ro : ro + int(sub.height), co : co + int(sub.width)]
    seen = inside[core] & valid[core] & ~masked[core]
    observed, unobserved = int(seen.sum()), int((inside[core] & ~seen).sum())
    ch = change[core]
    if not ch.any():
        return [], observed, unobserved
    st = rasterio.windows.transform(sub, grid.transform)
    polys = [shapely.geometry.shape(g) for g, _ in
             shapes(ch.astype(np.uint8), mask=ch, transform=st, connectivity=8)]  # fmt: skip
    labels = rasterize(
        [(p, k + 1) for k, p in enumerate(polys)], out_shape=ch.shape, transform=st, dtype="int32"
    )
    labels[~ch] = 0
    lab = labels[ch]
    bb, aa = b[:, core[0], core[1]][:, ch], a[:, core[0], core[1]][:, ch]
    ndvi_b, ndwi_b, br_b = _indices(bb, pos)
    ndvi_a, ndwi_a, br_a = _indices(aa, pos)
    with np.errstate(invalid="ignore", divide="ignore"):
        blue_ratio = aa[pos["blue"]] / aa[pos["red"]] if "blue" in pos else np.zeros_like(br_a)
        feats = [mag[core][ch], ndvi_a - ndvi_b, ndwi_a - ndwi_b, (br_a - br_b) / br_b, ndwi_b,
                 ndvi_a, blue_ratio]  # fmt: skip
    n = len(polys) + 1
    # count, sum of the magnitude, then the features weighted by it (the rim counts little)
    weight = np.nan_to_num(feats[0])
    sums = [np.bincount(lab, minlength=n).astype(np.float64)]
    sums.append(np.bincount(lab, weights=weight, minlength=n))
    for f in feats[1:]:
        sums.append(np.bincount(lab, weights=np.nan_to_num(f) * weight, minlength=n))
    table = np.stack(sums, axis=1)
    # regions on a side of the window that has a neighbour are joined later
    sides = {
        "top": (r0 == 0 and win.row_off > 0, labels[0]),
        "bottom": (r1 == win.height and win.row_off + win.height < grid.height, labels[-1]),
        "left": (c0 == 0 and win.col_off > 0, labels[:, 0]),
        "right": (c1 == win.width and win.col_off + win.width < grid.width, labels[:, -1]),
    }
    border = np.zeros(n, bool)
    for inner, line in sides.values():
        if inner:
            border[np.unique(line)] = True
    out = []
    for k, poly in enumerate(polys, start=1):
        if not border[k] and table[k, 0] < min_px:
            continue
        out.append(Region(poly, bool(border[k]), table[k]))
    return out, observed, unobserved


def merge_regions(regions: list[Region]) -> list[Region]:
    """Join the regions cut by window edges into one each."""
    whole = [g for g in regions if not g.edge]
    cut = [g for g in regions if g.edge]
    if not cut:
        return whole
    geoms = np.array([g.geom for g in cut], dtype=object)
    merged = shapely.union_all(geoms)
    parts = list(getattr(merged, "geoms", [merged]))
    tree = shapely.STRtree(geoms)
    for part in parts:
        idx = tree.query(part, predicate="intersects")
        sums = np.sum([cut[i].sums for i in idx], axis=0)
        whole.append(Region(part, False, sums))
    return whole


def grid_of(ds: Any) -> Grid:
    """The grid of an open dataset, with its pixel size in metres."""
    crs = ds.crs
    if crs.is_geographic:
        # a degree at the scene's latitude, in metres
        lat = (ds.bounds.top + ds.bounds.bottom) / 2
        res = abs(ds.transform.a) * 111_320 * math.cos(math.radians(lat))
        return Grid(crs, ds.transform, ds.width, ds.height, 0.0, res)
    unit = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
    res = abs(ds.transform.a) * unit
    return Grid(crs, ds.transform, ds.width, ds.height, res * abs(ds.transform.e) * unit, res)
