"""Benchmark ``hetu ingest … problems`` against ``patches`` of the same points.

The script writes, in a temporary folder, a seeded sheet of N cases (受理编号, 受理时间,
问题描述, 经度/纬度 and the private 反映人/联系电话 columns) over the demo county and the
same points as a patch list (TBBH, 经度/纬度), and ingests each into a fresh GeoPackage
ledger: the patches drawn as 20 m circles (``--point-buffer 20``), the cases with their
source's clock (``--source 12345``, 20 m circles by ``[problems] point_buffer_m``). It
prints both times and their ratio (the cases' checks, deadlines and private columns
against the plain patch path), best of ``--repeat`` runs each.

Usage::

    .venv/bin/python scripts/bench_problems.py            # 2000 cases
    .venv/bin/python scripts/bench_problems.py --n 20000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geo.demo.county import build_demo_files
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.settings import load_settings


def _best(run, repeat: int) -> float:
    times = []
    for k in range(repeat):
        start = time.perf_counter()
        run(k)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Parse the options, write the files, time both ingests and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="cases (and patches)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, best kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        settings = load_settings(build_demo_files(base / "county", seed=2025).settings)
        rng = np.random.default_rng(18)
        lon = rng.uniform(113.85, 114.25, args.n).round(6)
        lat = rng.uniform(27.70, 28.00, args.n).round(6)
        ids = [f"2026040{i:06d}" for i in range(args.n)]
        cases, points = base / "cases.csv", base / "points.csv"
        pd.DataFrame({"受理编号": ids, "受理时间": "2026-04-01 09:00", "问题描述": "河边倾倒垃圾",
                      "反映人": "某某", "联系电话": "13900000000", "经度": lon, "纬度": lat}
                     ).to_csv(cases, index=False)  # fmt: skip
        pd.DataFrame({"TBBH": ids, "经度": lon, "纬度": lat}).to_csv(points, index=False)

        def patches(k: int) -> None:
            with Ledger.create(base / f"p{k}.gpkg", settings=settings) as led:
                ingest_file(led, "patches", points, point_buffer=20, issued_on="2026-04-01")

        def problems(k: int) -> None:
            with Ledger.create(base / f"c{k}.gpkg", settings=settings) as led:
                ingest_file(led, "problems", cases, source="12345")

        plain = _best(patches, args.repeat)
        mine = _best(problems, args.repeat)
    print(f"{args.n} points: patches {plain:.2f} s, problems {mine:.2f} s, "
          f"ratio {mine / plain:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
