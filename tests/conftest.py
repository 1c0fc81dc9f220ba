"""Shared fixtures: tiny frames built in code, real files from ../shared/realdata, a demo county."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
#: ../shared/realdata beside the checkout, or wherever HETU_REALDATA points.
REALDATA = Path(os.environ.get("HETU_REALDATA", ROOT.parent / "shared" / "realdata"))


def realdata(*parts: str) -> Path:
    """Return a path under ../shared/realdata, skipping the test when it is absent."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory):
    """The demo county's input files, generated once per session."""
    from geo.county import build_demo_files

    return build_demo_files(tmp_path_factory.mktemp("county"), seed=2025)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The whole demo flow, run once per session (ledger, map, Excel)."""
    from geo.demo import run_demo

    base = tmp_path_factory.mktemp("demo")
    return run_demo(out_dir=base / "out", data_dir=base / "data", seed=2025)


def square(x: float, y: float, size: float) -> shapely.Polygon:
    """An axis-aligned square with lower-left corner (x, y)."""
    return shapely.box(x, y, x + size, y + size)


def gk_frame(data: dict, geoms: list) -> gpd.GeoDataFrame:
    """A frame in Gauss-Kruger CM 114E metres (EPSG:4547), near (114E, 28N)."""
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4547)
