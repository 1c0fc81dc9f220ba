"""A seeded demo county (示范县), written as the files a real river-chief office receives.

:func:`build_demo_files` lays out a fictional county (admin code ``439999``) of
three townships and their villages, four meandering rivers whose management
ranges (河湖管理范围) are cut into segments (河段), the chiefs (河长) of every
segment at three levels, two province batches of suspect patches (图斑), two
GPX bank surveys walked by township chiefs, and a quarter of chiefs' patrols
(:data:`PATROL_PERIOD`) as a patrol app exports them: the village chiefs' GPS
fixes as CSV, the township and county chiefs' tracks as KML, and a folder of
geotagged photos. Some chiefs fall behind their required patrols: a third miss
one, and two walked a track too short or too brief to count (:data:`SHORT_TRACKS`);
two patrol assistants (河长助理, 巡查员, :data:`ASSISTANTS`) are in the chiefs' list
with the chief they patrol for, and one of them walks a patrol for his chief.
Every number comes from ``numpy.random.default_rng(seed)``, so the same seed
gives the same content. The patrols are :mod:`geo.demo.patrols`' (their constants are
importable from here as before).

The files carry the awkward parts of the real ones on purpose: patch shapefiles
are GBK without ``.cpg`` or ``.prj``, the second batch uses the zone-prefixed
Gauss-Kruger CRS, one patch ring is a bow-tie, and two descriptions hold HTML.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box
from shapely.ops import split, unary_union

from geo.clock import TZ
from geo.demo.formats import write_gpx, write_photo
from geo.demo.patrols import ASSISTANTS, FOR, PATROL_PERIOD, SHORT_TRACKS, write_patrols
from geo.fileio import write_table
from geo.settings import load_settings

__all__ = [
    "ASSISTANTS", "BATCH1_MIX", "BATCH2_NEW", "BATCH2_RECURRENCES", "COUNTY_BOX", "COUNTY_CODE",
    "METRIC_CRS", "PATROL_PERIOD", "RIVERS", "SHORT_TRACKS", "TOWNSHIPS", "XSS_BATCH1",
    "XSS_BATCH2", "DemoFiles", "build_demo_files", "write_photo",
]  # fmt: skip

COUNTY_CODE = "439999"
COUNTY_BOX = (113.85, 27.70, 114.25, 28.00)
METRIC_CRS = "EPSG:4547"
TOWNSHIPS = {"439999001": "清溪镇", "439999002": "白沙乡", "439999003": "龙泉镇"}
#: (name, water code, corridor as a share of the county height, township boundary crossed)
RIVERS = (
    ("清溪河", "HN-QXH", 0.85, 0),
    ("白沙河", "HN-BSH", 0.62, 1),
    ("龙泉河", "HN-LQH", 0.38, 1),
    ("石门河", "HN-SMH", 0.15, 0),
)
#: Batch-1 placement mix, keyed by the matching relation each patch is built to have.
BATCH1_MIX = {"inside": 44, "straddles": 6, "partly_outside": 4, "near": 4, "outside": 2}
BATCH2_RECURRENCES = 8
BATCH2_NEW = 22
XSS_BATCH1 = '<script>alert("xss")</script>疑似乱堆'
XSS_BATCH2 = "<img src=x onerror=alert(1)>疑似乱建"

_VILLAGES = ("上村", "河口村", "石桥村", "柳树村", "新塘村", "枫林村", "大坪村", "杨家村", "高岭村")
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许邓冯韩曹彭曾肖田董袁潘蒋蔡余杜叶程魏"
)
_GIVEN = "建国志强秀英丽华伟芳敏静军磊洋勇艳杰涛明超兰霞平刚桂红春德文辉玉成海燕"
_ISSUES = ("occupation", "mining", "dumping", "construction")  # source codes "1".."4"
_DESCRIPTIONS = {
    "1": ("河道管理范围内违规种植农作物约{n}平方米", "占用河道管理范围修建晒场约{n}平方米"),
    "2": ("河道内疑似非法采砂，采砂坑约{n}平方米", "河滩地无证取土约{n}立方米"),
    "3": ("河道管理范围内违规堆放建筑垃圾约{n}立方米", "岸坡倾倒生活垃圾约{n}立方米"),
    "4": ("河道管理范围内新建彩钢棚约{n}平方米", "岸线内违规搭建养殖棚约{n}平方米"),
}
#: Canonical segment columns and the Chinese field names of the 河湖管理范围 layer.
_RANGE_FIELDS = {
    "water_name": "河湖名称",
    "water_code": "河湖编码",
    "range_id": "范围编号",
    "segment_id": "河段编码",
    "segment_name": "河段名称",
    "admin_code": "行政区划代码",
}
#: The county chiefs' liaison units (联系单位), who receive the 巡河提醒卡.
_LIAISON = ("县水利局", "县自然资源局", "县生态环境局", "县农业农村局")
_CHIEF_FIELDS = ("河长编号", "姓名", "职务", "级别", "河段编码", "行政区划代码", "联系电话")
_REMARKS = ("", "", "", "", "", "需现场核实", "影像边界以现场核实为准", "上期已下发")


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the files :func:`build_demo_files` wrote.

    Attributes
    ----------
    settings : Path
        ``hetu.toml``, the office settings.
    ranges : Path
        ``河湖管理范围.gpkg``, one row per segment polygon, EPSG:4490.
    chiefs : Path
        ``河长名录.xlsx``, one row per (chief, segment).
    patches : dict of str to Path
        Batch id to the ``.shp`` of that province batch (GBK, no ``.cpg``/``.prj``).
    tracks : list of Path
        GPX survey tracks (WGS84) with findings as waypoints.
    recurrence_of : dict of str to str
        Batch-2 patch id to the batch-1 patch id it overlaps with IoU > 0.5.
    patrols : tuple of Path
        The chiefs' patrols of :data:`PATROL_PERIOD`: the patrol app's CSV (one
        row per GPS fix, village chiefs), a KML (township and county chiefs) and
        a folder of geotagged photos (one sub-folder per chief).
    """

    settings: Path
    ranges: Path
    chiefs: Path
    patches: dict[str, Path]
    tracks: list[Path]
    recurrence_of: dict[str, str]
    patrols: tuple[Path, ...] = ()


