"""A seeded before/after image pair for the demo county, in which some patches visibly change.

:func:`write_demo_imagery` writes two 4-band (red, green, blue, near-infrared)
tiled GeoTIFFs at 2 m in the patches' Gauss-Kruger zone. Only the tiles around
patches hold pixels (the files are sparse, like a mosaic with gaps): fields with
parcels and texture, darker rivers with grassy banks, and on each patch the
material its problem suggests (spoil, sand, sheds, crops). In the ``after``
image the ``cleared`` patches are grassed over and the ``appeared`` ones show up.
Every pixel is a function of its position and the seed, so the same seed gives
the same files.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.enums import ColorInterp
from rasterio.features import rasterize
from rasterio.windows import Window

from geo.crs import metric_crs

#: Acquisition dates of the pair: before the 2025-Q3 batch, and the spring after.
BEFORE_DATE = "2025-07-15"
AFTER_DATE = "2026-04-12"
RES_M = 2.0
#: Creation options: lossless, fast, and small on the smooth synthetic ground.
COMPRESSION = {"compress": "zstd", "predictor": 2, "zstd_level": 1}
TILE = 256
#: Digital numbers (red, green, blue, NIR) of the cover classes.
COVER = {
    "field": (95, 110, 72, 150),
    "bare": (140, 125, 100, 130),
    "bank": (72, 112, 62, 175),
    "water": (38, 58, 68, 22),
    "grass": (78, 128, 64, 205),
    "dumping": (205, 198, 186, 190),
    "mining": (196, 176, 132, 168),
    "construction": (120, 160, 210, 150),
    "occupation": (168, 158, 118, 160),
    "other": (185, 175, 160, 170),
}


def _hash(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """A uniform value in [0, 1) for every integer position (the same everywhere it is asked)."""
    h = (x.astype(np.uint64) * 374761393 + y.astype(np.uint64) * 668265263 + seed * 144269) & (
        0xFFFFFFFF
    )
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    return ((h ^ (h >> 16)) & 0xFFFF).astype(np.float32) / 65536.0


def _ground(cols: np.ndarray, rows: np.ndarray, seed: int) -> np.ndarray:
    """Fields in parcels of ~60 × 80 m with texture, as (4, rows, cols) floats."""
    parcel = _hash(cols // 30 + (rows // 40) * 7, rows // 40, seed)
    field, bare = np.array(COVER["field"], np.float32), np.array(COVER["bare"], np.float32)
    mix = np.where(parcel < 0.7, parcel / 0.7 * 0.3, 0.6 + parcel * 0.4)
    base = field[:, None, None] * (1 - mix) + bare[:, None, None] * mix
    furrows = (np.sin(cols * 0.9 + parcel * 6.0) * 0.04 + 1.0).astype(np.float32)
    grain = 0.96 + 0.08 * np.round(_hash(cols // 2, rows // 2, seed + 1) * 4) / 4
    return base * furrows * grain


class _Painter:
    """Paint cover classes over shapes into one tile."""

    def __init__(
        self, img: np.ndarray, wt: Affine, cols: np.ndarray, rows: np.ndarray, seed: int
    ) -> None:
        self.img, self.wt, self.cols, self.rows, self.seed = img, wt, cols, rows, seed

    def __call__(self, shapes: list, cover: str) -> None:
        shapes = [g for g in shapes if g is not None and not g.is_empty]
        if not shapes:
            return
        mask = rasterize(shapes, out_shape=(TILE, TILE), transform=self.wt).astype(bool)
        tint = np.array(COVER[cover], np.float32)[:, None]
        grain = (
            0.92
            + 0.16 * np.round(_hash(self.cols[mask] // 2, self.rows[mask] // 2, self.seed) * 4) / 4
        )
        self.img[:, mask] = tint * grain


def write_demo_imagery(
    data_dir: str | os.PathLike,
    patches: gpd.GeoDataFrame,
    *,
    seed: int = 2025,
    cleared: Collection[str] | None = None,
    appeared: Collection[str] = (),
    water: gpd.GeoDataFrame | None = None,
    margin_m: float = 100.0,
    planted: Sequence[tuple[shapely.Geometry, str]] = (),
    cloud: shapely.Geometry | None = None,
) -> tuple[Path, Path]:
    """Write a seeded before/after GeoTIFF pair covering the patches.

    Parameters
    ----------
    data_dir : path-like
        Folder to write ``imagery_before_<date>.tif`` and ``imagery_after_<date>.tif``
        into (created if missing; files replaced).
    patches : GeoDataFrame
        ``patch_id``, polygons (any CRS) and, if present, ``issue_type`` (the
        material drawn) and ``state``. Not modified.
    seed : int
        The same seed gives the same pixels.
    cleared : collection of str, optional
        Patches whose problem is gone (grassed over) in ``after``; default, the
        patches whose ``state`` is ``closed``.
    appeared : collection of str
        Patches whose problem is not yet there in ``before``.
    water : GeoDataFrame, optional
        Management ranges (e.g. ``Ledger.segments()``): their core, 25 m in from
        the edge, is drawn as water and the rest as grassy bank.
    margin_m : float
        Ground drawn around each patch, in metres.
    planted : sequence of (geometry, cover)
        Changes no patch knows of, drawn in ``after`` only (geometries in the patches'
        Gauss-Kruger zone, covers of :data:`COVER`): what the self-check should find.
    cloud : geometry, optional
        A cloud over ``after`` (same CRS), white with a soft rim (:func:`soft_mask`).

    Returns
    -------
    tuple of Path
        The before and after files. The before file dates itself with an
        ``ACQUISITIONDATETIME`` tag; the after file only through its name.
    """
    out = Path(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    crs = metric_crs(patches)
    gm = patches.geometry.to_crs(crs).make_valid()
    ids = patches["patch_id"].astype(str).tolist()
    kinds = (
        patches["issue_type"].astype(str).tolist()
        if "issue_type" in patches.columns
        else ["dumping"] * len(ids)
    )
    if cleared is None:
        closed = patches["state"].eq("closed") if "state" in patches.columns else []
        cleared = {pid for pid, c in zip(ids, closed, strict=False) if c}
    gone, new = set(cleared), set(appeared)
    x0, y0, x1, y1 = gm.total_bounds
    left = np.floor((x0 - 2 * margin_m) / (TILE * RES_M)) * TILE * RES_M
    top = np.ceil((y1 + 2 * margin_m) / (TILE * RES_M)) * TILE * RES_M
    width = int(np.ceil((x1 + 2 * margin_m - left) / RES_M / TILE)) * TILE
    height = int(np.ceil((top - (y0 - 2 * margin_m)) / RES_M / TILE)) * TILE
    transform = Affine(RES_M, 0, left, 0, -RES_M, top)
    tiles = set()
    for gx0, gy0, gx1, gy1 in gm.buffer(margin_m).bounds.to_numpy():
        c0, c1 = int((gx0 - left) / RES_M) // TILE, int((gx1 - left) / RES_M) // TILE
        r0, r1 = int((top - gy1) / RES_M) // TILE, int((top - gy0) / RES_M) // TILE
        tiles |= {(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    ranges = shapely.union_all(water.geometry.to_crs(crs).to_numpy()) if water is not None else None
    channel = ranges.buffer(-25.0) if ranges is not None else None
    tree = shapely.STRtree(gm.to_numpy())
    paths = (
        out / f"imagery_before_{BEFORE_DATE.replace('-', '')}.tif",
        out / f"imagery_after_{AFTER_DATE.replace('-', '')}.tif",
    )
    profile = dict(
        driver="GTiff", width=width, height=height, count=4, dtype="uint8", crs=crs,
        transform=transform, tiled=True, blockxsize=TILE, blockysize=TILE, nodata=0,
        sparse_ok=True, interleave="pixel", **COMPRESSION,
    )  # fmt: skip
    for k, path in enumerate(paths):
        after = k == 1
        with rasterio.open(path, "w", **profile) as dst:
            for r, c in sorted(tiles):
                win = Window(c * TILE, r * TILE, TILE, TILE)
                wt = dst.window_transform(win)
                rows, cols = np.mgrid[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE]
                img = _ground(cols, rows, seed)
                box = shapely.box(*rasterio.windows.bounds(win, transform))

                paint = _Painter(img, wt, cols, rows, seed)

                if ranges is not None and ranges.intersects(box):
                    paint([ranges.intersection(box)], "bank")
                    paint([channel.intersection(box)], "water")
                near = tree.query(box)
                if after:
                    paint([gm.iloc[i] for i in near if ids[i] in gone], "grass")
                for i in near:
                    shown = ids[i] not in gone if after else ids[i] not in new
                    if shown:
                        paint([gm.iloc[i]], kinds[i] if kinds[i] in COVER else "other")
                if after:
                    for geom, cover in planted:
                        if geom.intersects(box):
                            paint([geom], cover)
                    img *= np.array([1.05, 1.04, 1.02, 1.08], np.float32)[:, None, None]
                    if cloud is not None and cloud.buffer(20).intersects(box):
                        soft = soft_mask(cloud, wt, (TILE, TILE))
                        img = img * (1 - soft) + np.float32(238) * soft
                dst.write(np.clip(img, 10, 255).astype(np.uint8), window=win)
            dst.colorinterp = [
                ColorInterp.red,
                ColorInterp.green,
                ColorInterp.blue,
                ColorInterp.nir,
            ]
            dst.descriptions = ("red", "green", "blue", "nir")
            if not after:
                dst.update_tags(ACQUISITIONDATETIME=f"{BEFORE_DATE}T10:42:00")
    return paths


def soft_mask(geom: shapely.Geometry, wt: Affine, shape: tuple, edge_m: float = 12.0) -> np.ndarray:
    """1 inside ``geom``, falling to 0 over ``edge_m`` outside it (a cloud's soft rim)."""
    out = np.zeros(shape, np.float32)
    if geom.is_empty:
        return out
    steps = 4
    for k in range(steps):
        grown = geom.buffer(edge_m * k / steps)
        out += rasterize([grown], out_shape=shape, transform=wt).astype(np.float32) / steps
    return out
