"""The ``hetu`` commands that make reports: imagery, coverage, patrols, map, exports, dossiers.

Registered on the ``hetu`` group by :mod:`geo.cli.main`; thin like the others (one
library call each, errors turned into one line by the group).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from geo.cli.common import (
    as_of_opt,
    ledger_arg,
    no_password,
    one_line,
    open_from_cli,
    pairs,
    progress_bar,
    settings_of,
    today,
    write_report,
)
from geo.labels import CLI, TEXT
from geo.settings import BASEMAPS


@click.command()
@ledger_arg
@click.option(
    "--before", multiple=True, type=click.Path(exists=True), help="Image before (repeat)."
)
@click.option("--after", multiple=True, type=click.Path(exists=True), help="Image after (repeat).")
@click.option("--bands", help="Band roles, e.g. red=3,green=2,blue=1,nir=4.")
@click.option("--size-px", default=256, show_default=True, help="Chip size in pixels.")
@click.option("--buffer-m", default=30.0, show_default=True, help="Margin around the patch.")
@click.option("--ring-m", default=20.0, show_default=True, help="Ring width for the indicators.")
@click.option("--date", "dates", multiple=True, metavar="FILE=YYYY-MM-DD",
              help="Acquisition date of a file without one in its tags or name.")  # fmt: skip
@click.pass_context
def imagery(ctx: click.Context, ledger: str, **opts: Any) -> None:
    """Cut before/after chips for every patch and store change indicators."""
    from geo.imagery.chipping import imagery_for_ledger
    from geo.labels import IMAGERY

    if not (opts["before"] or opts["after"]):
        raise click.UsageError("give --before and/or --after images")
    spec = opts.pop("bands")
    roles = pairs(tuple(spec.split(",")), name="--bands") if spec else {}
    if not all(v.isdigit() for v in roles.values()):
        raise click.BadParameter(f"{spec!r}: band numbers are integers", param_hint="--bands")
    bands_i = {k: int(v) for k, v in roles.items()} or None
    dates = pairs(opts.pop("dates"), name="--date") or None
    with open_from_cli(ctx, ledger) as led, progress_bar(CLI["imagery"], unit="张") as progress:
        run = imagery_for_ledger(led, bands=bands_i, acquired_on=dates, progress=progress, **opts)
    for image in run.images:
        when = image.get("acquired_on") or "-"
        extra = f"  {image['error']}" if image.get("error") else ""
        click.echo(f"{IMAGERY.get(image['role'], image['role'])} {image['path']}: {when}{extra}")
    for role, counts in run.counts.items():
        parts = ", ".join(f"{IMAGERY.get(k, k)} {n}" for k, n in counts.items())
        click.echo(f"{IMAGERY.get(role, role)}: {parts}")


@click.command()
@ledger_arg
@click.option(
    "--within-m", type=float, help="A bank within this of a track is surveyed ([surveys] within_m)."
)
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="Tracks started on or after."
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Tracks started on or before.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Per-segment table (.xlsx/.csv), or the banks (.gpkg).")  # fmt: skip
@click.pass_context
def coverage(ctx: click.Context, ledger: str, within_m: float | None, **opts: Any) -> None:
    """Measure shoreline surveyed per segment and township (km and %), from the tracks."""
    from geo.field.coverage import shoreline_coverage, shoreline_pieces, township_coverage
    from geo.labels import FIELD_WORK

    start = opts["start"].date() if opts["start"] else None
    end = opts["end"].date() if opts["end"] else None
    with open_from_cli(ctx, ledger) as led:
        tracks, segments = led.tracks(), led.segments()
        within = led.settings.survey_within_m if within_m is None else within_m
        kw = {"within_m": within, "start": start, "end": end,
              "central_meridian": led.settings.central_meridian}  # fmt: skip
    pieces = shoreline_pieces(tracks, segments, **kw)  # computed once: table and map layer
    per_segment = shoreline_coverage(tracks, segments, pieces=pieces, **kw)
    towns = township_coverage(per_segment)
    for row in towns.itertuples(index=False):
        name = settings_of(ctx).township_name(row.township_code) or TEXT["no_township"]
        click.echo(
            f"{name}: {row.surveyed_km:.1f} / {row.shoreline_km:.1f} km, {row.coverage_pct:.1f}%"
        )
    total = per_segment["shoreline_km"].sum()
    done = per_segment["surveyed_km"].sum()
    pct = 100 * done / total if total else 0.0
    click.echo(f"{FIELD_WORK['coverage_pct']}: {done:.1f} / {total:.1f} km, {pct:.1f}%")
    if opts["output"] and opts["output"].lower().endswith(".gpkg"):
        from geo.ledger.gpkg import GDAL_OPTIONS

        pieces.to_file(opts["output"], layer="shoreline", driver="GPKG", engine="pyogrio",
                       dataset_options=GDAL_OPTIONS)  # fmt: skip
        click.echo(f"banks written to {opts['output']}")
    elif opts["output"]:
        write_report(per_segment.drop(columns="geometry", errors="ignore"), opts["output"])


@click.command("map")
@ledger_arg
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="HTML file.")
@click.option("--township", help="Only this township (name as in settings, or its 9-digit code).")
@click.option(
    "--cdn", is_flag=True, help="Load Leaflet from the internet instead of carrying it in the file."
)
@click.option("--offline", is_flag=True, hidden=True, help="The default; kept for old scripts.")
@click.option("--basemap", type=click.Choice(BASEMAPS), help="Default from settings (osm).")
@click.option(
    "--shoreline/--no-shoreline",
    default=True,
    show_default=True,
    help="Draw surveyed (green) and unsurveyed (red) shoreline: layer 岸线巡查.",
)
@click.option(
    "--candidates",
    type=click.Path(exists=True, dir_okay=False),
    help="Draw a self-check candidates file (hetu detect -o) as a layer of its own.",
)
@as_of_opt
@click.pass_context
def map_(ctx: click.Context, ledger: str, output: str, **opts: Any) -> None:
    """Write the leadership map of LEDGER as one HTML file.

    Leaflet is inside the file, so it opens without internet but for basemap tiles
    (none with --basemap none). FILE#patch=ID opens that patch, FILE#township=NAME
    zooms to that township.
    """
    from geo.field.coverage import shoreline_pieces
    from geo.maps.status import save_map, status_map
    from geo.matching.identity import relink

    if opts["cdn"] and opts["offline"]:
        raise click.UsageError("give --cdn (Leaflet from the internet) or --offline, not both")
    settings = settings_of(ctx)
    as_of = opts["as_of"] or today()
    with open_from_cli(ctx, ledger) as led:
        frame = led.status_frame(as_of=as_of)
        layers = {"ranges": led.segments(as_of=as_of), "tracks": led.tracks(as_of=as_of),
                  "events": led.events(as_of=as_of),
                  "links": relink(led.links(), frame)}  # fmt: skip
    if opts["shoreline"] and len(layers["ranges"]) and len(layers["tracks"]):
        layers["shoreline"] = shoreline_pieces(
            layers["tracks"], layers["ranges"], within_m=settings.survey_within_m,
            central_meridian=settings.central_meridian,
        )  # fmt: skip
    if opts["candidates"]:
        from geo.imagery.candidates import candidate_thumbnails, read_candidates

        layers["candidates"] = read_candidates(opts["candidates"])
        layers["candidate_thumbnails"] = candidate_thumbnails(
            layers["candidates"], folder=Path(opts["candidates"]).parent
        )
    title = " ".join(p for p in (settings.office_name, opts["township"], TEXT["ledger"]) if p)
    m = status_map(
        frame,
        **layers,
        title=title,
        as_of=as_of,
        basemap=opts["basemap"] or settings.basemap,
        tianditu_key=settings.tianditu_key,
        township=opts["township"],
        offline=not opts["cdn"],
        workdays=settings.calendar is not None,
    )
    click.echo(f"map written to {save_map(m, output)}")


@click.command()
@ledger_arg
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Day of the export (default today)."
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    help="End of the previous period (default: the ledger's last recorded export).",
)
@click.option("--log", "log_file", type=click.Path(dir_okay=False),
              help="Run log to append one line to (default OUT_DIR/hetu-export.log).")  # fmt: skip
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False),
    help="Province .xlsx template to fill as well (default [export] template).",
)
@click.option("--column-map", type=click.Path(exists=True, dir_okay=False),
              help="TOML column map of the template (default [export] column_map).")  # fmt: skip
@click.pass_context
def export(ctx: click.Context, ledger: str, out_dir: str, as_of: Any, since: Any,
           log_file: str | None, template: str | None, column_map: str | None) -> None:  # fmt: skip
    """Write the 台账 into OUT_DIR: dated Excel, CSV, GeoPackage snapshot, GBK shapefile.

    Each run appends a line to the log and is recorded in the ledger. Exit codes
    (geo.reports.exports.EXIT_CODES): 0 written; 1 an error (one line); 2 a usage error;
    3 another export holds the lock (nothing written; the next scheduled run catches up).
    """
    from geo.reports.exports import EXIT_CODES, ExportLockedError, export_ledger
    from geo.reports.province_template import load_column_map

    settings = settings_of(ctx)
    template = template or settings.export_template
    column_map = column_map or settings.export_column_map
    if bool(template) != bool(column_map):
        raise click.UsageError(
            "a province template needs its column map: give --template and --column-map "
            "(or [export] template and column_map in the settings)"
        )
    cmap = load_column_map(column_map) if column_map else None
    day = as_of.date().isoformat() if as_of else today()
    prev = since.date().isoformat() if since else None
    title = f"{settings.office_name} {TEXT['ledger']}"
    log = log_file or str(Path(out_dir) / "hetu-export.log")
    with open_from_cli(ctx, ledger) as led, progress_bar(CLI["export"], unit="件") as progress:
        try:
            result = export_ledger(led, out_dir, as_of=day, since=prev, title=title,
                                   log_file=log, template=template, column_map=cmap,
                                   progress=progress)  # fmt: skip
        except ExportLockedError as exc:
            click.echo(one_line(exc), err=True)
            ctx.exit(EXIT_CODES["locked"])
    for path in result.files:
        click.echo(str(path))
    period = f"since {result.since or '-'}: {result.new} new, {result.closed} closed"
    click.echo(f"{result.rows} patches; {period}")


@click.command()
@ledger_arg
@click.option(
    "-o", "--output", "out_dir", required=True, help="Folder the weekly export writes to."
)
@click.option("--weekday", default="MON", show_default=True, help="MON … SUN.")
@click.option("--time", "at", default="08:00", show_default=True, help="HH:MM, Asia/Shanghai.")
@click.option("--hetu", help="Path of the hetu command (default: the one running, absolute).")
@click.option(
    "--install",
    type=click.Choice(["auto", "systemd", "cron", "windows"]),
    is_flag=False,
    flag_value="auto",
    default=None,
    help="Also install it: systemd user units, a crontab line (replacing this "
    "ledger's earlier one), or print the schtasks command (Windows).",
)
@click.option("--unit-dir", type=click.Path(file_okay=False),
              help="Folder of the systemd units (default ~/.config/systemd/user).")  # fmt: skip
@click.pass_context
def schedule(ctx: click.Context, ledger: str, out_dir: str, weekday: str, at: str,
             hetu: str | None, install: str | None, unit_dir: str | None) -> None:  # fmt: skip
    """Print (and with --install, install) the weekly export: cron, systemd timer, schtasks.

    The lines run this hetu by its absolute path, in this working directory, with
    --settings FILE when this command was given one, so the scheduled run equals the
    manual one (a ledger that stores its settings needs none: hetu settings).
    """
    import os

    from geo.reports.timers import install_schedule, running_hetu, schedule_lines

    no_password(ledger)  # a crontab line would keep it
    same = {"hetu": hetu or running_hetu(), "workdir": os.getcwd(),
            "settings": ctx.find_root().obj.get("settings_path")}  # fmt: skip
    if install is None:
        lines = schedule_lines(ledger, out_dir=out_dir, weekday=weekday, time=at, **same)
        for name, text in lines.items():
            click.echo(f"# {name}\n{text.rstrip()}\n")
        return
    try:
        done = install_schedule(ledger, out_dir=out_dir, target=install, weekday=weekday,
                                time=at, unit_dir=unit_dir, **same)  # fmt: skip
    except ValueError as exc:
        raise click.UsageError(one_line(exc)) from None
    for path in done.files:
        click.echo(f"wrote {path}")
    if done.crontab is not None:
        click.echo(f"crontab installed:\n{done.crontab.rstrip()}")
    if done.command:
        click.echo(f"now run:\n{done.command}")


@click.command()
@ledger_arg
@click.argument("patch_ids", nargs=-1, required=True, metavar="PATCH_ID...")
@click.option("-o", "--out", "out_dir", default="dossiers", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the pages.")  # fmt: skip
@click.option("--pdf/--no-pdf", default=None, help="Require or skip PDFs (default: if Chromium).")
@as_of_opt
@click.pass_context
def dossier(ctx: click.Context, ledger: str, patch_ids: tuple[str, ...], out_dir: str,
            pdf: bool | None, as_of: str | None) -> None:  # fmt: skip
    """Write each PATCH_ID's dossier (一斑一档): map, imagery, history, evidence; HTML and PDF."""
    from geo.reports.dossier import write_dossiers

    with open_from_cli(ctx, ledger) as led, progress_bar(CLI["dossier"], unit="件") as progress:
        paths = write_dossiers(led, patch_ids, out_dir, pdf=pdf, as_of=as_of, progress=progress)
    for path in paths:
        click.echo(str(path))


