"""Filling a province's Excel template (省厅模板) from the status frame, read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile

import openpyxl
import pandas as pd
import pytest
from conftest import status_row
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from geo.errors import SettingsError, TemplateError
from geo.labels import ISSUE_TYPES, STATES
from geo.reports.province_template import (
    TRANSFORMS,
    fill_template,
    load_column_map,
    parse_source,
)

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
#: Row 4 of the template: the sub-headers under the merged groups of row 3.
SUB = {3: "图斑编号", 4: "乡镇", 5: "问题类型", 6: "河湖名称", 7: "面积\n(平方米)",
       8: "下发时间", 9: "整改期限", 10: "整改状态"}  # fmt: skip
COLUMN_MAP = {
    "序号": "#",
    "县(市、区)": "text:示范县",
    "图斑编号": "patch_id",
    "乡镇": "township",
    "问题类型": "issue_type",
    "河湖名称": "water_name",
    "面积(平方米)": "area_m2",
    "下发时间": "issued_on",
    "整改期限": "deadline|date",
    "整改状态": "state",
}
WIDTHS = {"A": 6, "B": 12, "C": 24, "D": 12, "E": 10, "F": 16, "G": 12, "H": 12, "I": 12,
          "J": 14, "K": 20}  # fmt: skip


def make_template(path, *, styled_row=True, footer=True):
    """A province template: two merged title rows, a two-row header, a signature footer."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "整改台账"
    ws.merge_cells("A1:K1")
    ws["A1"] = "××省河湖遥感疑似问题图斑整改情况台账"
    ws["A1"].font = Font(name="方正小标宋简体", sz=18)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A2:K2")
    ws["A2"] = "填报单位（盖章）：                    填报日期：    年  月  日"
    head = {"font": Font(name="黑体", sz=11, bold=True), "border": BOX,
            "fill": PatternFill("solid", fgColor="D9D9D9")}  # fmt: skip
    for ref, text in (("A3:A4", "序号"), ("B3:B4", "县(市、区)"), ("K3:K4", "备注"),
                      ("C3:G3", "图斑基本信息"), ("H3:J3", "整改情况")):  # fmt: skip
        ws.merge_cells(ref)
        ws[ref.split(":")[0]] = text
    for col, text in SUB.items():
        ws.cell(4, col, text)
    for row in (3, 4):
        for col in range(1, 12):
            for attr, value in head.items():
                setattr(ws.cell(row, col), attr, value)
    if styled_row:
        for col in range(1, 12):
            ws.cell(5, col).border = BOX
            ws.cell(5, col).font = Font(name="宋体", sz=10)
        ws.cell(5, 8).number_format = "yyyy年m月d日"
    if footer:
        ws.merge_cells("A7:C7")
        ws["A7"] = "填报人："
        ws.merge_cells("F7:H7")
        ws["F7"] = "审核人："
        ws.row_dimensions[7].height = 30
    for letter, width in WIDTHS.items():
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "C5"
    book.save(path)
    return path


@pytest.fixture(scope="module")
def frame(demo_run):
    from geo.ledger.store import open_ledger
    from geo.settings import load_settings

    with open_ledger(demo_run.ledger, settings=load_settings(demo_run.data.settings)) as led:
        return led.status_frame(as_of="2026-06-30")


@pytest.fixture(scope="module")
def filled(frame, tmp_path_factory):
    base = tmp_path_factory.mktemp("province")
    template = make_template(base / "模板.xlsx")
    digest = hashlib.sha256(template.read_bytes()).hexdigest()
    out = base / "out" / "报省台账.xlsx"
    out.parent.mkdir()
    written = fill_template(frame, template, out, column_map=COLUMN_MAP, title="示范县图斑整改台账")
    assert hashlib.sha256(template.read_bytes()).hexdigest() == digest  # template untouched
    return written, openpyxl.load_workbook(written)


