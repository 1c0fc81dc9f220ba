"""Benchmark matching against the peers an analyst would reach for, on a grid of shapes.

Seeded province-scale scenarios (:data:`CELLS`), each a shape a real province batch has:
management ranges cut every 1, 2.5 or 5 km along meandering rivers of 50 to 300 km
(ranges : patches from about 1 : 6 to 1 : 28 at 200k patches), lakes (a few large
polygons with rings of thousands of vertices) beside the rivers, patches of 10 to 150 m
or 50 to 600 m, a fifth or two fifths of them off the bank. The files come **in
EPSG:4490 degrees**, as provinces send them, and every engine's time includes its
reprojection to metres. For each cell and size each engine runs in its own subprocess
(so that its peak memory, ``ru_maxrss``, is its own) on the same frames in memory:

- ``geopandas``: ``to_crs`` to the zone, ``sjoin(predicate="intersects")``, intersection
  areas, the largest share primary, ``sjoin_nearest(max_distance=near_m)`` for the rest;
- ``duckdb``: DuckDB spatial with 2 threads, the same query in SQL (``ST_Transform``,
  spatial join on ``ST_Intersects``, ``ST_Area(ST_Intersection)``, ``ST_DWithin`` for the
  rest), fed WKB from the same frames (the extension comes from the PyPI package
  ``duckdb-extension-spatial``, as this network refuses DuckDB's own download);
- ``hetu``: :func:`geo.matching.match_patches` on the frames in degrees.

Each prints wall time (from frames in memory), peak memory, and the pair, primary and
near counts plus a digest of the primary assignment, which must agree across engines;
then the speed-up of Hetu over each peer, per cell, and the targets (≥ 3× geopandas,
≥ 1.3× DuckDB) met or not.

Usage::

    .venv/bin/python scripts/bench_match.py                          # every cell at 200k
    .venv/bin/python scripts/bench_match.py --cells 1km --sizes 20000
    .venv/bin/python scripts/bench_match.py --cells 1km --sizes 2000000 --engines hetu
    .venv/bin/python scripts/bench_match.py --cells 1km --sizes 2000000 \
        --engines hetu,hetu-1thread       # threads against one thread: the whole output

``hetu-1thread`` runs Hetu with ``workers=1``; Hetu's rows also carry a digest of its whole
output (every row and value), which must agree between the two.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CRS = "EPSG:4547"  # CGCS2000 3-degree Gauss-Kruger CM 114E: where the scenarios are drawn
DEGREES = "EPSG:4490"  # what the engines are given
NEAR_M = 1000.0
ENGINES = ("geopandas", "duckdb", "hetu")
#: Not in the default run: Hetu on one thread, to check its threads give the same output.
EXTRA_ENGINES = ("hetu-1thread",)


@dataclass(frozen=True)
class Cell:
    """One scenario shape of the grid."""

    range_km: float = 5.0  # a management range every so many km of river
    lakes: int = 0  # large lake polygons beside the rivers
    patch_m: tuple[float, float] = (10.0, 150.0)  # patch sizes (log-uniform)
    off_bank: float = 0.2  # share of patches off the bank (80 m to 2.5 km away)
    digitised: bool = False  # outlines of 12 vertices at jittered radii (mostly not convex)


#: The grid: name → shape.
CELLS = {
    "5km": Cell(),
    "2.5km": Cell(range_km=2.5),
    "1km": Cell(range_km=1.0),
    "1km+lakes": Cell(range_km=1.0, lakes=40),
    "5km+lakes": Cell(lakes=40),
    "1km-large": Cell(range_km=1.0, patch_m=(50.0, 600.0), off_bank=0.4),
    "1km-digitised": Cell(range_km=1.0, digitised=True),
}


def _lakes(rng: np.random.Generator, k: int) -> tuple[list, np.ndarray, np.ndarray]:
    """``k`` lakes: wobbly rings of 2,000 to 8,000 vertices, 1 to 6 km across."""
    polys, centres, radii = [], [], []
    for _ in range(k):
        n = int(rng.integers(2000, 8000))
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        r0 = rng.uniform(1000, 6000)
        wobble = sum(
            rng.uniform(0.02, 0.08) * np.sin(f * t + rng.uniform(0, 6)) for f in (3, 7, 19, 41)
        )
        r = r0 * (1 + wobble)
        c = rng.uniform([300_000, 2_800_000], [700_000, 3_600_000])
        ring = np.column_stack([c[0] + r * np.cos(t), c[1] + r * np.sin(t)])
        polys.append(shapely.make_valid(shapely.Polygon(ring)))
        centres.append(c)
        radii.append(r0)
    return polys, np.array(centres).reshape(-1, 2), np.array(radii)


def scenario(
    n: int, *, seed: int = 4, cell: Cell = CELLS["5km"]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Generate ``n`` patches and the ranges of a province of shape ``cell``, seeded.

    Parameters
    ----------
    n : int
        Number of patches.
    seed : int
        Seed of ``numpy.random.default_rng``.
    cell : Cell
        The shape.

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
    every = round(cell.range_km * 1000 / 50)  # vertices are 50 m apart
    range_geoms, range_ids = [], []
    for r, (line, width) in enumerate(zip(lines, widths, strict=True)):
        xy = shapely.get_coordinates(line)
        cuts = np.arange(0, len(xy) - 1, every)
        jitter = max(1, every // 12)
        cuts[1:] += rng.integers(-jitter, jitter + 1, len(cuts) - 1)
        cuts = cuts[cuts < len(xy) - 4]
        ends = np.append(cuts[1:], len(xy) - 1)
        pieces = [shapely.LineString(xy[a : b + 1]) for a, b in zip(cuts, ends, strict=True)]
        range_geoms += list(shapely.buffer(np.array(pieces), width / 2, cap_style="flat"))
        range_ids += [f"R{r:04d}-{s:04d}" for s in range(len(pieces))]
    lake_polys, centres, radii = _lakes(rng, cell.lakes)
    range_geoms += lake_polys
    range_ids += [f"L{k:03d}" for k in range(len(lake_polys))]
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
    off_bank = rng.random(n) < cell.off_bank
    offset = np.where(off_bank, half + rng.uniform(80, 2500, n), half * rng.uniform(0.1, 1.25, n))
    centre = at + normal * (side * offset)[:, None]
    if cell.lakes:  # a tenth of the patches on lake shores, inside and out
        on_lake = rng.random(n) < 0.1
        lake = rng.integers(0, cell.lakes, n)
        angle = rng.uniform(0, 2 * np.pi, n)
        dist = radii[lake] * rng.uniform(0.85, 1.3, n)
        shore = centres[lake] + np.column_stack([np.cos(angle), np.sin(angle)]) * dist[:, None]
        centre = np.where(on_lake[:, None], shore, centre)
    lo, hi = cell.patch_m
    size = np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    aspect = rng.uniform(0.5, 1.0, n)
    angle = rng.uniform(0, np.pi, n)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    w, h = size, size * aspect
    cx = corners[None, :, 0] * w[:, None]
    cy = corners[None, :, 1] * h[:, None]
    c, si = np.cos(angle)[:, None], np.sin(angle)[:, None]
    xy = np.stack([cx * c - cy * si, cx * si + cy * c], axis=-1) + centre[:, None, :]
    if cell.digitised:  # hand-drawn outlines: 12 vertices at 55-100 % of the half size
        t = np.linspace(0, 2 * np.pi, 12, endpoint=False)[None, :] + angle[:, None]
        r = size[:, None] / 2 * rng.uniform(0.55, 1.0, (n, 12))
        ring = np.stack([r * np.cos(t), r * np.sin(t)], axis=-1) + centre[:, None, :]
        xy = np.concatenate([ring, ring[:, :1]], axis=1)
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
    """What an analyst writes by hand: to_crs, sjoin, intersection areas, sjoin_nearest."""
    patches, ranges = patches.to_crs(CRS), ranges.to_crs(CRS)
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
    to_m = f"'{DEGREES}', '{CRS}', always_xy := true"
    for table, key, frame in (("p", "patch_id", "pdf"), ("r", "range_id", "rdf")):
        con.execute(
            f"CREATE TABLE {table} AS SELECT {key}, "
            f"ST_Transform(ST_GeomFromWKB(wkb), {to_m}) AS g FROM {frame}"
        )
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


def run_hetu(
    patches: gpd.GeoDataFrame, ranges: gpd.GeoDataFrame, workers: int | None = None
) -> dict:
    """Hetu's matching (``workers`` threads; default the CPUs available)."""
    from geo.matching import match_patches

    out = match_patches(patches, ranges, near_m=NEAR_M, workers=workers)
    over = out[out["relation"].isin(["inside", "straddles", "partly_outside"])]
    primary = over[over["primary"]][["patch_id", "range_id"]]
    result = summary(primary, len(over), (out["relation"] == "near").sum())
    result["_out"] = out  # its digest is taken after the timing
    return result


