// Hetu's renderer of the leadership map, inlined by geo/maps/assets.py (hetu_script).
// hetuDraw(dataId, map, G) draws the compact JSON document held in the element dataId
// (geo/maps/data.py) on the Leaflet map, into its layer groups G (key -> group).
// Text from the ledger is only ever set with textContent, or HTML-escaped (layer list).
function hetuDraw(dataId, map, G) {
  "use strict";
  var D = JSON.parse(document.getElementById(dataId).textContent);
  var S = D.s, Q = D.q, L_ = D.labels;
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
  function escaped(text) {  // for Leaflet's layer list, which sets names as HTML
    return String(text).replace(/&/g, "&amp;").replace(/[<]/g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  // patch record: [id, state, overdue days, type, area, water, village, township chief,
  //   county chief, deadline, description, cx, cy, geometry, history, thumbnails,
  //   township, township code, batch, details, source]; history entries: [time, what, who];
  //   details (认定, 责任, 整改, 验收, 回头看): [label, value] pairs
  var P = D.patches;
  function popup(i, extra) {
    var p = P[i], box = el("div", null, "hetu-pop"), t = el("table");
    function row(label, value, cls) {
      if (value === "" || value === null || value === undefined) { return; }
      var tr = el("tr"); tr.appendChild(el("th", label)); tr.appendChild(el("td", value, cls));
      t.appendChild(tr);
    }
    row(L_.patch_id, p[0]);
    row(L_.batch, s(p[18]));
    row(L_.issue_type, s(p[3]));
    row(L_.area, p[4] === null ? "" : p[4].toLocaleString("zh-CN"));
    row(L_.township, s(p[16]));
    row(L_.water, s(p[5]));
    row(L_.state, D.state_labels[p[1]]);
    row(L_.deadline, s(p[9]));
    if (p[2] > 0) { row(L_.overdue, p[2] + " " + D.day_unit, "late"); }
    row(L_.chief_village, s(p[6]));
    row(L_.chief_township, s(p[7]));
    row(L_.chief_county, s(p[8]));
    row(L_.description, s(p[10]));
    (p[19] || []).forEach(function (d) { row(s(d[0]), s(d[1])); });
    if (extra) { row(extra[0], extra[1], "late"); }
    box.appendChild(t);
    if (p[14] && p[14].length) {
      box.appendChild(el("b", L_.history));
      var ol = el("ol");
      p[14].forEach(function (e) {
        var who = s(e[2]);
        ol.appendChild(el("li", s(e[0]) + " " + s(e[1]) + (who ? " · " + who : "")));
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
  // The fixed boxes (title, dashboard, layer list) sit above Leaflet's panes: keep popups
  // and zoomed views clear of them, where the map is wide enough to spare the room.
  function margins() {
    var c = map.getContainer().getBoundingClientRect();
    var out = {top: 10, left: 10, right: 10, bottom: 10, height: c.height};
    function box(sel) {  // a shown box's rectangle (fixed boxes have no offsetParent)
      var e = document.querySelector(sel), r = e && e.getBoundingClientRect();
      return r && r.width > 0 && r.height > 0 ? r : null;
    }
    var title = box(".hetu-title"), dash = box(".hetu-dash"), list = box(".leaflet-control-layers");
    if (title) { out.top = Math.max(out.top, title.bottom - c.top + 10); }
    var left = dash ? dash.right - c.left + 10 : 10, right = list ? c.right - list.left + 10 : 10;
    if (c.width - left - right >= 420) { out.left = left; out.right = right; }
    return out;
  }
  function open(i, latlng, extra) {
    var p = P[i], m = margins();
    L.popup({maxWidth: 380, maxHeight: Math.max(120, m.height - m.top - m.bottom - 60),
      autoPanPaddingTopLeft: L.point(m.left, m.top),
      autoPanPaddingBottomRight: L.point(m.right, m.bottom)})
      .setLatLng(latlng || ll(p[11], p[12])).setContent(popup(i, extra)).openOn(map);
  }
  function onClick(e) { var l = e.layer || e.propagatedFrom; if (l && l.hetu !== undefined) {
    L.DomEvent.stopPropagation(e); open(l.hetu, e.latlng, l.hetuExtra); } }
  // one point layer and one polygon layer per state, and the overdue marks on top
  var pts = {}, polys = {}, built = new Uint8Array(P.length), cluster = null;
  Object.keys(G).forEach(function (key) {
    if (key.indexOf("patch:") === 0 || key === "overdue") {
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
  function key(p) { return "patch:" + D.states[p[1]]; }
  function late(p) { return p[2] > 0 && D.settled.indexOf(p[1]) < 0 && !!pts.overdue; }
  // the filter by 问题来源: the index (into D.sources) of the one source shown, -1 every one
  var only = -1, drawn = 0;
  function pass(p) { return only < 0 || p[20] === only; }
  function drawPoints() {
    var closedMarkers = [];
    drawn = 0;
    Object.keys(pts).forEach(function (k) { pts[k].clearLayers(); });
    if (cluster) { cluster.clearLayers(); }
    for (var i = 0; i < P.length; i++) {
      var p = P[i], k = key(p);
      if (!pass(p)) { continue; }
      var m = L.circleMarker(ll(p[11], p[12]), {renderer: renderer, radius: 5, color: "#fff",
        weight: 1, fillColor: D.colors[p[1]], fillOpacity: 0.9});
      m.hetu = i; drawn++;
      if (k === "patch:closed" && cluster) { closedMarkers.push(m); } else if (pts[k]) {
        pts[k].addLayer(m);
      }
      if (late(p)) {
        var ring = L.circleMarker(ll(p[11], p[12]), {renderer: renderer, radius: 8,
          color: D.overdue_color, weight: 3, fill: false});
        ring.hetu = i; pts.overdue.addLayer(ring);
      }
    }
    if (cluster) { cluster.addLayers(closedMarkers); }
  }
  drawPoints();
  function buildPolygons() {
    var b = map.getBounds().pad(0.5);
    for (var i = 0; i < P.length; i++) {
      if (built[i]) { continue; }
      var p = P[i], k = key(p);
      if (!pass(p)) { continue; }
      if (!polys[k] || !b.contains(ll(p[11], p[12]))) { continue; }
      var shape = rings(p[11], p[12], p[13]);
      var poly = L.polygon(shape, {renderer: renderer, color: D.colors[p[1]], weight: 1.5,
        fillColor: D.colors[p[1]], fillOpacity: 0.45});
      poly.hetu = i; polys[k].addLayer(poly); built[i] = 1;
      if (late(p)) {
        var edge = L.polygon(shape, {renderer: renderer, color: D.overdue_color, weight: 3.5,
          fill: false});
        edge.hetu = i; polys.overdue.addLayer(edge);
      }
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
  function filter(k) {  // show the patches of source k only (-1: all), points and outlines
    only = k;
    Object.keys(polys).forEach(function (key) { polys[key].clearLayers(); });
    built = new Uint8Array(P.length);
    drawPoints();
    if (detail) { buildPolygons(); }
    showCounts(k);
  }
  if (D.sources && D.sources.length > 1) {
    var Filter = L.Control.extend({options: {position: "topright"}, onAdd: function () {
      var box = el("div", null, "leaflet-bar hetu-filter"), pick = el("select");
      var all = el("option", L_.source_all); all.value = "-1"; pick.appendChild(all);
      D.sources.forEach(function (name, k) {
        var o = el("option", name); o.value = String(k); pick.appendChild(o); });
      pick.title = L_.source; box.appendChild(el("span", L_.source)); box.appendChild(pick);
      L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
      pick.addEventListener("change", function () { filter(+pick.value); });
      return box;
    }});
    new Filter().addTo(map);
  }
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
  (D.candidates || []).forEach(function (c) {  // self-check candidates: text and chips as data
    if (!G.candidates) { return; }
    var poly = L.polygon(rings(c[1], c[2], c[3]), {renderer: renderer, color: D.candidate_color,
      weight: 2, dashArray: "5 4", fillOpacity: 0.2});
    poly.bindPopup(function () {
      var box = el("div", null, "hetu-candidate"); box.appendChild(el("b", s(c[0])));
      c[4].forEach(function (k) { box.appendChild(el("div", s(k))); });
      c[5].forEach(function (k) { var img = el("img"); img.src = s(k); box.appendChild(img); });
      return box;
    });
    G.candidates.addLayer(poly);
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
  // the layer list: names from the data document, escaped, in the document's order
  var layerList = L.control.layers(null, null, {collapsed: false}), listed = {};
  D.layers.forEach(function (l) { listed[l[0]] = l[1]; });
  function listLayers() {  // (again) in the document's order, with the names in listed
    D.layers.forEach(function (l) { if (G[l[0]]) { layerList.removeLayer(G[l[0]]); } });
    D.layers.forEach(function (l) {
      if (G[l[0]]) { layerList.addOverlay(G[l[0]], escaped(listed[l[0]])); } });
  }
  listLayers();
  layerList.addTo(map);
  // the counts of the source the filter shows (k, -1: every one): the dashboard's tables and
  // the layer list's names. Python computed every set (geo/maps/panels.py); this only picks
  // one and writes its text with textContent.
  function showCounts(k) {
    var C = D.counts && D.counts.sets && D.counts.sets[k + 1];
    if (!C) { return; }
    D.counts.parts.forEach(function (part, j) {
      var box = document.querySelector('.hetu-dash [data-part="' + part.key + '"]');
      if (!box) { return; }
      var rows = C.dash[j];
      box.textContent = "";
      if (!rows.length && part.empty) { box.appendChild(el("div", part.empty)); return; }
      var t = el("table");
      rows.forEach(function (r) {
        var tr = el("tr"), first = el("td");
        if (part.links && r[0] !== part.unlinked) {
          var a = el("a", r[0]);
          a.setAttribute("href", "#township=" + encodeURIComponent(r[0]));
          first.appendChild(a);
        } else { first.textContent = r[0]; }
        tr.appendChild(first);
        for (var c = 1; c < r.length; c++) {
          tr.appendChild(el("td", r[c], part.late ? "n late" : "n"));
        }
        t.appendChild(tr);
      });
      box.appendChild(t);
    });
    C.layers.forEach(function (l) { listed[l[0]] = l[1]; });
    listLayers();
  }
  L.control.scale({metric: true, imperial: false, position: "bottomright"}).addTo(map);
  // go to a patch (search, #patch=ID) or a township (#township=NAME or its 9-digit code)
  var ids = P.map(function (p) { return p[0]; });
  function go(i) {
    var p = P[i];
    map.closePopup();
    map.once("moveend", function () { open(i); });
    map.setView(ll(p[11], p[12]), Math.max(map.getZoom(), D.zpoly + 2));
  }
  function township(name) {
    var found = [];
    P.forEach(function (p) { if (s(p[16]) === name || s(p[17]) === name) {
      found.push(ll(p[11], p[12])); } });
    if (!found.length) { return false; }
    var m = margins();
    map.closePopup();
    map.fitBounds(L.latLngBounds(found), {maxZoom: D.zpoly + 1,
      paddingTopLeft: L.point(m.left + 20, m.top + 20),
      paddingBottomRight: L.point(m.right + 20, m.bottom + 20)});
    return true;
  }
  function fromHash() {
    var h = /^#(patch|township)=(.*)$/.exec(window.location.hash);
    if (!h) { return false; }
    var value = h[2];
    try { value = decodeURIComponent(value); } catch (e) { /* a raw, unencoded value */ }
    if (h[1] === "township") { return township(value); }
    var i = ids.indexOf(value);
    if (i >= 0) { go(i); }
    return i >= 0;
  }
  window.addEventListener("hashchange", fromHash);
  var Search = L.Control.extend({options: {position: "topleft"}, onAdd: function () {
    var box = el("div", null, "leaflet-bar hetu-search"), input = el("input");
    var list = el("div"); input.type = "search"; input.placeholder = L_.search;
    box.appendChild(input); box.appendChild(list);
    L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
    function pick(i) { list.textContent = ""; go(i); }
    input.addEventListener("input", function () {
      var q = input.value.trim().toUpperCase(); list.textContent = "";
      if (!q) { return; }
      var n = 0;
      for (var i = 0; i < ids.length && n < 8; i++) {
        if (ids[i].toUpperCase().indexOf(q) >= 0) {
          var item = el("div", ids[i]); item.dataset.i = i;
          item.addEventListener("click", function (e) {
            L.DomEvent.stop(e); pick(+this.dataset.i); });
          list.appendChild(item); n++;
        }
      }
      if (!n) { list.appendChild(el("span", L_.search_none)); }
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { var i = ids.indexOf(input.value.trim()); if (i < 0 &&
        list.firstChild && list.firstChild.dataset) { i = +list.firstChild.dataset.i; }
        if (i >= 0) { pick(i); } }
    });
    return box;
  }});
  new Search().addTo(map);
  rescale();
  fromHash();
  window.hetu = {map: map, groups: G, open: open, ids: ids, ready: true, margins: margins,
    filter: filter, shown: function () { return drawn; },
    center: function (i) { return ll(P[i][11], P[i][12]); },
    township: function (i) { return s(P[i][16]); }};
}
