"""The ledger's schema: the initial script, named migrations, and column lists.

Each migration is a named SQL script applied in one transaction by
:meth:`geo.ledger.store.Ledger.migrate` and recorded in ``hetu_migrations``; add new
ones at the end of :data:`MIGRATIONS`, never edit an applied one.
"""

from __future__ import annotations

import re
import sqlite3

from geo.ledger import gpkg as _gpkg

_INITIAL = """
CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY NOT NULL, issued_on TEXT, import_id INTEGER, created_at TEXT);
CREATE TABLE imports (
    import_id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, file TEXT NOT NULL,
    sha256 TEXT NOT NULL, batch_id TEXT, encoding TEXT, crs TEXT, decisions TEXT,
    n_read INTEGER, n_kept INTEGER, n_quarantined INTEGER, imported_at TEXT NOT NULL);
CREATE INDEX imports_sha ON imports (kind, sha256);
CREATE TABLE quarantine (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, import_id INTEGER NOT NULL REFERENCES imports,
    row INTEGER, feature_id TEXT, reason TEXT NOT NULL, attrs TEXT, wkb BLOB);
CREATE TABLE patches (
    fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, patch_id TEXT NOT NULL UNIQUE,
    batch_id TEXT NOT NULL REFERENCES batches, issue_type TEXT NOT NULL, admin_code TEXT,
    detected_on TEXT, issued_on TEXT, area_m2 REAL, source_area REAL, description TEXT,
    attrs TEXT, import_id INTEGER REFERENCES imports, geom MULTIPOLYGON);
CREATE TABLE segments (
    fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, segment_id TEXT NOT NULL UNIQUE,
    range_id TEXT NOT NULL, water_name TEXT, water_code TEXT, segment_name TEXT,
    admin_code TEXT, attrs TEXT, import_id INTEGER REFERENCES imports, geom MULTIPOLYGON);
CREATE TABLE chiefs (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, chief_id TEXT NOT NULL, name TEXT NOT NULL,
    title TEXT, level TEXT NOT NULL, segment_id TEXT NOT NULL, admin_code TEXT, phone TEXT,
    term_start TEXT, term_end TEXT, attrs TEXT, import_id INTEGER REFERENCES imports,
    UNIQUE (chief_id, segment_id));
CREATE TABLE assignments (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, patch_id TEXT NOT NULL, segment_id TEXT,
    range_id TEXT, relation TEXT NOT NULL, overlap_m2 REAL, share REAL, distance_m REAL,
    is_primary INTEGER NOT NULL, matched_at TEXT NOT NULL);
CREATE INDEX assignments_patch ON assignments (patch_id);
CREATE TABLE events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT, patch_id TEXT NOT NULL, at TEXT NOT NULL,
    actor TEXT NOT NULL, action TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL,
    deadline TEXT, note TEXT, evidence TEXT, prev_hash TEXT, hash TEXT NOT NULL);
CREATE INDEX events_patch ON events (patch_id, event_id);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only: record a new event instead'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only: record a new event instead'); END;
CREATE VIEW patch_state AS
    SELECT e.patch_id, e.to_state AS state, e.at AS state_since,
        (SELECT d.deadline FROM events d WHERE d.patch_id = e.patch_id AND d.deadline IS NOT NULL
         ORDER BY d.event_id DESC LIMIT 1) AS deadline
    FROM events e WHERE e.event_id IN (SELECT max(event_id) FROM events GROUP BY patch_id);
CREATE TABLE attachments (
    attachment_id TEXT PRIMARY KEY NOT NULL, filename TEXT, media_type TEXT, size INTEGER,
    taken_at TEXT, lon REAL, lat REAL, added_at TEXT);
CREATE TABLE evidence (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, patch_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL REFERENCES attachments, kind TEXT NOT NULL, checks TEXT,
    actor TEXT, added_at TEXT NOT NULL, UNIQUE (patch_id, attachment_id, kind));
CREATE INDEX evidence_patch ON evidence (patch_id);
CREATE TABLE survey_tracks (
    fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT, surveyor TEXT,
    started_at TEXT, ended_at TEXT, n_points INTEGER, attrs TEXT,
    import_id INTEGER REFERENCES imports, geom MULTILINESTRING);
CREATE TABLE survey_findings (
    fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, finding_id TEXT, observed_at TEXT,
    surveyor TEXT, finding_type TEXT, description TEXT, attrs TEXT,
    import_id INTEGER REFERENCES imports, geom POINT);
"""

