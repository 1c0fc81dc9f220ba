"""Migration 0012_pg_ingest: patches' references to batches and imports checked per statement.

On PostGIS the two per-row foreign keys of ``patches`` became statement-level triggers (so a
``COPY`` of thousands of patches is checked in one join) and triggers on ``batches`` and
``imports`` refuse removing a row a patch still names. These tests hold the triggers to what
the foreign keys did: the same error (SQLSTATE 23503, the same words, so Hetu's message is the
same), all or nothing, a concurrent delete kept out, ``hetu verify`` noticing a guard removed,
and a ledger made before the migration upgraded with every row and hash. A GeoPackage keeps
its foreign keys.
"""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
import shapely
from conftest import raw_sql
from test_integrity import build_story
from test_store import _patches

from geo.errors import LedgerError
from geo.ledger import store
from geo.ledger.db import expected_triggers
from geo.ledger.integrity import definer_functions, verify_ledger
from geo.ledger.schema import MIGRATIONS, split_sql
from geo.ledger.store import Ledger
from geo.records import ImportRecord

NAME = "0012_pg_ingest"
BEFORE = MIGRATIONS[: [m[0] for m in MIGRATIONS].index(NAME)]
TRIGGERS = {
    "patches_refs_insert": "patches",
    "patches_refs_update": "patches",
    "batches_refs_delete": "batches",
    "batches_refs_update": "batches",
    "batches_refs_truncate": "batches",
    "imports_refs_delete": "imports",
    "imports_refs_update": "imports",
    "imports_refs_truncate": "imports",
}
#: Every table but ``patches`` that has a foreign key to ``imports``.
IMPORT_CHILDREN = "quarantine, segments, chiefs, survey_tracks, survey_findings, admin_areas"
_COLUMNS = ["patch_id", "batch_id", "issue_type", "import_id"]


def _rec(batch: str, sha: str) -> ImportRecord:
    return ImportRecord(kind="patches", file="batch.shp", sha256=sha, batch_id=batch)


def _ledger(url: str) -> tuple[Ledger, int]:
    """A ledger with batch b1 of two patches; returns it and b1's import id."""
    led = Ledger.create(url)
    rec = led.add_patches(_patches(["A", "B"]), _rec("b1", "s1"))
    return led, int(rec.import_id)


def _copy(led: Ledger, rows: list[list]) -> None:
    """Patches written through Hetu in one ``COPY`` (with a box each)."""
    boxes = [shapely.multipolygons([shapely.box(114, 28, 114.001, 28.001)])] * len(rows)
    with led.transaction() as conn:
        conn.copy_rows("patches", _COLUMNS, rows, geoms=np.array(boxes, dtype=object))


def _refused(led: Ledger, rows: list[list]) -> str:
    with pytest.raises(LedgerError) as caught:
        _copy(led, rows)
    return str(caught.value).replace(led.name, "LEDGER")


def _sql_error(url: str, sql: str) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        raw_sql(url, sql)
    return caught.value


def _foreign_keys(url: str, table: str) -> list[str]:
    return sorted(r[0] for r in raw_sql(url,
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = ?::regclass",
        (table,)))  # fmt: skip


def test_split_sql_keeps_dollar_quoted_bodies_whole():
    script = """
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM 1;
    RETURN NULL;
END
$f$;
CREATE TRIGGER t AFTER INSERT ON x FOR EACH STATEMENT EXECUTE FUNCTION f();
CREATE TRIGGER u BEFORE DELETE ON x
    BEGIN SELECT RAISE(ABORT, 'no'); END;
DO $$ BEGIN PERFORM 1; END $$;
SELECT 1;
"""
    statements = split_sql(script)
    assert [s.split()[1] for s in statements] == ["FUNCTION", "TRIGGER", "TRIGGER", "$$", "1;"]
    assert statements[0].endswith("END\n$f$;") and "RETURN NULL;" in statements[0]
    assert statements[2].endswith("END;")


def test_the_migration_makes_eight_triggers_and_two_definer_functions():
    made = {n: t for n, (t, _sql, _body) in expected_triggers("postgis").items() if n in TRIGGERS}
    assert made == TRIGGERS
    assert definer_functions() == ["patches_refs_check", "patches_refs_guard"]
    assert not [n for n in expected_triggers("gpkg") if n in TRIGGERS]  # GeoPackage: its keys


