"""Self-check (自查): find suspect changes inside the management ranges from two scenes.

:func:`detect_changes` compares a ``before`` and an ``after`` scene of the same place
(any CRS, any resolution: the after scene is warped onto the before grid by GDAL)
and returns candidate patches inside the management ranges plus ``buffer_m``. It
works window by window (bounded memory, one dataset handle per thread, threads
across windows: rasterio releases the GIL while it reads and warps), and only
windows that meet the ranges are read at all.

The steps, each chosen for what real pairs have:

1. **Relative radiometric normalisation.** The after scene is mapped into the
   radiometry of the before scene band by band with a robust linear fit
   (median/IQR matching, then least squares on the pixels whose residual is within
   three robust deviations, twice), fitted on a sample of windows inside the ranges,
   so different illumination, season and sensor gain do not read as change.
2. **Misregistration.** Each pixel is compared with the *range* of values of the
   other date within ``shift_px`` pixels (a min/max envelope) in both directions:
   a shift of up to ``shift_px`` pixels moves an edge within that envelope and is
   not a change, while a new object differs from everything around it.
3. **Clouds and shadows.** Bright, spectrally flat pixels (clouds, on either date)
   and pixels that only darken with their NDVI and NDWI unchanged (cloud shadows)
   are masked, grown by ``mask_grow_m``, and reported as unobserved
   (``frame.attrs["hetu"]["unobserved_m2"]``), never as changes. Nodata and the part
   the after scene does not cover are unobserved too.
4. **Noise.** The change magnitude (in robust deviations of each band, root mean
   square over the bands) is smoothed over 3 × 3 pixels, thresholded at
   ``threshold``, opened morphologically, and regions smaller than ``min_area_m2``
   are dropped.

Each region is a candidate: its polygon (simplified by half a pixel, EPSG:4490),
area, kind (:data:`geo.labels.CHANGE_KINDS`, from the mean NDVI, NDWI and
brightness changes), score, the segment and chiefs it falls to (the matching the
ledger uses) and, when it overlaps a patch already in the ledger, that patch
(``linked_patch``: the same place, not a new candidate).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.windows import Window

from geo.crs import STORAGE_EPSG, metric_crs
from geo.errors import BandError, SchemaError
from geo.imagery.scenes import open_scene
from geo.imagery.windows import (
    DetectOptions,
    Grid,
    Region,
    SceneReader,
    detect_window,
    fit_radiometry,
    grid_of,
    iter_windows,
    merge_regions,
)
from geo.labels import CHANGE_KINDS
from geo.progress import Progress, expect

log = logging.getLogger(__name__)

__all__ = ["CANDIDATE_COLUMNS", "DetectOptions", "detect_changes", "parse_bands"]

#: Band roles the detection needs (blue is used when present).
NEEDED = ("red", "green", "nir")
#: Columns of :func:`detect_changes`, before the chain columns and the geometry.
CANDIDATE_COLUMNS = [
    "candidate_id",
    "kind",
    "kind_label",
    "area_m2",
    "score",
    "d_ndvi",
    "d_ndwi",
    "d_brightness",
    "status",
    "linked_patch",
    "keep",
    "segment_id",
    "range_id",
    "water_name",
    "segment_name",
    "admin_code",
    "chiefs",
]


def parse_bands(text: str | None) -> dict[str, int] | None:
    """Parse ``red=1,green=2,blue=3,nir=4`` into band roles (None for None or blank).

    Raises
    ------
    BandError
        If an item is not ``role=number``.
    """
    if not text or not text.strip():
        return None
    out: dict[str, int] = {}
    for item in text.split(","):
        role, _, index = item.partition("=")
        if not index.strip().isdigit():
            raise BandError(
                f"--bands: {item.strip()!r} is not role=band; write e.g. red=1,green=2,blue=3,nir=4"
            )
        out[role.strip().lower()] = int(index)
    return out


def _kind(d_ndvi: float, d_ndwi: float, d_bright: float, ndwi_b: float, ndvi_a: float,
          blue_ratio: float) -> str:  # fmt: skip
    """Name the change from its mean index changes (see :data:`geo.labels.CHANGE_KINDS`)."""
    if ndwi_b > 0.1 and d_ndwi < -0.2:
        return "water_fill"
    if blue_ratio > 1.15 and ndvi_a < 0.2:
        return "new_structure"
    if d_ndvi < -0.1 or d_bright > 0.15:
        return "vegetation_loss"
    return "other_change"


def detect_changes(
    before: str | os.PathLike,
    after: str | os.PathLike,
    ranges: gpd.GeoDataFrame,
    *,
    bands: Mapping[str, int] | None = None,
    buffer_m: float = 50.0,
    min_area_m2: float = 100.0,
    patches: gpd.GeoDataFrame | None = None,
    chiefs: pd.DataFrame | None = None,
    options: DetectOptions | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> gpd.GeoDataFrame:
    """Find suspect changes between two scenes inside the management ranges.

    Parameters
    ----------
    before, after : path-like
        The earlier and the later scene (GeoTIFF, COG, VRT …), any CRS and resolution;
        the after scene is warped onto the before grid.
    ranges : GeoDataFrame
        Management-range segments (``Ledger.segments()``: ``segment_id``, ``range_id``,
        ``water_name``, ``segment_name``, ``admin_code``); any CRS.
    bands : mapping, optional
        Band roles for both scenes (``{"red": 1, "green": 2, "blue": 3, "nir": 4}``);
        otherwise each file's colour interpretation or band descriptions. Red, green and
        near-infrared are needed.
    buffer_m : float
        Look this far outside the ranges too, in metres.
    min_area_m2 : float
        Smallest change kept, in square metres.
    patches : GeoDataFrame, optional
        The ledger's patches (``patch_id``): a candidate overlapping one is linked to it
        (``status`` ``linked``, ``keep`` 0) instead of being new.
    chiefs : DataFrame, optional
        The chiefs' list (``Ledger.chiefs()``): fills ``chiefs`` and the ``chief_*`` columns.
    options : DetectOptions, optional
        Thresholds and window sizes.
    workers : int, optional
        Threads across windows (default: the CPUs available, at most 4).
    progress : Progress, optional
        Told of each window done.

    Returns
    -------
    GeoDataFrame
        EPSG:4490, one row per candidate, columns :data:`CANDIDATE_COLUMNS` (the
        ``chief_<level>`` columns too when chiefs are given), largest score first; ids
        ``ZC-0001`` … in that order. ``attrs["hetu"]`` holds ``observed_m2`` and
        ``unobserved_m2`` (inside the ranges plus buffer: clouds, shadows, nodata and
        what the after scene does not cover), ``aoi_m2``, the fit per band, the scenes
        and their dates.

    Raises
    ------
    SchemaError
        If ``ranges`` lacks ``segment_id`` or a CRS, or is empty.
    BandError
        If a scene's red, green or near-infrared band is unknown (give ``bands``).
    OutsideError
        If the scenes share too few valid pixels inside the ranges.
    FileNotFoundError, UnreadableImageError, NoCRSError
        For a missing or unreadable scene.
    """
    opts = options or DetectOptions()
    if ranges is None or ranges.empty or ranges.crs is None or "segment_id" not in ranges:
        raise SchemaError(
            "ranges: need the management-range segments with segment_id and a CRS "
            "(Ledger.segments()); ingest the ranges first"
        )
    scenes = {}
    for role, path in (("before", before), ("after", after)):
        with open_scene(path, bands=bands) as scene:
            lacking = [k for k in NEEDED if k not in scene.bands]
            if lacking:
                raise BandError(
                    f"{scene.path.name}: bands {lacking} are not known (from "
                    f"{scene.bands_from}); give them, e.g. --bands red=1,green=2,blue=3,nir=4"
                )
            scenes[role] = (scene.path, dict(scene.bands), scene.acquired_on,
                            scene.dataset.dtypes[0])  # fmt: skip
    roles = [k for k in ("red", "green", "blue", "nir") if k in scenes["before"][1]
             and k in scenes["after"][1]]  # fmt: skip
    pos = {k: i for i, k in enumerate(roles)}
    idx = (
        tuple(scenes["before"][1][k] for k in roles),
        tuple(scenes["after"][1][k] for k in roles),
    )
    metric = metric_crs(ranges)
    zone = shapely.union_all(ranges.to_crs(metric).geometry.make_valid().buffer(buffer_m).values)
    with rasterio.open(scenes["before"][0]) as ds:
        grid = grid_of(ds)
        aoi = gpd.GeoSeries([zone], crs=metric).to_crs(grid.crs).iloc[0]
    # half a pixel of simplification costs nothing in the mask and much in rasterising
    aoi = shapely.make_valid(aoi.simplify(abs(grid.transform.a) / 2))
    if grid.px_area == 0.0:  # geographic: area of a pixel at the centre
        cell = gpd.GeoSeries(
            [shapely.box(0, 0, abs(grid.transform.a), abs(grid.transform.e))], crs=grid.crs
        ).translate(grid.transform.c, grid.transform.f)
        grid.px_area = float(cell.to_crs(metric).area.iloc[0])
    shapely.prepare(aoi)
    wins = [
        w for w in iter_windows(grid, opts.window_px)
        if aoi.intersects(shapely.box(*rasterio.windows.bounds(w, grid.transform)))
    ]  # fmt: skip
    tick = expect(progress, len(wins))
    reader = SceneReader(scenes["before"][0], scenes["after"][0], grid, idx)
    min_px = min_area_m2 / grid.px_area
    regions: list[Region] = []
    observed = unobserved = 0
    n_workers = workers or min(4, os.cpu_count() or 1)
    try:
        with rasterio.Env(GDAL_CACHEMAX=256 * 2**20):
            fit = fit_radiometry(reader, aoi, opts, scenes["before"][3], pos)

            def one(w: Window) -> tuple[list[Region], int, int]:
                return detect_window(w, reader, aoi, fit, opts, pos, min_px)

            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                for found, seen, unseen in pool.map(one, wins):
                    regions += found
                    observed += seen
                    unobserved += unseen
                    tick(1)
    finally:
        reader.close()
    regions = [g for g in merge_regions(regions) if g.sums[0] >= min_px]
    frame = _frame(regions, grid, metric, pos)
    frame = _place(frame, ranges, patches, chiefs)
    frame.attrs["hetu"] = {
        "observed_m2": round(observed * grid.px_area, 1),
        "unobserved_m2": round(unobserved * grid.px_area, 1),
        "aoi_m2": round(float(zone.area), 1),
        "fit": {
            k: [
                round(float(fit.gain[i]), 4),
                round(float(fit.offset[i]), 3),
                round(float(fit.sigma[i]), 3),
            ]
            for k, i in pos.items()
        },
        "cloud_level": round(fit.cloud_level, 2),
        "before": str(scenes["before"][0]),
        "after": str(scenes["after"][0]),
        "before_on": scenes["before"][2],
        "after_on": scenes["after"][2],
        "buffer_m": buffer_m,
        "min_area_m2": min_area_m2,
    }
    return frame


def _frame(regions: list[Region], grid: Grid, metric: Any, pos: Mapping[str, int]) -> Any:
    cols = {c: [] for c in ("area_m2", "score", "d_ndvi", "d_ndwi", "d_brightness", "kind")}
    geoms = []
    for g in regions:
        s = g.sums
        n = s[0]
        mean = np.concatenate([[s[1] / n], s[2:] / max(s[1], 1e-9)])
        cols["area_m2"].append(n * grid.px_area)
        cols["score"].append(round(float(mean[0]), 2))
        cols["d_ndvi"].append(round(float(mean[1]), 3))
        cols["d_ndwi"].append(round(float(mean[2]), 3))
        cols["d_brightness"].append(round(float(mean[3]), 3))
        blue = float(mean[6]) if "blue" in pos else 0.0
        cols["kind"].append(_kind(mean[1], mean[2], mean[3], mean[4], mean[5], blue))
        geoms.append(g.geom)
    simple = gpd.GeoSeries(geoms, crs=grid.crs).to_crs(metric)
    simple = simple.simplify(grid.res / 2).make_valid()
    frame = gpd.GeoDataFrame(cols, geometry=simple.to_crs(STORAGE_EPSG).values, crs=STORAGE_EPSG)
    frame["area_m2"] = gpd.GeoSeries(geoms, crs=grid.crs).to_crs(metric).area.round(1).values
    frame["kind_label"] = frame["kind"].map(CHANGE_KINDS)
    frame = frame.sort_values(["score", "area_m2"], ascending=False, kind="stable")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "candidate_id", [f"ZC-{k:04d}" for k in range(1, len(frame) + 1)])
    return frame


def _place(
    frame: gpd.GeoDataFrame,
    ranges: gpd.GeoDataFrame,
    patches: gpd.GeoDataFrame | None,
    chiefs: pd.DataFrame | None,
) -> gpd.GeoDataFrame:
    """Add the segment, chiefs and any existing patch at the same place."""
    from geo.matching.chiefs import responsible_chain
    from geo.matching.engines import match_patches

    frame = frame.copy()
    frame["status"] = "new"
    frame["linked_patch"] = ""
    for c in ("segment_id", "range_id", "water_name", "segment_name", "admin_code", "chiefs"):
        frame[c] = ""
    if frame.empty:
        frame["keep"] = pd.Series(dtype="int64")
        return gpd.GeoDataFrame(frame[[*CANDIDATE_COLUMNS, "geometry"]], crs=STORAGE_EPSG)
    as_patches = frame[["candidate_id", "geometry"]].rename(columns={"candidate_id": "patch_id"})
    matches = match_patches(as_patches, ranges, id_column="segment_id", workers=1)
    primary = matches[matches["primary"].astype(bool)]
    people = chiefs if chiefs is not None else pd.DataFrame(
        columns=["chief_id", "name", "title", "level", "segment_id", "term_start", "term_end"]
    )  # fmt: skip
    try:
        chain = responsible_chain(primary, pd.DataFrame(ranges.drop(columns="geometry")), people)
    except SchemaError as exc:  # a chiefs' list without the columns: no chiefs
        log.warning("chiefs not added: %s", exc)
        chain = primary.assign(water_name="", segment_name="", admin_code="")
    chain = chain.drop_duplicates("patch_id").set_index("patch_id")
    seg = ranges.drop_duplicates("segment_id").set_index("segment_id")
    ids = frame["candidate_id"]
    for c in ("segment_id", "water_name", "segment_name", "admin_code"):
        if c in chain:
            frame[c] = ids.map(chain[c]).fillna("").astype(str).to_numpy()
    frame["range_id"] = frame["segment_id"].map(seg.get("range_id", pd.Series(dtype=str)))
    frame["range_id"] = frame["range_id"].fillna("").astype(str)
    levels = [c for c in chain.columns if c.startswith("chief_")]
    for c in levels:
        frame[c] = ids.map(chain[c]).fillna("").astype(str).to_numpy()
    frame["chiefs"] = (
        frame[levels].apply(lambda r: "；".join(v for v in r if v), axis=1) if levels else ""
    )
    if patches is not None and len(patches):
        m = metric_crs(frame)
        cand = frame.geometry.to_crs(m).to_numpy()
        earlier = patches.geometry.to_crs(m).make_valid().to_numpy()
        qi, ti = shapely.STRtree(earlier).query(cand, predicate="intersects")
        if len(qi):
            over = shapely.area(shapely.intersection(cand[qi], earlier[ti]))
            hit = pd.DataFrame({"c": qi, "p": patches["patch_id"].astype(str).to_numpy()[ti],
                                "over": over})  # fmt: skip
            best = hit.sort_values("over", ascending=False).drop_duplicates("c")
            col = frame.columns.get_loc("linked_patch")
            frame.iloc[best["c"].to_numpy(), col] = best["p"].to_numpy()
    frame.loc[frame["linked_patch"] != "", "status"] = "linked"
    frame["keep"] = (frame["status"] == "new").astype("int64")
    extra = [c for c in levels if c not in CANDIDATE_COLUMNS]
    return gpd.GeoDataFrame(frame[[*CANDIDATE_COLUMNS, *extra, "geometry"]], crs=STORAGE_EPSG)


def summary(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """Counts of a candidates frame by status and kind, with the unobserved area (for printing)."""
    meta = frame.attrs.get("hetu", {})
    return {
        "candidates": len(frame),
        "new": int((frame["status"] == "new").sum()) if len(frame) else 0,
        "linked": int((frame["status"] == "linked").sum()) if len(frame) else 0,
        "kinds": {str(k): int(v) for k, v in frame["kind"].value_counts().items()},
        "unobserved_m2": meta.get("unobserved_m2"),
        "observed_m2": meta.get("observed_m2"),
    }
