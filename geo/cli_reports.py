"""The ``hetu`` commands that make reports: imagery, coverage, patrols, the map, exports.

Registered on the ``hetu`` group by :mod:`geo.cli`; thin like the others (one
library call each, errors turned into one line by the group).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from geo._cli import (
    as_of_opt,
    ledger_arg,
    one_line,
    open_from_cli,
    pairs,
    settings_of,
    today,
    write_table,
)
from geo.labels import LEVELS, TEXT, label
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
    from geo.imagery import imagery_for_ledger
    from geo.labels import IMAGERY

    if not (opts["before"] or opts["after"]):
        raise click.UsageError("give --before and/or --after images")
    spec = opts.pop("bands")
    roles = pairs(tuple(spec.split(",")), name="--bands") if spec else {}
    if not all(v.isdigit() for v in roles.values()):
        raise click.BadParameter(f"{spec!r}: band numbers are integers", param_hint="--bands")
    bands_i = {k: int(v) for k, v in roles.items()} or None
    dates = pairs(opts.pop("dates"), name="--date") or None
    with open_from_cli(ctx, ledger) as led:
        run = imagery_for_ledger(led, bands=bands_i, acquired_on=dates, **opts)
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
    "--within-m", default=50.0, show_default=True, help="A bank within this of a track is surveyed."
)
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="Tracks started on or after."
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Tracks started on or before.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Per-segment table (.xlsx/.csv), or the banks (.gpkg).")  # fmt: skip
@click.pass_context
def coverage(ctx: click.Context, ledger: str, within_m: float, **opts: Any) -> None:
    """Measure shoreline surveyed per segment and township (km and %), from the tracks."""
    from geo.coverage import shoreline_coverage, shoreline_pieces, township_coverage
    from geo.labels import FIELD_WORK

    start = opts["start"].date() if opts["start"] else None
    end = opts["end"].date() if opts["end"] else None
    with open_from_cli(ctx, ledger) as led:
        tracks, segments = led.tracks(), led.segments()
        kw = {"within_m": within_m, "start": start, "end": end,
              "central_meridian": led.settings.central_meridian}  # fmt: skip
    pieces = shoreline_pieces(tracks, segments, **kw)  # computed once: table and map layer
    per_segment = shoreline_coverage(tracks, segments, pieces=pieces, **kw)
    towns = township_coverage(per_segment)
    for row in towns.itertuples(index=False):
        name = settings_of(ctx).township_name(row.township_code)
        click.echo(
            f"{name}: {row.surveyed_km:.1f} / {row.shoreline_km:.1f} km, {row.coverage_pct:.1f}%"
        )
    total = per_segment["shoreline_km"].sum()
    done = per_segment["surveyed_km"].sum()
    pct = 100 * done / total if total else 0.0
    click.echo(f"{FIELD_WORK['coverage_pct']}: {done:.1f} / {total:.1f} km, {pct:.1f}%")
    if opts["output"] and opts["output"].lower().endswith(".gpkg"):
        pieces.to_file(opts["output"], layer="shoreline", driver="GPKG", engine="pyogrio")
        click.echo(f"banks written to {opts['output']}")
    elif opts["output"]:
        write_table(per_segment.drop(columns="geometry", errors="ignore"), opts["output"])


@click.command()
@ledger_arg
@click.option(
    "--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day."
)
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Per-chief table (.xlsx/.csv)."
)
@click.pass_context
def patrols(ctx: click.Context, ledger: str, start: dt.datetime, end: dt.datetime,
            output: str | None) -> None:  # fmt: skip
    """Count chiefs' patrols in a period against the required frequency; list who is behind."""
    from geo.labels import FIELD_WORK
    from geo.patrols import behind, completion_by_level, patrols_ledger

    with open_from_cli(ctx, ledger) as led:
        per_chief = patrols_ledger(led, start=start.date(), end=end.date())
    for row in completion_by_level(per_chief).itertuples(index=False):
        click.echo(
            f"{label(LEVELS, row.level)}: {row.done} / {row.required}, {row.completion_pct:.0f}%"
        )
    late = behind(per_chief)
    click.echo(f"{FIELD_WORK['n_behind']}: {len(late)}")
    if output:
        write_table(per_chief, output)


@click.command("map")
@ledger_arg
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="HTML file.")
@click.option("--township", help="Only this township (name as in settings, or its 9-digit code).")
@click.option(
    "--offline", is_flag=True, help="Carry Leaflet inside the file: no internet but tiles."
)
@click.option("--basemap", type=click.Choice(BASEMAPS), help="Default from settings (osm).")
@as_of_opt
@click.pass_context
def map_(ctx: click.Context, ledger: str, output: str, **opts: Any) -> None:
    """Write the leadership map of LEDGER as one HTML file."""
    from geo.maps import save_map, status_map

    settings = settings_of(ctx)
    as_of = opts["as_of"] or today()
    with open_from_cli(ctx, ledger) as led:
        frame = led.status_frame(as_of=as_of)
        layers = {"ranges": led.segments(), "tracks": led.tracks(), "events": led.events(),
                  "links": led.links()}  # fmt: skip
    title = " ".join(p for p in (settings.office_name, opts["township"], TEXT["ledger"]) if p)
    m = status_map(
        frame,
        **layers,
        title=title,
        as_of=as_of,
        basemap=opts["basemap"] or settings.basemap,
        tianditu_key=settings.tianditu_key,
        township=opts["township"],
        offline=opts["offline"],
    )
    click.echo(f"map written to {save_map(m, output)}")


@click.command()
@ledger_arg
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Day of the export (default today)."
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]),
              help="End of the previous period (default: the latest export here).")  # fmt: skip
@click.pass_context
def export(ctx: click.Context, ledger: str, out_dir: str, as_of: Any, since: Any) -> None:
    """Write the 台账 into OUT_DIR: dated Excel, CSV, GeoPackage snapshot, GBK shapefile.

    Exit codes: 0 written; 1 an error (one line); 2 a usage error; 75 another export holds
    the lock (the next scheduled run retries).
    """
    from geo.schedule import ExportLockedError, export_ledger

    day = as_of.date().isoformat() if as_of else today()
    prev = since.date().isoformat() if since else None
    title = f"{settings_of(ctx).office_name} {TEXT['ledger']}"
    with open_from_cli(ctx, ledger) as led:
        try:
            result = export_ledger(led, out_dir, as_of=day, since=prev, title=title)
        except ExportLockedError as exc:
            click.echo(one_line(exc), err=True)
            ctx.exit(75)
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
@click.option("--hetu", default="hetu", show_default=True, help="Path of the hetu command.")
def schedule(ledger: str, out_dir: str, weekday: str, at: str, hetu: str) -> None:
    """Print the crontab line, systemd service and timer, and schtasks for a weekly export."""
    from geo.schedule import schedule_lines

    lines = schedule_lines(ledger, out_dir=out_dir, weekday=weekday, time=at, hetu=hetu)
    for name, text in lines.items():
        click.echo(f"# {name}\n{text.rstrip()}\n")


#: The commands of this module, in the order ``hetu --help`` lists them.
COMMANDS = [imagery, coverage, patrols, map_, export, schedule]
