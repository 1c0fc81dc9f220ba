"""The ``hetu`` command line: one thin command per library call.

Library errors (:class:`geo.errors.HetuError`) and file errors become a
one-line message on stderr and exit code 1 (``--debug`` prints the traceback
first); usage errors exit 2. The library's log and warnings are shown on
stderr (warnings by default, ``-v``/``-vv`` more, ``-q`` errors only), and long
work draws a progress bar there when stderr is a terminal. Nothing here holds
logic the library lacks: each command parses options, calls one function, and
prints its result.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click

from geo import __version__
from geo.cli.bulletin import COMMANDS as BULLETIN_COMMANDS
from geo.cli.common import (
    Group,
    as_of_opt,
    end_output,
    happened,
    iso_day,
    ledger_arg,
    location,
    open_from_cli,
    progress_bar,
    settings_of,
    show_log,
    write_report,
)
from geo.cli.detect import COMMANDS as DETECT_COMMANDS
from geo.cli.ingest import COMMANDS as INGEST_COMMANDS
from geo.cli.ingest import echo_lines, echo_reasons, place_problems
from geo.cli.integrity import COMMANDS as INTEGRITY_COMMANDS
from geo.cli.lists import COMMANDS as LIST_COMMANDS
from geo.cli.patrols import COMMANDS as PATROL_COMMANDS
from geo.cli.problems import COMMANDS as PROBLEM_COMMANDS
from geo.cli.reports import COMMANDS
from geo.cli.rivers import COMMANDS as RIVER_COMMANDS
from geo.cli.settings import COMMANDS as SETTINGS_COMMANDS
from geo.cli.verification import COMMANDS as VERIFICATION_COMMANDS
from geo.labels import CLI, COLUMNS, ISSUE_TYPES, RELATIONS, STATES, TEXT, label
from geo.policy.lifecycle import EVIDENCE_KINDS
from geo.settings import load_settings


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hetu")
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False),
    envvar="HETU_SETTINGS",
    help="Office settings file for this command, overriding those stored in the ledger "
    "(else ./hetu.toml, else defaults); env HETU_SETTINGS.",
)
@click.option("-v", "--verbose", count=True, help="Say more on stderr: -v steps, -vv details.")
@click.option("-q", "--quiet", is_flag=True, help="Errors only on stderr: no warnings, no bars.")
@click.option("--debug", is_flag=True, help="On an error, print its traceback too.")
@click.pass_context
def cli(
    ctx: click.Context, settings_path: str | None, verbose: int, quiet: bool, debug: bool
) -> None:
    """Hetu (河图): track river and lake remote-sensing patches from issue to close-out."""
    if verbose and quiet:
        raise click.UsageError("give -v or -q, not both")
    show_log(ctx, verbose=verbose, quiet=quiet)
    ctx.obj = {"debug": debug, "quiet": quiet}
    # explicit settings override the ledger's stored ones; None: see settings_of
    ctx.obj["settings"] = load_settings(settings_path) if settings_path else None
    ctx.obj["settings_path"] = settings_path


@cli.command()
@ledger_arg
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(exists=True, dir_okay=False),
    help="The office's hetu.toml to store in the ledger (default: hetu --settings, "
    "HETU_SETTINGS, else ./hetu.toml when present).",
)
@click.pass_context
def init(ctx: click.Context, ledger: str, settings_file: str | None) -> None:
    """Create a new, empty ledger at LEDGER, storing the office settings in it.

    LEDGER is a GeoPackage file (``county.gpkg``), or for a multi-user office a
    PostgreSQL database with PostGIS: ``env:HETU_DATABASE_URL`` reads its
    ``postgresql://user@host/db`` URL from that environment variable. Every later
    command on LEDGER uses the stored settings, from any folder (``hetu settings``
    shows and replaces them; ``--settings`` overrides them for one command).
    """
    from pathlib import Path

    from geo.ledger.office import read_settings_file
    from geo.ledger.store import Ledger

    chosen = settings_file or ctx.find_root().obj.get("settings_path")
    if chosen is None and Path("hetu.toml").is_file():
        chosen = "hetu.toml"
    settings = read_settings_file(chosen)[2] if chosen else None  # checked before creating
    with Ledger.create(location(ledger), settings=settings) as led:
        click.echo(f"created {led.name} ({led.backend}, schema {led.schema_version})")
        if chosen is None:
            click.echo(CLI["settings_none"].format(ledger=ledger), err=True)
            return
        version = led.store_settings(chosen)
        stored = led.settings_record()
    click.echo(CLI["settings_stored"].format(v=version, ledger=led.name, source=stored.source,
                                             sha=stored.sha256[:12]))  # fmt: skip


@cli.command("copy-ledger")
@click.argument("source", type=click.Path(dir_okay=False))
@click.argument("destination", type=click.Path(dir_okay=False))
@click.pass_context
def copy_ledger(ctx: click.Context, source: str, destination: str) -> None:
    """Copy a whole ledger: GeoPackage → PostGIS and back, history and evidence included.

    DESTINATION must be new (a file that does not exist, or a database without a
    ledger). The copy is verified (hash chain, lifecycle) before it is kept.
    """
    from geo.ledger.transfer import copy_ledger as copy

    # the copy keeps the source's stored settings; only --settings overrides them
    report = copy(location(source), location(destination), settings=ctx.find_root().obj["settings"])
    rows = ", ".join(f"{t} {n}" for t, n in report.rows.items() if n)
    click.echo(f"copied {report.source} → {report.destination}: {rows}; {report.files} file(s)")
    if report.missing_files:
        click.echo(
            f"{len(report.missing_files)} attachment file(s) were not in the source's store: "
            + ", ".join(report.missing_files[:5]),
            err=True,
        )


@cli.command()
@ledger_arg
@click.argument(
    "kind", type=click.Choice(["patches", "ranges", "chiefs", "surveys", "admin", "problems"])
)
@click.argument("file", type=click.Path(exists=True))
@click.option("--batch", "batch_id", help="Batch id of a patches file (default: the file name).")
@click.option(
    "--issued-on",
    metavar="DATE",
    callback=happened,
    help="Issue date of the batch, where the file has none.",
)
@click.option(
    "--verify-by", metavar="DATE", callback=iso_day, help="核查 deadline of a patches batch."
)
@click.option("--encoding", help="Text encoding, overriding the sniffed one (e.g. gb18030).")
@click.option("--crs", help="CRS of the file, overriding the .prj or the inferred one (EPSG:4547).")
@click.option("--layer", help="Layer of a multi-layer file, or the member of a zip.")
@click.option(
    "--source-crs",
    type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"]),
    help="Declare Gaode (gcj02) or Baidu (bd09) coordinates: converted to CGCS2000.",
)
@click.option(
    "--profile", type=click.Path(exists=True, dir_okay=False), help="Field alias profile (TOML)."
)
@click.option("--x-col", help="Column holding X (or longitude) in a CSV/Excel table.")
@click.option("--y-col", help="Column holding Y (or latitude) in a CSV/Excel table.")
@click.option(
    "--sheet", help="Excel sheet: name or number (1 = first); default the first that fits KIND."
)
@click.option("--surveyor", help="Surveys: who walked them, overriding the file's own name.")
@click.option("--header-row", type=click.IntRange(min=1), metavar="N",
              help="CSV/Excel: the column names are in row N (default: found).")  # fmt: skip
@click.option(
    "--point-area",
    metavar="FIELD|M2",
    help="Patches given as points: circles of the area in FIELD (e.g. TBMJ, 面积（亩）), or of "
    "M2; square metres unless the column or the value names its unit (3亩, 0.2公顷).",
)
@click.option(
    "--point-buffer", type=float, metavar="M", help="Patches given as points: circles of M metres."
)
@click.option(
    "--source", help="Problems: 12345|举报|暗访|督查|上级交办|巡河|媒体|其他 (else each 来源)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the import record as JSON.")
@click.pass_context
def ingest(
    ctx: click.Context, ledger: str, kind: str, file: str, as_json: bool, **opts: Any
) -> None:
    """Read FILE of KIND (patches, ranges, chiefs, surveys, admin) into LEDGER, all or nothing.

    admin: township and village boundaries (code + name), which name townships the
    settings lack and place patches no code or segment places (run hetu match after).
    For surveys FILE may be GPX, KML/KMZ, a patrol app's CSV/Excel (one row per GPS
    fix) or a folder of geotagged photos; surveyors are checked against the chiefs.
    A workbook is read from its first sheet that fits KIND (--sheet chooses); patches
    given as points need --point-area or --point-buffer. The reasons features were
    quarantined are listed with counts (hetu quarantine lists the features); a file of
    which nothing can be kept exits 1 and writes nothing.

    problems: cases of 12345, 举报, 暗访 … (--source, else each row's 来源), each with
    its source's 办结 deadline, matched at once (docs/sources.md).
    """
    from geo.ledger.loading import ingest_file, quarantine_report, reason_counts
    from geo.records import record_as_dict

    if opts["point_area"] is not None and opts["point_buffer"] is not None:
        raise click.UsageError("give --point-area or --point-buffer, not both")

    with open_from_cli(ctx, ledger) as led, progress_bar(CLI["ingest"]) as progress:
        rec = ingest_file(led, kind, file, progress=progress, **opts)
        kept_aside = quarantine_report(led, import_id=rec.import_id)["reason"]
        placed = place_problems(led, rec) if kind == "problems" else []
    reasons = reason_counts(kept_aside)
    if as_json:
        out = {**record_as_dict(rec), "quarantine": reasons}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if rec.reused:
        click.echo(f"{file}: already ingested ({rec.imported_at}); nothing changed")
        return
    click.echo(
        f"{file}: {rec.n_read} read, {rec.n_kept} kept, {rec.n_quarantined} quarantined"
        + (f" into batch {rec.batch_id}" if rec.batch_id else "")
    )
    click.echo(f"  encoding: {rec.encoding}\n  crs: {rec.crs}")
    for note in rec.decisions:
        click.echo(f"  {note}")
    echo_reasons(reasons)
    echo_lines(placed)


@cli.command()
@ledger_arg
@click.option("--near-m", type=float, help="Distance for 'near' (default from settings, 1000 m).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option(
    "--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://HOST:8786) for --engine dask."
)
@click.option("--no-link", is_flag=True, help="Do not link patches across batches.")
@click.option(
    "--gaps", type=click.Path(dir_okay=False), help="Write the boundary-gap report (.csv/.xlsx)."
)
@click.option(
    "--chain", type=click.Path(dir_okay=False), help="Write the responsible chains (.csv/.xlsx)."
)
@click.option(
    "--findings", type=click.Path(dir_okay=False), help="Write survey findings near patches."
)
@click.option("--within-m", default=50.0, show_default=True, help="Distance for --findings.")
@click.option("--conflicts", type=click.Path(dir_okay=False),
              help="Write township conflicts (.csv/.xlsx) instead of printing them.")  # fmt: skip
@click.pass_context
def match(ctx: click.Context, ledger: str, **opts: Any) -> None:
    """Match every patch in LEDGER to its range, segment and chiefs; link it across batches.

    Also places patches in the township/village boundaries the ledger holds (hetu
    ingest LEDGER admin FILE), and reports the patches whose own township code differs
    from their segment's: their count, and the list (printed, or --conflicts FILE).
    """
    from geo.labels import MATCHING
    from geo.matching.areas import township_conflicts
    from geo.matching.assignments import match_ledger

    client = None
    if opts["scheduler"]:
        if opts["engine"] != "dask":
            raise click.UsageError("--scheduler needs --engine dask")
        from distributed import Client

        client = Client(opts["scheduler"])
    try:
        with open_from_cli(ctx, ledger) as led:
            result = match_ledger(
                led, near_m=opts["near_m"], engine=opts["engine"], link=not opts["no_link"]
            )
            links = led.links()
            reports = {}
            if opts["gaps"]:
                from geo.matching.gaps import gaps_ledger

                reports[opts["gaps"]] = gaps_ledger(led)
            if opts["chain"]:
                from geo.matching.chiefs import chain_ledger

                reports[opts["chain"]] = chain_ledger(led)
            if opts["findings"]:
                from geo.matching.findings import findings_ledger

                reports[opts["findings"]] = findings_ledger(led, within_m=opts["within_m"])
            conflicts = township_conflicts(led.status_frame())
    finally:
        if client is not None:
            client.close()
    primary = result[result["primary"]]
    for relation, n in primary["relation"].value_counts().items():
        click.echo(f"{label(RELATIONS, relation)} {relation}: {n}")
    for kind, n in links["kind"].value_counts().items() if len(links) else []:
        click.echo(f"{MATCHING.get(kind, kind)} {kind}: {n}")
    for path, frame in reports.items():
        write_report(frame, path)
    click.echo(f"{COLUMNS['township_check']} conflicts: {len(conflicts)}")
    if opts["conflicts"]:
        write_report(conflicts, opts["conflicts"])
        return
    for row in conflicts.itertuples(index=False):
        click.echo(f"  {row.patch_id} {row.segment_id}: {row.township_check}")


@cli.command("survey-patches")
@ledger_arg
@click.option("--within-m", type=float, help="A finding this close to a patch is linked (50 m).")
@click.option("--apply", "apply_", is_flag=True, help="Add them to the ledger (one batch a day).")
@click.option("--actor", default="巡查", show_default=True, help="Who issues them (recorded).")
@click.pass_context
def survey_patches(
    ctx: click.Context, ledger: str, within_m: float | None, apply_: bool, actor: str
) -> None:
    """List survey findings near no patch as new ledger items (source: survey); --apply adds them.

    Each is a small square around the finding, id SV-<day>-<n>, in batch SV-<day>;
    findings near a patch are links, not items. Running it again adds nothing twice.
    """
    from geo.field.surveys import survey_patches as make
    from geo.ingest.readers import file_sha256_of_text
    from geo.records import ImportRecord

    with open_from_cli(ctx, ledger) as led:
        kw = {} if within_m is None else {"within_m": within_m}
        new = make(led.findings(), led.patches(), segments=led.segments(),
                   central_meridian=led.settings.central_meridian, **kw)  # fmt: skip
        for row in new.itertuples(index=False):
            click.echo(f"{row.patch_id} {label(ISSUE_TYPES, row.issue_type)} {row.detected_on}")
        if not apply_:
            click.echo(f"{len(new)} new item(s); --apply adds them")
            return
        for batch, part in new.groupby("batch_id", sort=True):
            digest = file_sha256_of_text("|".join(sorted(part["attrs"])))
            rec = ImportRecord(kind="patches", file=f"survey findings {batch}", sha256=digest,
                               batch_id=str(batch), n_read=len(part), n_kept=len(part))  # fmt: skip
            led.add_patches(part, rec, actor=actor)
    click.echo(f"{len(new)} item(s) added; run `hetu match` to place them on segments")


@cli.command()
@ledger_arg
@as_of_opt
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of counts per state.")
@click.option("--detail", is_flag=True, help="Also open, overdue and the counts per township.")
@click.pass_context
def status(ctx: click.Context, ledger: str, as_of: str | None, as_json: bool,
           detail: bool) -> None:  # fmt: skip
    """Print how many patches are in each state, and how many are still open (未清零).

    Open counts 挂账监管 (monitored) too: 动态清零 is not reached while such items remain.
    With --json --detail: {"states": {...}, "open": N, "overdue": N, "by_township": {...}},
    and "overdue_by_stage" (verify, rectify, review), "verify_rate", "rectify_rate".
    """
    day = as_of
    with open_from_cli(ctx, ledger) as led:
        if detail:
            summary = led.status_summary(as_of=day)
            counts, open_count = summary["states"], summary["open"]
        else:
            counts, open_count = led.status_counts(as_of=day), led.open_count(as_of=day)
    if as_json:
        click.echo(json.dumps(summary if detail else counts, ensure_ascii=False))
        return
    if day is not None:
        click.echo(f"{TEXT['as_of']} {day}")
    for state, n in counts.items():
        click.echo(f"{label(STATES, state):<8}{state:<12}{n:>6}")
    click.echo(f"{COLUMNS['total']:<8}{'total':<12}{sum(counts.values()):>6}")
    click.echo(f"{TEXT['open']:<8}{'open':<12}{open_count:>6}")
    if detail:
        click.echo(f"{STATES['overdue']:<8}{'overdue':<12}{summary['overdue']:>6}")
        for key in ("verify_rate", "rectify_rate"):  # 核查完成率, 整改销号率 (issue 17)
            rate = summary[key]
            click.echo(f"{COLUMNS[key]:<6}{key:<12}{'-' if rate is None else f'{rate:.1%}':>8}")
        for town, n in summary["by_township"].items():
            click.echo(f"{town}: {n['total']} / {TEXT['open']} {n['open']} / "
                       f"{STATES['overdue']} {n['overdue']}")  # fmt: skip


@cli.command()
@ledger_arg
@click.argument("patch_ids", nargs=-1, required=True, metavar="PATCH_ID...")
@click.option("--to", "to_state", required=True,
              help="Target state: its id or its Chinese name, e.g. closed or 已销号.")  # fmt: skip
@click.option("--actor", required=True, help="Who makes the change (recorded).")
@click.option("--at", callback=happened, help="When (ISO date-time, Asia/Shanghai; default now).")
@click.option("--deadline", help="Deadline (YYYY-MM-DD) for a state that has one.")
@click.option("--note", help="Free text recorded on the event.")
@click.option("--propose", is_flag=True, help="A township's proposal: 待审核 (or 申请销号).")
@click.pass_context
def transition(ctx: click.Context, ledger: str, patch_ids: tuple[str, ...], **opts: Any) -> None:
    """Move PATCH_IDs to a new state, all or nothing; an illegal move is refused.

    A closure whose after-photos were taken beyond [evidence] max_distance_m is
    warned about, or refused with [evidence] far_photo = "refuse".
    """
    from geo.field.evidence import transition_checked
    from geo.field.fieldwork import state_named

    text = opts.pop("to_state")
    with open_from_cli(ctx, ledger) as led:
        lc = led.lifecycle
        to_state = state_named(lc, text)
        if to_state is None:
            names = ", ".join(f"{lc.label(s)} ({s})" for s in lc.states)
            raise click.BadParameter(f"{text!r} is not a state; states: {names}", param_hint="--to")
        if opts.pop("propose"):  # issue 17: the county decides with hetu review
            from geo.cli.verification import propose_from_cli

            propose_from_cli(led, list(patch_ids), to_state, **opts)
            return
        n = transition_checked(led, list(patch_ids), to_state, **opts)
    click.echo(f"{n} patch(es) now {to_state} ({lc.label(to_state)})")


@cli.command()
@ledger_arg
@click.argument("patch_id")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", required=True, type=click.Choice(EVIDENCE_KINDS), help="Kind of evidence.")
@click.option("--actor", required=True, help="Who provides it (recorded).")
@click.option("--at", callback=happened, help="When (ISO date-time; default now).")
@click.pass_context
def attach(
    ctx: click.Context, ledger: str, patch_id: str, files: tuple[str, ...], **opts: Any
) -> None:
    """Attach evidence FILES (photos, permits) to PATCH_ID; photos are checked by EXIF.

    The photo kinds must be images (JPEG, PNG, HEIC…); a PDF is a permit or a document.
    """
    from geo.field.evidence import attach_evidence

    with open_from_cli(ctx, ledger) as led:
        for file in files:
            sha, meta = attach_evidence(led, patch_id, file, **opts)
            checks = meta.get("checks") or {}
            click.echo(f"{file}: {sha[:12]} {' '.join(f'{k}={v}' for k, v in checks.items())}")


@cli.command()
@ledger_arg
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="Sheet (.xlsx)."
)
@click.option("--seed", required=True, type=int, help="Seed of the draw (record it).")
@click.option("--fraction", default=0.2, show_default=True, help="Share drawn per stratum.")
@click.option("--actor", default=TEXT["auditor"], show_default=True, help="Who audits.")
@as_of_opt
@click.pass_context
def audit(ctx: click.Context, ledger: str, output: str, seed: int, fraction: float, actor: str,
          as_of: str | None) -> None:  # fmt: skip
    """Draw the upper level's sample audit (抽查复核) of dismissed and closed patches."""
    from geo.field.audit import audit_sample, write_audit_sheet

    with open_from_cli(ctx, ledger) as led:
        sample = audit_sample(led.status_frame(as_of=as_of), seed=seed, fraction=fraction)
        if len(sample):
            led.record(list(sample["patch_id"]), "audit_sample", actor=actor, note=f"seed={seed}")
    path = write_audit_sheet(sample, output, seed=seed)
    click.echo(f"{len(sample)} patch(es) drawn; sheet written to {path}")


@cli.command("audit-apply")
@ledger_arg
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--actor", default=TEXT["auditor"], show_default=True, help="Who audited.")
@click.pass_context
def audit_apply(ctx: click.Context, ledger: str, file: str, actor: str) -> None:
    """Apply a filled audit sheet: 维持 keeps, 改判 overturns; all or nothing."""
    from geo.field.audit import apply_audit, read_audit_results

    results = read_audit_results(file)
    with open_from_cli(ctx, ledger) as led:
        problems = apply_audit(led, results, actor=actor)
    if problems:
        for p in problems:
            click.echo(f"row {p.row} {p.patch_id} {p.field}: {p.reason}", err=True)
        raise click.ClickException(f"{len(problems)} row(s) refused; nothing was applied")
    click.echo(f"{results['result'].notna().sum()} audit result(s) applied")


@cli.command()
@ledger_arg
@click.option("--as-of", required=True, metavar="DATE", type=click.DateTime(["%Y-%m-%d"]),
              help="Day to escalate (YYYY-MM-DD).")  # fmt: skip
@click.option("-o", "--out", "out_dir", default="notices", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the notices.")  # fmt: skip
@click.option("--actor", help="Who issues (recorded; default the office's name).")
@click.option("--template", type=click.Path(exists=True, dir_okay=False),
              help="Notice template (overrides [escalation] template).")  # fmt: skip
@click.option("--pdf/--no-pdf", default=None, help="Require or skip PDFs (default: if Chromium).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def escalate(
    ctx: click.Context, ledger: str, as_of: dt.datetime, as_json: bool, **opts: Any
) -> None:
    """Issue the escalation notices due on a day (提示卡/通知单/督办函/整改令); idempotent."""
    from geo.labels import ACTIONS, NOTICE
    from geo.reports.escalation import escalate as issue

    settings = settings_of(ctx)
    opts["template"] = opts["template"] or settings.notice_template
    opts["pdf"] = settings.notice_pdf if opts["pdf"] is None else opts["pdf"]
    with open_from_cli(ctx, ledger) as led, progress_bar(CLI["pdf"], unit="份") as progress:
        res = issue(led, as_of=as_of.date(), progress=progress, **opts)
    if as_json:
        out = {
            "as_of": str(res.as_of),
            "events": res.events,
            "documents": [str(p) for p in res.documents],
            "regenerated": [str(p) for p in res.regenerated],
            "pdfs": [str(p) for p in res.pdfs],
            "pdf_converter": res.pdf_converter,
            "pdf_failed": [str(p) for p in res.pdf_failed],
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for path in res.regenerated:
        click.echo(f"{NOTICE['regenerated']}: {path}")
    if not res.events:
        click.echo(f"{res.as_of}: nothing due")
        return
    for (action, name), group in res.due.groupby(["action", "chief_name"], sort=False):
        click.echo(f"{ACTIONS.get(action, action)} → {name or '-'}: {len(group)} patch(es)")
    for path in res.documents:
        click.echo(f"  {path}")
    for path in res.pdf_failed:
        click.echo(f"  PDF failed: {path}", err=True)
    click.echo(
        f"{res.as_of}: {res.events} events, {len(res.documents)} notices, {len(res.pdfs)} PDFs"
    )


@cli.command()
@ledger_arg
@click.option(
    "-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder."
)
@click.option("--by", default="township", show_default=True, help="One package per value of this.")
@click.option("--state", "states", multiple=True, help="Only patches in this state (repeatable).")
@click.option("--overwrite", is_flag=True, help="Replace existing sheets (they may hold entries).")
@as_of_opt
@click.pass_context
def tasks(ctx: click.Context, ledger: str, out_dir: str, **opts: Any) -> None:
    """Write field task packages (Excel sheet, QField GeoPackage, photos/) per township."""
    from geo.field.tasks import write_tasks

    states = opts.pop("states") or None
    with open_from_cli(ctx, ledger) as led:
        folders = write_tasks(led, out_dir, states=states, **opts)
    for folder in folders:
        click.echo(str(folder))


@cli.command()
@ledger_arg
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--actor", help="Who reports, where a row has no 填报人.")
@click.option("--report", type=click.Path(dir_okay=False), help="Where to write rejected rows.")
@click.option("--dry-run", is_flag=True, help="Only check the sheet.")
@click.option("--decide", "propose", flag_value=False, default=True,
              help="The rows are the county's own decisions (default: proposals).")  # fmt: skip
@click.pass_context
def apply(ctx: click.Context, ledger: str, file: str, **opts: Any) -> None:
    """Apply a filled field sheet: every row or none; rejected rows go to a report (exit 1).

    A township's verdicts wait in 待审核 and its 已销号 is 申请销号, for hetu review.
    """
    from geo.field.fieldwork import apply_sheet

    with open_from_cli(ctx, ledger) as led:
        result = apply_sheet(led, file, **opts)
    if not result.ok:
        rows = result.problems["row"].nunique()
        click.echo(
            f"{len(result.problems)} problem(s) in {rows} row(s); nothing applied; "
            f"report: {result.report_path}",
            err=True,
        )
        raise click.exceptions.Exit(1)
    verb = "checked" if opts["dry_run"] else "applied"
    click.echo(f"{verb} {result.applied} row(s), {result.skipped} already applied")


@cli.command()
@click.option("--out", "out_dir", default="out/demo", show_default=True, help="Output directory.")
@click.option("--data", "data_dir", default="data/demo", show_default=True, help="Input files.")
@click.option("--seed", default=2025, show_default=True, help="Seed of the demo county.")
def demo(out_dir: str, data_dir: str, seed: int) -> None:
    """Build the demo county and run the whole flow: files → ledger → map and Excel."""
    from geo.demo.flow import run_demo

    result = run_demo(
        out_dir=out_dir,
        data_dir=data_dir,
        seed=seed,
        on_step=lambda msg: click.echo(f"· {msg}", err=True),
    )
    for state, n in result.counts.items():
        click.echo(f"  {label(STATES, state)} {state}: {n}")
    click.echo(f"ledger: {result.ledger.resolve()}")
    click.echo(f"map:    {result.map.resolve()}")
    click.echo(f"excel:  {result.xlsx.resolve()}")
    if result.lists:
        click.echo(f"lists:  {result.lists.resolve()}")


for _command in [*COMMANDS, *SETTINGS_COMMANDS]:
    cli.add_command(_command)
for _command in INGEST_COMMANDS:
    cli.add_command(_command)
for _command in [*INTEGRITY_COMMANDS, *BULLETIN_COMMANDS]:
    cli.add_command(_command)
for _command in [*PATROL_COMMANDS, *RIVER_COMMANDS]:
    cli.add_command(_command)
for _command in LIST_COMMANDS:  # 问题清单, 责任清单, 任务清单 (issue 18.2)
    cli.add_command(_command)
for _command in VERIFICATION_COMMANDS:  # 认定, review, responsibility, 回头看 (issue 17)
    cli.add_command(_command)
for _command in DETECT_COMMANDS:
    cli.add_command(_command)
for _command in PROBLEM_COMMANDS:  # 反馈 and 回访 of problems from a source (issue 18)
    cli.add_command(_command)


def main() -> None:
    """Run the command line (the ``hetu`` console script)."""
    try:
        cli(prog_name="hetu")
    finally:
        end_output()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
