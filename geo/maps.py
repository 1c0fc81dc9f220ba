"""Leadership maps: one Folium HTML file of the patches' status.

The map is a summary for leaders, not a data dump: one layer per lifecycle
state plus an overdue layer drawn in a strong red outline, the management
ranges simplified, the patrol tracks, a Chinese legend and a "data as of" box.
Every text that reaches the page comes from the ledger, whose descriptions
are untrusted, so each value is HTML-escaped in Python before Folium sees it.
Chinese words come from :mod:`geo.labels`. The page still loads Leaflet and
its companions from folium's CDNs; inlining them for offline use is separate.
"""

from __future__ import annotations

import html
import math
import os
import stat
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo._errors import CRSError, SchemaError, SettingsError
from geo.crs import DRAW_EPSG, metric_crs
from geo.labels import COLUMNS, ISSUE_TYPES, STATES, TEXT, label
from geo.settings import BASEMAPS

__all__ = ["OVERDUE_COLOR", "STATE_COLORS", "save_map", "status_map"]

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
_UNKNOWN_COLOR = "#607d8b"
_RANGE_COLOR = "#0277bd"
_TRACK_COLOR = "#1565c0"
_SETTLED = ("closed", "dismissed")
_SIMPLIFY_M = 5.0
_GRID_DEG = 1e-6
_DEFAULT_VIEW = ([30.0, 110.0], 5)
_CST = timezone(timedelta(hours=8))
_FONT = '"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif'

_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/DataServer?T={layer}&x={{x}}&y={{y}}&l={{z}}&tk={key}"
)
_TIANDITU_LAYERS = {
    "tianditu": (("vec_w", "tianditu_vec", False), ("cva_w", "tianditu_cva", True)),
    "tianditu-img": (("img_w", "tianditu_img", False), ("cia_w", "tianditu_cva", True)),
}

# Popup rows: (property key, label). The values are escaped before they are stored.
_POPUP_FIELDS: tuple[tuple[str, str], ...] = (
    ("patch_id", COLUMNS["patch_id"]),
    ("issue_type", COLUMNS["issue_type"]),
    ("area", COLUMNS["area_m2"]),
    ("water", TEXT["water_segment"]),
    ("state", COLUMNS["state"]),
    ("deadline", COLUMNS["deadline"]),
    ("overdue_days", COLUMNS["overdue_days"]),
    ("chief_village", COLUMNS["chief_village"]),
    ("chief_township", COLUMNS["chief_township"]),
    ("chief_county", COLUMNS["chief_county"]),
    ("description", COLUMNS["description"]),
)

_CSS = f"""
.hetu-box {{position: fixed; z-index: 9999; background: rgba(255,255,255,.92);
  border: 1px solid #888; border-radius: 4px; padding: 6px 10px; font-family: {_FONT};
  box-shadow: 0 1px 4px rgba(0,0,0,.3);}}
.hetu-title {{top: 10px; left: 50%; transform: translateX(-50%); text-align: center;}}
.hetu-title b {{font-size: 17px;}}
.hetu-title span {{font-size: 12px; color: #444;}}
.hetu-legend {{bottom: 24px; left: 10px; font-size: 12px; line-height: 18px;}}
.hetu-legend i {{display: inline-block; width: 14px; height: 11px; margin-right: 6px;
  vertical-align: middle; opacity: .8;}}
.foliumpopup, .leaflet-tooltip {{font-family: {_FONT};}}
.foliumpopup th {{text-align: right; padding-right: 6px; white-space: nowrap;}}
.foliumpopup td {{word-break: break-all;}}
"""


class _Panel(MacroElement):
    """A fixed box of ready-made (already escaped) HTML, with optional page CSS."""

    _template = Template(
        "{% macro header(this, kwargs) %}"
        "{% if this.css %}<style>{{ this.css }}</style>{% endif %}"
        "{% endmacro %}"
        "{% macro html(this, kwargs) %}{{ this.body }}{% endmacro %}"
    )

    def __init__(self, body: str, *, css: str = "") -> None:
        super().__init__()
        self._name = "HetuPanel"
        self.body = body
        self.css = css


