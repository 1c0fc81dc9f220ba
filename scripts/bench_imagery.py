"""Benchmark imagery chips: Hetu against a plain rasterio loop, in one run.

The script makes a 10k × 10k RGB COG (0.5 m in EPSG:4547, JPEG tiles of 512,
overviews 2–16, written strip by strip) and 10k seeded patches of 10 to 60 m
radius inside it. Each contender runs in its own subprocess (a cold GDAL block
cache for each; the file is in the OS page cache for both):

- ``plain``: for each patch in the given order, ``rasterio.open`` once, then
  ``src.read(window=...)`` of the window under the same square (patch extent plus
  30 m each side) at full resolution; nothing else;
- ``hetu``: :func:`geo.imagery.chipping.chips_for_patches` with ``size_px`` (default 128):
  the chip square in the patch's Gauss-Kruger zone (the scene's own CRS here, so each
  chip is one resampled window read straight onto its grid, served from overviews when
  the chip is coarser), indicators, outline and a PNG written per patch, in threads (one
  handle on the image each); ``hetu-1thread`` the same with ``workers=1``.

Both print chips per second; the parent prints the ratio hetu / plain.

Usage::

    .venv/bin/python scripts/bench_imagery.py                   # 10k x 10k, 10k patches
    .venv/bin/python scripts/bench_imagery.py --size 4000 --patches 1000
    .venv/bin/python scripts/bench_imagery.py --scene-crs EPSG:32649   # chips warped
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.shutil
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.windows import Window, from_bounds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CRS = "EPSG:4547"
RES = 0.5
ORIGIN = (480_000.0, 3_110_000.0)
BUFFER_M = 30.0


def make_cog(path: Path, size: int, crs: str = CRS) -> Path:
    """Write a size × size 3-band COG (JPEG, 512 blocks, overviews) strip by strip.

    In ``crs`` (default the patches' own), its top-left corner at :data:`ORIGIN`.
    """
    tmp = path.with_suffix(".strips.tif")
    x0, y0 = Transformer.from_crs(CRS, crs, always_xy=True).transform(*ORIGIN)
    profile = dict(
        driver="GTiff", width=size, height=size, count=3, dtype="uint8", crs=crs,
        transform=Affine(RES, 0, x0, 0, -RES, y0), tiled=True,
        blockxsize=512, blockysize=512, compress="zstd", zstd_level=1,
    )  # fmt: skip
    cols = np.arange(size)
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, size, 512):
            rows = np.arange(r0, min(size, r0 + 512))[:, None]
            field = 90 + 40 * np.sin(cols / 97.0) * np.cos(rows / 131.0)
            grain = ((cols * 7919 + rows * 104729) % 23).astype(np.float32)
            band = np.clip(field + grain, 0, 255).astype(np.uint8)
            dst.write(
                np.stack([band, band // 2 + 60, 255 - band]), window=Window(0, r0, size, len(rows))
            )
    rasterio.shutil.copy(
        tmp, path, driver="COG", compress="JPEG", quality=85, blocksize=512,
        overview_resampling="AVERAGE", overviews="AUTO",
    )  # fmt: skip
    tmp.unlink()
    return path


def make_patches(n: int, size: int, *, seed: int = 9) -> gpd.GeoDataFrame:
    """``n`` star-shaped patches of 10 to 60 m radius well inside the scene."""
    rng = np.random.default_rng(seed)
    extent = size * RES
    cx = ORIGIN[0] + rng.uniform(150, extent - 150, n)
    cy = ORIGIN[1] - rng.uniform(150, extent - 150, n)
    r = rng.uniform(10, 60, n)
    geoms = []
    for x, y, radius in zip(cx, cy, r, strict=True):
        k = int(rng.integers(6, 11))
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = radius * rng.uniform(0.7, 1.0, k)
        geoms.append(
            shapely.Polygon(np.column_stack([x + rad * np.cos(ang), y + rad * np.sin(ang)]))
        )
    ids = [f"B{k:06d}" for k in range(n)]
    return gpd.GeoDataFrame({"patch_id": ids}, geometry=geoms, crs=CRS)


def run_plain(cog: Path, patches: gpd.GeoDataFrame) -> dict:
    with rasterio.open(cog) as src:
        b = patches.to_crs(src.crs).bounds.to_numpy()  # the same squares, in the scene's CRS
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    half = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2 + BUFFER_M
    t0 = time.perf_counter()
    pixels = 0
    with rasterio.open(cog) as src:
        for x, y, h in zip(cx, cy, half, strict=True):
            win = from_bounds(x - h, y - h, x + h, y + h, transform=src.transform)
            data = src.read(window=win.round_offsets().round_lengths())
            pixels += data.shape[1] * data.shape[2]
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "chips": len(patches), "mean_px": pixels / len(patches)}


def run_hetu(
    cog: Path, patches: gpd.GeoDataFrame, size_px: int, out: Path, workers: int | None
) -> dict:
    from geo.imagery.chipping import chips_for_patches

    t0 = time.perf_counter()
    rows, files = chips_for_patches(
        patches, [cog], role="after", out_dir=out, size_px=size_px, buffer_m=BUFFER_M,
        workers=workers,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "chips": int((rows["status"] == "ok").sum()),
        "statuses": rows["status"].value_counts().to_dict(),
        "mean_decimation": float(rows["decimation"].mean()),
        "share_from_overview": float((rows["overview"] > 1).mean()),
        "png_mb": sum(p.stat().st_size for p in files.values()) / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000, help="COG width and height (pixels)")
    ap.add_argument("--patches", type=int, default=10_000)
    ap.add_argument("--size-px", type=int, default=128, help="chip size for Hetu")
    ap.add_argument(
        "--scene-crs", default=CRS,
        help="the scene's CRS; another than the patches' zone (e.g. EPSG:32649) makes Hetu warp "
        "each chip onto the zone's grid",
    )  # fmt: skip
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        engine, folder = args.child[0], Path(args.child[1])
        patches = gpd.read_file(folder / "patches.gpkg")
        cog = folder / "scene.tif"
        if engine == "plain":
            result = run_plain(cog, patches)
        else:
            workers = {"hetu": None, "hetu-1thread": 1}[engine]
            result = run_hetu(cog, patches, args.size_px, folder / engine, workers)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        make_cog(folder / "scene.tif", args.size, args.scene_crs)
        make_patches(args.patches, args.size).to_file(folder / "patches.gpkg", engine="pyogrio")
        with rasterio.open(folder / "scene.tif") as ds:
            ovr = ds.overviews(1)
        mb = (folder / "scene.tif").stat().st_size / 1e6
        print(
            f"scene {args.size}x{args.size} px at {RES} m in {args.scene_crs}, {mb:.0f} MB, "
            f"overviews {ovr}; "
            f"{args.patches} patches; made in {time.perf_counter() - t0:.1f} s"
        )
        results = {}
        for engine in ("plain", "hetu-1thread", "hetu"):
            cmd = [sys.executable, __file__, "--child", engine, str(folder)]
            cmd += ["--size-px", str(args.size_px)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results[engine] = json.loads(out.strip().splitlines()[-1])
            rate = results[engine]["chips"] / results[engine]["seconds"]
            print(f"{engine:12s} {rate:8.1f} chips/s  {json.dumps(results[engine])}")
        plain = results["plain"]["chips"] / results["plain"]["seconds"]
        hetu = results["hetu"]["chips"] / results["hetu"]["seconds"]
        one = results["hetu-1thread"]["chips"] / results["hetu-1thread"]["seconds"]
        print(f"ratio hetu/plain = {hetu / plain:.2f} with threads, {one / plain:.2f} on one "
              f"thread (chips of {args.size_px} px); threads / one thread = {hetu / one:.2f}"
              )  # fmt: skip


if __name__ == "__main__":
    main()
