"""`hetu ingest` and `hetu quarantine` as an office uses them: workbooks, point lists, chiefs."""

import json
import re
import shlex
import shutil

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from conftest import ROOT

from geo.cli.main import cli
from geo.ingest.profiles import DEFAULT_PROFILE
from geo.ingest.readers import patches_from_file, source_sha256
from geo.labels import ISSUE_TYPE_CODES, ISSUE_TYPES, LEVEL_SUFFIXES, LEVEL_SYNONYMS
from geo.ledger.store import Ledger
from geo.records import ImportRecord
from geo.settings import load_settings

X0, Y0 = 500_000.0, 3_098_000.0  # EPSG:4547 near (114E, 28N)


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result


def one_line_error(result):
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def county(demo_files, tmp_path):
    """A ledger of the demo county with its ranges: (settings, ledger)."""
    s, led = demo_files.settings, tmp_path / "ledger.gpkg"
    run("--settings", s, "init", led)
    run("--settings", s, "ingest", led, "ranges", demo_files.ranges)
    return s, led


def points_workbook(path, shp, *, settings, n=None, sheets=()):
    """The patches of a demo batch as an office's point list: 中心点 (经度/纬度) + 面积."""
    patches = patches_from_file(shp, settings=settings).head(n)
    centres = patches.geometry.representative_point()
    table = pd.DataFrame(
        {
            "图斑编号": patches["patch_id"],
            "问题类型": [ISSUE_TYPES[t] for t in patches["issue_type"]],
            "经度": centres.x.round(7),
            "纬度": centres.y.round(7),
            "面积": patches["area_m2"],
            "监测时间": patches["detected_on"],
        }
    )
    with pd.ExcelWriter(path) as book:
        for name, frame in sheets:
            frame.to_excel(book, sheet_name=name, index=False)
        table.to_excel(book, sheet_name="图斑点位", index=False)
    return table


# -- 16.1: workbooks ---------------------------------------------------------------------------


def test_readme_chiefs_command_reads_the_demo_workbook(county, demo_files):
    """`hetu ingest ledger.gpkg chiefs 河长名录.xlsx` used to crash: pandas got sheet_name=None."""
    s, led = county
    out = run("--settings", s, "ingest", led, "chiefs", demo_files.chiefs).output
    assert "47 read, 47 kept" in out and "sheet 河长名录 (the only one)" in out  # 2 assistants
    with Ledger(led) as ledger:
        assert len(ledger.chiefs()) == 47
        assert "sheet 河长名录 (the only one)" in json.loads(ledger.imports()["decisions"].iloc[-1])


def test_the_first_sheet_with_the_columns_is_read_and_named(county, demo_files, tmp_path):
    s, led = county
    book = tmp_path / "名录.xlsx"
    chiefs = pd.read_excel(demo_files.chiefs, dtype=str, engine="openpyxl")
    with pd.ExcelWriter(book) as w:
        pd.DataFrame({"说明": ["本表由河长办维护"]}).to_excel(w, sheet_name="填表说明", index=False)
        chiefs[["姓名", "职务"]].to_excel(w, sheet_name="统计", index=False)
        chiefs.to_excel(w, sheet_name="河长名录", index=False)
    rec = json.loads(run("--settings", s, "ingest", led, "chiefs", book, "--json").output)
    chosen = rec["decisions"][0]
    assert chosen.startswith("sheet 河长名录 (number 3 of 3): the first with the needed columns")
    assert (
        "填表说明 lacks name, level, segment_id" in chosen
        and "统计 lacks level, segment_id" in chosen
    )
    assert rec["n_kept"] == 47 and rec["quarantine"] == {}  # 45 chiefs and 2 assistants


@pytest.mark.parametrize(
    ("sheet", "words"),
    [("河长名录", "sheet 河长名录: as given"), ("2", "sheet 河长名录 (number 2 of 2): as given")],
)
def test_sheet_by_name_or_number(county, demo_files, tmp_path, sheet, words):
    s, led = county
    book = tmp_path / "名录.xlsx"
    with pd.ExcelWriter(book) as w:
        pd.DataFrame({"a": [1]}).to_excel(w, sheet_name="封面", index=False)
        pd.read_excel(demo_files.chiefs, dtype=str, engine="openpyxl").to_excel(
            w, sheet_name="河长名录", index=False
        )
    out = run("--settings", s, "ingest", led, "chiefs", book, "--sheet", sheet).output
    assert "47 kept" in out and words in out


