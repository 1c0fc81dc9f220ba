"""Imagery evidence: before/after chips and change indicators for every patch.

For each patch, :func:`chips_for_patches` finds the images covering it and cuts
the square around the patch on a grid in the patch's metric CRS (the CGCS2000
3-degree Gauss-Kruger zone in China). An image already in that CRS is read straight
onto the chip's grid (one resampled window read, served from overviews when the
chip is small); an image in another CRS has the window under the square read
(decimated likewise) and warped onto the grid. It then draws the patch outline and
saves a PNG (all of a run's chips reach the disk in one sync at its end). It also
measures change indicators inside the patch against a ring around it: the mean
brightness, and NDVI and NDWI when a near-infrared band is known.
:func:`imagery_for_ledger` does this for every patch of a ledger and both roles,
adds the before → after differences, and stores rows and chips in the ledger all
or nothing. A bad image (corrupt, no CRS, all nodata, patch outside) becomes a
per-patch ``status`` and ``reason``; it never stops the batch.

How an image is chosen: images are tried in the order given (so list the
preferred ones first); the first one covering the patch that gives a chip wins,
and a failure falls through to the next. How its date is decided:
:func:`geo.imagery.scenes.acquisition_date`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import io
import json
import logging
import math
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine
from PIL import Image, ImageDraw, ImageFont
from pyproj import CRS

from geo.crs import CHINA_BOX, central_meridian_for, gauss_kruger_epsg
from geo.errors import ImageryError, NoDataError, OutsideError, SchemaError
from geo.fileio import background_writes, deferred_writes
from geo.imagery.chips import NODATA_RGB, chip_indicators, render_chip, warp_chip, zone_masks
from geo.imagery.scenes import Scene, open_scene, read_chip, read_window
from geo.progress import Progress, expect, no_progress

log = logging.getLogger(__name__)

ROLES = ("before", "after")
#: Columns of the rows :func:`chips_for_patches` returns that the ledger stores.
ROW_COLUMNS = [
    "patch_id",
    "role",
    "source",
    "acquired_on",
    "attachment_id",
    "status",
    "reason",
    "indicators",
]
#: Indicators compared before → after (``delta_<name>`` = after − before).
DELTA_KEYS = (
    "brightness_patch",
    "brightness_ratio",
    "ndvi_patch",
    "ndvi_diff",
    "ndwi_patch",
    "ndwi_diff",
)
_UNSAFE = re.compile(r"[^\w.-]+")


def patch_crs(lon: float, lat: float) -> int:
    """Return the EPSG code of the metric CRS to draw a patch at ``lon, lat`` in.

    Inside China's box this is the CGCS2000 3-degree Gauss-Kruger zone of the
    longitude (EPSG:4534–4554); elsewhere (test imagery, say) the WGS84 UTM zone.
    """
    lon0, lat0, lon1, lat1 = CHINA_BOX
    if lon0 <= lon <= lon1 and lat0 <= lat <= lat1:
        return gauss_kruger_epsg(central_meridian_for(lon))
    zone = min(60, max(1, int((lon + 180) // 6) + 1))
    return (32600 if lat >= 0 else 32700) + zone


@dataclass
class _Job:
    """One patch to chip, in its metric CRS."""

    pid: str
    geom: shapely.Geometry
    crs: CRS
    transform: Affine
    #: (scene, the chip's box in the scene's CRS, whether the scene is in the chip's CRS)
    candidates: list[tuple[Scene, tuple[float, float, float, float], bool]]
    #: ``crs`` as text (asked of PROJ once per batch, not per chip)
    crs_name: str = ""


def _chip(
    job: _Job, scene: Scene, bounds: tuple, same: bool, *, size_px: int, ring_m: float
) -> tuple[np.ndarray, dict[str, float], dict[str, Any]]:
    """Read (warp if need be) and measure one chip; raise ImageryError if the scene cannot."""
    display = scene.display_bands
    indexes = sorted({*display, *scene.bands.values()})
    read = read_chip(scene, job.transform, size_px, indexes=indexes) if same else None
    if read is not None:  # the scene is in the chip's CRS: read straight onto the chip's grid
        chip = read.data
    else:  # another CRS (or the chip runs off the image): warp a window onto the chip's grid
        read = read_window(scene, bounds, max_px=size_px, indexes=indexes)
        try:
            chip = warp_chip(
                read.data, read.transform, scene.dataset.crs, job.transform, job.crs, size_px
            )
        except ImageryError as exc:
            raise ImageryError(f"{scene.path.name}: {exc}") from exc
    if not np.isfinite(chip).any():
        raise NoDataError(f"{scene.path.name}: every pixel around the patch is nodata")
    inside, ring = zone_masks(job.geom, job.transform, size_px, ring_m)
    pos = {k: indexes.index(v) for k, v in scene.bands.items()}
    show = [indexes.index(b) for b in display]
    try:
        figures = chip_indicators(chip, inside=inside, ring=ring, bands=pos, display=show)
    except NoDataError as exc:
        raise NoDataError(f"{scene.path.name}: {exc}") from exc
    figures["res_m"] = round(job.transform.a, 3)
    meta = {"decimation": round(read.decimation, 3), "overview": read.overview, "show": show}
    return chip, figures, meta


@functools.lru_cache(maxsize=64)
def _crs_name(wkt: str) -> str:
    return CRS.from_wkt(wkt).to_string()


@functools.lru_cache(maxsize=64)
def _same_crs(scene_wkt: str, chip_wkt: str) -> bool:
    """Whether a scene's CRS is the chip's (then its pixels need no warp)."""
    return scene_wkt == chip_wkt or CRS.from_wkt(scene_wkt).equals(
        CRS.from_wkt(chip_wkt), ignore_axis_order=True
    )


def _metric_groups(geoms: gpd.GeoSeries, crs: Any) -> dict[int | str, np.ndarray]:
    """Group patch positions by the metric CRS each is drawn in."""
    if crs is not None:
        return {CRS.from_user_input(crs).to_wkt(): np.arange(len(geoms))}
    b = geoms.to_crs(4490).bounds.to_numpy()
    codes = np.array(
        [patch_crs((x0 + x1) / 2, (y0 + y1) / 2) if np.isfinite(x0) else 0 for x0, y0, x1, y1 in b]
    )
    return {int(c): np.flatnonzero(codes == c) for c in np.unique(codes)}


def _open_all(
    images: Sequence[str | os.PathLike], stack: contextlib.ExitStack, **kw: Any
) -> tuple[list[Scene], list[tuple[Path, ImageryError]]]:
    scenes, bad = [], []
    given = {str(k): v for k, v in (kw.pop("acquired_on") or {}).items()}
    for path in images:
        p = Path(path)
        when = given.get(str(path), given.get(p.name))
        try:
            scenes.append(stack.enter_context(open_scene(p, acquired_on=when, **kw)))
        except ImageryError as exc:
            log.info("skipping %s: %s", p, exc)
            bad.append((p, exc))
    return scenes, bad


def chips_for_patches(
    patches: gpd.GeoDataFrame,
    images: Sequence[str | os.PathLike],
    *,
    role: str,
    out_dir: str | os.PathLike,
    size_px: int = 256,
    buffer_m: float = 30.0,
    ring_m: float = 20.0,
    bands: Mapping[str, int] | None = None,
    acquired_on: Mapping[str, str | dt.date] | None = None,
    crs: Any = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> tuple[pd.DataFrame, dict[str, Path]]:
    """Cut a chip from the images for every patch, measure it and save it as a PNG.

    The patches are cut in Hilbert order (neighbours share GDAL's cached blocks), split
    into ``workers`` runs of neighbours, each run in a thread of its own with its own
    handles on the images (GDAL and PIL release the GIL; a dataset is never shared
    between threads).

    Parameters
    ----------
    patches : GeoDataFrame
        ``patch_id`` and polygons, any CRS (set). Not modified.
    images : sequence of path-like
        GeoTIFF, COG or VRT files in any CRS, tried in this order for each patch.
    role : str
        ``before`` or ``after`` (recorded on each row).
    out_dir : path-like
        Where the PNG chips are written (``<patch_id>_<role>_<sha8>.png``).
    size_px : int
        Chip width and height in pixels.
    buffer_m : float
        Margin around the patch's extent, in metres; the chip is the square around both.
    ring_m : float
        Width of the ring around the patch the indicators compare with, in metres.
    bands : mapping, optional
        Band roles for every image, e.g. ``{"red": 3, "green": 2, "blue": 1, "nir": 4}``
        (1-based); otherwise read from each file (:func:`geo.imagery.scenes.band_roles`).
    acquired_on : mapping, optional
        File path or name → acquisition date, overriding what the files say.
    crs : CRS-like, optional
        Draw every chip in this metric CRS instead of each patch's own zone.
    progress : Progress, optional
        Told of each patch done, chipped or not (:mod:`geo.progress`).
    workers : int, optional
        Threads (default: the CPUs available less those other jobs keep busy, by the
        1-minute load average, at most 8; 1 runs in the calling thread).

    Returns
    -------
    rows : DataFrame
        One row per patch, in the input order: the :data:`ROW_COLUMNS` stored by
        :meth:`geo.ledger.store.Ledger.replace_imagery` (``indicators`` as JSON text), and
        ``acquired_from``, ``chip`` (the PNG path or None), ``crs``, ``decimation``
        (source pixels per pixel read) and ``overview`` (the overview factor used).
    files : dict of str to Path
        sha256 → chip file, for :meth:`~geo.ledger.store.Ledger.replace_imagery`.

    Raises
    ------
    SchemaError
        If ``patches`` lacks ``patch_id`` or a CRS, or ``role`` is unknown.
    FileNotFoundError
        If an image path does not exist (nothing is done).
    BandError
        If ``bands`` names a band an image lacks.
    """
    if role not in ROLES:
        raise SchemaError(f"role {role!r} is not one of {ROLES}")
    if "patch_id" not in patches.columns or patches.crs is None:
        raise SchemaError(
            "patches: need a patch_id column and a CRS; found columns "
            f"{list(patches.columns)} and CRS {patches.crs}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = patches["patch_id"].astype(str).to_numpy()
    geoms = patches.geometry
    empty = (geoms.isna() | geoms.is_empty).to_numpy()
    rows: list[dict[str, Any] | None] = [None] * len(patches)
    files: dict[str, Path] = {}
    tick = progress or no_progress
    with contextlib.ExitStack() as stack:
        stack.enter_context(rasterio.Env())  # one GDAL environment for every read and warp
        write = stack.enter_context(deferred_writes())  # chips reach the disk in one sync
        write = stack.enter_context(background_writes(write))  # created while the next is cut
        scenes, bad = _open_all(images, stack, bands=bands, acquired_on=acquired_on)
        opened = {"bands": bands, "acquired_on": acquired_on}  # how each thread opens them
        for key, idx in _metric_groups(geoms, crs).items():
            idx = idx[~empty[idx]]
            if not len(idx):
                continue
            metric = CRS.from_user_input(key)
            jobs = list(_jobs(ids[idx], geoms.iloc[idx], metric, scenes, size_px, buffer_m))

            def run(part: list[_Ordered], idx: np.ndarray = idx) -> None:
                with contextlib.ExitStack() as own:  # this thread's handles on the images
                    own.enter_context(rasterio.Env())
                    mine, _ = _open_all(images, own, **dict(opened))
                    swap = {id(a): b for a, b in zip(scenes, mine, strict=True)}
                    for job in part:
                        job.job.candidates = [
                            (swap[id(sc)], *rest) for sc, *rest in job.job.candidates
                        ]
                        rows[int(idx[job.order])] = _one(
                            job.job, role, out, files, size_px=size_px, ring_m=ring_m, write=write
                        )
                        tick(1)

            n = _threads(workers, len(jobs), len(bad) == 0)
            if n == 1:
                for job in jobs:
                    rows[int(idx[job.order])] = _one(
                        job.job, role, out, files, size_px=size_px, ring_m=ring_m, write=write
                    )
                    tick(1)
            else:
                step = -(-len(jobs) // n)
                parts = [jobs[k : k + step] for k in range(0, len(jobs), step)]
                with ThreadPoolExecutor(max_workers=n, thread_name_prefix="hetu-chips") as pool:
                    list(pool.map(run, parts))
        for k in np.flatnonzero(empty):
            rows[k] = _row(ids[k], role, None, "no_geometry", "the patch has no geometry")
        tick(int(empty.sum()))
        for row in rows:
            if row is not None and row["status"] == "outside" and bad:
                p, exc = bad[0]
                row.update(source=str(p), status=exc.code, reason=f"{row['reason']}; {exc}")
    frame = pd.DataFrame([r for r in rows if r is not None])
    return frame, files


def _threads(workers: int | None, n_jobs: int, all_opened: bool) -> int:
    """Threads for ``n_jobs`` chips: one unless there are enough to share out."""
    if workers is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            cpus = os.cpu_count() or 1
        # a second thread pays only on a core other jobs leave free: with every core busy,
        # 2 threads cut 0.6-0.9x the chips of one (docs/performance.md, imagery)
        busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        workers = min(8, cpus, max(1, math.floor(cpus - busy + 1.5)))
    # a few chips do not pay for opening the images again; nor do images that failed to open
    return max(1, min(int(workers), n_jobs // 64)) if all_opened else 1


@dataclass
class _Ordered:
    order: int
    job: _Job


def _jobs(
    ids: np.ndarray,
    geoms: gpd.GeoSeries,
    metric: CRS,
    scenes: list[Scene],
    size_px: int,
    buffer_m: float,
) -> Iterator[_Ordered]:
    """Yield one job per patch, in Hilbert order (neighbours share blocks in GDAL's cache)."""
    gm = geoms.to_crs(metric).make_valid()
    b = gm.bounds.to_numpy()
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) + 2 * buffer_m
    boxes = gpd.GeoSeries(
        shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), crs=metric
    )
    dense = boxes.segmentize(side / 8)
    in_scene = []
    for scene in scenes:
        sb = dense.to_crs(scene.dataset.crs).bounds.to_numpy()
        pb = gm.to_crs(scene.dataset.crs).bounds.to_numpy()
        left, bottom, right, top = scene.dataset.bounds
        hit = (
            np.isfinite(sb).all(axis=1)
            & np.isfinite(pb).all(axis=1)
            & (pb[:, 0] < right)
            & (pb[:, 2] > left)
            & (pb[:, 1] < top)
            & (pb[:, 3] > bottom)
        )
        same = _same_crs(scene.dataset.crs.to_wkt(), metric.to_wkt())
        in_scene.append((scene, sb, hit, same))
    order = np.argsort(boxes.hilbert_distance().to_numpy(), kind="stable") if len(gm) > 1 else [0]
    name = _crs_name(metric.to_wkt())
    for k in order:
        res = side[k] / size_px
        transform = Affine(res, 0, cx[k] - side[k] / 2, 0, -res, cy[k] + side[k] / 2)
        cands = [(s, tuple(sb[k]), same) for s, sb, hit, same in in_scene if hit[k]]
        yield _Ordered(int(k), _Job(str(ids[k]), gm.iloc[k], metric, transform, cands, name))


