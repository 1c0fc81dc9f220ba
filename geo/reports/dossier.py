"""The per-patch dossier (一斑一档): one self-contained page with everything known of a patch.

:func:`write_dossier` writes, for one patch, an HTML page that opens on any
laptop without a network: the header (id, batch, issue type, township, river
and segment, the chief chain, state, deadline, overdue days), a location map
drawn as inline SVG (the patch, its linked earlier/later patches and the
segments around it, by :func:`geo.reports.escalation.thumbnail_svg`), the before/after
imagery chips from the attachment store inlined as ``data:`` URIs with their
dates and change indicators, the full history of events, the evidence list
with each file's EXIF time, position and checks, the links to earlier and
later patches at the same place (recurrence), and the patch's original
attributes. A PDF is printed beside it by headless Chromium when one is found
(:func:`geo.reports.escalation.html_to_pdf`).

Every value from the ledger is escaped by the template (Jinja2 autoescaping):
descriptions, notes and file names come from province files and field sheets
and are not trusted. Only the SVG map (numbers and labels drawn here) and the
image URIs (built here from the stored bytes) are inserted as they are.
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import io
import json
import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import jinja2
import pandas as pd
import shapely
from markupsafe import Markup
from PIL import Image, ImageOps

from geo.clock import as_date
from geo.errors import NotFoundError, PdfError, SchemaError
from geo.fileio import write_atomic
from geo.labels import (
    ACTIONS,
    COLUMNS,
    DOSSIER,
    EVIDENCE,
    IMAGERY,
    ISSUE_TYPES,
    MATCHING,
    NOTICE,
    RELATIONS,
    label,
)
from geo.ledger.details import DETAIL_COLUMNS
from geo.ledger.store import Ledger
from geo.matching.identity import relink
from geo.progress import Progress, expect
from geo.records import is_missing
from geo.reports.documents import bounded_name, output_folder, plain_name_ok, thumbnail_svg
from geo.reports.pdf import pdf_converter, print_pdfs
from geo.reports.word import dossier_docx

__all__ = [
    "DOSSIER_TEMPLATE",
    "PdfError",
    "dossier_html",
    "file_name",
    "write_dossier",
    "write_dossiers",
]

log = logging.getLogger(__name__)

#: The built-in template, shipped in ``geo/templates``.
DOSSIER_TEMPLATE = "dossier.html.j2"
#: How far around the patch segments are drawn on the map (degrees, about 1 km).
_AROUND_DEG = 0.01
_IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_CHIEFS = ["chief_village", "chief_township", "chief_county", "chief_city", "chief_province"]


@dataclass
class _Sources:
    """What every dossier of one run draws from, read once."""

    ledger: Ledger
    day: dt.date
    frame: pd.DataFrame  # the status frame, indexed by patch_id
    segments: gpd.GeoDataFrame
    links: pd.DataFrame
    names: dict[str, str]  # patch id -> dossier file name, for the patches linkable
    out: Path | None = None  # the dossiers' folder (links to the evidence files from there)


def _text(value: Any) -> str:
    return "" if is_missing(value) else str(value)


def _when(value: Any) -> str:
    """``2025-08-01T09:00:00+08:00`` → ``2025-08-01 09:00`` (Asia/Shanghai as recorded)."""
    text = _text(value)
    return text[:16].replace("T", " ") if len(text) > 10 else text


def _number(value: Any, digits: int = 1) -> str:
    if is_missing(value):
        return ""
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def file_name(patch_id: str) -> str:
    """Return the dossier's file name for a patch id.

    Parameters
    ----------
    patch_id : str
        The patch.

    Returns
    -------
    str
        ``<id>.html`` when the id can be a file name as it is on any system
        (:func:`geo.reports.documents.plain_name_ok`: digits, capitals, ``_ . -``,
        Chinese); otherwise the id cleaned and cut, Chinese kept, with a short hash
        of the id (:func:`geo.reports.documents.bounded_name`), so no two ids share a
        name and no name passes 120 bytes.
    """
    if plain_name_ok(patch_id):
        return f"{patch_id}.html"
    return bounded_name(patch_id, key=patch_id, fallback="patch")


# -- the parts of a dossier -------------------------------------------------------------------


def _facts(rec: dict[str, Any], src: _Sources) -> list[dict[str, str]]:
    lifecycle = src.ledger.lifecycle
    water = " ".join(p for p in (_text(rec["water_name"]), _text(rec["segment_name"])) if p)
    if _text(rec["segment_id"]):
        water += f"（{rec['segment_id']}）"
    overdue = int(rec["overdue_days"] or 0)
    unit = DOSSIER["workdays"] if src.ledger.settings.calendar is not None else DOSSIER["days"]
    late = f"{DOSSIER['overdue']} {overdue} {unit}" if overdue > 0 else DOSSIER["not_overdue"]
    town = _text(rec["township"])
    code = _text(rec["admin_code"])
    rows = [
        ("patch_id", COLUMNS["patch_id"], _text(rec["patch_id"])),
        ("batch_id", COLUMNS["batch_id"], _text(rec["batch_id"])),
        ("issue_type", COLUMNS["issue_type"], label(ISSUE_TYPES, rec["issue_type"])),
        ("township", COLUMNS["township"], f"{town}（{code}）" if code and code != town else town),
        ("water", DOSSIER["water"], water),
        ("relation", COLUMNS["relation"], label(RELATIONS, _text(rec["relation"]) or None)),
        ("area_m2", COLUMNS["area_m2"], _number(rec["area_m2"])),
        ("detected_on", COLUMNS["detected_on"], _text(rec["detected_on"])),
        ("issued_on", COLUMNS["issued_on"], _text(rec["issued_on"])),
        ("state", COLUMNS["state"], lifecycle.label(_text(rec["state"]))),
        ("state_since", COLUMNS["state_since"], _when(rec["state_since"])),
        ("deadline", COLUMNS["deadline"], _text(rec["deadline"])),
        ("overdue" if overdue > 0 else "on_time", COLUMNS["overdue_days"], late),
        ("description", COLUMNS["description"], _text(rec["description"])),
    ]
    # 认定, 责任, 整改措施, 立案查处, 工程量, 验收, 回头看 (geo.ledger.details), where recorded
    rows += [(c, COLUMNS[c], _text(rec.get(c))) for c in DETAIL_COLUMNS if _text(rec.get(c))]
    return [{"key": k, "label": lab, "value": v} for k, lab, v in rows]


def _chiefs(rec: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"label": COLUMNS[col], "value": _text(rec.get(col))}
        for col in _CHIEFS
        if _text(rec.get(col))
    ]


def _data_uri(path: Path | None) -> str | None:
    """The file as a ``data:image/…;base64,`` URI, if it is a PNG or JPEG."""
    if path is None or not path.is_file():
        return None
    data = path.read_bytes()
    for magic, mime in _IMAGE_MAGIC.items():
        if data.startswith(magic):
            return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    return None


def _indicators(text: Any) -> list[dict[str, str]]:
    if not _text(text):
        return []
    try:
        figures = json.loads(str(text))
    except json.JSONDecodeError:
        return []
    out = []
    if not isinstance(figures, dict):
        return []
    # the figures of this chip first, then the before → after changes
    for key, value in sorted(figures.items(), key=lambda kv: (kv[0].startswith("delta_"), kv[0])):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            continue
        name = (
            IMAGERY["delta"] + label(IMAGERY, key[6:])
            if key.startswith("delta_")
            else label(IMAGERY, key)
        )
        out.append({"label": name, "value": f"{value:.3g}"})
    return out


def _chips(src: _Sources, pid: str) -> list[dict[str, Any]]:
    rows = src.ledger.imagery(pid)
    if rows.empty:
        return []
    rows = rows.sort_values("made_at", kind="stable").drop_duplicates(
        ["role", "source"], keep="last"
    )
    order = {"before": 0, "after": 1}
    rows = rows.assign(_o=rows["role"].map(order).fillna(2)).sort_values(["_o", "acquired_on"])
    out = []
    for r in rows.to_dict("records"):
        uri = None
        note = ""
        if r["status"] == "ok":
            sha = _text(r["attachment_id"])
            uri = _data_uri(src.ledger.attachment_path(sha)) if sha else None
            if uri is None:
                note = DOSSIER["chip_missing"]
                log.warning("chip %s of patch %s is not in the attachment store", sha, pid)
        else:
            note = label(IMAGERY, r["status"])
            if _text(r["reason"]):
                note += f"：{r['reason']}"
        out.append(
            {
                "role": DOSSIER.get(f"phase_{r['role']}", label(IMAGERY, r["role"])),
                "acquired_on": _text(r["acquired_on"]),
                "source": Path(_text(r["source"])).name,
                "uri": Markup(uri) if uri else None,  # built here from stored bytes: base64 only
                "note": note,
                "indicators": _indicators(r["indicators"]),
                "line": "；".join(
                    f"{i['label']} {i['value']}" for i in _indicators(r["indicators"])
                ),
            }
        )
    return out


def _file_names(evidence: pd.DataFrame) -> dict[str, str]:
    return {
        str(a): _text(f)
        for a, f in zip(evidence["attachment_id"], evidence["filename"], strict=True)
    }


def _history(src: _Sources, pid: str, files: dict[str, str]) -> list[dict[str, str]]:
    lifecycle = src.ledger.lifecycle
    out = []
    for e in src.ledger.events(pid, as_of=src.day).to_dict("records"):
        names = []
        if _text(e["evidence"]):
            try:
                ids = json.loads(e["evidence"])
            except json.JSONDecodeError:
                ids = []
            names = [files.get(str(a)) or str(a)[:12] for a in ids if a]
        frm = _text(e["from_state"])
        out.append(
            {
                "at": _when(e["at"]),
                "actor": _actor(e["actor"]),
                "action": label(ACTIONS, e["action"]),
                "change": (f"{lifecycle.label(frm)} → " if frm else "")
                + lifecycle.label(_text(e["to_state"])),
                "deadline": _text(e["deadline"]),
                "note": _note(e["note"]),
                "files": "；".join(names),
            }
        )
    return out


def _check_text(checks: Any) -> str:
    if not _text(checks):
        return ""
    try:
        found = json.loads(str(checks))
    except json.JSONDecodeError:
        return str(checks)
    if not isinstance(found, dict):
        return str(checks)
    parts = []
    for key, word in (("time", "check_time"), ("gps", "check_gps")):
        if key in found:
            value = str(found[key])
            parts.append(f"{DOSSIER[word]}{DOSSIER.get('check_' + value, value)}")
    if isinstance(found.get("distance_m"), (int, float)):
        parts.append(DOSSIER["distance"].format(d=f"{found['distance_m']:g}"))
    return "，".join(parts)


def _note(value: Any) -> str:
    """An event's note, an evidence kind (``photo_before``) in Chinese."""
    text = _text(value)
    if text.startswith("batch "):  # the issue event of an import names its batch
        return f"{COLUMNS['batch_id']} {text[6:]}"
    return EVIDENCE.get(text, text)


