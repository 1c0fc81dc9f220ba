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
    rectify_days = 30                # default rectification time (days, see [calendar] count)
    # transitions, actions, evidence, labels, deadline_states, open_exempt: see
    # geo.policy.lifecycle.lifecycle_from_settings; the default is DESIGN.md's lifecycle.
    [lifecycle.evidence]             # evidence a verdict needs: any one set of kinds
    dismissed = [["permit"], ["photo_watermarked"]]
    closed = [["photo_before", "photo_after"]]
    [[lifecycle.deadline]]           # rectification days by issue type and/or river level;
    issue_type = "dumping"           # the most specific rule wins
    days = 10

    [calendar]
    count = "workdays"               # deadlines and overdue days: "workdays" or "calendar"
    holidays = ["2027-01-01"]        # days off in years chinese-calendar does not know yet
    workdays = []                    # 调休 make-up working days in those years

    [[escalation.steps]]             # the ladder 卡单函令 (default shown: 4 steps)
    action = "reminder"              # reminder notice supervision order interview bulletin
    days = -3                        # relative to the deadline, in counted days
    to = "village"                   # the chief level the notice is addressed to

    [escalation]
    template = ""                    # your own notice template (Jinja2), relative to this file
    pdf = true                       # require PDFs (false: none; leave out: when Chromium is found)

    [export]
    template = "templates/省厅台账模板.xlsx"   # province template `hetu export` also fills
    column_map = "templates/省厅台账列.toml"   # its column map (geo.reports.province_template)

    [evidence]
    max_distance_m = 200.0           # a photo's GPS must lie this close to its patch

    [surveys]
    within_m = 50.0                  # a bank this close to a track counts as surveyed (metres)

    [patrols.every_days]             # one patrol every so many days, per chief level
    county = 30.0                    # default geo.field.patrols.REQUIRED_DAYS for levels left out
    township = 15.0
    village = 7.0

    [ingest]
    profile = "profiles/省厅字段.toml"   # field alias profile (relative to this file); see
                                     # geo.ingest.profiles; empty: the default profile

    [matching]
    near_m = 1000.0                  # "near": outside every range but within this

    [map]
    basemap = "osm"                  # osm | tianditu | tianditu-img | none
    tianditu_key = ""                # or the TIANDITU_KEY environment variable

    [assessment]                     # the quarterly 4+1 assessment (hetu assess)
    closure = 50                     # points for a 100% closure rate (销号率)
    on_time = 20                     # points for a 100% on-time rate (按期销号率)
    overdue = 20                     # points kept with nothing overdue, less
    overdue_per_day = 0.1            # this per overdue patch-day, not below 0
    recurrence = 10                  # points kept with no recurrence (反弹回潮), less
    recurrence_each = 2              # this per recurrence, not below 0
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.errors import SettingsError
from geo.labels import LEVELS
from geo.policy.assessment import DEFAULT_RULE, AssessmentRule, assessment_rule_from_toml
from geo.policy.lifecycle import (
    DEFAULT_LADDER,
    DEFAULT_LIFECYCLE,
    DeadlineRule,
    EscalationStep,
    Lifecycle,
    ladder_from_settings,
    lifecycle_from_settings,
)
from geo.policy.workdays import WorkCalendar

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
    lifecycle : Lifecycle
        States, transitions, evidence rules.
    deadline_rules : tuple of DeadlineRule
        Rectification days by issue type and river level.
    calendar : WorkCalendar or None
        Working days for deadlines and overdue days; ``None`` counts calendar days.
    ladder : tuple of EscalationStep
        The escalation ladder.
    evidence_max_distance_m : float
        How close a photo's GPS must be to its patch.
    ingest_profile : str or None
        Path of the office's field alias profile, or None for the default.
    notice_template : str or None
        Path of the office's notice template, or None for the built-in one.
    notice_pdf : bool or None
        Require PDFs of notices (True), none (False), or when Chromium is found (None).
    export_template : str or None
        Path of the province .xlsx template ``hetu export`` fills, or None.
    export_column_map : str or None
        Path of that template's column map (TOML), or None.
    survey_within_m : float
        How close a track must pass to a bank for it to count as surveyed (metres).
    patrol_every_days : dict
        Chief level to the required days between patrols (levels left out: the
        defaults of :data:`geo.field.patrols.REQUIRED_DAYS`).
    assessment : AssessmentRule
        The points of the quarterly township assessment (``[assessment]``).
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
    lifecycle: Lifecycle = DEFAULT_LIFECYCLE
    deadline_rules: tuple[DeadlineRule, ...] = ()
    calendar: WorkCalendar | None = field(default_factory=WorkCalendar)
    ladder: tuple[EscalationStep, ...] = DEFAULT_LADDER
    evidence_max_distance_m: float = 200.0
    ingest_profile: str | None = None
    notice_template: str | None = None
    notice_pdf: bool | None = None
    export_template: str | None = None
    export_column_map: str | None = None
    survey_within_m: float = 50.0
    patrol_every_days: dict[str, float] = field(default_factory=dict)
    assessment: AssessmentRule = DEFAULT_RULE
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