def test_no_fitting_sheet_lists_each_sheets_lack(county, tmp_path):
    s, led = county
    book = tmp_path / "名录.xlsx"
    with pd.ExcelWriter(book) as w:
        pd.DataFrame({"说明": ["x"]}).to_excel(w, sheet_name="封面", index=False)
        pd.DataFrame({"姓名": ["王五"], "职务": ["村支书"]}).to_excel(
            w, sheet_name="名单", index=False
        )
    line = one_line_error(run("--settings", s, "ingest", led, "chiefs", book, ok=False))
    assert "名录.xlsx: no sheet has the needed columns" in line
    assert "sheet 封面 lacks name, level, segment_id; sheet 名单 lacks level, segment_id" in line
    assert "level: one of JB, 级别, 河长级别" in line and "--sheet" in line
    missing = run("--settings", s, "ingest", led, "chiefs", book, "--sheet", "名册", ok=False)
    assert "there is no sheet '名册'; its sheets are 1 封面, 2 名单" in one_line_error(missing)
    with Ledger(led) as ledger:
        assert len(ledger.chiefs()) == 0 and list(ledger.imports()["kind"]) == ["ranges"]


def test_an_old_xls_workbook_is_read(county, demo_files, tmp_path):
    """A real BIFF8 .xls (written by xlwt, as Excel 97–2003 saves it), read with calamine."""
    xlwt = pytest.importorskip("xlwt", reason="xlwt writes the .xls fixture (pip install xlwt)")
    s, led = county
    chiefs = pd.read_excel(demo_files.chiefs, dtype=str, engine="openpyxl")
    book = xlwt.Workbook(encoding="utf-8")
    book.add_sheet("说明").write(0, 0, "河长名录（2025年）")
    sheet = book.add_sheet("名录")
    for j, name in enumerate(chiefs.columns):
        sheet.write(0, j, name)
    for i, row in enumerate(chiefs.itertuples(index=False), 1):
        for j, value in enumerate(row):
            sheet.write(i, j, value if isinstance(value, str) else "")
    path = tmp_path / "河长名录.xls"
    book.save(str(path))
    assert path.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE2 workbook
    out = run("--settings", s, "ingest", led, "chiefs", path).output
    assert "47 read, 47 kept" in out and "sheet 名录 (number 2 of 2)" in out
    with Ledger(led) as ledger:
        got = ledger.chiefs().sort_values("chief_id")
        assert got["name"].tolist() == chiefs.sort_values("河长编号")["姓名"].tolist()


# -- 16.6: points ------------------------------------------------------------------------------


def test_a_point_list_without_an_area_is_refused_naming_the_options(county, demo_files, tmp_path):
    s, led = county
    book = tmp_path / "图斑点位.xlsx"
    points_workbook(book, demo_files.patches["2026-Q1"], settings=load_settings(s), n=5)
    line = one_line_error(run("--settings", s, "ingest", led, "patches", book, ok=False))
    assert "all 5 feature(s) are points" in line
    assert "--point-area FIELD" in line and "--point-buffer M" in line
    with Ledger(led) as ledger:
        assert len(ledger.patches()) == 0 and list(ledger.imports()["kind"]) == ["ranges"]


