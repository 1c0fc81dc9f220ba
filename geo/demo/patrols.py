"""The demo chiefs' patrols of one quarter, as a patrol app exports them.

Each chief walks each of his rivers as often as his level's rule asks (the demo's
``hetu.toml``: the 广州 preset, a twice-monthly township rule and 阿合奇's quarterly county
rule) in every period of :data:`PATROL_PERIOD`; a third miss their last walk, the chiefs of
:data:`SHORT_TRACKS` walk one track too short or too brief to count, and an assistant of
:data:`ASSISTANTS` walks one of his chief's patrols. The village chiefs' GPS fixes are a CSV,
the township and county chiefs' tracks a KML, and one walk's photos a folder of geotagged
JPEGs. :mod:`geo.demo.county` lays out the rivers and the chiefs' list and calls
:func:`write_patrols`.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString

from geo.clock import TZ
from geo.demo.formats import write_kml, write_photo
from geo.fileio import write_table
from geo.policy.patrols import PatrolRules, counted_periods

__all__ = ["ASSISTANTS", "FOR", "PATROL_PERIOD", "SHORT_TRACKS", "River", "write_patrols"]

#: The quarter of the demo chiefs' patrols (both days included): the office issues its
#: 巡河提示卡 for it in April (``hetu patrol-cards --quarter 2026Q1``).
PATROL_PERIOD = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
#: The demo chiefs walk as their rules ask (the 广州 preset, with a twice-monthly township
#: rule and 阿合奇's quarterly county rule: the demo's hetu.toml), each river of theirs in
#: each period; chiefs whose number is a multiple of 3 miss their last walk.
_LEVEL_KEYS = {"县级": "county", "乡级": "township", "村级": "village"}
#: Patrol assistants (河长助理, 巡查员): title, the chief they patrol for (by 河长编号), and
#: whether the assistant walks one of that chief's patrols.
ASSISTANTS = (("河长助理", "HZ013", True), ("巡查员", "HZ005", False))
#: Chiefs one of whose walks does not count: (河长编号, kilometres, minutes) of that walk,
#: one too short for the rule's 1 km, one too brief for its 10 minutes.
SHORT_TRACKS = (("HZ014", 0.6, 25.0), ("HZ007", 1.3, 6.0))
#: The chiefs' list column naming the chief an assistant patrols for
#: (:data:`geo.field.patrols.FOR_KEYS`).
FOR = "代巡河长"


class River(Protocol):
    """A demo river as a walk needs it: its centre line and half-width, in metres."""

    line: LineString
    width: float


def _patrol_walk(
    rng: np.random.Generator,
    rivers: Sequence[River],
    span: tuple[int, float, float],
    start: dt.datetime,
    *,
    km: float,
    minutes: float,
) -> list[tuple[float, float, dt.datetime]]:
    """A walk of ``km`` along one bank inside a segment in ``minutes``: ``(x, y, time)``."""
    river, a, b = span
    rv = rivers[river]
    length = min(b - a - 10.0, km * 1000.0)
    s0 = rng.uniform(a, b - length)
    offset = float(rng.choice([-1.0, 1.0])) * (rv.width - rng.uniform(8, 20))
    n = max(int(length / rng.uniform(35, 50)), 2) + 1
    arcs = np.linspace(s0, s0 + length, n)
    ahead = shapely.line_interpolate_point(rv.line, np.minimum(arcs + 1.0, rv.line.length))
    behind = shapely.line_interpolate_point(rv.line, np.maximum(arcs - 1.0, 0.0))
    here = shapely.get_coordinates(shapely.line_interpolate_point(rv.line, arcs))
    t = shapely.get_coordinates(ahead) - shapely.get_coordinates(behind)
    t /= np.hypot(t[:, 0], t[:, 1])[:, None]
    xy = here + offset * np.column_stack([-t[:, 1], t[:, 0]])
    pace = rng.uniform(0.8, 1.2, n - 1)
    secs = np.cumsum(np.r_[0.0, pace / pace.sum() * minutes * 60.0])
    return [
        (x, y, start + dt.timedelta(seconds=round(s))) for (x, y), s in zip(xy, secs, strict=True)
    ]


def _patrol_plan(
    rng: np.random.Generator, chiefs: pd.DataFrame, rules: PatrolRules, rivers: dict[str, int]
) -> list[tuple[str, str, str, dt.date, float, float]]:
    """Who walks which segment on which day: ``(chief id, walker, segment, day, km, minutes)``.

    Each chief walks each of his rivers as often as his level's rule asks in every period
    of :data:`PATROL_PERIOD` (never twice on one day); a third miss their last walk, the
    chiefs of :data:`SHORT_TRACKS` walk one track that does not count, and an assistant of
    :data:`ASSISTANTS` walks one of his chief's patrols.
    """
    first, last = PATROL_PERIOD
    short = {cid: (km, minutes) for cid, km, minutes in SHORT_TRACKS}
    plan = []
    real = chiefs[chiefs[FOR] == ""]
    for cid, rows in real.groupby("河长编号", sort=True):
        name, level = str(rows["姓名"].iloc[0]), _LEVEL_KEYS[str(rows["级别"].iloc[0])]
        rule = rules.rule(level)
        least_km, least_min = max(rule.min_km, 1.0), max(rule.min_minutes, 10.0)
        taken: set[dt.date] = set()
        walks = []
        for lo, hi in counted_periods(first, last, rule):
            for _river, on_river in rows.groupby(rows["河段编码"].map(rivers))["河段编码"]:
                segs = on_river.tolist()
                for _ in range(rule.times):
                    days = (lo + dt.timedelta(days=k) for k in range((hi - lo).days + 1))
                    free = [d for d in days if d not in taken]
                    day = free[int(rng.integers(len(free)))]
                    taken.add(day)
                    km = rng.uniform(least_km + 0.3, least_km + 1.5)
                    minutes = rng.uniform(least_min * 1.2, least_min * 1.2 + 30)
                    walks.append([cid, name, str(rng.choice(segs)), day, km, minutes])
        walks.sort(key=lambda w: w[3])
        if int(cid[2:]) % 3 == 0:  # a third fall behind: the last walk is missed
            walks.pop()
        if cid in short:  # one walk too short or too brief to count
            walks[len(walks) // 2][4:] = short[cid]
        plan += walks
    by_chief = dict(zip(chiefs[FOR], chiefs["姓名"], strict=True))
    for _title, cid, walks_one in ASSISTANTS:
        if walks_one:  # the assistant walks his chief's second patrol
            chief = str(real.loc[real["河长编号"] == cid, "姓名"].iloc[0])
            mine = [w for w in plan if w[0] == cid]
            mine[1][1] = by_chief[chief]  # the walker
    return [tuple(w) for w in plan]


def write_patrols(
    rng: np.random.Generator,
    *,
    rivers: Sequence[River],
    spans: Mapping[str, tuple[int, float, float]],
    chiefs: pd.DataFrame,
    out: Path,
    rules: PatrolRules,
    crs: str,
) -> tuple[Path, ...]:
    """Write the chiefs' patrols of :data:`PATROL_PERIOD` as a patrol app exports them.

    Parameters
    ----------
    rng : numpy.random.Generator
        The patrols' own generator (the rest of the county is unchanged by it).
    rivers : sequence of River
        The county's rivers, in metres (``crs``).
    spans : mapping
        Segment id → (river index, first and last arc position of the segment).
    chiefs : DataFrame
        The chiefs' list with its assistants (the :data:`FOR` column).
    out : pathlib.Path
        The folder to write into.
    rules : PatrolRules
        The office's patrol rules (the demo's ``hetu.toml``).
    crs : str
        The metric CRS of ``rivers``.

    Returns
    -------
    tuple of pathlib.Path
        The CSV of the village chiefs' GPS fixes, the KML of the township and county
        chiefs' tracks, and the folder of geotagged photos (one sub-folder per walker).
    """
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    by_segment = {seg: river for seg, (river, _a, _b) in spans.items()}
    level = dict(zip(chiefs["河长编号"], chiefs["级别"], strict=True))
    first, _last = PATROL_PERIOD
    fixes, walks, count = [], [], {}
    for cid, walker, seg, day, km, minutes in _patrol_plan(rng, chiefs, rules, by_segment):
        start = dt.datetime.combine(day, dt.time(int(rng.integers(8, 16)), 0), tzinfo=TZ)
        start += dt.timedelta(minutes=int(rng.integers(0, 50)))
        walk = _patrol_walk(rng, rivers, spans[seg], start, km=km, minutes=minutes)
        lon, lat = to_ll.transform([w[0] for w in walk], [w[1] for w in walk])
        walk = list(zip(lon, lat, [w[2] for w in walk], strict=True))
        count[cid] = count.get(cid, 0) + 1
        tid = f"XH{day:%Y%m%d}-{cid}-{count[cid]}"
        if level[cid] == "村级":
            fixes += [(tid, walker, t.strftime("%Y-%m-%d %H:%M:%S"), f"{x:.7f}", f"{y:.7f}",
                       round(float(rng.uniform(0.8, 1.6)), 2)) for x, y, t in walk]  # fmt: skip
        else:
            walks.append((tid, walker, walk))
    csv = out / f"巡河APP导出_{first:%Y-%m}.csv"
    cols = ["轨迹编号", "巡河人", "定位时间", "经度", "纬度", "速度(米/秒)"]
    write_table(pd.DataFrame(fixes, columns=cols), csv)
    kml = out / f"巡河轨迹_乡级县级_{first:%Y-%m}.kml"
    write_kml(kml, walks)
    photos = out / "巡河照片"
    shutil.rmtree(photos, ignore_errors=True)
    tid, name = fixes[0][:2]
    walk = [f for f in fixes if f[0] == tid]
    for n, k in enumerate(np.linspace(0, len(walk) - 1, 3).astype(int)):
        taken = dt.datetime.strptime(walk[k][2], "%Y-%m-%d %H:%M:%S")
        lon, lat = float(walk[k][3]), float(walk[k][4])
        write_photo(
            photos / name / f"IMG_{taken:%Y%m%d_%H%M%S}.jpg",
            lon=lon,
            lat=lat,
            taken=taken,
            tint=n * 40,
        )
    return (csv, kml, photos)
