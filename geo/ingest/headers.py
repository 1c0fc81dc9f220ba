"""Where a table sits in its sheet: the header row, the data rows, the footer.

Sheets offices receive often carry a title above the header (``株洲市12345热线工单导出
2026-04-30``, ``XX省2026年第一批河湖遥感图斑清单``), a 填报单位/日期 line, a two-row header
(merged group titles such as 图斑基本信息 over the real column names) and a footer
(合计, 备注, 填表说明). :func:`find_header` takes the header as the row, among the first
:data:`SCAN_ROWS`, whose cells best match the column names the kind being read knows
(the readers' alias lists, :class:`HeaderSpec`), else the first non-blank row;
:func:`data_rows` leaves out blank rows and the trailing footer, and says which.
:class:`SheetRows` keeps where each data row is, so that every message names the row the
clerk sees in Excel (:meth:`SheetRows.row`, :func:`table_row`, :func:`where`): the row
arithmetic is written here, once.

Pure functions over cells as text; :func:`geo.ingest.tabular.read_table` reads the file.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from geo.errors import SchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FOOTER_WORDS",
    "ROWS",
    "SCAN_ROWS",
    "Header",
    "HeaderSpec",
    "SheetRows",
    "data_rows",
    "find_header",
    "row_number",
    "sheet_rows",
    "stored_row",
    "table_row",
    "where",
]

#: How many rows from the top the header is looked for in.
SCAN_ROWS = 20
#: Key of ``frame.attrs`` holding a table's :class:`SheetRows`.
ROWS = "hetu_rows"
#: A cell of a 填报单位/日期 line: a label and its value (``填报日期：2026年4月30日``).
_LABEL = re.compile(r"^[^:：]{1,12}[:：]")
#: A trailing row whose id cell is empty and whose text starts with one of these is a footer.
FOOTER_WORDS = ("合计", "小计", "总计", "注", "备注", "说明", "填表", "填报", "制表", "审核")


@dataclasses.dataclass(frozen=True)
class HeaderSpec:
    """The column names a header of one kind of table holds.

    Attributes
    ----------
    names : tuple of str
        Every name (and alias) a column of this kind may have.
    key : tuple of str
        The names of the id column (a footer row leaves it empty).
    coordinates : bool
        Whether coordinate column names (经度, X …) count too.
    """

    names: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    coordinates: bool = True


@dataclasses.dataclass(frozen=True)
class SheetRows:
    """Where a table's rows are in its sheet, as the clerk sees them (rows from 1).

    Attributes
    ----------
    header : int
        The header row (the lower one of a two-row header).
    first : int
        The row of the first data row.
    skipped : tuple of int
        Blank rows among the data, left out (sorted).
    notes : tuple of str
        Which row was taken as the header and why, and the rows left out (for the record).
    """

    header: int = 1
    first: int = 2
    skipped: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()

    def row(self, index: int) -> int:
        """The sheet row of the ``index``-th data row (0-based)."""
        row = self.first + index
        for gap in self.skipped:
            if gap > row:
                break
            row += 1
        return row


@dataclasses.dataclass(frozen=True)
class Header:
    """The header found: ``index`` counts from 0 in the rows given; ``names`` of two rows."""

    index: int
    names: tuple[str, ...] | None
    note: str

    @property
    def plain(self) -> bool:
        """Whether the header is row 1 alone, found (as every table was read before)."""
        return self.index == 0 and self.names is None and "as given" not in self.note


def _filled(cells: Sequence[str]) -> list[int]:
    return [j for j, c in enumerate(cells) if c]


def _combined(upper: Sequence[str], lower: Sequence[str]) -> tuple[str, ...] | None:
    """A two-row header's names, when ``lower`` alone is ambiguous; else None.

    A blank lower cell takes the cell above it (a title merged down over both rows); a
    name the lower row repeats is joined to its group title (merged across, so the
    nearest title on its left). An upper row of one cell (a title) or with a ``label：value``
    cell (填报单位：…, 日期：…) holds no group titles.
    """
    width = max(len(upper), len(lower))
    up = [*upper, *[""] * (width - len(upper))]
    low = [*lower, *[""] * (width - len(lower))]
    if len(_filled(up)) < 2 or any(_LABEL.search(c) for c in up):
        return None  # a title, or a 填报单位：…/日期：… line: no group titles
    counts: dict[str, int] = {}
    for name in low:
        if name:
            counts[name] = counts.get(name, 0) + 1
    blanks = [j for j in range(width) if not low[j] and up[j]]
    repeated = [j for j in range(width) if low[j] and counts[low[j]] > 1]
    if not blanks and not repeated:
        return None
    group, names = "", []
    for j in range(width):
        group = up[j] or group
        if not low[j]:
            names.append(up[j])
        elif j in repeated:
            names.append(f"{group}{low[j]}")
        else:
            names.append(low[j])
    return tuple(names)


def find_header(
    cells: Sequence[Sequence[str]],
    known: Callable[[str], bool],
    *,
    given: int | None = None,
) -> Header:
    """Find a table's header among its first rows.

    Parameters
    ----------
    cells : sequence of sequences of str
        The sheet's first rows (from row 1), each cell as text (``""`` when empty).
    known : callable
        ``known(cell)``: whether a cell is a column name the kind being read knows.
    given : int, optional
        The header row the caller names (from 1, as Excel counts), instead of the search.

    Returns
    -------
    Header
        Its row, the names of a two-row header (else None: the row's own cells) and why.

    Raises
    ------
    SchemaError
        When ``given`` is no row of the sheet (the caller adds the file name).
    """
    if given is not None:
        if not 1 <= given <= len(cells) or not _filled(cells[given - 1]):
            raise SchemaError(
                f"header row {given} is {'blank' if 1 <= given <= len(cells) else 'not in'} "
                f"the sheet; give the row holding the column names"
            )
        index, how = given - 1, "as given (header_row, --header-row)"
    else:
        scores = [sum(1 for c in row if c and known(c)) for row in cells[:SCAN_ROWS]]
        best = max(scores, default=0)
        if best:
            index = scores.index(best)
            how = f"the row of the first {SCAN_ROWS} with most known column names ({best})"
            below = cells[index + 1] if index + 1 < len(cells) else []
            both = _combined(cells[index], below) if below else None
            if both is not None and sum(1 for c in both if c and known(c)) > best:
                note = f"rows {index + 1}–{index + 2}, the names of row {index + 2} under the "
                return Header(index + 1, both, f"{note}titles of row {index + 1}: {how}")
        else:
            index = next((i for i, row in enumerate(cells) if _filled(row)), 0)
            how = f"the first non-blank row (no known column name in the first {SCAN_ROWS})"
    names = _combined(cells[index - 1], cells[index]) if index else None
    if names is not None:
        return Header(index, names, f"rows {index}–{index + 1}, the names of row "
                      f"{index + 1} under the group titles of row {index}: {how}")  # fmt: skip
    return Header(index, None, f"row {index + 1}, {how}")


def _footer(cells: Sequence[str], key: int | None) -> bool:
    filled = [c for c in cells if c]
    if not filled:
        return False
    if key is not None:
        id_cell = cells[key] if key < len(cells) else ""
        if id_cell and not id_cell.startswith(FOOTER_WORDS):
            return False
    elif len(filled) > 2:
        return False
    return filled[0].startswith(FOOTER_WORDS)


def data_rows(
    n: int,
    *,
    blank: Sequence[bool],
    text: Callable[[int], list[str]],
    first: int,
    key: int | None,
) -> tuple[list[int], tuple[int, ...], list[str]]:
    """Which of the ``n`` rows below the header are data: blank rows and the footer left out.

    Parameters
    ----------
    n : int
        How many rows there are below the header.
    blank : sequence of bool
        Whether each row is blank.
    text : callable
        ``text(i)``: the cells of row ``i`` as text (``""`` when empty); asked only of the
        rows at the end.
    first : int
        The sheet row of row 0.
    key : int, optional
        The id column's position: a footer row leaves it empty (or writes 合计 in it).

    Returns
    -------
    keep : list of int
        The positions of the data rows.
    skipped : tuple of int
        The sheet rows of the blank rows among them (for :class:`SheetRows`).
    notes : list of str
        The rows left out, for the import record.
    """
    end = n
    footer: list[tuple[int, str]] = []
    while end:
        if blank[end - 1]:
            end -= 1
            continue
        cells = text(end - 1)
        if not _footer(cells, key):
            break
        end -= 1
        footer.append((first + end, next(c for c in cells if c)[:20]))
    keep = [i for i in range(end) if not blank[i]]
    gaps = tuple(first + i for i in range(end) if blank[i])
    notes = []
    if gaps:
        shown = ", ".join(map(str, gaps[:20])) + (" …" if len(gaps) > 20 else "")
        notes.append(f"{len(gaps)} blank row(s) among the data left out: row(s) {shown}")
    if footer:
        texts = ", ".join(f"{row} ({what})" for row, what in reversed(footer))
        notes.append(f"footer row(s) below the data left out: {texts}")
    return keep, gaps, notes


def table_row(index: int, rows: SheetRows | None = None) -> int:
    """The spreadsheet row of a table's ``index``-th data row (0-based), as Excel shows it.

    ``rows`` is where the table sits (:func:`sheet_rows`); without it the header is row 1.
    """
    return (rows or SheetRows()).row(index)


def sheet_rows(frame: pd.DataFrame) -> SheetRows | None:
    """Where a frame read from a table sits in its sheet; None for a layer's features."""
    rows = frame.attrs.get(ROWS)
    return rows if isinstance(rows, SheetRows) else None


def row_number(index: int, rows: SheetRows | None) -> int:
    """The row a message names: a table's spreadsheet row, else the feature's number from 1."""
    return rows.row(index) if rows is not None else index + 1


def where(index: int, rows: SheetRows | None) -> str:
    """``row N`` (a table's spreadsheet row) or ``feature N`` (a layer's, from 1)."""
    return f"row {rows.row(index)}" if rows is not None else f"feature {index + 1}"


def stored_row(index: int, rows: SheetRows | None) -> int:
    """The ``row`` a quarantined feature is stored with, read back by :func:`table_row`.

    A table's row is stored as its spreadsheet row - 2 (as it was when the header was
    always row 1, so earlier ledgers read the same); a layer's feature as its position.
    """
    return rows.row(index) - 2 if rows is not None else index
