"""Issue 15.1: ``hetu map`` compiles or runs no text from a ledger, an input file or settings.

A county is built through the library from crafted files: a GeoPackage of patches, a
GeoPackage of ranges, a CSV of chiefs, a CSV patrol track and ``hetu.toml``; every text a
user fills (patch and batch ids, descriptions, free issue types, township and office names,
river and segment names, chiefs' names and titles, actors, surveyors) carries the template
and markup payloads below. ``hetu map`` writes the map; the marker file the server-side
template payload would ``touch`` must not exist, and in headless Chromium the title, layer
list, dashboard, search list and popups show every payload literally, with no alert fired.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.cli.main import cli
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.matching import match_ledger
from geo.settings import load_settings

LON, LAT = 114.0, 28.0
_CANDIDATES = ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
CHROMIUM = next((p for p in _CANDIDATES if p and Path(p).exists()), None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
# the tooltips of ranges and tracks, opened one by one and read as the user sees them
TIPS = """Object.values(hetu.groups).flatMap(g => g.getLayers()).flatMap(
  l => l.getLayers ? l.getLayers() : [l]).filter(l => l.getTooltip && l.getTooltip())
  .map(l => { l.openTooltip(); const t = l.getTooltip().getElement().textContent;
  l.closeTooltip(); return t; })"""
HOOK = "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"


def _popup(page, patch_id: str) -> str:
    """Wait for the popup of ``patch_id`` and return its text."""
    page.wait_for_function(
        "id => [...document.querySelectorAll('.leaflet-popup-content')]"
        ".some(e => e.textContent.includes(id))",
        arg=patch_id,
        timeout=5_000,
    )
    # a popup closing (Leaflet fades it out) may still be in the page beside the new one
    return page.locator(".leaflet-popup-content", has_text=patch_id).last.inner_text()


def payloads(marker: Path) -> list[str]:
    """The attacks of issue 15.1; the last one would create ``marker`` if evaluated."""
    return [
        "{{7*7}}",
        "{% for x in [1] %}X{% endfor %}",
        "${7*7}",
        "<script>alert(1)</script>",
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}",
    ]


def _county(base: Path, bad: list[str]) -> tuple[Path, Path]:
    """Write crafted input files, build the ledger through the library; return (ledger, toml)."""
    every = " ".join(bad)
    town = "439999001"
    toml = base / "hetu.toml"
    toml.write_text(
        f"[office]\nname = {json.dumps(every + ' 河长办', ensure_ascii=False)}\n"
        f"[townships]\n{json.dumps(town)} = {json.dumps(every + ' 镇', ensure_ascii=False)}\n",
        encoding="utf-8",
    )
    settings = load_settings(toml)
    segs = gpd.GeoDataFrame(
        {
            "河段编码": ["439999001001001", "439999001001002"],
            "河湖名称": [f"{p} 河" for p in bad[:2]],
            "河湖编码": ["W1", "W2"],
            "河段名称": [f"{p} 段" for p in bad[2:4]],
            "行政区划代码": [f"{town}001", f"{town}001"],
        },
        geometry=[
            shapely.box(LON, LAT, LON + 0.02, LAT + 0.004),
            shapely.box(LON, LAT + 0.01, LON + 0.02, LAT + 0.014),
        ],
        crs=4490,
    )
    segs.to_file(base / "ranges.gpkg", driver="GPKG", engine="pyogrio")
    chiefs = []
    for k, seg in enumerate(segs["河段编码"]):
        for j, level in enumerate(("村级", "乡级", "县级")):
            chiefs.append({"河长编号": f"C{k}{j}", "姓名": bad[(k + j) % len(bad)],
                           "职务": bad[(k + j + 1) % len(bad)], "级别": level, "河段编码": seg,
                           "行政区划代码": f"{town}001", "联系电话": "13800000000"})  # fmt: skip
    pd.DataFrame(chiefs).to_csv(base / "chiefs.csv", index=False, encoding="utf-8")
    patches = gpd.GeoDataFrame(
        {
            "TBBH": [f"{p}#{k}" for k, p in enumerate(bad)],
            "WTLX": bad,  # free text: recorded as 'other', the text kept in attrs
            "XZQDM": [f"{town}001"] * len(bad),
            "JCSJ": ["2025-07-01"] * len(bad),
            "问题描述": [every] * len(bad),
        },
        geometry=[
            shapely.box(LON + 0.003 * k, LAT + 0.001, LON + 0.003 * k + 0.0005, LAT + 0.0015)
            for k in range(len(bad))
        ],
        crs=4490,
    )
    patches.to_file(base / "patches.gpkg", driver="GPKG", engine="pyogrio")
    track = pd.DataFrame(
        {
            "巡查人": [every] * 3,
            "time": ["2025-08-02 09:00:00", "2025-08-02 09:10:00", "2025-08-02 09:20:00"],
            "lon": [LON, LON + 0.01, LON + 0.02],
            "lat": [LAT + 0.002] * 3,
        }
    )
    track.to_csv(base / "track.csv", index=False, encoding="utf-8")
    ledger = base / "ledger.gpkg"
    with Ledger.create(ledger, settings=settings) as led:
        ingest_file(led, "ranges", base / "ranges.gpkg")
        ingest_file(led, "chiefs", base / "chiefs.csv")
        ingest_file(led, "patches", base / "patches.gpkg", batch_id=every, issued_on="2025-08-01")
        ingest_file(led, "surveys", base / "track.csv")
        match_ledger(led, link=False)
        ids = led.patches()["patch_id"].tolist()
        led.transition(ids, "verifying", actor=every, at="2025-08-05T09:00")
        led.transition(ids[:3], "confirmed", actor=every, at="2025-08-10T09:00")
        led.transition(
            ids[:2], "rectifying", actor=every, at="2025-08-11T09:00", deadline="2025-08-20"
        )  # overdue by the map's day
    return ledger, toml


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """(maps, marker, payloads, patch ids): the full map and one township's map."""
    base = tmp_path_factory.mktemp("attack")
    marker = base / "hetu-pwned-MAP"
    bad = payloads(marker)
    ledger, toml = _county(base, bad)
    maps = {}
    town = " ".join(bad) + " 镇"
    for name, extra in (("all", []), ("town", ["--township", town])):
        out = base / f"{name}.html"
        args = ["--settings", toml, "map", ledger, "-o", out, "--as-of", "2025-09-30"]
        result = CliRunner().invoke(cli, [str(a) for a in (*args, "--basemap", "none", *extra)])
        assert result.exit_code == 0, result.output
        maps[name] = out
    with Ledger(ledger, settings=load_settings(toml)) as led:
        ids = led.patches()["patch_id"].tolist()
    return maps, marker, bad, ids


