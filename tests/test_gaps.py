import pytest
from conftest import gk_frame, square

from geo.ledger.store import Ledger
from geo.matching import match_patches
from geo.matching.gaps import GAP_COLUMNS, boundary_gaps, gap_patches, gaps_ledger

X0, Y0 = 500_000.0, 3_098_000.0


def _case():
    segs = gk_frame(
        {"segment_id": ["S1", "S2"], "water_name": ["East", "West"]},
        [square(X0, Y0, 100), square(X0 - 5000, Y0, 100)],
    )
    patches = gk_frame(
        {
            "patch_id": ["in", "n1", "n2", "o1", "w1"],
            "admin_code": ["439999001001", "439999001002", "439999001", "439999002001", None],
        },
        [
            square(X0 + 10, Y0 + 10, 5),
            square(X0 + 200, Y0, 5),
            square(X0 + 400, Y0, 5),
            square(X0 + 3000, Y0, 5),
            square(X0 - 5300, Y0, 5),
        ],
    )
    return patches, segs, match_patches(patches, segs, id_column="segment_id", near_m=500)


def test_gap_patches_have_their_nearest_water_at_any_distance():
    per = gap_patches(*_case()).set_index("patch_id")
    assert set(per.index) == {"n1", "n2", "o1", "w1"}
    assert per.loc["o1", ["relation", "water_name", "nearest_segment"]].tolist() == [
        "outside",
        "East",
        "S1",
    ]
    assert per.loc["o1", "distance_m"] == pytest.approx(2900)
    assert per.loc["w1", "township_code"] == "" and per.loc["w1", "distance_m"] == pytest.approx(
        295
    )


def test_grouped_by_township_and_water():
    out = boundary_gaps(*_case())
    assert list(out.columns) == GAP_COLUMNS
    first = out.iloc[0]
    assert (first["township_code"], first["water_name"], first["n_patches"]) == (
        "439999001",
        "East",
        2,
    )
    assert (first["n_near"], first["n_outside"]) == (2, 0)
    assert first["min_distance_m"] == pytest.approx(100) and first[
        "max_distance_m"
    ] == pytest.approx(300)
    assert set(first["patch_ids"].split(",")) == {"n1", "n2"}
    assert out["n_patches"].sum() == 4


def test_no_gaps():
    patches, segs, m = _case()
    assert boundary_gaps(patches.iloc[:1], segs, m).empty


def test_demo_gaps(demo_run):
    with Ledger(demo_run.ledger) as ledger:
        out = gaps_ledger(ledger)
        rel = ledger.assignments().drop_duplicates("patch_id")["relation"]
    assert out["n_patches"].sum() == rel.isin(["near", "outside"]).sum() > 0
    assert (out["min_distance_m"] > 0).all()
