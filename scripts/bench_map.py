"""Benchmark the leadership map against Folium's plain GeoJson rendering of the same layers.

A seeded 20,000-patch county (management ranges and state histories included) is
drawn twice, both offline with the same inline Leaflet/MarkerCluster assets and
no basemap:

- plain: one ``folium.GeoJson`` per state (and one for overdue, one for the
  ranges), every popup field a GeoJson property, ``GeoJsonPopup`` + tooltip, the
  state history as one text property;
- ours: :func:`geo.maps.status.status_map`.

It prints the HTML bytes of both and the time headless Chromium takes from
navigation to the first painted frame after ``load`` (median of several runs),
and the ratios (targets: ours <= 20 % of the bytes, <= 1/3 of the time).

    python scripts/bench_map.py [--patches 20000] [--runs 3] [--out /tmp/bench_map]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon

from geo.labels import COLUMNS, ISSUE_TYPES, STATES
from geo.maps.assets import use_assets
from geo.maps.status import OVERDUE_COLOR, STATE_COLORS, save_map, status_map

STATE_SHARES = {
    "closed": 0.55, "dismissed": 0.08, "rectifying": 0.12, "verifying": 0.08,
    "issued": 0.06, "confirmed": 0.03, "monitored": 0.03, "rectified": 0.05,
}  # fmt: skip
PATH = ("issued", "verifying", "confirmed", "rectifying", "rectified", "closed")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
TOWNS = [f"示范{c}镇" for c in "东南西北中上下前后左右"]


def county(n: int, seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    """Return (status frame, ranges, events) of a seeded county, EPSG:4490."""
    rng = np.random.default_rng(seed)
    rivers, segments = [], []
    for r in range(12):  # meandering rivers across a 60 x 50 km county (metres, EPSG:4547)
        y0 = 3_080_000 + r * 4_000
        xs = np.linspace(500_000, 560_000, 400)
        ys = y0 + 900 * np.sin(xs / 2_500 + r) + rng.normal(0, 25, len(xs)).cumsum() / 10
        line = LineString(np.column_stack([xs, ys]))
        rivers.append(line)
        corridor = line.buffer(80, quad_segs=16)
        for k in range(30):  # 2 km segments
            cut = shapely.box(500_000 + k * 2_000, y0 - 5_000, 502_000 + k * 2_000, y0 + 5_000)
            segments.append(
                {
                    "segment_id": f"439999{r * 100 + k:06d}",
                    "segment_name": f"河{r}段{k}",
                    "water_name": f"示范河{r}",
                    "range_id": f"R{r:02d}",
                    "admin_code": f"4399990{(k % len(TOWNS)) + 1:02d}001",
                    "geometry": corridor.intersection(cut),
                }
            )
    ranges = gpd.GeoDataFrame(segments, crs=4547).to_crs(4490)
    states = rng.choice(list(STATE_SHARES), size=n, p=list(STATE_SHARES.values()))
    river = rng.integers(0, len(rivers), n)
    along = rng.uniform(0, 1, n)
    rows, events = [], []
    for i in range(n):
        c = rivers[river[i]].interpolate(along[i], normalized=True)
        k = rng.integers(10, 17)
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = rng.uniform(10, 45) * rng.uniform(0.6, 1.0, k)
        ox, oy = c.x + rng.normal(0, 40), c.y + rng.normal(0, 40)
        poly = Polygon(np.column_stack([ox + radii * np.cos(angles), oy + radii * np.sin(angles)]))
        seg = int(min(29, (ox - 500_000) // 2_000))
        town = TOWNS[seg % len(TOWNS)]
        state = str(states[i])
        late = state in ("rectifying", "verifying", "confirmed") and rng.uniform() < 0.35
        pid = f"TB2025-{i + 1:05d}"
        rows.append(
            {
                "patch_id": pid,
                "batch_id": "2025-Q2",
                "issue_type": rng.choice(list(ISSUE_TYPES)),
                "admin_code": f"4399990{(seg % len(TOWNS)) + 1:02d}001",
                "township": town,
                "area_m2": float(poly.area),
                "description": f"河道管理范围内违规堆放建筑垃圾约{rng.integers(20, 900)}立方米",
                "state": state,
                "deadline": f"2025-{rng.integers(6, 12):02d}-{rng.integers(1, 28):02d}",
                "overdue_days": int(rng.integers(1, 120)) if late else 0,
                "water_name": f"示范河{river[i]}",
                "segment_id": f"439999{river[i] * 100 + seg:06d}",
                "segment_name": f"河{river[i]}段{seg}",
                "chief_village": f"村长{rng.integers(0, 400)}（村支书）",
                "chief_township": f"镇长{seg % len(TOWNS)}（镇长）",
                "chief_county": f"县长{river[i]}（副县长）",
                "geometry": poly,
            }
        )
        stop = PATH.index(state) if state in PATH else 1
        for j, step in enumerate(PATH[: stop + 1]):
            events.append((pid, f"2025-0{min(9, 4 + j)}-1{j}T09:00:00+08:00", "hetu", step))
        if state not in PATH:
            events.append((pid, "2025-06-20T09:00:00+08:00", "核查员", state))
    patches = gpd.GeoDataFrame(rows, crs=4547).to_crs(4490)
    ev = pd.DataFrame(events, columns=["patch_id", "at", "actor", "to_state"])
    return patches, ranges, ev


def plain_map(patches: gpd.GeoDataFrame, ranges: gpd.GeoDataFrame, ev: pd.DataFrame) -> folium.Map:
    """Folium's plain GeoJson rendering of the same layers and popup fields."""
    m = folium.Map(tiles=None, prefer_canvas=True, max_zoom=18)
    use_assets(m, offline=True)
    frame = patches.copy()
    frame["issue_type"] = frame["issue_type"].map(ISSUE_TYPES)
    frame["state_label"] = frame["state"].map(STATES)
    frame["area_m2"] = frame["area_m2"].round(1)
    hist = ev.assign(line=ev["at"].str[:16] + " " + ev["to_state"].map(STATES) + " " + ev["actor"])
    frame["history"] = frame["patch_id"].map(hist.groupby("patch_id")["line"].agg("<br>".join))
    fields = [
        "patch_id", "issue_type", "area_m2", "water_name", "segment_name", "state_label",
        "deadline", "overdue_days", "chief_village", "chief_township", "chief_county",
        "description", "history",
    ]  # fmt: skip
    aliases = [COLUMNS.get(f, f) for f in fields]
    late = (frame["overdue_days"] > 0) & ~frame["state"].isin(["closed", "dismissed"])
    folium.GeoJson(
        ranges[["water_name", "segment_name", "geometry"]],
        name="ranges",
        tooltip=folium.GeoJsonTooltip(["water_name", "segment_name"]),
    ).add_to(m)
    layers = [(s, frame[(frame["state"] == s) & ~late], c) for s, c in STATE_COLORS.items()]
    layers.append(("overdue", frame[late], OVERDUE_COLOR))
    for name, part, color in layers:
        if part.empty:
            continue
        group = folium.FeatureGroup(name=name).add_to(m)
        folium.GeoJson(
            part[[*fields, "geometry"]],
            style_function=lambda _f, c=color: {"color": c, "fillColor": c, "fillOpacity": 0.45},
            popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
            tooltip=folium.GeoJsonTooltip(["patch_id"]),
        ).add_to(group)
    folium.LayerControl(collapsed=False).add_to(m)
    bounds = frame.total_bounds
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def render_ms(page_path: Path, runs: int, browser) -> list[float]:
    """Milliseconds from navigation to the first frame painted after ``load``."""
    times = []
    for _ in range(runs):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto(page_path.as_uri(), wait_until="load", timeout=300_000)
        ms = page.evaluate(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
            "() => r(performance.now()))))"
        )
        if errors:
            raise SystemExit(f"{page_path.name}: page error {errors[0]}")
        times.append(float(ms))
        page.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_map"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    patches, ranges, ev = county(args.patches, args.seed)
    print(f"county: {len(patches)} patches, {len(ranges)} range segments, {len(ev)} events "
          f"({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    t0 = time.perf_counter()
    ours_path = save_map(
        status_map(patches, ranges=ranges, events=ev, basemap="none", offline=True,
                   as_of="2025-12-31"),
        args.out / "ours.html",
    )  # fmt: skip
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain_path = save_map(plain_map(patches, ranges, ev), args.out / "plain.html")
    t_plain = time.perf_counter() - t0
    b_ours, b_plain = ours_path.stat().st_size, plain_path.stat().st_size
    print(f"build (Python): ours {t_ours:.1f} s, plain {t_plain:.1f} s")
    print(f"bytes: ours {b_ours / 1e6:.2f} MB, plain {b_plain / 1e6:.2f} MB, "
          f"ratio {b_ours / b_plain:.1%} (target <= 20%)")  # fmt: skip
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        print("render: skipped, no chromium found (apt-get install chromium)")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        ours = render_ms(ours_path, args.runs, browser)
        plain = render_ms(plain_path, args.runs, browser)
        browser.close()
    mo, mp = statistics.median(ours), statistics.median(plain)
    runs_ours, runs_plain = [round(t) for t in ours], [round(t) for t in plain]
    print(f"render (ms, median of {args.runs}): ours {mo:.0f} {runs_ours}, "
          f"plain {mp:.0f} {runs_plain}, ratio {mo / mp:.2f} (target <= 0.33)")  # fmt: skip


if __name__ == "__main__":
    main()
