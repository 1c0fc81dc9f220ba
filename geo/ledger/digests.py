"""What the hash chain covers besides the events: content digests of rows, and the chain head.

Every event is chained to the one before (``prev_hash`` → ``hash``). Since migration
``0006_integrity`` an event also carries, in ``content``, the digests of the rows it
created or changed — the patch an ``issue`` event issued, the evidence and file
record an ``attach`` event added, the segments or chiefs an import wrote (an event of
the ledger itself, patch id :data:`LEDGER_ID`) — so a row edited or deleted behind
Hetu's back no longer matches the chain (:mod:`geo.ledger.integrity` checks it).
On PostGIS an event also records the database user (``db_user``, stamped by a
trigger); both fields are part of the event's hash when present.

A row's digest is :func:`geo.records.content_digest` of the table name, its
columns in :data:`COVERED` order and its geometry as normalised ISO WKB, so the
same row gives the same digest in a GeoPackage and in PostGIS.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from geo.labels import INTEGRITY
from geo.ledger.schema import FEATURE_TABLES
from geo.records import PATCH_COLUMNS, ImportRecord, content_digest, event_hash

#: The patch id of events about the ledger itself (an import's digests, the baseline).
LEDGER_ID = "*"
#: How an event hash made with the office's chain key (``HETU_CHAIN_KEY``) begins.
KEYED = "hmac:"
#: Actions of the ledger's own events.
BASELINE_ACTION = "baseline"
IMPORT_ACTION = "import"
#: The columns an event's hash covers, in order (``content`` and ``db_user`` only when set).
EVENT_FIELDS = ("patch_id", "at", "actor", "action", "from_state", "to_state", "deadline", "note",
                "evidence", "content", "db_user")  # fmt: skip
ATTACHMENT_COLUMNS = (
    "attachment_id", "filename", "media_type", "size", "taken_at", "lon", "lat", "added_at"
)  # fmt: skip
#: What a file's record is checked on: what the file is and where and when it was taken
#: (``added_at`` is the wall clock of the copy; the evidence row has the event's time).
_FILE_COLUMNS = ATTACHMENT_COLUMNS[:-1]
_SEGMENT_COLUMNS = ("segment_id", "range_id", "water_name", "water_code", "segment_name",
                   "admin_code", "attrs", "import_id")  # fmt: skip
_CHIEF_COLUMNS = ("chief_id", "name", "title", "level", "segment_id", "admin_code", "phone",
                  "term_start", "term_end", "attrs", "import_id")  # fmt: skip
_EVIDENCE_COLUMNS = ("patch_id", "attachment_id", "kind", "checks", "actor", "added_at")
#: Tables whose rows the chain covers: ``table -> (key columns, content columns)``; the
#: geometry of a feature table comes last.
COVERED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "patches": (("patch_id",), (*PATCH_COLUMNS, "import_id")),
    "segments": (("segment_id",), _SEGMENT_COLUMNS),
    "chiefs": (("chief_id", "segment_id"), _CHIEF_COLUMNS),
    "evidence": (("patch_id", "attachment_id", "kind"), _EVIDENCE_COLUMNS),
    "attachments": (("attachment_id",), _FILE_COLUMNS),
    "patch_details": (("detail_id",), ("detail_id", "patch_id", "kind", "data", "actor", "at")),
}
#: Tables a baseline records (``patch_details`` came later, always with its events).
_BASELINE = ("patches", "segments", "chiefs", "evidence")

Digests = dict[str, dict[tuple[str, ...], str]]


def row_digests(
    conn: Any, table: str, *, where: str = "", params: Sequence[Any] = ()
) -> dict[tuple[str, ...], str]:
    """The digest of every row of ``table`` selected by ``where``, by the row's key.

    Parameters
    ----------
    conn : Database
        The ledger's connection.
    table : str
        One of :data:`COVERED`.
    where : str
        A ``WHERE …`` clause (``?`` placeholders), or nothing for every row.
    params : sequence
        Its values.
    """
    keys, columns = COVERED[table]
    geometry = table in FEATURE_TABLES
    names = [*columns, "geom"] if geometry else list(columns)
    rows = conn.execute(f"SELECT {', '.join(names)} FROM {table} {where}", params).fetchall()
    if not rows:
        return {}
    at = [columns.index(k) for k in keys]
    shapes: Iterable[Any] = [None] * len(rows)
    if geometry:
        geoms = np.asarray(conn.decode([r[-1] for r in rows]), dtype=object)
        # ISO WKB bytes (content_digest writes them as hex): faster than shapely's hex output
        shapes = shapely.to_wkb(
            shapely.normalize(geoms), output_dimension=2, byte_order=1, flavor="iso"
        )
        rows = [r[:-1] for r in rows]
    return {
        tuple(str(row[i]) for i in at): content_digest([table, *row, *([wkb] if geometry else [])])
        for row, wkb in zip(rows, shapes, strict=True)
    }


def digests_of(conn: Any, table: str, column: str, values: Iterable[Any]) -> dict:
    """:func:`row_digests` of the rows whose ``column`` is one of ``values``."""
    unique = list(dict.fromkeys(values))
    out: dict[tuple[str, ...], str] = {}
    for cond, params in conn.where_in(column, unique):
        out |= row_digests(conn, table, where=f"WHERE {cond}", params=params)
    return out


def content_json(digests: Mapping[str, Mapping[tuple[str, ...], str]]) -> str:
    """The ``content`` of an event: ``{table: [[*key, digest], …]}`` as compact JSON."""
    out = {t: [[*k, d] for k, d in sorted(rows.items())] for t, rows in digests.items() if rows}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def parse_content(text: str | None) -> Digests:
    """The digests an event's ``content`` records (empty for none or unreadable)."""
    if not text:
        return {}
    try:
        data = json.loads(text)
        return {t: {tuple(r[:-1]): r[-1] for r in rows} for t, rows in data.items()}
    except (ValueError, TypeError, AttributeError, IndexError):
        return {"?": {}}


