"""Read what an office receives into canonical layers: patches, ranges and segments, chiefs.

:func:`read_layer` takes any file an office gets (formats: :mod:`geo.ingest.vectors`
and :mod:`geo.ingest.tabular`), decides its text encoding (:mod:`geo.ingest.encodings`), its
CRS (the file's, an explicit override, or inferred from magnitudes:
:func:`geo.crs.infer_crs`) and any web-map offset declared for it
(:mod:`geo.ingest.offsets`), and records each decision. The ``*_from_file``
functions then map field names through an alias profile
(:mod:`geo.ingest.profiles`); unknown fields are kept as JSON in ``attrs``; features
that cannot be used (unreadable, null, empty or non-polygonal geometry) are
quarantined with a reason, never dropped silently.

The ``*_from_file`` functions return canonical frames for notebooks (the
import record and the quarantine travel in ``frame.attrs["hetu"]``);
:func:`geo.ledger.loading.ingest_file` loads a file into a ledger in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import crs as crs_mod
from geo.errors import CRSError, IngestError, SchemaError
from geo.ingest import offsets
from geo.ingest.checks import (
    check_dates,
    check_given_date,
    clean_id,
    field_names,
    jsonable,
    polygonal,
    refuse_blank,
)
from geo.ingest.chiefs import check_chiefs, refused
from geo.ingest.encodings import sidecar, sniff_dbf_encoding
from geo.ingest.headers import HeaderSpec, SheetRows
from geo.ingest.points import circles_from_points
from geo.ingest.profiles import (
    DEFAULT_PROFILE,
    Profile,
    load_profile,
    merge_profile,
    rename_to_canonical,
)
from geo.ingest.tabular import (
    ROWS,
    TABLE_SUFFIXES,
    UNREADABLE,
    header_spec,
    points_from_table,
    read_table,
    row_number,
    sheet_for,
    sheet_rows,
)
from geo.ingest.vectors import read_vector
from geo.labels import ISSUE_TYPE_CODES, ISSUE_TYPES
from geo.records import PATCH_COLUMNS, ImportRecord, file_sha256, is_missing, record_as_dict
from geo.settings import Settings

__all__ = [
    "DEFAULT_PROFILE",
    "KINDS",
    "chiefs_from_file",
    "iso_date",
    "issue_type_of",
    "patches_from_file",
    "read_layer",
    "segments_from_file",
    "sniff_dbf_encoding",
    "source_sha256",
    "with_meta",
]

KINDS = ("patches", "ranges", "chiefs", "surveys", "admin")

_ISSUE_TYPE_LOOKUP = {
    **ISSUE_TYPE_CODES,
    **{v: k for k, v in ISSUE_TYPES.items()},
    **{k: k for k in ISSUE_TYPES},
}


def source_sha256(path: str | os.PathLike) -> str:
    """Return the sha256 identifying an input (a shapefile's sidecars, a .gdb's files included)."""
    p = Path(path)
    if p.is_dir():
        parts = [
            f"{f.relative_to(p).as_posix()}:{file_sha256(f)}"
            for f in sorted(p.rglob("*"))
            if f.is_file()
        ]
        return file_sha256_of_text("|".join(parts))
    if p.suffix.lower() != ".shp":
        return file_sha256(p)
    parts = [file_sha256(p)]
    for suffix in (".dbf", ".shx", ".prj", ".cpg"):
        side = sidecar(p, suffix)
        parts.append(file_sha256(side) if side else "-")
    return file_sha256_of_text("|".join(parts))


def file_sha256_of_text(text: str) -> str:
    """Return the hex sha256 of a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- reading ------------------------------------------------------------------------------