def test_rows_values_and_labels(filled, frame):
    path, book = filled
    ws = book["整改台账"]
    n = len(frame)
    rows = list(ws.iter_rows(min_row=5, max_row=4 + n, max_col=11, values_only=True))
    assert [r[0] for r in rows] == list(range(1, n + 1))
    assert {r[1] for r in rows} == {"示范县"}
    assert [r[2] for r in rows] == frame["patch_id"].tolist()
    assert [r[3] for r in rows] == frame["township"].tolist()
    assert [r[4] for r in rows] == [ISSUE_TYPES[t] for t in frame["issue_type"]]
    assert [r[9] for r in rows] == [STATES[s] for s in frame["state"]]
    assert [r[6] for r in rows] == pytest.approx(frame["area_m2"].tolist())
    assert {r[10] for r in rows} == {None}  # 备注: not in the map, left blank
    assert [c.name for c in path.parent.iterdir()] == ["报省台账.xlsx"]  # no temp file left


def test_dates_are_dates_and_template_formats_kept(filled, frame):
    _, book = filled
    ws = book.active
    issued = [ws.cell(5 + i, 8) for i in range(len(frame))]
    assert [c.value.date() for c in issued] == [
        dt.date.fromisoformat(d[:10]) for d in frame["issued_on"]
    ]
    assert {c.number_format for c in issued} == {"yyyy年m月d日"}  # the template's own format
    deadlines = [ws.cell(5 + i, 9) for i in range(len(frame))]
    with_deadline = [
        (c, d) for c, d in zip(deadlines, frame["deadline"], strict=True) if isinstance(d, str)
    ]
    assert with_deadline
    assert all(c.is_date and c.value.date().isoformat() == d[:10] for c, d in with_deadline)
    missing = [c for c, d in zip(deadlines, frame["deadline"], strict=True) if pd.isna(d)]
    assert all(c.value is None for c in missing)  # (every patch has one: 核查 has its deadline)
    assert {c.number_format for c, _ in with_deadline} == {"yyyy-mm-dd"}


def test_layout_styles_merges_widths_footer_kept(filled, frame):
    _, book = filled
    ws = book.active
    n = len(frame)
    assert ws["A1"].value == "示范县图斑整改台账"
    merged = {str(m) for m in ws.merged_cells.ranges}
    foot = 5 + n + 1  # the footer keeps its blank line above it
    assert merged == {"A1:K1", "A2:K2", "A3:A4", "B3:B4", "K3:K4", "C3:G3", "H3:J3",
                      f"A{foot}:C{foot}", f"F{foot}:H{foot}"}  # fmt: skip
    assert ws.cell(foot, 1).value == "填报人：" and ws.cell(foot, 6).value == "审核人："
    assert ws.row_dimensions[foot].height == 30
    assert ws.cell(4, 7).value == "面积\n(平方米)" and ws.cell(4, 7).font.bold
    assert {k: ws.column_dimensions[k].width for k in WIDTHS} == WIDTHS
    assert ws.freeze_panes == "C5"
    last = ws.cell(4 + n, 11)  # an unmapped column of the last row still has the row's style
    assert last.border.left.style == "thin" and last.font.name == "宋体"
    assert ws.cell(4 + n, 3).font.name == "宋体" and ws.cell(4 + n, 3).fill.fill_type is None
    assert ws.max_row == foot


def _small(**overrides):
    return pd.DataFrame([status_row(1, "rectifying", **overrides), status_row(2, "closed")])


def test_formula_text_and_codes(tmp_path):
    template = make_template(tmp_path / "t.xlsx", styled_row=False, footer=False)
    frame = _small(township='=HYPERLINK("http://x","点我")', patch_id="+1-2")
    cmap = {**COLUMN_MAP, "问题类型": "issue_type|code", "整改状态": "state|raw"}
    out = fill_template(frame, template, tmp_path / "o.xlsx", column_map=cmap)
    ws = openpyxl.load_workbook(out).active
    assert ws["D5"].value == frame["township"][0] and ws["D5"].data_type == "s"
    assert ws["C5"].value == "+1-2"
    with zipfile.ZipFile(out) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
    assert [ws["E5"].value, ws["J5"].value, ws["J6"].value] == ["3", "rectifying", "closed"]
    assert ws["C5"].font.name == "黑体" and not ws["C5"].font.bold  # the header's font, plain
    assert ws["C5"].border.left.style == "thin"


