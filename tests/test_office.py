"""The office's settings stored with the ledger, and townships (issues 16.3, 16.4).

A small county built in code: two segments in 清溪镇 (439999001), one in 白沙乡
(439999002); a 乡镇界 layer with 龙泉镇 (439999003, a township the settings do not
name) and its village 龙泉村; four patches: TB1 on a 清溪镇 segment without a code,
TB2 coded 白沙乡 but on a 清溪镇 segment (a conflict), TB3 on no segment without a
code but inside 龙泉村, TB4 on nothing at all.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook

from geo.cli.main import cli
from geo.clock import now
from geo.labels import COLUMNS, TEXT
from geo.ledger.store import Ledger

X0, Y0 = 500_000.0, 3_098_000.0
OFFICE = "测试县河长办"
SETTINGS = f"""[office]
name = "{OFFICE}"
central_meridian = 114

[townships]
"439999001" = "清溪镇"
"439999002" = "白沙乡"

[lifecycle]
rectify_days = 10

[lifecycle.evidence]
dismissed = []

[calendar]
count = "calendar"

[map]
basemap = "none"
"""
UNPLACED = TEXT["no_township"]
HETU = Path(sys.executable).parent / "hetu"


def run(*args, code=0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def box(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


@pytest.fixture
def office(tmp_path, monkeypatch):
    """The office folder: hetu.toml, ranges, patches, boundaries; no HETU_SETTINGS."""
    monkeypatch.delenv("HETU_SETTINGS", raising=False)
    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "hetu.toml").write_text(SETTINGS, encoding="utf-8")
    gpd.GeoDataFrame(
        {"河段编码": ["439999000001", "439999000002"], "范围编号": ["R1", "R2"],
         "河湖名称": ["清溪河", "白沙河"], "行政区划代码": ["439999001", "439999002001"]},
        geometry=[box(0, 0, 500, 100), box(1000, 0, 500, 100)], crs=4547,
    ).to_file(folder / "ranges.gpkg")  # fmt: skip
    gpd.GeoDataFrame(
        {"TBBH": ["TB1", "TB2", "TB3", "TB4"], "WTLX": ["3", "4", "1", "2"],
         "XZQDM": [None, "439999002003", None, None]},
        geometry=[box(10, 10, 40, 40), box(100, 10, 40, 40), box(5000, 10, 40, 40),
                  box(9000, 10, 40, 40)], crs=4547,
    ).to_file(folder / "patches.gpkg")  # fmt: skip
    gpd.GeoDataFrame(
        {"XZQDM": ["439999003000", "439999003001"], "XZQMC": ["龙泉镇", "龙泉村"]},
        geometry=[box(4000, -1000, 2000, 2000), box(4500, -500, 1000, 1000)], crs=4547,
    ).to_file(folder / "乡镇界.gpkg")  # fmt: skip
    return folder


def _ledger(office: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``hetu init --settings`` in the office folder, then ranges, patches, boundaries, match."""
    monkeypatch.chdir(office)
    led = office / "ledger.gpkg"
    out = run("init", led, "--settings", "hetu.toml").output
    assert "办公室设置第 1 版已存入" in out
    run("ingest", led, "ranges", "ranges.gpkg")
    run("ingest", led, "patches", "patches.gpkg", "--batch", "2025-Q3", "--issued-on", "2025-08-01")
    run("ingest", led, "admin", "乡镇界.gpkg")
    return led


# -- 16.3: the settings live with the ledger ------------------------------------------------------


