"""The escalation ladder 提示卡 → 通知单 → 督办函 → 整改令 and its notices, on real ledgers."""

import datetime as dt
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import raw_sql
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dossier import _Page

from geo.cli.main import cli
from geo.demo.county import XSS_BATCH1
from geo.errors import OutputError, SchemaError, SettingsError
from geo.labels import ACTIONS, LEVELS, NOTICE
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.matching import match_ledger
from geo.policy.lifecycle import ESCALATION_ACTIONS
from geo.records import ImportRecord
from geo.reports.documents import thumbnail_svg
from geo.reports.dossier import write_dossiers
from geo.reports.escalation import DUE_COLUMNS, due_escalations, escalate, notice_file_name
from geo.reports.pdf import find_pdf_converter, print_pdfs
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


def _build(path, *, chiefs=None, segments=None, patches=None, settings=None, actor="县河长办",
           note=None):  # fmt: skip
    """A ledger whose patches are all rectifying with the deadline 2025-09-30."""
    s = settings or Settings(office_name=OFFICE, central_meridian=114)
    patches = _patches() if patches is None else patches
    with Ledger.create(path, settings=s) as led:
        led.add_segments(
            _segments() if segments is None else segments,
            ImportRecord(kind="ranges", file="r.gpkg", sha256="r"),
        )
        led.add_chiefs(
            _chiefs() if chiefs is None else chiefs,
            ImportRecord(kind="chiefs", file="c.xlsx", sha256="c"),
        )
        for batch, rows in patches.groupby("batch_id"):
            record = ImportRecord(kind="patches", file="p.shp", sha256=batch, batch_id=batch)
            led.add_patches(rows, record)
        match_ledger(led, link=False)
        ids = list(patches["patch_id"])
        led.transition(ids, "verifying", actor=actor, at="2025-08-05T09:00", note=note)
        led.transition(ids, "confirmed", actor=actor, at="2025-08-20T10:00", note=note)
        led.transition(ids, "rectifying", actor=actor, at="2025-08-25T09:00", deadline=DEADLINE,
                       note=note)  # fmt: skip
    return path


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory):
    """A ledger whose four patches are rectifying with the deadline 2025-09-30."""
    return _build(tmp_path_factory.mktemp("notices") / "ledger.gpkg")


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


def _named(res, chief):
    """The one notice of ``res`` addressed to ``chief`` (a chief id, or ``unassigned``)."""
    (path,) = [p for p in res.documents if p.name.split("_")[2] == chief]
    return path


def test_escalate_records_events_and_writes_addressed_notices(ledger, tmp_path):
    out = tmp_path / "notices"
    res = escalate(ledger, as_of="2025-09-26", out_dir=out, actor="县河长办", pdf=False)
    assert res.events == 4
    names = sorted(p.name for p in res.documents)
    assert [n.rsplit("_", 1)[0] for n in names] == [
        "2025-09-26_reminder_HZ001",
        "2025-09-26_reminder_HZ003",
        "2025-09-26_reminder_unassigned",
    ]
    assert all(re.fullmatch(r"_[0-9a-f]{8}\.html", n[-14:]) for n in names)
    assert names[1] == notice_file_name(dt.date(2025, 9, 26), "reminder", "HZ003",
                                        [("A", DEADLINE), ("B", DEADLINE)])  # fmt: skip
    # each notice beside its editable .docx, and no temporary files left
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*names, *(n.replace(".html", ".docx") for n in names)]
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    ev = ledger.events()
    rem = ev[ev["action"] == "reminder"].set_index("patch_id")
    assert set(rem["at"]) == {"2025-09-26T09:00:00+08:00"}
    assert set(rem["deadline"]) == {DEADLINE} and set(rem["actor"]) == {"县河长办"}
    assert f"notices/{names[1]}" in rem.loc["A", "note"]  # its path from the ledger's folder
    assert set(ledger.status_frame()["state"]) == {"rectifying"}  # a notice keeps the state
    assert ledger.verify() == []

    village = _named(res, "HZ003").read_text(encoding="utf-8")
    assert f"的{ACTIONS['reminder']}</h1>" in village
    assert f"{LEVELS['village']}{NOTICE['chief']}张伟（村支书）：" in village
    assert "TB" not in village and ">A<" in village and ">B<" in village and ">C<" not in village
    assert OFFICE in village and "2025年9月26日" in village
    county = _named(res, "HZ001").read_text(encoding="utf-8")
    assert ">C<" in county and "该河段未设村级河长，送县级河长" in county


