"""The Chinese of the work in the field.

Field sheets, patrols and their rules, shoreline coverage, 核查 and 认定, evidence, patrol-app
column words.

Part of :mod:`geo.labels`; import the tables from there.
"""

from __future__ import annotations

__all__ = [
    "EVIDENCE",
    "FIELDWORK",
    "FIELD_WORK",
    "PATROLS",
    "SHORELINE",
    "TRACK_WORDS",
    "VERIFICATION",
]

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


#: Kinds of evidence (佐证材料).
EVIDENCE: dict[str, str] = {
    "photo_before": "整改前照片",
    "photo_after": "整改后照片",
    "photo_watermarked": "水印照片",
    "permit": "许可文件",
    "document": "其他材料",
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
