"""Compact data of the leadership map: quantised geometries, a string table, patch records.

Folium's GeoJson writes every coordinate as a 17-digit float and every property
of every feature again and again, JSON-escaped. The map instead carries one JSON
document read by the map's script (``geo/maps/static/hetu-map.js``): coordinates as integers on a
fixed grid (``quantum`` degrees), each ring delta-coded from its feature's
centroid, and every repeated text (chiefs, rivers, dates, labels) once in a
string table that records point into. Geometries are simplified in metres
(a CGCS2000 Gauss-Kruger zone) before they are drawn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import DRAW_EPSG, metric_crs
from geo.errors import CRSError, SchemaError
from geo.labels import ACTIONS, EVIDENCE, STATES, TEXT, label
from geo.policy.lifecycle import ESCALATION_ACTIONS

__all__ = [
    "Strings",
    "encode_geometries",
    "event_text",
    "histories",
    "in_township",
    "missing",
    "script_json",
    "shoreline_by_township",
    "shoreline_records",
    "simplified",
    "thumbnail_uris",
]

_THUMB = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+")


def missing(value: object) -> bool:
    """Return True for None, NaN, NaT and pandas' NA."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


class Strings:
    """A table of distinct strings; calling it returns a string's index (-1 for blank)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: object) -> int:
        """Return the index of ``value`` in the table, adding it if new; -1 if blank."""
        if missing(value):
            return -1
        text = str(value)
        if not text:
            return -1
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.items)
            self.items.append(text)
        return index


def script_json(data: Any) -> str:
    r"""Return ``data`` as compact JSON that is safe inside a ``<script>`` element.

    Non-ASCII text stays UTF-8 (no ``\\uXXXX`` inflation); ``<``, ``>`` and ``&``
    become JSON escapes, so no value can close the element or open markup.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def event_text(action: object, from_state: object, to_state: object, note: object) -> str:
    """Return what an event did, in the words of a popup's history.

    An evidence upload is 上传 and its kind (上传整改后照片), an escalation step is
    下发 and its document (下发督办函), a change of state is the new state (整改中);
    any other record is its action's label.
    """
    action = "" if missing(action) else str(action)
    if action == "attach":
        kind = "" if missing(note) else str(note)
        return TEXT["uploaded"] + EVIDENCE[kind] if kind in EVIDENCE else ACTIONS["attach"]
    if action in ESCALATION_ACTIONS:
        return TEXT["sent"] + ACTIONS[action]
    moved = not missing(to_state) and (missing(from_state) or str(from_state) != str(to_state))
    if moved or not action:
        return label(STATES, None if missing(to_state) else to_state)
    return label(ACTIONS, action)


def histories(events: pd.DataFrame | None, ids: set[str], strings: Strings) -> dict[str, list]:
    """Return per patch id what happened to it: ``[[time, what, who] …]`` in time order.

    Parameters
    ----------
    events : DataFrame or None
        ``Ledger.events()``: ``patch_id``, ``at``, ``to_state`` and, when present,
        ``event_id``, ``action``, ``from_state``, ``note`` (an upload's evidence kind)
        and ``actor``.
    ids : set of str
        The patches drawn.
    strings : Strings
        The map's string table; the three values are indexes into it.

    Raises
    ------
    SchemaError
        If ``events`` lacks ``patch_id``, ``at`` or ``to_state``.
    """
    if events is None or events.empty:
        return {}
    needed = [c for c in ("patch_id", "at", "to_state") if c not in events]
    if needed:
        raise SchemaError(f"events: lacks {needed}; pass Ledger.events()")
    ev = events.loc[events["patch_id"].astype(str).isin(ids)]
    ev = ev.sort_values(["at", "event_id"] if "event_id" in ev else ["at"], kind="stable")

    def column(name: str) -> list[Any]:
        return ev[name].tolist() if name in ev else [None] * len(ev)

    out: dict[str, list] = {}
    for pid, at, action, old, new, note, actor in zip(
        ev["patch_id"].astype(str), ev["at"].astype(str), column("action"), column("from_state"),
        ev["to_state"], column("note"), column("actor"), strict=True,
    ):  # fmt: skip
        what = strings(event_text(action, old, new, note))
        out.setdefault(pid, []).append([strings(at[:16].replace("T", " ")), what, strings(actor)])
    return out


def simplified(gdf: gpd.GeoDataFrame, tolerance_m: float, what: str) -> gpd.GeoSeries:
    """Return the geometries simplified by ``tolerance_m`` metres, in EPSG:4326.

    Missing and empty geometries must have been dropped by the caller.
    """
    if gdf.crs is None:
        raise CRSError(f"{what}: the frame has no CRS; set EPSG:4490 with .set_crs() first")
    if gdf.empty:
        return gdf.geometry.to_crs(DRAW_EPSG)
    metric = gdf.geometry.to_crs(metric_crs(gdf))
    if tolerance_m > 0:
        metric = metric.simplify(tolerance_m, preserve_topology=True)
    return metric.to_crs(DRAW_EPSG)


