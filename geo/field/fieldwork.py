"""The field round trip without a server: task packages out, filled sheets back.

:func:`geo.field.tasks.write_tasks` writes one package per township (or any other column of
the status frame): a folder holding an Excel sheet of the open patches with
read-only ledger columns and fill-in columns (target state from a drop-down,
measures, date, reporter, evidence file names, remarks), a GeoPackage of the
same patches that QField opens, and an empty ``photos/`` folder.

:func:`apply_sheet` reads a filled sheet back by patch id, checks every row and
applies all rows or none through :meth:`geo.ledger.store.Ledger.apply_changes`; when
any row is bad it writes a rejection report beside the sheet. The rules:

- **Which rows count.** A row is applied when its target state, measures,
  remarks or an evidence column is filled. Reporter and date alone (often
  filled down a whole column) do not count: such rows are skipped.
- **Implied step.** A target that the current state cannot reach directly but
  can through exactly one intermediate state is reached through it, both events
  at the row's time: a verdict on an ``issued`` patch passes through
  ``verifying`` first (:func:`implied_steps`). Never more than one implied
  step; when two intermediate states would do, the row is refused.
- **Already applied.** Every event a row writes carries a reference
  ``#<12 hex digits>`` (a hash of the row's patch, target, date, text and the
  content of its evidence files) in its note. A row whose reference is already
  in the patch's history is skipped, so applying the same sheet twice (or a copy
  re-saved by Excel or WPS) changes nothing and reports nothing.
- **Time.** The date column gives the day (an Excel date, or text such as
  ``2025-08-20``, ``2025/8/20``, ``20250820``, with or without a time). A day
  without a time means 09:00, or the time of the patch's last event when that is
  later the same day; an empty date means now. Dates before 2000 or after today
  are refused.
- **Who.** The event's actor is the row's reporter, else ``actor``; a row with
  neither is refused.
- **Evidence files.** Names relative to the sheet's folder or its ``photos/``
  folder, several separated by semicolons, commas, enumeration commas or line
  breaks (full- or half-width); a file must lie inside the sheet's folder. A
  file in a photo column must be an image (:func:`geo.field.evidence.is_image`;
  a PDF belongs under the permit or document column).
- **Far after-photos.** A row closing a patch whose after-photos (stored, or in
  the row) lie beyond ``[evidence] max_distance_m`` is refused with ``[evidence]
  far_photo = "refuse"``; by default it is applied with a warning.
- **The report.** Every reason is in Chinese, for the field team who reads it
  (``日期无效：2025-13-01（月份应为 1 至 12），请写成 YYYY-MM-DD``).

The sheet itself (its columns, reading it back, its date and evidence cells, the report) is
:mod:`geo.field.tasksheet`; its names are importable from here as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geo.clock import as_time
from geo.errors import EvidenceError, InvalidTransitionError, LedgerError
from geo.field.evidence import (
    CLOSED,
    PHOTO_KINDS,
    FarPhoto,
    evidence_meta,
    far_after_photos,
    is_image,
    warn_far,
)
from geo.field.tasksheet import (
    CONTEXT_FIELDS,
    DATE_MAX,
    DATE_MIN,
    FILL_FIELDS,
    FONT,
    HEADERS,
    PHOTOS,
    as_day,
    cell_text,
    evidence_files,
    is_blank,
    parse_when,
    read_sheet,
    write_report,
)  # fmt: skip
from geo.labels import EVIDENCE, FIELDWORK
from geo.ledger.changes import Change, Problem
from geo.ledger.store import Ledger
from geo.policy.lifecycle import EVIDENCE_KINDS, Lifecycle
from geo.records import file_sha256

__all__ = [
    "CONTEXT_FIELDS", "DATE_MAX", "DATE_MIN", "FILL_FIELDS", "FONT", "HEADERS", "PHOTOS",
    "ApplyResult", "apply_sheet", "as_day", "implied_steps", "is_blank", "read_sheet",
    "state_named", "target_options", "write_report",
]  # fmt: skip

log = logging.getLogger(__name__)

#: Fields whose content makes a row count (see the module doc).
_COUNTING = ("target", "measures", "note", *EVIDENCE_KINDS)
_PROBLEM_FIELD = {"state": "target", "at": "date"}  # Problem.field of geo.ledger.changes -> ours

_REF = re.compile(r"#([0-9a-f]{12})\b")


@dataclass(frozen=True)
class ApplyResult:
    """What :func:`apply_sheet` did.

    Attributes
    ----------
    applied : int
        Rows applied (0 when any row was rejected, or on a dry run).
    skipped : int
        Rows already applied by an earlier run (see the module doc).
    problems : DataFrame
        ``row`` (the Excel row number), ``patch_id``, ``field`` (a field id of
        :data:`HEADERS`, or ``evidence`` / ``deadline``) and ``reason``; empty
        when every row passed.
    report_path : Path or None
        The rejection report, when there were problems.
    """

    applied: int
    skipped: int
    problems: pd.DataFrame
    report_path: Path | None

    @property
    def ok(self) -> bool:
        """Whether every row passed."""
        return self.problems.empty


# -- lifecycle ----------------------------------------------------------------------------


def state_named(lifecycle: Lifecycle, text: str) -> str | None:
    """Return the state a person named: its id (``closed``) or its Chinese label (``已销号``).

    Returns
    -------
    str or None
        The state id, or ``None`` when ``text`` names no state of ``lifecycle``.
    """
    name = text.strip()
    if name in lifecycle.states:
        return name
    return next((s for s in lifecycle.states if lifecycle.label(s) == name), None)


def target_options(lifecycle: Lifecycle, state: str) -> dict[str, tuple[str, ...]]:
    """Return the targets a field sheet may give for a patch in ``state``, with their steps.

    A target is offered when ``state`` reaches it directly, or through exactly
    one intermediate state (see the module doc); its value is the steps taken.
    """
    direct = {t: (t,) for t in lifecycle.allowed(state) if t not in (state, PROPOSED)}
    via: dict[str, list[str]] = {}
    for mid in lifecycle.allowed(state):
        if mid == PROPOSED:  # a sheet gives the verdict; applying it proposes it
            continue
        for t in lifecycle.allowed(mid):
            if t not in (state, PROPOSED) and t not in direct:
                via.setdefault(t, []).append(mid)
    return direct | {t: (mids[0], t) for t, mids in via.items() if len(mids) == 1}


def implied_steps(lifecycle: Lifecycle, state: str, target: str, *, patch_id: str = "") -> tuple:
    """Return the steps from ``state`` to ``target``: the target, or one implied step and it.

    Raises
    ------
    InvalidTransitionError
        When ``target`` is neither reachable directly nor through exactly one
        intermediate state; the message names the targets that are.
    """
    options = target_options(lifecycle, state)
    if target in options:
        return options[target]
    if target not in lifecycle.states:
        lifecycle.check(state, target, patch_id=patch_id)  # raises, naming the states
    shown = ", ".join(f"{t} ({lifecycle.label(t)})" for t in options) or "none"
    who = f"patch {patch_id} " if patch_id else ""
    raise InvalidTransitionError(
        f"{who}cannot go from {state} ({lifecycle.label(state)}) to {target} "
        f"({lifecycle.label(target)}) in one sheet row; targets from {state}: {shown}"
    )


def _at(when: dt.date | dt.datetime | None, last: str | None) -> str | None:
    """The event time for a parsed date: a bare day is 09:00, or the last event's time that day."""
    if when is None:
        return None
    at = as_time(when)
    if not isinstance(when, dt.datetime) and last and last[:10] == at[:10] and last > at:
        return last
    return at


