"""Identity across batches: which new patches are an earlier patch again.

A province issues a new batch every quarter; its ids say nothing about earlier
batches, so identity is decided by geometry alone. A new patch is linked to an
earlier one when their shapes agree (:func:`link_patches`):

- ``overlap_ratio`` = intersection area / the smaller of the two areas (one
  inside the other gives 1), and ``centroid_m`` = the distance between the
  centroids; linked when ``overlap_ratio >= min_overlap`` and
  ``centroid_m <= max_centroid_m``;
- or ``iou`` (intersection over union) ``>= min_iou`` whatever the centroids.

The kind of link follows the earlier patch's state:

- ``same``: the earlier patch is still open (the same problem issued again);
- ``recurrence`` (反弹回潮): the earlier patch was closed;
- ``repeat_monitored``: the earlier patch is kept on the books (挂账监管);
- ``repeat_dismissed``: the earlier patch was found not to be a problem (its
  verdict and evidence may apply again).

``hetu match`` stores the links with the kind of that moment; the earlier patch
moves on afterwards (a ``same`` link becomes a ``recurrence`` when the earlier
patch is closed), so whoever reads links re-evaluates the kind against the
states of the day it shows (:func:`relink`, given the status frame it draws or
counts: the map, the dossier, the assessment).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import central_meridian_for, metric_crs
from geo.errors import SchemaError

if TYPE_CHECKING:
    from geo.ledger.store import Ledger

log = logging.getLogger(__name__)

#: Columns of :func:`link_patches` (and of ``Ledger.links()`` less ``linked_at``).
LINK_COLUMNS = ["patch_id", "earlier_id", "kind", "overlap_ratio", "iou", "centroid_m"]
#: The kind of link for each state of the earlier patch; any other state is ``same``.
KIND_BY_STATE = {
    "closed": "recurrence",
    "monitored": "repeat_monitored",
    "dismissed": "repeat_dismissed",
}
#: Default thresholds (documented in the module docstring).
MIN_OVERLAP = 0.5
MIN_IOU = 0.5
MAX_CENTROID_M = 50.0


def link_patches(
    new: gpd.GeoDataFrame,
    earlier: gpd.GeoDataFrame,
    *,
    min_overlap: float = MIN_OVERLAP,
    min_iou: float = MIN_IOU,
    max_centroid_m: float = MAX_CENTROID_M,
    central_meridian: int | None = None,
) -> pd.DataFrame:
    """Link new patches to earlier ones by geometry.

    Parameters
    ----------
    new : GeoDataFrame
        The new batch, with ``patch_id``; any CRS.
    earlier : GeoDataFrame
        Earlier patches, with ``patch_id`` and ``state`` (their current state); any CRS.
    min_overlap : float
        Least intersection / smaller area for a link (with ``max_centroid_m``).
    min_iou : float
        Least intersection over union that links whatever the centroids.
    max_centroid_m : float
        Largest centroid distance, in metres, for a link by ``min_overlap``.
    central_meridian : int, optional
        The Gauss-Kruger zone to measure in; default the one of the data.

    Returns
    -------
    DataFrame
        ``patch_id, earlier_id, kind, overlap_ratio, iou, centroid_m``, one row
        per link, sorted by ``patch_id`` then ``earlier_id``.

    Raises
    ------
    SchemaError
        If a frame lacks ``patch_id`` (or ``earlier`` lacks ``state``) or a CRS.
    """
    for frame, cols, name in (
        (new, ["patch_id"], "new"),
        (earlier, ["patch_id", "state"], "earlier"),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name} patches need {missing}; found {list(frame.columns)}")
        if frame.crs is None and len(frame):
            raise SchemaError(f"{name} patches have no CRS; set it with .set_crs()")
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})
    if new.empty or earlier.empty:
        return empty
    crs = metric_crs(new, central_meridian=central_meridian)
    ng = new.geometry.to_crs(crs).to_numpy()
    eg = earlier.geometry.to_crs(crs).to_numpy()
    ng = np.where(shapely.is_valid(ng), ng, shapely.make_valid(ng))
    eg = np.where(shapely.is_valid(eg), eg, shapely.make_valid(eg))
    qi, ti = shapely.STRtree(eg).query(ng, predicate="intersects")
    if not len(qi):
        return empty
    a, b = ng[qi], eg[ti]
    inter = shapely.area(shapely.intersection(a, b))
    area_a, area_b = shapely.area(a), shapely.area(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = inter / np.minimum(area_a, area_b)
        iou = inter / (area_a + area_b - inter)
    centroid = shapely.distance(shapely.centroid(a), shapely.centroid(b))
    keep = (iou >= min_iou) | ((ratio >= min_overlap) & (centroid <= max_centroid_m))
    state = earlier["state"].astype(object).to_numpy()[ti[keep]]
    out = pd.DataFrame(
        {
            "patch_id": new["patch_id"].astype(str).to_numpy()[qi[keep]],
            "earlier_id": earlier["patch_id"].astype(str).to_numpy()[ti[keep]],
            "kind": [KIND_BY_STATE.get(s, "same") for s in state],
            "overlap_ratio": ratio[keep],
            "iou": iou[keep],
            "centroid_m": centroid[keep],
        }
    )
    out = out[out["patch_id"] != out["earlier_id"]]
    return out.sort_values(["patch_id", "earlier_id"]).reset_index(drop=True)


def relink(links: pd.DataFrame, states: pd.DataFrame) -> pd.DataFrame:
    """Return ``links`` with each kind re-evaluated from its earlier patch's state in ``states``.

    Parameters
    ----------
    links : DataFrame
        ``Ledger.links()`` (or :func:`link_patches`): ``patch_id``, ``earlier_id``, ``kind``…
    states : DataFrame
        ``patch_id`` and ``state``: the status frame of the day shown (``Ledger.status_frame``,
        possibly as of a past day).

    Returns
    -------
    DataFrame
        A copy; the kind of a link whose earlier patch is not in ``states`` is kept.
    """
    out = links.copy()
    if out.empty or not {"patch_id", "state"} <= set(states.columns):
        return out
    state = dict(zip(states["patch_id"].astype(str), states["state"], strict=True))
    now = out["earlier_id"].astype(str).map(state)
    kind = now.map(lambda s: KIND_BY_STATE.get(s, "same"), na_action="ignore")
    out["kind"] = kind.where(now.notna(), out["kind"])
    return out


def batch_order(patches: pd.DataFrame) -> list[str]:
    """Return the batch ids in issue order (earliest ``issued_on``, then id).

    Parameters
    ----------
    patches : DataFrame
        With ``batch_id`` and, optionally, ``issued_on``.

    Returns
    -------
    list of str
    """
    if "issued_on" in patches.columns:
        first = patches.groupby("batch_id")["issued_on"].min().fillna("")
    else:
        first = pd.Series("", index=pd.Index(patches["batch_id"].unique()))
    frame = pd.DataFrame({"batch_id": first.index.astype(str), "first": first.astype(str).values})
    return frame.sort_values(["first", "batch_id"])["batch_id"].tolist()


def link_batches(
    patches: gpd.GeoDataFrame,
    *,
    min_overlap: float = MIN_OVERLAP,
    min_iou: float = MIN_IOU,
    max_centroid_m: float = MAX_CENTROID_M,
    central_meridian: int | None = None,
) -> pd.DataFrame:
    """Link every batch's patches to the patches of the batches issued before it.

    Parameters
    ----------
    patches : GeoDataFrame
        All patches, with ``patch_id``, ``batch_id``, ``state`` (and ``issued_on``).
    min_overlap, min_iou, max_centroid_m, central_meridian
        As for :func:`link_patches`.

    Returns
    -------
    DataFrame
        As :func:`link_patches`, over every batch.
    """
    if "batch_id" not in patches.columns:
        raise SchemaError(f"patches need a 'batch_id' column; found {list(patches.columns)}")
    order = batch_order(patches)
    cm = central_meridian
    if cm is None and len(patches) and patches.crs is not None:
        minx, _, maxx, _ = patches.geometry.to_crs(4490).total_bounds
        cm = central_meridian_for((minx + maxx) / 2) if np.isfinite(minx) else None
    frames = []
    batch = patches["batch_id"].astype(str)
    for k, bid in enumerate(order[1:], start=1):
        frames.append(
            link_patches(
                patches[batch == bid],
                patches[batch.isin(order[:k])],
                min_overlap=min_overlap,
                min_iou=min_iou,
                max_centroid_m=max_centroid_m,
                central_meridian=cm,
            )
        )
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def link_ledger(
    ledger: Ledger,
    *,
    patches: gpd.GeoDataFrame | None = None,
    min_overlap: float = MIN_OVERLAP,
    min_iou: float = MIN_IOU,
    max_centroid_m: float = MAX_CENTROID_M,
) -> pd.DataFrame:
    """Link the ledger's patches across batches and store the links.

    Parameters
    ----------
    ledger : Ledger
        The open ledger (its settings give the central meridian).
    patches : GeoDataFrame, optional
        ``ledger.patches()``, when the caller already has it.
    min_overlap, min_iou, max_centroid_m
        As for :func:`link_patches`.

    Returns
    -------
    DataFrame
        The links stored (``Ledger.replace_links``).
    """
    frame = ledger.patches() if patches is None else patches
    links = link_batches(
        frame,
        min_overlap=min_overlap,
        min_iou=min_iou,
        max_centroid_m=max_centroid_m,
        central_meridian=ledger.settings.central_meridian,
    )
    ledger.replace_links(links)
    log.info("linked %d patches to earlier batches", links["patch_id"].nunique())
    return links
