"""Tables whose header is not row 1: titles, 填报单位 lines, two-row headers, footers.

Real files written here (openpyxl with merged title cells, a GBK CSV with a title line, an
old .xls by xlwt) are read by the patches, problems, chiefs and patrol readers: the right
columns are read, and every row a message names is the row the clerk sees in Excel.
"""

from __future__ import annotations

import logging

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.cli.main import cli
from geo.errors import IngestError, SchemaError
from geo.ingest.headers import SheetRows, data_rows, find_header
from geo.ingest.problems import problems_from_file
from geo.ingest.readers import chiefs_from_file, patches_from_file
from geo.ingest.tabular import read_table, table_row
from geo.ingest.tracks import surveys_from_file
from geo.ledger.store import Ledger
from geo.settings import load_settings

HOTLINE_HEAD = ["受理编号", "受理时间", "来源", "诉求内容", "反映人", "联系电话", "经度", "纬度"]


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert (result.exit_code == 0) is ok, result.output
    return result


@pytest.fixture(scope="module")
def office(demo_files):
    """(settings file, Settings, a point inside the office's extent)."""
    s = load_settings(demo_files.settings)
    x0, y0, x1, y1 = s.extent
    return demo_files.settings, s, ((x0 + x1) / 2, (y0 + y1) / 2)


def _cases(centre, n=4):
    lon, lat = centre
    return [
        [f"2026043000{i}", f"2026-04-2{i} 09:1{i}", "12345", f"河边倾倒垃圾{i}", f"张{i}",
         f"1380000000{i}", f"{lon + i * 0.001:.6f}", f"{lat:.6f}"]
        for i in range(1, n + 1)
    ]  # fmt: skip