def test_point_area_from_a_column_draws_circles_of_that_area(county, demo_files, tmp_path):
    s, led = county
    book = tmp_path / "图斑点位.xlsx"
    cover = [("填表说明", pd.DataFrame({"说明": ["中心点坐标为CGCS2000经纬度"]}))]
    table = points_workbook(
        book, demo_files.patches["2026-Q1"], settings=load_settings(s), sheets=cover
    )
    table["面积"] = table["面积"].astype(object)
    table.loc[3, "面积"] = "不详"  # one point without an area: quarantined, the rest kept
    with pd.ExcelWriter(book) as w:
        cover[0][1].to_excel(w, sheet_name="填表说明", index=False)
        table.to_excel(w, sheet_name="图斑点位", index=False)
    args = ["--settings", s, "ingest", led, "patches", book, "--batch", "2026-Q1"]
    out = run(*args, "--point-area", "面积").output
    n = len(table)
    assert f"{n} read, {n - 1} kept, 1 quarantined into batch 2026-Q1" in out
    assert "sheet 图斑点位 (number 2 of 2): the first with the needed columns" in out
    assert f"{n - 1} point(s) drawn as circles of the area in 面积 (m²)" in out
    assert "(EPSG:4547), stored in EPSG:4490" in out
    assert "1 × field 面积: '不详' is not an area above 0 m²" in out  # grouped, row left out
    with Ledger(led) as ledger:
        got = ledger.patches().set_index("patch_id")
        want = table.drop(index=3).set_index("图斑编号")["面积"].astype(float)
        assert got.crs.to_epsg() == 4490
        assert (abs(got.loc[want.index, "area_m2"] / want - 1) < 1e-3).all()
        centre = shapely.Point(table.loc[0, "经度"], table.loc[0, "纬度"])
        assert got.loc[table.loc[0, "图斑编号"], "geometry"].contains(centre)
        assert set(got["issue_type"]) <= set(ISSUE_TYPES) and "other" not in set(got["issue_type"])
    listed = run("--settings", s, "quarantine", led, "--batch", "2026-Q1").output
    assert f"图斑点位.xlsx\t5\t{table.loc[3, '图斑编号']}\trow 5, field 面积" in listed
    assert "1 feature(s) quarantined" in listed
    for name in ("q.xlsx", "q.csv"):
        run("--settings", s, "quarantine", led, "-o", tmp_path / name)
    sheet = pd.read_excel(tmp_path / "q.xlsx", dtype=str, engine="openpyxl")
    assert list(sheet.columns[:6]) == [
        "导入编号",
        "数据类型",
        "文件",
        "下发批次",
        "行号",
        "要素编号",
    ]
    assert sheet["行号"].tolist() == ["5"] and "不详" in sheet["隔离原因"].iloc[0]
    csv = pd.read_csv(tmp_path / "q.csv", dtype=str, encoding="utf-8-sig")
    assert csv["要素编号"].tolist() == [table.loc[3, "图斑编号"]]


@pytest.mark.parametrize(
    ("option", "area"),
    [(["--point-area", "400"], 400.0), (["--point-buffer", "10"], 314.159)],
)
def test_one_area_or_radius_for_every_point(county, demo_files, tmp_path, option, area):
    s, led = county
    book = tmp_path / "点位.xlsx"
    points_workbook(book, demo_files.patches["2026-Q1"], settings=load_settings(s), n=4)
    out = run("--settings", s, "ingest", led, "patches", book, *option, "--json")
    rec = json.loads(out.stdout)  # stderr may warn: a 核查 deadline in a year without holidays
    assert rec["n_kept"] == 4 and any(
        "4 point(s) drawn as circles of" in d for d in rec["decisions"]
    )
    with Ledger(led) as ledger:
        assert ledger.patches()["area_m2"].tolist() == pytest.approx([area] * 4, rel=1e-3)
    both = CliRunner().invoke(cli, ["--settings", str(s), "ingest", str(led), "patches", str(book),
                                    "--point-area", "400", "--point-buffer", "10"])  # fmt: skip
    assert both.exit_code == 2 and "give --point-area or --point-buffer, not both" in both.output


def test_a_file_of_which_nothing_is_kept_exits_1_and_writes_nothing(county, tmp_path):
    s, led = county
    lines = gpd.GeoDataFrame(
        {"TBBH": ["L1", "L2", "L3"]},
        geometry=[shapely.LineString([(X0, Y0 + i), (X0 + 50, Y0 + i)]) for i in range(2)] + [None],
        crs=4547,
    )
    lines.to_file(tmp_path / "lines.gpkg")
    line = one_line_error(run("--settings", s, "ingest", led, "patches", tmp_path / "lines.gpkg",
                              ok=False))  # fmt: skip
    assert "lines.gpkg: 3 read, none kept; nothing was written" in line
    assert "Quarantine reasons: 2 × not a polygon (LineString)" in line
    assert "; 1 × null geometry" in line
    with Ledger(led) as ledger:
        assert len(ledger.quarantined()) == 0 and list(ledger.imports()["kind"]) == ["ranges"]


def test_an_earlier_ingest_that_kept_nothing_does_not_block_the_retry(county, demo_files, tmp_path):
    """Ledgers of before this fix hold '5 read, 0 kept' imports of point lists."""
    s, led = county
    book = tmp_path / "点位.xlsx"
    points_workbook(book, demo_files.patches["2026-Q1"], settings=load_settings(s), n=5)
    empty = gpd.GeoDataFrame(
        {c: [] for c in ("patch_id", "batch_id", "issue_type", "issued_on")}, geometry=[], crs=4490
    )
    old = ImportRecord(kind="patches", file=str(book), sha256=source_sha256(book), batch_id="点位",
                       n_read=5, n_quarantined=5)  # fmt: skip
    with Ledger(led) as ledger:
        ledger.add_patches(empty, old)
    out = run("--settings", s, "ingest", led, "patches", book, "--point-buffer", "20").output
    assert "5 read, 5 kept" in out and "already ingested" not in out


