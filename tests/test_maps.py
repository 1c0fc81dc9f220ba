"""Tests of geo.maps.status (and its helpers mapdata/mapassets): data, layers, escaping, assets."""

from __future__ import annotations

import fnmatch
import html
import json
import math
import re
import tomllib
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import status_row
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from geo.errors import NotFoundError, SchemaError, SettingsError
from geo.labels import COLUMNS, STATES, TEXT
from geo.maps.assets import hetu_script
from geo.maps.data import encode_geometries, script_json
from geo.maps.status import OVERDUE_COLOR, POLYGON_ZOOM, STATE_COLORS, save_map, status_map

SCRIPT = '<script>alert("xss")</script>'
IMG = "<img src=x onerror=alert(1)>"
PNG = "data:image/png;base64,iVBORw0KGgo="


def _decoded(text: str) -> str:
    """Undo the \\uXXXX escapes folium writes into its JSON, leaving the rest as is."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _render(m) -> str:
    return m.get_root().render()


def _data(page: str) -> dict:
    """The map's compact data document, parsed."""
    found = re.search(r'<script type="application/json" id="[^"]+_data">(.*?)</script>', page)
    assert found, "the page carries no data document"
    return json.loads(found.group(1))


def _patch(data: dict, patch_id: str) -> dict:
    """One patch record of the data document as a dict of its decoded values."""

    def text(i: int) -> str:
        return data["s"][i] if i >= 0 else ""

    rec = next(r for r in data["patches"] if r[0] == patch_id)
    keys = ["issue_type", "", "water", "village", "township", "county", "deadline", "description"]
    values = {key: text(rec[k]) for k, key in enumerate(keys, start=3) if key}
    values.update(
        state=data["states"][rec[1]],
        overdue_days=rec[2],
        area=rec[4],
        history=[[text(d), text(w), text(a)] for d, w, a in rec[14]],
        thumbs=[text(i) for i in rec[15]],
    )
    return values


def _decode_shape(data: dict, cx: int, cy: int, shape: list) -> list:
    """Rebuild [[ring lon/lat pairs]] per part, like the page's script does."""
    q, x0, y0 = data["q"], data["x0"], data["y0"]
    parts = []
    for part in shape:
        rings = []
        for flat in part:
            x, y, ring = cx, cy, []
            for k in range(0, len(flat), 2):
                x, y = x + flat[k], y + flat[k + 1]
                ring.append(((x0 + x) * q, (y0 + y) * q))
            rings.append(ring)
        parts.append(rings)
    return parts


@pytest.fixture
def patches() -> gpd.GeoDataFrame:
    rows = [
        status_row(1, "issued"),
        status_row(2, "rectifying", overdue_days=12),
        status_row(3, "closed", overdue_days=3),  # closed: never shown as overdue
        status_row(4, "rectifying", description=SCRIPT + IMG, chief_village=IMG),
    ]
    rows[3]["township"] = "石桥乡"
    rows[3]["admin_code"] = "439999002001"
    return gpd.GeoDataFrame(rows, crs="EPSG:4490")


@pytest.fixture
def ranges() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "range_id": ["R1", "R2"],
            "water_name": ["渌水" + IMG, "清溪河"],
            "water_code": ["W1", "W2"],
            "segment_id": ["439999000001", "439999000002"],
            "segment_name": ["渌水清溪段", "清溪河石桥段"],
            "admin_code": ["439999001001", "439999002001"],
        },
        geometry=[box(113.79, 27.79, 113.86, 27.82), box(113.70, 27.70, 113.72, 27.72)],
        crs="EPSG:4490",
    )


@pytest.fixture
def tracks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "surveyor": ["赵六" + SCRIPT],
            "started_at": ["2025-05-02T09:00:00+08:00"],
            "name": ["t"],
        },
        geometry=[LineString([(113.80, 27.80), (113.83, 27.81)])],
        crs="EPSG:4490",
    )