def _beside(source: str, path: str) -> str | None:
    """Resolve a path given in a settings file against that file's folder."""
    if not path:
        return None
    if source in ("dict", "defaults") or Path(path).is_absolute():
        return path
    return str(Path(source).parent / path)


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
    calendar_table = data.get("calendar", {})
    count = _get(calendar_table, "count", str, source, "workdays")
    if count not in ("workdays", "calendar"):
        raise SettingsError(f"{source}: [calendar] count must be workdays or calendar")
    try:
        calendar = WorkCalendar.from_lists(
            holidays=_get(calendar_table, "holidays", list, source, []),
            workdays=_get(calendar_table, "workdays", list, source, []),
        )
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"{source}: [calendar] dates must be YYYY-MM-DD ({exc})") from exc
    rules = []
    for i, rule in enumerate(lifecycle.get("deadline", [])):
        days = _get(rule, "days", int, f"{source}: [[lifecycle.deadline]] {i + 1}", None)
        if days is None or days < 1:
            raise SettingsError(f"{source}: [[lifecycle.deadline]] {i + 1} needs days >= 1")
        rules.append(DeadlineRule(days, rule.get("issue_type"), rule.get("level")))
    steps = data.get("escalation", {}).get("steps")
    evidence = data.get("evidence", {})
    escalation = data.get("escalation", {})
    profile = _beside(source, _get(data.get("ingest", {}), "profile", str, source, ""))
    template = _beside(source, _get(escalation, "template", str, source, ""))
    export = data.get("export", {})
    within_m = float(_get(data.get("surveys", {}), "within_m", (int, float), source, 50.0))
    if not within_m >= 0:
        raise SettingsError(f"{source}: [surveys] within_m must be metres >= 0, got {within_m!r}")
    every: dict[str, float] = {}
    for level, days in _get(data.get("patrols", {}), "every_days", dict, source, {}).items():
        if level not in LEVELS:
            raise SettingsError(
                f"{source}: [patrols.every_days] {level!r} is no chief level; "
                f"use {', '.join(LEVELS)}"
            )
        if isinstance(days, bool) or not isinstance(days, int | float) or days <= 0:
            raise SettingsError(
                f"{source}: [patrols.every_days] {level} must be days > 0, got {days!r}"
            )
        every[level] = float(days)
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
        lifecycle=lifecycle_from_settings(lifecycle, source=source),
        deadline_rules=tuple(rules),
        calendar=calendar if count == "workdays" else None,
        ladder=DEFAULT_LADDER if steps is None else ladder_from_settings(steps, source=source),
        evidence_max_distance_m=float(
            _get(evidence, "max_distance_m", (int, float), source, 200.0)
        ),
        ingest_profile=profile,
        notice_template=template,
        notice_pdf=_get(escalation, "pdf", bool, source, None),
        export_template=_beside(source, _get(export, "template", str, source, "")),
        export_column_map=_beside(source, _get(export, "column_map", str, source, "")),
        survey_within_m=within_m,
        patrol_every_days=every,
        assessment=assessment_rule_from_toml(data.get("assessment", {}), source=source),
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