def output_digest(out: pd.DataFrame) -> str:
    """Every row and value of a match, in a fixed order (threads must equal one thread)."""
    whole = out.sort_values(["patch_id", "range_id"], kind="stable", na_position="first")
    text = whole.to_csv(index=False, float_format="%.6f")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def child(engine: str, size: int, seed: int, cell: str) -> None:
    """Run one engine on one size of one cell and print one JSON line."""
    patches, ranges = scenario(size, seed=seed, cell=CELLS[cell])
    patches, ranges = patches.to_crs(DEGREES), ranges.to_crs(DEGREES)  # as provinces send them
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fn = {"geopandas": run_geopandas, "duckdb": run_duckdb, "hetu": run_hetu,
          "hetu-1thread": lambda p, r: run_hetu(p, r, workers=1)}[engine]  # fmt: skip
    if engine.startswith("hetu"):  # imports are not part of the timing, for any engine
        import geo.matching.core  # noqa: F401
    elif engine == "duckdb":
        import duckdb  # noqa: F401
        import duckdb_extension_spatial  # noqa: F401
    t0 = time.perf_counter()
    result = fn(patches, ranges)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if "_out" in result:
        result["output_digest"] = output_digest(result.pop("_out"))
    result.update(engine=engine, cell=cell, size=size, ranges=len(ranges), wall_s=round(wall, 2))
    result.update(peak_mb=round(peak), scenario_mb=round(base))
    print(json.dumps(result))