@pytest.fixture
def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [3, 1, 2, 4],
            "patch_id": ["P002", "P002", "P002", "P001"],
            "at": [
                "2025-05-01T10:00:00+08:00",
                "2025-04-10T09:00:00+08:00",
                "2025-04-20T09:00:00+08:00",
                "2025-04-10T09:00:00+08:00",
            ],
            "actor": ["张三", "hetu", "核查员" + IMG, "hetu"],
            "action": ["rectify", "issue", "confirm", "issue"],
            "from_state": ["confirmed", None, "issued", None],
            "to_state": ["rectifying", "issued", "confirmed", "issued"],
        }
    )


def test_layers_legend_title_dashboard(patches, ranges, tracks):
    raw = _render(status_map(patches, ranges=ranges, tracks=tracks, as_of="2025-06-10"))
    page = _decoded(raw)
    # one group per state present, counted as the dashboard counts: the overdue rectifying
    # patch stays in 整改中 (2) and is marked once more in 逾期 (1)
    names = dict(_data(raw)["layers"])
    assert names == {
        "range:0": f"{TEXT['ranges']} · 渌水{IMG}",  # one layer per river, the name as data
        "range:1": f"{TEXT['ranges']} · 清溪河",
        "patch:issued": f"{STATES['issued']} (1)",
        "patch:rectifying": f"{STATES['rectifying']} (2)",
        "patch:closed": f"{STATES['closed']} (1)",
        "overdue": f"{STATES['overdue']} (1)",
        "tracks": TEXT["tracks"],
    }
    assert list(names)[:2] == ["range:0", "range:1"] and list(names)[-1] == "tracks"
    assert "L.control.layers(" not in page.split("hetuDraw(")[0]  # folium's list is not used
    assert '"preferCanvas": true' in page and "L.control.scale()" not in page
    assert "fitBounds" in page and '"maxZoom": 18' in page
    legend = page[page.index('class="hetu-box hetu-legend"') :].split("</div></div>")[0]
    assert TEXT["legend"] in legend and TEXT["zoom_hint"] in legend
    for state, color in STATE_COLORS.items():
        assert f"background:{color}" in legend and STATES[state] in legend
    assert STATES["overdue"] in legend and OVERDUE_COLOR in legend
    assert TEXT["map_title"] in page and f"{TEXT['as_of']} 2025-06-10" in page
    dash = page[page.index('class="hetu-box hetu-dash"') :].split("</details>")[0]
    assert TEXT["dashboard"] in dash and TEXT["closure_by_township"] in dash
    # 2 rectifying (one overdue), 4 in all; 清溪镇 closed 1 of 3
    assert f'<td>{STATES["rectifying"]}</td><td class="n">2</td>' in dash
    assert f'<td>{COLUMNS["total"]}</td><td class="n">4</td>' in dash
    assert f'<td>{STATES["overdue"]}</td><td class="n">1</td>' in dash
    for name, cells in (("清溪镇", ("1/3", "33%")), ("石桥乡", ("0/1", "0%"))):
        link = f'<td><a href="#township={quote(name)}">{name}</a></td>'
        assert link + "".join(f'<td class="n">{c}</td>' for c in cells) in dash
    # overdue by chief: the township chief of P002, one patch, 12 working days
    late = '<td class="n late">{}</td>'
    row = "<td>李四（镇长）</td>" + late.format(1) + late.format(f"12 {TEXT['unit_workdays']}")
    assert row in dash


def test_custom_title_is_escaped(patches):
    page = _render(status_map(patches, title="示范县<b>图斑</b>", as_of="2025-06-10"))
    assert "示范县&lt;b&gt;图斑&lt;/b&gt;" in page
    assert "<b>图斑</b>" not in page


