"""Self-check candidates: chips, the reviewable file, and adding the kept ones to the ledger.

:func:`detect_changes <geo.imagery.detect.detect_changes>` finds candidates;
:func:`candidate_chips` cuts their before/after chips (with
:func:`geo.imagery.chipping.chips_for_patches`); :func:`write_candidates` writes
them as a GeoPackage layer a reviewer opens in QGIS (set ``keep`` to 0, or delete
rows) or in the map (``hetu map --candidates``); :func:`read_candidates` reads it
back, and :func:`apply_candidates` adds the kept new ones as patches of a batch of
source 自查 through the ledger's normal ingest (each with its ``issue`` event and
actor), then matches them to their segments.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.clock import now
from geo.crs import STORAGE_EPSG
from geo.errors import IngestError, SchemaError
from geo.fileio import atomic_path
from geo.imagery.chipping import chip_uri, chips_for_patches
from geo.imagery.detect import CANDIDATE_COLUMNS
from geo.labels import CHANGE_KINDS, SELF_CHECK
from geo.records import PATCH_COLUMNS, ImportRecord

log = logging.getLogger(__name__)

__all__ = [
    "KIND_ISSUE",
    "apply_candidates",
    "candidate_chips",
    "candidate_patches",
    "candidate_thumbnails",
    "read_candidates",
    "write_candidates",
]

#: The layer name of a candidates file.
LAYER = "candidates"
#: The problem type (:data:`geo.labels.ISSUE_TYPES`) a kind of change suggests.
KIND_ISSUE = {
    "water_fill": "occupation",
    "new_structure": "construction",
    "vegetation_loss": "other",
    "other_change": "other",
}
_YES = {"1", "1.0", "true", "yes", "y", "是", "保留", "keep"}
_NO = {"0", "0.0", "false", "no", "n", "否", "不保留", "drop", ""}


def candidate_chips(
    frame: gpd.GeoDataFrame,
    *,
    before: str | os.PathLike,
    after: str | os.PathLike,
    out_dir: str | os.PathLike,
    bands: Mapping[str, int] | None = None,
    size_px: int = 192,
) -> gpd.GeoDataFrame:
    """Cut a before and an after chip for every candidate; add ``chip_before``, ``chip_after``.

    Parameters
    ----------
    frame : GeoDataFrame
        Candidates (``candidate_id``, polygons). Not modified.
    before, after : path-like
        The two scenes.
    out_dir : path-like
        Folder of the PNG chips (created).
    bands : mapping, optional
        Band roles, as for the detection.
    size_px : int
        Chip side in pixels.

    Returns
    -------
    GeoDataFrame
        A copy with the chips' file names relative to ``out_dir``'s parent (empty when
        a scene gave no chip).
    """
    out = frame.copy()
    folder = Path(out_dir)
    if out.empty:
        out["chip_before"], out["chip_after"] = "", ""
        return out
    shapes = gpd.GeoDataFrame(
        {"patch_id": out["candidate_id"].astype(str)}, geometry=out.geometry.values, crs=out.crs
    )
    for role, image in (("before", before), ("after", after)):
        rows, _ = chips_for_patches(
            shapes, [image], role=role, out_dir=folder, size_px=size_px, bands=bands
        )
        made = {
            pid: (Path(folder.name) / Path(chip).name).as_posix() if chip is not None else ""
            for pid, chip in zip(rows["patch_id"], rows["chip"], strict=True)
        }
        out[f"chip_{role}"] = out["candidate_id"].astype(str).map(made).fillna("")
    return out


def candidate_thumbnails(
    frame: pd.DataFrame, *, folder: str | os.PathLike, max_px: int = 160
) -> dict[str, list[str]]:
    """Return candidate id → its before/after chips as JPEG data URIs, for the map popups.

    Chip paths are relative to ``folder`` (the candidates file's); missing chips are skipped.
    """
    meta = frame.attrs.get("hetu", {})
    out: dict[str, list[str]] = {}
    for _, row in frame.iterrows():
        for role in ("before", "after"):
            name = row.get(f"chip_{role}")
            path = Path(folder) / str(name) if isinstance(name, str) and name else None
            if path is None or not path.is_file():
                continue
            stamp = meta.get(f"{role}_on") or SELF_CHECK[role]
            out.setdefault(str(row["candidate_id"]), []).append(
                chip_uri(path, stamp=str(stamp), max_px=max_px)
            )
    return out


def write_candidates(frame: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """Write candidates as the layer ``candidates`` of a GeoPackage, atomically.

    The detection record (``frame.attrs["hetu"]``: observed and unobserved area, the fit,
    the scenes) goes into the layer's description as JSON.
    """
    target = Path(path)
    meta = json.dumps(frame.attrs.get("hetu", {}), ensure_ascii=False, sort_keys=True)
    with atomic_path(target) as tmp:
        frame.to_file(
            tmp, layer=LAYER, driver="GPKG", engine="pyogrio", layer_options={"DESCRIPTION": meta}
        )
    return target


def read_candidates(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read a (reviewed) candidates file; ``keep`` decides, rows deleted are not kept.

    Parameters
    ----------
    path : path-like
        A GeoPackage written by :func:`write_candidates` (edited in QGIS or not).

    Returns
    -------
    GeoDataFrame
        EPSG:4490, with ``keep`` as 0/1.

    Raises
    ------
    IngestError
        If the file is missing, has no ``candidates`` layer, lacks the columns, or a
        ``keep`` value is neither yes nor no (the row and value named).
    """
    p = Path(path)
    if not p.exists():
        raise IngestError(f"{p}: no such candidates file; write one with `hetu detect -o`")
    try:
        frame = gpd.read_file(p, layer=LAYER, engine="pyogrio")
    except Exception as exc:  # pyogrio raises its own DataLayerError and friends
        raise IngestError(
            f"{p.name}: cannot read the layer {LAYER!r} ({exc}); give the file `hetu detect -o` "
            "wrote"
        ) from exc
    need = [c for c in ("candidate_id", "kind", "status") if c not in frame.columns]
    if need:
        raise IngestError(f"{p.name}: the candidates lack the columns {need}; found "
                          f"{list(frame.columns)}")  # fmt: skip
    if frame.crs is None:
        raise IngestError(f"{p.name}: the layer has no CRS; save it again with EPSG:4490")
    keep = frame.get("keep", pd.Series(1, index=frame.index))
    values = []
    for k, v in enumerate(keep):
        text = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        if text.lower() in _YES:
            values.append(1)
        elif text.lower() in _NO:
            values.append(0)
        else:
            raise IngestError(
                f"{p.name}: row {k + 1} (candidate {frame['candidate_id'].iloc[k]}), field keep: "
                f"{text[:20]!r} is neither 1 nor 0; write 1 to keep it, 0 to leave it out"
            )
    frame["keep"] = values
    return frame.to_crs(STORAGE_EPSG)


def candidate_patches(
    frame: gpd.GeoDataFrame,
    *,
    batch_id: str,
    detected_on: str | None = None,
    issued_on: str | None = None,
) -> gpd.GeoDataFrame:
    """Turn the kept new candidates into canonical patches of source 自查.

    Linked candidates (the same place as a patch already in the ledger) and those with
    ``keep`` 0 are left out. Ids are ``<batch_id>-<candidate number>``.

    Parameters
    ----------
    frame : GeoDataFrame
        Candidates (:func:`read_candidates` or the detection).
    batch_id : str
        The batch the patches form.
    detected_on : str, optional
        The after scene's date (default the detection record's, else today).
    issued_on : str, optional
        The day the office issues them (default today, Asia/Shanghai).

    Returns
    -------
    GeoDataFrame
        :data:`geo.records.PATCH_COLUMNS` and the geometry, EPSG:4490.
    """
    if not str(batch_id).strip():
        raise SchemaError("the self-check batch needs an id; give --batch, e.g. 自查-2026-04")
    keep = frame["keep"].astype(int).eq(1) if "keep" in frame else True
    rows = frame[keep & frame["status"].astype(str).eq("new")]
    today = now().date().isoformat()
    meta = frame.attrs.get("hetu", {})
    found = detected_on or meta.get("after_on") or today
    number = rows["candidate_id"].astype(str).str.replace("ZC-", "", regex=False)
    attrs = []
    for _, r in rows.iterrows():
        item: dict[str, Any] = {"source": SELF_CHECK["source"], "candidate_id": r["candidate_id"],
                                "kind": r["kind"]}  # fmt: skip
        for key in ("score", "d_ndvi", "d_ndwi", "d_brightness"):
            if key in r and pd.notna(r[key]):
                item[key] = float(r[key])
        for key in ("before", "after"):
            if meta.get(key):
                item[key] = Path(meta[key]).name
        attrs.append(json.dumps(item, ensure_ascii=False, sort_keys=True))
    out = gpd.GeoDataFrame(
        {
            "patch_id": (f"{batch_id}-" + number).to_numpy(),
            "batch_id": [str(batch_id)] * len(rows),
            "issue_type": rows["kind"].map(KIND_ISSUE).fillna("other").to_numpy(),
            "admin_code": [c if isinstance(c, str) and c else None
                           for c in rows.get("admin_code", [""] * len(rows))],
            "detected_on": [str(found)[:10]] * len(rows),
            "issued_on": [issued_on or today] * len(rows),
            "area_m2": rows["area_m2"].astype(float).to_numpy() if len(rows) else [],
            "source_area": np.full(len(rows), np.nan),
            "description": [
                f"{SELF_CHECK['source']}：{CHANGE_KINDS.get(k, k)}" for k in rows["kind"]
            ],
            "attrs": attrs,
        },
        geometry=rows.geometry.to_crs(STORAGE_EPSG).values,
        crs=STORAGE_EPSG,
    )  # fmt: skip
    return out[[*PATCH_COLUMNS, "geometry"]]


def apply_candidates(
    ledger: Any,
    frame: gpd.GeoDataFrame,
    *,
    batch_id: str,
    actor: str = SELF_CHECK["source"],
    source: str = "self-check",
    issued_on: str | dt.date | None = None,
) -> ImportRecord:
    """Add the kept new candidates to the ledger as one 自查 batch, then match them.

    Parameters
    ----------
    ledger : geo.ledger.store.Ledger
        The open ledger.
    frame : GeoDataFrame
        Candidates (reviewed or not).
    batch_id : str
        The batch id (refused when the ledger already holds it).
    actor : str
        Who issues them (on each ``issue`` event).
    source : str
        The file named in the import record.
    issued_on : str or date, optional
        Issue day (default today).

    Returns
    -------
    ImportRecord
        ``n_kept`` patches added (0: nothing kept, nothing written).

    Raises
    ------
    BatchConflictError
        If a patch id is already in the ledger (the batch was applied before); nothing
        is written.
    """
    from geo.ingest.readers import file_sha256_of_text
    from geo.matching.assignments import match_ledger

    day = issued_on.isoformat() if isinstance(issued_on, dt.date) else issued_on
    patches = candidate_patches(frame, batch_id=batch_id, issued_on=day)
    digest = file_sha256_of_text("|".join(sorted(patches["attrs"])) + batch_id)
    rec = ImportRecord(kind="patches", file=f"{source} {batch_id}", sha256=digest,
                       batch_id=str(batch_id), n_read=len(frame), n_kept=len(patches),
                       n_quarantined=0)  # fmt: skip
    left = len(frame) - len(patches)
    if left:
        rec.decisions.append(
            f"{left} candidate(s) not added: linked to a patch already in the ledger, or not kept"
        )
    if patches.empty:
        return rec
    ledger.add_patches(patches, rec, actor=actor)
    match_ledger(ledger)
    return rec


def candidate_columns() -> list[str]:
    """The columns a candidates file holds (for documentation and checks)."""
    return [*CANDIDATE_COLUMNS, "chip_before", "chip_after"]