def test_an_unknown_batch_or_import_is_refused_as_the_foreign_key_refused_it(postgres, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", BEFORE)
        old, old_import = _ledger(postgres.new_database())
    new, new_import = _ledger(postgres.new_database())
    keys = ["patches_batch_id_fkey", "patches_import_id_fkey"]
    assert _foreign_keys(old._conn.url, "patches") == keys
    assert _foreign_keys(new._conn.url, "patches") == []  # the triggers check instead
    messages = {
        led.backend + str(led is new): [
            _refused(led, [["X", "nob", "other", known]]),
            _refused(led, [["X", "b1", "other", known + 99]]),
        ]
        for led, known in ((old, old_import), (new, new_import))
    }
    assert messages["postgisTrue"] == messages["postgisFalse"]  # the same words: the same error
    batch, imp = messages["postgisTrue"]
    assert batch == (
        'LEDGER: the database refused the write (insert or update on table "patches" violates '
        'foreign key constraint "patches_batch_id_fkey" DETAIL: Key (batch_id)=(nob) is not '
        'present in table "batches".); nothing was written'
    )
    assert "patches_import_id_fkey" in imp and f"Key (import_id)=({new_import + 99})" in imp
    error = _sql_error(new._conn.url, "INSERT INTO patches (patch_id, batch_id, issue_type)"
                       " VALUES ('Y', 'nob', 'other')")  # fmt: skip
    assert isinstance(error, psycopg.errors.ForeignKeyViolation) and error.sqlstate == "23503"
    assert error.diag.constraint_name == "patches_batch_id_fkey"
    _copy(new, [["C", "b1", "other", new_import], ["D", "b1", "other", None]])  # good ones go in
    assert sorted(new.patches()["patch_id"]) == ["A", "B", "C", "D"]
    error = _sql_error(new._conn.url, "UPDATE patches SET batch_id = 'nob' WHERE patch_id = 'A'")
    assert isinstance(error, psycopg.errors.ForeignKeyViolation)
    assert set(new.patches()["batch_id"]) == {"b1"}
    old.close()
    new.close()


def test_a_copy_with_one_bad_reference_writes_nothing(postgres):
    led, known = _ledger(postgres.new_database())
    rows = [[f"N{i:03d}", "b1", "other", known] for i in range(300)]
    rows[157][1] = "nob"
    message = _refused(led, rows)
    assert "Key (batch_id)=(nob)" in message and message.count("violates") == 1
    assert sorted(led.patches()["patch_id"]) == ["A", "B"]
    assert led.verify() == []
    led.close()


def test_a_referenced_batch_or_import_cannot_be_deleted_changed_or_truncated(postgres):
    led, known = _ledger(postgres.new_database())
    url = led._conn.url
    attempts = {
        "DELETE FROM batches WHERE batch_id = 'b1'": "Key (batch_id)=(b1) is still referenced",
        "UPDATE batches SET batch_id = 'b9' WHERE batch_id = 'b1'": "Key (batch_id)=(b1)",
        "TRUNCATE batches": 'on table "batches" violates foreign key constraint',
        f"DELETE FROM imports WHERE import_id = {known}": f"Key (import_id)=({known}) is still",
        f"UPDATE imports SET import_id = 99 WHERE import_id = {known}": f"(import_id)=({known})",
        f"TRUNCATE imports, {IMPORT_CHILDREN}": "patches_import_id_fkey",
    }
    for sql, words in attempts.items():
        error = _sql_error(url, sql)
        assert isinstance(error, psycopg.errors.ForeignKeyViolation), sql
        assert words in str(error), sql
    assert raw_sql(url, "SELECT batch_id FROM batches") == [("b1",)]
    assert raw_sql(url, "SELECT import_id FROM imports") == [(known,)]
    raw_sql(url, "UPDATE batches SET verify_by = '2025-09-30'")  # not the key: allowed
    raw_sql(url, f"UPDATE imports SET n_read = 2 WHERE import_id = {known}")
    assert raw_sql(url, "SELECT verify_by FROM batches") == [("2025-09-30",)]
    led.close()


def test_an_unreferenced_batch_or_import_can_go(postgres):
    led, known = _ledger(postgres.new_database())
    url = led._conn.url
    raw_sql(url, "INSERT INTO batches (batch_id) VALUES ('lonely'), ('spare')")
    (spare,) = raw_sql(url, "INSERT INTO imports (kind, file, sha256, imported_at) VALUES"
                       " ('patches', 'f', 's9', 'now') RETURNING import_id")  # fmt: skip
    raw_sql(url, "DELETE FROM batches WHERE batch_id = 'lonely'")
    raw_sql(url, "UPDATE batches SET batch_id = 'spare2' WHERE batch_id = 'spare'")
    raw_sql(url, f"DELETE FROM imports WHERE import_id = {spare[0]}")
    assert raw_sql(url, "SELECT batch_id FROM batches ORDER BY 1") == [("b1",), ("spare2",)]
    assert raw_sql(url, "SELECT import_id FROM imports") == [(known,)]
    raw_sql(url, "TRUNCATE batches, patches")  # with the patches that named them, as a key allows
    assert raw_sql(url, "SELECT count(*) FROM batches") == [(0,)]
    led.close()


def test_a_delete_waits_for_the_copy_that_names_the_batch_then_is_refused(postgres):
    led, _known = _ledger(postgres.new_database())
    url = led._conn.url
    raw_sql(url, "INSERT INTO batches (batch_id) VALUES ('b2')")
    with psycopg.connect(url) as writer, psycopg.connect(url, autocommit=True) as deleter:
        with writer.cursor().copy("COPY patches (patch_id, batch_id, issue_type) FROM STDIN") as c:
            c.write_row(["W", "b2", "other"])  # not committed yet: b2 is locked FOR KEY SHARE
        deleter.execute("SET lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            deleter.execute("DELETE FROM batches WHERE batch_id = 'b2'")
        writer.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match=r"\(batch_id\)=\(b2\)"):
            deleter.execute("DELETE FROM batches WHERE batch_id = 'b2'")
    assert raw_sql(url, "SELECT batch_id FROM patches WHERE patch_id = 'W'") == [("b2",)]
    led.close()


def test_verify_names_a_guard_removed_or_weakened(postgres):
    led, _known = _ledger(postgres.new_database())
    url = led._conn.url
    raw_sql(url, "DROP TRIGGER batches_refs_delete ON batches")
    raw_sql(url, "ALTER FUNCTION patches_refs_check() SECURITY INVOKER")
    raw_sql(url, "ALTER FUNCTION patches_refs_guard() RESET search_path")
    assert verify_ledger(led).problems == [
        "触发器 batches_refs_delete 缺失：batches 表已可被改写或删除",
        "函数 patches_refs_check 不再以所有者身份（SECURITY DEFINER）、在固定的 search_path"
        "（public, pg_temp）下运行：它所做的检查可能失效或被绕过",
        "函数 patches_refs_guard 不再以所有者身份（SECURITY DEFINER）、在固定的 search_path"
        "（public, pg_temp）下运行：它所做的检查可能失效或被绕过",
    ]
    raw_sql(url, "DROP FUNCTION patches_refs_check() CASCADE")
    problems = verify_ledger(led).problems
    assert "函数 patches_refs_check 缺失：调用它的触发器已随之失效" in problems
    assert "触发器 patches_refs_insert 缺失：patches 表已可被改写或删除" in problems
    led.close()


def test_a_ledger_from_before_upgrades_and_keeps_every_row(location, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", BEFORE)
        old = build_story(location, tmp_path)
        head = old.chain_head()
        old.close()
    rows = {t: raw_sql(location, f"SELECT * FROM {t} ORDER BY 1") for t in ("patches", "events")}
    assert rows["patches"] and rows["events"]
    with Ledger(location) as led:
        assert led.schema_version == NAME == MIGRATIONS[-1][0]
        result = verify_ledger(led)
        assert result.problems == [] and result.head == head
        assert {t: raw_sql(location, f"SELECT * FROM {t} ORDER BY 1") for t in rows} == rows
        (batch,) = {r[0] for r in raw_sql(location, "SELECT batch_id FROM patches")}
        refused = r"FOREIGN KEY constraint failed|patches_batch_id_fkey"
        with pytest.raises(LedgerError, match=refused), led.transaction() as conn:
            conn.execute("DELETE FROM batches WHERE batch_id = ?", [batch])
        led.add_patches(_patches(["Z"], batch="b2"), _rec("b2", "s2"))
        assert verify_ledger(led).problems == []
    if str(location).startswith("postgresql://"):
        assert _foreign_keys(location, "patches") == []
        found = {r[0] for r in raw_sql(location, "SELECT tgname FROM pg_trigger WHERE tgenabled"
                                       " = 'O' AND strpos(tgname, 'refs') > 0")}  # fmt: skip
        assert found == set(TRIGGERS)
    else:  # the GeoPackage keeps both foreign keys of patches
        keys = {r[2] for r in raw_sql(location, "PRAGMA foreign_key_list(patches)")}
        assert keys == {"batches", "imports"}
        assert raw_sql(location, "PRAGMA foreign_key_check") == []
