"""Field-name alias profiles: how each province names the fields Hetu needs.

No public copy of a real 图斑 DBF exists, so the profile is the contract: a
mapping per kind (``patches``, ``ranges``, ``chiefs``) from each canonical
field to the names sources use for it. :data:`DEFAULT_PROFILE` covers the
common names; an office adds its own in a TOML file, merged over the default::

    # profiles/湖南.toml
    [patches]
    patch_id = ["TBBH", "图斑号"]
    issue_type = ["WTFL"]

    [ranges]
    segment_id = ["HDDM2"]

Names given in the file are tried before the default ones. Matching ignores
case, full-/half-width forms, blanks, underscores and hyphens
(:func:`geo.text.normalise_header`; a bracketed unit still tells two columns
apart); unknown fields are kept in ``attrs``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from geo.errors import SchemaError, SettingsError
from geo.text import normalise_header

Profile = dict[str, dict[str, tuple[str, ...]]]

#: Field aliases per kind: canonical name -> names used by provinces and offices.
DEFAULT_PROFILE: Profile = {
    "patches": {
        # Name: a KML placemark's name (tried last, after every id field)
        "patch_id": ("TBBH", "图斑编号", "TBBM", "图斑编码", "patch_id", "Name"),
        "issue_type": ("WTLX", "问题类型", "TBLX", "图斑类型", "issue_type"),
        "admin_code": ("XZQDM", "行政区代码", "行政区划代码", "XZQHDM", "admin_code"),
        "source_area": ("TBMJ", "MJ", "面积", "图斑面积", "source_area"),
        "detected_on": ("JCSJ", "监测时间", "监测日期", "detected_on"),
        "issued_on": ("XFSJ", "下发时间", "下发日期", "issued_on"),
        "description": ("WTMS", "问题描述", "描述", "description"),
    },
    "ranges": {
        "segment_id": ("HDBM", "河段编码", "HDDM", "segment_id"),
        "range_id": ("FWBH", "范围编号", "range_id"),
        "water_name": ("HHMC", "河湖名称", "河流名称", "water_name"),
        "water_code": ("HHBM", "河湖编码", "河流编码", "water_code"),
        "segment_name": ("HDMC", "河段名称", "segment_name"),
        "admin_code": ("XZQDM", "行政区划代码", "行政区代码", "admin_code"),
    },
    "chiefs": {
        "chief_id": ("HZBH", "河长编号", "chief_id"),
        "name": ("XM", "姓名", "河长姓名", "name"),
        "title": ("ZW", "职务", "title"),
        "level": ("JB", "级别", "河长级别", "level"),
        "segment_id": ("HDBM", "河段编码", "segment_id"),
        "admin_code": ("XZQDM", "行政区划代码", "行政区代码", "admin_code"),
        "phone": ("LXDH", "联系电话", "电话", "手机", "phone"),
        "term_start": ("任期开始", "任职时间", "term_start"),
        "term_end": ("任期结束", "离任时间", "term_end"),
    },
    "admin": {  # township and village boundaries (乡镇界, 村界)
        "admin_code": (
            "XZQDM",
            "行政区代码",
            "行政区划代码",
            "XZQHDM",
            "乡镇代码",
            "村代码",
            "XZDM",
            "CJDM",
            "admin_code",
        ),
        "name": (
            "XZQMC",
            "行政区名称",
            "行政区划名称",
            "乡镇名称",
            "村名称",
            "XZMC",
            "CJMC",
            "名称",
            "name",
        ),
    },
}

#: Canonical fields each kind cannot do without.
REQUIRED: dict[str, tuple[str, ...]] = {
    "patches": ("patch_id",),
    "ranges": ("segment_id",),
    "chiefs": ("name", "level", "segment_id"),
    "admin": ("admin_code",),
}


def merge_profile(
    extra: Mapping[str, Mapping[str, tuple[str, ...] | list[str]]] | None,
    *,
    base: Profile | None = None,
    source: str = "profile",
) -> Profile:
    """Merge extra aliases over a profile (default :data:`DEFAULT_PROFILE`).

    Parameters
    ----------
    extra : mapping or None
        Kind -> canonical field -> source names; these are tried first.
    base : dict, optional
        The profile to extend.
    source : str
        Named in error messages.

    Returns
    -------
    dict
        A new profile; neither input is changed.

    Raises
    ------
    SettingsError
        For an unknown kind or canonical field, or names that are not strings.
    """
    base = base or DEFAULT_PROFILE
    out: Profile = {kind: dict(fields) for kind, fields in base.items()}
    for kind, fields in (extra or {}).items():
        if kind not in out:
            raise SettingsError(f"{source}: unknown table [{kind}]; use one of {', '.join(out)}")
        if not isinstance(fields, Mapping):
            raise SettingsError(f"{source}: [{kind}] must be a table of field = [names]")
        for canon, names in fields.items():
            if canon not in out[kind]:
                raise SettingsError(
                    f"{source}: [{kind}] has no field {canon!r}; use one of {', '.join(out[kind])}"
                )
            if isinstance(names, str):
                names = [names]
            if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
                raise SettingsError(
                    f"{source}: [{kind}] {canon} must be a list of names, e.g. "
                    f'{canon} = ["{canon.upper()}"]'
                )
            kept = tuple(n for n in out[kind][canon] if n not in names)
            out[kind][canon] = (*names, *kept)
    return out


def load_profile(path: str | os.PathLike) -> Profile:
    """Read an alias profile (TOML) and merge it over :data:`DEFAULT_PROFILE`.

    Parameters
    ----------
    path : path-like
        A UTF-8 TOML file with tables ``[patches]``, ``[ranges]``, ``[chiefs]``.

    Returns
    -------
    dict
        The merged profile.

    Raises
    ------
    SettingsError
        If the file is missing, not valid TOML, or names unknown fields.
    """
    p = Path(path)
    if not p.is_file():
        raise SettingsError(f"profile {p} not found; check the path or leave the profile out")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{p}: not a valid UTF-8 TOML profile ({exc})") from exc
    return merge_profile(data, source=str(p))


def rename_to_canonical(
    df: pd.DataFrame,
    kind: str,
    *,
    source: str,
    profile: Profile | None = None,
    skip: tuple[str, ...] = ("geometry",),
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Rename aliased columns to canonical names.

    Parameters
    ----------
    df : DataFrame
        The source frame (not changed).
    kind : str
        ``patches``, ``ranges`` or ``chiefs``.
    source : str
        The file name, for messages.
    profile : dict, optional
        Default :data:`DEFAULT_PROFILE`.
    skip : tuple of str
        Columns that are neither renamed nor reported as unknown.

    Returns
    -------
    frame : DataFrame
        Renamed, with every canonical column present (``None`` where absent).
    mapping : dict
        Source column -> canonical name.
    unknown : list of str
        Source columns no alias matched (to keep in ``attrs``).

    Raises
    ------
    SchemaError
        When a required field is missing: lists what was found and what was expected.
    """
    fields = (profile or DEFAULT_PROFILE)[kind]
    mapping = _match(df.columns, fields, skip=skip)
    missing = [c for c in REQUIRED[kind] if c not in mapping.values()]
    if missing:
        found = ", ".join(str(c) for c in df.columns if c not in skip) or "no fields"
        raise SchemaError(
            f"{source}: required field(s) missing: {describe_fields(missing, kind, profile)}. "
            f"Found: {found}. Rename the column, or add its name to an alias profile (--profile)"
        )
    targets = set(mapping.values())
    for col in df.columns:
        if col not in skip and col not in mapping and col in targets:
            mapping[col] = f"{col} (source)"  # a second column under a canonical name
    unknown = [
        mapping.get(c, c) for c in df.columns if c not in skip and mapping.get(c) not in targets
    ]
    out = df.rename(columns=mapping)
    for canon in fields:
        if canon not in out.columns:
            out[canon] = None
    return out, mapping, unknown


