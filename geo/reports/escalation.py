"""Escalation notices: the ladder 提示卡 → 通知单 → 督办函 → 整改令 (卡单函令) on the ledger.

:func:`due_escalations` says, for a day, which rung is due for every patch and
which chief it goes to: the office's ladder (``settings.ladder``) decides the
rung with :func:`geo.policy.lifecycle.due_step`, counting working days on the office's
calendar, and the rung's level picks the chief of the patch's segment (the next
level up when the segment has none at that level). :func:`escalate` records each
due rung as an event, all in one transaction, and writes one Chinese document
per (rung, chief): HTML from a Jinja2 template (autoescaped: patch descriptions
come from province files and are not trusted) with the patch table and a map
thumbnail drawn here as inline SVG, and a PDF where a headless Chromium is found.

Running :func:`escalate` twice on the same day issues nothing the second time:
the events already recorded for the current deadline are what :func:`due_step`
looks at, so the ledger itself proves what was sent.

A notice is never recorded without its file: the documents are written first
into a temporary folder beside the output folder, the events are recorded (each
note names its notices by path, :func:`geo.reports.notice_files.recorded_notices`),
and the files are moved into place once the transaction commits. Every run first
writes again any recorded notice whose file is missing from the output folder. File
names keep Chinese, are bounded and unique (:mod:`geo.reports.notice_files`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.clock import TZ, as_date
from geo.errors import OutputError, SchemaError
from geo.fileio import move_into_place, staging_folder
from geo.labels import ACTIONS, GONGWEN, LEVELS, TEXT, label
from geo.ledger.changes import Change
from geo.ledger.chiefs import assistants
from geo.ledger.store import Ledger
from geo.policy.lifecycle import ESCALATION_ACTIONS, EscalationStep, due_step, overdue_days
from geo.policy.workdays import WorkCalendar
from geo.progress import Progress, expect
from geo.records import is_missing
from geo.reports.documents import (
    notice_rows,
    output_folder,
    render_notice,
    thumbnail_svg,
)
from geo.reports.gongwen import (
    REPORT,
    build_notice,
    cc_of,
    own_organ,
    reported,
    seal_image,
    segment_organs,
)
from geo.reports.notice_files import (
    addressee_in_note,
    chief_of_notice,
    notes_folder,
    notice_day,
    notice_file_name,
    recorded_notices,
    write_notices,
)
from geo.reports.pdf import pdf_converter, print_pdfs
from geo.reports.word import notice_docx

__all__ = [
    "DUE_COLUMNS",
    "EscalationResult",
    "due_escalations",
    "escalate",
    "notes_folder",
    "notice_file_name",
    "recorded_notices",
]

log = logging.getLogger(__name__)

#: Chief levels from the lowest up: where a notice goes when a segment lacks its level.
LEVELS_UP = tuple(reversed(LEVELS))
#: Columns of :func:`due_escalations`, one row per (patch, addressed chief).
DUE_COLUMNS = [
    "patch_id",
    "action",
    "step_days",
    "to_level",
    "chief_id",
    "chief_name",
    "chief_title",
    "chief_level",
    "fallback",
    "state",
    "deadline",
    "overdue_days",
    "days_left",
    "issue_type",
    "township",
    "water_name",
    "segment_id",
    "segment_name",
    "area_m2",
    "description",
    "township_organ",
    "issued_before",
]
#: Status-frame columns carried into each due row as they are.
_CARRIED = DUE_COLUMNS[DUE_COLUMNS.index("issue_type") : DUE_COLUMNS.index("description") + 1]


@dataclass
class EscalationResult:
    """What one :func:`escalate` run issued and wrote.

    Attributes
    ----------
    as_of : date
        The day escalated.
    due : DataFrame
        The rows of :func:`due_escalations` that were issued (empty when nothing was due).
    events : int
        Events recorded (one per patch).
    documents : list of Path
        HTML notices issued and written, one per (rung, chief).
    regenerated : list of Path
        Notices recorded earlier whose files were missing, written again from the ledger.
    pdfs : list of Path
        PDF copies written.
    pdf_converter : str or None
        The converter used for the PDFs (the browser's path), or ``None``.
    pdf_failed : list of Path
        HTML notices whose PDF conversion failed (the HTML stands; see the log).
    """

    as_of: dt.date
    due: pd.DataFrame
    events: int = 0
    documents: list[Path] = field(default_factory=list)
    regenerated: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    pdf_converter: str | None = None
    pdf_failed: list[Path] = field(default_factory=list)


# -- what is due ----------------------------------------------------------------------------


def _issued(events: pd.DataFrame, deadlines: dict[str, Any]) -> dict[str, set[str]]:
    """Escalation actions already recorded per patch for its current deadline."""
    out: dict[str, set[str]] = {}
    esc = events[events["action"].isin(ESCALATION_ACTIONS)]
    for pid, action, deadline in zip(esc["patch_id"], esc["action"], esc["deadline"], strict=True):
        if deadline is not None and deadline == deadlines.get(pid):
            out.setdefault(pid, set()).add(action)
    return out


def _serving(chiefs: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Chiefs whose term covers ``day`` (missing term dates count as open; no assistants)."""
    chiefs = chiefs[assistants(chiefs).isna()]
    iso = day.isoformat()
    start = chiefs["term_start"].fillna("").astype(str).str[:10]
    end = chiefs["term_end"].fillna("").astype(str).str[:10]
    keep = ((start == "") | (start <= iso)) & ((end == "") | (end >= iso))
    return chiefs[keep]


def _addressees(
    by_key: dict[tuple[str, str], list[tuple[str, str, str]]], segment_id: Any, level: str
) -> tuple[str, list[tuple[str, str, str]]] | None:
    """The chiefs of ``segment_id`` at ``level`` or the first level above that has any."""
    if is_missing(segment_id):
        return None
    for lv in LEVELS_UP[LEVELS_UP.index(level) :]:
        found = by_key.get((str(segment_id), lv))
        if found:
            return lv, found
    return None


def due_escalations(ledger: Ledger, *, as_of: dt.date | str) -> pd.DataFrame:
    """Return the escalation rung due on ``as_of`` for every patch, and whom it goes to.

    The rung comes from :func:`geo.policy.lifecycle.due_step` over the office's ladder
    (``ledger.settings.ladder``) and calendar, given the escalation events
    already recorded for the patch's current deadline. It is addressed to the
    chief(s) at the rung's level (``to_level``) of the patch's segment (the
    primary match), serving on ``as_of``; a segment without a chief at that level
    sends it to the next level up, and the row says so (``fallback``).

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    as_of : date or str
        The day (``YYYY-MM-DD``).

    Returns
    -------
    DataFrame
        :data:`DUE_COLUMNS`, one row per (patch, chief), ordered by rung, chief and
        patch. ``chief_id`` is empty for a patch without a segment or without any
        chief at or above the level (the notice then goes to no named chief).
        ``overdue_days`` and ``days_left`` are counted like the deadline (working
        days unless ``[calendar] count = "calendar"``).

    Raises
    ------
    SchemaError
        If ``as_of`` is not a date.
    """
    return _due(ledger, _day(as_of))[0]


def _day(as_of: dt.date | str) -> dt.date:
    try:
        return as_date(as_of)
    except ValueError:
        raise SchemaError(f"as_of {as_of!r} is not a date; give YYYY-MM-DD") from None


def _due(
    ledger: Ledger, day: dt.date, events: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The due rows, and the status frame they were taken from."""
    settings = ledger.settings
    ladder, cal = settings.ladder, settings.calendar
    frame = ledger.status_frame(as_of=day)
    deadlines = dict(zip(frame["patch_id"], frame["deadline"], strict=True))
    issued = _issued(ledger.events() if events is None else events, deadlines)
    chiefs = _serving(ledger.chiefs(), day).sort_values(["chief_id", "segment_id"])
    by_key: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for cid, name, title, level, seg in zip(
        chiefs["chief_id"], chiefs["name"], chiefs["title"], chiefs["level"],
        chiefs["segment_id"], strict=True,
    ):  # fmt: skip
        who = (str(cid), str(name), "" if is_missing(title) else str(title))
        by_key.setdefault((str(seg), str(level)), []).append(who)
    rank = {s.action: i for i, s in enumerate(ladder)}
    organs = segment_organs(ledger)
    rows = []
    for rec in frame.drop(columns="geometry").to_dict("records"):
        step = due_step(
            state=rec["state"],
            deadline=rec["deadline"],
            issued=issued.get(rec["patch_id"], ()),
            as_of=day,
            ladder=ladder,
            calendar=cal,
        )
        if step is None:
            continue
        base = _base_row(rec, step, day, cal)
        base["township_organ"] = organs.get(rec["segment_id"]) or own_organ(rec["township"])
        base["issued_before"] = ",".join(a for a in rank if a in issued.get(rec["patch_id"], ()))
        found = _addressees(by_key, rec["segment_id"], step.to_level)
        if found is None:
            rows.append(_addressed(base, "", "", "", ""))
            continue
        level, people = found
        rows.extend(_addressed(base, cid, name, title, level) for cid, name, title in people)
    out = pd.DataFrame(rows, columns=DUE_COLUMNS)
    if out.empty:
        return out, frame
    out["_rank"] = out["action"].map(rank)
    out = out.sort_values(["_rank", "chief_id", "patch_id"], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True), frame


def _base_row(
    rec: dict[str, Any], step: EscalationStep, day: dt.date, cal: WorkCalendar | None
) -> dict[str, Any]:
    """A due row without its addressee: the patch ``rec`` (a status-frame record) on ``day``."""
    deadline = dt.date.fromisoformat(str(rec["deadline"])[:10])
    left = 0
    if day < deadline:
        left = cal.between(day, deadline) if cal is not None else (deadline - day).days
    return {
        "patch_id": rec["patch_id"],
        "action": step.action,
        "step_days": step.days,
        "to_level": step.to_level,
        "state": rec["state"],
        "deadline": deadline.isoformat(),
        "overdue_days": int(rec["overdue_days"]),
        "days_left": left,
        **{k: None if is_missing(rec[k]) else rec[k] for k in _CARRIED},
    }


def _addressed(base: dict[str, Any], cid: str, name: str, title: str, level: str) -> dict:
    """``base`` addressed to a chief (all empty: to no named chief)."""
    fallback = bool(level) and level != base["to_level"]
    return {**base, "chief_id": cid, "chief_name": name, "chief_title": title,
            "chief_level": level, "fallback": fallback}  # fmt: skip


# -- documents ------------------------------------------------------------------------------


def _event_times(events: pd.DataFrame, ids: Iterable[str], day: dt.date) -> dict[str, dt.datetime]:
    """When to record each patch's notice: ``day`` 09:00, or its last event if later."""
    base = dt.datetime.combine(day, dt.time(9, 0), tzinfo=TZ)
    last = events.groupby("patch_id")["at"].last()
    out = {}
    for pid in ids:
        at = dt.datetime.fromisoformat(last[pid]) if pid in last.index else base
        out[pid] = max(base, at)
    return out


def _rebuilt(
    ledger: Ledger,
    name: str,
    events: pd.DataFrame,
    frame: pd.DataFrame,
    path: str,
    *,
    kind: str,
    history: pd.DataFrame,
    organs: dict[str, str],
) -> pd.DataFrame:
    """The due rows of a recorded notice, rebuilt from its events and ``frame``.

    ``frame`` is the status frame of the notice's day, indexed by patch id; ``kind``
    the document's kind (its rung, or a report); ``history`` every event (for the rungs
    issued before); ``organs`` the segments' township governments.
    """
    day = notice_day(name)
    events = events.drop_duplicates("patch_id", keep="last").sort_values("patch_id")
    action = str(events["action"].iloc[0])
    settings = ledger.settings
    chief = chief_of_notice(name, day, events, ledger.chiefs(), frame,
                      action if kind != REPORT else REPORT)  # fmt: skip
    if chief is None:  # the chief has left the roster: address it as the note did
        log.warning("%s: its chief is no longer in the ledger; addressed as its note says", name)
        chief = ("", addressee_in_note(str(events["note"].iloc[0]), path), "", "")
    steps = {s.action: s for s in settings.ladder}
    step = steps.get(action) or EscalationStep(action, 0, chief[3] or "county")
    rank = [s.action for s in settings.ladder]
    esc = history[history["action"].isin(ESCALATION_ACTIONS)]
    rows = []
    for pid, deadline, state, eid in zip(
        events["patch_id"], events["deadline"], events["to_state"], events["event_id"],
        strict=True,
    ):  # fmt: skip
        rec = {**frame.loc[pid].to_dict(), "deadline": deadline, "state": state}
        rec["overdue_days"] = overdue_days(deadline, state, day, calendar=settings.calendar)
        base = _base_row(rec, step, day, settings.calendar)
        base["township_organ"] = organs.get(rec["segment_id"]) or own_organ(rec["township"])
        mine = esc[
            (esc["patch_id"] == pid) & (esc["deadline"] == deadline) & (esc["event_id"] < eid)
        ]
        base["issued_before"] = ",".join(a for a in rank if a in set(mine["action"]))
        rows.append(_addressed(base, *chief))
    return pd.DataFrame(rows, columns=DUE_COLUMNS)


def escalate(
    ledger: Ledger,
    *,
    as_of: dt.date | str,
    out_dir: str | os.PathLike,
    actor: str | None = None,
    template: str | os.PathLike | None = None,
    pdf: bool | None = None,
    progress: Progress | None = None,
) -> EscalationResult:
    """Issue every escalation rung due on ``as_of``: write the notices and record the events.

    First every notice the ledger records in ``out_dir`` whose file is missing is
    written again from its events (:attr:`EscalationResult.regenerated`). Then each
    due patch gets one event (its rung's action, e.g. ``notice``), recorded at
    ``as_of`` 09:00 Asia/Shanghai (or at its last event, if that is later), and one
    HTML notice per (rung, addressed chief) is written as
    :func:`notice_file_name`; a PDF beside it when a headless Chromium is found.
    The notices are written first into a temporary folder beside ``out_dir``, the
    events are recorded in one transaction (each note names its notices' paths,
    :func:`notes_folder`), and the notices are moved into ``out_dir`` once it
    commits: a notice is never recorded without its file, nor written without its
    record. A second run on the same day finds nothing due and writes nothing.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    as_of : date or str
        The day (``YYYY-MM-DD``).
    out_dir : path-like
        Where the notices go (created if missing).
    actor : str, optional
        Who issues (recorded on the events; default the office's name).
    template : path-like, optional
        The office's own Jinja2 template (``[escalation] template``).
    pdf : bool, optional
        ``None`` (default): print PDFs if a converter is found, skip silently
        otherwise; ``False``: never; ``True``: require one.
    progress : Progress, optional
        Told how many PDFs to expect, then of each one done, printed or failed
        (:mod:`geo.progress`); not told anything when no PDF is printed.

    Returns
    -------
    EscalationResult

    Raises
    ------
    SchemaError
        If ``as_of`` is not a date.
    OutputError
        If ``out_dir`` is a file or lies under one, or a notice cannot be written
        (nothing is recorded); or, should it happen, if a recorded notice cannot be
        moved into ``out_dir`` (the next run writes it again).
    SettingsError
        If the template is missing or broken (nothing is recorded), or ``pdf=True``
        and no converter is found.
    LedgerError, HetuError
        If the events cannot be recorded (nothing is recorded, no notice is left).
    """
    day = _day(as_of)
    settings = ledger.settings
    out = Path(out_dir)
    folder = output_folder(out, what="notices")
    browser = pdf_converter(pdf)
    events = ledger.events()
    head = ledger.chain_head().code  # printed in each notice's footer (hetu verify --anchor)
    due, frame = _due(ledger, day, events)
    result = EscalationResult(as_of=day, due=due, pdf_converter=browser)
    # the status frame of each day a notice is drawn for, indexed by patch id
    frames = {day: frame.set_index("patch_id", drop=False)}
    segments = ledger.segments().set_index("segment_id")

    rule = settings.documents
    issuer = rule.issuer or settings.office_name
    seal = seal_image(rule.seal)
    seal_src = "data:image/png;base64," + base64.b64encode(seal).decode() if seal else ""
    all_chiefs = ledger.chiefs()

    def draw(rows: pd.DataFrame, when: dt.date, kind: str, doc_no: str,
             related: dict[str, str]) -> tuple[str, bytes]:  # fmt: skip
        seg_ids = [s for s in dict.fromkeys(rows["segment_id"]) if s in segments.index]
        svg = thumbnail_svg(
            list(frames[when].loc[rows["patch_id"], "geometry"]),
            list(segments.loc[seg_ids].geometry),
        )
        doc = build_notice(rows, kind=kind, as_of=when, issuer=issuer, rule=rule,
                           calendar=settings.calendar, doc_no=doc_no,
                           cc_chiefs=cc_of(_serving(all_chiefs, when), seg_ids),
                           related=related, seal=seal)  # fmt: skip
        html = render_notice(rows, as_of=when, office=settings.office_name, map_svg=svg,
                             ladder=settings.ladder, workdays=settings.calendar is not None,
                             template=template, chain_head=head, doc=doc,
                             seal_src=seal_src)  # fmt: skip
        table, headers = notice_rows(rows)
        days = GONGWEN["day_note_workdays"] if settings.calendar else GONGWEN["day_note_days"]
        note = days + (GONGWEN["chain"].format(code=head) if head else "")
        steps = {s.action: s.days for s in settings.ladder}
        word = notice_docx(
            doc,
            table,
            headers,
            note=note,
            before_deadline=steps.get(str(rows.iloc[0]["action"]), 0) < 0,
            template=rule.word_template,
        )
        return html, word

    recorded = recorded_notices(ledger, folder, events)
    missing = {n: ev for n, ev in recorded.items() if not (folder / n).is_file()}
    if missing:
        organs = segment_organs(ledger)
        known = ledger.documents()
        kinds = dict(zip(known["file"], known["kind"], strict=True))
        numbers = dict(zip(known["file"], known["doc_no"], strict=True))
        redo = []
        for name, ev in sorted(missing.items()):
            when = notice_day(name)
            if when not in frames:
                frames[when] = ledger.status_frame(as_of=when).set_index("patch_id", drop=False)
            path = os.path.join(notes_folder(ledger, folder), name)
            kind = kinds.get(name, str(ev["action"].iloc[0]))
            rows = _rebuilt(ledger, name, ev, frames[when], path, kind=kind, history=events,
                            organs=organs)  # fmt: skip
            (doc_no,) = ledger.take_numbers([(name, kind, "")], year=when.year,
                                            issued_on=when.isoformat())  # fmt: skip
            related = {}
            if kind == REPORT:
                pairs = zip(rows["patch_id"], rows["deadline"], strict=True)
                sent = notice_file_name(when, str(rows.iloc[0]["action"]),
                                        str(rows.iloc[0]["chief_id"]), pairs)  # fmt: skip
                if numbers.get(sent):
                    related = {label(ACTIONS, rows.iloc[0]["action"]): str(numbers[sent])}
            redo.append((out / name, draw(rows, when, kind, doc_no, related)))
        folder.mkdir(parents=True, exist_ok=True)
        write_notices(redo, shown=out, fix="free disk space or fix the folder, then run again")
        result.regenerated = [p for p, _ in redo]
        log.warning("%s: %d recorded notice(s) were missing and are written again",
                    out, len(redo))  # fmt: skip
    if not due.empty:
        _issue(ledger, result, draw, out=out, folder=folder, actor=actor, events=events)
    if browser is not None:
        made = [*result.regenerated, *result.documents]
        tick = expect(progress, len(made))
        printed, failed = print_pdfs(made, browser=browser, progress=tick)
        result.pdfs.extend(printed)
        result.pdf_failed.extend(failed)
    return result


def _issue(
    ledger: Ledger,
    result: EscalationResult,
    draw: Callable[..., tuple[str, bytes]],
    *,
    out: Path,
    folder: Path,
    actor: str | None,
    events: pd.DataFrame,
) -> None:
    """Number the due notices, write them into a staging folder, record them, place them.

    One notice per (rung, chief); where that chief is a county (or higher) chief and
    the rung goes to the township governments, the chief also gets a 情况报告 naming
    the 文号 sent (:func:`geo.reports.gongwen.reported`).
    """
    day, due = result.as_of, result.due
    rule = ledger.settings.documents
    where = notes_folder(ledger, folder)
    plan: list[tuple[str, str, pd.DataFrame, str]] = []  # (file, kind, rows, addressee)
    for (action, chief_id), rows in due.groupby(["action", "chief_id"], sort=False):
        pairs = list(zip(rows["patch_id"], rows["deadline"], strict=True))
        first = rows.iloc[0]
        chief = first["chief_name"] or TEXT["no_chief"]
        if first["chief_title"]:
            chief += f"（{first['chief_title']}）"
        organ = rule.addressee(str(action)) == "township" or not first["chief_name"]
        to = "、".join(dict.fromkeys(rows["township_organ"])) if organ else chief
        plan.append((notice_file_name(day, str(action), str(chief_id), pairs), str(action),
                     rows, to))  # fmt: skip
        if organ and first["chief_name"] and reported(rows):
            plan.append((notice_file_name(day, REPORT, str(chief_id), pairs), REPORT, rows, chief))
    wanted = [(n, k, to) for n, k, _, to in plan]
    numbers = ledger.take_numbers(wanted, year=day.year, issued_on=day.isoformat(), dry_run=True)
    docs: list[tuple[str, tuple[str, bytes]]] = []
    notes: dict[str, list[str]] = {}
    sent: dict[str, str] = {}
    for (name, kind, rows, to), doc_no in zip(plan, numbers, strict=True):
        related = {}
        if kind == REPORT:
            related = {label(ACTIONS, rows.iloc[0]["action"]): sent[str(rows.iloc[0]["chief_id"])]}
        else:
            sent[str(rows.iloc[0]["chief_id"])] = doc_no
        docs.append((name, draw(rows, day, kind, doc_no, related)))
        for pid in rows["patch_id"]:
            notes.setdefault(pid, []).append(f"{to} {os.path.join(where, name)}（{doc_no}）")
    steps = due.drop_duplicates("patch_id").set_index("patch_id")["action"]
    times = _event_times(events, steps.index, day)
    who = actor or ledger.settings.office_name
    changes = [
        Change(pid, (), actor=who, at=times[pid], action=action,
               note=f"{label(ACTIONS, action)}: " + "; ".join(notes[pid]))
        for pid, action in steps.items()
    ]  # fmt: skip
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with staging_folder(folder, prefix=".hetu-notices-") as stage:
            write_notices(
                [(stage / n, pair) for n, pair in docs],
                shown=out,
                fix="nothing was recorded; free disk space or choose another folder with -o",
            )
            ledger.take_numbers(wanted, year=day.year, issued_on=day.isoformat(),
                                expect=numbers)  # fmt: skip
            problems = ledger.apply_changes(changes)
            if problems:
                raise problems[0].error
            recorded = recorded_notices(ledger, folder)
            placed = _place(stage, folder, [n for n, _ in docs], recorded)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty
        raise
    last = events["event_id"].max() if len(events) else 0
    result.events = len({e for n in placed for e in recorded[n]["event_id"] if e > last})
    result.documents = [out / n for n in placed]
    log.info("escalation %s: %d events, %d notices", day, result.events, len(placed))


def _place(stage: Path, folder: Path, names: list[str], recorded: dict[str, Any]) -> list[str]:
    """Move the recorded notices from ``stage`` into ``folder``; return their names."""
    placed, late = [], []
    for name in names:
        if name not in recorded:  # another run recorded these patches first
            log.info("%s: not recorded by this run (issued concurrently); not written", name)
            continue
        try:
            move_into_place(stage / name, folder / name)
            docx = Path(name).with_suffix(".docx").name
            move_into_place(stage / docx, folder / docx)
        except OSError as exc:
            late.append(f"{name} ({exc.strerror or type(exc).__name__})")
            continue
        placed.append(name)
    if late:
        raise OutputError(
            f"{len(late)} notice(s) are recorded but could not be moved into {folder}: "
            f"{', '.join(late)}; fix the folder and run escalate again, which writes every "
            "recorded notice that is missing"
        )
    return placed
