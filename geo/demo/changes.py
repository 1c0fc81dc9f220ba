"""A seeded synthetic image pair with planted changes, to measure the self-check (自查).

:func:`synthetic_pair` writes a before/after pair of four-band GeoTIFFs over a
made-up stretch of river: fields in parcels, a meandering river with its
management range, and in the after scene the changes a county looks for
(spoil on a bank, a blue-roofed shed, earth filled into the water) of 12–40 m,
a few of them outside the range, a cloud with its shadow, different
illumination, sensor noise and a misregistration of a pixel or two. It returns
the ranges and the planted changes, so :mod:`scripts.bench_detect` and the tests
can count recall and precision. Every pixel is a function of its position and
the seed, and the files are written in strips (bounded memory at any size).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.enums import ColorInterp
from rasterio.features import rasterize
from rasterio.windows import Window

from geo.crs import metric_crs
from geo.demo.imagery import COVER, _ground, _hash, soft_mask

#: Cover drawn for each planted kind of change (a cover of :data:`geo.demo.imagery.COVER`).
PLANTED = {
    "vegetation_loss": "dumping",
    "new_structure": "construction",
    "water_fill": "occupation",
}
CLOUD = (236.0, 238.0, 242.0, 232.0)
SHADOW = 0.42
STRIP = 512


@dataclass
class SyntheticPair:
    """What :func:`synthetic_pair` wrote and planted.

    Attributes
    ----------
    before, after : Path
        The two GeoTIFFs.
    ranges : GeoDataFrame
        The management range (``segment_id``, ``range_id``, ``water_name`` …), in the
        scenes' CRS.
    planted : GeoDataFrame
        The changes: ``kind``, ``area_m2``, ``inside`` (within the range plus the
        buffer given) and polygons in the scenes' CRS.
    cloud : shapely geometry
        The cloud and its shadow (what must never be reported).
    """

    before: Path
    after: Path
    ranges: gpd.GeoDataFrame
    planted: gpd.GeoDataFrame
    cloud: shapely.Geometry


def _river(width_px: int, height_px: int, res: float, left: float, top: float) -> tuple:
    """A meandering river across the scene: its water and its management range."""
    xs = np.linspace(left, left + width_px * res, 200)
    mid = top - height_px * res / 2
    amp = height_px * res * 0.18
    ys = mid + amp * np.sin((xs - left) / (width_px * res) * 2.6 * np.pi)
    line = shapely.LineString(np.column_stack([xs, ys]))
    water = line.buffer(30.0, cap_style="flat")
    rng = line.buffer(90.0, cap_style="flat")
    return line, water, rng


def synthetic_pair(
    folder: str | os.PathLike,
    *,
    size_px: int = 2000,
    res_m: float = 2.0,
    seed: int = 7,
    n_changes: int = 24,
    shift_px: tuple[int, int] = (1, 2),
    gain: tuple[float, ...] = (1.12, 1.08, 1.05, 1.15),
    offset: tuple[float, ...] = (-4.0, 2.0, 3.0, -6.0),
    noise: float = 3.0,
    cloud: bool = True,
    buffer_m: float = 50.0,
    crs: str = "EPSG:4547",
    after_cover: float = 1.0,
) -> SyntheticPair:
    """Write a seeded before/after pair with planted changes.

    Parameters
    ----------
    folder : path-like
        Where ``before.tif`` and ``after.tif`` are written.
    size_px : int
        Width and height of the scenes.
    res_m : float
        Pixel size in metres.
    seed : int
        The same seed gives the same files and changes.
    n_changes : int
        Changes planted; about one in eight lands outside the range plus ``buffer_m``.
    shift_px : tuple of int
        Misregistration of the after scene (columns, rows).
    gain, offset : tuple of float
        Illumination of the after scene per band (red, green, blue, NIR).
    noise : float
        Standard deviation of the sensor noise added to both scenes.
    cloud : bool
        Put a cloud and its shadow over the range in the after scene.
    buffer_m : float
        The buffer the detection will use (decides ``inside``).
    crs : str
        The scenes' CRS (metric).
    after_cover : float
        Share of the width the after scene covers (partial overlap below 1; the rest
        is nodata).

    Returns
    -------
    SyntheticPair
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    left, top = 500_000.0, 3_400_000.0
    transform = Affine(res_m, 0, left, 0, -res_m, top)
    line, water, zone = _river(size_px, size_px, res_m, left, top)
    bank = zone.difference(water)
    look = zone.buffer(buffer_m)
    cloud_geom = shapely.Polygon()
    if cloud:
        centre = line.interpolate(0.3, normalized=True)
        cx, cy = centre.x, centre.y
        blob = shapely.union_all(
            [shapely.Point(cx + dx, cy + dy).buffer(r) for dx, dy, r in
             ((0, 0, 60), (50, 20, 45), (-40, 25, 40), (20, -35, 35))]
        )  # fmt: skip
        shadow = shapely.affinity.translate(blob, 70, -90)
        cloud_geom = shapely.union_all([blob, shadow])
    else:
        blob = shadow = shapely.Polygon()
    keep_out = cloud_geom.buffer(60.0)
    extent = shapely.box(left + 60, top - size_px * res_m + 60, left + size_px * res_m * after_cover
                         - 60, top - 60)  # fmt: skip
    kinds = list(PLANTED)
    planted, kind_of, inside = [], [], []
    tries = 0
    while len(planted) < n_changes and tries < n_changes * 200:
        tries += 1
        out_of_range = len(planted) % 8 == 7
        kind = "vegetation_loss" if out_of_range else kinds[len(planted) % 3]
        side = rng.uniform(12.0, 40.0)
        w, h = side, side * rng.uniform(0.6, 1.0)
        # along the river, at a distance from its centre line that suits the kind
        at = line.interpolate(rng.uniform(0.02, 0.98), normalized=True)
        ahead = line.interpolate(line.project(at) + 1.0)
        nx, ny = -(ahead.y - at.y), ahead.x - at.x
        if out_of_range:
            off = rng.uniform(90 + buffer_m + 40, 90 + buffer_m + 300)
        elif kind == "water_fill":
            off = rng.uniform(-12, 12)
        else:
            off = rng.choice([rng.uniform(45, 72), rng.uniform(90 + 8, 90 + buffer_m - 20)])
        off *= rng.choice([-1, 1])
        x, y = at.x + nx * off, at.y + ny * off
        shape = shapely.affinity.rotate(
            shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2), rng.uniform(0, 90)
        )
        if out_of_range:
            ok = not shape.buffer(30).intersects(look)
        elif kind == "water_fill":
            ok = water.buffer(-4).contains(shape)
        else:
            ok = bank.buffer(-4).contains(shape) or (
                look.contains(shape) and not zone.buffer(4).intersects(shape)
            )
        ok = ok and extent.contains(shape) and not keep_out.intersects(shape)
        ok = ok and not any(shape.buffer(40).intersects(p) for p in planted)
        if ok:
            planted.append(shape)
            kind_of.append(kind)
            inside.append(look.intersects(shape))
    frame = gpd.GeoDataFrame(
        {"kind": kind_of, "area_m2": [p.area for p in planted], "inside": inside},
        geometry=planted, crs=crs,
    )  # fmt: skip
    ranges = gpd.GeoDataFrame(
        {"segment_id": ["S1"], "range_id": ["R1"], "water_name": ["样河"],
         "segment_name": ["样河城关段"], "admin_code": ["130100001"]},
        geometry=[zone], crs=crs,
    )  # fmt: skip
    paths = (out / "before.tif", out / "after.tif")
    profile = dict(
        driver="GTiff", width=size_px, height=size_px, count=4, dtype="uint8", crs=crs,
        transform=transform, tiled=True, blockxsize=256, blockysize=256, nodata=0,
        compress="zstd", predictor=2, zstd_level=1, interleave="pixel",
    )  # fmt: skip
    cover_of = [(g, PLANTED[k]) for g, k in zip(planted, kind_of, strict=True)]
    for k, path in enumerate(paths):
        after = k == 1
        dc, dr = shift_px if after else (0, 0)
        with rasterio.open(path, "w", **profile) as dst:
            for r0 in range(0, size_px, STRIP):
                nr = min(STRIP, size_px - r0)
                rows, cols = np.mgrid[r0 + dr : r0 + dr + nr, dc : dc + size_px]
                img = _ground(cols, rows, seed)
                wt = transform @ Affine.translation(dc, r0 + dr)
                paint = _paint(img, wt, cols, rows, seed)
                paint([water], (38.0, 58.0, 68.0, 22.0))
                paint([bank], COVER["grass"])
                if after:
                    for geom, cover in cover_of:
                        paint([geom], COVER[cover])
                    img *= np.array(gain, np.float32)[:, None, None]
                    img += np.array(offset, np.float32)[:, None, None]
                    if cloud:
                        soft = soft_mask(shadow, wt, img.shape[1:])
                        img *= 1 - (1 - SHADOW) * soft
                        soft = soft_mask(blob, wt, img.shape[1:])
                        img = img * (1 - soft) + np.array(CLOUD, np.float32)[:, None, None] * soft
                noise_px = _hash(cols * 3 + k, rows * 5 + k, seed + 11 + k)
                img += (noise_px - 0.5) * np.float32(noise * 3.46)  # uniform, std = noise
                data = np.clip(img, 1, 255).astype(np.uint8)
                if after and after_cover < 1:
                    data[:, :, int(size_px * after_cover) :] = 0
                dst.write(data, window=Window(0, r0, size_px, nr))
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue,
                               ColorInterp.undefined]  # fmt: skip
            dst.descriptions = ("red", "green", "blue", "nir")
    return SyntheticPair(paths[0], paths[1], ranges, frame, cloud_geom)


