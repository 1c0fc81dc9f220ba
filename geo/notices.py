"""Escalation notices: the ladder 提示卡 → 通知单 → 督办函 → 整改令 (卡单函令) on the ledger.

:func:`due_escalations` says, for a day, which rung is due for every patch and
which chief it goes to: the office's ladder (``settings.ladder``) decides the
rung with :func:`geo.lifecycle.due_step`, counting working days on the office's
calendar, and the rung's level picks the chief of the patch's segment (the next
level up when the segment has none at that level). :func:`escalate` records each
due rung as an event, all in one transaction, and writes one Chinese document
per (rung, chief): HTML from a Jinja2 template (autoescaped: patch descriptions
come from province files and are not trusted) with the patch table and a map
thumbnail drawn here as inline SVG, and a PDF where a headless Chromium is found.

Running :func:`escalate` twice on the same day issues nothing the second time:
the events already recorded for the current deadline are what :func:`due_step`
looks at, so the ledger itself proves what was sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from geo._changes import Change
from geo._errors import SchemaError, SettingsError
from geo._reads import as_date
from geo.labels import ACTIONS, COLUMNS, ISSUE_TYPES, LEVELS, NOTICE, TEXT, label
from geo.lifecycle import ESCALATION_ACTIONS, EscalationStep, due_step
from geo.store import Ledger

__all__ = [
    "DUE_COLUMNS",
    "EscalationResult",
    "due_escalations",
    "escalate",
    "find_pdf_converter",
    "pdf_converter",
    "print_pdfs",
    "render_notice",
    "thumbnail_svg",
    "write_atomic",
]

log = logging.getLogger(__name__)

_TZ = ZoneInfo("Asia/Shanghai")
#: The default template, shipped in ``geo/templates``.
DEFAULT_TEMPLATE = "notice.html.j2"
#: Chief levels from the lowest up: where a notice goes when a segment lacks its level.
LEVELS_UP = tuple(reversed(LEVELS))
#: Columns of :func:`due_escalations`, one row per (patch, addressed chief).
DUE_COLUMNS = [
    "patch_id",
    "action",
    "step_days",
    "to_level",
    "chief_id",
    "chief_name",
    "chief_title",
    "chief_level",
    "fallback",
    "state",
    "deadline",
    "overdue_days",
    "days_left",
    "issue_type",
    "township",
    "water_name",
    "segment_id",
    "segment_name",
    "area_m2",
    "description",
]
#: Status-frame columns carried into each due row as they are.
_CARRIED = DUE_COLUMNS[DUE_COLUMNS.index("issue_type") :]
_PDF_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]+")


@dataclass
class EscalationResult:
    """What one :func:`escalate` run issued and wrote.

    Attributes
    ----------
    as_of : date
        The day escalated.
    due : DataFrame
        The rows of :func:`due_escalations` that were issued (empty when nothing was due).
    events : int
        Events recorded (one per patch).
    documents : list of Path
        HTML notices written, one per (rung, chief).
    pdfs : list of Path
        PDF copies written.
    pdf_converter : str or None
        The converter used for the PDFs (the browser's path), or ``None``.
    pdf_failed : list of Path
        HTML notices whose PDF conversion failed (the HTML stands; see the log).
    """

    as_of: dt.date
    due: pd.DataFrame
    events: int = 0
    documents: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    pdf_converter: str | None = None
    pdf_failed: list[Path] = field(default_factory=list)


# -- what is due ----------------------------------------------------------------------------


def _issued(events: pd.DataFrame, deadlines: dict[str, Any]) -> dict[str, set[str]]:
    """Escalation actions already recorded per patch for its current deadline."""
    out: dict[str, set[str]] = {}
    esc = events[events["action"].isin(ESCALATION_ACTIONS)]
    for pid, action, deadline in zip(esc["patch_id"], esc["action"], esc["deadline"], strict=True):
        if deadline is not None and deadline == deadlines.get(pid):
            out.setdefault(pid, set()).add(action)
    return out


def _serving(chiefs: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Chiefs whose term covers ``day`` (missing term dates count as open)."""
    iso = day.isoformat()
    start = chiefs["term_start"].fillna("").astype(str).str[:10]
    end = chiefs["term_end"].fillna("").astype(str).str[:10]
    keep = ((start == "") | (start <= iso)) & ((end == "") | (end >= iso))
    return chiefs[keep]


def _addressees(
    by_key: dict[tuple[str, str], list[tuple[str, str, str]]], segment_id: Any, level: str
) -> tuple[str, list[tuple[str, str, str]]] | None:
    """The chiefs of ``segment_id`` at ``level`` or the first level above that has any."""
    if _missing(segment_id):
        return None
    for lv in LEVELS_UP[LEVELS_UP.index(level) :]:
        found = by_key.get((str(segment_id), lv))
        if found:
            return lv, found
    return None


def due_escalations(ledger: Ledger, *, as_of: dt.date | str) -> pd.DataFrame:
    """Return the escalation rung due on ``as_of`` for every patch, and whom it goes to.

    The rung comes from :func:`geo.lifecycle.due_step` over the office's ladder
    (``ledger.settings.ladder``) and calendar, given the escalation events
    already recorded for the patch's current deadline. It is addressed to the
    chief(s) at the rung's level (``to_level``) of the patch's segment (the
    primary match), serving on ``as_of``; a segment without a chief at that level
    sends it to the next level up, and the row says so (``fallback``).

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    as_of : date or str
        The day (``YYYY-MM-DD``).

    Returns
    -------
    DataFrame
        :data:`DUE_COLUMNS`, one row per (patch, chief), ordered by rung, chief and
        patch. ``chief_id`` is empty for a patch without a segment or without any
        chief at or above the level (the notice then goes to no named chief).
        ``overdue_days`` and ``days_left`` are counted like the deadline (working
        days unless ``[calendar] count = "calendar"``).

    Raises
    ------
    SchemaError
        If ``as_of`` is not a date.
    """
    return _due(ledger, _day(as_of))[0]


def _day(as_of: dt.date | str) -> dt.date:
    try:
        return as_date(as_of)
    except ValueError:
        raise SchemaError(f"as_of {as_of!r} is not a date; give YYYY-MM-DD") from None


def _due(ledger: Ledger, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The due rows, and the status frame they were taken from."""
    settings = ledger.settings
    ladder, cal = settings.ladder, settings.calendar
    frame = ledger.status_frame(as_of=day)
    deadlines = dict(zip(frame["patch_id"], frame["deadline"], strict=True))
    issued = _issued(ledger.events(), deadlines)
    chiefs = _serving(ledger.chiefs(), day).sort_values(["chief_id", "segment_id"])
    by_key: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for cid, name, title, level, seg in zip(
        chiefs["chief_id"], chiefs["name"], chiefs["title"], chiefs["level"],
        chiefs["segment_id"], strict=True,
    ):  # fmt: skip
        who = (str(cid), str(name), "" if _missing(title) else str(title))
        by_key.setdefault((str(seg), str(level)), []).append(who)
    rank = {s.action: i for i, s in enumerate(ladder)}
    rows = []
    for rec in frame.drop(columns="geometry").to_dict("records"):
        step = due_step(
            state=rec["state"],
            deadline=rec["deadline"],
            issued=issued.get(rec["patch_id"], ()),
            as_of=day,
            ladder=ladder,
            calendar=cal,
        )
        if step is None:
            continue
        deadline = dt.date.fromisoformat(str(rec["deadline"])[:10])
        left = 0
        if day < deadline:
            left = cal.between(day, deadline) if cal is not None else (deadline - day).days
        base = {
            "patch_id": rec["patch_id"],
            "action": step.action,
            "step_days": step.days,
            "to_level": step.to_level,
            "state": rec["state"],
            "deadline": deadline.isoformat(),
            "overdue_days": int(rec["overdue_days"]),
            "days_left": left,
            **{k: None if _missing(rec[k]) else rec[k] for k in _CARRIED},
        }
        found = _addressees(by_key, rec["segment_id"], step.to_level)
        if found is None:
            rows.append({**base, "chief_id": "", "chief_name": "", "chief_title": "",
                         "chief_level": "", "fallback": False})  # fmt: skip
            continue
        level, people = found
        for cid, name, title in people:
            rows.append({**base, "chief_id": cid, "chief_name": name, "chief_title": title,
                         "chief_level": level, "fallback": level != step.to_level})  # fmt: skip
    out = pd.DataFrame(rows, columns=DUE_COLUMNS)
    if out.empty:
        return out, frame
    out["_rank"] = out["action"].map(rank)
    out = out.sort_values(["_rank", "chief_id", "patch_id"], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True), frame


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


# -- the map thumbnail ----------------------------------------------------------------------


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


# -- documents ------------------------------------------------------------------------------


def _environment(template: Path | None) -> tuple[jinja2.Environment, str]:
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("geo", "templates")]
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


def _fmt_area(value: Any) -> str:
    return "" if _missing(value) else f"{float(value):,.1f}"


def render_notice(
    rows: pd.DataFrame,
    *,
    as_of: dt.date,
    office: str,
    map_svg: str,
    ladder: Sequence[EscalationStep] = (),
    workdays: bool = True,
    template: str | os.PathLike | None = None,
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
    table = [
        {
            "no": k,
            "patch_id": r["patch_id"],
            "issue_type": label(ISSUE_TYPES, r["issue_type"]),
            "segment": r["segment_name"] or r["water_name"] or "",
            "segment_id": r["segment_id"] or "",
            "township": r["township"] or "",
            "area": _fmt_area(r["area_m2"]),
            "deadline": r["deadline"],
            "overdue_days": int(r["overdue_days"]),
            "days_left": int(r["days_left"]),
            "description": r["description"] or "",
        }
        for k, r in enumerate(rows.to_dict("records"), start=1)
    ]
    headers = {
        "no": NOTICE["number"],
        "patch_id": COLUMNS["patch_id"],
        "issue_type": COLUMNS["issue_type"],
        "segment": NOTICE["segment"],
        "area": NOTICE["area"],
        "deadline": COLUMNS["deadline"],
        "overdue_days": COLUMNS["overdue_days"],
        "days_left": NOTICE["days_left"],
        "description": COLUMNS["description"],
    }
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
        "map_svg": Markup(map_svg),
        "workdays": workdays,
        "before_deadline": action in actions and ladder[actions.index(action)].days < 0,
    }
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as exc:
        where = path or DEFAULT_TEMPLATE
        raise SettingsError(
            f"notice template {where}: {type(exc).__name__}: {exc}; fix the template "
            "(variables: " + ", ".join(sorted(context)) + ")"
        ) from exc


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a unique temporary file beside ``path``, then move it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "xb") as fh:  # created with the umask's permissions, like any file
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def find_pdf_converter() -> str | None:
    """Return the path of a headless Chromium/Chrome to print PDFs with, or ``None``."""
    for name in _PDF_BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def html_to_pdf(html: Path, pdf: Path, *, browser: str, timeout: float = 120.0) -> None:
    """Print an HTML file to PDF with a headless Chromium, written atomically.

    Raises
    ------
    OSError, subprocess.SubprocessError
        If the browser cannot run, fails, times out or writes nothing.
    """
    with tempfile.TemporaryDirectory(prefix="hetu-pdf-") as work:
        tmp = Path(work) / "out.pdf"
        cmd = [browser, "--headless", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-pdf-header-footer", f"--user-data-dir={work}/profile",
               f"--print-to-pdf={tmp}", html.resolve().as_uri()]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise subprocess.SubprocessError(f"{browser} wrote no PDF for {html}")
        write_atomic(pdf, tmp.read_bytes())


def pdf_converter(pdf: bool | None) -> str | None:
    """The PDF converter to use: ``None`` when ``pdf`` is False or none is found.

    Raises
    ------
    SettingsError
        If ``pdf`` is True (PDFs required) and no converter is installed.
    """
    if pdf is False:
        return None
    browser = find_pdf_converter()
    if browser is None and pdf:
        raise SettingsError("no PDF converter found: install chromium, or leave the PDF out")
    return browser


def print_pdfs(paths: list[Path], *, browser: str) -> tuple[list[Path], list[Path]]:
    """Print each HTML file to a PDF beside it, a few browsers at a time.

    Parameters
    ----------
    paths : list of Path
        The HTML files.
    browser : str
        The converter (:func:`find_pdf_converter`).

    Returns
    -------
    printed, failed : list of Path
        The PDFs written, and the HTML files whose PDF failed (logged; the HTML stands).
    """

    def one(path: Path) -> BaseException | None:
        try:
            html_to_pdf(path, path.with_suffix(".pdf"), browser=browser)
        except (OSError, subprocess.SubprocessError) as exc:
            return exc
        return None

    printed: list[Path] = []
    failed: list[Path] = []
    if not paths:
        return printed, failed
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(paths))) as pool:
        for path, exc in zip(paths, pool.map(one, paths), strict=True):
            if exc is None:
                printed.append(path.with_suffix(".pdf"))
            else:
                log.warning("%s: PDF not written (%s); the HTML stands", path, exc)
                failed.append(path)
    return printed, failed


def _file_name(day: dt.date, action: str, chief_id: str) -> str:
    who = _UNSAFE.sub("_", chief_id).strip("_") or "unassigned"
    return f"{day.isoformat()}_{action}_{who}.html"


def _event_times(ledger: Ledger, ids: Iterable[str], day: dt.date) -> dict[str, dt.datetime]:
    """When to record each patch's notice: ``day`` 09:00, or its last event if later."""
    base = dt.datetime.combine(day, dt.time(9, 0), tzinfo=_TZ)
    events = ledger.events()
    last = events.groupby("patch_id")["at"].last()
    out = {}
    for pid in ids:
        at = dt.datetime.fromisoformat(last[pid]) if pid in last.index else base
        out[pid] = max(base, at)
    return out


def escalate(
    ledger: Ledger,
    *,
    as_of: dt.date | str,
    out_dir: str | os.PathLike,
    actor: str | None = None,
    template: str | os.PathLike | None = None,
    pdf: bool | None = None,
) -> EscalationResult:
    """Issue every escalation rung due on ``as_of``: record the events and write the notices.

    Each due patch gets one event (its rung's action, e.g. ``notice``), recorded
    at ``as_of`` 09:00 Asia/Shanghai (or at its last event, if that is later), all
    in one transaction: every event is written or none. Then one HTML notice per
    (rung, addressed chief) is written to ``out_dir`` as
    ``<as_of>_<action>_<chief_id>.html`` (atomically), and a PDF beside it when a
    headless Chromium is found. A second run on the same day finds nothing due
    and writes nothing.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    as_of : date or str
        The day (``YYYY-MM-DD``).
    out_dir : path-like
        Where the notices go (created if missing).
    actor : str, optional
        Who issues (recorded on the events; default the office's name).
    template : path-like, optional
        The office's own Jinja2 template (``[escalation] template``).
    pdf : bool, optional
        ``None`` (default): print PDFs if a converter is found, skip silently
        otherwise; ``False``: never; ``True``: require one.

    Returns
    -------
    EscalationResult

    Raises
    ------
    SchemaError
        If ``as_of`` is not a date.
    SettingsError
        If the template is missing or broken (nothing is recorded), or ``pdf=True``
        and no converter is found.
    LedgerError, HetuError
        If the events cannot be recorded (nothing is recorded).
    """
    day = _day(as_of)
    settings = ledger.settings
    who = actor or settings.office_name
    out = Path(out_dir)
    browser = pdf_converter(pdf)
    due, frame = _due(ledger, day)
    result = EscalationResult(as_of=day, due=due, pdf_converter=browser)
    if due.empty:
        return result

    status = frame.set_index("patch_id")
    segments = ledger.segments().set_index("segment_id")
    docs: list[tuple[Path, str]] = []
    notes: dict[str, list[str]] = {}
    for (action, chief_id), rows in due.groupby(["action", "chief_id"], sort=False):
        name = _file_name(day, str(action), str(chief_id))
        seg_ids = [s for s in dict.fromkeys(rows["segment_id"]) if s in segments.index]
        svg = thumbnail_svg(
            list(status.loc[rows["patch_id"], "geometry"]),
            list(segments.loc[seg_ids].geometry),
        )
        html = render_notice(
            rows,
            as_of=day,
            office=settings.office_name,
            map_svg=svg,
            ladder=settings.ladder,
            workdays=settings.calendar is not None,
            template=template,
        )
        docs.append((out / name, html))
        first = rows.iloc[0]
        to = first["chief_name"] or TEXT["no_chief"]
        if first["chief_title"]:
            to += f"（{first['chief_title']}）"
        for pid in rows["patch_id"]:
            notes.setdefault(pid, []).append(f"{to} {name}")

    steps = due.drop_duplicates("patch_id").set_index("patch_id")["action"]
    times = _event_times(ledger, steps.index, day)
    changes = [
        Change(pid, (), actor=who, at=times[pid], action=action,
               note=f"{label(ACTIONS, action)}: " + "; ".join(notes[pid]))
        for pid, action in steps.items()
    ]  # fmt: skip
    problems = ledger.apply_changes(changes)
    if problems:
        raise problems[0].error
    result.events = len(changes)
    log.info("escalation %s: %d events, %d notices", day, len(changes), len(docs))

    out.mkdir(parents=True, exist_ok=True)
    for path, html in docs:
        write_atomic(path, html.encode("utf-8"))
        result.documents.append(path)
    if browser is not None:
        printed, failed = print_pdfs([p for p, _ in docs], browser=browser)
        result.pdfs.extend(printed)
        result.pdf_failed.extend(failed)
    return result