def test_patch_records(patches):
    data = _data(_render(status_map(patches, as_of="2025-06-10")))
    assert data["zpoly"] == POLYGON_ZOOM and data["q"] == 1e-6
    assert data["overdue_color"] == OVERDUE_COLOR
    assert [data["colors"][data["states"].index(s)] for s in STATE_COLORS] == list(
        STATE_COLORS.values()
    )
    p2 = _patch(data, "P002")
    assert p2["state"] == "rectifying" and p2["overdue_days"] == 12
    assert p2["issue_type"] == "乱堆" and p2["area"] == 1234.5
    assert p2["water"] == "渌水 / 渌水清溪段"
    assert (p2["village"], p2["township"], p2["county"]) == (
        "张三（村支书）",
        "李四（镇长）",
        "王五（副县长）",
    )
    assert p2["deadline"] == "2025-06-01" and p2["description"] == "河道内堆放建筑垃圾"
    assert _patch(data, "P003")["overdue_days"] == 0  # closed is never overdue
    for key, text in data["labels"].items():
        assert text, key
    assert data["labels"]["patch_id"] == COLUMNS["patch_id"]


def test_untrusted_text_is_never_markup(tmp_path, patches, ranges, tracks, events):
    m = status_map(patches, ranges=ranges, tracks=tracks, events=events, as_of="2025-06-10")
    raw = save_map(m, tmp_path / "map.html").read_text(encoding="utf-8")
    for payload in (SCRIPT, IMG, "<script>alert", "<img src=x"):
        assert payload not in raw
    # the data document carries the exact text; the page's script shows it with textContent
    data = _data(raw)
    p4 = _patch(data, "P004")
    assert p4["description"] == SCRIPT + IMG and p4["village"] == IMG
    assert "渌水" + IMG + " / 渌水清溪段" in data["s"]  # range tooltip
    assert any(SCRIPT in s for s in data["s"])  # track tooltip
    assert "innerHTML" not in raw.split("JSON.parse(")[1]  # the renderer never sets markup
    assert [k for k, name in data["layers"] if IMG in name] == ["range:0"]  # escaped by script
    # HTML written by Python (the dashboard) is escaped
    frame = patches.copy()
    frame.loc[3, "township"] = IMG
    page = _render(status_map(frame, basemap="none"))
    assert f">{html.escape(IMG)}</a>" in page and IMG not in page


def test_missing_values_give_blank_fields(patches):
    frame = patches.copy()
    frame["deadline"] = frame["deadline"].astype(object)
    frame.loc[0, ["deadline", "water_name", "segment_name", "description"]] = None
    frame.loc[0, "area_m2"] = math.nan
    data = _data(_render(status_map(frame, as_of="2025-06-10")))
    p1 = _patch(data, "P001")
    assert p1["deadline"] == "" and p1["description"] == "" and p1["area"] is None
    assert p1["water"] == "439999000001"  # falls back to the segment code
    assert "None" not in data["s"] and "nan" not in data["s"]


def test_history_from_events(patches, events):
    data = _data(_render(status_map(patches, events=events, as_of="2025-06-10")))
    assert _patch(data, "P002")["history"] == [
        ["2025-04-10 09:00", STATES["issued"], "hetu"],
        ["2025-04-20 09:00", STATES["confirmed"], "核查员" + IMG],
        ["2025-05-01 10:00", STATES["rectifying"], "张三"],
    ]
    assert _patch(data, "P001")["history"] == [["2025-04-10 09:00", STATES["issued"], "hetu"]]
    assert _patch(data, "P003")["history"] == []
    with pytest.raises(SchemaError, match="events"):
        status_map(patches, events=events.drop(columns=["to_state"]))


def test_recurrence_sites(patches):
    links = pd.DataFrame(
        {
            "patch_id": ["P004", "P001"],
            "earlier_id": ["P-OLD-9", "P-X"],
            "kind": ["recurrence", "x"],
        }
    )
    page = _render(status_map(patches, links=links, as_of="2025-06-10"))
    data = _data(page)
    assert len(data["recurrences"]) == 1
    index, earlier = data["recurrences"][0]
    assert data["patches"][index][0] == "P004" and data["s"][earlier] == "P-OLD-9"
    assert f'"{TEXT["recurrence_sites"]} (1)"' in _decoded(page)
    assert TEXT["recurrence_sites"] in page.split('class="hetu-box hetu-legend"')[1]


