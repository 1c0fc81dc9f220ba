"""The escalation notices as documents: the location sketch, the rendered page, file names.

:func:`render_notice` fills the notice template (Jinja2 with autoescape: patch
descriptions come from province files and are never trusted) with the patch
table and a location sketch drawn here as inline SVG (:func:`thumbnail_svg`).
:func:`bounded_name` makes a file name of untrusted text (Chinese kept, no path
separators or characters Windows forbids, short enough for any file system,
unique by a hash), and :func:`output_folder` refuses up front an output path
that cannot be a folder; notices and dossiers both use them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from geo.errors import OutputError, SettingsError
from geo.labels import ACTIONS, COLUMNS, GONGWEN, ISSUE_TYPES, LEVELS, NOTICE, TEXT, label
from geo.policy.lifecycle import EscalationStep
from geo.records import is_missing

#: The default template, shipped in ``geo/templates``.
DEFAULT_TEMPLATE = "notice.html.j2"
#: The longest name part kept (characters) and the longest whole file name (UTF-8 bytes).
NAME_CHARS, NAME_BYTES = 60, 120
#: Runs of characters no file name holds: path separators, what Windows forbids, blanks,
#: and ``;`` (which separates the documents named in an event's note).
_NOT_IN_NAMES = re.compile(r'[\\/:*?"<>|;\s]+')
#: Names Windows reserves whatever follows the dot.
_RESERVED = re.compile(r"(?:CON|PRN|AUX|NUL|COM\d|LPT\d)(?:\..*)?", re.IGNORECASE)


def clean_name(text: str) -> str:
    r"""Return ``text`` fit to be part of a file name, Chinese and other letters kept.

    Control and format characters (bidirectional overrides, zero-width marks) are
    dropped; path separators, the characters Windows forbids (``\ / : * ? " < > |``),
    blanks and ``;`` become ``_``; leading and trailing dots and ``_`` go. The result
    may be empty, and is not cut.
    """
    kept = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    return _NOT_IN_NAMES.sub("_", kept).strip("._ ")


def _name_hash(key: str, length: int = 8) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``key`` (a file name's unique part)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def bounded_name(stem: str, *, key: str, suffix: str = ".html", fallback: str = "_") -> str:
    """Return a unique, bounded file name: ``<stem cleaned and cut>_<hash of key><suffix>``.

    Parameters
    ----------
    stem : str
        The readable part (untrusted text is fine): cleaned by :func:`clean_name`,
        cut to :data:`NAME_CHARS` characters and so that the whole name takes at most
        :data:`NAME_BYTES` bytes in UTF-8.
    key : str
        What makes the document unique; 8 hex digits of its SHA-256 end the name.
    suffix : str
        The extension, with its dot.
    fallback : str
        The readable part when nothing of ``stem`` is left.

    Returns
    -------
    str
        A name without path separators or characters Windows forbids.
    """
    tail = f"_{_name_hash(key)}{suffix}"
    room = NAME_BYTES - len(tail.encode("utf-8"))
    part = clean_name(stem)[:NAME_CHARS]
    while len(part.encode("utf-8")) > room:
        part = part[:-1]
    return f"{part.rstrip('._ ') or fallback}{tail}"


def plain_name_ok(text: str, suffix: str = ".html") -> bool:
    """Whether ``text`` can be a file name as it is, on any system, and unlike any other.

    Only digits, capital Latin letters, ``_ . -`` and letters without case (Chinese)
    are taken as they are: a small letter might clash with its capital in a Windows
    folder. Also refused: a name Windows reserves, one too long, and one ending like
    :func:`bounded_name`'s hash (``_`` and eight hex digits).
    """
    ok = all(
        c in "_.-" or ("0" <= c <= "9") or ("A" <= c <= "Z")
        or (c.isalnum() and not c.isascii() and c.lower() == c.upper())
        for c in text
    )  # fmt: skip
    return (
        ok
        and clean_name(text) == text
        and len(text) <= NAME_CHARS
        and len((text + suffix).encode("utf-8")) <= NAME_BYTES
        and not _RESERVED.fullmatch(text)
        and not re.search(r"_[0-9a-f]{8}$", text)
    )


def output_folder(path: str | os.PathLike, *, what: str = "documents") -> Path:
    """Return ``path`` as an absolute folder path, refusing one that cannot be a folder.

    Nothing is created. The nearest existing folder on the way must be a folder
    (not a file) that this user may write into.

    Raises
    ------
    OutputError
        Naming the path, the file in the way or the unwritable folder, and the fix.
    """
    target = Path(os.path.abspath(path))
    found = next(p for p in (target, *target.parents) if p.exists() or p == p.parent)
    if not found.is_dir():
        way = "is a file" if found == target else f"lies under the file {found}"
        raise OutputError(
            f"output folder {target} {way}: the {what} cannot go there; give -o a folder "
            "(new or existing) that is not inside a file"
        )
    if not os.access(found, os.W_OK | os.X_OK):
        raise OutputError(
            f"output folder {target}: {found} is not writable for this user; give -o "
            "a folder you may write into"
        )
    return target


def _nice(length: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``length``."""
    power = 10 ** math.floor(math.log10(length))
    return max(m * power for m in (1, 2, 5) if m * power <= length)


def _path(geom: Any, to_px: Any) -> str:
    """SVG path data of a (multi)polygon or (multi)line in pixel coordinates."""
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty:
            continue
        rings = [poly.exterior, *poly.interiors] if poly.geom_type == "Polygon" else [poly]
        for ring in rings:
            xy = to_px(np.asarray(ring.coords)[:, :2])
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            parts.append(f"M{pts}" + ("Z" if poly.geom_type == "Polygon" else ""))
    return " ".join(parts)


def thumbnail_svg(
    patches: Sequence[Any],
    segments: Iterable[Any] = (),
    *,
    width: int = 480,
    height: int = 300,
    min_extent_m: float = 400.0,
) -> str:
    """Draw a small location map of patches over their segments as an SVG document.

    No basemap and no network: the segments' management ranges in blue, the
    patches in red with their numbers (1, 2, … in the order given), a scale bar
    and a north arrow. Coordinates are lon/lat (EPSG:4490 or 4326), projected
    locally (equirectangular about the centre, good to a few metres at this size).

    Parameters
    ----------
    patches : sequence of shapely geometry
        The patches, numbered in this order.
    segments : iterable of shapely geometry
        Segments drawn underneath, clipped to the view.
    width, height : int
        Size in pixels.
    min_extent_m : float
        The view spans at least this many metres.

    Returns
    -------
    str
        An ``<svg>`` element holding only numbers and labels from :mod:`geo.labels`.
    """
    geoms = [g for g in patches if g is not None and not g.is_empty]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="thumbnail" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(NOTICE["location_map"])}">'
        f'<rect width="{width}" height="{height}" fill="#f7f9fb" stroke="#999"/>'
    )
    if not geoms:
        return head + "</svg>"
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geoms, dtype=object))
    lon0, lat0 = (x0 + x1) / 2, (y0 + y1) / 2
    kx, ky = 111_320.0 * math.cos(math.radians(lat0)), 110_540.0

    def metres(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([(xy[:, 0] - lon0) * kx, (xy[:, 1] - lat0) * ky])

    half_w = max((x1 - x0) * kx * 0.65, min_extent_m / 2)
    half_h = max((y1 - y0) * ky * 0.65, min_extent_m / 2)
    scale = min(width / (2 * half_w), height / (2 * half_h))  # px per metre

    def to_px(xy: np.ndarray) -> np.ndarray:
        m = metres(xy)
        return np.column_stack([width / 2 + m[:, 0] * scale, height / 2 - m[:, 1] * scale])

    view = shapely.box(
        lon0 - width / 2 / scale / kx, lat0 - height / 2 / scale / ky,
        lon0 + width / 2 / scale / kx, lat0 + height / 2 / scale / ky,
    )  # fmt: skip
    tol = 0.5 / scale / kx  # half a pixel, in degrees
    body = []
    for seg in segments:
        if seg is None or seg.is_empty or not seg.intersects(view):
            continue
        clipped = shapely.clip_by_rect(seg, *view.bounds).simplify(tol)
        d = _path(clipped, to_px)
        if d:
            body.append(
                f'<path class="segment" d="{d}" fill="#cfe3f6" stroke="#3a7bbf" '
                'stroke-width="1" fill-rule="evenodd"/>'
            )
    for k, geom in enumerate(geoms, start=1):
        body.append(
            f'<path class="patch" d="{_path(geom, to_px)}" fill="#e53935" fill-opacity="0.6" '
            'stroke="#b71c1c" stroke-width="1.2" fill-rule="evenodd"/>'
        )
        px = to_px(np.asarray(shapely.envelope(geom).exterior.coords))
        (px0, py0), (px1, py1) = px.min(axis=0), px.max(axis=0)
        if max(px1 - px0, py1 - py0) < 8:  # too small to see: ring it
            cx, cy = (px0 + px1) / 2, (py0 + py1) / 2
            body.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="none" stroke="#b71c1c" '
                'stroke-width="1.5"/>'
            )
            px1, py0 = cx + 6, cy - 6
        body.append(
            f'<text class="patch-no" x="{px1 + 3:.1f}" y="{py0 + 4:.1f}" font-size="12" '
            f'font-weight="bold" fill="#b71c1c">{k}</text>'
        )
    bar_m = _nice(width / scale / 4)
    bar_px = bar_m * scale
    bar_text = f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m:g} m"
    by = height - 14
    body.append(
        f'<g class="scalebar"><path d="M10,{by - 5} V{by} H{10 + bar_px:.1f} V{by - 5}" '
        f'fill="none" stroke="#333" stroke-width="1.5"/><text x="{14 + bar_px:.1f}" y="{by}" '
        f'font-size="11" fill="#333">{bar_text}</text></g>'
    )
    nx = width - 22
    body.append(
        f'<g class="north"><path d="M{nx},12 L{nx + 7},32 L{nx},27 L{nx - 7},32 Z" '
        f'fill="#333"/><text x="{nx}" y="46" font-size="12" text-anchor="middle" '
        f'fill="#333">{escape(NOTICE["north"])}</text></g>'
    )
    body.append(
        f'<g class="legend" font-size="11" fill="#333"><rect x="10" y="10" width="14" '
        f'height="10" fill="#e53935" fill-opacity="0.6" stroke="#b71c1c"/><text x="28" y="19">'
        f'{escape(NOTICE["legend_patch"])}</text><rect x="10" y="26" width="14" height="10" '
        f'fill="#cfe3f6" stroke="#3a7bbf"/><text x="28" y="35">'
        f"{escape(NOTICE['legend_segment'])}</text></g>"
    )
    return head + "".join(body) + "</svg>"


