"""The web assets of the leadership map: Leaflet, MarkerCluster and Hetu's own script.

Online, the page links Leaflet 1.9.3 and Leaflet.markercluster 1.4.1 from public
CDNs. Offline, both are read from the installed XStatic packages (pinned
dependencies, never copied into this repository) and written inline, with the
images their stylesheets name turned into data URIs, so the saved page makes no
request but for basemap tiles. Folium's other default assets (jQuery,
Bootstrap, Font Awesome, awesome-markers) are dropped: the map draws circle
markers and carries its own small stylesheet.

The script :data:`HETU_JS` is Hetu's own renderer. It reads the compact JSON the
map module writes, builds the layers on Leaflet's canvas renderer (points below
a zoom level, polygons above it, closed patches clustered), and builds every
popup, tooltip and search result with ``textContent``, never ``innerHTML``, so
text from the ledger cannot become markup.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import import_module
from pathlib import Path

import folium
from branca.element import MacroElement
from jinja2 import Template

from geo.errors import SettingsError

__all__ = ["HETU_CSS", "HETU_JS", "InlineAssets", "use_assets"]

#: CDN addresses used when the page is not offline (same versions as the XStatic packages).
CDN_JS = (
    ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"),
    (
        "markercluster",
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.4.1/dist/leaflet.markercluster.js",
    ),
)
CDN_CSS = (
    ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"),
    (
        "markercluster_css",
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.4.1/dist/MarkerCluster.css",
    ),
    (
        "markercluster_default_css",
        "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.4.1/dist/MarkerCluster.Default.css",
    ),
)

# (XStatic module, file) in load order.
_OFFLINE_JS = (
    ("xstatic.pkg.leaflet", "leaflet.js"),
    ("xstatic.pkg.leaflet_markercluster", "leaflet.markercluster.js"),
)
_OFFLINE_CSS = (
    ("xstatic.pkg.leaflet", "leaflet.css"),
    ("xstatic.pkg.leaflet_markercluster", "MarkerCluster.css"),
    ("xstatic.pkg.leaflet_markercluster", "MarkerCluster.Default.css"),
)
_PIP_NAMES = {
    "xstatic.pkg.leaflet": "XStatic-Leaflet==1.9.3.0",
    "xstatic.pkg.leaflet_markercluster": "XStatic-Leaflet-MarkerCluster==1.4.1.1",
}
_CSS_URL = re.compile(r"url\((['\"]?)(images/[^)'\"]+)\1\)")
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}


def _package_dir(module: str) -> Path:
    try:
        pkg = import_module(module)
    except ImportError as exc:
        raise SettingsError(
            f"offline maps need the package {_PIP_NAMES[module]}: "
            f"pip install '{_PIP_NAMES[module]}', or save the map without offline mode"
        ) from exc
    return Path(pkg.BASE_DIR)


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@cache
def _offline_text() -> tuple[str, str]:
    """Return (css, js) of the pinned packages, with CSS images as data URIs."""
    css_parts = []
    for module, name in _OFFLINE_CSS:
        base = _package_dir(module)
        text = (base / name).read_text(encoding="utf-8")

        def inline(match: re.Match, base: Path = base) -> str:
            image = base / match.group(2)
            return f'url("{_data_uri(image)}")' if image.is_file() else match.group(0)

        css_parts.append(_CSS_URL.sub(inline, text))
    js_parts = [(_package_dir(m) / n).read_text(encoding="utf-8") for m, n in _OFFLINE_JS]
    # A source-map comment would make developer tools fetch a missing file: drop it.
    js = "\n;\n".join(re.sub(r"//# sourceMappingURL=\S+", "", part) for part in js_parts)
    return "\n".join(css_parts), js


def _script_safe(text: str) -> str:
    """Keep a script's text from closing its own ``<script>`` element early."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


