"""The leaders' sheets of the Excel 台账 (geo.reports.summary), read back with openpyxl."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from conftest import status_row
from shapely.geometry import box

from geo.labels import (
    COLUMNS,
    EXPORT,
    FIELD_WORK,
    ISSUE_TYPES,
    LEDGER_SUMMARY,
    LEVELS,
    SOURCES,
    STATES,
    TEXT,
)
from geo.reports.excel import write_ledger_xlsx
from geo.reports.summary import (
    LIFECYCLE,
    OVERDUE_COLUMNS,
    chief_level,
    overdue_list,
    summary_tables,
)

SUMMARY, CHARTS = TEXT["summary"], LEDGER_SUMMARY["charts"]
N = len(LIFECYCLE)


def _row(i: int, state: str, town: str, water: str, **extra: object) -> dict:
    code = {"清溪镇": "439999001", "白沙乡": "439999002"}[town]
    return status_row(
        i,
        state,
        patch_id=f"P{i:02d}",
        township=town,
        admin_code=code + f"{i:03d}",
        water_name=water,
        issue_type=("occupation", "mining", "dumping")[i % 3],
        geometry=box(113.8, 27.8 + i * 0.01, 113.802, 27.802 + i * 0.01),
        **extra,
    )


@pytest.fixture
def patches() -> gpd.GeoDataFrame:
    no_county = {"chief_county": ""}
    rows = [
        _row(1, "issued", "清溪镇", "渌水"),
        _row(2, "rectifying", "清溪镇", "渌水", overdue_days=7, deadline="2025-05-20"),
        _row(3, "rectifying", "清溪镇", "渌水", overdue_days=12, chief_village="赵六"),
        _row(4, "closed", "清溪镇", "渌水", overdue_days=30),  # settled: not overdue
        _row(5, "closed", "白沙乡", "白沙河", **no_county),
        _row(6, "rectified", "白沙乡", "白沙河", overdue_days=3, **no_county),
        _row(7, "dismissed", "白沙乡", "白沙河", **no_county),
        _row(8, "verifying", "白沙乡", "白沙河", chief_township="", **no_county),
        _row(9, "issued", "白沙乡", "", chief_village="", chief_township="", **no_county),
        _row(10, "rectifying", "白沙乡", "=cmd|' /C calc'!A0", overdue_days=12),
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4490")


PERIOD = ({"P01", "P09", "P10"}, {"P04"})


@pytest.fixture
def book(tmp_path, patches):
    out = write_ledger_xlsx(
        patches, tmp_path / "l.xlsx", as_of="2025-06-10", title="示范县", period=PERIOD
    )
    return openpyxl.load_workbook(out)


def _tables(sheet) -> dict[str, dict[str, tuple]]:
    """Read the summary's count tables: subtitle -> {row label: values}."""
    tables, current, header = {}, None, False
    for row in sheet.iter_rows(min_row=2, values_only=True):
        first = row[0]
        if first == LEDGER_SUMMARY["overdue_list"]:
            break
        if first and all(v is None for v in row[1:]):
            current, header = first, True
            tables[current] = {}
        elif header:
            tables[current]["__header__"] = row
            header = False
        elif current and first:
            tables[current][first] = row[1:]
    return tables


def test_summary_tables_count_the_frame(patches):
    tables = summary_tables(patches, period=PERIOD)
    assert list(tables) == ["township", "water_name", "chief_level", "issue_type", "source"]
    town = tables["township"]
    assert list(town.index) == ["清溪镇", "白沙乡", COLUMNS["total"]]
    assert town.loc["清溪镇", "rectifying"] == 2 and town.loc["清溪镇", "closed"] == 1
    assert town.loc["清溪镇", "overdue"] == 2 and town.loc["白沙乡", "overdue"] == 2
    assert town.loc[COLUMNS["total"], "total"] == len(patches)
    assert town.loc["白沙乡", "closure_rate"] == pytest.approx(1 / 6)
    assert town.loc[COLUMNS["total"], "new_in_period"] == 3
    assert town.loc["清溪镇", "closed_in_period"] == 1
    water = tables["water_name"]
    assert list(water.index)[:2] == ["渌水", "白沙河"]  # most patches first
    assert LEDGER_SUMMARY["no_water"] in water.index
    for table in tables.values():
        assert (table[list(LIFECYCLE)].sum(axis=1) == table["total"]).all()
        assert table["total"].iloc[:-1].sum() == table["total"].iloc[-1] == len(patches)


def test_chief_level_is_the_highest_chief_of_the_segment(patches):
    levels = chief_level(patches).tolist()
    assert levels[:4] == ["county"] * 4
    assert levels[4:8] == ["township", "township", "township", "village"]
    assert levels[8] == ""
    table = summary_tables(patches)["chief_level"]
    assert list(table.index) == [
        LEVELS["county"],
        LEVELS["township"],
        LEVELS["village"],
        TEXT["no_chief"],
        COLUMNS["total"],
    ]
    assert table["total"].tolist() == [5, 3, 1, 1, 10]


