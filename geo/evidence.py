"""Evidence (佐证材料): photos, permits and documents attached to patches.

Files are stored content-addressed (sha256) beside the ledger. A photo's EXIF
time and GPS position are read (exifread) and checked against its patch: taken
after the patch was issued, and within ``[evidence] max_distance_m`` of it.
The result is recorded with the evidence, for the office and the auditors to
see; it does not block the upload (a photo without GPS is still evidence).
Which evidence a verdict needs is the lifecycle's rule
(:meth:`geo.lifecycle.Lifecycle.missing_evidence`).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
from pathlib import Path
from typing import Any

import exifread
import geopandas as gpd
import shapely

from geo.crs import metric_crs
from geo.store import TZ, Ledger, as_time

_PHOTO_SUFFIXES = {".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".png", ".webp"}


def _degrees(tag: Any, ref: Any) -> float | None:
    if tag is None:
        return None
    d, m, s = (float(v.num) / float(v.den) if v.den else 0.0 for v in tag.values)
    value = d + m / 60 + s / 3600
    return -value if str(ref).strip() in {"S", "W"} else value


def read_exif(path: str | os.PathLike) -> dict[str, Any]:
    """Read a photo's time and GPS position.

    Returns
    -------
    dict
        ``media_type``, ``taken_at`` (ISO, Asia/Shanghai: EXIF times carry no
        zone and Chinese cameras are set to local time), ``lon``, ``lat``;
        missing values are ``None``.
    """
    p = Path(path)
    meta: dict[str, Any] = {"media_type": mimetypes.guess_type(p.name)[0]}
    meta.update(taken_at=None, lon=None, lat=None)
    if p.suffix.lower() not in _PHOTO_SUFFIXES:
        return meta
    with open(p, "rb") as fh:
        tags = exifread.process_file(fh, details=False)
    stamp = tags.get("EXIF DateTimeOriginal") or tags.get("Image DateTime")
    if stamp is not None:
        try:
            naive = dt.datetime.strptime(str(stamp).strip(), "%Y:%m:%d %H:%M:%S")
            meta["taken_at"] = naive.replace(tzinfo=TZ).isoformat()
        except ValueError:
            meta["taken_at"] = None
    lat = _degrees(tags.get("GPS GPSLatitude"), tags.get("GPS GPSLatitudeRef"))
    lon = _degrees(tags.get("GPS GPSLongitude"), tags.get("GPS GPSLongitudeRef"))
    if lat is not None and lon is not None and (lat, lon) != (0.0, 0.0):
        meta.update(lon=round(lon, 7), lat=round(lat, 7))
    return meta


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