@dataclass
class _River:
    name: str
    code: str
    range_id: str
    line: LineString
    width: float
    range: Polygon
    bounds: list[float]  # arc positions of segment ends, 0 .. line.length
    seg_rows: list[int] = field(default_factory=list)  # rows of _Layout.segments


@dataclass
class _Layout:
    villages: gpd.GeoDataFrame  # admin_code, name, geometry in METRIC_CRS
    rivers: list[_River]
    segments: gpd.GeoDataFrame  # canonical segment columns, geometry in METRIC_CRS
    interior: Polygon  # the county box in metres, shrunk to an axis-aligned rectangle

    @cached_property
    def ranges(self) -> Polygon:
        return unary_union([r.range for r in self.rivers])

    def village_at(self, point: Point) -> str:
        return str(self.villages.loc[self.villages.contains(point), "admin_code"].iloc[0])


def _at(line: LineString, s: float, offset: float) -> np.ndarray:
    """The point at arc position ``s`` moved ``offset`` metres to the left of the flow."""
    a = np.array(line.interpolate(max(s - 1.0, 0.0)).coords[0])
    b = np.array(line.interpolate(min(s + 1.0, line.length)).coords[0])
    t = (b - a) / np.hypot(*(b - a))
    return np.array(line.interpolate(s).coords[0]) + offset * np.array([-t[1], t[0]])


