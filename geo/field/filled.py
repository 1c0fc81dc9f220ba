"""Filled sheets coming back (审核, 抽查复核): read with the rows Excel shows.

A clerk may add a title above the header or leave blank rows between the patches;
the sheet is read with the ingest layer's table reader
(:func:`geo.ingest.tabular.read_table`), which finds the header row by its column names
and keeps where each row is, so a message names the row the clerk sees in Excel.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from geo.errors import IngestError, SchemaError
from geo.ingest.headers import HeaderSpec
from geo.ingest.tabular import read_table, sheet_rows, table_row

__all__ = ["read_filled_sheet"]


def read_filled_sheet(
    path: str | os.PathLike,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    what: str,
) -> pd.DataFrame:
    """Read a filled sheet as text cells, indexed by each row's Excel row number.

    Parameters
    ----------
    path : path-like
        The ``.xlsx`` sheet (a CSV reads too).
    required : sequence of str
        The column names the sheet must have; the first is the id column (a footer
        row leaves it empty).
    optional : sequence of str
        Column names read when present; a missing one comes back as blank cells.
    what : str
        What the sheet is, for the messages (``a review sheet`` …).

    Returns
    -------
    DataFrame
        The ``required`` and ``optional`` columns, every cell a stripped string
        (``""`` when blank), indexed by the row number Excel shows; the rows above the
        header, blank rows and a footer are left out.

    Raises
    ------
    SchemaError
        If the file cannot be read, or lacks a ``required`` column.
    """
    p = Path(path)
    spec = HeaderSpec(names=(*required, *optional), key=(required[0],), coordinates=False)
    try:
        df, _note = read_table(p, header=spec)
    except SchemaError:
        raise
    except (IngestError, OSError) as exc:
        raise SchemaError(f"{p}: not a readable .xlsx sheet ({exc})") from None
    lacking = [c for c in required if c not in df.columns]
    if lacking:
        raise SchemaError(
            f"{p}: not {what} (needs the columns {', '.join(required)}; lacks {', '.join(lacking)})"
        )
    rows = sheet_rows(df)
    out = pd.DataFrame(
        {c: df[c] if c in df.columns else "" for c in (*required, *optional)}, index=df.index
    )
    out = out.fillna("").astype(str).apply(lambda column: column.str.strip())
    out.index = pd.Index([table_row(i, rows) for i in range(len(out))], name="row")
    return out