def test_footer_right_below_header_moves_and_explicit_header_row(tmp_path):
    template = make_template(tmp_path / "t.xlsx", styled_row=False, footer=False)
    book = openpyxl.load_workbook(template)
    book.active["A5"] = "注：状态按省厅口径填写。"
    book.save(template)
    out = fill_template(_small(), template, tmp_path / "o.xlsx", column_map=COLUMN_MAP,
                        header_row=4)  # fmt: skip
    ws = openpyxl.load_workbook(out).active
    assert [ws.cell(r, 3).value for r in (5, 6)] == ["P001", "P002"]
    assert ws["A7"].value == "注：状态按省厅口径填写。"


def test_empty_frame_leaves_template_rows(tmp_path):
    template = make_template(tmp_path / "t.xlsx")
    out = fill_template(_small().iloc[:0], template, tmp_path / "o.xlsx", column_map=COLUMN_MAP)
    ws = openpyxl.load_workbook(out).active
    assert ws["A5"].value is None and ws["A7"].value == "填报人："


def test_errors_name_both_sides(tmp_path):
    template = make_template(tmp_path / "t.xlsx")
    with pytest.raises(TemplateError, match=r"整改责任单位.*headers are 序号, 县\(市、区\)"):
        fill_template(_small(), template, tmp_path / "o.xlsx",
                      column_map={**COLUMN_MAP, "整改责任单位": "township"})  # fmt: skip
    with pytest.raises(TemplateError, match=r"图斑编号 → patch_no.*patch_id"):
        fill_template(_small(), template, tmp_path / "o.xlsx",
                      column_map={**COLUMN_MAP, "图斑编号": "patch_no"})  # fmt: skip
    with pytest.raises(TemplateError, match="none of the column map's headers"):
        fill_template(_small(), template, tmp_path / "o.xlsx", column_map={"编号": "patch_id"})
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(TemplateError, match="cannot open the template"):
        fill_template(_small(), tmp_path / "bad.xlsx", tmp_path / "o.xlsx", column_map=COLUMN_MAP)
    assert not (tmp_path / "o.xlsx").exists()


def test_load_column_map(tmp_path):
    path = tmp_path / "省厅模板.toml"
    lines = [f'"{h}" = "{s}"' for h, s in COLUMN_MAP.items()]
    path.write_text("# 省厅台账模板\n[columns]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert list(load_column_map(path).items()) == list(COLUMN_MAP.items())
    path.write_text('"图斑编号" = "patch_id"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"no \[columns\] table"):
        load_column_map(path)
    path.write_text('[columns]\n"状态" = "state|upper"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"状态.*transform"):
        load_column_map(path)
    path.write_text('[columns]\n"状态" = 3\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="must be text"):
        load_column_map(path)
    with pytest.raises(SettingsError, match="no such"):
        load_column_map(tmp_path / "missing.toml")


_name = st.text(st.characters(blacklist_characters="|", blacklist_categories=("Cs",)), min_size=1)


@given(column=_name, transform=st.sampled_from(TRANSFORMS))
def test_parse_source_column_and_transform(column, transform):
    text = f"{column}|{transform}"
    if column.strip() in ("", "#") or column.strip().startswith("text:"):
        return
    assert parse_source(text) == (transform, column.strip())
    assert parse_source(f" {column} ") == ("auto", column.strip())


@given(literal=st.text())
def test_parse_source_literal_and_seq(literal):
    assert parse_source(" text:" + literal) == ("text", literal)
    assert parse_source(" # ") == ("seq", "")


@given(bad=st.text().filter(lambda t: t.strip() not in ("", *TRANSFORMS) and "|" not in t))
def test_parse_source_rejects_unknown_transform(bad):
    with pytest.raises(TemplateError, match="transform one of"):
        parse_source(f"state|{bad}")