def _layout(rng: np.random.Generator) -> _Layout:
    """Lay out townships, villages, rivers, ranges and segments in metres."""
    lon0, lat0, lon1, lat1 = COUNTY_BOX
    cuts = [lon0 + (lon1 - lon0) * (k / 3 + rng.uniform(-0.04, 0.04)) for k in (1, 2)]
    edges = [lon0, *cuts, lon1]
    rows = []
    names = rng.permutation(len(_VILLAGES))
    for k, code in enumerate(TOWNSHIPS):
        n = int(rng.integers(2, 4))
        lats = [lat1, *sorted(rng.uniform(lat0 + 0.06, lat1 - 0.06, n - 1), reverse=True), lat0]
        for j in range(n):
            name = _VILLAGES[names[(3 * k + j) % len(_VILLAGES)]]
            cell = box(edges[k], lats[j + 1], edges[k + 1], lats[j]).segmentize(0.01)
            rows.append({"admin_code": f"{code}{j + 1:03d}", "name": name, "geometry": cell})
    villages = gpd.GeoDataFrame(rows, crs="EPSG:4490").to_crs(METRIC_CRS)
    to_m = Transformer.from_crs("EPSG:4490", METRIC_CRS, always_xy=True)
    (x0, x1), (y0, y1) = to_m.transform([lon0, lon0], [lat0, lat1])
    (x2, x3), (y2, y3) = to_m.transform([lon1, lon1], [lat0, lat1])
    interior = box(max(x0, x1), max(y0, y2), min(x2, x3), min(y1, y3))
    ix0, iy0, ix1, iy1 = interior.bounds
    cross_x = [to_m.transform(c, (lat0 + lat1) / 2)[0] for c in cuts]

    rivers, seg_rows, seq = [], [], 0
    for i, (name, code, share, crossing) in enumerate(RIVERS):
        chord = rng.uniform(10_000, 15_000)
        start = cross_x[crossing] + rng.uniform(-0.75, -0.25) * chord
        start = float(np.clip(start, ix0 + 1500, ix1 - 1500 - chord))
        yc = iy0 + share * (iy1 - iy0) + rng.uniform(-600, 600)
        tilt = rng.uniform(-0.05, 0.05)
        t = np.linspace(0.0, 1.0, int(chord / 40) + 1)
        amp, freq = rng.uniform((250, 50, 1.5, 3.5), (550, 150, 2.5, 5.5)).reshape(2, 2)
        phase = rng.uniform(0, 2 * np.pi, 2)
        lateral = (amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t + phase[:, None])).sum(0)
        along = t * chord
        xs = start + along * np.cos(tilt) - lateral * np.sin(tilt)
        ys = yc + (along - chord / 2) * np.sin(tilt) + lateral * np.cos(tilt)
        line = LineString(np.column_stack([xs, ys]))
        if rng.random() < 0.5:
            line = line.reverse()
        width = float(rng.integers(40, 81))
        range_poly = line.buffer(width, cap_style="flat", quad_segs=8)
        n_seg = max(2, round(line.length / 3500))
        base = line.length / n_seg
        bounds = [0.0, *(base * k + rng.uniform(-300, 300) for k in range(1, n_seg)), line.length]
        knives = [
            LineString([_at(line, s, -width - 40), _at(line, s, width + 40)]) for s in bounds[1:-1]
        ]
        pieces = sorted(
            split(range_poly, MultiLineString(knives)).geoms,
            key=lambda g: line.project(g.representative_point()),
        )
        if len(pieces) != n_seg:  # pragma: no cover - guarded by the curvature bounds above
            raise RuntimeError(f"cutting {name} gave {len(pieces)} pieces, expected {n_seg}")
        river = _River(name, code, f"R{i + 1:02d}", line, width, range_poly, bounds)
        for piece in pieces:
            seq += 1
            river.seg_rows.append(len(seg_rows))
            seg_rows.append((name, code, river.range_id, f"{COUNTY_CODE}{seq:06d}", "", "", piece))
        rivers.append(river)
    segs = pd.DataFrame(seg_rows, columns=[*_RANGE_FIELDS, "geometry"])
    layout = _Layout(villages, rivers, gpd.GeoDataFrame(segs, crs=METRIC_CRS), interior)
    segs = layout.segments
    segs["admin_code"] = [layout.village_at(g.centroid) for g in segs.geometry]
    vname = dict(zip(villages["admin_code"], villages["name"], strict=True))
    for (_, code), idx in segs.groupby(["range_id", "admin_code"], sort=False).groups.items():
        tags = {1: ("",), 2: ("上", "下"), 3: ("上", "中", "下")}.get(len(idx))
        tags = tags or tuple(f"第{k + 1}" for k in range(len(idx)))
        for row, tag in zip(idx, tags, strict=True):
            segs.at[row, "segment_name"] = f"{segs.at[row, 'water_name']}{vname[code]}{tag}段"
    return layout


