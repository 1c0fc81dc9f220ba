"""Shoreline surveys and patrols: tracks and findings from the field.

GPX tracks become lines and their waypoints become findings, with the
surveyor and the times (converted to Asia/Shanghai). Coverage, patrol counts
and linking findings to patches build on these frames.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import geopandas as gpd
import gpxpy
import gpxpy.gpx
import numpy as np
import pandas as pd
import shapely

from geo import crs as crs_mod
from geo._errors import IngestError, SchemaError
from geo._schema import PATCH_COLUMNS
from geo.findings import WITHIN_M, link_findings
from geo.labels import ISSUE_TYPES
from geo.layers import issue_type_of, with_meta
from geo.store import ImportRecord, as_time, file_sha256

TRACK_COLUMNS = ("name", "surveyor", "started_at", "ended_at", "n_points", "attrs")
FINDING_COLUMNS = ("finding_id", "observed_at", "surveyor", "finding_type", "description", "attrs")
#: Columns of :func:`survey_patches`: the canonical patch columns (``Ledger.add_patches``).
SURVEY_PATCH_COLUMNS = tuple(PATCH_COLUMNS)
#: Side, in metres, of the square drawn around a finding that becomes a patch.
FINDING_SQUARE_M = 20.0


def surveys_from_file(
    path: str | os.PathLike, *, surveyor: str | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read a GPX survey: tracks (lines) and waypoint findings (points).

    Parameters
    ----------
    path : path-like
        A GPX file (WGS84 by the format's definition, taken as CGCS2000).
    surveyor : str, optional
        Who surveyed; default the GPX metadata author.

    Returns
    -------
    tracks, findings : GeoDataFrame
        EPSG:4490. Tracks: ``name, surveyor, started_at, ended_at, n_points,
        attrs``; findings: ``finding_id, observed_at, surveyor, finding_type,
        description, attrs``. Times in Asia/Shanghai.
    """
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    rec = ImportRecord(kind="surveys", file=str(p), sha256=file_sha256(p))
    text = p.read_text(encoding="utf-8-sig", errors="replace")
    if not re.search(r"<(\w+:)?gpx[\s>]", text[:4096]):
        raise IngestError(f"{p}: not a GPX file (no <gpx> element at the start); export GPX 1.1")
    try:
        gpx = gpxpy.parse(text)
    except gpxpy.gpx.GPXException as exc:
        raise IngestError(f"{p}: not a readable GPX file ({exc})") from exc
    rec.encoding, rec.crs = "utf-8 (GPX)", "file: GPX is WGS84, taken as CGCS2000 (EPSG:4490)"
    who = surveyor or gpx.author_name or ""
    rows, geoms = [], []
    for track in gpx.tracks:
        lines, times = [], []
        for seg in track.segments:
            pts = [(q.longitude, q.latitude) for q in seg.points]
            times += [q.time for q in seg.points if q.time]
            if len(pts) >= 2:
                lines.append(shapely.LineString(pts))
            elif pts:
                rec.decisions.append(f"track {track.name}: a one-point segment skipped")
        if not lines:
            rec.decisions.append(f"track {track.name}: no segment with two points, skipped")
            continue
        rows.append(
            {
                "name": track.name,
                "surveyor": who,
                "started_at": _shanghai(min(times)) if times else None,
                "ended_at": _shanghai(max(times)) if times else None,
                "n_points": sum(len(s.points) for s in track.segments),
                "attrs": json.dumps({"type": track.type}, ensure_ascii=False),
            }
        )
        geoms.append(shapely.MultiLineString(lines))
    tracks = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs_mod.STORAGE_EPSG)
    if tracks.empty:
        tracks = gpd.GeoDataFrame(
            columns=[*TRACK_COLUMNS],
            geometry=[],
            crs=crs_mod.STORAGE_EPSG,
        )
    frows, fgeoms = [], []
    for w in gpx.waypoints:
        kind = issue_type_of(w.type) if w.type else None
        frows.append(
            {
                "finding_id": w.name,
                "observed_at": _shanghai(w.time) if w.time else None,
                "surveyor": who,
                "finding_type": kind or (w.type or None),
                "description": w.description or w.comment,
                "attrs": json.dumps({"symbol": w.symbol}, ensure_ascii=False),
            }
        )
        fgeoms.append(shapely.Point(w.longitude, w.latitude))
    findings = gpd.GeoDataFrame(frows, geometry=fgeoms, crs=crs_mod.STORAGE_EPSG)
    if findings.empty:
        findings = gpd.GeoDataFrame(
            columns=[*FINDING_COLUMNS],
            geometry=[],
            crs=crs_mod.STORAGE_EPSG,
        )
    rec.n_read = rec.n_kept = len(tracks) + len(findings)
    with_meta(tracks, rec)
    return tracks, findings


def _shanghai(t: dt.datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return as_time(t)


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

    A finding within ``within_m`` of a patch is a link (:func:`geo.findings.link_findings`),
    not a new item. Each other finding becomes a square of ``square_m`` metres
    centred on it, with the id ``SV-<YYYYMMDD>-<n>`` (the day it was observed,
    Asia/Shanghai; ``n`` counts that day's findings from 1 in time order, then by
    finding id), in the batch ``SV-<YYYYMMDD>``.

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
    fresh = fresh.assign(_at=fresh["observed_at"].astype(str)).sort_values(["_at", "finding_id"])
    day = fresh["_at"].str[:10]
    n = fresh.groupby(day).cumcount() + 1
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
                "source": "survey",
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
