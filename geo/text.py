"""Text helpers every stage shares: header matching and CJK display width.

:func:`normalise_header` is the one way Hetu compares a column or field name
with the names it knows (ingest's coordinate and track columns, alias
profiles, the province template's headers, filled field sheets);
:func:`name_key` is how a person's name in a track is matched to a chief's;
:func:`display_width` is the one measure of how wide a text shows in an Excel
column or a terminal. Standard library only, like the rest of the core.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["display_width", "name_key", "normalise_header"]

#: Bracketed notes in a header: units and hints such as ``(m)``, ``[°]``, ``【必填】``.
_NOTES = re.compile(r"\(.*?\)|\[.*?\]|【.*?】")
#: Characters a header may carry or lack without naming another column.
_SEPARATORS = re.compile(r"[\s_\-.°/:]")


def normalise_header(name: object, *, keep_notes: bool = False) -> str:
    """Return a column or field name in the form Hetu compares names in.

    NFKC (full-width letters, digits and brackets become half-width), stripped,
    case-folded, without bracketed notes (units, hints) and without blanks,
    underscores, hyphens, dots, slashes, colons and degree signs: ``" 经度（°）"``,
    ``"经度"`` and ``"经 度"`` are one name, as are ``"Patch_ID"`` and ``"patch id"``.

    Parameters
    ----------
    name : object
        A header cell or column label; ``None`` gives ``""``.
    keep_notes : bool
        Keep bracketed notes (their brackets made half-width), where they tell
        columns apart: a template's ``面积（亩）`` and ``面积（平方米）``.

    Returns
    -------
    str
    """
    if name is None:
        return ""
    text = unicodedata.normalize("NFKC", str(name)).strip().casefold()
    if not keep_notes:
        text = _NOTES.sub("", text)
    return _SEPARATORS.sub("", text)


def name_key(name: object) -> str:
    """Return a person's name as matched: without blanks (``"王 五"`` is ``"王五"``)."""
    return "".join(name.split()) if isinstance(name, str) else ""


class _Widths(dict[str, int]):
    """Display width per character, looked up once (wide and full-width count 2)."""

    def __missing__(self, ch: str) -> int:
        width = self[ch] = 2 if unicodedata.east_asian_width(ch) in "FW" else 1
        return width


_WIDTHS = _Widths()


def display_width(text: str) -> int:
    """Return how many columns ``text`` fills in Excel or a terminal.

    East Asian wide and full-width characters (汉字, ``，``, ``１``) count 2,
    every other character 1.

    Parameters
    ----------
    text : str

    Returns
    -------
    int
    """
    return len(text) if text.isascii() else sum(map(_WIDTHS.__getitem__, text))
