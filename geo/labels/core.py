"""The Chinese of the ledger's own words.

States, problem types and sources, levels, actions, columns, matching, imagery, integrity, the
command line.

Part of :mod:`geo.labels`; import the tables from there.
"""

from __future__ import annotations

__all__ = [
    "ACTIONS",
    "CHANGE_KINDS",
    "CLI",
    "COLUMNS",
    "COORDINATE_WORDS",
    "DATE_ERRORS",
    "IMAGERY",
    "INTEGRITY",
    "ISSUE_TYPES",
    "ISSUE_TYPE_CODES",
    "LEVELS",
    "LEVELS_DISTRICT",
    "LEVEL_SUFFIXES",
    "LEVEL_SYNONYMS",
    "MATCHING",
    "PROBLEMS",
    "QUARANTINE",
    "RELATIONS",
    "SELF_CHECK",
    "SOURCES",
    "STATES",
    "TEXT",
    "label",
]

#: Lifecycle states (docs/architecture.md, Lifecycle) and the derived display state ``overdue``.
STATES: dict[str, str] = {
    "issued": "已下发",
    "verifying": "核查中",
    "confirmed": "已认定",
    "dismissed": "不是问题",
    "monitored": "挂账监管",
    "proposed": "待审核",
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


#: How chiefs' lists write each level (河长名录 级别), space-separated, besides the words of
#: :data:`LEVELS` and their English keys; a trailing 河长, 湖长… (:data:`LEVEL_SUFFIXES`) is
#: ignored, so 县级河长 is 县级. Full-width brackets count as half-width ones.
LEVEL_SYNONYMS: dict[str, str] = {
    "province": "省级 省 自治区级 自治区 直辖市级",
    "city": "市级 市 地级 地市级 州级 州 盟级",
    "county": "县级 县 区级 区 县区级 县(区)级 县(市、区)级 县市区级 县(市)级 旗级 旗",
    "township": "乡级 乡 镇级 镇 乡镇级 乡镇 乡(镇)级 乡(镇、街道)级 街道级 街道 苏木级",
    "village": "村级 村 社区级 社区 村(社区)级 村(社区) 村居级 嘎查级 居委会 村委会",
}


#: Words after a level that do not change it: 县级河长, 乡镇级总河长, 村级河湖长.
LEVEL_SUFFIXES = ("副总河长", "总河长", "河湖长", "河长", "湖长")


#: Headers of the quarantine listing (``hetu quarantine``) and of the ingest summary.
QUARANTINE: dict[str, str] = {
    "import_id": "导入编号",
    "kind": "数据类型",
    "file": "文件",
    "batch_id": "下发批次",
    "row": "行号",
    "feature_id": "要素编号",
    "reason": "隔离原因",
    "imported_at": "导入时间",
    "count": "数量",
}


#: Event actions: lifecycle transitions, escalation steps (卡单函令 and more), records.
ACTIONS: dict[str, str] = {
    "issue": "下发",
    "verify": "核查",
    "confirm": "认定",
    "dismiss": "认定不是问题",
    "monitor": "挂账监管",
    "rectify": "交办整改",
    "report": "报告整改完成",
    "close": "验收销号",
    "reject": "验收退回",
    "overturn": "抽查改判",
    "reopen": "抽查重新整改",
    "reminder": "提示卡",
    "notice": "通知单",
    "supervision": "督办函",
    "order": "整改令",
    "interview": "约谈",
    "bulletin": "通报",
    "attach": "上传佐证",
    "audit_sample": "抽查复核",
    "verdict": "认定意见",
    "duty": "落实责任",
    "acceptance": "验收意见",
    "proposal": "乡镇核查意见",
    "propose": "提交审核",
    "approve": "县级审核同意",
    "return": "县级审核退回",
    "review": "县级审核",
    "recheck": "回头看",
    "audit_keep": "抽查维持",
    "field_report": "外业填报",
}


#: Python's messages for an impossible date (datetime's ValueError) in Chinese, for the field team.
DATE_ERRORS: dict[str, str] = {
    "month must be in 1..12": "月份应为 1 至 12",
    "day is out of range for month": "该月没有这一天",
    "year 0 is out of range": "年份无效",
    "hour must be in 0..23": "小时应为 0 至 23",
    "minute must be in 0..59": "分钟应为 0 至 59",
    "second must be in 0..59": "秒应为 0 至 59",
}


#: Column headers for exports, popups and the CLI.
COLUMNS: dict[str, str] = {
    "patch_id": "图斑编号",
    "batch_id": "下发批次",
    "issue_type": "问题类型",
    "admin_code": "行政区划代码",
    "township": "乡镇",
    "township_code": "乡镇代码",
    "township_check": "乡镇核对",
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
    "chief_city": "市级河长",
    "chief_province": "省级河长",
    "count": "数量",
    "closure_rate": "销号率",
    "total": "合计",
    "centroid_lon": "中心经度",
    "centroid_lat": "中心纬度",
    "surveyor": "巡查人",
    "observed_at": "巡查时间",
    "uncleared": "未清零",
    "deadline_kind": "期限类别",
    "verify_rate": "核查完成率",
    "rectify_rate": "整改销号率",
    "verdict_category": "认定类别",
    "verdict_basis": "认定依据",
    "severity": "严重程度",
    "blocks_flood": "是否碍洪",
    "subtype": "二级类",
    "feature_class": "地物类别",
    "duty_unit": "责任单位",
    "duty_person": "责任人",
    "duty_phone": "联系电话",
    "measures": "整改措施",
    "case": "立案查处",
    "workload": "整改工程量",
    "acceptance": "验收",
    "recheck": "回头看",
    "source": "问题来源",
    "accept_by": "受理期限",
    "feedback_by": "反馈期限",
    "close_by": "办结期限",
    "feedback": "反馈情况",
    "revisit": "回访情况",
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
    "open": "未清零",
    "auditor": "上级河长办",
    "audit": "抽查复核",
    "audit_result": "复核结论",
    "audit_note": "复核说明",
    "audit_keep": "维持",
    "audit_overturn": "改判",
    "map_title": "河湖遥感图斑整改态势图",
    "water_segment": "河湖/河段",
    "tianditu": "天地图",
    "tianditu_vec": "天地图矢量",
    "tianditu_img": "天地图影像",
    "tianditu_cva": "天地图注记",
    "ledger_sheet": "图斑台账",
    "by_township": "按乡镇统计",
    "by_issue_type": "按问题类型统计",
    "no_township": "未明确乡镇",
    # the 乡镇核对 column: the patch's own township and its segment's differ
    "township_conflict": "图斑属{patch}，河段属{segment}",
    # leadership map (geo.maps.status)
    "recurrence_sites": "反弹回潮点",
    "recurrence_of": "反弹回潮（原图斑）",
    "dashboard": "整改态势",
    "by_state": "按状态统计",
    "closure_by_township": "各乡镇销号率",
    "overdue_by_chief": "逾期图斑（按河长，件数/最长逾期）",
    "none_overdue": "无逾期图斑",
    "no_chief": "（未明确河长）",
    "search": "搜索图斑编号",
    "search_none": "未找到该图斑",
    "history": "状态记录",
    "photos": "整改前后影像",
    "zoom_hint": "放大后显示图斑范围",
    "other_waters": "其他河湖",
    "uploaded": "上传",
    "sent": "下发",
    "unit_workdays": "个工作日",
    "unit_days": "天",
}


#: Matching outputs (geo.matching: chiefs, identity, gaps, findings): link kinds, headers, marks.
MATCHING: dict[str, str] = {
    "same": "同一图斑（未办结）",
    "recurrence": "反弹回潮",
    "repeat_monitored": "挂账重复下发",
    "repeat_dismissed": "曾认定不是问题",
    "earlier_id": "关联前期图斑",
    "overlap_ratio": "重叠率",
    "iou": "交并比",
    "centroid_m": "中心距(米)",
    "chief_province": "省级河长",
    "chief_city": "市级河长",
    "township_code": "乡镇代码",
    "village_code": "村代码",
    "admin_source": "区划来源",
    "nearest_segment": "最近河段",
    "n_patches": "图斑数",
    "n_near": "邻近数",
    "n_outside": "范围外数",
    "min_distance_m": "最近距离(米)",
    "median_distance_m": "中位距离(米)",
    "max_distance_m": "最远距离(米)",
    "finding_id": "巡查发现编号",
    "list_sep": "、",
    "title_open": "（",
    "title_close": "）",
}


#: Words offices' tables use for coordinates (geo.ingest.tabular): columns, DMS units, hemispheres.
COORDINATE_WORDS: dict[str, str] = {
    "lon": "经度",
    "lat": "纬度",
    "lon_east": "东经",
    "lat_north": "北纬",
    "easting": "东坐标",
    "easting_dir": "东向坐标",
    "easting_survey": "横坐标",
    "northing": "北坐标",
    "northing_dir": "北向坐标",
    "northing_survey": "纵坐标",
    "x": "x坐标",
    "x_alt": "坐标x",
    "y": "y坐标",
    "y_alt": "坐标y",
    "geometry": "几何",
    "geometry_alt": "空间信息",
    "centre_point": "中心点",
    "centre": "中心",
    "degree": "度",
    "minute": "分",
    "second": "秒",
    "east": "东",
    "west": "西",
    "south": "南",
    "north": "北",
}


#: Imagery evidence (geo.imagery.chipping): roles, per-patch statuses and change indicators.
IMAGERY: dict[str, str] = {
    "before": "整治前影像",
    "after": "整治后影像",
    "ok": "正常",
    "outside": "不在影像范围内",
    "nodata": "影像无有效数据",
    "unreadable": "影像文件损坏或无法读取",
    "no_crs": "影像缺少坐标系",
    "bad_image": "影像不可用",
    "no_geometry": "图斑无图形",
    "source": "影像文件",
    "acquired_on": "成像日期",
    "valid_share": "有效像元占比",
    "brightness_patch": "图斑内亮度",
    "brightness_ring": "周边亮度",
    "brightness_ratio": "亮度比（图斑/周边）",
    "ndvi_patch": "图斑内植被指数NDVI",
    "ndvi_ring": "周边植被指数NDVI",
    "ndvi_diff": "植被指数差（图斑-周边）",
    "ndwi_patch": "图斑内水体指数NDWI",
    "ndwi_ring": "周边水体指数NDWI",
    "ndwi_diff": "水体指数差（图斑-周边）",
    "res_m": "切片分辨率(米)",
    "delta": "前后变化：",
}


#: Chief levels as a city district names them (seed 000, Liuzhou Chengzhong: 区级, 街道, 村).
LEVELS_DISTRICT: dict[str, str] = {
    "county": "区级",
    "township": "街道",
    "village": "村(社区)",
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


#: Words of the command line (geo.cli): the prefix of a log line by level, and the label
#: of each progress bar.
CLI: dict[str, str] = {
    "DEBUG": "调试",
    "INFO": "信息",
    "WARNING": "警告",
    "ERROR": "错误",
    "CRITICAL": "严重错误",
    "ingest": "写入台账",
    "imagery": "影像切片",
    "export": "导出",
    "dossier": "一斑一档",
    "pdf": "打印PDF",
    "unexpected": (
        "{command}：意外错误 {error}；请加 --debug 重新运行（hetu --debug {name} …）"
        "查看出错位置，并报告此问题"
    ),
    "interrupted": "{command}：已中断（Ctrl+C）",
    "on_ledger": "台账",
    "on_file": "文件",
    "on_output": "输出",
    "list_sep": "，",
    "and_more": " 等 {n} 个",
    "disk_full": "磁盘已满",
    # where a command's office settings came from (geo.settings, the order)
    "settings_local": (
        "{ledger} 未存储办公室设置，本次使用当前目录的 hetu.toml；请用 "
        "`hetu settings {ledger} --set hetu.toml` 存入台账，定时任务和其他目录才会用同一设置"
    ),
    "settings_default": (
        "{ledger} 未存储办公室设置，也未给出 --settings：本次使用默认设置（办公室名称、"
        "乡镇名称、工作日历、整改期限和佐证规则均为默认值）；请用 "
        "`hetu settings {ledger} --set hetu.toml` 存入台账"
    ),
    "settings_ignored": (
        "当前目录的 hetu.toml 与 {ledger} 存储的设置（第 {v} 版）不同，未使用；如要改用它，请运行 "
        "`hetu settings {ledger} --set hetu.toml`，或本次加 --settings hetu.toml"
    ),
    "settings_none": (
        "{ledger} 未存储办公室设置；请用 `hetu settings {ledger} --set hetu.toml` 存入"
    ),
    "settings_stored": "办公室设置第 {v} 版已存入 {ledger}（来自 {source}，sha256 {sha}）",
    "settings_same": "{ledger} 已存储同一设置（第 {v} 版，来自 {source}），未新增版本",
}


#: The ledger's integrity (``hetu verify``, ``hetu roles``; geo.ledger.integrity, .roles): the
#: actor of the ledger's own events, the kinds of rows the chain covers, one line per problem.
INTEGRITY: dict[str, str] = {
    "system": "系统",
    "chain_head": "链首校验码",
    "patches": "图斑",
    "segments": "河段",
    "chiefs": "河长",
    "evidence": "佐证",
    "attachments": "附件记录",
    "patch_details": "认定与整改记录",
    "chief_key": "{chief}（河段 {segment}）",
    "intact": (
        "history intact 台账历史完整：{n} 个事件，链首校验码 {head}；哈希链、触发器、视图、"
        "状态流转与佐证规则、{rows} 行内容和 {files} 个附件文件均核对无误"
    ),
    "anchored": "链首校验码 {anchor} 仍在历史中（第 {count} 个事件）",
    "more": "……另有 {n} 处同类问题未逐条列出",
    "trigger_missing": "触发器 {name} 缺失：{table} 表已可被改写或删除",
    "trigger_changed": "触发器 {name} 的定义与河图建立的不符：{table} 表的保护可能已失效",
    "trigger_function": "触发器 {name} 调用的函数 {function} 被改写：{table} 表的保护已失效",
    "trigger_disabled": "触发器 {name} 被停用：{table} 表可被改写",
    "trigger_unknown": "{table} 表上有河图未建立的触发器 {name}",
    "function_missing": "函数 {name} 缺失：调用它的触发器已随之失效",
    "function_changed": (
        "函数 {name} 不再以所有者身份（SECURITY DEFINER）、在固定的 search_path（{path}）下运行："
        "它所做的检查可能失效或被绕过"
    ),
    "view_missing": "视图 {name} 缺失",
    "view_changed": "视图 {name} 的定义被改动：图斑的当前状态不再由事件推出",
    "view_rows": (
        "视图 {name} 给出的状态与事件不符：{n} 个图斑，"
        "如 {pid}（视图为 {shown}，事件为 {expected}）"
    ),
    "no_events": "台账有 {n} 行图斑、河段、河长或佐证，却没有任何事件：事件被整体删除",
    "gap": "事件 {first}–{last} 缺失（被删除）",
    "tail": "末尾的事件 {first}–{last} 缺失（被删除）",
    "link": "事件 {id}：与前一事件的哈希链接断开",
    "hash": "事件 {id}（图斑 {pid}）：内容被改动，哈希不符",
    "outside": "事件 {id} 及其后的事件绕过河图写入（链首记录为事件 {last}）",
    "signature": (
        "事件 {id}（图斑 {pid}）：签名与办公室链密钥不符（内容被改动，或 HETU_CHAIN_KEY 不对）"
    ),
    "unkeyed": (
        "事件 {id}（图斑 {pid}）：在以链密钥签名的事件之后却未签名（由没有密钥的人写入或改写）"
    ),
    "never_keyed": (
        "给出了链密钥（HETU_CHAIN_KEY），但没有一个事件以它签名：整条链是不用密钥写成或改写的"
    ),
    "keyed_unchecked": "{n} 个事件以办公室链密钥签名；设置 HETU_CHAIN_KEY 后才能核对这些签名",
    "head_hash": "链首记录（hetu_head）的哈希与最后一个事件不符",
    "content_bad": "事件 {id}：记录的内容摘要无法读取（被改动）",
    "anchor_short": "链首校验码 {anchor}（{source}）：台账只有 {count} 个事件，其后的事件被删除",
    "anchor_differs": "链首校验码 {anchor}（{source}）：第 {count} 个事件的哈希不符，历史被改写",
    "anchor_export": "导出记录 {id}（{day}）",
    "lc_first": "事件 {id}（图斑 {pid}）：图斑的第一个事件不是下发",
    "lc_from": "事件 {id}（图斑 {pid}）：从“{src}”出发，但图斑当时是“{cur}”",
    "lc_illegal": "事件 {id}（图斑 {pid}）：“{src}”→“{dst}”不是允许的状态流转",
    "lc_evidence": "事件 {id}（图斑 {pid}）：转为“{dst}”时没有所需佐证（{need}），不合佐证规则",
    "row_changed": "{what} {key} 的内容与链上记录不符（被改动）",
    "row_deleted": "{what} {key} 被删除（链上有记录，表中没有）",
    "row_unrecorded": "{what} {key} 不在链上（绕过河图写入）",
    "file_missing": "附件文件 {sha}（{name}）不在附件库 {folder} 中（被删除或移走）",
    "file_changed": "附件文件 {path} 的内容与其 sha256 不符（被覆盖或改动）",
    "store_missing": (
        "附件库 {folder} 不存在：{n} 个附件文件无法核对；用 HETU_ATTACHMENTS 指明附件库所在文件夹"
    ),
    "roles_done": "已建立角色并授权：{roles}（数据库 {name}）",
    "roles_member": (
        "给人员授权：GRANT hetu_clerk TO 用户名;（只读用 hetu_viewer，管理员用 hetu_owner）"
    ),
}


#: Self-check (自查) change detection (geo.imagery.detect): kinds of change and words.
CHANGE_KINDS: dict[str, str] = {
    "vegetation_loss": "植被变裸地/硬化",
    "water_fill": "水面被占/填埋",
    "new_structure": "新增建筑/构筑物",
    "other_change": "其他变化",
}


SELF_CHECK: dict[str, str] = {
    "source": "自查",
    "layer": "自查候选图斑",
    "new": "新发现",
    "linked": "同一地点（已有图斑）",
    "unobserved": "未观测（云、阴影、无数据）",
    "score": "变化强度",
    "kind": "变化类型",
    "area": "面积（平方米）",
    "before": "前时相",
    "after": "后时相",
    "chiefs": "河长",
}


#: Who found a patch (the 台账 summary's 按来源统计, geo.reports.summary.patch_source).
SOURCES: dict[str, str] = {
    "issued": "上级下发",
    "selfcheck": "自查",
    "survey": "巡河",
    "by_source": "按来源统计（上级下发、自查、巡河、12345、举报、暗访等）",
    "source": "来源",
    "hotline": "12345",
    "report": "举报",
    "undercover": "暗访",
    "inspection": "督查",
    "assigned": "上级交办",
    "media": "媒体",
    "other": "其他",
}


#: Problems from every source (geo.ingest.problems, geo.policy.sources): columns and words.
PROBLEMS: dict[str, str] = {
    "feedback": "反馈情况",
    "revisit": "回访情况",
    "satisfied": "满意",
    "unsatisfied": "不满意",
    "filter": "问题来源",
    "all_sources": "全部来源",
}