FEATURE_TABLES = {
    "patches": ("MULTIPOLYGON", "图斑"),
    "segments": ("MULTIPOLYGON", "河湖管理范围河段"),
    "survey_tracks": ("MULTILINESTRING", "巡河轨迹"),
    "survey_findings": ("POINT", "巡查发现"),
    "admin_areas": ("MULTIPOLYGON", "乡镇村界"),
}
ATTRIBUTE_TABLES = {
    "batches": "下发批次",
    "imports": "导入记录",
    "quarantine": "隔离要素",
    "chiefs": "河长",
    "assignments": "匹配结果",
    "events": "事件",
    "attachments": "附件（按内容哈希存放）",
    "evidence": "佐证材料",
}


def initial_feature_tables() -> dict[str, tuple[str, str]]:
    """The feature tables the initial script creates (later ones register with their migration)."""
    return {t: v for t, v in FEATURE_TABLES.items() if f"CREATE TABLE {t} (" in _INITIAL}


def register_all(conn: sqlite3.Connection) -> None:
    """Register every feature and attribute table in the GeoPackage contents."""
    for table, (gtype, desc) in initial_feature_tables().items():
        _gpkg.register_table(conn, table, description=desc, geometry=("geom", gtype))
    for table, desc in ATTRIBUTE_TABLES.items():
        _gpkg.register_table(conn, table, description=desc)


_PATCH_LINKS = """
CREATE TABLE patch_links (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, patch_id TEXT NOT NULL, earlier_id TEXT NOT NULL,
    kind TEXT NOT NULL, overlap_ratio REAL, iou REAL, centroid_m REAL, linked_at TEXT NOT NULL,
    UNIQUE (patch_id, earlier_id));
CREATE INDEX patch_links_earlier ON patch_links (earlier_id);
"""

_IMAGERY = """
CREATE TABLE imagery (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, patch_id TEXT NOT NULL, role TEXT NOT NULL,
    source TEXT, acquired_on TEXT, attachment_id TEXT, status TEXT NOT NULL, reason TEXT,
    indicators TEXT, made_at TEXT NOT NULL, UNIQUE (patch_id, role, source));
CREATE INDEX imagery_patch ON imagery (patch_id);
"""

_EXPORTS = """
CREATE TABLE exports (
    export_id INTEGER PRIMARY KEY AUTOINCREMENT, as_of TEXT NOT NULL, since TEXT,
    started_at TEXT NOT NULL, finished_at TEXT NOT NULL, files TEXT, counts TEXT,
    status TEXT NOT NULL, message TEXT);
"""

_FINDING_LINKS = """
CREATE TABLE finding_links (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, finding_id TEXT NOT NULL, patch_id TEXT NOT NULL,
    distance_m REAL, linked_at TEXT NOT NULL, UNIQUE (finding_id, patch_id));
CREATE INDEX finding_links_patch ON finding_links (patch_id);
"""

#: Events carry the digests of the rows they wrote and, on PostGIS, the database user
#: (stamped by a trigger there, see :func:`geo.ledger.db.pg_statements`); exports record
#: the chain head they printed. The baseline event is written by
#: :func:`geo.ledger.digests.after_migration`.
_INTEGRITY = """
ALTER TABLE events ADD COLUMN content TEXT;
ALTER TABLE events ADD COLUMN db_user TEXT;
ALTER TABLE exports ADD COLUMN chain_head TEXT;
"""

