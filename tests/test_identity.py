import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import gk_frame, square
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import SchemaError
from geo.ledger.store import Ledger
from geo.matching.identity import LINK_COLUMNS, batch_order, link_batches, link_patches, relink

X0, Y0 = 500_000.0, 3_098_000.0


def _earlier():
    return gk_frame(
        {
            "patch_id": ["OPEN", "DONE", "KEPT", "NOPE"],
            "state": ["rectifying", "closed", "monitored", "dismissed"],
        },
        [square(X0 + 1000 * k, Y0, 100) for k in range(4)],
    )


def test_each_kind_by_the_earlier_state():
    new = gk_frame(
        {"patch_id": ["a", "b", "c", "d", "far"]},
        [square(X0 + 1000 * k + 5, Y0 + 5, 100) for k in range(4)] + [square(X0, Y0 + 5000, 9)],
    )
    links = link_patches(new, _earlier())
    assert list(links.columns) == LINK_COLUMNS
    assert dict(zip(links["patch_id"], links["kind"], strict=True)) == {
        "a": "same",
        "b": "recurrence",
        "c": "repeat_monitored",
        "d": "repeat_dismissed",
    }
    assert links["earlier_id"].tolist() == ["OPEN", "DONE", "KEPT", "NOPE"]
    assert links["iou"].iloc[0] == pytest.approx(95 * 95 / (2 * 100 * 100 - 95 * 95))
    assert links["centroid_m"].iloc[0] == pytest.approx(2**0.5 * 5)


def test_a_small_patch_inside_a_site_links_by_overlap_ratio_near_the_centre():
    new = gk_frame(
        {"patch_id": ["mid", "edge"]}, [square(X0 + 45, Y0 + 45, 10), square(X0, Y0, 10)]
    )
    links = link_patches(new, _earlier())
    assert links["patch_id"].tolist() == ["mid"]  # edge: centroid 64 m off, IoU 0.01
    assert links["overlap_ratio"].item() == pytest.approx(1.0)
    loose = link_patches(new, _earlier(), max_centroid_m=100)
    assert loose["patch_id"].tolist() == ["edge", "mid"]


def test_thresholds_are_options():
    new = gk_frame({"patch_id": ["x"]}, [square(X0 + 60, Y0, 100)])  # ratio 0.4, IoU 0.25
    assert link_patches(new, _earlier()).empty
    assert len(link_patches(new, _earlier(), min_iou=0.2)) == 1
    assert len(link_patches(new, _earlier(), min_overlap=0.4, max_centroid_m=60)) == 1


def test_needs_state_and_ids():
    new = gk_frame({"patch_id": ["x"]}, [square(X0, Y0, 1)])
    with pytest.raises(SchemaError, match="state"):
        link_patches(new, _earlier().drop(columns="state"))
    empty = gpd.GeoDataFrame({"patch_id": [], "state": []}, geometry=[], crs=4547)
    assert link_patches(new, empty).empty


def test_batches_link_only_to_earlier_ones():
    frame = gk_frame(
        {
            "patch_id": ["q1", "q2", "q3"],
            "batch_id": ["2025-Q3", "2025-Q1", "2026-Q1"],
            "issued_on": ["2025-08-01", "2025-02-01", "2026-02-01"],
            "state": ["closed", "closed", "issued"],
        },
        [square(X0, Y0, 50)] * 3,
    )
    assert batch_order(frame) == ["2025-Q1", "2025-Q3", "2026-Q1"]
    links = link_batches(frame)
    assert set(zip(links["patch_id"], links["earlier_id"], strict=True)) == {
        ("q1", "q2"),
        ("q3", "q1"),
        ("q3", "q2"),
    }


@settings(max_examples=40, deadline=None)
@given(st.floats(-120, 120), st.floats(-120, 120), st.floats(20, 200))
def test_iou_and_ratio_bounds(dx, dy, size):
    new = gk_frame(
        {"patch_id": ["n"]}, [shapely.box(X0 + dx, Y0 + dy, X0 + dx + size, Y0 + dy + size)]
    )
    links = link_patches(new, _earlier(), min_iou=0.0, min_overlap=0.0, max_centroid_m=1e9)
    for row in links.itertuples():
        assert 0 <= row.iou <= row.overlap_ratio <= 1 + 1e-9
        assert row.centroid_m >= 0


