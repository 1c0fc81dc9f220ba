"""The escalation ladder 提示卡 → 通知单 → 督办函 → 整改令 and its notices, on real ledgers."""

import datetime as dt
import json
import re
import shutil
import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.demo.county import XSS_BATCH1
from geo.errors import SchemaError, SettingsError
from geo.labels import ACTIONS, LEVELS, NOTICE
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.matching import match_ledger
from geo.records import ImportRecord
from geo.reports.documents import thumbnail_svg
from geo.reports.escalation import DUE_COLUMNS, due_escalations, escalate
from geo.reports.pdf import find_pdf_converter
from geo.settings import Settings, load_settings

DEADLINE = "2025-09-30"  # the day before National Day 2025 (Oct 1–8 off, Sep 28 / Oct 11 worked)
XSS = '<script>alert("xss")</script>'
OFFICE = "示范县河长制办公室"


def _segments():
    s1 = shapely.box(114.000, 28.000, 114.010, 28.002)
    s2 = shapely.box(114.010, 28.000, 114.020, 28.002)
    return gpd.GeoDataFrame(
        {
            "segment_id": ["439999000001", "439999000002"],
            "range_id": "R01",
            "water_name": "清溪河",
            "water_code": "HN-QXH",
            "segment_name": ["清溪河上村段", "清溪河河口村段"],
            "admin_code": ["439999001001", "439999001002"],
            "attrs": "{}",
        },
        geometry=[s1, s2],
        crs=4490,
    )


def _chiefs():
    rows = [  # segment 1 has all three levels; segment 2 only a county chief
        ("HZ001", "王建国", "副县长", "county", "439999000001"),
        ("HZ001", "王建国", "副县长", "county", "439999000002"),
        ("HZ002", "李秀英", "镇长", "township", "439999000001"),
        ("HZ003", "张伟", "村支书", "village", "439999000001"),
        ("HZ004", "赵老", "村支书", "village", "439999000002"),  # term ended: not addressed
    ]
    df = pd.DataFrame(rows, columns=["chief_id", "name", "title", "level", "segment_id"])
    df["admin_code"] = "439999"
    df["phone"] = "13800000000"
    df["term_start"] = "2021-06-01"
    df["term_end"] = [None, None, None, None, "2024-12-31"]
    df["attrs"] = "{}"
    return df


def _patches():
    boxes = {
        "A": (114.002, 28.0005),
        "B": (114.006, 28.0005),
        "C": (114.014, 28.0005),
        "D": (114.200, 28.2000),  # far from every range: no segment, no chief
    }
    return gpd.GeoDataFrame(
        {
            "patch_id": list(boxes),
            "batch_id": "2025-Q3",
            "issue_type": ["dumping", "construction", "occupation", "mining"],
            "admin_code": "439999001001",
            "detected_on": "2025-07-01",
            "issued_on": "2025-08-01",
            "area_m2": [120.0, 88.5, 230.25, 50.0],
            "source_area": None,
            "description": [XSS + "疑似乱堆", "彩钢棚", "种植", "采砂"],
            "attrs": json.dumps({}),
        },
        geometry=[shapely.box(x, y, x + 0.0004, y + 0.0004) for x, y in boxes.values()],
        crs=4490,
    )


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory):
    """A ledger whose four patches are rectifying with the deadline 2025-09-30."""
    path = tmp_path_factory.mktemp("notices") / "ledger.gpkg"
    s = Settings(office_name=OFFICE, central_meridian=114)
    with Ledger.create(path, settings=s) as led:
        led.add_segments(_segments(), ImportRecord(kind="ranges", file="r.gpkg", sha256="r"))
        led.add_chiefs(_chiefs(), ImportRecord(kind="chiefs", file="c.xlsx", sha256="c"))
        led.add_patches(
            _patches(), ImportRecord(kind="patches", file="p.shp", sha256="p", batch_id="2025-Q3")
        )
        match_ledger(led, link=False)
        ids = ["A", "B", "C", "D"]
        led.transition(ids, "verifying", actor="核查员", at="2025-08-05T09:00")
        led.transition(ids, "confirmed", actor="核查员", at="2025-08-20T10:00")
        led.transition(
            ids, "rectifying", actor="县河长办", at="2025-08-25T09:00", deadline=DEADLINE
        )
    return path


@pytest.fixture
def ledger(base_ledger, tmp_path):
    path = tmp_path / "ledger.gpkg"
    shutil.copyfile(base_ledger, path)
    with Ledger(path, settings=Settings(office_name=OFFICE, central_meridian=114)) as led:
        yield led