def chain_key() -> bytes | None:
    """The office's chain key, ``HETU_CHAIN_KEY`` in the environment (never in the ledger)."""
    value = os.environ.get("HETU_CHAIN_KEY", "")
    return value.encode("utf-8") if value else None


def chain_hash(prev: str | None, row: Sequence[Any], *, key: bytes | None = None) -> str:
    """The hash of an event: its :data:`EVENT_FIELDS` chained to ``prev``.

    ``content`` and ``db_user`` enter the hash only when set (trailing empty
    fields dropped), so the hashes of events written before migration
    ``0006_integrity`` stay what they were. With the office's ``key`` the hash is
    an HMAC, marked :data:`KEYED`: a chain rewritten by someone without the key
    no longer verifies with it.
    """
    fields = list(row[:9])
    extra = list(row[9:11])
    while extra and extra[-1] is None:
        extra.pop()
    if key is None:
        return event_hash(prev, fields + extra)
    return KEYED + event_hash(prev, fields + extra, key=key)


def append_events(conn: Any, rows: Iterable[Sequence[Any]]) -> None:
    """Append events to the chain (inside a transaction): nine fields and, optionally, content.

    On PostGIS each event records the session's database user (the database
    stamps it too, so a client cannot give another). With ``HETU_CHAIN_KEY`` set
    the events are keyed (:func:`chain_hash`). ``rows`` may be a generator: the
    events are made and chained while they are written (PostGIS streams them).
    """
    last = conn.execute("SELECT hash FROM events ORDER BY event_id DESC LIMIT 1").fetchone()
    user, key = conn.db_user, chain_key()

    def chained() -> Iterator[tuple]:
        prev = last[0] if last else None
        for row in rows:
            full = (*row[:9], row[9] if len(row) > 9 else None, user)
            digest = chain_hash(prev, full, key=key)
            yield (*full, prev, digest)
            prev = digest

    events = chained()
    first = next(events, None)
    if first is None:
        return
    conn.copy_rows("events", [*EVENT_FIELDS, "prev_hash", "hash"], itertools.chain([first], events))
    conn.events_written()