def _match(
    columns: Iterable[object], fields: Mapping[str, tuple[str, ...]], *, skip: tuple[str, ...]
) -> dict[object, str]:
    """Source column -> canonical name, for the columns an alias of ``fields`` names."""
    by_key: dict[str, object] = {}
    for col in columns:
        if col not in skip:
            by_key.setdefault(normalise_header(col, keep_notes=True), col)
    mapping: dict[object, str] = {}
    for canon, names in fields.items():
        for name in names:
            col = by_key.get(normalise_header(name, keep_notes=True))
            if col is not None and col not in mapping:
                mapping[col] = canon
                break
    return mapping


def missing_fields(
    columns: Iterable[object], kind: str, *, profile: Profile | None = None
) -> list[str]:
    """Return the required fields of ``kind`` (:data:`REQUIRED`) that no column provides.

    Parameters
    ----------
    columns : iterable
        Column names, e.g. a sheet's header row.
    kind : str
        ``patches``, ``ranges`` or ``chiefs``.
    profile : dict, optional
        Default :data:`DEFAULT_PROFILE`.

    Returns
    -------
    list of str
        Canonical names, in the order of :data:`REQUIRED`; empty when all are there.
    """
    found = set(_match(columns, (profile or DEFAULT_PROFILE)[kind], skip=()).values())
    return [c for c in REQUIRED[kind] if c not in found]


def describe_fields(fields: Iterable[str], kind: str, profile: Profile | None = None) -> str:
    """Name canonical fields with the aliases that provide them: ``name: one of XM, 姓名…``."""
    names = (profile or DEFAULT_PROFILE)[kind]
    return "; ".join(f"{f}: one of {', '.join(names[f])}" for f in fields)
