"""The boundary-gap report: patches outside every management range, grouped by where they fall.

A patch the province placed outside every range is either a real problem off
the range or a sign that the range layer is missing or offset there. Grouping
such patches by township and by the nearest water, with counts and distances,
tells the office what to ask the province about (:func:`boundary_gaps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import metric_crs
from geo.errors import SchemaError
from geo.matching.core import metric_geoms
from geo.matching.nearest import nearest_ranges

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

#: Columns of :func:`gap_patches`.
GAP_PATCH_COLUMNS = ["patch_id", "township_code", "relation", "nearest_segment"]
GAP_PATCH_COLUMNS += ["water_name", "distance_m"]
#: Columns of :func:`boundary_gaps`.
GAP_COLUMNS = ["township_code", "water_name", "n_patches", "n_near", "n_outside"]
GAP_COLUMNS += ["min_distance_m", "median_distance_m", "max_distance_m", "patch_ids"]


def gap_patches(
    patches: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    matches: pd.DataFrame,
    *,
    id_column: str = "segment_id",
    relations: Sequence[str] = ("near", "outside"),
    central_meridian: int | None = None,
) -> pd.DataFrame:
    """The patches outside every range, each with its nearest segment at any distance.

    Parameters
    ----------
    patches : GeoDataFrame
        ``patch_id`` (and ``admin_code``, whose first 9 digits name the township).
    segments : GeoDataFrame
        ``id_column`` (and ``water_name``).
    matches : DataFrame
        The matching result of these patches (``patch_id, relation``).
    id_column : str
        The segments' id column.
    relations : sequence of str
        The relations reported (add ``"partly_outside"`` to see offsets at the edges).
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the data.

    Returns
    -------
    DataFrame
        :data:`GAP_PATCH_COLUMNS`, sorted by township, water, distance.
    """
    for frame, col, name in ((patches, "patch_id", "patches"), (segments, id_column, "segments")):
        if col not in frame.columns:
            raise SchemaError(f"{name} need a {col!r} column; found {list(frame.columns)}")
    rel = matches.drop_duplicates("patch_id").set_index("patch_id")["relation"]
    pid = patches["patch_id"].astype(str)
    sel = patches[pid.map(rel).isin(list(relations)).to_numpy()]
    if sel.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GAP_PATCH_COLUMNS})
    crs = metric_crs(sel, central_meridian=central_meridian)
    pg = metric_geoms(sel, crs)
    sid = segments[id_column].astype(str).to_numpy()
    rank = np.unique(sid, return_inverse=True)[1]
    rg = metric_geoms(segments, crs) if len(segments) else np.array([], dtype=object)
    best, dist = nearest_ranges(pg, rg, rank)
    found = best >= 0
    water = segments["water_name"].to_numpy() if "water_name" in segments else sid
    if "admin_code" in sel.columns:
        code = sel["admin_code"].astype(object).fillna("").astype(str).to_numpy()
    else:
        code = np.full(len(sel), "", dtype=object)
    township = np.array([c[:9] if len(c) >= 9 else "" for c in code], dtype=object)
    out = pd.DataFrame(
        {
            "patch_id": sel["patch_id"].astype(str).to_numpy(),
            "township_code": township,
            "relation": sel["patch_id"].astype(str).map(rel).to_numpy(),
            "nearest_segment": np.where(found, sid[np.maximum(best, 0)], None),
            "water_name": np.where(found, water[np.maximum(best, 0)], None),
            "distance_m": dist,
        }
    )
    out = out.sort_values(["township_code", "water_name", "distance_m", "patch_id"])
    return out.reset_index(drop=True)


def boundary_gaps(
    patches: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    matches: pd.DataFrame,
    *,
    id_column: str = "segment_id",
    relations: Sequence[str] = ("near", "outside"),
    central_meridian: int | None = None,
) -> pd.DataFrame:
    """The boundary-gap report: patches outside every range, by township and nearest water.

    Parameters
    ----------
    patches, segments, matches, id_column, relations, central_meridian
        As for :func:`gap_patches`.

    Returns
    -------
    DataFrame
        :data:`GAP_COLUMNS`: one row per (township code, nearest water) with
        the number of patches, how many are ``near`` and ``outside``, the
        least, median and largest distance in metres and the patch ids
        (comma-separated); most patches first.
    """
    per = gap_patches(
        patches,
        segments,
        matches,
        id_column=id_column,
        relations=relations,
        central_meridian=central_meridian,
    )
    if per.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GAP_COLUMNS})
    per = per.assign(water_name=per["water_name"].fillna(""))
    grouped = per.groupby(["township_code", "water_name"], sort=True)
    out = grouped.agg(
        n_patches=("patch_id", "size"),
        n_near=("relation", lambda s: int((s == "near").sum())),
        n_outside=("relation", lambda s: int((s == "outside").sum())),
        min_distance_m=("distance_m", "min"),
        median_distance_m=("distance_m", "median"),
        max_distance_m=("distance_m", "max"),
        patch_ids=("patch_id", ",".join),
    ).reset_index()
    out = out.sort_values(
        ["n_patches", "township_code", "water_name"], ascending=[False, True, True]
    )
    return out[GAP_COLUMNS].reset_index(drop=True)


def gaps_ledger(ledger: Ledger, *, relations: Sequence[str] = ("near", "outside")) -> pd.DataFrame:
    """The boundary-gap report of the ledger's last matching.

    Parameters
    ----------
    ledger : Ledger
        The open ledger (run ``match_ledger`` first).
    relations : sequence of str
        As for :func:`boundary_gaps`.

    Returns
    -------
    DataFrame
        As :func:`boundary_gaps`.
    """
    return boundary_gaps(
        ledger.patches(),
        ledger.segments(),
        ledger.assignments(),
        central_meridian=ledger.settings.central_meridian,
        relations=relations,
    )
