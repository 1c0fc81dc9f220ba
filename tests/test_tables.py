import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from geo.errors import IngestError, SchemaError
from geo.ingest.readers import patches_from_file, read_layer
from geo.ingest.tabular import (
    UNREADABLE,
    choose_sheet,
    has_coordinates,
    parse_coordinate,
    points_from_table,
    read_table,
)
from geo.settings import Settings

OFFICE = Settings(central_meridian=114, extent=(113.5, 27.5, 114.5, 28.5))
TO_GK = Transformer.from_crs(4490, 4547, always_xy=True)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("114°18′00″", 114.3),
        ("114°18'00\"", 114.3),
        ("114度18分36秒", 114 + 18 / 60 + 36 / 3600),
        ("E114°18′", 114.3),
        ("28°30′N", 28.5),
        ("１１４．３", 114.3),  # full-width digits and point
        ("114°18′00″E", 114.3),
        ("３，０９８，０００．５", 3098000.5),  # full-width thousands separators
        ("30.5S", -30.5),
        (" 114.25 ", 114.25),
        ("", None),
        (float("nan"), None),
        (113.9, 113.9),
    ],
)
def test_parse_coordinate(text, value):
    got = parse_coordinate(text)
    assert got == pytest.approx(value) if value is not None else got is None


@pytest.mark.parametrize("text", ["abc", "114°75′", "114.5°30′", "N28°S", "114,3"])
def test_parse_coordinate_refuses_nonsense(text):
    with pytest.raises(ValueError, match=r"coordinate|under 60|fraction|twice"):
        parse_coordinate(text)