_OFFICE_SETTINGS = """
CREATE TABLE office_settings (
    version INTEGER PRIMARY KEY AUTOINCREMENT, stored_at TEXT NOT NULL, source TEXT NOT NULL,
    folder TEXT NOT NULL, sha256 TEXT NOT NULL, text TEXT NOT NULL, actor TEXT);
CREATE TRIGGER office_settings_no_update BEFORE UPDATE ON office_settings
    BEGIN SELECT RAISE(ABORT, 'settings versions are append-only: store a new version'); END;
CREATE TRIGGER office_settings_no_delete BEFORE DELETE ON office_settings
    BEGIN SELECT RAISE(ABORT, 'settings versions are append-only: store a new version'); END;
"""

_ADMIN_AREAS = """
CREATE TABLE admin_areas (
    fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, admin_code TEXT NOT NULL UNIQUE,
    name TEXT, level TEXT NOT NULL, attrs TEXT, import_id INTEGER REFERENCES imports,
    geom MULTIPOLYGON);
CREATE TABLE patch_areas (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, patch_id TEXT NOT NULL UNIQUE,
    admin_code TEXT NOT NULL, overlap_m2 REAL, share REAL, placed_at TEXT NOT NULL);
"""

#: GeoPackage requirement 119: a table registered in ``gpkg_contents`` has an INTEGER
#: primary key. ``batches`` and ``attachments`` were keyed by their TEXT id; SQLite cannot
#: change a primary key in place, so each is rebuilt with an ``fid`` key (its old rowid, so
#: the order stays) and the TEXT id kept ``UNIQUE NOT NULL``, and so is the table that
#: referenced it (``patches``, ``evidence``: their foreign key now names the id column).
#: Every row, id and value is copied as it was: the rows' digests do not cover ``fid``.
_INTEGER_KEYS = """
CREATE TABLE hetu_0009_batches (
    fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, batch_id TEXT NOT NULL UNIQUE,
    issued_on TEXT, import_id INTEGER, created_at TEXT);
INSERT INTO hetu_0009_batches (fid, batch_id, issued_on, import_id, created_at)
    SELECT rowid, batch_id, issued_on, import_id, created_at FROM batches ORDER BY rowid;
CREATE TABLE hetu_0009_patches (
    fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, patch_id TEXT NOT NULL UNIQUE,
    batch_id TEXT NOT NULL REFERENCES hetu_0009_batches (batch_id), issue_type TEXT NOT NULL,
    admin_code TEXT, detected_on TEXT, issued_on TEXT, area_m2 REAL, source_area REAL,
    description TEXT, attrs TEXT, import_id INTEGER REFERENCES imports, geom MULTIPOLYGON);
INSERT INTO hetu_0009_patches (fid, patch_id, batch_id, issue_type, admin_code, detected_on,
    issued_on, area_m2, source_area, description, attrs, import_id, geom)
    SELECT fid, patch_id, batch_id, issue_type, admin_code, detected_on, issued_on, area_m2,
    source_area, description, attrs, import_id, geom FROM patches ORDER BY fid;
DELETE FROM sqlite_sequence WHERE name = 'hetu_0009_patches';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'hetu_0009_patches', seq FROM sqlite_sequence WHERE name = 'patches';
DROP TABLE patches;
DROP TABLE batches;
ALTER TABLE hetu_0009_batches RENAME TO batches;
ALTER TABLE hetu_0009_patches RENAME TO patches;
CREATE TABLE hetu_0009_attachments (
    fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, attachment_id TEXT NOT NULL UNIQUE,
    filename TEXT, media_type TEXT, size INTEGER, taken_at TEXT, lon REAL, lat REAL,
    added_at TEXT);
INSERT INTO hetu_0009_attachments (fid, attachment_id, filename, media_type, size, taken_at,
    lon, lat, added_at)
    SELECT rowid, attachment_id, filename, media_type, size, taken_at, lon, lat, added_at
    FROM attachments ORDER BY rowid;
CREATE TABLE hetu_0009_evidence (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, patch_id TEXT NOT NULL,
    attachment_id TEXT NOT NULL REFERENCES hetu_0009_attachments (attachment_id),
    kind TEXT NOT NULL, checks TEXT, actor TEXT, added_at TEXT NOT NULL,
    UNIQUE (patch_id, attachment_id, kind));
INSERT INTO hetu_0009_evidence (fid, patch_id, attachment_id, kind, checks, actor, added_at)
    SELECT fid, patch_id, attachment_id, kind, checks, actor, added_at FROM evidence ORDER BY fid;
DELETE FROM sqlite_sequence WHERE name = 'hetu_0009_evidence';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'hetu_0009_evidence', seq FROM sqlite_sequence WHERE name = 'evidence';
DROP TABLE evidence;
DROP TABLE attachments;
ALTER TABLE hetu_0009_attachments RENAME TO attachments;
ALTER TABLE hetu_0009_evidence RENAME TO evidence;
CREATE INDEX evidence_patch ON evidence (patch_id);
"""