def _options(lifecycle: Lifecycle, state: str) -> str:
    """The targets a sheet row may give from ``state``, as the drop-down shows them."""
    labels = [lifecycle.label(t) for t in target_options(lifecycle, state)]
    return FIELDWORK["evidence_and"].join(labels) or FIELDWORK["why_none"]


def _not_image(path: Path, kind: str) -> str:
    """Why a file named in a photo column is refused: it is not an image."""
    return FIELDWORK["why_not_image"].format(
        name=path.name,
        kind=EVIDENCE[kind],
        permit=EVIDENCE["permit"],
        document=EVIDENCE["document"],
    )


def _reference(pid: str, target: str, when: Any, cells: dict[str, Any], shas: list) -> str:
    payload = [pid, target, None if when is None else when.isoformat()]
    payload += [cell_text(cells.get(f)) for f in ("measures", "note", "reporter")]
    payload.append(sorted(shas))
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def _note(cells: dict[str, Any], source: str, row: int, ref: str) -> str:
    parts = []
    if cell_text(cells.get("measures")):
        parts.append(FIELDWORK["note_measures"] + cell_text(cells.get("measures")))
    if cell_text(cells.get("note")):
        parts.append(FIELDWORK["note_remark"] + cell_text(cells.get("note")))
    where = FIELDWORK["note_row"].format(row=row)
    parts.append(f"{FIELDWORK['note_source']}{source} {where} #{ref}")
    return "; ".join(parts)