def _rows():
    return pd.DataFrame(
        {
            "图斑编号": ["T1", "T2", "T3"],
            "经度": ["113°54′00″", "113.95", "１１３．９６"],
            "纬度": ["28°00′00″N", "28.01", "２８．０２"],
            "备注": ["河道堆土", "岸线乱建", "采砂"],
        }
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_office_encoding(tmp_path, encoding):
    path = tmp_path / f"points-{encoding}.csv"
    _rows().to_csv(path, index=False, encoding=encoding)
    gdf, rec = read_layer(path, settings=OFFICE)
    assert list(gdf["备注"]) == ["河道堆土", "岸线乱建", "采砂"]
    assert gdf.geometry.x.tolist() == pytest.approx([113.9, 113.95, 113.96])
    assert gdf.crs.to_epsg() == 4490 and rec.crs.startswith("inferred")
    assert {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030"}[encoding] in rec.encoding
    assert any("经度" in d for d in rec.decisions)


def test_swapped_lon_lat_columns_are_swapped_and_recorded(tmp_path):
    df = _rows().rename(columns={"经度": "纬度", "纬度": "经度"})  # values under the wrong names
    path = tmp_path / "swapped.csv"
    df.to_csv(path, index=False)
    gdf, rec = read_layer(path, settings=OFFICE)
    assert gdf.geometry.x.tolist() == pytest.approx([113.9, 113.95, 113.96])
    assert any("swapped" in d for d in rec.decisions)


@pytest.mark.parametrize("convention", ["surveyor", "gis"])
def test_gauss_kruger_x_y_by_magnitude(tmp_path, convention):
    east, north = TO_GK.transform([113.9, 114.0], [28.0, 28.1])
    x, y = (north, east) if convention == "surveyor" else (east, north)
    path = tmp_path / "gk.csv"
    pd.DataFrame({"TBBH": ["A", "B"], "X": x, "Y": y}).to_csv(path, index=False)
    gdf, rec = read_layer(path, settings=OFFICE)
    assert gdf.geometry.x.tolist() == pytest.approx([113.9, 114.0], abs=1e-7)
    assert "EPSG:4547" in rec.crs
    assert any("swapped" in d for d in rec.decisions) == (convention == "surveyor")


def test_explicit_columns_override_the_search(tmp_path):
    path = tmp_path / "named.csv"
    pd.DataFrame({"id": ["a"], "东": [113.9], "北": [28.0], "X": [1.0], "Y": [2.0]}).to_csv(
        path, index=False
    )
    gdf, rec = read_layer(path, x_col="东", y_col="北", settings=OFFICE)
    assert gdf.geometry.x.iloc[0] == pytest.approx(113.9)
    assert "as given" in rec.decisions[0]
    with pytest.raises(SchemaError, match="not found"):
        read_layer(path, x_col="东", y_col="missing", settings=OFFICE)


def test_wkt_column_and_bad_rows_quarantined(tmp_path):
    path = tmp_path / "wkt.csv"
    pd.DataFrame(
        {
            "TBBH": ["P1", "P2", "P3"],
            "WKT": [
                "POLYGON((113.9 28,113.901 28,113.901 28.001,113.9 28.001,113.9 28))",
                "POLYGON((1 2, 3",
                "POINT(113.9 28)",
            ],
        }
    ).to_csv(path, index=False)
    out = patches_from_file(path, settings=OFFICE)
    assert list(out["patch_id"]) == ["P1"]
    reasons = {q["feature_id"]: q["reason"] for q in out.attrs["hetu"]["quarantine"]}
    assert "row 3, field WKT: not WKT" in reasons["P2"]
    assert reasons["P3"].startswith("not a polygon (Point)")


def test_bad_coordinate_cell_names_row_and_field(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"TBBH": ["A", "B"], "lon": ["113.9", "东经一百"], "lat": ["28", "28"]}).to_csv(
        path, index=False
    )
    gdf, _ = read_layer(path, settings=OFFICE)
    assert gdf[UNREADABLE].iloc[1].startswith("row 3, field lon:")
    assert gdf.geometry.iloc[1] is None and gdf.geometry.iloc[0] is not None


def test_no_coordinate_columns_lists_what_was_found(tmp_path):
    path = tmp_path / "none.csv"
    pd.DataFrame({"名称": ["a"], "备注": ["b"]}).to_csv(path, index=False)
    with pytest.raises(SchemaError, match=r"名称, 备注.*--x-col"):
        read_layer(path, settings=OFFICE)


def test_excel_with_points_and_chinese_sheet(tmp_path):
    path = tmp_path / "points.xlsx"
    _rows().to_excel(path, sheet_name="图斑", index=False)
    gdf, rec = read_layer(path, sheet="图斑", settings=OFFICE)
    assert len(gdf) == 3 and rec.encoding.startswith("Excel")
    with pytest.raises(IngestError, match="sheet"):
        read_table(path, sheet="没有")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(IngestError, match="xlsx"):
        read_table(tmp_path / "old.xls")


def _workbook(path):
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"说明": ["中心点坐标"]}).to_excel(book, sheet_name="说明", index=False)
        _rows().to_excel(book, sheet_name="图斑", index=False)
    return path


@pytest.mark.parametrize(
    ("sheet", "name", "why"),
    [
        (None, "说明", "sheet 说明 (number 1 of 2)"),
        ("图斑", "图斑", "sheet 图斑: as given"),
        ("2", "图斑", "sheet 图斑 (number 2 of 2): as given"),  # a person counts from 1
        (1, "图斑", "sheet 图斑 (number 2 of 2): as given"),  # a position counts from 0
    ],
)
def test_choose_sheet_by_name_number_or_first(tmp_path, sheet, name, why):
    assert choose_sheet(_workbook(tmp_path / "b.xlsx"), sheet=sheet) == (name, why)


