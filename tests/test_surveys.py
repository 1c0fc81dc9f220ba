import pytest
import shapely
from conftest import realdata

from geo.errors import CRSError, IngestError
from geo.ingest.tracks import FINDING_COLUMNS, TRACK_COLUMNS, surveys_from_file

WORLD = (-180.0, -90.0, 180.0, 90.0)  # for real files from abroad: China is checked by default


def test_real_garmin_tracks_and_waypoints():
    tracks, findings = surveys_from_file(realdata("gps", "cerknicko-jezero.gpx"), surveyor="巡查员",
                                         extent=WORLD)  # fmt: skip
    assert list(tracks.columns) == [*TRACK_COLUMNS, "geometry"]
    assert list(findings.columns) == [*FINDING_COLUMNS, "geometry"]
    assert (len(tracks), len(findings)) == (7, 7)
    assert tracks.crs.to_epsg() == 4490 and set(tracks["surveyor"]) == {"巡查员"}
    assert tracks["started_at"].iloc[0].endswith("+08:00")  # UTC in GPX, Shanghai in the ledger
    assert (tracks["started_at"] <= tracks["ended_at"]).all()
    decisions = tracks.attrs["hetu"]["record"]["decisions"]
    assert decisions == [
        "track ACTIVE LOG: no segment with two points, skipped"
    ]  # said, not dropped


def test_tracks_without_times_are_kept():
    tracks, _ = surveys_from_file(realdata("gps", "cerknicko-without-times.gpx"), extent=WORLD)
    assert len(tracks) == 7 and tracks["started_at"].isna().sum() == 6  # one track keeps times


def test_empty_segment_and_bom():
    tracks, _ = surveys_from_file(realdata("gps", "track-with-empty-segment.gpx"), extent=WORLD)
    assert len(tracks) == 1 and tracks.geometry.iloc[0].length > 0
    tracks, findings = surveys_from_file(realdata("gps", "unicode_with_bom.gpx"), extent=WORLD)
    assert tracks.empty and len(findings) == 1


def test_demo_surveyor_comes_from_the_metadata(demo_files):
    tracks, findings = surveys_from_file(demo_files.tracks[0])
    assert len(tracks) == 1 and tracks["surveyor"].iloc[0] != ""
    assert set(findings["finding_type"]) <= {"occupation", "mining", "dumping", "construction"}


def test_not_gpx_is_refused(tmp_path):
    bad = tmp_path / "track.gpx"
    bad.write_text("<html>not a track</html>", encoding="utf-8")
    with pytest.raises(IngestError, match=r"track\.gpx.*GPX"):
        surveys_from_file(bad)


def test_findings_near_no_patch_become_survey_patches(demo_run, tmp_path):
    import json
    import shutil

    from geo.field.surveys import SURVEY_PATCH_COLUMNS, survey_patches
    from geo.ledger.store import open_ledger
    from geo.matching.findings import link_findings
    from geo.records import ImportRecord

    path = tmp_path / "ledger.gpkg"
    shutil.copy(demo_run.ledger, path)
    with open_ledger(path) as ledger:
        findings, patches = ledger.findings(), ledger.patches()
        new = survey_patches(findings, patches, segments=ledger.segments())
        linked = set(link_findings(findings, patches)["finding_id"])
        assert list(new.columns) == [*SURVEY_PATCH_COLUMNS, "geometry"]
        assert len(new) == len(findings) - len(linked) > 0  # the demo's off-patch findings
        assert new["patch_id"].str.fullmatch(r"SV-(2025101[25]|202601\d\d)-\d+").all()
        attrs = [json.loads(a) for a in new["attrs"]]
        assert {a["source"] for a in attrs} == {"巡河"}
        assert {a["finding_id"] for a in attrs}.isdisjoint(linked)
        assert new.to_crs(4547).area.round().eq(400).all()
        assert new["admin_code"].dropna().str.startswith("439999").all()  # outside ranges: None
        for batch, rows in new.groupby("batch_id"):
            ledger.add_patches(rows, ImportRecord(kind="patches", file="survey", sha256=batch,
                                                  batch_id=batch))  # fmt: skip
        assert set(new["patch_id"]) <= set(ledger.patches()["patch_id"])
        # once they are patches, the same findings link to them and nothing new is left
        assert survey_patches(ledger.findings(), ledger.patches()).empty


