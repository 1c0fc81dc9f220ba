"""Leadership maps: one self-contained HTML file of the patches' status.

The map is a summary for leaders, not a data dump. Patches are drawn one layer
per lifecycle state, so each layer's count is the dashboard's; overdue ones are
marked on top by a red ring (a red outline when zoomed in) in the layer 逾期.
Below zoom level :data:`POLYGON_ZOOM` each patch is a coloured dot (20–90 m
polygons vanish at county zoom), above it its polygon. Closed patches are
clustered markers; recurrence sites are ringed; management ranges (one layer
per river, simplified in metres) and patrol tracks sit underneath. A title
with the 数据截至 date, a Chinese legend, a metric scale, a dashboard (counts
per state, closure rate per township, overdue patches per chief) and a search
box by 图斑编号 complete the page; ``map.html#patch=ID`` opens a patch and
``#township=NAME`` zooms to a township. When the patches come from more than one
source (上级下发, 自查, 12345, 暗访 …: :mod:`geo.policy.sources`), a 问题来源 filter shows
one source's patches only, and the dashboard and layer list count that source's only.

No text from the ledger, an input file or the settings is ever compiled as a
template or run: the geometry, popup data and layer names travel as one compact
JSON document (see :mod:`geo.maps.data`) drawn by Hetu's own script
(:mod:`geo.maps.assets`), which builds popups, tooltips and search results with
``textContent`` and HTML-escapes the layer list's names; the boxes written in
Python (title, legend, dashboard: :mod:`geo.maps.panels`) are escaped there;
and all of it reaches the page through :class:`geo.maps.assets.Verbatim`, never
through a second template compilation. Folium's own elements get fixed names
only. Chinese words come from :mod:`geo.labels`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.clock import now
from geo.errors import CRSError, NotFoundError, SchemaError, SettingsError
from geo.fileio import write_atomic
from geo.labels import (
    COLUMNS,
    ISSUE_TYPES,
    PROBLEMS,
    SELF_CHECK,
    SHORELINE,
    SOURCES,
    STATES,
    TEXT,
    label,
)  # fmt: skip
from geo.maps import data as _md
from geo.maps.assets import Verbatim, hetu_css, hetu_script, use_assets
from geo.maps.data import Strings, encode_geometries, missing, script_json, simplified
from geo.maps.data import thumbnail_uris as _thumbnail_uris
from geo.maps.panels import counts_by_source, dashboard_html, layer_names, legend_html, title_html
from geo.policy.sources import SOURCE_CODES, source_of
from geo.records import attr_value
from geo.settings import BASEMAPS

__all__ = [
    "OVERDUE_COLOR", "POLYGON_ZOOM", "SHORELINE_COLORS", "STATE_COLORS", "save_map",
    "status_map",
]  # fmt: skip

#: Fill colour of each lifecycle state (identifier → CSS colour).
STATE_COLORS: dict[str, str] = {
    "issued": "#e6550d",
    "verifying": "#fbc02d",
    "confirmed": "#c2185b",
    "dismissed": "#9e9e9e",
    "monitored": "#8e24aa",
    "rectifying": "#00acc1",
    "rectified": "#7cb342",
    "closed": "#2e7d32",
}
#: Outline colour of overdue patches.
OVERDUE_COLOR = "#d50000"
#: From this zoom level on, patches are drawn as polygons instead of dots.
POLYGON_ZOOM = 15
_UNKNOWN_COLOR = "#607d8b"
_RANGE_COLOR = "#0277bd"
_TRACK_COLOR = "#1565c0"
_RECURRENCE_COLOR = "#6a1b9a"
#: Shoreline within reach of a track (covered) and the gaps (geo.field.coverage.shoreline_pieces).
SHORELINE_COLORS = {"covered": "#2e9e44", "gap": "#e53935"}
_SETTLED = ("closed", "dismissed")
_SIMPLIFY_M = {"patches": 0.5, "ranges": 5.0, "tracks": 2.0, "shoreline": 2.0}
_SIMPLIFY_M["candidates"] = 0.5
_CANDIDATE_COLOR = "#d500f9"
_QUANTUM = 1e-6
_MAX_ZOOM = 18
_MAX_RIVERS = 8
_DEFAULT_VIEW = ([30.0, 110.0], 5)

_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/DataServer?T={layer}&x={{x}}&y={{y}}&l={{z}}&tk={key}"
)
_TIANDITU_LAYERS = {
    "tianditu": (("vec_w", "tianditu_vec", False), ("cva_w", "tianditu_cva", True)),
    "tianditu-img": (("img_w", "tianditu_img", False), ("cia_w", "tianditu_cva", True)),
}

#: The 认定 and 整改 columns of the status frame shown in a popup when set (geo.ledger.details).
_DETAILS = ("verdict_category", "feature_class", "severity", "blocks_flood", "subtype",
            "duty_unit", "duty_person", "duty_phone", "measures", "case", "workload",
            "acceptance", "recheck", "source", "close_by", "feedback", "revisit")  # fmt: skip

# Popup labels handed to the script, by the key it uses.
_POPUP_LABELS = {
    "patch_id": COLUMNS["patch_id"],
    "issue_type": COLUMNS["issue_type"],
    "area": COLUMNS["area_m2"],
    "water": TEXT["water_segment"],
    "state": COLUMNS["state"],
    "deadline": COLUMNS["deadline"],
    "overdue": STATES["overdue"],
    "township": COLUMNS["township"],
    "batch": COLUMNS["batch_id"],
    "source": PROBLEMS["filter"],
    "source_all": PROBLEMS["all_sources"],
    "chief_village": COLUMNS["chief_village"],
    "chief_township": COLUMNS["chief_township"],
    "chief_county": COLUMNS["chief_county"],
    "description": COLUMNS["description"],
    "history": TEXT["history"],
    "photos": TEXT["photos"],
    "recurrence_of": TEXT["recurrence_of"],
    "search": TEXT["search"],
    "search_none": TEXT["search_none"],
}


def _drawable(gdf: gpd.GeoDataFrame | None, what: str) -> gpd.GeoDataFrame | None:
    """Return ``gdf`` without missing or empty geometries, or None when nothing is left."""
    if gdf is None or gdf.empty:
        return None
    if gdf.crs is None:
        raise CRSError(f"{what}: the frame has no CRS; set EPSG:4490 with .set_crs() first")
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    out = gdf.loc[keep]
    return None if out.empty else out


def _is_overdue(frame: pd.DataFrame) -> pd.Series:
    if "overdue_days" not in frame:
        return pd.Series(False, index=frame.index)
    days = pd.to_numeric(frame["overdue_days"], errors="coerce").fillna(0)
    return (days > 0) & ~frame["state"].isin(_SETTLED)


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame else [None] * len(frame)


def _select_township(
    patches: gpd.GeoDataFrame, township: str
) -> tuple[gpd.GeoDataFrame, set[str], set[str]]:
    """Return the patches of one township (by name or 9-digit code), its codes and segments."""
    names = patches["township"].astype(str) if "township" in patches else None
    codes = patches["admin_code"].astype(str).str[:9] if "admin_code" in patches else None
    mask = pd.Series(False, index=patches.index)
    if names is not None:
        mask |= names == township
    if codes is not None:
        mask |= codes == township
    if not mask.any():
        known = sorted(set(names.dropna())) if names is not None else []
        raise NotFoundError(
            f"township {township!r} has no patch in the status frame; "
            f"townships present: {', '.join(known) or 'none'}"
        )
    chosen = patches.loc[mask]
    town_codes = set(codes[mask]) if codes is not None else set()
    segments = set(chosen["segment_id"].dropna().astype(str)) if "segment_id" in chosen else set()
    return chosen, town_codes, segments


def _states(frame: pd.DataFrame, events: pd.DataFrame | None) -> list[str]:
    seen = set(frame["state"].dropna().astype(str))
    if events is not None and "to_state" in events:
        seen |= set(events["to_state"].dropna().astype(str))
    return list(STATE_COLORS) + sorted(seen - set(STATE_COLORS))


def _water_text(water: object, segment: object, segment_id: object) -> str:
    parts = [str(v) for v in (water, segment) if not missing(v) and str(v)]
    if parts:
        return " / ".join(parts)
    return "" if missing(segment_id) else str(segment_id)


def _patch_records(
    frame: gpd.GeoDataFrame,
    geoms: gpd.GeoSeries,
    *,
    origin: tuple[int, int],
    state_index: dict[str, int],
    strings: Strings,
    histories: dict[str, list],
    thumbs: dict[str, list[str]],
    sources: list[int] | None = None,
) -> list[list[Any]]:
    """Return one compact record per patch (the order the script expects)."""
    centers, shapes = encode_geometries(geoms.values, quantum=_QUANTUM, origin=origin)
    days = pd.to_numeric(frame.get("overdue_days"), errors="coerce")
    days = days.fillna(0).astype(int).tolist() if days is not None else [0] * len(frame)
    overdue = _is_overdue(frame).tolist()
    shown = [c for c in _DETAILS if c in frame.columns]
    details = [
        [[strings(COLUMNS[c]), strings(str(v))] for c, v in zip(shown, values, strict=True)
         if not missing(v) and str(v) != ""]
        for values in zip(*(frame[c] for c in shown), strict=True)
    ] if shown else [[] for _ in range(len(frame))]  # fmt: skip
    records = []
    for i, row in enumerate(
        zip(
            frame["patch_id"].astype(str), frame["state"].astype(str), _column(frame, "issue_type"),
            _column(frame, "area_m2"), _column(frame, "water_name"),
            _column(frame, "segment_name"), _column(frame, "segment_id"),
            _column(frame, "chief_village"), _column(frame, "chief_township"),
            _column(frame, "chief_county"), _column(frame, "deadline"),
            _column(frame, "description"), _column(frame, "township"),
            _column(frame, "admin_code"), _column(frame, "batch_id"), strict=True,
        )
    ):  # fmt: skip
        pid, state, kind, area, water, seg, seg_id, vil, town, county, deadline, desc = row[:12]
        township, code, batch = row[12:]
        area_value = None if missing(area) else round(float(area), 1)
        records.append(
            [
                pid,
                state_index[state],
                days[i] if overdue[i] else 0,
                strings(label(ISSUE_TYPES, kind) if not missing(kind) else None),
                area_value,
                strings(_water_text(water, seg, seg_id)),
                strings(vil),
                strings(town),
                strings(county),
                strings(None if missing(deadline) else str(deadline)[:10]),
                strings(desc),
                int(centers[i, 0]),
                int(centers[i, 1]),
                shapes[i],
                histories.get(pid, []),
                [strings(u) for u in thumbs.get(pid, [])],
                strings(township),
                strings(None if missing(code) else str(code)[:9]),
                strings(batch),
                details[i],
                -1 if sources is None else sources[i],
            ]
        )
    return records


def _sources(frame: pd.DataFrame) -> tuple[list[int], list[str]]:
    """Each patch's 问题来源 (an index into the names), and the names with their counts.

    The map's filter by source (问题来源): every source present, in the order of
    :data:`geo.policy.sources.SOURCE_CODES`.
    """
    attrs = frame["attrs"] if "attrs" in frame else pd.Series(None, index=frame.index)
    codes = attrs.map(lambda a: source_of(attr_value(a, ("source",))))
    counts = codes.value_counts()
    present = [c for c in SOURCE_CODES if c in counts]
    index = {c: k for k, c in enumerate(present)}
    return [index[c] for c in codes], [f"{SOURCES[c]} ({int(counts[c])})" for c in present]


def _river_keys(ranges: gpd.GeoDataFrame) -> tuple[list[str], dict[str, int]]:
    """Return the rivers given their own layer (most segments first) and their index."""
    names = ranges["water_name"].fillna("").astype(str) if "water_name" in ranges else None
    if names is None:
        return [], {}
    top = names[names != ""].value_counts().index[:_MAX_RIVERS].tolist()
    return top, {name: k for k, name in enumerate(top)}


def _recurrences(
    frame: pd.DataFrame, links: pd.DataFrame | None, strings: Strings
) -> list[list[int]]:
    """Return ``[patch position, earlier id]`` for each drawn patch that recurs."""
    if links is None or links.empty or "kind" not in links:
        return []
    position = {pid: k for k, pid in enumerate(frame["patch_id"].astype(str))}
    rec = links.loc[links["kind"].astype(str) == "recurrence"]
    return [
        [position[pid], strings(earlier)]
        for pid, earlier in zip(rec["patch_id"].astype(str), rec["earlier_id"], strict=True)
        if pid in position
    ]


def _range_records(
    ranges: gpd.GeoDataFrame, geoms: gpd.GeoSeries, origin: tuple[int, int], strings: Strings
) -> tuple[list[list[Any]], dict[int, str]]:
    """Return one record per segment ``[river key, tip, cx, cy, shape]`` and the rivers drawn."""
    rivers, river_index = _river_keys(ranges)
    centers, shapes = encode_geometries(geoms.values, quantum=_QUANTUM, origin=origin)
    records = []
    for i, (water, seg, seg_id) in enumerate(
        zip(_column(ranges, "water_name"), _column(ranges, "segment_name"),
            _column(ranges, "segment_id"), strict=True)
    ):  # fmt: skip
        key = river_index.get("" if missing(water) else str(water), len(rivers))
        tip = strings(_water_text(water, seg, seg_id))
        records.append([key, tip, int(centers[i, 0]), int(centers[i, 1]), shapes[i]])
    used = sorted({r[0] for r in records})
    return records, {k: rivers[k] if k < len(rivers) else TEXT["other_waters"] for k in used}


def _track_records(
    tracks: gpd.GeoDataFrame, geoms: gpd.GeoSeries, origin: tuple[int, int], strings: Strings
) -> list[list[Any]]:
    """Return one record per track ``[tip, cx, cy, line]`` (a multi-line's longest part)."""
    lines = geoms.apply(
        lambda g: g if g.geom_type == "LineString" else max(g.geoms, key=lambda p: p.length)
    )
    centers, shapes = encode_geometries(lines.values, quantum=_QUANTUM, origin=origin)
    started = _column(tracks, "started_at")
    observed = _column(tracks, "observed_at")
    records = []
    for i, who in enumerate(_column(tracks, "surveyor")):
        when = started[i] if not missing(started[i]) else observed[i]
        tip = " ".join(
            p for p in (
                "" if missing(who) or not str(who) else f"{COLUMNS['surveyor']}: {who}",
                "" if missing(when) else f"{COLUMNS['observed_at']}: {str(when)[:10]}",
            ) if p
        )  # fmt: skip
        records.append([strings(tip), int(centers[i, 0]), int(centers[i, 1]), shapes[i][0][0]])
    return records


def _base_map(basemap: str, tianditu_key: str) -> tuple[folium.Map, dict[str, folium.TileLayer]]:
    """Return an empty map with the requested basemap, and its tile overlays by label key.

    The scale is Hetu's own (metric only, drawn by the script), not folium's.
    """
    if basemap not in BASEMAPS:
        raise SettingsError(f"unknown basemap {basemap!r}; choose one of {', '.join(BASEMAPS)}")
    options: dict[str, Any] = {"prefer_canvas": True, "control_scale": False}
    if basemap == "osm":
        return folium.Map(tiles="OpenStreetMap", **options), {}
    if basemap == "none":
        return folium.Map(tiles=None, **options), {}
    key = (tianditu_key or os.environ.get("TIANDITU_KEY", "")).strip()
    if not key:
        raise SettingsError(
            f"basemap {basemap!r} needs a Tianditu key: set [map] tianditu_key in hetu.toml "
            "or the TIANDITU_KEY environment variable, or use basemap 'osm' or 'none'"
        )
    m = folium.Map(tiles=None, **options)
    overlays = {}
    for layer, name_key, overlay in _TIANDITU_LAYERS[basemap]:
        tiles = folium.TileLayer(
            tiles=_TIANDITU_URL.format(layer=layer, key=quote(key, safe="")),
            attr=TEXT["tianditu"],
            name=name_key,
            subdomains="01234567",
            max_zoom=18,
            overlay=overlay,
            control=False,
        ).add_to(m)
        if overlay:  # the annotation: in the layer list, to switch off
            overlays[name_key] = tiles
    return m, overlays


def status_map(
    patches: gpd.GeoDataFrame,
    *,
    ranges: gpd.GeoDataFrame | None = None,
    tracks: gpd.GeoDataFrame | None = None,
    shoreline: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    as_of: str | None = None,
    basemap: str = "osm",
    tianditu_key: str = "",
    events: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    thumbnails: dict[str, list[str]] | None = None,
    township: str | None = None,
    offline: bool = True,
    workdays: bool = True,
    candidates: gpd.GeoDataFrame | None = None,
    candidate_thumbnails: dict[str, list[str]] | None = None,
) -> folium.Map:
    """Draw the status frame as a leadership map.

    Parameters
    ----------
    patches : GeoDataFrame
        The ledger's status frame (EPSG:4490), one row per patch. Not modified.
    ranges : GeoDataFrame, optional
        Management-range segments (``water_name``, ``segment_name`` …): one layer per
        river (the eight with most segments; the rest share one), simplified by 5 m.
    tracks : GeoDataFrame, optional
        Patrol tracks (lines) with ``surveyor`` and ``started_at`` or ``observed_at``.
    shoreline : GeoDataFrame, optional
        Covered and uncovered bank lines (:func:`geo.field.coverage.shoreline_pieces`:
        ``covered``, ``length_m``, ``admin_code`` …): one layer 岸线巡查, green where
        surveyed and red in the gaps, and the coverage per township in the dashboard.
    title : str, optional
        Title shown at the top; defaults to ``labels.TEXT["map_title"]``, preceded by
        the township when one is chosen.
    as_of : str, optional
        Date the data stand at, shown under the title; defaults to today (UTC+8).
    basemap : str
        One of :data:`geo.settings.BASEMAPS`: ``"osm"``, ``"tianditu"`` (vector with
        annotation), ``"tianditu-img"`` (imagery with annotation) or ``"none"``.
    tianditu_key : str
        Tianditu key for the two Tianditu basemaps; when blank, the ``TIANDITU_KEY``
        environment variable is used.
    events : DataFrame, optional
        ``Ledger.events()``; each popup then lists the patch's history: its states,
        evidence uploads (上传整改后照片) and escalation documents (下发督办函).
    links : DataFrame, optional
        ``Ledger.links()``; rows of kind ``recurrence`` are ringed as recurrence sites.
    thumbnails : mapping, optional
        Patch id → list of ``data:image/...;base64,`` thumbnails shown in its popup.
    township : str, optional
        Draw only this township's patches (name in ``township`` or 9-digit code), the
        segments they lie on or that belong to the township, and the tracks nearby.
    offline : bool, default True
        Write Leaflet and MarkerCluster inline from the XStatic packages, so the page
        requests nothing but basemap tiles (and nothing with ``basemap="none"``);
        ``False`` links them from public CDNs (``hetu map --cdn``).
    workdays : bool, default True
        Overdue days are working days (逾期 N 个工作日); ``False`` when the office
        counts calendar days (``[calendar] count = "calendar"``: 逾期 N 天).
    candidates : GeoDataFrame, optional
        Self-check candidates (:func:`geo.imagery.detect.detect_changes` or a candidates
        file): a layer of their own, 自查候选图斑, dashed; the popup shows kind, area,
        score, segment and chiefs, and ``candidate_thumbnails`` (candidate id → chip data
        URIs).

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`.

    Raises
    ------
    SettingsError
        If the basemap is unknown, a Tianditu basemap has no key, or ``offline`` and
        an XStatic package is missing.
    CRSError
        If a non-empty frame has no CRS.
    SchemaError
        If the patches lack ``patch_id`` or ``state``, the shoreline lacks ``covered``
        or ``length_m``, the events lack their columns,
        or a thumbnail is not an image data URI.
    NotFoundError
        If ``township`` matches no patch.
    """
    m, tiles = _base_map(basemap, tianditu_key)
    m.options["max_zoom"] = _MAX_ZOOM  # clustering needs it even without tiles
    use_assets(m, offline=offline)
    thumbs = _thumbnail_uris(thumbnails)
    frame = _drawable(patches, "patches")
    if frame is not None:
        missing_cols = [c for c in ("patch_id", "state") if c not in frame.columns]
        if missing_cols:
            raise SchemaError(
                f"patches: the status frame lacks {missing_cols}; found {list(frame.columns)}; "
                "build it with the ledger's status function"
            )
    range_frame = _drawable(ranges, "ranges")
    track_frame = _drawable(tracks, "tracks")
    shore_frame = _drawable(shoreline, "shoreline")
    if shore_frame is not None and not {"covered", "length_m"} <= set(shore_frame.columns):
        raise SchemaError(
            f"shoreline: lacks 'covered' or 'length_m'; found {list(shore_frame.columns)}; "
            "pass geo.field.coverage.shoreline_pieces(tracks, segments)"
        )
    if township is not None:
        if frame is None:
            raise NotFoundError(f"township {township!r}: the status frame has no patch")
        frame, codes, segments = _select_township(frame, township)
        range_frame = _md.in_township(range_frame, segments, codes)
        shore_frame = _md.in_township(shore_frame, segments, codes)
        if track_frame is not None:
            # tracks within about a kilometre (0.01 degree) of the township's patches
            minx, miny, maxx, maxy = frame.to_crs(track_frame.crs).total_bounds
            near = track_frame.intersects(shapely.box(minx, miny, maxx, maxy).buffer(0.01))
            track_frame = track_frame.loc[near] if near.any() else None
        title = title or f"{township} {TEXT['map_title']}"

    strings = Strings()
    states = _states(frame if frame is not None else pd.DataFrame({"state": []}), events)
    state_index = {s: k for k, s in enumerate(states)}
    layers = {"patches": frame, "ranges": range_frame, "tracks": track_frame}
    layers["shoreline"] = shore_frame
    cand_frame = _drawable(candidates, "candidates")
    layers["candidates"] = cand_frame
    drawn = [simplified(f, _SIMPLIFY_M[k], k) for k, f in layers.items() if f is not None]
    if drawn:
        bounds = np.array([g.total_bounds for g in drawn])
        minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
        maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
        origin = (math.floor(minx / _QUANTUM), math.floor(miny / _QUANTUM))
        m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])
    else:
        origin = (0, 0)
        m.location, m.options["zoom"] = _DEFAULT_VIEW
    geo_iter = iter(drawn)

    # layer key -> its name in the layer list (plain text: the page's script escapes it)
    names: dict[str, str] = {}
    records: list[list[Any]] = []
    source_names: list[str] = []
    counts: dict[str, list] = {}  # per 问题来源, for the filter (geo.maps.panels)
    day_unit = TEXT["unit_workdays"] if workdays else TEXT["unit_days"]
    recurrences: list[list[int]] = []
    overdue = pd.Series(dtype=bool)
    if frame is not None:
        ids = set(frame["patch_id"].astype(str))
        source_index, source_names = _sources(frame)
        records = _patch_records(
            frame, next(geo_iter), origin=origin, state_index=state_index, strings=strings,
            histories=_md.histories(events, ids, strings), thumbs=thumbs, sources=source_index,
        )  # fmt: skip
        overdue = _is_overdue(frame)
        names.update(layer_names(frame, overdue, states))  # overdue ones count in their state
        if len(source_names) > 1:  # the 问题来源 filter is shown only then
            counts = counts_by_source(
                frame, overdue, states, sources=source_index, n_sources=len(source_names),
                day_unit=day_unit, keys=list(names),
            )  # fmt: skip
        recurrences = _recurrences(frame, links, strings)
        if recurrences:
            names["recurrence"] = f"{TEXT['recurrence_sites']} ({len(recurrences)})"

    range_records: list[list[Any]] = []
    if range_frame is not None:
        range_records, rivers = _range_records(range_frame, next(geo_iter), origin, strings)
        for key, river in rivers.items():
            names[f"range:{key}"] = f"{TEXT['ranges']} · {river}"

    track_records: list[list[Any]] = []
    if track_frame is not None:
        track_records = _track_records(track_frame, next(geo_iter), origin, strings)
        names["tracks"] = TEXT["tracks"]

    shore_records: list[list[Any]] = []
    shore_rows: list[tuple[str, str, str]] = []
    if shore_frame is not None:
        shore_records = _md.shoreline_records(
            shore_frame, next(geo_iter), origin=origin, quantum=_QUANTUM, strings=strings,
            words=SHORELINE,
        )  # fmt: skip
        names["shoreline"] = SHORELINE["layer"]
        shore_rows = _md.shoreline_by_township(shore_frame, frame)

    cand_records: list[list[Any]] = []
    if cand_frame is not None:
        words = [
            ("kind_label", SELF_CHECK["kind"]),
            ("area_m2", SELF_CHECK["area"]),
            ("score", SELF_CHECK["score"]),
            ("segment_name", COLUMNS["segment_name"]),
            ("chiefs", SELF_CHECK["chiefs"]),
            ("linked_patch", SELF_CHECK["linked"]),
        ]
        cand_records = _md.candidate_records(
            cand_frame, next(geo_iter), origin=origin, quantum=_QUANTUM, strings=strings,
            lines=words, thumbs=_thumbnail_uris(candidate_thumbnails),
        )  # fmt: skip
        names["candidates"] = f"{SELF_CHECK['layer']} ({len(cand_records)})"

    # ranges first (underneath), the shoreline, then patches, overdue marks, recurrence sites
    # and tracks; folium's groups get fixed names only, the layer list is the script's
    order = sorted(
        names, key=lambda k: (not k.startswith("range:"), k != "shoreline", k == "tracks")
    )
    groups = {key: folium.FeatureGroup(name=f"hetu{k}", control=False).add_to(m)
              for k, key in enumerate(order)}  # fmt: skip
    refs = {f"tiles:{key}": layer.get_name() for key, layer in tiles.items()}
    refs.update((key, group.get_name()) for key, group in groups.items())
    data = {
        "q": _QUANTUM,
        "x0": origin[0],
        "y0": origin[1],
        "zpoly": POLYGON_ZOOM,
        "states": states,
        "state_labels": [label(STATES, s) for s in states],
        "colors": [STATE_COLORS.get(s, _UNKNOWN_COLOR) for s in states],
        "settled": [state_index[s] for s in _SETTLED if s in state_index],
        "overdue_color": OVERDUE_COLOR,
        "range_color": _RANGE_COLOR,
        "track_color": _TRACK_COLOR,
        "recurrence_color": _RECURRENCE_COLOR,
        "labels": _POPUP_LABELS,
        "day_unit": day_unit,
        "layers": [[f"tiles:{key}", TEXT[key]] for key in tiles] + [[k, names[k]] for k in order],
        "patches": records,
        "sources": source_names,  # the filter by 问题来源 (names set with textContent)
        "counts": counts,  # per source: dashboard rows and layer names (textContent)
        "ranges": range_records,
        "tracks": track_records,
        "shoreline": shore_records,
        "shore_colors": [SHORELINE_COLORS["gap"], SHORELINE_COLORS["covered"]],
        "recurrences": recurrences,
        "candidates": cand_records,
        "candidate_color": _CANDIDATE_COLOR,
        "s": strings.items,
    }
    drawing = Verbatim("HetuLayers")
    data_id = f"{drawing.get_name()}_data"
    drawing.parts["html"] = (
        f'<script type="application/json" id="{data_id}">{script_json(data)}</script>'
    )
    drawing.parts["script"] = hetu_script(data_id, m.get_name(), refs)
    drawing.add_to(m)

    day = as_of or now().date().isoformat()
    Verbatim("HetuTitle", header=f"<style>{hetu_css()}</style>",
             html=title_html(title or TEXT["map_title"], day)).add_to(m)  # fmt: skip
    marks = {"overdue": OVERDUE_COLOR}
    for key, color, drawn_here in (
        ("recurrence", _RECURRENCE_COLOR, recurrences), ("ranges", _RANGE_COLOR, range_records),
        ("tracks", _TRACK_COLOR, track_records),
    ):  # fmt: skip
        if drawn_here:
            marks[key] = color
    shore_legend = SHORELINE_COLORS if shore_frame is not None else None
    Verbatim("HetuLegend", html=legend_html(STATE_COLORS, marks, shoreline=shore_legend)).add_to(m)
    if frame is not None:
        dash = dashboard_html(frame, overdue, states, day_unit=day_unit, shore=shore_rows)
        Verbatim("HetuDashboard", html=dash).add_to(m)
    return m


def save_map(m: folium.Map, path: str | os.PathLike) -> Path:
    """Write the map to an HTML file atomically.

    The page is written with :func:`geo.fileio.write_atomic` (a temporary file
    beside the target, then a rename), so a reader never sees half a file.

    Parameters
    ----------
    m : folium.Map
        A map from :func:`status_map`.
    path : path-like
        The HTML file to write; its directory must exist.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    page = m.get_root().render()
    return write_atomic(target, page.encode("utf-8"))
