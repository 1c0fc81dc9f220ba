"""Tests of geo.export.write_ledger_xlsx, read back with openpyxl and pandas."""

from __future__ import annotations

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from conftest import status_row
from shapely.geometry import box

from geo.export import LEDGER_COLUMNS, LIFECYCLE, write_ledger_xlsx
from geo.labels import COLUMNS, ISSUE_TYPES, STATES, TEXT

SUMMARY, LEDGER = TEXT["summary"], TEXT["ledger_sheet"]
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
    assert book.sheetnames == [SUMMARY, LEDGER]
    sheet = book[LEDGER]
    headers = [c.value for c in sheet[1]]
    assert headers == [COLUMNS[c] for c in LEDGER_COLUMNS]
    assert headers[-2:] == ["中心经度", "中心纬度"]
    assert sheet.max_row == len(patches) + 1
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == f"A1:V{len(patches) + 1}"
    assert sheet["A1"].font.b and sheet["A1"].alignment.wrap_text
    assert sheet["A1"].fill.fgColor.rgb.endswith("DDEBF7")


def test_values_labels_and_text_codes(written, patches):
    frame = pd.read_excel(written, sheet_name=LEDGER, dtype=str)
    assert len(frame) == len(patches)
    assert frame[COLUMNS["patch_id"]].tolist() == patches["patch_id"].tolist()
    assert frame[COLUMNS["admin_code"]].iloc[0] == "009999001"
    assert frame[COLUMNS["segment_id"]].iloc[0] == "009999000001"
    assert frame[COLUMNS["state"]].tolist()[:5] == [
        STATES[s] for s in ("issued", "rectifying", "closed", "closed", "dismissed")
    ]
    assert frame[COLUMNS["issue_type"]].iloc[0] == ISSUE_TYPES["occupation"]
    assert frame[COLUMNS["relation"]].iloc[3] == "范围外邻近"
    sheet = openpyxl.load_workbook(written)[LEDGER]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "0001"
    assert sheet["E2"].data_type == "s" and sheet["E2"].value == "009999001"
    assert sheet["J2"].value == 1234.57 and sheet["J2"].number_format == "#,##0.00"
    lon, lat = sheet["U2"].value, sheet["V2"].value
    assert (lon, lat) == (113.801, 27.811)
    assert sheet["N2"].value.isoformat() == "2025-05-01T10:00:00"  # tz-naive Beijing time
    assert sheet["S2"].value is None  # empty county chief stays blank
    assert sheet["O5"].value is None and sheet["O4"].value.isoformat() == "2025-06-01T00:00:00"


def test_formula_injection_stored_as_text(written):
    sheet = openpyxl.load_workbook(written)[LEDGER]
    cells = [sheet.cell(row=7 + k, column=20) for k in range(len(INJECTIONS))]
    assert [c.value for c in cells] == INJECTIONS
    assert all(c.data_type == "s" for c in cells)


def test_overdue_row_highlighted(written):
    sheet = openpyxl.load_workbook(written)[LEDGER]
    red = "FFFFC7CE"
    assert all(sheet.cell(row=3, column=c).fill.fgColor.rgb == red for c in (1, 10, 20, 22))
    assert sheet.cell(row=2, column=1).fill.fgColor.rgb != red
    assert sheet.cell(row=4, column=1).fill.fgColor.rgb != red  # closed though days > 0


def test_column_widths_cjk_aware(written):
    sheet = openpyxl.load_workbook(written)[LEDGER]
    widths = {k: sheet.column_dimensions[k].width for k in ("A", "D", "T")}
    assert widths["T"] <= 61  # long description capped (~60 units)
    assert widths["T"] > widths["D"] > widths["A"] - 6


def test_summary_counts(written, patches):
    sheet = openpyxl.load_workbook(written)[SUMMARY]
    assert sheet["A1"].value == f"示范县    {TEXT['as_of']} 2025-06-10"
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=5, values_only=True) if r[0]}
    header = [c.value for c in sheet[4]]
    assert header == [
        COLUMNS["township"],
        *(STATES[s] for s in LIFECYCLE),
        COLUMNS["total"],
        STATES["overdue"],
        COLUMNS["closure_rate"],
    ]
    n = len(LIFECYCLE)
    for town, part in patches.groupby("township"):
        counts = part["state"].value_counts()
        got = rows[town]
        assert list(got[:n]) == [counts.get(s, 0) for s in LIFECYCLE]
        assert got[n] == len(part)
        assert got[n + 2] == pytest.approx(counts.get("closed", 0) / len(part))
    assert rows["清溪镇"][n + 1] == 1  # overdue
    total = rows[COLUMNS["total"]]
    assert total[n] == len(patches) and total[n + 2] == pytest.approx(2 / len(patches))
    rate_cell = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == "清溪镇")[n + 3]
    assert rate_cell.number_format == "0.0%"
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
    assert sheet.max_row == len(frame) + 1 and sheet["U2"].value is None


def test_empty_frame(tmp_path, patches):
    out = write_ledger_xlsx(patches.iloc[:0], tmp_path / "empty.xlsx", as_of="2025-06-10")
    book = openpyxl.load_workbook(out)
    sheet = book[LEDGER]
    assert sheet.max_row == 1
    assert [c.value for c in sheet[1]] == [COLUMNS[c] for c in LEDGER_COLUMNS]
    totals = [r for r in book[SUMMARY].iter_rows(values_only=True) if r[0] == COLUMNS["total"]]
    assert len(totals) == 2 and all(r[len(LIFECYCLE) + 1] == 0 for r in totals)


def test_atomic_no_leftovers(tmp_path, patches):
    target = tmp_path / "ledger.xlsx"
    target.write_bytes(b"old")
    assert write_ledger_xlsx(patches, target) == target
    assert openpyxl.load_workbook(target).sheetnames == [SUMMARY, LEDGER]
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.xlsx"]
