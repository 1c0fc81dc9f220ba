"""Tests of the seeded demo county generator (geo.demo.county)."""

from __future__ import annotations

import json
import re
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.demo import county
from geo.demo.county import BATCH1_MIX, BATCH2_NEW, BATCH2_RECURRENCES, DemoFiles, build_demo_files

HAN = re.compile(r"[\u4e00-\u9fff]")
GPX_NS = {"g": "http://www.topografix.com/GPX/1/1"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return build_demo_files(tmp_path_factory.mktemp("demo"))


def read_patches(path: Path, *, crs: str = "EPSG:4547") -> gpd.GeoDataFrame:
    """A batch shapefile in EPSG:4547 metres; its CRS is stated here since it has no .prj."""
    return pyogrio.read_dataframe(path, encoding="gb18030").set_crs(crs).to_crs("EPSG:4547")


def read_segments(files: DemoFiles) -> gpd.GeoDataFrame:
    return pyogrio.read_dataframe(files.ranges, layer="河湖管理范围").to_crs("EPSG:4547")


def read_all(files: DemoFiles) -> dict[str, pd.DataFrame]:
    """Everything the generator wrote, read back the way the ingest side would."""
    out = {"ranges": pyogrio.read_dataframe(files.ranges, layer="河湖管理范围")}
    for batch, path in files.patches.items():
        out[batch] = pyogrio.read_dataframe(path, encoding="gb18030")
    out["chiefs"] = pd.read_excel(files.chiefs, sheet_name="河长名录", dtype=str)
    for k, path in enumerate(files.tracks):
        for layer in ("tracks", "waypoints", "track_points"):
            out[f"{k}-{layer}"] = pyogrio.read_dataframe(path, layer=layer)
    return out


def classify(patches: gpd.GeoDataFrame, segments: gpd.GeoDataFrame) -> pd.Series:
    """Relation of each repaired patch to the segments, computed apart from the generator."""
    ranges = shapely.union_all(segments.geometry.values)
    out = []
    for geom in shapely.make_valid(patches.geometry.values):
        hits = int((shapely.area(shapely.intersection(segments.geometry.values, geom)) > 1).sum())
        if geom.within(ranges):
            out.append("inside" if hits == 1 else f"straddles{hits}")
        elif geom.intersects(ranges):
            out.append("partly_outside" if hits == 1 else f"partly_outside{hits}")
        else:
            d = geom.distance(ranges)
            out.append("near" if d <= 1000 else "outside" if d > 1500 else "between")
    return pd.Series(out, index=patches["TBBH"]).replace({"straddles2": "straddles"})


def iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return a.intersection(b).area / a.union(b).area


def test_files_exist_in_data_dir(files: DemoFiles) -> None:
    paths = [files.settings, files.ranges, files.chiefs, *files.patches.values(), *files.tracks]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert {p.parent for p in paths} == {files.settings.parent}
    assert files.settings.name == "hetu.toml"
    assert files.ranges.name == "河湖管理范围.gpkg"
    assert files.chiefs.name == "河长名录.xlsx"
    assert list(files.patches) == ["2025-Q3", "2026-Q1"]
    assert [p.name for p in files.patches.values()] == ["图斑_2025-Q3.shp", "图斑_2026-Q1.shp"]
    assert len(files.tracks) == 2 and all(p.suffix == ".gpx" for p in files.tracks)
    for shp in files.patches.values():
        assert shp.with_suffix(".dbf").is_file() and shp.with_suffix(".shx").is_file()


def test_runs_fast(tmp_path: Path) -> None:
    start = time.perf_counter()
    build_demo_files(tmp_path / "d")
    assert time.perf_counter() - start < 3.0


def test_same_seed_same_content_and_overwrites(tmp_path: Path) -> None:
    first = build_demo_files(tmp_path / "a", seed=7)
    build_demo_files(tmp_path / "b", seed=99)  # something else in b first: it must be replaced
    second = build_demo_files(tmp_path / "b", seed=7)
    assert first.recurrence_of == second.recurrence_of
    assert first.settings.read_text("utf-8") == second.settings.read_text("utf-8")
    for a, b in zip(first.patrols[:2], second.patrols[:2], strict=True):
        assert a.read_bytes() == b.read_bytes()
    one, two = read_all(first), read_all(second)
    assert one.keys() == two.keys()
    for key in one:
        if isinstance(one[key], gpd.GeoDataFrame):
            assert_geodataframe_equal(one[key], two[key], check_less_precise=False)
        else:
            pd.testing.assert_frame_equal(one[key], two[key])


def test_different_seeds_differ(tmp_path: Path) -> None:
    a = build_demo_files(tmp_path / "a", seed=1)
    b = build_demo_files(tmp_path / "b", seed=2)
    pa, pb = read_all(a), read_all(b)
    assert not pa["2025-Q3"].geometry.geom_equals(pb["2025-Q3"].geometry).all()
    assert not pa["ranges"].union_all().equals(pb["ranges"].union_all())
    assert pa["chiefs"]["姓名"].tolist() != pb["chiefs"]["姓名"].tolist()


def test_settings_file_has_the_office_shape(files: DemoFiles) -> None:
    data = tomllib.loads(files.settings.read_text("utf-8"))
    assert data["office"]["name"] == "示范县河长制办公室"
    assert data["office"]["admin_code"] == "439999"
    assert data["office"]["central_meridian"] == 114
    lon0, lat0, lon1, lat1 = data["office"]["extent"]
    assert lon0 == pytest.approx(113.80) and lat0 == pytest.approx(27.65)
    assert lon1 == pytest.approx(114.30) and lat1 == pytest.approx(28.05)
    assert data["townships"] == {
        "439999001": "清溪镇",
        "439999002": "白沙乡",
        "439999003": "龙泉镇",
    }
    assert data["lifecycle"] == {"rectify_days": 30}
    assert data["matching"] == {"near_m": 1000.0}
    assert data["map"] == {"basemap": "osm"}


def test_patch_shapefiles_are_gbk_without_cpg_or_prj(files: DemoFiles) -> None:
    for shp in files.patches.values():
        assert not shp.with_suffix(".cpg").exists()
        assert not shp.with_suffix(".prj").exists()
        raw = shp.with_suffix(".dbf").read_bytes()
        assert raw[29] == 0  # no language driver id: GDAL cannot know the encoding
        header = raw[32 : int.from_bytes(raw[8:10], "little")]
        with pytest.raises(UnicodeDecodeError):
            header.decode("utf-8")
        assert "问题描述".encode("gbk") in header
        frame = pyogrio.read_dataframe(shp, encoding="gb18030")
        assert list(frame.columns[:8]) == [
            *("TBBH", "XZQDM", "WTLX", "TBMJ", "JCSJ"),
            *("问题描述", "HHMC", "备注"),
        ]
        assert frame.crs is None
        assert frame["问题描述"].map(lambda s: bool(HAN.search(s))).all()
        assert frame["HHMC"].isin([r[0] for r in county.RIVERS]).all()
        naive = pyogrio.read_dataframe(shp)  # what a reader that does not sniff gets
        assert "问题描述" not in naive.columns


def test_batch_coordinates_show_their_crs(files: DemoFiles) -> None:
    b1 = pyogrio.read_dataframe(files.patches["2025-Q3"], encoding="gb18030")
    b2 = pyogrio.read_dataframe(files.patches["2026-Q1"], encoding="gb18030")
    x0, y0, x1, y1 = b1.total_bounds
    assert 3e5 < x0 < x1 < 7e5 and 3.0e6 < y0 < y1 < 3.2e6
    x0, y0, x1, y1 = b2.total_bounds
    assert 38.3e6 < x0 < x1 < 38.7e6 and 3.0e6 < y0 < y1 < 3.2e6
    lon0, lat0, lon1, lat1 = county.COUNTY_BOX
    for frame, crs in ((b1, "EPSG:4547"), (b2, "EPSG:4526")):
        bx0, by0, bx1, by1 = frame.set_crs(crs).to_crs("EPSG:4490").total_bounds
        assert lon0 < bx0 < bx1 < lon1 and lat0 < by0 < by1 < lat1


def test_patch_attributes(files: DemoFiles) -> None:
    b1 = read_patches(files.patches["2025-Q3"])
    b2 = read_patches(files.patches["2026-Q1"], crs="EPSG:4526")
    assert len(b1) == sum(BATCH1_MIX.values()) == 60
    assert len(b2) == BATCH2_RECURRENCES + BATCH2_NEW == 30
    ids = pd.concat([b1["TBBH"], b2["TBBH"]])
    assert ids.is_unique
    assert b1["TBBH"].str.fullmatch(r"TB2025Q3-\d{4}").all()
    assert b2["TBBH"].str.fullmatch(r"TB2026Q1-\d{4}").all()
    for frame, quarter in ((b1, ("2025-07-01", "2025-09-30")), (b2, ("2026-01-01", "2026-03-31"))):
        assert frame["XZQDM"].str.fullmatch(r"43999900[123]\d{3}").all()
        assert set(frame["WTLX"]) == {"1", "2", "3", "4"}
        assert frame["JCSJ"].between(*quarter).all()
        assert frame["JCSJ"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
        valid = shapely.make_valid(frame.geometry.values)
        np.testing.assert_allclose(frame["TBMJ"], shapely.area(valid), rtol=0.01)
        assert (frame["TBMJ"] == frame["TBMJ"].round(2)).all()
        b = frame.geometry.bounds
        across = np.maximum(b.maxx - b.minx, b.maxy - b.miny)
        assert across.between(20, 90).all()
    vertices = shapely.get_num_coordinates(b1.geometry.values) - 1
    assert ((vertices >= 6) & (vertices <= 12)).all()
    assert (b1["问题描述"] == county.XSS_BATCH1).sum() == 1
    assert b1.loc[b1["问题描述"] == county.XSS_BATCH1, "WTLX"].item() == "3"
    assert (b2["问题描述"] == county.XSS_BATCH2).sum() == 1
    assert b1["备注"].isna().any() and b1["备注"].notna().any()


def test_one_bowtie_that_repairs_into_its_segment(files: DemoFiles) -> None:
    b1 = read_patches(files.patches["2025-Q3"])
    invalid = b1[~b1.is_valid]
    assert len(invalid) == 1
    assert shapely.is_valid_reason(invalid.geometry.iloc[0]).startswith("Self-intersection")
    repaired = shapely.make_valid(invalid.geometry.iloc[0])
    assert repaired.geom_type == "MultiPolygon" and len(repaired.geoms) == 2
    assert classify(invalid, read_segments(files)).item() == "inside"


@pytest.mark.parametrize("seed", [2025, 0, 11])
def test_segments_tile_each_range(tmp_path: Path, seed: int) -> None:
    files = build_demo_files(tmp_path, seed=seed)
    segs = read_segments(files)
    assert list(segs.columns) == [*county._RANGE_FIELDS.values(), "geometry"]
    codes = segs["河段编码"]
    assert codes.is_unique and codes.str.fullmatch(r"439999\d{6}").all()
    assert segs["行政区划代码"].str.fullmatch(r"43999900[123]\d{3}").all()
    assert segs["河段名称"].is_unique
    assert (segs["河段名称"].str[:3] == segs["河湖名称"]).all()
    assert segs["河段名称"].str.endswith("段").all()
    assert 3 <= segs["范围编号"].nunique() <= 4
    layout = county._layout(np.random.default_rng(seed))  # the generator's first draws
    for river in layout.rivers:
        part = segs[segs["范围编号"] == river.range_id]
        assert 8_000 <= river.line.length <= 20_000
        assert 40 <= river.width <= 80
        assert (np.diff(river.bounds) >= 2_000).all() and (np.diff(river.bounds) <= 5_000).all()
        assert part["河湖编码"].nunique() == 1 and part["河湖名称"].iloc[0] == river.name
        union = shapely.union_all(part.geometry.values)
        assert union.geom_type == "Polygon" and not union.interiors  # no gaps
        assert part.area.sum() == pytest.approx(union.area, rel=1e-6)  # no overlaps
        assert union.area == pytest.approx(river.range.area, rel=0.005)
        geoms = part.geometry.values
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                assert geoms[i].intersection(geoms[j]).area < 0.01
        # the township codes of its segments: every river crosses a township boundary
        assert part["行政区划代码"].str[:9].nunique() >= 2


@pytest.mark.parametrize("seed", [2025, 3])
def test_batch1_placement_mix(tmp_path: Path, seed: int) -> None:
    files = build_demo_files(tmp_path, seed=seed)
    relation = classify(read_patches(files.patches["2025-Q3"]), read_segments(files))
    assert relation.value_counts().to_dict() == BATCH1_MIX


def test_batch2_is_recurrences_plus_new_inside_patches(files: DemoFiles) -> None:
    segs = read_segments(files)
    b1 = read_patches(files.patches["2025-Q3"]).set_index("TBBH")
    b2 = read_patches(files.patches["2026-Q1"], crs="EPSG:4526").set_index("TBBH")
    assert len(files.recurrence_of) == BATCH2_RECURRENCES
    assert set(files.recurrence_of) <= set(b2.index)
    assert len(set(files.recurrence_of.values())) == BATCH2_RECURRENCES
    relation1 = classify(b1.reset_index(), segs)
    for new, old in files.recurrence_of.items():
        assert iou(b2.geometry[new], b1.geometry[old]) > 0.5
        assert relation1[old] == "inside"
        assert b2.at[new, "WTLX"] == b1.at[old, "WTLX"]
    assert (classify(b2.reset_index(), segs) == "inside").all()
    fresh = b2.drop(index=list(files.recurrence_of))
    ones = b1.geometry.values
    for geom in fresh.geometry:
        assert shapely.distance(ones, geom).min() > 30  # new sites, not re-detections


def test_chiefs_cover_every_segment_at_three_levels(files: DemoFiles) -> None:
    listed = pd.read_excel(files.chiefs, sheet_name="河长名录", dtype=str)
    assert list(listed.columns) == [*county._CHIEF_FIELDS, "任期开始", "任期结束", "联系单位",
                                    "代巡河长"]  # fmt: skip
    helpers = listed[listed["代巡河长"].notna()]  # the assistants: their chief's level and area
    assert helpers["河长编号"].str.fullmatch(r"ZL\d{3}").all() and len(helpers) == 2
    for row in helpers.itertuples():
        chief = listed[listed["姓名"] == row.代巡河长].iloc[0]
        assert (row.级别, row.行政区划代码) == (chief["级别"], chief["行政区划代码"])
    chiefs = listed[listed["代巡河长"].isna()]
    # county chiefs name their liaison unit (the 巡河提醒卡 goes there), the others none
    units = chiefs.groupby("级别")["联系单位"].agg(lambda s: s.notna().all())
    assert units.to_dict() == {"县级": True, "乡级": False, "村级": False}
    assert set(chiefs["级别"]) == {"县级", "乡级", "村级"}
    width = chiefs["级别"].map({"县级": 6, "乡级": 9, "村级": 12})
    assert (chiefs["行政区划代码"].str.len() == width).all()
    assert chiefs["行政区划代码"].str.startswith("439999").all()
    assert chiefs["联系电话"].str.fullmatch(r"1[358]\d{9}").all()
    assert chiefs["河长编号"].str.fullmatch(r"HZ\d{3}").all()
    assert chiefs["任期开始"].notna().all()
    assert chiefs.groupby("河长编号")["姓名"].nunique().eq(1).all()
    assert chiefs["姓名"].map(lambda s: bool(HAN.fullmatch(s[0]))).all()
    segs = read_segments(files).set_index("河段编码")
    assert set(chiefs["河段编码"]) == set(segs.index)
    per_level = chiefs.groupby(["河段编码", "级别"]).size().unstack()
    assert (per_level == 1).all().all()
    for seg_id, rows in chiefs.groupby("河段编码"):
        code = rows.set_index("级别")["行政区划代码"]
        assert code["村级"] == segs.at[seg_id, "行政区划代码"]
        assert code["村级"].startswith(code["乡级"]) and code["乡级"].startswith(code["县级"])
    county_chiefs = chiefs[chiefs["级别"] == "县级"]
    assert county_chiefs["河长编号"].nunique() == segs["范围编号"].nunique()


def test_gpx_tracks_read_back_with_times_and_findings(files: DemoFiles) -> None:
    b1 = read_patches(files.patches["2025-Q3"])
    patches = shapely.make_valid(b1.geometry.values)
    near_patches, names = 0, []
    for path in files.tracks:
        assert path.name.startswith("巡河_") and re.search(r"_\d{4}-\d{2}-\d{2}\.gpx$", path.name)
        tracks = pyogrio.read_dataframe(path, layer="tracks")
        assert len(tracks) == 1 and tracks["name"].item()
        points = pyogrio.read_dataframe(path, layer="track_points")
        assert points["time"].notna().all() and points["time"].is_monotonic_increasing
        metric = points.set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:4547")
        steps = shapely.distance(metric.geometry.values[1:], metric.geometry.values[:-1])
        seconds = points["time"].diff().dt.total_seconds().to_numpy()[1:]
        assert (steps > 15).all() and (steps < 55).all()
        assert ((steps / seconds > 0.5) & (steps / seconds < 2.0)).all()  # walking pace
        wpts = pyogrio.read_dataframe(path, layer="waypoints")
        assert 3 <= len(wpts) <= 4
        assert wpts["time"].notna().all()
        assert wpts["type"].isin(["occupation", "mining", "dumping", "construction"]).all()
        assert wpts["desc"].map(lambda s: bool(HAN.search(s))).all()
        names += wpts["name"].tolist()
        at = wpts.set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:4547").geometry
        near_patches += sum(shapely.distance(patches, g).min() <= 50 for g in at)
        root = ET.parse(path).getroot()
        author = root.find("g:metadata/g:author/g:name", GPX_NS)
        assert author is not None and HAN.search(author.text or "")
    assert near_patches >= 2
    assert all(re.fullmatch(r"F\d{3}", n) for n in names) and len(set(names)) == len(names)


def test_track_follows_a_bank_of_its_river(files: DemoFiles) -> None:
    layout = county._layout(np.random.default_rng(2025))
    by_name = {r.name: r for r in layout.rivers}
    for path in files.tracks:
        river = by_name[path.name.split("_")[1]]
        points = pyogrio.read_dataframe(path, layer="track_points")
        metric = points.set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:4547")
        offsets = shapely.distance(river.line, metric.geometry.values)
        np.testing.assert_allclose(offsets, 30, atol=1.0)


def test_chiefs_patrols_of_the_month_count_per_level(files: DemoFiles) -> None:
    from geo.demo.county import PATROL_PERIOD
    from geo.field.patrols import completion_by_level, patrol_completion
    from geo.ingest.tracks import surveys_from_file, unmatched_surveyors
    from geo.settings import load_settings

    csv, kml, photos = files.patrols
    assert csv.suffix == ".csv" and kml.suffix == ".kml" and photos.is_dir()
    fixes = pd.read_csv(csv, dtype=str, encoding="utf-8-sig")
    assert list(fixes.columns[:5]) == ["轨迹编号", "巡河人", "定位时间", "经度", "纬度"]
    tracks = pd.concat([surveys_from_file(p)[0] for p in (*files.tracks, *files.patrols)])
    raw = pd.read_excel(files.chiefs, sheet_name="河长名录", dtype=str)
    levels = {"县级": "county", "乡级": "township", "村级": "village"}
    chiefs = pd.DataFrame(
        {
            "chief_id": raw["河长编号"],
            "name": raw["姓名"],
            "level": raw["级别"].map(levels),
            "segment_id": raw["河段编码"],
            "attrs": [
                json.dumps({"代巡河长": f}) if isinstance(f, str) else None for f in raw["代巡河长"]
            ],
        }
    )
    assert unmatched_surveyors(tracks, chiefs) == []  # the chiefs (and an assistant) walked them
    helpers = raw[raw["代巡河长"].notna()]  # 河长助理 and 巡查员, each naming his chief
    assert list(helpers["职务"]) == ["河长助理", "巡查员"]
    assert set(helpers["代巡河长"]) <= set(raw.loc[raw["代巡河长"].isna(), "姓名"])
    start, end = PATROL_PERIOD
    rules = load_settings(files.settings).patrols  # 广州's, and the office's township rule
    per_chief = patrol_completion(tracks, chiefs, start=start, end=end, rules=rules)
    by_level = completion_by_level(per_chief).set_index("level")
    assert set(by_level.index) == {"county", "township", "village"}
    judged = by_level["completion_pct"].dropna()  # the quarter ends in the dates: all judged
    assert list(judged.index) == ["county", "township", "village"]
    assert (judged > 50).all() and (judged < 100).all()
    assert per_chief["behind"].sum() >= 3 and (per_chief["done"] > 0).sum() > 10
    assert not set(helpers["河长编号"]) & set(per_chief["chief_id"])  # assistants are no chiefs
    data = tomllib.loads(files.settings.read_text("utf-8"))
    assert data["surveys"]["within_m"] == 50.0 and data["patrols"]["preset"] == "guangzhou"
