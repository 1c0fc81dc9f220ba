"""Tests of geo.maps: layers, legend, popups, escaping, basemaps, atomic save."""

from __future__ import annotations

import html
import math
import re

import geopandas as gpd
import pandas as pd
import pytest
from conftest import status_row
from shapely.geometry import LineString, Point, box

from geo._errors import SettingsError
from geo.labels import COLUMNS, STATES, TEXT
from geo.maps import OVERDUE_COLOR, STATE_COLORS, save_map, status_map

SCRIPT = '<script>alert("xss")</script>'
IMG = "<img src=x onerror=alert(1)>"


def _decoded(text: str) -> str:
    """Undo the \\uXXXX escapes folium writes into its JSON, leaving the rest as is."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _patch(i: int, state: str, **extra: object) -> dict:
    return status_row(i, state, **extra)


@pytest.fixture
def patches() -> gpd.GeoDataFrame:
    rows = [
        _patch(1, "issued"),
        _patch(2, "rectifying", overdue_days=12),
        _patch(3, "closed", overdue_days=3),  # closed: never shown as overdue
        _patch(4, "rectifying", description=SCRIPT + IMG, chief_village=IMG),
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4490")


@pytest.fixture
def ranges() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "range_id": ["R1"],
            "water_name": ["渌水" + IMG],
            "water_code": ["W1"],
            "segment_id": ["439999000001"],
            "segment_name": ["渌水清溪段"],
            "admin_code": ["439999"],
        },
        geometry=[box(113.79, 27.79, 113.86, 27.82)],
        crs="EPSG:4490",
    )


@pytest.fixture
def tracks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "surveyor": ["赵六" + SCRIPT],
            "observed_at": ["2025-05-02T09:00:00+08:00"],
            "name": ["t"],
        },
        geometry=[LineString([(113.80, 27.80), (113.83, 27.81)])],
        crs="EPSG:4490",
    )


def _render(m) -> str:
    return m.get_root().render()


def test_layers_legend_title(patches, ranges, tracks):
    page = _decoded(_render(status_map(patches, ranges=ranges, tracks=tracks, as_of="2025-06-10")))
    # one group per state present; the overdue rectifying patch is in the overdue group only
    assert f'"{STATES["issued"]} (1)"' in page
    assert f'"{STATES["rectifying"]} (1)"' in page
    assert f'"{STATES["closed"]} (1)"' in page
    assert f'"{STATES["overdue"]} (1)"' in page
    assert f'"{TEXT["ranges"]}"' in page
    assert f'"{TEXT["tracks"]}"' in page
    assert '"collapsed": false' in page
    assert '"preferCanvas": true' in page
    assert "fitBounds" in page
    # the legend lists every state with its colour, plus overdue
    legend = page[page.index('class="hetu-box hetu-legend"') :].split("</body>")[0]
    assert TEXT["legend"] in legend
    for state, color in STATE_COLORS.items():
        assert f"background:{color}" in legend
        assert STATES[state] in legend
    assert STATES["overdue"] in legend and OVERDUE_COLOR in legend
    # title box
    assert TEXT["map_title"] in page
    assert f"{TEXT['as_of']} 2025-06-10" in page


def test_custom_title_is_escaped(patches):
    page = _render(status_map(patches, title="示范县<b>图斑</b>", as_of="2025-06-10"))
    assert "示范县&lt;b&gt;图斑&lt;/b&gt;" in page
    assert "<b>图斑</b>" not in page


def test_overdue_drawn_with_red_outline(patches):
    page = _render(status_map(patches, as_of="2025-06-10"))
    assert f'"color": "{OVERDUE_COLOR}"' in page
    assert f'"fillColor": "{STATE_COLORS["rectifying"]}"' in page


def test_popup_content(patches):
    page = _decoded(_render(status_map(patches, as_of="2025-06-10")))
    for text in (
        COLUMNS["patch_id"],
        COLUMNS["issue_type"],
        COLUMNS["area_m2"],
        TEXT["water_segment"],
        COLUMNS["state"],
        COLUMNS["deadline"],
        COLUMNS["overdue_days"],
        COLUMNS["chief_village"],
        COLUMNS["chief_township"],
        COLUMNS["chief_county"],
        COLUMNS["description"],
    ):
        assert text in page
    assert '"patch_id": "P002"' in page
    assert '"issue_type": "乱堆"' in page
    assert '"area": "1,234.50"' in page
    assert '"water": "渌水 / 渌水清溪段"' in page
    assert '"overdue_days": "12"' in page
    assert '"chief_county": "王五（副县长）"' in page
    assert '"description": "河道内堆放建筑垃圾"' in page


def test_untrusted_text_is_escaped(tmp_path, patches, ranges, tracks):
    m = status_map(patches, ranges=ranges, tracks=tracks, as_of="2025-06-10")
    raw = save_map(m, tmp_path / "map.html").read_text(encoding="utf-8")
    for page in (raw, _decoded(raw)):
        for payload in (SCRIPT, IMG, '<script>alert(\\"xss\\")', "<img src=x"):
            assert payload not in page
    # what the browser gets after JSON decoding is the escaped text, shown literally
    page = _decoded(raw)
    assert html.escape(SCRIPT) + html.escape(IMG) in page  # description
    assert f'"chief_village": "{html.escape(IMG)}"' in page
    assert f'"tip": "渌水{html.escape(IMG)} / 渌水清溪段"' in page  # range tooltip
    assert "赵六" + html.escape(SCRIPT) in page  # track tooltip


def test_missing_values_give_empty_popup_fields(patches):
    frame = patches.copy()
    frame["deadline"] = frame["deadline"].astype(object)
    frame.loc[0, ["deadline", "water_name", "segment_name", "description"]] = None
    frame.loc[0, "area_m2"] = math.nan
    page = _decoded(_render(status_map(frame, as_of="2025-06-10")))
    assert '"area": "", "chief_county": "王五（副县长）"' in page
    assert '"deadline": "", "description": "", "issue_type"' in page
    assert '"water": "439999000001"' in page  # falls back to the segment code
    assert "None" not in page and "NaN" not in page


def test_basemap_none_has_no_tiles(patches):
    page = _render(status_map(patches, basemap="none"))
    assert "tile.openstreetmap" not in page
    assert "L.tileLayer(" not in page


def test_basemap_osm_default(patches):
    assert "tile.openstreetmap.org" in _render(status_map(patches))


def test_tianditu_needs_key(patches):
    with pytest.raises(SettingsError, match=r"tianditu_key.*TIANDITU_KEY"):
        status_map(patches, basemap="tianditu")
    with pytest.raises(SettingsError, match="TIANDITU_KEY"):
        status_map(patches, basemap="tianditu-img", tianditu_key="  ")


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
    assert TEXT["tianditu"] in page
    assert "tile.openstreetmap" not in page


def test_caller_frames_unchanged(patches, ranges, tracks):
    before = [f.copy() for f in (patches, ranges, tracks)]
    status_map(patches, ranges=ranges, tracks=tracks)
    for frame, copy in zip((patches, ranges, tracks), before, strict=True):
        pd.testing.assert_frame_equal(pd.DataFrame(frame), pd.DataFrame(copy))
        assert frame.crs == copy.crs == "EPSG:4490"


def test_empty_patches_still_render(ranges):
    empty = gpd.GeoDataFrame({"patch_id": [], "state": []}, geometry=[], crs="EPSG:4490")
    page = _decoded(_render(status_map(empty, ranges=ranges, basemap="none")))
    assert f'"{TEXT["ranges"]}"' in page and "fitBounds" in page
    page = _decoded(_render(status_map(empty, basemap="none")))
    assert "fitBounds" not in page and TEXT["legend"] in page


def test_ranges_simplified_and_rounded():
    # a 500 m circle with 2,000 vertices: 5 m simplification keeps a few dozen
    circle = gpd.GeoSeries([Point(113.85, 27.85)], crs="EPSG:4490").to_crs(4547).buffer(500, 500)
    ranges = gpd.GeoDataFrame(
        {"water_name": ["渌水"], "segment_name": ["渌水清溪段"]},
        geometry=circle.to_crs(4490),
        crs="EPSG:4490",
    )
    page = _render(status_map(ranges.iloc[:0], ranges=ranges, basemap="none"))
    pairs = re.findall(r"\[(113\.\d+), (27\.\d+)\]", page)
    assert 10 < len(pairs) < 100
    assert all(len(x.split(".")[1]) <= 6 and len(y.split(".")[1]) <= 6 for x, y in pairs)


def test_save_map_atomic(tmp_path, patches):
    target = tmp_path / "status.html"
    target.write_text("old", encoding="utf-8")
    out = save_map(status_map(patches, as_of="2025-06-10"), target)
    assert out == target
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert [p.name for p in tmp_path.iterdir()] == ["status.html"]
