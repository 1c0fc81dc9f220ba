"""The chain of responsibility: patch → range → segment → chiefs, and the administrative area.

:func:`responsible_chain` turns a matching result into whose desk each patch
lands on: the segment's water and name, a chief column per level present in
:data:`geo.labels.LEVELS` (province, city, county, township, village; empty
when the office has no chief at that level), and the administrative area — the
patch's own code when the batch gives a township or village code (9 or 12
digits), else the code of the segment it was matched to.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.errors import SchemaError
from geo.ledger.chiefs import CHIEF_COLUMNS, chief_chain

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

log = logging.getLogger(__name__)

#: Columns :func:`responsible_chain` adds to the matching result.
CHAIN_COLUMNS = ["water_name", "segment_name", "admin_code", "admin_source"]
CHAIN_COLUMNS += ["township_code", "village_code", *CHIEF_COLUMNS]


def responsible_chain(
    matches: pd.DataFrame,
    segments: pd.DataFrame,
    chiefs: pd.DataFrame,
    *,
    patches: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Add the segment, the chiefs of every level and the administrative area to a match.

    Parameters
    ----------
    matches : DataFrame
        A result of :func:`geo.matching.core.match_patches` with ``id_column="segment_id"``
        (or the ledger's assignments); every row is kept, so a patch that
        straddles two segments names both chains, the primary one first.
    segments : DataFrame
        ``segment_id`` with ``water_name``, ``segment_name``, ``admin_code`` where known.
    chiefs : DataFrame
        As for :func:`chief_chain`.
    patches : DataFrame, optional
        ``patch_id, admin_code``: the code the batch gives each patch.

    Returns
    -------
    DataFrame
        ``matches``' columns plus :data:`CHAIN_COLUMNS`. ``admin_source`` is
        ``patch``, ``segment`` or empty; ``township_code`` is the first 9
        digits and ``village_code`` the 12 when the code has them.
    """
    for frame, col, name in (
        (matches, "segment_id", "matches"),
        (segments, "segment_id", "segments"),
    ):
        if col not in frame.columns:
            raise SchemaError(f"{name} need a {col!r} column; found {list(frame.columns)}")
    segs = pd.DataFrame({"segment_id": segments["segment_id"].astype(str)})
    for col in ("water_name", "segment_name", "admin_code"):
        segs[col] = segments[col].to_numpy() if col in segments.columns else None
    segs = segs.rename(columns={"admin_code": "_segment_code"}).drop_duplicates("segment_id")
    out = matches.copy()
    out["_sid"] = out["segment_id"].astype(object).where(out["segment_id"].notna(), None)
    out = out.merge(segs.rename(columns={"segment_id": "_sid"}), on="_sid", how="left")
    out = out.merge(
        chief_chain(chiefs).rename(columns={"segment_id": "_sid"}), on="_sid", how="left"
    )
    for col in CHIEF_COLUMNS:
        out[col] = out[col].fillna("")
    own = pd.Series(None, index=out.index, dtype=object)
    if patches is not None and "admin_code" in patches.columns:
        codes = dict(zip(patches["patch_id"].astype(str), patches["admin_code"], strict=False))
        own = out["patch_id"].astype(str).map(codes)
    own = own.where(own.fillna("").astype(str).str.len() >= 9, None)
    seg_code = out["_segment_code"].where(out["_segment_code"].notna(), None)
    out["admin_code"] = own.where(own.notna(), seg_code)
    out["admin_source"] = np.where(own.notna(), "patch", np.where(seg_code.notna(), "segment", ""))
    code = out["admin_code"].fillna("").astype(str)
    out["township_code"] = code.str[:9].where(code.str.len() >= 9, "")
    out["village_code"] = code.str[:12].where(code.str.len() >= 12, "")
    return out[[*matches.columns, *CHAIN_COLUMNS]]


def chain_ledger(ledger: Ledger) -> pd.DataFrame:
    """The responsible chain of every stored assignment (run ``match_ledger`` first).

    Parameters
    ----------
    ledger : Ledger
        The open ledger.

    Returns
    -------
    DataFrame
        As :func:`responsible_chain`, over ``ledger.assignments()``.
    """
    patches = ledger.patches()
    return responsible_chain(
        ledger.assignments(),
        ledger.segments(),
        ledger.chiefs(),
        patches=pd.DataFrame(patches.drop(columns="geometry")),
    )
