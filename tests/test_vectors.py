import json
import shutil
import struct
import zipfile

import geopandas as gpd
import pyogrio
import pytest
import shapely
from conftest import realdata
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import CRSError, IngestError
from geo.ingest.readers import patches_from_file, read_layer
from geo.ingest.tabular import UNREADABLE
from geo.ingest.vectors import SHX_RESTORED, read_vector, salvage_with_fiona
from geo.settings import Settings

OFFICE = Settings(central_meridian=114, extent=(113.5, 27.5, 114.5, 28.5))
WORLD = Settings(extent=(-180.0, -90.0, 180.0, 90.0))  # for real files from abroad
BOX = shapely.box(113.9, 28.0, 113.901, 28.001)

BAD_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Folder><name>Points</name>
<Placemark><name>p1</name><Point><coordinates>113.9,28.0</coordinates></Point></Placemark>
</Folder>
<Folder><name>Polygons</name>
<Placemark><name>A</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
113.9,28.0 113.901,28.0 113.901,28.001 113.9,28.001 113.9,28.0</coordinates></LinearRing>
</outerBoundaryIs></Polygon></Placemark>
<Placemark><name>B</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
113.9,28.0 113.901,28.0</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>C</name><LineString><coordinates>113.9,28.0</coordinates></LineString></Placemark>
<Placemark><name>D</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
113.902,28.0 113.903,28.0 113.903,28.001 113.902,28.0</coordinates></LinearRing>
</outerBoundaryIs></Polygon></Placemark>
</Folder></Document></kml>
"""


@pytest.fixture
def bad_kml(tmp_path):
    path = tmp_path / "外业.kml"
    path.write_text(BAD_KML, encoding="utf-8")
    return path


def _gbk_shapefile(folder, name="图斑"):
    gdf = gpd.GeoDataFrame(
        {"TBBH": ["Z1", "Z2"], "问题描述": ["乱堆", "乱建"]},
        geometry=[BOX, shapely.box(113.91, 28.0, 113.911, 28.001)],
        crs=4490,
    )
    path = folder / f"{name}.shp"
    gdf.to_file(path, encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink()
    return path


class _GbkName(zipfile.ZipInfo):
    """A member name stored in GBK without the UTF-8 flag, as Chinese Windows zip tools do."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def test_zipped_gbk_shapefile_with_a_chinese_member_name(tmp_path):
    shp = _gbk_shapefile(tmp_path)
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for side in shp.parent.glob("图斑.*"):
            zf.writestr(_GbkName(side.name), side.read_bytes())
        zf.writestr("__MACOSX/._图斑.shp", b"junk")
    out = patches_from_file(archive, settings=OFFICE)
    assert list(out["patch_id"]) == ["Z1", "Z2"]
    assert out["description"].tolist() == ["乱堆", "乱建"]
    record = out.attrs["hetu"]["record"]
    assert "gb18030" in record["encoding"] and "read 图斑.shp from batch.zip" in record["decisions"]


def test_zip_with_several_files_needs_a_layer(tmp_path):
    a, b = _gbk_shapefile(tmp_path, "甲"), _gbk_shapefile(tmp_path, "乙")
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for side in [*a.parent.glob("甲.*"), *b.parent.glob("乙.*")]:
            zf.write(side, side.name)
    with pytest.raises(IngestError, match=r"holds 2 vector files.*--layer"):
        read_layer(archive, settings=OFFICE)
    gdf, _ = read_layer(archive, layer="乙", settings=OFFICE)
    assert len(gdf) == 2
    with pytest.raises(IngestError, match="no member"):
        read_layer(archive, layer="丙", settings=OFFICE)
    (tmp_path / "broken.zip").write_bytes(b"PK not really")
    with pytest.raises(IngestError, match="not a readable zip"):
        read_layer(tmp_path / "broken.zip", settings=OFFICE)


def test_geopackage_layers(tmp_path):
    path = tmp_path / "多层.gpkg"
    gpd.GeoDataFrame({"TBBH": ["G1"]}, geometry=[BOX], crs=4490).to_file(path, layer="图斑")
    gpd.GeoDataFrame({"n": [1]}, geometry=[BOX.centroid], crs=4490).to_file(path, layer="点")
    with pytest.raises(IngestError, match=r"several layers: 图斑 \(1 features\), 点 \(1"):
        read_layer(path, settings=OFFICE)
    gdf, _ = read_layer(path, layer="图斑", settings=OFFICE)
    assert list(gdf["TBBH"]) == ["G1"]
    assert read_layer(path, layer=1, settings=OFFICE)[0].geom_type.tolist() == ["Point"]
    with pytest.raises(IngestError, match="no layer 'x'"):
        read_layer(path, layer="x", settings=OFFICE)
    with pytest.raises(IngestError, match="no layer 5"):
        read_layer(path, layer=5, settings=OFFICE)


