"""The task sheet: its columns, reading a filled one back, its cells, its rejection report.

A task sheet (:func:`geo.field.tasks.write_tasks` writes it) has read-only ledger columns
(:data:`CONTEXT_FIELDS`) and fill-in columns (:data:`FILL_FIELDS`), found back by their
headers (:data:`HEADERS`) in any order. :func:`read_sheet` reads a filled sheet with its
Excel rows; :func:`parse_when` reads a date cell and :func:`evidence_files` an evidence
cell (the rules are in :mod:`geo.field.fieldwork`, which applies the rows);
:func:`write_report` writes the rejection report (退回) in Chinese.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from geo.clock import now
from geo.errors import IngestError, SchemaError
from geo.fileio import xlsx_workbook
from geo.labels import COLUMNS, DATE_ERRORS, EVIDENCE, FIELDWORK, TEXT
from geo.policy.lifecycle import EVIDENCE_KINDS
from geo.text import normalise_header

__all__ = [
    "CONTEXT_FIELDS", "DATE_MAX", "DATE_MIN", "FILL_FIELDS", "FONT", "HEADERS", "PHOTOS",
    "as_day", "cell_text", "evidence_files", "is_blank", "parse_when", "read_sheet",
    "write_report",
]  # fmt: skip

#: Read-only ledger columns of a task sheet, in order.
CONTEXT_FIELDS = (
    "patch_id", "state", "water_segment", "issue_type", "description", "issued_on", "deadline",
    "overdue_days", "chief_village", "chief_township", "centroid_lon", "centroid_lat",
)  # fmt: skip
#: Fill-in columns of a task sheet, in order.
FILL_FIELDS = ("target", "measures", "date", "reporter", *EVIDENCE_KINDS, "note")
#: Field id -> the sheet's header, for every column of a task sheet.
HEADERS: dict[str, str] = {
    **{f: COLUMNS.get(f, "") for f in CONTEXT_FIELDS},
    "state": FIELDWORK["current_state"],
    "water_segment": TEXT["water_segment"],
    **{f: FIELDWORK[f] for f in ("target", "measures", "date", "reporter", "note")},
    **{k: EVIDENCE[k] for k in EVIDENCE_KINDS},
}
HEADERS = {f: HEADERS[f] for f in (*CONTEXT_FIELDS, *FILL_FIELDS)}
_FIELD_OF_HEADER = {normalise_header(h, keep_notes=True): f for f, h in HEADERS.items()}
#: Names of problem fields that are not sheet columns.
_PROBLEM_LABELS = {"evidence": FIELDWORK["evidence"], "deadline": COLUMNS["deadline"]}

PHOTOS = "photos"
FONT = "Microsoft YaHei"
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# ASCII and full-width semicolon/comma, the enumeration comma, line breaks.
_FILE_SEP = re.compile("[;,\r\n\uff1b\uff0c\u3001]+")
_DATE_LETTERS = re.compile(r"[A-SU-Ya-su-y]")  # letters other than T and Z


def is_blank(value: Any) -> bool:
    """Whether a cell is empty: None, NaN or NaT (an empty string is not)."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def as_day(value: Any) -> dt.date | None:
    """A ledger value as a day (its first ten characters, ISO), None when it is none."""
    if is_blank(value):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def read_sheet(path: str | os.PathLike) -> list[tuple[int, dict[str, Any]]]:
    """Read a filled task sheet: ``(excel_row, {field: value})`` for every row with a value.

    The sheet ``外业填报`` (else the first sheet with a ``图斑编号`` header in its
    first ten rows) is read with openpyxl, values as stored (no formulas);
    columns are found by their headers, in any order. A workbook re-saved by
    Excel or WPS reads the same.

    Raises
    ------
    IngestError
        If the file is not an ``.xlsx`` workbook.
    SchemaError
        If no sheet has the patch-id and target-state headers (the message lists
        the headers found).
    """
    p = Path(path)
    try:
        with warnings.catch_warnings():
            # a date cell holding garbage is read as an error value and reported as a bad date
            warnings.filterwarnings("ignore", "Cell .* is marked as a date", UserWarning)
            book = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise IngestError(
            f"{p}: cannot read it as an Excel workbook ({exc}); save it as .xlsx and try again"
        ) from exc
    try:
        names = book.sheetnames
        if FIELDWORK["sheet"] in names:
            names = [FIELDWORK["sheet"], *(n for n in names if n != FIELDWORK["sheet"])]
        seen: list[str] = []
        for name in names:
            rows = book[name].iter_rows(values_only=True)
            for index, row in enumerate(rows, start=1):
                if index > 10:
                    break
                heads = ["" if v is None else str(v).strip() for v in row]
                keys = [normalise_header(h, keep_notes=True) for h in heads]
                if "patch_id" not in (_FIELD_OF_HEADER.get(k) for k in keys):
                    seen = seen or [h for h in heads if h]
                    continue
                cols = {_FIELD_OF_HEADER[k]: i for i, k in enumerate(keys) if k in _FIELD_OF_HEADER}
                if "target" not in cols:
                    raise SchemaError(
                        f"{p} sheet {name}: no {HEADERS['target']} column; found "
                        f"{[h for h in heads if h]}; fill the sheet written by `hetu tasks`"
                    )
                out = []
                for excel_row, values in enumerate(rows, start=index + 1):
                    cells = {f: values[i] for f, i in cols.items() if i < len(values)}
                    if any(not is_blank(v) and str(v).strip() != "" for v in cells.values()):
                        out.append((excel_row, cells))
                return out
    finally:
        book.close()
    raise SchemaError(
        f"{p}: no sheet has a {HEADERS['patch_id']} header in its first ten rows "
        f"(found {seen}); fill the sheet written by `hetu tasks`"
    )


