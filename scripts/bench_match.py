"""Benchmark matching against the peers an analyst would reach for, in one run.

A seeded province-scale scenario: meandering rivers of 50 to 300 km, management
ranges 30 to 150 m wide cut about every 5 km, patches of 10 to 150 m clustered
along the banks with a fifth of them off the bank. For each size, each engine
runs in its own subprocess (so that its peak memory, ``ru_maxrss``, is its own)
on the same GeoDataFrames in memory (EPSG:4547, metres):

- ``geopandas``: ``sjoin(predicate="intersects")``, intersection areas, the
  largest share primary, ``sjoin_nearest(max_distance=near_m)`` for the rest;
- ``duckdb``: DuckDB spatial, the same query in SQL (spatial join on
  ``ST_Intersects``, ``ST_Area(ST_Intersection)``, ``ST_DWithin`` + ``ST_Distance``
  for the rest), fed WKB from the same frames (the extension comes from the
  PyPI package ``duckdb-extension-spatial``, as this network refuses DuckDB's
  own download);
- ``hetu``: :func:`geo.matching.core.match_patches`.

Each prints wall time (matching only, from frames in memory), peak memory, and
the pair, primary and near counts plus a digest of the primary assignment,
which must agree across engines.

Usage::

    .venv/bin/python scripts/bench_match.py                     # 20k and 200k
    .venv/bin/python scripts/bench_match.py --sizes 2000000 --engines hetu
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CRS = "EPSG:4547"  # CGCS2000 3-degree Gauss-Kruger CM 114E
NEAR_M = 1000.0
ENGINES = ("geopandas", "duckdb", "hetu")


def scenario(n: int, *, seed: int = 4) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Generate ``n`` patches and the ranges of a province, seeded.

    Parameters
    ----------
    n : int
        Number of patches.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame)
        Patches (``patch_id``) and ranges (``range_id``), EPSG:4547.
    """
    rng = np.random.default_rng(seed)
    n_rivers = int(np.clip(n // 1000, 20, 400))
    lines, widths = [], []
    for _ in range(n_rivers):
        length = rng.uniform(50_000, 300_000)
        k = int(length / 50) + 1
        heading = np.cumsum(rng.normal(0, 0.12, k)) * 0.5 + rng.uniform(0, 2 * np.pi)
        heading += 0.6 * np.sin(np.linspace(0, length / 2000, k) + rng.uniform(0, 6))
        step = np.column_stack([np.cos(heading), np.sin(heading)]) * 50.0
        start = rng.uniform([300_000, 2_800_000], [700_000, 3_600_000])
        lines.append(shapely.linestrings(start + np.cumsum(step, axis=0)))
        widths.append(rng.uniform(30, 150))
    range_geoms, range_ids = [], []
    for r, (line, width) in enumerate(zip(lines, widths, strict=True)):
        xy = shapely.get_coordinates(line)
        cuts = np.arange(0, len(xy) - 1, 100)  # vertices are 50 m apart: about every 5 km
        cuts[1:] += rng.integers(-8, 9, len(cuts) - 1)
        cuts = cuts[cuts < len(xy) - 20]
        ends = np.append(cuts[1:], len(xy) - 1)
        pieces = [shapely.LineString(xy[a : b + 1]) for a, b in zip(cuts, ends, strict=True)]
        range_geoms += list(shapely.buffer(np.array(pieces), width / 2, cap_style="flat"))
        range_ids += [f"R{r:04d}-{s:03d}" for s in range(len(pieces))]
    ranges = gpd.GeoDataFrame({"range_id": range_ids}, geometry=range_geoms, crs=CRS)
    ranges = ranges[shapely.is_valid(ranges.geometry.values)].reset_index(drop=True)

    coords = [shapely.get_coordinates(ln) for ln in lines]  # vertices 50 m apart
    n_seg = np.array([len(c) - 1 for c in coords])
    first = np.cumsum(n_seg + 1) - (n_seg + 1)
    allxy = np.concatenate(coords)
    river = rng.choice(n_rivers, n, p=n_seg / n_seg.sum())
    pos = rng.uniform(0, 1, n) * n_seg[river]
    j = np.minimum(pos.astype(np.int64), n_seg[river] - 1)
    a, b = allxy[first[river] + j], allxy[first[river] + j + 1]
    at = a + (b - a) * (pos - j)[:, None]
    tangent = (b - a) / 50.0
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    half = np.asarray(widths)[river] / 2
    side = rng.choice([-1.0, 1.0], n)
    off_bank = rng.random(n) < 0.2
    offset = np.where(off_bank, half + rng.uniform(80, 2500, n), half * rng.uniform(0.1, 1.25, n))
    centre = at + normal * (side * offset)[:, None]
    size = np.exp(rng.uniform(np.log(10), np.log(150), n))
    aspect = rng.uniform(0.5, 1.0, n)
    angle = rng.uniform(0, np.pi, n)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    w, h = size, size * aspect
    cx = corners[None, :, 0] * w[:, None]
    cy = corners[None, :, 1] * h[:, None]
    c, si = np.cos(angle)[:, None], np.sin(angle)[:, None]
    xy = np.stack([cx * c - cy * si, cx * si + cy * c], axis=-1) + centre[:, None, :]
    patches = gpd.GeoDataFrame(
        {"patch_id": [f"P{i:07d}" for i in range(n)]},
        geometry=shapely.polygons(np.round(xy, 2)),
        crs=CRS,
    )
    return patches, ranges


def summary(primary_pairs: pd.DataFrame, n_pairs: int, n_near: int) -> dict:
    """Counts and a digest of the primary assignment (patch_id, range_id), sorted."""
    pp = primary_pairs.sort_values("patch_id")
    text = "\n".join(pp["patch_id"] + "\t" + pp["range_id"])
    return {
        "pairs": int(n_pairs),
        "primary": len(pp),
        "near": int(n_near),
        "digest": hashlib.sha256(text.encode()).hexdigest()[:12],
    }


def run_geopandas(patches: gpd.GeoDataFrame, ranges: gpd.GeoDataFrame) -> dict:
    """What an analyst writes by hand: sjoin, intersection areas, sjoin_nearest."""
    j = gpd.sjoin(patches, ranges, predicate="intersects", how="inner")
    left = patches.geometry.loc[j.index].reset_index(drop=True)
    right = ranges.geometry.iloc[j["index_right"].to_numpy()].reset_index(drop=True)
    pairs = pd.DataFrame(
        {
            "patch_id": j["patch_id"].to_numpy(),
            "range_id": j["range_id"].to_numpy(),
            "area": left.intersection(right).area.to_numpy(),
        }
    )
    pairs = pairs[pairs["area"] > 0]
    pairs = pairs.groupby(["patch_id", "range_id"], as_index=False)["area"].sum()
    pairs["own"] = pairs["patch_id"].map(patches.set_index("patch_id").geometry.area)
    pairs["rank"] = (pairs["area"] / pairs["own"]).round(6)
    primary = pairs.sort_values(["patch_id", "rank", "range_id"], ascending=[True, False, True])
    primary = primary.drop_duplicates("patch_id")
    rest = patches[~patches["patch_id"].isin(primary["patch_id"])]
    near = gpd.sjoin_nearest(rest, ranges, max_distance=NEAR_M, distance_col="d")
    return summary(primary, len(pairs), near["patch_id"].nunique())


def run_duckdb(patches: gpd.GeoDataFrame, ranges: gpd.GeoDataFrame) -> dict:
    """The same query in DuckDB spatial, from the same frames (WKB)."""
    import duckdb
    import duckdb_extension_spatial

    ext = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    path = next(ext.glob(f"v{duckdb.__version__}/spatial.duckdb_extension"))
    con = duckdb.connect()
    con.execute(f"LOAD '{path}'")
    con.execute("SET threads = 2")
    pdf = pd.DataFrame({"patch_id": patches["patch_id"], "wkb": patches.geometry.to_wkb()})
    rdf = pd.DataFrame({"range_id": ranges["range_id"], "wkb": ranges.geometry.to_wkb()})
    con.register("pdf", pdf)
    con.register("rdf", rdf)
    con.execute("CREATE TABLE p AS SELECT patch_id, ST_GeomFromWKB(wkb) AS g FROM pdf")
    con.execute("CREATE TABLE r AS SELECT range_id, ST_GeomFromWKB(wkb) AS g FROM rdf")
    con.execute(
        """CREATE TABLE pairs AS
        SELECT patch_id, range_id, sum(a) AS a, any_value(own) AS own FROM (
            SELECT p.patch_id, r.range_id, ST_Area(ST_Intersection(p.g, r.g)) AS a,
                   ST_Area(p.g) AS own
            FROM p JOIN r ON ST_Intersects(p.g, r.g))
        WHERE a > 0 GROUP BY patch_id, range_id"""
    )
    primary = con.execute(
        """SELECT patch_id, range_id FROM pairs
        QUALIFY row_number() OVER (
            PARTITION BY patch_id ORDER BY round(a / own, 6) DESC, range_id) = 1"""
    ).df()
    n_pairs = con.execute("SELECT count(*) FROM pairs").fetchone()[0]
    n_near = con.execute(
        """SELECT count(DISTINCT p.patch_id) FROM p ANTI JOIN pairs USING (patch_id)
        JOIN r ON ST_DWithin(p.g, r.g, ?)""",
        [NEAR_M],
    ).fetchone()[0]
    return summary(primary, n_pairs, n_near)


def run_hetu(patches: gpd.GeoDataFrame, ranges: gpd.GeoDataFrame) -> dict:
    """Hetu's matching."""
    from geo.matching import match_patches

    out = match_patches(patches, ranges, near_m=NEAR_M, central_meridian=114)
    over = out[out["relation"].isin(["inside", "straddles", "partly_outside"])]
    primary = over[over["primary"]][["patch_id", "range_id"]]
    return summary(primary, len(over), (out["relation"] == "near").sum())


def child(engine: str, size: int, seed: int) -> None:
    """Run one engine on one size and print one JSON line."""
    patches, ranges = scenario(size, seed=seed)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fn = {"geopandas": run_geopandas, "duckdb": run_duckdb, "hetu": run_hetu}[engine]
    if engine == "hetu":  # imports are not part of the timing, for any engine
        import geo.matching.core  # noqa: F401
    elif engine == "duckdb":
        import duckdb  # noqa: F401
        import duckdb_extension_spatial  # noqa: F401
    t0 = time.perf_counter()
    result = fn(patches, ranges)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.update(engine=engine, size=size, ranges=len(ranges), wall_s=round(wall, 2))
    result.update(peak_mb=round(peak), scenario_mb=round(base))
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    """Run every engine at every size, each in its own subprocess, and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="20000,200000", help="comma-separated patch counts")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), args.seed)
        return 0
    engines = [e for e in args.engines.split(",") if e]
    ok = True
    for size in (int(s) for s in args.sizes.split(",")):
        rows = []
        for engine in engines:
            cmd = [sys.executable, __file__, "--child", engine, str(size), "--seed", str(args.seed)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode:
                print(f"{engine} at {size}: failed ({proc.returncode})\n{proc.stderr[-2000:]}")
                ok = False
                continue
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
        if not rows:
            continue
        table = pd.DataFrame(rows).set_index("engine")
        if "hetu" in table.index:
            table["hetu_speedup"] = (table["wall_s"] / table.loc["hetu", "wall_s"]).round(2)
        agree = table[["pairs", "primary", "near", "digest"]].nunique().max() == 1
        ok &= bool(agree)
        print(f"\n{size} patches, {table['ranges'].iloc[0]} ranges; counts agree: {agree}")
        print(table.drop(columns=["size", "ranges"]).to_string())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
