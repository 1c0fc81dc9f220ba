"""Moving a whole ledger between a GeoPackage file and PostGIS (``hetu copy-ledger``).

Every table is copied row for row with its ids, so the events keep their ids,
times and hashes and the chain verifies on the other side; geometries are
decoded from the source's encoding and written in the destination's (each table
in one ``COPY`` on PostGIS, :meth:`geo.ledger.db.PostgisDatabase.copy_rows`); the
evidence files are copied into the destination's attachment store. The
destination is written in one transaction: a failed copy leaves no ledger
half-written there.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from geo.errors import LedgerError
from geo.fileio import copy_atomic
from geo.ledger.schema import FEATURE_TABLES, MIGRATIONS
from geo.ledger.store import Ledger
from geo.settings import Settings

__all__ = ["CopyReport", "copy_ledger", "ledger_tables"]


@dataclass
class CopyReport:
    """What :func:`copy_ledger` copied.

    Attributes
    ----------
    source, destination : str
        The two ledgers (URLs without their passwords).
    rows : dict of str to int
        Rows copied per table.
    files : int
        Evidence and imagery files copied into the destination's store.
    missing_files : list of str
        Attachment ids whose file was not in the source's store (the records are copied).
    """

    source: str
    destination: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: list[str] = field(default_factory=list)


def ledger_tables() -> list[tuple[str, str | None]]:
    """The ledger's tables in creation order, each with its identity column (or None).

    A table a migration rebuilt (created under another name, the old one dropped, the
    new one renamed) keeps the place of the table it replaced.
    """
    tables: dict[str, tuple[int, str | None]] = {}
    dropped: dict[str, int] = {}
    statement = re.compile(
        r"CREATE TABLE (\w+) \(\s*(\w+) \w+( PRIMARY KEY AUTO)?"
        r"|DROP TABLE (\w+)|ALTER TABLE (\w+) RENAME TO (\w+)"
    )
    scripts = "\n".join(script for _name, script, _tables in MIGRATIONS)
    for place, m in enumerate(statement.finditer(scripts)):
        if m[1]:
            tables[m[1]] = (place, m[2] if m[3] else None)
        elif m[4]:
            dropped[m[4]] = tables.pop(m[4])[0]
        else:
            made, key = tables.pop(m[5])
            tables[m[6]] = (dropped.pop(m[6], made), key)
    return [(t, key) for t, (_place, key) in sorted(tables.items(), key=lambda kv: kv[1][0])]


def copy_ledger(
    source: str | os.PathLike,
    destination: str | os.PathLike,
    *,
    settings: Settings | None = None,
    source_attachments: str | os.PathLike | None = None,
    destination_attachments: str | os.PathLike | None = None,
) -> CopyReport:
    """Copy a whole ledger into a new one: GeoPackage ↔ PostGIS (or the same kind).

    Parameters
    ----------
    source : path-like or str
        The ledger to copy: a ``.gpkg`` path or a ``postgresql://`` URL.
    destination : path-like or str
        Where to put it: a ``.gpkg`` path that does not exist yet, or a PostGIS
        database that holds no ledger yet.
    settings : Settings, optional
        Office settings (the lifecycle the history is verified against).
    source_attachments, destination_attachments : path-like, optional
        The attachment stores, for a PostGIS side (default: see
        :attr:`geo.ledger.store.Ledger.attachments_dir`).

    Returns
    -------
    CopyReport

    Raises
    ------
    LedgerError
        If the destination already holds a ledger, or the copy does not verify
        (nothing is left written then).
    """
    with Ledger(source, settings=settings, attachments_dir=source_attachments) as src:
        problems = src.verify()
        if problems:
            raise LedgerError(
                f"{src.name}: the source's history does not verify ({problems[0]}); run "
                "`hetu verify` on it and mend it before copying"
            )
        dst = Ledger.create(destination, settings=settings, attachments_dir=destination_attachments)
        report = CopyReport(source=src.name, destination=dst.name)
        try:
            _copy_rows(src, dst, report)
            _copy_files(src, dst, report)
            problems = dst.verify()
            if problems:
                raise LedgerError(f"{dst.name}: the copy does not verify: {problems[0]}")
        finally:
            dst.close()
    return report


def _copy_rows(src: Ledger, dst: Ledger, report: CopyReport) -> None:
    tables = ledger_tables()
    with dst.transaction() as out:
        for table, _ in tables:
            if out.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
                raise LedgerError(f"{dst.name}: table {table} is not empty; copy into a new ledger")
        for table, key in tables:
            cur = src._conn.execute(f"SELECT * FROM {table}" + (f" ORDER BY {key}" if key else ""))
            names = [d[0] for d in cur.description]
            rows = [list(r) for r in cur.fetchall()]
            report.rows[table] = len(rows)
            if not rows:
                continue
            if table in FEATURE_TABLES:
                at = names.index("geom")
                geoms = np.asarray(src._conn.decode([r[at] for r in rows]), dtype=object)
                cols = names[:at] + names[at + 1 :]
                out.copy_rows(table, cols, (r[:at] + r[at + 1 :] for r in rows), geoms=geoms)
                out.features_written(table, geoms)
            else:
                out.copy_rows(table, names, rows)
        out.reset_sequences({t: k for t, k in tables if k})
        if report.rows.get("events"):
            out.events_written()


def _copy_files(src: Ledger, dst: Ledger, report: CopyReport) -> None:
    ids = [r[0] for r in src._conn.execute("SELECT attachment_id FROM attachments")]
    for sha in ids:
        path = src.attachment_path(sha)
        if path is None:
            report.missing_files.append(sha)
            continue
        target = dst.attachments_dir / sha[:2] / path.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_atomic(path, target)
            report.files += 1