def _missing(value: object) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _esc(value: object) -> str:
    """Return ``value`` as escaped HTML text; missing values give ``""``."""
    return "" if _missing(value) else html.escape(str(value), quote=True)


def _text(row: pd.Series, column: str) -> str:
    value = row.get(column)
    return "" if _missing(value) else str(value)


def _to_draw_crs(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in EPSG:4326 without missing or empty geometries."""
    if gdf.crs is None:
        raise CRSError(f"{what}: the frame has no CRS; set EPSG:4490 with .set_crs() first")
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    return gdf.loc[keep].to_crs(DRAW_EPSG)


def _rounded(geoms: Iterable[Any]) -> list[dict]:
    """Return GeoJSON geometry dicts with coordinates on a 1e-6 degree grid."""
    snapped = shapely.set_precision(list(geoms), _GRID_DEG, mode="pointwise")
    return [shapely.geometry.mapping(g) for g in snapped]


def _collection(geoms: Iterable[Any], properties: list[dict]) -> dict:
    features = [
        {"type": "Feature", "id": str(i), "geometry": g, "properties": p}
        for i, (g, p) in enumerate(zip(_rounded(geoms), properties, strict=True))
    ]
    return {"type": "FeatureCollection", "features": features}


def _is_overdue(frame: pd.DataFrame) -> pd.Series:
    if "overdue_days" not in frame:
        return pd.Series(False, index=frame.index)
    days = pd.to_numeric(frame["overdue_days"], errors="coerce").fillna(0)
    return (days > 0) & ~frame["state"].isin(_SETTLED)


def _popup_properties(row: pd.Series) -> dict[str, str]:
    """Return the escaped popup values of one patch."""
    area = row.get("area_m2")
    area_text = "" if _missing(area) else f"{float(area):,.2f}"
    water = " / ".join(
        v for v in (_text(row, "water_name"), _text(row, "segment_name")) if v
    ) or _text(row, "segment_id")
    days = row.get("overdue_days")
    days_text = "" if _missing(days) or int(days) <= 0 else str(int(days))
    values = {
        "patch_id": _text(row, "patch_id"),
        "issue_type": label(ISSUE_TYPES, row.get("issue_type")),
        "area": area_text,
        "water": water,
        "state": label(STATES, row.get("state")),
        "deadline": _text(row, "deadline"),
        "overdue_days": days_text,
        "chief_village": _text(row, "chief_village"),
        "chief_township": _text(row, "chief_township"),
        "chief_county": _text(row, "chief_county"),
        "description": _text(row, "description"),
    }
    return {key: _esc(value) for key, value in values.items()}


def _patch_geojson(
    frame: gpd.GeoDataFrame, *, fill: str, outline: str, weight: float
) -> folium.GeoJson:
    """Return one GeoJson layer of patches with escaped popups and tooltips."""
    props = [_popup_properties(row) for _, row in frame.iterrows()]
    style = {"color": outline, "weight": weight, "fillColor": fill, "fillOpacity": 0.45}
    return folium.GeoJson(
        _collection(frame.geometry, props),
        style_function=lambda _feature: style,
        popup=folium.GeoJsonPopup(
            fields=[key for key, _ in _POPUP_FIELDS],
            aliases=[html.escape(text) for _, text in _POPUP_FIELDS],
            localize=False,
            max_width=360,
        ),
        tooltip=folium.GeoJsonTooltip(fields=["patch_id"], labels=False, localize=False),
    )


def _range_layer(ranges: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """Simplify the ranges by about 5 m in a metric CRS and draw them as one layer."""
    group = folium.FeatureGroup(name=TEXT["ranges"])
    metric = ranges.to_crs(metric_crs(ranges))
    simple = metric.geometry.simplify(_SIMPLIFY_M, preserve_topology=True).to_crs(DRAW_EPSG)
    props = []
    for _, row in ranges.iterrows():
        parts = (_text(row, "water_name"), _text(row, "segment_name") or _text(row, "segment_id"))
        props.append({"tip": _esc(" / ".join(p for p in parts if p))})
    style = {"color": _RANGE_COLOR, "weight": 1, "fillColor": _RANGE_COLOR, "fillOpacity": 0.12}
    folium.GeoJson(
        _collection(simple, props),
        style_function=lambda _feature: style,
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, localize=False),
    ).add_to(group)
    return group


def _track_layer(tracks: gpd.GeoDataFrame) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=TEXT["tracks"])
    props = []
    for _, row in tracks.iterrows():
        observed = _text(row, "observed_at")[:10]
        tip = (
            f"{_esc(COLUMNS['surveyor'])}: {_esc(_text(row, 'surveyor'))}<br>"
            f"{_esc(COLUMNS['observed_at'])}: {_esc(observed)}"
        )
        props.append({"tip": tip})
    style = {"color": _TRACK_COLOR, "weight": 3, "opacity": 0.85}
    folium.GeoJson(
        _collection(tracks.geometry, props),
        style_function=lambda _feature: style,
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, localize=False),
    ).add_to(group)
    return group


def _base_map(basemap: str, tianditu_key: str) -> folium.Map:
    """Return an empty map with the requested basemap; refuse bad settings."""
    if basemap not in BASEMAPS:
        raise SettingsError(f"unknown basemap {basemap!r}; choose one of {', '.join(BASEMAPS)}")
    options: dict[str, Any] = {"prefer_canvas": True, "control_scale": True}
    if basemap == "osm":
        return folium.Map(tiles="OpenStreetMap", **options)
    if basemap == "none":
        return folium.Map(tiles=None, **options)
    key = (tianditu_key or "").strip()
    if not key:
        raise SettingsError(
            f"basemap {basemap!r} needs a Tianditu key: set [map] tianditu_key in hetu.toml "
            "or the TIANDITU_KEY environment variable, or use basemap 'osm' or 'none'"
        )
    m = folium.Map(tiles=None, **options)
    for layer, name_key, overlay in _TIANDITU_LAYERS[basemap]:
        folium.TileLayer(
            tiles=_TIANDITU_URL.format(layer=layer, key=quote(key, safe="")),
            attr=TEXT["tianditu"],
            name=TEXT[name_key],
            subdomains="01234567",
            max_zoom=18,
            overlay=overlay,
            control=overlay,
        ).add_to(m)
    return m


def _legend_html() -> str:
    rows = [f"<b>{_esc(TEXT['legend'])}</b>"]
    for state, color in STATE_COLORS.items():
        rows.append(f'<div><i style="background:{color}"></i>{_esc(STATES[state])}</div>')
    rows.append(
        f'<div><i style="background:#fff;border:2px solid {OVERDUE_COLOR}"></i>'
        f"{_esc(STATES['overdue'])}</div>"
    )
    return f'<div class="hetu-box hetu-legend">{"".join(rows)}</div>'


def status_map(
    patches: gpd.GeoDataFrame,
    *,
    ranges: gpd.GeoDataFrame | None = None,
    tracks: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    as_of: str | None = None,
    basemap: str = "osm",
    tianditu_key: str = "",
) -> folium.Map:
    """Draw the status frame as a leadership map.

    Each patch is drawn once: overdue patches (``overdue_days > 0`` and not
    closed or dismissed) in the overdue layer with a red outline and their
    state's fill, every other patch in the layer of its state.

    Parameters
    ----------
    patches : GeoDataFrame
        The ledger's status frame (EPSG:4490), one row per patch. Not modified.
    ranges : GeoDataFrame, optional
        Management-range polygons (``water_name``, ``segment_name`` …), simplified
        by about 5 m before drawing.
    tracks : GeoDataFrame, optional
        Patrol tracks (lines) with ``surveyor`` and ``observed_at``.
    title : str, optional
        Title shown at the top; defaults to ``labels.TEXT["map_title"]``.
    as_of : str, optional
        Date the data stand at, shown under the title; defaults to today (UTC+8).
    basemap : str
        One of :data:`geo.settings.BASEMAPS`: ``"osm"``, ``"tianditu"`` (vector),
        ``"tianditu-img"`` (imagery) or ``"none"`` (for offline networks).
    tianditu_key : str
        Tianditu key, required by the two Tianditu basemaps.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`.

    Raises
    ------
    SettingsError
        If the basemap is unknown, or a Tianditu basemap has no key.
    CRSError
        If a non-empty frame has no CRS.
    SchemaError
        If the patches lack ``patch_id`` or ``state``.
    """
    m = _base_map(basemap, tianditu_key)
    bounds = None

    if ranges is not None and not ranges.empty:
        drawn_ranges = _to_draw_crs(ranges, "ranges")
        if not drawn_ranges.empty:
            _range_layer(drawn_ranges).add_to(m)
            bounds = drawn_ranges.total_bounds

    n_overdue = 0
    if patches is not None and not patches.empty:
        missing = [c for c in ("patch_id", "state") if c not in patches.columns]
        if missing:
            raise SchemaError(
                f"patches: the status frame lacks {missing}; found {list(patches.columns)}; "
                "build it with the ledger's status function"
            )
        drawn = _to_draw_crs(patches, "patches")
        overdue = _is_overdue(drawn)
        n_overdue = int(overdue.sum())
        known = list(STATE_COLORS) + sorted(set(drawn["state"].dropna()) - set(STATE_COLORS))
        for state in known:
            part = drawn.loc[(drawn["state"] == state) & ~overdue]
            if not part.empty:
                color = STATE_COLORS.get(state, _UNKNOWN_COLOR)
                group = folium.FeatureGroup(name=f"{label(STATES, state)} ({len(part)})")
                _patch_geojson(part, fill=color, outline=color, weight=1.5).add_to(group)
                group.add_to(m)
        if n_overdue:
            group = folium.FeatureGroup(name=f"{STATES['overdue']} ({n_overdue})")
            for state, part in drawn.loc[overdue].groupby("state", sort=False):
                fill = STATE_COLORS.get(str(state), _UNKNOWN_COLOR)
                _patch_geojson(part, fill=fill, outline=OVERDUE_COLOR, weight=3.5).add_to(group)
            group.add_to(m)
        if not drawn.empty:
            bounds = drawn.total_bounds

    if tracks is not None and not tracks.empty:
        drawn_tracks = _to_draw_crs(tracks, "tracks")
        if not drawn_tracks.empty:
            _track_layer(drawn_tracks).add_to(m)
            if bounds is None:
                bounds = drawn_tracks.total_bounds

    if bounds is not None and all(math.isfinite(v) for v in bounds):
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    else:
        m.location, m.options["zoom"] = _DEFAULT_VIEW

    day = as_of or datetime.now(_CST).date().isoformat()
    heading = (
        f'<div class="hetu-box hetu-title"><b>{_esc(title or TEXT["map_title"])}</b><br>'
        f"<span>{_esc(TEXT['as_of'])} {_esc(day)}</span></div>"
    )
    _Panel(heading, css=_CSS).add_to(m)
    _Panel(_legend_html()).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def save_map(m: folium.Map, path: str | os.PathLike) -> Path:
    """Write the map to an HTML file atomically.

    The page is written to a temporary file in the target directory and moved
    over the target with :func:`os.replace`, so a reader never sees half a file.

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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
        # mkstemp creates the file private (0600); give it the usual mode of a document.
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