def _star(rng: np.random.Generator, center: np.ndarray, r: float) -> Polygon:
    """An irregular, star-shaped 6–12-vertex polygon of radius at most ``r``."""
    n = int(rng.integers(6, 13))
    ang = 2 * np.pi * (np.arange(n) + rng.uniform(-0.3, 0.3, n)) / n + rng.uniform(0, 2 * np.pi)
    rad = r * rng.uniform(0.7, 1.0, n)
    pts = center + np.column_stack([rad * np.cos(ang), rad * np.sin(ang)])
    return Polygon(np.round(pts, 2))


def _bowtie(center: np.ndarray, r: float) -> Polygon:
    """A self-intersecting ring (two triangles crossing at ``center``)."""
    a, b = 0.8 * r, 0.6 * r
    ring = [(-a, -b), (a, b), (1.1 * a, 0), (a, -b), (-a, b), (-1.1 * a, 0)]
    return Polygon(np.round(center + np.array(ring), 2))


def _place(rng: np.random.Generator, lay: _Layout, kind: str, taken: list[Polygon]) -> dict:
    """Draw one patch of the given placement kind, away from those ``taken``."""
    segs = lay.segments.geometry.values
    owner = [i for i, rv in enumerate(lay.rivers) for _ in rv.seg_rows]
    for _ in range(10_000):
        j = int(rng.integers(len(segs)))
        i = owner[j]
        rv = lay.rivers[i]
        k = rv.seg_rows.index(j)
        s_a, s_b, w = rv.bounds[k], rv.bounds[k + 1], rv.width
        side = rng.choice([-1.0, 1.0])
        if kind == "inside":
            r = rng.uniform(14, min(45, w - 10))
            s = rng.uniform(s_a + r + 15, s_b - r - 15)
            c = _at(rv.line, s, rng.uniform(-1, 1) * (w - r - 8))
            poly = _star(rng, c, r)
            ok = segs[j].contains(Point(c).buffer(r + 3))
        elif kind == "straddles":
            if k + 1 >= len(rv.seg_rows):
                continue
            r = rng.uniform(18, min(45, w - 10))
            c = _at(rv.line, s_b + rng.uniform(-0.3, 0.3) * r, rng.uniform(-1, 1) * (w - r - 8))
            poly = _star(rng, c, r)
            share = [poly.intersection(segs[j + d]).area / poly.area for d in (0, 1)]
            ok = rv.range.contains(poly.buffer(3)) and min(share) > 0.2
        elif kind == "partly_outside":
            r = rng.uniform(18, 45)
            s = rng.uniform(s_a + r + 15, s_b - r - 15)
            c = _at(rv.line, s, side * (w + rng.uniform(-0.4, 0.4) * r))
            poly = _star(rng, c, r)
            ok = 0.2 < poly.intersection(segs[j]).area / poly.area < 0.8
        elif kind == "near":
            r = rng.uniform(14, 45)
            c = _at(rv.line, rng.uniform(s_a, s_b), side * (w + r + rng.uniform(100, 800)))
            poly = _star(rng, c, r)
            ok = 50 < poly.distance(lay.ranges) < 950
        else:  # outside
            x0, y0, x1, y1 = lay.interior.buffer(-500).bounds
            r = rng.uniform(14, 45)
            c = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
            poly = _star(rng, c, r)
            ok = poly.distance(lay.ranges) > 1700
            i = int(np.argmin([poly.distance(v.range) for v in lay.rivers]))
        ok = ok and lay.interior.contains(poly)
        if ok and (not taken or shapely.distance(np.asarray(taken), poly).min() > 30):
            return {"relation": kind, "river": i, "geometry": poly, "center": c, "r": r}
    raise RuntimeError(f"could not place a {kind} patch")  # pragma: no cover


