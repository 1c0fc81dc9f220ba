"""The ``hetu`` commands of chiefs' patrols: ``hetu patrols`` and ``hetu patrol-cards``.

Registered on the ``hetu`` group by :mod:`geo.cli.main`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import click

from geo.cli.common import ledger_arg, open_from_cli, write_report
from geo.labels import CARDS, FIELD_WORK, LEVELS, label

__all__ = ["COMMANDS"]


@click.command()
@ledger_arg
@click.option(
    "--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day."
)
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Per chief and river (.xlsx/.csv); the tracks not counted go beside it (…_未计入轨迹).",
)
@click.pass_context
def patrols(ctx: click.Context, ledger: str, start: dt.datetime, end: dt.datetime,
            output: str | None) -> None:  # fmt: skip
    """Count chiefs' patrols per river against the rules ([patrols]); list who is behind and why.

    A period (week, 旬, month, quarter) is judged in the report it ends in; a track counts
    for a river when it is long enough, lasts long enough and comes near the chief's
    segment; every track that did not count is listed with its reason.
    """
    from geo.field.patrols import behind, completion_by_level, patrol_report_ledger

    with open_from_cli(ctx, ledger) as led:
        report = patrol_report_ledger(led, start=start.date(), end=end.date())
        rules = led.settings.patrols
    for level in LEVELS:
        rule = rules.rule(level)
        if rule is not None and level in set(report.rivers["level"]):
            click.echo(f"{label(LEVELS, level)}: {rule.describe()}（{rule.source}）")
    for row in completion_by_level(report.chiefs).itertuples(index=False):
        pct = "—" if row.required == 0 else f"{row.completion_pct:.0f}%"
        click.echo(f"{label(LEVELS, row.level)}: {row.done} / {row.required}, {pct}")
    late = behind(report.chiefs)
    click.echo(f"{FIELD_WORK['n_behind']}: {len(late)}")
    missed = report.tracks[~report.tracks["counted"]]
    for reason, n in Counter(r.split("（")[0] for r in missed["reason"]).most_common():
        click.echo(f"  {FIELD_WORK['reason']}: {reason} × {n}")
    if output:
        write_report(report.rivers.rename(columns=FIELD_WORK), output)
        if len(missed):
            stem, dot, suffix = output.rpartition(".")
            write_report(missed.rename(columns=FIELD_WORK), f"{stem}_未计入轨迹{dot}{suffix}")


@click.command("patrol-cards")
@ledger_arg
@click.option("--quarter", required=True, help="The quarter, e.g. 2026Q1.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Folder.")
@click.pass_context
def patrol_cards(ctx: click.Context, ledger: str, quarter: str, output: str) -> None:
    """Issue 巡河提示卡 to the chiefs behind on patrols in a quarter, and record them.

    A 提醒卡 goes to a chief's liaison unit when the chiefs' list names one (联系单位).
    """
    from geo.reports.cards import patrol_cards as issue

    with open_from_cli(ctx, ledger) as led:
        result = issue(led, output, quarter=quarter)
    click.echo(
        f"{quarter}: {result.behind} 名河长巡河未达标，{CARDS['card']}/{CARDS['liaison']} "
        f"{len(result.files)} 份，新记录 {result.events} 份"
    )
    for path in result.rewritten:
        click.echo(f"  补写缺失文件 {path}")
    if result.files:
        click.echo(f"  → {result.files[0].parent}")


COMMANDS = [patrols, patrol_cards]
