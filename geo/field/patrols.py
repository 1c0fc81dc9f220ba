"""Patrols (巡河) by river chiefs: done against required, per chief, river and level.

**Rules** come from :mod:`geo.policy.patrols`: per chief level a frequency per calendar
period (week, 旬, month, quarter…), the months it applies in, and the shortest patrol that
counts (minutes and kilometres), from published local rules (default: 阿合奇's). The
office picks a preset or writes its own in ``[patrols]`` of ``hetu.toml``.

**Per river.** A chief is responsible for the rivers of his segments (``water_name``; a
segment without one is its own river). A track counts for a river when it comes within
``within_m`` of one of the chief's segments on that river, lasts at least the rule's
minutes and is at least its kilometres long; otherwise :attr:`PatrolReport.tracks` says
why it did not count (时长不足, 里程不足, 未到责任河段, 无开始时间, 巡河人不在名录).

**Who.** A track counts for the chief whose ``name`` equals the track's ``surveyor``
(spaces removed) and for the chief a 河长助理 or 巡查员 patrols for: a row of the chiefs'
list whose extra column ``for`` (or 代巡河长, 委托河长) names a chief's id or name is an
assistant, not a chief (广州: 河长确因工作繁忙…可委托河长助理落实巡查). **A patrol is a
day**: the tracks started the same day (Asia/Shanghai) count once per river.

**Completion** of a chief on a river is the credited patrols (in each period at most the
required number) over the required; of a chief, the sum over his rivers; of a level, the
sum over its chiefs, so a chief who patrols one river twice as often does not hide a
river never walked. The Liuzhou seed (城中区 2024: 区级 10, 街道 181, 村(社区) 816 patrols)
reports per level: :func:`completion_by_level`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs
from geo.errors import SchemaError
from geo.labels import LEVELS, PATROLS
from geo.ledger.chiefs import FOR_KEYS as FOR_KEYS  # where it lived before
from geo.ledger.chiefs import assistants
from geo.policy.patrols import PatrolRule, PatrolRules, counted_periods, patrol_rules
from geo.text import name_key

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

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


#: Columns of :attr:`PatrolReport.rivers`.
RIVER_COLUMNS = (
    "chief_id",
    "name",
    "level",
    "level_label",
    "river",
    "rule",
    "source",
    "n_periods",
    "done",
    "required",
    "credited",
    "completion_pct",
    "shortfall",
    "behind",
    "last_patrol",
)
#: Columns of :attr:`PatrolReport.tracks` (besides the track's own name and surveyor).
CHECK_COLUMNS = (
    "track",
    "surveyor",
    "day",
    "minutes",
    "km",
    "chief_id",
    "river",
    "counted",
    "reason",
)
_NO_RIVER = "（全部河段）"


@dataclass
class PatrolReport:
    """Patrols of a period: per chief and river, per chief, and every track checked."""

    rivers: pd.DataFrame
    chiefs: pd.DataFrame
    tracks: pd.DataFrame
    rules: PatrolRules


def _patrols_for(chiefs: pd.DataFrame) -> pd.Series:
    """Whom each row patrols for (an assistant), or None (a chief)."""
    return assistants(chiefs)


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype("string").str[:10], errors="coerce").dt.date


def _minutes(tracks: pd.DataFrame) -> pd.Series:
    if "ended_at" not in tracks.columns:
        return pd.Series(np.nan, index=tracks.index)
    a = pd.to_datetime(tracks["started_at"], errors="coerce", utc=True, format="ISO8601")
    b = pd.to_datetime(tracks["ended_at"], errors="coerce", utc=True, format="ISO8601")
    return (b - a).dt.total_seconds() / 60.0


def _who(tracks: pd.DataFrame, chiefs: pd.DataFrame) -> list[list[str]]:
    """The chiefs each track may count for: its surveyor's, and those he assists."""
    helper = _patrols_for(chiefs)
    real = chiefs[helper.isna()]
    by_name: dict[str, set[str]] = {}
    for cid, name in zip(real["chief_id"], real["name"], strict=True):
        by_name.setdefault(name_key(name), set()).add(str(cid))
    ids = set(real["chief_id"].astype(str))
    for name, target in zip(chiefs["name"][helper.notna()], helper[helper.notna()], strict=True):
        chosen = {target} if target in ids else by_name.get(name_key(target), set())
        by_name.setdefault(name_key(name), set()).update(chosen)
    return [sorted(by_name.get(name_key(s), ())) for s in tracks["surveyor"]]