def test_thumbnails(patches):
    data = _data(_render(status_map(patches, thumbnails={"P002": [PNG, PNG]})))
    assert _patch(data, "P002")["thumbs"] == [PNG, PNG]
    for bad in ("javascript:alert(1)", 'data:image/png;base64,AA" onerror="x', "x.png"):
        with pytest.raises(SchemaError, match=r"P002.*data URI"):
            status_map(patches, thumbnails={"P002": [bad]})


def test_township_filter(patches, ranges, tracks):
    page = _render(status_map(patches, ranges=ranges, tracks=tracks, township="石桥乡"))
    data = _data(page)
    assert [r[0] for r in data["patches"]] == ["P004"]
    # the patch's own segment and the township's segment (by code) stay
    assert len(data["ranges"]) == 2
    assert "石桥乡 " + TEXT["map_title"] in _decoded(page)
    by_code = _data(_render(status_map(patches, township="439999001")))
    assert [r[0] for r in by_code["patches"]] == ["P001", "P002", "P003"]
    with pytest.raises(NotFoundError, match="清溪镇, 石桥乡"):
        status_map(patches, township="不存在镇")


def test_geometry_round_trip():
    outer = Polygon([(113.8, 27.8), (113.8004, 27.8), (113.8004, 27.8003), (113.8, 27.8003)])
    holed = Polygon(outer.exterior.coords, [[(113.8001, 27.8001), (113.8002, 27.8001),
                                              (113.8002, 27.8002)]])  # fmt: skip
    multi = MultiPolygon([outer, shapely.affinity.translate(outer, 0.001, 0.0)])
    geoms = [holed, multi]
    origin = (113_700_000, 27_700_000)
    centers, shapes = encode_geometries(geoms, quantum=1e-6, origin=origin)
    data = {"q": 1e-6, "x0": origin[0], "y0": origin[1]}
    assert [len(s) for s in shapes] == [1, 2] and len(shapes[0][0]) == 2  # holed: 2 rings
    for geom, (cx, cy), shape in zip(geoms, centers, shapes, strict=True):
        parts = [Polygon(r[0], r[1:]) for r in _decode_shape(data, int(cx), int(cy), shape)]
        rebuilt = MultiPolygon(parts) if len(parts) > 1 else parts[0]
        assert rebuilt.symmetric_difference(geom).area < 1e-12
        assert len(shape[0][0]) == 8  # 4 vertices, closing vertex left out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(113.0, 114.0), st.floats(27.0, 28.0)), min_size=2, max_size=12))
def test_line_encoding_is_lossless_on_the_grid(points):
    line = LineString(points)
    origin = (113_000_000, 27_000_000)
    centers, shapes = encode_geometries([line], quantum=1e-6, origin=origin)
    ring = _decode_shape({"q": 1e-6, "x0": origin[0], "y0": origin[1]}, *centers[0], shapes[0])
    expected = np.rint(np.asarray(points) / 1e-6)
    keep = np.ones(len(expected), dtype=bool)
    keep[1:] = (expected[1:] != expected[:-1]).any(axis=1)  # repeated vertices dropped
    assert np.allclose(np.rint(np.asarray(ring[0][0]) / 1e-6), expected[keep])


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.lists(st.text(max_size=30), max_size=4), max_size=4))
def test_script_json_is_safe_and_lossless(value):
    text = script_json(value)
    assert not set("<>&") & set(text)
    assert json.loads(text) == value


def test_ranges_simplified_in_metres():
    # a 500 m circle with 2,000 vertices: 5 m simplification keeps a few dozen
    circle = gpd.GeoSeries([Point(113.85, 27.85)], crs="EPSG:4490").to_crs(4547).buffer(500, 500)
    ranges = gpd.GeoDataFrame(
        {"water_name": ["渌水"], "segment_name": ["渌水清溪段"]},
        geometry=circle.to_crs(4490),
        crs="EPSG:4490",
    )
    data = _data(_render(status_map(ranges.iloc[:0], ranges=ranges, basemap="none")))
    (rec,) = data["ranges"]
    assert 10 < len(rec[4][0][0]) // 2 < 100


