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
import shapely

from geo import crs as crs_mod
from geo.errors import CRSError, IngestError, SchemaError
from geo.ingest import offsets
from geo.ingest.encodings import sidecar, sniff_dbf_encoding
from geo.ingest.profiles import (
    DEFAULT_PROFILE,
    Profile,
    load_profile,
    merge_profile,
    rename_to_canonical,
)
from geo.ingest.tabular import TABLE_SUFFIXES, UNREADABLE, points_from_table, read_table
from geo.ingest.vectors import read_vector
from geo.labels import ISSUE_TYPE_CODES, ISSUE_TYPES, LEVELS
from geo.records import PATCH_COLUMNS, ImportRecord, file_sha256, record_as_dict
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

KINDS = ("patches", "ranges", "chiefs", "surveys")

_ISSUE_TYPE_LOOKUP = {
    **ISSUE_TYPE_CODES,
    **{v: k for k, v in ISSUE_TYPES.items()},
    **{k: k for k in ISSUE_TYPES},
}
_LEVEL_LOOKUP = {
    **{k: k for k in LEVELS},
    **{v: k for k, v in LEVELS.items()},
    **{v[0]: k for k, v in LEVELS.items()},
    "镇级": "township",
    "乡镇级": "township",
    "区级": "county",
    "街道": "township",
    "社区": "village",
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
    sheet: str | int = 0,
    settings: Settings | None = None,
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
    sheet : str or int
        For Excel: the sheet.
    settings : Settings, optional
        The office's central meridian and extent.

    Returns
    -------
    frame : GeoDataFrame
        In EPSG:4490; features whose geometry could not be read carry no
        geometry and a reason in the ``_hetu_unreadable`` column.
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
    if p.suffix.lower() in TABLE_SUFFIXES:
        table, rec.encoding = read_table(p, sheet=sheet, encoding=encoding)
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
    present = gdf.geometry.notna() & ~gdf.geometry.is_empty
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


def _jsonable(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _attrs_json(df: pd.DataFrame, columns: list[str]) -> list[str]:
    if not columns:
        return ["{}"] * len(df)
    records = df[columns].astype(object).to_dict("records")
    return [
        json.dumps({str(k): _jsonable(v) for k, v in r.items()}, ensure_ascii=False)
        for r in records
    ]


_DATE_CLEAN = re.compile(r"[年月/.]")


def iso_date(value: Any, *, source: str, row: int, field: str) -> str | None:
    """Normalise a date cell to ``YYYY-MM-DD``.

    Accepts dates, ``2025-07-15``, ``2025/7/15``, ``2025.7.15``, ``20250715`` and
    ``2025年7月15日``; blanks give ``None``.

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
            f"{source}: row {row + 1}, field {field}: {value!r} is not a date; "
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


def _polygonal(
    gdf: gpd.GeoDataFrame, *, id_col: str, rec: ImportRecord
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Repair polygons (make_valid, structure method); quarantine what cannot be used."""
    geoms = gdf.geometry.to_numpy()
    given = gdf[UNREADABLE].tolist() if UNREADABLE in gdf.columns else [None] * len(gdf)
    reasons: list[str | None] = [r if isinstance(r, str) else None for r in given]
    fixed = geoms.copy()
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(~missing & ~empty & (types == 7)):
        parts = [
            g for g in shapely.get_parts(geoms[i]) if g.geom_type in ("Polygon", "MultiPolygon")
        ]
        if parts:
            fixed[i] = shapely.union_all(parts)
            dropped = len(shapely.get_parts(geoms[i])) - len(parts)
            rec.decisions.append(
                f"{gdf[id_col].iloc[i]}: polygons taken from a geometry collection"
                + (f"; {dropped} point/line part(s) left out" if dropped else "")
            )
    types = shapely.get_type_id(fixed)
    polygonal = np.isin(types, [3, 6])
    invalid = ~missing & ~empty & polygonal & ~shapely.is_valid(fixed)
    for i in np.flatnonzero(missing):
        reasons[i] = reasons[i] or "null geometry"
    for i in np.flatnonzero(empty):
        reasons[i] = "empty geometry"
    for i in np.flatnonzero(~missing & ~empty & ~polygonal):
        reasons[i] = (
            f"not a polygon ({geoms[i].geom_type}): an area is needed; "
            "send the outline as a polygon"
        )
    for i in np.flatnonzero(invalid):
        why = shapely.is_valid_reason(fixed[i])
        repaired = shapely.make_valid(fixed[i], method="structure", keep_collapsed=False)
        parts = [
            g for g in shapely.get_parts(repaired) if g.geom_type in ("Polygon", "MultiPolygon")
        ]
        if not parts:
            reasons[i] = f"invalid geometry that repairs to no polygon ({why})"
            continue
        before = fixed[i].area
        fixed[i] = shapely.union_all(parts)
        change = (fixed[i].area - before) / before * 100 if before else float("nan")
        rec.decisions.append(f"{gdf[id_col].iloc[i]}: repaired ({why}), area change {change:+.1f}%")
    keep = np.array([r is None for r in reasons], dtype=bool)
    bad = [i for i, r in enumerate(reasons) if r is not None]
    attrs = gdf.drop(columns=[c for c in ("geometry", UNREADABLE) if c in gdf.columns])
    quarantine = pd.DataFrame(
        {
            "row": bad,
            "feature_id": [str(gdf[id_col].iloc[i]) for i in bad],
            "reason": [reasons[i] for i in bad],
            "attrs": [
                json.dumps(
                    {str(k): _jsonable(v) for k, v in attrs.iloc[i].items()},
                    ensure_ascii=False,
                    default=str,
                )
                for i in bad
            ],
            "wkb": [None if missing[i] else shapely.to_wkb(geoms[i]) for i in bad],
        }
    )
    out = gdf.set_geometry(fixed)[keep].drop(columns=UNREADABLE, errors="ignore").copy()
    rec.n_quarantined = len(bad)
    return out, quarantine


def _ids(values: pd.Series, unreadable: pd.Series | None) -> pd.Series:
    """Strip ids; an unreadable feature without one is named by its row."""
    ids = values.astype(object).where(values.notna(), None)
    ids = ids.map(lambda v: None if v is None else str(v).strip() or None)
    if unreadable is not None:
        for i in np.flatnonzero(ids.isna().to_numpy() & unreadable.notna().to_numpy()):
            ids.iloc[i] = f"(row {i + 1})"
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
    sheet: str | int = 0,
    profile: Profile | str | os.PathLike | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
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
    layer, encoding, crs, source_crs, x_col, y_col, sheet : optional
        Passed to :func:`read_layer`.
    profile : dict or path-like, optional
        An alias profile (:func:`geo.ingest.profiles.load_profile`), or its TOML file.
    aliases : mapping, optional
        Extra field aliases for patches, canonical name -> source names.

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
    gdf, rec = read_layer(
        p, layer=layer, encoding=encoding, crs=crs, source_crs=source_crs,
        x_col=x_col, y_col=y_col, sheet=sheet, settings=settings,
    )  # fmt: skip
    rec.kind, rec.batch_id = "patches", batch_id or p.stem
    df, unknown = _rename(gdf, "patches", source=p.name, profile=fields, rec=rec)
    unreadable = df[UNREADABLE] if UNREADABLE in df.columns else None
    ids = _ids(df["patch_id"], unreadable)
    blank = [i + 1 for i, v in enumerate(ids) if not v]
    if blank:
        raise SchemaError(f"{p.name}: row(s) {blank[:20]} have no patch id; fill the field")
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
            iso_date(v, source=p.name, row=i, field=col) for i, v in enumerate(df[col])
        ]  # fmt: skip
    if issued_on is not None:
        day = iso_date(issued_on, source=p.name, row=0, field="issued_on")
        blank = [v is None for v in out["issued_on"]]
        if any(blank):
            out.loc[blank, "issued_on"] = day
            rec.decisions.append(f"issued_on {day} given for {sum(blank)} patch(es) without one")
    out["source_area"] = pd.to_numeric(df["source_area"], errors="coerce")
    out["description"] = [None if pd.isna(v) else str(v) for v in df["description"]]
    out["attrs"] = _attrs_json(df, unknown)
    if unreadable is not None:
        out[UNREADABLE] = unreadable.to_numpy()
    out, quarantine = _polygonal(out, id_col="patch_id", rec=rec)
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
    sheet: str | int = 0,
    profile: Profile | str | os.PathLike | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
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
    gdf, rec = read_layer(
        p, layer=layer, encoding=encoding, crs=crs, source_crs=source_crs,
        x_col=x_col, y_col=y_col, sheet=sheet, settings=settings,
    )  # fmt: skip
    rec.kind = "ranges"
    df, unknown = _rename(gdf, "ranges", source=p.name, profile=fields, rec=rec)
    df["segment_id"] = _ids(df["segment_id"], df.get(UNREADABLE))
    dup = sorted(df.loc[df["segment_id"].duplicated(), "segment_id"].dropna().unique())
    blank = [i + 1 for i, v in enumerate(df["segment_id"]) if v is None]
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
    out, quarantine = _polygonal(out, id_col="segment_id", rec=rec)
    for col in ("range_id", "water_code", "admin_code"):
        out[col] = out[col].map(lambda v: None if pd.isna(v) else str(v).strip())
    cols = ["segment_id", "range_id", "water_name", "water_code", "segment_name", "admin_code"]
    return with_meta(out[[*cols, "attrs", "geometry"]].reset_index(drop=True), rec, quarantine)


def chiefs_from_file(
    path: str | os.PathLike,
    *,
    sheet: str | int = 0,
    encoding: str | None = None,
    profile: Profile | str | os.PathLike | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> pd.DataFrame:
    """Read the chiefs list (河长名录) from Excel or CSV, one row per chief and segment.

    Parameters
    ----------
    path : path-like
        ``.xlsx`` or CSV (UTF-8, UTF-8 with BOM, GBK).
    sheet : str or int
        The Excel sheet.
    encoding : str, optional
        Override the sniffed CSV encoding.
    profile : dict or path-like, optional
        An alias profile, or its TOML file.
    aliases : mapping, optional
        Extra field aliases for chiefs.

    Returns
    -------
    DataFrame
        ``chief_id, name, title, level, segment_id, admin_code, phone,
        term_start, term_end, attrs``; ``level`` is one of ``province, city,
        county, township, village``.

    Raises
    ------
    SchemaError
        For a missing field or an unknown level, naming the row.
    """
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    rec = ImportRecord(kind="chiefs", file=str(p), sha256=file_sha256(p))
    raw, rec.encoding = read_table(p, sheet=sheet, encoding=encoding)
    rec.n_read = len(raw)
    fields = _resolve_profile(profile, aliases, "chiefs")
    df, unknown = _rename(raw, "chiefs", source=p.name, profile=fields, rec=rec)
    levels = []
    for i, v in enumerate(df["level"]):
        level = _LEVEL_LOOKUP.get(str(v).strip())
        if level is None:
            raise SchemaError(
                f"{p.name}: row {i + 2}, field level: {v!r} is not a chief level; "
                f"use one of {', '.join(LEVELS.values())}"
            )
        levels.append(level)
    df["level"] = levels
    for col in ("term_start", "term_end"):
        df[col] = [iso_date(v, source=p.name, row=i, field=col) for i, v in enumerate(df[col])]
    if df["chief_id"].isna().any():
        rec.decisions.append("missing chief ids derived from name and phone")
        pairs = zip(df["name"], df["phone"], strict=True)
        derived = ["C" + file_sha256_of_text(f"{n}|{ph}")[:8] for n, ph in pairs]
        df["chief_id"] = df["chief_id"].fillna(pd.Series(derived, index=df.index))
    df["attrs"] = _attrs_json(df, unknown)
    cols = ["chief_id", "name", "title", "level", "segment_id", "admin_code", "phone"]
    out = df[[*cols, "term_start", "term_end", "attrs"]].reset_index(drop=True)
    return with_meta(out, rec)
