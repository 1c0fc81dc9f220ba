"""Evidence (佐证材料): photos, permits and documents attached to patches.

Files are stored content-addressed (sha256) beside the ledger. A photo's EXIF
time and GPS position are read (exifread) and checked against its patch: taken
after the patch was issued, and within ``[evidence] max_distance_m`` of it.
The result is recorded with the evidence, for the office and the auditors to
see; it does not block the upload (a photo without GPS is still evidence).
Which evidence a verdict needs is the lifecycle's rule
(:meth:`geo.policy.lifecycle.Lifecycle.missing_evidence`).

Two rules are checked here:

- a photo kind (:data:`PHOTO_KINDS`) must be an image, by its content
  (:func:`is_image`); permits and documents may be PDFs or anything else;
- closing a patch (:func:`transition_checked`, and ``hetu apply`` for its rows)
  whose after-photos were taken beyond ``[evidence] max_distance_m`` of it is
  warned about (``[evidence] far_photo = "warn"``, the default: offices close
  patches whose phones recorded a poor fix) or refused (``"refuse"``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely

from geo.clock import as_time
from geo.crs import metric_crs
from geo.errors import EvidenceError
from geo.ingest.photos import read_exif
from geo.ledger.store import Ledger

__all__ = [
    "PHOTO_KINDS",
    "FarPhoto",
    "attach_evidence",
    "check_kind",
    "evidence_meta",
    "far_after_photos",
    "is_image",
    "photo_checks",
    "transition_checked",
    "warn_far",
]

log = logging.getLogger(__name__)

#: Evidence kinds that must be photos (images); ``permit`` and ``document`` may be PDFs.
PHOTO_KINDS = ("photo_before", "photo_after", "photo_watermarked")
#: The state a closure moves to; its after-photos are checked for distance.
CLOSED = "closed"
#: First bytes of the image formats cameras and phones write (JPEG, PNG, TIFF, GIF).
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF87a", b"GIF89a")
#: ISO base media brands of HEIC/HEIF/AVIF photos (iPhones and recent Android phones).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}


def is_image(path: str | os.PathLike) -> bool:
    """Whether the file's content is a photo: JPEG, PNG, TIFF, GIF, WebP or HEIC/HEIF.

    Decided by the first bytes, not the name: a PDF renamed ``.jpg`` is not an image.
    """
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head.startswith(_IMAGE_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def check_kind(path: str | os.PathLike, kind: str) -> None:
    """Refuse a file that is not an image as a photo kind (:data:`PHOTO_KINDS`).

    Raises
    ------
    EvidenceError
        Naming the file, the kind and what to do.
    """
    if kind in PHOTO_KINDS and not is_image(path):
        raise EvidenceError(
            f"{path}: evidence of kind {kind} must be a photo (JPEG, PNG, HEIC, TIFF or WebP) "
            "and this file is not an image; attach a PDF or other document as --kind permit "
            "or --kind document"
        )


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

    Raises
    ------
    EvidenceError
        If ``kind`` is a photo kind and the file is not an image (:func:`check_kind`).
    """
    check_kind(path, kind)
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


@dataclass(frozen=True)
class FarPhoto:
    """An after-photo taken farther from its patch than ``[evidence] max_distance_m``."""

    patch_id: str
    name: str
    distance_m: float


def far_after_photos(
    ledger: Ledger,
    patch_ids: Iterable[str],
    *,
    added: Iterable[tuple[str, str, dict[str, Any]]] = (),
) -> list[FarPhoto]:
    """Return the after-photos of ``patch_ids`` whose GPS lies beyond ``max_distance_m``.

    The distance recorded when each photo was attached is compared with the
    office's ``[evidence] max_distance_m`` now; photos without GPS are not far.

    Parameters
    ----------
    ledger : Ledger
        The open ledger (its evidence and settings).
    patch_ids : iterable of str
        The patches about to be closed.
    added : iterable of (patch_id, name, meta)
        After-photos not stored yet (a field sheet's row), with :func:`evidence_meta`.

    Returns
    -------
    list of FarPhoto
        In the order of the ledger's evidence, then ``added``.
    """
    ids = set(patch_ids)
    limit = ledger.settings.evidence_max_distance_m
    stored = ledger.evidence()
    stored = stored[stored["patch_id"].isin(ids) & stored["kind"].eq("photo_after")]
    photos = [
        (pid, name, json.loads(checks) if isinstance(checks, str) else None)
        for pid, name, checks in zip(
            stored["patch_id"], stored["filename"], stored["checks"], strict=True
        )
    ]
    photos += [(pid, name, meta.get("checks")) for pid, name, meta in added]
    far = []
    for pid, name, checks in photos:
        distance = (checks or {}).get("distance_m")
        if distance is not None and float(distance) > limit:
            far.append(FarPhoto(str(pid), str(name), float(distance)))
    return far


def transition_checked(
    ledger: Ledger, patch_ids: str | Sequence[str], to_state: str, **options: Any
) -> int:
    """Move patches like :meth:`Ledger.transition`, checking a closure's after-photos first.

    A closure (to ``closed``) of a patch with after-photos taken beyond
    ``[evidence] max_distance_m`` is logged as a warning and made
    (``[evidence] far_photo = "warn"``, the default) or refused (``"refuse"``).

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    patch_ids : str or sequence of str
        The patches to move, all or nothing.
    to_state : str
        The target state id.
    **options
        ``actor``, ``at``, ``deadline``, ``note``, as for :meth:`Ledger.transition`.

    Returns
    -------
    int
        The patches moved.

    Raises
    ------
    EvidenceError
        A closure refused for a far after-photo (nothing moved), or evidence missing.
    InvalidTransitionError
        A move the lifecycle does not allow (nothing moved).
    """
    ids = [patch_ids] if isinstance(patch_ids, str) else list(patch_ids)
    far = far_after_photos(ledger, ids) if to_state == CLOSED else []
    limit = ledger.settings.evidence_max_distance_m
    if far and ledger.settings.evidence_far_photo == "refuse":
        first = far[0]
        more = f" (and {len(far) - 1} more)" if len(far) > 1 else ""
        raise EvidenceError(
            f"patch {first.patch_id}: after-photo {first.name} was taken "
            f"{first.distance_m:.0f} m from the patch, beyond [evidence] max_distance_m = "
            f'{limit:g}{more}; nothing was closed ([evidence] far_photo = "refuse"): '
            "attach an after-photo taken on site"
        )
    moved = ledger.transition(ids, to_state, **options)
    warn_far(far, limit=limit)
    return moved


def warn_far(photos: Iterable[FarPhoto], *, limit: float) -> None:
    """Log a warning for each far after-photo of a closure made (``far_photo = "warn"``)."""
    for photo in photos:
        log.warning(
            "patch %s: after-photo %s was taken %.0f m from the patch, beyond [evidence] "
            'max_distance_m = %g; closed anyway (set [evidence] far_photo = "refuse" to '
            "refuse such closures)",
            photo.patch_id, photo.name, photo.distance_m, limit,
        )  # fmt: skip
