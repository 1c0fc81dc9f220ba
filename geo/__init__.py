"""Hetu (河图): track river and lake remote-sensing patches to closure.

The package is layered by stage (docs/architecture.md): :mod:`geo.ingest`
reads what an office receives, :mod:`geo.ledger` keeps the 台账,
:mod:`geo.matching` finds who is responsible, :mod:`geo.field` and
:mod:`geo.imagery` gather evidence, :mod:`geo.reports` and :mod:`geo.maps`
write what the office hands on, :mod:`geo.demo` and :mod:`geo.cli` are the
applications. :mod:`geo.errors`, :mod:`geo.labels` and :mod:`geo.settings`
are shared by every layer.

In a notebook the public functions are here too, imported on first use so
that ``import geo`` stays light::

    import geo
    patches = geo.patches_from_file("图斑_2025-Q3.shp", batch_id="2025-Q3")
    geo.match_patches(patches, geo.segments_from_file("河湖管理范围.gpkg"))
    with geo.Ledger("ledger.gpkg") as ledger:
        geo.status_map(ledger.status_frame(), ranges=ledger.segments())
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from geo import _moved

__version__ = "0.2.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
_moved.install()

#: Public name → the module that defines it (PEP 562: imported on first access).
_EXPORTS: dict[str, str] = {
    # settings and coordinate systems
    "Settings": "geo.settings",
    "load_settings": "geo.settings",
    "infer_crs": "geo.crs",
    "metric_crs": "geo.crs",
    # ingest
    "read_layer": "geo.ingest.readers",
    "patches_from_file": "geo.ingest.readers",
    "segments_from_file": "geo.ingest.readers",
    "chiefs_from_file": "geo.ingest.readers",
    "surveys_from_file": "geo.ingest.tracks",
    "read_exif": "geo.ingest.photos",
    # the ledger
    "Ledger": "geo.ledger.store",
    "open_ledger": "geo.ledger.store",
    "ingest_file": "geo.ledger.loading",
    "copy_ledger": "geo.ledger.transfer",
    # matching
    "match_patches": "geo.matching.engines",
    "match_ledger": "geo.matching.assignments",
    "responsible_chain": "geo.matching.chiefs",
    "chain_ledger": "geo.matching.chiefs",
    "boundary_gaps": "geo.matching.gaps",
    "link_patches": "geo.matching.identity",
    "link_findings": "geo.matching.findings",
    # field work
    "attach_evidence": "geo.field.evidence",
    "write_tasks": "geo.field.tasks",
    "apply_sheet": "geo.field.fieldwork",
    "audit_sample": "geo.field.audit",
    "apply_audit": "geo.field.audit",
    "survey_patches": "geo.field.surveys",
    "shoreline_coverage": "geo.field.coverage",
    "coverage_ledger": "geo.field.coverage",
    "patrol_completion": "geo.field.patrols",
    "patrols_ledger": "geo.field.patrols",
    # imagery
    "chips_for_patches": "geo.imagery.chipping",
    "imagery_for_ledger": "geo.imagery.chipping",
    "detect_changes": "geo.imagery.detect",
    # reports and maps
    "export_ledger": "geo.reports.exports",
    "due_escalations": "geo.reports.escalation",
    "escalate": "geo.reports.escalation",
    "write_dossiers": "geo.reports.dossier",
    "assess": "geo.reports.assessment",
    "status_map": "geo.maps.status",
    "save_map": "geo.maps.status",
}
_SUBPACKAGES = (
    "cli", "clock", "crs", "demo", "errors", "field", "fileio", "imagery", "ingest", "labels",
    "ledger", "maps", "matching", "policy", "progress", "records", "reports", "settings", "text",
)  # fmt: skip

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"geo.{name}")
    raise AttributeError(f"module 'geo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBPACKAGES})
