import datetime as dt

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import gk_frame, realdata
from shapely.ops import substring

from geo.errors import SchemaError
from geo.field.coverage import (
    bank_lines,
    coverage_ledger,
    shoreline_coverage,
    shoreline_pieces,
    township_coverage,
)
from geo.ingest.tracks import surveys_from_file
from geo.ledger.store import open_ledger


def _river(length_m: float = 12_000) -> shapely.LineString:
    """A meandering centerline of exactly ``length_m`` metres in EPSG:4547."""
    x = np.linspace(0, 1.2 * length_m, 2001)
    y = 150 * np.sin(2 * np.pi * x / 4000)
    line = shapely.LineString(np.column_stack([x + 500_000, y + 3_100_000]))
    return substring(line, 0, length_m)


def _segment(line, half_width, sid="S1", code="439999001001"):
    poly = line.buffer(half_width, cap_style="flat", quad_segs=8)
    return gk_frame({"segment_id": [sid], "admin_code": [code]}, [poly])


def test_banks_are_the_two_long_sides():
    river = _river()
    banks = bank_lines(_segment(river, 30)).to_crs(4547)
    assert list(banks["bank"]) == [1, 2]
    # the inner and outer bank of a meander average to the centerline; the end cuts are left out
    assert banks.length.mean() == pytest.approx(12_000, rel=2e-3)
    assert banks["length_m"].tolist() == pytest.approx(banks.length.tolist())


def test_a_lake_is_shoreline_whole():
    lake = shapely.Point(500_000, 3_100_000).buffer(1000, quad_segs=32)
    banks = bank_lines(gk_frame({"segment_id": ["L1"]}, [lake])).to_crs(4547)
    assert len(banks) == 1 and banks.length.iloc[0] == pytest.approx(2 * np.pi * 1000, rel=1e-3)


def test_ten_km_patrol_along_a_twelve_km_segment_is_83_percent():
    river = _river()
    seg = _segment(river, 30)  # a 60 m wide river: a walk down the middle sees both banks
    track = gk_frame({"name": ["t"]}, [substring(river, 0, 10_000)])
    cov = shoreline_coverage(track, seg, within_m=50)
    row = cov.iloc[0]
    assert row["coverage_pct"] == pytest.approx(100 * 10 / 12, abs=1.0)
    assert row["shoreline_km"] == pytest.approx(24, rel=2e-3)
    assert row["surveyed_km"] + row["gap_km"] == pytest.approx(row["shoreline_km"])
    assert row["n_tracks"] == 1 and cov.crs.to_epsg() == 4490
    gap = gpd.GeoSeries([row.geometry], crs=4490).to_crs(4547).iloc[0]
    assert gap.length == pytest.approx(1000 * row["gap_km"])  # the last ~2 km of each bank
    assert gap.distance(shapely.Point(river.coords[-1])) < 31


def test_one_side_of_a_wide_river_covers_one_bank():
    river = _river()
    seg = _segment(river, 150)
    track = gk_frame({"name": ["t"]}, [substring(river, 0, 10_000).offset_curve(130)])
    pieces = shoreline_pieces(track, seg, within_m=50).to_crs(4547)
    done = pieces[pieces["covered"]]
    assert set(done["bank"]) == {1} or set(done["bank"]) == {2}
    assert done["length_m"].sum() / 12_000 == pytest.approx(10 / 12, abs=0.015)
    cov = shoreline_coverage(track, seg)
    assert cov["coverage_pct"].iloc[0] == pytest.approx(100 * 10 / 24, abs=1.0)


def test_tracks_outside_the_period_do_not_count():
    river = _river()
    track = gk_frame(
        {"name": ["t"], "started_at": ["2025-10-12T08:00:00+08:00"]},
        [substring(river, 0, 10_000)],
    )
    seg = _segment(river, 30)
    assert shoreline_coverage(track, seg, end=dt.date(2025, 10, 11))["surveyed_km"].iloc[0] == 0
    kept = shoreline_coverage(track, seg, start=dt.date(2025, 10, 12), end=dt.date(2025, 10, 12))
    assert kept["surveyed_km"].iloc[0] > 19


def test_real_gpx_against_a_buffer_of_its_own_track():
    world = (-180.0, -90.0, 180.0, 90.0)  # a Slovenian lake: outside China, checked by default
    tracks, _ = surveys_from_file(realdata("gps", "cerknicko-jezero.gpx"), extent=world)
    longest = tracks.iloc[[int(tracks.to_crs(tracks.estimate_utm_crs()).length.argmax())]]
    # Slovenia is outside China's zones: move the real shape 100 degrees east, same latitude
    track = longest.set_geometry(longest.translate(100, 0))
    metric = track.to_crs(4547)
    area = metric.buffer(20).union_all()
    seg = gpd.GeoDataFrame({"segment_id": ["G1"]}, geometry=[area], crs=4547)
    cov = shoreline_coverage(track, seg, within_m=50)
    assert metric.length.iloc[0] > 1000 and cov["shoreline_km"].iloc[0] > 0
    assert cov["coverage_pct"].iloc[0] == pytest.approx(100, abs=0.5)
    near = shoreline_coverage(track, seg, within_m=5)
    assert near["coverage_pct"].iloc[0] < 50  # the bank is 20 m off the track


def test_demo_coverage_and_township_rollup(demo_run):
    with open_ledger(demo_run.ledger) as ledger:
        cov = coverage_ledger(ledger)
        n_segments = len(ledger.segments())
    assert len(cov) == n_segments
    assert ((cov["coverage_pct"] >= 0) & (cov["coverage_pct"] <= 100)).all()
    surveyed = cov[cov["surveyed_km"] > 0]
    # the two October surveys and the chiefs' April patrols reach all four rivers
    assert set(surveyed["range_id"]) == {"R01", "R02", "R03", "R04"}
    assert 0 < cov["surveyed_km"].sum() < cov["shoreline_km"].sum()
    with open_ledger(demo_run.ledger) as ledger:
        october = coverage_ledger(ledger, start=dt.date(2025, 10, 1), end=dt.date(2025, 10, 31))
    # two 3–4.5 km tracks 30 m off the centerline: the near bank only, on two rivers
    assert set(october.loc[october["surveyed_km"] > 0, "range_id"]) == {"R01", "R02"}
    assert 5 < october["surveyed_km"].sum() < 9.5
    towns = township_coverage(cov)
    assert towns["shoreline_km"].sum() == pytest.approx(cov["shoreline_km"].sum())
    assert (towns["township_code"].str.len() == 9).all()
    expected = 100 * towns["surveyed_km"] / towns["shoreline_km"]
    assert towns["coverage_pct"].tolist() == pytest.approx(expected.tolist())


def test_refuses_frames_without_ids_or_negative_distance():
    river = _river()
    with pytest.raises(SchemaError, match="segment_id"):
        bank_lines(gk_frame({"id": [1]}, [river.buffer(30)]))
    track = gk_frame({"name": ["t"]}, [river])
    with pytest.raises(SchemaError, match="within_m"):
        shoreline_coverage(track, _segment(river, 30), within_m=-1)