def test_settings_stored_at_init_follow_the_ledger_to_any_folder(office, tmp_path, monkeypatch):
    led = _ledger(office, monkeypatch)
    run("match", led)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(home)  # the cron job's folder: no hetu.toml here
    for state, at in (("verifying", "2025-08-05"), ("confirmed", "2025-08-10"),
                      ("rectifying", "2025-08-20")):  # fmt: skip
        run("transition", led, "TB1", "--to", state, "--actor", "核查员", "--at", f"{at}T10:00")
    run("transition", led, "TB2", "--to", "verifying", "--actor", "核查员", "--at", "2025-08-05")
    # the stored evidence rules: no evidence needed for 不是问题 (the default asks a permit)
    run("transition", led, "TB2", "--to", "dismissed", "--actor", "核查员", "--at", "2025-08-06")
    exported = run("export", led, "-o", "exp", "--as-of", "2025-09-01")
    assert "警告" not in exported.output  # nothing fell back to defaults
    csv = pd.read_csv(home / "exp" / "ledger_2025-09-01.csv", dtype=str, encoding="utf-8-sig")
    row = csv.set_index(COLUMNS["patch_id"]).loc["TB1"]
    assert row[COLUMNS["township"]] == "清溪镇"  # a name, not 439999001
    # set at 认定 (08-10) and kept into 整改: 10 calendar days, not 30 working days
    assert row[COLUMNS["deadline"]] == "2025-08-20"
    book = load_workbook(home / "exp" / "ledger_2025-09-01.xlsx", read_only=True)
    title = next(book[TEXT["summary"]].iter_rows(max_row=1, values_only=True))[0]
    assert title.startswith(OFFICE)
    # --settings overrides the stored ones for one command: there the defaults' name
    other = home / "other.toml"
    other.write_text('[office]\nname = "另一个办公室"\n', encoding="utf-8")
    run("--settings", other, "export", led, "-o", "exp2", "--as-of", "2025-09-01")
    book = load_workbook(home / "exp2" / "ledger_2025-09-01.xlsx", read_only=True)
    assert next(book[TEXT["summary"]].iter_rows(max_row=1, values_only=True))[0].startswith(
        "另一个办公室"
    )


def test_settings_show_set_history_and_what_is_refused(office, tmp_path, monkeypatch):
    led = _ledger(office, monkeypatch)
    shown = run("settings", led, "--show").output
    assert "# v1 " in shown and str(office / "hetu.toml") in shown and SETTINGS.strip() in shown
    typo = office / "typo.toml"
    typo.write_text("[surveys]\nwitin_m = 10\n", encoding="utf-8")
    bad = run("settings", led, "--set", typo, code=1)
    assert "witin_m" in bad.output and "within_m" in bad.output
    missing = office / "tpl.toml"
    missing.write_text('[escalation]\ntemplate = "tpl/通知.html.j2"\n', encoding="utf-8")
    bad = run("settings", led, "--set", missing, code=1)
    assert "[escalation] template" in bad.output and "does not exist" in bad.output
    (office / "tpl").mkdir()
    (office / "tpl" / "通知.html.j2").write_text("{{ title }}", encoding="utf-8")
    assert "第 2 版" in run("settings", led, "--set", missing).output
    assert "未新增版本" in run("settings", led, "--set", missing).output  # the same: no v3
    history = run("settings", led, "--history").output.strip().splitlines()
    assert [h.split()[0] for h in history] == ["v1", "v2"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with Ledger(led) as ledger:  # relative paths count from the folder it was stored from
        assert ledger.settings.notice_template == str(office / "tpl" / "通知.html.j2")
        assert ledger.settings_record().version == 2
    # a ./hetu.toml that differs from the stored settings is named, and not used
    (elsewhere / "hetu.toml").write_text('[office]\nname = "别处"\n', encoding="utf-8")
    warned = run("status", led)
    assert "与" in warned.stderr and "第 2 版" in warned.stderr and "未使用" in warned.stderr


def test_a_ledger_without_stored_settings_says_what_it_uses(tmp_path, monkeypatch):
    monkeypatch.delenv("HETU_SETTINGS", raising=False)
    monkeypatch.chdir(tmp_path)
    led = tmp_path / "bare.gpkg"
    assert "未存储办公室设置" in run("init", led).stderr
    assert "默认设置" in run("status", led).stderr


def test_schedule_runs_this_hetu_in_this_folder_and_equals_the_manual_run(
    office, tmp_path, monkeypatch
):
    led = _ledger(office, monkeypatch)
    lines = run("schedule", led, "-o", office / "exp").output
    job = next(ln for ln in lines.splitlines() if ln[:1].isdigit())
    python = os.path.abspath(sys.executable)
    assert f"cd {office} && {python} -m geo.cli export" in job and Path(python).is_file()
    assert job.split()[5:8] == ["mkdir", "-p", str(office / "exp")]  # the log's folder first
    assert f"WorkingDirectory={office}\n" in lines
    assert f'cd /d \\"{office}\\" && \\"{python}\\"' in lines  # schtasks
    done = subprocess.run([HETU, "schedule", led, "-o", office / "exp"], cwd=office,
                          capture_output=True, text=True, check=True)  # fmt: skip
    job = next(ln for ln in done.stdout.splitlines() if ln[:1].isdigit())
    assert f"cd {office} && {HETU.resolve()} export {led} -o {office / 'exp'}" in job
    # the job, run by a shell from elsewhere with a scheduler's bare environment
    cron_home = tmp_path / "cron"
    cron_home.mkdir()
    command = job.split(" ", 5)[5]  # without the five time fields
    subprocess.run(["sh", "-c", command], cwd=cron_home, check=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(cron_home)})  # fmt: skip
    written = office / "exp" / f"ledger_{now().date().isoformat()}.xlsx"
    book = load_workbook(written, read_only=True)
    assert next(book[TEXT["summary"]].iter_rows(max_row=1, values_only=True))[0].startswith(OFFICE)
    log = [json.loads(ln) for ln in (office / "exp" / "hetu-export.log").read_text().splitlines()]
    assert log[-1]["status"] == "ok"


