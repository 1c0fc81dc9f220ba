"""巡河提示卡 and 提醒卡: the 卡 of 卡单函令, to the chiefs behind on their patrols.

Seed 株洲 names the four tools of 卡单函令; the 卡 is a quarterly patrol reminder card to each
chief who patrolled less than his rules ask (:mod:`geo.policy.patrols`), and a 提醒卡 to
his liaison unit (联系单位) when the chiefs' list names one (an extra column ``联系单位``
or ``liaison``). :func:`patrol_cards` counts the quarter's patrols per chief and river
(:func:`geo.field.patrols.patrol_report_ledger`), writes one HTML card per chief behind
(and per liaison unit), and records each in the ledger as an event of the ledger itself
(action ``patrol_card``, its note naming the quarter, the chief and the file): files are
written into a staging folder first and moved into place once the events are committed,
so a card is never recorded without its file; a second run for the same quarter writes
only the recorded cards whose file is missing.

Every text from the ledger (names, rivers, units) is escaped: the page is built from
fixed strings and :func:`html.escape`, never compiled as a template.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geo.clock import now
from geo.fileio import move_into_place, staging_folder, write_atomic
from geo.labels import CARDS, LEVELS, label
from geo.ledger.digests import LEDGER_ID
from geo.records import attr_value
from geo.reports.assessment import quarter_bounds
from geo.reports.documents import bounded_name, output_folder
from geo.reports.pages import page, table

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

__all__ = ["CARD_ACTION", "CardsResult", "patrol_cards", "recorded_cards"]

log = logging.getLogger(__name__)

#: The action of a card's event.
CARD_ACTION = "patrol_card"
#: Extra columns of a chiefs' list naming a chief's liaison unit.
LIAISON_KEYS = ("联系单位", "liaison", "河长联系单位")


@dataclass
class CardsResult:
    """What :func:`patrol_cards` wrote: card files, events recorded, cards rewritten."""

    files: list[Path] = field(default_factory=list)
    events: int = 0
    rewritten: list[Path] = field(default_factory=list)
    behind: int = 0


def recorded_cards(ledger: Ledger, quarter: str) -> dict[str, str]:
    """The cards recorded for ``quarter``: file name → chief id (or liaison unit)."""
    out = {}
    for note in ledger.ledger_events(CARD_ACTION)["note"].dropna():
        try:
            data = json.loads(note)
        except ValueError:
            continue
        if data.get("quarter") == quarter:
            out[data["file"]] = data["to"]
    return out


def _liaison(chiefs: pd.DataFrame) -> dict[str, str]:
    """Chief id → liaison unit, from the chiefs' extra columns."""
    attrs = chiefs["attrs"] if "attrs" in chiefs.columns else [None] * len(chiefs)
    units = (attr_value(a, LIAISON_KEYS) for a in attrs)
    return {cid: u for cid, u in zip(chiefs["chief_id"].astype(str), units, strict=True) if u}


def _page(title: str, to: str, lead: str, rows: pd.DataFrame, *, office: str, day: dt.date,
          quarter: str, chain: str) -> str:  # fmt: skip
    """One card as a self-contained page (every value escaped)."""
    cols = ["river", "rule", "required", "credited", "shortfall"]
    heads = {c: CARDS["done" if c == "credited" else c] for c in cols}
    return page(
        title,
        [
            f"<p>{escape(to)}：</p><p>{escape(lead)}</p>",
            table(rows[cols], heads),
            f"<p>{escape(CARDS['ask'])}</p>",
            f'<p class="sign">{escape(office)}<br>{day.year}年{day.month}月{day.day}日</p>',
            f'<p class="note">{escape(CARDS["quarter"])}：{escape(quarter)}　'
            f"{escape(CARDS['chain'])}：{escape(chain)}</p>",
        ],
    )


