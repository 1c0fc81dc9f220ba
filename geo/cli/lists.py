"""The ``hetu`` command of the three lists: ``hetu lists`` (问题清单, 责任清单, 任务清单).

Registered on the ``hetu`` group by :mod:`geo.cli.main`.
"""

from __future__ import annotations

import datetime as dt

import click

from geo.cli.common import ledger_arg, open_from_cli

__all__ = ["COMMANDS"]


@click.command("lists")
@ledger_arg
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Folder.")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Show the ledger as it stood at the end of this day (default the period's end, or today).",
)
@click.option("--period", help="A quarter (2026Q1) or a month (2026-04); default the as-of month.")
@click.pass_context
def lists(ctx: click.Context, ledger: str, output: str, as_of: dt.datetime | None,
          period: str | None) -> None:  # fmt: skip
    """Write the period's 问题清单, 责任清单 and 任务清单 as one workbook.

    One printable sheet each, the same problems in the same order: where and what (source,
    river, segment, township, type, state), who answers for it (the chiefs of each level,
    责任单位, 责任人) and what is to be done by when (整改措施, 时限, 完成情况).
    """
    from geo.reports.lists import lists_workbook

    with open_from_cli(ctx, ledger) as led:
        path = lists_workbook(led, output, period=period, as_of=as_of.date() if as_of else None)
    click.echo(f"问题清单、责任清单、任务清单 → {path}")


COMMANDS = [lists]
