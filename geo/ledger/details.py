"""What a step records besides a state: the verdict, the responsibility, the 验收, the 回头看.

A detail is a row of ``patch_details`` (migration ``0010_verification``) written with an
event of the same patch, actor and time whose action is the detail's kind (``verdict``
认定意见, ``duty`` 落实责任, ``acceptance`` 验收意见, ``proposal`` 乡镇核查意见, ``review``
县级审核, ``recheck`` 回头看); the event's ``content`` records the row's digest, so
``hetu verify`` sees a detail edited behind Hetu's back. Fields and bounds:
:data:`geo.policy.verification.DETAIL_FIELDS`.

:func:`latest_details` folds them per patch (a later detail of a kind overrides the
fields it gives); :func:`detail_columns` turns them into the columns of the status frame
(认定类别, 严重程度, 责任单位, 整改措施 …), the default 责任单位 filled in from the
township and the settings' ``duty_units``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from geo.labels import COLUMNS, ISSUE_TYPES, PROBLEMS, SOURCES, TEXT, VERIFICATION, label
from geo.policy.sources import source_of
from geo.policy.verification import stage_of
from geo.records import attr_value, content_digest

__all__ = [
    "DETAIL_COLUMNS",
    "corrected_types",
    "describe",
    "detail_columns",
    "detail_id",
    "fold",
    "latest_details",
]

#: Columns the details add to the status frame, in order.
DETAIL_COLUMNS = [
    "deadline_kind",
    "feature_class",
    "verdict_category",
    "verdict_basis",
    "severity",
    "blocks_flood",
    "subtype",
    "duty_unit",
    "duty_person",
    "duty_phone",
    "measures",
    "case",
    "workload",
    "acceptance",
    "recheck",
    "source",
    "accept_by",
    "feedback_by",
    "close_by",
    "feedback",
    "revisit",
]


def detail_id(patch_id: str, kind: str, at: str, data: Mapping[str, Any]) -> str:
    """A detail's id: ``patch/kind/`` and 12 hex digits of its content (stable, unique)."""
    digest = content_digest([patch_id, kind, at, json.dumps(data, sort_keys=True)])
    return f"{patch_id}/{kind}/{digest[:12]}"


def latest_details(conn: Any, *, as_of: dt.date | str | None = None) -> dict[str, dict]:
    """Per patch, per kind, the fields of its details folded in time order (up to ``as_of``)."""
    sql = "SELECT patch_id, kind, data, actor, at FROM patch_details"
    params: list[Any] = []
    if as_of is not None:
        sql += " WHERE substr(at, 1, 10) <= ?"
        params.append(str(as_of)[:10])
    out: dict[str, dict[str, dict[str, Any]]] = {}
    if not conn.has_table("patch_details"):  # a ledger not yet migrated to 0010 has none
        return out
    rows = conn.execute(sql + " ORDER BY at, fid", params).fetchall()
    return fold(rows)


