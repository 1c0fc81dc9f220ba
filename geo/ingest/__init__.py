"""Ingest: read what an office receives into canonical GeoDataFrames.

Nothing here touches the ledger: each reader returns a frame with its import
record (encoding, CRS and every other decision) and its quarantine in
``frame.attrs["hetu"]``; :func:`geo.ledger.loading.ingest_file` stores them.

- :mod:`geo.ingest.readers`: patches, ranges/segments and chiefs from any file;
- :mod:`geo.ingest.vectors`: containers (zip, GeoPackage, KML/KMZ, GPX, FileGDB);
- :mod:`geo.ingest.tabular`: CSV/Excel (.xlsx, .xls; the sheet that fits) with coordinate
  columns (经度/纬度, X/Y, DMS);
- :mod:`geo.ingest.points`: patches given as centre points, drawn as circles of their area;
- :mod:`geo.ingest.chiefs`: chiefs' levels as offices write them, every bad row of a list;
- :mod:`geo.ingest.encodings`: DBF and text encodings (GBK shapefiles without .cpg);
- :mod:`geo.ingest.profiles`: field-name alias profiles;
- :mod:`geo.ingest.offsets`: GCJ-02/BD-09 web-map offsets;
- :mod:`geo.ingest.checks`: the checks every input gets (blank ids, plausible dates, finite
  coordinates, the times of survey fixes);
- :mod:`geo.ingest.tracks`: survey and patrol tracks (GPX, KML, patrol-app tables, photos);
- :mod:`geo.ingest.gpx`: GPX tracks, routes and waypoints, every fix checked;
- :mod:`geo.ingest.photos`: EXIF time and GPS of photos.
"""

from __future__ import annotations

from geo.ingest.photos import read_exif
from geo.ingest.readers import (
    KINDS,
    chiefs_from_file,
    patches_from_file,
    read_layer,
    segments_from_file,
)
from geo.ingest.tabular import points_from_table, read_table
from geo.ingest.tracks import surveys_from_file
from geo.ingest.vectors import read_vector

__all__ = [
    "KINDS",
    "chiefs_from_file",
    "patches_from_file",
    "points_from_table",
    "read_exif",
    "read_layer",
    "read_table",
    "read_vector",
    "segments_from_file",
    "surveys_from_file",
]