def _actor(value: Any) -> str:
    """Who recorded an event: the import's default actor ``hetu`` reads 系统导入."""
    text = _text(value)
    return DOSSIER["system_actor"] if text == "hetu" else text


def _thumbnail(path: Path | None) -> str | None:
    """A JPEG thumbnail (at most 320 px) of an image file as a ``data:`` URI, or None."""
    if path is None or not path.is_file():
        return None
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img).convert("RGB")
            img.thumbnail((320, 320))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=80)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _evidence(evidence: pd.DataFrame, src: _Sources | None = None) -> list[dict[str, Any]]:
    out = []
    for r in evidence.to_dict("records"):
        thumb, href = None, ""
        if src is not None and _text(r["attachment_id"]):
            path = src.ledger.attachment_path(str(r["attachment_id"]))
            thumb = _thumbnail(path)
            if path is not None and path.is_file() and src.out is not None:
                try:
                    href = Path(os.path.relpath(path, src.out)).as_posix()
                except ValueError:  # another drive (Windows)
                    href = path.resolve().as_uri()
        where = ""
        if not (is_missing(r["lon"]) or is_missing(r["lat"])):
            where = f"{float(r['lon']):.6f}, {float(r['lat']):.6f}"
        out.append(
            {
                "kind": label(EVIDENCE, r["kind"]),
                "filename": _text(r["filename"]),
                "taken_at": _when(r["taken_at"]),
                "position": where,
                "checks": _check_text(r["checks"]),
                "actor": _actor(r["actor"]),
                "added_at": _when(r["added_at"]),
                "thumb": Markup(thumb) if thumb else None,  # built here: base64 JPEG only
                "href": href,
            }
        )
    return out