def _history(ledger: Ledger) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
    """Each patch's state and last event time, and the sheet references in its notes."""
    events = ledger.events()
    state: dict[str, str] = {}
    last: dict[str, str] = {}
    refs: dict[str, set[str]] = {}
    for pid, at, to_state, note in zip(
        events["patch_id"], events["at"], events["to_state"], events["note"], strict=True
    ):
        state[pid], last[pid] = to_state, at
        if isinstance(note, str) and "#" in note:
            refs.setdefault(pid, set()).update(_REF.findall(note))
    return state, last, refs


def _row_change(
    ledger: Ledger,
    base: Path,
    source: str,
    row: int,
    cells: dict[str, Any],
    *,
    actor: str | None,
    state: dict[str, str],
    last: dict[str, str],
    refs: dict[str, set[str]],
    propose: bool = True,
) -> tuple[Change | None, list[tuple[str, str]], bool]:
    """Build one row's change; return it, the row's problems ``(field, reason)``, and skipped."""
    lc = ledger.lifecycle
    problems: list[tuple[str, str]] = []
    pid = cell_text(cells.get("patch_id"))
    if not pid:
        return None, [("patch_id", FIELDWORK["why_no_patch_id"])], False
    if pid not in state:
        return None, [("patch_id", FIELDWORK["why_unknown_patch"].format(pid=pid))], False
    target_text = cell_text(cells.get("target"))
    target = state_named(lc, target_text) if target_text else None
    if target_text and target is None:
        why = FIELDWORK["why_unknown_target"].format(
            text=target_text, options=_options(lc, state[pid])
        )
        problems.append(("target", why))
    try:
        when = parse_when(cells.get("date"))
    except (ValueError, OverflowError) as exc:
        problems.append(("date", str(exc)))
        when = None
    who = cell_text(cells.get("reporter")) or (actor or "")
    if not who:
        problems.append(("reporter", FIELDWORK["why_no_reporter"]))
    files: list[tuple[Path, str]] = []
    for kind in EVIDENCE_KINDS:
        found, bad = evidence_files(base, cells.get(kind))
        problems += [(kind, reason) for reason in bad]
        problems += [(kind, _not_image(path, kind)) for path in found
                     if kind in PHOTO_KINDS and not is_image(path)]  # fmt: skip
        files += [(path, kind) for path in found]
    if problems:
        return None, problems, False
    shas = [(kind, file_sha256(path)) for path, kind in files]
    ref = _reference(pid, target or "", when, cells, shas)
    if ref in refs.get(pid, set()):
        return None, [], True
    steps: tuple[str, ...] = ()
    if target is not None:
        try:
            steps = implied_steps(lc, state[pid], target, patch_id=pid)
        except InvalidTransitionError:
            reason = FIELDWORK["why_unreachable"].format(
                state=lc.label(state[pid]),
                target=lc.label(target),
                options=_options(lc, state[pid]),
            )
            return None, [("target", reason)], False
    at = _at(when, last.get(pid))
    details: tuple = ()
    if propose and steps:
        steps, details, why = _as_proposal(lc, state[pid], steps, cells)
        if why:
            return None, [("target", why)], False
    change = Change(
        pid,
        steps,
        actor=who,
        at=at,
        note=_note(cells, source, row, ref),
        action=None if steps else "field_report",
        files=tuple((path, kind, evidence_meta(ledger, pid, path)) for path, kind in files),
        row=row,
        details=details,
    )
    if steps:
        state[pid] = steps[-1]
    return change, [], False