def test_survey_patch_ids_count_per_day():
    import geopandas as gpd
    import shapely

    from geo.field.surveys import survey_patches

    findings = gpd.GeoDataFrame(
        {
            "finding_id": ["b", "a", "c"],
            "observed_at": ["2025-10-12T09:00:00+08:00"] * 2 + ["2025-10-13T08:00:00+08:00"],
            "surveyor": ["x"] * 3,
            "finding_type": ["dumping", "垃圾", None],
            "description": ["", "", ""],
        },
        geometry=[shapely.Point(114.0 + k / 100, 28.0) for k in range(3)],
        crs=4490,
    )
    none = gpd.GeoDataFrame({"patch_id": []}, geometry=[], crs=4490)
    seg = gpd.GeoDataFrame(
        {"admin_code": ["439999001001"]}, geometry=[shapely.Point(114, 28).buffer(0.001)], crs=4490
    )
    new = survey_patches(findings, none, segments=seg)
    assert list(new["admin_code"].fillna("")) == ["", "439999001001", ""]  # only b is inside
    assert list(new["patch_id"]) == ["SV-20251012-1", "SV-20251012-2", "SV-20251013-1"]
    assert list(new["issue_type"]) == ["other", "dumping", "other"]  # a, b (same time: by id), c


# -- more formats: KML/KMZ, patrol-app tables, photos --------------------------------------

import datetime as dt  # noqa: E402
import json  # noqa: E402
import zipfile  # noqa: E402

import pandas as pd  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from geo.ingest.tracks import unmatched_surveyors  # noqa: E402

KML_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2" '
    'xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>'
)


def test_real_kml_gx_track_has_times_and_keeps_its_arrays():
    tracks, findings = surveys_from_file(realdata("kml", "gx_trackData.kml"), surveyor="巡查员",
                                         extent=WORLD)  # fmt: skip
    assert len(tracks) == 1 and findings.empty
    row = tracks.iloc[0]
    assert (row["started_at"], row["ended_at"]) == (
        "2010-05-28T10:02:09+08:00",  # 02:02:09Z in Shanghai
        "2010-05-28T10:02:56+08:00",
    )
    assert row["n_points"] == 7 and row["surveyor"] == "巡查员"
    assert json.loads(row["attrs"])["heartrate"][:2] == ["181", "177"]  # unknown data kept
    assert tracks.geometry.iloc[0].geom_type == "MultiLineString"
    assert tracks.crs.to_epsg() == 4490


def test_real_kml_linestring_and_polygon():
    tracks, _ = surveys_from_file(
        realdata("kml", "Placemark_LineString_tessellate.kml"), extent=WORLD
    )
    assert len(tracks) == 1 and tracks["started_at"].isna().all()
    assert tracks["name"].item() == "Tessellated paths"
    tracks, findings = surveys_from_file(
        realdata("kml", "Polygon_treasureIsland.kml"), extent=WORLD
    )
    assert tracks.empty and findings.empty
    decisions = tracks.attrs["hetu"]["record"]["decisions"]
    assert any("Polygon skipped" in d for d in decisions)


