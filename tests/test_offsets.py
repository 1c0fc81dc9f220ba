import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from geo.ingest.offsets import from_wgs84, geometries_to_wgs84, source_crs_name, to_wgs84

# Published pairs for the common algorithm (wandergis/coordTransform README):
# WGS84 (116.404, 39.915) -> GCJ-02 (116.41024449916938, 39.91640428150164)
#                          -> BD-09  (116.41662724378733, 39.922699552216216)
TIANANMEN = (116.404, 39.915)
GCJ = (116.41024449916938, 39.91640428150164)
BD = (116.41662724378733, 39.922699552216216)
GEOD = Geod(ellps="WGS84")


def _metres(a, b):
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def test_forward_matches_published_pairs():
    assert from_wgs84(*TIANANMEN, source="gcj02") == pytest.approx(GCJ, abs=1e-9)
    assert from_wgs84(*TIANANMEN, source="bd09") == pytest.approx(BD, abs=1e-9)


def test_inverse_is_sub_metre_and_lon_lat_ordered():
    back = to_wgs84(*GCJ, source="gcj02")
    assert _metres(back, TIANANMEN) < 0.01
    assert back[0] > 100 > back[1]  # (lon, lat), never (lat, lon)
    assert _metres(to_wgs84(*BD, source="BD-09"), TIANANMEN) < 0.01
    assert to_wgs84(*TIANANMEN, source="wgs84") == TIANANMEN
    assert _metres(GCJ, TIANANMEN) > 400  # the offset is real: hundreds of metres


def test_names_are_normalised_and_unknown_refused():
    assert source_crs_name("GCJ-02") == "gcj02" and source_crs_name("baidu") == "bd09"
    with pytest.raises(ValueError, match="gcj02"):
        source_crs_name("mercator")


def test_geometries_convert_every_vertex_and_keep_missing():
    poly = shapely.box(GCJ[0], GCJ[1], GCJ[0] + 0.001, GCJ[1] + 0.001)
    out = geometries_to_wgs84(np.array([poly, None], dtype=object), source="gcj02")
    assert out[1] is None
    expected = [to_wgs84(x, y, source="gcj02") for x, y in shapely.get_coordinates(poly)]
    np.testing.assert_allclose(shapely.get_coordinates(out[0]), expected, atol=1e-12)
    assert shapely.get_num_coordinates(out[0]) == shapely.get_num_coordinates(poly)


@settings(max_examples=50, deadline=None)
@given(st.floats(75.0, 134.0), st.floats(18.0, 53.0), st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_is_sub_metre_across_china(lon, lat, source):
    back = to_wgs84(*from_wgs84(lon, lat, source=source), source=source)
    assert _metres(back, (lon, lat)) < 0.5
