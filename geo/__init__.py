"""Hetu (河图): track river and lake remote-sensing patches to closure.

The package is flat, one module per domain noun:

- :mod:`geo.layers`: read what an office receives into canonical GeoDataFrames, with
  :mod:`geo.vectors` (containers: zip, GeoPackage, KML/KMZ, GPX, FileGDB), :mod:`geo.tables`
  (CSV/Excel with coordinates), :mod:`geo.encodings`, :mod:`geo.profiles` (field aliases),
  :mod:`geo.offsets` (GCJ-02/BD-09) and :mod:`geo.crs`;
- :mod:`geo.matching`: who is responsible for each patch;
- :mod:`geo.store`: the ledger (a GeoPackage file), the only stateful object;
- :mod:`geo.lifecycle`: states, transitions, deadlines, escalation policy, pure; with
  :mod:`geo.workdays` (the Chinese working-day calendar);
- :mod:`geo.evidence` (attachments, EXIF checks) and :mod:`geo.audit` (抽查复核);
- :mod:`geo.surveys`: shoreline surveys and patrols;
- :mod:`geo.maps` and :mod:`geo.export`: the leadership map and the Excel ledger; with
  :mod:`geo.schedule` (the weekly export set, its lock and schedule lines) and
  :mod:`geo.shapefile` (the legacy GBK shapefile with 10-byte field codes);
- :mod:`geo.coverage` and :mod:`geo.patrols`: shoreline surveyed and patrols done;
- :mod:`geo.county` and :mod:`geo.demo`: a seeded demo county that runs the whole flow.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