def _rivers(chiefs: pd.DataFrame, segments: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """One row per (chief, river) with the river's segments of that chief."""
    real = chiefs[_patrols_for(chiefs).isna()]
    seg = real["segment_id"].astype(str) if "segment_id" in real else real["chief_id"]
    frame = pd.DataFrame({"chief_id": real["chief_id"].astype(str), "segment_id": seg})
    if segments is None:
        frame["river"] = _NO_RIVER
    else:
        water = segments.set_index(segments["segment_id"].astype(str))["water_name"]
        water = water[~water.index.duplicated()]
        named = frame["segment_id"].map(water)
        frame["river"] = named.where(named.notna() & (named.astype(str).str.strip() != ""),
                                     frame["segment_id"])  # fmt: skip
    return frame.drop_duplicates()


def _check_tracks(
    tracks: pd.DataFrame,
    chiefs: pd.DataFrame,
    segments: gpd.GeoDataFrame | None,
    pairs: pd.DataFrame,
    rules: PatrolRules,
) -> pd.DataFrame:
    """One row per (track, chief, river) it could count for, or per track no chief owns."""
    level = chiefs.drop_duplicates("chief_id").set_index("chief_id")["level"]
    name = tracks["name"] if "name" in tracks.columns else pd.Series("", index=tracks.index)
    base = pd.DataFrame(
        {
            "track": name.fillna("").astype(str).to_numpy(),
            "surveyor": tracks["surveyor"].fillna("").astype(str).to_numpy(),
            "day": _day(tracks["started_at"]).to_numpy(),
            "minutes": _minutes(tracks).round(1).to_numpy(),
            "km": np.nan,
        }
    )
    geom, seg_by_id = None, {}
    lines = isinstance(tracks, gpd.GeoDataFrame) and tracks.crs is not None and len(tracks)
    if lines:
        crs = metric_crs(segments if segments is not None and len(segments) else tracks)
        metric = tracks.geometry.to_crs(crs).to_numpy()
        base["km"] = np.round(shapely.length(metric) / 1000.0, 3)
        if segments is not None:
            geom = metric
            seg_geom = segments.geometry.to_crs(crs).to_numpy()
            seg_by_id = dict(zip(segments["segment_id"].astype(str), seg_geom, strict=True))
    who = _who(tracks, chiefs)
    rows = []
    for i, ids in enumerate(who):
        b = base.iloc[i].to_dict()
        if not ids:
            rows.append(b | {"chief_id": None, "river": None, "counted": False,
                             "reason": PATROLS["not_listed"]})  # fmt: skip
            continue
        for cid in ids:
            rule = rules.rule(str(level.get(cid)))
            mine: list[tuple[float, bool, dict]] = []  # (distance, off the river, row)
            for river, segs in pairs[pairs["chief_id"] == cid].groupby("river")["segment_id"]:
                reason = None
                d = 0.0
                if geom is not None:  # which river first: a walk elsewhere is not "too short"
                    near = [seg_by_id[s] for s in segs if s in seg_by_id]
                    d = min((shapely.distance(geom[i], g) for g in near), default=np.inf)
                if b["day"] is None or pd.isna(b["day"]):
                    reason = PATROLS["no_time"]
                elif not d <= rules.within_m:
                    reason = PATROLS["off_river"].format(km=d / 1000.0, m=rules.within_m)
                elif rule is None:
                    reason = PATROLS["no_rule"].format(level=level.get(cid))
                elif rule.min_minutes and not b["minutes"] >= rule.min_minutes:
                    reason = (PATROLS["too_short"].format(got=b["minutes"], need=rule.min_minutes)
                              if pd.notna(b["minutes"]) else PATROLS["no_end"])  # fmt: skip
                elif rule.min_km and not b["km"] >= rule.min_km:
                    reason = (PATROLS["too_little"].format(got=b["km"], need=rule.min_km)
                              if pd.notna(b["km"]) else PATROLS["no_line"])  # fmt: skip
                off = not d <= rules.within_m  # d is 0 without geometries
                row = {"chief_id": cid, "river": river, "counted": reason is None,
                       "reason": reason or ""}  # fmt: skip
                mine.append((d, off, b | row))
            rows.extend(_walked_rivers(mine))
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS)).astype({"counted": bool})


def _walked_rivers(mine: list[tuple[float, bool, dict]]) -> list[dict]:
    """A track's rows for one chief: the rivers it walked; off all of them, the nearest.

    A chief with two rivers walks one at a time: the walk is judged on the river it was
    on, not reported as "not on the river" for the other.
    """
    on = [row for _d, off, row in mine if not off]
    if on or not mine:
        return on
    return [min(mine, key=lambda m: m[0])[2]]


