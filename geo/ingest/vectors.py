"""Open the vector files offices receive, whatever the container, and salvage bad ones.

- Shapefiles (also zipped), GeoPackage and FileGDB (one layer, or the one
  named), GeoJSON (a FeatureCollection or a bare geometry), KML/KMZ and GPX
  (every layer, each feature tagged with its layer).
- A shapefile without its ``.shx`` is read from a temporary copy on which GDAL
  rebuilds the index (``SHAPE_RESTORE_SHX``): GDAL would otherwise write the
  new ``.shx`` beside the user's file (docs/architecture.md, Input pitfalls 3).
- A zip is never inflated into memory: only the chosen file (with its sidecars, or
  its ``.gdb`` folder) is streamed to a temporary folder, and a member larger than
  :data:`ZIP_MEMBER_LIMIT` (or members larger than :data:`ZIP_TOTAL_LIMIT` together)
  is refused from the sizes its header declares, before anything is unpacked; every
  message names the user's zip and the member, never the temporary copy.
- pyogrio reads a layer whole and fails whole on one bad feature; then the
  layer is read again feature by feature (pyogrio's raw WKB, or fiona when
  GDAL itself fails) and each bad feature is kept with its reason in the
  :data:`geo.ingest.tabular.UNREADABLE` column, never dropped.

The frames come back in the file's CRS (or none); :func:`geo.ingest.readers.read_layer`
decides the CRS.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely

from geo.errors import IngestError
from geo.fileio import DISK_FULL_ERRNOS
from geo.ingest.encodings import dbf_record_counts, sidecar, sniff_dbf_encoding, zip_member_name
from geo.ingest.tabular import UNREADABLE

log = logging.getLogger("geo")

#: The words that flag an import whose .shx was rebuilt (in ``ImportRecord.decisions``).
SHX_RESTORED = "the .shx was missing"

#: Column naming the layer a feature came from, in multi-layer files.
SOURCE_LAYER = "source_layer"

#: The largest a zip member may unpack to (bytes): larger ones are refused before unpacking.
ZIP_MEMBER_LIMIT = 512 * 2**20
#: The largest the members read from one zip may unpack to together (bytes).
ZIP_TOTAL_LIMIT = 2 * 2**30
_MIB = 2**20

VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".kmz", ".gpx", ".gdb", ".dbf")
_ALL_LAYERS = {".kml", ".kmz"}
_GPX_LAYERS = ("waypoints", "routes", "tracks")
_PYOGRIO_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
_WKB_NAMES = {
    8: "CircularString",
    9: "CompoundCurve",
    10: "CurvePolygon",
    11: "MultiCurve",
    12: "MultiSurface",
    15: "PolyhedralSurface (a MultiPatch)",
    16: "TIN (a MultiPatch)",
    17: "Triangle",
}


def _wkb_type(wkb: bytes) -> int | None:
    if not wkb or len(wkb) < 5:
        return None
    order = "little" if wkb[0] == 1 else "big"
    return int.from_bytes(wkb[1:5], order) & 0x0FFFFFFF


def read_vector(
    path: Path,
    *,
    layer: str | int | None = None,
    encoding: str | None = None,
    member_limit: int = ZIP_MEMBER_LIMIT,
    total_limit: int = ZIP_TOTAL_LIMIT,
) -> tuple[gpd.GeoDataFrame, str, list[str]]:
    """Read a vector file's features into a frame in the file's CRS.

    Parameters
    ----------
    path : Path
        A vector file, a ``.gdb`` folder or a ``.zip`` holding one.
    layer : str or int, optional
        The layer (for a zip: the member's name or stem).
    encoding : str, optional
        Overrides the sniffed shapefile encoding.
    member_limit, total_limit : int
        For a zip: the most one member, and all members read, may unpack to (bytes).

    Returns
    -------
    frame : GeoDataFrame
        Every feature; unreadable ones with no geometry and a reason in
        :data:`~geo.ingest.tabular.UNREADABLE`.
    encoding : str
        The encoding decision in words.
    decisions : list of str
        What else was decided (layers read, .shx restored, salvage, Z dropped).

    Raises
    ------
    IngestError
        When the file or layer cannot be opened, the choice of layer is ambiguous, or
        a zip member is larger than the limits.
    """
    if path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="hetu-zip-") as tmp:
            member, name = _extract(
                path, Path(tmp), layer=layer, limits=(member_limit, total_limit)
            )
            shown = f"{path} (member {name})"
            try:
                gdf, enc, notes = _read_file(member, layer=None, encoding=encoding, source=shown)
            except IngestError as exc:  # what a salvage reader said of the temporary copy
                text = str(exc).replace(str(member), shown).replace(tmp, str(path))
                raise type(exc)(text) from exc
            return gdf, enc, [f"read {name} from {path.name}", *notes]
    if path.suffix.lower() == ".kmz" and zipfile.is_zipfile(path):  # GDAL unpacks it: size first
        with zipfile.ZipFile(path) as zf:
            sizes = {i.filename: i.file_size for i in zf.infolist()}
        _check_sizes(path, sizes, (member_limit, total_limit))
    return _read_file(path, layer=layer, encoding=encoding, source=str(path))


def _read_file(
    path: Path, *, layer: str | int | None, encoding: str | None, source: str
) -> tuple[gpd.GeoDataFrame, str, list[str]]:
    """Read a file (not a zip); messages name it as ``source``."""
    if path.suffix.lower() == ".gdb" and "OpenFileGDB" not in pyogrio.list_drivers():
        raise IngestError(
            f"{source}: this GDAL build has no FileGDB driver (OpenFileGDB); "
            "export the layer to GeoPackage or Shapefile in ArcGIS/QGIS"
        )
    notes: list[str] = []
    enc_note = f"{encoding}: given by the caller" if encoding else ""
    if path.suffix.lower() in {".shp", ".dbf"}:
        if encoding is None:
            encoding, why = sniff_dbf_encoding(path)
            enc_note = f"{encoding or 'GDAL default'}: {why}"
        if path.suffix.lower() == ".shp" and sidecar(path, ".shx") is None:
            with _restored_copy(path, source=source) as copy:
                gdf, more = _read_layers(copy, layer=layer, encoding=encoding, source=source)
                n_shp, n_dbf = dbf_record_counts(copy)
            notes.append(
                f"{SHX_RESTORED}: rebuilt from the .shp on a temporary copy (the sender's "
                "folder untouched); deleted records may come back, so compare the feature "
                "count with the sender's"
            )
            _check_counts(source, gdf, n_shp, n_dbf)
            notes += more
            return _finish(gdf, notes), enc_note, notes
    gdf, more = _read_layers(path, layer=layer, encoding=encoding, source=source)
    if path.suffix.lower() == ".shp":
        _check_counts(source, gdf, *dbf_record_counts(path))
    notes += more
    return _finish(gdf, notes), enc_note or "format defines it (UTF-8)", notes


def _finish(gdf: gpd.GeoDataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.to_numpy()
    has_z = shapely.has_z(geoms)
    if has_z.any():
        notes.append(f"heights (Z) dropped from {int(has_z.sum())} feature(s): stored in 2D")
        gdf = gdf.set_geometry(shapely.force_2d(geoms), crs=gdf.crs)
    return gdf


def _check_counts(source: str, gdf: gpd.GeoDataFrame, n_shp: int | None, n_dbf: int | None) -> None:
    counts = {n for n in (n_shp, n_dbf) if n is not None}
    if counts and counts != {len(gdf)}:
        raise IngestError(
            f"{source}: the .shp holds {n_shp} records and the .dbf {n_dbf}, but {len(gdf)} were "
            "read; the files do not match (GDAL would drop rows silently): ask the sender "
            "for a consistent set"
        )


@contextlib.contextmanager
def _restored_copy(path: Path, *, source: str) -> Iterator[Path]:
    """Copy a shapefile without .shx to a temporary folder and let GDAL rebuild it there."""
    with tempfile.TemporaryDirectory(prefix="hetu-shx-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        for suffix in (".dbf", ".prj", ".cpg"):
            side = sidecar(path, suffix)
            if side is not None:
                shutil.copyfile(side, copy.with_suffix(suffix))
        before = pyogrio.get_gdal_config_option("SHAPE_RESTORE_SHX")
        pyogrio.set_gdal_config_options({"SHAPE_RESTORE_SHX": True})
        try:
            pyogrio.read_info(copy)  # opening rebuilds the .shx beside the copy
        except _PYOGRIO_ERRORS as exc:
            raise IngestError(
                f"{source}: the .shx is missing and cannot be rebuilt ({exc})"
            ) from exc
        finally:
            pyogrio.set_gdal_config_options({"SHAPE_RESTORE_SHX": before})
        yield copy


def _extract(
    path: Path, folder: Path, *, layer: str | int | None, limits: tuple[int, int]
) -> tuple[Path, str]:
    """Stream the chosen vector file of a zip (and its sidecars) into ``folder``.

    Returns the unpacked file (or ``.gdb`` folder) and its name in the zip. The sizes
    the members declare are checked against ``limits`` (per member, in all) before
    anything is unpacked, and the bytes written are counted against them.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            entries = {}
            for info in zf.infolist():
                name = zip_member_name(info.filename, info.flag_bits)
                if info.is_dir() or name.startswith("__MACOSX") or "/." in f"/{name}":
                    continue
                entries[name] = info
            chosen = _choose_member(path, list(entries), layer=layer)
            wanted = {n: i for n, i in entries.items() if _belongs(n, chosen)}
            _check_sizes(path, {n: i.file_size for n, i in wanted.items()}, limits)
            for name, info in wanted.items():
                inside = name[len(chosen) + 1 :] if chosen.endswith(".gdb") else ""
                target = folder / Path(chosen).name / inside if inside else folder / Path(name).name
                if not target.resolve().is_relative_to(folder.resolve()):
                    raise IngestError(f"{path}: member {name} points outside the archive")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    _copy_limited(src, dst, limit=limits[0], source=f"{path} (member {name})")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            raise IngestError(
                f"{path}: no room to unpack it in the temporary folder {folder.parent} ({exc}); "
                "free space there, or point TMPDIR to a disk with room"
            ) from exc
        raise IngestError(f"{path}: not a readable zip archive ({exc})") from exc
    return folder / Path(chosen).name, chosen


def read_member(
    path: Path, zf: zipfile.ZipFile, name: str, *, limit: int = ZIP_MEMBER_LIMIT
) -> bytes:
    """Read one member of an open zip (a KMZ's KML) into memory, refusing one over ``limit``."""
    info = zf.getinfo(name)
    _check_sizes(path, {name: info.file_size}, (limit, limit))
    out = io.BytesIO()
    with zf.open(info) as src:
        _copy_limited(src, out, limit=limit, source=f"{path} (member {name})")
    return out.getvalue()


def _choose_member(path: Path, names: list[str], *, layer: str | int | None) -> str:
    """The vector file (or ``.gdb`` folder) of a zip to read: the only one, or the one named."""
    found = sorted({n[: n.index(".gdb/") + 4] if ".gdb/" in n else n for n in names})
    candidates = [n for n in found if Path(n).suffix.lower() in VECTOR_SUFFIXES[:-1]]
    shown = ", ".join(Path(n).name for n in candidates) or "no vector file"
    if layer is not None:
        named = [n for n in candidates if str(layer) in (Path(n).name, Path(n).stem)]
        if not named:
            raise IngestError(f"{path}: no member {layer!r}; it holds {shown}")
        return named[0]
    if len(candidates) != 1:
        raise IngestError(
            f"{path}: holds {len(candidates)} vector files ({shown}); name one with --layer"
        )
    return candidates[0]


def _belongs(name: str, chosen: str) -> bool:
    """Whether a zip member is part of the chosen file: itself, a sidecar, or in its .gdb."""
    if chosen.endswith(".gdb"):
        return name.startswith(chosen + "/")
    a, b = Path(name), Path(chosen)
    return a.parent == b.parent and a.stem == b.stem


def _check_sizes(path: Path, sizes: dict[str, int], limits: tuple[int, int]) -> None:
    """Refuse members whose declared unpacked size passes the limits, before unpacking."""
    member_limit, total_limit = limits
    big = [f"{n} ({size / _MIB:,.0f} MiB)" for n, size in sizes.items() if size > member_limit]
    if big:
        raise IngestError(
            f"{path}: member {', '.join(big)} would unpack to more than "
            f"{member_limit / _MIB:,.0f} MiB, the limit per member; nothing was unpacked: "
            "unzip it and give the file itself, or ask the sender for a smaller export"
        )
    total = sum(sizes.values())
    if total > total_limit:
        raise IngestError(
            f"{path}: the members to read would unpack to {total / _MIB:,.0f} MiB together, over "
            f"the limit of {total_limit / _MIB:,.0f} MiB; nothing was unpacked: unzip it and "
            "give the file itself"
        )


def _copy_limited(src: BinaryIO, dst: BinaryIO, *, limit: int, source: str) -> None:
    """Copy in chunks, refusing more than ``limit`` bytes (a header that lied about its size)."""
    written = 0
    while chunk := src.read(_MIB):
        written += len(chunk)
        if written > limit:
            raise IngestError(
                f"{source}: unpacks to more than {limit / _MIB:,.0f} MiB although its header "
                "says less; the zip is damaged or crafted: ask the sender for it again"
            )
        dst.write(chunk)


def _layer_names(path: Path, source: str) -> list[tuple[str, str]]:
    try:
        return [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
    except _PYOGRIO_ERRORS as exc:
        raise IngestError(
            f"{source}: cannot be read as a vector layer ({' '.join(str(exc).split())}); "
            "check the file opens in QGIS, or ask the sender for GeoPackage or Shapefile"
        ) from exc


def _read_layers(
    path: Path, *, layer: str | int | None, encoding: str | None, source: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    names = _layer_names(path, source)
    all_names = [n for n, _ in names]
    suffix = path.suffix.lower()
    if layer is not None:
        if isinstance(layer, int) or str(layer).isdigit():
            idx = int(layer)
            if not 0 <= idx < len(all_names):
                raise IngestError(f"{source}: no layer {layer}; it has {', '.join(all_names)}")
            chosen = [all_names[idx]]
        elif layer not in all_names:
            raise IngestError(
                f"{source}: no layer {layer!r}; it has {', '.join(all_names)}; give one of them"
            )
        else:
            chosen = [str(layer)]
    elif suffix in _ALL_LAYERS:
        chosen = all_names
    elif suffix == ".gpx":
        chosen = [n for n in _GPX_LAYERS if n in all_names]
    elif len(all_names) == 1:
        chosen = all_names
    else:
        counts = {n: _feature_count(path, n) for n in all_names}
        chosen = [n for n, c in counts.items() if c]
        if len(chosen) != 1:
            listed = ", ".join(f"{n} ({counts[n]} features)" for n in all_names)
            raise IngestError(f"{source}: has several layers: {listed}; name one with --layer")
    frames, notes = [], []
    for name in chosen:
        gdf, salvage = _read_one(path, name, encoding=encoding, source=source)
        notes += salvage
        if len(chosen) > 1:
            if not len(gdf):
                continue
            gdf = gdf.assign(**{SOURCE_LAYER: name})
        frames.append(gdf)
    if len(chosen) > 1:
        notes.append("layers read: " + ", ".join(f"{n} ({_count(frames, n)})" for n in chosen))
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=4326 if suffix == ".gpx" else None), notes
    crs = next((f.crs for f in frames if f.crs is not None), None)
    frames = [f.to_crs(crs) if f.crs is not None and crs is not None else f for f in frames]
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    return gdf, notes


def _count(frames: list[gpd.GeoDataFrame], name: str) -> int:
    return sum(int((f[SOURCE_LAYER] == name).sum()) for f in frames if SOURCE_LAYER in f)


def _feature_count(path: Path, layer: str) -> int:
    try:
        return int(pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"])
    except _PYOGRIO_ERRORS:
        return 0


def _read_one(
    path: Path, layer: str, *, encoding: str | None, source: str
) -> tuple[gpd.GeoDataFrame, list[str]]:
    try:
        return gpd.read_file(path, layer=layer, encoding=encoding, engine="pyogrio"), []
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{source}: text is not {encoding} ({exc}); give the right encoding with --encoding"
        ) from exc
    except shapely.errors.ShapelyError as exc:
        why = " ".join(str(exc).split())
        log.info("%s layer %s failed whole (%s): salvaging feature by feature", source, layer, why)
        gdf = salvage_with_wkb(path, layer, encoding=encoding)
    except pyogrio.errors.DataLayerError as exc:
        why = " ".join(str(exc).split())
        log.info("%s layer %s failed in GDAL (%s): salvaging with fiona", source, layer, why)
        gdf = salvage_with_fiona(path, layer, encoding=encoding)
    except pyogrio.errors.DataSourceError as exc:
        raise IngestError(
            f"{source}: cannot be read as a vector layer ({' '.join(str(exc).split())}); "
            "check the file opens in QGIS, or ask the sender for GeoPackage or Shapefile"
        ) from exc
    bad = int(gdf[UNREADABLE].notna().sum()) if UNREADABLE in gdf else 0
    note = (
        f"layer {layer} failed whole in the fast reader ({why}); read feature by feature: "
        f"{len(gdf) - bad} read, {bad} unreadable kept aside with their reasons"
    )
    return gdf, [note]


def salvage_with_wkb(
    path: Path, layer: str | int, *, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read a layer's raw WKB and decode each feature alone; bad ones get a reason.

    Parameters
    ----------
    path : Path
        The file.
    layer : str or int
        The layer.
    encoding : str, optional
        The text encoding.

    Returns
    -------
    GeoDataFrame
        Every feature, in the layer's CRS; unreadable geometries are missing and
        their reason is in :data:`~geo.ingest.tabular.UNREADABLE`.
    """
    meta, _, wkbs, fields = pyogrio.raw.read(path, layer=layer, encoding=encoding)
    data = {name: values for name, values in zip(meta["fields"], fields, strict=True)}
    n = len(wkbs) if wkbs is not None else (len(fields[0]) if fields else 0)
    geoms = np.full(n, None, dtype=object)
    reasons: list[str | None] = [None] * n
    for i in range(n):
        wkb = None if wkbs is None else wkbs[i]
        if wkb is None:
            continue
        kind = _wkb_type(wkb)
        if kind is not None and kind % 1000 in _WKB_NAMES:
            reasons[i] = (
                f"feature {i + 1}: unsupported geometry type {_WKB_NAMES[kind % 1000]}; "
                "export it as polygons (or lines/points) and send it again"
            )
            continue
        try:
            geoms[i] = shapely.from_wkb(wkb)
        except shapely.errors.ShapelyError as exc:
            reasons[i] = f"feature {i + 1}: unreadable geometry ({' '.join(str(exc).split())})"
    out = gpd.GeoDataFrame(data, geometry=list(geoms), crs=meta.get("crs"))
    out[UNREADABLE] = reasons
    return out


def salvage_with_fiona(
    path: Path, layer: str | int, *, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Iterate a layer with fiona, record by record; each bad feature gets a reason.

    For layers GDAL fails on part-way (pyogrio then loses the whole layer).

    Parameters
    ----------
    path : Path
        The file.
    layer : str or int
        The layer.
    encoding : str, optional
        The text encoding.

    Returns
    -------
    GeoDataFrame
        As :func:`salvage_with_wkb`.

    Raises
    ------
    IngestError
        When fiona is not installed or cannot open the layer either.
    """
    try:
        import fiona
        import fiona._err
        import fiona.errors
    except ImportError as exc:
        raise IngestError(
            f"{path}: layer {layer} fails in the fast reader and fiona, which salvages it "
            "feature by feature, is not installed: pip install fiona"
        ) from exc
    for driver in ("KML", "LIBKML"):  # fiona 1.10 ships these disabled
        fiona.supported_drivers.setdefault(driver, "r")
    failures = (fiona.errors.FionaError, fiona._err.CPLE_BaseError, ValueError, KeyError)
    rows, geoms, reasons = [], [], []
    try:
        with fiona.open(path, layer=layer, encoding=encoding) as src:
            crs = src.crs.to_wkt() if src.crs else None
            fields = list(src.schema["properties"])
            it = iter(src)
            i = 0
            while True:
                i += 1
                try:
                    feat = next(it)
                except StopIteration:
                    break
                except failures as exc:
                    rows.append(dict.fromkeys(fields))
                    geoms.append(None)
                    reasons.append(f"feature {i}: unreadable ({' '.join(str(exc).split())})")
                    continue
                rows.append(dict(feat.properties))
                geom, why = _fiona_geometry(feat.geometry, i)
                geoms.append(geom)
                reasons.append(why)
    except failures as exc:
        raise IngestError(
            f"{path}: layer {layer} cannot be read even feature by feature ({exc})"
        ) from exc
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=fields), geometry=geoms, crs=crs)
    out[UNREADABLE] = reasons
    return out


def _fiona_geometry(geometry: object, i: int) -> tuple[object, str | None]:
    if geometry is None:
        return None, None
    try:
        return shapely.geometry.shape(geometry), None
    except (shapely.errors.ShapelyError, ValueError, TypeError, KeyError) as exc:
        return None, f"feature {i}: unreadable geometry ({' '.join(str(exc).split())})"
