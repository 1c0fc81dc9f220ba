import geopandas as gpd
import pytest
import shapely
from conftest import gk_frame, square

from geo.ledger.store import Ledger
from geo.matching.findings import FINDING_LINK_COLUMNS, findings_ledger, link_findings

X0, Y0 = 500_000.0, 3_098_000.0


def _patches():
    return gk_frame({"patch_id": ["A", "B"]}, [square(X0, Y0, 100), square(X0 + 130, Y0, 100)])


def _findings(*points):
    ids = [f"F{i}" for i in range(len(points))]
    return gk_frame({"finding_id": ids}, [shapely.Point(X0 + x, Y0 + y) for x, y in points])


def test_within_distance_sorted_nearest_first():
    out = link_findings(_findings((50, 50), (120, 50), (500, 500)), _patches(), within_m=30)
    assert list(out.columns) == FINDING_LINK_COLUMNS
    rows = list(out.itertuples(index=False, name=None))
    assert rows == [
        ("F0", "A", 0.0),
        ("F1", "B", pytest.approx(10)),
        ("F1", "A", pytest.approx(20)),
    ]
    nearest = link_findings(_findings((120, 50)), _patches(), within_m=30, nearest_only=True)
    assert nearest["patch_id"].tolist() == ["B"]


def test_any_crs():
    f = _findings((120, 50)).to_crs(4326)
    out = link_findings(f, _patches().to_crs(3857), within_m=30)
    assert out["distance_m"].tolist() == pytest.approx([10, 20], abs=0.01)


def test_nothing_near():
    assert link_findings(_findings((900, 900)), _patches()).empty
    empty = gpd.GeoDataFrame({"finding_id": []}, geometry=[], crs=4547)
    assert link_findings(empty, _patches()).empty


def test_demo_findings(demo_run):
    with Ledger(demo_run.ledger) as ledger:
        out = findings_ledger(ledger, within_m=100)
        n = len(ledger.findings())
    assert 0 < out["finding_id"].nunique() <= n
    assert (out["distance_m"] <= 100).all()
    with Ledger(demo_run.ledger) as ledger:  # hetu match stored the links at the default distance
        stored = ledger.finding_links()
        expected = findings_ledger(ledger)
    assert len(stored) == len(expected) > 0
    assert stored[["finding_id", "patch_id"]].values.tolist() == (
        expected[["finding_id", "patch_id"]].values.tolist()
    )