def _paint(img: np.ndarray, wt: Affine, cols: np.ndarray, rows: np.ndarray, seed: int) -> object:
    def paint(geoms: list, cover: tuple) -> None:
        geoms = [g for g in geoms if not g.is_empty]
        if not geoms:
            return
        mask = rasterize(geoms, out_shape=img.shape[1:], transform=wt).astype(bool)
        if not mask.any():
            return
        grain = 0.94 + 0.12 * _hash(cols[mask] // 2, rows[mask] // 2, seed + 5)
        img[:, mask] = np.array(cover, np.float32)[:, None] * grain

    return paint


@dataclass
class DemoPlan:
    """Changes planted in the demo county's after image, and its cloud (in ``crs``)."""

    planted: gpd.GeoDataFrame
    cloud: shapely.Geometry


def demo_plantings(
    segments: gpd.GeoDataFrame, patches: gpd.GeoDataFrame, *, seed: int = 2025
) -> DemoPlan:
    """Choose the demo's self-check changes: six inside the ranges, one outside, a cloud.

    They lie near patches (where the demo image has ground) but away from them, in the
    patches' Gauss-Kruger zone: two of each kind, 14–38 m across, inside the ranges
    (fill in the water, spoil and a blue shed on the banks), one spoil heap well outside
    the ranges plus the 50 m the detection looks beyond them, and a cloud over a range.
    """
    rng = np.random.default_rng(seed + 22)
    crs = metric_crs(patches)
    zone = shapely.union_all(segments.to_crs(crs).geometry.make_valid().to_numpy())
    water = zone.buffer(-25.0)
    known = shapely.union_all(patches.to_crs(crs).geometry.make_valid().to_numpy())
    rims = patches.to_crs(crs).geometry.make_valid().convex_hull.exterior.to_numpy()
    wants = [("water_fill", 30), ("new_structure", 22), ("vegetation_loss", 38),
             ("water_fill", 16), ("new_structure", 14), ("vegetation_loss", 26),
             ("outside", 30)]  # fmt: skip
    chosen: list[shapely.Geometry] = []
    kinds: list[str] = []
    cloud = shapely.Polygon()
    for _ in range(20_000):
        if len(chosen) == len(wants):
            break
        kind, side = wants[len(chosen)]
        rim = rims[rng.integers(len(rims))]
        at = rim.interpolate(rng.uniform(0, 1), normalized=True)
        angle = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(40, 90)  # the demo image has ground 100 m around each patch
        x, y = at.x + dist * np.cos(angle), at.y + dist * np.sin(angle)
        shape = shapely.box(x - side / 2, y - side * 0.4, x + side / 2, y + side * 0.4)
        if kind == "water_fill":
            ok = water.buffer(-3).contains(shape)
        elif kind == "outside":
            ok = shape.distance(zone) > 80
        else:  # on the bank, or just outside the range where the detection still looks
            ok = zone.buffer(40).difference(water.buffer(3)).contains(shape)
        ok = ok and shape.distance(known) > 35
        ok = ok and all(shape.distance(g) > 60 for g in chosen)
        if ok:
            chosen.append(shape)
            kinds.append(kind)
    for _ in range(20_000):  # over a range, clear of the patches and the plantings
        if not cloud.is_empty:
            break
        at = rims[rng.integers(len(rims))].interpolate(rng.uniform(0, 1), normalized=True)
        angle = rng.uniform(0, 2 * np.pi)
        blob = shapely.Point(at.x + 70 * np.cos(angle), at.y + 70 * np.sin(angle)).buffer(26)
        if (
            blob.intersects(zone)
            and blob.distance(known) > 40
            and all(blob.distance(g) > 60 for g in chosen)
        ):
            cloud = blob
    covers = {"water_fill": "occupation", "new_structure": "construction",
              "vegetation_loss": "dumping", "outside": "dumping"}  # fmt: skip
    frame = gpd.GeoDataFrame(
        {"kind": kinds, "cover": [covers[k] for k in kinds],
         "inside": [k != "outside" for k in kinds]},
        geometry=chosen, crs=crs,
    )  # fmt: skip
    return DemoPlan(frame, cloud)


def self_check(
    ledger: Any,
    before: Path,
    after: Path,
    *,
    out_dir: Path,
    batch_id: str,
    actor: str,
    issued_on: str,
) -> gpd.GeoDataFrame:
    """Run the self-check on the demo's pair, write ``candidates.gpkg`` and apply it."""
    from geo.imagery.candidates import apply_candidates, candidate_chips, write_candidates
    from geo.imagery.detect import detect_changes

    found = detect_changes(before, after, ledger.segments(), patches=ledger.patches(),
                           chiefs=ledger.chiefs())  # fmt: skip
    found = candidate_chips(found, before=before, after=after,
                            out_dir=out_dir / "candidates_chips")  # fmt: skip
    write_candidates(found, out_dir / "candidates.gpkg")
    apply_candidates(ledger, found, batch_id=batch_id, actor=actor, issued_on=issued_on)
    return found
