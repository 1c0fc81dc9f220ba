"""Plain values of the ledger: content hashes, the hash chain's link, import records.

Shared by the ingest readers (which fill an :class:`ImportRecord`) and the
ledger (which stores it); times come from :mod:`geo.clock`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Canonical patch columns (docs/architecture.md, Data model), geometry aside.
PATCH_COLUMNS = [
    "patch_id",
    "batch_id",
    "issue_type",
    "admin_code",
    "detected_on",
    "issued_on",
    "area_m2",
    "source_area",
    "description",
    "attrs",
]


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


def _json_plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


#: Compact JSON of the hash chain and of row digests (one encoder each: ``json.dumps`` with
#: options builds an encoder per call, which ``hetu verify`` would pay once per row).
_EVENT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
_CONTENT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_plain)


def event_hash(prev: str | None, row: Sequence[Any], *, key: bytes | None = None) -> str:
    """Return the hash chaining one event to the previous event's hash.

    With ``key`` (the office's chain key) the hash is an HMAC-SHA256, which only a
    holder of the key can make.
    """
    payload = _EVENT_JSON.encode([prev, *row]).encode("utf-8")
    if key is not None:
        return hmac.new(key, payload, hashlib.sha256).hexdigest()
    return hashlib.sha256(payload).hexdigest()


def content_digest(values: Sequence[Any]) -> str:
    """Return the sha256 of a row's canonical content (the ledger's integrity check).

    The values are written as compact JSON (text as UTF-8, bytes as hex, floats
    as Python writes them), so the same row read from a GeoPackage or from
    PostGIS gives the same digest.
    """
    return hashlib.sha256(_CONTENT_JSON.encode(list(values)).encode("utf-8")).hexdigest()


def is_missing(value: Any) -> bool:
    """Return True for ``None``, NaN, NaT and pandas' missing values (a text is never missing)."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def attr_value(attrs: object, keys: Sequence[str]) -> str | None:
    """The first non-blank value of ``keys`` in a row's extra columns (``attrs``), or None.

    ``attrs`` is the JSON text (or dict) readers keep unknown columns in; headers are
    compared as :func:`geo.text.normalise_header` makes them (case, width, blanks).
    """
    from geo.text import normalise_header

    if isinstance(attrs, dict):
        data = attrs
    elif is_missing(attrs) or not str(attrs).strip():
        return None
    else:
        try:
            data = json.loads(str(attrs))
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
    named = {normalise_header(str(k)): v for k, v in data.items()}
    for key in map(normalise_header, keys):
        value = named.get(key)
        if not is_missing(value) and str(value).strip():
            return str(value).strip()
    return None


def none_if_nan(value: Any) -> Any:
    """Return ``None`` for NaN, NaT and pandas missing values, else the value."""
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NaT or (not isinstance(value, str | bytes) and pd.isna(value) is True):
        return None
    return value


def record_as_dict(record: ImportRecord) -> dict[str, Any]:
    """Return an import record as a plain dict (for JSON output)."""
    return asdict(record)
