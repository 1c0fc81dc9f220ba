"""The notices of the ladder as files: their names, where the ledger says they are, writing them.

A notice is never recorded without its file (:mod:`geo.reports.escalation`). Its file
name keeps Chinese, is bounded and unique (:func:`notice_file_name`: day, rung, chief
and a hash of the patches and deadlines chased); each escalation event's note names
the notices it was sent with by path, relative to a GeoPackage ledger's folder
(:func:`notes_folder`), so :func:`recorded_notices` finds in the history which files
an output folder must hold, and :func:`chief_of_notice` which chief a recorded notice
went to. :func:`write_notices` writes a notice's HTML and .docx atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import OutputError
from geo.fileio import write_atomic
from geo.ledger.store import Ledger
from geo.policy.lifecycle import ESCALATION_ACTIONS
from geo.records import is_missing
from geo.reports.documents import bounded_name

__all__ = [
    "addressee_in_note",
    "chief_of_notice",
    "notes_folder",
    "notice_day",
    "notice_file_name",
    "recorded_notices",
    "write_notices",
]


def notice_file_name(
    day: dt.date, action: str, chief_id: str, patches: Iterable[tuple[str, Any]]
) -> str:
    """Return the file name of one notice: ``<day>_<action>_<chief id>_<hash>.html``.

    Parameters
    ----------
    day : date
        The day escalated.
    action : str
        The rung (``notice`` …).
    chief_id : str
        The addressed chief (empty: no named chief, shown as ``unassigned``).
    patches : iterable of (str, str)
        The notice's patches with the deadline each was chased for.

    Returns
    -------
    str
        Chinese kept, cut to a bounded length (:func:`geo.reports.documents.bounded_name`);
        the 8-digit hash of (day, rung, chief, patches and deadlines) makes it unique.
    """
    pairs = sorted((str(p), "" if is_missing(d) else str(d)[:10]) for p, d in patches)
    key = json.dumps([day.isoformat(), action, chief_id, pairs], ensure_ascii=False)
    return bounded_name(f"{day.isoformat()}_{action}_{chief_id or 'unassigned'}", key=key)


def notes_folder(ledger: Ledger, folder: str | os.PathLike) -> str:
    """Return how an escalation event's note names the notices' folder.

    Relative to a GeoPackage ledger's folder (``notices``, ``../公文/notices``), so
    the history does not depend on where the office keeps the two and they may
    move together; absolute for a PostGIS ledger (or another drive).
    """
    target = os.path.abspath(folder)
    if ledger.path is None:
        return target
    try:
        return os.path.relpath(target, os.path.dirname(os.path.abspath(ledger.path)))
    except ValueError:  # another drive (Windows)
        return target


def recorded_notices(
    ledger: Ledger, folder: str | os.PathLike, events: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Return the notices the ledger says were written into ``folder``, with their events.

    Each escalation event's note names the notices it was sent with, by their path
    (``<rung>: <chief> <folder>/<file>; …``, the folder as :func:`notes_folder`).

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    folder : path-like
        The output folder.
    events : DataFrame, optional
        :meth:`Ledger.events`, if already read.

    Returns
    -------
    dict
        File name → the escalation events (rows of ``events``) that name it.
    """
    events = ledger.events() if events is None else events
    prefix = re.escape(os.path.join(notes_folder(ledger, folder), ""))
    found = re.compile(r"(?<= )" + prefix + r"([^\s;/\\]+\.html)")
    esc = events[events["action"].isin(ESCALATION_ACTIONS) & events["note"].notna()]
    where: dict[str, list[Any]] = {}
    for idx, note in zip(esc.index, esc["note"], strict=True):
        for name in found.findall(str(note)):
            where.setdefault(name, []).append(idx)
    return {name: esc.loc[idx] for name, idx in where.items()}


def chief_of_notice(
    name: str,
    day: dt.date,
    events: pd.DataFrame,
    chiefs: pd.DataFrame,
    frame: pd.DataFrame,
    kind: str,
) -> tuple[str, str, str, str] | None:
    """The (id, name, title, level) of the chief a recorded notice went to, found by its name."""
    pairs = list(zip(events["patch_id"], events["deadline"], strict=True))
    for cid in ["", *dict.fromkeys(chiefs["chief_id"].astype(str))]:
        if notice_file_name(day, kind, cid, pairs) != name:
            continue
        if not cid:
            return "", "", "", ""
        mine = chiefs[chiefs["chief_id"].astype(str) == cid]
        segs = set(frame.loc[list(events["patch_id"]), "segment_id"])
        on = mine[mine["segment_id"].isin(segs)]
        row = (on if len(on) else mine).iloc[0]
        title = "" if is_missing(row["title"]) else str(row["title"])
        return cid, str(row["name"]), title, str(row["level"])
    return None


def addressee_in_note(note: str, path: str) -> str:
    """The addressee written before ``path`` in an escalation event's note."""
    end = note.find(f" {path}")
    start = note.rfind("; ", 0, end)
    start = start + 2 if start >= 0 else note.find(": ") + 2
    return note[start:end] if end > 0 else ""


def notice_day(name: str) -> dt.date:
    """The day a notice was issued, from its file name (:func:`notice_file_name`)."""
    return dt.date.fromisoformat(name[:10])


def write_notices(docs: list[tuple[Path, tuple[str, bytes]]], *, shown: Path, fix: str) -> None:
    """Write each document (HTML and its .docx) atomically; a failure is one OutputError.

    The message names the notice as it would be in ``shown``, the reason, and ``fix``.
    """
    for path, (html, word) in docs:
        try:
            write_atomic(path, html.encode("utf-8"))
            write_atomic(path.with_suffix(".docx"), word)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise OutputError(
                f"cannot write the notice {shown / path.name} ({reason}); {fix}"
            ) from exc