def _due(led, day):
    return due_escalations(led, as_of=day).drop_duplicates("patch_id")


def test_ladder_counts_working_days_around_national_day(ledger):
    assert _due(ledger, "2025-09-25").empty  # 4 working days left
    reminder = _due(ledger, "2025-09-26")  # Fri; Sep 28 (Sun) is a make-up working day: 3 left
    assert set(reminder["action"]) == {"reminder"} and set(reminder["days_left"]) == {3}
    assert list(reminder.columns) == DUE_COLUMNS
    late = _due(ledger, "2025-10-08")  # eight calendar days late but 0 working days:
    assert set(late["action"]) == {"reminder"}  # the notice is not due yet
    notice = _due(ledger, "2025-10-09")
    assert set(notice["action"]) == {"notice"} and set(notice["overdue_days"]) == {1}
    assert set(_due(ledger, "2025-10-21")["action"]) == {"supervision"}  # 10 working days
    assert set(_due(ledger, "2025-11-04")["action"]) == {"order"}  # 20 working days

    by_calendar = Ledger(ledger.path, settings=Settings(calendar=None, central_meridian=114))
    with by_calendar:
        assert _due(by_calendar, "2025-09-26").empty  # 4 calendar days before
        assert set(_due(by_calendar, "2025-09-27")["action"]) == {"reminder"}
        assert set(_due(by_calendar, "2025-10-08")["action"]) == {"notice"}
        assert set(_due(by_calendar, "2025-10-10")["action"]) == {"supervision"}


def test_notice_goes_to_the_rungs_level_or_the_next_one_up(ledger):
    due = due_escalations(ledger, as_of="2025-09-26").set_index("patch_id")
    assert due.loc[["A", "B"], "chief_name"].tolist() == ["张伟", "张伟"]  # village chief
    assert due.loc[["A", "B"], "chief_level"].tolist() == ["village", "village"]
    assert not due.loc[["A", "B"], "fallback"].any()
    # segment 2's village chief left office in 2024: the county chief gets it, and it says so
    assert due.loc["C", ["chief_name", "chief_level", "fallback"]].tolist() == [
        "王建国", "county", True,
    ]  # fmt: skip
    assert due.loc["D", "chief_id"] == "" and pd.isna(due.loc["D", "segment_id"])

    notice = due_escalations(ledger, as_of="2025-10-09").set_index("patch_id")
    assert notice.loc["A", ["chief_name", "chief_level"]].tolist() == ["李秀英", "township"]


def test_escalate_records_events_and_writes_addressed_notices(ledger, tmp_path):
    out = tmp_path / "notices"
    res = escalate(ledger, as_of="2025-09-26", out_dir=out, actor="县河长办", pdf=False)
    assert res.events == 4
    names = sorted(p.name for p in res.documents)
    assert names == [
        "2025-09-26_reminder_HZ001.html",
        "2025-09-26_reminder_HZ003.html",
        "2025-09-26_reminder_unassigned.html",
    ]
    assert sorted(p.name for p in out.iterdir()) == names  # no temporary files left
    ev = ledger.events()
    rem = ev[ev["action"] == "reminder"].set_index("patch_id")
    assert set(rem["at"]) == {"2025-09-26T09:00:00+08:00"}
    assert set(rem["deadline"]) == {DEADLINE} and set(rem["actor"]) == {"县河长办"}
    assert "2025-09-26_reminder_HZ003.html" in rem.loc["A", "note"]
    assert set(ledger.status_frame()["state"]) == {"rectifying"}  # a notice keeps the state
    assert ledger.verify() == []

    village = (out / "2025-09-26_reminder_HZ003.html").read_text(encoding="utf-8")
    assert f"<h1>{ACTIONS['reminder']}</h1>" in village
    assert f"{LEVELS['village']}{NOTICE['chief']} 张伟（村支书）" in village
    assert "TB" not in village and ">A<" in village and ">B<" in village and ">C<" not in village
    assert OFFICE in village and "2025年9月26日" in village
    county = (out / "2025-09-26_reminder_HZ001.html").read_text(encoding="utf-8")
    assert ">C<" in county and "该河段未设村级河长，送县级河长" in county


