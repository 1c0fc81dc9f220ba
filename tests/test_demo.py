import json

import openpyxl
import pandas as pd
import pyogrio

from geo.demo import DEMO_AS_OF, run_demo
from geo.ledger.store import Ledger
from geo.policy.lifecycle import CLOCK_STATES
from geo.settings import load_settings


def test_outputs_are_written(demo_run):
    for path in (demo_run.ledger, demo_run.map, demo_run.xlsx):
        assert path.is_file() and path.stat().st_size > 5_000
    assert demo_run.ledger.name == "ledger.gpkg" and demo_run.map.name == "map.html"


def test_every_state_shows(demo_run):
    counts = demo_run.counts
    assert all(n > 0 for n in counts.values()), counts
    # 60 + 30 patches in two batches, 6 found by 自查, 8 cases of the 12345 sheet and 4 of 暗访
    assert sum(counts.values()) == 108


def test_the_ledger_tells_the_story(demo_run):
    settings = load_settings(demo_run.data.settings)
    with Ledger(demo_run.ledger, settings=settings) as led:
        frame = led.status_frame(as_of=DEMO_AS_OF)
        imports = led.imports()
        assignments = led.assignments()
        tracks, findings = led.tracks(), led.findings()
    assert set(frame["batch_id"]) == {
        "2025-Q3", "2026-Q1", "自查-2026-04", "RX-12345工单", "AF-暗访问题清单"
    }  # fmt: skip
    overdue = frame[frame["overdue_days"] > 0]
    assert len(overdue) >= 5 and set(overdue["state"]) <= CLOCK_STATES
    assert {"issued", "verifying", "rectifying"} <= set(overdue["state"])  # 核查 has a clock too
    closed = set(frame.loc[frame["state"] == "closed", "patch_id"])
    assert set(demo_run.data.recurrence_of.values()) <= closed  # batch 2 overlaps closed sites
    relations = set(assignments.loc[assignments["primary"], "relation"])
    assert relations == {"inside", "straddles", "partly_outside", "near", "outside"}
    inside = frame[frame["relation"] == "inside"]
    assert (inside["chief_village"] != "").all() and (inside["chief_county"] != "").all()
    patches = imports[imports["kind"] == "patches"]
    patches = patches[~patches["batch_id"].str.startswith("自查")]  # the province's shapefiles
    assert patches["encoding"].str.contains("gb18030").all()
    assert (
        patches["crs"].str.contains("EPSG:4547").any()
        and patches["crs"].str.contains("EPSG:4526").any()
    )
    decisions = [d for text in patches["decisions"] for d in json.loads(text)]
    assert any("repaired (Self-intersection" in d for d in decisions)
    # 2 GPX surveys, the chiefs' 2026Q1 patrols: 70 app tracks, 16 KML tracks, 1 photo walk
    assert len(tracks) == 89 and len(findings) >= 9


def test_the_map_escapes_untrusted_descriptions(demo_run):
    html = demo_run.map.read_text(encoding="utf-8")
    assert '<script>alert("xss")' not in html and "<img src=x onerror" not in html
    assert "alert" in html  # the text is there, escaped


def test_the_excel_ledger_reads_back(demo_run):
    book = openpyxl.load_workbook(demo_run.xlsx, read_only=True)
    assert len(book.sheetnames) >= 2
    ledger_sheet = pd.read_excel(demo_run.xlsx, sheet_name=1, dtype=str, header=2)
    assert ledger_sheet.columns[0] == "序号" and "图斑编号" in ledger_sheet.columns
    assert ledger_sheet["序号"].iloc[95] == "96" and ledger_sheet["序号"].iloc[-1].startswith(
        "填报"
    )


def test_qgis_opens_the_ledger(demo_run):
    layers = dict(pyogrio.list_layers(demo_run.ledger))
    assert layers["patches"] == "MultiPolygon" and layers["segments"] == "MultiPolygon"
    assert len(pyogrio.read_dataframe(demo_run.ledger, layer="patches")) == 108


def test_same_seed_same_history(demo_run, tmp_path):
    again = run_demo(out_dir=tmp_path / "out", data_dir=tmp_path / "data", seed=2025)
    with Ledger(demo_run.ledger) as a, Ledger(again.ledger) as b:
        ea, eb = a.events(), b.events()
        assert ea.drop(columns="event_id").equals(eb.drop(columns="event_id"))
        assert ea["hash"].iloc[-1] == eb["hash"].iloc[-1]


def test_the_demo_self_check_finds_its_planted_changes(demo_run):
    import geopandas as gpd

    from geo.demo.changes import demo_plantings
    from geo.ledger.store import open_ledger

    with open_ledger(demo_run.ledger) as led:
        patches, segments = led.patches(), led.segments()
    mine = patches[patches["batch_id"] == "自查-2026-04"]
    # the patches the office had when it ran 自查: the two province batches
    plan = demo_plantings(segments, patches[patches["batch_id"].isin(["2025-Q3", "2026-Q1"])])
    found = gpd.read_file(demo_run.ledger.parent / "candidates.gpkg").to_crs(plan.planted.crs)
    inside = plan.planted[plan.planted["inside"]]
    assert all(found.intersects(g).any() for g in inside.geometry)  # every planted change
    assert not found.intersects(plan.planted[~plan.planted["inside"]].union_all()).any()
    assert not found.intersects(plan.cloud).any()  # never the cloud
    assert len(mine) == len(inside) and set(mine["issue_type"]) <= {"occupation", "construction",
                                                                       "other"}  # fmt: skip
    page = demo_run.map.read_text(encoding="utf-8")
    assert "自查候选图斑" in page
    book = pd.read_excel(demo_run.xlsx, sheet_name=None, header=None)
    cells = {str(v) for sheet in book.values() for v in sheet.to_numpy().ravel()}
    assert "自查" in cells and any(c.startswith("按来源统计") for c in cells)
