"""Benchmark: Hetu's Excel ledger vs a plain pandas + xlsxwriter dump of the same rows.

Builds a synthetic status frame in memory (default 200,000 patches, the
columns of ``Ledger.status_frame``), then times, in the same run:

- ``pandas``: ``DataFrame.to_excel(engine="xlsxwriter")`` of the ledger columns
  (the rows and columns Hetu writes, no formatting);
- ``hetu``: :func:`geo.reports.excel.write_ledger_xlsx` (summary with the overdue
  list, charts, ledger sheet with labels, column formats, conditional overdue
  highlighting, CJK widths, centroids);
- ``hetu+towns``: the same with one sheet per township, as ``export_ledger``
  writes (every row twice: the full ledger sheet and its township's sheet).

Usage: ``python scripts/bench_export.py [--rows N] [--repeat R]``. The three
runs are interleaved, round after round, so a machine shared with other jobs
slows them alike; prints the best time of each and the ratios to ``pandas``
(target: ``hetu+towns`` ≤ 1.2×), by wall-clock and by CPU time (the fairer
measure when other jobs share the machine).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.reports.excel import LEDGER_COLUMNS, write_ledger_xlsx

_STATES = ["issued", "verifying", "confirmed", "rectifying", "rectified", "closed", "dismissed"]
_TYPES = ["occupation", "mining", "dumping", "construction"]


def synthetic_frame(rows: int, *, seed: int = 1) -> gpd.GeoDataFrame:
    """Return a status frame of ``rows`` patches over 12 townships (EPSG:4490)."""
    rng = np.random.default_rng(seed)
    town = rng.integers(0, 12, rows)
    lon = 113.5 + rng.random(rows)
    lat = 27.5 + rng.random(rows)
    deadline = pd.Timestamp("2025-06-01") + pd.to_timedelta(rng.integers(0, 120, rows), "D")
    return gpd.GeoDataFrame(
        {
            "patch_id": [f"4399{i:08d}" for i in range(rows)],
            "batch_id": "2025-Q2",
            "issue_type": rng.choice(_TYPES, rows),
            "admin_code": [f"439999{t:03d}" for t in town],
            "township": [f"第{t + 1}镇" for t in town],
            "detected_on": "2025-04-01",
            "issued_on": "2025-04-10",
            "area_m2": rng.random(rows) * 5000,
            "description": "河道管理范围内堆放建筑垃圾约三百立方米",
            "state": rng.choice(_STATES, rows),
            "state_since": "2025-05-01T10:00:00+08:00",
            "deadline": deadline.strftime("%Y-%m-%d"),
            "overdue_days": rng.integers(-30, 30, rows).clip(0),
            "water_name": "渌水",
            "segment_id": [f"4399990000{t:02d}" for t in town],
            "segment_name": "渌水清溪段",
            "relation": "inside",
            "chief_village": "张三（村支书）",
            "chief_township": "李四（镇长）",
            "chief_county": "王五（副县长）",
        },
        geometry=shapely.box(lon, lat, lon + 0.001, lat + 0.001),
        crs=4490,
    )


def _timed(fn) -> tuple[float, float]:
    """Run ``fn`` once; return its wall-clock and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    """Run the benchmark and print the timings and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    frame = synthetic_frame(args.rows)
    plain = pd.DataFrame(frame[[c for c in LEDGER_COLUMNS if c in frame]])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        runs = {
            "pandas": lambda: plain.to_excel(out / "plain.xlsx", index=False, engine="xlsxwriter"),
            "hetu": lambda: write_ledger_xlsx(frame, out / "hetu.xlsx", as_of="2025-06-30"),
            "hetu+towns": lambda: write_ledger_xlsx(
                frame, out / "towns.xlsx", as_of="2025-06-30", township_sheets=True
            ),
        }
        rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, fn in runs.items():
                rounds[name].append(_timed(fn))
    wall = {name: min(t[0] for t in got) for name, got in rounds.items()}
    cpu = {name: min(t[1] for t in got) for name, got in rounds.items()}
    print(f"rows={args.rows} columns={len(plain.columns)} (best of {args.repeat})")
    for name in runs:
        print(
            f"{name:>11}: wall {wall[name]:7.2f} s  ratio {wall[name] / wall['pandas']:.2f}x"
            f"   cpu {cpu[name]:7.2f} s  ratio {cpu[name] / cpu['pandas']:.2f}x"
        )


if __name__ == "__main__":
    main()