def test_offline_inlines_every_asset(patches, ranges):
    page = _render(status_map(patches, ranges=ranges, basemap="none", offline=True))
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+stylesheet", page)
    assert "L.markerClusterGroup" in page and "leaflet" in page.lower()
    assert "url(images/" not in page and "data:image/png;base64," in page
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", page)
    assert "sourceMappingURL" not in page
    for dropped in ("jquery", "bootstrap", "awesome", "font-awesome"):
        assert dropped not in page.lower()
    osm = _render(status_map(patches, basemap="osm", offline=True))
    assert "tile.openstreetmap.org" in osm and not re.search(r"<script[^>]+src=", osm)


def test_online_links_leaflet_and_cluster_only(patches):
    page = _render(status_map(patches, basemap="none", offline=False))
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts and all(("leaflet" in s) for s in scripts)
    assert any("markercluster" in s for s in scripts)
    for dropped in ("jquery", "bootstrap", "awesome"):
        assert dropped not in page.lower()


def test_basemap_none_has_no_tiles(patches):
    page = _render(status_map(patches, basemap="none"))
    assert "tile.openstreetmap" not in page and "L.tileLayer(" not in page


def test_basemap_osm_default(patches):
    assert "tile.openstreetmap.org" in _render(status_map(patches))


def test_tianditu_needs_key(patches, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(SettingsError, match=r"tianditu_key.*TIANDITU_KEY"):
        status_map(patches, basemap="tianditu")
    with pytest.raises(SettingsError, match="TIANDITU_KEY"):
        status_map(patches, basemap="tianditu-img", tianditu_key="  ")
    monkeypatch.setenv("TIANDITU_KEY", "fromenv")
    assert "tk=fromenv" in _render(status_map(patches, basemap="tianditu"))


def test_unknown_basemap(patches):
    with pytest.raises(SettingsError, match="osm, tianditu, tianditu-img, none"):
        status_map(patches, basemap="gaode")


@pytest.mark.parametrize(
    ("basemap", "layers"), [("tianditu", ("vec_w", "cva_w")), ("tianditu-img", ("img_w", "cia_w"))]
)
def test_tianditu_with_key(patches, basemap, layers):
    page = _decoded(_render(status_map(patches, basemap=basemap, tianditu_key="abc123")))
    for layer in layers:
        assert f"https://t{{s}}.tianditu.gov.cn/DataServer?T={layer}&x={{x}}&y={{y}}" in page
    assert page.count("tk=abc123") == 2
    assert '"subdomains": "01234567"' in page
    assert TEXT["tianditu"] in page and "tile.openstreetmap" not in page


def test_caller_frames_unchanged(patches, ranges, tracks, events):
    before = [f.copy() for f in (patches, ranges, tracks, events)]
    status_map(patches, ranges=ranges, tracks=tracks, events=events, township="清溪镇")
    for frame, copy in zip((patches, ranges, tracks, events), before, strict=True):
        pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(copy))
    assert patches.crs == ranges.crs == tracks.crs == "EPSG:4490"


def test_empty_patches_still_render(ranges):
    empty = gpd.GeoDataFrame({"patch_id": [], "state": []}, geometry=[], crs="EPSG:4490")
    page = _render(status_map(empty, ranges=ranges, basemap="none"))
    assert f'"{TEXT["ranges"]} · 清溪河"' in _decoded(page) and "fitBounds" in page
    assert _data(page)["patches"] == []
    page = _decoded(_render(status_map(empty, basemap="none")))
    assert not re.search(r"map_\w+\.fitBounds\(", page) and TEXT["legend"] in page


def test_missing_columns(patches):
    with pytest.raises(SchemaError, match="state"):
        status_map(patches.drop(columns=["state"]))


def test_save_map_atomic(tmp_path, patches):
    target = tmp_path / "status.html"
    target.write_text("old", encoding="utf-8")
    out = save_map(status_map(patches, as_of="2025-06-10"), target)
    assert out == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert [p.name for p in tmp_path.iterdir()] == ["status.html"]


# -- the shoreline layer (岸线巡查) ------------------------------------------------------------


