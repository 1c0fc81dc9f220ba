"""Issue 18, point 1: problems from every source (12345, 举报, 暗访 …) in the same ledger.

A real GeoPackage ledger of the demo county gets the demo's 12345 sheet through
``hetu ingest LEDGER problems FILE --source 12345``: the cases are in the 台账 with 问题来源
12345 and a 办结 deadline 10 working days after 受理 on the Chinese calendar, the callers'
names and phones are nowhere in the ledger's bytes, bad rows are refused with their row,
field and fix, the weekly summary counts by source, and the map filters by source.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chinese_calendar
import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.cli.main import cli
from geo.demo.problems import HOTLINE_CASES, write_problem_files
from geo.errors import SchemaError
from geo.labels import COLUMNS, SOURCES, STATES, TEXT
from geo.ledger.store import Ledger
from geo.settings import load_settings

_LEDGER_BOOK = re.compile(r"ledger_\d{4}-\d{2}-\d{2}\.xlsx")


def _workdays_after(start: dt.date, n: int) -> dt.date:
    """``n`` working days after ``start``, counted with chinese-calendar itself."""
    day = start
    while n:
        day += dt.timedelta(days=1)
        n -= bool(chinese_calendar.is_workday(day))
    return day


def _ledger_book(folder: Path) -> Path:
    """The 台账 workbook an export wrote into ``folder``: ``ledger_<day>.xlsx``, by its name.

    The export also writes ``ledger_<day>_gbk_fields.xlsx`` (and, with a template,
    ``ledger_<day>_province.xlsx``); which of them a directory listing gives first
    depends on the file system, so the 台账 is picked by its exact name.
    """
    books = [p for p in folder.rglob("ledger_*.xlsx") if _LEDGER_BOOK.fullmatch(p.name)]
    assert len(books) == 1, books
    return books[0]


def _ledger_row(book, patch_id: str) -> dict[str, str]:
    """The 台账 sheet's row of a patch, header → cell (the sheet with 问题来源 in its header)."""
    for sheet in pd.read_excel(book, sheet_name=None, dtype=str, header=None).values():
        rows = sheet.fillna("").astype(str).values.tolist()
        head = next((r for r in rows if "问题来源" in r and "图斑编号" in r), None)
        row = next((r for r in rows if patch_id in r), None)
        if head and row:
            return dict(zip(head, row, strict=True))
    raise AssertionError(f"{patch_id} is in no ledger sheet of {book}")


