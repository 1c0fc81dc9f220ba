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
