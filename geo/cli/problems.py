"""The ``hetu reply`` command: the 反馈 and 回访 of a problem from a source.

Registered on the ``hetu`` group by :mod:`geo.cli.main`; one library call
(:func:`geo.ledger.replies.record_reply`).
"""

from __future__ import annotations

import click

from geo.cli.common import happened, ledger_arg, open_from_cli
from geo.labels import PROBLEMS

__all__ = ["COMMANDS"]


@click.command("reply")
@ledger_arg
@click.argument("patch_id")
@click.option("--actor", required=True, help="Who replied or called back (recorded).")
@click.option("--at", callback=happened, help="When (ISO date-time, Asia/Shanghai; default now).")
@click.option("--feedback", metavar="TEXT", help="反馈: what the reporter was told.")
@click.option(
    "--revisit",
    type=click.Choice(["satisfied", "unsatisfied"]),
    help="回访: whether the reporter is satisfied.",
)
@click.option("--note", metavar="TEXT", help="回访: what the reporter said.")
@click.pass_context
def reply(
    ctx: click.Context,
    ledger: str,
    patch_id: str,
    actor: str,
    at: str | None,
    feedback: str | None,
    revisit: str | None,
    note: str | None,
) -> None:
    """Record the 反馈 (--feedback) and/or 回访 (--revisit) of problem PATCH_ID.

    For cases ingested with hetu ingest LEDGER problems FILE (12345, 举报, 暗访 …).
    Each is recorded as a detail with its own event; the state does not change.
    """
    from geo.ledger.replies import record_reply

    if note is not None and revisit is None:
        raise click.UsageError("--note goes with --revisit")
    satisfied = None if revisit is None else revisit == "satisfied"
    with open_from_cli(ctx, ledger) as led:
        kinds = record_reply(
            led, patch_id, actor=actor, at=at, feedback=feedback, satisfied=satisfied, note=note
        )
    click.echo(f"{patch_id}: " + "、".join(PROBLEMS[k] for k in kinds) + " recorded")


COMMANDS = [reply]