def _attrs(rng: np.random.Generator, lay: _Layout, poly: Polygon, river: int) -> dict:
    """Province attributes of one patch (everything but id and date)."""
    code = str(rng.integers(1, 5))
    valid = shapely.make_valid(poly)
    text = str(rng.choice(_DESCRIPTIONS[code])).format(n=int(rng.integers(2, 40)) * 10)
    return {
        "XZQDM": lay.village_at(valid.centroid),
        "WTLX": code,
        "TBMJ": round(valid.area * (1 + rng.normal(0, 0.002)), 2),
        "问题描述": text,
        "HHMC": lay.rivers[river].name,
        "备注": str(rng.choice(_REMARKS)),
    }


def _jitter(rng: np.random.Generator, poly: Polygon) -> Polygon:
    """The same site seen again: the ring nudged, scaled and rotated a little."""
    pts = np.asarray(poly.exterior.coords)[:-1]
    c = pts.mean(0)
    size = np.sqrt(poly.area)
    a = rng.uniform(-0.14, 0.14)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    moved = (pts - c) @ rot.T * rng.uniform(0.92, 1.08) + c + rng.uniform(-0.08, 0.08, 2) * size
    return Polygon(np.round(moved + rng.normal(0, 0.03 * size, pts.shape), 2))


def _patches(rng: np.random.Generator, lay: _Layout) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Two batches as frames in metres, plus the recurrence map (batch-2 id -> batch-1 id)."""
    rows: list[dict] = []
    for kind, n in BATCH1_MIX.items():
        for _ in range(n):
            rows.append(_place(rng, lay, kind, [r["geometry"] for r in rows]))
    inside = [k for k, r in enumerate(rows) if r["relation"] == "inside"]
    picks = [int(k) for k in rng.choice(inside, BATCH2_RECURRENCES + 1, replace=False)]
    bow = rows[picks[0]]
    bow["geometry"] = _bowtie(bow["center"], bow["r"])
    for k, r in enumerate(rows):
        r.update(_attrs(rng, lay, r["geometry"], r["river"]), key=k)
    b1 = _batch(rng, rows, "TB2025Q3", "2025-07-01", XSS_BATCH1, "3")

    rows2: list[dict] = []
    seg_geoms = lay.segments.geometry.values
    for k in picks[1:]:
        old = rows[k]["geometry"]
        home = seg_geoms[np.argmax(shapely.area(shapely.intersection(seg_geoms, old)))]
        for _ in range(1000):
            new = _jitter(rng, old)
            iou = new.intersection(old).area / new.union(old).area
            if new.is_valid and iou > 0.6 and home.contains(new.buffer(3)):
                break
        else:  # pragma: no cover
            raise RuntimeError("could not jitter a recurrence patch")
        rows2.append({"relation": "inside", "river": rows[k]["river"], "geometry": new, "key": k})
        rows2[-1].update(_attrs(rng, lay, new, rows[k]["river"]), WTLX=rows[k]["WTLX"])
    taken = [r["geometry"] for r in rows + rows2]
    for _ in range(BATCH2_NEW):
        rows2.append(_place(rng, lay, "inside", taken))
        taken.append(rows2[-1]["geometry"])
        rows2[-1].update(_attrs(rng, lay, taken[-1], rows2[-1]["river"]), key=-1)
    b2 = _batch(rng, rows2, "TB2026Q1", "2026-01-01", XSS_BATCH2, "4")
    ids1 = dict(zip(b1["key"], b1["TBBH"], strict=True))
    recurrence = {t: ids1[k] for t, k in zip(b2["TBBH"], b2["key"], strict=True) if k >= 0}
    return b1, b2, recurrence


def _batch(
    rng: np.random.Generator, rows: list, prefix: str, first: str, xss: str, code: str
) -> pd.DataFrame:
    """Shuffle rows into a batch frame, number them, date them, plant one HTML description."""
    frame = pd.DataFrame(rows).iloc[rng.permutation(len(rows))].reset_index(drop=True)
    frame.insert(0, "TBBH", [f"{prefix}-{k + 1:04d}" for k in range(len(frame))])
    days = rng.integers(0, 90, len(frame))
    frame["JCSJ"] = [str(np.datetime64(first) + int(d)) for d in days]
    hits = frame.index[frame["WTLX"] == code]
    frame.at[hits[rng.integers(len(hits))], "问题描述"] = xss
    return frame


def _people(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct plausible Chinese names."""
    out: list[str] = []
    while len(out) < n:
        given = rng.choice(list(_GIVEN), int(rng.integers(1, 3)))
        name = str(rng.choice(list(_SURNAMES))) + "".join(given)
        if name not in out:
            out.append(name)
    return out


