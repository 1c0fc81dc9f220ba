"""The ``hetu`` commands around ingest: what was kept aside (``hetu quarantine``).

Registered on the ``hetu`` group by :mod:`geo.cli.main`, whose ``hetu ingest`` prints its
quarantine reasons with :func:`echo_reasons`.
"""

from __future__ import annotations

import click

from geo.cli.common import ledger_arg, open_from_cli, write_report
from geo.labels import QUARANTINE

__all__ = ["COMMANDS", "echo_reasons"]


def echo_reasons(counts: dict[str, int]) -> None:
    """Print grouped quarantine reasons, most frequent first: ``  3 × null geometry``."""
    if counts:
        click.echo(f"  {QUARANTINE['reason']} (quarantine reasons):")
    for reason, n in counts.items():
        click.echo(f"    {n} × {reason}")


@click.command()
@ledger_arg
@click.option("--batch", "batch_id", help="Only this patch batch.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the list (.xlsx or .csv)."
)
@click.pass_context
def quarantine(ctx: click.Context, ledger: str, batch_id: str | None, output: str | None) -> None:
    """List the features ingest kept aside (隔离要素): file, row, id and reason.

    Rows of a CSV or Excel file are counted as the spreadsheet shows them (the header is
    row 1), other features by their number from 1. Correct them in the file and ingest
    it again (as a new batch, or the corrected features alone).
    """
    from geo.ledger.loading import quarantine_report, reason_counts

    with open_from_cli(ctx, ledger) as led:
        rows = quarantine_report(led, batch_id=batch_id)
    if output:
        write_report(rows.rename(columns=QUARANTINE), output)
    else:
        for r in rows.itertuples(index=False):
            click.echo(f"{r.file}\t{r.row}\t{r.feature_id}\t{r.reason}")
    click.echo(f"{len(rows)} feature(s) quarantined")
    echo_reasons(reason_counts(rows["reason"]))


COMMANDS = [quarantine]
