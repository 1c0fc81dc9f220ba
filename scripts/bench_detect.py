"""Benchmark the self-check (自查): recall, precision, time against reading both scenes, memory.

The script writes a seeded synthetic pair (:func:`geo.demo.changes.synthetic_pair`:
a meandering river and its management range over fields, planted changes of 12–40 m
of three kinds, some outside the range, a cloud with its shadow, illumination change,
sensor noise and a misregistration of one by two pixels), then runs in separate
subprocesses (cold GDAL block cache each; the files are in the OS page cache for all):

- ``read``: every block of both scenes read once with rasterio, window by window
  (nothing else) — the floor any detection pays;
- ``detect``: :func:`geo.imagery.detect.detect_changes` with the default options.

It prints recall (of planted changes of at least 100 m² inside the range plus the
buffer), precision (candidates touching a planted change), candidates on the cloud
(must be 0), the detection's time as a multiple of the read's (the target: about
three), and each subprocess's peak resident memory.

Usage::

    .venv/bin/python scripts/bench_detect.py                 # 6000 x 6000 px, 2 m
    .venv/bin/python scripts/bench_detect.py --size 20000    # the 2 GB bound, 20k x 20k
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM: reset by exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_read(folder: Path) -> dict:
    """Read every block of both scenes (the floor)."""
    import rasterio

    t = time.perf_counter()
    n = 0
    for name in ("before.tif", "after.tif"):
        with rasterio.open(folder / name) as src:
            for _, win in src.block_windows(1):
                n += src.read(window=win).size
    return {"seconds": time.perf_counter() - t, "values": n, "peak_mb": _peak_mb()}


def run_detect(folder: Path, workers: int) -> dict:
    """Run the detection; return its time, the candidates and memory."""
    import geopandas as gpd

    from geo.imagery.detect import detect_changes

    ranges = gpd.read_file(folder / "ranges.gpkg")
    t = time.perf_counter()
    found = detect_changes(folder / "before.tif", folder / "after.tif", ranges, workers=workers)
    seconds = time.perf_counter() - t
    found.to_file(folder / "found.gpkg")
    return {"seconds": seconds, "found": len(found), "peak_mb": _peak_mb(),
            "unobserved_m2": found.attrs["hetu"]["unobserved_m2"]}  # fmt: skip


def score(folder: Path) -> dict:
    """Recall, precision and cloud hits of ``found.gpkg`` against the planted changes."""
    import geopandas as gpd
    import shapely

    planted = gpd.read_file(folder / "planted.gpkg")
    found = gpd.read_file(folder / "found.gpkg").to_crs(planted.crs)
    cloud = shapely.from_wkt((folder / "cloud.wkt").read_text())
    wanted = planted[planted["inside"].astype(bool) & (planted["area_m2"] >= 100)]
    hit = sum(bool(found.intersects(g).any()) for g in wanted.geometry)
    good = sum(bool(planted.intersects(g).any()) for g in found.geometry)
    return {
        "planted_inside": len(wanted),
        "planted_outside": int((~planted["inside"].astype(bool)).sum()),
        "recall": hit / len(wanted) if len(wanted) else 1.0,
        "precision": good / len(found) if len(found) else 1.0,
        "on_cloud": int(found.intersects(cloud).sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=6000, help="scene side in pixels (2 m)")
    ap.add_argument("--changes", type=int, default=0, help="planted (default size / 60)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keep", help="folder to write into and keep (default a temporary one)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        folder = Path(args.folder)
        out = run_read(folder) if args.child == "read" else run_detect(folder, args.workers)
        print(json.dumps(out))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        from geo.demo.changes import synthetic_pair

        t = time.perf_counter()
        pair = synthetic_pair(folder, size_px=args.size, seed=args.seed,
                              n_changes=args.changes or max(12, args.size // 60))  # fmt: skip
        pair.ranges.to_file(folder / "ranges.gpkg")
        pair.planted.to_file(folder / "planted.gpkg")
        (folder / "cloud.wkt").write_text(pair.cloud.wkt)
        print(f"pair {args.size} x {args.size} px, 4 bands, written in "
              f"{time.perf_counter() - t:.1f} s")  # fmt: skip
        runs = {}
        for child in ("read", "detect", "read"):
            cmd = [sys.executable, __file__, "--child", child, "--folder", str(folder),
                   "--workers", str(args.workers)]  # fmt: skip
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                            text=True).stdout.splitlines()[-1])  # fmt: skip
            runs.setdefault(child, []).append(res)
        read = min(r["seconds"] for r in runs["read"])
        det = runs["detect"][0]
        figures = score(folder)
        print(f"read both scenes: {read:.2f} s (peak {runs['read'][0]['peak_mb']:.0f} MB)")
        print(f"detect:           {det['seconds']:.2f} s (peak {det['peak_mb']:.0f} MB, "
              f"{args.workers} threads) = {det['seconds'] / read:.2f} x the read")  # fmt: skip
        print(f"candidates {det['found']}; planted inside (>= 100 m2) {figures['planted_inside']}, "
              f"outside {figures['planted_outside']}")  # fmt: skip
        print(
            f"recall {figures['recall']:.3f}  precision {figures['precision']:.3f}  "
            f"on the cloud {figures['on_cloud']}  unobserved {det['unobserved_m2']:.0f} m2"
        )


if __name__ == "__main__":
    main()
