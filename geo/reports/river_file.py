"""一河（湖）一档: one file per river or lake, the material of its annual 一河一策 review.

Seeds 株洲, 南昌 and 张家口 plan and report per river (一河(湖)一档, 一河(湖)一策). For each
river (``water_name`` of the segments; a segment without one is filed under
:data:`geo.labels.RIVER_FILE` ``unnamed``) :func:`river_files` writes a self-contained HTML
page and a workbook with the same tables:

- the year's figures: problems found (issued in the year), closed in the year, open now
  (挂账监管 counted open), overdue, recurrences, shoreline surveyed (km and share), patrol
  completion;
- the segments with their chiefs per level;
- every problem on the river: state, source, type, township, deadline, overdue days, and
  the earlier patch it came back on (反弹回潮);
- patrols per chief (:func:`geo.field.patrols.patrol_report_ledger`, the year to the
  report's day) and shoreline coverage per segment (:func:`geo.field.coverage.coverage_ledger`).

A problem's river is the river of its primary segment (``hetu match``). Every value is
escaped (:mod:`geo.reports.pages`); workbook text is never a formula.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geo.clock import as_date
from geo.fileio import write_atomic, write_tables
from geo.labels import COLUMNS, FIELD_WORK, ISSUE_TYPES, LEVELS, RIVER_FILE, SOURCES, label
from geo.ledger.chiefs import chief_chain
from geo.reports.documents import bounded_name, output_folder
from geo.reports.pages import page, table
from geo.reports.summary import patch_source

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

__all__ = ["RiverFile", "river_files", "river_names"]

log = logging.getLogger(__name__)


#: The year's figures, in the order the file shows them.
_FIGURES = ("n_segments", "found", "closed", "open", "overdue", "recurrences", "shoreline_km",
            "surveyed_km", "patrol_pct")  # fmt: skip


def _river(water: pd.Series) -> pd.Series:
    named = water.astype("string").str.strip()
    return named.where(named.notna() & (named != ""), RIVER_FILE["unnamed"]).astype(str)


def river_names(ledger: Ledger) -> list[str]:
    """The rivers and lakes of the ledger's segments, in the order they were loaded."""
    return list(dict.fromkeys(_river(ledger.segments()["water_name"])))


@dataclass
class RiverFile:
    """The tables of one river's file (each a DataFrame with Chinese headers)."""

    river: str
    figures: pd.DataFrame
    segments: pd.DataFrame
    problems: pd.DataFrame
    patrols: pd.DataFrame
    shoreline: pd.DataFrame

    def sheets(self) -> dict[str, pd.DataFrame]:
        """Sheet name → table, as the workbook holds them."""
        return {
            RIVER_FILE["figures"]: self.figures,
            RIVER_FILE["segments"]: self.segments,
            RIVER_FILE["problems"]: self.problems,
            RIVER_FILE["patrols"]: self.patrols,
            RIVER_FILE["shoreline"]: self.shoreline,
        }


