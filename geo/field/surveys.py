"""Shoreline surveys and patrols: who walked with which chief, and findings as ledger items.

The tracks and findings themselves are read by :mod:`geo.ingest.tracks` (GPX, KML/KMZ,
patrol-app tables, geotagged photos; re-exported here). This module checks
surveyors against the chiefs' list and turns findings near no patch into
patches of source ``survey``.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import crs as crs_mod
from geo.errors import SchemaError
from geo.labels import ISSUE_TYPES
from geo.matching.findings import WITHIN_M, link_findings
from geo.records import PATCH_COLUMNS

__all__ = ["FINDING_SQUARE_M", "SURVEY_PATCH_COLUMNS", "WITHIN_M", "survey_patches"]

#: Columns of :func:`survey_patches`: the canonical patch columns (``Ledger.add_patches``).
SURVEY_PATCH_COLUMNS = tuple(PATCH_COLUMNS)
#: Side, in metres, of the square drawn around a finding that becomes a patch.
FINDING_SQUARE_M = 20.0


def survey_patches(
    findings: gpd.GeoDataFrame,
    patches: gpd.GeoDataFrame,
    *,
    within_m: float = WITHIN_M,
    square_m: float = FINDING_SQUARE_M,
    segments: gpd.GeoDataFrame | None = None,
    central_meridian: int | None = None,
) -> gpd.GeoDataFrame:
    """Turn the findings that are near no patch into new patches of source ``survey``.

    A finding within ``within_m`` of a patch is a link
    (:func:`geo.matching.findings.link_findings`), not a new item. Each other finding
    becomes a square of ``square_m`` metres centred on it, with the id ``SV-<YYYYMMDD>-<n>``
    (the day it was observed, Asia/Shanghai; ``n`` counts all that day's findings, linked
    ones included, from 1 in time order, then by finding id, so ids stay put when the step
    is run again), in the batch ``SV-<YYYYMMDD>``.

    Parameters
    ----------
    findings : GeoDataFrame
        Survey findings (``Ledger.findings()``): ``finding_id, observed_at,
        surveyor, finding_type, description``; any CRS.
    patches : GeoDataFrame
        The ledger's patches (``Ledger.patches()``), with ``patch_id``.
    within_m : float
        Distance, in metres, within which a finding is linked instead.
    square_m : float
        Side of the new patch's square, in metres.
    segments : GeoDataFrame, optional
        Segments with ``admin_code``: a new patch takes the code of the segment it is in.
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the findings.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, columns :data:`SURVEY_PATCH_COLUMNS` and the geometry, one row per
        new patch; ``issue_type`` is the finding's when it is one of the four
        problems, else ``other``; ``attrs`` (JSON) holds ``source: survey``, the
        finding id, the surveyor and the finding's own type. Findings without an
        observation time are dated by nothing: they are refused.

    Raises
    ------
    SchemaError
        If a finding has no ``observed_at`` (the id needs its day) or a column is missing.
    """
    if "finding_id" not in findings.columns or "observed_at" not in findings.columns:
        raise SchemaError(
            "findings need 'finding_id' and 'observed_at' columns (Ledger.findings()); "
            f"found {list(findings.columns)}"
        )
    if not square_m > 0:
        raise SchemaError(f"square_m must be > 0 metres; got {square_m!r}")
    cols = [*SURVEY_PATCH_COLUMNS]
    findings = findings.reset_index(drop=True)
    linked = set(link_findings(findings, patches, within_m=within_m)["finding_id"])
    if patches.empty:
        linked = set()
    fresh = findings[~findings["finding_id"].astype(str).isin(linked)]
    if fresh.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=crs_mod.STORAGE_EPSG)
    undated = fresh[fresh["observed_at"].isna()]
    if len(undated):
        ids = ", ".join(undated["finding_id"].astype(str).tolist()[:10])
        raise SchemaError(
            f"finding(s) {ids} have no observation time: a survey patch id needs the day; "
            "give the waypoints a <time> in the GPX"
        )
    # n counts all of the day's findings (linked ones too), so the id of a finding stays the
    # same when an earlier one of that day has since become a patch
    dated = findings[findings["observed_at"].notna()]
    dated = dated.assign(_at=dated["observed_at"].astype(str)).sort_values(["_at", "finding_id"])
    number = dated.groupby(dated["_at"].str[:10]).cumcount() + 1
    fresh = fresh.assign(_at=fresh["observed_at"].astype(str)).sort_values(["_at", "finding_id"])
    day = fresh["_at"].str[:10]
    n = number.loc[fresh.index]
    stamp = day.str.replace("-", "", regex=False)
    crs = crs_mod.metric_crs(fresh, central_meridian=central_meridian)
    pts = fresh.geometry.to_crs(crs)
    half = square_m / 2
    squares = shapely.box(pts.x - half, pts.y - half, pts.x + half, pts.y + half)
    admin = pd.Series([None] * len(fresh), index=fresh.index, dtype=object)
    if segments is not None and len(segments):
        seg = segments.to_crs(crs)[["admin_code", "geometry"]]
        hit = gpd.sjoin(gpd.GeoDataFrame(geometry=pts, crs=crs), seg, predicate="within")
        hit = hit[~hit.index.duplicated()]
        admin.loc[hit.index] = hit["admin_code"]
    kinds = fresh.get("finding_type", pd.Series([None] * len(fresh), index=fresh.index))

    def _attrs(row: pd.Series) -> str:
        return json.dumps(
            {
                "source": "巡河",
                "finding_id": str(row["finding_id"]),
                "surveyor": row.get("surveyor"),
                "finding_type": row.get("finding_type"),
            },
            ensure_ascii=False,
        )

    out = gpd.GeoDataFrame(
        {
            "patch_id": ("SV-" + stamp + "-" + n.astype(str)).to_numpy(),
            "batch_id": ("SV-" + stamp).to_numpy(),
            "issue_type": [k if k in ISSUE_TYPES else "other" for k in kinds],
            "admin_code": admin.to_numpy(),
            "detected_on": day.to_numpy(),
            "issued_on": day.to_numpy(),
            "area_m2": np.full(len(fresh), square_m * square_m),
            "source_area": np.full(len(fresh), np.nan),
            "description": fresh.get("description", pd.Series([None] * len(fresh))).to_numpy(),
            "attrs": [_attrs(r) for _, r in fresh.iterrows()],
        },
        geometry=gpd.GeoSeries(squares, crs=crs).to_crs(crs_mod.STORAGE_EPSG).to_numpy(),
        crs=crs_mod.STORAGE_EPSG,
    )
    return out.reset_index(drop=True)