def _shoreline_case():
    """Two 12 km segments in two townships; a 10 km patrol along the first one only."""
    from geo.field.coverage import shoreline_pieces

    x0, y0 = 500_000.0, 3_080_000.0
    segs = gpd.GeoDataFrame(
        {
            "segment_id": ["439999000001", "439999000002"],
            "water_name": ["渌水", SCRIPT],
            "admin_code": ["439999001001", "439999002001"],
        },
        geometry=[box(x0, y0, x0 + 12_000, y0 + 80), box(x0, y0 + 3000, x0 + 12_000, y0 + 3080)],
        crs=4547,
    ).to_crs(4490)
    track = gpd.GeoDataFrame(
        {"surveyor": ["张三"], "started_at": ["2026-04-03T08:00:00+08:00"]},
        geometry=[LineString([(x0, y0 + 40), (x0 + 10_000, y0 + 40)])],
        crs=4547,
    ).to_crs(4490)
    frame = gpd.GeoDataFrame(
        [
            status_row(1, "issued", geometry=shapely.box(114.0, 27.83, 114.001, 27.831)),
            status_row(2, "closed", admin_code="439999002", township="白沙乡"),
        ],
        crs=4490,
    )
    return frame, segs, track, shoreline_pieces(track, segs)


def test_shoreline_layer_green_and_red_with_legend_and_dashboard():
    from geo.labels import SHORELINE
    from geo.maps.status import SHORELINE_COLORS

    frame, segs, track, pieces = _shoreline_case()
    page = _render(status_map(frame, ranges=segs, tracks=track, shoreline=pieces, basemap="none"))
    data = _data(page)
    recs = data["shoreline"]
    assert len(recs) == len(pieces) and {r[0] for r in recs} == {0, 1}
    assert data["shore_colors"] == [SHORELINE_COLORS["gap"], SHORELINE_COLORS["covered"]]
    for rec, (_, piece) in zip(recs, pieces.iterrows(), strict=True):
        assert rec[0] == int(piece["covered"])
        tip = data["s"][rec[1]]
        assert (SHORELINE["covered"] if piece["covered"] else SHORELINE["gap"]) in tip
        assert f"{piece['length_m'] / 1000:.2f}" in tip
        ends = [p for part in _decode_shape(data, rec[2], rec[3], [[r] for r in rec[4]])
                for p in part[0]]  # fmt: skip
        drawn = shapely.MultiPoint(ends)
        assert drawn.hausdorff_distance(shapely.MultiPoint(
            shapely.get_coordinates(piece.geometry))) < 1e-4  # fmt: skip
    decoded = _decoded(page)
    assert decoded.count(SHORELINE["layer"]) >= 1  # the layer's name in the control
    assert SHORELINE["covered"] in decoded and SHORELINE["gap"] in decoded  # legend
    assert SHORELINE["by_township"] in decoded
    # coverage per township: 清溪镇 is 10 of 12 km on both banks (+ the 50 m reach at the
    # track's end), 白沙乡 has no patrol
    assert re.search(r'<td>清溪镇</td><td class="n">20\.\d/24\.0</td><td class="n">8[34]%', page)
    assert re.search(r'<td>白沙乡</td><td class="n">0\.0/24\.0</td><td class="n">0%', page)
    assert SCRIPT not in page  # a river name reaches the page only as JSON text


def test_shoreline_follows_the_township_and_is_checked():
    frame, _, _, pieces = _shoreline_case()
    data = _data(_render(status_map(frame, shoreline=pieces, township="清溪镇", basemap="none")))
    assert data["shoreline"] and all("渌水" in data["s"][r[1]] for r in data["shoreline"])
    with pytest.raises(SchemaError, match="shoreline: lacks 'covered'"):
        status_map(frame, shoreline=pieces.drop(columns="covered"), basemap="none")
    plain = _data(_render(status_map(frame, basemap="none")))
    assert plain["shoreline"] == []


# -- Hetu's own script and stylesheet: package files in geo/maps/static/ ---------------------

STATIC = ("hetu-map.css", "hetu-map.js")


