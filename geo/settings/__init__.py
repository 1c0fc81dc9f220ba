"""Office settings, read from ``hetu.toml``.

The settings live with the ledger. Where a ``hetu`` command takes them from, first
hit wins:

1. ``--settings FILE`` (or the ``HETU_SETTINGS`` environment variable): an override
   for this one command;
2. the settings stored in the ledger, their latest version (``hetu init LEDGER
   --settings hetu.toml`` stores them, ``hetu settings LEDGER --set hetu.toml``
   stores a new version; :meth:`geo.ledger.office.LedgerOffice.store_settings`);
   a ``./hetu.toml`` that differs from them is named in a warning and not used;
3. ``./hetu.toml`` in the working directory, for a ledger that stores none (a
   warning says to store them);
4. the documented defaults (a warning says so).

Relative paths in the file (``[escalation] template``, ``[export] template`` and
``column_map``, ``[ingest] profile``) resolve against the file's folder; for stored
settings, against the folder the file was stored from, recorded with each version
(the files stay where the office keeps them; storing checks that they exist).
:func:`load_settings`, without a ledger, reads 1, then 3, then 4;
``geo.Ledger(path)`` without ``settings`` uses 2, else 4.

The example below lists every table and key; leave out what you do not change
and its default applies. Reading is strict: an unknown table or key (a typo) and a
value of the wrong type are a :class:`~geo.errors.SettingsError` naming the
file, the table, the key and the fix, e.g. ``hetu.toml: [surveys] unknown key
'witin_m' (did you mean 'within_m'?); known keys: within_m``.

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
    verify_days = 25                 # 核查 time from 下发 (days as [calendar] count; 松溪县 2023)
    review_days = 90                 # 挂账监管: calendar days to its next 监管 review (a quarter)
    # The default states and transitions: docs/architecture.md, Lifecycle. An office's
    # own (checked by geo.policy.lifecycle.lifecycle_from_settings) is written as:
    # initial = "issued"             # the state a newly issued patch is in
    # deadline_states = ["rectifying"]       # states entered with a deadline
    # open_exempt = ["closed", "dismissed"]  # states no longer open (动态清零)
    # [lifecycle.transitions]        # from = [to, ...]; replaces the whole default graph
    # issued = ["verifying"]
    # verifying = ["confirmed", "dismissed"]
    # confirmed = ["rectifying"]
    # rectifying = ["reviewing"]
    # reviewing = ["closed", "rectifying"]
    # [lifecycle.actions]            # "from->to" = the action the move is recorded as
    # "reviewing->closed" = "close"  # (default: the built-in name, or to_<state>)
    # [lifecycle.labels]             # state = Chinese label, for every state you add
    # reviewing = "复核中"
    [lifecycle.evidence]             # evidence a verdict needs: any one set of kinds
    dismissed = [["permit"], ["photo_watermarked"]]  # kinds: photo_before photo_after
    closed = [["photo_before", "photo_after"]]       # photo_watermarked permit document
    [[lifecycle.deadline]]           # rectification days by issue type and/or river level;
    issue_type = "dumping"           # occupation mining dumping construction other
    level = "village"                # province city county township village
    days = 10                        # the most specific rule wins

    [verification]                   # 分类判定 and 责任单位 (geo.policy.verification)
    [verification.classes.bridge]    # a 地物类别; the office's classes replace the default table
    label = "桥梁"
    group = "涉河建设项目"
    verdicts = ["not_problem", "problem"]   # not_problem not_problem_historic
    [verification.classes.bridge.evidence]  # problem_historic problem
    not_problem = [["permit", "photo_watermarked"]]   # any one set; each kind of it needed
    [verification.duty_units]        # 行业主管部门 by problem type, with the township government
    occupation = "县水利局"
    mining = "县水利局"
    dumping = "县住房和城乡建设局"
    construction = "县水利局"
    other = "县水利局"

    [problems]                       # problems from 12345, 举报, 暗访 … (geo.policy.sources)
    accept_days = 1                  # 受理 within 1 working day (广东 10101101)
    feedback_days = 10               # 反馈 within 10 working days (福建 96133)
    close_days = 10                  # 办结: 一般 10 working days (澧县)
    close_days_major = 20            # 办结: 重大 20 working days (澧县)
    point_buffer_m = 20.0            # a case given as a point: a circle of this radius (m)
    [problems.sources."暗访"]        # one source's own clock (same keys; the rest as above)
    close_days_major = 20

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
    far_photo = "warn"               # closing with after-photos taken farther: "warn" or "refuse"

    [surveys]
    within_m = 50.0                  # a bank this close to a track counts as surveyed (metres)

    [patrols]                        # patrol duty per river (geo.policy.patrols)
    preset = "aheqi"                 # aheqi (阿合奇) | dinghu (泗县丁湖镇) | guangzhou (广州)
    within_m = 100.0                 # a track must come this close to the chief's segment

    [patrols.levels.village]         # the office's own rule for a level (keys left out: preset)
    per = "week"                     # week | ten_days | month | quarter | half_year | year
    times = 1                        # patrol days required in each period
    months = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]   # the months the duty applies in
    min_minutes = 30.0               # the shortest patrol that counts
    min_km = 2.0
    # [patrols.levels.province]      # the same keys for every level
    # [patrols.levels.city]
    # [patrols.levels.county]
    # [patrols.levels.township]
    # [patrols.every_days]           # Hetu 0.1's days between patrols, read as the nearest
    #  province = 182.0               # period (7 week, 10 旬, 30 month, 91 quarter…)
    #  city = 91.0
    #  county = 30.0
    #  township = 15.0
    #  village = 7.0

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
    excellent = 90                   # 等次 in percent of the best score (开化县考核办法):
    good = 80                        # 优秀 >= 90, 良好 >= 80, 合格 >= 70, else 不合格
    passing = 70

    [township_classes]               # 9-digit code -> class: the 4+1 ranks within each class
    "439999001" = "A组"              # (株洲 assesses in groups: A组 counties, B组 urban districts)

    [documents]                      # notices as 公文 (GB/T 9704-2012); docs/documents.md
    issuer = ""                      # 发文机关 (empty: [office] name)
    abbr = "示河长办"                 # 机关代字 in the 文号
    number = "{abbr}{code}〔{year}〕{seq}号"   # 文号; {seq} counts per year and code in the ledger
    contact = "王明"                  # 联系人
    phone = "0731-12345678"          # 联系电话
    cc = ["县水利局"]                 # always copied (抄送), after the segment's chiefs
    seal = "seal.png"                # 印章 image (optional), relative to this file
    word_template = ""               # your Word file with {文号} {标题} {主送} {正文} … fields
    [documents.codes]                # 代字 of each kind in the 文号 (defaults shown)
    reminder = "提"
    notice = "通"
    supervision = "督"
    order = "令"
    interview = "约"
    bulletin = "通报"
    report = "报"                    # the 情况报告 to a county chief
    [documents.to]                   # who receives a rung: "township" (乡镇人民政府) or "chief"
    reminder = "chief"               # supervision and order never go to a chief
    notice = "township"
    interview = "chief"
    bulletin = "township"
    [documents.reply_days]           # days given to rectify and reply (反馈), counted as deadlines
    notice = 10                      # (interview, reminder: also allowed)
    supervision = 10
    order = 5
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.errors import SettingsError
from geo.policy.assessment import DEFAULT_RULE, AssessmentRule, assessment_rule_from_toml
from geo.policy.documents import (
    DEFAULT_DOCUMENTS,
    DocumentRule,
    document_rule_from_toml,
)
from geo.policy.lifecycle import (
    DEFAULT_LADDER,
    DEFAULT_LIFECYCLE,
    EVIDENCE_KINDS,
    DeadlineRule,
    EscalationStep,
    Lifecycle,
    ladder_from_settings,
    lifecycle_from_settings,
)
from geo.policy.patrols import DEFAULT_PRESET as DEFAULT_PATROL_PRESET
from geo.policy.patrols import PatrolRules, patrol_rules
from geo.policy.sources import ProblemRules, problem_rules_from_toml
from geo.policy.verification import (
    DEFAULT_CLASSES,
    DEFAULT_DUTY_UNITS,
    REVIEW_DAYS,
    VERIFY_DAYS,
    FeatureClass,
    classes_from_settings,
)
from geo.policy.workdays import WorkCalendar
from geo.settings.schema import BASEMAPS, SCHEMA, check_settings

__all__ = [
    "BASEMAPS",
    "SCHEMA",
    "Settings",
    "check_settings",
    "load_settings",
    "settings_file_text",
    "settings_files",
    "settings_from_dict",
    "settings_from_text",
]


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
    evidence_far_photo : str
        A closure whose after-photos lie beyond ``evidence_max_distance_m``: ``"warn"``
        (closed, with a warning; the default) or ``"refuse"``.
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
        Hetu 0.1's ``[patrols.every_days]`` as written (read into ``patrols``).
    patrols : PatrolRules
        The patrol duty per chief level (``[patrols]``: ``preset``, ``within_m``,
        ``[patrols.levels.<level>]``; :mod:`geo.policy.patrols`).
    assessment : AssessmentRule
        The points of the quarterly township assessment (``[assessment]``).
    documents : DocumentRule
        How notices are numbered, addressed and timed (``[documents]``).
    township_classes : dict
        9-digit township code → class (A组…); the assessment ranks within each class.
    verify_days : int
        核查 time from 下发 (``[lifecycle] verify_days``, counted like ``rectify_days``;
        :mod:`geo.policy.verification` names the practice it is taken from).
    review_days : int
        Calendar days from 挂账监管 to its 监管 review (``[lifecycle] review_days``).
    classes : tuple of FeatureClass
        The 分类判定 table: 地物类别 → allowed verdicts → evidence each needs
        (``[verification.classes.KEY]``, replacing the default of
        :data:`geo.policy.verification.DEFAULT_CLASSES`).
    duty_units : dict
        Problem type → 行业主管部门 sharing the responsibility with the township
        government (``[verification.duty_units]``).
    source : str
        Where the settings came from (a path, or ``"defaults"``).
    problems : ProblemRules
        The clocks of problems from each source and the circle a point case is drawn
        as (``[problems]``, :mod:`geo.policy.sources`).
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
    evidence_far_photo: str = "warn"
    ingest_profile: str | None = None
    notice_template: str | None = None
    notice_pdf: bool | None = None
    export_template: str | None = None
    export_column_map: str | None = None
    survey_within_m: float = 50.0
    patrol_every_days: dict[str, float] = field(default_factory=dict)
    patrols: PatrolRules = field(default_factory=patrol_rules)
    assessment: AssessmentRule = DEFAULT_RULE
    documents: DocumentRule = DEFAULT_DOCUMENTS
    township_classes: dict[str, str] = field(default_factory=dict)
    verify_days: int = VERIFY_DAYS
    review_days: int = REVIEW_DAYS
    classes: tuple[FeatureClass, ...] = DEFAULT_CLASSES
    duty_units: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_DUTY_UNITS))
    source: str = "defaults"
    problems: ProblemRules = field(default_factory=ProblemRules)

    def township_name(self, admin_code: object) -> str:
        """Return the township name for a 9- or 12-digit code, or the 9-digit code.

        A missing value (None, NaN) or a code shorter than 9 digits (a county's)
        names no township: ``""``.
        """
        if admin_code is None or admin_code != admin_code:  # NaN is not equal to itself
            return ""
        code = str(admin_code).strip()[:9]
        return self.townships.get(code, code) if len(code) == 9 else ""


def _beside(source: str, path: str, base: str | None = None) -> str | None:
    """Resolve a path given in a settings file against ``base``, else that file's folder."""
    if not path:
        return None
    if Path(path).is_absolute():
        return path
    if base is not None:
        return str(Path(base) / path)
    if source in ("dict", "defaults"):
        return path
    return str(Path(source).parent / path)


def settings_files(settings: Settings) -> dict[str, str]:
    """The files the settings name, by key (``"[export] template"``: its resolved path)."""
    named = {
        "[ingest] profile": settings.ingest_profile,
        "[escalation] template": settings.notice_template,
        "[export] template": settings.export_template,
        "[export] column_map": settings.export_column_map,
        "[documents] seal": settings.documents.seal,
        "[documents] word_template": settings.documents.word_template,
    }
    return {key: path for key, path in named.items() if path}


def settings_from_dict(
    data: dict[str, Any], *, source: str = "dict", base: str | None = None
) -> Settings:
    """Build :class:`Settings` from the parsed TOML tables.

    Parameters
    ----------
    data : dict
        The tables of the module docstring (``office``, ``townships``, ``lifecycle``, ...).
    source : str
        Named in error messages.
    base : str, optional
        The folder relative paths resolve against (default the folder of ``source``).

    Returns
    -------
    Settings

    Raises
    ------
    SettingsError
        For an unknown table or key or a value of the wrong type
        (:func:`check_settings`), or a value out of range.
    """
    check_settings(data, source=source)
    office = data.get("office", {})
    lifecycle = data.get("lifecycle", {})
    calendar_table = data.get("calendar", {})
    escalation = data.get("escalation", {})
    export = data.get("export", {})
    map_ = data.get("map", {})
    verification = data.get("verification", {})
    extent = office.get("extent")
    if extent is not None:
        if not (extent[0] < extent[2] and extent[1] < extent[3]):
            raise SettingsError(
                f"{source}: [office] extent must be [min_lon, min_lat, max_lon, max_lat], "
                f"got {extent!r}"
            )
        extent = tuple(float(v) for v in extent)
    cm = office.get("central_meridian")
    if cm is not None and (cm % 3 != 0 or not 75 <= cm <= 135):
        raise SettingsError(
            f"{source}: [office] central_meridian must be a multiple of 3 "
            f"between 75 and 135, got {cm}"
        )
    calendar = WorkCalendar.from_lists(
        holidays=calendar_table.get("holidays", []), workdays=calendar_table.get("workdays", [])
    )
    rules = []
    for i, rule in enumerate(lifecycle.get("deadline", [])):
        if "days" not in rule:
            raise SettingsError(f"{source}: [[lifecycle.deadline]] {i + 1} needs days >= 1")
        rules.append(DeadlineRule(rule["days"], rule.get("issue_type"), rule.get("level")))
    steps = escalation.get("steps")
    every = data.get("patrols", {}).get("every_days", {})
    return Settings(
        office_name=office.get("name", Settings.office_name),
        admin_code=office.get("admin_code", ""),
        extent=extent,
        central_meridian=cm,
        townships=dict(data.get("townships", {})),
        rectify_days=lifecycle.get("rectify_days", 30),
        near_m=float(data.get("matching", {}).get("near_m", 1000.0)),
        basemap=map_.get("basemap", "osm"),
        tianditu_key=os.environ.get("TIANDITU_KEY") or map_.get("tianditu_key", ""),
        lifecycle=lifecycle_from_settings(lifecycle, source=source),
        deadline_rules=tuple(rules),
        calendar=calendar if calendar_table.get("count", "workdays") == "workdays" else None,
        ladder=DEFAULT_LADDER if steps is None else ladder_from_settings(steps, source=source),
        evidence_max_distance_m=float(data.get("evidence", {}).get("max_distance_m", 200.0)),
        evidence_far_photo=data.get("evidence", {}).get("far_photo", "warn"),
        ingest_profile=_beside(source, data.get("ingest", {}).get("profile", ""), base),
        notice_template=_beside(source, escalation.get("template", ""), base),
        notice_pdf=escalation.get("pdf"),
        export_template=_beside(source, export.get("template", ""), base),
        export_column_map=_beside(source, export.get("column_map", ""), base),
        survey_within_m=float(data.get("surveys", {}).get("within_m", 50.0)),
        patrol_every_days={level: float(days) for level, days in every.items()},
        patrols=patrol_rules(
            preset=data.get("patrols", {}).get("preset", DEFAULT_PATROL_PRESET),
            levels=data.get("patrols", {}).get("levels"),
            every_days=every,
            within_m=float(data.get("patrols", {}).get("within_m", 100.0)),
            source=source,
        ),
        assessment=assessment_rule_from_toml(data.get("assessment", {}), source=source),
        documents=document_rule_from_toml(
            data.get("documents", {}),
            source=source,
            seal=_beside(source, data.get("documents", {}).get("seal", ""), base),
            word_template=_beside(source, data.get("documents", {}).get("word_template", ""), base),
        ),
        township_classes=dict(data.get("township_classes", {})),
        verify_days=lifecycle.get("verify_days", VERIFY_DAYS),
        review_days=lifecycle.get("review_days", REVIEW_DAYS),
        classes=(
            classes_from_settings(verification["classes"], source=source, kinds=EVIDENCE_KINDS)
            if "classes" in verification
            else DEFAULT_CLASSES
        ),
        duty_units={**DEFAULT_DUTY_UNITS, **verification.get("duty_units", {})},
        source=source,
        problems=problem_rules_from_toml(data.get("problems", {}), source=source),
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
    return settings_from_text(settings_file_text(candidate), source=str(Path(candidate)))


def settings_file_text(path: str | os.PathLike) -> str:
    """The text of a settings file (UTF-8, a byte-order mark dropped).

    Raises
    ------
    SettingsError
        If the file is missing or not UTF-8.
    """
    p = Path(path)
    if not p.is_file():
        raise SettingsError(f"settings file {p} not found; create it or leave --settings out")
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{p}: not a valid UTF-8 TOML file ({exc})") from exc


def settings_from_text(text: str, *, source: str, base: str | None = None) -> Settings:
    """Build :class:`Settings` from the text of a ``hetu.toml`` (a file's, or one stored).

    ``source`` (named in messages: the file, or the ledger and the version) and
    ``base`` are those of :func:`settings_from_dict`; a text that is not TOML is a
    :class:`~geo.errors.SettingsError` too.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: not a valid UTF-8 TOML file ({exc})") from exc
    return settings_from_dict(data, source=source, base=base)
