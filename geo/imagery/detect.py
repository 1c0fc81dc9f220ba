"""Self-check (自查): find suspect changes inside the management ranges from two scenes.

:func:`detect_changes` compares a ``before`` and an ``after`` scene of the same place
(any CRS, any resolution: the after scene is warped onto the before grid by GDAL)
and returns candidate patches inside the management ranges plus ``buffer_m``. It
works window by window (bounded memory, one dataset handle per thread, threads
across windows: rasterio releases the GIL while it reads and warps), and only
windows that meet the ranges are read at all.

The steps, each chosen for what real pairs have:

1. **Relative radiometric normalisation.** The after scene is mapped into the
   radiometry of the before scene band by band with a robust linear fit
   (median/IQR matching, then least squares on the pixels whose residual is within
   three robust deviations, twice), fitted on a sample of windows inside the ranges,
   so different illumination, season and sensor gain do not read as change.
2. **Misregistration.** Each pixel is compared with the *range* of values of the
   other date within ``shift_px`` pixels (a min/max envelope) in both directions:
   a shift of up to ``shift_px`` pixels moves an edge within that envelope and is
   not a change, while a new object differs from everything around it.
3. **Clouds and shadows.** Bright, spectrally flat pixels (clouds, on either date)
   and pixels that only darken with their NDVI and NDWI unchanged (cloud shadows)
   are masked, grown by ``mask_grow_m``, and reported as unobserved
   (``frame.attrs["hetu"]["unobserved_m2"]``), never as changes. Nodata and the part
   the after scene does not cover are unobserved too.
4. **Noise.** The change magnitude (in robust deviations of each band, root mean
   square over the bands) is smoothed over 3 × 3 pixels, thresholded at
   ``threshold``, opened morphologically, and regions smaller than ``min_area_m2``
   are dropped.

Each region is a candidate: its polygon (simplified by half a pixel, EPSG:4490),
area, kind (:data:`geo.labels.CHANGE_KINDS`, from the mean NDVI, NDWI and
brightness changes), score, the segment and chiefs it falls to (the matching the
ledger uses) and, when it overlaps a patch already in the ledger, that patch
(``linked_patch``: the same place, not a new candidate).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from rasterio.enums import Resampling
from rasterio.features import rasterize, shapes
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from geo.crs import STORAGE_EPSG, metric_crs
from geo.errors import BandError, OutsideError, SchemaError
from geo.imagery.scenes import open_scene
from geo.labels import CHANGE_KINDS
from geo.progress import Progress, expect

log = logging.getLogger(__name__)

__all__ = ["CANDIDATE_COLUMNS", "DetectOptions", "detect_changes", "parse_bands"]

#: Band roles the detection needs (blue is used when present).
NEEDED = ("red", "green", "nir")
#: Columns of :func:`detect_changes`, before the chain columns and the geometry.
CANDIDATE_COLUMNS = [
    "candidate_id",
    "kind",
    "kind_label",
    "area_m2",
    "score",
    "d_ndvi",
    "d_ndwi",
    "d_brightness",
    "status",
    "linked_patch",
    "keep",
    "segment_id",
    "range_id",
    "water_name",
    "segment_name",
    "admin_code",
    "chiefs",
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


def parse_bands(text: str | None) -> dict[str, int] | None:
    """Parse ``red=1,green=2,blue=3,nir=4`` into band roles (None for None or blank).

    Raises
    ------
    BandError
        If an item is not ``role=number``.
    """
    if not text or not text.strip():
        return None
    out: dict[str, int] = {}
    for item in text.split(","):
        role, _, index = item.partition("=")
        if not index.strip().isdigit():
            raise BandError(
                f"--bands: {item.strip()!r} is not role=band; write e.g. red=1,green=2,blue=3,nir=4"
            )
        out[role.strip().lower()] = int(index)
    return out


@dataclass
class _Grid:
    crs: Any
    transform: Affine
    width: int
    height: int
    px_area: float  # m² of a pixel when the CRS is metric, else 0 (measured later)
    res: float  # pixel size in metres (approximate for geographic grids)


@dataclass
class _Fit:
    gain: np.ndarray  # (nb,) before ≈ gain · after + offset
    offset: np.ndarray
    sigma: np.ndarray  # robust deviation of the residuals per band
    cloud_level: float
    dark_level: float  # brightness below which a pixel can be shadow


@dataclass
class _Region:
    geom: shapely.Geometry
    edge: bool
    sums: np.ndarray  # count, mag, d_ndvi, d_ndwi, d_bright, ndwi_b, ndvi_a, blue_ratio


class _Reader:
    """One before dataset and one warped after dataset per thread."""

    def __init__(self, before: Path, after: Path, grid: _Grid, bands: tuple) -> None:
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


def _robust_fit(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float]:
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


def _windows(grid: _Grid, size: int) -> Iterator[Window]:
    for r in range(0, grid.height, size):
        for c in range(0, grid.width, size):
            yield Window(c, r, min(size, grid.width - c), min(size, grid.height - r))


def _halo(win: Window, h: int, grid: _Grid) -> Window:
    c0, r0 = max(0, win.col_off - h), max(0, win.row_off - h)
    c1 = min(grid.width, win.col_off + win.width + h)
    r1 = min(grid.height, win.row_off + win.height + h)
    return Window(c0, r0, c1 - c0, r1 - r0)


def _fit(reader: _Reader, aoi: Any, opts: DetectOptions, dtype: str, pos: Any) -> _Fit:
    """Fit after → before per band on a sample of small tiles inside the ranges."""
    tiles = [
        w for w in _windows(reader.grid, 128)
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
            g, o, sd = _robust_fit(b[k, clear], a[k, clear])
            if not 0.2 <= g <= 5.0:  # a degenerate sample: match medians only
                g, o = 1.0, float(np.median(b[k, clear]) - np.median(a[k, clear]))
            gains[k], offsets[k] = g, o
            sigmas[k] = max(sd, 1e-3 * float(np.ptp(b[k, clear]) or 1.0), 0.5)
        norm = gains[:, None] * a + offsets[:, None]
        clear &= ~_cloud(norm, level, opts.flatness, pos)
    log.debug("fit on %d pixels (%d clear): gain %s offset %s sigma %s", b.shape[1],
              int(clear.sum()), gains, offsets, sigmas)  # fmt: skip
    dark = opts.shadow_dark * float(np.median(b[:, clear].mean(axis=0)))
    return _Fit(gains, offsets, sigmas, level, dark)


def _process(
    win: Window,
    reader: _Reader,
    aoi: Any,
    fit: _Fit,
    opts: DetectOptions,
    pos: Mapping[str, int],
    min_px: float,
) -> tuple[list[_Region], int, int]:
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
        out.append(_Region(poly, bool(border[k]), table[k]))
    return out, observed, unobserved


def _merge(regions: list[_Region]) -> list[_Region]:
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
        whole.append(_Region(part, False, sums))
    return whole


def _kind(d_ndvi: float, d_ndwi: float, d_bright: float, ndwi_b: float, ndvi_a: float,
          blue_ratio: float) -> str:  # fmt: skip
    """Name the change from its mean index changes (see :data:`geo.labels.CHANGE_KINDS`)."""
    if ndwi_b > 0.1 and d_ndwi < -0.2:
        return "water_fill"
    if blue_ratio > 1.15 and ndvi_a < 0.2:
        return "new_structure"
    if d_ndvi < -0.1 or d_bright > 0.15:
        return "vegetation_loss"
    return "other_change"


def _grid_of(ds: Any, ranges_metric: Any) -> _Grid:
    crs = ds.crs
    if crs.is_geographic:
        # a degree at the scene's latitude, in metres
        lat = (ds.bounds.top + ds.bounds.bottom) / 2
        res = abs(ds.transform.a) * 111_320 * math.cos(math.radians(lat))
        return _Grid(crs, ds.transform, ds.width, ds.height, 0.0, res)
    unit = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
    res = abs(ds.transform.a) * unit
    return _Grid(crs, ds.transform, ds.width, ds.height, res * abs(ds.transform.e) * unit, res)


def detect_changes(
    before: str | os.PathLike,
    after: str | os.PathLike,
    ranges: gpd.GeoDataFrame,
    *,
    bands: Mapping[str, int] | None = None,
    buffer_m: float = 50.0,
    min_area_m2: float = 100.0,
    patches: gpd.GeoDataFrame | None = None,
    chiefs: pd.DataFrame | None = None,
    options: DetectOptions | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> gpd.GeoDataFrame:
    """Find suspect changes between two scenes inside the management ranges.

    Parameters
    ----------
    before, after : path-like
        The earlier and the later scene (GeoTIFF, COG, VRT …), any CRS and resolution;
        the after scene is warped onto the before grid.
    ranges : GeoDataFrame
        Management-range segments (``Ledger.segments()``: ``segment_id``, ``range_id``,
        ``water_name``, ``segment_name``, ``admin_code``); any CRS.
    bands : mapping, optional
        Band roles for both scenes (``{"red": 1, "green": 2, "blue": 3, "nir": 4}``);
        otherwise each file's colour interpretation or band descriptions. Red, green and
        near-infrared are needed.
    buffer_m : float
        Look this far outside the ranges too, in metres.
    min_area_m2 : float
        Smallest change kept, in square metres.
    patches : GeoDataFrame, optional
        The ledger's patches (``patch_id``): a candidate overlapping one is linked to it
        (``status`` ``linked``, ``keep`` 0) instead of being new.
    chiefs : DataFrame, optional
        The chiefs' list (``Ledger.chiefs()``): fills ``chiefs`` and the ``chief_*`` columns.
    options : DetectOptions, optional
        Thresholds and window sizes.
    workers : int, optional
        Threads across windows (default: the CPUs available, at most 4).
    progress : Progress, optional
        Told of each window done.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per candidate, columns :data:`CANDIDATE_COLUMNS` (the
        ``chief_<level>`` columns too when chiefs are given), largest score first; ids
        ``ZC-0001`` … in that order. ``attrs["hetu"]`` holds ``observed_m2`` and
        ``unobserved_m2`` (inside the ranges plus buffer: clouds, shadows, nodata and
        what the after scene does not cover), ``aoi_m2``, the fit per band, the scenes
        and their dates.

    Raises
    ------
    SchemaError
        If ``ranges`` lacks ``segment_id`` or a CRS, or is empty.
    BandError
        If a scene's red, green or near-infrared band is unknown (give ``bands``).
    OutsideError
        If the scenes share too few valid pixels inside the ranges.
    FileNotFoundError, UnreadableImageError, NoCRSError
        For a missing or unreadable scene.
    """
    opts = options or DetectOptions()
    if ranges is None or ranges.empty or ranges.crs is None or "segment_id" not in ranges:
        raise SchemaError(
            "ranges: need the management-range segments with segment_id and a CRS "
            "(Ledger.segments()); ingest the ranges first"
        )
    scenes = {}
    for role, path in (("before", before), ("after", after)):
        with open_scene(path, bands=bands) as scene:
            lacking = [k for k in NEEDED if k not in scene.bands]
            if lacking:
                raise BandError(
                    f"{scene.path.name}: bands {lacking} are not known (from "
                    f"{scene.bands_from}); give them, e.g. --bands red=1,green=2,blue=3,nir=4"
                )
            scenes[role] = (scene.path, dict(scene.bands), scene.acquired_on,
                            scene.dataset.dtypes[0])  # fmt: skip
    roles = [k for k in ("red", "green", "blue", "nir") if k in scenes["before"][1]
             and k in scenes["after"][1]]  # fmt: skip
    pos = {k: i for i, k in enumerate(roles)}
    idx = (
        tuple(scenes["before"][1][k] for k in roles),
        tuple(scenes["after"][1][k] for k in roles),
    )
    metric = metric_crs(ranges)
    zone = shapely.union_all(ranges.to_crs(metric).geometry.make_valid().buffer(buffer_m).values)
    with rasterio.open(scenes["before"][0]) as ds:
        grid = _grid_of(ds, zone)
        aoi = gpd.GeoSeries([zone], crs=metric).to_crs(grid.crs).iloc[0]
    # half a pixel of simplification costs nothing in the mask and much in rasterising
    aoi = shapely.make_valid(aoi.simplify(abs(grid.transform.a) / 2))
    if grid.px_area == 0.0:  # geographic: area of a pixel at the centre
        cell = gpd.GeoSeries(
            [shapely.box(0, 0, abs(grid.transform.a), abs(grid.transform.e))], crs=grid.crs
        ).translate(grid.transform.c, grid.transform.f)
        grid.px_area = float(cell.to_crs(metric).area.iloc[0])
    shapely.prepare(aoi)
    wins = [
        w for w in _windows(grid, opts.window_px)
        if aoi.intersects(shapely.box(*rasterio.windows.bounds(w, grid.transform)))
    ]  # fmt: skip
    tick = expect(progress, len(wins))
    reader = _Reader(scenes["before"][0], scenes["after"][0], grid, idx)
    min_px = min_area_m2 / grid.px_area
    regions: list[_Region] = []
    observed = unobserved = 0
    n_workers = workers or min(4, os.cpu_count() or 1)
    try:
        with rasterio.Env(GDAL_CACHEMAX=256 * 2**20):
            fit = _fit(reader, aoi, opts, scenes["before"][3], pos)

            def one(w: Window) -> tuple[list[_Region], int, int]:
                return _process(w, reader, aoi, fit, opts, pos, min_px)

            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                for found, seen, unseen in pool.map(one, wins):
                    regions += found
                    observed += seen
                    unobserved += unseen
                    tick(1)
    finally:
        reader.close()
    regions = [g for g in _merge(regions) if g.sums[0] >= min_px]
    frame = _frame(regions, grid, metric, pos)
    frame = _place(frame, ranges, patches, chiefs)
    frame.attrs["hetu"] = {
        "observed_m2": round(observed * grid.px_area, 1),
        "unobserved_m2": round(unobserved * grid.px_area, 1),
        "aoi_m2": round(float(zone.area), 1),
        "fit": {
            k: [
                round(float(fit.gain[i]), 4),
                round(float(fit.offset[i]), 3),
                round(float(fit.sigma[i]), 3),
            ]
            for k, i in pos.items()
        },
        "cloud_level": round(fit.cloud_level, 2),
        "before": str(scenes["before"][0]),
        "after": str(scenes["after"][0]),
        "before_on": scenes["before"][2],
        "after_on": scenes["after"][2],
        "buffer_m": buffer_m,
        "min_area_m2": min_area_m2,
    }
    return frame


def _frame(regions: list[_Region], grid: _Grid, metric: Any, pos: Mapping[str, int]) -> Any:
    cols = {c: [] for c in ("area_m2", "score", "d_ndvi", "d_ndwi", "d_brightness", "kind")}
    geoms = []
    for g in regions:
        s = g.sums
        n = s[0]
        mean = np.concatenate([[s[1] / n], s[2:] / max(s[1], 1e-9)])
        cols["area_m2"].append(n * grid.px_area)
        cols["score"].append(round(float(mean[0]), 2))
        cols["d_ndvi"].append(round(float(mean[1]), 3))
        cols["d_ndwi"].append(round(float(mean[2]), 3))
        cols["d_brightness"].append(round(float(mean[3]), 3))
        blue = float(mean[6]) if "blue" in pos else 0.0
        cols["kind"].append(_kind(mean[1], mean[2], mean[3], mean[4], mean[5], blue))
        geoms.append(g.geom)
    simple = gpd.GeoSeries(geoms, crs=grid.crs).to_crs(metric)
    simple = simple.simplify(grid.res / 2).make_valid()
    frame = gpd.GeoDataFrame(cols, geometry=simple.to_crs(STORAGE_EPSG).values, crs=STORAGE_EPSG)
    frame["area_m2"] = gpd.GeoSeries(geoms, crs=grid.crs).to_crs(metric).area.round(1).values
    frame["kind_label"] = frame["kind"].map(CHANGE_KINDS)
    frame = frame.sort_values(["score", "area_m2"], ascending=False, kind="stable")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "candidate_id", [f"ZC-{k:04d}" for k in range(1, len(frame) + 1)])
    return frame


def _place(
    frame: gpd.GeoDataFrame,
    ranges: gpd.GeoDataFrame,
    patches: gpd.GeoDataFrame | None,
    chiefs: pd.DataFrame | None,
) -> gpd.GeoDataFrame:
    """Add the segment, chiefs and any existing patch at the same place."""
    from geo.matching.chiefs import responsible_chain
    from geo.matching.engines import match_patches

    frame = frame.copy()
    frame["status"] = "new"
    frame["linked_patch"] = ""
    for c in ("segment_id", "range_id", "water_name", "segment_name", "admin_code", "chiefs"):
        frame[c] = ""
    if frame.empty:
        frame["keep"] = pd.Series(dtype="int64")
        return gpd.GeoDataFrame(frame[[*CANDIDATE_COLUMNS, "geometry"]], crs=STORAGE_EPSG)
    as_patches = frame[["candidate_id", "geometry"]].rename(columns={"candidate_id": "patch_id"})
    matches = match_patches(as_patches, ranges, id_column="segment_id", workers=1)
    primary = matches[matches["primary"].astype(bool)]
    people = chiefs if chiefs is not None else pd.DataFrame(
        columns=["chief_id", "name", "title", "level", "segment_id", "term_start", "term_end"]
    )  # fmt: skip
    try:
        chain = responsible_chain(primary, pd.DataFrame(ranges.drop(columns="geometry")), people)
    except SchemaError as exc:  # a chiefs' list without the columns: no chiefs
        log.warning("chiefs not added: %s", exc)
        chain = primary.assign(water_name="", segment_name="", admin_code="")
    chain = chain.drop_duplicates("patch_id").set_index("patch_id")
    seg = ranges.drop_duplicates("segment_id").set_index("segment_id")
    ids = frame["candidate_id"]
    for c in ("segment_id", "water_name", "segment_name", "admin_code"):
        if c in chain:
            frame[c] = ids.map(chain[c]).fillna("").astype(str).to_numpy()
    frame["range_id"] = frame["segment_id"].map(seg.get("range_id", pd.Series(dtype=str)))
    frame["range_id"] = frame["range_id"].fillna("").astype(str)
    levels = [c for c in chain.columns if c.startswith("chief_")]
    for c in levels:
        frame[c] = ids.map(chain[c]).fillna("").astype(str).to_numpy()
    frame["chiefs"] = (
        frame[levels].apply(lambda r: "；".join(v for v in r if v), axis=1) if levels else ""
    )
    if patches is not None and len(patches):
        m = metric_crs(frame)
        cand = frame.geometry.to_crs(m).to_numpy()
        earlier = patches.geometry.to_crs(m).make_valid().to_numpy()
        qi, ti = shapely.STRtree(earlier).query(cand, predicate="intersects")
        if len(qi):
            over = shapely.area(shapely.intersection(cand[qi], earlier[ti]))
            hit = pd.DataFrame({"c": qi, "p": patches["patch_id"].astype(str).to_numpy()[ti],
                                "over": over})  # fmt: skip
            best = hit.sort_values("over", ascending=False).drop_duplicates("c")
            col = frame.columns.get_loc("linked_patch")
            frame.iloc[best["c"].to_numpy(), col] = best["p"].to_numpy()
    frame.loc[frame["linked_patch"] != "", "status"] = "linked"
    frame["keep"] = (frame["status"] == "new").astype("int64")
    extra = [c for c in levels if c not in CANDIDATE_COLUMNS]
    return gpd.GeoDataFrame(frame[[*CANDIDATE_COLUMNS, *extra, "geometry"]], crs=STORAGE_EPSG)


def summary(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """Counts of a candidates frame by status and kind, with the unobserved area (for printing)."""
    meta = frame.attrs.get("hetu", {})
    return {
        "candidates": len(frame),
        "new": int((frame["status"] == "new").sum()) if len(frame) else 0,
        "linked": int((frame["status"] == "linked").sum()) if len(frame) else 0,
        "kinds": {str(k): int(v) for k, v in frame["kind"].value_counts().items()},
        "unobserved_m2": meta.get("unobserved_m2"),
        "observed_m2": meta.get("observed_m2"),
    }


def dumps_meta(frame: gpd.GeoDataFrame) -> str:
    """The frame's detection record as JSON text (stored beside the candidates)."""
    return json.dumps(frame.attrs.get("hetu", {}), ensure_ascii=False, sort_keys=True)
