import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import gk_frame, square

from geo.matching import match_patches

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask_geopandas")

X0, Y0 = 500_000.0, 3_098_000.0


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_dask_engine_is_identical_to_the_in_memory_one(client):
    rng = np.random.default_rng(3)
    n = 300
    xy = rng.uniform(0, 6000, (n, 2))
    geoms = [square(X0 + x, Y0 + y, s) for (x, y), s in zip(xy, rng.uniform(5, 80, n), strict=True)]
    patches = gk_frame({"patch_id": [f"P{i:03d}" for i in rng.permutation(n)]}, geoms)
    line = shapely.LineString([(X0, Y0 + 3000), (X0 + 3000, Y0 + 2000), (X0 + 6000, Y0 + 4000)])
    cuts = [shapely.ops.substring(line, a, a + 800) for a in range(0, int(line.length), 800)]
    ranges = gk_frame(
        {"range_id": [f"R{i:02d}" for i in range(len(cuts))]},
        [c.buffer(120, cap_style="flat") for c in cuts],
    )
    local = match_patches(patches.to_crs(4490), ranges, near_m=800)
    dask = match_patches(patches.to_crs(4490), ranges, near_m=800, engine="dask", npartitions=4)
    assert client.status == "running"
    key = ["patch_id", "range_id"]
    pd.testing.assert_frame_equal(
        local.sort_values(key).reset_index(drop=True), dask.sort_values(key).reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(local, dask)  # same order too
    assert set(local["relation"]) >= {"inside", "partly_outside", "near", "outside"}
