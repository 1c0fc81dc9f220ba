"""Patrols (巡河) by river chiefs: done against required, per chief and per level.

**Required frequency.** :data:`REQUIRED_DAYS` gives, per chief level, one
patrol every so many days: county (县级, 区级 in a city district) once a month,
township (乡级, 街道) once every 15 days, village (村级, 村(社区)) once a week,
city once a quarter and province twice a year. These are defaults for the usual
provincial rules; the office configures its own (``required=``). The seed from
Liuzhou's Chengzhong district reports patrols per level (区级 10, 街道 181,
村(社区) 816 in 2024) with a completion rate per level: that is what
:func:`completion_by_level` returns. A period of ``d`` days (both ends included)
requires ``round(d / every)`` patrols of a chief, halves up: a 31-day month
needs one county patrol, a week one village patrol and no county one.

**Attribution.** A track counts for the chief whose ``name`` equals the track's
``surveyor`` (both with spaces removed); a surveyor who matches no chief is
listed by :func:`unattributed`, and a name shared by two chiefs counts for
both. **A patrol is a day**: the tracks one chief started on the same day
(Asia/Shanghai) count once, since patrol apps often split one walk into
several tracks. Tracks without a start time cannot be placed in a period and
are left out (:func:`unattributed` lists them too).

**Completion** of a chief is ``min(done, required) / required``; of a level, the
sum of ``min(done, required)`` over the sum of ``required``, so a chief who
patrols twice as often does not hide one who never went.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.errors import SchemaError
from geo.labels import LEVELS
from geo.text import name_key

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

#: One patrol every so many days, per chief level (defaults; the office configures).
REQUIRED_DAYS: dict[str, float] = {
    "province": 182.0,
    "city": 91.0,
    "county": 30.0,
    "township": 15.0,
    "village": 7.0,
}
#: Columns of :func:`patrol_completion`.
CHIEF_COLUMNS = (
    "chief_id",
    "name",
    "level",
    "level_label",
    "n_segments",
    "done",
    "required",
    "completion_pct",
    "shortfall",
    "behind",
    "last_patrol",
)
#: Columns of :func:`completion_by_level`.
LEVEL_COLUMNS = (
    "level",
    "level_label",
    "n_chiefs",
    "done",
    "required",
    "completion_pct",
    "n_behind",
)


def required_patrols(start: dt.date, end: dt.date, *, every_days: float) -> int:
    """Return how many patrols a period needs at one patrol every ``every_days`` days.

    Parameters
    ----------
    start, end : datetime.date
        The period, both days included.
    every_days : float
        One patrol every so many days (> 0).

    Returns
    -------
    int
        ``round(days / every_days)``, halves rounded up.
    """
    if not every_days > 0:
        raise SchemaError(f"a patrol frequency must be > 0 days; got {every_days!r}")
    days = (end - start).days + 1
    if days < 1:
        raise SchemaError(f"the period ends ({end}) before it starts ({start})")
    return math.floor(days / every_days + 0.5)


def _patrol_days(tracks: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    for col in ("surveyor", "started_at"):
        if col not in tracks.columns:
            raise SchemaError(
                f"tracks need a {col!r} column (Ledger.tracks()); found {list(tracks.columns)}"
            )
    day = pd.to_datetime(tracks["started_at"].astype("string").str[:10], errors="coerce")
    df = pd.DataFrame({"who": tracks["surveyor"].map(name_key), "day": day.dt.date})
    df = df[df["day"].notna()]
    df = df[(df["day"] >= start) & (df["day"] <= end)]
    return df.drop_duplicates()


def patrol_completion(
    tracks: pd.DataFrame,
    chiefs: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date,
    required: Mapping[str, float] | None = None,
    level_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Return patrols done and required per chief in a period.

    Parameters
    ----------
    tracks : DataFrame
        Tracks with ``surveyor`` and ``started_at`` (``Ledger.tracks()``).
    chiefs : DataFrame
        ``chief_id, name, level`` and optionally ``segment_id`` (``Ledger.chiefs()``,
        one row per chief and segment).
    start, end : datetime.date
        The period, both days included.
    required : mapping, optional
        One patrol every so many days per level; default :data:`REQUIRED_DAYS`.
        Keys given replace the defaults for those levels only.
    level_labels : mapping, optional
        Display names of the levels; default :data:`geo.labels.LEVELS`
        (:data:`geo.labels.LEVELS_DISTRICT` for a city district: 区级, 街道, 村(社区)).

    Returns
    -------
    DataFrame
        Columns :data:`CHIEF_COLUMNS`, one row per chief, sorted by level (highest
        first), then behind first, then chief id. ``last_patrol`` is the last day
        patrolled in the period (None when none).

    Raises
    ------
    SchemaError
        If a column is missing, a chief's level has no frequency, or the period is empty.
    """
    every = {**REQUIRED_DAYS, **(required or {})}
    labels = {**LEVELS, **(level_labels or {})}
    for col in ("chief_id", "name", "level"):
        if col not in chiefs.columns:
            raise SchemaError(
                f"chiefs need a {col!r} column (Ledger.chiefs()); found {list(chiefs.columns)}"
            )
    unknown = sorted(set(chiefs["level"].dropna().astype(str)) - set(every))
    if unknown:
        raise SchemaError(
            f"no patrol frequency for chief level(s) {unknown}; "
            f"pass required={{level: days}} (known: {sorted(every)})"
        )
    days = _patrol_days(tracks, start, end)
    by_who = days.groupby("who")["day"].agg(["count", "max"])
    seg = chiefs["segment_id"] if "segment_id" in chiefs.columns else chiefs["chief_id"]
    people = (
        chiefs.assign(_seg=seg)
        .groupby("chief_id", sort=False)
        .agg(name=("name", "first"), level=("level", "first"), n_segments=("_seg", "nunique"))
        .reset_index()
    )
    rows = []
    for _, c in people.iterrows():
        key = name_key(c["name"])
        done = int(by_who["count"].get(key, 0))
        need = required_patrols(start, end, every_days=float(every[c["level"]]))
        credited = min(done, need)
        rows.append(
            {
                "chief_id": c["chief_id"],
                "name": c["name"],
                "level": c["level"],
                "level_label": labels.get(c["level"], c["level"]),
                "n_segments": int(c["n_segments"]),
                "done": done,
                "required": need,
                "completion_pct": 100.0 * credited / need if need else float("nan"),
                "shortfall": need - credited,
                "behind": done < need,
                "last_patrol": by_who["max"].get(key) if done else None,
            }
        )
    out = pd.DataFrame(rows, columns=list(CHIEF_COLUMNS))
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    out["_rank"] = out["level"].map(rank).fillna(len(rank))
    out = out.sort_values(["_rank", "behind", "chief_id"], ascending=[True, False, True])
    out = out.drop(columns="_rank").reset_index(drop=True)
    out["behind"] = out["behind"].astype(bool)
    out.attrs["hetu"] = {"start": start.isoformat(), "end": end.isoformat(), "required": every}
    return out


