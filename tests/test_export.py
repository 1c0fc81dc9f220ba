"""Tests of geo.reports.excel.write_ledger_xlsx, read back with openpyxl and pandas."""

from __future__ import annotations

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from conftest import status_row
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo.labels import COLUMNS, FIELD_WORK, ISSUE_TYPES, LEDGER_SUMMARY, STATES, TEXT
from geo.ledger.details import DETAIL_COLUMNS
from geo.reports.excel import LEDGER_COLUMNS, LIFECYCLE, ledger_columns, write_ledger_xlsx

SUMMARY, LEDGER, CHARTS = TEXT["summary"], TEXT["ledger_sheet"], LEDGER_SUMMARY["charts"]
INJECTIONS = ['=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1:A2)"]


def _patch(i: int, state: str, township: str, code: str, **extra: object) -> dict:
    return status_row(
        i,
        state,
        patch_id=f"0{i:03d}",
        issue_type="occupation" if i % 2 else "mining",
        admin_code=code,
        township=township,
        area_m2=1234.5678,
        segment_id="009999000001",
        chief_county="",
        geometry=box(113.80, 27.80 + i * 0.01, 113.802, 27.802 + i * 0.01),
        **extra,
    )


@pytest.fixture
def patches() -> gpd.GeoDataFrame:
    rows = [
        _patch(1, "issued", "清溪镇", "009999001"),
        _patch(2, "rectifying", "清溪镇", "009999001", overdue_days=7),
        _patch(3, "closed", "清溪镇", "009999001", overdue_days=2),  # closed: not overdue
        _patch(4, "closed", "白沙乡", "009999002", relation="near", deadline=None),
        _patch(5, "dismissed", "白沙乡", "009999002", description="很长的描述" * 40),
    ]
    rows += [
        _patch(6 + k, "verifying", "白沙乡", "009999002", description=text)
        for k, text in enumerate(INJECTIONS)
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4490")


@pytest.fixture
def written(tmp_path, patches):
    return write_ledger_xlsx(patches, tmp_path / "ledger.xlsx", as_of="2025-06-10", title="示范县")


def test_sheets_headers_rows(written, patches):
    book = openpyxl.load_workbook(written)
    assert book.sheetnames == [SUMMARY, LEDGER, CHARTS]
    sheet = book[LEDGER]
    # a printable form: title, 数据截至, then 序号 and the headers, the 填报 lines under the table
    assert sheet["A1"].value == "示范县　图斑台账" and sheet["A2"].value == "数据截至 2025-06-10"
    headers = [c.value for c in sheet[3]]
    assert headers == ["序号", *(COLUMNS[c] for c in LEDGER_COLUMNS)]
    assert headers[-2:] == ["中心经度", "中心纬度"]
    assert [sheet.cell(row=4 + k, column=1).value for k in range(3)] == [1, 2, 3]
    assert sheet.max_row == len(patches) + 5
    assert sheet.cell(row=len(patches) + 5, column=1).value.startswith("填报单位（盖章）：")
    assert "审核人" in sheet.cell(row=len(patches) + 5, column=1).value
    assert sheet.freeze_panes == "C4"
    assert sheet.auto_filter.ref == f"A3:W{len(patches) + 3}"
    assert sheet["A3"].font.b and sheet["A3"].alignment.wrap_text
    assert sheet["A3"].fill.fgColor.rgb.endswith("DDEBF7")


def test_values_labels_and_text_codes(written, patches):
    frame = pd.read_excel(written, sheet_name=LEDGER, dtype=str, header=2).iloc[: len(patches)]
    assert frame["序号"].tolist() == [str(k) for k in range(1, len(patches) + 1)]
    assert frame[COLUMNS["patch_id"]].tolist() == patches["patch_id"].tolist()
    assert frame[COLUMNS["admin_code"]].iloc[0] == "009999001"
    assert frame[COLUMNS["segment_id"]].iloc[0] == "009999000001"
    assert frame[COLUMNS["state"]].tolist()[:5] == [
        STATES[s] for s in ("issued", "rectifying", "closed", "closed", "dismissed")
    ]
    assert frame[COLUMNS["issue_type"]].iloc[0] == ISSUE_TYPES["occupation"]
    assert frame[COLUMNS["relation"]].iloc[3] == "范围外邻近"
    sheet = openpyxl.load_workbook(written)[LEDGER]
    assert sheet["B4"].data_type == "s" and sheet["B4"].value == "0001"
    assert sheet["F4"].data_type == "s" and sheet["F4"].value == "009999001"
    assert sheet["K4"].value == 1234.57 and sheet["K4"].number_format == "#,##0.00"
    lon, lat = sheet["V4"].value, sheet["W4"].value
    assert (lon, lat) == (113.801, 27.811)
    assert sheet["O4"].value.isoformat() == "2025-05-01T10:00:00"  # tz-naive Beijing time
    assert sheet["T4"].value is None  # empty county chief stays blank
    assert sheet["P7"].value is None and sheet["P6"].value.isoformat() == "2025-06-01T00:00:00"


def test_formula_injection_stored_as_text(written):
    sheet = openpyxl.load_workbook(written)[LEDGER]
    cells = [sheet.cell(row=9 + k, column=21) for k in range(len(INJECTIONS))]
    assert [c.value for c in cells] == INJECTIONS
    assert all(c.data_type == "s" for c in cells)


def _overdue_rule(sheet):
    rules = [(str(cf.sqref), rule) for cf in sheet.conditional_formatting for rule in cf.rules]
    assert len(rules) == 1
    return rules[0]


def test_overdue_rows_highlighted_by_one_conditional_format(written, patches):
    sheet = openpyxl.load_workbook(written)[LEDGER]
    sqref, rule = _overdue_rule(sheet)
    assert sqref == f"A4:W{len(patches) + 3}"
    assert rule.type == "expression"
    assert rule.formula == [
        f'AND(ISNUMBER($Q4),$Q4>0,$N4<>"{STATES["closed"]}",$N4<>"{STATES["dismissed"]}")'
    ]
    assert rule.dxf.fill.bgColor.rgb == "FFFFC7CE"
    # evaluate the rule on the written cells: only the open patch past its deadline
    red = [
        row[1]
        for row in sheet.iter_rows(min_row=4, max_row=len(patches) + 3, values_only=True)
        if isinstance(row[16], int | float)
        and row[16] > 0
        and row[13] not in ("已销号", "不是问题")
    ]
    assert red == ["0002"]
    assert sheet.cell(row=5, column=2).fill.fgColor.rgb != "FFFFC7CE"  # no per-cell fill


def test_column_widths_cjk_aware(written):
    sheet = openpyxl.load_workbook(written)[LEDGER]
    widths = {k: sheet.column_dimensions[k].width for k in ("B", "E", "U")}
    assert widths["U"] <= 61  # long description capped (~60 units)
    assert widths["U"] > widths["E"] > widths["B"] - 6


def test_summary_counts(written, patches):
    sheet = openpyxl.load_workbook(written)[SUMMARY]
    assert sheet["A1"].value == f"示范县    {TEXT['as_of']} 2025-06-10"
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=5, values_only=True) if r[0]}
    header = [c.value for c in sheet[4]]
    assert header == [
        COLUMNS["township"],
        *(STATES[s] for s in LIFECYCLE),
        COLUMNS["total"],
        COLUMNS["uncleared"],
        STATES["overdue"],
        COLUMNS["closure_rate"],
        COLUMNS["verify_rate"],
        COLUMNS["rectify_rate"],
    ]
    n = len(LIFECYCLE)
    problem = ["confirmed", "monitored", "rectifying", "rectified", "closed"]
    for town, part in patches.groupby("township"):
        counts = part["state"].value_counts()
        got = rows[town]
        assert list(got[:n]) == [counts.get(s, 0) for s in LIFECYCLE]
        assert got[n] == len(part)
        assert got[n + 1] == len(part) - counts.get("closed", 0) - counts.get("dismissed", 0)
        assert got[n + 3] == pytest.approx(counts.get("closed", 0) / len(part))
        verified = sum(counts.get(s, 0) for s in [*problem, "dismissed"])
        assert got[n + 4] == pytest.approx(verified / len(part))  # 核查完成率
        problems = sum(counts.get(s, 0) for s in problem)  # 整改销号率, over 问题图斑
        assert got[n + 5] == (pytest.approx(counts.get("closed", 0) / problems) if problems
                              else None)  # fmt: skip
    assert rows["清溪镇"][n + 2] == 1  # overdue
    total = rows[COLUMNS["total"]]
    assert total[n] == len(patches) and total[n + 3] == pytest.approx(2 / len(patches))
    rate_cell = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == "清溪镇")[n + 4]
    assert rate_cell.number_format == "0.0%"
    notes = [r[0] for r in sheet.iter_rows(values_only=True) if r[0]]
    assert any(str(t).startswith("注：核查完成率") for t in notes)  # the rates defined
    # counts by issue type, below
    assert rows[ISSUE_TYPES["occupation"]][n] == (patches["issue_type"] == "occupation").sum()
    assert rows[ISSUE_TYPES["construction"]][n] == 0