def test_quarantine_report_on_both_backends(location, tmp_path):
    from geo.errors import IngestError
    from geo.ledger.loading import ingest_file, quarantine_report, reason_counts
    from geo.settings import Settings

    path = tmp_path / "点位.csv"
    pd.DataFrame(
        {"图斑编号": ["T1", "T2", "T3", "T4"], "经度": ["113.9", "113.91", "东经", "113.93"],
         "纬度": ["28.0", "28.01", "28.02", "北纬"]}
    ).to_csv(path, index=False, encoding="gbk")  # fmt: skip
    office = Settings(central_meridian=114, extent=(113.5, 27.5, 114.5, 28.5))
    with Ledger.create(location, settings=office) as led:
        rec = ingest_file(led, "patches", path, batch_id="B1", point_buffer=5)
        assert (rec.n_read, rec.n_kept, rec.n_quarantined) == (4, 2, 2)
        rows = quarantine_report(led, batch_id="B1")
        assert rows[["file", "row", "feature_id"]].values.tolist() == [
            [str(path), 4, "T3"], [str(path), 5, "T4"]
        ]  # fmt: skip
        assert rows["reason"].iloc[0].startswith("row 4, field 经度: '东经' is not a coordinate")
        assert list(reason_counts(rows["reason"]).values()) == [1, 1]
        assert len(quarantine_report(led, import_id=rec.import_id)) == 2
        with pytest.raises(IngestError, match="no batch 'B2' in the ledger; its batches: B1"):
            quarantine_report(led, batch_id="B2")


# -- 16.8: chiefs and KML ----------------------------------------------------------------------


def _chiefs_csv(path, rows):
    header = ["姓名", "级别", "河段编码", "联系电话"]
    pd.DataFrame(rows, columns=header).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_chiefs_on_unknown_segments_are_refused_every_row_named(county, demo_files, tmp_path):
    s, led = county
    with Ledger(led) as ledger:
        real = ledger.segments()["segment_id"].iloc[0]
    path = _chiefs_csv(tmp_path / "河长.csv", [
        ["王五", "村级", real, "1"], ["赵六", "村级", real + "9", "2"], ["钱七", "乡级", "X1", "3"],
    ])  # fmt: skip
    line = one_line_error(run("--settings", s, "ingest", led, "chiefs", path, ok=False))
    assert "河长.csv: 2 row(s) name a segment the ledger lacks, nothing was read" in line
    assert f"row 3, field 河段编码 (segment_id): '{real}9' is no segment" in line
    assert "row 4, field 河段编码 (segment_id): 'X1'" in line
    with Ledger(led) as ledger:
        assert len(ledger.chiefs()) == 0


def test_chiefs_before_ranges_are_kept_with_a_note(demo_files, tmp_path):
    s, led = demo_files.settings, tmp_path / "l.gpkg"
    run("--settings", s, "init", led)
    result = run("--settings", s, "ingest", led, "chiefs", demo_files.chiefs)
    assert "the chiefs' segment ids were not checked; ingest the ranges first" in result.stdout
    assert "警告:" in result.stderr


def test_blank_names_and_unknown_levels_all_reported_in_one_line(county, tmp_path):
    s, led = county
    with Ledger(led) as ledger:
        seg = ledger.segments()["segment_id"].iloc[0]
    path = _chiefs_csv(tmp_path / "河长.csv", [
        ["王五", "县级河长", seg, "1"], [None, "村级", seg, "2"], ["孙八", "组长", seg, "3"],
        ["周九", None, seg, "4"], ["吴十", "社区", None, "5"],
    ])  # fmt: skip
    line = one_line_error(run("--settings", s, "ingest", led, "chiefs", path, ok=False))
    assert "河长.csv: 4 problem(s), nothing was read" in line
    assert "row 3, field 姓名 (name): blank; fill in the name" in line
    assert "row 4, field 级别 (level): '组长' is not a chief level" in line
    assert "row 5, field 级别 (level): blank is not a chief level" in line
    assert "row 6, field 河段编码 (segment_id): blank" in line
    assert "IntegrityError" not in line and "NOT NULL" not in line