def _links(src: _Sources, pid: str) -> list[dict[str, Any]]:
    links = src.links
    if links.empty:
        return []
    out = []
    earlier = links[links["patch_id"].astype(str) == pid]
    later = links[links["earlier_id"].astype(str) == pid]
    sides = [(earlier, "earlier_id", "earlier"), (later, "patch_id", "later")]
    for rows, col, side in sides:
        for r in rows.to_dict("records"):
            other = str(r[col])
            known = other in src.frame.index
            state = src.frame.at[other, "state"] if known else None
            out.append(
                {
                    "direction": DOSSIER[side],
                    "patch_id": other,
                    "kind": label(MATCHING, r["kind"]),
                    "batch_id": _text(src.frame.at[other, "batch_id"]) if known else "",
                    "state": src.ledger.lifecycle.label(_text(state)) if known else "",
                    "overlap": ""
                    if is_missing(r["overlap_ratio"])
                    else f"{float(r['overlap_ratio']):.0%}",
                    "iou": _number(r["iou"], 2),
                    "centroid_m": _number(r["centroid_m"], 1),
                    "href": src.names.get(other, ""),
                    "map_no": "",
                }
            )
    return out


def _map(src: _Sources, geom: Any, links: list[dict[str, Any]]) -> str:
    """The SVG map: the patch (1), its linked patches (2, 3, …), the segments around them."""
    geoms = [geom]
    for link in links:
        other = link["patch_id"]
        if other in src.frame.index:
            g = src.frame.at[other, "geometry"]
            if g is not None and not g.is_empty:
                geoms.append(g)
                link["map_no"] = str(len(geoms))
    segs: list[Any] = []
    if geom is not None and not geom.is_empty and len(src.segments):
        area = shapely.box(*geom.bounds).buffer(_AROUND_DEG)
        hits = src.segments.sindex.query(area, predicate="intersects")
        segs = list(src.segments.geometry.iloc[sorted(hits)])
    return thumbnail_svg(geoms, segs, width=560, height=360)