def completion_by_level(per_chief: pd.DataFrame) -> pd.DataFrame:
    """Roll :func:`patrol_completion` up per level (区级, 街道, 村 in the seed).

    Parameters
    ----------
    per_chief : DataFrame
        From :func:`patrol_completion`.

    Returns
    -------
    DataFrame
        Columns :data:`LEVEL_COLUMNS`, highest level first; ``completion_pct`` is
        the credited patrols (each chief at most its required) over the required.
    """
    df = per_chief.assign(_credited=np.minimum(per_chief["done"], per_chief["required"]))
    out = df.groupby(["level", "level_label"], sort=False).agg(
        n_chiefs=("chief_id", "size"),
        done=("done", "sum"),
        required=("required", "sum"),
        _credited=("_credited", "sum"),
        n_behind=("behind", "sum"),
    )
    out = out.reset_index()
    out["completion_pct"] = 100.0 * out["_credited"] / out["required"].where(out["required"] > 0)
    out["n_behind"] = out["n_behind"].astype(int)
    return out[list(LEVEL_COLUMNS)]


def behind(per_chief: pd.DataFrame) -> pd.DataFrame:
    """Return the chiefs behind their required patrols, the largest shortfall first.

    Parameters
    ----------
    per_chief : DataFrame
        From :func:`patrol_completion`.

    Returns
    -------
    DataFrame
        The rows with ``behind`` true, by shortfall (largest first), then chief id.
    """
    rows = per_chief[per_chief["behind"]]
    rows = rows.sort_values(["shortfall", "chief_id"], ascending=[False, True])
    return rows.reset_index(drop=True)


def unattributed(
    tracks: pd.DataFrame, chiefs: pd.DataFrame, *, start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Return the tracks of the period that count for no chief, and the ones without a time.

    Parameters
    ----------
    tracks, chiefs, start, end
        As for :func:`patrol_completion`.

    Returns
    -------
    DataFrame
        The tracks' non-geometry columns plus ``reason`` (``"no chief named so"`` or
        ``"no start time"``).
    """
    names = set(chiefs["name"].map(name_key))
    cols = [c for c in tracks.columns if c != getattr(tracks, "_geometry_column_name", None)]
    df = pd.DataFrame(tracks[cols])
    day = pd.to_datetime(df["started_at"].astype("string").str[:10], errors="coerce").dt.date
    no_time = day.isna()
    in_period = ~no_time & day.map(lambda d: not pd.isna(d) and start <= d <= end)
    stranger = in_period & ~df["surveyor"].map(name_key).isin(names)
    out = df[no_time | stranger].copy()
    out["reason"] = np.where(no_time[no_time | stranger], "no start time", "no chief named so")
    return out.reset_index(drop=True)


def patrols_ledger(
    ledger: Ledger,
    *,
    start: dt.date,
    end: dt.date,
    required: Mapping[str, float] | None = None,
    level_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Patrol completion of the ledger's chiefs from its tracks.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    start, end, required, level_labels
        As for :func:`patrol_completion`.

    Returns
    -------
    DataFrame
        As :func:`patrol_completion`.
    """
    return patrol_completion(
        ledger.tracks(),
        ledger.chiefs(),
        start=start,
        end=end,
        required=required,
        level_labels=level_labels,
    )
