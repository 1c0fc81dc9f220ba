"""Matching: who is responsible for each patch.

- :mod:`geo.matching.core`: the in-memory engine (relations, shares, nearest range);
- :mod:`geo.matching.engines`: :func:`match_patches`, on the engine asked for;
- :mod:`geo.matching.partitions`: the Dask engine (same kernel per spatial partition);
- :mod:`geo.matching.assignments`: :func:`match_ledger`, the whole ledger matched and stored;
- :mod:`geo.matching.areas`: patches placed in townships and villages; township conflicts;
- :mod:`geo.matching.chiefs`: the responsible chief chain of each patch;
- :mod:`geo.matching.identity`: the same site across batches (反弹, 挂账 repeats);
- :mod:`geo.matching.gaps`: patches outside every range, for the province;
- :mod:`geo.matching.findings`: survey findings near patches.
"""

from __future__ import annotations

from geo.matching.areas import place_ledger, place_patches, township_conflicts
from geo.matching.assignments import match_ledger
from geo.matching.chiefs import chain_ledger, responsible_chain
from geo.matching.core import RESULT_COLUMNS
from geo.matching.engines import match_patches
from geo.matching.findings import findings_ledger, link_findings
from geo.matching.gaps import boundary_gaps, gap_patches, gaps_ledger
from geo.matching.identity import link_batches, link_ledger, link_patches
from geo.matching.nearest import nearest_ranges

__all__ = [
    "RESULT_COLUMNS",
    "boundary_gaps",
    "chain_ledger",
    "findings_ledger",
    "gap_patches",
    "gaps_ledger",
    "link_batches",
    "link_findings",
    "link_ledger",
    "link_patches",
    "match_ledger",
    "match_patches",
    "nearest_ranges",
    "place_ledger",
    "place_patches",
    "responsible_chain",
    "township_conflicts",
]
