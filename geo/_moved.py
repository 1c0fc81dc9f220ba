"""The flat module names of Hetu 0.1 (``geo.store``, ``geo.layers``…), kept working.

Hetu 0.1 had one flat namespace; the modules now live in subpackages by stage
(docs/architecture.md). Importing an old name still works: it gives a module
that looks names up in the new modules, and warns once with a
:class:`DeprecationWarning` naming them.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

#: Old flat module → the modules its names live in now (first match wins).
MOVED: dict[str, tuple[str, ...]] = {
    "_errors": ("geo.errors",),
    "_records": ("geo.records", "geo.clock"),
    "workdays": ("geo.policy.workdays",),
    "lifecycle": ("geo.policy.lifecycle",),
    "encodings": ("geo.ingest.encodings",),
    "profiles": ("geo.ingest.profiles",),
    "offsets": ("geo.ingest.offsets",),
    "vectors": ("geo.ingest.vectors",),
    "tables": ("geo.ingest.tabular",),
    "layers": ("geo.ingest.readers", "geo.ledger.loading"),
    "tracks": ("geo.ingest.tracks", "geo.ingest.photos"),
    "store": ("geo.ledger.store", "geo.records", "geo.clock"),
    "_reads": ("geo.ledger.reads", "geo.clock"),
    "_changes": ("geo.ledger.changes",),
    "_schema": ("geo.ledger.schema", "geo.records"),
    "_db": ("geo.ledger.db",),
    "_gpkg": ("geo.ledger.gpkg",),
    "transfer": ("geo.ledger.transfer",),
    "partitions": ("geo.matching.partitions",),
    "identity": ("geo.matching.identity",),
    "gaps": ("geo.matching.gaps",),
    "findings": ("geo.matching.findings",),
    "chain": ("geo.matching.chiefs", "geo.ledger.chiefs"),
    "evidence": ("geo.field.evidence", "geo.ingest.photos"),
    "audit": ("geo.field.audit",),
    "tasks": ("geo.field.tasks",),
    "fieldwork": ("geo.field.fieldwork",),
    "surveys": ("geo.field.surveys", "geo.ingest.tracks"),
    "coverage": ("geo.field.coverage",),
    "patrols": ("geo.field.patrols",),
    "scenes": ("geo.imagery.scenes",),
    "chips": ("geo.imagery.chips",),
    "export": ("geo.reports.excel",),
    "summary": ("geo.reports.summary",),
    "province": ("geo.reports.province_template",),
    "shapefile": ("geo.reports.shapefile",),
    "schedule": ("geo.reports.exports",),
    "timers": ("geo.reports.timers",),
    "notices": ("geo.reports.escalation", "geo.reports.documents", "geo.reports.pdf"),
    "dossier": ("geo.reports.dossier",),
    "assessment": ("geo.reports.assessment", "geo.policy.assessment"),
    "mapdata": ("geo.maps.data",),
    "mapassets": ("geo.maps.assets",),
    "cli_reports": ("geo.cli.reports",),
    "_cli": ("geo.cli.common",),
    "county": ("geo.demo.county",),
    "demoimagery": ("geo.demo.imagery",),
}


class _Forward(types.ModuleType):
    """A module of the old name whose attributes come from the new modules."""

    _targets: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        for target in self._targets:
            module = importlib.import_module(target)
            if hasattr(module, name):
                return getattr(module, name)
        where = ", ".join(self._targets)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r} (in {where})")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for target in self._targets:
            names.update(n for n in dir(importlib.import_module(target)) if not n.startswith("__"))
        return sorted(names)


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``geo.<old name>`` and builds its forwarding module."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        package, _, old = fullname.partition(".")
        if package != "geo" or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _Forward(spec.name)
        module._targets = MOVED[spec.name.partition(".")[2]]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        targets = " or ".join(MOVED[module.__name__.partition(".")[2]])
        warnings.warn(
            f"{module.__name__} moved in Hetu 0.2: import from {targets} instead",
            DeprecationWarning,
            stacklevel=2,
        )


def install() -> None:
    """Put the finder on :data:`sys.meta_path` once."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