# -- 16.4: townships ---------------------------------------------------------------------------


def test_townships_from_code_segment_or_boundary_and_conflicts(office, monkeypatch):
    led = _ledger(office, monkeypatch)
    out = run("match", led).output
    assert f"{COLUMNS['township_check']} conflicts: 1" in out
    assert "TB2 439999000001: 图斑属白沙乡，河段属清溪镇" in out
    run("match", led, "--conflicts", office / "conflicts.csv")
    listed = pd.read_csv(office / "conflicts.csv", dtype=str, encoding="utf-8-sig")
    assert list(listed[COLUMNS["patch_id"]]) == ["TB2"]
    with Ledger(led) as ledger:
        frame = ledger.status_frame().set_index("patch_id")
        placed = ledger.placements().set_index("patch_id")
    assert frame.loc["TB1", "township"] == "清溪镇"  # from its segment
    assert frame.loc["TB2", "township"] == "白沙乡"  # its own code wins, and is flagged
    assert frame.loc["TB3", "township"] == "龙泉镇"  # the boundary, named by the boundary file
    assert placed.loc["TB3", "admin_code"] == "439999003001"  # the village, inside the township
    assert frame.loc["TB4", "township"] == UNPLACED
    assert list(frame["township_check"].ne("")) == [False, True, False, False]


