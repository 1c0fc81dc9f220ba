"""The leadership map in a real headless Chromium (Debian's package), driven by Playwright.

Playwright for Python drives the system's /usr/bin/chromium through the Chrome
DevTools protocol (``executable_path``), so no browser is downloaded; it records
every request and console message and clicks like a user. The page is the demo
ledger's map, saved offline, with two patch descriptions replaced by XSS payloads.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from geo.field.coverage import shoreline_pieces
from geo.labels import ACTIONS, COLUMNS, EVIDENCE, SHORELINE, STATES, TEXT
from geo.ledger.store import open_ledger
from geo.maps import save_map, status_map
from geo.settings import load_settings

SCRIPT = '<script>alert("xss")</script>'
IMG = "<img src=x onerror=alert(1)>"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
HOOK = "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"
_CANDIDATES = ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
CHROMIUM = next((p for p in _CANDIDATES if p and Path(p).exists()), None)

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary found: apt-get install -y chromium"
)


@pytest.fixture(scope="module")
def pages(demo_run, tmp_path_factory):
    """The demo map offline with basemap none and with OSM, and the XSS patch ids."""
    out = tmp_path_factory.mktemp("browser")
    with open_ledger(demo_run.ledger, settings=load_settings(demo_run.data.settings)) as ledger:
        frame = ledger.status_frame(as_of="2026-04-30")
        extra = {"ranges": ledger.segments(), "tracks": ledger.tracks(), "events": ledger.events()}
        extra["links"] = ledger.links()
        extra["shoreline"] = shoreline_pieces(extra["tracks"], extra["ranges"])
    open_rows = frame.index[~frame["state"].isin(["closed", "dismissed"])]
    xss = [frame.at[open_rows[0], "patch_id"], frame.at[open_rows[1], "patch_id"]]
    frame = frame.copy()
    frame.loc[open_rows[0], "description"] = SCRIPT
    frame.loc[open_rows[1], "description"] = IMG
    frame.loc[open_rows[1], "chief_village"] = IMG
    paths = {}
    for basemap in ("none", "osm"):
        m = status_map(frame, basemap=basemap, offline=True, as_of="2026-04-30", **extra)
        paths[basemap] = save_map(m, out / f"map-{basemap}.html")
    return paths, [*xss, frame.at[open_rows[2], "patch_id"]]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    """A loaded page with what it logged and requested."""

    def __init__(
        self, browser, path: Path, *, block_tiles: bool = False, size=(1400, 900), hash_=""
    ) -> None:
        self.page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        if block_tiles:
            self.page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
        self.page.add_init_script(HOOK)
        self.page.goto(path.as_uri() + hash_)
        self.page.wait_for_function("window.hetu && window.hetu.ready", timeout=15_000)

    def outside(self, page_uri: str) -> list[str]:
        return [u for u in self.requests if u != page_uri and not u.startswith("data:")]

    def popup_text(self, patch_id: str) -> str:
        """Wait for the popup of ``patch_id`` and return its text."""
        self.page.wait_for_function(
            "id => [...document.querySelectorAll('.leaflet-popup-content')]"
            ".some(e => e.textContent.includes(id))",
            arg=patch_id,
            timeout=5_000,
        )
        # a closed popup fades out for 200 ms: read the one of this patch
        popup = self.page.locator(".leaflet-popup-content", has_text=patch_id)
        return popup.inner_text()


@pytest.fixture(scope="module")
def page(browser, pages):
    paths, _ = pages
    loaded = Page(browser, paths["none"])
    yield loaded
    loaded.page.close()


def test_loads_without_errors_or_requests(page, pages):
    paths, _ = pages
    assert page.errors == []
    assert page.outside(paths["none"].as_uri()) == []  # basemap none: nothing at all
    # at county zoom the patches are dots, not (invisible) polygons
    assert page.page.evaluate("hetu.map.getZoom()") < 15


def test_offline_osm_requests_only_tiles(browser, pages):
    paths, _ = pages
    loaded = Page(browser, paths["osm"], block_tiles=True)
    try:
        outside = loaded.outside(paths["osm"].as_uri())
        assert outside, "the OSM basemap should ask for tiles"
        assert all(u.startswith("https://tile.openstreetmap.org/") for u in outside), outside
    finally:
        loaded.page.close()


def test_legend_title_and_dashboard_show(page):
    legend = page.page.locator(".hetu-legend")
    assert legend.is_visible()
    text = legend.inner_text()
    assert TEXT["legend"] in text and STATES["overdue"] in text and STATES["closed"] in text
    assert TEXT["as_of"] + " 2026-04-30" in page.page.inner_text(".hetu-title")
    dash = page.page.locator(".hetu-dash")
    assert dash.is_visible() and TEXT["closure_by_township"] in dash.inner_text()


def test_clicking_a_patch_opens_its_popup(page, pages):
    pg = page.page
    # zoom to an open patch (polygons from zoom 15) and click its centre
    patch_id = pages[1][2]
    index = pg.evaluate(f"hetu.ids.indexOf({patch_id!r})")
    pg.evaluate(f"void hetu.map.setView(hetu.center({index}), 17, {{animate: false}})")
    pg.wait_for_timeout(200)
    point = pg.evaluate(f"hetu.map.latLngToContainerPoint(hetu.center({index}))")
    pg.mouse.click(point["x"], point["y"])
    text = page.popup_text(patch_id)
    assert patch_id in text and TEXT["history"] in text
    pg.evaluate("void hetu.map.closePopup()")


def test_layer_control_toggles_a_layer(page):
    pg = page.page
    label = pg.locator(".leaflet-control-layers-overlays label", has_text=STATES["closed"])
    assert pg.evaluate("hetu.map.hasLayer(hetu.groups['patch:closed'])")
    label.locator("input").click()
    assert not pg.evaluate("hetu.map.hasLayer(hetu.groups['patch:closed'])")
    label.locator("input").click()
    assert pg.evaluate("hetu.map.hasLayer(hetu.groups['patch:closed'])")


def test_search_and_untrusted_text_stays_text(page, pages):
    _, xss = pages
    pg = page.page
    for patch_id, payload in zip(xss[:2], (SCRIPT, IMG), strict=True):
        pg.fill(".hetu-search input", patch_id)
        pg.locator(".hetu-search div div", has_text=patch_id).first.click()
        text = page.popup_text(patch_id)
        assert patch_id in text and payload in text  # shown literally
        pg.evaluate("void hetu.map.closePopup()")
    pg.wait_for_timeout(300)  # an injected <img onerror> would have fired by now
    assert pg.evaluate("window.__alerts") == []
    assert pg.locator('img[src="x"]').count() == 0
    assert (
        pg.evaluate(
            "[...document.scripts].filter(s => s.textContent.includes('alert(\"xss\")')).length"
        )
        == 0
    )
    assert page.errors == []


def test_shoreline_layer_draws_and_toggles(page):
    pg = page.page
    colors = pg.evaluate(
        "hetu.groups.shoreline.getLayers().map(l => l.options.color)"
        ".filter((c, i, a) => a.indexOf(c) === i).sort()"
    )
    assert len(colors) == 2  # covered green and gaps red
    assert SHORELINE["covered"] in pg.inner_text(".hetu-legend")
    assert SHORELINE["by_township"] in pg.inner_text(".hetu-dash")
    label = pg.locator(".leaflet-control-layers-overlays label", has_text=SHORELINE["layer"])
    label.locator("input").click()
    assert not pg.evaluate("hetu.map.hasLayer(hetu.groups.shoreline)")
    label.locator("input").click()
    assert pg.evaluate("hetu.map.hasLayer(hetu.groups.shoreline)")
    assert page.errors == []


# -- issue 16.7: scale, counts, popup position, hash links -------------------------------------

BOXES = "[...document.querySelectorAll('.hetu-title, .hetu-dash, .leaflet-control-layers')]"
OVERLAPS = f"""() => {{
  const pop = document.querySelector('.leaflet-popup').getBoundingClientRect();
  const hit = {BOXES}.map(e => e.getBoundingClientRect()).filter(b =>
    b.left < pop.right && pop.left < b.right && b.top < pop.bottom && pop.top < b.bottom);
  return {{hit: hit.length, top: pop.top, bottom: pop.bottom, height: innerHeight}};
}}"""


def test_scale_is_metric_only_and_visible(page):
    pg = page.page
    lines = pg.locator(".leaflet-control-scale-line").all_inner_texts()
    assert len(lines) == 1 and re.fullmatch(r"\d+ k?m", lines[0]), lines
    seen = pg.evaluate(
        "(() => { const r = document.querySelector('.leaflet-control-scale-line')"
        ".getBoundingClientRect(); const e = document.elementFromPoint(r.x + r.width / 2,"
        " r.y + r.height / 2); return !!e.closest('.leaflet-control-scale'); })()"
    )
    assert seen, "the scale is covered by another box"


def test_layer_counts_equal_the_dashboard(page):
    pg = page.page
    layers = pg.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    in_list = {m[1]: int(m[2]) for t in layers if (m := re.fullmatch(r"\s*(.+) \((\d+)\)", t))}
    rows = pg.evaluate(
        "[...document.querySelectorAll('.hetu-dash table')[0].rows]"
        ".map(r => [r.cells[0].textContent, +r.cells[1].textContent])"
    )
    by_state = {name: n for name, n in rows if name != COLUMNS["total"]}
    assert in_list[STATES["rectifying"]] == by_state[STATES["rectifying"]] == 18
    assert in_list[STATES["overdue"]] == by_state[STATES["overdue"]] > 0
    for name, n in by_state.items():
        assert in_list[name] == n, (name, in_list, by_state)
    # the overdue layer marks patches that are also drawn in their state's layer (as dots,
    # below the polygon zoom)
    pg.evaluate("void hetu.map.setZoom(11, {animate: false})")
    marks = pg.evaluate("hetu.groups.overdue.getLayers()[0].getLayers().map(l => l.hetu)")
    assert len(set(marks)) == len(marks) == in_list[STATES["overdue"]]


def test_a_searched_popup_opens_clear_of_the_title_and_panels(browser, pages):
    paths, _ = pages
    loaded = Page(browser, paths["none"], size=(1280, 720))
    pg = loaded.page
    try:
        for patch_id in ("TB2026Q1-0008", "TB2025Q3-0001"):  # a long history; another one
            pg.fill(".hetu-search input", patch_id)
            pg.locator(".hetu-search div div", has_text=patch_id).first.click()
            loaded.popup_text(patch_id)
            pg.wait_for_timeout(400)  # the pan that makes room for the popup
            box = pg.evaluate(OVERLAPS)
            assert box["hit"] == 0 and box["top"] >= 0 and box["bottom"] <= box["height"], box
            pg.evaluate("void hetu.map.closePopup()")
        assert loaded.errors == []
    finally:
        pg.close()


def test_hash_opens_a_patch_and_a_township(browser, pages):
    paths, _ = pages
    loaded = Page(browser, paths["none"], hash_="#patch=TB2026Q1-0005")
    pg = loaded.page
    try:
        text = loaded.popup_text("TB2026Q1-0005")
        assert TEXT["history"] in text and pg.evaluate("hetu.map.getZoom()") >= 15
        where = """town => { const b = hetu.map.getBounds();
            const mine = hetu.ids.map((id, i) => i).filter(i => hetu.township(i) === town);
            const own = L.latLngBounds(mine.map(i => hetu.center(i)));
            return [mine.length, b.contains(own), own.pad(0.5).contains(hetu.map.getCenter()),
                    hetu.map.getCenter().lng]; }"""
        seen = {}
        for town, hash_ in (("龙泉镇", "龙泉镇"), ("清溪镇", "清溪镇"), ("龙泉镇", "439999003")):
            pg.evaluate(f"location.hash = '#township=' + encodeURIComponent({hash_!r})")
            pg.wait_for_function("!document.querySelector('.leaflet-popup')", timeout=3_000)
            pg.wait_for_timeout(400)
            n, whole, centred, lng = pg.evaluate(where, town)
            want = {"龙泉镇": 26, "清溪镇": 29}[town]  # with 自查 and the 12345, 暗访 cases
            assert n == want and whole and centred, (hash_, n, whole, centred)
            seen[hash_] = lng
        assert seen["龙泉镇"] == seen["439999003"] != seen["清溪镇"]  # by name or by code
        pg.evaluate("location.hash = '#patch=TB2025Q3-0002'")  # hashchange again: a patch
        assert "TB2025Q3-0002" in loaded.popup_text("TB2025Q3-0002")
        assert loaded.errors == []
    finally:
        pg.close()


def test_popup_history_names_uploads_and_notices(page, demo_run):
    with open_ledger(demo_run.ledger) as ledger:
        events = ledger.events()
    after = events.loc[(events["action"] == "attach") & (events["note"] == "photo_after")]
    sent = events.loc[events["action"] == "supervision"]
    pg = page.page
    for patch_id, what in (
        (after["patch_id"].iloc[0], TEXT["uploaded"] + EVIDENCE["photo_after"]),  # 上传整改后照片
        (sent["patch_id"].iloc[0], TEXT["sent"] + ACTIONS["supervision"]),  # 下发督办函
    ):
        pg.evaluate(f"hetu.open(hetu.ids.indexOf({patch_id!r}))")
        history = page.popup_text(patch_id).split(TEXT["history"])[1]
        assert what in history, history
        pg.evaluate("void hetu.map.closePopup()")