def patrol_cards(
    ledger: Ledger,
    out_dir: str | os.PathLike,
    *,
    quarter: str,
    actor: str | None = None,
    day: dt.date | None = None,
) -> CardsResult:
    """Issue the quarter's 巡河提示卡 to the chiefs behind, and 提醒卡 to their liaison units.

    Parameters
    ----------
    ledger : Ledger
        The open ledger (its tracks, chiefs, segments and ``[patrols]`` rules).
    out_dir : path-like
        The folder of the cards (created).
    quarter : str
        ``2026Q1``: the patrols of that quarter, by the periods ending in it.
    actor : str, optional
        Who issues (default the office's name).
    day : datetime.date, optional
        The cards' date (default today).

    Returns
    -------
    CardsResult

    Raises
    ------
    SchemaError
        For a quarter not written like ``2026Q1``.
    OutputError
        If ``out_dir`` cannot be a folder (nothing is recorded).
    """
    from geo.field.patrols import patrol_report_ledger

    start, end = quarter_bounds(quarter)
    folder = output_folder(out_dir, what="cards")
    office = ledger.settings.office_name
    actor = actor or office
    day = day or now().date()
    report = patrol_report_ledger(ledger, start=start, end=end)
    late = report.rivers[report.rivers["behind"]]
    chiefs = ledger.chiefs()
    liaison = _liaison(chiefs)
    chain = str(ledger.chain_head())
    docs: list[tuple[str, str, str]] = []  # (file name, to, html)
    for cid, rows in late.groupby("chief_id", sort=False):
        first = rows.iloc[0]
        who = f"{first['name']}（{label(LEVELS, first['level'])}河长）"
        lead = CARDS["lead"].format(quarter=quarter, rivers=len(rows))
        name = bounded_name(f"{CARDS['card']}_{quarter}_{first['name']}", key=f"{quarter}|{cid}")
        docs.append((name, cid, _page(CARDS["card"], who, lead, rows, office=office, day=day,
                                      quarter=quarter, chain=chain)))  # fmt: skip
    units: dict[str, list[str]] = {}
    for cid in late["chief_id"].unique():
        if cid in liaison:
            units.setdefault(liaison[cid], []).append(cid)
    for unit, ids in units.items():
        rows = late[late["chief_id"].isin(ids)].assign(
            river=lambda f: f["name"] + "：" + f["river"]
        )
        lead = CARDS["liaison_lead"].format(quarter=quarter, n=len(ids))
        name = bounded_name(f"{CARDS['liaison']}_{quarter}_{unit}", key=f"{quarter}|unit|{unit}")
        docs.append((name, unit, _page(CARDS["liaison"], unit, lead, rows, office=office, day=day,
                                       quarter=quarter, chain=chain)))  # fmt: skip
    result = CardsResult(behind=int(late["chief_id"].nunique()))
    recorded = recorded_cards(ledger, quarter)
    folder.mkdir(parents=True, exist_ok=True)
    new = [d for d in docs if d[0] not in recorded]
    missing = [d for d in docs if d[0] in recorded and not (folder / d[0]).is_file()]
    for name, _to, html in missing:  # recorded before, file lost: write it again
        result.rewritten.append(write_atomic(folder / name, html.encode("utf-8")))
    if missing:
        log.warning("%d recorded card(s) were missing and are written again", len(missing))
    if not new:
        result.files = [folder / d[0] for d in docs]
        return result
    with staging_folder(folder) as stage:
        for name, _to, html in new:
            (stage / name).write_bytes(html.encode("utf-8"))
        at = now().isoformat()
        rows = [
            (LEDGER_ID, at, actor, CARD_ACTION, None, LEDGER_ID, None,
             json.dumps({"quarter": quarter, "to": to, "file": name}, ensure_ascii=False), None)
            for name, to, _html in new
        ]  # fmt: skip
        with ledger.transaction() as conn:
            ledger.append_events(conn, rows)
        for name, _to, _html in new:
            move_into_place(stage / name, folder / name)
    result.events = len(new)
    result.files = [folder / d[0] for d in docs]
    return result
