"""Benchmark: patches' references checked by foreign keys (0011) or by statement triggers (0012).

Two PostGIS ledgers on a throwaway cluster (the tests' helper, ``tests/_postgres.py``): one
made by the migrations before ``0012_pg_ingest`` (the per-row foreign keys of ``patches`` to
``batches`` and ``imports``), one by all of them (the statement-level triggers). Times, in
turns (the order alternating):

- ``server``: one ``INSERT … SELECT`` of N patches made by the server itself (no client work,
  rolled back): what the checks cost the server;
- ``ingest``: ``Ledger.add_patches`` of N patches into a new database of each kind (the
  client's work and the server's, as ``scripts/bench_store.py --ingest-only`` times it).

Usage: ``PYTHONPATH=. python scripts/bench_pg_refs.py [--rows N] [--repeat K] [--server-only]``.
Prints seconds per run and the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from geo.ledger import store
from geo.ledger.schema import MIGRATIONS
from geo.ledger.store import Ledger
from geo.records import ImportRecord

HERE = Path(__file__).resolve().parent
KINDS = {"keys": MIGRATIONS[:-1], "triggers": MIGRATIONS}
_INSERT = (
    "INSERT INTO patches (patch_id, batch_id, issue_type, import_id, geom)"
    " SELECT 'X' || g, 'b', 'other', {imp}, ST_Multi(ST_MakeEnvelope(114, 28, 114.001, 28.001,"
    " 4490)) FROM generate_series(1, {n}) g"
)


def _ledger(cluster, kind: str, frame, sha: str) -> tuple[str, float]:
    """A new ledger of ``kind`` holding ``frame``; its URL and the seconds ``add_patches`` took."""
    store.MIGRATIONS = KINDS[kind]
    url = cluster.new_database()
    with Ledger.create(url) as led:
        start = time.perf_counter()
        led.add_patches(frame, ImportRecord(kind="patches", file="b.shp", sha256=sha, batch_id="b"))
        return url, time.perf_counter() - start


def _report(name: str, times: dict[str, list[float]]) -> None:
    for kind, values in times.items():
        shown = " / ".join(f"{v:.2f}" for v in values)
        print(f"{name:8} {kind:9} {shown}   median {statistics.median(values):.2f}")


def main() -> None:
    """Run the benchmark (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server-only", action="store_true")
    args = parser.parse_args()
    sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]
    from _postgres import start_cluster
    from bench_store import _batch

    os.environ["HETU_ATTACHMENTS"] = tempfile.mkdtemp(prefix="hetu-bench-")
    cluster = start_cluster()
    try:
        one = {k: _ledger(cluster, k, _batch(1), "one")[0] for k in KINDS}
        server: dict[str, list[float]] = {k: [] for k in KINDS}
        ingest: dict[str, list[float]] = {k: [] for k in KINDS}
        frame = None if args.server_only else _batch(args.rows)
        for turn in range(args.repeat):
            for kind in list(KINDS)[:: 1 if turn % 2 == 0 else -1]:
                with psycopg.connect(one[kind]) as conn:
                    imp = conn.execute("SELECT max(import_id) FROM imports").fetchone()[0]
                    start = time.perf_counter()
                    conn.execute(_INSERT.format(imp=imp, n=args.rows))
                    server[kind].append(time.perf_counter() - start)
                    conn.rollback()
                if frame is not None:
                    ingest[kind].append(_ledger(cluster, kind, frame, f"s{turn}")[1])
        print(f"{args.rows:,} patches; seconds (keys: 0011, triggers: 0012_pg_ingest)")
        _report("server", server)
        if frame is not None:
            _report("ingest", ingest)
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
