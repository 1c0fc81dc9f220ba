"""Imagery chips and change indicators: real Landsat/aerial files, rasters made here, a ledger."""

from __future__ import annotations

import contextlib
import json
import shutil
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from conftest import realdata
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pyproj import CRS, Transformer
from rasterio.crs import CRS as RioCRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning
from rasterio.warp import reproject

from geo.demo.imagery import AFTER_DATE, BEFORE_DATE, write_demo_imagery
from geo.errors import BandError, ImageryError
from geo.imagery import chipping
from geo.imagery.chipping import chips_for_patches, imagery_for_ledger, thumbnails_for_map
from geo.imagery.chips import warp_chip
from geo.imagery.scenes import date_from_name, open_scene, read_window
from geo.ledger.store import Ledger
from geo.maps.data import thumbnail_uris

ORIGIN = (500_000.0, 3_100_000.0)  # EPSG:4547, near 114E 28N


def make_tif(path, data, *, crs="EPSG:4547", res=1.0, nodata=None, tags=None, **kw):
    """Write a small north-up GeoTIFF with its top-left corner at ORIGIN."""
    count, height, width = data.shape
    transform = Affine(res, 0, ORIGIN[0], 0, -res, ORIGIN[1]) if crs else Affine.identity()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=width, height=height, count=count,
            dtype=data.dtype, crs=crs, transform=transform, nodata=nodata, **kw,
        ) as dst:  # fmt: skip
            dst.write(data)
            if tags:
                dst.update_tags(**tags)
    return path