def _environment(template: Path | None) -> tuple[jinja2.Environment, str]:
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("geo.reports", "templates")]
    name = DEFAULT_TEMPLATE
    if template is not None:
        if not template.is_file():
            raise SettingsError(
                f"notice template {template} not found; fix [escalation] template in "
                "hetu.toml or leave it out to use the built-in one"
            )
        loaders.insert(0, jinja2.FileSystemLoader(str(template.parent)))
        name = template.name
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env, name


def _date_text(day: dt.date) -> str:
    return NOTICE["date"].format(y=day.year, m=day.month, d=day.day)


def _text(value: Any) -> str:
    """A cell as text: ``""`` for a missing one (never ``nan``)."""
    return "" if is_missing(value) else str(value)


def _fmt_area(value: Any) -> str:
    return "" if is_missing(value) else f"{float(value):,.1f}"


def notice_rows(rows: pd.DataFrame) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The patch table of a notice (one dict per row) and its Chinese headers."""
    table = [
        {
            "no": k,
            "patch_id": r["patch_id"],
            "issue_type": label(ISSUE_TYPES, r["issue_type"]),
            "segment": _text(r["segment_name"]) or _text(r["water_name"]),
            "segment_id": _text(r["segment_id"]),
            "township": _text(r["township"]),
            "area": _fmt_area(r["area_m2"]),
            "deadline": r["deadline"],
            "overdue_days": int(r["overdue_days"]),
            "days_left": int(r["days_left"]),
            "description": _text(r["description"]),
        }
        for k, r in enumerate(rows.to_dict("records"), start=1)
    ]
    headers = {
        "no": NOTICE["number"],
        "patch_id": COLUMNS["patch_id"],
        "issue_type": COLUMNS["issue_type"],
        "segment": NOTICE["segment"],
        "township": COLUMNS["township"],
        "area": NOTICE["area"],
        "deadline": COLUMNS["deadline"],
        "overdue_days": COLUMNS["overdue_days"],
        "days_left": NOTICE["days_left"],
        "description": COLUMNS["description"],
    }
    return table, headers


def render_notice(
    rows: pd.DataFrame,
    *,
    as_of: dt.date,
    office: str,
    map_svg: str,
    ladder: Sequence[EscalationStep] = (),
    workdays: bool = True,
    template: str | os.PathLike | None = None,
    chain_head: str = "",
    doc: Any = None,
    seal_src: str = "",
) -> str:
    """Render one notice (one rung, one addressed chief) as an HTML document.

    Parameters
    ----------
    rows : DataFrame
        Rows of :func:`due_escalations` sharing ``action`` and ``chief_id``.
    as_of : date
        The date of the notice.
    office : str
        The issuing office (``[office] name``).
    map_svg : str
        The thumbnail from :func:`thumbnail_svg` (inserted as is: it must hold no
        untrusted text).
    ladder : sequence of EscalationStep
        The office's ladder, to name the next rung in the text.
    workdays : bool
        Whether days are counted in working days (said in the notice).
    template : path-like, optional
        An office's own Jinja2 template (it may ``{% extends "notice.html.j2" %}``);
        default the built-in one. Autoescaping is always on.
    chain_head : str
        The ledger's chain head (链首校验码, ``Ledger.chain_head``) printed in the
        footer, so the history the notice came from can be checked (``hetu verify --anchor``).
    doc : Notice
        The notice's 公文 elements (:func:`geo.reports.gongwen.build_notice`).
    seal_src : str
        The seal image as a ``data:image/png;base64,…`` URI (built here from the
        office's file), or ``""`` for a blank seal area.

    Returns
    -------
    str
        The HTML text.

    Raises
    ------
    SettingsError
        If the template is missing or fails to render (naming it and the error).
    """
    first = rows.iloc[0]
    action = str(first["action"])
    actions = [s.action for s in ladder]
    nxt = actions[actions.index(action) + 1] if action in actions[:-1] else None
    fallback = ""
    if first["fallback"]:
        fallback = NOTICE["fallback"].format(
            wanted=label(LEVELS, first["to_level"]), got=label(LEVELS, first["chief_level"])
        )
    chief = {
        "id": first["chief_id"],
        "name": first["chief_name"] or TEXT["no_chief"],
        "title": first["chief_title"],
        "level": first["chief_level"],
        "level_label": label(LEVELS, first["chief_level"]) if first["chief_level"] else "",
        "fallback": fallback,
    }
    table, headers = notice_rows(rows)
    path = Path(template) if template is not None else None
    env, name = _environment(path)
    context = {
        "action": action,
        "title": label(ACTIONS, action),
        "next_action": nxt,
        "next_title": label(ACTIONS, nxt) if nxt else "",
        "office": office,
        "as_of": as_of.isoformat(),
        "date_text": _date_text(as_of),
        "chief": chief,
        "chief_word": NOTICE["chief"],
        "rows": table,
        "headers": headers,
        "labels": NOTICE,
        "gw": GONGWEN,
        "doc": doc,
        "seal_src": Markup(seal_src) if seal_src.startswith("data:image/png;base64,") else "",
        "map_svg": Markup(map_svg),
        "workdays": workdays,
        "before_deadline": action in actions and ladder[actions.index(action)].days < 0,
        "chain_head": chain_head,
    }
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        where = path or DEFAULT_TEMPLATE
        raise SettingsError(
            f"notice template {where}: {type(exc).__name__}: {exc}; fix the template "
            "(variables: " + ", ".join(sorted(context)) + ")"
        ) from exc
