"""Loading what an office receives into the ledger: read, decide, write in one transaction.

The readers (:mod:`geo.ingest`) return canonical frames with their import
record; :func:`ingest_file` reads a file with them and hands the frame to the
ledger. Ingesting the same file twice changes nothing; a file of which nothing can be
kept is refused (nothing written), naming its quarantine reasons. :func:`quarantine_report`
lists what earlier ingests kept aside, and :func:`reason_counts` groups the reasons.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from geo.errors import IngestError
from geo.ingest.admin import admin_areas_from_file
from geo.ingest.chiefs import refused, unknown_segments
from geo.ingest.problems import problems_from_file
from geo.ingest.profiles import Profile
from geo.ingest.readers import (
    KINDS,
    chiefs_from_file,
    patches_from_file,
    segments_from_file,
    source_sha256,
)
from geo.ingest.tabular import TABLE_SUFFIXES, table_row
from geo.ingest.tracks import surveys_from_file, unmatched_surveyors
from geo.ledger.store import Ledger
from geo.progress import Progress, expect
from geo.records import ImportRecord, attr_value
from geo.settings import Settings

__all__ = ["KINDS", "ingest_file", "quarantine_report", "reason_counts"]

log = logging.getLogger(__name__)
#: Where a reason says which row or feature it is about (left out when grouping).
_WHERE = re.compile(r"^(?:row|feature) \d+, ")


def reason_counts(reasons: Iterable[str]) -> dict[str, int]:
    """Group quarantine reasons, most frequent first; ``row N, `` in front is left out.

    Parameters
    ----------
    reasons : iterable of str
        One reason per quarantined feature.

    Returns
    -------
    dict
        Reason -> how many features gave it.
    """
    return dict(Counter(_WHERE.sub("", str(r)) for r in reasons).most_common())


def _kept_nothing(rec: ImportRecord, quarantine: pd.DataFrame, *, source: str) -> IngestError:
    if not rec.n_read:
        return IngestError(f"{source}: the file holds no {rec.kind}; nothing was written")
    grouped = reason_counts(quarantine["reason"]) if len(quarantine) else {}
    why = "; ".join(f"{n} × {reason}" for reason, n in grouped.items())
    return IngestError(
        f"{source}: {rec.n_read} read, none kept; nothing was written. "
        f"Quarantine reasons: {why or 'none given'}"
    )


def _record(frame: pd.DataFrame, *, source: str = "") -> tuple[ImportRecord, pd.DataFrame]:
    """The import record and quarantine of a frame; with ``source``, refuse an empty frame."""
    meta = frame.attrs.get("hetu", {})
    rec = ImportRecord(**meta["record"])
    quarantine = pd.DataFrame(meta.get("quarantine", []))
    if source and not len(frame):
        raise _kept_nothing(rec, quarantine, source=source)
    return rec, quarantine


def _at_once(
    progress: Progress | None, rec: ImportRecord, write: Callable[[], ImportRecord]
) -> ImportRecord:
    """Run ``write``, then tell ``progress`` that all ``rec.n_read`` features are done."""
    tick = expect(progress, rec.n_read)
    done = write()
    tick(rec.n_read)
    return done


def ingest_file(
    ledger: Ledger,
    kind: str,
    path: str | os.PathLike,
    *,
    batch_id: str | None = None,
    issued_on: str | dt.date | None = None,
    verify_by: str | dt.date | None = None,
    settings: Settings | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    layer: str | int | None = None,
    source_crs: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    sheet: str | int | None = None,
    profile: Profile | str | os.PathLike | None = None,
    surveyor: str | None = None,
    point_area: str | float | None = None,
    point_buffer: float | None = None,
    progress: Progress | None = None,
    source: str | None = None,
    header_row: int | None = None,
) -> ImportRecord:
    """Read a file and load it into the ledger in one transaction.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    kind : str
        One of :data:`KINDS`.
    path : path-like
        The file.
    batch_id : str, optional
        For patches: the batch (default the file name).
    issued_on : str or date, optional
        For patches: the batch's issue date, where the file gives none.
    verify_by : str or date, optional
        For patches: the batch's 核查 deadline (default ``[lifecycle] verify_days``
        from each patch's issue day).
    settings : Settings, optional
        Default the ledger's settings.
    encoding, crs, layer, source_crs, x_col, y_col : optional
        Reader overrides (:func:`read_layer`).
    sheet : str or int, optional
        For Excel: the sheet; default the first with the columns ``kind`` needs (the choice
        is a decision of the record).
    profile : dict or path-like, optional
        Alias profile or its TOML file; default the settings' ``ingest_profile``
        when the settings have one, else :data:`DEFAULT_PROFILE`.
    surveyor : str, optional
        For surveys: who walked them, overriding what the file says.
    point_area, point_buffer : optional
        For patches given as points: circles of this area (m², or the column holding it)
        or radius (m) (:func:`geo.ingest.points.circles_from_points`).
    source : str, optional
        For problems: the source of every case (``12345``, ``举报``, ``暗访`` …); default
        each row's 来源 (:func:`geo.ingest.problems.problems_from_file`).
    header_row : int, optional
        For a CSV or Excel table: the row (from 1, as Excel counts) holding the column
        names, where the search (the row among the first 20 holding most of the names
        ``kind`` knows; titles above it passed over) is wrong.
    progress : Progress, optional
        Told, once the file is read, how many features it holds (:func:`geo.progress.expect`),
        then the features done: quarantined ones at once, patches per chunk written, other
        kinds when written (:mod:`geo.progress`).

    Returns
    -------
    ImportRecord
        What was read, decided and kept; ``reused`` when this exact file was
        ingested before (nothing is written then).

    Raises
    ------
    IngestError
        When nothing of a patches, ranges or chiefs file can be kept (its quarantine
        reasons grouped, with counts); nothing is written.
    SchemaError
        For chiefs naming segments the ledger lacks (every such row), once it has segments.
    """
    if kind not in (*KINDS, "problems"):
        raise IngestError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}, problems")
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    earlier = ledger.find_import(kind, source_sha256(p))
    if earlier is not None and (earlier.n_kept or not earlier.n_read):
        return earlier  # one that kept nothing (before such files were refused) is retried
    settings = settings or ledger.settings
    profile = profile if profile is not None else getattr(settings, "ingest_profile", None)
    opts = {"encoding": encoding, "crs": crs, "layer": layer, "settings": settings,
            "source_crs": source_crs, "x_col": x_col, "y_col": y_col, "sheet": sheet,
            "profile": profile, "header_row": header_row}  # fmt: skip
    if kind == "patches":
        frame = patches_from_file(
            p, batch_id=batch_id, issued_on=issued_on, point_area=point_area,
            point_buffer=point_buffer, **opts,
        )  # fmt: skip
        rec, quarantine = _record(frame, source=p.name)
        tick = expect(progress, rec.n_read)
        tick(rec.n_read - len(frame))
        return ledger.add_patches(
            frame, rec, quarantine=quarantine, progress=tick, verify_by=verify_by
        )
    if kind == "problems":  # cases of 12345, 举报, 暗访 …: patches with their source's clock
        frame = problems_from_file(
            p, source=source, batch_id=batch_id, settings=settings, sheet=sheet,
            encoding=encoding, crs=crs, layer=layer, source_crs=source_crs, header_row=header_row,
        )  # fmt: skip
        rec, quarantine = _record(frame, source=p.name)
        due = {pid: attr_value(a, ("close_by",)) for pid, a in zip(
            frame["patch_id"], frame["attrs"], strict=True)}  # fmt: skip
        return _at_once(
            progress, rec,
            lambda: ledger.add_patches(frame, rec, quarantine=quarantine, deadlines=due),
        )  # fmt: skip
    if kind == "ranges":
        frame = segments_from_file(p, **opts)
        rec, quarantine = _record(frame, source=p.name)
        return _at_once(
            progress, rec, lambda: ledger.add_segments(frame, rec, quarantine=quarantine)
        )
    if kind == "chiefs":
        frame = chiefs_from_file(
            p, sheet=sheet, encoding=encoding, profile=profile, header_row=header_row
        )
        rec, quarantine = _record(frame, source=p.name)
        _check_segments(ledger, frame, rec, source=p.name)
        return _at_once(progress, rec, lambda: ledger.add_chiefs(frame, rec))
    if kind == "admin":
        opts = {k: v for k, v in opts.items() if k not in ("x_col", "y_col", "sheet", "header_row")}
        frame = admin_areas_from_file(p, **opts)
        rec, quarantine = _record(frame, source=p.name)
        return _at_once(
            progress, rec, lambda: ledger.add_admin_areas(frame, rec, quarantine=quarantine)
        )
    tracks, findings = surveys_from_file(
        p, surveyor=surveyor, crs=crs, x_col=x_col, y_col=y_col, sheet=sheet,
        encoding=encoding, central_meridian=settings.central_meridian, source_crs=source_crs,
        extent=settings.extent, header_row=header_row,
    )  # fmt: skip
    rec, _ = _record(tracks)
    strangers = unmatched_surveyors(tracks, ledger.chiefs())
    if strangers:
        rec.decisions.append(
            f"surveyor(s) {', '.join(strangers)} match no chief's name: these patrols count for "
            "no chief; correct the name in the patrol app or in the chiefs' list"
        )
    return _at_once(progress, rec, lambda: ledger.add_surveys(tracks, findings, rec))


def _check_segments(
    ledger: Ledger, chiefs: pd.DataFrame, rec: ImportRecord, *, source: str
) -> None:
    """Refuse chiefs on segments the ledger lacks (all such rows named); note an unchecked list."""
    known = set(ledger.segments()["segment_id"])
    if not known:
        note = (
            "the ledger has no segments yet: the chiefs' segment ids were not checked; "
            "ingest the ranges first"
        )
        log.warning("%s: %s", source, note)
        rec.decisions.append(note)
        return
    bad = unknown_segments(chiefs, known, named=chiefs.attrs["hetu"].get("fields", {}))
    if bad:
        raise refused(
            source, bad, what="row(s) name a segment the ledger lacks",
            fix="Correct the segment ids (as in the ranges file), or ingest the ranges that "
            "hold them first",
        )  # fmt: skip


def quarantine_report(
    ledger: Ledger, *, batch_id: str | None = None, import_id: int | None = None
) -> pd.DataFrame:
    """List the features kept aside at ingest, with the file and row each came from.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    batch_id : str, optional
        Only the quarantine of this patch batch.
    import_id : int, optional
        Only that of this import.

    Returns
    -------
    DataFrame
        ``import_id, kind, file, batch_id, row, feature_id, reason, imported_at``, in the
        order they were kept aside; ``row`` is the spreadsheet row of a CSV or Excel file
        (as Excel shows it, whichever row the header was in), else the feature's number
        from 1.

    Raises
    ------
    IngestError
        When ``batch_id`` names no batch of the ledger.
    """
    imports = ledger.imports()
    if batch_id is not None and batch_id not in set(imports["batch_id"].dropna()):
        batches = ", ".join(sorted(imports["batch_id"].dropna().unique())) or "none"
        raise IngestError(f"no batch {batch_id!r} in the ledger; its batches: {batches}")
    rows = ledger.quarantined().merge(
        imports[["import_id", "kind", "file", "batch_id", "imported_at"]], on="import_id"
    )
    if batch_id is not None:
        rows = rows[rows["batch_id"] == batch_id]
    if import_id is not None:
        rows = rows[rows["import_id"] == import_id]
    table = rows["file"].str.lower().str.endswith(TABLE_SUFFIXES)
    rows = rows.assign(
        row=[
            table_row(int(r)) if t else int(r) + 1 for r, t in zip(rows["row"], table, strict=True)
        ]
    )
    cols = ["import_id", "kind", "file", "batch_id", "row", "feature_id", "reason", "imported_at"]
    return rows[cols].reset_index(drop=True)
