"""The demo: a generated county run through the whole flow, files to map and Excel.

:func:`run_demo` writes the demo county's files (:mod:`geo.demo.county`), ingests
them through the same readers an office uses, matches, moves the patches
through the lifecycle on a fixed timeline so that every state shows, and
writes the ledger, the map and the Excel ledger. Everything is seeded: the
same seed gives the same ledger content.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from geo.demo.changes import demo_plantings, self_check
from geo.demo.county import PATROL_PERIOD, DemoFiles, build_demo_files, write_photo
from geo.demo.imagery import write_demo_imagery
from geo.demo.problems import replies, write_problem_files
from geo.demo.verification import VERIFY_BY, verification_round
from geo.field.coverage import coverage_ledger, shoreline_pieces
from geo.field.evidence import attach_evidence
from geo.field.patrols import patrols_ledger
from geo.imagery.candidates import candidate_thumbnails
from geo.imagery.chipping import imagery_for_ledger, thumbnails_for_map
from geo.labels import TEXT
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.maps.status import save_map, status_map
from geo.matching.assignments import match_ledger
from geo.matching.identity import relink
from geo.reports.escalation import escalate
from geo.reports.excel import write_ledger_xlsx
from geo.reports.lists import lists_workbook
from geo.settings import load_settings

#: The demo's "today": overdue days are counted to this date.
DEMO_AS_OF = "2026-04-30"
#: Days the office ran `hetu escalate`: the reminder, notice, supervision and order days
#: of the batch-2 patches due 2026-03-31 (working days, Qingming counted).
ESCALATION_DAYS = ("2026-03-26", "2026-04-01", "2026-04-15", "2026-04-29")
#: Batch ids and issue dates of the two province batches.
BATCH_DATES = {"2025-Q3": "2025-08-01", "2026-Q1": "2026-02-01"}

_OFFICE = "县河长办"
SELF_CHECK_BATCH = "自查-2026-04"
_INSPECTOR = "核查员"
_CHIEF = "乡级河长"


@dataclass
class DemoResult:
    """Where the demo wrote its outputs, and the state counts it ended with."""

    ledger: Path
    map: Path
    xlsx: Path
    data: DemoFiles
    counts: dict[str, int] = field(default_factory=dict)
    notices: list[Path] = field(default_factory=list)
    lists: Path | None = None  # 问题清单, 责任清单, 任务清单 of the demo's month


def _steps(ledger: Ledger, plan: list[tuple[list[str], str, str, str, str | None]]) -> None:
    for ids, state, at, actor, deadline in plan:
        if ids:
            ledger.transition(ids, state, actor=actor, at=at, deadline=deadline)


def _evidence(
    ledger: Ledger, photos: Path, ids: list[str], *, kinds: tuple[str, ...], at: str
) -> None:
    """Attach field evidence: photos taken at each patch, or a permit."""
    photos.mkdir(parents=True, exist_ok=True)
    for n, pid in enumerate(ids):
        row = ledger.patch_row(pid)
        centre = row["geometry"].centroid
        for kind in kinds:
            if kind == "permit":
                path = photos / f"{pid}_许可证.pdf"
                path.write_bytes(f"%PDF-1.4 demo permit for {pid}\n".encode())
            else:
                day = "2025-08-06T10:00" if kind == "photo_before" else "2025-09-14T15:00"
                path = write_photo(
                    photos / f"{pid}_{kind}.jpg",
                    lon=centre.x,
                    lat=centre.y,
                    taken=dt.datetime.fromisoformat(day),
                    tint=n * 7 + len(kind),
                )
            attach_evidence(ledger, pid, path, kind=kind, actor=_INSPECTOR, at=at)


def _first_batch(ledger: Ledger, files: DemoFiles) -> None:
    """Move batch 2025-Q3 so that every state and an overdue case appear."""
    ids = sorted(ledger.patches().query("batch_id == '2025-Q3'")["patch_id"])
    targets = sorted(set(files.recurrence_of.values()))
    rest = [p for p in ids if p not in targets]
    # rest[:3] stay issued, rest[3:5] stay verifying, rest[17:21] stay rectifying past
    # their deadline (overdue), rest[21:25] wait for acceptance; the rest are closed.
    issued, dismissed, monitored = rest[:3], rest[5:11], rest[11:15]
    confirmed = targets + rest[15:]
    started = [p for p in ids if p not in issued]
    returned, pending = rest[15:17], rest[21:25]
    closed = targets + rest[25:]
    audited = dismissed[:1]
    photos = files.settings.parent / "evidence"
    _steps(ledger, [(started, "verifying", "2025-08-05T09:00", _INSPECTOR, None)])
    _evidence(ledger, photos, dismissed, kinds=("permit",), at="2025-08-20T09:30")
    _steps(
        ledger,
        [
            (dismissed, "dismissed", "2025-08-20T10:00", _INSPECTOR, None),
            (monitored, "monitored", "2025-08-20T10:00", _INSPECTOR, None),
            (confirmed, "confirmed", "2025-08-20T10:00", _INSPECTOR, None),
            (confirmed, "rectifying", "2025-08-25T09:00", _OFFICE, None),
            (returned + pending + closed, "rectified", "2025-09-15T16:00", _CHIEF, None),
            (returned, "rectifying", "2025-09-28T10:00", _OFFICE, None),
        ],
    )
    _evidence(ledger, photos, closed, kinds=("photo_before", "photo_after"), at="2025-09-16T09:00")
    _steps(
        ledger,
        [
            (closed, "closed", "2025-09-30T15:00", _OFFICE, None),
            (audited, "confirmed", "2025-11-10T10:00", "市河长办抽查", None),
        ],
    )


def _second_batch(ledger: Ledger) -> None:
    """Move batch 2026-Q1 part of the way: some verified, some rectifying."""
    ids = sorted(ledger.patches().query("batch_id == '2026-Q1'")["patch_id"])
    started = ids[4:]
    confirmed = started[:12]
    late, on_time = confirmed[:5], confirmed[5:10]
    _steps(
        ledger,
        [
            (started, "verifying", "2026-02-10T09:00", _INSPECTOR, None),
            (confirmed, "confirmed", "2026-02-25T10:00", _INSPECTOR, None),
            (late, "rectifying", "2026-03-01T09:00", _OFFICE, "2026-03-31"),
            (on_time, "rectifying", "2026-04-10T09:00", _OFFICE, "2026-05-20"),
        ],
    )


def run_demo(
    *,
    out_dir: str | os.PathLike = "out/demo",
    data_dir: str | os.PathLike = "data/demo",
    seed: int = 2025,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build the demo county and run the whole flow.

    Parameters
    ----------
    out_dir : path-like
        Where ``ledger.gpkg``, ``map.html`` and ``ledger.xlsx`` are written
        (an existing demo ledger there is replaced).
    data_dir : path-like
        Where the county's input files are generated.
    seed : int
        The seed of the generator.
    on_step : callable, optional
        Called with a short description before each step.

    Returns
    -------
    DemoResult
    """
    say = on_step or (lambda _msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say("generating the demo county's files")
    files = build_demo_files(data_dir, seed=seed)
    settings = load_settings(files.settings)
    ledger_path = out / "ledger.gpkg"
    for stale in [*out.glob("ledger.gpkg*"), out / "notices"]:
        if not stale.exists():
            continue
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    with Ledger.create(ledger_path, settings=settings) as ledger:
        ledger.store_settings(files.settings)  # every later command on it uses them
        say("ingesting ranges, chiefs and the first batch")
        ingest_file(ledger, "ranges", files.ranges)
        ingest_file(ledger, "chiefs", files.chiefs)
        ingest_file(
            ledger,
            "patches",
            files.patches["2025-Q3"],
            batch_id="2025-Q3",
            issued_on=BATCH_DATES["2025-Q3"],
        )
        for track in files.tracks:
            ingest_file(ledger, "surveys", track)
        for patrol in files.patrols:  # the chiefs' patrols of 2026Q1: app CSV, KML, photos
            ingest_file(ledger, "surveys", patrol)
        say("matching and working the first batch to closure")
        match_ledger(ledger)
        _first_batch(ledger, files)
        say("ingesting and matching the second batch")
        ingest_file(
            ledger,
            "patches",
            files.patches["2026-Q1"],
            batch_id="2026-Q1",
            issued_on=BATCH_DATES["2026-Q1"],
            verify_by=VERIFY_BY,
        )
        match_ledger(ledger)
        _second_batch(ledger)
        verification_round(ledger, files.settings.parent / "evidence")  # 认定 … 回头看
        say("issuing the escalation notices (卡单函令) on their working days")
        notices = []
        for day in ESCALATION_DAYS:
            done = escalate(ledger, as_of=day, out_dir=out / "notices", actor=_OFFICE, pdf=False)
            notices += done.documents
        say("cutting before/after imagery chips")
        patches = ledger.patches()
        plan = demo_plantings(ledger.segments(), patches, seed=seed)  # for 自查 to find
        before, after = write_demo_imagery(
            Path(data_dir) / "imagery",
            patches,
            seed=seed,
            cleared=patches.loc[patches["state"].eq("closed"), "patch_id"],
            appeared=patches.loc[patches["batch_id"].eq("2026-Q1"), "patch_id"],
            water=ledger.segments(),
            planted=list(zip(plan.planted.geometry, plan.planted["cover"], strict=True)),
            cloud=plan.cloud,
        )
        imagery_for_ledger(ledger, before=[before], after=[after])
        say("自查: finding changes along the rivers in the pair")
        found = self_check(ledger, before, after, out_dir=out, batch_id=SELF_CHECK_BATCH,
                           actor=_OFFICE, issued_on="2026-04-14")  # fmt: skip
        say("problems from other sources: the 12345 sheet and the 暗访 list")
        hotline, undercover = write_problem_files(Path(data_dir) / "problems", ledger.segments(),
                                                  seed=seed)  # fmt: skip
        ingest_file(ledger, "problems", hotline, source="12345")
        ingest_file(ledger, "problems", undercover, source="暗访")
        match_ledger(ledger)
        replies(ledger)
        say("writing the map and the Excel ledger")
        frame = ledger.status_frame(as_of=DEMO_AS_OF)
        title = f"{settings.office_name} {TEXT['ledger']}"
        tracks, segments = ledger.tracks(), ledger.segments()
        shoreline = shoreline_pieces(
            tracks, segments, within_m=settings.survey_within_m,
            central_meridian=settings.central_meridian,
        )  # fmt: skip
        m = status_map(
            frame,
            ranges=segments,
            tracks=tracks,
            shoreline=shoreline,
            events=ledger.events(as_of=DEMO_AS_OF),
            links=relink(ledger.links(), frame),
            thumbnails=thumbnails_for_map(ledger, max_px=160),
            candidates=found,
            candidate_thumbnails=candidate_thumbnails(found, folder=out),
            title=title,
            as_of=DEMO_AS_OF,
            basemap=settings.basemap,
            tianditu_key=settings.tianditu_key,
            offline=True,
        )
        map_path = save_map(m, out / "map.html")
        first, last = PATROL_PERIOD  # the chiefs' first-quarter patrols, in the Excel ledger too
        coverage = coverage_ledger(ledger, within_m=settings.survey_within_m, start=first, end=last)
        patrols = patrols_ledger(ledger, start=first, end=last)
        xlsx_path = write_ledger_xlsx(frame, out / "ledger.xlsx", as_of=DEMO_AS_OF, title=title,
                                      coverage=coverage, patrols=patrols)  # fmt: skip
        lists = lists_workbook(ledger, out, as_of=DEMO_AS_OF)  # the month's three lists
        counts = ledger.status_counts()
    return DemoResult(ledger_path, map_path, xlsx_path, files, counts, notices, lists=lists)
