"""The leadership map: one self-contained HTML file (Folium + Leaflet).

:func:`status_map` draws a ledger's status frame; :func:`save_map` writes it
with its assets inside the file. The compact patch data is built by
:mod:`geo.maps.data`, the page's own script and style are package files read
by :mod:`geo.maps.assets`.
"""

from __future__ import annotations

from geo.maps.status import save_map, status_map

__all__ = ["save_map", "status_map"]