def _row(
    pid: str, role: str, scene: Scene | Path | None, status: str, reason: str | None
) -> dict[str, Any]:
    path = scene.path if isinstance(scene, Scene) else scene
    return {
        "patch_id": pid,
        "role": role,
        "source": str(path) if path is not None else "",
        "acquired_on": scene.acquired_on if isinstance(scene, Scene) else None,
        "attachment_id": None,
        "status": status,
        "reason": reason,
        "indicators": None,
        "acquired_from": scene.acquired_from if isinstance(scene, Scene) else None,
        "chip": None,
        "crs": None,
        "decimation": None,
        "overview": None,
    }


def _one(
    job: _Job,
    role: str,
    out: Path,
    files: dict[str, Path],
    *,
    size_px: int,
    ring_m: float,
    write: Callable[[Path, bytes], Path],
) -> dict[str, Any]:
    """Chip one patch from the first candidate scene that gives one; else say why not."""
    if not job.candidates:
        return _row(job.pid, role, None, OutsideError.code, "the patch is outside every image")
    failures: list[tuple[Scene, ImageryError]] = []
    for scene, bounds, same in job.candidates:
        try:
            chip, figures, meta = _chip(job, scene, bounds, same, size_px=size_px, ring_m=ring_m)
        except ImageryError as exc:
            log.info("%s %s: %s", job.pid, role, exc)
            failures.append((scene, exc))
            continue
        img = render_chip(chip, display=meta["show"], outline=job.geom, transform=job.transform)
        buf = io.BytesIO()
        # fast zlib settings: runs of one byte only (Z_RLE) is quicker than Huffman coding
        # only, and no larger (it adds runs to it), and both than level 1
        img.save(buf, format="PNG", compress_level=1, compress_type=zlib.Z_RLE)
        data = buf.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        path = out / f"{_UNSAFE.sub('_', job.pid)}_{role}_{sha[:8]}.png"
        write(path, data)
        files[sha] = path
        row = _row(job.pid, role, scene, "ok", None)
        row.update(
            attachment_id=sha,
            indicators=json.dumps(figures, sort_keys=True),
            chip=path,
            crs=job.crs_name,
            decimation=meta["decimation"],
            overview=meta["overview"],
        )
        return row
    scene, exc = failures[0]
    reason = "; ".join(str(e) for _, e in failures)
    return _row(job.pid, role, scene, exc.code, reason)