def test_no_nan_township_on_the_map_sheets_tasks_or_assessment(office, tmp_path, monkeypatch):
    led = _ledger(office, monkeypatch)
    run("match", led)
    html = tmp_path / "map.html"
    run("map", led, "-o", html, "--as-of", "2025-09-01")
    text = html.read_text(encoding="utf-8")
    assert UNPLACED in text and "龙泉镇" in text
    assert '"nan"' not in text and ">nan<" not in text
    run("export", led, "-o", tmp_path / "exp", "--as-of", "2025-09-01")
    book = load_workbook(tmp_path / "exp" / "ledger_2025-09-01.xlsx", read_only=True)
    assert "nan" not in book.sheetnames
    assert {"清溪镇", "白沙乡", "龙泉镇", UNPLACED} <= set(book.sheetnames)
    assert book.sheetnames[-1] == UNPLACED  # the unplaced come last
    rows = list(book[TEXT["ledger_sheet"]].iter_rows(min_row=3, values_only=True))
    check = rows[0].index(COLUMNS["township_check"])
    assert {r[1]: r[check] for r in rows[1:]}["TB2"] == "图斑属白沙乡，河段属清溪镇"
    run("tasks", led, "-o", tmp_path / "tasks")
    folders = {p.name for p in (tmp_path / "tasks").iterdir()}
    assert folders == {"清溪镇", "白沙乡", "龙泉镇", UNPLACED}
    out = run("assess", led, "--quarter", "2025Q3", "--as-of", "2025-09-30").output
    assert "nan" not in out
    lines = out.splitlines()
    assert UNPLACED in lines[-1] and lines[-1].split()[0] == "-"  # listed, never ranked
    assert {ln.split()[0] for ln in lines[1:-1]} <= {"1", "2", "3"}


def test_admin_boundaries_refuse_bad_codes_with_the_row(office, monkeypatch):
    led = _ledger(office, monkeypatch)
    gpd.GeoDataFrame(
        {"XZQDM": ["439999004", "4399"], "XZQMC": ["新镇", "县"]},
        geometry=[box(0, 0, 10, 10), box(0, 0, 20, 20)], crs=4547,
    ).to_file(office / "bad.gpkg")  # fmt: skip
    bad = run("ingest", led, "admin", office / "bad.gpkg", code=1)
    assert "row 2" in bad.output and "XZQDM" in bad.output and "'4399'" in bad.output
    again = run("ingest", led, "admin", office / "乡镇界.gpkg").output
    assert "nothing changed" in again


def test_settings_versions_are_append_only_on_both_backends(location, office):
    from conftest import raw_sql

    with Ledger.create(location) as led:
        assert led.store_settings(office / "hetu.toml", actor="办公室") == 1
    with Ledger(location) as led:  # reopened without settings: the stored ones
        assert led.settings.office_name == OFFICE and led.settings.calendar is None
        assert list(led.settings_versions()["actor"]) == ["办公室"]
    for sql in ("UPDATE office_settings SET text = 'x'", "DELETE FROM office_settings"):
        with pytest.raises(Exception, match="append-only"):
            raw_sql(location, sql)


def test_chiefs_as_of_a_day_are_those_serving_and_listed_then(office, tmp_path, monkeypatch):
    led = _ledger(office, monkeypatch)
    head = "河段编码,姓名,级别,职务,任期开始\n"
    (office / "河长1.csv").write_text(
        head + "439999000001,张三,村级,村支书,2020-01-01\n"
        "439999000001,王五,县级,副县长,2026-01-01\n",
        encoding="utf-8",
    )
    (office / "河长2.csv").write_text(head + "439999000001,李四,村级,村主任,\n", encoding="utf-8")
    run("ingest", led, "chiefs", "河长1.csv")
    run("ingest", led, "chiefs", "河长2.csv")  # a later list: 李四 replaces 张三 on the segment
    run("match", led)
    chiefs = {}
    for day in ("2025-09-01", "2026-04-30"):
        run("export", led, "-o", tmp_path / day, "--as-of", day)
        csv = pd.read_csv(tmp_path / day / f"ledger_{day}.csv", dtype=str, encoding="utf-8-sig")
        row = csv.set_index(COLUMNS["patch_id"]).loc["TB1"].fillna("")
        chiefs[day] = (row[COLUMNS["chief_village"]], row[COLUMNS["chief_county"]])
    assert chiefs["2025-09-01"] == ("李四（村主任）", "")  # 王五's term began in 2026
    assert chiefs["2026-04-30"] == ("李四（村主任）", "王五（副县长）")
