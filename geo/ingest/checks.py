"""The checks every input gets, whatever its format: ids, dates, coordinates, times of fixes.

- **Ids** (:func:`clean_id`, :func:`refuse_blank`): a cell that is empty, spaces or
  invisible characters is no id; the rows without one are named with the file and the
  field, and the batch is refused (all or nothing) before the database sees it.
- **Dates of patches** (:func:`check_dates`): from 2000-01-01 to tomorrow
  (:func:`geo.clock.implausible`, the one bound), every bad cell named at once.
- **Geometries of patches and segments** (:func:`polygonal`): repaired where they can
  be; quarantined with the reason where not (null, empty, not a polygon, a NaN or
  infinite coordinate: :func:`nonfinite_reasons`, never "repaired" into nothing).
- **Positions of survey fixes** (:meth:`FixChecks.position`): a finite longitude and
  latitude, or the file is refused naming the point and field.
- **Times of survey fixes** (:meth:`FixChecks.time`): parsed (:func:`parse_time`); one
  not from 2000-01-01 to tomorrow is dropped, and so is an unparsable GPX time, each
  counted and listed in the import record (:meth:`FixChecks.decisions`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.clock import TZ, as_time, implausible
from geo.crs import finite_mask
from geo.errors import IngestError, SchemaError
from geo.ingest.headers import SheetRows
from geo.ingest.tabular import UNREADABLE, row_number, stored_row
from geo.records import ImportRecord, is_missing

__all__ = [
    "FixChecks",
    "check_dates",
    "check_given_date",
    "clean_id",
    "field_names",
    "jsonable",
    "nonfinite_reasons",
    "parse_time",
    "polygonal",
    "refuse_blank",
]

#: Characters that show nothing: an id made only of them (and spaces) is blank.
_INVISIBLE = "".join(("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"))
#: How many rows, cells or times a message lists before "…".
_SHOWN = 20


def _listed(items: Sequence[object]) -> str:
    return ", ".join(str(v) for v in items[:_SHOWN]) + (" …" if len(items) > _SHOWN else "")


def clean_id(value: Any) -> str | None:
    """Return an id cell as stripped text, or ``None`` when it is blank.

    Missing values (``None``, NaN), empty text, spaces of any width and invisible
    characters (zero-width space, BOM, soft hyphen) are blank.
    """
    if is_missing(value):
        return None
    text = str(value).strip().strip(_INVISIBLE).strip()
    return text or None


def field_names(before: Iterable[Any], after: Iterable[Any]) -> dict[str, str]:
    """Map each canonical field to how messages name it: ``TBBH (patch_id)``, or ``patch_id``.

    ``before`` and ``after`` are a frame's columns before and after renaming to canonical
    names (renaming keeps their order).
    """
    return {
        str(a): str(a) if str(a) == str(b) else f"{b} ({a})"
        for b, a in zip(before, after, strict=False)
    }


def refuse_blank(
    ids: Iterable[str | None],
    *,
    source: str,
    field: str,
    what: str,
    rows: SheetRows | None = None,
) -> None:
    """Refuse a batch in which some rows have no id, naming the file, the rows and the field.

    Parameters
    ----------
    ids : iterable of str or None
        The ids after :func:`clean_id`, in file order (row 1 is the first feature).
    source : str
        The file name.
    field : str
        The file's field, e.g. ``"TBBH (patch_id)"``.
    what : str
        What the id is, e.g. ``"patch id"``.
    rows : SheetRows, optional
        For a table: where its rows are, so that the rows named are those Excel shows.

    Raises
    ------
    SchemaError
        ``batch.shp: row(s) 2, 5, field TBBH (patch_id): no patch id; fill it in for
        each row and send the file again (nothing was read)``.
    """
    blank = [row_number(i, rows) for i, v in enumerate(ids) if v is None]
    if blank:
        raise SchemaError(
            f"{source}: row(s) {_listed(blank)}, field {field}: no {what} (blank); fill it in "
            "for each row and send the file again (nothing was read)"
        )


def check_dates(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    source: str,
    fields: dict[str, str],
    rows: SheetRows | None = None,
) -> None:
    """Refuse dates of things that happened outside 2000-01-01 … tomorrow, naming every cell.

    Parameters
    ----------
    frame : DataFrame
        With ISO dates (or None) in ``columns``; row 1 is the first row.
    columns : sequence of str
        The canonical date columns (``detected_on``, ``issued_on``).
    source : str
        The file name.
    fields : dict
        Canonical column -> the file's field, for messages.
    rows : SheetRows, optional
        For a table: where its rows are (the rows named are those Excel shows).

    Raises
    ------
    SchemaError
        ``batch.shp: row 3, field XFSJ (issued_on): 2205-01-01 is after tomorrow
        (…); correct the year (dates run from 2000-01-01 to today)``, every such cell.
    """
    problems = []
    for col in columns:
        for i, value in enumerate(frame[col]):
            why = None if is_missing(value) else implausible(str(value))
            if why:
                problems.append(f"row {row_number(i, rows)}, field {fields.get(col, col)}: {why}")
    if problems:
        raise SchemaError(
            f"{source}: {len(problems)} implausible date(s): {'; '.join(problems[:_SHOWN])}"
            + (" …" if len(problems) > _SHOWN else "")
            + "; correct the year (dates run from 2000-01-01 to today); nothing was read"
        )


def check_given_date(day: str, *, source: str, what: str) -> None:
    """Refuse a date a caller gave for a whole file (``--issued-on``) outside 2000-01-01 … tomorrow.

    Raises
    ------
    SchemaError
        ``batch.shp: the issue date given (…) 2205-01-01 is after tomorrow (…); give
        the day it happened``.
    """
    why = implausible(day)
    if why:
        raise SchemaError(f"{source}: {what} {why}; give the day it happened")


def nonfinite_reasons(geoms: np.ndarray) -> list[str | None]:
    """Say, for each geometry with a NaN or infinite coordinate, which vertex and what it holds.

    Returns
    -------
    list of str or None
        ``None`` for a geometry whose coordinates are all finite (or that is missing).
    """
    geoms = np.asarray(geoms, dtype=object)
    ok = finite_mask(geoms)
    reasons: list[str | None] = [None] * len(geoms)
    for i in np.flatnonzero(~ok):
        coords = shapely.get_coordinates(geoms[i])
        k = int(np.flatnonzero(~np.isfinite(coords).all(axis=1))[0])
        x, y = (float(v) for v in coords[k])
        reasons[i] = (
            f"coordinates not finite: vertex {k + 1} is ({x}, {y}); NaN or infinity is no "
            "position: correct the outline and send it again"
        )
    return reasons


def parse_time(value: Any, *, utc: bool = False) -> dt.datetime | None:
    """Parse a time cell or element into an aware datetime; ``None`` when blank.

    Accepts ISO 8601 and what apps write (``2026/4/3 8:05``, ``2026年4月3日 08:05:00``)
    and epoch seconds or milliseconds (UTC). A time without a zone is Asia/Shanghai,
    or UTC with ``utc=True`` (GPX, by the format).

    Raises
    ------
    ValueError
        When the text is no time (the caller names the file, row and field).
    """
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        if is_missing(value):
            return None
        raw = unicodedata.normalize("NFKC", str(value)).strip()
        if not raw or raw.lower() in {"nan", "nat", "none", "null", "-"}:
            return None
        if re.fullmatch(r"\d{10}(\d{3})?(\.0)?", raw):  # epoch seconds or milliseconds (UTC)
            seconds = float(raw)
            return dt.datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, dt.UTC)
        cleaned = re.sub(r"[年月/]", "-", raw).replace("日", " ").strip()
        try:
            if not re.match(r"\d{4}-", cleaned):  # not "now" nor "today"
                raise ValueError(cleaned)
            stamp = pd.Timestamp(cleaned).to_pydatetime()
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"{value!r} is not a date and time (use 2026-04-03 08:15:00)") from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC if utc else TZ)
    return stamp


class FixChecks:
    """The checks of one survey file's fixes: positions refused, times dropped with a record.

    Parameters
    ----------
    source : str
        The file name, for messages.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self._unparsable: list[str] = []
        self._out_of_range: list[str] = []

    def position(self, lon: Any, lat: Any, *, where: str) -> tuple[float, float]:
        """Return a fix's ``(lon, lat)``; refuse a missing, non-finite or impossible one.

        Raises
        ------
        IngestError
            ``walk.gpx: track 晨巡, point 3, field lat: 'nan' is not a latitude (a
            finite number from -90 to 90); …``.
        """
        out = []
        for field, value, limit, name in (
            ("lon", lon, 180.0, "longitude"),
            ("lat", lat, 90.0, "latitude"),
        ):
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if not (math.isfinite(number) and abs(number) <= limit):
                raise IngestError(
                    f"{self.source}: {where}, field {field}: {value!r} is not a {name} (a finite "
                    f"number from -{limit:g} to {limit:g}); correct or delete the point in the "
                    "GPS app and export the file again"
                )
            out.append(number)
        return out[0], out[1]

    def time(
        self, value: Any, *, where: str, utc: bool = False, strict: bool = False
    ) -> str | None:
        """Return a fix's time in Asia/Shanghai, or ``None`` when blank or dropped.

        A time not from 2000-01-01 to tomorrow (a GPS that lost its clock: 1901,
        9999) is dropped and recorded; so is one that is no time at all, unless
        ``strict`` (a table or KML a person typed), where it raises.

        Raises
        ------
        ValueError
            With ``strict``, for a text that is no time.
        """
        try:
            stamp = parse_time(value, utc=utc)
        except ValueError:
            if strict:
                raise
            self._unparsable.append(f"{where}: {str(value).strip()!r}")
            return None
        if stamp is None:
            return None
        why = implausible(stamp)
        if why:
            self._out_of_range.append(f"{where}: {why}")
            return None
        return as_time(stamp)

    def decisions(self) -> list[str]:
        """The times dropped, counted and listed, for the import record."""
        out = []
        if self._unparsable:
            n = len(self._unparsable)
            out.append(f"{n} time(s) unparsable, dropped: {_listed(self._unparsable)}")
        if self._out_of_range:
            n = len(self._out_of_range)
            out.append(
                f"{n} time(s) not from 2000-01-01 to tomorrow (a GPS clock lost?), dropped: "
                + _listed(self._out_of_range)
            )
        return out


