"""Field task packages (外业核查包): one folder per township for the field team.

:func:`write_tasks` writes, per township, an Excel sheet with the open
patches (grey ledger columns, yellow fill-in columns with drop-downs and date
validation, protected so only the fill-in cells change), a GeoPackage of the
same patches that QField opens, and an empty ``photos/`` folder. The filled
sheet comes back through :func:`geo.field.fieldwork.apply_sheet`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from geo.clock import as_time
from geo.errors import InvalidTransitionError, LedgerError, SchemaError
from geo.field.fieldwork import target_options
from geo.field.tasksheet import (
    CONTEXT_FIELDS,
    DATE_MAX,
    DATE_MIN,
    FILL_FIELDS,
    FONT,
    HEADERS,
    PHOTOS,
    as_day,
    is_blank,
)
from geo.fileio import atomic_path, xlsx_workbook
from geo.labels import COLUMNS, FIELDWORK, ISSUE_TYPES, TEXT, label
from geo.ledger.gpkg import GDAL_OPTIONS
from geo.ledger.store import Ledger
from geo.policy.lifecycle import EVIDENCE_KINDS, Lifecycle
from geo.text import display_width

log = logging.getLogger(__name__)

_LAYER = "patches"

_MAX_WIDTH = 50

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')

_GPKG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL,"
    " column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT, mime_type TEXT,"
    " constraint_name TEXT, CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),"
    " CONSTRAINT gdc_tn UNIQUE (table_name, name))",
    "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,"
    " extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,"
    " CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))",
    "CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL,"
    " constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN,"
    " max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,"
    " CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))",
    "INSERT OR IGNORE INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, 'gpkg_schema',"
    " 'http://www.geopackage.org/spec/#extension_schema', 'read-write')",
    "INSERT OR IGNORE INTO gpkg_extensions VALUES ('gpkg_data_column_constraints', NULL,"
    " 'gpkg_schema', 'http://www.geopackage.org/spec/#extension_schema', 'read-write')",
)

#: GeoPackage field (ASCII, for QField) -> the sheet field it holds (its header is the alias).
_GPKG_FIELDS = {
    "patch_id": "patch_id", "state_zh": "state", "issue_zh": "issue_type",
    "water": "water_segment", "descr": "description", "issued_on": "issued_on",
    "deadline": "deadline", "chief_vil": "chief_village", "chief_town": "chief_township",
}  # fmt: skip


def _safe_name(name: str) -> str:
    return _UNSAFE.sub("_", name).strip(" .") or "_"


def _context(frame: pd.DataFrame, lifecycle: Lifecycle) -> dict[str, list[Any]]:
    """Return the read-only columns of a task sheet, one list per field."""

    def text(col: str) -> list[str]:
        return ["" if is_blank(v) else str(v) for v in frame[col]] if col in frame else [""] * n

    n = len(frame)
    water = [
        "/".join(p for p in (w, s) if p)
        for w, s in zip(text("water_name"), text("segment_name"), strict=True)
    ]
    points = shapely.centroid(frame.geometry.to_numpy()) if n else []
    return {
        "patch_id": text("patch_id"),
        "state": [lifecycle.label(s) for s in text("state")],
        "water_segment": water,
        "issue_type": [label(ISSUE_TYPES, v) if v else "" for v in text("issue_type")],
        "description": text("description"),
        "issued_on": [as_day(v) for v in text("issued_on")],
        "deadline": [as_day(v) for v in text("deadline")],
        "overdue_days": [int(v) if v else 0 for v in text("overdue_days")],
        "chief_village": text("chief_village"),
        "chief_township": text("chief_township"),
        "centroid_lon": [None if p is None else round(p.x, 6) for p in points],
        "centroid_lat": [None if p is None else round(p.y, 6) for p in points],
    }


class _SheetFormats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter", "border": 1}
        head = {**base, "bold": True, "text_wrap": True, "align": "center"}
        self.head_context = book.add_format({**head, "bg_color": "#D9D9D9"})
        self.head_fill = book.add_format({**head, "bg_color": "#FFE699"})
        self.context = book.add_format({**base, "bg_color": "#F2F2F2", "num_format": "@"})
        grey = {**base, "bg_color": "#F2F2F2"}
        self.context_date = book.add_format({**grey, "num_format": "yyyy-mm-dd"})
        self.context_num = book.add_format(grey)
        self.fill = book.add_format({**base, "locked": False, "num_format": "@", "text_wrap": True})
        self.fill_date = book.add_format({**base, "locked": False, "num_format": "yyyy-mm-dd"})
        self.plain = book.add_format({"font_name": FONT, "font_size": 11, "text_wrap": True})


def _write_sheet(
    frame: pd.DataFrame, path: Path, *, lifecycle: Lifecycle, title: str, as_of: str
) -> None:
    """Write one task sheet (rows sorted by state, so each state's rows share a drop-down)."""
    with xlsx_workbook(path) as book:
        fmt = _SheetFormats(book)
        sheet = book.add_worksheet(FIELDWORK["sheet"])
        guide = book.add_worksheet(FIELDWORK["guide_sheet"])
        options = book.add_worksheet(FIELDWORK["options_sheet"])
        fields = list(HEADERS)
        col = {f: i for i, f in enumerate(fields)}
        widths = [display_width(HEADERS[f]) for f in fields]
        for f in fields:
            head = fmt.head_context if f in CONTEXT_FIELDS else fmt.head_fill
            sheet.write_string(0, col[f], HEADERS[f], head)
        values = _context(frame, lifecycle)
        n = len(frame)
        for i in range(n):
            for f in CONTEXT_FIELDS:
                v, c = values[f][i], col[f]
                if v is None or v == "":
                    sheet.write_blank(i + 1, c, None, fmt.context)
                elif isinstance(v, dt.date):
                    sheet.write_datetime(i + 1, c, v, fmt.context_date)
                    widths[c] = max(widths[c], 10)
                elif isinstance(v, int | float):
                    sheet.write_number(i + 1, c, v, fmt.context_num)
                    widths[c] = max(widths[c], len(str(v)))
                else:
                    sheet.write_string(i + 1, c, v, fmt.context)
                    widths[c] = max(widths[c], display_width(v))
            for f in FILL_FIELDS:
                sheet.write_blank(i + 1, col[f], None, fmt.fill_date if f == "date" else fmt.fill)
        for f in FILL_FIELDS:
            widths[col[f]] = max(widths[col[f]], 24 if f in ("measures", "note") else 14)
        for c, w in enumerate(widths):
            sheet.set_column(c, c, min(w + 2, _MAX_WIDTH))
        sheet.set_row(0, 32)
        sheet.freeze_panes(1, 1)
        if n:
            _validations(sheet, options, frame, lifecycle=lifecycle, col=col)
            sheet.autofilter(0, 0, n, len(fields) - 1)
        sheet.protect("", {"autofilter": True, "format_columns": True, "format_rows": True})
        guide.set_column(0, 0, 100)
        guide.write_string(0, 0, title, fmt.plain)
        guide.write_string(1, 0, f"{TEXT['as_of']} {as_of}", fmt.plain)
        for r, line in enumerate(FIELDWORK["guide"].splitlines(), start=3):
            guide.write_string(r, 0, line, fmt.plain)
        options.hide()
        sheet.activate()


def _validations(
    sheet: Any, options: Any, frame: pd.DataFrame, *, lifecycle: Lifecycle, col: dict[str, int]
) -> None:
    """Add the drop-down of targets (one per run of rows in the same state) and the others."""
    n = len(frame)
    states = frame["state"].astype(str).tolist()
    lists: dict[str, str] = {}
    for j, state in enumerate(dict.fromkeys(states)):
        labels = [lifecycle.label(t) for t in target_options(lifecycle, state)]
        options.write_string(0, j, state)
        for r, text in enumerate(labels, start=1):
            options.write_string(r, j, text)
        if labels:
            letter = xl_col_to_name(j)
            lists[state] = (
                f"='{FIELDWORK['options_sheet']}'!${letter}$2:${letter}${len(labels) + 1}"
            )
    c, start = col["target"], 0
    for i in range(1, n + 1):
        if i == n or states[i] != states[start]:
            if states[start] in lists:
                sheet.data_validation(start + 1, c, i, c, {
                    "validate": "list",
                    "source": lists[states[start]],
                    "input_title": FIELDWORK["target_title"],
                    "input_message": FIELDWORK["target_prompt"],
                    "error_title": FIELDWORK["target_title"],
                    "error_message": FIELDWORK["target_error"],
                })  # fmt: skip
            start = i
    sheet.data_validation(1, col["date"], n, col["date"], {
        "validate": "date",
        "criteria": "between",
        "minimum": dt.datetime.combine(DATE_MIN, dt.time()),
        "maximum": dt.datetime.combine(DATE_MAX, dt.time()),
        "input_title": FIELDWORK["date_title"],
        "input_message": FIELDWORK["date_prompt"],
        "error_title": FIELDWORK["date_title"],
        "error_message": FIELDWORK["date_error"],
    })  # fmt: skip
    for kind in EVIDENCE_KINDS:
        sheet.data_validation(1, col[kind], n, col[kind], {
            "validate": "any",
            "input_title": FIELDWORK["files_title"],
            "input_message": FIELDWORK["files_prompt"],
        })  # fmt: skip


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path, *, lifecycle: Lifecycle) -> None:
    """Write the patches for QField: EPSG:4326, layer ``patches``, ASCII names, Chinese aliases."""
    values = _context(frame, lifecycle)
    cols = {"state": frame["state"].astype(str).tolist()}
    for name, f in _GPKG_FIELDS.items():
        cols[name] = [v.isoformat() if isinstance(v, dt.date) else v for v in values[f]]
    aliases = {"state": COLUMNS["state"]} | {n: HEADERS[f] for n, f in _GPKG_FIELDS.items()}
    geoms = gpd.GeoSeries(frame.geometry.to_numpy(), crs=frame.crs).to_crs(4326)
    gdf = gpd.GeoDataFrame(cols, geometry=geoms.to_numpy(), crs=4326)
    with atomic_path(path) as tmp:
        options = {"IDENTIFIER": FIELDWORK["layer"], "DESCRIPTION": FIELDWORK["layer"]}
        gdf.to_file(tmp, layer=_LAYER, driver="GPKG", engine="pyogrio", layer_options=options,
                    dataset_options=GDAL_OPTIONS)  # fmt: skip
        conn = sqlite3.connect(tmp)
        try:
            with conn:
                for statement in _GPKG_SCHEMA:
                    conn.execute(statement)
                conn.executemany(
                    "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name,"
                    " title) VALUES (?, ?, ?, ?)",
                    [(_LAYER, c, a, a) for c, a in aliases.items()],
                )
        finally:
            conn.close()