def _tables(ledger: Ledger, day: dt.date, first: dt.date) -> dict[str, RiverFile]:
    from geo.field.coverage import coverage_ledger
    from geo.field.patrols import patrol_report_ledger

    lifecycle = ledger.lifecycle
    segs = ledger.segments()
    segs = segs.assign(river=_river(segs["water_name"]), segment_id=segs["segment_id"].astype(str))
    chain = chief_chain(ledger.chiefs(as_of=day)) if len(segs) else pd.DataFrame()
    frame = ledger.status_frame(as_of=day)
    frame = frame.assign(river=_river(frame["water_name"]))
    links = ledger.links()
    came_back = (
        links[links["kind"] == "recurrence"].set_index("patch_id")["earlier_id"]
        if len(links) else pd.Series(dtype=object)
    )  # fmt: skip
    issued = pd.to_datetime(frame["issued_on"], errors="coerce").dt.date
    since = pd.to_datetime(frame["state_since"].astype("string").str[:10], errors="coerce").dt.date
    report = patrol_report_ledger(ledger, start=first, end=day) if len(ledger.tracks()) else None
    cover = coverage_ledger(ledger, start=first, end=day) if len(ledger.tracks()) else None
    out = {}
    for river, seg in segs.groupby("river", sort=False):
        ids = set(seg["segment_id"])
        on = frame["river"] == river
        rows = frame[on]
        opened = rows["state"].map(ledger.counts_open)
        closed_year = (rows["state"] == "closed") & (since[on] >= first) & (since[on] <= day)
        patrols = (
            report.rivers[report.rivers["river"] == river] if report is not None
            else pd.DataFrame(columns=["required", "credited"])
        )  # fmt: skip
        shore = cover[cover["segment_id"].astype(str).isin(ids)] if cover is not None else None
        shoreline_km = float(shore["shoreline_km"].sum()) if shore is not None else 0.0
        surveyed_km = float(shore["surveyed_km"].sum()) if shore is not None else 0.0
        need = int(patrols["required"].sum())
        figures = pd.DataFrame(
            {
                RIVER_FILE["item"]: [RIVER_FILE[k] for k in _FIGURES],
                RIVER_FILE["value"]: pd.Series(
                    dtype=object,
                    data=[
                        len(ids),
                        int(((issued[on] >= first) & (issued[on] <= day)).sum()),
                        int(closed_year.sum()),
                        int(opened.sum()),
                        int((rows["overdue_days"].fillna(0) > 0).sum()),
                        int(rows["patch_id"].isin(came_back.index).sum()),
                        round(shoreline_km, 2),
                        round(surveyed_km, 2),
                        round(100.0 * int(patrols["credited"].sum()) / need, 1) if need else None,
                    ],
                ),
            }
        )
        chains = seg[["segment_id", "segment_name"]].merge(chain, on="segment_id", how="left")
        chains = chains.rename(columns={f"chief_{lv}": label(LEVELS, lv) + "河长" for lv in LEVELS})
        problems = pd.DataFrame(
            {
                COLUMNS["patch_id"]: rows["patch_id"],
                RIVER_FILE["source"]: patch_source(rows).map(SOURCES),
                COLUMNS["batch_id"]: rows["batch_id"],
                COLUMNS["issue_type"]: rows["issue_type"].map(lambda t: label(ISSUE_TYPES, t)),
                COLUMNS["township"]: rows["township"],
                COLUMNS["segment_name"]: rows["segment_name"],
                COLUMNS["state"]: rows["state"].map(lifecycle.label),
                COLUMNS["deadline"]: rows["deadline"],
                COLUMNS["overdue_days"]: rows["overdue_days"],
                RIVER_FILE["earlier"]: rows["patch_id"].map(came_back),
                COLUMNS["description"]: rows["description"],
            }
        )
        patrol_cols = ["name", "level_label", "rule", "required", "credited", "completion_pct"]
        shore_cols = ["segment_id", "segment_name", "shoreline_km", "surveyed_km", "coverage_pct"]
        shore_table = (
            shore[[c for c in shore_cols if c in shore.columns]] if shore is not None
            else pd.DataFrame(columns=shore_cols)
        )  # fmt: skip
        names = {**COLUMNS, **FIELD_WORK, "name": RIVER_FILE["chief"], "level_label": "级别"}
        out[river] = RiverFile(
            river,
            figures,
            chains.rename(columns=COLUMNS),
            problems.reset_index(drop=True),
            patrols[[c for c in patrol_cols if c in patrols.columns]].rename(columns=names),
            pd.DataFrame(shore_table).rename(columns=names),
        )
    return out


def river_files(
    ledger: Ledger,
    out_dir: str | os.PathLike,
    *,
    river: str | None = None,
    as_of: dt.date | str | None = None,
) -> list[Path]:
    """Write 一河一档 (an HTML page and a workbook) for one river or every river.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    out_dir : path-like
        The folder (created).
    river : str, optional
        One river or lake by its name; default every river of the ledger's segments.
    as_of : date or str, optional
        The day of the file (default today): the ledger replayed to then, and the year's
        figures from 1 January of that year.

    Returns
    -------
    list of Path
        The files written, page then workbook per river.

    Raises
    ------
    SchemaError
        If ``river`` names no river of the ledger (the message lists them).
    """
    from geo.errors import SchemaError

    day = as_date(as_of)
    first = dt.date(day.year, 1, 1)
    folder = output_folder(out_dir, what="river files")
    files = _tables(ledger, day, first)
    if river is not None:
        if river not in files:
            raise SchemaError(
                f"no river or lake named {river!r} in the ledger; known: {', '.join(files) or '无'}"
            )
        files = {river: files[river]}
    folder.mkdir(parents=True, exist_ok=True)
    office = ledger.settings.office_name
    written = []
    for name, rf in files.items():
        title = RIVER_FILE["title"].format(river=name)  # escaped by page()
        parts = [
            f'<p class="note">{RIVER_FILE["as_of"]}：{day.isoformat()}　'
            f"{RIVER_FILE['year']}：{first.isoformat()} – {day.isoformat()}</p>"
        ]
        for heading, frame in rf.sheets().items():
            body = table(frame) if len(frame) else f"<p>{RIVER_FILE['none']}</p>"
            parts += [f"<h2>{escape(heading)}</h2>", body]
        parts.append(f'<p class="sign">{escape(office)}</p>')
        stem = bounded_name(f"一河一档_{name}_{day.isoformat()}", key=f"{name}|{day}", suffix="")
        written.append(write_atomic(folder / f"{stem}.html", page(title, parts).encode("utf-8")))
        written.append(write_tables(rf.sheets(), folder / f"{stem}.xlsx"))
    log.info("river files: %d river(s) in %s", len(files), folder)
    return written
