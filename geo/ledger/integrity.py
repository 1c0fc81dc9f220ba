"""``hetu verify``: check that the ledger still holds what the office relies on.

:func:`verify_ledger` checks, and names each problem in one Chinese line:

- **the schema's guards**: every trigger the migrations created is there with its
  definition (SQLite's stored SQL; on PostgreSQL ``pg_get_triggerdef`` and the
  function's source), enabled (``pg_trigger.tgenabled``), and no unknown trigger sits
  on ``events``; on PostgreSQL, the ``SECURITY DEFINER`` functions (the checks of
  ``patches``' references to its batch and import) still run as their owner with the
  search path they were given; the ``patch_state`` view is defined as created and gives
  the states the events give;
- **the hash chain**: each event's hash and link, no ids missing (GeoPackage), the
  chain head as the database recorded it (``sqlite_sequence`` / ``hetu_head``);
- **anchors kept outside the ledger**: each chain head printed on an export, a notice
  or a log (:class:`geo.ledger.digests.ChainHead`, ``1234-3f9a2c7e1b``) must still be
  in the history — a chain rewritten or cut short whole is found this way — and so
  must each head the ledger's own export records name;
- **the lifecycle with its evidence rules**, replayed event by event: every
  transition allowed from the state the patch was in, and made with the evidence the
  rule asked for at that point (a forged 已销号 without photos is found);
- **the rows**: each patch, segment, chief, evidence and file record against the
  digest the chain recorded when it was written (moved, edited, deleted, or added
  behind Hetu's back), and each stored file's bytes against its sha256.

Long lists are cut after :data:`SHOWN` lines per kind with a line saying how many more.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.errors import SchemaError
from geo.labels import EVIDENCE, INTEGRITY, label
from geo.ledger.db import expected_triggers, flat_sql, pg_statements
from geo.ledger.digests import (
    COVERED,
    KEYED,
    LEDGER_ID,
    ChainHead,
    chain_hash,
    chain_key,
    digests_of,
    parse_content,
    row_digests,
)
from geo.ledger.schema import MIGRATIONS, split_sql
from geo.policy.lifecycle import Lifecycle
from geo.records import file_sha256

__all__ = ["SHOWN", "Verification", "read_anchors", "verify_ledger"]

#: Lines shown per kind of problem; the rest are counted.
SHOWN = 20
_ANCHOR = re.compile(r"(\d+)-([0-9a-f]{10,64})")
_EVENT_COLUMNS = (
    "event_id, patch_id, at, actor, action, from_state, to_state, deadline, note, evidence,"
    " content, db_user, prev_hash, hash"
)


@dataclass
class Verification:
    """What :func:`verify_ledger` found.

    Attributes
    ----------
    problems : list of str
        One Chinese line per problem (empty: the history is intact).
    head : ChainHead
        The chain head now.
    rows : int
        Rows checked against their recorded digests.
    files : int
        Stored files checked against their sha256.
    anchors : list of str
        The anchors given that the history still holds (as ``INTEGRITY["anchored"]`` lines).
    notes : list of str
        What could not be checked and is not a problem (keyed events without the key).
    """

    problems: list[str] = field(default_factory=list)
    head: ChainHead = field(default_factory=lambda: ChainHead(0, None))
    rows: int = 0
    files: int = 0
    anchors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Found:
    """Problems by kind, in the order found; at most :data:`SHOWN` lines of each kind."""

    def __init__(self) -> None:
        self.kinds: dict[str, list[str]] = {}

    def add(self, kind: str, **values: Any) -> None:
        self.kinds.setdefault(kind, []).append(INTEGRITY[kind].format(**values))

    def lines(self) -> list[str]:
        out = []
        for lines in self.kinds.values():
            out += lines[:SHOWN]
            if len(lines) > SHOWN:
                out.append(INTEGRITY["more"].format(n=len(lines) - SHOWN))
        return out


def read_anchors(value: str) -> list[tuple[str, str]]:
    """The anchors named by ``--anchor``: a chain head, or every one a ``hetu-export.log`` holds.

    Parameters
    ----------
    value : str
        A chain head (``1234-3f9a2c7e1b``, or with the whole hash), or a log file of
        ``hetu export`` (one JSON object a line, each with its ``chain_head``).

    Returns
    -------
    list of (str, str)
        ``(anchor, where it came from)``.

    Raises
    ------
    SchemaError
        If ``value`` is neither, or the log holds no chain head.
    """
    text = value.strip().lower()
    if _ANCHOR.fullmatch(text):
        return [(text, "--anchor")]
    path = Path(value)
    if not path.is_file():
        raise SchemaError(
            f"--anchor {value}: neither a chain head (链首校验码, like 1234-3f9a2c7e1b) nor a "
            "hetu export log file; give the code printed on an export or notice, or the log"
        )
    found = []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            head = json.loads(line).get("chain_head") if line.strip().startswith("{") else None
        except ValueError:
            head = None
        if isinstance(head, str) and _ANCHOR.fullmatch(head.lower()):
            found.append((head.lower(), f"{path.name} 第 {number} 行"))
    if not found:
        raise SchemaError(
            f"--anchor {path}: no line of this log holds a chain_head; give the log "
            "`hetu export --log-file` writes (runs since Hetu recorded chain heads)"
        )
    return found


def verify_ledger(
    ledger: Any, *, anchors: Iterable[tuple[str, str]] = (), key: bytes | None = None
) -> Verification:
    """Check everything the office relies on in a ledger (see the module doc).

    Parameters
    ----------
    ledger : Ledger
        The open ledger (read only).
    anchors : iterable of (str, str)
        Chain heads kept outside the ledger, with where each came from
        (:func:`read_anchors`).
    key : bytes, optional
        The office's chain key (default ``HETU_CHAIN_KEY``): keyed events are checked
        with it, an unkeyed event after a keyed one is a problem, and so is a chain
        with no keyed event at all. Without one, keyed events are only counted.

    Returns
    -------
    Verification
    """
    conn = ledger._conn
    found = _Found()
    _check_triggers(conn, found)
    _check_functions(conn, found)
    _check_views(conn, found)
    events = conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY event_id").fetchall()
    head = ChainHead(len(events), events[-1][13] if events else None)
    if not events:
        tables = [t for t in COVERED if t != "attachments"]
        n = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
        if n:
            found.add("no_events", n=n)
    key = chain_key() if key is None else key
    keyed = _check_chain(conn, events, found, key)
    confirmed = _check_anchors(conn, events, list(anchors), found)
    _check_lifecycle(ledger.lifecycle, events, found)
    rows = _check_rows(conn, events, found)
    _check_states(conn, events, found)
    files = _check_files(conn, Path(ledger.attachments_dir), found)
    notes = [INTEGRITY["keyed_unchecked"].format(n=keyed)] if keyed and key is None else []
    return Verification(found.lines(), head, rows, files, confirmed, notes)


def _check_triggers(conn: Any, found: _Found) -> None:
    actual, expected = conn.triggers(), expected_triggers(conn.kind)
    for name, (table, sql, body) in expected.items():
        if name not in actual:
            found.add("trigger_missing", name=name, table=table)
            continue
        on, definition, enabled, function = actual[name]
        if on != table or definition != sql:
            found.add("trigger_changed", name=name, table=table)
        elif body is not None and function != body:
            called = re.search(r"EXECUTE FUNCTION (\w+)", sql)
            found.add(
                "trigger_function", name=name, function=called[1] if called else "", table=table
            )
        if not enabled:
            found.add("trigger_disabled", name=name, table=table)
    for name, (table, *_rest) in actual.items():
        if table == "events" and name not in expected:
            found.add("trigger_unknown", name=name, table=table)


def definer_functions() -> list[str]:
    """The ``SECURITY DEFINER`` functions the migrations create on PostgreSQL, in order."""
    made = re.compile(r"CREATE FUNCTION (\w+)\(\) RETURNS trigger \w+ \w+ SECURITY DEFINER\b")
    names = []
    for _name, script, _tables in MIGRATIONS:
        for statement in pg_statements(script):
            found = made.match(flat_sql(statement))
            if found:
                names.append(found[1])
    return names


def _check_functions(conn: Any, found: _Found) -> None:
    """Each definer function exists, runs as its owner, with ``search_path=<schema>, pg_temp``."""
    if conn.kind != "postgis":
        return
    names = definer_functions()
    rows = conn.execute(
        "SELECT p.proname, p.prosecdef, p.proconfig, quote_ident(n.nspname) || ', pg_temp'"
        " FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = ANY(?) AND"
        " p.pronamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass('events'))",
        [names],
    ).fetchall()
    actual = {name: (definer, config or [], path) for name, definer, config, path in rows}
    for name in names:
        if name not in actual:
            found.add("function_missing", name=name)
            continue
        definer, config, path = actual[name]
        if not definer or f"search_path={path}" not in config:
            found.add("function_changed", name=name, path=path)


def _views() -> dict[str, str]:
    """The last definition of each view the migrations create."""
    views = {}
    for _name, script, _tables in MIGRATIONS:
        for statement in split_sql(script):
            made = re.match(r"\s*CREATE VIEW (\w+)", statement)
            if made:
                views[made[1]] = statement
    return views


def _check_views(conn: Any, found: _Found) -> None:
    for name, statement in _views().items():
        actual = conn.view_sql(name)
        if actual is None:
            found.add("view_missing", name=name)
            continue
        expected = conn.expected_view_sql(statement)
        if expected is not None and actual != expected:
            found.add("view_changed", name=name)


def _check_chain(conn: Any, events: list[tuple], found: _Found, key: bytes | None) -> int:
    """The links, the hashes (keyed ones with ``key``) and the chain's end; returns keyed events."""
    gapless = conn.gapless_ids
    prev, expected_id, keyed = None, 1, 0
    for ev in events:
        if gapless and ev[0] != expected_id:
            found.add("gap", first=expected_id, last=ev[0] - 1)
        if ev[12] != prev:
            found.add("link", id=ev[0])
        if str(ev[13]).startswith(KEYED):
            keyed += 1
            if key is not None and ev[13] != chain_hash(ev[12], ev[1:12], key=key):
                found.add("signature", id=ev[0], pid=ev[1])
        else:
            if keyed and key is not None:
                found.add("unkeyed", id=ev[0], pid=ev[1])
            if ev[13] != chain_hash(ev[12], ev[1:12]):
                found.add("hash", id=ev[0], pid=ev[1])
        prev, expected_id = ev[13], ev[0] + 1
    if key is not None and events and not keyed:
        found.add("never_keyed")
    last = conn.last_event_id()
    if last is not None and last >= expected_id:
        found.add("tail", first=expected_id, last=last)
    elif not gapless and events and last != events[-1][0]:
        found.add("outside", id=(last or 0) + 1, last=last)
    if not gapless and events:
        row = conn.execute("SELECT last_hash FROM hetu_head WHERE id = 1").fetchone()
        if row is not None and last == events[-1][0] and row[0] != events[-1][13]:
            found.add("head_hash")
    return keyed


