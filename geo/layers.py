"""Read what an office receives into canonical layers, and load them into the ledger.

Every reader decides the text encoding (shapefile DBFs are sniffed: ``.cpg``,
then the LDID byte, then strict UTF-8, then GB18030), the CRS (the file's,
an explicit override, or inferred from magnitudes: :func:`geo.crs.infer_crs`)
and the field names (alias profiles, :data:`DEFAULT_PROFILE`), and records
each decision. Unknown fields are kept as JSON in ``attrs``; features that
cannot be used (null, empty or non-polygonal geometry) are quarantined with a
reason, never dropped silently.

The ``*_from_file`` functions return canonical frames for notebooks (the
import record and the quarantine travel in ``frame.attrs["hetu"]``);
:func:`ingest_file` loads a file into a ledger in one transaction.
"""

from __future__ import annotations

import codecs
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
import pyogrio
import shapely

from geo import crs as crs_mod
from geo._errors import IngestError, SchemaError
from geo.labels import ISSUE_TYPE_CODES, ISSUE_TYPES, LEVELS
from geo.settings import Settings
from geo.store import ImportRecord, Ledger, file_sha256, record_as_dict

KINDS = ("patches", "ranges", "chiefs", "surveys")

#: Field aliases per kind: canonical name -> names used by provinces and offices.
#: Matching ignores case and surrounding blanks. Extend with the ``aliases`` option.
DEFAULT_PROFILE: dict[str, dict[str, tuple[str, ...]]] = {
    "patches": {
        "patch_id": ("TBBH", "图斑编号", "TBBM", "图斑编码", "patch_id"),
        "issue_type": ("WTLX", "问题类型", "TBLX", "图斑类型", "issue_type"),
        "admin_code": ("XZQDM", "行政区代码", "行政区划代码", "XZQHDM", "admin_code"),
        "source_area": ("TBMJ", "MJ", "面积", "图斑面积", "source_area"),
        "detected_on": ("JCSJ", "监测时间", "监测日期", "detected_on"),
        "issued_on": ("XFSJ", "下发时间", "下发日期", "issued_on"),
        "description": ("WTMS", "问题描述", "描述", "description"),
    },
    "ranges": {
        "segment_id": ("HDBM", "河段编码", "HDDM", "segment_id"),
        "range_id": ("FWBH", "范围编号", "range_id"),
        "water_name": ("HHMC", "河湖名称", "河流名称", "water_name"),
        "water_code": ("HHBM", "河湖编码", "河流编码", "water_code"),
        "segment_name": ("HDMC", "河段名称", "segment_name"),
        "admin_code": ("XZQDM", "行政区划代码", "行政区代码", "admin_code"),
    },
    "chiefs": {
        "chief_id": ("HZBH", "河长编号", "chief_id"),
        "name": ("XM", "姓名", "河长姓名", "name"),
        "title": ("ZW", "职务", "title"),
        "level": ("JB", "级别", "河长级别", "level"),
        "segment_id": ("HDBM", "河段编码", "segment_id"),
        "admin_code": ("XZQDM", "行政区划代码", "行政区代码", "admin_code"),
        "phone": ("LXDH", "联系电话", "电话", "手机", "phone"),
        "term_start": ("任期开始", "任职时间", "term_start"),
        "term_end": ("任期结束", "离任时间", "term_end"),
    },
}

_REQUIRED = {
    "patches": ("patch_id",),
    "ranges": ("segment_id",),
    "chiefs": ("name", "level", "segment_id"),
}

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
_CPG_NAMES = {"65001": "utf-8", "936": "cp936", "utf8": "utf-8", "gbk": "gbk"}


# -- encodings ----------------------------------------------------------------------------


