import datetime as dt
import json
import shutil

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import realdata
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import CRSError, IngestError, SchemaError
from geo.ingest.readers import (
    chiefs_from_file,
    iso_date,
    patches_from_file,
    read_layer,
    sniff_dbf_encoding,
)
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.settings import Settings

OFFICE = Settings(central_meridian=114, extent=(113.5, 27.5, 114.5, 28.5))
X0, Y0 = 500_000.0, 3_098_000.0  # EPSG:4547 near (114E, 28N)


def _write_batch(path, *, n=3, encoding="GBK", prj=False, cpg=False, extra=None):
    geoms = [shapely.box(X0 + i * 200, Y0, X0 + i * 200 + 50, Y0 + 40) for i in range(n)]
    data = {
        "TBBH": [f"TB{i:03d}" for i in range(n)],
        "XZQDM": ["439999001001"] * n,
        "WTLX": ["3", "乱建", "mining"][:n] + ["1"] * max(0, n - 3),
        "TBMJ": [2000.0] * n,
        "JCSJ": ["20250715", "2025/7/16", "2025年7月17日"][:n] + ["2025-07-18"] * max(0, n - 3),
        "问题描述": ["河道内堆放建筑垃圾"] * n,
        "备注": ["未知字段保留"] * n,
    }
    data.update(extra or {})
    gdf = gpd.GeoDataFrame(data, geometry=geoms, crs=4547)
    gdf.to_file(path, encoding=encoding, engine="pyogrio")
    if not prj:
        path.with_suffix(".prj").unlink()
    if not cpg and path.with_suffix(".cpg").exists():
        path.with_suffix(".cpg").unlink()
    return path


def test_gbk_without_cpg_is_sniffed(tmp_path):
    shp = _write_batch(tmp_path / "图斑.shp")
    enc, why = sniff_dbf_encoding(shp)
    assert enc == "gb18030" and "GB18030" in why
    naive = pyogrio.read_dataframe(shp)
    assert "问题描述" not in naive.columns  # what GDAL alone would have given: mojibake


@pytest.mark.filterwarnings("ignore:Could not decode error message:RuntimeWarning")
def test_each_encoding_branch(tmp_path):
    utf = _write_batch(tmp_path / "utf.shp", encoding="UTF-8")
    assert sniff_dbf_encoding(utf)[0] == "utf-8"
    with_cpg = _write_batch(tmp_path / "cpg.shp", cpg=True)
    enc, why = sniff_dbf_encoding(with_cpg)
    assert enc.lower() in {"gbk", "cp936"} and ".cpg" in why
    ldid = _write_batch(tmp_path / "ldid.shp")
    raw = bytearray(ldid.with_suffix(".dbf").read_bytes())
    raw[29] = 0x4D  # CP936 as ArcGIS writes it
    ldid.with_suffix(".dbf").write_bytes(bytes(raw))
    enc, why = sniff_dbf_encoding(ldid)
    assert enc is None and "77" in why
    gdf, _ = read_layer(ldid, settings=OFFICE)
    assert "问题描述" in gdf.columns


def test_patches_become_canonical(tmp_path):
    shp = _write_batch(tmp_path / "batch.shp")
    gdf = patches_from_file(shp, batch_id="2025-Q3", issued_on="2025-08-01", settings=OFFICE)
    assert gdf.crs.to_epsg() == 4490
    assert list(gdf["issue_type"]) == ["dumping", "construction", "mining"]
    assert list(gdf["detected_on"]) == ["2025-07-15", "2025-07-16", "2025-07-17"]
    assert set(gdf["issued_on"]) == {"2025-08-01"} and set(gdf["batch_id"]) == {"2025-Q3"}
    assert gdf["area_m2"].round(0).tolist() == [2000.0] * 3
    assert json.loads(gdf["attrs"].iloc[0]) == {"备注": "未知字段保留"}
    assert gdf["description"].iloc[0] == "河道内堆放建筑垃圾"
    record = gdf.attrs["hetu"]["record"]
    assert "EPSG:4547" in record["crs"] and "gb18030" in record["encoding"]
    assert any("TBBH -> patch_id" in d for d in record["decisions"])


