"""Plain values of the ledger: times in Asia/Shanghai, content hashes, import records.

Kept apart from :mod:`geo.store` (which re-exports them) so that the store
module holds the ledger itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """Return the current time in Asia/Shanghai, to the second."""
    return dt.datetime.now(TZ).replace(microsecond=0)


def as_time(value: dt.datetime | dt.date | str | None) -> str:
    """Normalise a time to ISO-8601 with the +08:00 offset (naive means Asia/Shanghai)."""
    if value is None:
        return now().isoformat()
    if isinstance(value, str):
        value = (
            dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
        )
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(9, 0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=TZ)
    return value.astimezone(TZ).replace(microsecond=0).isoformat()


def file_sha256(path: str | os.PathLike) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class ImportRecord:
    """What one ingest read, decided and kept (a row of the ``imports`` table).

    Attributes
    ----------
    kind : str
        ``patches``, ``ranges``, ``chiefs`` or ``surveys``.
    file : str
        The file read.
    sha256 : str
        Its content hash; the same file ingested twice changes nothing.
    batch_id : str or None
        The batch, for patches.
    encoding : str
        The text encoding used, and why.
    crs : str
        The CRS used, and why.
    decisions : list of str
        Every other assumption made (field aliases, repairs).
    n_read, n_kept, n_quarantined : int
        Feature counts.
    import_id : int or None
        Set once written.
    imported_at : str
        When.
    reused : bool
        True when the file had been ingested before and nothing was written.
    """

    kind: str
    file: str
    sha256: str
    batch_id: str | None = None
    encoding: str = ""
    crs: str = ""
    decisions: list[str] = field(default_factory=list)
    n_read: int = 0
    n_kept: int = 0
    n_quarantined: int = 0
    import_id: int | None = None
    imported_at: str = ""
    reused: bool = False


def _event_hash(prev: str | None, row: Sequence[Any]) -> str:
    payload = json.dumps([prev, *row], ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _none_if_nan(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NaT or (not isinstance(value, str | bytes) and pd.isna(value) is True):
        return None
    return value