def jsonable(value: Any) -> Any:
    """A cell as JSON takes it: None for NaN, ISO text for dates, plain Python for numpy."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def polygonal(
    gdf: gpd.GeoDataFrame, *, id_col: str, rec: ImportRecord, rows: SheetRows | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Repair polygons (make_valid, structure method); quarantine what cannot be used.

    Quarantined, each with its reason: unreadable features, null, empty and
    non-polygonal geometries, NaN or infinite coordinates (:func:`nonfinite_reasons`)
    and polygons that repair to nothing; a repair is recorded with its area change.

    Returns
    -------
    frame : GeoDataFrame
        The usable features, repaired.
    quarantine : DataFrame
        ``row, feature_id, reason, attrs, wkb`` of the others; ``row`` as stored
        (:func:`geo.ingest.tabular.stored_row`: for a table, with ``rows``, its
        spreadsheet row - 2).
    """
    geoms = gdf.geometry.to_numpy()
    given = gdf[UNREADABLE].tolist() if UNREADABLE in gdf.columns else [None] * len(gdf)
    reasons: list[str | None] = [r if isinstance(r, str) else None for r in given]
    fixed = geoms.copy()
    missing = shapely.is_missing(geoms)
    odd = nonfinite_reasons(geoms)  # NaN or infinity: quarantined, not "repaired" into nothing
    skip = missing | np.array([r is not None for r in odd], dtype=bool)
    empty = ~skip & shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    for i in np.flatnonzero(~skip & ~empty & (types == 7)):
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
    is_area = np.isin(types, [3, 6])
    invalid = ~skip & ~empty & is_area & ~shapely.is_valid(fixed)
    for i in np.flatnonzero(missing):
        reasons[i] = reasons[i] or "null geometry"
    for i in np.flatnonzero(skip & ~missing):
        reasons[i] = reasons[i] or odd[i]
    for i in np.flatnonzero(empty):
        reasons[i] = "empty geometry"
    for i in np.flatnonzero(~skip & ~empty & ~is_area):
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
            "row": [stored_row(i, rows) for i in bad],
            "feature_id": [str(gdf[id_col].iloc[i]) for i in bad],
            "reason": [reasons[i] for i in bad],
            "attrs": [
                json.dumps(
                    {str(k): jsonable(v) for k, v in attrs.iloc[i].items()},
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