def write_tasks(
    ledger: Ledger,
    out_dir: str | os.PathLike,
    *,
    by: str = "township",
    as_of: dt.date | str | None = None,
    states: Iterable[str] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write one field task package per township (or per value of ``by``).

    Each package is a folder ``<out_dir>/<name>/`` holding
    ``<name>_外业核查表.xlsx`` (sheet ``外业填报``: one row per patch, read-only
    ledger columns in grey, fill-in columns in yellow with data validation; the
    target drop-down of each row lists the states reachable from that row's
    state, see :func:`target_options`), ``<name>_外业图斑.gpkg`` (layer
    ``patches`` in EPSG:4326 with ASCII field names and Chinese aliases, for
    QField) and an empty ``photos/`` folder for the field team's files.

    Parameters
    ----------
    ledger : Ledger
        The open ledger.
    out_dir : path-like
        Where the package folders are written (created if missing).
    by : str
        A column of :meth:`Ledger.status_frame` to group by.
    as_of : date or str, optional
        The day overdue days are counted to (default today).
    states : iterable of str, optional
        The states to include; default every open state from which a sheet
        row can move (:meth:`Lifecycle.is_open`).
    overwrite : bool
        Replace existing sheets; by default an existing sheet is refused, since
        it may already hold the field team's entries.

    Returns
    -------
    list of Path
        The package folders, in name order; empty when no patch qualifies.

    Raises
    ------
    SchemaError
        If ``by`` is not a column of the status frame.
    InvalidTransitionError
        If ``states`` names a state the lifecycle does not have.
    LedgerError
        If a sheet exists and ``overwrite`` is false.
    """
    lc = ledger.lifecycle
    frame = ledger.status_frame(as_of=as_of)
    if by not in frame.columns or by == frame.geometry.name:
        raise SchemaError(
            f"cannot group tasks by {by!r}; use one of "
            f"{', '.join(c for c in frame.columns if c != frame.geometry.name)}"
        )
    if states is None:
        wanted = {s for s in lc.states if lc.is_open(s) and target_options(lc, s)}
        wanted.discard("proposed")  # 待审核 waits on the county, not on the field
    else:
        wanted = set(states)
        unknown = sorted(wanted - set(lc.states))
        if unknown:
            raise InvalidTransitionError(
                f"unknown state(s) {unknown}; states are: {', '.join(lc.states)}"
            )
    frame = frame[frame["state"].isin(wanted)]
    rank = {s: i for i, s in enumerate(lc.states)}
    keys = frame[by].map(lambda v: "" if is_blank(v) else str(v))
    day = as_time(as_of)[:10] if as_of is not None else as_time(None)[:10]
    out = Path(out_dir)
    packages: list[Path] = []
    for key in sorted(set(keys)):
        part = frame[keys == key].assign(_rank=lambda f: f["state"].map(rank))
        part = part.sort_values(["_rank", "patch_id"]).drop(columns="_rank")
        name = _safe_name(key or TEXT["no_township"])
        folder = out / name
        sheet = folder / f"{name}_{FIELDWORK['workbook']}.xlsx"
        if sheet.exists() and not overwrite:
            raise LedgerError(
                f"{sheet} exists and may hold the field team's entries; write the tasks to "
                "another folder, or pass overwrite=True (--overwrite) to replace it"
            )
        (folder / PHOTOS).mkdir(parents=True, exist_ok=True)
        title = f"{ledger.settings.office_name} {name} {FIELDWORK['workbook']}".strip()
        _write_sheet(part, sheet, lifecycle=lc, title=title, as_of=day)
        _write_gpkg(part, folder / f"{name}_{FIELDWORK['layer']}.gpkg", lifecycle=lc)
        log.info("wrote the task package %s (%d patches)", folder, len(part))
        packages.append(folder)
    return packages