def test_summary_sheet_reads_back(book, patches):
    sheet = book[SUMMARY]
    assert sheet["A1"].value == f"示范县    {TEXT['as_of']} 2025-06-10"
    tables = _tables(sheet)
    note = next(t for t in tables if t.startswith("注："))  # the footnote defining the rates
    assert "核查完成率" in note and "整改销号率" in note and "挂账监管" in note
    assert list(tables) == [
        TEXT["by_township"],
        LEDGER_SUMMARY["by_water"],
        LEDGER_SUMMARY["by_chief_level"],
        TEXT["by_issue_type"],
        SOURCES["by_source"],
        note,
    ]
    header = tables[TEXT["by_township"]]["__header__"]
    assert header == (
        COLUMNS["township"],
        *(STATES[s] for s in LIFECYCLE),
        COLUMNS["total"],
        COLUMNS["uncleared"],
        STATES["overdue"],
        COLUMNS["closure_rate"],
        COLUMNS["verify_rate"],
        COLUMNS["rectify_rate"],
        EXPORT["new_in_period"],
        EXPORT["closed_in_period"],
    )
    for town, part in patches.groupby("township"):
        got = tables[TEXT["by_township"]][town]
        counts = part["state"].value_counts()
        assert list(got[:N]) == [counts.get(s, 0) for s in LIFECYCLE]
        assert got[N] == len(part)
        assert got[N + 3] == pytest.approx(counts.get("closed", 0) / len(part))
    rivers = tables[LEDGER_SUMMARY["by_water"]]
    assert rivers["渌水"][N] == 4 and rivers["白沙河"][N] == 4
    assert rivers["=cmd|' /C calc'!A0"][N] == 1  # a river name is text, never a formula
    total = rivers[COLUMNS["total"]]
    assert (total[N], total[N + 2], total[N + 3], total[-2:]) == (10, 4, pytest.approx(0.2), (3, 1))
    levels = tables[LEDGER_SUMMARY["by_chief_level"]]
    assert levels[LEVELS["county"]][N + 2] == 3  # overdue on county-level rivers
    types = tables[TEXT["by_issue_type"]]
    assert types[ISSUE_TYPES["occupation"]][N] == (patches["issue_type"] == "occupation").sum()
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in cells)


def test_overdue_list_sorted_longest_first(book, patches):
    frame = overdue_list(patches)
    assert list(frame.columns) == list(OVERDUE_COLUMNS)
    assert frame["patch_id"].tolist() == ["P03", "P10", "P02", "P06"]  # ties by id
    sheet = book[SUMMARY]
    rows = [r for r in sheet.iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rows) if r[0] == LEDGER_SUMMARY["overdue_list"])
    header = rows[top + 1]
    assert header[: len(OVERDUE_COLUMNS)] == (
        *(COLUMNS[c] for c in OVERDUE_COLUMNS[:-1]),
        LEDGER_SUMMARY["overdue_workdays"],
    )
    listed = [r for r in rows[top + 2 :] if r[0]]
    assert [r[0] for r in listed] == ["P03", "P10", "P02", "P06"]
    days = [r[len(OVERDUE_COLUMNS) - 1] for r in listed]
    assert days == sorted(days, reverse=True) == [12, 12, 7, 3]
    p02 = listed[2]
    assert p02[1:3] == ("清溪镇", "渌水") and p02[4] == STATES["rectifying"]
    assert p02[5] == "李四（镇长）" and p02[7] == dt.datetime(2025, 5, 20)


def test_overdue_list_capped_with_a_note(tmp_path, patches):
    out = write_ledger_xlsx(patches, tmp_path / "c.xlsx", overdue_rows=2)
    rows = list(openpyxl.load_workbook(out)[SUMMARY].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == LEDGER_SUMMARY["overdue_list"])
    assert [r[0] for r in rows[top + 2 : top + 4]] == ["P03", "P10"]
    assert rows[top + 4][0] == LEDGER_SUMMARY["overdue_more"].format(n=2)


def test_charts_sheet_has_three_charts_from_the_summary(book):
    sheet = book[CHARTS]
    charts = sheet._charts
    assert len(charts) == 3
    kinds = sorted(type(c).__name__ for c in charts)
    assert kinds == ["BarChart", "BarChart", "BarChart"]  # column charts are bar charts
    refs = [c.series[0].val.numRef.f for c in charts]
    assert all(ref.startswith(f"{SUMMARY}!") or ref.startswith(f"'{SUMMARY}'!") for ref in refs)
    titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in charts]
    assert titles == [
        TEXT["by_state"],
        TEXT["closure_by_township"],
        LEDGER_SUMMARY["overdue_by_township"],
    ]
    # the state chart's values are the total row of the township table
    total_row = next(r for r in book[SUMMARY].iter_rows() if r[0].value == COLUMNS["total"])[0].row
    assert refs[0].endswith(f"$B${total_row}:$J${total_row}")  # the 9 states


def test_empty_frame_still_has_summary_and_state_chart(tmp_path, patches):
    out = write_ledger_xlsx(patches.iloc[:0], tmp_path / "e.xlsx")
    book = openpyxl.load_workbook(out)
    assert len(book[CHARTS]._charts) == 1
    rows = list(book[SUMMARY].iter_rows(values_only=True))
    assert (LEDGER_SUMMARY["none_overdue"],) == rows[-1][:1]


