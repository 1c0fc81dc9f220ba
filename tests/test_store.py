import json
import sqlite3

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import raw_sql

from geo.errors import BatchConflictError, InvalidTransitionError, LedgerError, NotFoundError
from geo.ledger.details import DETAIL_COLUMNS
from geo.ledger.schema import MIGRATIONS, STATUS_COLUMNS
from geo.ledger.store import Ledger
from geo.records import ImportRecord, event_hash
from geo.settings import Settings


def _patches(ids, *, batch="b1", x0=114.0):
    geoms = [
        shapely.box(x0 + i * 0.01, 28.0, x0 + i * 0.01 + 0.001, 28.001) for i in range(len(ids))
    ]
    return gpd.GeoDataFrame(
        {
            "patch_id": ids,
            "batch_id": batch,
            "issue_type": "dumping",
            "admin_code": "439999001001",
            "detected_on": "2025-07-01",
            "issued_on": "2025-08-01",
            "area_m2": 100.0,
            "source_area": None,
            "description": "描述",
            "attrs": json.dumps({"备注": "x"}, ensure_ascii=False),
        },
        geometry=geoms,
        crs=4490,
    )


def _rec(batch="b1", sha="s1"):
    return ImportRecord(kind="patches", file="batch.shp", sha256=sha, batch_id=batch)


@pytest.fixture
def ledger(location):
    """A new ledger on each backend (GeoPackage file, PostGIS database)."""
    led = Ledger.create(location, settings=Settings(rectify_days=10))
    led.location = location
    yield led
    led.close()


def test_create_applies_named_migrations(tmp_path, ledger):
    assert ledger.schema_version == MIGRATIONS[-1][0]  # every migration applied
    assert ledger.migrate() == []  # nothing left to apply on reopen
    with pytest.raises(LedgerError, match="already exists"):
        Ledger.create(ledger.location)
    with Ledger(ledger.location) as again:
        assert again.schema_version == ledger.schema_version and again.backend == ledger.backend


def test_what_is_not_a_ledger_is_refused(tmp_path, postgres):
    with pytest.raises(LedgerError, match="hetu init"):
        Ledger(tmp_path / "missing.gpkg")
    other = tmp_path / "other.gpkg"
    sqlite3.connect(other).execute("CREATE TABLE t (a)").connection.close()
    with pytest.raises(LedgerError, match="not a"):
        Ledger(other)
    with pytest.raises(LedgerError, match="holds no Hetu ledger"):
        Ledger(postgres.new_database())
    url = postgres.url("no_such_database")
    with pytest.raises(LedgerError, match="cannot connect") as err:
        Ledger(url.replace("postgres@", "postgres:secret@"))
    assert "secret" not in str(err.value)


def test_gdal_reads_the_ledger_as_a_geopackage(tmp_path):
    ledger = Ledger.create(tmp_path / "ledger.gpkg")
    ledger.add_patches(_patches(["A", "B"]), _rec())
    layers = dict(pyogrio.list_layers(ledger.path))
    assert layers["patches"] == "MultiPolygon" and "events" in layers
    back = pyogrio.read_dataframe(ledger.path, layer="patches")
    assert back.crs.to_epsg() == 4490
    assert list(back["patch_id"]) == ["A", "B"]
    assert back.geometry.iloc[0].equals(shapely.MultiPolygon([_patches(["A"]).geometry[0]]))
    assert json.loads(back["attrs"].iloc[0]) == {"备注": "x"}