class InlineAssets(MacroElement):
    """Leaflet and MarkerCluster written into the page's head, from XStatic packages."""

    _template = Template(
        "{% macro header(this, kwargs) %}"
        "<style>{{ this.css }}</style>\n<script>{{ this.js }}</script>\n"
        "{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "HetuInlineAssets"
        css, js = _offline_text()
        self.css = css.replace("</", "<\\/")
        self.js = _script_safe(js)


def use_assets(m: folium.Map, *, offline: bool) -> folium.Map:
    """Replace folium's default assets of ``m`` by the ones the Hetu map needs.

    Parameters
    ----------
    m : folium.Map
        The map to change (its own asset lists only; folium's defaults are untouched).
    offline : bool
        Inline the assets from the XStatic packages instead of linking the CDNs.

    Returns
    -------
    folium.Map
        ``m``, for chaining.

    Raises
    ------
    SettingsError
        If ``offline`` and an XStatic package is not installed.
    """
    if offline:
        m.default_js = []
        m.default_css = []
        InlineAssets().add_to(m)
    else:
        m.default_js = list(CDN_JS)
        m.default_css = list(CDN_CSS)
    return m


#: Hetu's stylesheet (the font list names the common Chinese UI fonts).
HETU_CSS = """
.hetu-box {position: fixed; z-index: 1000; background: rgba(255,255,255,.93);
  border: 1px solid #888; border-radius: 4px; padding: 6px 10px;
  font-family: "Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px;}
.hetu-title {top: 10px; left: 50%; transform: translateX(-50%); text-align: center;}
.hetu-title b {font-size: 17px;}
.hetu-title span {font-size: 12px; color: #444;}
.hetu-legend {bottom: 24px; left: 10px; line-height: 18px;}
.hetu-legend i {display: inline-block; width: 14px; height: 11px; margin-right: 6px;
  vertical-align: middle; opacity: .85;}
.hetu-legend i.dot {border-radius: 50%; width: 11px;}
.hetu-dash {top: 130px; left: 10px; max-width: 260px; max-height: 40vh; overflow: auto;}
.hetu-dash summary {font-weight: bold; cursor: pointer;}
.hetu-dash table {border-collapse: collapse; margin: 2px 0 6px;}
.hetu-dash td, .hetu-dash th {padding: 0 4px; text-align: left; white-space: nowrap;}
.hetu-dash td.n {text-align: right;}
.hetu-dash h4 {margin: 6px 0 2px; font-size: 12px;}
.hetu-dash .late {color: #d50000;}
.hetu-search {font-family: inherit; background: #fff; padding: 4px; border-radius: 4px;}
.hetu-search input {width: 150px; font-size: 12px; padding: 2px 4px;}
.hetu-search div {cursor: pointer; padding: 1px 4px; font-size: 12px;}
.hetu-search div:hover {background: #e3f2fd;}
.hetu-pop {font-family: "Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;
  font-size: 12px;}
.hetu-pop th {text-align: right; padding-right: 6px; white-space: nowrap; vertical-align: top;}
.hetu-pop td {word-break: break-all;}
.hetu-pop ol {margin: 2px 0 0; padding-left: 18px;}
.hetu-pop img {max-width: 150px; max-height: 110px; margin: 2px; border: 1px solid #ccc;}
.hetu-pop .late {color: #d50000; font-weight: bold;}
.leaflet-control-layers, .leaflet-tooltip {
  font-family: "Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;}
"""

#: Hetu's renderer; ``__DATA_ID__``, ``__MAP__`` and ``__GROUPS__`` are filled per map.
HETU_JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("__DATA_ID__").textContent);
  var map = __MAP__, G = __GROUPS__, S = D.s, Q = D.q, L_ = D.labels;
  var renderer = L.canvas({padding: 0.3});
  function s(i) { return i < 0 ? "" : S[i]; }
  function ll(x, y) { return [(D.y0 + y) * Q, (D.x0 + x) * Q]; }
  function rings(cx, cy, geom) {
    return geom.map(function (poly) {
      return poly.map(function (ring) {
        var x = cx, y = cy, out = [];
        for (var k = 0; k < ring.length; k += 2) {
          x += ring[k]; y += ring[k + 1]; out.push(ll(x, y));
        }
        return out;
      });
    });
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }
  // patch record: [id, state, overdue days, type, area, water, village, township, county,
  //                deadline, description, cx, cy, geometry, events, thumbnails]
  var P = D.patches;
  function popup(i, extra) {
    var p = P[i], box = el("div", null, "hetu-pop"), t = el("table");
    function row(label, value, cls) {
      if (value === "" || value === null || value === undefined) { return; }
      var tr = el("tr"); tr.appendChild(el("th", label)); tr.appendChild(el("td", value, cls));
      t.appendChild(tr);
    }
    row(L_.patch_id, p[0]);
    row(L_.issue_type, s(p[3]));
    row(L_.area, p[4] === null ? "" : p[4].toLocaleString("zh-CN"));
    row(L_.water, s(p[5]));
    row(L_.state, D.state_labels[p[1]]);
    row(L_.deadline, s(p[9]));
    if (p[2] > 0) { row(L_.overdue_days, String(p[2]), "late"); }
    row(L_.chief_village, s(p[6]));
    row(L_.chief_township, s(p[7]));
    row(L_.chief_county, s(p[8]));
    row(L_.description, s(p[10]));
    if (extra) { row(extra[0], extra[1], "late"); }
    box.appendChild(t);
    if (p[14] && p[14].length) {
      box.appendChild(el("b", L_.history));
      var ol = el("ol");
      p[14].forEach(function (e) {
        var who = s(e[2]);
        ol.appendChild(el("li", s(e[0]) + " " + D.state_labels[e[1]] + (who ? " · " + who : "")));
      });
      box.appendChild(ol);
    }
    if (p[15] && p[15].length) {
      box.appendChild(el("div", L_.photos));
      p[15].forEach(function (k) {
        var img = el("img"); img.src = s(k); img.alt = L_.photos; box.appendChild(img);
      });
    }
    return box;
  }
  function open(i, latlng, extra) {
    var p = P[i];
    L.popup({maxWidth: 380}).setLatLng(latlng || ll(p[11], p[12]))
      .setContent(popup(i, extra)).openOn(map);
  }
  function onClick(e) { var l = e.layer || e.propagatedFrom; if (l && l.hetu !== undefined) {
    L.DomEvent.stopPropagation(e); open(l.hetu, e.latlng, l.hetuExtra); } }
  var pts = {}, polys = {}, built = new Uint8Array(P.length), cluster = null;
  Object.keys(G).forEach(function (key) {
    if (key.indexOf("patch:") === 0) {
      pts[key] = L.featureGroup().on("click", onClick);
      polys[key] = L.featureGroup().on("click", onClick);
    }
  });
  if (G["patch:closed"] && L.markerClusterGroup) {
    cluster = L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 50,
      spiderfyOnMaxZoom: true, disableClusteringAtZoom: D.zpoly + 1});
    cluster.on("click", onClick);
    G["patch:closed"].addLayer(cluster);
  }
  function key(p) { return p[2] > 0 && D.settled.indexOf(p[1]) < 0 ? "patch:overdue"
    : "patch:" + D.states[p[1]]; }
  var closedMarkers = [];
  for (var i = 0; i < P.length; i++) {
    var p = P[i], k = key(p), color = D.colors[p[1]], late = k === "patch:overdue";
    var m = L.circleMarker(ll(p[11], p[12]), {renderer: renderer, radius: late ? 7 : 5,
      color: late ? D.overdue_color : "#fff", weight: late ? 3 : 1, fillColor: color,
      fillOpacity: 0.9});
    m.hetu = i;
    if (k === "patch:closed" && cluster) { closedMarkers.push(m); } else if (pts[k]) {
      pts[k].addLayer(m);
    }
  }
  if (cluster) { cluster.addLayers(closedMarkers); }
  function buildPolygons() {
    var b = map.getBounds().pad(0.5);
    for (var i = 0; i < P.length; i++) {
      if (built[i]) { continue; }
      var p = P[i], k = key(p);
      if (!polys[k] || !b.contains(ll(p[11], p[12]))) { continue; }
      var late = k === "patch:overdue";
      var poly = L.polygon(rings(p[11], p[12], p[13]), {renderer: renderer,
        color: late ? D.overdue_color : D.colors[p[1]], weight: late ? 3.5 : 1.5,
        fillColor: D.colors[p[1]], fillOpacity: 0.45});
      poly.hetu = i; polys[k].addLayer(poly); built[i] = 1;
    }
  }
  var detail = null;
  function rescale() {
    var want = map.getZoom() >= D.zpoly;
    if (want) { buildPolygons(); }
    if (want === detail) { return; }
    detail = want;
    Object.keys(pts).forEach(function (k) {
      if (!G[k]) { return; }
      G[k].removeLayer(want ? pts[k] : polys[k]);
      G[k].addLayer(want ? polys[k] : pts[k]);
    });
  }
  map.on("zoomend moveend", rescale);
  // ranges, tracks and recurrence sites
  function tip(layer, text) { if (text) { layer.bindTooltip(function () {
    return el("span", text); }, {sticky: true}); } }
  D.ranges.forEach(function (r) {
    var g = G["range:" + r[0]]; if (!g) { return; }
    var poly = L.polygon(rings(r[2], r[3], r[4]), {renderer: renderer, color: D.range_color,
      weight: 1, fillColor: D.range_color, fillOpacity: 0.12});
    tip(poly, s(r[1])); g.addLayer(poly);
  });
  D.tracks.forEach(function (t) {
    if (!G.tracks) { return; }
    var line = L.polyline(rings(t[1], t[2], [[t[3]]])[0][0], {renderer: renderer,
      color: D.track_color, weight: 3, opacity: 0.85});
    tip(line, s(t[0])); G.tracks.addLayer(line);
  });
  (D.shoreline || []).forEach(function (b) {
    if (!G.shoreline) { return; }
    var parts = rings(b[2], b[3], b[4].map(function (l) { return [l]; })).map(function (p) {
      return p[0]; });
    var line = L.polyline(parts, {renderer: renderer, color: D.shore_colors[b[0]],
      weight: b[0] ? 4 : 5, opacity: 0.9});
    tip(line, s(b[1])); G.shoreline.addLayer(line);
  });
  if (G.recurrence) {
    var rec = L.featureGroup().on("click", onClick);
    D.recurrences.forEach(function (r) {
      var p = P[r[0]], m = L.circleMarker(ll(p[11], p[12]), {renderer: renderer, radius: 11,
        color: D.recurrence_color, weight: 3, fill: false});
      m.hetu = r[0]; m.hetuExtra = [L_.recurrence_of, s(r[1])]; rec.addLayer(m);
    });
    G.recurrence.addLayer(rec);
  }
  // search by patch id
  var ids = P.map(function (p) { return p[0]; });
  var Search = L.Control.extend({options: {position: "topleft"}, onAdd: function () {
    var box = el("div", null, "leaflet-bar hetu-search"), input = el("input");
    var list = el("div"); input.type = "search"; input.placeholder = L_.search;
    box.appendChild(input); box.appendChild(list);
    L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
    function go(i) {
      var p = P[i]; list.textContent = "";
      map.once("moveend", function () { open(i); });
      map.setView(ll(p[11], p[12]), Math.max(map.getZoom(), D.zpoly + 2));
    }
    input.addEventListener("input", function () {
      var q = input.value.trim().toUpperCase(); list.textContent = "";
      if (!q) { return; }
      var n = 0;
      for (var i = 0; i < ids.length && n < 8; i++) {
        if (ids[i].toUpperCase().indexOf(q) >= 0) {
          var item = el("div", ids[i]); item.dataset.i = i;
          item.addEventListener("click", function (e) { L.DomEvent.stop(e); go(+this.dataset.i); });
          list.appendChild(item); n++;
        }
      }
      if (!n) { list.appendChild(el("span", L_.search_none)); }
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { var i = ids.indexOf(input.value.trim()); if (i < 0 &&
        list.firstChild && list.firstChild.dataset) { i = +list.firstChild.dataset.i; }
        if (i >= 0) { go(i); } }
    });
    return box;
  }});
  new Search().addTo(map);
  rescale();
  window.hetu = {map: map, groups: G, open: open, ids: ids, ready: true,
    center: function (i) { return ll(P[i][11], P[i][12]); }};
})();
"""