def hotline_csv(path, centre, *, bad_row=None):
    """A 12345 export saved as CSV in GBK: a title line and a blank line above the header."""
    rows = _cases(centre)
    if bad_row is not None:
        rows[bad_row - 4][6] = "东经一百一十三"  # data start at Excel row 4
    lines = ["株洲市12345热线工单导出 2026-04-30", "", ",".join(HOTLINE_HEAD)]
    lines += [",".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def hotline_xlsx(path, centre):
    """The same export as Excel: a merged title, a 导出时间 line, the cases, a 合计 row."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "工单"
    ws["A1"] = "株洲市12345热线工单导出"
    ws.merge_cells("A1:H1")
    ws["A2"], ws["F2"] = "导出单位：市12345热线", "导出时间：2026-04-30"
    ws.append(HOTLINE_HEAD)
    for row in _cases(centre):
        ws.append(row)
    ws.append([])
    ws.append(["合计：4件"])
    ws.append(["注：反映人信息仅供办理使用"])
    book.save(path)
    return path


def patch_list(path, centre, *, bad_lon_row=6):
    """A province patch list: a merged title, a two-row header (坐标 over 经度/纬度), a footer."""
    lon, lat = centre
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "图斑清单"
    ws["A1"] = "XX省2026年第一批河湖遥感图斑清单"
    ws.merge_cells("A1:F1")
    for ref, text in (("A2:A3", "序号"), ("B2:B3", "图斑编号"), ("E2:E3", "问题类型"),
                      ("F2:F3", "面积"), ("C2:D2", "中心点坐标")):  # fmt: skip
        ws.merge_cells(ref)
        ws[ref.split(":")[0]] = text
    ws["C3"], ws["D3"] = "经度", "纬度"
    for i in range(1, 6):
        x = "113度xx分" if 3 + i == bad_lon_row else round(lon + i * 0.002, 6)
        ws.append([i, f"HB2026-{i:03d}", x, round(lat, 6), "疑似乱占", 400.0])
    ws.append(["合计", None, None, None, None, 2000.0])
    ws.append(["填表说明：坐标为CGCS2000经纬度"])
    book.save(path)
    return path


# -- the search itself -------------------------------------------------------------------


def test_the_header_is_the_row_with_most_known_names_else_the_first():
    def known(cell):
        return cell in {"受理编号", "受理时间", "经度", "纬度"}

    rows = [["XX热线工单导出"], [], ["受理编号", "受理时间", "经度", "纬度"], ["1", "2", "3", "4"]]
    found = find_header(rows, known)
    assert found.index == 2 and found.names is None and "row 3" in found.note
    assert find_header([[], ["a", "b"], ["c", "d"]], known).index == 1  # none known
    given_row = find_header(rows, known, given=4)
    assert given_row.index == 3 and "as given" in given_row.note
    with pytest.raises(SchemaError, match="header row 2 is blank"):
        find_header(rows, known, given=2)
    with pytest.raises(SchemaError, match="header row 9 is not in the sheet"):
        find_header(rows, known, given=9)


def test_a_two_row_header_takes_the_lower_names_and_joins_repeats_to_their_group():
    def known(cell):
        return cell in {"编号", "经度", "纬度", "起点经度"}

    rows = [["编号", "起点", "", "终点", ""], ["", "经度", "纬度", "经度", "纬度"], ["A", "1"]]
    found = find_header(rows, known)
    assert found.index == 1
    assert found.names == ("编号", "起点经度", "起点纬度", "终点经度", "终点纬度")
    assert "rows 1–2" in found.note


def test_a_footer_is_left_out_only_below_the_data_and_only_without_an_id():
    rows = [
        ["T1", "1"], [], ["备注说明", "in the middle"], ["T2", "2"], [],
        ["", "合计", "3"], ["注：数据来源省厅"], ["T3 备注", "4"],
    ]  # fmt: skip
    keep, skipped, notes = data_rows(
        len(rows), blank=[not any(r) for r in rows], text=lambda i: rows[i], first=5, key=0
    )
    assert keep == [0, 2, 3, 5, 6, 7]  # T3 has its id: data, so nothing above it is a footer
    keep, skipped, notes = data_rows(
        7, blank=[not any(r) for r in rows[:7]], text=lambda i: rows[i], first=5, key=0
    )
    assert keep == [0, 2, 3] and skipped == (6,)
    assert notes == [
        "1 blank row(s) among the data left out: row(s) 6",
        "footer row(s) below the data left out: 10 (合计), 11 (注：数据来源省厅)",
    ]
    rows_at = SheetRows(header=4, first=5, skipped=skipped)
    assert [table_row(i, rows_at) for i in range(len(keep))] == [5, 7, 8]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(st.sampled_from(["", "a", "NA", " b", "3", "4.5", "长江", "x,y"]), min_size=3,
                 max_size=3),
        min_size=1, max_size=6,
    )
)  # fmt: skip
def test_a_table_with_its_header_on_row_1_reads_as_pandas_reads_it(tmp_path, cells):
    cells = [r for r in cells if any(c.strip() and c != "NA" for c in r)] or [["a", "b", "c"]]
    frame = pd.DataFrame(cells, columns=["编号", "经度", "纬度"])
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    book = tmp_path / "t.xlsx"
    frame.to_excel(book, index=False)
    got, _ = read_table(path)
    assert got.equals(pd.read_csv(path, dtype=str, skipinitialspace=True))
    assert read_table(book)[0].equals(pd.read_excel(book, dtype=str, engine="calamine"))


# -- the readers ---------------------------------------------------------------------------


def test_a_12345_csv_in_gbk_with_a_title_line(office, tmp_path, caplog):
    _, s, centre = office
    with caplog.at_level(logging.INFO, logger="geo.ingest.tabular"):
        frame = problems_from_file(hotline_csv(tmp_path / "工单.csv", centre), settings=s)
    assert frame["patch_id"].tolist() == [f"RX-2026043000{i}" for i in range(1, 5)]
    assert frame["description"].str.startswith("河边倾倒垃圾").all()
    text = " ".join(frame["attrs"])
    assert "张1" not in text and "13800000001" not in text  # private columns still dropped
    assert "header: row 3" in caplog.text
    decisions = frame.attrs["hetu"]["record"]["decisions"]
    assert any(d.startswith("header: row 3,") for d in decisions)


def test_a_bad_cell_of_a_12345_csv_names_its_excel_row(office, tmp_path):
    _, s, centre = office
    with pytest.raises(SchemaError) as err:
        problems_from_file(hotline_csv(tmp_path / "工单.csv", centre, bad_row=5), settings=s)
    assert "row 5, field 经度" in str(err.value)
    assert "row 4," not in str(err.value) and "row 7" not in str(err.value)


def test_a_12345_workbook_with_a_merged_title_and_a_footer(office, tmp_path):
    _, s, centre = office
    frame = problems_from_file(hotline_xlsx(tmp_path / "工单.xlsx", centre), settings=s)
    assert len(frame) == 4
    decisions = frame.attrs["hetu"]["record"]["decisions"]
    assert (
        "footer row(s) below the data left out: 9 (合计：4件), 10 (注：反映人信息仅供办理使用)"
        in (decisions)
    )
    assert "张1" not in " ".join(frame["attrs"])


def test_a_patch_list_with_a_title_and_a_two_row_header(office, tmp_path):
    _, s, centre = office
    frame = patches_from_file(patch_list(tmp_path / "清单.xlsx", centre), settings=s,
                              point_buffer=10.0)  # fmt: skip
    assert frame["patch_id"].tolist() == [f"HB2026-{i:03d}" for i in (1, 2, 4, 5)]
    assert set(frame["issue_type"]) == {"other"}
    assert frame["source_area"].tolist() == [400.0] * 4
    quarantine = frame.attrs["hetu"]["quarantine"]
    assert [q["feature_id"] for q in quarantine] == ["HB2026-003"]
    assert quarantine[0]["reason"].startswith("row 6, field 经度:")
    decisions = frame.attrs["hetu"]["record"]["decisions"]
    assert any(d.startswith("header: rows 2–3, the names of row 3") for d in decisions)


def test_the_quarantine_report_and_the_cli_name_the_excel_row(office, demo_files, tmp_path):
    toml, _, centre = office
    led = tmp_path / "ledger.gpkg"
    run("--settings", toml, "init", led)
    book = patch_list(tmp_path / "清单.xlsx", centre)
    out = run("--settings", toml, "ingest", led, "patches", book, "--point-buffer", "10").output
    assert "5 read, 4 kept, 1 quarantined" in out
    assert "header: rows 2–3" in out and "footer row(s) below the data left out: 9 (合计)" in out
    listed = run("--settings", toml, "quarantine", led).output
    assert "清单.xlsx\t6\tHB2026-003\trow 6, field 经度" in listed


def test_the_header_row_given_on_the_command_line(office, tmp_path):
    toml, _, centre = office
    led = tmp_path / "ledger.gpkg"
    run("--settings", toml, "init", led)
    path = hotline_csv(tmp_path / "工单.csv", centre)
    wrong = run("--settings", toml, "ingest", led, "problems", path, "--header-row", "1", ok=False)
    line = wrong.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "taken from row 1: give --header-row N" in line
    out = run("--settings", toml, "ingest", led, "problems", path, "--header-row", "3").output
    assert "4 read, 4 kept" in out and "header: row 3, as given" in out
    with Ledger(led) as ledger:
        assert len(ledger.patches()) == 4


def test_a_chiefs_list_with_a_title_a_filled_in_by_line_and_a_note(demo_files, tmp_path):
    plain = pd.read_excel(demo_files.chiefs, dtype=str, engine="openpyxl")
    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"] = "示范县河长名录"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(plain.columns))
    ws["A2"], ws["D2"] = "填报单位：示范县河长办（盖章）", "填报日期：2026年4月30日"
    ws.append(list(plain.columns))
    for row in plain.itertuples(index=False):
        ws.append([None if pd.isna(v) else v for v in row])
    ws.append(["备注：本名录以县委、县政府公布为准"])
    path = tmp_path / "名录.xlsx"
    book.save(path)
    expected = chiefs_from_file(demo_files.chiefs)
    got = chiefs_from_file(path)
    cols = ["chief_id", "name", "level", "segment_id", "term_start"]
    assert got[cols].equals(expected[cols])
    level = list(plain.columns).index("级别") + 1
    ws.cell(3 + 5, level, "总河长助理")  # the 5th chief, Excel row 8
    book.save(path)
    with pytest.raises(SchemaError) as err:
        chiefs_from_file(path)
    assert "row 8, field 级别 (level): '总河长助理' is not a chief level" in str(err.value)


def test_an_old_xls_with_a_title_row(demo_files, tmp_path):
    xlwt = pytest.importorskip("xlwt", reason="xlwt writes the .xls fixture (pip install xlwt)")
    plain = pd.read_excel(demo_files.chiefs, dtype=str, engine="openpyxl")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名录")
    sheet.write_merge(0, 0, 0, len(plain.columns) - 1, "示范县河长名录（2026年）")
    for j, name in enumerate(plain.columns):
        sheet.write(1, j, name)
    for i, row in enumerate(plain.itertuples(index=False), 2):
        for j, value in enumerate(row):
            sheet.write(i, j, value if isinstance(value, str) else "")
    path = tmp_path / "名录.xls"
    book.save(str(path))
    got = chiefs_from_file(path)
    assert got["name"].tolist() == plain["姓名"].tolist()
    assert "header: row 2," in " ".join(got.attrs["hetu"]["record"]["decisions"])


def test_a_patrol_export_with_a_title_names_the_excel_row_of_a_bad_time(office, tmp_path):
    _, s, (lon, lat) = office
    rows = [("巡河记录导出（APP）", "", "", ""), ("", "", "", ""),
            ("巡河人", "定位时间", "经度", "纬度")]  # fmt: skip
    rows += [("王五", f"2026-04-30 09:{m:02d}:00", f"{lon + m * 1e-4:.6f}", f"{lat:.6f}")
             for m in range(5)]  # fmt: skip
    path = tmp_path / "巡河.csv"
    pd.DataFrame(rows).to_csv(path, index=False, header=False, encoding="utf-8-sig")
    tracks, _ = surveys_from_file(path, extent=s.extent)
    assert tracks["surveyor"].tolist() == ["王五"] and tracks["n_points"].tolist() == [5]
    assert '"rows": [4, 8]' in tracks["attrs"].iloc[0]
    rows[5] = ("王五", "四月三十日", *rows[5][2:])
    pd.DataFrame(rows).to_csv(path, index=False, header=False, encoding="utf-8-sig")
    with pytest.raises(IngestError, match=r"巡河.csv: row 6, field 定位时间"):
        surveys_from_file(path, extent=s.extent)


def test_a_filled_in_by_line_above_a_header_titles_no_column():
    def known(cell):
        return cell in {"图斑编号", "经度", "纬度"}

    rows = [["填报单位：示范县", "", "", "", "日期：2026-04-30"], ["图斑编号", "", "经度", "纬度"]]
    found = find_header(rows, known)
    assert found.index == 1 and found.names is None  # its cells name no column
