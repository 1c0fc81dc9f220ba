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
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.clock import TZ, as_date
from geo.errors import SchemaError
from geo.fileio import write_atomic
from geo.labels import ACTIONS, LEVELS, TEXT, label
from geo.ledger.changes import Change
from geo.ledger.store import Ledger
from geo.policy.lifecycle import ESCALATION_ACTIONS, due_step
from geo.progress import Progress, expect
from geo.records import is_missing
from geo.reports.documents import render_notice, thumbnail_svg
from geo.reports.pdf import pdf_converter, print_pdfs

__all__ = [
    "DUE_COLUMNS",
    "EscalationResult",
    "due_escalations",
    "escalate",
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
]
#: Status-frame columns carried into each due row as they are.
_CARRIED = DUE_COLUMNS[DUE_COLUMNS.index("issue_type") :]
_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]+")


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
        HTML notices written, one per (rung, chief).
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
    """Chiefs whose term covers ``day`` (missing term dates count as open)."""
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


def _due(ledger: Ledger, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The due rows, and the status frame they were taken from."""
    settings = ledger.settings
    ladder, cal = settings.ladder, settings.calendar
    frame = ledger.status_frame(as_of=day)
    deadlines = dict(zip(frame["patch_id"], frame["deadline"], strict=True))
    issued = _issued(ledger.events(), deadlines)
    chiefs = _serving(ledger.chiefs(), day).sort_values(["chief_id", "segment_id"])
    by_key: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for cid, name, title, level, seg in zip(
        chiefs["chief_id"], chiefs["name"], chiefs["title"], chiefs["level"],
        chiefs["segment_id"], strict=True,
    ):  # fmt: skip
        who = (str(cid), str(name), "" if is_missing(title) else str(title))
        by_key.setdefault((str(seg), str(level)), []).append(who)
    rank = {s.action: i for i, s in enumerate(ladder)}
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
        deadline = dt.date.fromisoformat(str(rec["deadline"])[:10])
        left = 0
        if day < deadline:
            left = cal.between(day, deadline) if cal is not None else (deadline - day).days
        base = {
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
        found = _addressees(by_key, rec["segment_id"], step.to_level)
        if found is None:
            rows.append({**base, "chief_id": "", "chief_name": "", "chief_title": "",
                         "chief_level": "", "fallback": False})  # fmt: skip
            continue
        level, people = found
        for cid, name, title in people:
            rows.append({**base, "chief_id": cid, "chief_name": name, "chief_title": title,
                         "chief_level": level, "fallback": level != step.to_level})  # fmt: skip
    out = pd.DataFrame(rows, columns=DUE_COLUMNS)
    if out.empty:
        return out, frame
    out["_rank"] = out["action"].map(rank)
    out = out.sort_values(["_rank", "chief_id", "patch_id"], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True), frame


# -- the map thumbnail ----------------------------------------------------------------------


# -- documents ------------------------------------------------------------------------------


def _file_name(day: dt.date, action: str, chief_id: str) -> str:
    who = _UNSAFE.sub("_", chief_id).strip("_") or "unassigned"
    return f"{day.isoformat()}_{action}_{who}.html"


def _event_times(ledger: Ledger, ids: Iterable[str], day: dt.date) -> dict[str, dt.datetime]:
    """When to record each patch's notice: ``day`` 09:00, or its last event if later."""
    base = dt.datetime.combine(day, dt.time(9, 0), tzinfo=TZ)
    events = ledger.events()
    last = events.groupby("patch_id")["at"].last()
    out = {}
    for pid in ids:
        at = dt.datetime.fromisoformat(last[pid]) if pid in last.index else base
        out[pid] = max(base, at)
    return out


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
    """Issue every escalation rung due on ``as_of``: record the events and write the notices.

    Each due patch gets one event (its rung's action, e.g. ``notice``), recorded
    at ``as_of`` 09:00 Asia/Shanghai (or at its last event, if that is later), all
    in one transaction: every event is written or none. Then one HTML notice per
    (rung, addressed chief) is written to ``out_dir`` as
    ``<as_of>_<action>_<chief_id>.html`` (atomically), and a PDF beside it when a
    headless Chromium is found. A second run on the same day finds nothing due
    and writes nothing.

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
    SettingsError
        If the template is missing or broken (nothing is recorded), or ``pdf=True``
        and no converter is found.
    LedgerError, HetuError
        If the events cannot be recorded (nothing is recorded).
    """
    day = _day(as_of)
    settings = ledger.settings
    who = actor or settings.office_name
    out = Path(out_dir)
    browser = pdf_converter(pdf)
    due, frame = _due(ledger, day)
    result = EscalationResult(as_of=day, due=due, pdf_converter=browser)
    if due.empty:
        return result

    status = frame.set_index("patch_id")
    segments = ledger.segments().set_index("segment_id")
    docs: list[tuple[Path, str]] = []
    notes: dict[str, list[str]] = {}
    for (action, chief_id), rows in due.groupby(["action", "chief_id"], sort=False):
        name = _file_name(day, str(action), str(chief_id))
        seg_ids = [s for s in dict.fromkeys(rows["segment_id"]) if s in segments.index]
        svg = thumbnail_svg(
            list(status.loc[rows["patch_id"], "geometry"]),
            list(segments.loc[seg_ids].geometry),
        )
        html = render_notice(
            rows,
            as_of=day,
            office=settings.office_name,
            map_svg=svg,
            ladder=settings.ladder,
            workdays=settings.calendar is not None,
            template=template,
        )
        docs.append((out / name, html))
        first = rows.iloc[0]
        to = first["chief_name"] or TEXT["no_chief"]
        if first["chief_title"]:
            to += f"（{first['chief_title']}）"
        for pid in rows["patch_id"]:
            notes.setdefault(pid, []).append(f"{to} {name}")

    steps = due.drop_duplicates("patch_id").set_index("patch_id")["action"]
    times = _event_times(ledger, steps.index, day)
    changes = [
        Change(pid, (), actor=who, at=times[pid], action=action,
               note=f"{label(ACTIONS, action)}: " + "; ".join(notes[pid]))
        for pid, action in steps.items()
    ]  # fmt: skip
    problems = ledger.apply_changes(changes)
    if problems:
        raise problems[0].error
    result.events = len(changes)
    log.info("escalation %s: %d events, %d notices", day, len(changes), len(docs))

    out.mkdir(parents=True, exist_ok=True)
    for path, html in docs:
        write_atomic(path, html.encode("utf-8"))
        result.documents.append(path)
    if browser is not None:
        tick = expect(progress, len(docs))
        printed, failed = print_pdfs([p for p, _ in docs], browser=browser, progress=tick)
        result.pdfs.extend(printed)
        result.pdf_failed.extend(failed)
    return result