def test_frame_unchanged(tmp_path, patches):
    before = patches.copy()
    write_ledger_xlsx(patches, tmp_path / "a.xlsx")
    pd.testing.assert_frame_equal(pd.DataFrame(patches), pd.DataFrame(before))


def test_plain_dataframe_without_geometry(tmp_path, patches):
    frame = pd.DataFrame(patches.drop(columns="geometry"))
    out = write_ledger_xlsx(frame, tmp_path / "plain.xlsx")
    sheet = openpyxl.load_workbook(out)[LEDGER]
    assert sheet.max_row == len(frame) + 5 and sheet["V4"].value is None


def test_empty_frame(tmp_path, patches):
    out = write_ledger_xlsx(patches.iloc[:0], tmp_path / "empty.xlsx", as_of="2025-06-10")
    book = openpyxl.load_workbook(out)
    sheet = book[LEDGER]
    assert sheet.max_row == 5  # title, 数据截至, headers, a blank row, the 填报 lines
    assert [c.value for c in sheet[3]] == ["序号", *(COLUMNS[c] for c in LEDGER_COLUMNS)]
    totals = [r for r in book[SUMMARY].iter_rows(values_only=True) if r[0] == COLUMNS["total"]]
    assert len(totals) == 5 and all(r[len(LIFECYCLE) + 1] == 0 for r in totals)
    assert sheet.conditional_formatting is not None and not list(sheet.conditional_formatting)


