"""A seeded demo county that runs the whole flow (``hetu demo``, ``make demo``).

:mod:`geo.demo.county` writes the county's input files (its GPX, KML and
geotagged photos through :mod:`geo.demo.formats`), :mod:`geo.demo.imagery`
its before/after image pair, :mod:`geo.demo.flow` runs ingest to map.
"""

from __future__ import annotations

from geo.demo.county import build_demo_files
from geo.demo.flow import DEMO_AS_OF, DemoResult, run_demo

__all__ = ["DEMO_AS_OF", "DemoResult", "build_demo_files", "run_demo"]
