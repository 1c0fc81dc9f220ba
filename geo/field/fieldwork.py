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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from geo.clock import as_time, now
from geo.errors import EvidenceError, IngestError, InvalidTransitionError, LedgerError, SchemaError
from geo.field.evidence import (
    CLOSED,
    PHOTO_KINDS,
    FarPhoto,
    evidence_meta,
    far_after_photos,
    is_image,
    warn_far,
)
from geo.fileio import xlsx_workbook
from geo.labels import COLUMNS, DATE_ERRORS, EVIDENCE, FIELDWORK, TEXT
from geo.ledger.changes import Change, Problem
from geo.ledger.store import Ledger
from geo.policy.lifecycle import EVIDENCE_KINDS, Lifecycle
from geo.records import file_sha256
from geo.text import normalise_header

__all__ = ["HEADERS", "ApplyResult", "apply_sheet", "implied_steps", "read_sheet", "state_named"]

log = logging.getLogger(__name__)

#: Read-only ledger columns of a task sheet, in order.
CONTEXT_FIELDS = (
    "patch_id", "state", "water_segment", "issue_type", "description", "issued_on", "deadline",
    "overdue_days", "chief_village", "chief_township", "centroid_lon", "centroid_lat",
)  # fmt: skip
#: Fill-in columns of a task sheet, in order.
FILL_FIELDS = ("target", "measures", "date", "reporter", *EVIDENCE_KINDS, "note")
#: Field id -> the sheet's header, for every column of a task sheet.
HEADERS: dict[str, str] = {
    **{f: COLUMNS.get(f, "") for f in CONTEXT_FIELDS},
    "state": FIELDWORK["current_state"],
    "water_segment": TEXT["water_segment"],
    **{f: FIELDWORK[f] for f in ("target", "measures", "date", "reporter", "note")},
    **{k: EVIDENCE[k] for k in EVIDENCE_KINDS},
}
HEADERS = {f: HEADERS[f] for f in (*CONTEXT_FIELDS, *FILL_FIELDS)}
_FIELD_OF_HEADER = {normalise_header(h, keep_notes=True): f for f, h in HEADERS.items()}
#: Fields whose content makes a row count (see the module doc).
_COUNTING = ("target", "measures", "note", *EVIDENCE_KINDS)
#: Names of problem fields that are not sheet columns.
_PROBLEM_LABELS = {"evidence": FIELDWORK["evidence"], "deadline": COLUMNS["deadline"]}
_PROBLEM_FIELD = {"state": "target", "at": "date"}  # Problem.field of geo.ledger.changes -> ours

PHOTOS = "photos"
FONT = "Microsoft YaHei"
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_REF = re.compile(r"#([0-9a-f]{12})\b")
# ASCII and full-width semicolon/comma, the enumeration comma, line breaks.
_FILE_SEP = re.compile("[;,\r\n\uff1b\uff0c\u3001]+")
_DATE_LETTERS = re.compile(r"[A-SU-Ya-su-y]")  # letters other than T and Z


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


# -- writing task packages ----------------------------------------------------------------


