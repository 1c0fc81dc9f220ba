"""The legacy GBK shapefile of the ledger, with field codes of at most 10 bytes.

Province and older county systems still take shapefiles in GBK. DBF field names
are limited to 10 bytes, so the Chinese headers become pinyin-initial codes
(TBBH 图斑编号, HHMC 河湖名称, ZT 状态 …) and an alias sheet maps each code back
to its Chinese name. Values are cut to 254 GBK bytes on a character boundary
(the DBF limit), so a long description never ends in half a character.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import SchemaError
from geo.labels import COLUMNS, EXPORT, ISSUE_TYPES, RELATIONS, STATES, label

__all__ = ["ENCODING", "FIELD_CODES", "check_field_codes", "shapefile_frame", "write_shapefile"]

logger = logging.getLogger("geo")

#: Encoding of the legacy shapefile (written to the ``.cpg``).
ENCODING = "GBK"
#: Status-frame column → DBF field code (pinyin initials of the Chinese header).
FIELD_CODES: dict[str, str] = {
    "patch_id": "TBBH",
    "batch_id": "XFPC",
    "issue_type": "WTLX",
    "admin_code": "XZQDM",
    "township": "XZ",
    "detected_on": "JCSJ",
    "issued_on": "XFSJ",
    "area_m2": "MJ",
    "description": "WTMS",
    "state": "ZT",
    "state_since": "ZTSJ",
    "deadline": "ZGQX",
    "overdue_days": "YQTS",
    "water_name": "HHMC",
    "segment_id": "HDBM",
    "segment_name": "HDMC",
    "relation": "WZGX",
    "chief_village": "CJHZ",
    "chief_township": "XZJHZ",
    "chief_county": "XJHZ",
}
_DBF_NAME_BYTES = 10
_DBF_VALUE_BYTES = 254
_LABELLED = {"issue_type": ISSUE_TYPES, "relation": RELATIONS, "state": STATES}
_NUMERIC = ("area_m2", "overdue_days")


def check_field_codes(codes: dict[str, str], *, encoding: str = ENCODING) -> None:
    """Check that every field code fits a DBF field name and codes are unique.

    Parameters
    ----------
    codes : dict
        Column → field code.
    encoding : str
        The shapefile's encoding.

    Raises
    ------
    SchemaError
        If a code is longer than 10 bytes in ``encoding`` or two columns share a code.
    """
    for column, code in codes.items():
        size = len(code.encode(encoding))
        if size > _DBF_NAME_BYTES:
            raise SchemaError(
                f"shapefile field code {code!r} (column {column!r}) is {size} bytes in "
                f"{encoding}; DBF names hold at most {_DBF_NAME_BYTES}: pick a shorter code"
            )
    seen = pd.Series(list(codes.values()))
    dupes = sorted(set(seen[seen.str.upper().duplicated()]))
    if dupes:
        raise SchemaError(f"shapefile field codes {dupes} are used twice; give each column its own")


def _fit(text: str, encoding: str) -> str:
    """Return ``text`` encodable in ``encoding`` and at most 254 bytes, cut on a character."""
    data = text.encode(encoding, errors="replace")
    if len(data) <= _DBF_VALUE_BYTES:
        return data.decode(encoding)
    return data[:_DBF_VALUE_BYTES].decode(encoding, errors="ignore")


def shapefile_frame(
    patches: gpd.GeoDataFrame, *, encoding: str = ENCODING
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Return the shapefile's frame (coded fields) and its alias table.

    Parameters
    ----------
    patches : GeoDataFrame
        The ledger's status frame (not modified).
    encoding : str
        The shapefile's encoding; values it cannot encode become ``?``.

    Returns
    -------
    (GeoDataFrame, DataFrame)
        The frame to write with ``encoding``, and the alias table with columns
        字段代码 and 字段名称, one row per field.
    """
    check_field_codes(FIELD_CODES, encoding=encoding)
    out: dict[str, object] = {}
    replaced = 0
    for column, code in FIELD_CODES.items():
        if column not in patches:
            continue
        values = patches[column]
        if column in _NUMERIC:
            out[code] = pd.to_numeric(values, errors="coerce").to_numpy()
            continue
        table = _LABELLED.get(column)
        texts = []
        for value in values.tolist():
            if value is None or (isinstance(value, float) and pd.isna(value)):
                texts.append(None)
                continue
            text = label(table, value) if table is not None else str(value)
            fitted = _fit(text, encoding)
            replaced += fitted.count("?") > text.count("?")
            texts.append(fitted)
        out[code] = texts
    if replaced:
        logger.warning("shapefile: %d value(s) had characters %s cannot hold", replaced, encoding)
    frame = gpd.GeoDataFrame(out, geometry=patches.geometry.values, crs=patches.crs)
    aliases = pd.DataFrame(
        {
            EXPORT["field_code"]: [c for k, c in FIELD_CODES.items() if k in patches],
            EXPORT["field_name"]: [COLUMNS[k] for k in FIELD_CODES if k in patches],
        }
    )
    return frame, aliases


def write_shapefile(
    patches: gpd.GeoDataFrame, path: str | os.PathLike, *, encoding: str = ENCODING
) -> tuple[Path, pd.DataFrame]:
    """Write the GBK shapefile at ``path`` (its sidecars beside it); return it and the aliases.

    Parameters
    ----------
    patches : GeoDataFrame
        The ledger's status frame (not modified).
    path : path-like
        The ``.shp`` to write.
    encoding : str
        Written to the ``.cpg``.

    Returns
    -------
    (pathlib.Path, DataFrame)
    """
    frame, aliases = shapefile_frame(patches, encoding=encoding)
    frame.to_file(path, driver="ESRI Shapefile", encoding=encoding, engine="pyogrio")
    return Path(path), aliases