@click.command()
@ledger_arg
@click.option("--quarter", metavar="YYYYQn", help="The quarter assessed, e.g. 2026Q2.")
@click.option("--year", type=int, help="The year assessed as one period (the 1 of 4+1).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First day (with --end).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day (with --start).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the table (.xlsx/.csv)."
)
@as_of_opt
@click.pass_context
def assess(ctx: click.Context, ledger: str, quarter: str | None, year: int | None,
           start: dt.datetime | None, end: dt.datetime | None, output: str | None,
           as_of: str | None) -> None:  # fmt: skip
    """Score each township over a quarter or period (4+1 考核), with the points per component.

    The formula is [assessment] in hetu.toml (see geo.reports.assessment.AssessmentRule).
    """
    import math

    import pandas as pd

    from geo.labels import ASSESSMENT
    from geo.reports.assessment import assess as assess_townships
    from geo.reports.assessment import quarter_bounds

    if sum(map(bool, (quarter, year, start or end))) > 1:
        raise click.UsageError("give one of --quarter, --year or --start/--end")
    if year:
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        quarter = str(year)  # named so in the sheet's title (…年度)
    elif quarter:
        first, last = quarter_bounds(quarter)
    elif start and end:
        first, last = start.date(), end.date()
    else:
        raise click.UsageError("give --quarter (e.g. 2026Q2), or both --start and --end")
    sheet = bool(output and output.lower().endswith(".xlsx"))
    with open_from_cli(ctx, ledger) as led:
        settings = led.settings
        table = assess_townships(led, start=first, end=last, as_of=as_of, rule=settings.assessment)
        if settings.township_classes:  # ranked within each class (分类考核)
            from geo.reports.assessment import in_classes

            table = in_classes(table, settings.township_classes)
        if sheet:  # the second sheet: the same counts per 问题来源
            from geo.reports.assessment import assess_by_source

            sources = assess_by_source(led, start=first, end=last, as_of=as_of)
    if as_of is not None:  # a period not over on that day is assessed up to it
        last = min(last, dt.date.fromisoformat(as_of))
    click.echo(f"{first} – {last}")
    for row in table.itertuples(index=False):
        rate = "-" if math.isnan(row.closure_rate) else f"{row.closure_rate:.0%}"
        rank = "-" if row.rank is pd.NA else row.rank  # 未明确乡镇 is not ranked
        group = f"{row[0]} " if table.columns[0] == "class" else ""
        click.echo(
            f"{group}{rank:>3} {row.township:<8} {ASSESSMENT['score']} {row.score:6.2f}  "
            f"{ASSESSMENT['closure_rate']} {rate}  "
            f"{ASSESSMENT['overdue_patch_days']} {row.overdue_patch_days}  "
            f"{ASSESSMENT['recurrences']} {row.recurrences}  {row.grade}"
        )
    if sheet:  # a titled sheet with its 评分说明
        from geo.reports.assessment import assessment_title, write_assessment_xlsx

        title, period = assessment_title(settings.office_name, first, last, quarter)
        written = write_assessment_xlsx(table, output, title=title, period=period,
                                        rule=settings.assessment,
                                        workdays=settings.calendar is not None,
                                        by_source=sources)  # fmt: skip
        click.echo(f"{len(table)} row(s) written to {written}")
    elif output:
        write_report(table.rename(columns=ASSESSMENT), output)


#: The commands of this module, in the order ``hetu --help`` lists them.
COMMANDS = [imagery, coverage, map_, export, schedule, dossier, assess]