def test_untrusted_descriptions_are_escaped_and_the_map_is_inline_svg(ledger, tmp_path):
    res = escalate(ledger, as_of="2025-10-09", out_dir=tmp_path, pdf=False)
    html = (tmp_path / "2025-10-09_notice_HZ002.html").read_text(encoding="utf-8")
    assert XSS not in html and "<script" not in html
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;疑似乱堆" in html
    assert f"<h1>{ACTIONS['notice']}</h1>" in html and 'lang="zh-CN"' in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    root = ET.fromstring(svg)  # well-formed
    ns = "{http://www.w3.org/2000/svg}"
    kinds = [p.get("class") for p in root.iter(f"{ns}path")]
    assert kinds.count("patch") == 2 and kinds.count("segment") == 1  # A and B on segment 1
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # no network
    assert res.events == 4 and set(res.due["action"]) == {"notice"}
    assert res.due.set_index("patch_id").loc["A", "chief_name"] == "李秀英"


def test_second_run_same_day_issues_and_writes_nothing(ledger, tmp_path):
    first = escalate(ledger, as_of="2025-10-09", out_dir=tmp_path, pdf=False)
    n_events = len(ledger.events())
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    again = escalate(ledger, as_of="2025-10-09", out_dir=tmp_path, pdf=False)
    assert first.events == 4 and again.events == 0
    assert again.documents == [] and again.due.empty
    assert len(ledger.events()) == n_events
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps


def test_a_later_date_escalates_to_the_next_rung_only(ledger, tmp_path):
    escalate(ledger, as_of="2025-09-26", out_dir=tmp_path, pdf=False)
    escalate(ledger, as_of="2025-10-09", out_dir=tmp_path, pdf=False)
    assert escalate(ledger, as_of="2025-10-20", out_dir=tmp_path, pdf=False).events == 0
    sup = escalate(ledger, as_of="2025-10-21", out_dir=tmp_path, pdf=False)
    assert set(sup.due["action"]) == {"supervision"}
    assert set(sup.due["chief_level"]) - {""} == {"county"}
    assert escalate(ledger, as_of="2025-11-03", out_dir=tmp_path, pdf=False).events == 0
    order = escalate(ledger, as_of="2025-11-04", out_dir=tmp_path, pdf=False)
    assert set(order.due["action"]) == {"order"} and order.events == 4
    ev = ledger.events()
    chased = ev[ev["patch_id"] == "A"]["action"].tolist()
    assert chased[-4:] == ["reminder", "notice", "supervision", "order"]
    assert escalate(ledger, as_of="2025-12-31", out_dir=tmp_path, pdf=False).events == 0


def test_a_new_deadline_restarts_the_ladder_and_closed_patches_get_nothing(ledger, tmp_path):
    escalate(ledger, as_of="2025-10-09", out_dir=tmp_path, pdf=False)
    ledger.transition("A", "rectified", actor="张伟", at="2025-10-10T10:00")
    ledger.transition("A", "rectifying", actor="县河长办", at="2025-10-11T10:00",
                      deadline="2025-10-31")  # fmt: skip
    ledger.transition("B", "rectified", actor="张伟", at="2025-10-10T10:00")
    due = _due(ledger, "2025-10-28").set_index("patch_id")  # 3 working days before Oct 31
    assert due.loc["A", "action"] == "reminder" and "B" not in due.index


def test_late_events_move_the_notice_after_them(ledger, tmp_path):
    ledger.record("A", "interview", actor="县河长办", at="2025-10-09T15:30")
    res = escalate(ledger, as_of="2025-10-09", out_dir=tmp_path, pdf=False)
    ev = ledger.events()
    at = ev[(ev["patch_id"] == "A") & (ev["action"] == "notice")]["at"].tolist()
    assert at == ["2025-10-09T15:30:00+08:00"] and res.events == 4


def test_office_template_and_a_broken_one(ledger, tmp_path):
    own = tmp_path / "tpl" / "mine.html.j2"
    own.parent.mkdir()
    own.write_text(
        '{% extends "notice.html.j2" %}{% block masthead %}<p class="own">OWN {{ office }}</p>'
        "{% endblock %}",
        encoding="utf-8",
    )
    bad = tmp_path / "tpl" / "bad.html.j2"
    bad.write_text("{{ no_such_variable }}", encoding="utf-8")
    before = len(ledger.events())
    with pytest.raises(SettingsError, match=r"bad\.html\.j2.*no_such_variable"):
        escalate(ledger, as_of="2025-10-09", out_dir=tmp_path / "x", template=bad, pdf=False)
    with pytest.raises(SettingsError, match="not found"):
        escalate(ledger, as_of="2025-10-09", out_dir=tmp_path / "x",
                 template=tmp_path / "missing.j2", pdf=False)  # fmt: skip
    assert len(ledger.events()) == before and not (tmp_path / "x").exists()
    res = escalate(ledger, as_of="2025-10-09", out_dir=tmp_path / "y", template=own, pdf=False)
    html = (tmp_path / "y" / "2025-10-09_notice_HZ002.html").read_text(encoding="utf-8")
    assert len(res.documents) == 3 and f'<p class="own">OWN {OFFICE}</p>' in html
    assert "&lt;script&gt;" in html