def read_layer(
    path: str | os.PathLike,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    source_crs: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    sheet: str | int | None = None,
    settings: Settings | None = None,
    header: HeaderSpec | None = None,
    header_row: int | None = None,
) -> tuple[gpd.GeoDataFrame, ImportRecord]:
    """Read a vector file or a table with coordinates into EPSG:4490, deciding encoding and CRS.

    Parameters
    ----------
    path : path-like
        Shapefile (also zipped), GeoPackage, FileGDB folder, GeoJSON (a
        FeatureCollection or a bare geometry), KML/KMZ, GPX, CSV or Excel.
    layer : str or int, optional
        The layer (for a zip, the member); default the only one, or every
        layer of a KML/KMZ/GPX.
    encoding : str, optional
        Override the sniffed encoding (shapefile DBF or CSV).
    crs : str or int, optional
        Override the CRS (e.g. ``"EPSG:4547"``), for files without or with a wrong one.
    source_crs : str, optional
        Declare lon/lat from a web map: ``"gcj02"`` (Gaode, Tencent) or
        ``"bd09"`` (Baidu) are converted to CGCS2000; ``"wgs84"`` is taken as is.
    x_col, y_col : str, optional
        For tables: the easting/longitude and northing/latitude columns.
    sheet : str or int, optional
        For Excel: the sheet (:func:`geo.ingest.tabular.choose_sheet`); default the first.
    settings : Settings, optional
        The office's central meridian and extent.
    header, header_row : optional
        For tables: the column names that find the header row, or its row
        (:func:`geo.ingest.tabular.read_table`).

    Returns
    -------
    frame : GeoDataFrame
        In EPSG:4490; features whose geometry could not be read carry no
        geometry and a reason in the ``_hetu_unreadable`` column. A table's
        :func:`~geo.ingest.tabular.sheet_rows` say where its rows are.
    record : ImportRecord
        The encoding, CRS and other decisions, with ``n_read`` set.

    Raises
    ------
    IngestError
        If the file cannot be read, loses records, or lies outside the extent
        (:class:`~geo.errors.CRSError`, :class:`~geo.errors.SchemaError` for
        the specific cases).
    """
    settings = settings or Settings()
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    offset = _source_crs(source_crs, source=p.name)
    rec = ImportRecord(kind="", file=str(p), sha256=source_sha256(p))
    rows: SheetRows | None = None
    if p.suffix.lower() in TABLE_SUFFIXES:
        table, rec.encoding = read_table(
            p, sheet=sheet, encoding=encoding, header=header, header_row=header_row
        )
        rows = sheet_rows(table)
        rec.decisions += list(rows.notes) if rows else []
        gdf, notes = points_from_table(table, source=p.name, x_col=x_col, y_col=y_col)
    else:
        gdf, rec.encoding, notes = read_vector(p, layer=layer, encoding=encoding)
    rec.decisions += notes
    rec.n_read = len(gdf)
    decision = _decide_crs(gdf, crs=crs, settings=settings, source=p.name)
    if gdf.crs is None or decision.how == "override":
        gdf = gdf.set_crs(decision.crs, allow_override=True)
    rec.crs = f"{decision.how}: {decision.note}"
    if offset in ("gcj02", "bd09"):
        gdf = _remove_offset(gdf, offset, source=p.name)
        rec.crs += (
            f"; source declared {offsets.SOURCE_CRS[offset]}: converted to CGCS2000 with "
            "prcoords' iterative inverse (sub-millimetre)"
        )
    elif offset is not None:
        rec.crs += f"; source declared {offsets.SOURCE_CRS[offset]}"
    gdf = gdf.to_crs(crs_mod.STORAGE_EPSG)
    crs_mod.check_extent(gdf, settings.extent, source=p.name)
    if rows is not None:
        gdf.attrs[ROWS] = rows
    return gdf, rec


def _source_crs(value: str | None, *, source: str) -> str | None:
    if value is None:
        return None
    try:
        return offsets.source_crs_name(value)
    except ValueError as exc:
        raise CRSError(f"{source}: {exc}") from exc


def _remove_offset(gdf: gpd.GeoDataFrame, offset: str, *, source: str) -> gpd.GeoDataFrame:
    if not gdf.crs.is_geographic:
        raise CRSError(
            f"{source}: declared {offset.upper()}, but its CRS {gdf.crs.name} is projected; "
            "GCJ-02 and BD-09 are longitude/latitude: drop the declaration or the --crs"
        )
    lonlat = gdf.to_crs(crs_mod.STORAGE_EPSG)
    fixed = offsets.geometries_to_wgs84(lonlat.geometry.to_numpy(), source=offset)
    return lonlat.set_geometry(fixed, crs=crs_mod.STORAGE_EPSG)


