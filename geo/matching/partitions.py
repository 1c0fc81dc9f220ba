"""The scale-out engine: matching per spatial partition on a Dask cluster.

``match_patches(..., engine="dask")`` lands here. The patches become a
dask-geopandas frame shuffled along a Hilbert curve (each partition a compact
area), the ranges are shipped to every worker once, and each partition runs
the in-memory kernel (:func:`geo.matching.core.match_in_crs`) in one CRS decided
for the whole input — so the result is identical, row for row, to the
in-memory engine's. Whatever scheduler is current runs it: a
``dask.distributed.Client`` connected to a cluster if one is active.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from geo.crs import STORAGE_EPSG, central_meridian_for, gauss_kruger_epsg
from geo.matching.core import RESULT_COLUMNS, empty_result, match_in_crs

log = logging.getLogger(__name__)

#: Patches per partition when the caller gives no ``npartitions``.
PARTITION_SIZE = 50_000


def _kernel(
    part: gpd.GeoDataFrame,
    ranges: gpd.GeoDataFrame,
    crs_wkt: str,
    near_m: float,
    id_column: str,
    tolerance: float,
) -> pd.DataFrame:
    """Match one partition; ``patch_id`` carries the patch's position in the input."""
    out = match_in_crs(
        part.assign(patch_id=part["_pos"].astype(str)),
        ranges,
        crs=CRS.from_wkt(crs_wkt),
        near_m=near_m,
        id_column=id_column,
        tolerance=tolerance,
        workers=1,
    )
    out["patch_id"] = out["patch_id"].astype(np.int64)
    return out


def match_partitioned(
    patches: Any,
    ranges: gpd.GeoDataFrame,
    *,
    near_m: float = 1000.0,
    id_column: str = "range_id",
    central_meridian: int | None = None,
    tolerance: float = 0.005,
    npartitions: int | None = None,
) -> pd.DataFrame:
    """Match on dask-geopandas, per spatial partition (see :func:`geo.matching.core.match_patches`).

    Parameters
    ----------
    patches : GeoDataFrame or dask_geopandas.GeoDataFrame
        With ``patch_id``. A dask frame is gathered first (the result has a
        row per patch anyway); the matching itself runs on the workers.
    ranges : GeoDataFrame
        With ``id_column``; shipped whole to every worker.
    near_m, id_column, central_meridian, tolerance
        As for :func:`geo.matching.core.match_patches`.
    npartitions : int, optional
        Spatial partitions (default: about :data:`PARTITION_SIZE` patches each).

    Returns
    -------
    DataFrame
        Identical to the in-memory engine's result.
    """
    import dask
    import dask_geopandas

    if isinstance(patches, dask_geopandas.GeoDataFrame):
        patches = patches.compute()
    if patches.empty:
        return empty_result(id_column)
    if central_meridian is None:
        minx, _, maxx, _ = patches.geometry.to_crs(STORAGE_EPSG).total_bounds
        central_meridian = central_meridian_for((minx + maxx) / 2) if np.isfinite(minx) else 114
    crs = CRS.from_epsg(gauss_kruger_epsg(central_meridian))
    n = npartitions or max(1, math.ceil(len(patches) / PARTITION_SIZE))
    frame = gpd.GeoDataFrame(
        {"patch_id": patches["patch_id"].to_numpy(), "_pos": np.arange(len(patches))},
        geometry=patches.geometry.to_numpy(),
        crs=patches.crs,
    )
    dgdf = dask_geopandas.from_geopandas(frame, npartitions=n)
    if n > 1:
        dgdf = dgdf.spatial_shuffle(by="hilbert", npartitions=n)
    columns = [c if c != "range_id" else id_column for c in RESULT_COLUMNS]
    meta = pd.DataFrame(
        {
            c: pd.Series(dtype=t)
            for c, t in zip(
                columns,
                ["int64", "object", "object", "float64", "float64", "float64", "bool"],
                strict=True,
            )
        }
    )
    shipped = dask.delayed(ranges, pure=True)
    parts = dgdf.map_partitions(
        _kernel, shipped, crs.to_wkt(), near_m, id_column, tolerance, meta=meta
    )
    out = parts.compute()
    log.info("matched %d patches in %d spatial partitions", len(patches), n)
    out = out.iloc[np.argsort(out["patch_id"].to_numpy(), kind="stable")]
    pid = patches["patch_id"].astype(str).to_numpy()
    out["patch_id"] = pid[out["patch_id"].to_numpy()]
    return out.reset_index(drop=True)[columns]
