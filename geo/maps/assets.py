"""The web assets of the leadership map: Leaflet, MarkerCluster and Hetu's own script.

By default (offline) Leaflet 1.9.3 and Leaflet.markercluster 1.4.1 are read from
the installed XStatic packages (pinned dependencies, never copied into this
repository) and written inline, with the images their stylesheets name turned
into data URIs, so the saved page makes no request but for basemap tiles. With
``offline=False`` (``hetu map --cdn``) the page links them from public CDNs.
Folium's other default assets (jQuery, Bootstrap, Font Awesome, awesome-markers)
are dropped: the map draws circle markers and carries its own small stylesheet.

Hetu's own script and stylesheet are package files, ``static/hetu-map.js`` and
``static/hetu-map.css`` (written for this project, shipped as package data),
read once with :mod:`importlib.resources` and written inline. The script is
Hetu's renderer: it reads the compact JSON the map module writes, builds the
layers on Leaflet's canvas renderer (points below a zoom level, polygons above
it, closed patches clustered), and builds every popup, tooltip and search
result with ``textContent``, never ``innerHTML``, so text from the ledger
cannot become markup. Python fills in no part of the script's source: the one
call :func:`hetu_script` appends passes the data element's id and the group
keys as JSON and the map and groups by their folium variable names.

Branca, which renders folium's page, compiles the text each element's macros
produce as a Jinja template a second time; text from a ledger inside it would
be run (``{{ 7*7 }}`` becoming ``49``, or worse). Hetu's own elements are
therefore :class:`Verbatim`: their finished text is added to the page as it is,
never compiled, and folium elements are given no text from the ledger at all.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import import_module
from importlib.resources import files
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement

from geo.errors import SettingsError
from geo.maps.data import script_json

__all__ = [
    "InlineAssets", "Verbatim", "hetu_css", "hetu_script", "static_text", "use_assets",
]  # fmt: skip

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
            f"pip install '{_PIP_NAMES[module]}', or link them from the network with hetu map --cdn"
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


class _Text(Element):
    """A piece of finished page text: rendering returns it unchanged."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text as given; it is never compiled as a template."""
        return self._text


class Verbatim(MacroElement):
    """Finished text for the page's head, body and script, added without template compilation.

    Branca's :class:`~branca.element.MacroElement` hands the output of its macros
    to ``Element(text)``, which compiles that text as a Jinja template again, so
    data inside it would run. A ``Verbatim`` element writes its parts to the
    figure as they are; whoever builds the parts escapes what they hold (HTML
    with :func:`html.escape`, JSON with :func:`geo.maps.data.script_json`).

    Parameters
    ----------
    name : str
        The element's kind, the prefix of its ``get_name()``.
    header, html, script : str
        Finished text for the page's ``<head>``, ``<body>`` and final ``<script>``;
        empty parts are left out.
    """

    def __init__(self, name: str, *, header: str = "", html: str = "", script: str = "") -> None:
        super().__init__()
        self._name = name
        self.parts = {"header": header, "html": html, "script": script}

    def render(self, **kwargs: Any) -> None:
        """Add the parts to the figure verbatim (and render any children)."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"{self._name}: add it to a map before rendering the page")
        for part, text in self.parts.items():
            if text:
                getattr(figure, part).add_child(_Text(text), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class InlineAssets(Verbatim):
    """Leaflet and MarkerCluster written into the page's head, from XStatic packages."""

    def __init__(self) -> None:
        css, js = _offline_text()
        css = css.replace("</", "<\\/")
        head = f"<style>{css}</style>\n<script>{_script_safe(js)}</script>\n"
        super().__init__("HetuInlineAssets", header=head)


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


#: The package files of Hetu's own script and stylesheet (in ``geo/maps/static/``).
HETU_JS_FILE = "hetu-map.js"
HETU_CSS_FILE = "hetu-map.css"
_JS_NAME = re.compile(r"[A-Za-z_$][\w$]*", re.ASCII)


@lru_cache(maxsize=8)
def static_text(name: str) -> str:
    """Return the text of the package file ``geo/maps/static/<name>`` (read once)."""
    return (files("geo.maps") / "static" / name).read_text(encoding="utf-8")


def hetu_css() -> str:
    """Return Hetu's stylesheet (the font list names the common Chinese UI fonts)."""
    return static_text(HETU_CSS_FILE)


def _js_name(name: str) -> str:
    if not _JS_NAME.fullmatch(name):
        raise ValueError(f"not a JavaScript variable name: {name!r}")
    return name


def hetu_script(data_id: str, map_name: str, groups: Mapping[str, str]) -> str:
    """Return Hetu's renderer and the call that draws one map's data.

    Parameters
    ----------
    data_id : str
        The ``id`` of the ``<script type="application/json">`` element holding the
        map's compact data document.
    map_name : str
        The JavaScript variable of the Leaflet map (folium's ``get_name()``).
    groups : mapping
        Layer key (``"patch:issued"``, ``"range:0"``, ``"tracks"`` …) → JavaScript
        variable of its feature group.

    Returns
    -------
    str
        The text of ``static/hetu-map.js`` unchanged, followed by one call of its
        ``hetuDraw``: the id and keys as script-safe JSON, the names checked to be names.

    Raises
    ------
    ValueError
        If a map or group name is not a JavaScript variable name.
    """
    refs = ",".join(f"{script_json(key)}:{_js_name(name)}" for key, name in groups.items())
    call = f"hetuDraw({script_json(data_id)}, {_js_name(map_name)}, {{{refs}}});\n"
    return static_text(HETU_JS_FILE) + call
