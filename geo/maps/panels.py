"""The fixed boxes of the leadership map: title, legend and dashboard, as escaped HTML.

Every value that reaches these boxes is escaped here with :func:`html.escape`;
the boxes are added to the page by :class:`geo.maps.assets.Verbatim`, so the
finished HTML is never compiled as a template. The dashboard's counts are the
layer list's counts: one per lifecycle state (an overdue patch counts in its
state and once more under 逾期). Both follow the map's 问题来源 filter: the counts of
every source are computed here (:func:`counts_by_source`) and travel as data; the
page's script only picks a set and writes it as text.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import pandas as pd

from geo.labels import COLUMNS, SHORELINE, STATES, TEXT, VERIFICATION, label
from geo.maps.data import missing
from geo.policy.verification import PROBLEM_STATES, VERIFIED_STATES

__all__ = [
    "DASH_PARTS", "counts_by_source", "dashboard_html", "dashboard_rows", "esc", "layer_names",
    "legend_html", "title_html", "township_names",
]  # fmt: skip

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


#: The dashboard's tables that follow the 问题来源 filter, in the order shown: key, whether
#: the first cell links to its township, whether the numbers are overdue (red), and the text
#: shown when the table has no row.
DASH_PARTS: tuple[tuple[str, bool, bool, str], ...] = (
    ("by_state", False, False, ""),
    ("rates", False, False, ""),
    ("towns", True, False, ""),
    ("chiefs", False, True, TEXT["none_overdue"]),
)


def dashboard_rows(
    frame: pd.DataFrame, overdue: pd.Series, order: list[str], *, day_unit: str
) -> dict[str, list[tuple[str, ...]]]:
    """The dashboard's rows, by :data:`DASH_PARTS` key, as text cells.

    Parameters
    ----------
    frame : DataFrame
        The status frame (or the part of it one source gave).
    overdue : Series of bool
        Which patches are overdue (open and past their deadline), on ``frame``'s index.
    order : list of str
        The states in the order of the layer list.
    day_unit : str
        The unit of overdue days: working days or calendar days.

    Returns
    -------
    dict
        ``by_state`` (count per state present, 逾期, 合计), ``rates`` (未清零, 核查完成率,
        整改销号率), ``towns`` (closed/all and the rate per township) and ``chiefs`` (the
        ten chiefs with most overdue patches, and the most overdue days).
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
    days = pd.Series(0, index=frame.index)
    if "overdue_days" in frame:
        days = pd.to_numeric(frame["overdue_days"], errors="coerce").fillna(0)
    late = pd.DataFrame({"chief": chief[overdue].map(str), "days": days[overdue]})
    chiefs = []
    if not late.empty:
        agg = late.groupby("chief")["days"].agg(["count", "max"])
        agg = agg.sort_values(["count", "max"], ascending=False).head(_TOP_CHIEFS)
        chiefs = [
            (str(n), str(int(r["count"])), f"{int(r['max'])} {day_unit}") for n, r in agg.iterrows()
        ]
    return {"by_state": by_state, "rates": rates, "towns": towns, "chiefs": chiefs}


def layer_names(
    frame: pd.DataFrame,
    overdue: pd.Series,
    order: list[str],
    *,
    keys: Sequence[str] | None = None,
) -> dict[str, str]:
    """The patch layers' names in the layer list, each with its count: 整改中 (18).

    Parameters
    ----------
    frame : DataFrame
        The status frame (or the part of it one source gave).
    overdue : Series of bool
        Which patches are overdue; an overdue patch counts in its state and under 逾期.
    order : list of str
        The states in the order of the layer list.
    keys : sequence of str, optional
        The layer keys to name (``patch:<state>``, ``overdue``), with 0 where ``frame``
        has none; by default the keys ``frame`` has patches for.

    Returns
    -------
    dict
        Layer key → its name, in the order of ``order`` and then 逾期.
    """
    counts = frame["state"].astype(str).value_counts()
    number = {f"patch:{s}": int(counts.get(s, 0)) for s in order}
    number["overdue"] = int(overdue.sum())
    text = {f"patch:{s}": label(STATES, s) for s in order}
    text["overdue"] = STATES["overdue"]
    chosen = [k for k in number if number[k]] if keys is None else list(keys)
    return {k: f"{text[k]} ({number[k]})" for k in chosen}


