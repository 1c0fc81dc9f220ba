"""Survey and patrol tracks from the field: lines with surveyor and time, and findings.

Read from GPX (tracks, waypoints: :mod:`geo.ingest.gpx`); KML/KMZ (LineString, ``gx:Track``
with its ``when`` times, else ``TimeSpan``/``TimeStamp``; points are findings:
:mod:`geo.ingest.kml`; the surveyor from an ``ExtendedData`` field named as in
:data:`geo.labels.TRACK_WORDS`);
CSV/Excel patrol-app exports (one row per GPS fix, grouped by a track-id column,
else by surveyor and day, ordered by time; coordinates read as :mod:`geo.ingest.tabular`
reads them); and photos with EXIF GPS (one track per surveyor and day, every
photo a finding; surveyor: the caller's, else EXIF ``Artist``, else the
sub-folder name). Zone-less times are Asia/Shanghai (GPX: UTC, by the format);
unknown columns are kept in ``attrs`` (JSON).

Every fix gets the checks patches get (:mod:`geo.ingest.checks`): a NaN, infinite or
impossible position refuses the file naming the point and field; a time not from
2000-01-01 to tomorrow is dropped and recorded; and the whole survey must lie in China
and in the office's ``[office] extent``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import exifread
import geopandas as gpd
import pandas as pd
import shapely

from geo import crs as crs_mod
from geo.errors import CRSError, IngestError, SchemaError
from geo.ingest import offsets
from geo.ingest.checks import FixChecks
from geo.ingest.gpx import read_gpx
from geo.ingest.headers import HeaderSpec
from geo.ingest.kml import read_kml
from geo.ingest.photos import PHOTO_SUFFIXES, read_exif
from geo.ingest.readers import issue_type_of, source_sha256, with_meta
from geo.ingest.tabular import (
    TABLE_SUFFIXES,
    UNREADABLE,
    points_from_table,
    read_table,
    sheet_rows,
    table_row,
)
from geo.labels import TRACK_WORDS
from geo.records import ImportRecord, file_sha256
from geo.text import name_key, normalise_header

#: Columns of the tracks frame (besides the geometry) and of the findings frame.
TRACK_COLUMNS = ("name", "surveyor", "started_at", "ended_at", "n_points", "attrs")
FINDING_COLUMNS = ("finding_id", "observed_at", "surveyor", "finding_type", "description", "attrs")
#: Suffixes of the photos read from a folder (those :mod:`geo.field.evidence` reads EXIF from).
#: Formats :func:`surveys_from_file` reads, for messages.
FORMATS = "GPX, KML/KMZ, CSV/Excel (one row per GPS fix), or photos with EXIF GPS"


def _words(key: str, *english: str) -> set[str]:
    return {normalise_header(w) for w in (*TRACK_WORDS[key].split("|"), *english)}


_TRACK_ID = _words("track_id", "track", "trackid", "track_id", "trackname", "route", "routeid")
_SURVEYOR = _words(
    "surveyor", "surveyor", "patroller", "user", "username", "author", "person", "inspector"
)
_CHIEF = _words("chief", "chief", "chiefname", "riverchief")
_TIME = _words("time", "time", "timestamp", "datetime", "gpstime", "recordtime", "fixtime", "when")
_DATE = _words("date", "date", "day")
_FINDING = _words("finding", "finding", "findingtype", "issue", "issuetype")


def _pick(names: Iterable[str], wanted: set[str]) -> str | None:
    for name in names:
        if normalise_header(name) in wanted:
            return name
    return None


def _empty(columns: Sequence[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns=[*columns], geometry=[], crs=crs_mod.STORAGE_EPSG)


def _frames(
    rows: list[dict],
    geoms: list,
    frows: list[dict],
    fgeoms: list,
    rec: ImportRecord,
    checks: FixChecks,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the two frames (EPSG:4490) and attach the import record (and the times dropped)."""
    rec.decisions += checks.decisions()
    tracks = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs_mod.STORAGE_EPSG)
    tracks = tracks[[*TRACK_COLUMNS, "geometry"]] if rows else _empty(TRACK_COLUMNS)
    findings = gpd.GeoDataFrame(frows, geometry=fgeoms, crs=crs_mod.STORAGE_EPSG)
    findings = findings[[*FINDING_COLUMNS, "geometry"]] if frows else _empty(FINDING_COLUMNS)
    rec.n_read = rec.n_read or len(tracks) + len(findings)
    with_meta(tracks, rec)
    rec.n_kept = len(tracks) + len(findings)
    tracks.attrs["hetu"]["record"]["n_kept"] = rec.n_kept
    return tracks, findings


