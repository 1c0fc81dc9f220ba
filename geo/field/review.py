"""认定, propose and decide, 验收 and 回头看: the county's side of 核查 and 整改.

- :func:`record_verdict`: the 分类判定 of patches (认定类别, 依据, 严重程度, 是否碍洪, 二级类,
  corrected 问题类型 and 地物类别), moving each to the state its verdict means
  (:data:`geo.policy.verification.VERDICT_STATE`) or, with ``propose``, to 待审核
  (``proposed``) as a township's 核查意见 for the county to decide;
- :func:`record_duty`: 责任单位, 责任人 and phone, 整改措施 and 方案, 立案查处, 整改工程量;
- :func:`review`: the county approves or returns proposals (待审核 → the proposed verdict,
  or back to 核查中 with the reason) and 申请销号 (已整改待验收 → 已销号 with 验收人 and
  验收意见, or back to 整改中 with the reason); :func:`write_review_sheet` and
  :func:`read_review_sheet` do it for many;
- :func:`recheck_sample`, :func:`write_recheck_sheet`, :func:`apply_recheck`: 回头看 of
  closed and 挂账 patches, a seeded sample stratified by township; a failure reopens the
  patch as 反弹回潮 (to 整改中).

Every step is an event with its actor, all or nothing (:meth:`Ledger.apply_changes`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import SchemaError
from geo.field.filled import read_filled_sheet
from geo.fileio import xlsx_workbook
from geo.labels import COLUMNS, STATES, VERIFICATION, label
from geo.ledger.changes import Change, Problem
from geo.ledger.store import Ledger
from geo.policy.verification import VERDICT_STATE

__all__ = [
    "apply_recheck",
    "apply_review_sheet",
    "propose",
    "read_recheck_sheet",
    "read_review_sheet",
    "recheck_sample",
    "record_duty",
    "record_verdict",
    "review",
    "write_recheck_sheet",
    "write_review_sheet",
]

#: States a 回头看 draws from (已销号, 挂账监管).
RECHECK_STATES = ("closed", "monitored")
#: What a reviewed patch moves to: ``state -> (approved, returned)``.
_DECIDE = {"rectified": ("closed", "rectifying")}
_SHEET = ["patch_id", "township", "state", "issue_type", "water_name", "description"]


def _states(ledger: Ledger, ids: Iterable[str]) -> dict[str, str]:
    frame = ledger.patches()
    known = dict(zip(frame["patch_id"].astype(str), frame["state"].astype(str), strict=True))
    return {pid: known.get(pid, "") for pid in ids}


def _apply(ledger: Ledger, changes: list[Change], problems: list[Problem]) -> list[Problem]:
    if problems:
        return problems + ledger.apply_changes(changes, dry_run=True)
    return ledger.apply_changes(changes)


def _bad(pid: str, where: str, text: str, row: int | None = None) -> Problem:
    err = SchemaError(f"patch {pid}: {text}")
    return Problem(row, pid, where, str(err), err)


def record_verdict(
    ledger: Ledger,
    patch_ids: Sequence[str],
    verdict: Mapping[str, Any],
    *,
    actor: str,
    at: dt.datetime | str | None = None,
    propose: bool = False,
    opinion: str | None = None,
    deadline: dt.date | str | None = None,
) -> list[Problem]:
    """Record the 认定 of patches and move them, all or nothing; return the problems.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    patch_ids : sequence of str
        Patches in 已下发, 核查中 (or 待审核, for the county deciding differently).
    verdict : mapping
        Fields of :data:`geo.policy.verification.DETAIL_FIELDS` ``verdict``;
        ``category`` is required.
    actor : str
        Who: the county office, or with ``propose`` the township.
    at : datetime or str, optional
        When (default now).
    propose : bool
        Record a township's 核查意见: the patch waits in 待审核 for :func:`review`.
    opinion : str, optional
        The proposal's text (with ``propose``).
    deadline : date or str, optional
        The 整改期限 of a confirmed problem (default the office's rules).
    """
    category = verdict.get("category")
    target = VERDICT_STATE.get(str(category))
    states = _states(ledger, patch_ids)
    changes, problems = [], []
    for pid in patch_ids:
        if target is None:
            problems.append(_bad(pid, "category", f"verdict needs a category ({category!r})"))
            continue
        state = states[pid]
        via = ("verifying",) if state == "issued" and not propose else ()
        if propose:
            steps: tuple[str, ...] = ("proposed",)
            details: tuple = (
                ("verdict", dict(verdict)),
                ("proposal", {"target": target, "opinion": opinion}),
            )
        else:
            steps, details = (*via, target), (("verdict", dict(verdict)),)
        changes.append(Change(pid, steps, actor=actor, at=at, deadline=deadline, details=details))
    return _apply(ledger, changes, problems)


def propose(
    ledger: Ledger,
    patch_ids: Sequence[str],
    target: str,
    *,
    actor: str,
    at: dt.datetime | str | None = None,
    note: str | None = None,
) -> list[Problem]:
    """Record a township's proposal for the county to decide (``hetu review``), all or nothing.

    ``target`` 已认定, 不是问题 or 挂账监管: a 核查意见 (to 待审核); ``closed``: 申请销号 (to
    已整改待验收).
    """
    changes, problems = [], []
    for pid in patch_ids:
        if target == "closed":
            changes.append(Change(pid, ("rectified",), actor=actor, at=at, note=note))
        elif target in VERDICT_STATE.values():
            detail = ("proposal", {"target": target, "opinion": note})
            changes.append(Change(pid, ("proposed",), actor=actor, at=at, note=note,
                                  details=(detail,)))  # fmt: skip
        else:
            problems.append(_bad(pid, "state", VERIFICATION["why_not_proposable"]))
    return _apply(ledger, changes, problems)


def record_duty(
    ledger: Ledger,
    patch_ids: Sequence[str],
    duty: Mapping[str, Any],
    *,
    actor: str,
    at: dt.datetime | str | None = None,
) -> list[Problem]:
    """Record the responsibility and measures of problems (``duty`` fields), all or nothing."""
    changes = [Change(pid, (), actor=actor, at=at, details=(("duty", dict(duty)),))
               for pid in patch_ids]  # fmt: skip
    return _apply(ledger, changes, [])


def review(
    ledger: Ledger,
    *,
    approve: Sequence[str] = (),
    returned: Sequence[str] = (),
    reason: str | None = None,
    opinion: str | None = None,
    actor: str,
    inspector: str | None = None,
    at: dt.datetime | str | None = None,
) -> list[Problem]:
    """The county decides proposals and 申请销号, all or nothing; return the problems.

    A proposal (待审核) approved moves to the verdict it proposed; returned, back to 核查中.
    A rectification reported (已整改待验收, 申请销号) approved is 县级验收 passed: 已销号,
    recording 验收人 (``inspector``, default ``actor``) and 验收意见 (``opinion``);
    returned, back to 整改中 with the reason. A return needs ``reason``.
    """
    rows = pd.DataFrame(
        [(p, "approve", opinion or "", None) for p in approve]
        + [(p, "return", reason or "", None) for p in returned],
        columns=["patch_id", "result", "note", "row"],
    )
    return _review_many(ledger, rows, actor=actor, inspector=inspector, at=at)


def _review_many(
    ledger: Ledger,
    rows: pd.DataFrame,
    *,
    actor: str,
    at: dt.datetime | str | None,
    inspector: str | None = None,
) -> list[Problem]:
    """Review rows ``patch_id, result, note, row`` in one transaction (see :func:`review`)."""
    changes: list[Change] = []
    problems: list[Problem] = []
    states = _states(ledger, rows["patch_id"])
    found = ledger.details()
    for r in rows.itertuples(index=False):
        ok, text, state = r.result == "approve", r.note or None, states.get(r.patch_id, "")
        row = None if r.row is None or r.row != r.row else int(r.row)
        if not ok and not text:
            problems.append(_bad(r.patch_id, "reason", VERIFICATION["why_no_reason"], row))
            continue
        if state == "proposed":
            step = (
                found.get(r.patch_id, {}).get("proposal", {}).get("target") if ok else "verifying"
            )
            detail = ("review", {"approved": ok, "reason": text})
        elif state in _DECIDE:
            step = _DECIDE[state][0 if ok else 1]
            detail = ("acceptance", {"inspector": inspector or actor, "opinion": text,
                                     "passed": ok})  # fmt: skip
        else:
            why = VERIFICATION["why_not_reviewable"].format(state=label(STATES, state) or "-")
            problems.append(_bad(r.patch_id, "state", why, row))
            continue
        if not step:
            problems.append(_bad(r.patch_id, "proposal", VERIFICATION["why_no_proposal"], row))
            continue
        changes.append(Change(r.patch_id, (step,), actor=actor, at=at, note=text,
                              details=(detail,), row=row))  # fmt: skip
    return _apply(ledger, changes, problems)


def review_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The patches awaiting the county: 待审核 and 已整改待验收, by township and id."""
    rows = frame[frame["state"].isin(["proposed", "rectified"])]
    return rows[_SHEET].sort_values(["township", "patch_id"], ignore_index=True)


def _write_sheet(
    rows: pd.DataFrame, path: str | os.PathLike, *, title: str, choices: list[str], foot: str
) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with xlsx_workbook(p) as book:
        sheet = book.add_worksheet(title)
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        fill = book.add_format({"bg_color": "#FFF2CC", "border": 1})
        headers = [COLUMNS[c] for c in _SHEET]
        headers += [VERIFICATION["sheet_result"], VERIFICATION["sheet_note"]]
        sheet.write_row(0, 0, headers, head)
        for r, values in enumerate(rows[_SHEET].itertuples(index=False), start=1):
            for c, (name, v) in enumerate(zip(_SHEET, values, strict=True)):
                text = "" if v is None or v != v else str(v)
                sheet.write_string(r, c, label(STATES, text) if name == "state" else text)
            sheet.write_blank(r, len(_SHEET), None, fill)
            sheet.write_blank(r, len(_SHEET) + 1, None, fill)
        n = len(_SHEET)
        if len(rows):
            sheet.data_validation(1, n, len(rows), n, {"validate": "list", "source": choices})
        sheet.freeze_panes(1, 1)
        sheet.set_column(0, n + 1, 16)
        sheet.write_string(len(rows) + 2, 0, foot)
    return p


def write_review_sheet(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the patches awaiting review with a 同意/退回 drop-down and an opinion column."""
    return _write_sheet(
        review_rows(frame),
        path,
        title=VERIFICATION["review_sheet"],
        choices=[VERIFICATION["approve"], VERIFICATION["return"]],
        foot=VERIFICATION["review_foot"],
    )


def _read(path: str | os.PathLike, words: Mapping[str, str]) -> pd.DataFrame:
    """The filled rows (id and result given), each with the row Excel shows."""
    id_col, res_col = COLUMNS["patch_id"], VERIFICATION["sheet_result"]
    note_col = VERIFICATION["sheet_note"]
    df = read_filled_sheet(
        path, required=(id_col, res_col), optional=(note_col,), what="a review sheet"
    )
    out = []
    for row, r in df.iterrows():
        pid, text = r[id_col], r[res_col]
        if not pid or not text:
            continue
        if text not in words:
            raise SchemaError(
                f"{Path(path)} row {row} {res_col}: {text!r} is not {' or '.join(words)}"
            )
        out.append({"patch_id": pid, "result": words[text], "note": r[note_col][:1000], "row": row})
    return pd.DataFrame(out, columns=["patch_id", "result", "note", "row"])


def read_review_sheet(path: str | os.PathLike) -> pd.DataFrame:
    """Read a filled review sheet: ``patch_id, result (approve|return), note, row``."""
    return _read(path, {VERIFICATION["approve"]: "approve", VERIFICATION["return"]: "return"})


def apply_review_sheet(
    ledger: Ledger, path: str | os.PathLike, *, actor: str, at: dt.datetime | str | None = None
) -> list[Problem]:
    """Apply a filled review sheet, all or nothing: each row's note is its opinion or reason."""
    return _review_many(ledger, read_review_sheet(path), actor=actor, at=at)


def recheck_sample(frame: pd.DataFrame, *, share: float, seed: int) -> pd.DataFrame:
    """Draw the 回头看 sample: ``share`` of the closed and 挂账 patches of each township.

    At least one per township that has any; the same seed gives the same sample.
    """
    if not 0 < share <= 1:
        raise SchemaError(f"--sample must be a share in (0, 1], got {share}")
    rng = np.random.default_rng(seed)
    pool = frame[frame["state"].isin(RECHECK_STATES)].sort_values("patch_id")
    picked = []
    for _, stratum in pool.groupby("township", sort=True):
        n = min(len(stratum), max(1, math.ceil(share * len(stratum))))
        picked.append(stratum.iloc[np.sort(rng.choice(len(stratum), size=n, replace=False))])
    if not picked:
        return pd.DataFrame(columns=_SHEET)
    out = pd.DataFrame(pd.concat(picked)[_SHEET])
    return out.sort_values(["township", "patch_id"], ignore_index=True)


def write_recheck_sheet(
    sample: pd.DataFrame, path: str | os.PathLike, *, seed: int, share: float
) -> Path:
    """Write the 回头看 sheet: a 无反弹/反弹回潮 drop-down and a column for what was found."""
    return _write_sheet(
        sample,
        path,
        title=VERIFICATION["recheck_sheet"],
        choices=[VERIFICATION["recheck_ok"], VERIFICATION["rebound"]],
        foot=VERIFICATION["recheck_foot"].format(seed=seed, share=share),
    )


def read_recheck_sheet(path: str | os.PathLike) -> pd.DataFrame:
    """Read a filled 回头看 sheet: ``patch_id, result (ok|rebound), note, row``."""
    return _read(path, {VERIFICATION["recheck_ok"]: "ok", VERIFICATION["rebound"]: "rebound"})


def apply_recheck(
    ledger: Ledger,
    results: pd.DataFrame,
    *,
    actor: str,
    at: dt.datetime | str | None = None,
    round_name: str | None = None,
) -> list[Problem]:
    """Record 回头看 results, all or nothing; a 反弹回潮 reopens the patch (to 整改中).

    A 挂账监管 patch found as it was gets its next 监管 review date.
    """
    changes = []
    for r in results.itertuples(index=False):
        ok = r.result == "ok"
        detail = ("recheck", {"passed": ok, "finding": r.note or None, "round": round_name})
        steps = () if ok else ("rectifying",)
        changes.append(Change(r.patch_id, steps, actor=actor, at=at, note=r.note or None,
                              details=(detail,), row=r.row))  # fmt: skip
    return ledger.apply_changes(changes)