def test_invalid_polygons_repaired_and_nulls_quarantined(tmp_path):
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 50, Y0 + 50), (X0 + 50, Y0), (X0, Y0 + 50)])
    gdf = gpd.GeoDataFrame(
        {"TBBH": ["A", "B", "C"], "WTLX": ["1", "2", "3"]},
        geometry=[bowtie, None, shapely.box(X0, Y0, X0 + 10, Y0 + 10)],
        crs=4547,
    )
    path = tmp_path / "p.gpkg"
    gdf.to_file(path)
    out = patches_from_file(path, settings=OFFICE)
    assert list(out["patch_id"]) == ["A", "C"]
    assert out.geometry.is_valid.all()
    assert out["area_m2"].iloc[0] == pytest.approx(1250.0, rel=1e-3)  # both triangles kept
    meta = out.attrs["hetu"]
    assert any("A: repaired (Self-intersection" in d for d in meta["record"]["decisions"])
    assert meta["quarantine"][0]["feature_id"] == "B"
    assert meta["quarantine"][0]["reason"] == "null geometry"


def test_missing_required_field_lists_what_was_found(tmp_path):
    shp = _write_batch(tmp_path / "x.shp")
    gdf = gpd.read_file(shp, encoding="gb18030").drop(columns="TBBH")
    gdf.set_crs(4547).to_file(tmp_path / "y.gpkg")
    with pytest.raises(SchemaError) as err:
        patches_from_file(tmp_path / "y.gpkg", settings=OFFICE)
    text = str(err.value)
    assert "y.gpkg" in text and "TBBH" in text and "XZQDM" in text and "图斑编号" in text


def test_bad_date_names_row_and_field(tmp_path):
    shp = _write_batch(tmp_path / "d.shp", n=4, extra={"JCSJ": ["2025-07-01"] * 3 + ["昨天"]})
    with pytest.raises(SchemaError, match=r"row 4, field detected_on"):
        patches_from_file(shp, settings=OFFICE)


def test_duplicate_ids_refused(tmp_path):
    shp = _write_batch(tmp_path / "d.shp", n=3, extra={"TBBH": ["A", "A", "B"]})
    with pytest.raises(SchemaError, match="duplicate patch id"):
        patches_from_file(shp, settings=OFFICE)