@pytest.mark.skipif(find_pdf_converter() is None, reason="no headless Chromium to print PDFs")
def test_pdf_beside_each_notice_when_a_browser_is_found(ledger, tmp_path):
    res = escalate(ledger, as_of="2025-11-04", out_dir=tmp_path, pdf=True)  # 2 notices
    assert res.pdf_converter and res.pdf_failed == []
    assert sorted(res.pdfs) == sorted(p.with_suffix(".pdf") for p in res.documents)
    for pdf in res.pdfs:
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-") and len(data) > 5000


def test_demo_county_notices_go_to_each_segments_township_chief(demo_files, tmp_path):
    s = load_settings(demo_files.settings)
    with Ledger.create(tmp_path / "ledger.gpkg", settings=s) as led:
        ingest_file(led, "ranges", demo_files.ranges)
        ingest_file(led, "chiefs", demo_files.chiefs)
        ingest_file(led, "patches", demo_files.patches["2025-Q3"], batch_id="2025-Q3",
                    issued_on="2025-08-01")  # fmt: skip
        match_ledger(led, link=False)
        frame = led.status_frame()
        xss = frame.loc[frame["description"] == XSS_BATCH1, "patch_id"].tolist()
        ids = sorted(set(frame.loc[frame["relation"] == "inside", "patch_id"][:12]) | set(xss))
        for state, at in (("verifying", "08-05"), ("confirmed", "08-20"), ("rectifying", "08-25")):
            led.transition(ids, state, actor="x", at=f"2025-{at}T09:00", deadline=DEADLINE)
        res = escalate(led, as_of="2025-10-09", out_dir=tmp_path / "out", pdf=False)
        assert res.events == len(ids)
        expected = frame.set_index("patch_id").loc[ids, "chief_township"]
        named = res.due[res.due["chief_id"] != ""].set_index("patch_id")
        assert len(named) >= 12 and set(named["chief_level"]) == {"township"}
        for pid, row in named.iterrows():
            assert expected[pid] == f"{row['chief_name']}（{row['chief_title']}）"
        segment = frame.set_index("patch_id")["segment_id"]
        for pid in set(ids) - set(named.index):  # no segment: no chief to address
            assert expected[pid] == "" and pd.isna(segment[pid])
        assert len(res.documents) == res.due["chief_id"].nunique()
        text = "".join(p.read_text(encoding="utf-8") for p in res.documents)
        assert "<script" not in text and "&lt;script&gt;" in text
        assert text.count('class="patch"') == len(ids)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(113.0, 115.0),
            st.floats(27.0, 29.0),
            st.floats(1e-5, 0.05),
            st.floats(1e-5, 0.05),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_thumbnail_is_well_formed_svg_for_any_patches(boxes):
    geoms = [shapely.box(x, y, x + w, y + h) for x, y, w, h in boxes]
    svg = thumbnail_svg(geoms, [shapely.box(113.0, 27.0, 115.0, 29.0)])
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    paths = [p for p in root.iter(f"{ns}path") if p.get("class") == "patch"]
    assert len(paths) == len(geoms)
    nums = [float(v) for p in paths for v in re.findall(r"-?\d+\.?\d*", p.get("d"))]
    assert all(-1.0 <= v <= 481.0 for v in nums)  # every patch inside the 480×300 frame
    assert NOTICE["north"] in svg


def test_thumbnail_of_nothing_is_an_empty_frame():
    root = ET.fromstring(thumbnail_svg([None, shapely.Polygon()]))
    assert root.get("width") == "480" and len(list(root)) == 1


def test_a_calm_day_issues_nothing_and_a_bad_date_is_named(ledger, tmp_path):
    res = escalate(ledger, as_of=dt.date(2025, 9, 1), out_dir=tmp_path / "none", pdf=False)
    assert res.events == 0 and res.documents == [] and not (tmp_path / "none").exists()
    with pytest.raises(SchemaError, match="'2025-13-01' is not a date; give YYYY-MM-DD"):
        escalate(ledger, as_of="2025-13-01", out_dir=tmp_path, pdf=False)