def ledger_event(action: str, note: str, digests: Digests) -> tuple:
    """An event of the ledger itself recording ``digests`` (actor 系统).

    It has no time of its own (``at`` is empty): when the rows came is the import's
    ``imported_at`` or the migration's ``applied_at``, so the same data give the same
    chain whenever they are loaded (a seeded demo has one chain head).
    """
    return (LEDGER_ID, "", INTEGRITY["system"], action, None, LEDGER_ID, None, note, None,
            content_json(digests))  # fmt: skip


def import_event(conn: Any, table: str, record: ImportRecord) -> tuple:
    """The event recording the digests of the rows one import wrote into ``table``."""
    rows = row_digests(conn, table, where="WHERE import_id = ?", params=[record.import_id])
    return ledger_event(IMPORT_ACTION, f"{table} import {record.import_id}", {table: rows})


def with_content(conn: Any, events: list[tuple]) -> list[tuple]:
    """``attach`` events with the digests of the evidence and file rows they added."""
    attached = [e for e in events if e[3] == "attach"]
    if not attached:
        return events
    shas = {e: json.loads(e[8])[0] for e in attached}
    evidence = digests_of(conn, "evidence", "patch_id", [e[0] for e in attached])
    files = digests_of(conn, "attachments", "attachment_id", shas.values())
    out = []
    for e in events:
        if e[3] != "attach":
            out.append(e)
            continue
        key = (e[0], shas[e], e[7])
        found = {"evidence": {key: evidence[key]}, "attachments": {(shas[e],): files[(shas[e],)]}}
        out.append((*e[:9], content_json(found)))
    return out


def current_digests(conn: Any) -> Digests:
    """The digests of every covered row now (files: those evidence refers to)."""
    out = {t: row_digests(conn, t) for t in _BASELINE}
    out["attachments"] = row_digests(
        conn, "attachments", where="WHERE attachment_id IN (SELECT attachment_id FROM evidence)"
    )
    return out


def after_migration(conn: Any, name: str) -> None:
    """Finish a migration inside its transaction: ``0006_integrity`` records the baseline.

    The baseline is one event of the ledger itself (action ``baseline``, actor 系统)
    recording the digests of every patch, segment, chief and evidence row already
    there, so a ledger older than the content digests verifies, and goes on
    verifying, its rows as they were when it was upgraded. An empty ledger needs none.
    """
    if name != "0006_integrity":
        return
    found = current_digests(conn)
    if any(found.values()):
        append_events(conn, [ledger_event(BASELINE_ACTION, name, found)])


@dataclass(frozen=True)
class ChainHead:
    """Where the hash chain ends: how many events, and the last one's hash.

    ``str(head)`` is the short 链首校验码 printed on exports and notices
    (``1234-3f9a2c7e1b``); :attr:`full` carries the whole hash.
    """

    count: int
    last_hash: str | None

    @property
    def hex(self) -> str:
        """The last hash's hex digits (without the :data:`KEYED` mark)."""
        return (self.last_hash or "").removeprefix(KEYED)

    @property
    def code(self) -> str:
        """The short form: the event count and the first 10 hex digits of the last hash."""
        return f"{self.count}-{(self.hex or '0' * 10)[:10]}"

    @property
    def full(self) -> str:
        """The event count and the whole last hash."""
        return f"{self.count}-{self.hex}"

    def __str__(self) -> str:
        return self.code


def chain_head(conn: Any) -> ChainHead:
    """The chain head of a ledger's events now."""
    count = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    last = conn.execute("SELECT hash FROM events ORDER BY event_id DESC LIMIT 1").fetchone()
    return ChainHead(int(count), last[0] if last else None)
