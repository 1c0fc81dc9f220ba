"""The Chinese of the documents Hetu writes.

Notices (公文), 台账 forms, dossiers, lists, bulletins, assessments, exports, cards and river files.

Part of :mod:`geo.labels`; import the tables from there.
"""

from __future__ import annotations

__all__ = [
    "ASSESSMENT",
    "BULLETIN",
    "CARDS",
    "DOSSIER",
    "EXPORT",
    "GONGWEN",
    "GRADES",
    "LEDGER_FORM",
    "LEDGER_SUMMARY",
    "LISTS",
    "NOTICE",
    "RIVER_FILE",
]

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