def test_demo_recurrences_are_found_and_stored(demo_run):
    with Ledger(demo_run.ledger) as ledger:
        links = ledger.links()
    want = demo_run.data.recurrence_of
    assert dict(zip(links["patch_id"], links["earlier_id"], strict=True)) == want
    assert set(links["kind"]) == {"recurrence"} and len(links) == len(want) == 8
    assert (links["iou"] > 0.5).all()
    assert isinstance(links, pd.DataFrame)


def test_relink_reads_each_kind_from_the_earlier_state_of_the_day():
    links = link_patches(gk_frame({"patch_id": ["a", "b"]}, [square(X0 + 5, Y0 + 5, 100),
                         square(X0 + 1005, Y0 + 5, 100)]), _earlier())  # fmt: skip
    assert list(links["kind"]) == ["same", "recurrence"]
    states = pd.DataFrame({"patch_id": ["OPEN", "DONE"], "state": ["closed", "rectifying"]})
    again = relink(links, states)
    assert list(again["kind"]) == ["recurrence", "same"]
    assert list(links["kind"]) == ["same", "recurrence"]  # a copy: the links read are kept
    assert relink(links, states.iloc[:1])["kind"].tolist() == ["recurrence", "recurrence"]
    assert relink(links.iloc[:0], states).empty


def _batch(pid: str, batch: str, issued_on: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"patch_id": [pid], "batch_id": batch, "issue_type": "dumping",
         "admin_code": "439999001001", "detected_on": issued_on, "issued_on": issued_on,
         "area_m2": 100.0, "source_area": None, "description": "堆放", "attrs": "{}"},
        geometry=[shapely.box(114.0, 28.0, 114.0004, 28.0004)], crs=4490,
    )  # fmt: skip


def test_a_link_made_while_the_earlier_patch_was_open_is_a_recurrence_once_it_closes(tmp_path):
    """Issue 16.8: linked ``same`` at match time, the link went stale when A was closed."""
    from click.testing import CliRunner

    from geo.cli.main import cli
    from geo.labels import ASSESSMENT
    from geo.matching.identity import link_ledger
    from geo.records import ImportRecord
    from geo.settings import Settings

    path, photo = tmp_path / "ledger.gpkg", tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff photo")
    settings = tmp_path / "hetu.toml"
    settings.write_text('[townships]\n"439999001" = "清溪镇"\n', encoding="utf-8")
    with Ledger.create(path, settings=Settings(townships={"439999001": "清溪镇"})) as led:
        for pid, batch, day in (("A", "2025-Q3", "2025-08-01"), ("B", "2025-Q4", "2025-11-01")):
            record = ImportRecord(kind="patches", file=pid, sha256=pid, batch_id=batch)
            led.add_patches(_batch(pid, batch, day), record)
        for state, at in (("verifying", "08-05"), ("confirmed", "08-10"), ("rectifying", "08-12")):
            led.transition("A", state, actor="t", at=f"2025-{at}T09:00", deadline="2025-12-31")
        link_ledger(led)  # hetu match on 2025-11-02: A is still being rectified
        assert led.links()["kind"].tolist() == ["same"]
        led.transition("A", "rectified", actor="t", at="2025-11-15T09:00")
        for kind in ("photo_before", "photo_after"):
            led.attach("A", photo, kind=kind, actor="t", at="2025-11-15T09:00")
        led.transition("A", "closed", actor="t", at="2025-11-20T09:00")
        assert led.links()["kind"].tolist() == ["same"]  # stored: what matching saw
        assert relink(led.links(), led.status_frame())["kind"].tolist() == ["recurrence"]
        before = relink(led.links(), led.status_frame(as_of="2025-11-10"))
        assert before["kind"].tolist() == ["same"]  # on a day before A closed

    def recurrences(as_of: str) -> int:
        table = tmp_path / f"{as_of}.csv"
        args = ["--settings", settings, "assess", path, "--quarter", "2025Q4", "--as-of", as_of,
                "-o", table]  # fmt: skip
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        rows = pd.read_csv(table, encoding="utf-8-sig").set_index(ASSESSMENT["township"])
        return int(rows.loc["清溪镇", ASSESSMENT["recurrences"]])

    assert recurrences("2026-01-15") == 1 and recurrences("2025-11-10") == 0