def _check_anchors(
    conn: Any, events: list[tuple], given: list[tuple[str, str]], found: _Found
) -> list[str]:
    recorded = conn.execute(
        "SELECT export_id, as_of, chain_head FROM exports WHERE chain_head IS NOT NULL"
        " ORDER BY export_id"
    ).fetchall()
    inside = [(h, INTEGRITY["anchor_export"].format(id=i, day=d)) for i, d, h in recorded]
    confirmed = []
    for anchor, source in [*given, *inside]:
        match = _ANCHOR.fullmatch(str(anchor).lower())
        if match is None:
            found.add("anchor_differs", anchor=anchor, source=source, count="?")
            continue
        count, prefix = int(match[1]), match[2]
        if count > len(events):
            found.add("anchor_short", anchor=anchor, source=source, count=len(events))
        elif count and not str(events[count - 1][13]).removeprefix(KEYED).startswith(prefix):
            found.add("anchor_differs", anchor=anchor, source=source, count=count)
        elif (anchor, source) in given:
            confirmed.append(INTEGRITY["anchored"].format(anchor=anchor, count=count))
    return confirmed


def _need_text(need: str) -> str:
    words = re.sub(r"[a-z_]+", lambda m: label(EVIDENCE, m[0]), need)
    return words.replace(" or ", " 或 ").replace("+", "、")