def test_untrusted_descriptions_are_escaped_and_the_map_is_inline_svg(ledger, tmp_path):
    res = escalate(ledger, as_of="2025-10-09", out_dir=tmp_path, pdf=False)
    html = _named(res, "HZ002").read_text(encoding="utf-8")
    assert XSS not in html and "<script" not in html
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;疑似乱堆" in html
    assert f"的{ACTIONS['notice']}</h1>" in html and 'lang="zh-CN"' in html
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
    html = _named(res, "HZ002").read_text(encoding="utf-8")
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
                    issued_on="2025-08-01", verify_by="2025-12-31")  # fmt: skip
        match_ledger(led, link=False)  # the others' 核查 is not late by 10-09 (verify_by)
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


# -- a notice is never recorded without its file ---------------------------------------------

CHINESE_IDS = {"HZ001": "清溪县王建国", "HZ002": "清溪镇李秀英", "HZ003": "上村张伟",
               "HZ004": "河口村赵老"}  # fmt: skip
LONG_IDS = {"HZ003": "上村张伟" + "x" * 301}  # 305 characters
FORBIDDEN = re.compile(r'[\\/:*?"<>|\s;\x00-\x1f]')


def _recorded(led, out):
    """The notice files that escalation events' notes name in ``out``.

    By its path from a GeoPackage ledger's folder, or in full on PostGIS.
    """
    where = os.path.abspath(out)
    if led.path is not None:
        where = os.path.relpath(where, os.path.dirname(os.path.abspath(led.path)))
    prefix = re.escape(os.path.join(where, ""))
    ev = led.events()
    notes = ev.loc[ev["action"].isin(ESCALATION_ACTIONS), "note"].dropna()
    return {m for note in notes for m in re.findall(" " + prefix + r"(\S+?\.html)", note)}


def _files(out):
    return {p.name for p in Path(out).glob("*.html")} if Path(out).is_dir() else set()


@pytest.mark.parametrize("ids", [CHINESE_IDS, LONG_IDS], ids=["chinese-ids", "305-char-id"])
def test_one_file_for_each_notice_recorded_whatever_the_chief_ids(tmp_path, ids):
    path = _build(tmp_path / "ledger.gpkg", chiefs=_chiefs().replace({"chief_id": ids}))
    out = tmp_path / "notices"
    with Ledger(path, settings=Settings(office_name=OFFICE, central_meridian=114)) as led:
        groups = 0
        for day in ("2025-09-26", "2025-10-09", "2025-10-21"):  # reminder, notice, supervision
            res = escalate(led, as_of=day, out_dir=out, pdf=False)
            assert res.events == 4
            notices = [p for p in res.documents if "_report_" not in p.name]
            assert len(notices) == res.due.groupby(["action", "chief_id"]).ngroups
            groups += len(res.documents)
        names = _files(out)  # and one 情况报告 to the county chief with the 督办函
        assert _recorded(led, out) == names and len(names) == groups == 9
        assert led.verify() == []
    for name in names:
        assert len(name.encode("utf-8")) <= 120 and not FORBIDDEN.search(name)
    village = next(n for n in names if n.startswith("2025-09-26_reminder_") and "张" in n)
    text = (out / village).read_text(encoding="utf-8")
    assert "张伟（村支书）" in text and ">A<" in text and ">B<" in text
    if ids is CHINESE_IDS:  # the Chinese ids are kept in the names
        assert {n.split("_")[2] for n in names} == {"清溪县王建国", "清溪镇李秀英", "上村张伟",
                                                    "unassigned"}  # fmt: skip
    else:
        assert village.startswith("2025-09-26_reminder_上村张伟xxxxxxxxxx")


