import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import gk_frame, square
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import SchemaError
from geo.matching import match_patches
from geo.matching.core import RESULT_COLUMNS

X0, Y0 = 500_000.0, 3_098_000.0


def two_ranges():
    """Two ranges side by side, 100 m x 100 m each."""
    return gk_frame({"range_id": ["A", "B"]}, [square(X0, Y0, 100), square(X0 + 100, Y0, 100)])


@pytest.fixture
def ranges():
    return two_ranges()


def _patches(**named):
    return gk_frame({"patch_id": list(named)}, list(named.values()))


def _by_patch(result):
    return {pid: grp.reset_index(drop=True) for pid, grp in result.groupby("patch_id", sort=False)}


def test_every_relation(ranges):
    patches = _patches(
        inside=square(X0 + 10, Y0 + 10, 10),
        straddle=shapely.box(X0 + 90, Y0 + 10, X0 + 120, Y0 + 20),
        partly=shapely.box(X0 + 190, Y0 + 10, X0 + 210, Y0 + 20),
        near=square(X0 + 300, Y0, 10),
        far=square(X0 + 5000, Y0, 10),
    )
    out = match_patches(patches, ranges, near_m=500)
    assert list(out.columns) == RESULT_COLUMNS
    rows = _by_patch(out)
    assert rows["inside"].loc[0, ["range_id", "relation"]].tolist() == ["A", "inside"]
    assert rows["inside"].loc[0, "share"] == pytest.approx(1.0)
    s = rows["straddle"]
    assert list(s["range_id"]) == ["B", "A"] and set(s["relation"]) == {"straddles"}
    assert s["share"].tolist() == pytest.approx([2 / 3, 1 / 3], rel=1e-6)
    assert s["overlap_m2"].sum() == pytest.approx(300.0, rel=1e-6)
    assert s["primary"].tolist() == [True, False]
    p = rows["partly"].iloc[0]
    assert (p["relation"], p["range_id"], p["share"]) == ("partly_outside", "B", pytest.approx(0.5))
    n = rows["near"].iloc[0]
    assert (n["relation"], n["range_id"]) == ("near", "B")
    assert n["distance_m"] == pytest.approx(100.0)
    f = rows["far"].iloc[0]
    assert f["relation"] == "outside" and pd.isna(f["range_id"])
    assert f["distance_m"] == pytest.approx(4800.0)


def test_tie_break_is_the_smallest_id(ranges):
    out = match_patches(_patches(tie=shapely.box(X0 + 90, Y0, X0 + 110, Y0 + 10)), ranges)
    assert out.loc[out["primary"], "range_id"].item() == "A"


def test_any_crs_gives_the_same_answer(ranges):
    patches = _patches(x=shapely.box(X0 + 90, Y0 + 10, X0 + 120, Y0 + 20))
    a = match_patches(patches, ranges)
    b = match_patches(patches.to_crs(4326), ranges.to_crs(3857))
    assert a["range_id"].tolist() == b["range_id"].tolist()
    assert np.allclose(a["overlap_m2"], b["overlap_m2"], rtol=1e-4)


def test_rows_sharing_an_id_are_summed():
    ranges = gk_frame({"range_id": ["A", "A"]}, [square(X0, Y0, 100), square(X0 + 100, Y0, 100)])
    out = match_patches(_patches(p=shapely.box(X0 + 90, Y0, X0 + 110, Y0 + 10)), ranges)
    assert len(out) == 1 and out["relation"].item() == "inside"
    assert out["overlap_m2"].item() == pytest.approx(200.0)


def test_segment_ids_are_kept_as_the_output_column():
    segs = gk_frame({"segment_id": ["439999000001"]}, [square(X0, Y0, 100)])
    out = match_patches(_patches(p=square(X0 + 1, Y0 + 1, 5)), segs, id_column="segment_id")
    assert "segment_id" in out.columns and out["segment_id"].item() == "439999000001"