def _check_lifecycle(lc: Lifecycle, events: list[tuple], found: _Found) -> None:
    """Replay every patch's events: each transition allowed, each with its evidence."""
    state: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    broken: set[str] = set()
    for ev in events:
        eid, pid, action, src, dst = ev[0], ev[1], ev[4], ev[5], ev[6]
        if pid == LEDGER_ID or pid in broken:
            continue
        cur = state.get(pid)
        if cur is None and (src is not None or dst != lc.initial):
            found.add("lc_first", id=eid, pid=pid)
            broken.add(pid)
            continue
        if cur is not None and src != cur:
            found.add("lc_from", id=eid, pid=pid, src=lc.label(src), cur=lc.label(cur))
            broken.add(pid)
            continue
        if cur is not None and src != dst:
            if (src, dst) not in lc.actions:
                found.add("lc_illegal", id=eid, pid=pid, src=lc.label(src), dst=lc.label(dst))
            else:
                need = lc.missing_evidence(dst, kinds.get(pid, ()))
                if need:
                    found.add(
                        "lc_evidence", id=eid, pid=pid, dst=lc.label(dst), need=_need_text(need)
                    )
        if action == "attach" and ev[8]:
            kinds.setdefault(pid, set()).add(ev[8])
        state[pid] = dst