def test_an_output_path_under_a_file_is_refused_before_anything_is_recorded(ledger, tmp_path):
    blocker = tmp_path / "existing_file.txt"
    blocker.write_text("not a folder", encoding="utf-8")
    before = len(ledger.events())
    with pytest.raises(OutputError, match=r"notices lies under the file .*existing_file\.txt"):
        escalate(ledger, as_of="2025-10-09", out_dir=blocker / "notices", pdf=False)
    with pytest.raises(OutputError, match=r"existing_file\.txt is a file"):
        escalate(ledger, as_of="2025-10-09", out_dir=blocker, pdf=False)
    assert len(ledger.events()) == before
    args = ["escalate", ledger.path, "--as-of", "2025-10-09", "-o", blocker / "notices", "--no-pdf"]
    result = CliRunner().invoke(cli, [str(a) for a in args])
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert result.exit_code == 1 and "existing_file.txt" in line and "give -o a folder" in line
    assert len(ledger.events()) == before and blocker.read_text(encoding="utf-8") == "not a folder"


def _small_files():
    """In the child: files may not grow past 4 KiB, and writing past that fails (EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_full_disk_records_nothing(location, tmp_path):
    """On PostGIS the events would commit in the server; only the notices meet the full disk."""
    _build(location)
    settings = Settings(office_name=OFFICE, central_meridian=114)
    with Ledger(location, settings=settings) as led:
        before = len(led.events())
    hetu = Path(sys.executable).with_name("hetu")
    env = {k: v for k, v in os.environ.items() if k != "HETU_SETTINGS"}
    out = tmp_path / "notices"
    run = subprocess.run(
        [str(hetu), "escalate", str(location), "--as-of", "2025-10-09", "-o", str(out),
         "--no-pdf"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        preexec_fn=_small_files,
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("Error:")]  # one line
    assert "File too large" in line and "nothing was recorded" in line
    assert str(out) in line  # names the notice where it would have gone
    assert not out.exists() and not list(tmp_path.glob(".hetu-notices-*"))  # nothing left
    with Ledger(location, settings=settings) as led:
        assert len(led.events()) == before and _recorded(led, out) == set()
        res = escalate(led, as_of="2025-10-09", out_dir=out, pdf=False)  # space again: issued
        assert res.events == 4 and _recorded(led, out) == _files(out) and len(_files(out)) == 3


def _body(path):
    """A notice without its footer note (which shows the ledger's chain head when printed)."""
    return re.sub(r'<div class="note">.*?</div>', "", path.read_text(encoding="utf-8"), flags=re.S)


def test_a_deleted_notice_is_written_again_by_the_next_run(ledger, tmp_path):
    out = tmp_path / "notices"
    first = escalate(ledger, as_of="2025-09-26", out_dir=out, pdf=False)
    kept = {p.name: _body(p) for p in first.documents}
    gone = _named(first, "HZ003")
    gone.unlink()
    again = escalate(ledger, as_of="2025-09-26", out_dir=out, pdf=False)  # the same day
    assert again.events == 0 and again.documents == [] and again.regenerated == [gone]
    assert _body(gone) == kept[gone.name]  # the same notice
    _named(first, "unassigned").unlink()
    later = escalate(ledger, as_of="2025-10-09", out_dir=out, pdf=False)  # and a later day
    assert [p.name for p in later.regenerated] == [_named(first, "unassigned").name]
    assert later.events == 4 and len(later.documents) == 3
    assert _recorded(ledger, out) == _files(out) and len(_files(out)) == 6
    assert {n: _body(out / n) for n in kept} == kept
    # another folder (even one ending in the same name) holds none of them: none written there
    other = tmp_path / "other" / "notices"
    elsewhere = escalate(ledger, as_of="2025-10-09", out_dir=other, pdf=False)
    assert elsewhere.regenerated == [] and not other.exists()
    # from the command line it says so
    (out / gone.name).unlink()
    args = ["escalate", ledger.path, "--as-of", "2025-10-09", "-o", out, "--no-pdf"]
    said = CliRunner().invoke(cli, [str(a) for a in args])
    assert said.exit_code == 0 and f"{NOTICE['regenerated']}: {gone}" in said.output
    assert "张伟（村支书）" in gone.read_text(encoding="utf-8")  # (the CLI's default office)


def test_a_missing_notice_whose_chief_left_the_roster_goes_to_whom_its_note_says(ledger, tmp_path):
    out = tmp_path / "notices"
    gone = _named(escalate(ledger, as_of="2025-09-26", out_dir=out, pdf=False), "HZ003")
    gone.unlink()
    raw_sql(ledger.path, "DELETE FROM chiefs WHERE chief_id = ?", ("HZ003",))  # behind our back
    again = escalate(ledger, as_of="2025-09-26", out_dir=out, pdf=False)
    assert again.regenerated == [gone] and again.events == 0
    text = gone.read_text(encoding="utf-8")
    assert "张伟（村支书）：" in text and ">A<" in text and ">B<" in text


def test_a_notice_that_cannot_be_moved_after_the_commit_is_written_by_the_rerun(ledger, tmp_path):
    out = tmp_path / "notices"
    name = notice_file_name(dt.date(2025, 10, 9), "notice", "HZ002",
                            [("A", DEADLINE), ("B", DEADLINE)])  # fmt: skip
    (out / name).mkdir(parents=True)  # a folder in the way: the move fails after the commit
    with pytest.raises(OutputError, match=r"recorded but could not be moved.*run escalate again"):
        escalate(ledger, as_of="2025-10-09", out_dir=out, pdf=False)
    assert name in _recorded(ledger, out)
    (out / name).rmdir()
    res = escalate(ledger, as_of="2025-10-09", out_dir=out, pdf=False)
    assert res.events == 0 and [p.name for p in res.regenerated] == [name]
    assert _recorded(ledger, out) == _files(out) and len(_files(out)) == 3
    text = (out / name).read_text(encoding="utf-8")
    assert "李秀英（镇长）" in text and ">A<" in text and ">B<" in text


# -- untrusted text stays text in notices and dossiers ---------------------------------------


def _payload(marker):
    """Template syntax of Jinja2 and others, a script, and a call that would create ``marker``."""
    return (
        "{{7*7}}{% for x in [1] %}X{% endfor %}${7*7}<script>alert(1)</script>"
        f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}"
    )