def _run(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def county(demo_files, tmp_path_factory):
    """(ledger, settings, files, output): the demo county with its 12345 sheet ingested."""
    base = tmp_path_factory.mktemp("problems")
    ledger, toml = base / "county.gpkg", demo_files.settings
    for args in (
        ("init", ledger, "--settings", toml),
        ("ingest", ledger, "ranges", demo_files.ranges),
        ("ingest", ledger, "chiefs", demo_files.chiefs),
        (
            "ingest",
            ledger,
            "patches",
            demo_files.patches["2025-Q3"],
            "--batch",
            "2025-Q3",
            "--issued-on",
            "2025-08-01",
        ),
    ):
        result = _run(*args)
        assert result.exit_code == 0, result.output
    with Ledger(ledger) as led:
        segments = led.segments()
    hotline, undercover = write_problem_files(base / "files", segments, seed=2025)
    result = _run("ingest", ledger, "problems", hotline, "--source", "12345")
    assert result.exit_code == 0, result.output
    return ledger, load_settings(toml), (hotline, undercover, segments), result.output


def test_a_12345_sheet_lands_in_the_ledger_with_its_source_and_deadline(county, tmp_path):
    ledger, _settings, _files, output = county
    assert "8 read, 8 kept" in output and "8 case(s) placed on a river segment" in output
    with Ledger(ledger) as led:
        frame = led.status_frame(as_of="2026-04-30")
    cases = frame[frame["source"] == "12345"].set_index("patch_id")
    assert len(cases) == len(HOTLINE_CASES)
    assert set(cases["state"]) == {"issued"} and cases["segment_id"].notna().all()
    # received on 2026-04-30: 办结 10 working days later, across the May Day holiday
    last = cases.loc["RX-2026043000015"]
    due = _workdays_after(dt.date(2026, 4, 30), 10)
    assert due == dt.date(2026, 5, 18) and due != dt.date(2026, 5, 14)  # Mon–Fri would say 14
    assert last["deadline"] == last["close_by"] == due.isoformat()
    assert last["deadline_kind"] == "办结期限"
    assert last["accept_by"] == _workdays_after(dt.date(2026, 4, 30), 1).isoformat()
    assert last["feedback_by"] == _workdays_after(dt.date(2026, 4, 30), 10).isoformat()
    # the one 重大 case gets 20 working days (澧县), and the March cases are overdue
    major = cases.loc["RX-2026041000356"]
    assert major["close_by"] == _workdays_after(dt.date(2026, 4, 10), 20).isoformat()
    assert cases.loc["RX-2026031600123", "overdue_days"] > 0
    assert json.loads(major["attrs"])["severity"] == "major"
    # the 台账: 问题来源 and 办结期限 columns, the case's row saying 12345
    result = _run("export", ledger, "-o", tmp_path, "--as-of", "2026-04-30")
    assert result.exit_code == 0, result.output
    row = _ledger_row(_ledger_book(tmp_path), "RX-2026043000015")
    assert row["问题来源"] == "12345" and row["办结期限"].startswith("2026-05-18")


def test_private_columns_are_nowhere_in_the_ledger(county):
    ledger, _settings, (hotline, _u, _s), _ = county
    source = pd.read_excel(hotline, dtype=str)
    assert {"反映人", "联系电话"} <= set(source.columns)  # the sheet has them …
    names, phones = source["反映人"].tolist(), source["联系电话"].tolist()
    files = [p for p in ledger.parent.glob(ledger.name + "*") if p.is_file()]
    data = b"".join(p.read_bytes() for p in files)
    for text in names + phones:  # … the ledger's bytes do not, in any encoding SQLite uses
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert text.encode(encoding) not in data, text
    with Ledger(ledger) as led:
        attrs = [json.loads(a) for a in led.patches()["attrs"]]
    assert all("反映人" not in a and "联系电话" not in a for a in attrs)
    assert {a.get("问题描述") for a in attrs} >= {HOTLINE_CASES[0][2]}


def test_bad_rows_are_refused_each_named_and_nothing_is_written(county, tmp_path):
    ledger, _settings, _files, _ = county
    sheet = tmp_path / "举报.csv"
    sheet.write_text(
        "受理编号,受理时间,来源,问题描述,经度,纬度,反映人\n"
        "JB-1,2026-04-01,举报,好的一行,114.0,27.9,甲\n"
        ",2026-04-01,举报,没有编号,114.0,27.9,乙\n"
        "JB-3,2026-13-45,举报,日期不对,114.0,27.9,丙\n"
        "JB-4,2026-04-01,举报,经纬度写反,27.9,114.0,丁\n"
        "JB-5,2026-04-01,微博,来源不明,114.0,27.9,戊\n"
        "JB-6,2026-04-01,举报,不在本县,116.4,39.9,己\n"
        "JB-1,2026-04-02,举报,编号重复,114.0,27.9,庚\n",
        encoding="utf-8",
    )
    with Ledger(ledger) as led:
        before = len(led.patches()), len(led.events())
    result = _run("ingest", ledger, "problems", sheet)
    assert result.exit_code == 1 and "Traceback" not in result.output
    message = result.output.strip()
    assert message.count("\n") == 0  # one line
    assert "举报.csv: 6 problem(s), nothing was written" in message
    assert "row 3, field 受理编号: blank" in message
    assert "row 4, field 受理时间: '2026-13-45' is not a date" in message
    assert "row 5, field 经度: 经度 27.9 and 纬度 114 are swapped; exchange the two" in message
    assert "row 6, field 来源: '微博' is not a problem source" in message
    assert "row 7, field 经度: (116.4, 39.9) lies outside the office's extent" in message
    assert "row 8, field 受理编号: JB-1 repeats row 2" in message
    assert "甲" not in message and "乙" not in message  # no private cell is echoed
    with Ledger(ledger) as led:
        assert (len(led.patches()), len(led.events())) == before
    # an unknown --source: one clear line naming the sources
    result = _run("ingest", ledger, "problems", sheet, "--source", "微博")
    assert result.exit_code == 1
    assert "--source '微博' is not a problem source; use one of 12345, 举报, 暗访" in result.output


def test_an_undercover_list_with_an_outline_and_a_case_far_from_every_river(county, tmp_path):
    ledger, settings, (_h, undercover, segments), _ = county
    # a case in the county but more than near_m from every range: kept, and named unmatched
    metric = segments.to_crs(4547)
    far = next(
        (x, y)
        for x in (113.82, 114.28, 113.85, 114.25)
        for y in (27.67, 28.03, 27.7, 28.0)
        if metric.distance(gpd.GeoSeries([shapely.Point(x, y)], crs=4490).to_crs(4547)[0]).min()
        > settings.near_m
    )
    layer = gpd.read_file(undercover)
    extra = gpd.GeoDataFrame(
        [{"受理编号": "AF2026-09", "受理时间": "2026-04-20", "问题描述": "远处",
          "问题类型": "乱堆"}],
        geometry=[shapely.Point(*far)], crs=4490,
    )  # fmt: skip
    path = tmp_path / "暗访.geojson"
    pd.concat([layer, extra]).to_file(path, driver="GeoJSON")
    result = _run("ingest", ledger, "problems", path, "--source", "暗访")
    assert result.exit_code == 0, result.output
    assert "1 case(s) match no range within near_m, kept unmatched: AF-AF2026-09" in result.output
    with Ledger(ledger) as led:
        frame = led.status_frame(as_of="2026-04-30").set_index("patch_id")
    mine = frame[frame["source"] == "暗访"]
    assert len(mine) == 5 and mine.loc["AF-AF2026-09", "state"] == "issued"
    assert 1000 < mine.loc["AF-AF2026-04", "area_m2"] < 1500  # the outline kept (≈ 40 × 33 m)
    assert abs(mine.loc["AF-AF2026-01", "area_m2"] - 3.14159 * 20**2) < 5  # point: 20 m circle
    assert mine.loc["AF-AF2026-03", "close_by"] == _workdays_after(dt.date(2026, 4, 15), 10)\
        .isoformat()  # fmt: skip


def test_feedback_and_revisit_are_details_with_events(county, tmp_path):
    ledger, *_ = county
    pid = "RX-2026031600123"
    result = _run("reply", ledger, pid, "--actor", "县河长办", "--at", "2026-03-25T10:00",
                  "--feedback", "已转镇里核查")  # fmt: skip
    assert result.exit_code == 0, result.output
    result = _run("reply", ledger, pid, "--actor", "县河长办", "--at", "2026-04-02T15:00",
                  "--revisit", "unsatisfied", "--note", "垃圾仍未清运")  # fmt: skip
    assert result.exit_code == 0, result.output
    with Ledger(ledger) as led:
        events = led.events()
        row = led.status_frame().set_index("patch_id").loc[pid]
        province = led.patches().query("batch_id == '2025-Q3'")
    mine = events[events["patch_id"] == pid]
    assert list(mine["action"])[-2:] == ["feedback", "revisit"]
    assert set(mine["to_state"]) == {"issued"}  # the state does not change
    assert row["feedback"] == "2026-03-25；已转镇里核查"
    assert row["revisit"] == "不满意；2026-04-02；垃圾仍未清运"
    assert _run("verify", ledger).exit_code == 0
    result = _run("dossier", ledger, pid, "-o", tmp_path / "dossier", "--no-pdf")
    assert result.exit_code == 0, result.output
    page = "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.html"))
    assert "回访情况" in page and "垃圾仍未清运" in page and "问题来源" in page
    result = _run("export", ledger, "-o", tmp_path / "export")  # the 台账 shows both
    assert result.exit_code == 0, result.output
    row = _ledger_row(_ledger_book(tmp_path / "export"), pid)
    assert row["反馈情况"] == "2026-03-25；已转镇里核查"
    assert row["回访情况"] == "不满意；2026-04-02；垃圾仍未清运"
    # a remote-sensing patch has no one to answer; nothing to record is refused too
    other = province["patch_id"].iloc[0]
    result = _run("reply", ledger, other, "--actor", "甲", "--feedback", "x")
    assert result.exit_code == 1 and "is 上级下发, not a problem from a source" in result.output
    result = _run("reply", ledger, pid, "--actor", "甲")
    assert result.exit_code == 1 and "give the 反馈" in result.output


