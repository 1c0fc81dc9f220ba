"""The one table that maps code identifiers to the Chinese labels users read.

Identifiers stay English in code; every user-facing output (map popups and
legends, Excel headers, CLI summaries) takes its Chinese text from here, so
no Chinese literal is scattered through the other modules.

The tables live in three modules by where they are read: :mod:`geo.labels.core`
(the ledger's own words), :mod:`geo.labels.documents` (what Hetu writes) and
:mod:`geo.labels.fieldwork` (the work in the field); every one is imported from here.
"""

from __future__ import annotations

from geo.labels.core import (
    ACTIONS,
    CHANGE_KINDS,
    CLI,
    COLUMNS,
    COORDINATE_WORDS,
    DATE_ERRORS,
    IMAGERY,
    INTEGRITY,
    ISSUE_TYPE_CODES,
    ISSUE_TYPES,
    LEVEL_SUFFIXES,
    LEVEL_SYNONYMS,
    LEVELS,
    LEVELS_DISTRICT,
    MATCHING,
    PROBLEMS,
    QUARANTINE,
    RELATIONS,
    SELF_CHECK,
    SOURCES,
    STATES,
    TEXT,
    label,
)
from geo.labels.documents import (
    ASSESSMENT,
    BULLETIN,
    CARDS,
    DOSSIER,
    EXPORT,
    GONGWEN,
    GRADES,
    LEDGER_FORM,
    LEDGER_SUMMARY,
    LISTS,
    NOTICE,
    RIVER_FILE,
)
from geo.labels.fieldwork import (
    EVIDENCE,
    FIELD_WORK,
    FIELDWORK,
    PATROLS,
    SHORELINE,
    TRACK_WORDS,
    VERIFICATION,
)

__all__ = [
    "ACTIONS",
    "ASSESSMENT",
    "BULLETIN",
    "CARDS",
    "CHANGE_KINDS",
    "CLI",
    "COLUMNS",
    "COORDINATE_WORDS",
    "DATE_ERRORS",
    "DOSSIER",
    "EVIDENCE",
    "EXPORT",
    "FIELDWORK",
    "FIELD_WORK",
    "GONGWEN",
    "GRADES",
    "IMAGERY",
    "INTEGRITY",
    "ISSUE_TYPES",
    "ISSUE_TYPE_CODES",
    "LEDGER_FORM",
    "LEDGER_SUMMARY",
    "LEVELS",
    "LEVELS_DISTRICT",
    "LEVEL_SUFFIXES",
    "LEVEL_SYNONYMS",
    "LISTS",
    "MATCHING",
    "NOTICE",
    "PATROLS",
    "PROBLEMS",
    "QUARANTINE",
    "RELATIONS",
    "RIVER_FILE",
    "SELF_CHECK",
    "SHORELINE",
    "SOURCES",
    "STATES",
    "TEXT",
    "TRACK_WORDS",
    "VERIFICATION",
    "label",
]