def test_record_count_mismatch_is_detected(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    three = _write_batch(tmp_path / "a" / "p.shp", n=3)
    two = _write_batch(tmp_path / "b" / "p.shp", n=2)
    shutil.copy(two.with_suffix(".dbf"), three.with_suffix(".dbf"))
    with pytest.raises(IngestError, match="do not match"):
        patches_from_file(three, settings=OFFICE)


def test_data_outside_the_office_extent_is_refused(tmp_path):
    shp = _write_batch(tmp_path / "far.shp")
    far = Settings(central_meridian=114, extent=(100.0, 20.0, 101.0, 21.0))
    with pytest.raises(CRSError, match="outside the office's extent"):
        patches_from_file(shp, settings=far)


def test_ingest_is_idempotent(tmp_path):
    shp = _write_batch(tmp_path / "batch.shp")
    with Ledger.create(tmp_path / "l.gpkg", settings=OFFICE) as led:
        first = ingest_file(led, "patches", shp, batch_id="b1", issued_on="2025-08-01")
        again = ingest_file(led, "patches", shp, batch_id="b1")
        assert not first.reused and again.reused and again.import_id == first.import_id
        assert len(led.patches()) == 3 and len(led.imports()) == 1 and len(led.events()) == 3


def test_chiefs_from_gbk_csv(tmp_path):
    csv = tmp_path / "chiefs.csv"
    pd.DataFrame(
        {"姓名": ["张三", "李四"], "级别": ["村级", "乡"], "河段编码": ["439999000001"] * 2}
    ).to_csv(csv, index=False, encoding="gbk")
    df = chiefs_from_file(csv)
    assert list(df["level"]) == ["village", "township"]
    assert df["segment_id"].iloc[0] == "439999000001" and df["chief_id"].notna().all()
    assert "gb18030" in df.attrs["hetu"]["record"]["encoding"]
    pd.DataFrame({"姓名": ["王五"], "级别": ["组长"], "河段编码": ["1"]}).to_csv(
        csv, index=False, encoding="utf-8"
    )
    with pytest.raises(SchemaError, match=r"row 2, field 级别 \(level\): '组长'"):
        chiefs_from_file(csv)


def test_real_gbk_rivers_read_right():
    shp = realdata("china_rivers_4m", "hyd2_4l.shp")
    gdf, rec = read_layer(shp)
    assert len(gdf) == 2143 and gdf.crs.to_epsg() == 4490
    assert {"长江", "湘江", "柳江(都柳江、融江)"} <= set(gdf["NAME"].dropna())
    assert rec.crs.startswith("inferred") and "gb18030" in rec.encoding


@pytest.mark.parametrize(
    ("epsg", "office_cm", "expected"),
    [(4526, None, 4526), (4547, 114, 4547)],  # 3-degree zone 38 with prefix; CM 114E without
)
def test_gauss_kruger_without_prj(tmp_path, epsg, office_cm, expected):
    shp = _write_batch(tmp_path / "gk.shp")
    gdf = gpd.read_file(shp, encoding="gb18030").set_crs(4547).to_crs(epsg)
    gdf.to_file(tmp_path / "gk2.shp", encoding="GBK", engine="pyogrio")
    (tmp_path / "gk2.prj").unlink()
    office = Settings(central_meridian=office_cm, extent=OFFICE.extent)
    out = patches_from_file(tmp_path / "gk2.shp", settings=office)
    assert f"EPSG:{expected}" in out.attrs["hetu"]["record"]["crs"]
    assert out["area_m2"].round(0).tolist() == [2000.0] * 3
    if office_cm is None:
        return
    with pytest.raises(CRSError, match="central_meridian"):
        patches_from_file(tmp_path / "gk2.shp", settings=Settings(extent=OFFICE.extent))


def test_crs_override_and_bad_override(tmp_path):
    shp = _write_batch(tmp_path / "o.shp")
    gdf, rec = read_layer(shp, crs="EPSG:4547", settings=Settings(extent=OFFICE.extent))
    assert rec.crs.startswith("override") and gdf.crs.to_epsg() == 4490
    with pytest.raises(CRSError, match="is not a CRS"):
        read_layer(shp, crs="EPSG:99999999", settings=OFFICE)


def test_profile_file_is_used_by_ingest(tmp_path):
    shp = _write_batch(tmp_path / "p.shp", extra={"备注": ["甲", "乙", "丙"]})
    profile = tmp_path / "湖南.toml"
    profile.write_text('[patches]\ndescription = ["备注"]\n', encoding="utf-8")
    with Ledger.create(tmp_path / "l.gpkg", settings=OFFICE) as led:
        rec = ingest_file(led, "patches", shp, profile=profile)
        assert "field 备注 -> description" in rec.decisions
        assert sorted(led.patches()["description"]) == ["丙", "乙", "甲"]


def test_ingest_csv_points_from_gaode(tmp_path):
    path = tmp_path / "chiefs_points.csv"
    pd.DataFrame(
        {"HDBM": ["S1"], "WKT": ["POLYGON((113.9 28,113.91 28,113.91 28.01,113.9 28))"]}
    ).to_csv(path, index=False, encoding="gbk")
    with Ledger.create(tmp_path / "l.gpkg", settings=OFFICE) as led:
        rec = ingest_file(led, "ranges", path, source_crs="gcj02")
        assert "GCJ-02" in rec.crs and len(led.segments()) == 1
        x = led.segments().geometry.iloc[0].bounds[0]
        assert 113.89 < x < 113.9  # moved west off the Gaode offset


def test_geometry_collection_keeps_its_polygons(tmp_path):
    coll = shapely.GeometryCollection(
        [shapely.box(X0, Y0, X0 + 10, Y0 + 10), shapely.LineString([(X0, Y0), (X0 + 5, Y0)])]
    )
    gpd.GeoDataFrame({"TBBH": ["GC"]}, geometry=[coll], crs=4547).to_file(tmp_path / "c.gpkg")
    out = patches_from_file(tmp_path / "c.gpkg", settings=OFFICE)
    assert out["area_m2"].tolist() == [100.0]
    assert any(
        "1 point/line part(s) left out" in d for d in out.attrs["hetu"]["record"]["decisions"]
    )


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)), st.integers(0, 4))
def test_iso_date_accepts_every_office_format(day, style):
    text = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        day.strftime("%Y%m%d"),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}.{day.month}.{day.day}",
    ][style]
    assert iso_date(text, source="f", row=0, field="d") == day.isoformat()


