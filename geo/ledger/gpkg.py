"""GeoPackage plumbing for the ledger: core tables and geometry blobs.

The ledger writes features through :mod:`sqlite3` rather than through GDAL so
that a batch of patches, their first events and the import record commit in
one SQLite transaction (all or nothing). That needs two small pieces of the
GeoPackage 1.3 standard, implemented here: the core metadata tables and the
geometry blob (an 8-byte header, an envelope, then ISO WKB). Everything else
(reading in QGIS, GDAL, pyogrio) works on the result as on any GeoPackage.
"""

from __future__ import annotations

import functools
import sqlite3
import struct
from collections.abc import Iterable

import numpy as np
import shapely
from pyproj import CRS

#: ``PRAGMA application_id`` of a GeoPackage ('GPKG').
APPLICATION_ID = 0x47504B47
#: ``PRAGMA user_version`` of GeoPackage 1.3.
USER_VERSION = 10300
#: GDAL's creation options for every GeoPackage Hetu writes through GDAL (snapshots, field
#: packages): version 1.3 like the ledger. GDAL 3.8 and later write 1.4 by default, whose
#: R-tree triggers older clients and the validator of Debian's GDAL 3.6 do not know.
GDAL_OPTIONS: dict[str, str] = {"VERSION": "1.3"}

CORE_SQL = """
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
    srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
    organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS gpkg_contents (
    table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
    description TEXT DEFAULT '',
    last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
    srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
    REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
    table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
    srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
    CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
    CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
    CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
"""

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def init_core(conn: sqlite3.Connection, *, srs_ids: Iterable[int]) -> None:
    """Create the GeoPackage core tables and register the spatial reference systems.

    Parameters
    ----------
    conn : sqlite3.Connection
        An open connection inside a transaction.
    srs_ids : iterable of int
        EPSG codes to register besides the two undefined systems the standard requires.
    """
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    for statement in CORE_SQL.split(";"):
        if statement.strip():
            conn.execute(statement)
    rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
    ]
    for epsg in srs_ids:
        crs = CRS.from_epsg(epsg)
        rows.append((crs.name, epsg, "EPSG", epsg, crs.to_wkt("WKT1_GDAL"), crs.name))
    conn.executemany(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def register_table(
    conn: sqlite3.Connection,
    table: str,
    *,
    description: str = "",
    geometry: tuple[str, str] | None = None,
    srs_id: int = 4490,
) -> None:
    """Register a table in ``gpkg_contents`` (and ``gpkg_geometry_columns``).

    Parameters
    ----------
    conn : sqlite3.Connection
        An open connection inside a transaction.
    table : str
        The table name.
    description : str
        Shown by QGIS beside the layer name.
    geometry : tuple of str, optional
        ``(column, geometry type)`` for a feature table; ``None`` for attributes.
    srs_id : int
        The spatial reference system of the geometry column.
    """
    data_type = "features" if geometry else "attributes"
    conn.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description,"
        " srs_id) VALUES (?, ?, ?, ?, ?)",
        (table, data_type, table, description, srs_id if geometry else None),
    )
    if geometry:
        conn.execute(
            "INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
            (table, geometry[0], geometry[1], srs_id),
        )


def register_functions(conn: sqlite3.Connection) -> None:
    """Give ``conn`` the SQL functions a GeoPackage R-tree index calls (``ST_MinX`` …).

    GDAL and QGIS make the index (extension ``gpkg_rtree_index``) with triggers that call
    them, and the standard leaves them to the application: SQLite has none. Without them
    no row of an indexed table could be written through :mod:`sqlite3`.
    """
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for name, at in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        conn.create_function(name, 1, functools.partial(_bound, at), deterministic=True)


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return int(bool(shapely.is_empty(from_blobs([blob])[0])))


def _bound(at: int, blob: bytes | None) -> float | None:
    if blob is None:
        return None
    value = shapely.bounds(from_blobs([blob])[0])[at]
    return None if np.isnan(value) else float(value)


def drop_spatial_index(conn: sqlite3.Connection, table: str, column: str = "geom") -> None:
    """Drop the R-tree index a client (GDAL, QGIS) made on ``table``, and its extension record.

    A table a migration rebuilds loses the index's triggers with the old table; the index
    would then miss every row written later. A client makes a new one when it needs it.
    """
    conn.execute(f"DROP TABLE IF EXISTS rtree_{table}_{column}")
    listed = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpkg_extensions'"
    ).fetchone()
    if listed:
        conn.execute(
            "DELETE FROM gpkg_extensions WHERE lower(table_name) = ? AND lower(column_name) = ?"
            " AND extension_name = 'gpkg_rtree_index'",
            (table, column),
        )


def to_blobs(geoms: np.ndarray | Iterable, *, srs_id: int = 4490) -> list[bytes | None]:
    """Encode shapely geometries as GeoPackage geometry blobs (2D, little-endian).

    Parameters
    ----------
    geoms : array-like of shapely geometries
        ``None`` stays ``None``.
    srs_id : int
        Written into each header.

    Returns
    -------
    list of bytes or None
    """
    arr = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    wkbs = shapely.to_wkb(arr, output_dimension=2, byte_order=1, flavor="iso")
    bounds = shapely.bounds(arr)
    empty = shapely.is_empty(arr)
    out: list[bytes | None] = []
    for wkb, (minx, miny, maxx, maxy), is_empty in zip(wkbs, bounds, empty, strict=True):
        if wkb is None:
            out.append(None)
        elif is_empty:
            out.append(b"GP\x00\x11" + struct.pack("<i", srs_id) + wkb)
        else:
            out.append(b"GP\x00\x03" + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy) + wkb)
    return out


def from_blobs(blobs: Iterable[bytes | None]) -> np.ndarray:
    """Decode GeoPackage geometry blobs into an array of shapely geometries.

    Parameters
    ----------
    blobs : iterable of bytes or None
        As stored in a geometry column.

    Returns
    -------
    numpy.ndarray of shapely geometries (``None`` where the blob is ``None``)
    """
    wkbs = []
    for blob in blobs:
        if blob is None:
            wkbs.append(None)
            continue
        if blob[:2] != b"GP":
            raise ValueError("not a GeoPackage geometry blob (missing 'GP' magic)")
        flags = blob[3]
        start = 8 + _ENVELOPE_BYTES[(flags >> 1) & 0x07]
        wkbs.append(bytes(blob[start:]))
    return shapely.from_wkb(np.asarray(wkbs, dtype=object))


def update_extent(conn: sqlite3.Connection, table: str, geoms: np.ndarray) -> None:
    """Widen the table's extent in ``gpkg_contents`` to cover ``geoms``."""
    arr = np.asarray(geoms, dtype=object)
    arr = arr[~(shapely.is_missing(arr) | shapely.is_empty(arr))]
    if not len(arr):
        return
    minx, miny, maxx, maxy = shapely.total_bounds(arr)
    conn.execute(
        "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?), ?),"
        " min_y = min(coalesce(min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?),"
        " max_y = max(coalesce(max_y, ?), ?),"
        " last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
        (minx, minx, miny, miny, maxx, maxx, maxy, maxy, table),
    )
