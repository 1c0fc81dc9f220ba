"""The fixed boxes of the leadership map: title, legend and dashboard, as escaped HTML.

Every value that reaches these boxes is escaped here with :func:`html.escape`;
the boxes are added to the page by :class:`geo.maps.assets.Verbatim`, so the
finished HTML is never compiled as a template. The dashboard's counts are the
layer list's counts: one per lifecycle state (an overdue patch counts in its
state and once more under 逾期).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from urllib.parse import quote

import pandas as pd

from geo.labels import COLUMNS, SHORELINE, STATES, TEXT, VERIFICATION, label
from geo.maps.data import missing
from geo.policy.verification import PROBLEM_STATES, VERIFIED_STATES

__all__ = ["dashboard_html", "esc", "legend_html", "title_html", "township_names"]

_TOP_CHIEFS = 10


def esc(value: object) -> str:
    """Return ``value`` as escaped HTML text; missing values give ``""``."""
    return "" if missing(value) else html.escape(str(value), quote=True)


def township_names(frame: pd.DataFrame) -> pd.Series:
    """Return each patch's township name, :data:`TEXT` ``no_township`` where none is given."""
    if "township" not in frame:
        return pd.Series(TEXT["no_township"], index=frame.index, dtype=object)
    names = frame["township"].astype(object)
    given = names.map(lambda v: not missing(v) and str(v).strip() != "")
    return names.where(given, TEXT["no_township"]).map(str)


def title_html(title: str, day: str) -> str:
    """The title box: the map's title and the 数据截至 date."""
    return (
        f'<div class="hetu-box hetu-title"><b>{esc(title)}</b><br>'
        f"<span>{esc(TEXT['as_of'])} {esc(day)}</span></div>"
    )


def legend_html(
    colors: Mapping[str, str],
    marks: Mapping[str, str],
    *,
    shoreline: Mapping[str, str] | None = None,
) -> str:
    """The legend box.

    Parameters
    ----------
    colors : mapping
        Lifecycle state → fill colour, in the order shown.
    marks : mapping
        Colours of the layers drawn: ``overdue`` always; ``recurrence``, ``ranges`` and
        ``tracks`` when those layers are on the map.
    shoreline : mapping, optional
        ``covered``/``gap`` → colour, when the shoreline layer is drawn.
    """
    ring = "background:#fff;border:3px solid {};width:7px;height:7px"
    items = [("dot", f"background:{c}", STATES[state]) for state, c in colors.items()]
    items.append(("dot", ring.format(marks["overdue"]), STATES["overdue"]))
    if "recurrence" in marks:
        items.append(("dot", ring.format(marks["recurrence"]), TEXT["recurrence_sites"]))
    if "ranges" in marks:
        c = marks["ranges"]
        items.append(("", f"background:{c};opacity:.3;border:1px solid {c}", TEXT["ranges"]))
    if "tracks" in marks:
        items.append(("", f"height:3px;background:{marks['tracks']}", TEXT["tracks"]))
    for key, c in (shoreline or {}).items():
        items.append(("", f"height:4px;background:{c}", SHORELINE[key]))
    rows = "".join(
        f'<div><i{f" class={cls!r}" if cls else ""} style="{style}"></i>{esc(text)}</div>'
        for cls, style, text in items
    )
    hint = f'<div style="color:#555">{esc(TEXT["zoom_hint"])}</div>'
    return f'<div class="hetu-box hetu-legend"><b>{esc(TEXT["legend"])}</b>{rows}{hint}</div>'


def _table(rows: list[tuple[str, ...]], *, late: bool = False, links: bool = False) -> str:
    """Rows of escaped cells; with ``links`` the first cell opens ``#township=NAME``."""
    cls = ' class="n late"' if late else ' class="n"'
    out = []
    for first, *rest in rows:
        name = esc(first)
        if links and first != TEXT["no_township"]:
            name = f'<a href="#township={esc(quote(first, safe=""))}">{name}</a>'
        cells = "".join(f"<td{cls}>{esc(v)}</td>" for v in rest)
        out.append(f"<tr><td>{name}</td>{cells}</tr>")
    return f"<table>{''.join(out)}</table>"


def dashboard_html(
    frame: pd.DataFrame,
    overdue: pd.Series,
    order: list[str],
    *,
    day_unit: str,
    shore: list[tuple[str, str, str]] | None = None,
) -> str:
    """Counts per state, closure rate per township and overdue patches per chief.

    Parameters
    ----------
    frame : DataFrame
        The status frame as drawn.
    overdue : Series of bool
        Which patches are overdue (open and past their deadline).
    order : list of str
        The states in the order of the layer list.
    day_unit : str
        The unit of overdue days: working days or calendar days.
    shore : list of tuple, optional
        Shoreline coverage per township (:func:`geo.maps.data.shoreline_by_township`).
    """
    counts = frame["state"].astype(str).value_counts()
    by_state = [(label(STATES, s), str(int(counts[s]))) for s in order if s in counts]
    by_state.append((STATES["overdue"], str(int(overdue.sum()))))
    by_state.append((COLUMNS["total"], str(len(frame))))
    states = frame["state"].astype(str)
    rates = [(COLUMNS["uncleared"], str(int((~states.isin(("closed", "dismissed"))).sum())))]
    for key, num, base in (
        ("verify_rate", states.isin(VERIFIED_STATES), states.notna()),
        ("rectify_rate", states.eq("closed"), states.isin(PROBLEM_STATES)),
    ):
        n, d = int(num.sum()), int(base.sum())
        rates.append((COLUMNS[key], f"{n}/{d} {n / d:.0%}" if d else "-"))
    towns = []
    for name, part in states.groupby(township_names(frame), sort=True):
        closed = int((part == "closed").sum())
        towns.append((name, f"{closed}/{len(part)}", f"{closed / len(part):.0%}"))
    chief = pd.Series(TEXT["no_chief"], index=frame.index, dtype=object)
    for column in ("chief_village", "chief_township"):
        if column in frame:
            value = frame[column].astype(object)
            chief = value.where(value.map(lambda v: not missing(v) and str(v) != ""), chief)
    days = pd.to_numeric(frame.get("overdue_days"), errors="coerce").fillna(0)
    late = pd.DataFrame({"chief": chief[overdue].map(str), "days": days[overdue]})
    chiefs = []
    if not late.empty:
        agg = late.groupby("chief")["days"].agg(["count", "max"])
        agg = agg.sort_values(["count", "max"], ascending=False).head(_TOP_CHIEFS)
        chiefs = [
            (str(n), str(int(r["count"])), f"{int(r['max'])} {day_unit}") for n, r in agg.iterrows()
        ]
    parts = [
        f'<div class="hetu-box hetu-dash"><details open><summary>{esc(TEXT["dashboard"])}'
        "</summary>",
        f"<h4>{esc(TEXT['by_state'])}</h4>{_table(by_state)}",
        f"<h4>{esc(VERIFICATION['rates'])}</h4>{_table(rates)}",
        f'<div class="hetu-note">{esc(VERIFICATION["rates_note"])}</div>',
        f"<h4>{esc(TEXT['closure_by_township'])}</h4>{_table(towns, links=True)}",
        f"<h4>{esc(TEXT['overdue_by_chief'])}</h4>",
        _table(chiefs, late=True) if chiefs else f"<div>{esc(TEXT['none_overdue'])}</div>",
        f"<h4>{esc(SHORELINE['by_township'])}</h4>{_table(shore)}" if shore else "",
        "</details></div>",
    ]
    return "".join(parts)
