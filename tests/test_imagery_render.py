"""A chip of 8-bit values is stretched by a table, to the same pixels as in floating point."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine

from geo.imagery.chips import _stretch_limits, render_chip


def _samples(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    if kind == "uniform":
        return rng.integers(0, 256, n)
    if kind == "normal":
        mean, sd = rng.uniform(0, 255), rng.uniform(0.1, 60)
        return np.clip(rng.normal(mean, sd, n), 0, 255).astype(int)
    if kind == "few":
        return rng.integers(0, 3, n) * 100
    return np.full(n, rng.integers(0, 256))


@pytest.mark.parametrize("kind", ["uniform", "normal", "few", "flat"])
def test_stretch_limits_are_numpys_percentiles_to_the_bit(kind):
    rng = np.random.default_rng(len(kind))
    for _ in range(500):
        levels = _samples(rng, kind, int(rng.integers(1, 20_000))).astype(np.uint8)
        want = np.percentile(levels.astype(np.float32), (2, 98))
        got = _stretch_limits(levels)
        assert (got[0], got[1]) == (want[0], want[1])


def _by_floats(chip: np.ndarray) -> np.ndarray:
    """The stretch in floating point: the 2-98 % of every other pixel, scaled in float64."""
    lo, hi = np.percentile(chip[:, ::2, ::2].reshape(len(chip), -1), (2, 98))
    hi = hi if hi > lo else lo + 1.0
    scaled = chip.transpose(1, 2, 0).astype(np.float64)
    return np.clip((scaled - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("bands", [3, 1])
def test_an_8_bit_chip_renders_as_by_floats(bands):
    rng = np.random.default_rng(bands)
    t = Affine(0.5, 0, 0, 0, -0.5, 32)
    far = shapely.box(100, 100, 101, 101)  # an outline off the chip: only the stretch is seen
    for _ in range(50):
        base = rng.normal(rng.uniform(40, 200), rng.uniform(1, 50), (bands, 64, 64))
        chip = np.clip(base, 0, 255).round().astype(np.float32)
        got = np.asarray(render_chip(chip, display=list(range(bands)), outline=far, transform=t))
        want = _by_floats(chip if bands == 3 else np.repeat(chip, 3, axis=0))
        assert np.array_equal(got, want)
