import pytest
from conftest import realdata

from geo._errors import IngestError
from geo.surveys import FINDING_COLUMNS, TRACK_COLUMNS, surveys_from_file


def test_real_garmin_tracks_and_waypoints():
    tracks, findings = surveys_from_file(realdata("gps", "cerknicko-jezero.gpx"), surveyor="巡查员")
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
    tracks, _ = surveys_from_file(realdata("gps", "cerknicko-without-times.gpx"))
    assert len(tracks) == 7 and tracks["started_at"].isna().sum() == 6  # one track keeps times


def test_empty_segment_and_bom():
    tracks, _ = surveys_from_file(realdata("gps", "track-with-empty-segment.gpx"))
    assert len(tracks) == 1 and tracks.geometry.iloc[0].length > 0
    tracks, findings = surveys_from_file(realdata("gps", "unicode_with_bom.gpx"))
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

    from geo.findings import link_findings
    from geo.store import ImportRecord, open_ledger
    from geo.surveys import SURVEY_PATCH_COLUMNS, survey_patches

    path = tmp_path / "ledger.gpkg"
    shutil.copy(demo_run.ledger, path)
    with open_ledger(path) as ledger:
        findings, patches = ledger.findings(), ledger.patches()
        new = survey_patches(findings, patches, segments=ledger.segments())
        linked = set(link_findings(findings, patches)["finding_id"])
        assert list(new.columns) == [*SURVEY_PATCH_COLUMNS, "geometry"]
        assert len(new) == len(findings) - len(linked) > 0  # the demo's off-patch findings
        assert new["patch_id"].str.fullmatch(r"SV-2025101[25]-\d+").all()
        attrs = [json.loads(a) for a in new["attrs"]]
        assert {a["source"] for a in attrs} == {"survey"}
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

    from geo.surveys import survey_patches

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
