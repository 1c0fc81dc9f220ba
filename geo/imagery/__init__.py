"""Imagery evidence: before/after chips and change indicators for every patch.

:mod:`geo.imagery.scenes` opens GeoTIFF/COG/VRT scenes and reads their dates,
:mod:`geo.imagery.chips` warps, measures and draws one chip, and
:mod:`geo.imagery.chipping` runs them over patches or a whole ledger.
"""

from __future__ import annotations

from geo.imagery.chipping import (
    ImageryRun,
    chips_for_patches,
    describe_images,
    imagery_for_ledger,
    thumbnails_for_map,
)

__all__ = [
    "ImageryRun",
    "chips_for_patches",
    "describe_images",
    "imagery_for_ledger",
    "thumbnails_for_map",
]
