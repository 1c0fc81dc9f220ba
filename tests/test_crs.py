import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer

from geo.crs import (
    central_meridian_for,
    check_extent,
    gauss_kruger_epsg,
    infer_crs,
    metric_crs,
)
from geo.errors import CRSError

WUHAN = (114.30, 30.59)


def _project(epsg, lon, lat):
    return Transformer.from_crs(4490, epsg, always_xy=True).transform(lon, lat)


def test_gauss_kruger_codes():
    assert gauss_kruger_epsg(114) == 4547
    assert gauss_kruger_epsg(75) == 4534 and gauss_kruger_epsg(135) == 4554
    with pytest.raises(CRSError):
        gauss_kruger_epsg(113)
    assert central_meridian_for(114.3) == 114 and central_meridian_for(112.6) == 114


def test_degrees_inferred_as_cgcs2000():
    d = infer_crs((114.0, 30.0, 114.5, 30.8))
    assert d.epsg == 4490 and d.how == "inferred" and "4490" in d.note


@pytest.mark.parametrize("epsg", [4526, 4498])  # 3-degree zone 38, 6-degree zone 20, prefixed
def test_prefixed_zone_gives_exact_code(epsg):
    x, y = _project(epsg, *WUHAN)
    d = infer_crs((x - 500, y - 500, x + 500, y + 500))
    assert d.epsg == epsg


def test_plain_gauss_kruger_needs_the_office_meridian():
    x, y = _project(4547, *WUHAN)
    bounds = (x - 100, y - 100, x + 100, y + 100)
    with pytest.raises(CRSError, match="central_meridian"):
        infer_crs(bounds)
    assert infer_crs(bounds, central_meridian=114).epsg == 4547


def test_swapped_axes_are_refused():
    x, y = _project(4547, *WUHAN)
    with pytest.raises(CRSError, match="swapped"):
        infer_crs((y - 10, x - 10, y + 10, x + 10), central_meridian=114)


def test_nonsense_is_refused():
    with pytest.raises(CRSError, match="no CRS"):
        infer_crs((-5000.0, -5000.0, 10.0, 10.0))


def test_metric_crs_from_data_and_settings():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(*WUHAN)], crs=4490)
    assert metric_crs(gdf).to_epsg() == 4547
    assert metric_crs(gdf, central_meridian=117).to_epsg() == 4548
    # data already in the zone of their centre are measured as they are: no reprojection
    in_zone = gdf.to_crs(4547)
    assert metric_crs(in_zone) is not None and metric_crs(in_zone).to_epsg() == 4547
    prefixed = gdf.to_crs(4526)  # zone 38 (CM 114°E) with the zone number in the easting
    assert metric_crs(prefixed).to_epsg() == 4526
    # in a neighbouring zone's CRS, Wuhan still measures in its own zone (CM 114°E)
    assert metric_crs(gdf.to_crs(4546)).to_epsg() == 4547
    assert metric_crs(gdf.to_crs(3857)).to_epsg() == 4547
    empty = gpd.GeoDataFrame(geometry=[shapely.Point()], crs=4490)
    assert metric_crs(empty).to_epsg() == 4547  # no coordinates: CM 114°E


def test_extent_check():
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(*WUHAN)], crs=4490)
    check_extent(gdf, (114.0, 30.0, 115.0, 31.0), source="a.shp")
    with pytest.raises(CRSError, match="outside the office's extent"):
        check_extent(gdf, (100.0, 20.0, 101.0, 21.0), source="a.shp")