def test_choose_sheet_takes_the_first_that_has_what_is_needed(tmp_path):
    book = _workbook(tmp_path / "b.xlsx")
    name, why = choose_sheet(book, needs=lambda head: [] if has_coordinates(head) else ["xy"])
    assert name == "图斑" and why == (
        "sheet 图斑 (number 2 of 2): the first with the needed columns (说明 lacks xy)"
    )
    df, _ = read_table(book, sheet=name)
    assert df["图斑编号"].tolist() == ["T1", "T2", "T3"]
    with pytest.raises(
        SchemaError, match=r"b.xlsx: no sheet .* 说明 lacks a; sheet 图斑 lacks a\."
    ):
        choose_sheet(book, needs=lambda head: ["a"])
    for bad in ("没有", "3", 5, "0"):
        with pytest.raises(SchemaError, match=r"there is no sheet .*its sheets are 1 说明, 2 图斑"):
            choose_sheet(book, sheet=bad)


def test_has_coordinates_by_name():
    assert has_coordinates(["图斑编号", "中心点经度", "中心点纬度"])
    assert has_coordinates(["X坐标", "Y坐标"]) and has_coordinates(["WKT"])
    assert not has_coordinates(["经度", "面积"]) and not has_coordinates([])


def test_old_xls_and_an_xls_saved_as_xlsx_are_read(tmp_path):
    xlwt = pytest.importorskip("xlwt", reason="xlwt writes the .xls fixture (pip install xlwt)")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("图斑")
    for i, row in enumerate([list(_rows().columns), *_rows().to_numpy().tolist()]):
        for j, value in enumerate(row):
            sheet.write(i, j, value)
    sheet.write(1, 4, 2000)  # a number cell reads as its text, without ".0"
    sheet.write(0, 4, "面积")
    book.save(str(tmp_path / "old.xls"))
    (tmp_path / "renamed.xlsx").write_bytes((tmp_path / "old.xls").read_bytes())
    for name in ("old.xls", "renamed.xlsx"):
        df, note = read_table(tmp_path / name)
        assert df["图斑编号"].tolist() == ["T1", "T2", "T3"] and note.startswith("Excel")
        assert df["面积"].iloc[0] == "2000" and df["纬度"].iloc[2] == "２８．０２"
    gdf, _ = read_layer(tmp_path / "old.xls", settings=OFFICE)
    assert gdf.geometry.x.round(2).tolist() == [113.9, 113.95, 113.96]


def test_a_workbook_that_is_no_workbook_names_the_fix(tmp_path):
    path = tmp_path / "damaged.xls"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 600)
    with pytest.raises(IngestError, match=r"damaged.xls: cannot read the workbook .*password"):
        read_table(path)


def test_semicolon_and_tab_delimiters(tmp_path):
    for sep, name in ((";", "semi.csv"), ("\t", "tab.tsv")):
        path = tmp_path / name
        _rows().to_csv(path, index=False, sep=sep)
        df, _ = read_table(path)
        assert list(df.columns) == ["图斑编号", "经度", "纬度", "备注"]


def test_points_from_table_does_not_change_the_input():
    df = _rows()
    before = df.copy()
    points_from_table(df, source="t")
    pd.testing.assert_frame_equal(df, before)


_cell = st.one_of(
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["114°18′", "２８．５", "", "N", "°′″", '"', ",", "\n"]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.sampled_from(["经度", "纬度", "lon", "lat", "X", "Y", "WKT", "TBBH", "名称", ""]),
        min_size=0,
        max_size=5,
    ),
    rows=st.lists(st.lists(_cell, max_size=6), max_size=6),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]),
    sep=st.sampled_from([",", ";", "\t"]),
)
def test_malformed_csv_reads_or_raises_typed(tmp_path_factory, header, rows, encoding, sep):
    text = "\n".join(sep.join(r) for r in [header, *rows])
    path = tmp_path_factory.mktemp("csv") / "fuzz.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        gdf, rec = read_layer(path, settings=OFFICE)
    except IngestError as exc:
        assert str(exc) and "fuzz.csv" in str(exc)
        return
    assert gdf.crs.to_epsg() == 4490 and rec.n_read == len(gdf)
    json.dumps(rec.decisions)