def test_events_are_append_only_and_hash_chained(ledger):
    ledger.add_patches(_patches(["A", "B"]), _rec())
    ledger.transition("A", "verifying", actor="t", at="2025-08-02T09:00")
    for sql in ("UPDATE events SET actor = 'x'", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only"):
            raw_sql(ledger.location, sql)
    rows = raw_sql(
        ledger.location,
        "SELECT patch_id, at, actor, action, from_state, to_state, deadline, note, evidence,"
        " content, db_user, prev_hash, hash FROM events ORDER BY event_id",
    )
    assert len(rows) == 3 and len(ledger.events()) == 3
    prev = None
    for row in rows:
        extra = list(row[9:11])  # content and db_user enter the hash only when set
        while extra and extra[-1] is None:
            extra.pop()
        assert row[11] == prev and row[12] == event_hash(prev, [*row[:9], *extra])
        prev = row[12]
    issue, move = rows[0], rows[2]
    assert json.loads(issue[9])["patches"][0][0] == "A" and move[9] is None  # the patch's digest
    assert move[10] == (None if ledger.backend == "gpkg" else "postgres")  # the database user


def test_state_is_derived_from_events(ledger):
    ledger.add_patches(_patches(["A", "B", "C"]), _rec())
    ledger.transition(["A", "B"], "verifying", actor="t", at="2025-08-02T09:00")
    ledger.transition("A", "confirmed", actor="t", at="2025-08-03T09:00")
    ledger.transition("A", "rectifying", actor="t", at="2025-08-04T09:00")
    states = ledger.patches().set_index("patch_id")["state"].to_dict()
    assert states == {"A": "rectifying", "B": "verifying", "C": "issued"}
    # the 整改期限 is set at 认定 (Sunday 2025-08-03) and kept when 整改 starts: 10 working
    # days (the default counts working days)
    assert ledger.patches().set_index("patch_id").loc["A", "deadline"] == "2025-08-15"
    counts = ledger.status_counts()
    assert counts["issued"] == 1 and counts["verifying"] == 1 and counts["rectifying"] == 1
    assert counts["closed"] == 0 and sum(counts.values()) == 3


def test_conflicting_batch_is_refused_whole(ledger):
    ledger.add_patches(_patches(["A", "B"]), _rec())
    before = (len(ledger.patches()), len(ledger.events()), len(ledger.imports()))
    with pytest.raises(BatchConflictError, match="B") as err:
        ledger.add_patches(_patches(["B", "C"], batch="b2", x0=114.1), _rec("b2", "s2"))
    assert "nothing was written" in str(err.value)
    assert (len(ledger.patches()), len(ledger.events()), len(ledger.imports())) == before


def test_a_failure_inside_a_batch_rolls_everything_back(ledger):
    frame = _patches(["A", "A"])  # duplicate ids hit the UNIQUE constraint mid-insert
    with pytest.raises(LedgerError, match="nothing was written"):
        ledger.add_patches(frame, _rec())
    assert ledger.patches().empty and ledger.events().empty and ledger.imports().empty


def test_transition_of_many_is_all_or_nothing(ledger):
    ledger.add_patches(_patches(["A", "B"]), _rec())
    ledger.transition("A", "verifying", actor="t", at="2025-08-02T09:00")
    with pytest.raises(InvalidTransitionError, match="patch A"):
        ledger.transition(["B", "A"], "verifying", actor="t", at="2025-08-03T09:00")
    assert ledger.patches().set_index("patch_id").loc["B", "state"] == "issued"
    with pytest.raises(NotFoundError, match="ZZ"):
        ledger.transition("ZZ", "verifying", actor="t")
    with pytest.raises(LedgerError, match="before its last event"):
        ledger.transition("B", "verifying", actor="t", at="2025-07-01T09:00")


def test_event_times_are_shanghai(ledger):
    ledger.add_patches(_patches(["A"]), _rec())
    ledger.transition("A", "verifying", actor="t", at="2025-08-02T01:00:00+00:00")
    ev = ledger.events("A")
    assert ev["at"].iloc[0] == "2025-08-01T09:00:00+08:00"  # issue date at 09:00 local
    assert ev["at"].iloc[1] == "2025-08-02T09:00:00+08:00"


def test_status_frame_joins_segment_and_chiefs(ledger):
    ledger.add_patches(_patches(["A", "B"]), _rec())
    seg = gpd.GeoDataFrame(
        {
            "segment_id": ["439999000001"],
            "range_id": ["R1"],
            "water_name": ["清溪河"],
            "water_code": ["QXH"],
            "segment_name": ["清溪河上村段"],
            "admin_code": ["439999001001"],
            "attrs": ["{}"],
        },
        geometry=[shapely.box(113.99, 27.99, 114.005, 28.01)],
        crs=4490,
    )
    ledger.add_segments(seg, ImportRecord(kind="ranges", file="r.gpkg", sha256="r"))
    chiefs = pd.DataFrame(
        {
            "chief_id": ["C1", "C2"],
            "name": ["王建国", "李秀英"],
            "title": ["村支书", "镇长"],
            "level": ["village", "township"],
            "segment_id": ["439999000001"] * 2,
            "admin_code": ["439999001001", "439999001"],
            "phone": [None, None],
            "term_start": [None, None],
            "term_end": [None, None],
            "attrs": ["{}", "{}"],
        }
    )
    ledger.add_chiefs(chiefs, ImportRecord(kind="chiefs", file="c.xlsx", sha256="c"))
    from geo.matching import match_ledger

    match_ledger(ledger)
    ledger.transition("A", "verifying", actor="t", at="2025-08-02T09:00")
    ledger.transition("A", "confirmed", actor="t", at="2025-08-03T09:00")
    ledger.transition("A", "rectifying", actor="t", at="2025-08-04T09:00", deadline="2025-08-10")
    frame = ledger.status_frame(as_of="2025-08-20")
    assert list(frame.columns) == [*STATUS_COLUMNS[:-1], *DETAIL_COLUMNS, "geometry"]
    a = frame.set_index("patch_id").loc["A"]
    assert a["segment_id"] == "439999000001" and a["water_name"] == "清溪河"
    assert a["chief_village"] == "王建国（村支书）" and a["chief_township"] == "李秀英（镇长）"
    # deadline Sunday 08-10; working days to 08-20: 11-15 and 18-20
    assert a["chief_county"] == "" and a["overdue_days"] == 8 and a["relation"] == "inside"
    b = frame.set_index("patch_id").loc["B"]
    assert b["relation"] in {"near", "outside"} and b["overdue_days"] == 0


def test_links_round_trip_and_are_registered(ledger):
    links = pd.DataFrame(
        {"patch_id": ["N1"], "earlier_id": ["A"], "kind": ["recurrence"], "overlap_ratio": [0.8],
         "iou": [0.7], "centroid_m": [3.5]}
    )  # fmt: skip
    assert ledger.replace_links(links) == 1 and ledger.replace_links(links) == 1
    back = ledger.links()
    assert back[["patch_id", "earlier_id", "kind"]].values.tolist() == [["N1", "A", "recurrence"]]
    if ledger.backend == "gpkg":
        assert "patch_links" in dict(pyogrio.list_layers(ledger.path))
    found = pd.DataFrame({"finding_id": ["F1", "F1"], "patch_id": ["A", "B"],
                          "distance_m": [3.0, None]})  # fmt: skip
    assert ledger.replace_finding_links(found) == 2 and ledger.replace_finding_links(found) == 2
    back = ledger.finding_links()
    assert back[["finding_id", "patch_id"]].values.tolist() == [["F1", "A"], ["F1", "B"]]
    assert back["distance_m"].iloc[0] == 3.0 and pd.isna(back["distance_m"].iloc[1])


def test_an_old_ledger_is_migrated_on_open(location):
    Ledger.create(location).close()
    raw_sql(location, "DROP TABLE patch_links")
    raw_sql(location, "DELETE FROM hetu_migrations WHERE name = '0002_patch_links'")
    with Ledger(location) as led:
        assert led.schema_version == MIGRATIONS[-1][0] and led.links().empty


def test_imagery_rows_and_chips_are_stored(ledger, tmp_path):
    chip = tmp_path / "chip.png"
    chip.write_bytes(b"\x89PNG fake chip")
    rows = pd.DataFrame(
        {"patch_id": ["A", "A"], "role": ["before", "after"], "source": ["b.tif", "a.tif"],
         "acquired_on": ["2025-05-01", None], "attachment_id": ["ab" * 32, None],
         "status": ["ok", "outside"], "reason": [None, "the patch lies outside the scene"],
         "indicators": ['{"brightness_in": 0.4}', None]}
    )  # fmt: skip
    assert ledger.replace_imagery(rows, files={"ab" * 32: chip}) == 2
    assert (
        ledger.replace_imagery(rows.iloc[:1], files={"ab" * 32: chip}) == 1
    )  # replaced, not doubled
    back = ledger.imagery("A")
    assert len(back) == 2 and set(back["status"]) == {"ok", "outside"}
    assert ledger.attachment_path("ab" * 32).read_bytes() == chip.read_bytes()