#: A township's sheet proposes; the county decides (``hetu review``).
PROPOSED = "proposed"
_VERDICTS = ("confirmed", "dismissed", "monitored")


def _as_proposal(
    lc: Lifecycle, state: str, steps: tuple[str, ...], cells: dict[str, Any]
) -> tuple[tuple[str, ...], tuple, str | None]:
    """A township's row as a proposal: a verdict waits in 待审核, 已销号 is 申请销号.

    Returns the steps, the details and, for a row only the county can do, why not.
    """
    target = steps[-1]
    opinion = cell_text(cells.get("measures")) or cell_text(cells.get("note")) or None
    if state == PROPOSED:
        return steps, (), FIELDWORK["why_awaiting_review"]
    if target in _VERDICTS and PROPOSED in lc.allowed(state):
        return (PROPOSED,), (("proposal", {"target": target, "opinion": opinion}),), None
    if target == "closed":
        if state == "rectified":
            return steps, (), FIELDWORK["why_county_accepts"]
        return steps[:-1], (), None  # 申请销号: 已整改待验收, for 县级验收
    return steps, (), None


def apply_sheet(
    ledger: Ledger,
    path: str | os.PathLike,
    *,
    actor: str | None = None,
    report: str | os.PathLike | None = None,
    dry_run: bool = False,
    propose: bool = True,
) -> ApplyResult:
    """Read a filled task sheet and apply every row to the ledger, or none.

    Each counting row becomes a :class:`geo.ledger.changes.Change` (see the module doc
    for the rules: implied steps, time, reporter, evidence files, rows already
    applied). Unknown ids, unknown or unreachable targets, bad dates, missing or
    misplaced files are found here; illegal transitions, missing evidence and
    times out of order by :meth:`Ledger.apply_changes`. When any row is bad,
    nothing is applied and a rejection report ``<sheet>_退回.xlsx`` names each
    bad row (its Excel row number), the column and why.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    path : path-like
        The filled ``.xlsx`` sheet; evidence file names are resolved against its folder.
    actor : str, optional
        Who the events are recorded as when a row names no reporter.
    report : path-like, optional
        Where to write the rejection report (default beside the sheet).
    dry_run : bool
        Check only; the report is still written when rows are bad.
    propose : bool
        The sheet is a township's: a verdict (已认定, 不是问题, 挂账监管) becomes a
        proposal in 待审核 and 已销号 becomes 申请销号 (已整改待验收), for the county to
        decide (``hetu review``). ``False``: the rows are the county's own decisions.

    Returns
    -------
    ApplyResult

    Raises
    ------
    IngestError
        If the file is not an ``.xlsx`` workbook.
    SchemaError
        If it has no patch-id or target-state column.
    """
    p = Path(path)
    rows = read_sheet(p)
    state, last, refs = _history(ledger)
    records: list[dict[str, Any]] = []
    changes: list[Change] = []
    skipped = 0
    for row, cells in rows:
        if not any(cell_text(cells.get(f)) for f in _COUNTING):
            continue
        change, bad, done = _row_change(
            ledger, p.parent, p.name, row, cells,
            actor=actor, state=state, last=last, refs=refs, propose=propose,
        )  # fmt: skip
        skipped += done
        pid = cell_text(cells.get("patch_id"))
        records += [{"row": row, "patch_id": pid, "field": f, "reason": r} for f, r in bad]
        if change is not None:
            changes.append(change)
    far = _far_closures(ledger, changes)
    limit = ledger.settings.evidence_max_distance_m
    if ledger.settings.evidence_far_photo == "refuse":
        row_of = {ch.patch_id: ch.row for ch in changes
                  if ch.steps[-1:] in ((CLOSED,), ("rectified",))}  # fmt: skip
        records += [dict(row=row_of[f.patch_id], patch_id=f.patch_id, field="photo_after",
                         reason=FIELDWORK["why_far_photo"].format(
                             name=f.name, distance=f"{f.distance_m:.0f}", limit=f"{limit:g}"))
                    for f in far]  # fmt: skip
    for problem in ledger.apply_changes(changes, dry_run=dry_run or bool(records)):
        field = _PROBLEM_FIELD.get(problem.field, problem.field)
        reason = _ledger_reason(ledger, problem, changes, last)
        records.append(dict(row=problem.row, patch_id=problem.patch_id, field=field,
                            reason=reason))  # fmt: skip
    problems = pd.DataFrame(records, columns=["row", "patch_id", "field", "reason"])
    if problems.empty:
        if not dry_run:
            warn_far(far, limit=limit)
        applied = 0 if dry_run else len(changes)
        log.info("%s: applied %d row(s), %d already applied", p, applied, skipped)
        return ApplyResult(applied, skipped, problems, None)
    problems = problems.sort_values("row", kind="stable").reset_index(drop=True)
    target = Path(report) if report is not None else p.with_name(
        f"{p.stem}_{FIELDWORK['report_suffix']}.xlsx"
    )  # fmt: skip
    written = write_report(problems, target)
    log.info("%s: %d problem(s), nothing applied; report %s", p, len(problems), written)
    return ApplyResult(0, skipped, problems, written)