#: The same change on PostgreSQL, where a key changes in place (constraint names as
#: PostgreSQL gave them to the initial script's tables).
_INTEGER_KEYS_PG = """
ALTER TABLE patches DROP CONSTRAINT patches_batch_id_fkey;
ALTER TABLE evidence DROP CONSTRAINT evidence_attachment_id_fkey;
ALTER TABLE batches DROP CONSTRAINT batches_pkey;
ALTER TABLE batches ADD COLUMN fid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY;
ALTER TABLE batches ADD CONSTRAINT batches_batch_id_key UNIQUE (batch_id);
ALTER TABLE patches ADD CONSTRAINT patches_batch_id_fkey
    FOREIGN KEY (batch_id) REFERENCES batches (batch_id);
ALTER TABLE attachments DROP CONSTRAINT attachments_pkey;
ALTER TABLE attachments ADD COLUMN fid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY;
ALTER TABLE attachments ADD CONSTRAINT attachments_attachment_id_key UNIQUE (attachment_id);
ALTER TABLE evidence ADD CONSTRAINT evidence_attachment_id_fkey
    FOREIGN KEY (attachment_id) REFERENCES attachments (attachment_id);
"""

#: The documents (公文) issued, one row per file: its 文号 (``doc_no``) from the per-year,
#: per-code counter ``seq``; a number is taken before its document is recorded and never
#: reused (a run that fails leaves it unused, as a voided number is in a 发文登记簿).
_DOCUMENTS = """
CREATE TABLE documents (
    doc_id INTEGER PRIMARY KEY AUTOINCREMENT, year INTEGER NOT NULL, code TEXT NOT NULL,
    seq INTEGER NOT NULL, doc_no TEXT NOT NULL, kind TEXT NOT NULL, file TEXT NOT NULL UNIQUE,
    addressee TEXT, issued_on TEXT NOT NULL, taken_at TEXT NOT NULL, UNIQUE (year, code, seq));
"""

#: 核查 deadlines per batch (``hetu ingest … --verify-by``) and the details of a step that
#: are more than a state: the verdict (认定类别, 依据, 严重程度 …), the responsibility and
#: measures (责任单位, 整改措施 …), the 验收 and the 回头看. A detail row is written with its
#: event, whose ``content`` records the row's digest (:mod:`geo.ledger.digests`).
_VERIFICATION = """
ALTER TABLE batches ADD COLUMN verify_by TEXT;
CREATE TABLE patch_details (
    fid INTEGER PRIMARY KEY AUTOINCREMENT, detail_id TEXT NOT NULL UNIQUE,
    patch_id TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, actor TEXT NOT NULL,
    at TEXT NOT NULL);
CREATE INDEX patch_details_patch ON patch_details (patch_id);
"""

#: ``0012_pg_ingest`` (issue 20): on PostGIS the two per-row foreign keys of ``patches``
#: (to ``batches`` and to ``imports``) become statement-level triggers, so that a ``COPY``
#: of thousands of patches is checked once per statement (one join over the new rows)
#: instead of once per row. A GeoPackage keeps its foreign keys: its script does nothing.
_PG_INGEST = """
-- 0012_pg_ingest: PostGIS only (see _PG_INGEST_PG); a GeoPackage keeps its foreign keys.
"""

