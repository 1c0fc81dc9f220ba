"""GPX 1.0 and 1.1, read with the standard library: tracks, routes and waypoints.

Every position and time goes through :class:`geo.ingest.checks.FixChecks`: a NaN,
infinite or impossible latitude or longitude refuses the file naming the track, point
and field; a time that is no time, or not from 2000-01-01 to tomorrow, is dropped and
recorded. (gpxpy, read before, turned unparsable ``<time>`` values into nothing without
a word, read ``<rte>`` routes only when asked, and checked no coordinate.) Routes are
read as tracks (a planned or app-recorded line is a line walked or to walk); waypoints
are findings.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field

from geo.errors import IngestError
from geo.ingest.checks import FixChecks

__all__ = ["Gpx", "GpxLine", "GpxPoint", "read_gpx"]


@dataclass
class GpxLine:
    """A track (its segments) or a route (one segment) with its checked fixes."""

    kind: str  # "track" or "route"
    name: str | None
    type: str | None
    segments: list[list[tuple[float, float]]] = field(default_factory=list)
    times: list[str] = field(default_factory=list)


@dataclass
class GpxPoint:
    """A waypoint, checked."""

    name: str | None
    type: str | None
    description: str | None
    symbol: str | None
    lon: float
    lat: float
    time: str | None


@dataclass
class Gpx:
    """What a GPX file holds: its author, lines (tracks, then routes) and waypoints."""

    author: str | None
    lines: list[GpxLine]
    points: list[GpxPoint]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> Iterator[ET.Element]:
    return (c for c in el if _local(c.tag) == name)


def _text(el: ET.Element, name: str) -> str | None:
    for child in _children(el, name):
        text = "".join(child.itertext()).strip()
        return text or None
    return None


def _author(root: ET.Element) -> str | None:
    for meta in _children(root, "metadata"):  # GPX 1.1: metadata/author/name
        for author in _children(meta, "author"):
            return _text(author, "name")
    return _text(root, "author")  # GPX 1.0: the author's name as text


def read_gpx(data: bytes, *, source: str, checks: FixChecks, formats: str = "") -> Gpx:
    """Read a GPX document's tracks, routes and waypoints, checking every fix.

    Parameters
    ----------
    data : bytes
        The file's content (its XML declaration names the encoding).
    source : str
        The file name, for messages.
    checks : FixChecks
        Checks positions (raising) and times (recording what it drops).
    formats : str
        What else the caller reads, named when the file is no GPX.

    Returns
    -------
    Gpx
        Times in Asia/Shanghai (a GPX time without a zone is UTC, by the format).

    Raises
    ------
    IngestError
        For a file that is no GPX, or a point without a usable position (naming the
        track or route, the point and the field).
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise IngestError(
            f"{source}: not a readable GPX file ({exc}); export GPX 1.1 again"
            + (f", or give one of: {formats}" if formats else "")
        ) from exc
    if _local(root.tag) != "gpx":
        raise IngestError(
            f"{source}: not a GPX file (its root is <{_local(root.tag)}>, not <gpx>); "
            "export GPX 1.1 from the GPS or patrol app"
            + (f", or give one of: {formats}" if formats else "")
        )
    lines = []
    for kind, tag, seg_tag, pt_tag in (("track", "trk", "trkseg", "trkpt"),
                                       ("route", "rte", None, "rtept")):  # fmt: skip
        for k, el in enumerate(_children(root, tag), start=1):
            line = GpxLine(kind, _text(el, "name"), _text(el, "type"))
            label = f"{kind} {line.name or k}"
            parts = list(_children(el, seg_tag)) if seg_tag else [el]
            n = 0
            for part in parts:
                segment = []
                for pt in _children(part, pt_tag):
                    n += 1
                    where = f"{label}, point {n}"
                    segment.append(checks.position(pt.get("lon"), pt.get("lat"), where=where))
                    stamp = checks.time(_text(pt, "time"), where=where, utc=True)
                    if stamp:
                        line.times.append(stamp)
                line.segments.append(segment)
            lines.append(line)
    points = []
    for k, wpt in enumerate(_children(root, "wpt"), start=1):
        name = _text(wpt, "name")
        where = f"waypoint {name or k}"
        lon, lat = checks.position(wpt.get("lon"), wpt.get("lat"), where=where)
        points.append(
            GpxPoint(
                name=name,
                type=_text(wpt, "type"),
                description=_text(wpt, "desc") or _text(wpt, "cmt"),
                symbol=_text(wpt, "sym"),
                lon=lon,
                lat=lat,
                time=checks.time(_text(wpt, "time"), where=where, utc=True),
            )
        )
    return Gpx(_author(root), lines, points)