def add_deltas(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Return ``after`` with ``delta_<name>`` (after − before) added to its indicators.

    Parameters
    ----------
    before, after : DataFrame
        Imagery rows (``patch_id``, ``status``, ``indicators`` as JSON text); the last
        ``ok`` row of a patch in ``before`` is the one compared. Not modified.

    Returns
    -------
    DataFrame
        A copy of ``after``; rows of patches without both chips are unchanged.
    """
    ok = before[before["status"] == "ok"].drop_duplicates("patch_id", keep="last")
    base = {
        pid: json.loads(text) for pid, text in zip(ok["patch_id"], ok["indicators"], strict=True)
    }
    out = after.copy()
    texts = []
    for pid, status, text in zip(out["patch_id"], out["status"], out["indicators"], strict=True):
        if status != "ok" or pid not in base or not text:
            texts.append(text)
            continue
        now = json.loads(text)
        for key in DELTA_KEYS:
            if key in now and key in base[pid]:
                now[f"delta_{key}"] = round(now[key] - base[pid][key], 4)
        texts.append(json.dumps(now, sort_keys=True))
    out["indicators"] = texts
    return out


@dataclass
class ImageryRun:
    """What :func:`imagery_for_ledger` did.

    Attributes
    ----------
    rows : DataFrame
        Every row written (see :func:`chips_for_patches`).
    counts : dict
        Role → status → number of patches.
    images : list of dict
        Per image file: ``role``, ``path``, ``acquired_on``, ``acquired_from``, ``bands``,
        ``bands_from``, or ``error`` for a file that could not be used at all.
    written : int
        Rows stored in the ledger.
    """

    rows: pd.DataFrame
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    images: list[dict[str, Any]] = field(default_factory=list)
    written: int = 0


def describe_images(
    images: Sequence[str | os.PathLike], *, role: str, bands: Mapping[str, int] | None = None
) -> list[dict[str, Any]]:
    """Say, per image file, its date (and where from) and band roles, or why it is unusable."""
    out = []
    for path in images:
        entry: dict[str, Any] = {"role": role, "path": str(path)}
        try:
            with open_scene(path, bands=bands) as scene:
                entry.update(
                    acquired_on=scene.acquired_on,
                    acquired_from=scene.acquired_from,
                    bands=scene.bands,
                    bands_from=scene.bands_from,
                    crs=scene.dataset.crs.to_string(),
                )
        except ImageryError as exc:
            entry.update(error=str(exc), status=exc.code)
        out.append(entry)
    return out


def imagery_for_ledger(
    ledger: Any,
    *,
    before: Sequence[str | os.PathLike] = (),
    after: Sequence[str | os.PathLike] = (),
    out_dir: str | os.PathLike | None = None,
    size_px: int = 256,
    buffer_m: float = 30.0,
    ring_m: float = 20.0,
    bands: Mapping[str, int] | None = None,
    acquired_on: Mapping[str, str | dt.date] | None = None,
    progress: Progress | None = None,
) -> ImageryRun:
    """Chip every patch of a ledger from before and after images and store the results.

    Rows replace earlier ones of the same (patch, role, source); chips go to the
    ledger's attachment store; everything is written in one transaction. When a
    patch has an ``ok`` before chip (from this run, or stored earlier) and an ``ok``
    after chip, the after row's indicators gain ``delta_<name>`` (after − before).

    Parameters
    ----------
    ledger : geo.ledger.store.Ledger
        The open ledger.
    before, after : sequence of path-like
        Image files for each role (either may be empty).
    out_dir : path-like, optional
        Keep the PNG chips here too (default: a temporary folder, removed after).
    size_px, buffer_m, ring_m, bands, acquired_on
        As in :func:`chips_for_patches`.
    progress : Progress, optional
        Told how many chips to expect (patches × roles given), then of each patch done
        per role (:mod:`geo.progress`).

    Returns
    -------
    ImageryRun

    Raises
    ------
    FileNotFoundError
        If an image path does not exist; nothing is written.
    BandError
        If ``bands`` names a band an image lacks; nothing is written.
    """
    patches = ledger.patches()[["patch_id", "geometry"]]
    run = ImageryRun(rows=pd.DataFrame(columns=ROW_COLUMNS))
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    roles = [r for r, images in (("before", before), ("after", after)) if images]
    tick = expect(progress, len(patches) * len(roles))
    opts = dict(size_px=size_px, buffer_m=buffer_m, ring_m=ring_m, bands=bands, progress=tick)
    with contextlib.ExitStack() as stack:
        folder = (
            Path(out_dir) if out_dir else Path(stack.enter_context(tempfile.TemporaryDirectory()))
        )
        for role, images in (("before", before), ("after", after)):
            if not images:
                continue
            run.images += describe_images(images, role=role, bands=bands)
            rows, made = chips_for_patches(
                patches, images, role=role, out_dir=folder / role, acquired_on=acquired_on, **opts
            )
            frames[role] = rows
            files.update(made)
            run.counts[role] = {str(k): int(v) for k, v in rows["status"].value_counts().items()}
        if "after" in frames:
            earlier = frames.get("before")
            if earlier is None:
                stored = ledger.imagery()
                earlier = stored[stored["role"] == "before"] if len(stored) else None
            if earlier is not None and len(earlier):
                frames["after"] = add_deltas(earlier, frames["after"])
        if frames:
            run.rows = pd.concat(frames.values(), ignore_index=True)
            run.written = ledger.replace_imagery(run.rows, files=files)
    return run


def _label(img: Image.Image, text: str) -> None:
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(10, img.height // 12))
    x0, y0, x1, y1 = draw.textbbox((4, 4), text, font=font)
    draw.rectangle((x0 - 2, y0 - 2, x1 + 2, y1 + 2), fill=(0, 0, 0))
    draw.text((4, 4), text, fill=(255, 255, 255), font=font)


def thumbnails_for_map(
    ledger: Any,
    *,
    roles: str | Sequence[str] = ROLES,
    max_px: int = 160,
    quality: int = 70,
) -> dict[str, list[str]]:
    """Return, per patch, its latest chips as small JPEG data URIs for the map popups.

    Parameters
    ----------
    ledger : geo.ledger.store.Ledger
        The open ledger.
    roles : str or sequence of str
        Which chips, in popup order (default before, then after).
    max_px : int
        Longest side of each thumbnail.
    quality : int
        JPEG quality (70 keeps a 160 px chip near 6 KB).

    Returns
    -------
    dict of str to list of str
        Patch id → ``data:image/jpeg;base64,…`` URIs, each stamped with its
        acquisition date; patches without an ``ok`` chip are left out. Pass it as
        ``thumbnails=`` to :func:`geo.maps.status.status_map`.
    """
    wanted = [roles] if isinstance(roles, str) else list(roles)
    rows = ledger.imagery()
    if rows.empty:
        return {}
    rows = rows[(rows["status"] == "ok") & rows["role"].isin(wanted)]
    rows = rows.sort_values("made_at", kind="stable").drop_duplicates(
        ["patch_id", "role"], keep="last"
    )
    out: dict[str, list[str]] = {}
    rank = {r: k for k, r in enumerate(wanted)}
    rows = rows.assign(rank=rows["role"].map(rank)).sort_values(["patch_id", "rank"], kind="stable")
    for pid, sha, day in zip(
        rows["patch_id"], rows["attachment_id"], rows["acquired_on"], strict=True
    ):
        path = ledger.attachment_path(sha)
        if path is None:
            log.warning("chip %s of patch %s is not in the attachment store", sha, pid)
            continue
        uri = chip_uri(path, stamp=day if isinstance(day, str) else "", max_px=max_px,
                       quality=quality)  # fmt: skip
        out.setdefault(str(pid), []).append(uri)
    return out


def chip_uri(path: str | os.PathLike, *, stamp: str = "", max_px: int = 160,
             quality: int = 70) -> str:  # fmt: skip
    """Return a chip file as a small JPEG data URI (nodata grey), stamped with ``stamp``."""
    with Image.open(path) as src:
        img = src.convert("RGBA")
    flat = Image.new("RGB", img.size, NODATA_RGB)
    flat.paste(img, mask=img.getchannel("A"))
    flat.thumbnail((max_px, max_px))
    if stamp:
        _label(flat, stamp)
    buf = io.BytesIO()
    flat.save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
