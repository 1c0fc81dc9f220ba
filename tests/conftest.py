"""Shared fixtures: tiny frames built in code, real files from ../shared/realdata, a demo county."""

from __future__ import annotations

import math
import os
import shutil
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
    from geo.demo.county import build_demo_files

    return build_demo_files(tmp_path_factory.mktemp("county"), seed=2025)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """The whole demo flow, run once per session (ledger, map, Excel)."""
    from geo.demo import run_demo

    base = tmp_path_factory.mktemp("demo")
    return run_demo(out_dir=base / "out", data_dir=base / "data", seed=2025)


@pytest.fixture
def demo_copy(demo_run, tmp_path):
    """The demo ledger (and its evidence store) copied, so commands may write to it."""
    target = tmp_path / "ledger.gpkg"
    shutil.copyfile(demo_run.ledger, target)
    shutil.copytree(
        demo_run.ledger.with_name("ledger.gpkg.attachments"), tmp_path / "ledger.gpkg.attachments"
    )
    return target


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL + PostGIS server for the session (see tests/_postgres.py)."""
    from _postgres import start_cluster

    cluster = start_cluster()
    yield cluster
    cluster.close()


@pytest.fixture(params=["gpkg", "postgis"])
def location(request, tmp_path, monkeypatch):
    """A fresh place for a ledger on each backend: a ``.gpkg`` path or a PostGIS URL."""
    monkeypatch.setenv("HETU_ATTACHMENTS", str(tmp_path / "attachments"))
    if request.param == "gpkg":
        return tmp_path / "ledger.gpkg"
    return request.getfixturevalue("postgres").new_database()


def raw_sql(location, sql: str, params=()) -> list:
    """Run one statement on a ledger's database behind Hetu's back (tampering tests)."""
    if str(location).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(location), autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []
    import sqlite3

    conn = sqlite3.connect(location)
    try:
        cur = conn.execute(sql, params)
        rows = cur.fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def square(x: float, y: float, size: float) -> shapely.Polygon:
    """An axis-aligned square with lower-left corner (x, y)."""
    return shapely.box(x, y, x + size, y + size)


def gk_frame(data: dict, geoms: list) -> gpd.GeoDataFrame:
    """A frame in Gauss-Kruger CM 114E metres (EPSG:4547), near (114E, 28N)."""
    return gpd.GeoDataFrame(data, geometry=geoms, crs=4547)


def status_row(i: int, state: str, **overrides: object) -> dict:
    """One row of a status frame (the columns of ``Ledger.status_frame``) with plain defaults."""
    row = {
        "patch_id": f"P{i:03d}",
        "batch_id": "2025-Q2",
        "issue_type": "dumping",
        "admin_code": "439999001",
        "township": "清溪镇",
        "detected_on": "2025-04-01",
        "issued_on": "2025-04-10",
        "area_m2": 1234.5,
        "description": "河道内堆放建筑垃圾",
        "state": state,
        "state_since": "2025-05-01T10:00:00+08:00",
        "deadline": "2025-06-01",
        "overdue_days": 0,
        "water_name": "渌水",
        "segment_id": "439999000001",
        "segment_name": "渌水清溪段",
        "range_id": "R1",
        "relation": "inside",
        "share": 1.0,
        "distance_m": math.nan,
        "chief_village": "张三（村支书）",
        "chief_township": "李四（镇长）",
        "chief_county": "王五（副县长）",
        "attrs": "{}",
        "geometry": shapely.box(113.80 + i * 0.01, 27.80, 113.805 + i * 0.01, 27.805),
    }
    row.update(overrides)
    return row