def test_filegdb_when_the_driver_can(tmp_path):
    if "w" not in pyogrio.list_drivers().get("OpenFileGDB", ""):
        pytest.skip("this GDAL build cannot write FileGDB (OpenFileGDB), so no test file")
    path = tmp_path / "province.gdb"
    gpd.GeoDataFrame({"TBBH": ["F1"]}, geometry=[BOX], crs=4490).to_file(
        path, driver="OpenFileGDB", layer="patches"
    )
    out = patches_from_file(path, settings=OFFICE)
    assert list(out["patch_id"]) == ["F1"] and out.attrs["hetu"]["record"]["sha256"]


def test_real_bare_geojson_geometry_and_gcj_declaration():
    path = realdata("admin_geojson", "450000.geojson")
    plain, rec = read_layer(path)
    fixed, rec_gcj = read_layer(path, source_crs="gcj02")
    assert len(plain) == 1 and plain.geom_type.iloc[0] == "MultiPolygon"
    assert "GCJ-02" in rec_gcj.crs and "GCJ" not in rec.crs
    a = shapely.get_coordinates(plain.geometry.iloc[0])[0]
    b = shapely.get_coordinates(fixed.geometry.iloc[0])[0]
    metres = pyogrio_free_distance(a, b)
    assert 100 < metres < 1000  # AMap's offset in Guangxi is hundreds of metres
    with pytest.raises(CRSError, match="unknown source"):
        read_layer(path, source_crs="mercator")


def pyogrio_free_distance(a, b):
    from pyproj import Geod

    return Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]


def test_gcj_declared_on_a_projected_file_is_refused(tmp_path):
    path = tmp_path / "gk.gpkg"
    gpd.GeoDataFrame({"TBBH": ["A"]}, geometry=[BOX], crs=4490).to_crs(4547).to_file(path)
    with pytest.raises(CRSError, match="projected"):
        read_layer(path, source_crs="gcj02", settings=OFFICE)


def test_real_kml_files_read_with_their_layers():
    for name, kind in [
        ("Polygon_treasureIsland.kml", "Polygon"),
        ("Placemark_LineString_tessellate.kml", "LineString"),
        ("gx_trackData.kml", None),
    ]:
        gdf, _ = read_layer(realdata("kml", name), settings=WORLD)
        assert len(gdf) >= 1 and gdf.crs.to_epsg() == 4490
        assert not shapely.has_z(gdf.geometry.dropna().to_numpy()).any()
        if kind:
            assert kind in set(gdf.geom_type)


def test_real_kml_outside_china_is_refused_by_default():
    with pytest.raises(CRSError, match="outside China"):
        read_layer(realdata("kml", "Polygon_treasureIsland.kml"))


@pytest.mark.parametrize(
    "name", ["cerknicko-jezero.gpx", "unicode_with_bom.gpx", "track-with-empty-segment.gpx"]
)
def test_real_gpx_as_generic_layers(name):
    gdf, rec = read_layer(realdata("gps", name), settings=WORLD)
    assert len(gdf) >= 1
    assert set(gdf["source_layer"]) <= {"waypoints", "routes", "tracks"}
    assert any(d.startswith("layers read: waypoints") for d in rec.decisions)


def test_bad_kml_layer_salvaged_feature_by_feature(bad_kml):
    gdf, rec = read_layer(bad_kml, settings=OFFICE)
    assert gdf["source_layer"].value_counts().to_dict() == {"Polygons": 4, "Points": 1}
    reasons = gdf[UNREADABLE].dropna().tolist()
    assert len(reasons) == 2 and all(r.startswith("feature ") for r in reasons)
    assert any("failed whole" in d and "2 unreadable" in d for d in rec.decisions)
    out = patches_from_file(bad_kml, settings=OFFICE, aliases={"patch_id": ("Name",)})
    assert sorted(out["patch_id"]) == ["A", "D"]
    quarantine = {q["feature_id"]: q["reason"] for q in out.attrs["hetu"]["quarantine"]}
    assert set(quarantine) == {"B", "C", "p1"}
    assert "unreadable geometry" in quarantine["B"] and "not a polygon" in quarantine["p1"]