def _far_closures(ledger: Ledger, changes: list[Change]) -> list[FarPhoto]:
    """The far after-photos (stored, or in the row) of the rows that close a patch or apply to."""
    closing = [ch for ch in changes if ch.steps[-1:] in ((CLOSED,), ("rectified",))]
    if not closing:
        return []
    added = [(ch.patch_id, path.name, meta) for ch in closing for path, kind, meta in ch.files
             if kind == "photo_after"]  # fmt: skip
    return far_after_photos(ledger, {ch.patch_id for ch in closing}, added=added)


def _ledger_reason(
    ledger: Ledger, problem: Problem, changes: list[Change], last: dict[str, str]
) -> str:
    """A row the ledger refused, in Chinese; a reason not foreseen keeps the ledger's words."""
    pid, lc = problem.patch_id, ledger.lifecycle
    mine = [ch for ch in changes if ch.patch_id == pid and (ch.row or 0) <= (problem.row or 0)]
    if mine and problem.field == "at" and isinstance(problem.error, LedgerError):
        before = [t for t in (last.get(pid), *(ch.at for ch in mine[:-1])) if t]
        if before and mine[-1].at:
            return FIELDWORK["why_before_last"].format(
                at=_shown(mine[-1].at), last=_shown(max(before, key=str))
            )
    if mine and isinstance(problem.error, EvidenceError):
        kinds = set(ledger.evidence(pid)["kind"]) | {k for ch in mine for _, k, _ in ch.files}
        proposed = {k: v for k, v in mine[-1].details}.get("proposal", {})
        for step in mine[-1].steps:
            step = proposed.get("target", step) if step == PROPOSED else step
            if lc.missing_evidence(step, kinds) is not None:
                sets = [FIELDWORK["evidence_and"].join(EVIDENCE.get(k, k) for k in sorted(need))
                        for need in lc.evidence[step]]  # fmt: skip
                kinds_text = FIELDWORK["evidence_or"].join(sets)
                return FIELDWORK["why_evidence"].format(target=lc.label(step), kinds=kinds_text)
    return FIELDWORK["why_refused"].format(reason=problem.reason)


def _shown(at: Any) -> str:
    """An event time as a person reads it: ``2025-08-20 09:00``."""
    return str(at).replace("T", " ")[:16]
