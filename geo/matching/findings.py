"""Survey findings (points from a patrol or shoreline survey) linked to the patches near them."""

from __future__ import annotations

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

#: Columns of :func:`link_findings`.
FINDING_LINK_COLUMNS = ["finding_id", "patch_id", "distance_m"]
#: Default distance, in metres, within which a finding is linked to a patch.
WITHIN_M = 50.0


def link_findings(
    findings: gpd.GeoDataFrame,
    patches: gpd.GeoDataFrame,
    *,
    within_m: float = WITHIN_M,
    nearest_only: bool = False,
    central_meridian: int | None = None,
) -> pd.DataFrame:
    """Link each survey finding to the patches within a distance of it.

    Parameters
    ----------
    findings : GeoDataFrame
        Points with ``finding_id``; any CRS.
    patches : GeoDataFrame
        With ``patch_id``; any CRS.
    within_m : float
        Largest distance in metres (0 inside the patch).
    nearest_only : bool
        Keep only the nearest patch of each finding (ties: the smallest id).
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the findings.

    Returns
    -------
    DataFrame
        ``finding_id, patch_id, distance_m``, sorted by finding, distance, patch.

    Raises
    ------
    SchemaError
        If a frame lacks its id column or a CRS.
    """
    for frame, col, name in (
        (findings, "finding_id", "findings"),
        (patches, "patch_id", "patches"),
    ):
        if col not in frame.columns:
            raise SchemaError(f"{name} need a {col!r} column; found {list(frame.columns)}")
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in FINDING_LINK_COLUMNS})
    if findings.empty or patches.empty:
        return empty
    crs = metric_crs(findings, central_meridian=central_meridian)
    fg = metric_geoms(findings, crs)
    pg = metric_geoms(patches, crs)
    fi, pi = shapely.STRtree(pg).query(fg, predicate="dwithin", distance=within_m)
    if not len(fi):
        return empty
    out = pd.DataFrame(
        {
            "finding_id": findings["finding_id"].astype(str).to_numpy()[fi],
            "patch_id": patches["patch_id"].astype(str).to_numpy()[pi],
            "distance_m": shapely.distance(fg[fi], pg[pi]),
        }
    )
    out = out.sort_values(["finding_id", "distance_m", "patch_id"]).reset_index(drop=True)
    if nearest_only:
        out = out.drop_duplicates("finding_id").reset_index(drop=True)
    return out.astype({"distance_m": np.float64})


def findings_ledger(ledger: Ledger, *, within_m: float = WITHIN_M) -> pd.DataFrame:
    """Link the ledger's survey findings to its patches.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    within_m : float
        As for :func:`link_findings`.

    Returns
    -------
    DataFrame
        As :func:`link_findings`.
    """
    return link_findings(
        ledger.findings(),
        ledger.patches(),
        within_m=within_m,
        central_meridian=ledger.settings.central_meridian,
    )