def _cmap(text):
    """A ToUnicode CMap as {code bytes: text}."""
    out = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[bytes.fromhex(src.decode())] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block):
            first, start = int(lo, 16), int(dst, 16)
            for code in range(first, int(hi, 16) + 1):
                out[(code).to_bytes(len(lo) // 2, "big")] = chr(start + code - first)
    return out


def _pdf_text(data):
    """The text of a PDF Chromium printed: each shown string read through its font's ToUnicode."""
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}

    def stream(body):
        found = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
        raw = found.group(1) if found else b""
        return zlib.decompressobj().decompress(raw) if b"/FlateDecode" in body else raw

    fonts = {}
    for body in objects.values():
        for name, num in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            ref = re.search(rb"/ToUnicode (\d+) 0 R", objects.get(int(num), b""))
            if ref:
                fonts[name] = _cmap(stream(objects[int(ref.group(1))]))
    text = []
    for body in objects.values():
        if b"stream" not in body or b"/Length1" in body:
            continue
        try:
            content = stream(body)
        except zlib.error:
            continue
        font = {}
        for name, hexed in re.findall(rb"/(F\d+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]+)>\s*Tj", content):
            if name:
                font = fonts.get(name, {})
                continue
            raw = bytes.fromhex(hexed.decode())
            width = len(next(iter(font), b"\0\0"))
            text += [font.get(raw[i : i + width], "") for i in range(0, len(raw), width)]
    return "".join(text)


def _text_of(html):
    """What a browser shows of an HTML page: its text with the entities decoded."""
    return "".join(_Page(html).text)


def test_template_syntax_and_scripts_in_every_text_are_shown_literally(tmp_path):
    marker = tmp_path / "MARKER"
    bad = _payload(marker)
    segments = _segments().assign(segment_id=["S1" + bad, "S2" + bad], water_name=bad,
                                  segment_name=[bad + "上", bad + "下"])  # fmt: skip
    chiefs = _chiefs().assign(name=bad, title=bad)
    chiefs["chief_id"] = chiefs["chief_id"] + bad
    chiefs["segment_id"] = chiefs["segment_id"].map(
        {"439999000001": "S1" + bad, "439999000002": "S2" + bad}
    )
    patches = _patches().assign(batch_id=bad, description=bad,
                                attrs=json.dumps({bad: bad}, ensure_ascii=False))  # fmt: skip
    patches["patch_id"] = patches["patch_id"] + bad
    s = Settings(office_name=OFFICE, central_meridian=114, townships={"439999001": bad})
    path = _build(tmp_path / "ledger.gpkg", chiefs=chiefs, segments=segments, patches=patches,
                  settings=s, actor=bad, note=bad)  # fmt: skip
    own = tmp_path / "own.html.j2"  # an office's template is trusted; its data is still escaped
    own.write_text('{% extends "notice.html.j2" %}{% block signature %}<p class="own">'
                   "{{ rows[0].description }}{{ chief.name }}</p>{% endblock %}",
                   encoding="utf-8")  # fmt: skip
    with Ledger(path, settings=s) as led:
        ids = list(led.patches()["patch_id"])
        led.replace_imagery(pd.DataFrame(
            [(ids[0], "before", bad, "2025-07-15", None, "outside", bad, None)],
            columns=["patch_id", "role", "source", "acquired_on", "attachment_id", "status",
                     "reason", "indicators"],
        ))  # fmt: skip
        notices = escalate(led, as_of="2025-10-09", out_dir=tmp_path / "n", actor=bad, pdf=False)
        own_notices = escalate(led, as_of="2025-10-21", out_dir=tmp_path / "o", actor=bad,
                               template=own, pdf=False)  # fmt: skip
        pages = write_dossiers(led, ids, tmp_path / "d", pdf=False, as_of="2025-10-21")
    assert notices.events == 4 and len(notices.documents) == 3 and len(pages) == 4
    shown = {}
    for doc in [*notices.documents, *own_notices.documents, *pages]:
        html = doc.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        shown[doc] = _text_of(html).count(bad)
        assert "49X" not in _text_of(html)  # the payload was never evaluated
    # patch id and description on each notice, chief id, name and title when addressed;
    # the office's own block shows them again
    assert all(shown[d] >= 2 for d in notices.documents)
    assert all(shown[d] >= 5 for d in notices.documents if "unassigned" not in d.name)
    assert all(shown[d] >= 7 for d in own_notices.documents if "unassigned" not in d.name)
    # patch id, batch, township, river and segment, chiefs, history (actors, notes), attributes
    assert all(shown[p] >= 15 for p in pages)
    assert all(len(p.name.encode("utf-8")) <= 120 and not FORBIDDEN.search(p.name) for p in pages)
    assert not marker.exists() and not list(Path.cwd().glob("MARKER"))
    browser = find_pdf_converter()
    if browser is not None:  # a notice and a dossier printed (two browsers at once)
        printed, failed = print_pdfs([notices.documents[0], pages[0]], browser=browser)
        assert len(printed) == 2 and failed == []
        for pdf in printed:
            text = _pdf_text(pdf.read_bytes())
            assert "{{7*7}}" in text and "<script>alert(1)</script>" in text
    assert not marker.exists()