#: The checks the two foreign keys made, and their error (SQLSTATE 23503, the constraint's
#: name and the key in the message and detail, as PostgreSQL words them), so a refusal reads
#: and maps as before. ``patches_refs_check`` runs once per INSERT/UPDATE/COPY statement on
#: ``patches``: every batch and import the new rows name must exist, and is locked
#: ``FOR KEY SHARE`` (in key order) so a concurrent delete waits for this transaction and
#: then finds the rows that reference it. ``patches_refs_guard`` refuses a DELETE, key
#: UPDATE or TRUNCATE of ``batches``/``imports`` that would leave a patch without its row.
#: Both run as their owner (``SECURITY DEFINER``: a clerk may insert without the right to
#: lock) with the search path fixed to the ledger's schema, then ``pg_temp``.
#: The references the two foreign keys held: (column of ``patches``, referenced table).
_PG_REFS = (("batch_id", "batches"), ("import_id", "imports"))

#: Per reference, in ``patches_refs_check``: lock the rows named, refuse one missing.
_PG_REF_CHECK = """
    PERFORM 1 FROM {table} r WHERE r.{col} IN (SELECT n.{col} FROM new_rows n)
        ORDER BY r.{col} FOR KEY SHARE OF r;
    SELECT n.{col} INTO missing FROM new_rows n WHERE n.{col} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.{col} = n.{col}) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = 'insert or update on table "patches" violates '
                || 'foreign key constraint "patches_{col}_fkey"',
            CONSTRAINT = 'patches_{col}_fkey',
            TABLE = 'patches',
            DETAIL = format('Key ({col})=(%s) is not present in table "{table}".', missing);
    END IF;"""

#: Per referenced table, in ``patches_refs_guard``: refuse leaving a patch without its row.
_PG_REF_GUARD = """
    {branch} TG_TABLE_NAME = '{table}' THEN
        IF TG_OP = 'TRUNCATE' THEN
            SELECT p.{col} INTO kept FROM patches p WHERE p.{col} IS NOT NULL LIMIT 1;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT o.{col} INTO kept FROM old_rows o
                WHERE EXISTS (SELECT 1 FROM patches p WHERE p.{col} = o.{col}) LIMIT 1;
        ELSE
            SELECT o.{col} INTO kept FROM old_rows o
                WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.{col} = o.{col})
                AND EXISTS (SELECT 1 FROM patches p WHERE p.{col} = o.{col}) LIMIT 1;
        END IF;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                MESSAGE = 'update or delete on table "{table}" violates '
                    || 'foreign key constraint "patches_{col}_fkey" on table "patches"',
                CONSTRAINT = 'patches_{col}_fkey',
                TABLE = '{table}',
                DETAIL = format('Key ({col})=(%s) is still referenced from table "patches".',
                    kept);
        END IF;"""

#: Per referenced table, its three guard triggers.
_PG_REF_TRIGGERS = """
CREATE TRIGGER {table}_refs_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION patches_refs_guard();
CREATE TRIGGER {table}_refs_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION patches_refs_guard();
CREATE TRIGGER {table}_refs_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION patches_refs_guard();"""

_PG_INGEST_PG = (
    """
SELECT set_config('search_path', quote_ident(current_schema()) || ', pg_temp', true);
"""
    + "".join(f"ALTER TABLE patches DROP CONSTRAINT patches_{col}_fkey;\n" for col, _ in _PG_REFS)
    + """CREATE FUNCTION patches_refs_check() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path FROM CURRENT AS $f$
DECLARE
    missing TEXT;
BEGIN"""
    + "".join(_PG_REF_CHECK.format(col=col, table=table) for col, table in _PG_REFS)
    + """
    RETURN NULL;
END
$f$;
CREATE TRIGGER patches_refs_insert AFTER INSERT ON patches
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patches_refs_check();
CREATE TRIGGER patches_refs_update AFTER UPDATE ON patches
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION patches_refs_check();
CREATE FUNCTION patches_refs_guard() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path FROM CURRENT AS $f$
DECLARE
    kept TEXT;
BEGIN"""
    + "".join(
        _PG_REF_GUARD.format(branch="ELSIF" if k else "IF", col=col, table=table)
        for k, (col, table) in enumerate(_PG_REFS)
    )
    + """
    END IF;
    RETURN NULL;
END
$f$;"""
    + "".join(_PG_REF_TRIGGERS.format(table=table) for _, table in _PG_REFS)
    + "\n"
)