def _attrs(value: Any) -> list[dict[str, str]]:
    if not _text(value):
        return []
    try:
        found = json.loads(str(value))
    except json.JSONDecodeError:
        return [{"field": "attrs", "value": str(value)}]
    if not isinstance(found, dict):
        return [{"field": "attrs", "value": str(value)}]
    return [{"field": str(k), "value": _text(v)} for k, v in found.items()]


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("geo.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _render(src: _Sources, pid: str, env: jinja2.Environment) -> str:
    return env.get_template(DOSSIER_TEMPLATE).render(**_context(src, pid))


def _context(src: _Sources, pid: str) -> dict[str, Any]:
    rec = src.frame.loc[pid].to_dict()
    rec["patch_id"] = pid
    evidence = src.ledger.evidence(pid)
    evidence = evidence[evidence["added_at"].astype(str).str[:10] <= src.day.isoformat()]
    links = _links(src, pid)
    context = {
        "office": src.ledger.settings.office_name,
        "patch_id": pid,
        "as_of": src.day.isoformat(),
        "labels": DOSSIER,
        "columns": COLUMNS,
        "map_title": NOTICE["location_map"],
        "facts": _facts(rec, src),
        "chiefs": _chiefs(rec),
        "map_svg": Markup(_map(src, rec["geometry"], links)),  # numbers and labels only
        "chips": _chips(src, pid),
        "history": _history(src, pid, _file_names(evidence)),
        "evidence": _evidence(evidence, src),
        "links": links,
        "link_headers": {
            "overlap": MATCHING["overlap_ratio"],
            "iou": MATCHING["iou"],
            "centroid_m": MATCHING["centroid_m"],
        },
        "attrs": _attrs(rec.get("attrs")),
        "footer": DOSSIER["footer"].format(as_of=src.day.isoformat()),
        "overdue": int(rec["overdue_days"] or 0) > 0,
    }
    return context


# -- the public functions ---------------------------------------------------------------------


def _check_known(
    ids: list[str], known: pd.Index, ledger: Ledger, day: dt.date | None = None
) -> None:
    unknown = [pid for pid in ids if pid not in known]
    if not unknown:
        return
    pool = {str(p).casefold(): str(p) for p in known}
    hints = []
    for pid in unknown:
        close = difflib.get_close_matches(pid.casefold(), list(pool), n=1, cutoff=0.75)
        hints.append(f"{pid!r}" + (f" (did you mean {pool[close[0]]!r}?)" if close else ""))
    where = getattr(ledger, "path", "the ledger")
    if day is not None:
        later = set(map(str, ledger.patches()["patch_id"])) & set(unknown)
        if later:
            raise NotFoundError(
                f"patch {', '.join(sorted(later))} was issued after {day}: {where} as of that "
                "day does not hold it; give a later --as-of"
            )
    raise NotFoundError(
        f"patch {', '.join(hints)} is not in {where}; list the ids with "
        f"`hetu export {where} -o DIR` (column {COLUMNS['patch_id']}) or "
        "Ledger.patches()['patch_id']"
    )


def _sources(ledger: Ledger, ids: list[str], out: Path, day: dt.date) -> _Sources:
    frame = ledger.status_frame(as_of=day).set_index("patch_id", drop=False)
    _check_known(ids, frame.index, ledger, day)
    links = relink(ledger.links(), frame)  # the kinds as of the day shown
    names = {pid: file_name(pid) for pid in ids}
    others = set(links["patch_id"].astype(str)) | set(links["earlier_id"].astype(str))
    for other in others - set(ids):
        if (out / file_name(other)).is_file():
            names[other] = file_name(other)
    return _Sources(ledger, day, frame, ledger.segments(), links, names, out)


def _day(as_of: dt.date | str | None) -> dt.date:
    try:
        return as_date(as_of)
    except ValueError:
        raise SchemaError(f"as_of {as_of!r} is not a date; give YYYY-MM-DD") from None


def dossier_html(ledger: Ledger, patch_id: str, *, as_of: dt.date | str | None = None) -> str:
    """Return the dossier of one patch as an HTML document (e.g. to show in a notebook).

    Parameters
    ----------
    ledger : geo.ledger.store.Ledger
        The open ledger.
    patch_id : str
        The patch.
    as_of : date or str, optional
        The ledger as of the end of this day (the patches issued by then, their states
        then, overdue days counted to it; :meth:`Ledger.status_frame`); default today.

    Returns
    -------
    str

    Raises
    ------
    NotFoundError
        If the patch is not in the ledger (naming it, and how to list the ids).
    SchemaError
        If ``as_of`` is not a date.
    """
    pid = str(patch_id)
    src = _sources(ledger, [pid], Path("."), _day(as_of))
    src.names, src.out = {}, None
    return _render(src, pid, _environment())


def write_dossiers(
    ledger: Ledger,
    patch_ids: Iterable[str],
    out_dir: str | os.PathLike,
    *,
    pdf: bool | None = None,
    as_of: dt.date | str | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write the dossiers of several patches, one page each (:func:`file_name`), into ``out_dir``.

    The ledger is read once for all of them. Every id is checked before anything
    is written. Links between the patches written (and to dossiers already in
    ``out_dir``) are hyperlinks. Each page is written atomically. PDFs are
    printed by headless Chromium, one browser process per page and up to four at
    a time (``--print-to-pdf`` takes one page per start).

    Parameters
    ----------
    ledger : geo.ledger.store.Ledger
        The open ledger.
    patch_ids : iterable of str
        The patches (duplicates are written once).
    out_dir : path-like
        Where the pages go (created if missing).
    pdf : bool, optional
        ``None`` (default): a PDF beside each page when Chromium is found;
        ``False``: none; ``True``: required.
    as_of : date or str, optional
        The ledger as of the end of this day (the patches issued by then, their states
        then, overdue days counted to it; :meth:`Ledger.status_frame`); default today.
    progress : Progress, optional
        Told how many files to expect (pages, and as many PDFs when they are printed),
        then of each page made and each PDF done (:mod:`geo.progress`).

    Returns
    -------
    list of Path
        The files written: each page, followed by its PDF when one was printed.

    Raises
    ------
    NotFoundError
        If a patch is not in the ledger (nothing is written).
    SchemaError
        If ``as_of`` is not a date.
    SettingsError
        If ``pdf=True`` and no Chromium is found (nothing is written).
    OutputError
        If ``out_dir`` is a file or lies under one (nothing is written).
    PdfError
        If ``pdf=True`` and a PDF could not be printed (the pages stand).
    """
    ids = list(dict.fromkeys(str(p) for p in patch_ids))
    day = _day(as_of)
    out = Path(out_dir)
    output_folder(out, what="dossiers")
    browser = pdf_converter(pdf)
    if not ids:
        return []
    src = _sources(ledger, ids, out, day)
    env = _environment()
    tick = expect(progress, len(ids) * (1 if browser is None else 2))
    pages = []
    for pid in ids:
        context = _context(src, pid)
        html = env.get_template(DOSSIER_TEMPLATE).render(**context)
        pages.append((out / src.names[pid], html, dossier_docx(context)))
        tick(1)
    out.mkdir(parents=True, exist_ok=True)
    for path, html, word in pages:
        write_atomic(path, html.encode("utf-8"))
        write_atomic(path.with_suffix(".docx"), word)  # the same archive page, editable
    written = [path for path, _, _ in pages]
    if browser is None:
        return written
    printed, failed = print_pdfs(written, browser=browser, progress=tick)
    if failed and pdf:
        raise PdfError(
            f"PDF not printed for {', '.join(str(p) for p in failed)} with {browser} "
            "(the HTML pages are written; see the log); retry, or use --no-pdf"
        )
    made = set(printed)
    return [
        p for page in written for p in (page, page.with_suffix(".pdf")) if p == page or p in made
    ]


def write_dossier(
    ledger: Ledger,
    patch_id: str,
    out_dir: str | os.PathLike,
    *,
    pdf: bool | None = None,
    as_of: dt.date | str | None = None,
) -> list[Path]:
    """Write the dossier (一斑一档) of one patch (:func:`file_name`), and a PDF when possible.

    Parameters
    ----------
    ledger : geo.ledger.store.Ledger
        The open ledger.
    patch_id : str
        The patch.
    out_dir : path-like
        Where the page goes (created if missing).
    pdf : bool, optional
        ``None`` (default): a PDF beside the page when Chromium is found;
        ``False``: none; ``True``: required.
    as_of : date or str, optional
        The ledger as of the end of this day (the patches issued by then, their states
        then, overdue days counted to it; :meth:`Ledger.status_frame`); default today.

    Returns
    -------
    list of Path
        The page, and its PDF when one was printed.

    Raises
    ------
    NotFoundError
        If the patch is not in the ledger (naming it, and how to list the ids).
    SchemaError, SettingsError, PdfError
        As :func:`write_dossiers`.
    """
    return write_dossiers(ledger, [patch_id], out_dir, pdf=pdf, as_of=as_of)