def _decide_crs(
    gdf: gpd.GeoDataFrame, *, crs: str | int | None, settings: Settings, source: str
) -> crs_mod.CRSDecision:
    if crs is not None:
        from pyproj import CRS
        from pyproj.exceptions import CRSError as ProjCRSError

        try:
            chosen = CRS.from_user_input(crs)
        except ProjCRSError as exc:
            raise CRSError(f"{source}: {crs!r} is not a CRS ({exc}); give e.g. EPSG:4547") from exc
        return crs_mod.CRSDecision(chosen.to_epsg(), chosen.to_wkt(), "override", f"{crs} given")
    if gdf.crs is not None:
        epsg = gdf.crs.to_epsg()
        return crs_mod.CRSDecision(epsg, gdf.crs.to_wkt(), "file", f"from the file: {gdf.crs.name}")
    present = gdf.geometry.notna() & ~gdf.geometry.is_empty & crs_mod.finite_mask(gdf.geometry)
    if not present.any():
        return crs_mod.CRSDecision(
            crs_mod.STORAGE_EPSG, "", "assumed", "no readable coordinates: nothing to place"
        )
    bounds = tuple(float(v) for v in gdf.geometry[present].total_bounds)
    return crs_mod.infer_crs(bounds, central_meridian=settings.central_meridian, source=source)


def _resolve_profile(
    profile: Profile | str | os.PathLike | None,
    aliases: Mapping[str, tuple[str, ...]] | None,
    kind: str,
) -> Profile:
    if profile is None:
        base = DEFAULT_PROFILE
    elif isinstance(profile, Mapping):
        base = merge_profile(profile)
    else:
        base = load_profile(profile)
    return merge_profile({kind: aliases}, base=base) if aliases else base


def _rename(
    df: pd.DataFrame, kind: str, *, source: str, profile: Profile, rec: ImportRecord
) -> tuple[pd.DataFrame, list[str]]:
    """Rename aliased columns to canonical names; return the frame and the unknown columns."""
    out, mapping, unknown = rename_to_canonical(
        df, kind, source=source, profile=profile, skip=("geometry", UNREADABLE)
    )
    rec.decisions += [f"field {src} -> {dst}" for src, dst in mapping.items() if src != dst]
    return out, unknown


def _attrs_json(df: pd.DataFrame, columns: list[str]) -> list[str]:
    if not columns:
        return ["{}"] * len(df)
    records = df[columns].astype(object).to_dict("records")
    return [
        json.dumps({str(k): jsonable(v) for k, v in r.items()}, ensure_ascii=False) for r in records
    ]


_DATE_CLEAN = re.compile(r"[年月/.]")


def iso_date(
    value: Any, *, source: str, row: int, field: str, rows: SheetRows | None = None
) -> str | None:
    """Normalise a date cell to ``YYYY-MM-DD``.

    Accepts dates, ``2025-07-15``, ``2025/7/15``, ``2025.7.15``, ``20250715`` and
    ``2025年7月15日``; blanks give ``None``. ``row`` counts from 0; the message names
    row + 1, or for a table with its ``rows`` (:class:`~geo.ingest.headers.SheetRows`)
    the row Excel shows.

    Raises
    ------
    SchemaError
        Naming the file, row and field, for anything else.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip().replace("日", "")
    if not text:
        return None
    text = _DATE_CLEAN.sub("-", text.split(" ")[0].split("T")[0])
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    try:
        y, m, d = (int(x) for x in text.split("-"))
        return dt.date(y, m, d).isoformat()
    except ValueError as exc:
        raise SchemaError(
            f"{source}: row {row_number(row, rows)}, field {field}: {value!r} is not a date; "
            "write it as YYYY-MM-DD"
        ) from exc


def issue_type_of(value: Any) -> str | None:
    """Return the issue-type identifier of a source value (code, Chinese or English), or None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return _ISSUE_TYPE_LOOKUP.get(text) or _ISSUE_TYPE_LOOKUP.get(text.lower())


def with_meta(
    frame: pd.DataFrame, rec: ImportRecord, quarantine: pd.DataFrame | None = None
) -> Any:
    """Attach the import record and quarantine to ``frame.attrs["hetu"]``; return the frame."""
    rec.n_kept = len(frame)
    frame.attrs["hetu"] = {
        "record": record_as_dict(rec),
        "quarantine": [] if quarantine is None else quarantine.to_dict("records"),
    }
    return frame


