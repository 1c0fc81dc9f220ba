"""KML 2.2 and KMZ, read with the standard library: placemarks' lines, times and points.

A placemark's ``LineString`` and ``gx:Track`` are lines (a track's ``<when>`` times with
it), its ``Point`` a finding; ``Polygon`` and ``Model`` are skipped and said. Times come
from a ``gx:Track``, else the placemark's ``TimeSpan``/``TimeStamp``. Every position and
time goes through :class:`geo.ingest.checks.FixChecks`. :mod:`geo.ingest.tracks` turns what
is read here into tracks and findings (the surveyor from an ``ExtendedData`` field).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.errors import IngestError
from geo.ingest.checks import FixChecks
from geo.ingest.vectors import read_member

__all__ = ["Kml", "KmlPlacemark", "read_kml"]

_KML = "{http://www.opengis.net/kml/2.2}"
_GX = "{http://www.google.com/kml/ext/2.2}"
_ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class KmlPlacemark:
    """A placemark, checked: its lines and their times, its points, the kinds skipped."""

    number: int  # from 1, in the document's order
    label: str  # placemark N (name), for messages
    name: str | None
    description: str | None
    fields: dict[str, Any]  # ExtendedData: Data, SimpleData, and a gx:Track's per-fix arrays
    lines: list[list[tuple[float, float]]]
    times: list[str]
    points: list[tuple[float, float]]
    skipped: list[str]


@dataclass
class Kml:
    """What a KML document holds: its atom author and its placemarks."""

    author: str | None
    placemarks: list[KmlPlacemark]


def _kml_root(p: Path) -> ET.Element:
    data = p.read_bytes()
    if p.suffix.lower() == ".kmz" or data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = [n for n in z.namelist() if n.lower().endswith(".kml")]
                if not names:
                    raise IngestError(f"{p}: a KMZ without a .kml inside; export KML or KMZ again")
                main = "doc.kml" if "doc.kml" in names else sorted(names)[0]
                data = read_member(p, z, main)
        except zipfile.BadZipFile as exc:
            raise IngestError(f"{p}: not a readable KMZ (zip) file ({exc})") from exc
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise IngestError(f"{p}: not a readable KML file ({exc}); export it again") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(el: ET.Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _kml_fields(pm: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for data in pm.iter(f"{_KML}Data"):
        value = _text(data.find(f"{_KML}value"))
        if data.get("name") and value is not None:
            out[data.get("name", "")] = value
    for data in pm.iter(f"{_GX}SimpleArrayData"):  # per-fix values of a gx:Track
        out[data.get("name", "")] = [_text(v) for v in data.findall(f"{_GX}value")]
    for data in pm.iter(f"{_KML}SimpleData"):
        if data.get("name") and _text(data) is not None:
            out[data.get("name", "")] = _text(data) or ""
    return out


def _coords(text: str | None) -> list[tuple[float, float]]:
    pts = []
    for tup in (text or "").split():
        parts = tup.split(",")
        pts.append((float(parts[0]), float(parts[1])))
    return pts


def _placemark_parts(
    pm: ET.Element, where: str, checks: FixChecks
) -> tuple[list[list[tuple[float, float]]], list[str], list[tuple[float, float]], list[str]]:
    """Return a placemark's lines, their times, its points and the geometry kinds skipped."""
    lines, times, points, skipped = [], [], [], []
    for el in pm.iter():
        kind = _local(el.tag)
        if kind == "LineString":
            lines.append(_coords(_text(el.find(f"{_KML}coordinates"))))
        elif kind == "Track":
            whens = [_text(w) for w in el.findall(f"{_KML}when")]
            coords = [(_text(c) or "").split() for c in el.findall(f"{_GX}coord")]
            if whens and len(whens) != len(coords):
                raise IngestError(
                    f"{where}: gx:Track has {len(whens)} <when> but {len(coords)} <gx:coord>; "
                    "export the track again"
                )
            lines.append([(float(c[0]), float(c[1])) for c in coords])
            for w in whens:
                try:
                    stamp = checks.time(w, where=where, strict=True)
                except ValueError as exc:
                    raise IngestError(f"{where}: <when> {exc}") from exc
                if stamp:
                    times.append(stamp)
        elif kind == "Point":
            points += _coords(_text(el.find(f"{_KML}coordinates")))[:1]
        elif kind in ("Polygon", "Model"):
            skipped.append(kind)
    return lines, times, points, skipped


def read_kml(p: Path, *, checks: FixChecks, formats: str = "") -> Kml:
    """Read a KML or KMZ file's placemarks, checking every position and time.

    Parameters
    ----------
    p : pathlib.Path
        The ``.kml`` or ``.kmz`` file (a KMZ's ``doc.kml``, else its first ``.kml``).
    checks : FixChecks
        The checks of the file's fixes; times dropped are recorded there.
    formats : str
        The formats the caller reads, named when the file is no KML.

    Returns
    -------
    Kml
        The author and every placemark, in order.

    Raises
    ------
    IngestError
        When the file is no readable KML/KMZ, a coordinate is not ``lon,lat[,alt]``, a
        ``gx:Track`` has not one ``<when>`` per ``<gx:coord>``, or a time is no time.
    """
    root = _kml_root(p)
    author = _text(root.find(f".//{_ATOM}author/{_ATOM}name"))
    found = list(root.iter(f"{_KML}Placemark"))
    if not found and not root.tag.startswith(_KML):
        raise IngestError(f"{p}: not a KML 2.2 document (root <{_local(root.tag)}>); {formats}")
    placemarks = []
    for k, pm in enumerate(found, start=1):
        name = _text(pm.find(f"{_KML}name"))
        label = f"placemark {k}" + (f" ({name})" if name else "")
        where = f"{p.name}: {label}"
        try:
            lines, times, points, skipped = _placemark_parts(pm, label, checks)
        except (ValueError, IndexError) as exc:
            raise IngestError(f"{where}: coordinates are not lon,lat[,alt] ({exc})") from exc
        for q, (lon, lat) in enumerate([*(pt for ln in lines for pt in ln), *points], start=1):
            checks.position(lon, lat, where=f"{label}, coordinate {q}")
        span = pm.find(f"{_KML}TimeSpan")
        stamp = pm.find(f"{_KML}TimeStamp")
        texts = [_text(span.find(f"{_KML}{t}")) for t in ("begin", "end")] if (
            span is not None) else [_text(stamp.find(f"{_KML}when"))] if (
            stamp is not None) else []  # fmt: skip
        try:
            given = [checks.time(t, where=label, strict=True) for t in texts]
        except ValueError as exc:
            raise IngestError(f"{where}: TimeSpan/TimeStamp {exc}") from exc
        placemarks.append(
            KmlPlacemark(
                number=k, label=label, name=name, description=_text(pm.find(f"{_KML}description")),
                fields=_kml_fields(pm), lines=lines, times=times or [t for t in given if t],
                points=points, skipped=skipped,
            )
        )  # fmt: skip
    return Kml(author=author, placemarks=placemarks)