def sniff_dbf_encoding(path: str | os.PathLike) -> tuple[str | None, str]:
    """Decide the text encoding of a shapefile's DBF.

    Order: a ``.cpg`` file; the DBF's language driver id (LDID, byte 29),
    which GDAL maps itself; strict UTF-8 over the header and records; GB18030.

    Parameters
    ----------
    path : path-like
        The ``.shp`` or ``.dbf``.

    Returns
    -------
    encoding : str or None
        The encoding to pass to the reader; ``None`` lets GDAL use the LDID.
    reason : str
        The decision in words, for the import record.
    """
    p = Path(path)
    cpg = _sidecar(p, ".cpg")
    if cpg is not None:
        name = cpg.read_text(encoding="ascii", errors="replace").strip()
        enc = _CPG_NAMES.get(name.lower(), name)
        return enc, f"{cpg.name} says {name}"
    dbf = _sidecar(p, ".dbf")
    if dbf is None:
        return None, "no .dbf: geometry only"
    raw = dbf.read_bytes()
    if len(raw) > 29 and raw[29] != 0:
        return None, f"DBF language driver id {raw[29]} (no .cpg): decoded by GDAL"
    chunks = _dbf_text_chunks(raw)
    if all(c.isascii() for c in chunks):
        return "utf-8", "no .cpg, no LDID, ASCII text only"
    utf8, gb = _cjk_score(chunks, "utf-8"), _cjk_score(chunks, "gb18030")
    if utf8 is not None and (gb is None or utf8 >= gb):
        return "utf-8", "no .cpg, no LDID, valid UTF-8 Chinese text"
    if gb is not None:
        return "gb18030", "no .cpg, no LDID, text reads as Chinese in GB18030 (GBK superset)"
    return "latin-1", "no .cpg, no LDID, neither UTF-8 nor GB18030: read as Latin-1"


def _dbf_text_chunks(raw: bytes, *, max_records: int = 2000) -> list[bytes]:
    """Split a DBF into field names and character field values (first records only)."""
    if len(raw) < 32:
        return []
    n_records = int.from_bytes(raw[4:8], "little")
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = int.from_bytes(raw[10:12], "little")
    chunks, fields, pos, offset = [], [], 32, 1
    while pos + 32 <= header_len and raw[pos] != 0x0D:
        desc = raw[pos : pos + 32]
        width = desc[16]
        chunks.append(desc[:11].split(b"\0", 1)[0])
        if desc[11:12] == b"C":
            fields.append((offset, width))
        offset += width
        pos += 32
    for i in range(min(n_records, max_records)):
        rec = raw[header_len + i * record_len : header_len + (i + 1) * record_len]
        chunks += [rec[o : o + w].rstrip(b" \0") for o, w in fields]
    return [c for c in chunks if c]


def _cjk_score(chunks: list[bytes], encoding: str) -> float | None:
    """Share of non-ASCII characters that are CJK when decoded, or None if it fails.

    A writer may cut a value at the field width in the middle of a character,
    so an incomplete sequence at the end of a chunk is tolerated.
    """
    cjk = other = 0
    for chunk in chunks:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            text = decoder.decode(chunk, final=False)
        except UnicodeDecodeError:
            return None
        for ch in text:
            if ord(ch) < 128:
                continue
            if (
                "\u4e00" <= ch <= "\u9fff"
                or "\u3000" <= ch <= "\u303f"
                or "\uff00" <= ch <= "\uffef"
            ):
                cjk += 1
            else:
                other += 1
    return cjk / (cjk + other) if cjk + other else 1.0


def _sidecar(p: Path, suffix: str) -> Path | None:
    for cand in (p.with_suffix(suffix), p.with_suffix(suffix.upper())):
        if cand.is_file():
            return cand
    return None


def _record_counts(p: Path) -> tuple[int | None, int | None]:
    """Return the record counts of a shapefile's .shx (geometries) and .dbf (attributes)."""
    shx, dbf = _sidecar(p, ".shx"), _sidecar(p, ".dbf")
    n_shp = (shx.stat().st_size - 100) // 8 if shx else None
    n_dbf = None
    if dbf is not None:
        with open(dbf, "rb") as fh:
            head = fh.read(8)
        n_dbf = int.from_bytes(head[4:8], "little") if len(head) == 8 else None
    return n_shp, n_dbf


