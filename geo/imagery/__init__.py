"""Imagery evidence: before/after chips and change indicators for every patch.

:mod:`geo.imagery.scenes` opens GeoTIFF/COG/VRT scenes and reads their dates,
:mod:`geo.imagery.chips` warps, measures and draws one chip, and
:mod:`geo.imagery.chipping` runs them over patches or a whole ledger, and
:mod:`geo.imagery.detect` finds suspect changes inside the ranges itself (自查).
"""

from __future__ import annotations

from geo.imagery.chipping import (
    ImageryRun,
    chips_for_patches,
    describe_images,
    imagery_for_ledger,
    thumbnails_for_map,
)
from geo.imagery.detect import DetectOptions, detect_changes

__all__ = [
    "DetectOptions",
    "ImageryRun",
    "chips_for_patches",
    "describe_images",
    "detect_changes",
    "imagery_for_ledger",
    "thumbnails_for_map",
]