def fold(rows: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """Fold rows ``(patch_id, kind, data, actor, at)`` in order into :func:`latest_details`."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for pid, kind, data, actor, at in rows:
        try:
            fields = json.loads(data)
        except ValueError:
            continue
        slot = out.setdefault(pid, {}).setdefault(kind, {})
        slot.update(fields)
        slot["_actor"], slot["_at"] = actor, at
    return out


def _stage(state: str) -> str:
    """The stage a patch's last deadline belongs to (a dismissal ends 核查)."""
    return "verify" if state == "dismissed" else stage_of(state)


def _yes(value: Any) -> str:
    return "" if value is None else (VERIFICATION["yes"] if value else VERIFICATION["no"])


def _number(value: Any, unit: str) -> str:
    return "" if value is None else f"{float(value):g}{unit}"


def detail_columns(
    frame: pd.DataFrame, details: Mapping[str, Mapping[str, Mapping[str, Any]]], settings: Any
) -> pd.DataFrame:
    """The :data:`DETAIL_COLUMNS` of each patch of ``frame`` (Chinese text, ``""`` for none).

    The 责任单位 of a patch without one recorded is its township's government and the
    settings' 行业主管部门 for its problem type (``[verification.duty_units]``).
    """
    classes = {c.key: c.label for c in settings.classes}
    units = getattr(settings, "duty_units", {})
    rows = []
    kinds = {"verify": "verify_deadline", "review": "review_date", "rectify": "rectify_deadline"}
    attrs = frame["attrs"] if "attrs" in frame else [None] * len(frame)
    for pid, town, kind, state, due, extra in zip(
        frame["patch_id"], frame["township"], frame["issue_type"], frame["state"],
        frame["deadline"], attrs, strict=True,
    ):  # fmt: skip
        d = details.get(str(pid), {})
        v, duty = d.get("verdict", {}), d.get("duty", {})
        acc, rec = d.get("acceptance", {}), d.get("recheck", {})
        kind = v.get("issue_type", kind)
        default_unit = "、".join(
            x
            for x in (
                VERIFICATION["town_government"].format(town=town)
                if town and town != TEXT["no_township"]
                else "",
                units.get(str(kind), ""),
            )
            if x
        )
        case = ""
        if duty.get("case_filed") is not None:
            case = _yes(duty["case_filed"])
            extra = " ".join(str(duty[k]) for k in ("case_unit", "case_no") if duty.get(k))
            case = f"{case} {extra}".strip()
        work = "；".join(
            x
            for x in (
                _number(duty.get("demolished_m2"), VERIFICATION["demolished_unit"]),
                _number(duty.get("cleared_t"), VERIFICATION["cleared_t_unit"]),
                _number(duty.get("cleared_m3"), VERIFICATION["cleared_m3_unit"]),
            )
            if x
        )
        accepted = ""
        if acc:
            accepted = "；".join(
                str(x)
                for x in (
                    VERIFICATION["passed"] if acc.get("passed", True) else VERIFICATION["returned"],
                    acc.get("inspector", acc.get("_actor", "")),
                    str(acc.get("_at", ""))[:10],
                    acc.get("opinion", ""),
                )
                if x
            )
        checked = ""
        if rec:
            checked = "；".join(
                str(x)
                for x in (
                    VERIFICATION["recheck_ok"] if rec.get("passed") else VERIFICATION["rebound"],
                    str(rec.get("_at", ""))[:10],
                    rec.get("finding", ""),
                )
                if x
            )
        source = source_of(attr_value(extra, ("source",)))
        dates = {k: attr_value(extra, (k,)) or "" for k in ("accept_by", "feedback_by", "close_by")}
        due_kind = ""
        if not (due is None or due != due or due == ""):
            stage = "verify" if state == "dismissed" else stage_of(str(state))
            due_kind = VERIFICATION[kinds[stage]]
            if dates["close_by"] and str(due)[:10] == dates["close_by"]:
                due_kind = VERIFICATION["deadline_close"]
        rows.append(
            {
                "deadline_kind": due_kind,
                "feature_class": classes.get(v.get("feature_class", ""), ""),
                "verdict_category": VERIFICATION.get(f"verdict_{v['category']}", "")
                if "category" in v
                else "",
                "verdict_basis": v.get("basis", ""),
                "severity": VERIFICATION.get(f"severity_{v['severity']}", "")
                if "severity" in v
                else "",
                "blocks_flood": _yes(v.get("blocks_flood")),
                "subtype": v.get("subtype", ""),
                "duty_unit": duty.get("unit") or default_unit,
                "duty_person": duty.get("person", ""),
                "duty_phone": duty.get("phone", ""),
                "measures": duty.get("measures", ""),
                "case": case,
                "workload": work,
                "acceptance": accepted,
                "recheck": checked,
                "source": SOURCES[source],
                **dates,
                "feedback": _dated(d.get("feedback", {}), "content"),
                "revisit": _revisit(d.get("revisit", {})),
            }
        )
    out = pd.DataFrame(rows, columns=DETAIL_COLUMNS, index=frame.index)
    return out.fillna("")


def _dated(found: Mapping[str, Any], key: str) -> str:
    """``day；text`` of a detail (``""`` when none)."""
    if not found:
        return ""
    return "；".join(x for x in (str(found.get("_at", ""))[:10], str(found.get(key, ""))) if x)


def _revisit(found: Mapping[str, Any]) -> str:
    """``满意/不满意；day；note`` of a 回访 (``""`` when none)."""
    if not found:
        return ""
    said = found.get("satisfied")
    word = "" if said is None else PROBLEMS["satisfied" if said else "unsatisfied"]
    return "；".join(
        x for x in (word, str(found.get("_at", ""))[:10], str(found.get("note", ""))) if x
    )


def corrected_types(details: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, str]:
    """The 问题类型 each patch was corrected to at 认定 (only those corrected)."""
    return {
        pid: d["verdict"]["issue_type"]
        for pid, d in details.items()
        if "issue_type" in d.get("verdict", {})
    }


def describe(kind: str, data: Mapping[str, Any]) -> str:
    """One line for the event note of a detail (Chinese field names)."""
    parts = []
    for name, value in data.items():
        head = COLUMNS.get(name) or VERIFICATION.get(f"field_{name}", name)
        if name == "issue_type":
            value = label(ISSUE_TYPES, str(value))
        parts.append(f"{head}：{value}")
    return f"{VERIFICATION.get(f'kind_{kind}', kind)}（{'；'.join(parts)}）"