def test_overdue_cases_escalate_on_the_ladder(county, tmp_path):
    from geo.reports.escalation import escalate

    ledger, settings, *_ = county
    with Ledger(ledger, settings=settings) as led:
        done = escalate(led, as_of="2026-04-07", out_dir=tmp_path, actor="县河长办", pdf=False)
        events = led.events()
    chased = events[events["action"].isin(["reminder", "notice", "supervision", "order"])]
    # due 2026-03-30 (受理 03-16): a week past its 办结 deadline, it is chased
    assert "RX-2026031600123" in set(chased["patch_id"])
    assert set(chased.loc[chased["patch_id"] == "RX-2026031600123", "deadline"]) == {"2026-03-30"}
    assert done.documents


def test_the_summary_counts_by_source_and_old_survey_patches_read_as_patrols(county):
    from geo.reports.summary import patch_source, summary_tables

    ledger, *_ = county
    with Ledger(ledger) as led:
        frame = led.status_frame(as_of="2026-04-30")
    table = summary_tables(frame)["source"]
    assert table.loc["12345", "total"] == 8 and table.loc["12345", "issued"] == 8
    assert table.loc["12345", "overdue"] == 4  # 受理 by 2026-04-08: 办结 due by 04-22
    old = pd.DataFrame({"attrs": ['{"source": "survey"}', '{"source": "巡河"}', "{}",
                                  '{"source": "自查"}', '{"source": "微博"}']})  # fmt: skip
    # a value Hetu does not write is a column of the province's file: 上级下发
    assert patch_source(old).tolist() == ["survey", "survey", "issued", "selfcheck", "issued"]