def _chiefs(rng: np.random.Generator, lay: _Layout) -> pd.DataFrame:
    """One row per (chief, segment): county per river, township per (river, township), village."""
    segs = lay.segments.assign(township=lay.segments["admin_code"].str[:9])
    groups = [
        ("县级", "range_id", ("副县长", "县委常委", "县人大常委会副主任"), lambda g: COUNTY_CODE),
        ("乡级", ["range_id", "township"], ("镇长", "党委书记", "副镇长"), lambda g: g[1]),
        ("村级", "admin_code", ("村支书", "村委会主任"), lambda g: g),
    ]
    chiefs = []
    for level, key, titles, code_of in groups:
        for g, idx in segs.groupby(key, sort=False).groups.items():
            title = str(rng.choice(titles))
            if level == "乡级" and TOWNSHIPS[g[1]].endswith("乡"):
                title = title.replace("镇长", "乡长")
            chiefs.append((level, title, code_of(g), list(segs.loc[idx, "segment_id"])))
    names = _people(rng, len(chiefs))
    rows = []
    for k, ((level, title, code, seg_ids), name) in enumerate(zip(chiefs, names, strict=True)):
        phone = "1" + str(rng.choice(["3", "5", "8"])) + "".join(map(str, rng.integers(0, 10, 9)))
        start = dt.date(2021, 6, 1) + dt.timedelta(days=int(rng.integers(0, 900)))
        end = start + dt.timedelta(days=5 * 365) if rng.random() < 0.2 else None
        unit = _LIAISON[k % len(_LIAISON)] if level == "县级" else ""  # 县级河长联系单位
        rows += [
            (f"HZ{k + 1:03d}", name, title, level, seg, code, phone, start, end, unit)
            for seg in seg_ids
        ]
    return pd.DataFrame(rows, columns=[*_CHIEF_FIELDS, "任期开始", "任期结束", "联系单位"])


def _segment_spans(lay: _Layout) -> dict[str, tuple[int, float, float]]:
    """Segment id to (river index, first and last arc position of the segment on its line)."""
    out = {}
    for i, rv in enumerate(lay.rivers):
        for k, row in enumerate(rv.seg_rows):
            out[str(lay.segments.at[row, "segment_id"])] = (i, rv.bounds[k], rv.bounds[k + 1])
    return out


def _chief_of(chiefs: pd.DataFrame, segment_id: str, level: str) -> str:
    rows = chiefs[(chiefs["河段编码"] == segment_id) & (chiefs["级别"] == level)]
    return str(rows["姓名"].iloc[0])


