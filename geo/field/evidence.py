"""Evidence (佐证材料): photos, permits and documents attached to patches.

Files are stored content-addressed (sha256) beside the ledger. A photo's EXIF
time and GPS position are read (exifread) and checked against its patch: taken
after the patch was issued, and within ``[evidence] max_distance_m`` of it.
The result is recorded with the evidence, for the office and the auditors to
see; it does not block the upload (a photo without GPS is still evidence).
Which evidence a verdict needs is the lifecycle's rule
(:meth:`geo.policy.lifecycle.Lifecycle.missing_evidence`).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import geopandas as gpd
import shapely

from geo.clock import as_time
from geo.crs import metric_crs
from geo.ingest.photos import read_exif
from geo.ledger.store import Ledger


def photo_checks(
    meta: dict[str, Any],
    *,
    patch: shapely.Geometry,
    issued_on: str | None,
    max_distance_m: float = 200.0,
) -> dict[str, Any]:
    """Check a photo's EXIF against its patch.

    Parameters
    ----------
    meta : dict
        From :func:`read_exif`.
    patch : shapely geometry
        The patch, in EPSG:4490.
    issued_on : str or None
        The patch's issue date; a photo of a rectification must be later.
    max_distance_m : float
        How far the photo's position may lie from the patch.

    Returns
    -------
    dict
        ``time``: ``ok`` | ``before_issue`` | ``missing``; ``gps``: ``ok`` |
        ``far`` | ``missing``; ``distance_m`` when GPS is present.
    """
    out: dict[str, Any] = {"time": "missing", "gps": "missing"}
    if meta.get("taken_at"):
        taken = dt.date.fromisoformat(meta["taken_at"][:10])
        out["time"] = (
            "before_issue" if issued_on and taken < dt.date.fromisoformat(issued_on) else "ok"
        )
    if meta.get("lon") is not None:
        frame = gpd.GeoSeries([patch, shapely.Point(meta["lon"], meta["lat"])], crs=4490)
        metric = frame.to_crs(metric_crs(gpd.GeoDataFrame(geometry=frame)))
        distance = float(metric.iloc[0].distance(metric.iloc[1]))
        out["distance_m"] = round(distance, 1)
        out["gps"] = "ok" if distance <= max_distance_m else "far"
    return out


def attach_evidence(
    ledger: Ledger,
    patch_id: str,
    path: str | os.PathLike,
    *,
    kind: str,
    actor: str,
    at: dt.datetime | str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Attach a file to a patch as evidence, checking a photo's EXIF against the patch.

    Returns
    -------
    attachment_id : str
        The file's sha256.
    meta : dict
        What was read and checked (``checks`` holds :func:`photo_checks`).
    """
    meta = evidence_meta(ledger, patch_id, path)
    sha = ledger.attach(patch_id, path, kind=kind, actor=actor, at=at, meta=meta)
    return sha, meta


def evidence_meta(ledger: Ledger, patch_id: str, path: str | os.PathLike) -> dict[str, Any]:
    """Read a file's EXIF and check it against ``patch_id`` in ``ledger`` (no write)."""
    meta = read_exif(path)
    if meta["media_type"] and meta["media_type"].startswith("image/"):
        row = ledger.patch_row(patch_id)
        if row is not None:
            meta["checks"] = photo_checks(
                meta,
                patch=row["geometry"],
                issued_on=row["issued_on"],
                max_distance_m=ledger.settings.evidence_max_distance_m,
            )
    meta["read_at"] = as_time(None)
    return meta
