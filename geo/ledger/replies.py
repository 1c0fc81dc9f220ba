"""反馈 and 回访 of a problem from a source (12345, 举报, 暗访 …).

A hotline case is answered twice: the office's reply to whoever reported it (反馈,
within ``[problems] feedback_days``: 福建 96133's 10 working days) and the call back
asking whether they are satisfied (回访). Each is a detail (:mod:`geo.ledger.details`,
kinds ``feedback`` and ``revisit``) written with an event of its own, so ``hetu verify``
covers it; the state does not change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geo.errors import NotFoundError, SchemaError
from geo.ledger.changes import Change
from geo.policy.sources import SOURCE_CODES, source_of
from geo.records import attr_value

__all__ = ["record_reply"]


def record_reply(
    ledger: Any,
    patch_id: str,
    *,
    actor: str,
    at: dt.datetime | str | None = None,
    feedback: str | None = None,
    satisfied: bool | None = None,
    note: str | None = None,
) -> list[str]:
    """Record the 反馈 (``feedback``) and/or the 回访 (``satisfied``, ``note``) of a problem.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    patch_id : str
        A problem ingested from a source (``hetu ingest … problems``).
    actor : str
        Who replied or called back (recorded).
    at : datetime or str, optional
        When (default now).
    feedback : str, optional
        What the reporter was told (up to 1,000 characters).
    satisfied : bool, optional
        The 回访: whether the reporter is satisfied; ``note`` what was said.

    Returns
    -------
    list of str
        The kinds recorded (``feedback``, ``revisit``).

    Raises
    ------
    SchemaError
        For nothing to record, a patch that is no problem from a source, or a bad field;
        NotFoundError for an unknown patch. Nothing is written then.
    """
    details: list[tuple[str, dict[str, Any]]] = []
    if feedback is not None:
        details.append(("feedback", {"content": feedback}))
    if satisfied is not None or note is not None:
        if satisfied is None:
            raise SchemaError(f"patch {patch_id}: a 回访 needs satisfied (yes or no)")
        details.append(("revisit", {"satisfied": satisfied, "note": note}))
    if not details:
        raise SchemaError(f"patch {patch_id}: give the 反馈 (feedback) or the 回访 (satisfied)")
    row = ledger.patch_row(patch_id)
    if row is None:
        raise NotFoundError(f"patch {patch_id} is not in the ledger")
    code = source_of(attr_value(row.get("attrs"), ("source",)))
    if code in ("issued", "selfcheck"):
        raise SchemaError(
            f"patch {patch_id} is {SOURCE_CODES[code]}, not a problem from a source: 反馈 and "
            "回访 are for cases of 12345, 举报, 暗访 … (hetu ingest LEDGER problems FILE)"
        )
    problems = ledger.apply_changes([Change(patch_id, (), actor, at, details=tuple(details))])
    if problems:
        raise problems[0].error
    return [kind for kind, _ in details]