def source_sha256(path: str | os.PathLike) -> str:
    """Return the sha256 identifying an input (a shapefile's sidecars included)."""
    p = Path(path)
    if p.suffix.lower() != ".shp":
        return file_sha256(p)
    parts = [file_sha256(p)]
    for suffix in (".dbf", ".shx", ".prj", ".cpg"):
        side = _sidecar(p, suffix)
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
    settings: Settings | None = None,
) -> tuple[gpd.GeoDataFrame, ImportRecord]:
    """Read a vector file into EPSG:4490, deciding encoding and CRS.

    Parameters
    ----------
    path : path-like
        Any vector format pyogrio reads (Shapefile, GeoPackage, GeoJSON, KML, GPX…).
    layer : str or int, optional
        The layer; default the first.
    encoding : str, optional
        Override the sniffed encoding.
    crs : str or int, optional
        Override the CRS (e.g. ``"EPSG:4547"``), for files without or with a wrong one.
    settings : Settings, optional
        The office's central meridian and extent.

    Returns
    -------
    frame : GeoDataFrame
        In EPSG:4490.
    record : ImportRecord
        The encoding and CRS decisions, with ``n_read`` set.

    Raises
    ------
    IngestError
        If the file cannot be read, loses records, or lies outside the extent.
    """
    settings = settings or Settings()
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    rec = ImportRecord(kind="", file=str(p), sha256=source_sha256(p))
    enc_reason = "given by the caller" if encoding else ""
    if encoding is None and p.suffix.lower() in {".shp", ".dbf"}:
        encoding, enc_reason = sniff_dbf_encoding(p)
    try:
        gdf = gpd.read_file(p, layer=layer, encoding=encoding, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise IngestError(f"{p}: cannot be read as a vector layer ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{p}: text is not {encoding} ({exc}); give the right encoding with --encoding"
        ) from exc
    rec.encoding = f"{encoding or 'GDAL default'}: {enc_reason or 'format defines it'}"
    if p.suffix.lower() == ".shp":
        n_shp, n_dbf = _record_counts(p)
        counts = {n for n in (n_shp, n_dbf) if n is not None}
        if counts and counts != {len(gdf)}:
            raise IngestError(
                f"{p}: the .shp holds {n_shp} records and the .dbf {n_dbf}, but {len(gdf)} were "
                "read; the files do not match (GDAL would drop rows silently): ask the sender "
                "for a consistent set"
            )
    rec.n_read = len(gdf)
    decision = _decide_crs(gdf, crs=crs, settings=settings, source=p.name)
    if gdf.crs is None or decision.how == "override":
        gdf = gdf.set_crs(decision.crs, allow_override=True)
    rec.crs = f"{decision.how}: {decision.note}"
    gdf = gdf.to_crs(crs_mod.STORAGE_EPSG)
    crs_mod.check_extent(gdf, settings.extent, source=p.name)
    return gdf, rec


def _decide_crs(
    gdf: gpd.GeoDataFrame, *, crs: str | int | None, settings: Settings, source: str
) -> crs_mod.CRSDecision:
    if crs is not None:
        from pyproj import CRS

        chosen = CRS.from_user_input(crs)
        return crs_mod.CRSDecision(chosen.to_epsg(), chosen.to_wkt(), "override", f"{crs} given")
    if gdf.crs is not None:
        epsg = gdf.crs.to_epsg()
        return crs_mod.CRSDecision(epsg, gdf.crs.to_wkt(), "file", f"from the file: {gdf.crs.name}")
    bounds = tuple(float(v) for v in gdf.total_bounds) if len(gdf) else (np.nan,) * 4
    return crs_mod.infer_crs(bounds, central_meridian=settings.central_meridian, source=source)


def _rename(
    df: pd.DataFrame,
    kind: str,
    *,
    source: str,
    aliases: Mapping[str, tuple[str, ...]] | None,
    rec: ImportRecord,
) -> tuple[pd.DataFrame, list[str]]:
    """Rename aliased columns to canonical names; return the frame and the unknown columns."""
    profile = {k: tuple(v) for k, v in DEFAULT_PROFILE[kind].items()}
    for key, extra in (aliases or {}).items():
        profile[key] = (*extra, *profile.get(key, ()))
    lookup = {a.strip().lower(): canon for canon, names in profile.items() for a in names}
    mapping: dict[str, str] = {}
    for col in df.columns:
        if col == "geometry":
            continue
        canon = lookup.get(str(col).strip().lower())
        if canon and canon not in mapping.values():
            mapping[col] = canon
    missing = [c for c in _REQUIRED[kind] if c not in mapping.values()]
    if missing:
        found = ", ".join(str(c) for c in df.columns if c != "geometry")
        wanted = "; ".join(f"{m}: one of {', '.join(profile[m])}" for m in missing)
        raise SchemaError(
            f"{source}: required field(s) missing: {wanted}. Found: {found}. "
            "Rename the column, or add an alias"
        )
    rec.decisions += [f"field {src} -> {dst}" for src, dst in mapping.items() if src != dst]
    unknown = [c for c in df.columns if c != "geometry" and c not in mapping]
    out = df.rename(columns=mapping)
    for canon in profile:
        if canon not in out.columns:
            out[canon] = None
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


def _polygonal(
    gdf: gpd.GeoDataFrame, *, id_col: str, rec: ImportRecord
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Repair polygons (make_valid, structure method); quarantine what cannot be used."""
    geoms = gdf.geometry.to_numpy()
    reasons: list[str | None] = [None] * len(gdf)
    fixed = geoms.copy()
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, [3, 6])
    invalid = ~missing & ~empty & polygonal & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(missing):
        reasons[i] = "null geometry"
    for i in np.flatnonzero(empty):
        reasons[i] = "empty geometry"
    for i in np.flatnonzero(~missing & ~empty & ~polygonal):
        reasons[i] = f"not a polygon ({shapely.get_type_id(geoms[i])}: {geoms[i].geom_type})"
    for i in np.flatnonzero(invalid):
        why = shapely.is_valid_reason(geoms[i])
        repaired = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        parts = [
            g for g in shapely.get_parts(repaired) if g.geom_type in ("Polygon", "MultiPolygon")
        ]
        if not parts:
            reasons[i] = f"invalid geometry that repairs to no polygon ({why})"
            continue
        fixed[i] = shapely.union_all(parts)
        before, after = geoms[i].area, fixed[i].area
        change = (after - before) / before * 100 if before else float("nan")
        rec.decisions.append(f"{gdf[id_col].iloc[i]}: repaired ({why}), area change {change:+.1f}%")
    keep = np.array([r is None for r in reasons])
    bad = [i for i, r in enumerate(reasons) if r is not None]
    quarantine = pd.DataFrame(
        {
            "row": bad,
            "feature_id": [str(gdf[id_col].iloc[i]) for i in bad],
            "reason": [reasons[i] for i in bad],
            "attrs": _attrs_json(gdf.iloc[bad].drop(columns="geometry"), []) if bad else [],
            "wkb": [None if missing[i] else shapely.to_wkb(geoms[i]) for i in bad],
        }
    )
    if bad:
        quarantine["attrs"] = [
            json.dumps(
                {k: _jsonable(v) for k, v in gdf.drop(columns="geometry").iloc[i].items()},
                ensure_ascii=False,
                default=str,
            )
            for i in bad
        ]
    out = gdf.set_geometry(fixed)[keep].copy()
    rec.n_quarantined = len(bad)
    return out, quarantine


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


def patches_from_file(
    path: str | os.PathLike,
    *,
    batch_id: str | None = None,
    issued_on: str | dt.date | None = None,
    settings: Settings | None = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> gpd.GeoDataFrame:
    """Read a province batch of patches (图斑) into the canonical patch frame.

    Parameters
    ----------
    path : path-like
        The batch file (a GBK shapefile without .cpg or .prj is fine).
    batch_id : str, optional
        The batch; default the file name without suffix.
    issued_on : str or date, optional
        The batch's issue date (下发时间), for patches whose file gives none.
    settings : Settings, optional
        Central meridian and extent for CRS inference and checks.
    layer, encoding, crs : optional
        Overrides passed to :func:`read_layer`.
    aliases : mapping, optional
        Extra field aliases, canonical name -> source names.

    Returns
    -------
    GeoDataFrame
        EPSG:4490 with the columns of DESIGN.md (``patch_id``, ``batch_id``,
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
    gdf, rec = read_layer(p, layer=layer, encoding=encoding, crs=crs, settings=settings)
    rec.kind, rec.batch_id = "patches", batch_id or p.stem
    df, unknown = _rename(gdf, "patches", source=p.name, aliases=aliases, rec=rec)
    ids = df["patch_id"].astype(object).where(df["patch_id"].notna(), None)
    ids = ids.map(lambda v: None if v is None else str(v).strip())
    blank = [i + 1 for i, v in enumerate(ids) if not v]
    if blank:
        raise SchemaError(f"{p.name}: row(s) {blank[:20]} have no patch id; fill the field")
    dup = sorted(ids[ids.duplicated()].unique())
    if dup:
        raise SchemaError(f"{p.name}: duplicate patch id(s) in the file: {', '.join(dup[:20])}")
    out = gpd.GeoDataFrame({"patch_id": ids, "batch_id": rec.batch_id}, geometry=df.geometry)
    types = [issue_type_of(v) for v in df["issue_type"]]
    odd = sorted({str(v) for v, t in zip(df["issue_type"], types, strict=True) if t is None})
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
    out, quarantine = _polygonal(out, id_col="patch_id", rec=rec)
    metric = crs_mod.metric_crs(out, central_meridian=settings.central_meridian)
    out["area_m2"] = out.geometry.to_crs(metric).area.round(2) if len(out) else []
    out = out[["patch_id", "batch_id", "issue_type", "admin_code", "detected_on", "issued_on",
               "area_m2", "source_area", "description", "attrs", "geometry"]]  # fmt: skip
    return with_meta(out.reset_index(drop=True), rec, quarantine)


def segments_from_file(
    path: str | os.PathLike,
    *,
    settings: Settings | None = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> gpd.GeoDataFrame:
    """Read management ranges cut into segments (河湖管理范围 / 河段).

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per segment: ``segment_id, range_id, water_name,
        water_code, segment_name, admin_code, attrs``. A missing ``range_id``
        is taken from the water code, else the water name (recorded).
    """
    settings = settings or Settings()
    p = Path(path)
    gdf, rec = read_layer(p, layer=layer, encoding=encoding, crs=crs, settings=settings)
    rec.kind = "ranges"
    df, unknown = _rename(gdf, "ranges", source=p.name, aliases=aliases, rec=rec)
    df["segment_id"] = df["segment_id"].map(lambda v: None if pd.isna(v) else str(v).strip())
    dup = sorted(df.loc[df["segment_id"].duplicated(), "segment_id"].dropna().unique())
    if dup or df["segment_id"].isna().any():
        raise SchemaError(
            f"{p.name}: segment ids must be present and unique; duplicates: {', '.join(dup[:20])}"
        )
    if df["range_id"].isna().all():
        df["range_id"] = df["water_code"].fillna(df["water_name"])
        rec.decisions.append("no range id field: range_id taken from the water code or name")
    df["attrs"] = _attrs_json(df, unknown)
    out = gpd.GeoDataFrame(df, geometry="geometry", crs=gdf.crs)
    out, quarantine = _polygonal(out, id_col="segment_id", rec=rec)
    if len(quarantine):
        raise SchemaError(
            f"{p.name}: segment(s) without a usable polygon: "
            + "; ".join(f"{r.feature_id} ({r.reason})" for r in quarantine.itertuples())
        )
    for col in ("range_id", "water_code", "admin_code"):
        out[col] = out[col].map(lambda v: None if pd.isna(v) else str(v).strip())
    cols = ["segment_id", "range_id", "water_name", "water_code", "segment_name", "admin_code"]
    return with_meta(out[[*cols, "attrs", "geometry"]].reset_index(drop=True), rec)


def chiefs_from_file(
    path: str | os.PathLike,
    *,
    sheet: str | int = 0,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> pd.DataFrame:
    """Read the chiefs list (河长名录) from Excel or CSV, one row per chief and segment.

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
    if p.suffix.lower() in {".xlsx", ".xlsm", ".xls"}:
        raw = pd.read_excel(p, sheet_name=sheet, dtype=str)
        rec.encoding = "xlsx: not applicable"
    else:
        raw, rec.encoding = _read_csv(p)
    rec.n_read = len(raw)
    df, unknown = _rename(raw, "chiefs", source=p.name, aliases=aliases, rec=rec)
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


def _read_csv(p: Path) -> tuple[pd.DataFrame, str]:
    raw = p.read_bytes()
    for enc, why in (("utf-8-sig", "UTF-8"), ("gb18030", "GB18030 (not valid UTF-8)")):
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return pd.read_csv(p, dtype=str, encoding=enc), f"{enc}: {why}"
    raise IngestError(f"{p}: text is neither UTF-8 nor GB18030; save it as UTF-8")


def _record(frame: pd.DataFrame) -> tuple[ImportRecord, pd.DataFrame]:
    meta = frame.attrs.get("hetu", {})
    rec = ImportRecord(**meta["record"])
    return rec, pd.DataFrame(meta.get("quarantine", []))


def ingest_file(
    ledger: Ledger,
    kind: str,
    path: str | os.PathLike,
    *,
    batch_id: str | None = None,
    issued_on: str | dt.date | None = None,
    settings: Settings | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    layer: str | int | None = None,
) -> ImportRecord:
    """Read a file and load it into the ledger in one transaction.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    kind : str
        One of :data:`KINDS`.
    path : path-like
        The file.
    batch_id : str, optional
        For patches: the batch (default the file name).
    issued_on : str or date, optional
        For patches: the batch's issue date, where the file gives none.
    settings : Settings, optional
        Default the ledger's settings.
    encoding, crs, layer : optional
        Reader overrides.

    Returns
    -------
    ImportRecord
        What was read, decided and kept; ``reused`` when this exact file was
        ingested before (nothing is written then).
    """
    if kind not in KINDS:
        raise IngestError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: file not found")
    earlier = ledger.find_import(kind, source_sha256(p))
    if earlier is not None:
        return earlier
    settings = settings or ledger.settings
    opts = {"encoding": encoding, "crs": crs, "layer": layer, "settings": settings}
    if kind == "patches":
        frame = patches_from_file(p, batch_id=batch_id, issued_on=issued_on, **opts)
        rec, quarantine = _record(frame)
        return ledger.add_patches(frame, rec, quarantine=quarantine)
    if kind == "ranges":
        frame = segments_from_file(p, **opts)
        rec, _ = _record(frame)
        return ledger.add_segments(frame, rec)
    if kind == "chiefs":
        frame = chiefs_from_file(p)
        rec, _ = _record(frame)
        return ledger.add_chiefs(frame, rec)
    from geo.surveys import surveys_from_file

    tracks, findings = surveys_from_file(p)
    rec, _ = _record(tracks)
    return ledger.add_surveys(tracks, findings, rec)