def _surveys(
    rng: np.random.Generator, lay: _Layout, b1: pd.DataFrame, out: Path, chiefs: pd.DataFrame
) -> list[Path]:
    """Two bank surveys along the first two rivers, each passing two batch-1 patches.

    The surveyor is the township chief of the segment where the survey starts.
    """
    spans = _segment_spans(lay)
    to_ll = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
    paths, fid = [], 0
    for river, day in ((0, dt.date(2025, 10, 12)), (1, dt.date(2025, 10, 15))):
        rv = lay.rivers[river]
        mine = b1[(b1["river"] == river) & b1["relation"].isin(["inside", "straddles"])]
        pos = np.sort([rv.line.project(g.centroid) for g in mine.geometry])
        span = max(rng.uniform(3000, 4500), float(np.diff(pos).min()) + 600)
        starts = np.clip(pos - 300, 0, max(rv.line.length - span, 0))
        s0 = float(starts[np.argmax([((pos >= a) & (pos <= a + span)).sum() for a in starts])])
        side = float(rng.choice([-1.0, 1.0]))
        t0 = dt.datetime.combine(day, dt.time(8, int(rng.integers(0, 50))), tzinfo=TZ)
        arcs, secs, s, clock = [], [], s0, 0.0
        while s <= min(s0 + span, rv.line.length):
            arcs.append(s)
            secs.append(clock)
            step = rng.uniform(22, 45)
            s, clock = s + step, clock + step / rng.uniform(1.0, 1.4)
        xy = np.array([_at(rv.line, a, side * 30) for a in arcs])
        lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
        when = [t0 + dt.timedelta(seconds=round(c)) for c in secs]
        track = list(zip(lon, lat, when, strict=True))
        near = mine[[s0 <= rv.line.project(g.centroid) <= s0 + span for g in mine.geometry]]
        spots = []
        for k in rng.choice(len(near), 2, replace=False):
            c = np.array(shapely.make_valid(near.geometry.iloc[k]).centroid.coords[0])
            spots.append(
                (rv.line.project(Point(c)), c + rng.uniform(-4, 4, 2), near["WTLX"].iloc[k])
            )
        for _ in range(int(rng.integers(1, 3))):
            a = rng.uniform(s0, s0 + span)
            spots.append((a, _at(rv.line, a, side * rng.uniform(35, 60)), str(rng.integers(1, 5))))
        found = []
        for a, c, code in spots:  # code: the WTLX source code of the issue seen
            i = int(np.clip(np.searchsorted(arcs, a), 0, len(arcs) - 1))
            at = when[i] + dt.timedelta(seconds=int(rng.integers(30, 240)))
            desc = _DESCRIPTIONS[code][0].format(n=int(rng.integers(2, 30)) * 10)
            found.append((at, *to_ll.transform(c[0], c[1]), desc, _ISSUES[int(code) - 1]))
        waypoints = [
            (wl, wt, at, f"F{fid + n:03d}", desc, kind)
            for n, (at, wl, wt, desc, kind) in enumerate(sorted(found), start=1)
        ]
        fid += len(found)
        path = out / f"巡河_{rv.name}_{day.isoformat()}.gpx"
        label = f"{rv.name}巡河 {day.isoformat()}"
        seg = next(s for s, (r, a, b) in spans.items() if r == river and a <= s0 <= b)
        author = _chief_of(chiefs, seg, "乡级")
        write_gpx(path, name=label, author=author, track=track, waypoints=waypoints)
        paths.append(path)
    return paths