def counts_by_source(
    frame: pd.DataFrame,
    overdue: pd.Series,
    order: list[str],
    *,
    sources: Sequence[int],
    n_sources: int,
    day_unit: str,
    keys: Sequence[str],
) -> dict[str, list]:
    """The numbers the 问题来源 filter shows: one set for every source, then one per source.

    The page's script only picks the set of the source chosen and writes its text
    (``textContent``); every number is computed here.

    Parameters
    ----------
    frame : DataFrame
        The status frame as drawn.
    overdue : Series of bool
        Which patches are overdue, on ``frame``'s index.
    order : list of str
        The states in the order of the layer list.
    sources : sequence of int
        Each patch's source, an index into the filter's names.
    n_sources : int
        How many sources the filter lists.
    day_unit : str
        The unit of overdue days.
    keys : sequence of str
        The patch layers in the layer list (``patch:<state>``, ``overdue``).

    Returns
    -------
    dict
        ``parts``: the dashboard's tables (:data:`DASH_PARTS`, as objects), and ``sets``:
        ``n_sources + 1`` sets of numbers (every source first), each ``{"dash": rows per
        part, "layers": [[key, name], ...]}``.
    """
    of = pd.Series(list(sources), index=frame.index, dtype="int64")
    out = []
    for k in range(-1, n_sources):
        mask = pd.Series(True, index=frame.index) if k < 0 else of.eq(k)
        part, late = frame.loc[mask], overdue.loc[mask]
        rows = dashboard_rows(part, late, order, day_unit=day_unit)
        names = layer_names(part, late, order, keys=keys)
        out.append({
            "dash": [[list(r) for r in rows[key]] for key, *_ in DASH_PARTS],
            "layers": [[key, name] for key, name in names.items()],
        })  # fmt: skip
    parts = [
        {"key": key, "links": links, "late": late, "empty": empty, "unlinked": TEXT["no_township"]}
        for key, links, late, empty in DASH_PARTS
    ]
    return {"parts": parts, "sets": out}


def dashboard_html(
    frame: pd.DataFrame,
    overdue: pd.Series,
    order: list[str],
    *,
    day_unit: str,
    shore: list[tuple[str, str, str]] | None = None,
) -> str:
    """Counts per state, closure rate per township and overdue patches per chief.

    Each table sits in a ``<div data-part="KEY">`` (:data:`DASH_PARTS`), where the
    page's script writes the counts of the source the 问题来源 filter shows.

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
    rows = dashboard_rows(frame, overdue, order, day_unit=day_unit)
    heads = {
        "by_state": TEXT["by_state"],
        "rates": VERIFICATION["rates"],
        "towns": TEXT["closure_by_township"],
        "chiefs": TEXT["overdue_by_chief"],
    }
    parts = [
        f'<div class="hetu-box hetu-dash"><details open><summary>{esc(TEXT["dashboard"])}</summary>'
    ]
    for key, links, late, empty in DASH_PARTS:
        body = _table(rows[key], late=late, links=links)
        if empty and not rows[key]:
            body = f"<div>{esc(empty)}</div>"
        parts.append(f'<h4>{esc(heads[key])}</h4><div data-part="{key}">{body}</div>')
        if key == "rates":
            parts.append(f'<div class="hetu-note">{esc(VERIFICATION["rates_note"])}</div>')
    if shore:
        parts.append(f"<h4>{esc(SHORELINE['by_township'])}</h4>{_table(shore)}")
    parts.append("</details></div>")
    return "".join(parts)