def test_atomic_no_leftovers(tmp_path, patches):
    target = tmp_path / "ledger.xlsx"
    target.write_bytes(b"old")
    assert write_ledger_xlsx(patches, target) == target
    assert openpyxl.load_workbook(target).sheetnames == [SUMMARY, LEDGER, CHARTS]
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.xlsx"]


# --- export_ledger: every output of one scheduled run, read back -------------------------------


@pytest.fixture(scope="module")
def demo_ledger(demo_run):
    from geo.ledger.store import open_ledger
    from geo.settings import load_settings

    with open_ledger(demo_run.ledger, settings=load_settings(demo_run.data.settings)) as led:
        yield led


@pytest.fixture(scope="module")
def exported(demo_ledger, tmp_path_factory):
    from geo.reports.exports import export_ledger

    out = tmp_path_factory.mktemp("exports")
    return export_ledger(demo_ledger, out, as_of="2026-06-30", title="示范县")


def test_export_writes_every_file_and_nothing_else(exported):
    out = exported.xlsx.parent
    stem = "ledger_2026-06-30"
    assert [p.name for p in exported.files] == [
        f"{stem}.xlsx",
        f"{stem}.csv",
        f"{stem}.gpkg",
        f"{stem}_gbk.shp",
        f"{stem}_gbk_fields.xlsx",
    ]
    sidecars = {f"{stem}_gbk{s}" for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")}
    names = {p.name for p in out.iterdir()}
    assert sidecars <= names
    assert names == sidecars | {p.name for p in exported.files} | {".hetu-export.lock"}
    assert exported.rows > 0 and exported.since is None


def test_export_excel_period_and_township_sheets(exported, demo_ledger):
    frame = demo_ledger.status_frame(as_of="2026-06-30")
    book = openpyxl.load_workbook(exported.xlsx)
    towns = sorted(set(frame["township"]))
    # the demo has survey tracks: the field-work sheets of the period come before the townships
    assert book.sheetnames[:5] == [SUMMARY, LEDGER, CHARTS, FIELD_WORK["coverage_sheet"],
                                   FIELD_WORK["patrol_sheet"]]  # fmt: skip
    assert sorted(book.sheetnames[5:]) == towns
    for town in towns:
        sheet = book[town]
        assert sheet.max_row == (frame["township"] == town).sum() + 5
        assert sheet["A1"].value.endswith(town) and sheet["A2"].value.endswith(
            "逾期天数单位：工作日"
        )
        assert sheet["A3"].value == "序号" and sheet.page_setup.orientation == "landscape"
        assert sheet.freeze_panes == "C4" and sheet.auto_filter.ref
        # a ledger's frame adds 乡镇核对 (township_check) after the fixed columns
        heads = [c.value for c in sheet[3]]
        assert heads[0] == "序号" and heads[1:] == [
            COLUMNS[c] + ("（工作日）" if c == "overdue_days" else "")
            for c in ledger_columns(frame)
        ]
        assert COLUMNS["township_check"] in heads
        # 认定 … 回头看, then 问题来源 … 回访 (issue 18) last
        assert sheet.cell(3, sheet.max_column).value == COLUMNS["revisit"]
    summary = book[SUMMARY]
    header = [c.value for c in summary[4]]
    assert header[-2:] == ["本期新增", "本期销号"]
    total = next(r for r in summary.iter_rows(min_row=5, values_only=True) if r[0] == "合计")
    events = demo_ledger.events()
    assert total[-2] == exported.new == events["from_state"].isna().sum() == len(frame)
    closings = events["to_state"].eq("closed") & events["from_state"].ne("closed")
    assert total[-1] == exported.closed == events.loc[closings, "patch_id"].nunique()
    assert exported.closed == (frame["state"] == "closed").sum() + 1  # one 反弹回潮 reopened


def test_export_csv_bom_and_gpkg_snapshot(exported):
    raw = exported.csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    csv = pd.read_csv(exported.csv, encoding="utf-8-sig", dtype=str)
    named = list(ledger_columns(pd.DataFrame(columns=["township_check", *DETAIL_COLUMNS])))
    assert list(csv.columns) == [COLUMNS[c] for c in named if not c.startswith("centroid")]
    assert len(csv) == exported.rows
    assert set(csv[COLUMNS["state"]]) <= set(STATES.values())
    import pyogrio

    assert [name for name, _ in pyogrio.list_layers(exported.gpkg)] == ["图斑台账"]
    snap = pyogrio.read_dataframe(exported.gpkg)
    assert len(snap) == exported.rows and snap.crs.to_epsg() == 4490
    assert COLUMNS["patch_id"] in snap.columns
    assert snap[COLUMNS["patch_id"]].tolist() == csv[COLUMNS["patch_id"]].tolist()


def test_export_gbk_shapefile_round_trip(exported, demo_ledger):
    import pyogrio

    from geo.reports.shapefile import FIELD_CODES

    assert exported.shp.with_suffix(".cpg").read_text().strip().upper() == "GBK"
    info = pyogrio.read_info(exported.shp, encoding="gbk")
    assert list(info["fields"]) == list(FIELD_CODES.values())
    assert all(len(name.encode("gbk")) <= 10 for name in info["fields"])
    back = pyogrio.read_dataframe(exported.shp, encoding="gbk")
    frame = demo_ledger.status_frame(as_of="2026-06-30")
    assert len(back) == len(frame)
    assert back["TBBH"].tolist() == frame["patch_id"].tolist()
    assert back["XZ"].tolist() == frame["township"].tolist()  # Chinese survives GBK
    assert back["ZT"].tolist() == [STATES[s] for s in frame["state"]]
    assert back["HHMC"].fillna("").tolist() == frame["water_name"].fillna("").tolist()
    aliases = pd.read_excel(exported.aliases, sheet_name="字段对照", dtype=str)
    assert dict(zip(aliases["字段代码"], aliases["字段名称"], strict=True)) == {
        code: COLUMNS[col] for col, code in FIELD_CODES.items()
    }


def test_export_rerun_same_names_and_since_from_previous(exported, demo_ledger):
    from geo.reports.exports import export_ledger

    out = exported.xlsx.parent
    before = sorted(p.name for p in out.iterdir())
    again = export_ledger(demo_ledger, out, as_of="2026-06-30")
    assert again.files == exported.files
    assert sorted(p.name for p in out.iterdir()) == before
    later = export_ledger(demo_ledger, out, as_of="2026-07-07")
    assert later.since == "2026-06-30" and later.new == 0 and later.closed == 0
    for path in later.files:
        path.unlink()
    for part in out.glob("ledger_2026-07-07_gbk.*"):
        part.unlink(missing_ok=True)


def test_export_refuses_while_locked(demo_ledger, tmp_path):
    from geo.errors import ExportLockedError
    from geo.reports.exports import export_ledger, export_lock

    with export_lock(tmp_path), pytest.raises(ExportLockedError, match="lock held"):
        export_ledger(demo_ledger, tmp_path, as_of="2026-06-30")
    assert not list(tmp_path.glob("ledger_*"))
    assert export_ledger(demo_ledger, tmp_path, as_of="2026-06-30").xlsx.exists()


def test_shapefile_value_cut_on_character_and_code_guard(tmp_path, patches):
    import pyogrio

    from geo.errors import SchemaError
    from geo.reports.shapefile import check_field_codes, write_shapefile

    long = patches.copy()
    long["description"] = "a" + "很长的描述" * 60  # odd byte offset: a naive cut splits a character
    path, _ = write_shapefile(long, tmp_path / "p.shp")
    back = pyogrio.read_dataframe(path, encoding="gbk")
    text = back["WTMS"].iloc[0]
    assert len(text.encode("gbk")) <= 254 and "很长的描述".startswith(text[-1])
    with pytest.raises(SchemaError, match="at most 10"):
        check_field_codes({"water_name": "所在河湖名称"})
    with pytest.raises(SchemaError, match="used twice"):
        check_field_codes({"a": "XJHZ", "b": "xjhz"})


def test_sheet_names_valid_and_unique():
    from geo.reports.excel import sheet_name

    assert sheet_name("a/b[c]:d*?") == "a_b_c__d__"
    assert len(sheet_name("镇" * 40)) == 31
    assert sheet_name("汇总", ["汇总"]) == "汇总(2)"


def test_schedule_lines_weekly():
    from geo.reports.timers import schedule_lines

    lines = schedule_lines("/data/led ger.gpkg", out_dir="/srv/out", weekday="mon", time="7:30")
    assert lines["cron"].splitlines() == [
        "CRON_TZ=Asia/Shanghai",
        "30 7 * * 1 mkdir -p /srv/out && hetu export '/data/led ger.gpkg' -o /srv/out"
        " >> /srv/out/export.log 2>&1",
    ]
    assert "Persistent=true" in lines["systemd_timer"]
    assert "OnCalendar=Mon *-*-* 07:30:00 Asia/Shanghai" in lines["systemd_timer"]
    assert "ExecStart=hetu export '/data/led ger.gpkg' -o /srv/out" in lines["systemd_service"]
    assert "/SC WEEKLY /D MON /ST 07:30" in lines["schtasks"]
    with pytest.raises(ValueError, match="HH:MM"):
        schedule_lines("l.gpkg", out_dir="o", time="25:00")


# --- values that are not what the column expects, and any text ---------------------------------


def test_odd_values_kept_as_text(tmp_path, patches):
    odd = patches.copy()
    odd["area_m2"] = odd["area_m2"].astype(object)
    odd.loc[odd.index[0], "area_m2"] = "约1200"
    odd.loc[odd.index[1], "area_m2"] = None
    odd.loc[odd.index[0], "deadline"] = "待定"
    odd.loc[odd.index[1], "state_since"] = "2025-05-01T02:00:00Z"
    sheet = openpyxl.load_workbook(write_ledger_xlsx(odd, tmp_path / "o.xlsx"))[LEDGER]
    assert sheet["K4"].value == "约1200" and sheet["K4"].data_type == "s"
    assert sheet["K5"].value is None and sheet["K6"].value == 1234.57
    assert sheet["P4"].value == "待定"
    assert sheet["O5"].value.isoformat() == "2025-05-01T10:00:00"  # UTC -> Beijing


_TEXT = st.text(st.characters(categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=30)


@settings(max_examples=15, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=6))
def test_any_text_round_trips_as_text(tmp_path_factory, texts):
    rows = [
        _patch(i, "issued", "清溪镇", "009999001", description=t, segment_name=t)
        for i, t in enumerate(texts)
    ]
    frame = gpd.GeoDataFrame(rows, crs="EPSG:4490")
    out = write_ledger_xlsx(frame, tmp_path_factory.mktemp("h") / "t.xlsx")
    sheet = openpyxl.load_workbook(out)[LEDGER]
    for row, text in enumerate(texts, start=4):
        for col in (9, 21):  # 河段名称, 问题描述
            cell = sheet.cell(row=row, column=col)
            assert cell.data_type == "s"
            assert cell.value == text


# --- the set is written together (issue 15.5): a killed, interrupted or failed run ------------

_DAY = "2026-06-30"


def _hetu(settings, *args):
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "hetu"
    command = [exe, "--settings", settings, *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _export(settings, led, out):
    """One run in this process (the library call ``hetu export`` makes)."""
    from geo.ledger.store import Ledger
    from geo.reports.exports import export_ledger
    from geo.settings import load_settings

    with Ledger(led, settings=load_settings(settings)) as ledger:
        return export_ledger(ledger, out, as_of=_DAY, log_file=out / "hetu-export.log")


def _staging(out):
    """The staging folders of ``out``: beside it, or inside it."""
    prefix = f".{out.name}.hetu-export-"
    return [p for place in (out.parent, out) for p in place.iterdir() if p.name.startswith(prefix)]


def _set(out):
    """The files of the dated set in ``out``, with their content hashes."""
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.glob("ledger_*")}


def _started_writing(proc, out):
    """Wait until the run has written a file into its staging folder; return the folder."""
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for folder in _staging(out):
            if any(folder.iterdir()):
                return folder
        assert proc.poll() is None, "the export ended before it could be stopped"
        time.sleep(0.002)
    raise AssertionError("the export wrote nothing into a staging folder")


@pytest.fixture
def old_set(demo_copy, demo_run, tmp_path):
    """A ledger, its settings, the folder with one run's set, and that set's hashes.

    The ledger then moves one patch on, so that a new run's set differs from the old."""
    settings, out = demo_run.data.settings, tmp_path / "exports"
    _export(settings, demo_copy, out)
    old = _set(out)
    from geo.ledger.store import Ledger

    with Ledger(demo_copy) as led:
        frame = led.status_frame()
        pid = frame.loc[frame["state"] == "issued", "patch_id"].iloc[0]
        led.transition(pid, "verifying", actor="核查员", at="2026-06-29T10:00")
    return demo_copy, settings, out, old


def test_a_killed_export_leaves_the_old_set_and_the_next_run_cleans_up(old_set):
    import signal

    led, settings, out, old = old_set
    assert len(old) == 9  # xlsx, csv, gpkg, the shapefile's five parts, the field codes
    proc = _hetu(settings, "export", led, "-o", out, "--as-of", _DAY)
    staging = _started_writing(proc, out)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert _set(out) == old  # the old set whole: nothing of the new run in the folder
    assert {p.name for p in out.iterdir()} == set(old) | {".hetu-export.lock", "hetu-export.log"}
    assert _staging(out) == [staging] and staging.parent == out.parent  # left by the kill
    assert _export(settings, led, out).rows == 108  # 96 patches, the 12 cases of 12345 and 暗访
    new = _set(out)
    assert _staging(out) == []  # the next run removed it
    assert set(new) == set(old) and new[f"ledger_{_DAY}.csv"] != old[f"ledger_{_DAY}.csv"]
    assert {p.name for p in out.iterdir()} == set(new) | {".hetu-export.lock", "hetu-export.log"}


def test_ctrl_c_during_an_export_is_one_line_exit_130_and_leaves_the_old_set(old_set):
    import signal

    led, settings, out, old = old_set
    proc = _hetu(settings, "export", led, "-o", out, "--as-of", _DAY)
    _started_writing(proc, out)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate()
    assert proc.returncode == 130
    assert stderr.splitlines() == [f"hetu export（台账 {led}，输出 {out}）：已中断（Ctrl+C）"]
    assert _set(out) == old and _staging(out) == []


def test_a_failed_export_leaves_the_old_set_and_no_temporary_file(old_set, tmp_path):
    from click.testing import CliRunner
    from test_province import make_template

    from geo.cli.main import cli

    led, settings, out, old = old_set
    cmap = tmp_path / "columns.toml"
    cmap.write_text('[columns]\n"不存在的列" = "patch_id"\n', encoding="utf-8")
    template = make_template(tmp_path / "模板.xlsx")
    args = ["--settings", settings, "export", led, "-o", out, "--as-of", _DAY,
            "--template", template, "--column-map", cmap]  # fmt: skip
    failed = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert failed.exit_code == 1 and "不存在的列" in failed.stderr
    assert len(failed.stderr.splitlines()) == 1
    assert _set(out) == old and _staging(out) == []
    assert {p.name for p in out.iterdir()} == set(old) | {".hetu-export.lock", "hetu-export.log"}


def test_a_run_killed_while_renaming_its_finished_set_is_completed_by_the_next(
    demo_ledger, tmp_path
):
    from geo.reports.exports import export_ledger

    finished = export_ledger(demo_ledger, tmp_path / "elsewhere", as_of=_DAY)
    out = tmp_path / "exports"
    out.mkdir()
    staging = tmp_path / ".exports.hetu-export-killed"  # as a run killed while renaming
    staging.mkdir()
    for path in finished.xlsx.parent.glob("ledger_*"):
        path.rename(staging / path.name)
    (staging / ".complete").write_text("every file written", encoding="utf-8")
    (out / f"ledger_{_DAY}.csv").write_bytes(b"moved before the kill")
    dropped = tmp_path / ".exports.hetu-export-unfinished"  # killed while writing
    dropped.mkdir()
    (dropped / f"ledger_{_DAY}.xlsx").write_bytes(b"half")
    kept = {p.name: p.read_bytes() for p in staging.iterdir() if p.name.startswith("ledger_")}
    later = export_ledger(demo_ledger, out, as_of="2026-07-07")
    assert _staging(out) == []
    assert {p.name: p.read_bytes() for p in out.glob(f"ledger_{_DAY}*")} == kept
    assert later.since == _DAY  # the completed set counts as the previous export
