import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from geo.cli.main import cli

X0, Y0 = 500_000.0, 3_098_000.0
SETTINGS = '[office]\nname = "测试县河长办"\ncentral_meridian = 114\n[map]\nbasemap = "none"\n'


@pytest.fixture
def office(tmp_path):
    """A settings file, a ranges GeoPackage and a GBK patch shapefile without .cpg/.prj."""
    (tmp_path / "hetu.toml").write_text(SETTINGS, encoding="utf-8")
    segs = gpd.GeoDataFrame(
        {"河段编码": ["439999000001"], "范围编号": ["R1"], "河湖名称": ["清溪河"]},
        geometry=[shapely.box(X0, Y0, X0 + 500, Y0 + 100)],
        crs=4547,
    )
    segs.to_file(tmp_path / "ranges.gpkg")
    patches = gpd.GeoDataFrame(
        {"TBBH": ["TB1", "TB2"], "WTLX": ["3", "4"], "问题描述": ["堆放", "<b>建</b>"]},
        geometry=[
            shapely.box(X0 + 10, Y0 + 10, X0 + 50, Y0 + 50),
            shapely.box(X0, Y0, X0 + 9, Y0 + 9),
        ],
        crs=4547,
    )
    shp = tmp_path / "batch.shp"
    patches.to_file(shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    shp.with_suffix(".prj").unlink()
    return tmp_path


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result


def test_every_command_has_help():
    assert len(cli.commands) >= 8
    for name, command in cli.commands.items():
        assert command.help and len(command.help) > 20, name
        text = run(name, "--help").output
        assert "Usage: " in text and command.help.split()[0] in text


def test_the_whole_flow(office):
    s, led = office / "hetu.toml", office / "ledger.gpkg"
    assert "created" in run("--settings", s, "init", led).output
    run("--settings", s, "ingest", led, "ranges", office / "ranges.gpkg")
    batch = ["--batch", "2025-Q3", "--issued-on", "2025-08-01"]  # issued before the as-of below
    out = run("--settings", s, "ingest", led, "patches", office / "batch.shp", *batch)
    assert "2 read, 2 kept, 0 quarantined" in out.output and "EPSG:4547" in out.output
    again = run("--settings", s, "ingest", led, "patches", office / "batch.shp", *batch)
    assert "nothing changed" in again.output
    matched = run(
        "--settings", s, "match", led, "--gaps", office / "gaps.csv", "--chain", office / "c.xlsx"
    )
    assert "inside: 2" in matched.output
    assert (office / "gaps.csv").is_file() and (office / "c.xlsx").is_file()
    counts = json.loads(run("--settings", s, "status", led, "--json").output)
    assert counts["issued"] == 2 and counts["closed"] == 0
    run("--settings", s, "transition", led, "TB1", "--to", "verifying", "--actor", "测试")
    bad = run("--settings", s, "transition", led, "TB1", "--to", "closed", "--actor", "t", ok=False)
    assert bad.exit_code == 1 and "allowed from verifying" in bad.output
    assert "Traceback" not in bad.output and len(bad.output.strip().splitlines()) == 1
    html = office / "map.html"
    run("--settings", s, "map", led, "-o", html, "--as-of", "2025-09-01")
    text = html.read_text(encoding="utf-8")
    assert "TB1" in text and "<b>建</b>" not in text
    run("--settings", s, "export", led, "-o", office / "exports", "--as-of", "2025-09-01")
    exported = {p.name for p in (office / "exports").iterdir()}
    assert {"ledger_2025-09-01.xlsx", "ledger_2025-09-01.csv", "ledger_2025-09-01.gpkg"} <= exported
    assert "ledger_2025-09-01_gbk.shp" in exported and "ledger_2025-09-01_gbk.cpg" in exported
    lines = run("schedule", led, "-o", office / "exports", "--weekday", "FRI").output
    assert "CRON_TZ=Asia/Shanghai" in lines and "Persistent=true" in lines and "/D FRI" in lines


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["status", "missing.gpkg"], "no ledger at"),
        (["--settings", "nope.toml", "status", "x.gpkg"], "not found"),
    ],
)
def test_errors_are_one_line(tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    result = run(*args, ok=False)
    assert result.exit_code == 1 and words in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_debug_prints_the_traceback_before_the_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("--debug", "status", "missing.gpkg", ok=False)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Traceback") and "LedgerError" in result.stderr
    assert lines[-1].startswith("Error: ") and "no ledger at" in lines[-1]


def test_library_log_reaches_stderr_by_level(office):
    """The GBK shapefile export logs a warning when characters are lost: shown, one line."""
    s, led = office / "hetu.toml", office / "ledger.gpkg"
    run("--settings", s, "init", led)
    drop = gpd.GeoDataFrame(
        {"TBBH": ["TB9"], "WTLX": ["3"], "问题描述": ["堆放💧"]},
        geometry=[shapely.box(X0 + 10, Y0 + 10, X0 + 50, Y0 + 50)],
        crs=4547,
    )
    drop.to_file(office / "emoji.gpkg")
    issued = ["--issued-on", "2025-08-01"]  # issued before the export's as-of day
    run("--settings", s, "ingest", led, "patches", office / "emoji.gpkg", *issued)
    export = ["export", led, "-o", office / "exports", "--as-of", "2025-09-01"]
    warned = run("--settings", s, *export)
    assert warned.stderr.splitlines() == [
        "警告: shapefile: 1 value(s) had characters GBK cannot hold"
    ]
    assert "警告" not in warned.stdout
    assert run("--settings", s, "-q", *export).stderr == ""
    told = run("--settings", s, "-v", *export).stderr
    assert "信息: export 2025-09-01: 1 patches into" in told and "警告: shapefile" in told
    assert '"status": "ok"' not in told  # the run record goes to the export's log file only
    assert run("-v", "-q", "status", led, ok=False).exit_code == 2


def test_library_warnings_warn_reaches_the_terminal(office):
    """A ``warnings.warn`` of the library (a deadline in a year without holidays) is one line."""
    s, led = office / "hetu.toml", office / "ledger.gpkg"
    run("--settings", s, "init", led)
    run("--settings", s, "ingest", led, "patches", office / "batch.shp", "--batch", "b",
        "--issued-on", "2003-03-01")  # fmt: skip
    for pid in ("TB1", "TB2"):  # 2003: before the chinese-calendar package's years
        run("--settings", s, "transition", led, pid, "--to", "verifying", "--actor", "t",
            "--at", "2003-03-03T10:00")  # fmt: skip
    exe = Path(sys.executable).parent / "hetu"
    rectify = ["transition", led, "--to", "confirmed", "--actor", "t", "--at", "2003-03-04T10:00"]
    out = subprocess.run([exe, "--settings", s, *rectify, "TB1"], capture_output=True, text=True)
    assert out.returncode == 0 and "now confirmed" in out.stdout  # the 整改期限 is set at 认定
    assert out.stderr.splitlines() == [
        "警告: no holiday arrangement known for 2003: counted Monday–Friday; "
        "add the State Council's 2003 notice to [calendar] in hetu.toml"
    ]
    quiet = subprocess.run(
        [exe, "-q", "--settings", s, *rectify, "TB2"], capture_output=True, text=True
    )
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_help_loads_no_data_library_and_no_progress_bar():
    code = (
        "import sys; from geo.cli import cli; "
        "cli.main(['--help'], prog_name='hetu', standalone_mode=False); "
        "print(sorted(m for m in ('pandas', 'geopandas', 'shapely', 'tqdm') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: hetu" in out.stdout and out.stdout.strip().splitlines()[-1] == "[]"


def test_ingest_error_names_the_file(office):
    s, led = office / "hetu.toml", office / "ledger.gpkg"
    run("--settings", s, "init", led)
    bad = office / "nothing.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=[shapely.box(X0, Y0, X0 + 1, Y0 + 1)], crs=4547).to_file(
        bad
    )
    result = run("--settings", s, "ingest", led, "patches", bad, ok=False)
    assert "nothing.gpkg" in result.output and "TBBH" in result.output


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "hetu"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert "hetu" in out.stdout


def test_field_round_trip_from_the_command_line(demo_run, tmp_path):
    import shutil

    import openpyxl

    led = tmp_path / "ledger.gpkg"
    shutil.copy(demo_run.ledger, led)
    s = demo_run.data.settings
    out = run("--settings", s, "tasks", led, "-o", tmp_path / "tasks", "--as-of", "2026-04-30")
    sheets = sorted((tmp_path / "tasks").rglob("*.xlsx"))
    assert len(out.output.strip().splitlines()) == len(sheets) >= 2
    book = openpyxl.load_workbook(sheets[0])
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    col = {name: i + 1 for i, name in enumerate(header)}
    r = next(i for i in range(2, ws.max_row + 1) if ws.cell(i, col["当前状态"]).value == "已下发")
    ws.cell(r, col["目标状态"]).value = "已销号"  # not reachable from 已下发: refused
    ws.cell(r, col["填报人"]).value = "巡查员"
    book.save(sheets[0])
    bad = run("--settings", s, "apply", led, sheets[0], ok=False)
    assert bad.exit_code == 1 and "nothing applied" in bad.output
    assert list(sheets[0].parent.glob("*退回*.xlsx"))
    ws.cell(r, col["目标状态"]).value = "核查中"
    book.save(sheets[0])
    assert "applied 1 row(s)" in run("--settings", s, "apply", led, sheets[0]).output


def test_escalate_twice_issues_once(demo_run, demo_copy, tmp_path):
    led = demo_copy  # with its evidence store: hetu verify checks the files too
    s, out = demo_run.data.settings, tmp_path / "notices"
    first = run("--settings", s, "escalate", led, "--as-of", "2026-05-15", "-o", out, "--no-pdf")
    assert "events" in first.output and sorted(out.glob("*.html"))
    files = sorted(out.glob("*.html"))
    again = run("--settings", s, "escalate", led, "--as-of", "2026-05-15", "-o", out, "--no-pdf")
    assert "nothing due" in again.output and sorted(out.glob("*.html")) == files
    assert "history intact" in run("--settings", s, "verify", led).output


def test_imagery_from_the_command_line(demo_run, tmp_path):
    import shutil

    led = tmp_path / "ledger.gpkg"
    shutil.copy(demo_run.ledger, led)
    after = sorted((demo_run.data.settings.parent / "imagery").glob("*after*.tif"))
    out = run("--settings", demo_run.data.settings, "imagery", led, "--after", after[0])
    assert "正常 104" in out.output and "2026-04-12" in out.output
    bad = run("imagery", led, "--after", after[0], "--bands", "red=x", ok=False)
    assert bad.exit_code == 2 and "integers" in bad.output


def test_match_links_recurrences_on_the_demo(demo_run, tmp_path):
    import shutil

    led = tmp_path / "ledger.gpkg"
    shutil.copy(demo_run.ledger, led)
    out = run("--settings", demo_run.data.settings, "match", led, "--findings", tmp_path / "f.csv")
    assert "recurrence: 8" in out.output
    assert (tmp_path / "f.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it


def test_coverage_and_patrols_from_the_command_line(demo_run, tmp_path):
    s, led = demo_run.data.settings, demo_run.ledger
    out = run("--settings", s, "coverage", led, "-o", tmp_path / "banks.gpkg")
    assert "清溪镇" in out.output and "km" in out.output
    banks = pyogrio.read_dataframe(tmp_path / "banks.gpkg")
    assert banks["covered"].any() and (~banks["covered"].astype(bool)).any()
    out = run("--settings", s, "patrols", led, "--from", "2025-10-01", "--to", "2025-10-31")
    assert "村级" in out.output and "未达标人数" in out.output


# -- no traceback, ever: unexpected errors, Ctrl+C, closed pipes (issue 15.6) --------------


def _app():
    """A group of Hetu's kind (geo.cli.common.Group) with commands that fail as bugs do."""
    import click

    from geo.cli.common import Group

    @click.group(cls=Group)
    @click.option("--debug", is_flag=True)
    @click.pass_context
    def app(ctx, debug):
        ctx.obj = {"debug": debug}

    @app.command()
    @click.argument("ledger")
    @click.option("-o", "--output")
    def crash(ledger, output):
        json.loads(Path(ledger).read_text(encoding="utf-8"))  # not JSON: a bare ValueError

    @app.command()
    @click.argument("files", nargs=-1)
    def stop(files):
        raise KeyboardInterrupt  # what Ctrl+C raises wherever Python is

    return app


def test_an_unexpected_error_is_one_line_naming_the_command_and_its_files(tmp_path):
    ledger = tmp_path / "county.gpkg"
    ledger.write_text("not json", encoding="utf-8")
    result = CliRunner().invoke(_app(), ["crash", str(ledger), "-o", "out.xlsx"])
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: hetu crash（台账 ") and str(ledger) in line
    assert "输出 out.xlsx" in line and "JSONDecodeError: Expecting value" in line
    assert "--debug" in line and "Traceback" not in result.stderr
    debug = CliRunner().invoke(_app(), ["--debug", "crash", str(ledger)])
    lines = debug.stderr.strip().splitlines()
    assert debug.exit_code == 1 and lines[0] == "Traceback (most recent call last):"
    assert "json.decoder.JSONDecodeError" in debug.stderr and lines[-1].startswith("Error: hetu")


def test_a_damaged_ledger_is_one_line_too(office):
    """A real unexpected case: the ledger's state view dropped behind Hetu's back."""
    import sqlite3

    s, led = office / "hetu.toml", office / "ledger.gpkg"
    run("--settings", s, "init", led)
    with sqlite3.connect(led) as conn:
        conn.execute("DROP VIEW patch_state")
    exe = Path(sys.executable).parent / "hetu"
    out = subprocess.run([exe, "--settings", s, "status", led], capture_output=True, text=True)
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr
    assert len(out.stderr.splitlines()) == 1 and str(led) in out.stderr


def test_ctrl_c_is_one_line_and_exit_130():
    result = CliRunner().invoke(_app(), ["stop", "a.gpkg", "b.gpkg", "c.gpkg"])
    assert result.exit_code == 130
    assert result.stderr == "hetu stop（文件 a.gpkg，b.gpkg 等 1 个）：已中断（Ctrl+C）\n"


def _pipe(command: str, cwd: Path) -> tuple[str, str, int]:
    """Run ``command`` in bash; return its stdout, stderr and the exit code of hetu (first)."""
    exe = Path(sys.executable).parent / "hetu"
    script = f'{command.replace("hetu", str(exe), 1)}; exit "${{PIPESTATUS[0]}}"'
    out = subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True)
    return out.stdout, out.stderr, out.returncode


def test_a_closed_pipe_is_silent_with_exit_0(office):
    s, led = office / "hetu.toml", office / "ledger.gpkg"
    run("--settings", s, "init", led)
    run("--settings", s, "ingest", led, "patches", office / "batch.shp", "--batch", "b")
    first, err, code = _pipe(f"hetu --settings {s} status {led} | head -1", office)
    assert (first.split(), err, code) == (["已下发", "issued", "2"], "", 0)
    head, err, code = _pipe(f"hetu --settings {s} status --json {led} | head -c 10", office)
    assert (head, err, code) == ('{"issued":', "", 0)
    # the reader gone before hetu writes a byte: a broken pipe for certain
    out, err, code = _pipe(f"hetu --settings {s} status {led} | (exec 0<&-; sleep 0)", office)
    assert (out, err, code) == ("", "", 0)


# -- lifecycle smalls (issue 16.8) -------------------------------------------------------------


def _patch_centre(pid: str, office: Path) -> tuple[float, float]:
    patches = gpd.read_file(office / "batch.shp").set_crs(4547, allow_override=True)
    centre = patches.to_crs(4490).set_index("TBBH").geometry[pid].centroid
    return centre.x, centre.y


def test_transition_takes_chinese_state_names_and_checks_after_photos(office):
    """已销号 as the CLI prints it; a PDF is no photo; far after-photos warn, or refuse."""
    import datetime as dt

    from geo.demo.county import write_photo
    from geo.labels import STATES

    s, led = office / "hetu.toml", office / "ledger.gpkg"
    refuse = office / "refuse.toml"
    refuse.write_text(SETTINGS + '[evidence]\nfar_photo = "refuse"\n', encoding="utf-8")
    run("--settings", s, "init", led)
    run("--settings", s, "ingest", led, "patches", office / "batch.shp", "--batch", "b")
    steps = {"核查中": "verifying", "confirmed": "confirmed", "整改中": "rectifying",
             STATES["rectified"]: "rectified"}  # fmt: skip
    for pid in ("TB1", "TB2"):
        for name, state in steps.items():  # Chinese names as printed, and the ids
            out = run("--settings", s, "transition", led, pid, "--to", name, "--actor", "测试")
            assert out.stdout == f"1 patch(es) now {state} ({STATES[state]})\n"
    bad = run("--settings", s, "transition", led, "TB1", "--to", "差不多", "--actor", "t", ok=False)
    assert bad.exit_code == 2 and "已销号 (closed)" in bad.output
    scan = office / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    attach = ["--settings", s, "attach", led]
    refused = run(*attach, "TB1", scan, "--kind", "photo_after", "--actor", "t", ok=False)
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    assert "scan.pdf" in refused.output and "photo_after must be a photo" in refused.output
    assert "--kind permit" in refused.output
    run(*attach, "TB1", scan, "--kind", "permit", "--actor", "t")  # a permit may be a PDF
    taken = dt.datetime.now() - dt.timedelta(hours=1)
    for pid in ("TB1", "TB2"):
        lon, lat = _patch_centre(pid, office)
        near = write_photo(office / f"{pid}前.jpg", lon=lon, lat=lat, taken=taken)
        far = write_photo(office / f"{pid}后.jpg", lon=lon + 0.01, lat=lat, taken=taken, tint=9)
        run(*attach, pid, near, "--kind", "photo_before", "--actor", "t")
        assert "gps=far" in run(*attach, pid, far, "--kind", "photo_after", "--actor", "t").output
    closed = run("--settings", s, "transition", led, "TB1", "--to", "已销号", "--actor", "验收")
    assert "1 patch(es) now closed (已销号)" in closed.stdout
    (warning,) = closed.stderr.splitlines()
    assert warning.startswith("警告: patch TB1: after-photo TB1后.jpg was taken ")
    assert "beyond [evidence] max_distance_m = 200" in warning
    no = run(
        "--settings", refuse, "transition", led, "TB2", "--to", "已销号", "--actor", "验", ok=False
    )
    assert no.exit_code == 1 and "nothing was closed" in no.stderr and "TB2后.jpg" in no.stderr
    counts = json.loads(run("--settings", s, "status", led, "--json").output)
    assert counts["closed"] == 1 and counts["rectified"] == 1
