"""Self-check (自查): change detection on seeded synthetic pairs, the CLI end to end, the map."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geo.cli.main import cli
from geo.demo.changes import synthetic_pair
from geo.imagery.candidates import read_candidates, write_candidates
from geo.imagery.detect import detect_changes


def _score(found: gpd.GeoDataFrame, pair) -> tuple[float, float, int]:
    """Recall of planted changes ≥ 100 m² inside, precision, candidates on the cloud."""
    found = found.to_crs(pair.planted.crs)
    wanted = pair.planted[pair.planted["inside"] & (pair.planted["area_m2"] >= 100)]
    hit = [found.intersects(g).any() for g in wanted.geometry]
    good = [pair.planted.intersects(g).any() for g in found.geometry]
    cloudy = int(found.intersects(pair.cloud).sum()) if not pair.cloud.is_empty else 0
    return sum(hit) / len(wanted), (sum(good) / len(found) if len(found) else 1.0), cloudy


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return synthetic_pair(tmp_path_factory.mktemp("pair"), size_px=800, n_changes=16, seed=3)


def test_recall_precision_cloud_and_kinds(pair):
    found = detect_changes(pair.before, pair.after, pair.ranges)
    recall, precision, cloudy = _score(found, pair)
    assert recall >= 0.95 and precision >= 0.9
    assert cloudy == 0  # the cloud and its shadow are never changes
    meta = found.attrs["hetu"]
    assert meta["unobserved_m2"] > 5000  # reported as not observed instead
    assert found.crs.to_epsg() == 4490
    assert set(found["segment_id"]) == {"S1"}
    joined = gpd.sjoin(found.to_crs(pair.planted.crs), pair.planted, predicate="intersects")
    right = (joined["kind_left"] == joined["kind_right"]).mean()
    assert right >= 0.9, joined[["kind_left", "kind_right"]]
    outside = pair.planted[~pair.planted["inside"]]
    assert len(outside) and not found.to_crs(outside.crs).intersects(outside.union_all()).any()


def test_misregistration_and_illumination_alone_give_nothing(tmp_path):
    calm = synthetic_pair(tmp_path, size_px=600, n_changes=0, cloud=False, shift_px=(2, 1),
                          gain=(1.3, 1.2, 1.1, 0.9), offset=(8, -5, 0, 4))  # fmt: skip
    found = detect_changes(calm.before, calm.after, calm.ranges)
    assert len(found) == 0


def test_partial_overlap_other_crs_and_resolution(tmp_path):
    part = synthetic_pair(tmp_path, size_px=800, n_changes=16, seed=5, after_cover=0.6)
    # the after scene in degrees (CGCS2000) at 3 m: warped onto the before grid
    moved = tmp_path / "after_4490.tif"
    with rasterio.open(part.after) as src:
        tr, w, h = calculate_default_transform(
            src.crs, "EPSG:4490", src.width, src.height, *src.bounds, resolution=3e-5
        )
        prof = src.profile | {"crs": "EPSG:4490", "transform": tr, "width": w, "height": h}
        with rasterio.open(moved, "w", **prof) as dst:
            for b in range(1, 5):
                reproject(rasterio.band(src, b), rasterio.band(dst, b),
                          resampling=Resampling.bilinear)  # fmt: skip
            dst.descriptions = src.descriptions
    found = detect_changes(part.before, moved, part.ranges)
    meta = found.attrs["hetu"]
    assert meta["unobserved_m2"] > 0.3 * meta["aoi_m2"]  # the uncovered 40 % is not observed
    covered = part.planted[part.planted.geometry.centroid.x < 500_000 + 800 * 2 * 0.55]
    wanted = covered[covered["inside"] & (covered["area_m2"] >= 100)]
    hits = [found.to_crs(wanted.crs).intersects(g).any() for g in wanted.geometry]
    assert sum(hits) / len(wanted) >= 0.9
    _, precision, cloudy = _score(found, part)
    assert precision >= 0.9 and cloudy == 0


def test_bands_needed(pair, tmp_path):
    with rasterio.open(pair.before) as src:
        prof = src.profile
        data = src.read()
    plain = tmp_path / "plain.tif"
    with rasterio.open(plain, "w", **prof) as dst:
        dst.write(data)
        dst.descriptions = (None, None, None, None)
        dst.colorinterp = [rasterio.enums.ColorInterp.undefined] * 4
    from geo.errors import BandError

    with pytest.raises(BandError, match="--bands"):
        detect_changes(plain, pair.after, pair.ranges)
    found = detect_changes(plain, pair.after, pair.ranges,
                           bands={"red": 1, "green": 2, "blue": 3, "nir": 4})  # fmt: skip
    assert len(found) >= 5


def test_cli_detect_apply_review_and_map(pair, tmp_path):
    runner = CliRunner()
    led = str(tmp_path / "ledger.gpkg")
    ranges = tmp_path / "ranges.gpkg"
    pair.ranges.to_file(ranges)
    assert runner.invoke(cli, ["init", led]).exit_code == 0
    assert runner.invoke(cli, ["ingest", led, "ranges", str(ranges)]).exit_code == 0
    out = tmp_path / "cand.gpkg"
    res = runner.invoke(cli, ["detect", led, "--before", str(pair.before), "--after",
                              str(pair.after), "-o", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    cands = read_candidates(out)
    assert len(cands) >= 5 and (cands["chip_before"] != "").all()
    assert (tmp_path / cands["chip_after"].iloc[0]).exists()
    # review: leave the first one out, then apply the reviewed file
    cands.loc[0, "keep"] = 0
    write_candidates(cands, out)
    res = runner.invoke(cli, ["detect", led, "--apply-file", str(out), "--batch", "自查-T"])
    assert res.exit_code == 0, res.output
    assert f"{len(cands) - 1} patch(es) added" in res.output
    from geo.ledger.store import open_ledger

    with open_ledger(led) as ledger:
        patches = ledger.patches()
        events = ledger.events()
        assert set(patches["batch_id"]) == {"自查-T"}
        assert len(patches) == len(cands) - 1
        assert all(json.loads(a)["source"] == "自查" for a in patches["attrs"])
        assert set(events["actor"]) == {"自查"}
        assert set(ledger.assignments()["segment_id"].dropna()) == {"S1"}
    # the same batch again is refused whole, without a traceback
    res = runner.invoke(cli, ["detect", led, "--apply-file", str(out), "--batch", "自查-T"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    # detecting again now links every candidate to the patch at the same place
    res = runner.invoke(cli, ["detect", led, "--before", str(pair.before), "--after",
                              str(pair.after), "--apply", "--batch", "自查-U"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "0 patch(es) added" in res.output or "1 patch(es) added" in res.output
    assert runner.invoke(cli, ["verify", led]).exit_code == 0
    html = tmp_path / "map.html"
    res = runner.invoke(cli, ["map", led, "-o", str(html), "--candidates", str(out)])
    assert res.exit_code == 0, res.output
    page = html.read_text(encoding="utf-8")
    assert "自查候选图斑" in page and "data:image/jpeg;base64," in page