def encode_geometries(
    geoms: Sequence[Any] | np.ndarray, *, quantum: float, origin: tuple[int, int]
) -> tuple[np.ndarray, list[list[list[list[int]]]]]:
    """Quantise and delta-code polygons or lines.

    Parameters
    ----------
    geoms : sequence of shapely geometries
        Polygons/MultiPolygons or LineStrings/MultiLineStrings in degrees.
    quantum : float
        Grid step in degrees (1e-6 is about 0.1 m).
    origin : tuple of int
        Grid origin (x, y) in quanta; every centroid is stored relative to it.

    Returns
    -------
    centers : numpy.ndarray
        ``(n, 2)`` integer centroids relative to ``origin``.
    shapes : list
        Per geometry, its parts; per part, its rings (one per line part); per ring
        a flat ``[dx, dy, dx, dy …]`` list, the first step from the centroid. Rings
        leave out their closing vertex and repeated vertices.
    """
    arr = np.asarray(geoms, dtype=object)
    n = len(arr)
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64), []
    centers = np.rint(shapely.get_coordinates(shapely.centroid(arr)) / quantum).astype(np.int64)
    centers -= np.asarray(origin, dtype=np.int64)
    parts, part_owner = shapely.get_parts(arr, return_index=True)
    is_poly = shapely.get_type_id(parts) == 3
    ring_geoms: list[Any] = []
    ring_part: list[int] = []
    ring_closed: list[bool] = []
    for j, (part, poly) in enumerate(zip(parts, is_poly, strict=True)):
        rings = [part.exterior, *part.interiors] if poly else [part]
        ring_geoms.extend(rings)
        ring_part.extend([j] * len(rings))
        ring_closed.extend([bool(poly)] * len(rings))
    coords, owner = shapely.get_coordinates(np.asarray(ring_geoms, dtype=object), return_index=True)
    grid = np.rint(coords / quantum).astype(np.int64) - np.asarray(origin, dtype=np.int64)
    lengths = np.bincount(owner, minlength=len(ring_geoms))
    ends = np.cumsum(lengths) - 1
    keep = np.ones(len(grid), dtype=bool)
    closed = np.asarray(ring_closed, dtype=bool)
    keep[ends[closed & (lengths > 1)]] = False
    same = np.zeros(len(grid), dtype=bool)
    same[1:] = (grid[1:] == grid[:-1]).all(axis=1) & (owner[1:] == owner[:-1])
    keep &= ~same
    grid, owner = grid[keep], owner[keep]
    ring_geom = part_owner[np.asarray(ring_part, dtype=np.int64)]
    prev = np.empty_like(grid)
    prev[1:] = grid[:-1]
    first = np.ones(len(grid), dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    prev[first] = centers[ring_geom[owner[first]]]
    delta = (grid - prev).ravel()
    counts = np.bincount(owner, minlength=len(ring_geoms)) * 2
    flat = np.split(delta, np.cumsum(counts)[:-1]) if len(counts) else []
    shapes: list[list[list[list[int]]]] = [[] for _ in range(n)]
    part_rings: list[list[list[int]]] = [[] for _ in range(len(parts))]
    for ring, part in zip(flat, ring_part, strict=True):
        part_rings[part].append(ring.tolist())
    for part, geom in zip(part_rings, part_owner, strict=True):
        shapes[geom].append(part)
    return centers, shapes


def thumbnail_uris(thumbnails: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """Check the image thumbnails given per patch id; return them as lists.

    Raises
    ------
    SchemaError
        If a value is not a base64 ``data:image/(png|jpeg|gif|webp)`` URI.
    """
    out: dict[str, list[str]] = {}
    for patch_id, uris in (thumbnails or {}).items():
        items = [uris] if isinstance(uris, str) else list(uris)
        for k, uri in enumerate(items):
            if not isinstance(uri, str) or not _THUMB.fullmatch(uri):
                shown = repr(uri)[:60]
                raise SchemaError(
                    f"thumbnails[{patch_id!r}][{k}]: {shown} is not a base64 data URI of a "
                    "PNG, JPEG, GIF or WebP image; pass 'data:image/jpeg;base64,...'"
                )
        out[str(patch_id)] = items
    return out


def shoreline_records(
    pieces: pd.DataFrame,
    geoms: gpd.GeoSeries,
    *,
    origin: tuple[int, int],
    quantum: float,
    strings: Strings,
    words: Mapping[str, str],
) -> list[list[Any]]:
    """Return one compact record per shoreline piece: ``[covered, tip, cx, cy, lines]``.

    Parameters
    ----------
    pieces : DataFrame
        From :func:`geo.field.coverage.shoreline_pieces`: ``covered``, ``length_m`` and
        the segment columns present (``water_name``, ``segment_id``).
    geoms : GeoSeries
        Their geometries as drawn (degrees, simplified), in the same order.
    origin, quantum
        As for :func:`encode_geometries`.
    strings : Strings
        The map's string table.
    words : mapping
        ``covered``, ``gap`` and ``km``: the words of the tooltip.

    Returns
    -------
    list
        ``covered`` is 1 or 0; ``lines`` holds one flat delta-coded list per line part.
    """
    centers, shapes = encode_geometries(geoms.values, quantum=quantum, origin=origin)
    out = []
    cols = [c for c in ("water_name", "segment_name", "segment_id") if c in pieces]
    for i, (covered, length) in enumerate(
        zip(pieces["covered"].astype(bool), pieces["length_m"].astype(float), strict=True)
    ):
        where = [str(v) for v in pieces[cols].iloc[i].tolist() if not missing(v) and str(v)]
        state = words["covered"] if covered else words["gap"]
        tip = " ".join([*where[:2], f"{state} {length / 1000:.2f} {words['km']}"])
        lines = [part[0] for part in shapes[i] if part]
        out.append([int(covered), strings(tip), int(centers[i, 0]), int(centers[i, 1]), lines])
    return out


def in_township(
    frame: gpd.GeoDataFrame | None, segments: set[str], codes: set[str]
) -> gpd.GeoDataFrame | None:
    """Return the rows on one of ``segments`` or in a township of ``codes`` (None if none)."""
    if frame is None:
        return None
    seg = frame.get("segment_id", pd.Series("", index=frame.index)).astype(str)
    adm = frame.get("admin_code", pd.Series("", index=frame.index)).astype(str)
    keep = seg.isin(segments) | adm.str[:9].isin(codes)
    return frame.loc[keep] if keep.any() else None


def shoreline_by_township(
    pieces: pd.DataFrame, patches: pd.DataFrame | None = None
) -> list[tuple[str, str, str]]:
    """Return ``(township, "surveyed/shoreline km", "percent")`` rows for the dashboard.

    Parameters
    ----------
    pieces : DataFrame
        From :func:`geo.field.coverage.shoreline_pieces`, with ``admin_code``.
    patches : DataFrame, optional
        The status frame: its ``township`` names the codes of its ``admin_code``;
        other codes are shown as the code.

    Returns
    -------
    list of tuple
        One row per township code, sorted by code; empty without ``admin_code``.
    """
    if "admin_code" not in pieces or pieces.empty:
        return []
    code = pieces["admin_code"].fillna("").astype(str).str[:9]
    length = pieces["length_m"].astype(float)
    done = length.where(pieces["covered"].astype(bool), 0.0)
    total = length.groupby(code).sum()
    covered = done.groupby(code).sum()
    names: dict[str, str] = {}
    if patches is not None and {"township", "admin_code"} <= set(patches.columns):
        town_codes = patches["admin_code"].astype(str).str[:9]
        names = dict(zip(town_codes, patches["township"].astype(str), strict=True))
    rows = []
    for town in total.index:
        whole = float(total[town])
        pct = f"{covered[town] / whole:.0%}" if whole > 0 else ""
        shown = names.get(town) or town
        rows.append((shown, f"{covered[town] / 1000:.1f}/{whole / 1000:.1f}", pct))
    return rows


def candidate_records(
    cands: pd.DataFrame,
    geoms: gpd.GeoSeries,
    *,
    origin: tuple[int, int],
    quantum: float,
    strings: Strings,
    lines: Sequence[str],
    thumbs: Mapping[str, Sequence[str]],
) -> list[list[Any]]:
    """Return one record per self-check candidate: ``[title, cx, cy, shape, lines, images]``.

    ``lines`` are the columns shown as ``label value`` (their text only, through the string
    table); ``images`` are the candidate's checked chip data URIs (:func:`thumbnail_uris`).
    """
    centers, shapes = encode_geometries(geoms.values, quantum=quantum, origin=origin)
    out = []
    ids = cands["candidate_id"].astype(str).tolist()
    for i, cid in enumerate(ids):
        row = cands.iloc[i]
        shown = [strings(f"{label} {row[col]}") for col, label in lines
                 if col in cands.columns and not missing(row[col]) and str(row[col])]  # fmt: skip
        images = [strings(u) for u in thumbs.get(cid, [])]
        out.append([strings(cid), int(centers[i, 0]), int(centers[i, 1]), shapes[i], shown,
                    images])  # fmt: skip
    return out
