"""Migration 0009_gpkg_integer_keys: INTEGER primary keys for the GeoPackage (issue 21).

A table registered in ``gpkg_contents`` must have an INTEGER primary key (GeoPackage
requirement 119); ``batches`` and ``attachments`` had their TEXT ids. A ledger made
before the migration keeps every row, id and hash through it, on both backends.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from _clients import gdal_spatial_index, validate_gpkg
from conftest import raw_sql
from test_history import LAT, LON, _to_rectified, photo
from test_integrity import build_story

from geo.field.evidence import attach_evidence
from geo.ledger import store
from geo.ledger.integrity import verify_ledger
from geo.ledger.schema import MIGRATIONS
from geo.ledger.store import Ledger
from geo.ledger.transfer import ledger_tables
from geo.records import ImportRecord

NAME = "0009_gpkg_integer_keys"
#: What the migration must keep, row for row (every column but the new ``fid``).
KEPT = {
    "batches": "SELECT batch_id, issued_on, import_id, created_at FROM batches ORDER BY batch_id",
    "attachments": "SELECT attachment_id, filename, media_type, size, taken_at, lon, lat,"
    " added_at FROM attachments ORDER BY attachment_id",
    "patches": "SELECT * FROM patches ORDER BY fid",
    "evidence": "SELECT * FROM evidence ORDER BY fid",
    "events": "SELECT * FROM events ORDER BY event_id",
}


def _primary_key(location, table: str) -> list[str]:
    if str(location).startswith("postgresql://"):
        return [r[0] for r in raw_sql(location,
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = ?::regclass AND i.indisprimary",
            (table,))]  # fmt: skip
    return [r[1] for r in raw_sql(location, f"PRAGMA table_info({table})") if r[5]]


#: The migrations before this one: a ledger made by them is a ledger from before.
BEFORE = MIGRATIONS[: [m[0] for m in MIGRATIONS].index(NAME)]


def test_the_tables_keep_their_place():
    assert NAME in [m[0] for m in MIGRATIONS]
    tables = ledger_tables()
    names = [t for t, _key in tables]
    assert not [t for t in names if t.startswith("hetu_0009")]  # rebuilt under their own names
    assert names.index("batches") < names.index("patches")  # parents copied first
    assert names.index("attachments") < names.index("evidence")
    assert dict(tables)["batches"] == "fid" and dict(tables)["attachments"] == "fid"


def test_a_ledger_from_before_keeps_every_row_id_and_hash(location, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", BEFORE)
        old = build_story(location, tmp_path)
        head = old.chain_head()
        old.close()
    assert _primary_key(location, "batches") == ["batch_id"]  # as the old ledgers have it
    before = {t: raw_sql(location, sql) for t, sql in KEPT.items()}
    assert before["attachments"] and before["evidence"] and before["batches"]
    with Ledger(location) as led:
        assert led.schema_version == MIGRATIONS[-1][0]  # this one and every later one
        result = verify_ledger(led)
        assert result.problems == [] and result.head == head and result.files == 2
    assert {t: raw_sql(location, sql) for t, sql in KEPT.items()} == before
    for table, key in (("batches", "batch_id"), ("attachments", "attachment_id")):
        assert _primary_key(location, table) == ["fid"]
        rows = raw_sql(location, f"SELECT fid, {key} FROM {table} ORDER BY fid")
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))  # in the order made
    if not str(location).startswith("postgresql://"):
        assert raw_sql(location, "PRAGMA foreign_key_check") == []
        assert validate_gpkg(location) == []
    # the ledger goes on: a new batch, a photo (a new file record), and it still verifies
    with Ledger(location) as led:
        frame = gpd.GeoDataFrame(
            {"patch_id": ["D"], "batch_id": "b2", "issue_type": "dumping", "admin_code": None,
             "detected_on": None, "issued_on": "2025-08-15", "area_m2": 100.0,
             "source_area": None, "description": None, "attrs": "{}"},
            geometry=[shapely.box(LON + 0.05, LAT, LON + 0.0505, LAT + 0.0005)], crs=4490,
        )  # fmt: skip
        led.add_patches(frame, ImportRecord(kind="patches", file="g", sha256="t", batch_id="b2"))
        _to_rectified(led, "D", day="2025-08-2")
        after = photo(tmp_path / "after-d.jpg", taken="2025:09:19 10:00:00")
        attach_evidence(led, "D", after, kind="photo_after", actor="巡查员", at="2025-09-23T09:00")
        assert verify_ledger(led).problems == []
    assert raw_sql(location, "SELECT max(fid) FROM attachments") == [(3,)]
    assert raw_sql(location, "SELECT fid FROM batches WHERE batch_id = 'b2'") == [(2,)]


def test_a_new_ledger_has_integer_keys_and_validates(tmp_path):
    path = tmp_path / "ledger.gpkg"
    Ledger.create(path).close()
    for table in ("batches", "attachments"):
        assert _primary_key(path, table) == ["fid"]
    assert validate_gpkg(path) == []


def test_writing_a_batch_twice_or_a_file_again_keeps_one_row(location, tmp_path):
    with build_story(location, tmp_path) as led:
        n = raw_sql(location, "SELECT count(*) FROM attachments")[0][0]
        again = photo(tmp_path / "again.jpg", taken="2025:07:20 09:00:00")  # same bytes: one file
        attach_evidence(led, "C", again, kind="photo_before", actor="巡查员", at="2025-09-23T09:00")
        assert raw_sql(location, "SELECT count(*) FROM attachments")[0][0] == n
        assert verify_ledger(led).problems == []


@pytest.mark.parametrize("table", ["batches", "attachments"])
def test_the_text_id_stays_unique(location, tmp_path, table):
    with build_story(location, tmp_path):
        pass
    key = {"batches": "batch_id", "attachments": "attachment_id"}[table]
    (existing,) = raw_sql(location, f"SELECT {key} FROM {table} ORDER BY fid LIMIT 1")[0]
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        raw_sql(location, f"INSERT INTO {table} ({key}) VALUES (?)", (existing,))


def test_a_clients_spatial_index_on_the_rebuilt_table_is_dropped_not_left_stale(tmp_path):
    path = tmp_path / "ledger.gpkg"
    with pytest.MonkeyPatch.context() as m:
        m.setenv("HETU_ATTACHMENTS", str(tmp_path / "attachments"))
        m.setattr(store, "MIGRATIONS", BEFORE)
        build_story(path, tmp_path).close()
    gdal_spatial_index(path, "patches")  # the office opened the ledger in QGIS
    index = "SELECT name FROM sqlite_master WHERE name LIKE 'rtree_patches_geom%' ORDER BY 1"
    assert raw_sql(path, index)  # the R-tree and its triggers
    with Ledger(path) as led:
        assert led.schema_version == MIGRATIONS[-1][0] and verify_ledger(led).problems == []
    assert raw_sql(path, index) == []
    assert raw_sql(path, "SELECT * FROM gpkg_extensions WHERE table_name = 'patches'") == []
    assert validate_gpkg(path) == []


def test_a_ledger_qgis_indexed_still_takes_new_patches_and_the_index_follows(tmp_path):
    path = tmp_path / "ledger.gpkg"
    with pytest.MonkeyPatch.context() as m:
        m.setenv("HETU_ATTACHMENTS", str(tmp_path / "attachments"))
        build_story(path, tmp_path).close()
        gdal_spatial_index(path, "patches")  # its triggers call ST_IsEmpty, ST_MinX …
        with Ledger(path) as led:
            frame = gpd.GeoDataFrame(
                {"patch_id": ["D"], "batch_id": "b2", "issue_type": "dumping", "admin_code": None,
                 "detected_on": None, "issued_on": "2025-08-15", "area_m2": 100.0,
                 "source_area": None, "description": None, "attrs": "{}"},
                geometry=[shapely.box(LON + 0.05, LAT, LON + 0.0505, LAT + 0.0005)], crs=4490,
            )  # fmt: skip
            record = ImportRecord(kind="patches", file="g", sha256="t", batch_id="b2")
            led.add_patches(frame, record)
            assert verify_ledger(led).problems == []
    ((fid,),) = raw_sql(path, "SELECT fid FROM patches WHERE patch_id = 'D'")
    box = raw_sql(path, "SELECT minx, maxx, miny, maxy FROM rtree_patches_geom WHERE id = ?", [fid])
    # an R-tree keeps 32-bit floats, rounded outwards
    assert box == [pytest.approx((LON + 0.05, LON + 0.0505, LAT, LAT + 0.0005), abs=1e-4)]
    assert validate_gpkg(path) == []