#: Migrations whose SQLite script does not translate (:func:`geo.ledger.db.pg_statements`):
#: their PostgreSQL script instead, by the SQLite one.
POSTGIS_SCRIPTS: dict[str, str] = {
    _INTEGER_KEYS: _INTEGER_KEYS_PG,
    _PG_INGEST: _PG_INGEST_PG,
}

#: Named migrations, applied in order, each in one transaction: (name, SQL, tables to
#: register in gpkg_contents as {table: description}; feature tables are in FEATURE_TABLES).
MIGRATIONS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("0001_initial", _INITIAL, {}),
    ("0002_patch_links", _PATCH_LINKS, {"patch_links": "图斑关联（同一/反弹/挂账重复）"}),
    ("0003_imagery", _IMAGERY, {"imagery": "影像切片与变化指标"}),
    ("0004_exports", _EXPORTS, {"exports": "定期导出记录"}),
    ("0005_finding_links", _FINDING_LINKS, {"finding_links": "巡查发现与图斑关联"}),
    ("0006_integrity", _INTEGRITY, {}),
    ("0007_office_settings", _OFFICE_SETTINGS, {"office_settings": "办公室设置（版本）"}),
    (
        "0008_admin_areas",
        _ADMIN_AREAS,
        {"admin_areas": "乡镇村界", "patch_areas": "图斑所在乡镇村（按面积）"},
    ),
    ("0009_gpkg_integer_keys", _INTEGER_KEYS, {}),
    ("0010_verification", _VERIFICATION, {"patch_details": "核查认定、整改、验收与回头看记录"}),
    ("0011_documents", _DOCUMENTS, {"documents": "发文登记（文号）"}),
    ("0012_pg_ingest", _PG_INGEST, {}),
)


#: Columns of :meth:`Ledger.status_frame`, in order.
STATUS_COLUMNS = [
    "patch_id",
    "batch_id",
    "issue_type",
    "admin_code",
    "township",
    "township_code",
    "township_check",
    "detected_on",
    "issued_on",
    "area_m2",
    "description",
    "state",
    "state_since",
    "deadline",
    "overdue_days",
    "water_name",
    "segment_id",
    "segment_name",
    "range_id",
    "relation",
    "share",
    "distance_m",
    "chief_village",
    "chief_township",
    "chief_county",
    "chief_city",
    "chief_province",
    "attrs",
    "geometry",
]

#: The chief chain's columns in the status frame, lowest level first.
CHIEF_COLUMNS = ["chief_village", "chief_township", "chief_county", "chief_city", "chief_province"]


#: A dollar quote's delimiter (``$$``, ``$f$``): PostgreSQL function bodies sit between two.
_DOLLAR = re.compile(r"\$(?:[A-Za-z_]\w*)?\$")


def split_sql(script: str) -> list[str]:
    """Split a migration script into statements, keeping trigger and function bodies whole.

    A statement ends on a line that ends with ``;``, unless that line is inside a
    SQLite trigger (``CREATE TRIGGER … BEGIN … END;``) or a dollar-quoted PostgreSQL
    body (``AS $f$ … $f$``), whose own statements end with ``;`` too.

    Parameters
    ----------
    script : str
        SQL statements, each ending with ``;`` at the end of a line.

    Returns
    -------
    list of str
        The statements, in order (the last one may lack its ``;``).
    """
    statements, buf = [], []
    quote: str | None = None  # the dollar quote open at the end of the line, if any
    for line in script.strip().splitlines():
        buf.append(line)
        for mark in _DOLLAR.findall(line):
            if quote is None:
                quote = mark
            elif mark == quote:
                quote = None
        text = "\n".join(buf).strip()
        upper = text.upper()
        in_trigger = upper.startswith("CREATE TRIGGER") and re.search(r"\bBEGIN\b", upper)
        if quote is None and text.endswith(";") and (not in_trigger or upper.endswith("END;")):
            statements.append(text)
            buf = []
    if "".join(buf).strip():
        statements.append("\n".join(buf))
    return statements