def test_empty_inputs():
    empty = gpd.GeoDataFrame({"patch_id": []}, geometry=[], crs=4490)
    out = match_patches(empty, gk_frame({"range_id": ["A"]}, [square(X0, Y0, 1)]))
    assert out.empty and list(out.columns) == RESULT_COLUMNS
    no_ranges = gpd.GeoDataFrame({"range_id": []}, geometry=[], crs=4490)
    out = match_patches(_patches(p=square(X0, Y0, 5)), no_ranges)
    assert out["relation"].item() == "outside" and np.isnan(out["distance_m"].item())


def test_missing_columns_named(ranges):
    with pytest.raises(SchemaError, match="patch_id"):
        match_patches(gk_frame({"id": [1]}, [square(X0, Y0, 1)]), ranges)
    with pytest.raises(SchemaError, match="range_id"):
        match_patches(_patches(p=square(X0, Y0, 1)), gk_frame({"x": [1]}, [square(X0, Y0, 1)]))


boxes = st.tuples(st.floats(-50, 250), st.floats(-50, 150), st.floats(1, 80), st.floats(1, 80))


@settings(max_examples=80, deadline=None)
@given(st.lists(boxes, min_size=1, max_size=12))
def test_invariants_on_random_patches(specs):
    ranges = two_ranges()
    geoms = [shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h) for x, y, w, h in specs]
    patches = gk_frame({"patch_id": [f"P{i}" for i in range(len(geoms))]}, geoms)
    out = match_patches(patches, ranges, near_m=1000)
    assert set(out["patch_id"]) == set(patches["patch_id"])
    assert (out.groupby("patch_id")["primary"].sum() == 1).all()
    assert (out.groupby("patch_id")["share"].sum() <= 1 + 1e-9).all()
    for pid, grp in out.groupby("patch_id"):
        assert grp["relation"].nunique() == 1
        area = patches.set_index("patch_id").loc[pid].geometry.area
        assert grp["overlap_m2"].sum() <= area * (1 + 1e-9)
        if grp["relation"].iloc[0] == "inside":
            assert len(grp) == 1


def _oracle(patches, ranges, *, near_m, tolerance=0.005):
    """Brute force, pair by pair: {patch: (relation, {range: overlap}, nearest, distance)}."""
    out = {}
    for pid, pg in zip(patches["patch_id"], patches.geometry, strict=True):
        over = {}
        for rid, rg in zip(ranges["range_id"], ranges.geometry, strict=True):
            a = pg.intersection(rg).area
            if a > 0:
                over[rid] = over.get(rid, 0.0) + a
        d = {}
        for rid, rg in zip(ranges["range_id"], ranges.geometry, strict=True):
            d[rid] = min(d.get(rid, np.inf), pg.distance(rg))
        near = min(d, key=lambda r: (d[r], r)) if d else None
        if over:
            covered = sum(over.values()) / pg.area
            rel = (
                "partly_outside"
                if covered < 1 - tolerance
                else ("straddles" if len(over) > 1 else "inside")
            )
        else:
            rel = "near" if d and d[near] <= near_m else "outside"
        out[pid] = (rel, over, near, d.get(near, np.nan) if near else np.nan)
    return out


range_specs = st.lists(
    st.tuples(st.sampled_from("ABCD"), st.floats(0, 300), st.floats(0, 300), st.floats(5, 150)),
    min_size=0,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(boxes, min_size=1, max_size=10), range_specs, st.sampled_from([1, 2]))