def test_kmz_with_timespan_surveyor_and_a_finding(tmp_path):
    body = (
        KML_HEAD + "<Placemark><name>清溪河 4月巡河</name>"
        '<ExtendedData><Data name="巡河人"><value>王建国</value></Data>'
        '<Data name="天气"><value>晴</value></Data></ExtendedData>'
        "<TimeSpan><begin>2026-04-03T08:00:00</begin><end>2026-04-03T09:10:00</end></TimeSpan>"
        "<LineString><coordinates>114.0,27.8,0 114.01,27.81,0 114.02,27.81,0</coordinates>"
        "</LineString></Placemark>"
        "<Placemark><name>垃圾点</name><description>河滩堆放</description>"
        '<ExtendedData><Data name="巡河人"><value>王建国</value></Data>'
        '<Data name="问题类型"><value>乱堆</value></Data></ExtendedData>'
        "<TimeStamp><when>2026-04-03T08:30:00+08:00</when></TimeStamp>"
        "<Point><coordinates>114.011,27.809</coordinates></Point></Placemark>"
        "</Document></kml>"
    )
    kmz = tmp_path / "track.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.writestr("doc.kml", body)
    tracks, findings = surveys_from_file(kmz)
    row = tracks.iloc[0]
    assert row["surveyor"] == "王建国" and row["n_points"] == 3
    assert (row["started_at"], row["ended_at"]) == (
        "2026-04-03T08:00:00+08:00",  # no zone: Asia/Shanghai
        "2026-04-03T09:10:00+08:00",
    )
    assert json.loads(row["attrs"]) == {"天气": "晴"}
    f = findings.iloc[0]
    assert (f["finding_id"], f["surveyor"], f["finding_type"]) == ("垃圾点", "王建国", "dumping")
    assert f["observed_at"] == "2026-04-03T08:30:00+08:00" and f["description"] == "河滩堆放"


def test_bad_kml_is_named(tmp_path):
    bad = tmp_path / "bad.kml"
    bad.write_text(KML_HEAD + "<Placemark><LineString><coordinates>abc</coordinates>", "utf-8")
    with pytest.raises(IngestError, match=r"bad\.kml.*KML"):
        surveys_from_file(bad)
    bad.write_text(
        KML_HEAD + "<Placemark><name>T1</name><gx:Track><when>2026-04-03T08:00:00Z</when>"
        "</gx:Track></Placemark></Document></kml>",
        "utf-8",
    )
    with pytest.raises(IngestError, match=r"bad\.kml: placemark 1 \(T1\).*1 <when> but 0"):
        surveys_from_file(bad)


def _write_fixes(path, rows, columns=("巡河人", "定位时间", "经度", "纬度", "电量")):
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_csv_grouped_by_surveyor_and_day_in_time_order(tmp_path):
    rows = [
        ("张三", "2026-04-03 08:10:00", 114.001, 27.801, "90%"),
        ("张三", "2026/4/3 8:05", 114.000, 27.800, "91%"),
        ("李四", "2026-04-03 09:00:00", 114.100, 27.900, "80%"),
        ("李四", "2026-04-03 09:05:00", 114.101, 27.902, "80%"),
        ("张三", "2026-04-03 08:20:00", 114.002, 27.803, "89%"),
        ("王五", "2026-04-04 08:20:00", None, None, "70%"),
    ]
    tracks, findings = surveys_from_file(_write_fixes(tmp_path / "app.csv", rows))
    assert findings.empty and list(tracks["surveyor"]) == ["张三", "李四"]  # sorted by key
    zhang = tracks.iloc[0]
    assert list(zhang.geometry.geoms[0].coords) == [(114.0, 27.8), (114.001, 27.801),
                                                    (114.002, 27.803)]  # fmt: skip
    assert (zhang["started_at"], zhang["n_points"]) == ("2026-04-03T08:05:00+08:00", 3)
    attrs = json.loads(zhang["attrs"])
    assert attrs["电量"] == ["91%", "90%", "89%"] and attrs["rows"] == [2, 6]
    assert json.loads(tracks.iloc[1]["attrs"])["电量"] == "80%"  # one value: kept once
    decisions = tracks.attrs["hetu"]["record"]["decisions"]
    assert any("rows 7" in d for d in decisions)  # the fix without a position, said