@settings(max_examples=40, deadline=None)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=8
    )
)
def test_sniffer_never_lets_mojibake_through(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("sniff")
    for enc in ("GBK", "UTF-8"):
        path = folder / f"{enc}.shp"
        gdf = gpd.GeoDataFrame({"NAME": [text]}, geometry=[shapely.Point(114, 28)], crs=4490)
        gdf.to_file(path, encoding=enc, engine="pyogrio")
        path.with_suffix(".cpg").unlink()
        back, _ = read_layer(path)
        assert back["NAME"].iloc[0] == text


def test_a_range_without_a_polygon_is_quarantined_not_lost(tmp_path):
    segs = gpd.GeoDataFrame(
        {"河段编码": ["439999000001", "439999000002"], "范围编号": ["R1", "R1"]},
        geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 50), None],
        crs=4547,
    )
    segs.to_file(tmp_path / "ranges.gpkg")
    with Ledger.create(tmp_path / "l.gpkg", settings=OFFICE) as led:
        rec = ingest_file(led, "ranges", tmp_path / "ranges.gpkg")
        assert (rec.n_kept, rec.n_quarantined) == (1, 1)
        assert list(led.segments()["segment_id"]) == ["439999000001"]
        q = led.quarantined()
        assert (
            q["feature_id"].tolist() == ["439999000002"] and q["reason"].iloc[0] == "null geometry"
        )


