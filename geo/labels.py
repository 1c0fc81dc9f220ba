"""The one table that maps code identifiers to the Chinese labels users read.

Identifiers stay English in code; every user-facing output (map popups and
legends, Excel headers, CLI summaries) takes its Chinese text from here, so
no Chinese literal is scattered through the other modules.
"""

from __future__ import annotations

#: Lifecycle states (DESIGN.md, Lifecycle) and the derived display state ``overdue``.
STATES: dict[str, str] = {
    "issued": "已下发",
    "verifying": "核查中",
    "confirmed": "已认定",
    "dismissed": "不是问题",
    "monitored": "挂账监管",
    "rectifying": "整改中",
    "rectified": "已整改待验收",
    "closed": "已销号",
    "overdue": "逾期",
}

#: The four problems (四乱) and ``other``; the province's source codes 1–4 map here.
ISSUE_TYPES: dict[str, str] = {
    "occupation": "乱占",
    "mining": "乱采",
    "dumping": "乱堆",
    "construction": "乱建",
    "other": "其他",
}

#: Source codes used in province batches for :data:`ISSUE_TYPES`.
ISSUE_TYPE_CODES: dict[str, str] = {
    "1": "occupation",
    "2": "mining",
    "3": "dumping",
    "4": "construction",
    "9": "other",
}

#: Matching relations between a patch and the management ranges.
RELATIONS: dict[str, str] = {
    "inside": "范围内",
    "straddles": "跨河段",
    "partly_outside": "部分在范围外",
    "near": "范围外邻近",
    "outside": "不在管理范围内",
}

#: Chief levels, highest first.
LEVELS: dict[str, str] = {
    "province": "省级",
    "city": "市级",
    "county": "县级",
    "township": "乡级",
    "village": "村级",
}

#: Column headers for exports, popups and the CLI.
COLUMNS: dict[str, str] = {
    "patch_id": "图斑编号",
    "batch_id": "下发批次",
    "issue_type": "问题类型",
    "admin_code": "行政区划代码",
    "township": "乡镇",
    "detected_on": "监测时间",
    "issued_on": "下发时间",
    "area_m2": "面积(平方米)",
    "source_area": "原始面积",
    "description": "问题描述",
    "state": "状态",
    "state_since": "状态时间",
    "deadline": "整改期限",
    "overdue_days": "逾期天数",
    "water_name": "河湖名称",
    "range_id": "管理范围编号",
    "segment_id": "河段编码",
    "segment_name": "河段名称",
    "relation": "位置关系",
    "share": "面积占比",
    "distance_m": "距离(米)",
    "chief_village": "村级河长",
    "chief_township": "乡级河长",
    "chief_county": "县级河长",
    "count": "数量",
    "closure_rate": "销号率",
    "total": "合计",
    "centroid_lon": "中心经度",
    "centroid_lat": "中心纬度",
    "surveyor": "巡查人",
    "observed_at": "巡查时间",
}

#: Words used by outputs that are neither states nor columns.
TEXT: dict[str, str] = {
    "ledger": "图斑整改台账",
    "summary": "汇总",
    "as_of": "数据截至",
    "ranges": "河湖管理范围",
    "tracks": "巡河轨迹",
    "findings": "巡查发现",
    "unassigned": "未匹配河段",
    "legend": "图例",
    "map_title": "河湖遥感图斑整改态势图",
    "water_segment": "河湖/河段",
    "tianditu": "天地图",
    "tianditu_vec": "天地图矢量",
    "tianditu_img": "天地图影像",
    "tianditu_cva": "天地图注记",
    "ledger_sheet": "图斑台账",
    "by_township": "按乡镇统计",
    "by_issue_type": "按问题类型统计",
    "no_township": "（未填乡镇）",
}


def label(table: dict[str, str], key: object) -> str:
    """Return the Chinese label of ``key`` in ``table``, or ``key`` itself if unknown.

    Parameters
    ----------
    table : dict
        One of the tables of this module.
    key : object
        The identifier; ``None`` gives an empty string.

    Returns
    -------
    str
        The label to show.
    """
    if key is None:
        return ""
    return table.get(str(key), str(key))
