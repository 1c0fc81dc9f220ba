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
import shapely

from geo import crs as crs_mod
from geo._errors import IngestError
from geo.layers import issue_type_of, with_meta
from geo.store import ImportRecord, as_time, file_sha256

TRACK_COLUMNS = ("name", "surveyor", "started_at", "ended_at", "n_points", "attrs")
FINDING_COLUMNS = ("finding_id", "observed_at", "surveyor", "finding_type", "description", "attrs")


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