def test_static_files_ship_and_are_what_the_map_embeds(tmp_path, patches, ranges, tracks):
    static = resources.files("geo.maps") / "static"
    assert sorted(p.name for p in static.iterdir()) == list(STATIC)
    # the package data of pyproject.toml names them, so wheels and sdists carry them
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    globs = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["setuptools"]
    for name in STATIC:
        assert any(fnmatch.fnmatch(f"maps/static/{name}", g) for g in globs["package-data"]["geo"])
    m = status_map(patches, ranges=ranges, tracks=tracks, as_of="2025-06-10", offline=True)
    page = save_map(m, tmp_path / "map.html").read_text(encoding="utf-8")
    for name in STATIC:
        text = (static / name).read_text(encoding="utf-8")
        assert len(text) > 1000 and "</" not in text  # nothing that could close its element
        assert page.count(text) == 1, f"{name} is not in the page exactly once, verbatim"
    # Python adds one call to the script: the data id JSON-encoded, the map and groups by name
    calls = re.findall(r"\nhetuDraw\((\"hetu_layers_\w+_data\"), map_\w+, \{(.*)\}\);\n", page)
    assert len(calls) == 1 and '"patch:issued":feature_group_' in calls[0][1]
    assert re.search(rf'<script type="application/json" id={calls[0][0]}>', page)


def test_layer_keys_reach_the_script_as_json(patches):
    odd = 'x"</script><script>alert(1)//'
    frame = patches.copy()
    frame.loc[0, "state"] = odd
    page = _render(status_map(frame, basemap="none"))
    (call,) = re.findall(r"\nhetuDraw\((.*)\);\n", page)
    assert script_json(f"patch:{odd}") in call and "</script" not in call


def test_hetu_script_takes_variable_names_only():
    assert hetu_script("d", "map_1", {"k": "fg_1"}).endswith(
        '\nhetuDraw("d", map_1, {"k":fg_1});\n'
    )
    with pytest.raises(ValueError, match="variable name"):
        hetu_script("d", "map_1; alert(1)", {})
    with pytest.raises(ValueError, match="variable name"):
        hetu_script("d", "map_1", {"k": "fg()"})


# -- issue 16.7: history words, units, defaults, townships, the command ------------------------


def test_history_names_uploads_notices_and_records():
    from geo.labels import ACTIONS, EVIDENCE
    from geo.maps.data import event_text

    assert event_text("attach", "rectifying", "rectifying", "photo_after") == "上传整改后照片"
    assert event_text("attach", "verifying", "verifying", "permit") == "上传" + EVIDENCE["permit"]
    assert event_text("attach", "x", "x", "odd") == ACTIONS["attach"]  # an unknown kind
    assert event_text("supervision", "rectifying", "rectifying", "督办函: …") == "下发督办函"
    assert event_text("order", None, "rectifying", None) == "下发" + ACTIONS["order"]
    assert event_text("rectify", "confirmed", "rectifying", None) == STATES["rectifying"]
    assert event_text("issue", None, "issued", None) == STATES["issued"]
    assert event_text("audit_keep", "closed", "closed", None) == ACTIONS["audit_keep"]
    assert event_text(None, "confirmed", "rectifying", None) == STATES["rectifying"]


def test_popup_history_of_an_upload_is_not_a_state_change(patches, events):
    more = pd.DataFrame(
        {
            "event_id": [5, 6],
            "patch_id": ["P002", "P002"],
            "at": ["2025-05-10T09:00:00+08:00", "2025-05-12T09:00:00+08:00"],
            "actor": ["黄红卫", "县河长办"],
            "action": ["attach", "supervision"],
            "from_state": ["rectifying", "rectifying"],
            "to_state": ["rectifying", "rectifying"],
            "note": ["photo_after", "督办函: 李四"],
        }
    )
    data = _data(_render(status_map(patches, events=pd.concat([events, more]), basemap="none")))
    assert _patch(data, "P002")["history"][-2:] == [
        ["2025-05-10 09:00", "上传整改后照片", "黄红卫"],
        ["2025-05-12 09:00", "下发督办函", "县河长办"],
    ]