def patrol_report(
    tracks: pd.DataFrame,
    chiefs: pd.DataFrame,
    segments: gpd.GeoDataFrame | None = None,
    *,
    start: dt.date,
    end: dt.date,
    rules: PatrolRules | None = None,
    level_labels: Mapping[str, str] | None = None,
) -> PatrolReport:
    """Count the patrols of a period per chief and river against the rules.

    Parameters
    ----------
    tracks : DataFrame
        ``surveyor, started_at`` and, to check the minimums, ``ended_at`` and a line
        geometry (``Ledger.tracks()``).
    chiefs : DataFrame
        ``chief_id, name, level, segment_id`` and optionally ``attrs`` (assistants'
        ``for``) — ``Ledger.chiefs()``.
    segments : GeoDataFrame, optional
        ``segment_id, water_name`` and the segments' polygons; without them each chief
        has one river (all his segments) and no track is checked for distance or length.
    start, end : datetime.date
        The report's dates, both included; a period ending in them is judged over all
        its days.
    rules : PatrolRules, optional
        Default: the ``aheqi`` preset (:func:`geo.policy.patrols.patrol_rules`).
    level_labels : mapping, optional
        Display names of the levels; default :data:`geo.labels.LEVELS`.

    Returns
    -------
    PatrolReport
        ``rivers`` (:data:`RIVER_COLUMNS`), ``chiefs`` (:data:`CHIEF_COLUMNS`) and
        ``tracks`` (:data:`CHECK_COLUMNS`: every track of the judged periods, with the
        reason it did not count).

    Raises
    ------
    SchemaError
        If a column is missing, or the period ends before it starts.
    """
    if end < start:
        raise SchemaError(f"the period ends ({end}) before it starts ({start})")
    needs = (
        (tracks, ("surveyor", "started_at"), "tracks (Ledger.tracks())"),
        (chiefs, ("chief_id", "name", "level"), "chiefs (Ledger.chiefs())"),
    )
    for frame, cols, what in needs:
        for col in cols:
            if col not in frame.columns:
                raise SchemaError(f"{what} need a {col!r} column; found {list(frame.columns)}")
    rules = rules or patrol_rules()
    labels = {**LEVELS, **(level_labels or {})}
    chiefs = chiefs.assign(chief_id=chiefs["chief_id"].astype(str))
    pairs = _rivers(chiefs, segments)
    spans = {lv: counted_periods(start, end, r) for lv, r in rules.levels.items()}
    first = min((p[0] for ps in spans.values() for p in ps), default=start)
    day = _day(tracks["started_at"])
    in_window = day.isna() | ((day >= min(first, start)) & (day <= end))
    checked = _check_tracks(tracks[in_window.to_numpy()], chiefs, segments, pairs, rules)
    ok = checked[checked["counted"]]
    people = chiefs[_patrols_for(chiefs).isna()].drop_duplicates("chief_id").set_index("chief_id")
    rows = []
    for cid, river in pairs[["chief_id", "river"]].drop_duplicates().itertuples(index=False):
        lv = str(people.at[cid, "level"])
        rule = rules.rule(lv)
        periods = spans.get(lv, []) if rule else []
        days = ok.loc[(ok["chief_id"] == cid) & (ok["river"] == river), "day"].drop_duplicates()
        credited = sum(min(rule.times, int(((days >= a) & (days <= b)).sum())) for a, b in periods)
        need = rule.times * len(periods) if rule else 0
        rows.append(
            {
                "chief_id": cid,
                "name": people.at[cid, "name"],
                "level": lv,
                "level_label": labels.get(lv, lv),
                "river": river,
                "rule": rule.describe() if rule else "",
                "source": rule.source if rule else "",
                "n_periods": len(periods),
                "done": int(((days >= start) & (days <= end)).sum()),
                "required": need,
                "credited": credited,
                "completion_pct": 100.0 * credited / need if need else float("nan"),
                "shortfall": need - credited,
                "behind": credited < need,
                "last_patrol": days.max() if len(days) else None,
            }
        )
    rivers = pd.DataFrame(rows, columns=list(RIVER_COLUMNS))
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    rivers = rivers.assign(_rank=rivers["level"].map(rank).fillna(len(rank)))
    rivers = rivers.sort_values(["_rank", "chief_id", "river"]).drop(columns="_rank")
    rivers = rivers.reset_index(drop=True).astype({"behind": bool})
    per_chief = _per_chief(rivers, pairs)
    meta = {"start": start.isoformat(), "end": end.isoformat(), "preset": rules.preset}
    for frame in (rivers, per_chief, checked):
        frame.attrs["hetu"] = dict(meta)
    return PatrolReport(rivers, per_chief, checked.reset_index(drop=True), rules)