def test_agrees_with_brute_force(specs, rspecs, workers):
    geoms = [shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h) for x, y, w, h in specs]
    patches = gk_frame({"patch_id": [f"P{i}" for i in range(len(geoms))]}, geoms)
    rgeoms = [shapely.Point(X0 + x, Y0 + y).buffer(r, quad_segs=4) for _, x, y, r in rspecs]
    ranges = gk_frame({"range_id": [s[0] for s in rspecs]}, rgeoms)
    out = match_patches(patches, ranges, near_m=60, workers=workers, central_meridian=114)
    want = _oracle(patches, ranges, near_m=60)
    for pid, grp in out.groupby("patch_id"):
        rel, over, near, dist = want[pid]
        assert grp["relation"].iloc[0] == rel
        assert grp["primary"].iloc[0] and grp["primary"].sum() == 1
        if over:
            got = dict(zip(grp["range_id"], grp["overlap_m2"], strict=True))
            assert got.keys() == over.keys()
            assert all(got[k] == pytest.approx(over[k], rel=1e-6, abs=1e-6) for k in over)
            best = max(over.values())
            tied = sorted(k for k, v in over.items() if abs(v - best) <= 1e-6 * best)
            assert grp["range_id"].iloc[0] in tied
        else:
            assert grp["distance_m"].item() == pytest.approx(dist, abs=1e-6, nan_ok=True)
            if rel == "near":
                assert grp["range_id"].item() == near


def test_threads_give_the_same_rows():
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 3000, (400, 2))
    geoms = [
        square(X0 + x, Y0 + y, s) for (x, y), s in zip(xy, rng.uniform(5, 80, 400), strict=True)
    ]
    patches = gk_frame({"patch_id": [f"P{i:03d}" for i in range(400)]}, geoms)
    rxy = rng.uniform(0, 3000, (60, 2))
    rg = [shapely.Point(X0 + x, Y0 + y).buffer(150) for x, y in rxy]
    ranges = gk_frame({"range_id": [f"R{i % 45:02d}" for i in range(60)]}, rg)
    one = match_patches(patches, ranges, workers=1)
    two = match_patches(patches, ranges, workers=2)
    pd.testing.assert_frame_equal(one, two)
    assert set(one["relation"]) >= {"inside", "straddles", "partly_outside", "near"}


def test_shared_geometry_objects_are_safe_across_threads():
    shared = square(X0, Y0, 100)
    ranges = gk_frame({"range_id": [f"R{i}" for i in range(40)]}, [shared] * 40)
    out = match_patches(_patches(p=square(X0 + 10, Y0 + 10, 5)), ranges, workers=2)
    assert len(out) == 40 and out.loc[out["primary"], "range_id"].item() == "R0"
    assert out["relation"].unique().tolist() == ["straddles"]


def test_a_patch_in_a_hole_measures_to_the_hole_edge():
    ring = shapely.box(X0, Y0, X0 + 300, Y0 + 300).difference(
        shapely.box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)
    )
    ranges = gk_frame({"range_id": ["L"]}, [ring])
    out = match_patches(_patches(island=square(X0 + 140, Y0 + 140, 20)), ranges)
    assert out["relation"].item() == "near" and out["distance_m"].item() == pytest.approx(40)


def test_touching_is_near_at_zero():
    out = match_patches(_patches(t=square(X0 + 200, Y0, 10)), two_ranges())
    assert (out["relation"].item(), out["range_id"].item()) == ("near", "B")
    assert out["distance_m"].item() == 0


def test_unknown_engine_is_refused(ranges):
    with pytest.raises(ValueError, match="engine"):
        match_patches(_patches(p=square(X0, Y0, 1)), ranges, engine="spark")


def test_long_rings_are_clipped_to_the_patch_and_measure_the_same():
    """A lake of 6,000 vertices: the overlap of a shore patch is computed on a clip of it."""
    from geo.matching.core import _CLIP_ABOVE, _overlap_areas

    t = np.linspace(0, 2 * np.pi, 6000, endpoint=False)
    r = 3000 * (1 + 0.05 * np.sin(7 * t))
    lake = shapely.Polygon(np.column_stack([r * np.cos(t), r * np.sin(t)]))
    assert shapely.get_num_coordinates(lake) > _CLIP_ABOVE
    rng = np.random.default_rng(3)
    angle = rng.uniform(0, 2 * np.pi, 200)
    at = np.column_stack([np.cos(angle), np.sin(angle)]) * rng.uniform(2700, 3300, 200)[:, None]
    patches = shapely.buffer(shapely.points(at), rng.uniform(10, 200, 200), quad_segs=2)
    lakes = np.array([lake] * len(patches), dtype=object)
    got = _overlap_areas(patches, lakes)
    want = shapely.area(shapely.intersection(patches, lakes))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)
    assert (want > 0).any() and (want < shapely.area(patches)).any()


