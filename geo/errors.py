"""Typed errors raised by Hetu's library code.

Every class subclasses :class:`HetuError` and the built-in exception it most
resembles, so callers can catch either. Messages name the file, feature or
row, the field, and what to do about it; the CLI prints them as one line.
"""

from __future__ import annotations


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


class NotFoundError(HetuError, KeyError):
    """A patch, batch or other record the caller named is not in the ledger."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep messages plain
        return str(self.args[0]) if self.args else ""