def main(argv: list[str] | None = None) -> int:
    """Run every engine on every cell and size, each in its own subprocess; print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="200000", help="comma-separated patch counts")
    ap.add_argument("--cells", default=",".join(CELLS), help=f"of {', '.join(CELLS)}")
    ap.add_argument(
        "--engines", default=",".join(ENGINES), help=f"of {', '.join(ENGINES + EXTRA_ENGINES)}"
    )
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--child", nargs=3, metavar=("ENGINE", "SIZE", "CELL"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), args.seed, args.child[2])
        return 0
    engines = [e for e in args.engines.split(",") if e]
    ok, grid = True, []
    for size in (int(s) for s in args.sizes.split(",")):
        for cell in (c for c in args.cells.split(",") if c):
            rows = []
            for engine in engines:
                cmd = [sys.executable, __file__, "--child", engine, str(size), cell,
                       "--seed", str(args.seed)]  # fmt: skip
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if proc.returncode:
                    print(
                        f"{engine} {cell} {size}: failed ({proc.returncode})\n{proc.stderr[-2000:]}"
                    )
                    ok = False
                    continue
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
            if not rows:
                continue
            table = pd.DataFrame(rows).set_index("engine")
            agree = bool(table[["pairs", "primary", "near", "digest"]].nunique().max() == 1)
            if "output_digest" in table.columns:  # Hetu's threads against one thread: every row
                agree &= bool(table["output_digest"].dropna().nunique() == 1)
            ok &= agree
            line = {"cell": cell, "size": size, "ranges": int(table["ranges"].iloc[0]),
                    "agree": agree}  # fmt: skip
            for engine in engines:
                if engine in table.index:
                    line[f"{engine}_s"] = table.loc[engine, "wall_s"]
                    line[f"{engine}_mb"] = table.loc[engine, "peak_mb"]
            if "hetu" in table.index:
                for peer, target in (("geopandas", 3.0), ("duckdb", 1.3)):
                    if peer in table.index:
                        ratio = table.loc[peer, "wall_s"] / table.loc["hetu", "wall_s"]
                        line[f"vs_{peer}"] = round(float(ratio), 2)
                        line[f"{peer}_target_met"] = bool(ratio >= target)
            grid.append(line)
    if grid:
        print(
            "\nSpeed-up of Hetu = peer's time / Hetu's time (targets: geopandas ≥ 3, duckdb ≥ 1.3)"
        )
        print(pd.DataFrame(grid).to_string(index=False))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
