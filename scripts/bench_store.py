"""Benchmark: the same ledger work on a GeoPackage file and on PostGIS, in one run.

Builds a synthetic batch (default 200,000 small patches near 114°E 28°N), then
on each backend times:

- ``ingest``: ``Ledger.add_patches`` of the whole batch with its first events;
- ``move 2000``: one all-or-nothing change moving 2,000 patches to ``verifying``;
- ``move 200 x1``: 200 separate transitions, one call each (a clerk's day);
- ``status``: ``Ledger.status_frame`` (what the map and the exports read);
- ``verify``: ``Ledger.verify`` (hash chain, triggers and view, lifecycle and evidence replay,
  every row against its recorded digest, the stored files);
- ``copy``: ``geo.ledger.transfer.copy_ledger`` of the ledger into the other backend.

Usage: ``python scripts/bench_store.py [--rows N] [--ingest-only [--repeat K]]``
(``--repeat``: the ingest K times into each backend, alternating which goes first, and
the median ratio: steadier than one pair on a shared machine). The PostGIS side uses
``HETU_BENCH_URL`` (a database with PostGIS that holds no ledger) or starts a
throwaway cluster with the tests' helper (``tests/_postgres.py``; needs Debian's
``postgresql`` and ``postgresql-postgis``). Prints seconds per step and the
PostGIS / GeoPackage ratio. There is no target: the figures tell an office what
moving to PostGIS costs per operation, and the run checks both ledgers verify.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.ledger.store import Ledger
from geo.ledger.transfer import copy_ledger
from geo.records import ImportRecord


def _batch(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(1)
    x = 114 + rng.random(n) * 0.5
    y = 28 + rng.random(n) * 0.5
    return gpd.GeoDataFrame(
        {"patch_id": [f"P{i:07d}" for i in range(n)], "batch_id": "b", "issue_type": "dumping",
         "admin_code": "439999001001", "detected_on": "2025-07-01", "issued_on": "2025-08-01",
         "area_m2": 100.0, "source_area": None, "description": "堆放", "attrs": "{}"},
        geometry=shapely.box(x, y, x + 0.0005, y + 0.0005),
        crs=4490,
    )  # fmt: skip


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _run(
    location: str | Path, frame: gpd.GeoDataFrame, copy_to: str | Path, *, ingest_only: bool
) -> dict[str, float]:
    led = Ledger.create(location)
    times: dict[str, float] = {}
    rec = ImportRecord(kind="patches", file="bench", sha256="bench", batch_id="b")
    times["ingest"], _ = _timed(lambda: led.add_patches(frame, rec))
    if ingest_only:
        led.close()
        return times
    ids = frame["patch_id"].tolist()
    times["move 2000"], _ = _timed(
        lambda: led.transition(ids[:2000], "verifying", actor="t", at="2025-08-02T09:00")
    )
    singles = ids[2000:2200]
    times["move 200 x1"], _ = _timed(
        lambda: [led.transition(p, "verifying", actor="t", at="2025-08-02T09:00") for p in singles]
    )
    times["status"], status = _timed(lambda: led.status_frame(as_of="2025-09-01"))
    times["verify"], problems = _timed(led.verify)
    assert len(status) == len(frame) and problems == [], problems
    led.close()
    times["copy"], _ = _timed(lambda: copy_ledger(location, copy_to))
    return times


def _repeated(frame: gpd.GeoDataFrame, tmp: Path, cluster: Any, times: int) -> None:
    """Ingest ``times`` times into each backend, alternating the order; print the ratios."""
    ratios = []
    print(f"{len(frame):,} patches; ingest seconds")
    print(f"{'run':<6}{'GeoPackage':>12}{'PostGIS':>12}{'ratio':>8}")
    for k in range(times):
        places = [tmp / f"r{k}.gpkg", cluster.new_database()]
        got = {}
        for where in places if k % 2 == 0 else places[::-1]:
            got[str(where)] = _run(where, frame, copy_to=tmp, ingest_only=True)["ingest"]
        g, p = got[str(places[0])], got[str(places[1])]
        ratios.append(p / g)
        print(f"{k + 1:<6}{g:>12.2f}{p:>12.2f}{p / g:>7.2f}x")
    print(f"median PostGIS / GeoPackage: {statistics.median(ratios):.2f}x")


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--ingest-only", action="store_true", help="time the ingest alone (the COPY target)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="with --ingest-only: ingest N times into each backend, alternating which goes "
        "first, and print the median ratio (steadier on a shared machine)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.repeat > 1 and not args.ingest_only:
        parser.error("--repeat needs --ingest-only")
    cluster = None
    url = os.environ.get("HETU_BENCH_URL")
    if url is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from _postgres import start_cluster

        cluster = start_cluster()
    try:
        frame = _batch(args.rows)
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["HETU_ATTACHMENTS"] = str(Path(tmp) / "files")
            pg = url or cluster.new_database()
            pg_copy = cluster.new_database() if cluster else None
            only = args.ingest_only
            if args.repeat > 1:
                if cluster is None:
                    parser.error("--repeat needs the throwaway cluster (no HETU_BENCH_URL)")
                _repeated(frame, Path(tmp), cluster, args.repeat)
                return
            gpkg = _run(Path(tmp) / "a.gpkg", frame, copy_to=pg_copy or Path(tmp) / "c.gpkg",
                        ingest_only=only)  # fmt: skip
            post = _run(pg, frame, copy_to=Path(tmp) / "b.gpkg", ingest_only=only)
        print(f"{args.rows:,} patches; seconds (copy: into the other backend)")
        print(f"{'step':<14}{'GeoPackage':>12}{'PostGIS':>12}{'ratio':>8}")
        for step in gpkg:
            ratio = post[step] / gpkg[step] if gpkg[step] else float("nan")
            print(f"{step:<14}{gpkg[step]:>12.2f}{post[step]:>12.2f}{ratio:>7.2f}x")
    finally:
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
