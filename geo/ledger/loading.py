"""Loading what an office receives into the ledger: read, decide, write in one transaction.

The readers (:mod:`geo.ingest`) return canonical frames with their import
record; :func:`ingest_file` reads a file with them and hands the frame to the
ledger. Ingesting the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from geo.errors import IngestError
from geo.ingest.profiles import Profile
from geo.ingest.readers import (
    KINDS,
    chiefs_from_file,
    patches_from_file,
    segments_from_file,
    source_sha256,
)
from geo.ingest.tracks import surveys_from_file, unmatched_surveyors
from geo.ledger.store import Ledger
from geo.progress import Progress, expect
from geo.records import ImportRecord
from geo.settings import Settings

__all__ = ["KINDS", "ingest_file"]


def _record(frame: pd.DataFrame) -> tuple[ImportRecord, pd.DataFrame]:
    meta = frame.attrs.get("hetu", {})
    rec = ImportRecord(**meta["record"])
    return rec, pd.DataFrame(meta.get("quarantine", []))


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
    settings: Settings | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    layer: str | int | None = None,
    source_crs: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    sheet: str | int = 0,
    profile: Profile | str | os.PathLike | None = None,
    surveyor: str | None = None,
    progress: Progress | None = None,
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
    settings : Settings, optional
        Default the ledger's settings.
    encoding, crs, layer, source_crs, x_col, y_col, sheet : optional
        Reader overrides (:func:`read_layer`).
    profile : dict or path-like, optional
        Alias profile or its TOML file; default the settings' ``ingest_profile``
        when the settings have one, else :data:`DEFAULT_PROFILE`.
    surveyor : str, optional
        For surveys: who walked them, overriding what the file says.
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
    SchemaError
        For ranges with segments that have no usable polygon (listed), until
        the ledger can keep quarantined segments.
    """
    if kind not in KINDS:
        raise IngestError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    earlier = ledger.find_import(kind, source_sha256(p))
    if earlier is not None:
        return earlier
    settings = settings or ledger.settings
    profile = profile if profile is not None else getattr(settings, "ingest_profile", None)
    opts = {"encoding": encoding, "crs": crs, "layer": layer, "settings": settings,
            "source_crs": source_crs, "x_col": x_col, "y_col": y_col, "sheet": sheet,
            "profile": profile}  # fmt: skip
    if kind == "patches":
        frame = patches_from_file(p, batch_id=batch_id, issued_on=issued_on, **opts)
        rec, quarantine = _record(frame)
        tick = expect(progress, rec.n_read)
        tick(rec.n_read - len(frame))
        return ledger.add_patches(frame, rec, quarantine=quarantine, progress=tick)
    if kind == "ranges":
        frame = segments_from_file(p, **opts)
        rec, quarantine = _record(frame)
        return _at_once(
            progress, rec, lambda: ledger.add_segments(frame, rec, quarantine=quarantine)
        )
    if kind == "chiefs":
        frame = chiefs_from_file(p, sheet=sheet, encoding=encoding, profile=profile)
        rec, _ = _record(frame)
        return _at_once(progress, rec, lambda: ledger.add_chiefs(frame, rec))
    tracks, findings = surveys_from_file(
        p, surveyor=surveyor, crs=crs, x_col=x_col, y_col=y_col, sheet=sheet,
        encoding=encoding, central_meridian=settings.central_meridian, source_crs=source_crs,
    )  # fmt: skip
    rec, _ = _record(tracks)
    strangers = unmatched_surveyors(tracks, ledger.chiefs())
    if strangers:
        rec.decisions.append(
            f"surveyor(s) {', '.join(strangers)} match no chief's name: these patrols count for "
            "no chief; correct the name in the patrol app or in the chiefs' list"
        )
    return _at_once(progress, rec, lambda: ledger.add_surveys(tracks, findings, rec))
