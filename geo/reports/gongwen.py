"""Escalation notices in the form an office sends (公文, GB/T 9704-2012 elements).

:func:`build_notice` turns the due rows of one (rung, chief) into a :class:`Notice`:
文号, 标题 关于…的<文种>, 主送 (the township governments of the patches' segments for
通知单/督办函/整改令, the chief for a 提示卡 or a 情况报告), 正文 with a date deadline and
the 反馈 requirement, worded by the rungs actually issued before, 附件 (the problem list
and a 回执), 落款, 成文日期, seal area, 联系人/电话 and 抄送 (the segment's chiefs and the
office's list). The HTML template (:func:`geo.reports.documents.render_notice`) and
the Word writer (:mod:`geo.reports.word`) both print a :class:`Notice`; every text in it
is plain text (escaped by the template, written as runs by python-docx).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import SettingsError
from geo.labels import ACTIONS, GONGWEN, LEVELS, TEXT, label
from geo.ledger.store import Ledger
from geo.policy.documents import REPORTED_LEVELS, DocumentRule
from geo.policy.workdays import WorkCalendar
from geo.records import is_missing

#: The kind of the situation report that goes to a county (or higher) chief.
REPORT = "report"


@dataclass
class Notice:
    """One document, every element as plain text (see the module doc)."""

    kind: str
    kind_label: str
    title: str
    doc_no: str
    issuer: str
    to: list[str]
    paragraphs: list[str]
    deadline: str
    attachments: list[str]
    cc: list[str]
    date_text: str
    contact: str
    receipt: bool
    seal: bytes | None = None
    related: dict[str, str] = field(default_factory=dict)


def date_text(day: dt.date) -> str:
    """``2026年5月15日``."""
    return f"{day.year}年{day.month}月{day.day}日"


def organ_of(township: str) -> str:
    """The government of a township name: 清溪镇 → 清溪镇人民政府, 城关街道 → 城关街道办事处."""
    name = township.strip()
    if not name:
        return GONGWEN["no_organ"]
    if name.endswith(("人民政府", "办事处", "管委会")):
        return name
    if name.endswith("街道"):
        return name + "办事处"
    if name.isdigit():
        return GONGWEN["coded_organ"].format(code=name)
    return name + "人民政府"


def chief_text(level: str, name: str, title: str) -> str:
    """``县级河长王建国（县委常委）``."""
    head = f"{label(LEVELS, level)}{GONGWEN['chief']}" if level else ""
    return f"{head}{name}" + (f"（{title}）" if title else "")


def reply_by(day: dt.date, days: int, calendar: WorkCalendar | None) -> dt.date:
    """The day ``days`` counted days after ``day`` (working days on ``calendar``)."""
    return calendar.add(day, days) if calendar is not None else day + dt.timedelta(days=days)


def _prior_words(prior: set[str]) -> str:
    """What was sent before, in order (``提示卡、通知单``), or ``""``."""
    order = ("reminder", "notice", "supervision", "order")
    return "、".join(label(ACTIONS, a) for a in order if a in prior)


def build_notice(
    rows: pd.DataFrame,
    *,
    kind: str,
    as_of: dt.date,
    issuer: str,
    rule: DocumentRule,
    calendar: WorkCalendar | None,
    doc_no: str,
    cc_chiefs: list[str],
    related: dict[str, str] | None = None,
    seal: bytes | None = None,
) -> Notice:
    """Build one notice of ``kind`` (a rung, or :data:`REPORT`) from its due rows.

    Parameters
    ----------
    rows : DataFrame
        Rows of :func:`geo.reports.escalation.due_escalations` of one (rung, chief).
    kind : str
        The rung, or :data:`REPORT` for the situation report to the rows' chief.
    as_of : date
        The 成文日期.
    issuer : str
        发文机关.
    rule : DocumentRule
        ``settings.documents``.
    calendar : WorkCalendar or None
        Counts the reply days (None: calendar days).
    doc_no : str
        The 文号 taken for this document.
    cc_chiefs : list of str
        The chiefs of the patches' segments (:func:`chief_text`), copied.
    related : dict, optional
        For a report: the 文号 of the documents sent the same day (文种 → 文号s).
    seal : bytes, optional
        The seal image.
    """
    first = rows.iloc[0]
    action = str(first["action"])
    n = len(rows)
    workdays = calendar is not None
    unit = GONGWEN["workdays"] if workdays else GONGWEN["days"]
    prior_sets = [set(str(p).split(",")) - {""} for p in rows["issued_before"]]
    prior = set.intersection(*prior_sets) if prior_sets else set()
    towns = list(dict.fromkeys(str(o) for o in rows["township_organ"]))
    late = [int(d) for d in rows["overdue_days"]]
    span = f"{min(late)}" if min(late) == max(late) else f"{min(late)}至{max(late)}"
    chief = chief_text(str(first["chief_level"] or ""), str(first["chief_name"] or ""),
                       str(first["chief_title"] or ""))  # fmt: skip
    if kind == REPORT:
        to = [chief or GONGWEN["no_chief"]]
        sent = "；".join(f"{k}（{v}）" for k, v in (related or {}).items())
        body = [GONGWEN["report"].format(n=n, towns="、".join(towns), span=span, unit=unit,
                                         as_of=date_text(as_of))]  # fmt: skip
        if sent:
            body.append(GONGWEN["report_sent"].format(sent=sent))
        body.append(GONGWEN["report_end"])
        return Notice(
            kind=kind, kind_label=GONGWEN["report_kind"], title=GONGWEN["report_title"],
            doc_no=doc_no, issuer=issuer, to=to, paragraphs=body, deadline="",
            attachments=[GONGWEN["att_list"]], cc=[], date_text=date_text(as_of),
            contact=_contact(rule), receipt=False, seal=seal, related=related or {},
        )  # fmt: skip
    kind_label = label(ACTIONS, action)
    by_chief = rule.addressee(action) == "chief" and chief
    to = [chief] if by_chief else towns
    if action == "reminder":
        due = min(dt.date.fromisoformat(str(d)[:10]) for d in rows["deadline"])
    else:
        due = reply_by(as_of, int(rule.reply_days.get(action, 10)), calendar)
    words = {
        "n": n,
        "span": span,
        "unit": unit,
        "deadline": date_text(due),
        "issuer": issuer,
        "prior": _prior_words(prior),
    }
    key = action if action in ("reminder", "notice", "supervision", "order") else "other"
    text = GONGWEN[f"body_{key}"]
    if key in ("supervision", "order") and words["prior"]:
        text = GONGWEN[f"body_{key}_after"]
    body = [text.format(**words, kind=kind_label)]
    body.append(GONGWEN["reply"].format(**words))
    cc = [c for c in cc_chiefs if c != chief or not by_chief]
    return Notice(
        kind=action, kind_label=kind_label,
        title=GONGWEN["title"].format(kind=kind_label,
                                      what=GONGWEN.get(f"what_{key}", GONGWEN["what_other"])),
        doc_no=doc_no, issuer=issuer, to=to, paragraphs=body, deadline=date_text(due),
        attachments=[GONGWEN["att_list"], GONGWEN["att_receipt"]],
        cc=list(dict.fromkeys([*cc, *rule.cc])), date_text=date_text(as_of),
        contact=_contact(rule), receipt=True, seal=seal,
    )  # fmt: skip


def _contact(rule: DocumentRule) -> str:
    parts = []
    if rule.contact:
        parts.append(f"{GONGWEN['contact']}：{rule.contact}")
    if rule.phone:
        parts.append(f"{GONGWEN['phone']}：{rule.phone}")
    return "　".join(parts)


def reported(rows: pd.DataFrame) -> bool:
    """Whether the rows' rung is for a chief that receives a 情况报告 (:data:`REPORTED_LEVELS`).

    The rung's own level counts (a 通知单 that falls back to a county chief because the
    segment has no township chief makes no report).
    """
    level = rows.iloc[0]["to_level"]
    return not is_missing(level) and str(level) in REPORTED_LEVELS


def cc_of(chiefs: pd.DataFrame, segment_ids: list[Any]) -> list[str]:
    """The chiefs of ``segment_ids`` (serving ones, given), highest level first, as text."""
    order = {lv: i for i, lv in enumerate(LEVELS)}
    mine = chiefs[chiefs["segment_id"].isin([s for s in segment_ids if not is_missing(s)])]
    mine = mine.assign(_o=mine["level"].map(order)).sort_values(["_o", "chief_id"])
    out = []
    for lv, name, title in zip(mine["level"], mine["name"], mine["title"], strict=True):
        out.append(chief_text(str(lv), str(name), "" if is_missing(title) else str(title)))
    return list(dict.fromkeys(out))


def segment_organs(ledger: Ledger) -> dict[str, str]:
    """Segment id → the government of its township (主送 of organ-addressed rungs)."""
    known = {**ledger.area_names(), **ledger.settings.townships}
    segs = ledger.segments()
    out = {}
    for sid, code in zip(segs["segment_id"], segs["admin_code"], strict=True):
        code9 = "" if is_missing(code) else str(code).strip()[:9]
        if len(code9) == 9:
            out[str(sid)] = organ_of(known.get(code9, code9))
    return out


def own_organ(township: Any) -> str:
    """The government of a patch's own township (status frame ``township``), if named."""
    text = "" if is_missing(township) else str(township)
    return organ_of("" if text == TEXT["no_township"] else text)


def seal_image(path: str | None) -> bytes | None:
    """The office's seal image (PNG), or None; a missing or non-PNG file is refused."""
    if not path:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SettingsError(
            f"[documents] seal {path}: {exc.strerror or exc}; fix the path or leave it out"
        ) from None
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) > 2_000_000:
        raise SettingsError(f"[documents] seal {path}: not a PNG image under 2 MB; give a PNG")
    return data