def test_excel_with_track_ids_date_and_time_columns(tmp_path):
    frame = pd.DataFrame(
        {
            "轨迹编号": ["T2", "T1", "T1", "T2"],
            "河长": ["赵六", "赵六", "赵六", "赵六"],
            "日期": ["2026-04-05"] * 4,
            "时间": ["09:10:00", "08:00:00", "08:30:00", "09:00:00"],
            "lon": [114.2, 114.0, 114.1, 114.3],
            "lat": [27.9, 27.8, 27.85, 27.95],
        }
    )
    path = tmp_path / "巡河.xlsx"
    frame.to_excel(path, index=False)
    tracks, _ = surveys_from_file(path)
    assert list(tracks["name"]) == ["T1", "T2"] and set(tracks["surveyor"]) == {"赵六"}
    t2 = tracks.iloc[1]
    assert list(t2.geometry.geoms[0].coords) == [(114.3, 27.95), (114.2, 27.9)]
    assert t2["ended_at"] == "2026-04-05T09:10:00+08:00"


def test_table_errors_name_file_row_and_field(tmp_path):
    rows = [("张三", "2026-04-03 08:10", 114.0, 27.8, ""), ("张三", "昨天", 114.1, 27.9, "")]
    with pytest.raises(IngestError, match=r"bad\.csv: row 3, field 定位时间: '昨天'"):
        surveys_from_file(_write_fixes(tmp_path / "bad.csv", rows))
    rows = [("张三", "2026-04-03 08:10", "114度x", 27.8, "")]
    with pytest.raises(IngestError, match=r"coords\.csv: row 2, field 经度"):
        surveys_from_file(_write_fixes(tmp_path / "coords.csv", rows))
    (tmp_path / "notime.csv").write_text("经度,纬度\n114,27.8\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"notime\.csv: no time column among: 经度, 纬度"):
        surveys_from_file(tmp_path / "notime.csv")


_FIX = st.tuples(
    st.sampled_from(["张三", "李四", "王 五"]),
    st.integers(1, 3),  # day of April
    st.integers(0, 86_399),  # second of the day
    st.integers(0, 500),
    st.integers(0, 500),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_FIX, min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_csv_grouping_property(tmp_path, fixes, rnd):
    rows = [
        (who, (dt.datetime(2026, 4, day) + dt.timedelta(seconds=s)).isoformat(" "),
         114 + x / 1e4, 27.8 + y / 1e4, "")
        for who, day, s, x, y in fixes
    ]  # fmt: skip
    rnd.shuffle(rows)
    tracks, _ = surveys_from_file(_write_fixes(tmp_path / "p.csv", rows))
    frame = pd.DataFrame(rows, columns=["who", "at", "x", "y", "_"])
    frame["day"] = frame["at"].str[:10]
    groups = {
        key: g
        for key, g in frame.groupby(["who", "day"])
        if len(set(zip(g["x"], g["y"], strict=True))) >= 2
    }
    assert len(tracks) == len(groups)
    for _, track in tracks.iterrows():
        g = groups[(track["surveyor"], track["started_at"][:10])]
        assert track["n_points"] == len(g)
        line = list(track.geometry.geoms[0].coords)
        order = g.sort_values("at", kind="stable")
        assert {tuple(p) for p in line} == set(zip(order["x"], order["y"], strict=True))
        assert line[0] == pytest.approx((order["x"].iloc[0], order["y"].iloc[0]))
        assert line[-1] == pytest.approx((order["x"].iloc[-1], order["y"].iloc[-1]))


def test_photo_folder_and_photo_list(demo_files, tmp_path):
    from geo.demo.county import write_photo

    folder = demo_files.patrols[2]
    tracks, findings = surveys_from_file(folder)
    assert len(tracks) == 1 and len(findings) == 3
    who = folder.iterdir().__next__().name  # one sub-folder per chief
    assert set(findings["surveyor"]) == {who} and tracks["surveyor"].item() == who
    assert findings["observed_at"].is_monotonic_increasing
    assert json.loads(tracks["attrs"].item())["photos"] == findings["finding_id"].tolist()
    photos = sorted(folder.rglob("*.jpg"))
    stray = tmp_path / "no_gps.jpg"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(stray)
    late = write_photo(tmp_path / "late.jpg", lon=114.0, lat=27.8,
                       taken=dt.datetime(2026, 4, 20, 10, 0))  # fmt: skip
    tracks, findings = surveys_from_file([*photos, stray, late], surveyor="巡查员")
    assert len(findings) == 4 and set(findings["surveyor"]) == {"巡查员"}
    assert len(tracks) == 1  # the single photo of 04-20 makes no line
    decisions = tracks.attrs["hetu"]["record"]["decisions"]
    assert any("no_gps.jpg" in d for d in decisions) and any(
        "one photo position" in d for d in decisions
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IngestError, match="no photos"):
        surveys_from_file(empty)


def test_unmatched_surveyors():
    tracks = pd.DataFrame({"surveyor": ["王 建国", "李四", "", None, "李四"]})
    chiefs = pd.DataFrame({"name": ["王建国", "赵六"]})
    assert unmatched_surveyors(tracks, chiefs) == ["李四"]
    assert unmatched_surveyors(tracks, chiefs.iloc[:0]) == []  # no chiefs yet: nothing to say


def test_ingest_patrols_into_a_ledger(demo_files, tmp_path):
    from geo.ledger.loading import ingest_file
    from geo.ledger.store import Ledger
    from geo.settings import load_settings

    settings = load_settings(demo_files.settings)
    with Ledger.create(tmp_path / "l.gpkg", settings=settings) as ledger:
        ingest_file(ledger, "chiefs", demo_files.chiefs)
        for path in demo_files.patrols:
            rec = ingest_file(ledger, "surveys", path)
            assert rec.n_kept > 0 and not rec.reused
        again = ingest_file(ledger, "surveys", demo_files.patrols[2])  # the photo folder
        assert again.reused
        tracks, findings = ledger.tracks(), ledger.findings()
        assert len(tracks) > 30 and len(findings) == 3
        assert unmatched_surveyors(tracks, ledger.chiefs()) == []


def test_patrol_app_in_gaode_coordinates_is_converted(tmp_path):
    from geo.ingest.offsets import from_wgs84

    truth = [(114.000, 27.800), (114.001, 27.801), (114.002, 27.803)]
    shifted = [from_wgs84(lon, lat, source="gcj02") for lon, lat in truth]
    rows = [("张三", f"2026-04-03 08:0{i}:00", lon, lat, "90%")
            for i, (lon, lat) in enumerate(shifted)]  # fmt: skip
    path = _write_fixes(tmp_path / "gaode.csv", rows)
    raw, _ = surveys_from_file(path)
    tracks, _ = surveys_from_file(path, source_crs="GCJ-02")
    got = list(tracks.geometry.iloc[0].geoms[0].coords)
    off = list(raw.geometry.iloc[0].geoms[0].coords)
    assert shapely.LineString(got).equals_exact(shapely.LineString(truth), 1e-7)
    assert abs(off[0][0] - truth[0][0]) > 1e-3  # Gaode's offset is hundreds of metres
    assert "GCJ-02" in tracks.attrs["hetu"]["record"]["crs"]
    with pytest.raises(CRSError, match="unknown source"):
        surveys_from_file(path, source_crs="mercator")


def test_an_english_surveyor_column_names_the_surveyor(tmp_path):
    from geo.ingest.tracks import surveys_from_file

    path = tmp_path / "patrol.csv"
    path.write_text(
        "surveyor,time,lon,lat\n"
        "王五,2025-10-12 09:00:00,113.90,27.80\n"
        "王五,2025-10-12 09:10:00,113.91,27.81\n",
        encoding="utf-8",
    )
    tracks, _ = surveys_from_file(path)
    assert tracks["surveyor"].tolist() == ["王五"]
