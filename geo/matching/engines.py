"""The entry point of matching: :func:`match_patches` on the engine asked for.

The in-memory engine is :func:`geo.matching.core.match_in_crs`; the Dask engine
(:func:`geo.matching.partitions.match_partitioned`) runs the same kernel per
spatial partition, so both give identical results.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.crs import metric_crs
from geo.matching.core import ENGINES, check_columns, empty_result, match_in_crs


def match_patches(
    patches: gpd.GeoDataFrame,
    ranges: gpd.GeoDataFrame,
    *,
    near_m: float = 1000.0,
    id_column: str = "range_id",
    central_meridian: int | None = None,
    tolerance: float = 0.005,
    engine: str = "local",
    workers: int | None = None,
    npartitions: int | None = None,
) -> pd.DataFrame:
    """Match patches to management ranges.

    Parameters
    ----------
    patches : GeoDataFrame
        With a ``patch_id`` column; any CRS. With ``engine="dask"`` a
        dask-geopandas GeoDataFrame is accepted too.
    ranges : GeoDataFrame
        With an ``id_column`` column; any CRS. Several rows may share an id.
    near_m : float
        Distance within which a patch outside every range is ``near``.
    id_column : str
        The ranges' id column (``"segment_id"`` matches segments); the output
        column has the same name.
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the data.
    tolerance : float
        Share of a patch's area that may fall outside and still count as covered.
    engine : {"local", "dask"}
        ``"local"``: in memory, GEOS work spread over ``workers`` threads.
        ``"dask"``: per spatial partition on the current dask scheduler (a
        ``dask.distributed.Client`` if one is active); identical results.
    workers : int, optional
        Threads of the local engine (default: the CPUs available; 1 runs
        everything in the calling thread). Ignored by the dask engine.
    npartitions : int, optional
        Spatial partitions of the dask engine (default: about 50,000 patches each).

    Returns
    -------
    DataFrame
        One row per overlapping (patch, range) pair plus one row per patch that
        overlaps nothing, with ``patch_id, <id_column>, relation, overlap_m2,
        share, distance_m, primary``; sorted by patch (input order), primary
        first, then by share.

    Raises
    ------
    SchemaError
        If a frame lacks its id column or a CRS.
    ValueError
        If ``engine`` is unknown.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}; got {engine!r}")
    check_columns(patches, ranges, id_column)
    if engine == "dask":
        from geo.matching.partitions import match_partitioned  # needs dask-geopandas

        return match_partitioned(
            patches,
            ranges,
            near_m=near_m,
            id_column=id_column,
            central_meridian=central_meridian,
            tolerance=tolerance,
            npartitions=npartitions,
        )
    if patches.empty:
        return empty_result(id_column)
    crs = metric_crs(patches, central_meridian=central_meridian)
    return match_in_crs(
        patches,
        ranges,
        crs=crs,
        near_m=near_m,
        id_column=id_column,
        tolerance=tolerance,
        workers=workers,
    )