def test_no_template_is_evaluated(attacked):
    maps, marker, bad, _ = attacked
    assert not marker.exists(), "a ledger text was run as a template during hetu map"
    for path in maps.values():
        page = path.read_text(encoding="utf-8")
        found = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page)
        strings = json.loads(found.group(1))["s"]
        assert " ".join(bad) in strings  # the description, whole and unchanged
        assert "<script>alert(1)</script>" not in page
        # the texts travel as data: JSON-escaped in the data document, HTML-escaped in panels
        assert "{{7*7}}" in page and "{% for x in [1] %}X{% endfor %}" in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_library_map_evaluates_nothing(tmp_path):
    """The same attacks on :func:`status_map` directly, one payload per field of the frames."""
    from conftest import status_row

    from geo.maps import save_map, status_map

    marker = tmp_path / "hetu-pwned-MAP"
    bad = payloads(marker)
    text_columns = ("patch_id", "batch_id", "issue_type", "township", "description",
                    "water_name", "segment_name", "chief_village", "chief_township",
                    "chief_county", "state")  # fmt: skip
    rows = []
    for k, payload in enumerate(bad):
        row = status_row(k, "rectifying", overdue_days=3)
        row.update({c: f"{payload}·{c}" for c in text_columns if c != "state"})
        rows.append(row)
    rows[-1]["state"] = bad[-1]  # a state name from a custom lifecycle
    frame = gpd.GeoDataFrame(rows, crs=4490)
    ranges = frame[["water_name", "segment_name", "segment_id", "geometry"]].copy()
    events = pd.DataFrame({"patch_id": frame["patch_id"], "at": "2025-05-01T10:00:00+08:00",
                           "actor": bad, "action": "attach", "note": bad,
                           "from_state": "rectifying", "to_state": "rectifying"})  # fmt: skip
    m = status_map(frame, ranges=ranges, events=events, title=bad[0], as_of=bad[1],
                   basemap="none")  # fmt: skip
    page = save_map(m, tmp_path / "map.html").read_text(encoding="utf-8")
    assert not marker.exists()
    found = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page)
    strings = json.loads(found.group(1))["s"]
    for payload in bad:
        assert f"{payload}·description" in strings
    assert "{{7*7}}" in page.split('class="hetu-box hetu-title"')[1][:200]  # title, not 49


sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary found")
def test_browser_shows_every_payload_literally(attacked):
    maps, marker, bad, ids = attacked
    every = " ".join(bad)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for name, path in maps.items():
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.add_init_script(HOOK)
                page.goto(path.as_uri())
                page.wait_for_function("window.hetu && window.hetu.ready", timeout=15_000)
                assert every in page.inner_text(".hetu-title"), name  # office + township names
                dash = page.inner_text(".hetu-dash")
                assert every + " 镇" in dash  # township name from the settings
                assert f"{bad[1]}（{bad[2]}）" in dash  # chief name and title (overdue by chief)
                layers = page.inner_text(".leaflet-control-layers")
                for p_ in bad[:2]:
                    assert f"{p_} 河" in layers, (name, layers)
                for patch_id in ids:
                    page.fill(".hetu-search input", patch_id[:-2])
                    hits = page.locator(".hetu-search div div").all_inner_texts()
                    assert patch_id in hits, (patch_id, hits)
                    page.locator(".hetu-search div div", has_text=patch_id).first.click()
                    text = _popup(page, patch_id)
                    assert every in text  # description, and the history's actor
                    for chief in bad[:3]:  # the chain: village, township and county chiefs
                        assert chief in text
                    page.evaluate("void hetu.map.closePopup()")
                for patch_id in ids:  # map.html#patch=ID, the id percent-encoded
                    page.evaluate("id => { location.hash = 'patch=' + encodeURIComponent(id); }",
                                  patch_id)  # fmt: skip
                    assert patch_id in _popup(page, patch_id)
                tips = page.evaluate(TIPS)
                assert any(f"{bad[2]} 段" in t for t in tips) and any(every in t for t in tips)
                page.wait_for_timeout(300)
                assert page.evaluate("window.__alerts") == [], name
                assert errors == [], errors
                page.close()
        finally:
            browser.close()
    assert not marker.exists()