def ground(height=400, width=400, count=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(60, 120, (count, height, width)).astype("uint8")


def patches_at(*centres, size=40.0, crs=4547):
    geoms = [
        shapely.box(x - size / 2, y - size / 2, x + size / 2, y + size / 2) for x, y in centres
    ]
    ids = [f"P{k}" for k in range(len(geoms))]
    return gpd.GeoDataFrame({"patch_id": ids}, geometry=geoms, crs=crs)


def inside(dx, dy):
    """A point dx metres east and dy metres south of ORIGIN."""
    return ORIGIN[0] + dx, ORIGIN[1] - dy


# -- real files ----------------------------------------------------------------------------


def test_landsat_pair_with_crs_written_two_ways_gives_the_same_chip(tmp_path):
    byte, crop = realdata("imagery", "RGB.byte.tif"), realdata("imagery", "rgb1.tif")
    with rasterio.open(crop) as ds:
        assert ds.crs.to_epsg() is None  # the custom WKT, not an EPSG code
    patch = patches_at((160_000.0, 2_770_000.0), size=6000.0, crs=32618)
    frames = {}
    for name, path in (("byte", byte), ("crop", crop)):
        rows, files = chips_for_patches(
            patch, [path], role="before", out_dir=tmp_path / name, buffer_m=3000, ring_m=2000
        )
        assert rows["status"].tolist() == ["ok"]
        assert set(files) == set(rows["attachment_id"])
        frames[name] = json.loads(rows["indicators"].iloc[0])
        chip = Image.open(rows["chip"].iloc[0])
        assert chip.size == (256, 256)
    # the same pixels through two spellings of the same CRS
    assert frames["byte"]["brightness_patch"] == pytest.approx(
        frames["crop"]["brightness_patch"], rel=0.01
    )
    assert 0.99 <= frames["crop"]["valid_share"] <= 1.0
    assert "ndvi_patch" not in frames["crop"]  # RGB only: no NIR, no NDVI


def test_small_chip_of_the_aerial_cog_reads_from_an_overview():
    cog = realdata("imagery", "cogeo.tif")
    with open_scene(cog) as scene:
        ds = scene.dataset
        assert ds.overviews(1) == [2, 4, 8, 16, 32, 64]
        read = read_window(scene, tuple(ds.bounds), max_px=256)
        assert read.data.shape == (3, 256, 256)
        assert read.decimation == 4 and read.overview == 4
        full = ds.read(1)
    with rasterio.open(cog, overview_level=1) as ovr:  # the factor-4 overview
        assert ovr.shape == (256, 256)
        from_overview = ovr.read(1).astype("float32")
    # bit-identical to the overview's own pixels, unlike an average of the full band
    assert np.array_equal(read.data[0], from_overview)
    averaged = full.reshape(256, 4, 256, 4).mean(axis=(1, 3))
    assert not np.allclose(read.data[0], averaged, atol=0.5)


def test_aerial_cog_chip_in_the_patch_crs(tmp_path):
    cog = realdata("imagery", "cogeo.tif")
    with rasterio.open(cog) as ds:
        cx, cy = (ds.bounds.left + ds.bounds.right) / 2, (ds.bounds.bottom + ds.bounds.top) / 2
    patch = patches_at((cx, cy), size=150.0, crs=3857)
    rows, _ = chips_for_patches(patch, [cog], role="after", out_dir=tmp_path, size_px=64)
    row = rows.iloc[0]
    assert row["status"] == "ok"
    assert row["crs"] == "EPSG:4552"  # CGCS2000 3-degree zone, CM 129E (the file is at 128.7E)
    assert row["decimation"] > 2 and row["overview"] >= 2


def test_corrupt_blocks_give_a_reason_and_the_batch_goes_on(tmp_path):
    corrupt, cog = realdata("imagery", "corrupt.tif"), realdata("imagery", "cogeo.tif")
    with rasterio.open(corrupt) as ds:
        b = ds.bounds
        w, h = b.right - b.left, b.top - b.bottom
    bad_corner = (b.left + 0.8 * w, b.bottom + 0.2 * h)  # the corrupt full-resolution block
    good_corner = (b.left + 0.2 * w, b.bottom + 0.8 * h)
    patches = patches_at(bad_corner, good_corner, size=40.0, crs=3857)
    rows, _ = chips_for_patches(patches, [corrupt], role="after", out_dir=tmp_path, size_px=256)
    assert rows["status"].tolist() == ["unreadable", "ok"]
    assert "corrupt.tif" in rows["reason"].iloc[0] and "corrupt" in rows["reason"].iloc[0]
    # a second image covering the same place is tried next
    rows, _ = chips_for_patches(patches, [corrupt, cog], role="after", out_dir=tmp_path)
    assert rows["status"].tolist() == ["ok", "ok"]
    assert rows["source"].iloc[0].endswith("cogeo.tif")


# -- rasters made here ---------------------------------------------------------------------


def test_bad_imagery_becomes_per_patch_reasons(tmp_path):
    good = make_tif(tmp_path / "good.tif", ground())
    blank = make_tif(tmp_path / "blank.tif", np.zeros((3, 400, 400), "uint8"), nodata=0)
    patches = patches_at(inside(100, 100), inside(300, 300), inside(5000, 5000))
    # the blank image is tried first: patch 0 falls through to the good one
    rows, files = chips_for_patches(patches, [blank, good], role="before", out_dir=tmp_path / "c")
    assert rows["status"].tolist() == ["ok", "ok", "outside"]
    assert rows["source"].iloc[0].endswith("good.tif") and len(files) == 2
    rows, _ = chips_for_patches(patches, [blank], role="before", out_dir=tmp_path / "c")
    assert rows["status"].tolist() == ["nodata", "nodata", "outside"]
    assert "blank.tif" in rows["reason"].iloc[0]
    assert rows["reason"].iloc[2] == "the patch is outside every image"


def test_image_without_crs_is_named_for_every_patch_it_could_not_place(tmp_path):
    plain = make_tif(tmp_path / "plain.tif", ground(), crs=None)
    with pytest.raises(ImageryError, match=r"plain\.tif: the image has no coordinate system"):
        open_scene(plain)
    patches = patches_at(inside(100, 100), inside(200, 200))
    rows, files = chips_for_patches(patches, [plain], role="before", out_dir=tmp_path / "c")
    assert rows["status"].tolist() == ["no_crs", "no_crs"]
    assert rows["reason"].str.contains("plain.tif").all() and not files
    with pytest.raises(FileNotFoundError, match=r"missing\.tif"):
        chips_for_patches(patches, [tmp_path / "missing.tif"], role="before", out_dir=tmp_path)


def test_band_roles_from_descriptions_give_ndvi_and_ndwi(tmp_path):
    data = ground(count=4)
    data[3] = 200  # bright NIR: vegetation everywhere
    data[0, 150:250, 150:250] = 200  # the patch: bright red, NIR as bright → NDVI 0
    data[3, 150:250, 150:250] = 200
    path = make_tif(tmp_path / "four.tif", data, tags={"TIFFTAG_DATETIME": "2024:05:06 10:00:00"})
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = [ColorInterp.undefined] * 4
        ds.descriptions = ("Red", "Green", "Blue", "NIR")
    with open_scene(path) as scene:
        assert scene.bands == {"red": 1, "green": 2, "blue": 3, "nir": 4}
        assert scene.bands_from == "band descriptions"
        assert (scene.acquired_on, scene.acquired_from) == ("2024-05-06", "tag TIFFTAG_DATETIME")
    patches = patches_at(inside(200, 200), size=100.0)
    rows, _ = chips_for_patches(patches, [path], role="after", out_dir=tmp_path, ring_m=20)
    figures = json.loads(rows["indicators"].iloc[0])
    assert figures["ndvi_patch"] == pytest.approx(0.0, abs=0.02)
    assert figures["ndvi_ring"] > 0.3 and figures["ndvi_diff"] < -0.3
    assert figures["ndwi_ring"] < 0 and figures["brightness_ratio"] > 1.2
    with pytest.raises(BandError, match="band 5 for 'nir' is not in the file"):
        chips_for_patches(patches, [path], role="after", out_dir=tmp_path, bands={"nir": 5})


@given(
    day=st.dates(min_value=__import__("datetime").date(1972, 1, 1)),
    sep=st.sampled_from(["", "-", "_"]),
)
def test_date_in_a_file_name(day, sep):
    name = f"GF2_PMS1_E114.0_N28.0_{day:%Y}{sep}{day:%m}{sep}{day:%d}_L1A0001.tif"
    if day.year < 2100:
        assert date_from_name(name) == day.isoformat()


@given(text=st.text(alphabet="abcXYZ_-.", max_size=30))
def test_no_date_in_a_name_without_digits(text):
    assert date_from_name(text) is None


# -- the demo pair and a ledger ------------------------------------------------------------


@pytest.fixture
def demo_ledger(demo_run, tmp_path):
    path = tmp_path / "ledger.gpkg"
    shutil.copy(demo_run.ledger, path)
    with Ledger(path) as ledger:
        yield ledger


def test_demo_pair_shows_cleared_and_new_patches_in_the_ledger(demo_ledger, tmp_path):
    patches = demo_ledger.patches()
    cleared = patches.loc[patches["state"].eq("closed"), "patch_id"].tolist()
    appeared = patches.loc[patches["batch_id"].eq("2026-Q1"), "patch_id"].tolist()
    before, after = write_demo_imagery(
        tmp_path / "img", patches, seed=7, cleared=cleared, appeared=appeared,
        water=demo_ledger.segments(),
    )  # fmt: skip
    assert before.stat().st_size + after.stat().st_size < 20e6
    chips = []
    run = imagery_for_ledger(
        demo_ledger, before=[before], after=[after], size_px=64, progress=chips.append
    )
    assert run.counts == {"before": {"ok": len(patches)}, "after": {"ok": len(patches)}}
    assert sum(chips) == 2 * len(patches)  # progress: one per patch and role
    assert [(i["acquired_on"], i["acquired_from"]) for i in run.images] == [
        (BEFORE_DATE, "tag ACQUISITIONDATETIME"),
        (AFTER_DATE, "file name"),
    ]
    stored = demo_ledger.imagery()
    stored = stored[stored["source"].isin([str(before), str(after)])]  # the demo's own run aside
    assert len(stored) == 2 * len(patches) and stored["status"].eq("ok").all()
    after_rows = stored[stored["role"] == "after"].set_index("patch_id")
    figures = {pid: json.loads(t) for pid, t in after_rows["indicators"].items()}
    later = shapely.union_all(patches.loc[patches["patch_id"].isin(appeared), "geometry"].values)
    back = set(patches.loc[patches.intersects(later), "patch_id"])  # recurrences drawn again
    gone = [figures[p] for p in cleared if p not in back]
    assert len(gone) > 10
    new = [figures[p] for p in appeared]
    assert all(f["delta_ndvi_patch"] > 0.1 and f["delta_brightness_ratio"] < 0 for f in gone)
    assert np.median([f["delta_brightness_ratio"] for f in new]) > 0.3
    sha = after_rows["attachment_id"].iloc[0]
    assert demo_ledger.attachment_path(sha).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    thumbs = thumbnails_for_map(demo_ledger, max_px=48)
    assert set(thumbs) == set(patches["patch_id"]) and all(len(v) == 2 for v in thumbs.values())
    assert thumbnail_uris(thumbs) == thumbs  # the map accepts them
    assert max(len(u) for v in thumbs.values() for u in v) < 8000


def test_threads_cut_the_same_chips_as_one_thread(tmp_path):
    """200 patches over two images (one in degrees): two threads, each with its own handles."""
    near = make_tif(tmp_path / "a.tif", ground(800, 800, seed=3))
    rng = np.random.default_rng(5)
    centres = [inside(x, y) for x, y in rng.uniform(30, 1100, (200, 2))]  # some beyond a.tif
    far = make_tif(tmp_path / "b.tif", ground(1200, 1200, seed=4), res=1.0)
    patches = patches_at(*centres, size=24.0)
    one, files_one = chips_for_patches(patches, [near, far], role="before",
                                       out_dir=tmp_path / "one", size_px=64, workers=1)  # fmt: skip
    two, files_two = chips_for_patches(patches, [near, far], role="before",
                                       out_dir=tmp_path / "two", size_px=64, workers=2)  # fmt: skip
    cols = ["patch_id", "source", "status", "attachment_id", "indicators"]
    pd.testing.assert_frame_equal(one[cols], two[cols])
    assert set(files_one) == set(files_two) and (one["status"] == "ok").all()
    assert one["source"].str.endswith("b.tif").any() and one["source"].str.endswith("a.tif").any()


def test_a_chip_read_straight_onto_its_grid_matches_the_warped_chip(tmp_path):
    """A scene already in the chip's CRS is read onto the chip's grid: the same pixels as a warp."""
    rows, cols = np.mgrid[0:800, 0:800]
    field = 90 + 40 * np.sin(cols / 37.0) * np.cos(rows / 53.0)
    data = np.stack([field, field / 2 + 60, 255 - field]).astype("uint8")
    path = make_tif(tmp_path / "smooth.tif", data, res=0.5)
    patches = patches_at(inside(100, 120), inside(250, 180), size=30.0)
    with contextlib.ExitStack() as stack:
        scenes, _ = chipping._open_all([path], stack, bands=None, acquired_on=None)
        jobs = chipping._jobs(patches["patch_id"].to_numpy(), patches.geometry,
                              CRS.from_epsg(4547), scenes, 64, 30.0)  # fmt: skip
        for job in (o.job for o in jobs):
            scene, bounds, same = job.candidates[0]
            assert same  # the scene is in the chip's CRS: no warp
            read, figures, meta = chipping._chip(job, scene, bounds, True, size_px=64, ring_m=20)
            warped, w_figures, _ = chipping._chip(job, scene, bounds, False, size_px=64, ring_m=20)
            assert meta["decimation"] > 1  # 90 m across 64 px of a 0.5 m image
            assert np.nanmean(np.abs(read - warped)) < 1.0  # digital numbers
            for key in ("brightness_patch", "brightness_ring", "brightness_ratio"):
                assert figures[key] == pytest.approx(w_figures[key], rel=0.01)


def test_a_chip_warped_from_another_crs_matches_gdal_projecting_every_pixel():
    """Across CRSs the window is placed in the chip's CRS by a local affine map: same pixels."""
    rows, cols = np.mgrid[0:300, 0:300]
    data = (90 + 40 * np.sin(cols / 17.0) * np.cos(rows / 23.0))[None].astype("float32")
    src_transform = Affine(0.5, 0, ORIGIN[0], 0, -0.5, ORIGIN[1])  # UTM 49N, near 111E 28N
    src_crs = RioCRS.from_epsg(32649)
    chip_crs = CRS.from_epsg(4544)  # the Gauss-Kruger zone of CM 111E
    x, y = Transformer.from_crs(32649, 4544, always_xy=True).transform(
        ORIGIN[0] + 75, ORIGIN[1] - 75
    )
    dst_transform = Affine(0.6, 0, x - 38.4, 0, -0.6, y + 38.4)  # 128 px of 0.6 m
    chip = warp_chip(data, src_transform, src_crs, dst_transform, chip_crs, 128)
    every = np.full_like(chip, np.nan)
    reproject(data, every, src_transform=src_transform, src_crs=src_crs, src_nodata=np.nan,
              dst_transform=dst_transform, dst_crs=RioCRS.from_epsg(4544), dst_nodata=np.nan,
              resampling=Resampling.bilinear)  # fmt: skip
    assert np.isfinite(chip).all() and np.isfinite(every).all()
    assert np.abs(chip - every).max() < 0.05  # digital numbers