def is_blank(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def as_day(value: Any) -> dt.date | None:
    if is_blank(value):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# -- reading a filled sheet back ----------------------------------------------------------


def read_sheet(path: str | os.PathLike) -> list[tuple[int, dict[str, Any]]]:
    """Read a filled task sheet: ``(excel_row, {field: value})`` for every row with a value.

    The sheet ``外业填报`` (else the first sheet with a ``图斑编号`` header in its
    first ten rows) is read with openpyxl, values as stored (no formulas);
    columns are found by their headers, in any order. A workbook re-saved by
    Excel or WPS reads the same.

    Raises
    ------
    IngestError
        If the file is not an ``.xlsx`` workbook.
    SchemaError
        If no sheet has the patch-id and target-state headers (the message lists
        the headers found).
    """
    p = Path(path)
    try:
        with warnings.catch_warnings():
            # a date cell holding garbage is read as an error value and reported as a bad date
            warnings.filterwarnings("ignore", "Cell .* is marked as a date", UserWarning)
            book = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise IngestError(
            f"{p}: cannot read it as an Excel workbook ({exc}); save it as .xlsx and try again"
        ) from exc
    try:
        names = book.sheetnames
        if FIELDWORK["sheet"] in names:
            names = [FIELDWORK["sheet"], *(n for n in names if n != FIELDWORK["sheet"])]
        seen: list[str] = []
        for name in names:
            rows = book[name].iter_rows(values_only=True)
            for index, row in enumerate(rows, start=1):
                if index > 10:
                    break
                heads = ["" if v is None else str(v).strip() for v in row]
                keys = [normalise_header(h, keep_notes=True) for h in heads]
                if "patch_id" not in (_FIELD_OF_HEADER.get(k) for k in keys):
                    seen = seen or [h for h in heads if h]
                    continue
                cols = {_FIELD_OF_HEADER[k]: i for i, k in enumerate(keys) if k in _FIELD_OF_HEADER}
                if "target" not in cols:
                    raise SchemaError(
                        f"{p} sheet {name}: no {HEADERS['target']} column; found "
                        f"{[h for h in heads if h]}; fill the sheet written by `hetu tasks`"
                    )
                out = []
                for excel_row, values in enumerate(rows, start=index + 1):
                    cells = {f: values[i] for f, i in cols.items() if i < len(values)}
                    if any(not is_blank(v) and str(v).strip() != "" for v in cells.values()):
                        out.append((excel_row, cells))
                return out
    finally:
        book.close()
    raise SchemaError(
        f"{p}: no sheet has a {HEADERS['patch_id']} header in its first ten rows "
        f"(found {seen}); fill the sheet written by `hetu tasks`"
    )


def _text(value: Any) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_when(value: Any) -> dt.date | dt.datetime | None:
    """Parse a date cell: an Excel date, a serial number, or text (see the module doc)."""
    if is_blank(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _bad_date(value)
    if isinstance(value, dt.datetime):
        when: dt.date | dt.datetime = value if value.time() != dt.time() else value.date()
    elif isinstance(value, dt.date):
        when = value
    elif isinstance(value, int | float):
        if not 1 <= value < 2958466:
            raise _bad_date(value)
        stamp = _EXCEL_EPOCH + dt.timedelta(days=float(value))
        when = stamp.replace(microsecond=0) if stamp.time() != dt.time() else stamp.date()
    elif isinstance(value, dt.time):
        raise _bad_date(value)  # a time without a date
    else:
        text = str(value).strip()
        groups = [int(g) for g in re.findall(r"\d+", text)]
        if _DATE_LETTERS.search(text) or not groups:
            raise _bad_date(text)
        if len(groups) == 1 and len(text) >= 8 and len(re.findall(r"\d", text)) == 8:
            n = groups[0]
            groups = [n // 10000, n // 100 % 100, n % 100]
        if len(groups) not in (3, 5, 6, 7, 8):
            raise _bad_date(text)
        try:
            when = (
                dt.date(*groups[:3])
                if len(groups) == 3
                else dt.datetime(*groups[:5], *(groups[5:6] or [0]))
            )
        except (ValueError, OverflowError) as exc:  # "month must be in 1..12"
            raise _bad_date(text, exc) from exc
    day = when.date() if isinstance(when, dt.datetime) else when
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(FIELDWORK["why_date_range"].format(day=day.isoformat()))
    if day > now().date():
        raise ValueError(FIELDWORK["why_future_date"].format(day=day.isoformat()))
    return when


def _bad_date(value: Any, exc: BaseException | None = None) -> ValueError:
    """The error of a date cell that is not a date, in Chinese (with Python's reason translated)."""
    detail = DATE_ERRORS.get(str(exc), "") if exc is not None else ""
    text = value.isoformat() if isinstance(value, dt.time) else str(value).strip()
    return ValueError(
        FIELDWORK["why_bad_date"].format(text=text, detail=f"（{detail}）" if detail else "")
    )


def _at(when: dt.date | dt.datetime | None, last: str | None) -> str | None:
    """The event time for a parsed date: a bare day is 09:00, or the last event's time that day."""
    if when is None:
        return None
    at = as_time(when)
    if not isinstance(when, dt.datetime) and last and last[:10] == at[:10] and last > at:
        return last
    return at


def _files(base: Path, value: Any) -> tuple[list[Path], list[str]]:
    """Resolve the file names of an evidence cell; return the files and the problems."""
    text = _text(value).replace("\\", "/")
    if not text:
        return [], []
    root = base.resolve()
    names = [text] if _find(root, text) else [n.strip() for n in _FILE_SEP.split(text)]
    found, problems = [], []
    for name in filter(None, names):
        if Path(name).is_absolute():
            problems.append(FIELDWORK["why_full_path"].format(name=name))
            continue
        path = _find(root, name)
        if path is None:
            problems.append(FIELDWORK["why_no_file"].format(name=name))
        else:
            found.append(path)
    return found, problems


def _find(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / PHOTOS / name):
        try:
            resolved = candidate.resolve()
            if resolved.is_relative_to(root) and resolved.is_file():
                return resolved
        except (OSError, RuntimeError, ValueError):  # too long, a loop, a NUL byte
            continue
    return None


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
    payload += [_text(cells.get(f)) for f in ("measures", "note", "reporter")]
    payload.append(sorted(shas))
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]


def _note(cells: dict[str, Any], source: str, row: int, ref: str) -> str:
    parts = []
    if _text(cells.get("measures")):
        parts.append(FIELDWORK["note_measures"] + _text(cells.get("measures")))
    if _text(cells.get("note")):
        parts.append(FIELDWORK["note_remark"] + _text(cells.get("note")))
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
    pid = _text(cells.get("patch_id"))
    if not pid:
        return None, [("patch_id", FIELDWORK["why_no_patch_id"])], False
    if pid not in state:
        return None, [("patch_id", FIELDWORK["why_unknown_patch"].format(pid=pid))], False
    target_text = _text(cells.get("target"))
    target = state_named(lc, target_text) if target_text else None
    if target_text and target is None:
        why = FIELDWORK["why_unknown_target"].format(
            text=target_text, options=_options(lc, state[pid])
        )
        problems.append(("target", why))
    try:
        when = _parse_when(cells.get("date"))
    except (ValueError, OverflowError) as exc:
        problems.append(("date", str(exc)))
        when = None
    who = _text(cells.get("reporter")) or (actor or "")
    if not who:
        problems.append(("reporter", FIELDWORK["why_no_reporter"]))
    files: list[tuple[Path, str]] = []
    for kind in EVIDENCE_KINDS:
        found, bad = _files(base, cells.get(kind))
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
    opinion = _text(cells.get("measures")) or _text(cells.get("note")) or None
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
        if not any(_text(cells.get(f)) for f in _COUNTING):
            continue
        change, bad, done = _row_change(
            ledger, p.parent, p.name, row, cells,
            actor=actor, state=state, last=last, refs=refs, propose=propose,
        )  # fmt: skip
        skipped += done
        pid = _text(cells.get("patch_id"))
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


def write_report(problems: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a rejection report: one line per problem, with the row, patch, column and reason.

    Parameters
    ----------
    problems : DataFrame
        As in :attr:`ApplyResult.problems`.
    path : path-like
        The ``.xlsx`` file; written atomically.

    Returns
    -------
    Path
    """
    target = Path(path)
    with xlsx_workbook(target) as book:
        base = {"font_name": FONT, "font_size": 10, "valign": "top", "border": 1}
        head = book.add_format({**base, "bold": True, "bg_color": "#F8CBAD"})
        cell = book.add_format({**base, "text_wrap": True})
        sheet = book.add_worksheet(FIELDWORK["report_sheet"])
        sheet.write_string(0, 0, FIELDWORK["report_title"], book.add_format({"bold": True}))
        heads = [FIELDWORK["row"], HEADERS["patch_id"], FIELDWORK["field"], FIELDWORK["reason"]]
        for c, text in enumerate(heads):
            sheet.write_string(1, c, text, head)
        for r, rec in enumerate(problems.itertuples(index=False), start=2):
            row = None if is_blank(rec.row) else int(rec.row)
            name = HEADERS.get(rec.field) or _PROBLEM_LABELS.get(rec.field, rec.field)
            sheet.write_row(r, 0, [row, _text(rec.patch_id), name, str(rec.reason)], cell)
        for c, width in enumerate((8, 20, 14, 90)):
            sheet.set_column(c, c, width)
        sheet.freeze_panes(2, 0)
    return target
