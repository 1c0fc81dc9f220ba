"""The upper level's sample audit (抽查复核) of dismissed and closed patches.

:func:`audit_sample` draws a seeded sample stratified by township and state
(the same seed gives the same sample); :func:`write_audit_sheet` writes it as
an Excel sheet with a drop-down for the result; :func:`apply_audit` reads the
results back: ``keep`` (维持) records the check, ``overturn`` (改判) moves a
dismissed patch to ``confirmed`` and reopens a closed one for rectification,
all or nothing, each as an event.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import SchemaError
from geo.field.filled import read_filled_sheet
from geo.fileio import xlsx_workbook
from geo.labels import COLUMNS, STATES, TEXT, label
from geo.ledger.changes import Change, Problem
from geo.ledger.store import Ledger

#: Audit results and their Chinese words in the sheet.
RESULTS = {"keep": TEXT["audit_keep"], "overturn": TEXT["audit_overturn"]}
#: Where an overturned verdict goes.
OVERTURN = {"dismissed": "confirmed", "closed": "rectifying"}
_SHEET_COLUMNS = ["patch_id", "township", "state", "batch_id", "water_name", "segment_id"]
_SHEET_COLUMNS += ["description"]


def audit_sample(
    frame: pd.DataFrame,
    *,
    seed: int,
    fraction: float = 0.2,
    minimum: int = 1,
    states: Sequence[str] = ("dismissed", "closed"),
) -> pd.DataFrame:
    """Draw a sample of patches stratified by township and state.

    Parameters
    ----------
    frame : DataFrame
        The status frame (:meth:`geo.ledger.store.Ledger.status_frame`).
    seed : int
        The sample's seed, to be recorded with it.
    fraction : float
        Share drawn from each stratum, rounded up.
    minimum : int
        At least this many from each stratum (or all, if fewer).
    states : sequence of str
        The verdicts audited.

    Returns
    -------
    DataFrame
        The drawn patches, sorted by township, state and id.
    """
    if not 0 < fraction <= 1:
        raise SchemaError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    pool = frame[frame["state"].isin(states)].sort_values("patch_id")
    picked = []
    for _, stratum in pool.groupby(["township", "state"], sort=True):
        n = min(len(stratum), max(minimum, math.ceil(fraction * len(stratum))))
        picked.append(stratum.iloc[np.sort(rng.choice(len(stratum), size=n, replace=False))])
    if not picked:
        return pd.DataFrame(columns=_SHEET_COLUMNS)
    out = pd.concat(picked)[_SHEET_COLUMNS]
    return pd.DataFrame(out).sort_values(["township", "state", "patch_id"], ignore_index=True)


def write_audit_sheet(sample: pd.DataFrame, path: str | os.PathLike, *, seed: int) -> Path:
    """Write the sample as an Excel sheet with a result drop-down (维持/改判) and a note column."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with xlsx_workbook(p) as book:
        sheet = book.add_worksheet(TEXT["audit"])
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        headers = [COLUMNS[c] for c in _SHEET_COLUMNS] + [TEXT["audit_result"], TEXT["audit_note"]]
        sheet.write_row(0, 0, headers, head)
        for r, row in enumerate(sample.itertuples(index=False), start=1):
            values = [
                label(STATES, v) if c == "state" else v
                for c, v in zip(_SHEET_COLUMNS, row, strict=True)
            ]
            for c, v in enumerate(values):
                sheet.write_string(r, c, "" if v is None or v != v else str(v))
        n = len(_SHEET_COLUMNS)
        if len(sample):
            sheet.data_validation(
                1, n, len(sample), n, {"validate": "list", "source": list(RESULTS.values())}
            )
        sheet.freeze_panes(1, 1)
        sheet.set_column(0, n + 1, 16)
        sheet.write_string(len(sample) + 2, 0, f"seed={seed}")
    return p


def read_audit_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read a filled audit sheet: ``patch_id, result (keep|overturn), note, row``."""
    id_col, res_col, note_col = COLUMNS["patch_id"], TEXT["audit_result"], TEXT["audit_note"]
    df = read_filled_sheet(
        path, required=(id_col, res_col), optional=(note_col,), what="an audit sheet"
    )
    words = {v: k for k, v in RESULTS.items()}
    rows = []
    for row, r in df.iterrows():
        if not r[id_col] or r[id_col].startswith("seed="):
            continue
        result = words.get(r[res_col], r[res_col] or None)
        rows.append({"patch_id": r[id_col], "result": result, "note": r[note_col], "row": row})
    return pd.DataFrame(rows, columns=["patch_id", "result", "note", "row"])


def apply_audit(
    ledger: Ledger,
    results: pd.DataFrame,
    *,
    actor: str,
    at: dt.datetime | str | None = None,
) -> list[Problem]:
    """Apply audit results, all or nothing; return the problems (empty when applied).

    Rows without a result are skipped; ``keep`` records an ``audit_keep``
    event; ``overturn`` moves the patch per :data:`OVERTURN`.
    """
    state = ledger.patches().set_index("patch_id")["state"]
    changes, problems = [], []
    for r in results.itertuples(index=False):
        if not r.result:
            continue
        note = r.note or None
        if r.result == "keep":
            changes.append(
                Change(
                    r.patch_id, (), actor=actor, at=at, note=note, action="audit_keep", row=r.row
                )
            )
        elif r.result == "overturn":
            target = OVERTURN.get(state.get(r.patch_id, ""), "confirmed")
            changes.append(Change(r.patch_id, (target,), actor=actor, at=at, note=note, row=r.row))
        else:
            err = SchemaError(
                f"row {r.row}: result {r.result!r} is not {' or '.join(RESULTS.values())}"
            )
            problems.append(Problem(r.row, r.patch_id, "result", str(err), err))
    if problems:
        return problems + ledger.apply_changes(changes, dry_run=True)
    return ledger.apply_changes(changes)