# --- survey sheets (issue 10) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_surveys(demo_run):
    from geo.field.coverage import coverage_ledger
    from geo.field.patrols import patrols_ledger
    from geo.ledger.store import open_ledger

    with open_ledger(demo_run.ledger) as ledger:
        frame = ledger.status_frame(as_of="2025-10-31")
        cov = coverage_ledger(ledger)
        per = patrols_ledger(ledger, start=dt.date(2025, 10, 1), end=dt.date(2025, 10, 31))
    return frame, cov, per


def _block(rows: list[tuple], title: str) -> list[tuple]:
    """Rows of the table under the subtitle ``title`` (header first), up to a blank row."""
    start = next(i for i, r in enumerate(rows) if r[0] == title) + 1
    out = []
    for r in rows[start:]:
        if all(v is None for v in r):
            break
        out.append(r)
    return out


def test_survey_sheets_only_when_given(book):
    assert FIELD_WORK["coverage_sheet"] not in book.sheetnames
    assert FIELD_WORK["patrol_sheet"] not in book.sheetnames


def test_coverage_and_patrol_sheets(tmp_path, demo_surveys):
    from geo.field.coverage import township_coverage
    from geo.field.patrols import behind, completion_by_level

    frame, cov, per = demo_surveys
    out = write_ledger_xlsx(frame, tmp_path / "s.xlsx", coverage=cov, patrols=per)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[3:5] == [FIELD_WORK["coverage_sheet"], FIELD_WORK["patrol_sheet"]]

    rows = list(book[FIELD_WORK["coverage_sheet"]].iter_rows(values_only=True))
    assert rows[1][0] == LEDGER_SUMMARY["coverage_rule"].format(m="50")
    towns = _block(rows, LEDGER_SUMMARY["coverage_by_township"])
    assert towns[0][:6] == (
        FIELD_WORK["township_code"],
        COLUMNS["township"],
        FIELD_WORK["n_segments"],
        FIELD_WORK["shoreline_km"],
        FIELD_WORK["surveyed_km"],
        FIELD_WORK["coverage_pct"],
    )
    expected = township_coverage(cov)
    assert [r[0] for r in towns[1:-1]] == expected["township_code"].tolist()
    assert [r[3] for r in towns[1:-1]] == pytest.approx(expected["shoreline_km"].tolist())
    names = dict(zip(frame["admin_code"].str[:9], frame["township"], strict=True))
    assert [r[1] for r in towns[1:-1]] == [names.get(c) for c in expected["township_code"]]
    assert towns[-1][0] == COLUMNS["total"] and towns[-1][2] == len(cov)
    assert towns[-1][5] == pytest.approx(100 * cov["surveyed_km"].sum() / cov["shoreline_km"].sum())
    segs = _block(rows, LEDGER_SUMMARY["coverage_by_segment"])
    assert segs[0][0] == COLUMNS["segment_id"] and len(segs) == len(cov) + 1
    pcts = [r[6] for r in segs[1:] if r[6] is not None]
    assert pcts == sorted(pcts) and max(pcts) > 0  # least covered first

    rows = list(book[FIELD_WORK["patrol_sheet"]].iter_rows(values_only=True))
    assert (
        rows[0][0] == f"{FIELD_WORK['patrol_sheet']}    {EXPORT['period']} 2025-10-01 至 2025-10-31"
    )
    levels = _block(rows, LEDGER_SUMMARY["patrol_by_level"])
    by_level = completion_by_level(per)
    assert [r[0] for r in levels[1:]] == [*by_level["level_label"], COLUMNS["total"]]
    assert [r[3] for r in levels[1:-1]] == by_level["required"].tolist()
    assert levels[-1][1:4] == (len(per), per["done"].sum(), per["required"].sum())
    late = _block(rows, LEDGER_SUMMARY["patrol_behind"])
    assert late[0][0] == LEDGER_SUMMARY["chief_name"]
    assert [r[0] for r in late[1:]] == behind(per)["name"].tolist()
    shortfalls = [r[6] for r in late[1:]]
    assert shortfalls == sorted(shortfalls, reverse=True)


def test_survey_frames_without_their_columns_are_refused(tmp_path, patches):
    from geo.errors import SchemaError

    with pytest.raises(SchemaError, match=r"coverage.*shoreline_km"):
        write_ledger_xlsx(patches, tmp_path / "x.xlsx", coverage=pd.DataFrame({"segment_id": []}))
    with pytest.raises(SchemaError, match=r"patrols.*patrols_ledger"):
        write_ledger_xlsx(patches, tmp_path / "x.xlsx", patrols=pd.DataFrame({"name": ["王"]}))
    assert list(tmp_path.iterdir()) == []


def test_ledger_sheets_print_on_a4_landscape_one_page_wide(book):
    from geo.labels import TEXT

    sheet = book[TEXT["ledger_sheet"]]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert (
        sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    )  # 1: default
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$3:$3"  # the header row on every printed page
    assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