def _brute_nearest(pg: np.ndarray, rg: np.ndarray, rank: np.ndarray) -> tuple:
    """Every geometry measured against every range: the nearest (ties: smallest rank)."""
    d = shapely.distance(pg[:, None], rg[None, :])
    best = np.lexsort((np.broadcast_to(rank, d.shape), d), axis=1)[:, 0]
    return best, d[np.arange(len(pg)), best]


def test_near_and_outside_distances_are_those_of_an_exhaustive_search():
    from geo.matching.core import nearest_ranges

    ranges = np.array([shapely.box(0, 0, 100, 10), shapely.box(0, 5000, 100, 5010)], dtype=object)
    pts = shapely.points([(50, 500), (50, 2400), (50, 9000), (5000, 5000), (50, 2505)])
    want = _brute_nearest(pts, ranges, np.arange(2))
    for within in (1000.0, 10.0, None):
        got = nearest_ranges(pts, ranges, np.arange(2), within=within)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1])
    # (50, 2505) is 2495 m from both: the smaller rank wins
    assert want[0].tolist() == [0, 0, 1, 1, 0] and want[1][0] == pytest.approx(490.0)


@pytest.mark.parametrize("within", [5000.0, 50.0, None])
def test_the_nearest_is_exact_whatever_the_first_radius(within):
    from geo.matching import nearest

    # a grid of small ranges with patches among and far beyond them: a 5 km radius
    # gathers hundreds of boundary pieces (GEOS's search takes those), 50 m few, and the
    # far patches need later rounds; every answer must be the exhaustive one
    xs, ys = np.meshgrid(np.arange(0, 3000, 100.0), np.arange(0, 3000, 100.0))
    ranges = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 20, ys.ravel() + 20)
    rng = np.random.default_rng(3)
    at = np.concatenate([rng.uniform(-500, 3500, (200, 2)), rng.uniform(-9000, 12000, (60, 2))])
    pts = shapely.buffer(shapely.points(at), rng.uniform(1, 60, len(at)), quad_segs=2)
    pts[:40] = shapely.points(at[:40])  # points too
    rank = rng.permutation(len(ranges))
    got = nearest.nearest_ranges(pts, ranges, rank, within=within)
    want = _brute_nearest(pts, ranges, rank)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    inside = want[1] == 0
    assert inside.any() and (want[1] > 1000).any()


