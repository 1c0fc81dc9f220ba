"""Problems from any source: a 12345 work-order sheet, a 举报 or 暗访 list, 督查 items.

:func:`problems_from_file` reads a sheet (CSV, .xlsx, .xls) or a vector layer (KML,
GeoJSON, GeoPackage …) of cases, one per row: 受理编号, 受理时间, 来源, 问题描述, 地址,
问题类型, 紧急程度 (一般/重大), and 经度/纬度 or a polygon. It returns the canonical patch
frame (:func:`geo.ingest.readers.patches_from_file`'s columns), so a case goes through
the same ledger, matching and lifecycle as a remote-sensing patch:

- the patch id is the source's prefix and the 受理编号 (``RX-2026043001`` for 12345),
  so it cannot collide with a 图斑编号 or another source's number;
- a case given as a point is drawn as a circle of ``[problems] point_buffer_m``;
- its ``attrs`` hold the source (``source``), 受理时间, 一般/重大 (``severity``) and the
  受理, 反馈 and 办结 deadlines (:func:`geo.policy.sources.source_deadlines`);
- the columns naming the person who reported it (反映人, 联系电话 …,
  :data:`PRIVATE_COLUMNS`) are dropped as soon as the file is read: they are never
  stored, logged or written anywhere.

The file is all or nothing: every bad cell (blank or bad 受理编号, a duplicate, a bad
受理时间, an unknown source or 紧急程度, coordinates missing, swapped or outside China or
the office's extent) is named, with its row and field and the fix, and nothing is kept.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import crs as crs_mod
from geo.clock import implausible
from geo.errors import SchemaError
from geo.ingest.checks import clean_id, jsonable, polygonal
from geo.ingest.chiefs import refused
from geo.ingest.headers import HeaderSpec, SheetRows
from geo.ingest.points import circles_from_points
from geo.ingest.readers import iso_date, issue_type_of, read_layer, with_meta
from geo.ingest.tabular import (
    TABLE_SUFFIXES,
    UNREADABLE,
    parse_coordinate,
    read_table,
    sheet_rows,
    where,
)
from geo.policy.sources import (
    PROBLEM_SOURCES,
    SOURCE_CODES,
    SOURCE_PREFIX,
    source_code,
    source_deadlines,
)
from geo.records import PATCH_COLUMNS
from geo.settings import Settings
from geo.text import normalise_header

__all__ = ["CASE_ID_MAX", "FIELDS", "PRIVATE_COLUMNS", "problems_from_file"]

#: Longest 受理编号 kept (characters); a longer one is refused, never cut.
CASE_ID_MAX = 40
#: The columns read, by meaning: the names offices give them.
FIELDS: dict[str, tuple[str, ...]] = {
    "case_no": ("受理编号", "工单编号", "工单号", "案件编号", "编号", "case_no"),
    "received": ("受理时间", "受理日期", "来电时间", "反映时间", "received"),
    "source": ("来源", "问题来源", "source"),
    "description": ("问题描述", "诉求内容", "反映内容", "描述", "description"),
    "address": ("地址", "问题地址", "发生地址", "address"),
    "issue_type": ("问题类型", "issue_type"),
    "severity": ("紧急程度", "重大", "问题等级", "严重程度", "severity"),
    "lon": ("经度", "lon", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
}
#: Columns about the person who reported a case: dropped at once, never stored.
PRIVATE_COLUMNS: tuple[str, ...] = (
    "反映人", "来电人", "举报人", "投诉人", "联系人", "姓名", "联系电话", "电话", "手机",
    "手机号", "手机号码", "来电号码", "身份证", "身份证号", "住址", "reporter", "phone",
)  # fmt: skip
_MAJOR = {"重大", "重大问题", "是", "紧急", "特急", "major", "true", "1", "y", "yes"}
_GENERAL = {"一般", "一般问题", "否", "普通", "general", "false", "0", "n", "no", ""}
_CASE_ID = re.compile(r"[0-9A-Za-z_\-]+")


def _column(columns: list[str], meaning: str) -> str | None:
    wanted = {normalise_header(n) for n in FIELDS[meaning]}
    return next((c for c in columns if normalise_header(c) in wanted), None)


def _private(columns: list[str]) -> list[str]:
    hidden = {normalise_header(n) for n in PRIVATE_COLUMNS}
    return [c for c in columns if normalise_header(c) in hidden]


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


#: The names a 12345 export's header holds (with those of who reported: they count too).
HEADER = HeaderSpec(
    names=(*(n for names in FIELDS.values() for n in names), *PRIVATE_COLUMNS),
    key=FIELDS["case_no"],
)


def _place(
    row: dict[str, Any], cols: dict[str, str | None], *, box: tuple[float, ...], where_box: str
) -> tuple[str, str] | None:
    """What is wrong with a row's 经度/纬度 (field, why), or None."""
    try:
        lon = parse_coordinate(row[cols["lon"]]) if cols["lon"] else None
        lat = parse_coordinate(row[cols["lat"]]) if cols["lat"] else None
    except ValueError as exc:
        return "lon", f"{exc}; write decimal degrees (e.g. 113.95)"
    if lon is None or lat is None:
        return ("lon" if lon is None else "lat",
                "blank; every case needs 经度 and 纬度 (decimal degrees), or give a layer "
                "with the case's outline")  # fmt: skip
    inside = box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
    if inside:
        return None
    if box[0] <= lat <= box[2] and box[1] <= lon <= box[3]:
        return "lon", f"经度 {lon:g} and 纬度 {lat:g} are swapped; exchange the two cells"
    return "lon", (f"({lon:g}, {lat:g}) lies outside {where_box} {tuple(box)}; correct the "
                   "coordinates (decimal degrees, 经度 first)")  # fmt: skip