def _assistants(chiefs: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The chiefs' list with :data:`ASSISTANTS` appended (own generator: the rest unchanged).

    An assistant's row carries his chief's level, first segment and area, and the chief's
    name in the :data:`FOR` column (广州: 河长确因工作繁忙…可委托河长助理落实巡查).
    """
    rng = np.random.default_rng([seed, 11])
    names = [n for n in _people(rng, len(chiefs) + 2 * len(ASSISTANTS)) if n not in
             set(chiefs["姓名"])][: len(ASSISTANTS)]  # fmt: skip
    rows = []
    for k, ((title, cid, _walks), name) in enumerate(zip(ASSISTANTS, names, strict=True)):
        chief = chiefs[chiefs["河长编号"] == cid].iloc[0]
        phone = "1" + str(rng.choice(["3", "5", "8"])) + "".join(map(str, rng.integers(0, 10, 9)))
        rows.append({**chief.to_dict(), "河长编号": f"ZL{k + 1:03d}", "姓名": name, "职务": title,
                     "联系电话": phone, "联系单位": "", FOR: chief["姓名"]})  # fmt: skip
    out = pd.concat([chiefs.assign(**{FOR: ""}), pd.DataFrame(rows)], ignore_index=True)
    return out


def _settings_toml() -> str:
    lon0, lat0, lon1, lat1 = COUNTY_BOX
    extent = ", ".join(f"{v:.2f}" for v in (lon0 - 0.05, lat0 - 0.05, lon1 + 0.05, lat1 + 0.05))
    towns = "\n".join(f'"{code}" = "{name}"' for code, name in TOWNSHIPS.items())
    return (
        f'[office]\nname = "示范县河长制办公室"\nadmin_code = "{COUNTY_CODE}"\n'
        f"extent = [{extent}]\ncentral_meridian = 114\n\n[townships]\n{towns}\n\n"
        '[lifecycle]\nrectify_days = 30\n\n[matching]\nnear_m = 1000.0\n\n[map]\nbasemap = "osm"\n'
        "\n[surveys]\nwithin_m = 50.0\n\n"
        '[patrols]\npreset = "guangzhou"\nwithin_m = 100.0\n\n'
        '[patrols.levels.township]\nper = "month"\ntimes = 2\nmin_minutes = 10.0\nmin_km = 1.0\n'
    )


def _write_patches(frame: pd.DataFrame, path: Path, crs: str) -> None:
    """Write (or overwrite) a province shapefile: GBK, then drop ``.cpg`` and ``.prj``."""
    cols = ["TBBH", "XZQDM", "WTLX", "TBMJ", "JCSJ", "问题描述", "HHMC", "备注"]
    gdf = gpd.GeoDataFrame(frame[cols], geometry=list(frame["geometry"]), crs=METRIC_CRS)
    gdf.to_crs(crs).to_file(path, driver="ESRI Shapefile", encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink()
    path.with_suffix(".prj").unlink()


def build_demo_files(data_dir: str | os.PathLike, *, seed: int = 2025) -> DemoFiles:
    """Write the demo county's input files into ``data_dir``.

    Parameters
    ----------
    data_dir : str or os.PathLike
        Folder to write into; created if missing. Existing demo files are replaced.
    seed : int, default 2025
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same content.

    Returns
    -------
    DemoFiles
        The paths written and the batch-2 to batch-1 recurrence map.

    Notes
    -----
    Batch 1 (``2025-Q3``) holds :data:`BATCH1_MIX` patches by relation to the
    management ranges, in EPSG:4547 (no zone prefix); batch 2 (``2026-Q1``) holds
    :data:`BATCH2_RECURRENCES` re-detections of batch-1 patches and
    :data:`BATCH2_NEW` new ones, in EPSG:4526 (zone prefix 38). Both are GBK
    shapefiles without ``.cpg`` or ``.prj``.
    """
    out = Path(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lay = _layout(rng)
    b1, b2, recurrence = _patches(rng, lay)
    chiefs = _assistants(_chiefs(rng, lay), seed)

    settings = out / "hetu.toml"
    settings.write_text(_settings_toml(), encoding="utf-8")
    ranges = out / "河湖管理范围.gpkg"
    ranges.unlink(missing_ok=True)
    segs = lay.segments.rename(columns=_RANGE_FIELDS).to_crs("EPSG:4490")
    segs.to_file(ranges, layer="河湖管理范围", driver="GPKG", engine="pyogrio")
    chiefs_path = out / "河长名录.xlsx"
    write_table(chiefs, chiefs_path, sheet="河长名录")
    patches = {"2025-Q3": out / "图斑_2025-Q3.shp", "2026-Q1": out / "图斑_2026-Q1.shp"}
    _write_patches(b1, patches["2025-Q3"], METRIC_CRS)
    _write_patches(b2, patches["2026-Q1"], "EPSG:4526")
    tracks = _surveys(rng, lay, b1, out, chiefs)
    rules = load_settings(settings).patrols
    patrols = write_patrols(
        np.random.default_rng([seed, 10]), rivers=lay.rivers, spans=_segment_spans(lay),
        chiefs=chiefs, out=out, rules=rules, crs=METRIC_CRS,
    )  # fmt: skip
    return DemoFiles(settings, ranges, chiefs_path, patches, tracks, recurrence, patrols)