def test_fiona_salvage_names_each_bad_feature(bad_kml):
    pytest.importorskip("fiona")
    gdf = salvage_with_fiona(bad_kml, "Polygons")
    assert len(gdf) == 4 and gdf.geometry.notna().sum() == 2
    bad = gdf[UNREADABLE].dropna().tolist()
    assert len(bad) == 2 and all("unreadable geometry" in r for r in bad)


def _multipatch_shapefile(stem):
    """Write a one-record MultiPatch (shape type 31) shapefile by hand: a triangle strip."""
    pts = [(113.9, 28.0, 0.0), (113.901, 28.0, 0.0), (113.9, 28.001, 5.0)]
    xs, ys, zs = zip(*pts, strict=True)
    box = struct.pack("<4d", min(xs), min(ys), max(xs), max(ys))
    body = struct.pack("<i", 31) + box + struct.pack("<2i", 1, 3) + struct.pack("<2i", 0, 0)
    body += b"".join(struct.pack("<2d", x, y) for x, y, _ in pts)
    body += struct.pack("<2d", min(zs), max(zs)) + struct.pack("<3d", *zs)
    record = struct.pack(">2i", 1, len(body) // 2) + body

    def header(length):
        head = struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length // 2) + struct.pack("<2i", 1000, 31)
        return head + box + struct.pack("<4d", min(zs), max(zs), 0, 0)

    stem.with_suffix(".shp").write_bytes(header(100 + len(record)) + record)
    stem.with_suffix(".shx").write_bytes(header(108) + struct.pack(">2i", 50, len(body) // 2))
    dbf = struct.pack("<4BIHH20x", 3, 125, 1, 1, 1, 65, 11)
    dbf += b"TBBH".ljust(11, b"\0") + b"C" + b"\0" * 4 + bytes([10, 0]) + b"\0" * 14 + b"\r"
    stem.with_suffix(".dbf").write_bytes(dbf + b" " + b"MP1".ljust(10) + b"\x1a")
    return stem.with_suffix(".shp")


def test_multipatch_is_quarantined_as_unsupported(tmp_path):
    shp = _multipatch_shapefile(tmp_path / "multipatch")
    out = patches_from_file(shp, crs="EPSG:4490", settings=OFFICE)
    assert out.empty
    (q,) = out.attrs["hetu"]["quarantine"]
    assert (
        q["feature_id"] == "MP1" and "unsupported geometry type TIN (a MultiPatch)" in q["reason"]
    )
    assert out.attrs["hetu"]["record"]["n_quarantined"] == 1


def test_real_shapefile_without_shx_is_restored_on_a_copy(tmp_path):
    shp = realdata("broken", "latin1.shp")
    before = sorted(p.name for p in shp.parent.iterdir())
    gdf, enc, notes = read_vector(shp)
    assert sorted(p.name for p in shp.parent.iterdir()) == before  # nothing written beside
    assert gdf["Name"].tolist() == ["Ñandú"] and "ISO-8859-1" in enc
    assert any(n.startswith(SHX_RESTORED) for n in notes)
    with pytest.raises(CRSError, match="give --crs"):  # its coordinates are no place in China
        read_layer(shp)
    copy = tmp_path / "latin1.shp"
    shutil.copy(shp, copy)  # no .dbf either: geometry only
    assert len(read_vector(copy)[0]) == 1


def test_not_a_vector_file(tmp_path):
    path = tmp_path / "notes.geojson"
    path.write_text("this is not json")
    with pytest.raises(IngestError, match=r"notes\.geojson: cannot be read"):
        read_layer(path)


_coord = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=3))
_geometry = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Point", "Polygon", "LineString", "MultiPatch", "Nope", ""]),
        "coordinates": st.recursive(st.lists(_coord, max_size=3), st.lists, max_leaves=8),
    }
)
_feature = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Feature", "feature", "Thing"]),
        "properties": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
        "geometry": st.one_of(st.none(), _geometry),
    }
)
_document = st.one_of(
    _geometry,
    st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.lists(_feature)}),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=10),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document)
def test_malformed_geojson_reads_or_raises_typed(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("gj") / "fuzz.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    try:
        gdf, rec = read_layer(path, settings=WORLD)
    except IngestError as exc:
        assert "fuzz.geojson" in str(exc)
        return
    assert gdf.crs.to_epsg() == 4490 and rec.n_read == len(gdf)