def _check_rows(
    df: pd.DataFrame,
    cols: dict[str, str | None],
    *,
    given: str | None,
    rows: SheetRows | None,
    extent: tuple[float, float, float, float] | None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Every problem of the rows (``row N, field F: … ; fix``), and each row's values."""
    errors: list[str] = []
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    box = extent or crs_mod.CHINA_BOX
    where_box = "the office's extent" if extent else "China"
    for i, cells in enumerate(df.to_dict("records")):
        at = where(i, rows)
        row: dict[str, Any] = {}

        def bad(meaning: str, why: str, at: str = at) -> None:
            errors.append(f"{at}, field {cols.get(meaning) or FIELDS[meaning][0]}: {why}")

        case = clean_id(cells[cols["case_no"]]) if cols["case_no"] else None
        case = unicodedata.normalize("NFKC", case) if case else None
        if case is None:
            bad("case_no", "blank; every case needs its 受理编号")
        elif len(case) > CASE_ID_MAX or not _CASE_ID.fullmatch(case):
            bad("case_no", f"{case[:60]!r} is not a 受理编号 (letters, digits, - and _, at "
                f"most {CASE_ID_MAX} characters); correct the cell")  # fmt: skip
        elif case in seen:
            bad("case_no", f"{case} repeats {where(seen[case], rows)}; one row per case")
        else:
            seen[case] = i
        row["case_no"] = case
        raw_time = cells[cols["received"]] if cols["received"] else None
        day = None
        try:
            day = iso_date(raw_time, source="", row=i, field="received")
        except SchemaError:
            bad("received", f"{_cell(raw_time)!r} is not a date; write it as YYYY-MM-DD HH:MM")
        else:
            if day is None:
                bad("received", "blank; every case needs its 受理时间")
            elif implausible(day):
                bad("received", f"{day} {implausible(day)}; give the day the case was received")
                day = None
        row["received_on"], row["received"] = day, _cell(raw_time)
        name = given if given is not None else (
            _cell(cells[cols["source"]]) if cols["source"] else ""
        )  # fmt: skip
        code = source_code(name) if name else None
        if code is None:
            bad("source", f"{name!r} is not a problem source; give --source or write one of "
                f"{', '.join(PROBLEM_SOURCES)}" if name else "blank; give --source (one of "
                f"{', '.join(PROBLEM_SOURCES)}) or fill the 来源 column")  # fmt: skip
        row["code"] = code
        level = _cell(cells[cols["severity"]]).lower() if cols["severity"] else ""
        if level in _MAJOR or level.startswith("重大"):
            row["major"] = True
        elif level in _GENERAL:
            row["major"] = False
        else:
            bad("severity", f"{level!r} is neither 一般 nor 重大; write 一般 or 重大")
            row["major"] = False
        if rows is not None:  # a table's 经度/纬度
            why = _place(cells, cols, box=box, where_box=where_box)
            if why:
                bad(*why)
        out.append(row)
    return errors, out


def _columns(frame: pd.DataFrame, *, source: str) -> tuple[list[str], dict[str, str | None]]:
    """The columns of ``frame`` and the one of each meaning; refuse without 受理编号 or 受理时间."""
    columns = [str(c) for c in frame.columns if c not in ("geometry", UNREADABLE)]
    cols = {m: _column(columns, m) for m in FIELDS}
    rows = sheet_rows(frame)
    taken = (
        f" (the header taken from row {rows.header}: give --header-row N if the column names "
        "are in row N)"
        if rows
        else ""
    )
    for need in ("case_no", "received"):
        if cols[need] is None:
            raise SchemaError(
                f"{source}: no {FIELDS[need][0]} column; the columns are: {', '.join(columns)}"
                f"{taken}; name one of them {' or '.join(FIELDS[need][:3])}"
            )
    return columns, cols


def _refuse(source: str, errors: list[str]) -> SchemaError:
    return refused(source, errors, what="problem(s)", outcome="nothing was written")


def problems_from_file(
    path: str | os.PathLike,
    *,
    source: str | None = None,
    batch_id: str | None = None,
    settings: Settings | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    layer: str | int | None = None,
    source_crs: str | None = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read a sheet or layer of cases into the canonical patch frame (see the module).

    Parameters
    ----------
    path : path-like
        The sheet (CSV, .xlsx, .xls, with 经度/纬度) or a vector layer.
    source : str, optional
        The source of every case (``12345``, ``举报``, ``暗访``, ``督查``, ``上级交办``,
        ``巡河``, ``媒体``, ``其他``); default each row's 来源.
    batch_id : str, optional
        Default the source's prefix and the file name (``RX-12345工单``).
    settings : Settings, optional
        The office's ``[problems]`` rules, calendar, extent and meridian.
    sheet, encoding, crs, layer, source_crs : optional
        As for :func:`geo.ingest.readers.read_layer`.
    header_row : int, optional
        For a sheet: its header's row (from 1), where the search is wrong. By default the
        header is the row among the first 20 holding most of :data:`FIELDS`' names, so a
        title (``株洲市12345热线工单导出 2026-04-30``) above it is passed over; rows in
        messages are those Excel shows.

    Returns
    -------
    GeoDataFrame
        The canonical patch frame; the import record (kind ``problems``) in
        ``frame.attrs["hetu"]``, no quarantine.

    Raises
    ------
    SchemaError
        For an unknown ``source`` (one line naming the sources), a missing 受理编号 or
        受理时间 column, or bad rows (each named by row, field and fix); nothing is kept.
    """
    settings = settings or Settings()
    p = Path(path)
    rules = settings.problems
    if source is not None and source_code(source) is None:
        raise SchemaError(
            f"--source {source!r} is not a problem source; use one of {', '.join(PROBLEM_SOURCES)}"
        )
    table = p.suffix.lower() in TABLE_SUFFIXES
    if table:  # every cell checked before anything else reads the rows
        raw, _note = read_table(
            p, sheet=sheet, encoding=encoding, header=HEADER, header_row=header_row
        )
        raw = raw.drop(columns=_private(list(map(str, raw.columns))))
        columns, cols = _columns(raw, source=p.name)
        errors, rows = _check_rows(
            raw, cols, given=source, rows=sheet_rows(raw), extent=settings.extent
        )
        if errors:
            raise _refuse(p.name, errors)
    gdf, rec = read_layer(
        p, layer=layer, encoding=encoding, crs=crs, source_crs=source_crs,
        sheet=sheet, settings=settings, header=HEADER, header_row=header_row,
    )  # fmt: skip
    hidden = _private([str(c) for c in gdf.columns if c != "geometry"])
    gdf = gdf.drop(columns=hidden)
    if hidden:
        rec.decisions.append(
            f"private column(s) {', '.join(hidden)} (who reported the case) not stored"
        )
    if table:
        attrs_frame = raw
        if len(raw) != len(gdf):
            raise SchemaError(f"{p.name}: {len(raw)} rows read as a table, {len(gdf)} as points")
    else:
        attrs_frame = gdf
        columns, cols = _columns(gdf, source=p.name)
        errors, rows = _check_rows(gdf, cols, given=source, rows=None, extent=settings.extent)
    gdf, drawn = circles_from_points(
        gdf, source=p.name, point_buffer=rules.point_buffer_m,
        central_meridian=settings.central_meridian,
    )  # fmt: skip
    rec.decisions += drawn
    if UNREADABLE in gdf.columns:
        errors += [str(r) for r in gdf[UNREADABLE] if isinstance(r, str) and r]
    if errors:
        raise _refuse(p.name, errors)
    codes = {r["code"] for r in rows}
    one = next(iter(codes)) if len(codes) == 1 else None  # a mixed list: WT (问题)
    rec.kind = "problems"
    rec.batch_id = batch_id or f"{SOURCE_PREFIX.get(one or '', 'WT')}-{p.stem}"
    ids, attrs, issued = [], [], []
    keep = [c for c in columns if c not in (cols["lon"], cols["lat"])]
    cells = attrs_frame[keep].to_dict("records")
    clocks: dict[tuple[str, str, bool], dict[str, str]] = {}
    for i, r in enumerate(rows):
        code = r["code"]
        ids.append(f"{SOURCE_PREFIX[code]}-{r['case_no']}")
        extra = {k: jsonable(v) for k, v in cells[i].items()}
        key = (r["received_on"], code, r["major"])
        if key not in clocks:  # many cases share a day: count each day's deadlines once
            clocks[key] = source_deadlines(
                dt.date.fromisoformat(r["received_on"]), code=code, major=r["major"],
                rules=rules, calendar=settings.calendar,
            )  # fmt: skip
        extra |= {
            "source": SOURCE_CODES[code],
            "severity": "major" if r["major"] else "general",
            **clocks[key],
        }
        attrs.append(json.dumps(extra, ensure_ascii=False))
        issued.append(r["received_on"])

    def values(meaning: str) -> list[str | None]:
        col = cols[meaning]
        return [_cell(v) or None for v in attrs_frame[col]] if col else [None] * len(rows)

    descriptions = [
        "；".join(x for x in (d, a) if x) or None
        for d, a in zip(values("description"), values("address"), strict=True)
    ]
    out = gpd.GeoDataFrame(
        {
            "patch_id": ids,
            "batch_id": rec.batch_id,
            "issue_type": [issue_type_of(v) or "other" for v in values("issue_type")],
            "admin_code": [None] * len(rows),
            "detected_on": issued,
            "issued_on": issued,
            "source_area": np.nan,
            "description": descriptions,
            "attrs": attrs,
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    out, quarantine = polygonal(out, id_col="patch_id", rec=rec)
    if len(quarantine):
        raise _refuse(p.name, [str(r) for r in quarantine["reason"]])
    metric = crs_mod.metric_crs(out, central_meridian=settings.central_meridian)
    out["area_m2"] = out.geometry.to_crs(metric).area.round(2)
    out = out[[*PATCH_COLUMNS, "geometry"]]
    return with_meta(out.reset_index(drop=True), rec)
