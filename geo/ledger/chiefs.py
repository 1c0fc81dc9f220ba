"""The chiefs of each segment, per level, as people read them (``name（title）``).

The ledger's status frame carries this chain; :mod:`geo.matching.chiefs`
extends it to the responsible chain of each matched patch. A 河长助理 or 巡查员 listed
with the chief he patrols for (an extra column of :data:`FOR_KEYS`) is no chief of the
segment: :func:`assistants` finds those rows, and the chain leaves them out.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geo.errors import SchemaError
from geo.labels import LEVELS, MATCHING
from geo.records import attr_value

log = logging.getLogger(__name__)

#: Chief columns, highest level first.
CHIEF_COLUMNS = [f"chief_{level}" for level in LEVELS]
#: Extra columns of a chiefs' list naming the chief an assistant patrols for.
FOR_KEYS = ("for", "代巡河长", "委托河长", "代巡对象")


def assistants(chiefs: pd.DataFrame) -> pd.Series:
    """Whom each row of a chiefs' list patrols for (an assistant), or None (a chief).

    Parameters
    ----------
    chiefs : DataFrame
        ``Ledger.chiefs()``: an assistant's row has one of :data:`FOR_KEYS` in ``attrs``.

    Returns
    -------
    Series
        The chief's id or name for an assistant's row, None for a chief's.
    """
    attrs = chiefs["attrs"] if "attrs" in chiefs.columns else [None] * len(chiefs)
    out = [attr_value(value, FOR_KEYS) for value in attrs]
    return pd.Series(out, index=chiefs.index, dtype=object)


def chief_chain(chiefs: pd.DataFrame) -> pd.DataFrame:
    """One row per segment with the chiefs of each level, as people read them.

    Parameters
    ----------
    chiefs : DataFrame
        ``name, title, level, segment_id`` (one row per chief and segment); rows of
        assistants (:func:`assistants`) are left out.

    Returns
    -------
    DataFrame
        ``segment_id`` and one ``chief_<level>`` column per level of
        :data:`geo.labels.LEVELS`: ``name（title）`` joined by ``、`` (from
        :data:`geo.labels.MATCHING`), in input order.
    """
    missing = [c for c in ("name", "level", "segment_id") if c not in chiefs.columns]
    if missing:
        raise SchemaError(f"chiefs need {missing}; found {list(chiefs.columns)}")
    frame = chiefs[assistants(chiefs).isna()]  # an assistant is no chief of the segment
    frame = frame.assign(segment_id=frame["segment_id"].astype(str))
    unknown = sorted(set(frame["level"].astype(str)) - set(LEVELS))
    if unknown:
        log.warning("chiefs of unknown level(s) %s left out of the chain", unknown)
    title = frame["title"].fillna("").astype(str) if "title" in frame else ""
    opened = MATCHING["title_open"] + title + MATCHING["title_close"]
    frame["who"] = frame["name"].astype(str) + np.where(title != "", opened, "")
    out = pd.DataFrame({"segment_id": pd.unique(frame["segment_id"])})
    for level in LEVELS:
        sel = frame[frame["level"] == level]
        joined = sel.groupby("segment_id", sort=False)["who"].agg(MATCHING["list_sep"].join)
        out[f"chief_{level}"] = out["segment_id"].map(joined).astype(object).fillna("")
    return out