def test_level_spellings_offices_use(county, tmp_path):
    s, led = county
    with Ledger(led) as ledger:
        seg = ledger.segments()["segment_id"].iloc[0]
    words = {"县级河长": "county", "县": "county", "区级": "county", "镇级": "township",
             "乡级": "township", "乡镇级": "township", "街道": "township", "村级": "village",
             "社区": "village", "村（社区）级": "village", "市级": "city", "省级": "province",
             "乡镇级总河长": "township", "Village": "village"}  # fmt: skip
    rows = [[f"河长{i}", word, seg, str(i)] for i, word in enumerate(words)]
    run("--settings", s, "ingest", led, "chiefs", _chiefs_csv(tmp_path / "c.csv", rows))
    with Ledger(led) as ledger:
        got = ledger.chiefs().set_index("phone")["level"]
    assert [got[str(i)] for i in range(len(words))] == list(words.values())


def test_kml_placemark_names_are_patch_ids(county, tmp_path):
    s, led = county
    kml = tmp_path / "图斑.kml"
    gpd.GeoDataFrame(
        {"Name": ["KML-1", "KML-2"], "Description": ["堆土", "搭建"]},
        geometry=[
            shapely.box(113.95, 27.9, 113.951, 27.901),
            shapely.box(114, 27.9, 114.001, 27.9005),
        ],
        crs=4326,
    ).to_file(kml, driver="KML")
    out = run("--settings", s, "ingest", led, "patches", kml, "--batch", "K").output
    assert "2 read, 2 kept" in out and "field Name -> patch_id" in out
    with Ledger(led) as ledger:
        assert sorted(ledger.patches()["patch_id"]) == ["KML-1", "KML-2"]


# -- 16.9: the README's "from your own files" section runs as written ---------------------------


def _readme_section():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("From your own files in ten commands", 1)[1].split("\n### ", 1)[0]


def test_readme_names_every_alias_and_level_spelling():
    section = _readme_section()
    for kind in ("patches", "ranges", "chiefs"):
        for canon, names in DEFAULT_PROFILE[kind].items():
            missing = [n for n in names if n not in section]
            assert not missing, f"README lacks {kind}.{canon} aliases {missing}"
    words = [w for spelled in LEVEL_SYNONYMS.values() for w in spelled.split()]
    assert [w for w in [*words, *LEVEL_SUFFIXES] if w not in section] == []
    assert all(f"{code}` {ISSUE_TYPES[key]}" in section for code, key in ISSUE_TYPE_CODES.items())


def _readme_commands():
    block = re.search(r"```sh\n(.*?)```", _readme_section(), flags=re.S)[1]
    lines = [line.split("  #", 1)[0].strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("hetu ")]


def test_readme_from_your_own_files_runs_in_order(demo_files, tmp_path, monkeypatch):
    """The files of the section, made from the demo county's: renamed, or converted."""
    folder = tmp_path / "示范县"
    folder.mkdir()
    shutil.copy(demo_files.settings, folder / "hetu.toml")
    shutil.copy(demo_files.ranges, folder / "河湖管理范围.gpkg")
    shutil.copy(demo_files.chiefs, folder / "河长名录.xlsx")
    for part in demo_files.patches["2025-Q3"].parent.glob("图斑_2025-Q3.*"):
        shutil.copy(part, folder / part.name)
    shutil.copy(demo_files.tracks[0], folder / "巡河_2025-10-12.gpx")
    points_workbook(folder / "图斑点位_2026-Q1.xlsx", demo_files.patches["2026-Q1"],
                    settings=load_settings(demo_files.settings))  # fmt: skip
    monkeypatch.chdir(folder)
    commands = _readme_commands()
    assert len(commands) >= 10 and "init" in commands[0]
    for args in commands:
        if "escalate" in args:
            args = [*args, "--no-pdf"]  # the PDFs need Chromium and time; the notices are the test
        run(*args[1:])
    with Ledger(folder / "ledger.gpkg") as ledger:
        assert set(ledger.patches()["batch_id"]) == {"2025-Q3", "2026-Q1"}
        assert len(ledger.chiefs()) == 47 and len(ledger.tracks()) >= 1
        assert len(ledger.assignments()) > 0
    assert (folder / "map.html").is_file() and any((folder / "exports").glob("ledger_*.xlsx"))
