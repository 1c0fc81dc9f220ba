"""Image scenes: open GeoTIFF, COG and VRT files, decide their date and band roles, read windows.

A :class:`Scene` is one image file opened once for a whole batch of patches,
with what Hetu decided about it: its acquisition date and where that came
from, and which band is red, green, blue or near-infrared. :func:`read_window`
reads only the pixels under a box, decimated to the size asked (GDAL then
serves the read from the file's overviews when it has them), so a whole scene
is never held in memory.

Failures are typed (:class:`ImageryError` and its subclasses, each with a short
``code``) so that :mod:`geo.imagery.chipping` turns them into a per-patch reason instead
of stopping the batch.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window

from geo.errors import BandError, NoCRSError, OutsideError, UnreadableImageError

log = logging.getLogger(__name__)

#: Band roles Hetu uses, and the words in band descriptions that name them.
BAND_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red", "r", "b4_red"),
    "green": ("green", "g"),
    "blue": ("blue", "b"),
    "nir": ("nir", "near infrared", "near-infrared", "nearinfrared", "infrared", "nir1"),
}
_INTERP_ROLES = {
    ColorInterp.red: "red",
    ColorInterp.green: "green",
    ColorInterp.blue: "blue",
    ColorInterp.nir: "nir",
}
#: Metadata tags holding an acquisition time, in the order they are trusted.
DATE_TAGS = (
    "ACQUISITIONDATETIME",
    "ACQUISITION_DATETIME",
    "ACQUISITIONDATE",
    "ACQUISITION_DATE",
    "DATE_ACQUIRED",
    "SENSING_TIME",
    "TIFFTAG_DATETIME",
)
_DATE_IN_NAME = re.compile(
    r"(?<!\d)((?:19[7-9]|20\d)\d)[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)"
)
_DATE_IN_TAG = re.compile(r"((?:19|20)\d\d)[-:/.]?(\d\d)[-:/.]?(\d\d)")


@dataclass
class Scene:
    """One image file opened for a batch of chips.

    Attributes
    ----------
    path : Path
        The file (GeoTIFF, COG, VRT or anything GDAL reads).
    dataset : rasterio.DatasetReader
        The open dataset; close it with :meth:`close` (or use the scene as a context manager).
    acquired_on : str or None
        The acquisition date, ISO ``YYYY-MM-DD``, or None when nothing tells it.
    acquired_from : str
        Where the date came from: ``given``, ``tag <NAME>``, ``file name`` or ``unknown``.
    bands : dict of str to int
        Band roles (``red``, ``green``, ``blue``, ``nir``) to 1-based band indexes.
    bands_from : str
        How the roles were decided: ``given``, ``colour interpretation``,
        ``band descriptions`` or ``none``.
    """

    path: Path
    dataset: rasterio.io.DatasetReader
    acquired_on: str | None
    acquired_from: str
    bands: dict[str, int] = field(default_factory=dict)
    bands_from: str = "none"
    #: what reads ask of the dataset for every chip (mask flags, overviews), asked once
    _asked: dict[tuple, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def display_bands(self) -> list[int]:
        """The bands drawn as red, green, blue (or one grey band)."""
        if all(k in self.bands for k in ("red", "green", "blue")):
            return [self.bands["red"], self.bands["green"], self.bands["blue"]]
        if self.dataset.count >= 3 and not self.bands:
            return [1, 2, 3]
        return [self.bands.get("red", 1)]

    def close(self) -> None:
        """Close the dataset."""
        self.dataset.close()

    def __enter__(self) -> Scene:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _date_from_tag(value: str) -> str | None:
    match = _DATE_IN_TAG.search(value)
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return None


def date_from_name(name: str) -> str | None:
    """Return the first plausible date written in a file name (``20250715``, ``2025-07-15``).

    Parameters
    ----------
    name : str
        A file name or stem. Years 1970–2099 only; impossible dates are skipped.

    Returns
    -------
    str or None
        ISO ``YYYY-MM-DD``.
    """
    for match in _DATE_IN_NAME.finditer(name):
        try:
            return dt.date(*(int(g) for g in match.groups())).isoformat()
        except ValueError:
            continue
    return None


def acquisition_date(
    dataset: rasterio.io.DatasetReader, *, given: str | dt.date | None = None
) -> tuple[str | None, str]:
    """Decide an image's acquisition date, and say where it came from.

    The order: a date the caller gives; an acquisition tag in the default or
    ``IMAGERY`` metadata domain (``ACQUISITIONDATETIME``, ``ACQUISITIONDATE`` …);
    a date in the file name (``…_20250715.tif``); last, ``TIFFTAG_DATETIME``,
    which many tools set to the processing time rather than the acquisition, so
    it only fills in when nothing better exists. Otherwise None.

    Parameters
    ----------
    dataset : rasterio dataset
        The open image.
    given : str or date, optional
        The date the caller knows.

    Returns
    -------
    tuple of (str or None, str)
        The ISO date and ``given`` | ``tag <NAME>`` | ``file name`` | ``unknown``.
    """
    if given is not None:
        day = given if isinstance(given, dt.date) else dt.date.fromisoformat(str(given)[:10])
        return day.isoformat(), "given"
    tags: dict[str, str] = {}
    for ns in (None, "IMAGERY"):
        try:
            tags.update({k.upper(): v for k, v in dataset.tags(ns=ns).items()})
        except RasterioError:  # pragma: no cover - a driver without the domain
            continue
    for name in DATE_TAGS[:-1]:
        day = _date_from_tag(tags.get(name, ""))
        if day:
            return day, f"tag {name}"
    day = date_from_name(Path(dataset.name).name)
    if day:
        return day, "file name"
    day = _date_from_tag(tags.get("TIFFTAG_DATETIME", ""))
    if day:
        return day, "tag TIFFTAG_DATETIME"
    return None, "unknown"


def band_roles(
    dataset: rasterio.io.DatasetReader, *, given: Mapping[str, int] | None = None
) -> tuple[dict[str, int], str]:
    """Decide which band is red, green, blue and near-infrared.

    The caller's mapping wins (``{"red": 3, "nir": 4}``, 1-based); otherwise the
    colour interpretation of the bands (GDAL 3.10 knows ``nir``), then their
    descriptions (``red``, ``NIR``, ``near infrared`` …). A band neither names is
    left out: Hetu never guesses a NIR band, so NDVI/NDWI are only computed when a
    band is known to be near-infrared.

    Parameters
    ----------
    dataset : rasterio dataset
        The open image.
    given : mapping, optional
        Role → 1-based band index.

    Returns
    -------
    tuple of (dict, str)
        The roles and how they were decided.

    Raises
    ------
    BandError
        If a given role is unknown or its band index is not in the file.
    """
    if given:
        roles = {}
        for role, index in given.items():
            if role not in BAND_WORDS:
                raise BandError(
                    f"{dataset.name}: unknown band role {role!r}; use {sorted(BAND_WORDS)}"
                )
            if not 1 <= int(index) <= dataset.count:
                raise BandError(
                    f"{dataset.name}: band {index} for {role!r} is not in the file "
                    f"(it has bands 1–{dataset.count})"
                )
            roles[role] = int(index)
        return roles, "given"
    roles = {}
    for k, interp in enumerate(dataset.colorinterp, start=1):
        role = _INTERP_ROLES.get(interp)
        if role and role not in roles:
            roles[role] = k
    hows = ["colour interpretation"] if roles else []
    for k, text in enumerate(dataset.descriptions, start=1):
        word = (text or "").strip().lower()
        for role, words in BAND_WORDS.items():
            if role not in roles and word in words:
                roles[role] = k
                if "band descriptions" not in hows:
                    hows.append("band descriptions")
    return roles, " and ".join(hows) or "none"


def open_scene(
    path: str | os.PathLike,
    *,
    bands: Mapping[str, int] | None = None,
    acquired_on: str | dt.date | None = None,
) -> Scene:
    """Open one image and decide its date and band roles.

    Parameters
    ----------
    path : path-like
        A GeoTIFF, COG, VRT or any raster GDAL reads.
    bands : mapping, optional
        Role → 1-based band index, overriding what the file says.
    acquired_on : str or date, optional
        The acquisition date, overriding what the file says.

    Returns
    -------
    Scene
        Open; close it when done.

    Raises
    ------
    FileNotFoundError
        If there is no such file (a typo is the caller's to fix, not a per-patch reason).
    UnreadableImageError
        If GDAL cannot open it as a raster.
    NoCRSError
        If it has no CRS (a plain TIFF, or one georeferenced only by GCPs).
    BandError
        If ``bands`` names a band the file lacks.
    """
    p = Path(path)
    if not p.exists() and "://" not in str(path) and not str(path).startswith("/vsi"):
        raise FileNotFoundError(f"{p}: no such image file; check the path")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            dataset = rasterio.open(p)
    except RasterioError as exc:
        raise UnreadableImageError(f"{p.name}: GDAL cannot open it as an image ({exc})") from exc
    if dataset.crs is None:
        dataset.close()
        raise NoCRSError(
            f"{p.name}: the image has no coordinate system (no CRS in the file or beside it); "
            "georeference it, e.g. `gdal_translate -a_srs EPSG:4547`, or give a .aux.xml/.prj"
        )
    try:
        roles, how = band_roles(dataset, given=bands)
    except BandError:
        dataset.close()
        raise
    day, source = acquisition_date(dataset, given=acquired_on)
    log.debug("%s: acquired %s (%s); bands %s (%s)", p.name, day, source, roles, how)
    return Scene(p, dataset, day, source, roles, how)


@dataclass
class WindowRead:
    """Pixels read for one box.

    Attributes
    ----------
    data : numpy.ndarray
        ``(bands, rows, cols)`` float32, NaN where the image has nodata.
    transform : Affine
        The transform of ``data`` in the scene's CRS.
    window : Window
        The full-resolution window read (clipped to the scene).
    decimation : float
        Full-resolution pixels per pixel read (1 = full resolution).
    overview : int
        The overview factor GDAL serves such a read from (1 = the full-resolution band).
    """

    data: np.ndarray
    transform: Affine
    window: Window
    decimation: float
    overview: int


def read_window(
    scene: Scene,
    bounds: tuple[float, float, float, float],
    *,
    max_px: int,
    indexes: list[int] | None = None,
) -> WindowRead:
    """Read the pixels under ``bounds`` (in the scene's CRS), at most about ``max_px`` across.

    When the window is wider than ``max_px`` it is read decimated (``out_shape``),
    and GDAL serves that read from the coarsest overview still at least as fine
    as asked, so a small chip of a large area touches few blocks.

    Parameters
    ----------
    scene : Scene
        The open scene.
    bounds : tuple
        ``(left, bottom, right, top)`` in the scene's CRS.
    max_px : int
        The longest side wanted, in pixels.
    indexes : list of int, optional
        Bands to read (default all).

    Returns
    -------
    WindowRead

    Raises
    ------
    OutsideError
        If the box misses the scene.
    UnreadableImageError
        If reading fails (a corrupt block).
    """
    ds = scene.dataset
    left, bottom, right, top = bounds
    inv = ~ds.transform
    cols, rows = zip(*(inv @ (x, y) for x in (left, right) for y in (bottom, top)), strict=True)
    c0, c1 = max(0, math.floor(min(cols))), min(ds.width, math.ceil(max(cols)))
    r0, r1 = max(0, math.floor(min(rows))), min(ds.height, math.ceil(max(rows)))
    if c1 <= c0 or r1 <= r0:
        raise OutsideError(f"{scene.path.name}: the box {bounds} is outside the image")
    window = Window(c0, r0, c1 - c0, r1 - r0)
    full = max(
        math.ceil(max(cols)) - math.floor(min(cols)), math.ceil(max(rows)) - math.floor(min(rows))
    )
    decimation = max(1.0, full / max_px)
    shape = (max(1, round(window.height / decimation)), max(1, round(window.width / decimation)))
    indexes = indexes or list(range(1, ds.count + 1))
    data = _read(scene, indexes, window, shape, Resampling.average if decimation > 1 else
                 Resampling.nearest)  # fmt: skip
    transform = ds.window_transform(window) @ Affine.scale(
        window.width / shape[1], window.height / shape[0]
    )
    factors = [f for f in _overviews(scene, indexes[0]) if f <= decimation * 1.001]
    arr = np.ma.filled(data.astype(np.float32), np.nan)
    return WindowRead(arr, transform, window, decimation, max(factors, default=1))


def read_chip(
    scene: Scene,
    transform: Affine,
    size_px: int,
    *,
    indexes: list[int] | None = None,
) -> WindowRead | None:
    """Read a ``size_px`` square chip straight onto its grid, when the scene allows it.

    The chip's grid (``transform``, north up, in the scene's CRS) is read as one
    resampled window of the scene (fractional offsets; ``out_shape`` is the chip),
    so there is nothing to warp: averaged when the chip is coarser than the image
    (GDAL serves it from the coarsest overview still fine enough), bilinear when finer.

    Parameters
    ----------
    scene : Scene
        The open scene, whose CRS is the chip's.
    transform : Affine
        The chip's transform (square pixels, north up).
    size_px : int
        The chip's width and height.
    indexes : list of int, optional
        Bands to read (default all).

    Returns
    -------
    WindowRead or None
        None when the scene is rotated or the chip is not wholly inside it
        (then warp a :func:`read_window` onto the chip instead).

    Raises
    ------
    UnreadableImageError
        If reading fails (a corrupt block).
    """
    ds = scene.dataset
    t = ds.transform
    if t.b or t.d or t.a <= 0 or t.e >= 0 or transform.b or transform.d:
        return None
    col0, row0 = (transform.c - t.c) / t.a, (transform.f - t.f) / t.e
    width, height = size_px * transform.a / t.a, size_px * transform.e / t.e
    if col0 < 0 or row0 < 0 or col0 + width > ds.width or row0 + height > ds.height:
        return None
    window = Window(col0, row0, width, height)
    decimation = max(width, height) / size_px
    indexes = indexes or list(range(1, ds.count + 1))
    data = _read(scene, indexes, window, (size_px, size_px), Resampling.average if decimation > 1
                 else Resampling.bilinear)  # fmt: skip
    factors = [f for f in _overviews(scene, indexes[0]) if f <= decimation * 1.001]
    arr = np.ma.filled(data.astype(np.float32), np.nan)
    return WindowRead(arr, transform, window, max(1.0, decimation), max(factors, default=1))


def _read(
    scene: Scene, indexes: list[int], window: Window, shape: tuple[int, int], resampling: Resampling
) -> np.ndarray:
    """Read ``window`` of ``indexes`` resampled to ``shape``; a failure names rows and columns."""
    ds = scene.dataset
    try:
        return ds.read(
            indexes,
            window=window,
            out_shape=(len(indexes), *shape),
            resampling=resampling,
            masked=_has_mask(scene, indexes),
        )
    except RasterioError as exc:
        (r0, r1), (c0, c1) = window.toranges()
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise UnreadableImageError(
            f"{scene.path.name}: reading rows {r0:.0f}–{r1:.0f}, columns {c0:.0f}–{c1:.0f} "
            f"failed{cause}; the file is probably corrupt there: re-download or re-export it"
        ) from exc


def _has_mask(scene: Scene, indexes: list[int]) -> bool:
    """Whether some band has nodata or a mask (else skip reading a mask that says "all valid")."""
    key = ("mask", *indexes)
    if key not in scene._asked:  # rasterio asks GDAL for every band's flags on each call
        flags = scene.dataset.mask_flag_enums
        scene._asked[key] = any(MaskFlags.all_valid not in flags[i - 1] for i in indexes)
    return bool(scene._asked[key])


def _overviews(scene: Scene, band: int) -> list[int]:
    """The overview factors of ``band`` (asked of GDAL once per scene)."""
    key = ("overviews", band)
    if key not in scene._asked:
        scene._asked[key] = list(scene.dataset.overviews(band))
    return list(scene._asked[key])  # type: ignore[call-overload]
