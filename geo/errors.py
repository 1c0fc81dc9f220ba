"""Typed errors raised by Hetu's library code.

Every class subclasses :class:`HetuError` and the built-in exception it most
resembles, so callers can catch either. Messages name the file, feature or
row, the field, and what to do about it; the CLI prints them as one line.
:func:`check_keys` is the one check of a settings table's keys (typos named
with the closest valid key), shared by :mod:`geo.settings` and :mod:`geo.policy`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping


class HetuError(Exception):
    """Base class of every error Hetu raises on purpose."""


class SettingsError(HetuError, ValueError):
    """The office settings file is missing a value or holds a bad one."""


class IngestError(HetuError, ValueError):
    """An input file cannot be read into a layer as it stands."""


class SchemaError(IngestError):
    """An input file lacks a required field (the message lists what was found)."""


class CRSError(IngestError):
    """The coordinate system of an input cannot be decided or is implausible."""


class BatchConflictError(HetuError, ValueError):
    """A batch holds patch ids that the ledger already has; nothing was written."""


class InvalidTransitionError(HetuError, ValueError):
    """A lifecycle transition is not allowed from the patch's current state."""


class EvidenceError(HetuError, ValueError):
    """A transition lacks the evidence its verdict needs (the message names what is missing)."""


class LedgerError(HetuError, RuntimeError):
    """The ledger cannot be opened, migrated or written."""


class DiskFullError(LedgerError):
    """The disk (or a file-size limit) ran out while writing; the transaction was rolled back."""


class NotFoundError(HetuError, KeyError):
    """A patch, batch or other record the caller named is not in the ledger."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep messages plain
        return str(self.args[0]) if self.args else ""


class ImageryError(HetuError, ValueError):
    """An image cannot give a chip for a patch; ``code`` is the short status stored."""

    code = "bad_image"


class BandError(HetuError, ValueError):
    """A band role the caller gave is unknown or names a band the image lacks."""


class UnreadableImageError(ImageryError):
    """The file is not a raster GDAL opens, or reading its pixels fails (a corrupt block)."""

    code = "unreadable"


class NoCRSError(ImageryError):
    """The image has no coordinate reference system, so nothing can be placed on it."""

    code = "no_crs"


class OutsideError(ImageryError):
    """The patch lies outside the image (or outside every image given)."""

    code = "outside"


class NoDataError(ImageryError):
    """Every pixel under the patch is nodata (a gap in a mosaic, a cloud mask, a blank edge)."""

    code = "nodata"


class ExportTooLargeError(HetuError, ValueError):
    """The ledger has more patches than an Excel sheet has rows."""


class ExportLockedError(HetuError, RuntimeError):
    """Another export holds the lock on the output directory."""


class TemplateError(HetuError, ValueError):
    """A template and its column map do not fit (the message names both and what to do)."""


class ScheduleError(HetuError, RuntimeError):
    """A schedule cannot be installed on this machine (the message says what to do)."""


class PdfError(HetuError, RuntimeError):
    """A required PDF could not be printed (the HTML pages stand)."""


class OutputError(HetuError, OSError):
    """A document cannot be written where the caller asked (naming the path and the fix)."""


def check_keys(
    table: Mapping[str, object], known: Iterable[str], *, where: str, what: str = "key"
) -> None:
    """Raise :class:`SettingsError` if a settings table holds a key not in ``known``.

    Parameters
    ----------
    table : mapping
        The parsed table.
    known : iterable of str
        Its valid keys.
    where : str
        The file and table, e.g. ``"hetu.toml: [surveys]"``.
    what : str
        What a key is called in the message; ``"table"`` (the top of a file) shows
        them as ``[name]``.

    Raises
    ------
    SettingsError
        Naming every unknown key, the closest valid one of each (a likely typo),
        and the valid ones, e.g. ``hetu.toml: [surveys] unknown key 'witin_m'
        (did you mean 'within_m'?); known keys: within_m``.
    """
    valid = [str(k) for k in known]
    unknown = [str(k) for k in table if k not in valid]
    if not unknown:
        return
    show = (lambda k: f"[{k}]") if what == "table" else repr
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, valid, n=1)
        hints.append(show(key) + (f" (did you mean {show(close[0])}?)" if close else ""))
    plural = "s" if len(unknown) > 1 else ""
    raise SettingsError(
        f"{where} unknown {what}{plural} {', '.join(hints)}; "
        f"known {what}s: {', '.join(valid) or 'none'}"
    )
