"""Patches in their administrative areas: placing, and townships that disagree.

An office's 乡镇界/村界 layer (``hetu ingest LEDGER admin FILE``) places a patch
whose own code and segment name no township: :func:`place_patches` finds the area
each patch overlaps most, measured in metres (a village when one overlaps, else a
township), and :func:`place_ledger` stores the result for the status frame.
:func:`township_conflicts` lists the patches whose own code names another
township than their segment (the province's code or the segment's may be wrong:
the office checks on site).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs
from geo.errors import SchemaError
from geo.matching.core import metric_geoms

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

log = logging.getLogger(__name__)

#: Columns of :func:`place_patches`.
PLACE_COLUMNS = ["patch_id", "admin_code", "overlap_m2", "share"]
#: Columns of :func:`township_conflicts`.
CONFLICT_COLUMNS = ["patch_id", "admin_code", "township", "segment_id", "segment_name"]
CONFLICT_COLUMNS += ["township_check"]


def place_patches(
    patches: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, central_meridian: int | None = None
) -> pd.DataFrame:
    """Place each patch in the administrative area it overlaps most.

    Parameters
    ----------
    patches : GeoDataFrame
        ``patch_id`` and polygons, in any CRS.
    areas : GeoDataFrame
        ``admin_code`` (9 digits: township, 12: village) and polygons.
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the data.

    Returns
    -------
    DataFrame
        :data:`PLACE_COLUMNS`, one row per patch that overlaps an area: the
        village it overlaps most when it overlaps one, else the township;
        ``share`` is the overlap over the patch's area. Equal overlaps go to the
        smaller code. Patches overlapping no area have no row.

    Raises
    ------
    SchemaError
        If a frame lacks its id column or its CRS.
    """
    for frame, col, name in ((patches, "patch_id", "patches"), (areas, "admin_code", "areas")):
        if col not in frame.columns:
            raise SchemaError(f"{name} need a {col!r} column; found {list(frame.columns)}")
    if patches.empty or areas.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PLACE_COLUMNS})
    crs = metric_crs(patches, central_meridian=central_meridian)
    pgeoms, ageoms = metric_geoms(patches, crs), metric_geoms(areas, crs)
    tree = shapely.STRtree(ageoms)
    left, right = tree.query(pgeoms, predicate="intersects")
    overlap = shapely.area(shapely.intersection(pgeoms[left], ageoms[right]))
    codes = areas["admin_code"].astype(str).to_numpy()
    pairs = pd.DataFrame(
        {
            "patch_id": patches["patch_id"].astype(str).to_numpy()[left],
            "admin_code": codes[right],
            "overlap_m2": np.round(overlap, 2),
            "share": np.round(overlap / np.maximum(shapely.area(pgeoms[left]), 1e-9), 4),
        }
    )
    pairs = pairs[pairs["overlap_m2"] > 0]
    pairs["_village"] = pairs["admin_code"].str.len() >= 12
    pairs = pairs.sort_values(
        ["patch_id", "_village", "overlap_m2", "admin_code"],
        ascending=[True, False, False, True],
        kind="stable",
    )
    best = pairs.drop_duplicates("patch_id").drop(columns="_village")
    return best[PLACE_COLUMNS].reset_index(drop=True)


def place_ledger(ledger: Ledger, *, patches: gpd.GeoDataFrame | None = None) -> int:
    """Place every patch of the ledger in its administrative area and store it; return rows.

    A ledger without boundaries (``hetu ingest LEDGER admin FILE``) stores nothing;
    ``patches`` saves reading them again when the caller has ``ledger.patches()``.
    """
    areas = ledger.admin_areas()
    if areas.empty:
        return 0
    frame = ledger.patches() if patches is None else patches
    placed = place_patches(frame, areas, central_meridian=ledger.settings.central_meridian)
    log.info("placed %d patches in %d administrative areas", len(placed), len(areas))
    return ledger.replace_placements(placed)


def township_conflicts(frame: pd.DataFrame) -> pd.DataFrame:
    """The patches whose own township differs from their segment's (``township_check`` set).

    Parameters
    ----------
    frame : DataFrame
        A status frame (``Ledger.status_frame``).

    Returns
    -------
    DataFrame
        :data:`CONFLICT_COLUMNS`, in patch order.
    """
    if "township_check" not in frame.columns:
        raise SchemaError("the frame lacks township_check; pass Ledger.status_frame()")
    rows = frame[frame["township_check"].fillna("").astype(str) != ""]
    return pd.DataFrame(rows[CONFLICT_COLUMNS]).reset_index(drop=True)
