"""Office settings, read from ``hetu.toml``.

Where the file is looked for, first hit wins: the path given by the caller
(``--settings`` on the command line), the ``HETU_SETTINGS`` environment
variable, ``./hetu.toml``. Without a file the documented defaults apply.

Example ``hetu.toml``::

    [office]
    name = "示范县河长制办公室"      # shown in map titles and export headers
    admin_code = "439999"            # 6-digit county code (GB/T 2260)
    extent = [113.7, 27.6, 114.3, 28.1]   # lon/lat box every input must fall in
    central_meridian = 114           # Gauss-Kruger CM for metric work, degrees

    [townships]                      # 9-digit code -> name, for exports and maps
    "439999001" = "清溪镇"

    [lifecycle]
    rectify_days = 30                # default rectification deadline, calendar days

    [matching]
    near_m = 1000.0                  # "near": outside every range but within this

    [map]
    basemap = "osm"                  # osm | tianditu | tianditu-img | none
    tianditu_key = ""                # or the TIANDITU_KEY environment variable
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo._errors import SettingsError

BASEMAPS = ("osm", "tianditu", "tianditu-img", "none")


@dataclass(frozen=True)
class Settings:
    """Typed office settings with documented defaults.

    Attributes
    ----------
    office_name : str
        The office's name, shown in titles.
    admin_code : str
        The county's 6-digit administrative code, or empty when unknown.
    extent : tuple of float or None
        ``(min_lon, min_lat, max_lon, max_lat)`` that every input must fall in;
        ``None`` accepts anything inside China.
    central_meridian : int or None
        Central meridian (degrees E, a multiple of 3) of the county's 3-degree
        Gauss-Kruger zone; ``None`` chooses it from the data.
    townships : dict
        Township code (9 digits) to name.
    rectify_days : int
        Default rectification deadline in calendar days.
    near_m : float
        Distance within which a patch outside every range counts as ``near``.
    basemap : str
        Default basemap of the map: one of :data:`BASEMAPS`.
    tianditu_key : str
        Tianditu key; the ``TIANDITU_KEY`` environment variable overrides it.
    source : str
        Where the settings came from (a path, or ``"defaults"``).
    """

    office_name: str = "河长制办公室"
    admin_code: str = ""
    extent: tuple[float, float, float, float] | None = None
    central_meridian: int | None = None
    townships: dict[str, str] = field(default_factory=dict)
    rectify_days: int = 30
    near_m: float = 1000.0
    basemap: str = "osm"
    tianditu_key: str = ""
    source: str = "defaults"

    def township_name(self, admin_code: object) -> str:
        """Return the township name for a 9- or 12-digit code, or the 9-digit code."""
        code = str(admin_code or "")[:9]
        return self.townships.get(code, code)


def _get(table: dict[str, Any], key: str, kind: type | tuple, where: str, default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise SettingsError(
            f"{where}: [{key}] must be {getattr(kind, '__name__', kind)}, got {value!r}; "
            "fix the value or delete the line to use the default"
        )
    return value


def settings_from_dict(data: dict[str, Any], *, source: str = "dict") -> Settings:
    """Build :class:`Settings` from the parsed TOML tables.

    Parameters
    ----------
    data : dict
        Tables ``office``, ``townships``, ``lifecycle``, ``matching``, ``map``.
    source : str
        Named in error messages.

    Returns
    -------
    Settings
    """
    office = data.get("office", {})
    lifecycle = data.get("lifecycle", {})
    matching = data.get("matching", {})
    map_ = data.get("map", {})
    extent = _get(office, "extent", list, source, None)
    if extent is not None:
        if len(extent) != 4 or not (extent[0] < extent[2] and extent[1] < extent[3]):
            raise SettingsError(
                f"{source}: [office] extent must be [min_lon, min_lat, max_lon, max_lat], "
                f"got {extent!r}"
            )
        extent = tuple(float(v) for v in extent)
    cm = _get(office, "central_meridian", int, source, None)
    if cm is not None and (cm % 3 != 0 or not 75 <= cm <= 135):
        raise SettingsError(
            f"{source}: [office] central_meridian must be a multiple of 3 "
            f"between 75 and 135, got {cm}"
        )
    basemap = _get(map_, "basemap", str, source, "osm")
    if basemap not in BASEMAPS:
        raise SettingsError(f"{source}: [map] basemap must be one of {BASEMAPS}, got {basemap!r}")
    townships = {str(k): str(v) for k, v in data.get("townships", {}).items()}
    return Settings(
        office_name=_get(office, "name", str, source, Settings.office_name),
        admin_code=str(_get(office, "admin_code", str, source, "")),
        extent=extent,
        central_meridian=cm,
        townships=townships,
        rectify_days=_get(lifecycle, "rectify_days", int, source, 30),
        near_m=float(_get(matching, "near_m", (int, float), source, 1000.0)),
        basemap=basemap,
        tianditu_key=os.environ.get("TIANDITU_KEY") or _get(map_, "tianditu_key", str, source, ""),
        source=source,
    )


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read the office settings.

    Parameters
    ----------
    path : path-like, optional
        A ``hetu.toml``; otherwise ``HETU_SETTINGS``, then ``./hetu.toml``, then defaults.

    Returns
    -------
    Settings

    Raises
    ------
    SettingsError
        If the named file is missing, is not valid TOML, or holds a bad value.
    """
    candidate = path or os.environ.get("HETU_SETTINGS")
    if candidate is None:
        if not Path("hetu.toml").is_file():
            return Settings()
        candidate = "hetu.toml"
    p = Path(candidate)
    if not p.is_file():
        raise SettingsError(f"settings file {p} not found; create it or leave --settings out")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{p}: not a valid UTF-8 TOML file ({exc})") from exc
    return settings_from_dict(data, source=str(p))
