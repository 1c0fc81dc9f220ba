"""Checks of a chiefs' list (河长名录): levels as offices write them, blank names and segments.

:func:`geo.ingest.readers.chiefs_from_file` reads the list; the functions here say what
each row means and what is wrong with it, every bad row at once, so a clerk corrects the
list in one go. Levels are read through :data:`geo.labels.LEVEL_SYNONYMS` (县级河长, 县, 区级,
乡镇级, 社区…). :func:`unknown_segments` checks the segment ids against the ledger's.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping

import pandas as pd

from geo.errors import SchemaError
from geo.ingest.headers import SheetRows
from geo.ingest.tabular import sheet_rows, table_row
from geo.labels import LEVEL_SUFFIXES, LEVEL_SYNONYMS, LEVELS
from geo.records import is_missing

__all__ = ["check_chiefs", "level_of", "refused", "unknown_segments"]

_LEVELS = {
    **{key: key for key in LEVELS},
    **{word: key for key, words in LEVEL_SYNONYMS.items() for word in words.split()},
    **{word: key for key, word in LEVELS.items()},
}


def level_of(value: object) -> str | None:
    """Return the level (``province`` … ``village``) a cell names, or None.

    Full-width forms count as half-width, blanks and case are ignored, and a trailing
    河长/湖长/河湖长/总河长 is dropped: ``"县级河长"``, ``"县 级"``, ``"乡镇级总河长"``,
    ``"村（社区）级"`` and ``"County"`` are all understood.
    """
    if is_missing(value):
        return None
    text = "".join(unicodedata.normalize("NFKC", str(value)).split()).casefold()
    for suffix in LEVEL_SUFFIXES:
        if text != suffix and text.endswith(suffix):
            text = text.removesuffix(suffix)
            break
    return _LEVELS.get(text)


def refused(
    source: str,
    problems: list[str],
    *,
    what: str,
    fix: str = "",
    outcome: str = "nothing was read",
) -> SchemaError:
    """One error naming every bad row (the first 20, and how many more), and ``outcome``."""
    more = f" … and {len(problems) - 20} more" if len(problems) > 20 else ""
    return SchemaError(
        f"{source}: {len(problems)} {what}, {outcome}: {'; '.join(problems[:20])}{more}"
        + (f". {fix}" if fix else "")
    )


def _field(canon: str, named: Mapping[str, str]) -> str:
    source = named.get(canon)
    return f"{source} ({canon})" if source and source != canon else canon


def _blank(value: object) -> bool:
    return is_missing(value) or not str(value).strip()


def check_chiefs(
    df: pd.DataFrame, *, named: Mapping[str, str], rows: SheetRows | None = None
) -> tuple[list[str], list[str]]:
    """Read every row's level and find the rows a chief cannot be stored from.

    Parameters
    ----------
    df : DataFrame
        The list with canonical column names, one row per chief and segment, in file order.
    named : mapping
        Canonical name -> the file's column name, for messages.
    rows : SheetRows, optional
        Where the list's rows are in its sheet (default: the header is row 1).

    Returns
    -------
    levels : list of str
        Each row's level (``""`` where it is not understood).
    problems : list of str
        One ``row N, field F: what; the fix`` per bad cell: a blank name, a blank segment id,
        a level that is none of :data:`geo.labels.LEVELS` or their synonyms.
    """
    problems: list[str] = []
    levels: list[str] = []
    accepted = "、".join(LEVELS.values())
    for i, (name, segment, level) in enumerate(
        zip(df["name"], df["segment_id"], df["level"], strict=True)
    ):
        row = table_row(i, rows)
        if _blank(name):
            problems.append(f"row {row}, field {_field('name', named)}: blank; fill in the name")
        if _blank(segment):
            problems.append(
                f"row {row}, field {_field('segment_id', named)}: blank; fill in the segment id"
            )
        found = level_of(level)
        levels.append(found or "")
        if found is None:
            problems.append(
                f"row {row}, field {_field('level', named)}: "
                f"{'blank' if _blank(level) else repr(str(level))} is not a chief level; "
                f"write one of {accepted} (or 县, 区级, 镇级, 乡镇级, 社区…)"
            )
    return levels, problems


def unknown_segments(
    df: pd.DataFrame, known: Collection[str], *, named: Mapping[str, str]
) -> list[str]:
    """One ``row N, field F: 'id' …`` per row whose segment id is not in ``known``."""
    field = _field("segment_id", named)
    rows = sheet_rows(df)
    return [
        f"row {table_row(i, rows)}, field {field}: {seg!r} is no segment of the ledger"
        for i, seg in enumerate(df["segment_id"])
        if seg not in known
    ]
