"""The two databases a ledger lives in: a GeoPackage file, or PostgreSQL with PostGIS.

The ledger's SQL is written once, with ``?`` placeholders and statements both
databases accept. What differs lives here, behind one small interface
(:class:`GpkgDatabase`, :class:`PostgisDatabase`):

- connecting, and the write lock: ``BEGIN IMMEDIATE`` on SQLite (one writer at
  a time, the others wait), on PostgreSQL a row lock on the one row of
  ``hetu_head`` (``SELECT … FOR UPDATE``) so that writers queue on it while
  readers never wait;
- the schema: migrations are SQLite-flavoured scripts, translated here for
  PostgreSQL (identity keys, ``geometry(MultiPolygon, 4490)`` columns with GiST
  indexes, PL/pgSQL triggers that keep ``events`` append-only);
- geometries: GeoPackage blobs on SQLite, WKB through ``ST_GeomFromWKB`` and
  (hex) EWKB back on PostGIS;
- upserts (``INSERT OR IGNORE`` / ``OR REPLACE`` vs ``ON CONFLICT``);
- the end of the hash chain: SQLite's ``sqlite_sequence`` knows the last event
  id ever given; on PostgreSQL, where a rolled-back insert also consumes an
  id, ``hetu_head`` records the last event written.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo.errors import LedgerError
from geo.fileio import DISK_FULL_ERRNOS
from geo.ledger import gpkg as _gpkg
from geo.ledger.schema import FEATURE_TABLES, POSTGIS_SCRIPTS, register_all, split_sql

STORAGE_EPSG = 4490
#: Conflict targets of the tables written with ``conflict="replace"`` / ``"ignore"``.
UNIQUE_KEYS = {
    "batches": ("batch_id",),
    "attachments": ("attachment_id",),
    "evidence": ("patch_id", "attachment_id", "kind"),
    "chiefs": ("chief_id", "segment_id"),
    "imagery": ("patch_id", "role", "source"),
    "patch_links": ("patch_id", "earlier_id"),
}


#: The keywords a libpq connection string (``host=db dbname=hetu user=office``) starts with.
_DSN_START = re.compile(
    r"\s*(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|connect_timeout"
    r"|application_name|options|target_session_attrs)\s*=",
    re.I,
)
#: Where a password hides in a location: URL userinfo (``user:pw@``), a URL query
#: (``?password=``) and a libpq keyword string (``password=pw`` or ``password='p w'``).
_PASSWORDS = (
    (re.compile(r"(://[^:/?#@\s]*):[^\s?#]*@"), r"\1:***@"),
    (re.compile(r"([?&]password=)[^&#\s]*", re.I), r"\1***"),
    (re.compile(r"(^|\s)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I), r"\1\2***"),
)
#: SQLite result codes of a write that found no room: SQLITE_FULL, SQLITE_IOERR_WRITE.
_FULL_SQLITE = frozenset({13, 778})


def is_url(location: object) -> bool:
    """Whether a ledger location names a PostgreSQL database rather than a file.

    A ``postgresql://`` (or ``postgres://``) URL, or a libpq connection string
    of ``keyword=value`` pairs (``host=db dbname=hetu user=office``).
    """
    text = str(location)
    return text.startswith(("postgresql://", "postgres://")) or bool(_DSN_START.match(text))


def redact(location: object) -> str:
    """A ledger location without its password, for every message and log that shows it.

    Masks URL userinfo (``postgresql://user:***@host/db``), a ``password``
    query parameter and a libpq ``password=`` keyword; anything else is
    returned as it was (``str(location)``), so ``redact(x) != str(x)`` tells
    that ``x`` carries a password.
    """
    text = str(location)
    for pattern, mask in _PASSWORDS:
        text = pattern.sub(mask, text)
    return text


def disk_full(exc: BaseException) -> bool:
    """Whether an error means the disk, a quota or a file-size limit ran out during a write.

    An :class:`OSError` with ``ENOSPC``, ``EFBIG`` or ``EDQUOT``; SQLite's
    ``SQLITE_FULL`` or ``SQLITE_IOERR_WRITE`` (what a write refused for
    ``EFBIG`` becomes); PostgreSQL's ``disk_full`` (SQLSTATE 53100).
    """
    if isinstance(exc, OSError):
        return exc.errno in DISK_FULL_ERRNOS
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) in _FULL_SQLITE
    return getattr(exc, "sqlstate", None) == "53100"


class _Connected:
    """What both databases do alike on their DB-API connection ``_conn``."""

    _conn: Any

    def commit(self) -> None:
        """Commit the transaction."""
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        """Roll the transaction back."""
        self._conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


class GpkgDatabase(_Connected):
    """A ledger in one GeoPackage file, written through :mod:`sqlite3`."""

    kind = "gpkg"
    #: Event ids are given without gaps (a rolled-back insert gives its id back).
    gapless_ids = True

    def __init__(self, path: Path) -> None:
        self.integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
        self.path = path
        self.name = str(path)
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=60)
        _gpkg.register_functions(self._conn)  # a spatial index QGIS made calls them
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._conn.execute("PRAGMA busy_timeout = 60000")

    def rollback(self) -> None:
        """Roll the transaction back, unless SQLite already did (after a failed write)."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    @classmethod
    def create(cls, path: Path) -> None:
        """Create the file with the GeoPackage core tables and ``hetu_migrations``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            _gpkg.init_core(conn, srs_ids=[STORAGE_EPSG, 4326])
            conn.execute(
                "CREATE TABLE hetu_migrations (name TEXT PRIMARY KEY NOT NULL, applied_at TEXT)"
            )
            conn.execute("COMMIT")
        finally:
            conn.close()

    def check(self) -> None:
        """Refuse a file that is not a Hetu ledger."""
        try:
            app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self.close()
            raise LedgerError(f"{self.name} is not a GeoPackage ledger ({exc})") from exc
        if app_id != _gpkg.APPLICATION_ID or not self.has_table("hetu_migrations"):
            self.close()
            raise LedgerError(
                f"{self.name} is not a Hetu ledger (no hetu_migrations table); "
                "give the ledger file created by `hetu init`"
            )

    # -- statements -----------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (``?`` placeholders); return the cursor."""
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each row."""
        self._conn.executemany(sql, rows)

    def where_in(self, column: str, values: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
        """Conditions ``column IN (…)`` with their parameters, 500 values each (SQLite's limit)."""
        for start in range(0, len(values), 500):
            chunk = list(values[start : start + 500])
            yield f"{column} IN ({','.join('?' * len(chunk))})", chunk

    def copy_rows(
        self,
        table: str,
        names: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        geoms: np.ndarray | None = None,
    ) -> None:
        """Insert many rows of ``names`` (and ``geom`` from ``geoms``, when given)."""
        if geoms is not None:
            rows = [[*row, blob] for row, blob in zip(rows, self.encode(geoms), strict=True)]
        self.executemany(self.insert_sql(table, names, geom=geoms is not None), rows)

    def insert_sql(
        self, table: str, columns: Sequence[str], *, conflict: str | None = None, geom: bool = False
    ) -> str:
        """An INSERT of ``columns`` (plus ``geom`` last), ignoring or replacing on conflict."""
        verb = {None: "INSERT", "ignore": "INSERT OR IGNORE", "replace": "INSERT OR REPLACE"}
        names = [*columns, "geom"] if geom else list(columns)
        marks = ", ".join("?" * len(names))
        return f"{verb[conflict]} INTO {table} ({', '.join(names)}) VALUES ({marks})"

    def statements(self, script: str) -> list[str]:
        """The statements of a migration script, for this database."""
        return split_sql(script)

    # -- transactions -----------------------------------------------------------------------

    def begin_write(self) -> None:
        """Start a transaction holding the write lock."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise LedgerError(
                f"{self.name}: cannot take the write lock ({exc}); a GeoPackage ledger takes one "
                "writer at a time — wait for the other run to finish, or move the office's "
                "ledger to PostGIS (`hetu copy-ledger`)"
            ) from exc

    # -- schema and geometry ----------------------------------------------------------------

    def has_table(self, name: str) -> bool:
        """Whether a table exists."""
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    #: A GeoPackage has no database users: its events record none.
    db_user = None

    def triggers(self) -> dict[str, tuple[str, str, bool, str | None]]:
        """Every trigger: ``name -> (table, definition, enabled, function body)``."""
        rows = self._conn.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
        )
        return {name: (table, flat_sql(sql), True, None) for name, table, sql in rows}

    def view_sql(self, name: str) -> str | None:
        """The definition of a view as stored, or None when there is no such view."""
        row = self._conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", (name,)
        ).fetchone()
        return flat_sql(row[0]) if row else None

    def expected_view_sql(self, statement: str) -> str | None:
        """How this database stores the view ``statement`` creates."""
        return flat_sql(statement)

    def registered(self, migration: str, tables: dict[str, str]) -> None:
        """Describe a migration's new tables in the GeoPackage contents (QGIS shows them).

        After ``0009_gpkg_integer_keys`` an R-tree a client made on ``patches`` is dropped:
        the rebuilt table has lost its triggers.
        """
        if migration == "0001_initial":
            register_all(self._conn)
        if migration == "0009_gpkg_integer_keys":  # it rebuilt patches: a client's index is stale
            _gpkg.drop_spatial_index(self._conn, "patches")
        for table, description in tables.items():
            gtype = FEATURE_TABLES.get(table, (None,))[0]
            geometry = ("geom", gtype) if gtype else None
            _gpkg.register_table(self._conn, table, description=description, geometry=geometry)

    def encode(self, geoms: np.ndarray) -> list[Any]:
        """Geometries as this database stores them (GeoPackage blobs)."""
        return _gpkg.to_blobs(geoms, srs_id=STORAGE_EPSG)

    def decode(self, values: Iterable[Any]) -> np.ndarray:
        """Geometries read back from a geometry column."""
        return _gpkg.from_blobs(values)

    def features_written(self, table: str, geoms: np.ndarray) -> None:
        """Widen the layer's extent in ``gpkg_contents``."""
        _gpkg.update_extent(self._conn, table, geoms)

    def events_written(self) -> None:
        """Nothing to do: ``sqlite_sequence`` keeps the last event id."""

    def last_event_id(self) -> int | None:
        """The last event id ever given (deleted events at the end still count)."""
        row = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return None if row is None else int(row[0])

    def reset_sequences(self, tables: dict[str, str]) -> None:
        """Nothing to do: SQLite moves AUTOINCREMENT past ids inserted explicitly."""


# -- PostgreSQL + PostGIS ----------------------------------------------------------------------

_TRIGGER = re.compile(
    r"CREATE TRIGGER (\w+) BEFORE (UPDATE|DELETE) ON (\w+)\s+"
    r"BEGIN SELECT RAISE\(ABORT, '([^']*)'\); END;",
    re.S,
)
_GEOMETRY_TYPES = {
    "MULTIPOLYGON": "MultiPolygon",
    "MULTILINESTRING": "MultiLineString",
    "POINT": "Point",
}
#: A ``db_user`` column of ``events`` is stamped by PostgreSQL with the session's user; only
#: the table's owner (or a member of its role: copying a ledger) may keep the one it gives.
_DB_USER = (
    "CREATE FUNCTION {table}_db_user() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
    " IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),"
    " 'MEMBER') THEN NEW.db_user := session_user; END IF; RETURN NEW; END $f$",
    "CREATE TRIGGER {table}_db_user BEFORE INSERT ON {table}"
    " FOR EACH ROW EXECUTE FUNCTION {table}_db_user()",
)
_HEAD_SQL = (
    "CREATE TABLE hetu_head (id INTEGER PRIMARY KEY CHECK (id = 1), last_event_id BIGINT,"
    " last_hash TEXT)",
    "INSERT INTO hetu_head VALUES (1, NULL, NULL)",
)


def pg_statements(script: str) -> list[str]:
    """Translate a SQLite-flavoured migration script into PostgreSQL statements."""
    out: list[str] = []
    for statement in split_sql(POSTGIS_SCRIPTS.get(script, script)):
        trigger = _TRIGGER.fullmatch(statement.strip())
        if trigger:
            name, when, table, message = trigger.groups()
            out.append(
                f"CREATE FUNCTION {name}_refuse() RETURNS trigger LANGUAGE plpgsql AS $f$"
                f" BEGIN RAISE EXCEPTION '{message}'; END $f$"
            )
            out.append(
                f"CREATE TRIGGER {name} BEFORE {when} ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION {name}_refuse()"
            )
            if when == "DELETE":
                out.append(
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                    f" FOR EACH STATEMENT EXECUTE FUNCTION {name}_refuse()"
                )
            continue
        text = statement.rstrip(";")
        text = text.replace(
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        )
        text = re.sub(r"\bINTEGER\b", "BIGINT", text)
        text = re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)
        text = re.sub(r"\bBLOB\b", "BYTEA", text)
        text = re.sub(
            r"\bgeom (MULTIPOLYGON|MULTILINESTRING|POINT)\b",
            lambda m: f"geom geometry({_GEOMETRY_TYPES[m[1]]}, {STORAGE_EPSG})",
            text,
        )
        out.append(text)
        table = re.match(r"CREATE TABLE (\w+)", text)
        if table and table[1] in FEATURE_TABLES:
            out.append(f"CREATE INDEX {table[1]}_geom ON {table[1]} USING GIST (geom)")
        stamped = re.fullmatch(r"ALTER TABLE (\w+) ADD COLUMN db_user TEXT", text.strip())
        if stamped:
            out += [sql.format(table=stamped[1]) for sql in _DB_USER]
    return out


def flat_sql(text: str) -> str:
    """SQL text on one line, single-spaced, without a final semicolon (to compare definitions)."""
    return " ".join(text.split()).rstrip(";").strip()


def expected_triggers(kind: str) -> dict[str, tuple[str, str, str | None]]:
    """The triggers the migrations create: ``name -> (table, definition, function body)``.

    Parameters
    ----------
    kind : str
        ``gpkg`` (the scripts as written) or ``postgis`` (as :func:`pg_statements` translates them).
    """
    from geo.ledger.schema import MIGRATIONS

    found: dict[str, tuple[str, str, str | None]] = {}
    bodies: dict[str, str] = {}
    for _name, script, _tables in MIGRATIONS:
        for statement in split_sql(script) if kind == "gpkg" else pg_statements(script):
            text = flat_sql(statement)
            function = re.fullmatch(
                r"CREATE FUNCTION (\w+)\(\) RETURNS trigger .*? AS \$f\$(.*)\$f\$", text
            )
            if function:
                bodies[function[1]] = flat_sql(function[2])
            trigger = re.match(r"CREATE TRIGGER (\w+) \w+ \w+ ON (\w+)", text)
            if trigger:
                calls = re.search(r"EXECUTE FUNCTION (\w+)\(\)", text)
                found[trigger[1]] = (trigger[2], text, calls[1] if calls else None)
    return {n: (t, sql, bodies.get(f) if f else None) for n, (t, sql, f) in found.items()}


#: Geometries encoded at a time while a ``COPY`` streams (:meth:`PostgisDatabase.copy_rows`).
_COPY_SLICE = 500


def _ewkb_slices(geoms: np.ndarray) -> Iterator[str]:
    """Hex EWKB of ``geoms`` (SRID :data:`STORAGE_EPSG`), encoded a slice at a time."""
    geoms = np.asarray(geoms, dtype=object)
    for start in range(0, len(geoms), _COPY_SLICE):
        part = shapely.set_srid(geoms[start : start + _COPY_SLICE], STORAGE_EPSG)
        yield from shapely.to_wkb(part, hex=True, include_srid=True, output_dimension=2)


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class PostgisDatabase(_Connected):
    """A ledger in a PostgreSQL database with the PostGIS extension (psycopg 3)."""

    kind = "postgis"
    #: A rolled-back insert consumes its identity value: ids may have gaps.
    gapless_ids = False

    def __init__(self, url: str) -> None:
        import psycopg

        self.path = None
        self.name = redact(url)
        self.url = url
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            text = redact(str(exc).strip())
            reason = text.splitlines()[0] if text else type(exc).__name__
            raise LedgerError(
                f"{self.name}: cannot connect ({reason}); check the server, the database name "
                "and the password (PGPASSWORD or ~/.pgpass, never in the URL on the command line)"
            ) from exc
        self._conn.execute("SET lock_timeout = '120s'")
        self._errors = psycopg.errors
        self.integrity_errors: tuple[type[Exception], ...] = (psycopg.IntegrityError,)

    @classmethod
    def create(cls, url: str) -> None:
        """Create the PostGIS extension (if missing), ``hetu_migrations`` and ``hetu_head``."""
        db = cls(url)
        try:
            try:
                db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except db._errors.Error as exc:
                raise LedgerError(
                    f"{db.name}: the PostGIS extension is not installed and cannot be created "
                    f"({str(exc).strip()}); ask the database administrator to run "
                    "`CREATE EXTENSION postgis;` in this database"
                ) from exc
            db.begin_write(lock=False)
            committed = False
            try:
                db.execute(
                    "CREATE TABLE hetu_migrations (name TEXT PRIMARY KEY NOT NULL, applied_at TEXT)"
                )
                for statement in _HEAD_SQL:
                    db.execute(statement)
                db.commit()
                committed = True
            finally:
                if not committed:
                    db.rollback()
        finally:
            db.close()

    def check(self) -> None:
        """Refuse a database that holds no Hetu ledger."""
        if not self.has_table("hetu_migrations") or not self.has_table("hetu_head"):
            self.close()
            raise LedgerError(
                f"{self.name} holds no Hetu ledger (no hetu_migrations table); create one with "
                "`hetu init` or copy a ledger into it with `hetu copy-ledger`"
            )

    # -- statements -----------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (``?`` placeholders); return the cursor."""
        try:
            return self._conn.execute(_pg_sql(sql), list(params))
        except self._errors.LockNotAvailable as exc:
            raise LedgerError(
                f"{self.name}: another writer held the ledger too long ({exc})"
            ) from exc
        except self._errors.InsufficientPrivilege as exc:
            raise self._refused(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each row."""
        rows = list(rows)
        if rows:
            try:
                with self._conn.cursor() as cur:
                    cur.executemany(_pg_sql(sql), rows)
            except self._errors.InsufficientPrivilege as exc:
                raise self._refused(exc) from exc

    def where_in(self, column: str, values: Sequence[Any]) -> Iterator[tuple[str, list[Any]]]:
        """One condition ``column = ANY(array)`` for every value: one statement, one round trip.

        (A long ``IN (?, …)`` list costs psycopg more to parse than the query costs to run.)
        """
        if len(values):
            yield f"{column} = ANY(?)", [list(values)]

    def copy_rows(
        self,
        table: str,
        names: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        geoms: np.ndarray | None = None,
    ) -> None:
        """Insert many rows with ``COPY … FROM STDIN`` (``geom`` as EWKB from ``geoms``).

        Triggers fire as for INSERT; a batch of 200,000 patches and their events goes in
        about twice as fast as row-by-row statements. ``rows`` may be a generator: it is
        consumed while the rows already sent are inserted, so the client's work on the
        next rows (and the EWKB, encoded :data:`_COPY_SLICE` at a time) overlaps the
        server's (its checks and index updates), each on a core of its own.
        """
        cols = [*names, "geom"] if geoms is not None else list(names)
        sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN"
        try:
            with self._conn.cursor() as cur, cur.copy(sql) as copy:
                if geoms is None:
                    for row in rows:
                        copy.write_row(row)
                    return
                for row, ewkb in zip(rows, _ewkb_slices(geoms), strict=True):
                    copy.write_row([*row, ewkb])
        except self._errors.InsufficientPrivilege as exc:
            raise self._refused(exc) from exc

    def _refused(self, exc: Exception) -> LedgerError:
        reason = " ".join(str(exc).split("\n")[0].split())
        return LedgerError(
            f"{self.name}: the database user {self._conn.info.user} may not do this ({reason}); "
            "ask the office's database owner for the role it needs (`hetu roles`: hetu_clerk "
            "records changes, hetu_viewer only reads)"
        )

    @functools.cached_property
    def db_user(self) -> str:
        """The session's database user (recorded on every event)."""
        return str(self._conn.execute("SELECT session_user").fetchone()[0])

    def insert_sql(
        self, table: str, columns: Sequence[str], *, conflict: str | None = None, geom: bool = False
    ) -> str:
        """An INSERT of ``columns`` (plus ``geom`` last), ignoring or replacing on conflict."""
        names = [*columns, "geom"] if geom else list(columns)
        marks = ["?"] * len(columns) + ([f"ST_GeomFromWKB(?, {STORAGE_EPSG})"] if geom else [])
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(marks)})"
        if conflict == "ignore":
            sql += " ON CONFLICT DO NOTHING"
        elif conflict == "replace":
            keys = UNIQUE_KEYS[table]
            rest = [c for c in names if c not in keys]
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in rest)
            sql += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
        return sql

    def statements(self, script: str) -> list[str]:
        """The statements of a migration script, translated for PostgreSQL."""
        return pg_statements(script)

    # -- transactions -----------------------------------------------------------------------

    def begin_write(self, *, lock: bool = True) -> None:
        """Start a transaction and queue on the row lock every writer takes."""
        self._conn.execute("BEGIN")
        if lock:
            self.execute("SELECT 1 FROM hetu_head WHERE id = 1 FOR UPDATE")

    # -- schema and geometry ----------------------------------------------------------------

    def has_table(self, name: str) -> bool:
        """Whether a table exists (in the search path)."""
        return self.execute("SELECT to_regclass(?)", [name]).fetchone()[0] is not None

    def triggers(self) -> dict[str, tuple[str, str, bool, str | None]]:
        """Every trigger of the ledger's schema: ``name -> (table, definition, enabled, body)``.

        The definition is PostgreSQL's own (``pg_get_triggerdef``, the schema left out),
        enabled means it fires in ordinary sessions, and the body is its function's source.
        """
        rows = self.execute(
            "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid), t.tgenabled, p.prosrc"
            " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal AND c.relnamespace ="
            " (SELECT relnamespace FROM pg_class WHERE oid = to_regclass('events'))"
        )
        return {
            name: (table, flat_sql(re.sub(r" ON \S+\.", " ON ", sql)), on in ("O", "A"),
                   flat_sql(body or ""))
            for name, table, sql, on, body in rows
        }  # fmt: skip

    def view_sql(self, name: str) -> str | None:
        """PostgreSQL's definition of a view, or None when there is no such view."""
        row = self.execute(
            "SELECT pg_get_viewdef(oid) FROM pg_class WHERE oid = to_regclass(?) AND relkind = 'v'",
            [name],
        ).fetchone()
        return flat_sql(row[0]) if row else None

    def expected_view_sql(self, statement: str) -> str | None:
        """How PostgreSQL writes the view ``statement`` back, or None if this user cannot tell.

        The view is made as a temporary view in a transaction that is rolled back.
        """
        select = re.match(r"\s*CREATE VIEW \w+ AS\s+(.*)", statement, re.S)
        if select is None:
            return None
        self._conn.execute("BEGIN")
        try:
            self._conn.execute(f"CREATE TEMP VIEW hetu_expected_view AS {select[1].rstrip(';')}")
            row = self._conn.execute("SELECT pg_get_viewdef('hetu_expected_view'::regclass)")
            return flat_sql(row.fetchone()[0])
        except self._errors.Error:
            return None
        finally:
            self._conn.execute("ROLLBACK")

    def registered(self, migration: str, tables: dict[str, str]) -> None:
        """Record the tables' descriptions as table comments (psql and QGIS show them)."""
        from geo.ledger.schema import ATTRIBUTE_TABLES, initial_feature_tables

        described = dict(tables)
        if migration == "0001_initial":
            described |= {t: d for t, (_g, d) in initial_feature_tables().items()}
            described |= ATTRIBUTE_TABLES
        for table, description in described.items():
            self.execute(f"COMMENT ON TABLE {table} IS '{description.replace(chr(39), '')}'")

    def encode(self, geoms: np.ndarray) -> list[Any]:
        """Geometries as ISO WKB (``ST_GeomFromWKB`` sets the SRID)."""
        return list(shapely.to_wkb(np.asarray(geoms, dtype=object), output_dimension=2))

    def decode(self, values: Iterable[Any]) -> np.ndarray:
        """Geometries from the (hex) EWKB PostGIS returns."""
        return shapely.from_wkb(np.asarray(list(values), dtype=object))

    def features_written(self, table: str, geoms: np.ndarray) -> None:
        """Nothing to do: PostGIS computes extents on demand."""

    def events_written(self) -> None:
        """Move the chain head to the last event written (inside the writing transaction)."""
        self.execute(
            "UPDATE hetu_head SET (last_event_id, last_hash) ="
            " (SELECT event_id, hash FROM events ORDER BY event_id DESC LIMIT 1) WHERE id = 1"
        )

    def last_event_id(self) -> int | None:
        """The last event written, as recorded in ``hetu_head``."""
        row = self.execute("SELECT last_event_id FROM hetu_head WHERE id = 1").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def reset_sequences(self, tables: dict[str, str]) -> None:
        """Move identity sequences past ids inserted explicitly (``{table: id column}``)."""
        for table, column in tables.items():
            self.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" GREATEST((SELECT max({column}) FROM {table}), 1),"
                f" (SELECT max({column}) FROM {table}) IS NOT NULL)"
            )


Database = GpkgDatabase | PostgisDatabase


def connect(location: str | Path) -> Database:
    """Open the database of an existing ledger (a ``.gpkg`` path or a ``postgresql://`` URL)."""
    if is_url(location):
        db: Database = PostgisDatabase(str(location))
    else:
        path = Path(location)
        if not path.is_file():
            shown = redact(path)
            raise LedgerError(f"no ledger at {shown}; create one with `hetu init {shown}`")
        db = GpkgDatabase(path)
    db.check()
    return db


def exists(location: str | Path) -> bool:
    """Whether a ledger already exists at ``location``."""
    if not is_url(location):
        return Path(location).exists()
    db = PostgisDatabase(str(location))
    try:
        return db.has_table("hetu_migrations")
    finally:
        db.close()


def create(location: str | Path) -> None:
    """Create an empty ledger (no migrations yet) at ``location``."""
    if is_url(location):
        PostgisDatabase.create(str(location))
    else:
        GpkgDatabase.create(Path(location))
