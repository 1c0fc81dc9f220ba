"""The one table that maps code identifiers to the Chinese labels users read.

Identifiers stay English in code; every user-facing output (map popups and
legends, Excel headers, CLI summaries) takes its Chinese text from here, so
no Chinese literal is scattered through the other modules.
"""

from __future__ import annotations

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

#: Field sheets (``hetu tasks`` / ``hetu apply``, :mod:`geo.field.fieldwork`): names, headers.
FIELDWORK: dict[str, str] = {
    "workbook": "外业核查表",
    "sheet": "外业填报",
    "options_sheet": "选项",
    "guide_sheet": "填表说明",
    "layer": "外业图斑",
    "current_state": "当前状态",
    "target": "目标状态",
    "measures": "整改措施",
    "date": "日期",
    "reporter": "填报人",
    "note": "备注",
    "evidence": "佐证材料",
    "report_suffix": "退回",
    "report_sheet": "退回原因",
    "row": "行号",
    "field": "字段",
    "reason": "原因",
    "report_title": "以下各行未通过校验，整张表未作任何更改。请改正后重新提交。",
    "note_measures": "整改措施：",
    "note_remark": "备注：",
    "note_source": "来源：",
    "note_row": "第{row}行",
    "target_title": "目标状态",
    "target_prompt": "从下拉列表选择该图斑核查或整改后的状态",
    "target_error": "只能选择下拉列表中的状态",
    "date_title": "日期",
    "date_prompt": "核查或整改完成的日期，如 2025-08-20",
    "date_error": "请填写 2000 年至 2100 年之间的日期",
    "files_title": "文件名",
    "files_prompt": "填写本文件夹（或 photos 文件夹）中的文件名，多个用；分隔",
    "guide": (
        "1. 每个图斑一行；灰色列为台账信息，请勿修改；黄色列由外业填写。\n"
        "2. 目标状态从下拉列表选择；已下发的图斑可直接选择认定结果（视为已核查）。\n"
        "3. 日期填写核查或整改完成的日期；填报人填写姓名。\n"
        "4. 照片和许可文件放入 photos 文件夹，在对应列填写文件名，多个用；分隔。\n"
        "5. “不是问题”须有许可文件或水印照片；“已销号”须有整改前、整改后照片。\n"
        "6. 填好后将整个文件夹交回河长办，由河长办导入（hetu apply）。"
    ),
    # reasons in the rejection report (…_退回.xlsx), read by the field team
    "why_no_patch_id": "该行有填写内容但没有图斑编号；请填写图斑编号",
    "why_unknown_patch": "图斑 {pid} 不在台账中；请核对图斑编号",
    "why_unknown_target": "“{text}”不是有效的状态；可选：{options}",
    "why_unreachable": "不能从“{state}”直接改为“{target}”；可选的目标状态：{options}",
    "why_none": "无",
    "why_bad_date": "日期无效：{text}{detail}，请写成 YYYY-MM-DD（如 2025-08-20）",
    "why_date_range": "日期无效：{day} 不在 2000 年至 2100 年之间，请写成 YYYY-MM-DD",
    "why_future_date": "日期 {day} 晚于今天；请填写实际完成的日期",
    "why_no_reporter": "没有填报人；请填写完成该项工作的人员姓名",
    "why_full_path": "{name}：请填写本文件夹或 photos 文件夹中的文件名，不要填写完整路径",
    "why_no_file": (
        "找不到文件 {name}（已在本文件夹及其 photos 文件夹中查找）；请放入文件或改正文件名"
    ),
    "why_not_image": (
        "{name} 不是照片（图片）；{kind}须为 JPG、PNG、HEIC 等照片，"
        "PDF 请填在“{permit}”或“{document}”列"
    ),
    "why_far_photo": (
        "整改后照片 {name} 的拍摄位置距图斑 {distance} 米，超过规定的 {limit} 米；请补拍现场照片"
    ),
    "why_before_last": "日期 {at} 早于该图斑上一条记录的时间 {last}；请填写不早于它的日期",
    "why_evidence": (
        "“{target}”须有佐证材料：{kinds}；请把文件放入 photos 文件夹并在对应列填写文件名"
    ),
    "why_refused": "台账未接受：{reason}",
    "evidence_or": " 或 ",
    "evidence_and": "、",
    "why_county_accepts": "已整改待验收：销号由县级验收（hetu review），外业表只能申请销号",
    "why_awaiting_review": "待审核：乡镇核查意见已报，等待县级审核（hetu review），不能再改",
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

#: Kinds of evidence (佐证材料).
EVIDENCE: dict[str, str] = {
    "photo_before": "整改前照片",
    "photo_after": "整改后照片",
    "photo_watermarked": "水印照片",
    "permit": "许可文件",
    "document": "其他材料",
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

#: Words of the escalation notices (geo.reports.escalation); the body wording is in the template.
NOTICE: dict[str, str] = {
    "chief": "河长",
    "number": "序号",
    "segment": "河段",
    "area": "面积(平方米)",
    "days_left": "距期限天数",
    "patch_list": "图斑清单",
    "location_map": "位置示意图",
    "north": "北",
    "legend_patch": "图斑",
    "legend_segment": "河段管理范围",
    "fallback": "该河段未设{wanted}河长，送{got}河长",
    "date": "{y}年{m}月{d}日",
    "regenerated": "已记入台账但文件缺失，已重新生成",
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

#: Scheduled exports (geo.reports.exports, .shapefile): period columns, alias sheet, snapshot layer.
EXPORT: dict[str, str] = {
    "new_in_period": "本期新增",
    "closed_in_period": "本期销号",
    "period": "统计期",
    "period_all": "全部",
    "aliases": "字段对照",
    "field_code": "字段代码",
    "field_name": "字段名称",
    "layer": "图斑台账",
}

#: Chief levels as a city district names them (seed 000, Liuzhou Chengzhong: 区级, 街道, 村).
LEVELS_DISTRICT: dict[str, str] = {
    "county": "区级",
    "township": "街道",
    "village": "村(社区)",
}

#: Headers of shoreline coverage (geo.field.coverage) and patrol completion (geo.field.patrols).
FIELD_WORK: dict[str, str] = {
    "shoreline_km": "岸线长度(公里)",
    "surveyed_km": "已巡查岸线(公里)",
    "gap_km": "未巡查岸线(公里)",
    "coverage_pct": "岸线覆盖率(%)",
    "n_tracks": "巡查轨迹数",
    "n_segments": "河段数",
    "township_code": "乡镇代码",
    "covered": "已巡查",
    "bank": "岸别",
    "done": "已巡河次数",
    "required": "应巡河次数",
    "completion_pct": "巡河完成率(%)",
    "shortfall": "欠巡次数",
    "behind": "未达标",
    "last_patrol": "最近巡河日期",
    "n_chiefs": "河长人数",
    "n_behind": "未达标人数",
    "coverage_sheet": "岸线巡查",
    "patrol_sheet": "河长巡河",
    "river": "河流(湖泊)",
    "rule": "巡河要求",
    "source": "依据",
    "credited": "达标次数",
    "n_periods": "考核周期数",
    "track": "轨迹",
    "surveyor": "巡河人",
    "day": "日期",
    "minutes": "时长(分钟)",
    "km": "里程(公里)",
    "counted": "计入",
    "reason": "未计入原因",
}

#: The 巡河提示卡 and 提醒卡 (geo.reports.cards).
CARDS: dict[str, str] = {
    "card": "巡河提示卡",
    "liaison": "巡河提醒卡",
    "lead": "经统计，{quarter}您负责的{rivers}条（个）河湖巡河次数未达到规定要求，具体如下：",
    "liaison_lead": "经统计，{quarter}贵单位联系的{n}名河长巡河次数未达到规定要求，请提醒督促：",
    "ask": "请按照规定频次、时长和里程履行巡河职责，发现问题及时处置或报告。",
    "river": "河流(湖泊)",
    "rule": "巡河要求",
    "required": "应巡次数",
    "done": "达标次数",
    "shortfall": "欠巡次数",
    "quarter": "统计期",
    "chain": "链首校验码",
}

#: 一河（湖）一档 (geo.reports.river_file).
RIVER_FILE: dict[str, str] = {
    "title": "{river}一河（湖）一档",
    "unnamed": "未命名河湖",
    "as_of": "数据截至",
    "year": "年度统计",
    "figures": "年度情况",
    "segments": "河段与河长",
    "problems": "问题清单",
    "patrols": "河长巡河",
    "shoreline": "岸线巡查",
    "item": "项目",
    "value": "数值",
    "n_segments": "河段数",
    "found": "本年发现问题",
    "closed": "本年销号",
    "open": "未清零问题（含挂账监管）",
    "overdue": "逾期问题",
    "recurrences": "反弹回潮",
    "shoreline_km": "岸线长度(公里)",
    "surveyed_km": "本年已巡查岸线(公里)",
    "patrol_pct": "巡河完成率(%)",
    "source": "问题来源",
    "earlier": "反弹自图斑",
    "chief": "河长",
    "none": "无",
}

#: Why a patrol track did not count (geo.field.patrols).
PATROLS: dict[str, str] = {
    "not_listed": "巡河人不在河长名录（也不是河长助理、巡查员）",
    "no_time": "轨迹无开始时间",
    "no_rule": "{level}级河长无巡河要求，请在设置 [patrols.levels] 中补充",
    "too_short": "时长不足（{got:g} 分钟，要求不少于 {need:g} 分钟）",
    "no_end": "轨迹无结束时间，无法核对巡河时长",
    "too_little": "里程不足（{got:.2f} 公里，要求不少于 {need:g} 公里）",
    "no_line": "轨迹无线路，无法核对巡河里程",
    "off_river": "未到责任河段（最近处距河段 {km:.2f} 公里，要求 {m:g} 米以内）",
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


#: Column names of patrol-app exports (geo.field.surveys): one word list per meaning, "|"-separated.
TRACK_WORDS: dict[str, str] = {
    "track_id": "轨迹编号|轨迹id|轨迹号|巡河编号|巡查编号|巡河记录编号|记录编号|轨迹名称",
    "surveyor": "巡查人|巡河人|巡查员|巡河人员|巡查人员|人员|姓名|上报人|采集人",
    "chief": "河长|河长姓名|巡河河长|责任河长",
    "time": "时间|定位时间|采集时间|巡查时间|巡河时间|记录时间|轨迹时间|gps时间",
    "date": "日期|巡查日期|巡河日期",
    "finding": "问题类型|发现问题|问题",
}

#: The shoreline layer of the map (geo.maps.status): covered and uncovered bank lines.
SHORELINE: dict[str, str] = {
    "layer": "岸线巡查",
    "covered": "已巡查岸线",
    "gap": "未巡查岸线",
    "by_township": "岸线巡查覆盖率（按乡镇）",
    "km": "公里",
}

#: The per-patch dossier (一斑一档, geo.reports.dossier): titles, headers, check results.
DOSSIER: dict[str, str] = {
    "title": "图斑档案（一斑一档）",
    "basics": "基本信息",
    "water": "河湖/河段",
    "chiefs": "责任河长",
    "overdue": "逾期",
    "not_overdue": "未逾期",
    "workdays": "个工作日",
    "days": "天",
    "imagery": "遥感影像",
    "no_imagery": "暂无影像",
    "chip_missing": "影像文件不在附件库中",
    "indicator": "指标",
    "value": "数值",
    "history": "状态记录",
    "at": "时间",
    "actor": "操作人",
    "action": "事项",
    "change": "状态变化",
    "note": "说明",
    "files": "附件",
    "evidence": "佐证材料",
    "no_evidence": "暂无佐证材料",
    "kind": "材料类型",
    "filename": "文件名",
    "taken_at": "拍摄时间",
    "position": "拍摄位置",
    "checks": "核验",
    "check_time": "时间",
    "check_gps": "位置",
    "check_ok": "符合",
    "check_before_issue": "早于下发",
    "check_missing": "缺失",
    "check_far": "距图斑过远",
    "distance": "距图斑{d}米",
    "links": "关联图斑（前后期）",
    "no_links": "无关联图斑",
    "direction": "前后",
    "earlier": "前期图斑",
    "later": "后期图斑",
    "map_no": "图上编号",
    "this_patch": "本图斑",
    "attrs": "原始属性",
    "field": "字段",
    "footer": "本档案根据图斑整改台账整理，数据截至{as_of}。",
    "phase_before": "前时相影像",
    "phase_after": "后时相影像",
    "indicators": "影像指标",
    "system_actor": "系统导入",
    "photo": "照片",
    "original": "原件",
    "acceptance": "验收情况",
    "acceptance_by": "验收人（签字）",
    "acceptance_town": "乡镇人民政府验收意见（盖章）",
    "acceptance_county": "县级河长制办公室复核意见（盖章）",
    "acceptance_date": "日期：　　　　年　　月　　日",
}

#: Headers of the quarterly 4+1 assessment of townships (geo.reports.assessment).
ASSESSMENT: dict[str, str] = {
    "township": "乡镇",
    "township_code": "乡镇代码",
    "n_due": "应销号数",
    "n_closed": "已销号数",
    "closure_rate": "销号率",
    "n_on_time": "按期销号数",
    "on_time_rate": "按期销号率",
    "n_overdue": "逾期图斑数",
    "overdue_patch_days": "逾期图斑·天数",
    "recurrences": "反弹回潮数",
    "closure_points": "销号率得分",
    "on_time_points": "按期销号得分",
    "overdue_points": "逾期项得分",
    "recurrence_points": "反弹回潮项得分",
    "score": "总分",
    "rank": "排名",
    "grade": "等次",
    "class": "类别",
    "no_class": "未分类",
    "sheet": "考核得分",
    "by_source_sheet": "按问题来源",
    "by_source_title": "按问题来源统计",
    "source": "问题来源",
    "title": "{period}乡镇河湖遥感图斑整改考核得分表",
    "period": "考核期：{start} 至 {end}",
    "notes": "评分说明",
}

#: The 等次 of an assessment (geo.policy.assessment.AssessmentRule.grade).
GRADES: dict[str, str] = {
    "excellent": "优秀",
    "good": "良好",
    "passing": "合格",
    "failing": "不合格",
}

#: The Excel 台账's summary, charts and survey sheets (geo.reports.summary).
LEDGER_SUMMARY: dict[str, str] = {
    "charts": "图表",
    "by_water": "按河湖统计",
    "by_chief_level": "按河长层级统计（图斑所在河段的最高级河长）",
    "chief_level": "河长层级",
    "no_water": "（未匹配河湖）",
    "overdue_list": "逾期图斑清单（按逾期工作日从多到少）",
    "overdue_workdays": "逾期工作日",
    "overdue_more": "另有 {n} 个逾期图斑未列出，见图斑台账（逾期行标红）",
    "none_overdue": "无逾期图斑",
    "overdue_by_township": "各乡镇逾期图斑数",
    "coverage_by_township": "岸线巡查覆盖率（按乡镇）",
    "coverage_by_segment": "岸线巡查覆盖率（按河段，从低到高）",
    "coverage_rule": "巡查轨迹两侧 {m} 米内的岸线计为已巡查",
    "patrol_by_level": "巡河完成情况（按河长层级）",
    "patrol_behind": "未达标河长（欠巡次数从多到少）",
    "none_behind": "无未达标河长",
    "chief_name": "河长姓名",
    "period_range": "{start} 至 {end}",
}

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

#: The escalation notices as 公文 (geo.reports.gongwen): titles, body texts, elements.
GONGWEN: dict[str, str] = {
    "chief": "河长",
    "no_chief": "相关河长",
    "no_organ": "属地乡镇人民政府",
    "coded_organ": "属地乡镇人民政府（区划代码{code}）",
    "workdays": "个工作日",
    "days": "天",
    "title": "关于{what}的{kind}",
    "what_reminder": "河湖遥感图斑整改期限即将届满",
    "what_notice": "限期整改河湖遥感图斑问题",
    "what_supervision": "加快整改河湖遥感图斑问题",
    "what_order": "限期整改河湖遥感图斑问题",
    "what_other": "河湖遥感图斑逾期未整改问题",
    "body_reminder": "您负责的河段内有{n}个河湖遥感图斑（见附件1）整改期限将于{deadline}届满。"
    "请督促责任单位抓紧整改，在期限内完成整改并上传整改前后照片等佐证材料，确保按期销号。",
    "body_notice": "经核查，你单位辖区内有{n}个河湖遥感图斑（见附件1）已超过整改期限"
    "{span}{unit}，仍未完成整改。请立即组织整改，于{deadline}前完成整改并反馈。",
    "body_supervision": "你单位辖区内有{n}个河湖遥感图斑（见附件1）已超过整改期限{span}{unit}，"
    "仍未整改到位，现予督办。请你单位高度重视，压实属地责任，于{deadline}前完成整改并反馈。"
    "逾期仍未整改的，将下达整改令。",
    "body_supervision_after": "你单位辖区内有{n}个河湖遥感图斑（见附件1）已超过整改期限"
    "{span}{unit}，我办已发出{prior}，至今仍未整改到位，现予督办。请你单位高度重视，压实属地"
    "责任，于{deadline}前完成整改并反馈。逾期仍未整改的，将下达整改令。",
    "body_order": "你单位辖区内有{n}个河湖遥感图斑（见附件1）已超过整改期限{span}{unit}，"
    "仍未整改到位。现责令你单位于{deadline}前完成整改并反馈。逾期拒不整改或整改不力的，"
    "将按程序追究相关责任。",
    "body_order_after": "你单位辖区内有{n}个河湖遥感图斑（见附件1）已超过整改期限{span}{unit}，"
    "经{prior}仍未整改到位。现责令你单位于{deadline}前完成整改并反馈。逾期拒不整改或整改不力的，"
    "将按程序追究相关责任。",
    "body_other": "下列{n}个河湖遥感图斑（见附件1）已超过整改期限{span}{unit}，仍未整改到位，"
    "现发出{kind}，请于{deadline}前完成整改并反馈。",
    "reply": "整改完成后，请填写整改情况反馈表（附件2），连同整改前后照片等佐证材料，"
    "于{deadline}前报送{issuer}。",
    "report_kind": "情况报告",
    "report_title": "关于河湖遥感图斑逾期未整改情况的报告",
    "report": "截至{as_of}，您负责的河段内有{n}个河湖遥感图斑超过整改期限{span}{unit}"
    "仍未整改到位（清单见附件），涉及{towns}。",
    "report_sent": "我办已于今日发文督促整改：{sent}。",
    "report_end": "特此报告。",
    "att_list": "河湖遥感图斑问题清单",
    "att_receipt": "整改情况反馈表（回执）",
    "attachments": "附件",
    "to_colon": "：",
    "cc": "抄送",
    "contact": "联系人",
    "phone": "联系电话",
    "seal": "（印章）",
    "receipt_title": "整改情况反馈表",
    "receipt_doc": "来文文号",
    "receipt_measures": "整改措施及完成情况",
    "receipt_done": "完成时间",
    "receipt_unit": "反馈单位（盖章）",
    "receipt_head": "负责人",
    "receipt_date": "反馈日期",
    "day_note_workdays": "天数按工作日计算（已扣除法定节假日，含调休上班日）。",
    "day_note_days": "天数按自然日计算。",
    "chain": "台账链首校验码 {code}。",
}

#: The 台账 sheet as a printable form (geo.reports.excel): the lines under the table.
LEDGER_FORM: dict[str, str] = {
    "signatures": "填报单位（盖章）：　　　　　　　　填报人：　　　　　　审核人：　　　　　　"
    "联系电话：　　　　　　　　填报日期：　　　　年　　月　　日",
    "unit": "逾期天数单位：{unit}",
    "workdays": "工作日",
    "calendar": "自然日",
}

#: The three lists an office publishes (问题清单, 责任清单, 任务清单: geo.reports.lists).
LISTS: dict[str, str] = {
    "problems": "问题清单",
    "duties": "责任清单",
    "tasks": "任务清单",
    "title": "{office}{period}河湖{sheet}",
    "file": "河湖三个清单_{period}.xlsx",
    "quarter": "{year}年第{q}季度",
    "month": "{year}年{month}月",
    "period": "统计期间",
    "to": "至",
    "source": "问题来源",
    "task": "整改任务",
    "task_verify": "核查认定",
    "task_rectify": "整改销号",
    "task_review": "监管复查",
    "task_done": "已完成",
    "due": "完成时限",
    "progress": "完成情况",
    "found_on": "发现（下发）日期",
    "note": "不含认定为“不是问题”的图斑，及统计期间开始前已销号的问题。",
}

#: The quarterly 通报 of the 4+1 assessment (geo.reports.bulletin).
BULLETIN: dict[str, str] = {
    "file": "通报",
    "kind": "通报",
    "to": "各乡镇人民政府",
    "title": "关于{when}河湖遥感图斑问题整改情况的通报",
    "intro": "为压实河湖长制责任，推进河湖遥感图斑问题整改销号，现将{when}全县河湖遥感图斑问题"
    "整改情况及乡镇考核结果通报如下。",
    "overall": "一、总体情况。{when}全县应销号图斑{due}个，已销号{closed}个，销号率{rate}；"
    "截至{end}，仍有{late}个图斑逾期未整改。",
    "ranking": "二、考核结果。各乡镇得分、排名及等次见附件1。",
    "excellent": "考核等次为优秀的：{towns}，予以通报表扬。",
    "failing": "考核等次为不合格的：{towns}，予以通报批评。",
    "late": "三、逾期未整改问题。截至{end}，{towns}共有{n}个图斑逾期未整改（清单见附件2）。",
    "ask": "四、工作要求。请各乡镇人民政府对照本通报，逐一落实整改，于{deadline}前完成整改并将"
    "整改情况报送{issuer}。",
    "att_ranking": "乡镇考核得分及等次",
    "att_late": "逾期未整改图斑清单",
    "rank": "排名",
    "score": "得分",
    "grade": "等次",
    "closure_rate": "销号率",
    "overdue": "逾期图斑数",
}

#: 核查 → 认定 → 整改 → 验收 → 复核 (:mod:`geo.policy.verification`, :mod:`geo.ledger.details`).
VERIFICATION: dict[str, str] = {
    "rates_note": (
        "注：核查完成率 = 已核查图斑（已认定为问题或不是问题）/ 下发图斑；"
        "整改销号率 = 已销号 / 问题图斑（已认定、挂账监管、整改中、待验收、已销号）；"
        "未清零含挂账监管；销号率 = 已销号 / 全部图斑，仅供对照。"
    ),
    "rates": "核查与整改（未清零含挂账监管）",
    "verify_deadline": "核查期限",
    "review_date": "监管复查日期",
    "rectify_deadline": "整改期限",
    "yes": "是",
    "no": "否",
    "town_government": "{town}人民政府",
    "demolished_unit": "平方米（拆除）",
    "cleared_t_unit": "吨（清理）",
    "cleared_m3_unit": "立方米（清理）",
    "passed": "验收通过",
    "returned": "验收退回",
    "recheck_ok": "回头看无反弹",
    "rebound": "反弹回潮",
    "verdict_not_problem": "不是问题",
    "verdict_not_problem_historic": "不是问题（历史不碍洪）",
    "verdict_problem_historic": "问题（历史碍洪，挂账监管）",
    "verdict_problem": "问题",
    "severity_general": "一般",
    "severity_serious": "较严重",
    "severity_major": "重大",
    "kind_verdict": "认定意见",
    "kind_duty": "落实责任",
    "kind_acceptance": "验收意见",
    "kind_proposal": "乡镇核查意见",
    "kind_review": "县级审核",
    "kind_recheck": "回头看",
    "field_category": "认定类别",
    "field_basis": "认定依据",
    "field_unit": "责任单位",
    "field_person": "责任人",
    "field_phone": "联系电话",
    "field_plan": "整改方案",
    "field_case_filed": "是否立案查处",
    "field_case_unit": "执法单位",
    "field_case_no": "案号",
    "field_demolished_m2": "拆除面积(平方米)",
    "field_cleared_t": "清理量(吨)",
    "field_cleared_m3": "清理量(立方米)",
    "field_inspector": "验收人",
    "field_opinion": "意见",
    "field_passed": "通过",
    "field_target": "建议认定为",
    "field_approved": "同意",
    "field_reason": "理由",
    "field_round": "轮次",
    "field_finding": "复查情况",
    "why_no_reason": "退回须写明理由（--reason，或审核表的意见栏）",
    "why_not_reviewable": "状态为“{state}”，不是待审核或已整改待验收，无须县级审核",
    "why_not_proposable": "乡镇只能提出认定意见（已认定、不是问题、挂账监管）或申请销号（已销号）",
    "why_no_proposal": "没有乡镇核查意见（建议认定为），无法同意；请退回或直接认定",
    "sheet_result": "审核结果",
    "sheet_note": "意见或理由",
    "approve": "同意",
    "return": "退回",
    "review_sheet": "县级审核",
    "review_foot": "同意：待审核图斑按乡镇核查意见认定，待验收图斑验收销号；退回须写理由",
    "recheck_sheet": "回头看",
    "county_office": "县河长办",
    "recheck_foot": "回头看抽样：已销号和挂账监管图斑按乡镇分层抽取 {share:.0%}，seed={seed}",
    "kind_feedback": "反馈",
    "kind_revisit": "回访",
    "field_content": "反馈内容",
    "field_satisfied": "是否满意",
    "field_note": "回访说明",
    "deadline_close": "办结期限",
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
