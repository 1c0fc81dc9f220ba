"""The ``hetu`` command of per-river files: ``hetu river-file`` (一河一档).

Registered on the ``hetu`` group by :mod:`geo.cli.main`.
"""

from __future__ import annotations

import datetime as dt

import click

from geo.cli.common import ledger_arg, open_from_cli

__all__ = ["COMMANDS"]


@click.command("river-file")
@ledger_arg
@click.option("--river", help="One river or lake by name (as in the segments' 河湖名称).")
@click.option("--all", "every", is_flag=True, help="Every river and lake (the default).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="The file's day (default today).")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Folder.")
@click.pass_context
def river_file(ctx: click.Context, ledger: str, river: str | None, every: bool,
               as_of: dt.datetime | None, output: str) -> None:  # fmt: skip
    """Write 一河（湖）一档 per river: an HTML page and a workbook each.

    The year's figures, the segments and their chiefs, every problem, patrols and the
    shoreline surveyed; the material of the annual 一河一策 review.
    """
    from geo.reports.river_file import river_files

    if river and every:
        raise click.UsageError("give --river NAME or --all, not both")
    with open_from_cli(ctx, ledger) as led:
        files = river_files(led, output, river=river, as_of=as_of.date() if as_of else None)
    click.echo(f"{len(files) // 2} 条（个）河湖的一河一档 → {output}")
    for path in files:
        click.echo(f"  {path.name}")


COMMANDS = [river_file]