def _track_row(
    name: object, who: str, times: list[str], n_points: int, attrs: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": None if name is None else str(name),
        "surveyor": who,
        "started_at": min(times) if times else None,
        "ended_at": max(times) if times else None,
        "n_points": int(n_points),
        "attrs": json.dumps(attrs, ensure_ascii=False, default=str),
    }


def surveys_from_file(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    surveyor: str | None = None,
    crs: str | int | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    sheet: str | int = 0,
    encoding: str | None = None,
    central_meridian: int | None = None,
    source_crs: str | None = None,
    extent: tuple[float, float, float, float] | None = None,
    header_row: int | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read a survey or patrol: tracks (lines) and findings (points).

    Parameters
    ----------
    path : path-like or sequence of path-like
        A GPX, KML or KMZ file; a CSV or Excel table with one row per GPS fix;
        a photo, a folder of photos (searched recursively) or a list of photos.
    surveyor : str, optional
        Who surveyed, overriding what the file says (GPX author, KML or table
        field, EXIF artist, photo folder name).
    crs : str or int, optional
        For tables: the CRS of the coordinates, when they are not lon/lat or
        Gauss-Kruger coordinates whose zone can be inferred.
    x_col, y_col : str, optional
        For tables: the easting/longitude and northing/latitude columns.
    sheet : str or int
        For Excel: the sheet.
    encoding : str, optional
        For CSV: override the sniffed encoding.
    central_meridian : int, optional
        For tables in Gauss-Kruger coordinates without zone prefix: the office's
        central meridian (``Settings.central_meridian``).
    source_crs : {"wgs84", "cgcs2000", "gcj02", "bd09"}, optional
        Declare that the coordinates are Gaode/Tencent (``gcj02``) or Baidu
        (``bd09``) ones, as many Chinese patrol apps record them: they are
        converted to CGCS2000 (:mod:`geo.ingest.offsets`).
    extent : tuple, optional
        The office's ``(min_lon, min_lat, max_lon, max_lat)`` (``Settings.extent``); the
        survey must lie inside it, and always inside China.
    header_row : int, optional
        For tables: the header's row (from 1), where the search for the row naming the
        time and coordinate columns is wrong; rows in messages are those Excel shows.

    Returns
    -------
    tracks, findings : GeoDataFrame
        EPSG:4490. Tracks: ``name, surveyor, started_at, ended_at, n_points,
        attrs`` and a MultiLineString; findings: ``finding_id, observed_at,
        surveyor, finding_type, description, attrs`` and a Point. Times in
        Asia/Shanghai. The import record (decisions, counts) is in
        ``tracks.attrs["hetu"]``.

    Raises
    ------
    IngestError
        If the input is missing, of no known format, or a row or element cannot
        be read, or a position is NaN, infinite or impossible (the message names
        the file, row or point, and field).
    CRSError
        If ``source_crs`` is not one of the names above, or the survey lies outside
        China or the office's extent.
    """
    offset = None
    if source_crs is not None:
        try:
            offset = offsets.source_crs_name(source_crs)
        except ValueError as exc:
            raise CRSError(f"{path}: {exc}") from exc
    tracks, findings = _read_any(
        path, surveyor=surveyor, crs=crs, x_col=x_col, y_col=y_col, sheet=sheet,
        encoding=encoding, central_meridian=central_meridian, header_row=header_row,
    )  # fmt: skip
    if offset in ("gcj02", "bd09"):
        for frame in (tracks, findings):
            if len(frame):
                fixed = offsets.geometries_to_wgs84(frame.geometry.to_numpy(), source=offset)
                frame.set_geometry(fixed, crs=crs_mod.STORAGE_EPSG, inplace=True)
        meta = tracks.attrs.get("hetu", {}).get("record")
        if meta is not None:
            meta["crs"] = (meta.get("crs") or "") + (
                f"; source declared {offsets.SOURCE_CRS[offset]}: converted to CGCS2000"
            )
    one = isinstance(path, str | os.PathLike)
    _check_place(tracks, findings, extent, source=Path(path).name if one else "the photos")
    return tracks, findings


def _check_place(
    tracks: gpd.GeoDataFrame,
    findings: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float] | None,
    *,
    source: str,
) -> None:
    """Refuse a survey with a non-finite position, or lying outside China or the extent."""
    for frame, what, key in ((tracks, "track", "name"), (findings, "finding", "finding_id")):
        bad = ~crs_mod.finite_mask(frame.geometry)
        if bad.any():
            raise IngestError(
                f"{source}: {what} {frame[key].to_numpy()[bad][0]}: a position is not a finite "
                "number (NaN or infinity); check the coordinate columns and --crs, and correct it"
            )
    both = gpd.GeoDataFrame(
        geometry=[*tracks.geometry, *findings.geometry], crs=crs_mod.STORAGE_EPSG
    )
    crs_mod.check_extent(
        both, extent, source=source,
        fix="is this the office's survey? a GPS records where it was: check the file (a table "
        "may need --crs), or fix [office] extent",
    )  # fmt: skip


def _read_any(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    surveyor: str | None,
    crs: str | int | None,
    x_col: str | None,
    y_col: str | None,
    sheet: str | int,
    encoding: str | None,
    central_meridian: int | None,
    header_row: int | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    if isinstance(path, str | os.PathLike):
        p = Path(path)
        if not p.exists():
            raise IngestError(f"{p}: file not found")
        if p.is_dir():
            return _from_photos(_photos_in(p), root=p, surveyor=surveyor, folder=p)
        suffix = p.suffix.lower()
        if suffix in PHOTO_SUFFIXES:
            return _from_photos([p], root=p.parent, surveyor=surveyor)
        if suffix in (".kml", ".kmz"):
            return _from_kml(p, surveyor=surveyor)
        if suffix in TABLE_SUFFIXES:
            return _from_table(
                p, surveyor=surveyor, crs=crs, x_col=x_col, y_col=y_col, sheet=sheet,
                encoding=encoding, central_meridian=central_meridian, header_row=header_row,
            )  # fmt: skip
        return _from_gpx(p, surveyor=surveyor)
    files = [Path(f) for f in path]
    if not files:
        raise IngestError("no photos given; pass a folder or a list of photo files")
    for f in files:
        if not f.is_file():
            raise IngestError(f"{f}: file not found")
    root = Path(os.path.commonpath([f.resolve().parent for f in files]))
    return _from_photos(files, root=root, surveyor=surveyor)


# -- GPX ---------------------------------------------------------------------------------


def _from_gpx(p: Path, *, surveyor: str | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rec = ImportRecord(kind="surveys", file=str(p), sha256=file_sha256(p))
    checks = FixChecks(p.name)
    gpx = read_gpx(p.read_bytes(), source=p.name, checks=checks, formats=FORMATS)
    rec.encoding, rec.crs = "utf-8 (GPX)", "file: GPX is WGS84, taken as CGCS2000 (EPSG:4490)"
    who = surveyor or gpx.author or ""
    rows, geoms = [], []
    for line in gpx.lines:
        label = f"{line.kind} {line.name}"
        good = [seg for seg in line.segments if len(seg) >= 2]
        if len(good) < len([seg for seg in line.segments if seg]):
            rec.decisions.append(f"{label}: a one-point segment skipped")
        if not good:
            rec.decisions.append(f"{label}: no segment with two points, skipped")
            continue
        n = sum(len(seg) for seg in line.segments)
        attrs = {"type": line.type} | ({"gpx": "route"} if line.kind == "route" else {})
        rows.append(_track_row(line.name, who, line.times, n, attrs))
        geoms.append(shapely.MultiLineString(good))
    if any(line.kind == "route" for line in gpx.lines):
        rec.decisions.append('routes (<rte>) read as tracks, marked "gpx": "route" in attrs')
    frows, fgeoms = [], []
    for k, w in enumerate(gpx.points, start=1):
        kind = issue_type_of(w.type) if w.type else None
        frows.append(
            {
                "finding_id": w.name or f"{p.stem}-{k}",
                "observed_at": w.time,
                "surveyor": who,
                "finding_type": kind or w.type,
                "description": w.description,
                "attrs": json.dumps({"symbol": w.symbol}, ensure_ascii=False),
            }
        )
        fgeoms.append(shapely.Point(w.lon, w.lat))
    return _frames(rows, geoms, frows, fgeoms, rec, checks)


# -- KML / KMZ ---------------------------------------------------------------------------


def _from_kml(p: Path, *, surveyor: str | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rec = ImportRecord(kind="surveys", file=str(p), sha256=file_sha256(p))
    rec.encoding, rec.crs = "utf-8 (KML)", "file: KML is WGS84, taken as CGCS2000 (EPSG:4490)"
    checks = FixChecks(p.name)
    kml = read_kml(p, checks=checks, formats=FORMATS)
    rows, geoms, frows, fgeoms = [], [], [], []
    for pm in kml.placemarks:
        where, fields, times = f"{p.name}: {pm.label}", pm.fields, pm.times
        who_key = _pick(fields, _SURVEYOR) or _pick(fields, _CHIEF)
        who = surveyor or (str(fields[who_key]) if who_key else "") or kml.author or ""
        attrs = {key: v for key, v in fields.items() if key != who_key}
        if pm.skipped:
            rec.decisions.append(
                f"{where}: {', '.join(sorted(set(pm.skipped)))} skipped (no track)"
            )
        good = [ln for ln in pm.lines if len(set(ln)) >= 2]
        if len(good) < len(pm.lines):
            rec.decisions.append(
                f"{where}: {len(pm.lines) - len(good)} line(s) under two points skipped"
            )
        if good:
            n = sum(len(ln) for ln in good)
            rows.append(_track_row(pm.name, who, times, n, attrs))
            geoms.append(shapely.MultiLineString([shapely.LineString(ln) for ln in good]))
        for q, (lon, lat) in enumerate(pm.points, start=1):
            kind_key = _pick(fields, _FINDING)
            kind = fields.get(kind_key) if kind_key else None
            frows.append(
                {
                    "finding_id": pm.name or f"{p.stem}-{pm.number}-{q}",
                    "observed_at": min(times) if times else None,
                    "surveyor": who,
                    "finding_type": (issue_type_of(kind) or kind) if kind else None,
                    "description": pm.description,
                    "attrs": json.dumps(attrs, ensure_ascii=False),
                }
            )
            fgeoms.append(shapely.Point(lon, lat))
    rec.n_read = len(kml.placemarks)
    return _frames(rows, geoms, frows, fgeoms, rec, checks)


# -- CSV / Excel: one row per GPS fix -----------------------------------------------------


def _table_crs(
    pts: gpd.GeoDataFrame, crs: str | int | None, central_meridian: int | None, source: str
) -> tuple[Any, str]:
    if crs is not None:
        return crs, f"given: {crs}"
    ok = pts.geometry.notna()
    if not ok.any():
        raise IngestError(f"{source}: no row has coordinates; check the lon/lat columns")
    decision = crs_mod.infer_crs(
        tuple(pts.geometry[ok].total_bounds), central_meridian=central_meridian, source=source
    )
    return decision.crs, f"{decision.how}: {decision.note}"


def _from_table(
    p: Path,
    *,
    surveyor: str | None,
    crs: str | int | None,
    x_col: str | None,
    y_col: str | None,
    sheet: str | int,
    encoding: str | None,
    central_meridian: int | None,
    header_row: int | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rec = ImportRecord(kind="surveys", file=str(p), sha256=file_sha256(p))
    header = HeaderSpec(names=tuple(_TIME | _DATE | _TRACK_ID | _SURVEYOR | _CHIEF))
    table, rec.encoding = read_table(
        p, sheet=sheet, encoding=encoding, header=header, header_row=header_row
    )
    rows = sheet_rows(table)
    rec.decisions += list(rows.notes) if rows else []
    cols = [str(c) for c in table.columns]
    time_col = _pick(cols, _TIME)
    if time_col is None:
        raise SchemaError(
            f"{p.name}: no time column among: {', '.join(cols)}; a patrol export needs one "
            f"(named e.g. {TRACK_WORDS['time'].split('|')[1]} or time) to order the fixes"
        )
    pts, notes = points_from_table(table, source=p.name, x_col=x_col, y_col=y_col)
    rec.decisions += notes
    if UNREADABLE in pts.columns and pts[UNREADABLE].notna().any():
        raise IngestError(f"{p.name}: {pts[UNREADABLE].dropna().iloc[0]}")
    the_crs, rec.crs = _table_crs(pts, crs, central_meridian, p.name)
    geom = pts.geometry.set_crs(the_crs, allow_override=True).to_crs(crs_mod.STORAGE_EPSG)
    date_col = _pick(cols, _DATE)
    id_col, who_col = _pick(cols, _TRACK_ID), _pick(cols, _SURVEYOR)
    chief_col = _pick(cols, _CHIEF)
    who_col = who_col or chief_col
    times, checks = [], FixChecks(p.name)
    for i, cell in enumerate(table[time_col].tolist()):
        if date_col and isinstance(cell, str) and re.fullmatch(r"\s*\d{1,2}:\d{2}.*", cell):
            cell = f"{table[date_col].iloc[i]} {cell.strip()}"
        try:
            at = f"row {table_row(i, rows)}, field {time_col}"
            times.append(checks.time(cell, where=at, strict=True))
        except ValueError as exc:
            raise IngestError(f"{p.name}: {at}: {exc}") from exc
    who = (
        table[who_col].fillna("").astype(str).str.strip()
        if who_col and surveyor is None
        else pd.Series(surveyor or "", index=table.index)
    )
    sheet_row = [table_row(i, rows) for i in range(len(table))]
    frame = pd.DataFrame({"_row": sheet_row, "_at": times, "_who": who})
    frame["_day"] = frame["_at"].str[:10]
    no_fix = geom.isna().to_numpy() | frame["_at"].isna().to_numpy()
    if no_fix.any():
        rows = frame.loc[no_fix, "_row"].astype(str).tolist()
        rec.decisions.append(
            f"{len(rows)} row(s) without a position or a time skipped: rows {', '.join(rows[:20])}"
            + (" …" if len(rows) > 20 else "")
        )
    if id_col:
        frame["_key"] = table[id_col].fillna("").astype(str).str.strip()
        rec.decisions.append(f"fixes grouped into tracks by the column {id_col}")
    else:
        frame["_key"] = frame["_who"] + " " + frame["_day"].fillna("")
        grouped = f"the column {who_col} and the day" if who_col else "the day"
        rec.decisions.append(f"no track-id column: fixes grouped into tracks by {grouped}")
    used = {time_col, date_col, id_col, who_col} | set(_coordinate_columns(notes, cols))
    extra = [c for c in cols if c not in used]
    keep = frame.index[~no_fix]
    rows_out, geoms = [], []
    for key, part in frame.loc[keep].groupby("_key", sort=True):
        part = part.sort_values(["_at", "_row"], kind="stable")
        xy = [(g.x, g.y) for g in geom.loc[part.index]]
        first = int(part["_row"].min())
        if len(set(xy)) < 2:
            rec.decisions.append(
                f"track {key}: fewer than two distinct fixes (row {first}), skipped"
            )
            continue
        names = sorted(set(part["_who"]) - {""})
        if len(names) > 1:
            rec.decisions.append(f"track {key}: several surveyors ({', '.join(names)}); first kept")
        attrs: dict[str, Any] = {"rows": [first, int(part["_row"].max())]}
        for c in extra:
            values = [None if pd.isna(v) else v for v in table.loc[part.index, c]]
            attrs[c] = values[0] if len(set(values)) == 1 else values
        if chief_col and chief_col != who_col:
            attrs[chief_col] = table.loc[part.index, chief_col].dropna().iloc[0] if (
                table.loc[part.index, chief_col].notna().any()) else None  # fmt: skip
        name = key if id_col else f"{names[0] if names else ''} {part['_day'].iloc[0]}".strip()
        track = _track_row(name, names[0] if names else "", part["_at"].tolist(), len(part), attrs)
        rows_out.append(track)
        geoms.append(shapely.MultiLineString([shapely.LineString(xy)]))
    rec.n_read = len(table)
    return _frames(rows_out, geoms, [], [], rec, checks)


def _coordinate_columns(notes: list[str], cols: list[str]) -> list[str]:
    """The coordinate columns :func:`geo.ingest.tabular.points_from_table` named in its decision."""
    text = " ".join(notes)
    return [c for c in cols if re.search(rf"(?<![\w]){re.escape(c)}(?![\w])", text)]


# -- photos with EXIF GPS -------------------------------------------------------------------


def _photos_in(folder: Path) -> list[Path]:
    files = sorted(
        f for f in folder.rglob("*") if f.is_file() and f.suffix.lower() in PHOTO_SUFFIXES
    )
    if not files:
        raise IngestError(
            f"{folder}: no photos ({', '.join(PHOTO_SUFFIXES)}) in this folder; "
            "give the folder the patrol app saved its photos to"
        )
    return files


def _artist(path: Path) -> str:
    with open(path, "rb") as fh:
        tags = exifread.process_file(fh, details=False, stop_tag="Artist")
    value = tags.get("Image Artist")
    return str(value).strip() if value is not None else ""


def _from_photos(
    files: list[Path], *, root: Path, surveyor: str | None, folder: Path | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    root = root.resolve()
    parts = [f"{f.resolve().relative_to(root).as_posix()}:{file_sha256(f)}" for f in files]
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()
    if folder is not None:  # as the ingest computes it, so a folder read twice is reused
        digest = source_sha256(folder)
    rec = ImportRecord(
        kind="surveys", file=str(root if len(files) > 1 else files[0]), sha256=digest
    )
    rec.encoding = "not applicable (photos)"
    rec.crs = "EXIF GPS is WGS84, taken as CGCS2000 (EPSG:4490)"
    frows, fgeoms, skipped, checks = [], [], [], FixChecks(str(root))
    for f in files:
        rel = f.resolve().relative_to(root)
        try:
            meta = read_exif(f)
            artist = _artist(f)
        except (OSError, ValueError, KeyError, ZeroDivisionError) as exc:
            raise IngestError(f"{f}: EXIF cannot be read ({exc}); is it a photo?") from exc
        taken = checks.time(meta["taken_at"], where=rel.as_posix())
        try:
            lon, lat = checks.position(meta["lon"], meta["lat"], where=rel.as_posix())
        except IngestError:  # no GPS, or an impossible one: like a photo without
            lon = None
        if lon is None or taken is None:
            skipped.append(rel.as_posix())
            continue
        folder = rel.parent.name if rel.parent != Path(".") else ""
        frows.append(
            {
                "finding_id": rel.with_suffix("").as_posix(),
                "observed_at": taken,
                "surveyor": surveyor or artist or folder,
                "finding_type": None,
                "description": None,
                "attrs": json.dumps({"photo": rel.as_posix()}, ensure_ascii=False),
            }
        )
        fgeoms.append(shapely.Point(lon, lat))
    if skipped:
        rec.decisions.append(
            f"{len(skipped)} photo(s) without a usable EXIF time or GPS position, not placed: "
            + ", ".join(skipped[:20])
            + (" …" if len(skipped) > 20 else "")
        )
    if frows:
        rec.decisions.append("photos grouped into one track per surveyor and day, in time order")
    rows, geoms = [], []
    found = pd.DataFrame(frows)
    if len(found):
        found["_g"] = fgeoms
        found["_day"] = found["observed_at"].str[:10]
        for (who, day), part in found.groupby(["surveyor", "_day"], sort=True):
            part = part.sort_values(["observed_at", "finding_id"])
            xy = [(g.x, g.y) for g in part["_g"]]
            if len(set(xy)) < 2:
                rec.decisions.append(f"{who or '?'} {day}: one photo position, no track drawn")
                continue
            attrs = {"photos": part["finding_id"].tolist()}
            rows.append(_track_row(f"{who} {day}".strip(), who, list(part["observed_at"]),
                                   len(part), attrs))  # fmt: skip
            geoms.append(shapely.MultiLineString([shapely.LineString(xy)]))
    rec.n_read = len(files)
    return _frames(rows, geoms, frows, fgeoms, rec, checks)


# -- checks at ingest -----------------------------------------------------------------------


def unmatched_surveyors(tracks: pd.DataFrame, chiefs: pd.DataFrame) -> list[str]:
    """Return the tracks' surveyors whose name matches no chief's (spaces ignored).

    A patrol counts for the chief named as its surveyor (:mod:`geo.field.patrols`), so
    these tracks count for nobody: the office should correct the name in the
    patrol app or in the chiefs' list.

    Parameters
    ----------
    tracks : DataFrame
        With ``surveyor`` (:func:`surveys_from_file`, ``Ledger.tracks()``).
    chiefs : DataFrame
        With ``name`` (``Ledger.chiefs()``); when empty, nothing is checked.

    Returns
    -------
    list of str
        Distinct non-blank surveyor names, sorted; empty when every name
        matches or there are no chiefs.
    """
    if chiefs is None or len(chiefs) == 0 or len(tracks) == 0:
        return []
    for frame, col, what in ((tracks, "surveyor", "tracks"), (chiefs, "name", "chiefs")):
        if col not in frame.columns:
            raise SchemaError(f"{what} need a {col!r} column; found {list(frame.columns)}")
    known = {name_key(n) for n in chiefs["name"]} - {""}
    names = {str(n).strip() for n in tracks["surveyor"] if name_key(n)}
    return sorted(n for n in names if name_key(n) not in known)