def test_office_profile_from_settings(tmp_path):
    from geo.settings import load_settings

    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.toml").write_text(
        '[patches]\npatch_id = ["BH"]\n', encoding="utf-8"
    )
    (tmp_path / "hetu.toml").write_text(
        '[office]\ncentral_meridian = 114\n[ingest]\nprofile = "profiles/p.toml"\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path / "hetu.toml")
    assert settings.ingest_profile == str(tmp_path / "profiles" / "p.toml")
    gdf = gpd.GeoDataFrame({"BH": ["X1"]}, geometry=[shapely.box(X0, Y0, X0 + 9, Y0 + 9)], crs=4547)
    gdf.to_file(tmp_path / "p.gpkg")
    with Ledger.create(tmp_path / "l.gpkg", settings=settings) as led:
        ingest_file(led, "patches", tmp_path / "p.gpkg", batch_id="b")
        assert led.patches()["patch_id"].tolist() == ["X1"]


# -- patches given as points, chiefs' levels ------------------------------------------------------


def _points(path, geoms, **columns):
    frame = gpd.GeoDataFrame({"TBBH": [f"P{i}" for i in range(len(geoms))], **columns},
                             geometry=geoms, crs=4547)  # fmt: skip
    frame.to_file(path)
    return path


@pytest.mark.parametrize("multi", [False, True])
def test_points_become_circles_of_the_stated_area(tmp_path, multi):
    centres = [shapely.Point(X0 + i * 500, Y0) for i in range(3)]
    geoms = [shapely.MultiPoint([c]) for c in centres] if multi else centres
    path = _points(tmp_path / "p.gpkg", geoms, TBMJ=[100.0, 2500.0, 31415.9])
    out = patches_from_file(path, settings=OFFICE, point_area="tbmj")
    assert out["area_m2"].tolist() == pytest.approx([100.0, 2500.0, 31415.9], rel=1e-4)
    assert out.crs.to_epsg() == 4490 and set(out.geom_type) == {"Polygon"}
    gk = out.to_crs(4547).geometry
    assert [g.centroid.distance(c) for g, c in zip(gk, centres, strict=True)] == pytest.approx(
        [0, 0, 0], abs=0.01
    )
    assert len(shapely.get_coordinates(gk.iloc[0])) == 65  # 64 vertices, closed
    assert any("3 point(s) drawn as circles of the area in TBMJ (m²), in " in d
               for d in out.attrs["hetu"]["record"]["decisions"])  # fmt: skip


def test_point_areas_in_mu_and_hectares(tmp_path):
    """面积（亩）: the column's unit; a cell's own unit wins; one area for all with its unit."""
    centres = [shapely.Point(X0 + i * 500, Y0) for i in range(3)]
    path = _points(tmp_path / "p.gpkg", centres, **{"面积（亩）": ["1.5", "2亩", "0.1公顷"]})
    out = patches_from_file(path, settings=OFFICE, point_area="面积")
    assert out["area_m2"].tolist() == pytest.approx([1000.0, 4000 / 3, 1000.0], rel=1e-4)
    assert any("circles of the area in 面积（亩） (亩, 1 亩 = 666.667 m²)" in d
               for d in out.attrs["hetu"]["record"]["decisions"])  # fmt: skip
    one = patches_from_file(path, settings=OFFICE, point_area="3亩")
    assert one["area_m2"].tolist() == pytest.approx([2000.0] * 3, rel=1e-4)
    bad = _points(tmp_path / "b.gpkg", centres[:1], **{"面积（亩）": ["很多"]})
    out = patches_from_file(bad, settings=OFFICE, point_area="面积（亩）")
    assert out.attrs["hetu"]["quarantine"][0]["reason"].startswith(
        "feature 1, field 面积（亩）: '很多' is not an area above 0 亩"
    )


def test_point_options_are_checked(tmp_path):
    path = _points(tmp_path / "p.gpkg", [shapely.Point(X0, Y0)], 面积=["x"])
    for kwargs, match in [
        ({}, r"all 1 feature\(s\) are points.*--point-area FIELD.*--point-buffer M"),
        ({"point_buffer": 0}, "point_buffer 0 must be metres above 0"),
        ({"point_area": "TBMJ"}, r"'TBMJ' is neither a number .* columns are: TBBH, 面积"),
        ({"point_area": 1, "point_buffer": 1}, "not both"),
    ]:
        with pytest.raises(SchemaError, match=match):
            patches_from_file(path, settings=OFFICE, **kwargs)
    out = patches_from_file(path, settings=OFFICE, point_area="面积")
    assert len(out) == 0 and out.attrs["hetu"]["quarantine"][0]["reason"] == (
        "feature 1, field 面积: 'x' is not an area above 0 m²; a point needs its area to be "
        "drawn: fill the cell"
    )


def test_a_stray_point_among_outlines_is_quarantined_not_refused(tmp_path):
    geoms = [shapely.box(X0, Y0, X0 + 20, Y0 + 20), shapely.Point(X0 + 100, Y0)]
    out = patches_from_file(_points(tmp_path / "m.gpkg", geoms), settings=OFFICE)
    assert out["patch_id"].tolist() == ["P0"]
    assert "not a polygon (Point)" in out.attrs["hetu"]["quarantine"][0]["reason"]


@pytest.mark.parametrize(
    ("word", "level"),
    [("县级河长", "county"), ("县 级", "county"), ("区级", "county"), ("县（市、区）级", "county"),
     ("乡镇级总河长", "township"), ("街道", "township"), ("镇", "township"), ("社区", "village"),
     ("村（社区）级", "village"), ("Village", "village"), ("市级河湖长", "city"),
     ("省", "province"), ("河长", None), ("组长", None), (None, None), ("", None)],
)  # fmt: skip
def test_level_spellings(word, level):
    from geo.ingest.chiefs import level_of

    assert level_of(word) == level


def test_a_bad_term_date_is_reported_with_the_other_bad_rows(tmp_path):
    csv = tmp_path / "chiefs.csv"
    pd.DataFrame({"姓名": ["张三", "李四"], "级别": ["村级", "队级"], "河段编码": ["1", "2"],
                  "任期开始": ["2025-13-01", "2025-01-01"]}).to_csv(csv, index=False)  # fmt: skip
    with pytest.raises(SchemaError) as err:
        chiefs_from_file(csv)
    text = str(err.value)
    assert text.startswith("chiefs.csv: 2 problem(s), nothing was read: ")
    assert "row 3, field 级别 (level): '队级'" in text and "row 2, field 任期开始" in text
