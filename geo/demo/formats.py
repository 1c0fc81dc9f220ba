"""The demo's field files in the formats phones and patrol apps write: GPX, KML, geotagged JPEG.

Used by :mod:`geo.demo.county` (the demo county's surveys and patrols) and by
tests that need a real photo with EXIF time and GPS.
"""

from __future__ import annotations

import datetime as dt
import os
import xml.etree.ElementTree as ET
from pathlib import Path

_GPX_NS = "http://www.topografix.com/GPX/1/1"


def write_gpx(path: Path, *, name: str, author: str, track: list, waypoints: list) -> None:
    """Write GPX 1.1: track points are ``(lon, lat, time)``, waypoints add name, desc, type."""

    def stamp(t: dt.datetime) -> str:
        return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def point(tag: str, parent: ET.Element, lon: float, lat: float, t: dt.datetime):
        el = ET.SubElement(parent, tag, lat=f"{lat:.7f}", lon=f"{lon:.7f}")
        ET.SubElement(el, "time").text = stamp(t)
        return el

    root = ET.Element("gpx", {"version": "1.1", "creator": "Hetu demo", "xmlns": _GPX_NS})
    meta = ET.SubElement(root, "metadata")
    ET.SubElement(meta, "name").text = name
    ET.SubElement(ET.SubElement(meta, "author"), "name").text = author
    ET.SubElement(meta, "time").text = stamp(track[0][2])
    for lon, lat, t, wid, desc, kind in waypoints:
        el = point("wpt", root, lon, lat, t)
        ET.SubElement(el, "name").text = wid
        ET.SubElement(el, "desc").text = desc
        ET.SubElement(el, "type").text = kind
    trk = ET.SubElement(root, "trk")
    ET.SubElement(trk, "name").text = name
    seg = ET.SubElement(trk, "trkseg")
    for lon, lat, t in track:
        point("trkpt", seg, lon, lat, t)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)


def write_kml(path: Path, walks: list) -> None:
    """Write KML 2.2 with one gx:Track placemark per walk, the chief in ExtendedData."""
    kml_ns, gx_ns = "http://www.opengis.net/kml/2.2", "http://www.google.com/kml/ext/2.2"
    ET.register_namespace("", kml_ns)
    ET.register_namespace("gx", gx_ns)
    root = ET.Element(f"{{{kml_ns}}}kml")
    doc = ET.SubElement(root, f"{{{kml_ns}}}Document")
    ET.SubElement(doc, f"{{{kml_ns}}}name").text = path.stem
    for tid, name, walk in walks:
        pm = ET.SubElement(doc, f"{{{kml_ns}}}Placemark")
        ET.SubElement(pm, f"{{{kml_ns}}}name").text = tid
        data = ET.SubElement(
            ET.SubElement(pm, f"{{{kml_ns}}}ExtendedData"), f"{{{kml_ns}}}Data", name="巡河人"
        )
        ET.SubElement(data, f"{{{kml_ns}}}value").text = name
        track = ET.SubElement(pm, f"{{{gx_ns}}}Track")
        for _, _, t in walk:
            ET.SubElement(track, f"{{{kml_ns}}}when").text = t.astimezone(dt.UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        for lon, lat, _ in walk:
            ET.SubElement(track, f"{{{gx_ns}}}coord").text = f"{lon:.7f} {lat:.7f} 0"
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="UTF-8", xml_declaration=True)


def write_photo(
    path: str | os.PathLike, *, lon: float, lat: float, taken: dt.datetime, tint: int = 0
) -> Path:
    """Write a small field photo (JPEG) with EXIF time and GPS, as a phone would.

    Parameters
    ----------
    path : path-like
        Where to write it.
    lon, lat : float
        The position written into the GPS EXIF (degrees, CGCS2000 ≈ WGS84).
    taken : datetime
        The local time written as ``DateTimeOriginal``.
    tint : int
        Varies the picture so that different photos have different bytes.

    Returns
    -------
    Path
    """
    from PIL import Image
    from PIL.ExifTags import GPS, IFD

    def dms(value: float) -> tuple[float, float, float]:
        d = int(value)
        m = int((value - d) * 60)
        return float(d), float(m), round((value - d - m / 60) * 3600, 4)

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (48, 36), (80 + tint % 120, 120 + tint % 90, 60 + tint % 150))
    exif = Image.Exif()
    exif.get_ifd(IFD.Exif)[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef], gps[GPS.GPSLatitude] = "N", dms(lat)
    gps[GPS.GPSLongitudeRef], gps[GPS.GPSLongitude] = "E", dms(lon)
    img.save(p, format="JPEG", exif=exif, quality=70)
    return p
