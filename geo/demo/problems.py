"""The demo county's problems from other sources: a 12345 sheet and an 暗访 list.

:func:`write_problem_files` writes, beside the county's other files, the hotline's work
orders as an Excel sheet (8 cases, some past their 办结 deadline on the demo's day, one
重大, with the caller's name and phone in 反映人/联系电话 columns that Hetu must never
store) and the 明查暗访 list as GeoJSON (4 cases, one with its outline). The sites are
points on the demo's management ranges, chosen by the seed.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.fileio import write_table
from geo.ledger.replies import record_reply
from geo.ledger.store import Ledger

__all__ = ["HOTLINE_CASES", "UNDERCOVER_CASES", "replies", "write_problem_files"]

#: The 12345 work orders: 受理编号, 受理时间, 问题描述, 问题类型, 紧急程度, 反映人.
HOTLINE_CASES = (
    ("2026031600123", "2026-03-16 09:12", "河边有人倾倒建筑垃圾", "乱堆", "一般", "张某"),
    ("2026032000418", "2026-03-20 15:40", "河道内有人非法采砂", "乱采", "一般", "李某"),
    ("2026040100077", "2026-04-01 10:05", "河岸搭建简易棚屋", "乱建", "一般", "王某"),
    ("2026040800210", "2026-04-08 11:30", "河滩被圈占种菜", "乱占", "一般", "赵某"),
    ("2026041000356", "2026-04-10 08:45", "河道内违建厂房排污", "乱建", "重大", "刘某"),
    ("2026042000089", "2026-04-20 14:20", "堤脚堆放砂石料", "乱堆", "一般", "陈某"),
    ("2026042700301", "2026-04-27 16:00", "河面漂浮垃圾较多", "", "一般", "杨某"),
    ("2026043000015", "2026-04-30 09:00", "桥下有人倾倒生活垃圾", "乱堆", "一般", "黄某"),
)
#: The 暗访 list: 受理编号, 受理时间, 问题描述, 问题类型.
UNDERCOVER_CASES = (
    ("AF2026-01", "2026-04-02", "暗访发现河岸违规堆放废渣", "乱堆"),
    ("AF2026-02", "2026-04-02", "暗访发现河道管理范围内违建", "乱建"),
    ("AF2026-03", "2026-04-15", "暗访发现河滩围垦", "乱占"),
    ("AF2026-04", "2026-04-15", "暗访发现河床取土坑", "乱采"),
)


def _sites(segments: gpd.GeoDataFrame, n: int, *, seed: int) -> list[shapely.Point]:
    """``n`` points inside distinct ranges (repeating when there are fewer), by the seed."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(segments))
    points = segments.geometry.to_crs(4490).representative_point().to_numpy()
    return [points[order[i % len(order)]] for i in range(n)]


def write_problem_files(
    folder: str | os.PathLike, segments: gpd.GeoDataFrame, *, seed: int = 2025
) -> tuple[Path, Path]:
    """Write the 12345 sheet and the 暗访 list; return their paths (see the module)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    sites = _sites(segments, len(HOTLINE_CASES) + len(UNDERCOVER_CASES), seed=seed + 18)
    hotline = pd.DataFrame(
        [
            {
                "受理编号": no,
                "受理时间": at,
                "来源": "12345",
                "问题描述": text,
                "地址": f"示范县{i + 1}号河段附近",
                "问题类型": kind,
                "紧急程度": level,
                "反映人": who,
                "联系电话": f"1390000{i:04d}",
                "经度": round(site.x, 6),
                "纬度": round(site.y, 6),
            }
            for i, ((no, at, text, kind, level, who), site) in enumerate(
                zip(HOTLINE_CASES, sites, strict=False)
            )
        ]
    )
    sheet = out / "12345工单.xlsx"
    write_table(hotline, sheet, sheet="12345工单")
    rows, geoms = [], []
    for i, (no, day, text, kind) in enumerate(UNDERCOVER_CASES):
        site = sites[len(HOTLINE_CASES) + i]
        rows.append({"受理编号": no, "受理时间": day, "问题描述": text, "问题类型": kind})
        # the last one is drawn by the inspector as an outline (about 40 m by 30 m)
        geoms.append(shapely.box(site.x, site.y, site.x + 0.0004, site.y + 0.0003) if i == 3
                     else site)  # fmt: skip
    undercover = out / "暗访问题清单.geojson"
    gpd.GeoDataFrame(rows, geometry=geoms, crs=4490).to_file(undercover, driver="GeoJSON")
    return sheet, undercover


def replies(ledger: Ledger) -> None:
    """The hotline office's 反馈 on the first case and its 回访 a week later (satisfied)."""
    first = f"RX-{HOTLINE_CASES[0][0]}"
    record_reply(ledger, first, actor="县河长办", at="2026-03-25T10:00",
                 feedback="已转清溪镇核查，责令倾倒人限期清运")  # fmt: skip
    record_reply(ledger, first, actor="县河长办", at="2026-04-02T15:00", satisfied=True,
                 note="反映人表示垃圾已部分清运")  # fmt: skip
