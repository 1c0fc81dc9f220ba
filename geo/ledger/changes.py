"""Changes to the ledger's history: check them all, then write them all, or none.

One mechanism behind every write that touches the history: a transition, an
escalation notice, an attachment, a filled field sheet. :func:`apply` walks the
changes in order inside the write lock, keeping each patch's state as it would
be after the earlier changes, and collects every problem (unknown patch,
illegal transition, missing evidence, bad date, time out of order). With no
problem, attachments are copied into the content-addressed store and the
events appended; otherwise nothing is written and the problems say why.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from geo.errors import (
    EvidenceError,
    HetuError,
    InvalidTransitionError,
    LedgerError,
    NotFoundError,
    SchemaError,
)
from geo.fileio import copy_atomic
from geo.ledger.details import describe, detail_id, fold
from geo.ledger.digests import (
    ATTACHMENT_COLUMNS,
    COVERED,
    content_json,
    digests_of,
    with_content,
)
from geo.policy.lifecycle import ESCALATION_ACTIONS, EVIDENCE_KINDS, Lifecycle
from geo.policy.verification import (
    VERDICT_STATE,
    VERIFY_STATES,
    check_detail,
    entry_deadline,
    verdict_evidence,
    verify_deadline,
)
from geo.settings import Settings


class Writable(Protocol):
    """What :func:`apply` needs of a ledger (:class:`geo.ledger.store.Ledger` has it)."""

    lifecycle: Lifecycle
    settings: Settings

    @property
    def attachments_dir(self) -> Path:
        """The folder of the content-addressed evidence files."""
        ...

    def transaction(self) -> AbstractContextManager[Any]:
        """The write lock and transaction, yielding the connection."""
        ...

    def append_events(self, conn: Any, rows: list[tuple]) -> None:
        """Append event rows to the hash chain inside a transaction."""
        ...


#: Chief levels from the lowest up; a river's level is its highest chief's.
LEVEL_ORDER = ("village", "township", "county", "city", "province")


@dataclass(frozen=True)
class Change:
    """One change to one patch.

    Attributes
    ----------
    patch_id : str
        The patch.
    steps : tuple of str
        Target states, in order (empty: the state stays).
    actor : str
        Who.
    at : datetime or str, optional
        When (default now).
    deadline : date or str, optional
        For a step into a deadline state; default from the office's rules.
    note : str, optional
        Recorded on each event.
    action : str, optional
        An event that keeps the state (``reminder``, ``audit_sample`` …).
    files : tuple
        ``(path, kind, meta)`` attachments; they count as evidence for the steps.
    row : int, optional
        The source row (of a field sheet), for reports.
    details : tuple
        ``(kind, fields)`` recorded before the steps (:mod:`geo.ledger.details`): the
        verdict (its 地物类别 decides the evidence a verdict needs), the responsibility,
        the 验收, the proposal, the review, the 回头看.
    """

    patch_id: str
    steps: tuple[str, ...]
    actor: str
    at: dt.datetime | str | None = None
    deadline: dt.date | str | None = None
    note: str | None = None
    action: str | None = None
    files: tuple[tuple[Path, str, dict[str, Any]], ...] = ()
    row: int | None = None
    details: tuple[tuple[str, Mapping[str, Any]], ...] = ()


@dataclass(frozen=True)
class Problem:
    """Why a change cannot be applied: the row, patch, field and reason, and its typed error."""

    row: int | None
    patch_id: str
    field: str
    reason: str
    error: HetuError


@dataclass
class _Patch:
    state: str
    at: str
    deadline: str | None
    issue_type: str | None
    level: str | None
    kinds: set[str] = field(default_factory=set)
    verdict: dict[str, Any] = field(default_factory=dict)
    proposal: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False  # a verdict given with this change


class _Rollback(Exception):
    """Leave the transaction without writing."""


def _load(conn: Any, pids: Sequence[str], settings: Any = None) -> dict[str, _Patch | None]:
    """The patches' current state, last time, deadline, type, river level and evidence.

    A few set-based, indexed queries per 500 patches (the ``patch_state`` view
    would scan every event, and a query per patch costs a round trip each on PostGIS).
    """
    out: dict[str, _Patch | None] = dict.fromkeys(pids)
    unique = list(out)
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        issued: dict[str, tuple[Any, Any]] = {}
        issue: dict[str, Any] = {}
        batch_of: dict[str, str] = {}
        for pid, kind, day, batch in conn.execute(
            "SELECT p.patch_id, p.issue_type, coalesce(p.issued_on, b.issued_on,"
            " substr(b.created_at, 1, 10)), p.batch_id"
            " FROM patches p LEFT JOIN batches b ON b.batch_id = p.batch_id"
            f" WHERE p.patch_id IN ({marks})",
            chunk,
        ):
            issue[pid], issued[pid], batch_of[pid] = kind, (day, None), batch
        verify_by = _verify_by(conn, set(batch_of.values()))
        issued = {p: (d, verify_by.get(batch_of[p])) for p, (d, _) in issued.items()}
        last = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                "SELECT patch_id, to_state, at FROM events WHERE event_id IN (SELECT max(event_id)"
                f" FROM events WHERE patch_id IN ({marks}) GROUP BY patch_id)",
                chunk,
            )
        }
        due = dict(
            conn.execute(
                "SELECT patch_id, deadline FROM events WHERE event_id IN (SELECT max(event_id)"
                f" FROM events WHERE patch_id IN ({marks}) AND deadline IS NOT NULL"
                " GROUP BY patch_id)",
                chunk,
            ).fetchall()
        )
        levels: dict[str, set[str]] = {}
        for pid, level in conn.execute(
            "SELECT a.patch_id, c.level FROM assignments a JOIN chiefs c"
            f" ON c.segment_id = a.segment_id WHERE a.is_primary = 1 AND a.patch_id IN ({marks})",
            chunk,
        ):
            levels.setdefault(pid, set()).add(level)
        kinds: dict[str, set[str]] = {}
        for pid, kind in conn.execute(
            f"SELECT patch_id, kind FROM evidence WHERE patch_id IN ({marks})", chunk
        ):
            kinds.setdefault(pid, set()).add(kind)
        details: dict[str, dict] = {}
        if conn.has_table("patch_details"):
            details = fold(conn.execute(
                "SELECT patch_id, kind, data, actor, at FROM patch_details"
                f" WHERE patch_id IN ({marks}) ORDER BY at, fid", chunk
            ).fetchall())  # fmt: skip
        for pid in chunk:
            if pid not in issue or pid not in last:
                continue
            found = levels.get(pid, set())
            known = found <= set(LEVEL_ORDER)
            level = max(found, key=LEVEL_ORDER.index, default=None) if known else None
            state, at = last[pid]
            deadline = due.get(pid)
            if deadline is None and state in VERIFY_STATES and settings is not None:
                deadline = fallback_verify_deadline(issued[pid], at, settings)
            mine = details.get(pid, {})
            out[pid] = _Patch(
                state, at, deadline, issue[pid], level, kinds.get(pid, set()),
                dict(mine.get("verdict", {})), dict(mine.get("proposal", {})),
            )  # fmt: skip
    return out


def _verify_by(conn: Any, batches: set[str]) -> dict[str, Any]:
    """The ``verify_by`` of batches (none in a ledger not yet migrated to 0010)."""
    if not batches:
        return {}
    marks = ",".join("?" * len(batches))
    cur = conn.execute(f"SELECT * FROM batches WHERE batch_id IN ({marks})", sorted(batches))
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if "verify_by" not in names:
        return {}
    at = names.index("verify_by")
    return {r[0]: r[at] for r in rows}


def apply(ledger: Writable, changes: Sequence[Change], *, dry_run: bool = False) -> list[Problem]:
    """Check every change and apply them all in one transaction, or none (see module doc)."""
    from geo.clock import as_time, implausible
    from geo.records import file_sha256

    lc, st = ledger.lifecycle, ledger.settings
    problems: list[Problem] = []
    events: list[tuple] = []
    stored: dict[str, tuple[Path, dict[str, Any]]] = {}
    evidence_rows: list[tuple] = []
    detail_rows: list[tuple] = []

    def fail(ch: Change, where: str, error: HetuError) -> None:
        problems.append(Problem(ch.row, ch.patch_id, where, str(error), error))

    try:
        with ledger.transaction() as conn:
            patches = _load(conn, [ch.patch_id for ch in changes], st)
            for ch in changes:
                pid = ch.patch_id
                cur = patches[pid]
                if cur is None:
                    fail(ch, "patch_id", NotFoundError(f"patch {pid} is not in the ledger"))
                    continue
                try:  # the bound first: a year-9999 time has no +08:00 form
                    why = None if ch.at is None else implausible(ch.at)
                    when = as_time(None if why else ch.at)
                except ValueError:
                    fail(ch, "at", SchemaError(f"patch {pid}: {ch.at!r} is not a date or time"))
                    continue
                if why:
                    fail(ch, "at", SchemaError(
                        f"patch {pid}: time {why}; give when it happened (2000-01-01 to now)"
                    ))  # fmt: skip
                    continue
                if dt.datetime.fromisoformat(when) < dt.datetime.fromisoformat(cur.at):
                    fail(ch, "at", LedgerError(
                        f"patch {pid}: time {when} is before its last event ({cur.at}); "
                        "events are recorded in time order"
                    ))  # fmt: skip
                    continue
                if not (ch.steps or ch.files or ch.action or ch.details):
                    fail(ch, "state", SchemaError(f"patch {pid}: nothing to do"))
                    continue
                ok = True
                for path, kind, meta in ch.files:
                    if kind not in EVIDENCE_KINDS:
                        fail(ch, "evidence", EvidenceError(
                            f"patch {pid}: evidence kind {kind!r} unknown; use one of "
                            f"{', '.join(EVIDENCE_KINDS)}"
                        ))  # fmt: skip
                        ok = False
                    elif not Path(path).is_file():
                        fail(ch, "evidence", EvidenceError(f"patch {pid}: file {path} not found"))
                        ok = False
                    else:
                        sha = file_sha256(path)
                        stored[sha] = (Path(path), meta)
                        checks = json.dumps(meta.get("checks"), ensure_ascii=False)
                        evidence_rows.append((pid, sha, kind, checks, ch.actor, when))
                        events.append((pid, when, ch.actor, "attach", cur.state, cur.state,
                                       cur.deadline, kind, json.dumps([sha])))  # fmt: skip
                        cur.kinds.add(kind)
                for kind, data in ch.details if ok else ():
                    try:
                        clean = check_detail(kind, data, classes=st.classes)
                    except ValueError as exc:
                        fail(ch, kind, SchemaError(f"patch {pid}: {exc}"))
                        ok = False
                        break
                    if kind == "recheck" and clean.get("passed") and cur.state == "monitored":
                        cur.deadline = entry_deadline(  # the next 监管 review
                            target="monitored", source="monitored", current=None,
                            day=dt.date.fromisoformat(when[:10]), issue_type=cur.issue_type,
                            level=cur.level, settings=st,
                        )  # fmt: skip
                    did = detail_id(pid, kind, when, clean)
                    text = json.dumps(clean, ensure_ascii=False, sort_keys=True)
                    detail_rows.append((did, pid, kind, text, ch.actor, when))
                    events.append((pid, when, ch.actor, kind, cur.state, cur.state, cur.deadline,
                                   describe(kind, clean), None, did))  # fmt: skip
                    if kind in ("verdict", "proposal"):
                        getattr(cur, kind).update(clean)
                        cur.fresh = cur.fresh or kind == "verdict"
                if not ok:
                    continue
                for target in ch.steps:
                    try:
                        action = lc.check(cur.state, target, patch_id=pid)
                    except InvalidTransitionError as exc:
                        fail(ch, "state", exc)
                        break
                    why = _verdict_problem(cur, target, st)
                    if why:
                        fail(ch, "evidence" if "evidence" in why else "verdict",
                             (EvidenceError if "evidence" in why else SchemaError)(
                                 f"patch {pid}: {why}"))  # fmt: skip
                        break
                    goal = cur.proposal.get("target", target) if target == "proposed" else target
                    missing = lc.missing_evidence(goal, cur.kinds)
                    if missing:
                        fail(ch, "evidence", EvidenceError(
                            f"patch {pid}: {target} needs evidence {missing}; attach it first"
                        ))  # fmt: skip
                        break
                    deadline = None
                    if target in lc.deadline_states:
                        try:
                            deadline = _deadline(ch, cur, target, when, st, lc)
                        except ValueError:
                            fail(ch, "deadline", SchemaError(
                                f"patch {pid}: deadline {ch.deadline!r} is not YYYY-MM-DD"
                            ))  # fmt: skip
                            break
                        cur.deadline = deadline
                    events.append((pid, when, ch.actor, action, cur.state, target, deadline,
                                   ch.note, None))  # fmt: skip
                    cur.state = target
                if ch.action and not _already_escalated(conn, events, pid, ch.action, cur.deadline):
                    events.append((pid, when, ch.actor, ch.action, cur.state, cur.state,
                                   cur.deadline, ch.note, None))  # fmt: skip
                cur.at = when
            if problems or dry_run:
                raise _Rollback
            store_files(ledger.attachments_dir, stored)
            conn.executemany(
                conn.insert_sql("attachments", ATTACHMENT_COLUMNS, conflict="ignore"),
                [
                    (sha, p.name, meta.get("media_type"), p.stat().st_size, meta.get("taken_at"),
                     meta.get("lon"), meta.get("lat"), as_time(None))
                    for sha, (p, meta) in stored.items()
                ],
            )  # fmt: skip
            conn.executemany(
                conn.insert_sql(
                    "evidence",
                    ["patch_id", "attachment_id", "kind", "checks", "actor", "added_at"],
                    conflict="ignore",
                ),
                evidence_rows,
            )
            if detail_rows:
                conn.executemany(
                    conn.insert_sql("patch_details", list(COVERED["patch_details"][1])),
                    detail_rows,
                )
                found = digests_of(conn, "patch_details", "detail_id", [r[0] for r in detail_rows])
                events = [
                    (*e[:9], content_json({"patch_details": {(e[9],): found[(e[9],)]}}))
                    if len(e) > 9 else e
                    for e in events
                ]  # fmt: skip
            ledger.append_events(conn, with_content(conn, events))
    except _Rollback:
        pass
    return problems


#: The verdict a move into a state means when none is recorded.
_IMPLIED = {"dismissed": "not_problem", "monitored": "problem_historic", "confirmed": "problem"}


def _verdict_problem(cur: _Patch, target: str, st: Any) -> str | None:
    """Why a move contradicts the verdict or lacks the evidence its 地物类别 needs, or ``None``.

    A proposal (``proposed``) needs its proposal and is judged as the verdict it
    proposes; the classification table applies where the 地物类别 is known.
    """
    if target == "proposed":
        goal = cur.proposal.get("target")
        if not goal:
            return "a proposal needs its proposed verdict (proposal.target)"
    else:
        goal = target
    if goal not in _IMPLIED:
        return None
    category = cur.verdict.get("category") or _IMPLIED[goal]
    if VERDICT_STATE.get(category) != goal:
        if cur.fresh:
            return f"verdict {category} does not lead to {goal}; record the verdict again"
        category = _IMPLIED[goal]  # an earlier verdict overturned (抽查改判) or superseded
    missing = verdict_evidence(st.classes, cur.verdict.get("feature_class"), category, cur.kinds)
    if missing:
        return f"{goal} ({category}) needs evidence {missing} by the classification table"
    return None


def _already_escalated(
    conn: Any, pending: list[tuple], pid: str, action: str, deadline: str | None
) -> bool:
    """Whether this rung was already recorded for this deadline (two runs at once issue one)."""
    if action not in ESCALATION_ACTIONS:
        return False
    if any(e[0] == pid and e[3] == action and e[6] == deadline for e in pending):
        return True
    same = "deadline IS NULL" if deadline is None else "deadline = ?"
    params = (pid, action) if deadline is None else (pid, action, deadline)
    row = conn.execute(
        f"SELECT 1 FROM events WHERE patch_id = ? AND action = ? AND {same} LIMIT 1", params
    ).fetchone()
    return row is not None


def fallback_verify_deadline(issued: tuple[Any, Any], first_at: str, settings: Any) -> str | None:
    """The 核查 deadline of a patch issued before ledgers recorded one on its issue event.

    From its batch's ``verify_by``, else ``[lifecycle] verify_days`` from its issue day
    (the patch's, else its batch's, else the day the batch was ingested); see
    :mod:`geo.policy.verification`.
    """
    day, by = issued
    return verify_deadline(
        day if day else first_at[:10],
        verify_by=by,
        days=getattr(settings, "verify_days", 25),
        calendar=settings.calendar,
    )


def _deadline(ch: Change, cur: _Patch, target: str, when: str, st: Any, lc: Lifecycle) -> str:
    """The deadline a step into a deadline state records (explicit, kept, or by the rules)."""
    if ch.deadline is not None:
        return dt.date.fromisoformat(str(ch.deadline)[:10]).isoformat()
    kept = cur.deadline if cur.state in lc.deadline_states else None
    return entry_deadline(
        target=target,
        source=cur.state,
        current=kept,
        day=dt.date.fromisoformat(when[:10]),
        issue_type=cur.issue_type,
        level=cur.level,
        settings=st,
    )


def store_files(root: Path, stored: dict[str, tuple[Path, dict[str, Any]]]) -> None:
    """Copy files into the content-addressed store ``root/ab/abcd….ext`` (once each)."""
    for sha, (path, _meta) in stored.items():
        target = root / sha[:2] / (sha + path.suffix.lower())
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_atomic(path, target)
