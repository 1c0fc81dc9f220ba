"""Matching the ledger: every patch to its segments, stored with its links."""

from __future__ import annotations

import logging

import pandas as pd

from geo.ledger.store import Ledger
from geo.matching.areas import place_ledger
from geo.matching.engines import match_patches
from geo.matching.findings import link_findings
from geo.matching.identity import link_ledger

log = logging.getLogger(__name__)


def match_ledger(
    ledger: Ledger,
    *,
    near_m: float | None = None,
    engine: str = "local",
    link: bool = True,
) -> pd.DataFrame:
    """Match every patch in the ledger to its segments and store the result.

    Parameters
    ----------
    ledger : Ledger
        The open ledger; its settings give the central meridian and ``near_m``.
    near_m : float, optional
        Override the office's ``near_m``.
    engine : {"local", "dask"}
        As for :func:`match_patches`.
    link : bool
        Also link patches to earlier batches by geometry and store the links
        (:func:`geo.matching.identity.link_ledger`, default thresholds), and link the
        survey findings to the patches they were found at
        (:func:`geo.matching.findings.link_findings`, stored as ``finding_links``).

    The patches are also placed in the administrative areas the ledger holds
    (:func:`geo.matching.areas.place_ledger`).

    Returns
    -------
    DataFrame
        The assignments stored: ``patch_id, segment_id, range_id, relation,
        overlap_m2, share, distance_m, primary``.
    """
    settings = ledger.settings
    segments = ledger.segments()
    patches = ledger.patches()
    result = match_patches(
        patches,
        segments,
        near_m=settings.near_m if near_m is None else near_m,
        id_column="segment_id",
        central_meridian=settings.central_meridian,
        engine=engine,
    )
    range_of = dict(zip(segments["segment_id"], segments["range_id"], strict=True))
    result.insert(2, "range_id", result["segment_id"].map(range_of))
    ledger.replace_assignments(result)
    log.info("matched %d patches into %d rows", len(patches), len(result))
    place_ledger(ledger, patches=patches)
    if link:
        link_ledger(ledger, patches=patches)
        findings = ledger.findings()
        if len(findings):
            cm = settings.central_meridian
            ledger.replace_finding_links(link_findings(findings, patches, central_meridian=cm))
    return result