@pytest.mark.parametrize(("workdays", "unit"), [(True, "个工作日"), (False, "天")])
def test_overdue_days_carry_their_unit(patches, workdays, unit):
    page = _render(status_map(patches, basemap="none", workdays=workdays))
    data = _data(page)
    assert data["day_unit"] == unit and data["labels"]["overdue"] == STATES["overdue"]
    dash = page[page.index('class="hetu-box hetu-dash"') :]
    assert f'<td class="n late">12 {unit}</td>' in dash


def test_offline_is_the_default(patches):
    page = _render(status_map(patches, basemap="none"))
    assert not re.search(r"<script[^>]+src=", page) and "L.markerClusterGroup" in page
    cdn = _render(status_map(patches, basemap="none", offline=False))
    assert re.search(r'<script src="https://cdn\.jsdelivr\.net/npm/leaflet@', cdn)


def test_records_carry_township_code_and_batch_never_nan(patches):
    frame = patches.copy()
    frame["township"] = frame["township"].astype(object)
    frame.loc[0, "township"] = math.nan
    frame.loc[1, "township"] = None
    page = _render(status_map(frame, basemap="none"))
    data = _data(page)
    rec = {r[0]: r for r in data["patches"]}
    text = lambda i: data["s"][i] if i >= 0 else ""  # noqa: E731
    assert [text(rec["P004"][k]) for k in (16, 17, 18)] == ["石桥乡", "439999002", "2025-Q2"]
    assert rec["P001"][16] == rec["P002"][16] == -1 and text(rec["P001"][17]) == "439999001"
    assert "nan" not in data["s"] and "None" not in data["s"]
    dash = page[page.index('class="hetu-box hetu-dash"') :].split("</details>")[0]
    assert f"<td>{TEXT['no_township']}</td>" in dash and ">nan<" not in dash
    assert ">None<" not in dash


def test_verbatim_text_is_never_compiled(tmp_path):
    import folium

    from geo.maps.assets import Verbatim

    m = folium.Map(tiles=None)
    text = "{{7*7}} {% for x in [1] %}X{% endfor %} {# c #}"
    Verbatim("Probe", header=f"<meta name='x' content='{text}'>", html=f"<p>{text}</p>",
             script=f"var probe = '{text}';").add_to(m)  # fmt: skip
    page = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    # nothing evaluated: no 49 where the payload stood (the map's random id may hold "49")
    body = page.split("<body>")[1]
    assert page.count(text) == 3 and not re.search(r"(?<![0-9a-f])49(?![0-9a-f])", body)
    assert save_map(m, tmp_path / "again.html").read_text(encoding="utf-8").count(text) == 3


def test_the_command_offline_by_default_cdn_and_calendar_days(demo_run, tmp_path):
    from click.testing import CliRunner

    from geo.cli.main import cli

    settings = demo_run.data.settings
    days = tmp_path / "calendar.toml"
    days.write_text(
        settings.read_text(encoding="utf-8") + '\n[calendar]\ncount = "calendar"\n',
        encoding="utf-8",
    )

    def hetu_map(toml: Path, *extra: str) -> tuple[int, str]:
        out = tmp_path / "map.html"
        out.unlink(missing_ok=True)
        args = ["--settings", str(toml), "map", str(demo_run.ledger), "-o", str(out)]
        result = CliRunner().invoke(cli, [*args, "--as-of", "2026-04-30", *extra])
        return result.exit_code, out.read_text(encoding="utf-8") if out.exists() else result.output

    for extra in ((), ("--offline",)):
        code, page = hetu_map(settings, *extra)
        assert code == 0 and not re.search(r"<script[^>]+src=", page)
        assert _data(page)["day_unit"] == TEXT["unit_workdays"]
        assert ">白沙乡</a>" in page  # township names from the settings, not codes
    code, page = hetu_map(settings, "--cdn")
    assert code == 0 and re.search(r'<script src="https://cdn\.jsdelivr\.net/', page)
    code, output = hetu_map(settings, "--cdn", "--offline")
    assert code == 2 and "not both" in output
    code, page = hetu_map(days)
    assert code == 0 and _data(page)["day_unit"] == TEXT["unit_days"]