def test_lower_bounds_never_exceed_the_distance():
    from geo.matching.nearest import _lower_bounds

    rng = np.random.default_rng(11)
    n = 3000
    walk = np.cumsum(rng.normal(0, 30, (n, 16, 2)), axis=1) + rng.uniform(-600, 600, (n, 1, 2))
    walk[: n // 4, 9:] = walk[: n // 4, 8:9]  # pieces shorter than k: the last vertex repeated
    lo = rng.uniform(-300, 300, (n, 2))
    box = np.hstack([lo, lo + rng.uniform(0, 200, (n, 2))])
    bound = _lower_bounds(walk, box)
    exact = shapely.distance(shapely.box(*box.T), shapely.linestrings(walk))
    assert (bound <= exact + 1e-9).all()
    far = exact > 100
    assert far.sum() > n // 4 and (bound[far] > 0.9 * exact[far]).mean() > 0.9  # and tight


def test_the_nearest_among_wiggly_banks_is_exact_and_reuses_a_built_index():
    from geo.matching.nearest import PieceIndex, nearest_ranges

    # river ranges like a province's (buffered random walks of 50 m steps, cut every
    # ~1 km), patches beside and far off them: the lower bounds must never drop the nearest
    rng = np.random.default_rng(8)
    ranges = []
    for _ in range(12):
        step = np.column_stack([np.cos(np.cumsum(rng.normal(0, 0.2, 200))), np.zeros(200)])
        step[:, 1] = np.sqrt(1 - step[:, 0] ** 2) * rng.choice([-1, 1])
        line = rng.uniform(0, 8000, 2) + np.cumsum(step * 50, axis=0)
        for a in range(0, 180, 20):
            piece = shapely.LineString(line[a : a + 21])
            ranges.append(shapely.buffer(piece, rng.uniform(15, 60), cap_style="flat"))
    ranges = np.array(ranges, dtype=object)
    at = rng.uniform(-2000, 10000, (400, 2))
    pts = shapely.buffer(shapely.points(at), rng.uniform(5, 80, len(at)), quad_segs=1)
    rank = rng.permutation(len(ranges))
    want = _brute_nearest(pts, ranges, rank)
    index = PieceIndex.of(ranges, rank)
    for within in (1000.0, 30.0):
        got = nearest_ranges(pts, ranges, rank, within=within, index=index)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    touching = np.flatnonzero(want[1] == 0)
    assert len(touching) and (want[1] > 1000).any()
    # pairs known to intersect stand for the search: each at distance 0, smallest rank
    hit = nearest_ranges(pts, ranges, rank, index=index, intersecting=(touching, want[0][touching]))
    np.testing.assert_array_equal(hit[0], want[0])
    assert (hit[1][touching] == 0).all()


def test_a_nearest_point_on_the_pieces_box_is_not_lost_to_rounding():
    from geo.matching.nearest import nearest_ranges

    # found by hypothesis: the nearest range's nearest point lies on its piece's box, so
    # the box gap equals the distance and, rounded at Gauss-Kruger magnitudes, exceeded it
    x, y, w, h = 17.422861726858642, 94.0, 1.9, 29.149386985303565
    patch = shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)
    ranges = np.array(
        [
            shapely.Point(X0 + 186.27748058599448, Y0 + 95.0).buffer(63.5, quad_segs=4),
            shapely.Point(X0 + 83.0, Y0).buffer(10.0, quad_segs=4),
        ],
        dtype=object,
    )
    want = shapely.distance(patch, ranges)
    assert want[0] < want[1]
    for within in (60.0, 1000.0, None):
        best, dist = nearest_ranges(np.array([patch]), ranges, np.array([0, 0]), within=within)
        assert best.tolist() == [0] and dist[0] == want[0]


def test_equally_near_ranges_go_to_the_smallest_rank():
    from geo.matching.nearest import nearest_ranges

    # a point at the centre of four equal squares, two of them repeated: all equally near
    boxes = [(700, -100, 900, 100), (-900, -100, -700, 100), (-100, 700, 100, 900)]
    boxes += [(-100, -900, 100, -700), (700, -100, 900, 100), (-900, -100, -700, 100)]
    ranges = np.array([shapely.box(*b) for b in boxes], dtype=object)
    rank = np.array([5, 3, 9, 1, 7, 0])
    for within in (10.0, 1000.0, None):
        best, dist = nearest_ranges(shapely.points([(0.0, 0.0)]), ranges, rank, within=within)
        assert best.tolist() == [5] and dist[0] == 700.0


def test_projection_in_threads_equals_geopandas():
    from geo.matching.core import metric_geoms

    xy = np.random.default_rng(5).uniform([113.0, 27.0], [114.0, 28.0], (45_000, 2))
    frame = gpd.GeoDataFrame(geometry=shapely.buffer(shapely.points(xy), 0.001, 2), crs=4490)
    want = frame.geometry.to_crs(4547).to_numpy()
    for workers in (1, 2, 3):
        got = metric_geoms(frame, 4547, workers=workers)
        assert len(got) == len(want) and shapely.equals_exact(got, want, tolerance=0).all()
    assert metric_geoms(frame.iloc[:0], 4547, workers=2).shape == (0,)