def _per_chief(rivers: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    n_seg = pairs.groupby("chief_id")["segment_id"].nunique()
    grouped = rivers.groupby("chief_id", sort=False)
    out = grouped.agg(
        name=("name", "first"),
        level=("level", "first"),
        level_label=("level_label", "first"),
        done=("done", "sum"),
        required=("required", "sum"),
        credited=("credited", "sum"),
        last_patrol=("last_patrol", lambda s: s.dropna().max() if s.notna().any() else None),
    ).reset_index()
    out["n_segments"] = out["chief_id"].map(n_seg).fillna(0).astype(int)
    out["completion_pct"] = np.where(
        out["required"] > 0,
        100.0 * out["credited"] / out["required"].where(out["required"] > 0),
        np.nan,
    )
    out["shortfall"] = out["required"] - out["credited"]
    out["behind"] = (out["credited"] < out["required"]).astype(bool)
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    out["_rank"] = out["level"].map(rank).fillna(len(rank))
    out = out.sort_values(["_rank", "behind", "chief_id"], ascending=[True, False, True])
    return out[list(CHIEF_COLUMNS)].reset_index(drop=True)


def patrol_completion(
    tracks: pd.DataFrame,
    chiefs: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date,
    required: Mapping[str, float] | None = None,
    level_labels: Mapping[str, str] | None = None,
    segments: gpd.GeoDataFrame | None = None,
    rules: PatrolRules | None = None,
) -> pd.DataFrame:
    """Return patrols done and required per chief in a period (:func:`patrol_report`'s ``chiefs``).

    Parameters
    ----------
    tracks, chiefs, segments, start, end, rules, level_labels
        As for :func:`patrol_report`.
    required : mapping, optional
        Hetu 0.1's one patrol every so many days per level (read as the nearest
        period by :func:`geo.policy.patrols.patrol_rules`), when ``rules`` is not given.

    Returns
    -------
    DataFrame
        Columns :data:`CHIEF_COLUMNS`, one row per chief, sorted by level (highest
        first), then behind first, then chief id.

    Raises
    ------
    SchemaError
        If a column is missing, a chief's level has no rule, or the period is empty.
    """
    if rules is None:
        rules = patrol_rules(every_days=required) if required else patrol_rules()
    known = set(rules.levels)
    unknown = sorted(set(chiefs["level"].dropna().astype(str)) - known) if "level" in chiefs else []
    if unknown:
        raise SchemaError(
            f"no patrol rule for chief level(s) {unknown}; "
            f"set [patrols.levels.<level>] (known: {sorted(known)})"
        )
    report = patrol_report(tracks, chiefs, segments, start=start, end=end, rules=rules,
                           level_labels=level_labels)  # fmt: skip
    return report.chiefs


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
    df = per_chief.assign(_credited=per_chief["required"] - per_chief["shortfall"])
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
        As for :func:`patrol_report`.

    Returns
    -------
    DataFrame
        :data:`CHECK_COLUMNS` rows whose surveyor is in no chiefs' list or whose start
        time is missing, with the ``reason``.
    """
    rules = patrol_rules(levels={lv: PatrolRule("week") for lv in LEVELS})
    checked = patrol_report(tracks, chiefs, start=start, end=end, rules=rules).tracks
    odd = checked["chief_id"].isna() | (checked["reason"] == PATROLS["no_time"])
    return checked[odd].drop_duplicates(["track", "surveyor", "day"]).reset_index(drop=True)


def patrol_report_ledger(
    ledger: Ledger,
    *,
    start: dt.date,
    end: dt.date,
    rules: PatrolRules | None = None,
    level_labels: Mapping[str, str] | None = None,
) -> PatrolReport:
    """:func:`patrol_report` over the ledger's tracks, chiefs and segments.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    start, end, level_labels
        As for :func:`patrol_report`.
    rules : PatrolRules, optional
        Default: the ledger's settings (``[patrols]``).

    Returns
    -------
    PatrolReport
    """
    return patrol_report(
        ledger.tracks(),
        ledger.chiefs(),
        ledger.segments(),
        start=start,
        end=end,
        rules=rules or ledger.settings.patrols,
        level_labels=level_labels,
    )


def patrols_ledger(
    ledger: Ledger,
    *,
    start: dt.date,
    end: dt.date,
    required: Mapping[str, float] | None = None,
    level_labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Patrol completion of the ledger's chiefs from its tracks (per chief).

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    start, end, level_labels
        As for :func:`patrol_report`.
    required : mapping, optional
        Hetu 0.1's days between patrols per level; default the ledger's ``[patrols]``.

    Returns
    -------
    DataFrame
        As :func:`patrol_completion`.
    """
    rules = patrol_rules(every_days=required) if required else None
    return patrol_report_ledger(
        ledger, start=start, end=end, rules=rules, level_labels=level_labels
    ).chiefs
