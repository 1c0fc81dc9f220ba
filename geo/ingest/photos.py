"""Photos as data: the time and GPS position a camera or phone wrote into EXIF.

Used for patrol tracks made of geotagged photos (:mod:`geo.ingest.tracks`) and
for the checks on evidence photos (:mod:`geo.field.evidence`).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
from pathlib import Path
from typing import Any

import exifread

from geo.clock import TZ

#: Suffixes of the files read for EXIF.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".png", ".webp")


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
    if p.suffix.lower() not in PHOTO_SUFFIXES:
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
