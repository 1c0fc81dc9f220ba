"""Township and village boundaries (乡镇界, 村界): reading an office's admin layer.

:func:`admin_areas_from_file` reads the polygons with their GB/T 2260 codes (9 digits for
a township, 12 for a village) and names; :mod:`geo.matching.areas` places patches in them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd

from geo import crs as crs_mod
from geo.errors import SchemaError
from geo.ingest.checks import clean_id, field_names, polygonal, refuse_blank
from geo.ingest.profiles import Profile
from geo.ingest.readers import _attrs_json, _ids, _rename, _resolve_profile, read_layer, with_meta
from geo.ingest.tabular import UNREADABLE
from geo.settings import Settings

__all__ = ["admin_areas_from_file"]


#: Digits of a township code and of a village code (GB/T 2260 extended).
_AREA_LEVELS = {9: "township", 12: "village"}


def admin_areas_from_file(
    path: str | os.PathLike,
    *,
    settings: Settings | None = None,
    layer: str | int | None = None,
    encoding: str | None = None,
    crs: str | int | None = None,
    source_crs: str | None = None,
    profile: Profile | str | os.PathLike | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> gpd.GeoDataFrame:
    """Read township and village boundaries (乡镇界, 村界) with their codes and names.

    Parameters
    ----------
    path : path-like
        A polygon layer (shapefile, GeoPackage, GeoJSON, KML…).
    settings : Settings, optional
        Central meridian and extent for CRS inference and checks.
    layer, encoding, crs, source_crs : optional
        Passed to :func:`read_layer`.
    profile : dict or path-like, optional
        An alias profile (its ``[admin]`` table: ``admin_code``, ``name``).
    aliases : mapping, optional
        Extra field aliases for the areas.

    Returns
    -------
    GeoDataFrame
        EPSG:4490: ``admin_code`` (9 digits for a township, 12 for a village; a
        12-digit code ending in ``000`` is its township's, and kept as 9 digits),
        ``name``, ``level`` (``township`` or ``village``), ``attrs``. Areas without
        a usable polygon are in ``frame.attrs["hetu"]["quarantine"]``.

    Raises
    ------
    SchemaError
        For a missing code field, or a blank, duplicate or malformed code (naming the
        file, the row, the field and the fix).
    """
    settings = settings or Settings()
    p = Path(path)
    fields = _resolve_profile(profile, aliases, "admin")
    gdf, rec = read_layer(
        p, layer=layer, encoding=encoding, crs=crs, source_crs=source_crs, settings=settings
    )
    rec.kind = "admin"
    df, unknown = _rename(gdf, "admin", source=p.name, profile=fields, rec=rec)
    named = field_names(gdf.columns, df.columns)
    codes = _ids(df["admin_code"], df.get(UNREADABLE))
    refuse_blank(codes, source=p.name, field=named["admin_code"], what="area code")
    codes = codes.map(lambda c: c[:-2] if re.fullmatch(r"\d+\.0", c) else c)  # 439999001.0
    codes = codes.map(lambda c: c[:9] if len(c) == 12 and c.endswith("000") else c)
    for row, code in enumerate(codes, start=1):
        if not (code.isdigit() and len(code) in _AREA_LEVELS):
            raise SchemaError(
                f"{p.name}: row {row}, field {named['admin_code']}: {code!r} is no township "
                "(9 digits) or village (12 digits) code; correct it, or leave the county's "
                "outline out of the file"
            )
    dup = sorted(codes[codes.duplicated()].unique())
    if dup:
        raise SchemaError(
            f"{p.name}: field {named['admin_code']}: code(s) {', '.join(dup[:20])} appear more "
            "than once; merge each area into one feature and send the file again"
        )
    out = gpd.GeoDataFrame(
        {
            "admin_code": codes,
            "name": [clean_id(v) for v in df["name"]],
            "level": [_AREA_LEVELS[len(c)] for c in codes],
            "attrs": _attrs_json(df, unknown),
        },
        geometry=df.geometry,
        crs=gdf.crs,
    )
    if UNREADABLE in df.columns:
        out[UNREADABLE] = df[UNREADABLE].to_numpy()
    out, quarantine = polygonal(out, id_col="admin_code", rec=rec)
    return with_meta(out.to_crs(crs_mod.STORAGE_EPSG).reset_index(drop=True), rec, quarantine)