def cell_text(value: Any) -> str:
    """A cell as stripped text: ``""`` when blank, a whole float without ``.0``."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_when(value: Any) -> dt.date | dt.datetime | None:
    """Parse a date cell: an Excel date, a serial number, or text (see the module doc)."""
    if is_blank(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _bad_date(value)
    if isinstance(value, dt.datetime):
        when: dt.date | dt.datetime = value if value.time() != dt.time() else value.date()
    elif isinstance(value, dt.date):
        when = value
    elif isinstance(value, int | float):
        if not 1 <= value < 2958466:
            raise _bad_date(value)
        stamp = _EXCEL_EPOCH + dt.timedelta(days=float(value))
        when = stamp.replace(microsecond=0) if stamp.time() != dt.time() else stamp.date()
    elif isinstance(value, dt.time):
        raise _bad_date(value)  # a time without a date
    else:
        text = str(value).strip()
        groups = [int(g) for g in re.findall(r"\d+", text)]
        if _DATE_LETTERS.search(text) or not groups:
            raise _bad_date(text)
        if len(groups) == 1 and len(text) >= 8 and len(re.findall(r"\d", text)) == 8:
            n = groups[0]
            groups = [n // 10000, n // 100 % 100, n % 100]
        if len(groups) not in (3, 5, 6, 7, 8):
            raise _bad_date(text)
        try:
            when = (
                dt.date(*groups[:3])
                if len(groups) == 3
                else dt.datetime(*groups[:5], *(groups[5:6] or [0]))
            )
        except (ValueError, OverflowError) as exc:  # "month must be in 1..12"
            raise _bad_date(text, exc) from exc
    day = when.date() if isinstance(when, dt.datetime) else when
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(FIELDWORK["why_date_range"].format(day=day.isoformat()))
    if day > now().date():
        raise ValueError(FIELDWORK["why_future_date"].format(day=day.isoformat()))
    return when


def _bad_date(value: Any, exc: BaseException | None = None) -> ValueError:
    """The error of a date cell that is not a date, in Chinese (with Python's reason translated)."""
    detail = DATE_ERRORS.get(str(exc), "") if exc is not None else ""
    text = value.isoformat() if isinstance(value, dt.time) else str(value).strip()
    return ValueError(
        FIELDWORK["why_bad_date"].format(text=text, detail=f"（{detail}）" if detail else "")
    )


def evidence_files(base: Path, value: Any) -> tuple[list[Path], list[str]]:
    """Resolve the file names of an evidence cell; return the files and the problems."""
    text = cell_text(value).replace("\\", "/")
    if not text:
        return [], []
    root = base.resolve()
    names = [text] if _find(root, text) else [n.strip() for n in _FILE_SEP.split(text)]
    found, problems = [], []
    for name in filter(None, names):
        if Path(name).is_absolute():
            problems.append(FIELDWORK["why_full_path"].format(name=name))
            continue
        path = _find(root, name)
        if path is None:
            problems.append(FIELDWORK["why_no_file"].format(name=name))
        else:
            found.append(path)
    return found, problems


def _find(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / PHOTOS / name):
        try:
            resolved = candidate.resolve()
            if resolved.is_relative_to(root) and resolved.is_file():
                return resolved
        except (OSError, RuntimeError, ValueError):  # too long, a loop, a NUL byte
            continue
    return None


def write_report(problems: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a rejection report: one line per problem, with the row, patch, column and reason.

    Parameters
    ----------
    problems : DataFrame
        As in :attr:`ApplyResult.problems`.
    path : path-like
        The ``.xlsx`` file; written atomically.

    Returns
    -------
    Path
    """
    target = Path(path)
    with xlsx_workbook(target) as book:
        base = {"font_name": FONT, "font_size": 10, "valign": "top", "border": 1}
        head = book.add_format({**base, "bold": True, "bg_color": "#F8CBAD"})
        cell = book.add_format({**base, "text_wrap": True})
        sheet = book.add_worksheet(FIELDWORK["report_sheet"])
        sheet.write_string(0, 0, FIELDWORK["report_title"], book.add_format({"bold": True}))
        heads = [FIELDWORK["row"], HEADERS["patch_id"], FIELDWORK["field"], FIELDWORK["reason"]]
        for c, text in enumerate(heads):
            sheet.write_string(1, c, text, head)
        for r, rec in enumerate(problems.itertuples(index=False), start=2):
            row = None if is_blank(rec.row) else int(rec.row)
            name = HEADERS.get(rec.field) or _PROBLEM_LABELS.get(rec.field, rec.field)
            sheet.write_row(r, 0, [row, cell_text(rec.patch_id), name, str(rec.reason)], cell)
        for c, width in enumerate((8, 20, 14, 90)):
            sheet.set_column(c, c, width)
        sheet.freeze_panes(2, 0)
    return target