def _ids(
    values: pd.Series, unreadable: pd.Series | None, rows: SheetRows | None = None
) -> pd.Series:
    """Strip ids (blank ones are None); an unreadable feature without one is named by its row."""
    ids = pd.Series([clean_id(v) for v in values], index=values.index, dtype=object)
    if unreadable is not None:
        for i in np.flatnonzero(ids.isna().to_numpy() & unreadable.notna().to_numpy()):
            ids.iloc[i] = f"(row {row_number(i, rows)})"
    return ids


def patches_from_file(
    path: str | os.PathLike,
    *,
    batch_id: str | None = None,
    issued_on: str | dt.date | None = None,
    settings: Settings | None = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    source_crs: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    sheet: str | int | None = None,
    profile: Profile | str | os.PathLike | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
    point_area: str | float | None = None,
    point_buffer: float | None = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read a province batch of patches (图斑) into the canonical patch frame.

    Parameters
    ----------
    path : path-like
        The batch file, any format :func:`read_layer` takes.
    batch_id : str, optional
        The batch; default the file name without suffix.
    issued_on : str or date, optional
        The batch's issue date (下发时间), for patches whose file gives none.
    settings : Settings, optional
        Central meridian and extent for CRS inference and checks.
    layer, encoding, crs, source_crs, x_col, y_col : optional
        Passed to :func:`read_layer`.
    sheet : str or int, optional
        For Excel: the sheet; default the first with a patch id and coordinates.
    profile : dict or path-like, optional
        An alias profile (:func:`geo.ingest.profiles.load_profile`), or its TOML file.
    aliases : mapping, optional
        Extra field aliases for patches, canonical name -> source names.
    point_area, point_buffer : optional
        For a list of points (中心点): draw each as a circle of this area in m² (a number,
        or the column holding each point's) or of this radius in metres
        (:func:`geo.ingest.points.circles_from_points`); a list of points without either
        is refused.
    header_row : int, optional
        For a table: its header's row (from 1), where the search (the row among the first
        20 holding most of the profile's names, :func:`geo.ingest.tabular.read_table`) is
        wrong. Rows in messages are those Excel shows.

    Returns
    -------
    GeoDataFrame
        EPSG:4490 with the columns of docs/architecture.md (Data model) (``patch_id``, ``batch_id``,
        ``issue_type``, ``admin_code``, ``detected_on``, ``issued_on``,
        ``area_m2``, ``source_area``, ``description``, ``attrs``). The import
        record and quarantined features are in ``frame.attrs["hetu"]``.

    Raises
    ------
    SchemaError
        For a missing patch id field, duplicate or blank ids, or a bad date.
    """
    settings = settings or Settings()
    p = Path(path)
    fields = _resolve_profile(profile, aliases, "patches")
    sheet, chosen = sheet_for(
        p, sheet, "patches", fields, x_col=x_col, y_col=y_col, header_row=header_row
    )
    gdf, rec = read_layer(
        p, layer=layer, encoding=encoding, crs=crs, source_crs=source_crs,
        x_col=x_col, y_col=y_col, sheet=sheet, settings=settings,
        header=header_spec("patches", fields), header_row=header_row,
    )  # fmt: skip
    rows = sheet_rows(gdf)
    rec.kind, rec.batch_id = "patches", batch_id or p.stem
    gdf, drawn = circles_from_points(
        gdf, source=p.name, point_area=point_area, point_buffer=point_buffer,
        central_meridian=settings.central_meridian,
    )  # fmt: skip
    rec.decisions[:0] = chosen
    rec.decisions += drawn
    df, unknown = _rename(gdf, "patches", source=p.name, profile=fields, rec=rec)
    unreadable = df[UNREADABLE] if UNREADABLE in df.columns else None
    ids = _ids(df["patch_id"], unreadable, rows)
    named = field_names(gdf.columns, df.columns)
    refuse_blank(ids, source=p.name, field=named["patch_id"], what="patch id", rows=rows)
    dup = sorted(ids[ids.duplicated()].unique())
    if dup:
        raise SchemaError(f"{p.name}: duplicate patch id(s) in the file: {', '.join(dup[:20])}")
    out = gpd.GeoDataFrame({"patch_id": ids, "batch_id": rec.batch_id}, geometry=df.geometry)
    types = [issue_type_of(v) for v in df["issue_type"]]
    odd = sorted(
        {
            str(v)
            for v, t in zip(df["issue_type"], types, strict=True)
            if t is None and not pd.isna(v)
        }
    )
    if odd:
        rec.decisions.append(f"issue type(s) {', '.join(odd)} not recognised: recorded as other")
    out["issue_type"] = [t or "other" for t in types]
    out["admin_code"] = [None if pd.isna(v) else str(v).strip() for v in df["admin_code"]]
    for col in ("detected_on", "issued_on"):
        out[col] = [
            iso_date(v, source=p.name, row=i, field=col, rows=rows) for i, v in enumerate(df[col])
        ]  # fmt: skip
    check_dates(out, ("detected_on", "issued_on"), source=p.name, fields=named, rows=rows)
    if issued_on is not None:
        day = iso_date(issued_on, source=p.name, row=0, field="issued_on")
        check_given_date(day, source=p.name, what="the issue date given (issued_on, --issued-on)")
        blank = [v is None for v in out["issued_on"]]
        if any(blank):
            out.loc[blank, "issued_on"] = day
            rec.decisions.append(f"issued_on {day} given for {sum(blank)} patch(es) without one")
    out["source_area"] = pd.to_numeric(df["source_area"], errors="coerce")
    out["description"] = [None if pd.isna(v) else str(v) for v in df["description"]]
    out["attrs"] = _attrs_json(df, unknown)
    if unreadable is not None:
        out[UNREADABLE] = unreadable.to_numpy()
    out, quarantine = polygonal(out, id_col="patch_id", rec=rec, rows=rows)
    metric = crs_mod.metric_crs(out, central_meridian=settings.central_meridian)
    out["area_m2"] = out.geometry.to_crs(metric).area.round(2) if len(out) else []
    out = out[[*PATCH_COLUMNS, "geometry"]]
    return with_meta(out.reset_index(drop=True), rec, quarantine)


def segments_from_file(
    path: str | os.PathLike,
    *,
    settings: Settings | None = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    source_crs: str | None = None,
    x_col: str | None = None,
    y_col: str | None = None,
    sheet: str | int | None = None,
    profile: Profile | str | os.PathLike | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read management ranges cut into segments (河湖管理范围 / 河段).

    Parameters are those of :func:`patches_from_file`.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per segment: ``segment_id, range_id, water_name,
        water_code, segment_name, admin_code, attrs``. A missing ``range_id``
        is taken from the water code, else the water name (recorded). Segments
        without a usable polygon are in ``frame.attrs["hetu"]["quarantine"]``.

    Raises
    ------
    SchemaError
        For a missing segment id field, or blank or duplicate ids.
    """
    settings = settings or Settings()
    p = Path(path)
    fields = _resolve_profile(profile, aliases, "ranges")
    sheet, chosen = sheet_for(
        p, sheet, "ranges", fields, x_col=x_col, y_col=y_col, header_row=header_row
    )
    gdf, rec = read_layer(
        p, layer=layer, encoding=encoding, crs=crs, source_crs=source_crs,
        x_col=x_col, y_col=y_col, sheet=sheet, settings=settings,
        header=header_spec("ranges", fields), header_row=header_row,
    )  # fmt: skip
    rows = sheet_rows(gdf)
    rec.kind = "ranges"
    rec.decisions[:0] = chosen
    df, unknown = _rename(gdf, "ranges", source=p.name, profile=fields, rec=rec)
    df["segment_id"] = _ids(df["segment_id"], df.get(UNREADABLE), rows)
    named = field_names(gdf.columns, df.columns)
    refuse_blank(
        df["segment_id"], source=p.name, field=named["segment_id"], what="segment id", rows=rows
    )
    dup = sorted(df.loc[df["segment_id"].duplicated(), "segment_id"].dropna().unique())
    blank = [row_number(i, rows) for i, v in enumerate(df["segment_id"]) if v is None]
    if dup or blank:
        raise SchemaError(
            f"{p.name}: segment ids must be present and unique; duplicates: "
            f"{', '.join(dup[:20]) or 'none'}; rows without one: {blank[:20] or 'none'}"
        )
    blank_range = df["range_id"].isna()
    if blank_range.any():
        df["range_id"] = (
            df["range_id"]
            .fillna(df["water_code"])
            .fillna(df["water_name"])
            .fillna(df["segment_id"])
        )
        rec.decisions.append(
            f"{int(blank_range.sum())} segment(s) without a range id: taken from the water "
            "code, else the water name, else the segment id"
        )
    df["attrs"] = _attrs_json(df, unknown)
    out = gpd.GeoDataFrame(df, geometry="geometry", crs=gdf.crs)
    out, quarantine = polygonal(out, id_col="segment_id", rec=rec, rows=rows)
    for col in ("range_id", "water_code", "admin_code"):
        out[col] = out[col].map(lambda v: None if pd.isna(v) else str(v).strip())
    cols = ["segment_id", "range_id", "water_name", "water_code", "segment_name", "admin_code"]
    return with_meta(out[[*cols, "attrs", "geometry"]].reset_index(drop=True), rec, quarantine)


def chiefs_from_file(
    path: str | os.PathLike,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    profile: Profile | str | os.PathLike | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
    header_row: int | None = None,
) -> pd.DataFrame:
    """Read the chiefs list (河长名录) from Excel or CSV, one row per chief and segment.

    Parameters
    ----------
    path : path-like
        ``.xlsx``, ``.xls`` or CSV (UTF-8, UTF-8 with BOM, GBK).
    sheet : str or int, optional
        The Excel sheet; default the first with a name, a level and a segment id.
    encoding : str, optional
        Override the sniffed CSV encoding.
    profile : dict or path-like, optional
        An alias profile, or its TOML file.
    aliases : mapping, optional
        Extra field aliases for chiefs.
    header_row : int, optional
        The header's row (from 1), where the search (above it a title or a 填报单位 line
        may stand, :func:`geo.ingest.tabular.read_table`) is wrong.

    Returns
    -------
    DataFrame
        ``chief_id, name, title, level, segment_id, admin_code, phone,
        term_start, term_end, attrs``; ``level`` is one of ``province, city,
        county, township, village`` (written as offices do: 县级河长, 乡镇级, 社区…,
        :func:`geo.ingest.chiefs.level_of`). ``frame.attrs["hetu"]["fields"]`` maps each
        canonical field to the file's column.

    Raises
    ------
    SchemaError
        For a missing field; or naming every bad row at once (row, field, the fix): a blank
        name or segment id, a level not understood, a date that is none.
    """
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    rec = ImportRecord(kind="chiefs", file=str(p), sha256=file_sha256(p))
    fields = _resolve_profile(profile, aliases, "chiefs")
    sheet, rec.decisions = sheet_for(
        p, sheet, "chiefs", fields, coordinates=False, header_row=header_row
    )
    raw, rec.encoding = read_table(
        p, sheet=sheet, encoding=encoding, header_row=header_row,
        header=header_spec("chiefs", fields, coordinates=False),
    )  # fmt: skip
    rows = sheet_rows(raw)
    rec.decisions += list(rows.notes) if rows else []
    rec.n_read = len(raw)
    df, unknown = _rename(raw, "chiefs", source=p.name, profile=fields, rec=rec)
    named = {canon: str(src) for canon, src in zip(df.columns, raw.columns, strict=False)}
    for col in ("chief_id", "name", "segment_id"):
        df[col] = [None if is_missing(v) else str(v).strip() or None for v in df[col]]
    df["level"], problems = check_chiefs(df, named=named, rows=rows)
    for col in ("term_start", "term_end"):
        days = []
        for i, v in enumerate(df[col]):
            try:
                days.append(iso_date(v, source=p.name, row=i, field=named.get(col, col), rows=rows))
            except SchemaError as exc:
                problems.append(str(exc).removeprefix(f"{p.name}: "))
                days.append(None)
        df[col] = days
    if problems:
        raise refused(p.name, problems, what="problem(s)")
    if df["chief_id"].isna().any():
        rec.decisions.append("missing chief ids derived from name and phone")
        pairs = zip(df["name"], df["phone"], strict=True)
        derived = ["C" + file_sha256_of_text(f"{n}|{ph}")[:8] for n, ph in pairs]
        df["chief_id"] = df["chief_id"].fillna(pd.Series(derived, index=df.index))
    df["attrs"] = _attrs_json(df, unknown)
    cols = ["chief_id", "name", "title", "level", "segment_id", "admin_code", "phone"]
    out = with_meta(df[[*cols, "term_start", "term_end", "attrs"]].reset_index(drop=True), rec)
    out.attrs["hetu"]["fields"] = named
    out.attrs[ROWS] = rows
    return out