def test_the_map_filters_by_source_with_text_as_data(county, tmp_path):
    ledger, *_ = county
    evil = tmp_path / "12345-evil.csv"
    evil.write_text(
        "受理编号,受理时间,问题描述,地址,经度,纬度\n"
        "EV-1,2026-04-20,<script>alert(1)</script>{{7*7}},<img src=x onerror=alert(2)>,"
        "114.0,27.9\n",
        encoding="utf-8",
    )
    result = _run("ingest", ledger, "problems", evil, "--source", "12345")
    assert result.exit_code == 0, result.output
    out = tmp_path / "map.html"
    result = _run("map", ledger, "-o", out, "--as-of", "2026-04-30", "--basemap", "none")
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, re.S)
    data = json.loads(found.group(1))
    assert any(name.startswith("12345 (") for name in data["sources"])
    assert data["labels"]["source"] == "问题来源" and data["labels"]["source_all"] == "全部来源"
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert any("<script>alert(1)</script>{{7*7}}" in s for s in data["s"])  # data, unchanged
    index = {p[0]: p[20] for p in data["patches"]}
    assert data["sources"][index["RX-EV-1"]].startswith("12345")


def test_a_problem_source_and_an_unknown_one_in_the_library(county):
    from geo.ingest.problems import problems_from_file

    _ledger, settings, (hotline, _u, _s), _ = county
    frame = problems_from_file(hotline, settings=settings)  # the 来源 column: 12345
    assert frame["patch_id"].str.startswith("RX-").all()
    assert frame.attrs["hetu"]["record"]["kind"] == "problems"
    with pytest.raises(SchemaError, match="is not a problem source"):
        problems_from_file(hotline, source="微博", settings=settings)


def _chromium() -> str:
    """The Chromium binary to drive with Playwright; the test is skipped without one."""
    import shutil

    found = ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
    chromium = next((p for p in found if p and Path(p).exists()), None)
    if chromium is None:
        pytest.skip("no chromium binary found")
    return chromium