def _key_text(table: str, key: tuple[str, ...]) -> str:
    if table == "chiefs":
        return INTEGRITY["chief_key"].format(chief=key[0], segment=key[1])
    if table == "evidence":
        return f"{key[0]} {label(EVIDENCE, key[2])} {key[1][:12]}"
    if table == "attachments":
        return key[0][:12]
    return key[0]


def _check_rows(conn: Any, events: list[tuple], found: _Found) -> int:
    """Every covered row against the digest the chain recorded last for it; returns rows checked."""
    recorded: dict[str, dict[tuple[str, ...], str]] = {t: {} for t in COVERED}
    for ev in events:
        if not ev[10]:
            continue
        content = parse_content(ev[10])
        if "?" in content:
            found.add("content_bad", id=ev[0])
        for table, rows in content.items():
            recorded.setdefault(table, {}).update(rows)
    checked = 0
    actual_patches: set[tuple[str, ...]] = set()
    for table in COVERED:
        expected = recorded[table]
        if table == "attachments":
            actual = digests_of(conn, table, "attachment_id", [k[0] for k in expected])
        else:
            actual = row_digests(conn, table)
        if table == "patches":
            actual_patches = set(actual)
        what = INTEGRITY[table]
        for key, digest in expected.items():
            now = actual.get(key)
            if now is None:
                found.add("row_deleted", what=what, key=_key_text(table, key))
            elif now != digest:
                found.add("row_changed", what=what, key=_key_text(table, key))
        if table != "attachments":
            for key in sorted(actual.keys() - expected.keys()):
                found.add("row_unrecorded", what=what, key=_key_text(table, key))
        checked += len(actual)
    issued = {(ev[1],) for ev in events if ev[1] != LEDGER_ID}
    for key in sorted(issued - actual_patches - recorded["patches"].keys()):
        found.add("row_deleted", what=INTEGRITY["patches"], key=key[0])
    return checked


def _check_states(conn: Any, events: list[tuple], found: _Found) -> None:
    """The ``patch_state`` view against the events: each patch's last state and deadline."""
    expected: dict[str, tuple[Any, Any, Any]] = {}
    deadline: dict[str, Any] = {}
    for ev in events:
        if ev[7] is not None:
            deadline[ev[1]] = ev[7]
        expected[ev[1]] = (ev[6], ev[2], deadline.get(ev[1]))
    try:
        rows = conn.execute("SELECT patch_id, state, state_since, deadline FROM patch_state")
        shown = {r[0]: tuple(r[1:4]) for r in rows.fetchall()}
    except Exception:  # a view redefined into nonsense: its definition is reported above
        return
    differ = sorted(p for p in expected.keys() | shown.keys() if expected.get(p) != shown.get(p))
    differ = [p for p in differ if p != LEDGER_ID]
    if differ:
        pid = differ[0]
        now, then = shown.get(pid) or ("-",), expected.get(pid) or ("-",)
        found.add("view_rows", name="patch_state", n=len(differ), pid=pid, shown=now[0],
                  expected=then[0])  # fmt: skip


def _stored_files(folder: Path) -> dict[str, Path]:
    """The files of the content-addressed store, by the sha256 their name starts with."""
    out: dict[str, Path] = {}
    for sub in sorted(folder.iterdir()) if folder.is_dir() else []:
        if sub.is_dir():
            for entry in sorted(os.scandir(sub), key=lambda e: e.name):
                out.setdefault(entry.name.split(".")[0], Path(entry.path))
    return out


def _check_files(conn: Any, folder: Path, found: _Found) -> int:
    """Each attachment's file is in the store and its bytes hash to its id; returns files read."""
    rows = conn.execute("SELECT attachment_id, filename FROM attachments ORDER BY attachment_id")
    rows = rows.fetchall()
    if not rows:
        return 0
    if not folder.is_dir():
        found.add("store_missing", folder=folder, n=len(rows))
        return 0
    stored = _stored_files(folder)
    present = []
    for sha, name in rows:
        if sha in stored:
            present.append(sha)
        else:
            found.add("file_missing", sha=sha[:12], name=name or "", folder=folder)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        sums = list(pool.map(lambda sha: file_sha256(stored[sha]), present))
    for sha, actual in zip(present, sums, strict=True):
        if actual != sha:
            found.add("file_changed", path=stored[sha])
    return len(present)
