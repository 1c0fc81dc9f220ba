"""The ledger (台账): one GeoPackage file holding the whole data model.

The ledger is the only stateful object in Hetu. It is a real GeoPackage that
QGIS and GDAL open (feature layers ``patches``, ``segments``, ``survey_tracks``,
``survey_findings``; attribute tables for the rest), with:

- a schema built by named migrations, each applied in one transaction and
  recorded in ``hetu_migrations``;
- an append-only ``events`` table (SQLite triggers refuse UPDATE and DELETE),
  hash-chained, from which the current state of every patch is derived (the
  ``patch_state`` view) — the state is never stored;
- all-or-nothing writes: a batch of patches, their first events and the import
  record commit together or not at all; transitions take the write lock
  (``BEGIN IMMEDIATE``) so concurrent processes never interleave a check and
  its write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.clock import as_time, now
from geo.crs import STORAGE_EPSG
from geo.errors import BatchConflictError, DiskFullError, LedgerError
from geo.labels import CLI
from geo.ledger import changes as _changes
from geo.ledger import db as _db
from geo.ledger import digests as _digests
from geo.ledger.changes import Change, Problem
from geo.ledger.db import Database
from geo.ledger.derived import LedgerDerived
from geo.ledger.office import LedgerOffice
from geo.ledger.reads import LedgerReads
from geo.ledger.schema import FEATURE_TABLES, MIGRATIONS
from geo.policy.lifecycle import ISSUE_ACTION, Lifecycle
from geo.policy.verification import verify_deadline
from geo.progress import Progress, no_progress
from geo.records import PATCH_COLUMNS, ImportRecord, file_sha256, none_if_nan
from geo.settings import Settings

__all__ = ["BATCH_COLUMNS", "Ledger", "open_ledger"]

BATCH_COLUMNS = ("batch_id", "issued_on", "import_id", "created_at")
#: Patches written per statement batch by :meth:`Ledger.add_patches` (one progress report each).
_WRITE_CHUNK = 5_000


class Ledger(LedgerReads, LedgerOffice, LedgerDerived):
    """A ledger file: open it, write to it in transactions, read frames from it.

    Parameters
    ----------
    path : path-like
        An existing ledger (``.gpkg``); use :meth:`create` for a new one.
    settings : Settings, optional
        Office settings (deadline defaults, township names); default the settings
        stored in the ledger (:meth:`store_settings`), else the defaults.
    lifecycle : Lifecycle, optional
        The state machine transitions are checked against (default the settings').
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        settings: Settings | None = None,
        lifecycle: Lifecycle | None = None,
        attachments_dir: str | os.PathLike | None = None,
    ) -> None:
        self._conn: Database = _db.connect(path)
        self.path: Path | None = self._conn.path
        self.name = self._conn.name
        self._attachments = Path(attachments_dir) if attachments_dir else None
        self.migrate()
        self.settings = settings or self.stored_settings() or Settings()
        self.lifecycle = lifecycle or self.settings.lifecycle

    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        *,
        settings: Settings | None = None,
        exist_ok: bool = False,
        attachments_dir: str | os.PathLike | None = None,
    ) -> Ledger:
        """Create a new ledger and apply every migration.

        Parameters
        ----------
        path : path-like or str
            The ``.gpkg`` file to create, or a ``postgresql://`` URL of an
            existing database (PostGIS is enabled in it when missing).
        settings : Settings, optional
            Office settings.
        exist_ok : bool
            Open an existing ledger instead of refusing.
        attachments_dir : path-like, optional
            Where evidence files are stored (see :attr:`attachments_dir`).

        Returns
        -------
        Ledger
        """
        name = _db.redact(path)
        if _db.exists(path):
            if exist_ok:
                return cls(path, settings=settings, attachments_dir=attachments_dir)
            raise LedgerError(f"{name} already exists; open it, or choose another path")
        _db.create(path)
        return cls(path, settings=settings, attachments_dir=attachments_dir)

    @property
    def backend(self) -> str:
        """``gpkg`` or ``postgis``."""
        return self._conn.kind

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.name!r})"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """Hold the write lock for a block: everything in it commits or nothing does."""
        self._conn.begin_write()
        committed = False
        try:
            yield self._conn
            self._conn.commit()
            committed = True
        except self._conn.integrity_errors as exc:
            reason = " ".join(str(exc).split("\nCONTEXT:")[0].split())  # not the trigger's line
            raise LedgerError(
                f"{self.name}: the database refused the write ({reason}); nothing was written"
            ) from exc
        except Exception as exc:
            if not _db.disk_full(exc):
                raise
            raise DiskFullError(
                f"{CLI['disk_full']}: disk full while writing {self.name} "
                f"({' '.join(str(exc).split())}); free space and rerun; nothing was written"
            ) from exc
        finally:
            if not committed:
                self._conn.rollback()

    # -- schema ---------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; return their names."""
        done = {r[0] for r in self._conn.execute("SELECT name FROM hetu_migrations")}
        applied = []
        for name, script, tables in MIGRATIONS:
            if name in done:
                continue
            with self.transaction() as conn:
                # another process may have applied it while this one waited for the lock
                if conn.execute("SELECT 1 FROM hetu_migrations WHERE name = ?", [name]).fetchone():
                    continue
                for statement in conn.statements(script):
                    conn.execute(statement)
                _digests.after_migration(conn, name)
                conn.registered(name, tables)
                conn.execute("INSERT INTO hetu_migrations VALUES (?, ?)", (name, now().isoformat()))
            applied.append(name)
        return applied

    @property
    def schema_version(self) -> str:
        """The name of the last migration applied."""
        row = self._conn.execute("SELECT max(name) FROM hetu_migrations").fetchone()
        return row[0]

    # -- imports --------------------------------------------------------------------------

    def find_import(self, kind: str, sha256: str) -> ImportRecord | None:
        """Return the record of an earlier ingest of the same content, if any."""
        row = self._conn.execute(
            "SELECT import_id, kind, file, sha256, batch_id, encoding, crs, decisions, n_read,"
            " n_kept, n_quarantined, imported_at FROM imports WHERE kind = ? AND sha256 = ?"
            " ORDER BY import_id LIMIT 1",
            (kind, sha256),
        ).fetchone()
        if row is None:
            return None
        rec = ImportRecord(
            kind=row[1],
            file=row[2],
            sha256=row[3],
            batch_id=row[4],
            encoding=row[5] or "",
            crs=row[6] or "",
            decisions=json.loads(row[7] or "[]"),
            n_read=row[8],
            n_kept=row[9],
            n_quarantined=row[10],
            import_id=row[0],
            imported_at=row[11],
            reused=True,
        )
        return rec

    def _write_import(
        self, conn: Database, rec: ImportRecord, quarantine: pd.DataFrame | None
    ) -> None:
        rec.imported_at = now().isoformat()
        cur = conn.execute(
            "INSERT INTO imports (kind, file, sha256, batch_id, encoding, crs, decisions, n_read,"
            " n_kept, n_quarantined, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
            " RETURNING import_id",
            (
                rec.kind,
                rec.file,
                rec.sha256,
                rec.batch_id,
                rec.encoding,
                rec.crs,
                json.dumps(rec.decisions, ensure_ascii=False),
                rec.n_read,
                rec.n_kept,
                rec.n_quarantined,
                rec.imported_at,
            ),
        )
        rec.import_id = int(cur.fetchone()[0])
        if quarantine is not None and len(quarantine):
            conn.executemany(
                "INSERT INTO quarantine (import_id, row, feature_id, reason, attrs, wkb)"
                " VALUES (?,?,?,?,?,?)",
                [
                    (rec.import_id, int(r.row), r.feature_id, r.reason, r.attrs, r.wkb)
                    for r in quarantine.itertuples()
                ],
            )

    def _insert_features(
        self, conn: Database, table: str, gdf: gpd.GeoDataFrame, columns: list[str]
    ) -> None:
        geoms = gdf.geometry.to_crs(STORAGE_EPSG).to_numpy()
        gtype = FEATURE_TABLES[table][0]
        if gtype == "MULTIPOLYGON":
            geoms = np.array([_as_multi(g, shapely.MultiPolygon) for g in geoms], dtype=object)
        elif gtype == "MULTILINESTRING":
            geoms = np.array([_as_multi(g, shapely.MultiLineString) for g in geoms], dtype=object)
        values = gdf[columns].astype(object).to_numpy()
        rows = ([none_if_nan(v) for v in vals] for vals in values)  # streamed (PostGIS COPY)
        conn.copy_rows(table, columns, rows, geoms=geoms)
        conn.features_written(table, geoms)

    # -- writes ---------------------------------------------------------------------------

    def add_patches(
        self,
        patches: gpd.GeoDataFrame,
        record: ImportRecord,
        *,
        quarantine: pd.DataFrame | None = None,
        actor: str = "hetu",
        progress: Progress | None = None,
        verify_by: str | dt.date | None = None,
        deadlines: Mapping[str, str] | None = None,
    ) -> ImportRecord:
        """Write a batch of canonical patches and their ``issue`` events, all or nothing.

        Parameters
        ----------
        patches : GeoDataFrame
            Canonical patches (:func:`geo.ingest.readers.patches_from_file`), one batch.
        record : ImportRecord
            The import record; ``record.batch_id`` names the batch.
        quarantine : DataFrame, optional
            Features kept aside, with ``row, feature_id, reason, attrs, wkb``.
        actor : str
            Who issued (recorded on each first event).
        progress : Progress, optional
            Told the number of patches written, per chunk (:mod:`geo.progress`).
        verify_by : date or str, optional
            The batch's 核查 deadline; default ``[lifecycle] verify_days`` from each
            patch's issue day. Recorded on each ``issue`` event (and on the batch).
        deadlines : mapping, optional
            Patch id → the deadline its ``issue`` event records instead (ISO day): the
            办结 deadline of a problem from a source (:mod:`geo.policy.sources`).

        Returns
        -------
        ImportRecord
            With ``import_id`` set.

        Raises
        ------
        BatchConflictError
            If any patch id is already in the ledger; nothing is written.
        """
        ids = patches["patch_id"].astype(str).tolist()
        with self.transaction() as conn:
            clash: list[str] = []
            for cond, params in conn.where_in("patch_id", ids):
                clash += [
                    r[0] for r in conn.execute(f"SELECT patch_id FROM patches WHERE {cond}", params)
                ]
            clash += [_digests.LEDGER_ID] if _digests.LEDGER_ID in ids else []
            if clash:
                shown = ", ".join(sorted(clash)[:20]) + (" …" if len(clash) > 20 else "")
                raise BatchConflictError(
                    f"{record.file}: {len(clash)} patch id(s) already in the ledger: {shown}; "
                    "nothing was written. If this is a corrected re-issue, give the patches new "
                    "ids or remove the earlier batch from the file"
                )
            self._write_import(conn, record, quarantine)
            issued_on = (
                patches["issued_on"].dropna().min() if "issued_on" in patches.columns else None
            )
            by = None if verify_by is None else dt.date.fromisoformat(str(verify_by)[:10])
            row = [record.batch_id, none_if_nan(issued_on), record.import_id, record.imported_at]
            columns = ["batch_id", "issued_on", "import_id", "created_at"]
            if by is not None:  # the events carry it too; the batch names it for the reports
                columns, row = [*columns, "verify_by"], [*row, by.isoformat()]
            conn.execute(conn.insert_sql("batches", columns, conflict="ignore"), row)
            cal, days = self.settings.calendar, self.settings.verify_days
            own = dict(deadlines or {})
            frame = patches.assign(import_id=record.import_id)
            at_default = record.imported_at
            tick = progress or no_progress
            deadline = functools.lru_cache(maxsize=None)(  # a batch has few issue days
                lambda day: verify_deadline(day, verify_by=by, days=days, calendar=cal)
            )
            for start in range(0, len(frame), _WRITE_CHUNK):
                part = frame.iloc[start : start + _WRITE_CHUNK]
                self._insert_features(conn, "patches", part, [*PATCH_COLUMNS, "import_id"])
                rows = _digests.digests_of(conn, "patches", "patch_id", part["patch_id"])
                self.append_events(
                    conn,
                    (  # a generator: PostGIS inserts the first events while the next are hashed
                        (
                            pid,
                            as_time(issued) if none_if_nan(issued) else at_default,
                            actor,
                            ISSUE_ACTION,
                            None,
                            self.lifecycle.initial,
                            own.get(pid) or deadline(none_if_nan(issued) or at_default[:10]),
                            f"batch {record.batch_id}",
                            None,
                            _digests.content_json({"patches": {(pid,): rows[(pid,)]}}),
                        )
                        for pid, issued in zip(
                            ids[start : start + _WRITE_CHUNK], part["issued_on"], strict=True
                        )
                    ),
                )
                tick(len(part))
        return record

    def add_segments(
        self,
        segments: gpd.GeoDataFrame,
        record: ImportRecord,
        *,
        quarantine: pd.DataFrame | None = None,
    ) -> ImportRecord:
        """Write management-range segments (all or nothing); refuse known segment ids.

        Segments without a usable polygon come in ``quarantine`` and are kept
        there with their reasons.
        """
        with self.transaction() as conn:
            known = {r[0] for r in conn.execute("SELECT segment_id FROM segments")}
            clash = sorted(set(segments["segment_id"]) & known)
            if clash:
                raise BatchConflictError(
                    f"{record.file}: segment id(s) already in the ledger: "
                    f"{', '.join(clash[:20])}; nothing was written"
                )
            self._write_import(conn, record, quarantine)
            cols = ["segment_id", "range_id", "water_name", "water_code", "segment_name"]
            cols += ["admin_code", "attrs", "import_id"]
            frame = segments.assign(import_id=record.import_id)
            self._insert_features(conn, "segments", frame, cols)
            self.append_events(conn, [_digests.import_event(conn, "segments", record)])
        return record

    def add_chiefs(self, chiefs: pd.DataFrame, record: ImportRecord) -> ImportRecord:
        """Write chiefs (one row per chief and segment); a later list replaces earlier rows."""
        cols = ["chief_id", "name", "title", "level", "segment_id", "admin_code", "phone"]
        cols += ["term_start", "term_end", "attrs"]
        with self.transaction() as conn:
            self._write_import(conn, record, None)
            rows = [
                [none_if_nan(v) for v in vals] + [record.import_id]
                for vals in chiefs[cols].astype(object).to_numpy()
            ]
            conn.executemany(
                conn.insert_sql("chiefs", [*cols, "import_id"], conflict="replace"), rows
            )
            self.append_events(conn, [_digests.import_event(conn, "chiefs", record)])
        return record

    def add_surveys(
        self, tracks: gpd.GeoDataFrame, findings: gpd.GeoDataFrame, record: ImportRecord
    ) -> ImportRecord:
        """Write survey tracks and findings from one file, all or nothing."""
        with self.transaction() as conn:
            self._write_import(conn, record, None)
            if len(tracks):
                cols = ["name", "surveyor", "started_at", "ended_at", "n_points", "attrs"]
                self._insert_features(
                    conn, "survey_tracks", tracks.assign(import_id=record.import_id),
                    [*cols, "import_id"],
                )  # fmt: skip
            if len(findings):
                cols = ["finding_id", "observed_at", "surveyor", "finding_type", "description"]
                self._insert_features(
                    conn, "survey_findings", findings.assign(import_id=record.import_id),
                    [*cols, "attrs", "import_id"],
                )  # fmt: skip
        return record

    def record_export(
        self,
        *,
        as_of: str,
        since: str | None,
        started_at: str,
        files: Sequence[str],
        counts: Mapping[str, int],
        status: str = "ok",
        message: str = "",
        chain_head: str | None = None,
    ) -> int:
        """Record one scheduled export (``hetu export``) in the ledger; return its id.

        Parameters
        ----------
        as_of, since : str
            The reporting day and the end of the previous period (ISO dates).
        started_at : str
            When the run started (ISO time); it finishes now.
        files : sequence of str
            The files written.
        counts : mapping
            Figures of the run (patches, new, closed…), stored as JSON.
        status : str
            ``ok`` or ``failed``.
        message : str
            The error of a failed run.
        chain_head : str, optional
            The chain head the files show (:meth:`chain_head`; default the head now);
            ``hetu verify`` checks the history still holds it.
        """
        with self.transaction() as conn:
            head = chain_head or _digests.chain_head(conn).full
            row = conn.execute(
                "INSERT INTO exports (as_of, since, started_at, finished_at, files, counts, status,"
                " message, chain_head) VALUES (?,?,?,?,?,?,?,?,?) RETURNING export_id",
                (as_of, since, as_time(started_at), now().isoformat(),
                 json.dumps([str(f) for f in files], ensure_ascii=False),
                 json.dumps(dict(counts), ensure_ascii=False, default=int), status, message,
                 head),
            ).fetchone()  # fmt: skip
        return int(row[0])

    def take_numbers(
        self,
        docs: Sequence[tuple[str, str, str]],
        *,
        year: int,
        issued_on: str,
        dry_run: bool = False,
        expect: Sequence[str] | None = None,
    ) -> list[str]:
        """Give each document the next 文号 of its kind in ``year``; return the 文号.

        The pattern and the kinds' 代字 are ``settings.documents``
        (:class:`geo.policy.documents.DocumentRule`); each 代字 has its own counter per
        year, kept in the ``documents`` table. A number is taken in its own transaction
        before the documents' events are recorded and is never reused.

        Parameters
        ----------
        docs : sequence of (file, kind, addressee)
            One per document, numbered in this order. A file already numbered keeps
            its 文号 (a document is numbered once).
        year : int
            The year of the 成文日期.
        issued_on : str
            The 成文日期 (ISO date).
        dry_run : bool
            Only say which numbers would be taken (nothing is written).
        expect : sequence of str, optional
            The numbers a dry run gave: if another run took some meanwhile, nothing
            is taken and :class:`LedgerError` says to run again.
        """
        rule = self.settings.documents

        def number(conn: Any, write: bool) -> list[str]:
            out: list[str] = []
            top: dict[str, int] = {}
            for file, kind, addressee in docs:
                had = conn.execute("SELECT doc_no FROM documents WHERE file = ?", [file]).fetchone()
                if had:
                    out.append(str(had[0]))
                    continue
                code = rule.codes.get(kind, "")
                if code not in top:
                    row = conn.execute(
                        "SELECT MAX(seq) FROM documents WHERE year = ? AND code = ?", [year, code]
                    ).fetchone()
                    top[code] = int(row[0] or 0)
                top[code] += 1
                doc_no = rule.doc_no(kind, year, top[code])
                if write:
                    conn.execute(
                        "INSERT INTO documents (year, code, seq, doc_no, kind, file, addressee,"
                        " issued_on, taken_at) VALUES (?,?,?,?,?,?,?,?,?)",
                        [year, code, top[code], doc_no, kind, file, addressee, issued_on,
                         now().isoformat()],
                    )  # fmt: skip
                out.append(doc_no)
            return out

        if dry_run:
            return number(self._conn, False)
        with self.transaction() as conn:
            taken = number(conn, True)
            if expect is not None and list(expect) != taken:
                raise LedgerError(
                    f"{self.name}: another run numbered documents meanwhile; nothing was "
                    "recorded; run again"
                )
        return taken

    def append_events(self, conn: Database, rows: Iterable[tuple]) -> None:
        """Append event rows to the hash chain; call inside :meth:`transaction` only.

        A row is the nine event fields and, optionally, its content digests
        (:func:`geo.ledger.digests.append_events`).
        """
        _digests.append_events(conn, rows)

    def transition(
        self,
        patch_ids: str | Sequence[str],
        to_state: str,
        *,
        actor: str,
        at: dt.datetime | str | None = None,
        deadline: dt.date | str | None = None,
        note: str | None = None,
    ) -> int:
        """Move one or more patches to ``to_state``, all or nothing.

        Parameters
        ----------
        patch_ids : str or sequence of str
            The patches to move.
        to_state : str
            The target state; checked against the lifecycle for each patch.
        actor : str
            Who made the change (recorded on the event).
        at : datetime or str, optional
            When (default now, Asia/Shanghai); never before the patch's last event.
        deadline : date or str, optional
            For a state with a deadline; default from the office's deadline rules,
            counted in working days unless ``[calendar] count = "calendar"``.
        note : str, optional
            Free text on the event.

        Returns
        -------
        int
            The number of events written.

        Raises
        ------
        NotFoundError
            If a patch is not in the ledger.
        InvalidTransitionError
            If a transition is not allowed (naming the allowed ones).
        EvidenceError
            If the verdict needs evidence the patch lacks (naming it).
        LedgerError
            If ``at`` is before the patch's last event.
        """
        ids = [patch_ids] if isinstance(patch_ids, str) else list(patch_ids)
        changes = [
            Change(pid, (to_state,), actor=actor, at=at, deadline=deadline, note=note)
            for pid in ids
        ]
        problems = self.apply_changes(changes)
        if problems:
            raise problems[0].error
        return len(ids)

    def apply_changes(self, changes: Sequence[Change], *, dry_run: bool = False) -> list[Problem]:
        """Check every change, then apply all of them in one transaction, or none.

        Parameters
        ----------
        changes : sequence of Change
            In order; several may concern the same patch.
        dry_run : bool
            Only check.

        Returns
        -------
        list of Problem
            Empty when everything was applied (or would be, with ``dry_run``);
            otherwise every problem found, and nothing was written.
        """
        return _changes.apply(self, changes, dry_run=dry_run)

    def record(
        self,
        patch_ids: str | Sequence[str],
        action: str,
        *,
        actor: str,
        at: dt.datetime | str | None = None,
        note: str | None = None,
    ) -> int:
        """Record an event that keeps the state (an escalation notice, an audit draw).

        The event carries the patch's current deadline, so a notice is tied to
        the deadline it chased. All or nothing; returns the events written.
        """
        ids = [patch_ids] if isinstance(patch_ids, str) else list(patch_ids)
        changes = [Change(pid, (), actor=actor, at=at, note=note, action=action) for pid in ids]
        problems = self.apply_changes(changes)
        if problems:
            raise problems[0].error
        return len(ids)

    def attach(
        self,
        patch_id: str,
        path: str | os.PathLike,
        *,
        kind: str,
        actor: str,
        at: dt.datetime | str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> str:
        """Attach a file to a patch as evidence; return its content id (sha256).

        The file is copied into the content-addressed store beside the ledger
        (``<ledger>.attachments/ab/abcd….ext``); ``meta`` holds what
        :func:`geo.field.evidence.photo_checks` found (EXIF time and GPS, checks).
        """
        change = Change(patch_id, (), actor=actor, at=at, files=((Path(path), kind, meta or {}),))
        problems = self.apply_changes([change])
        if problems:
            raise problems[0].error
        return file_sha256(path)

    @property
    def attachments_dir(self) -> Path:
        """Where evidence files are stored (content-addressed).

        Beside a GeoPackage ledger (``<ledger>.gpkg.attachments``); for a
        PostGIS ledger, the folder given when opening it, else the
        ``HETU_ATTACHMENTS`` environment variable (a folder every analyst of
        the office reaches), else ``~/.local/share/hetu/<database>.attachments``.
        """
        if self._attachments is not None:
            return self._attachments
        if self.path is not None:
            return self.path.with_name(self.path.name + ".attachments")
        if os.environ.get("HETU_ATTACHMENTS"):
            return Path(os.environ["HETU_ATTACHMENTS"])
        database = re.sub(r"[^\w.-]+", "_", self.name.split("/")[-1].split("?")[0]) or "ledger"
        return Path.home() / ".local" / "share" / "hetu" / f"{database}.attachments"


def _as_multi(geom: Any, kind: type) -> Any:
    if geom is None or geom.is_empty or isinstance(geom, kind):
        return geom
    return kind([geom])


def open_ledger(path: str | os.PathLike, *, settings: Settings | None = None) -> Ledger:
    """Open an existing ledger: a GeoPackage path or a ``postgresql://`` URL."""
    return Ledger(path, settings=settings)