@contextlib.contextmanager
def _map_page(ledger: Path, tmp_path: Path) -> Iterator[Any]:
    """The ledger's map (as of 2026-04-30) open in headless Chromium, ready; no page error."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    chromium = _chromium()
    out = tmp_path / "map.html"
    result = _run("map", ledger, "-o", out, "--as-of", "2026-04-30", "--basemap", "none")
    assert result.exit_code == 0, result.output
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri())
            page.wait_for_function("window.hetu && window.hetu.ready", timeout=15_000)
            yield page
            assert errors == [], errors
        finally:
            browser.close()


def test_the_source_filter_works_in_a_browser(county, tmp_path):
    """In headless Chromium: the filter lists every source; choosing 12345 shows its cases."""
    ledger, *_ = county
    with _map_page(ledger, tmp_path) as page:
        every = page.evaluate("hetu.shown()")
        options = page.locator(".hetu-filter option").all_inner_texts()
        assert options[0] == "全部来源" and "上级下发 (60)" in options
        hotline = next(o for o in options if o.startswith("12345 ("))
        page.select_option(".hetu-filter select", label=hotline)
        shown = page.evaluate("hetu.shown()")
        assert shown == int(hotline.split("(")[1].rstrip(")")) < every
        page.select_option(".hetu-filter select", label="全部来源")
        assert page.evaluate("hetu.shown()") == every


def _shown_counts(page: Any) -> tuple[dict[str, int], dict[str, int]]:
    """The dashboard's 按状态 rows and the layer list's patch layers, name → count."""
    rows = page.evaluate(
        "[...document.querySelectorAll('.hetu-dash [data-part=by_state] tr')]"
        ".map(r => [r.cells[0].textContent, +r.cells[1].textContent])"
    )
    layers = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    listed = {m[1]: int(m[2]) for t in layers if (m := re.fullmatch(r"\s*(.+) \((\d+)\)", t))}
    return dict(rows), listed


def _expected_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Count per state present, 逾期 and 合计 of a status frame, as the dashboard names them."""
    from geo.reports.summary import overdue_mask

    counts = {STATES.get(s, s): int(n) for s, n in frame["state"].value_counts().items()}
    return {
        **counts,
        STATES["overdue"]: int(overdue_mask(frame).sum()),
        COLUMNS["total"]: len(frame),
    }


def test_the_source_filter_counts_only_that_source(county, tmp_path):
    """Choosing 12345 in the filter: the dashboard and the layer list count its cases only."""
    from geo.reports.summary import patch_source

    ledger, *_ = county
    with Ledger(ledger) as led:
        frame = led.status_frame(as_of="2026-04-30")
    frame = frame.loc[~(frame.geometry.isna() | frame.geometry.is_empty)]  # what the map draws
    source = patch_source(frame)
    hotline = frame.loc[source.map(SOURCES.get) == "12345"]
    assert 0 < len(hotline) < len(frame)
    every, theirs = _expected_counts(frame), _expected_counts(hotline)
    assert theirs != {k: every[k] for k in theirs}  # the two sets differ: the test can tell
    with _map_page(ledger, tmp_path) as page:
        dash, listed = _shown_counts(page)
        assert dash == every
        option = next(o for o in page.locator(".hetu-filter option").all_inner_texts()
                      if o.startswith("12345 ("))  # fmt: skip
        page.select_option(".hetu-filter select", label=option)
        dash, listed = _shown_counts(page)
        assert dash == theirs
        # the layer list: each state's layer and 逾期 count the 12345 cases, 0 where none
        for name, n in listed.items():
            if name in every and name != COLUMNS["total"]:
                assert n == theirs.get(name, 0), (name, listed, theirs)
        assert listed[STATES["issued"]] == theirs[STATES["issued"]] > 0
        late = page.locator(".hetu-dash [data-part=chiefs]").inner_text()
        assert (theirs[STATES["overdue"]] > 0) == (TEXT["none_overdue"] not in late)
        page.select_option(".hetu-filter select", label="全部来源")
        assert _shown_counts(page)[0] == every
