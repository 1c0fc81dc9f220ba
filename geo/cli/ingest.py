"""The ``hetu`` commands around ingest: what was kept aside (``hetu quarantine``).

Registered on the ``hetu`` group by :mod:`geo.cli.main`, whose ``hetu ingest`` prints its
quarantine reasons with :func:`echo_reasons`.
"""

from __future__ import annotations

from typing import Any

import click

from geo.cli.common import ledger_arg, open_from_cli, write_report
from geo.labels import QUARANTINE

__all__ = ["COMMANDS", "echo_lines", "echo_reasons", "place_problems"]


def echo_reasons(counts: dict[str, int]) -> None:
    """Print grouped quarantine reasons, most frequent first: ``  3 × null geometry``."""
    if counts:
        click.echo(f"  {QUARANTINE['reason']} (quarantine reasons):")
    for reason, n in counts.items():
        click.echo(f"    {n} × {reason}")


def echo_lines(lines: list[str]) -> None:
    """Print each line indented by two spaces."""
    for line in lines:
        click.echo(f"  {line}")


def place_problems(led: Any, rec: Any) -> list[str]:
    """Match the ledger after ingesting problems; name the cases no range holds.

    A case matching no range within ``near_m`` is kept (as a patch is) and named here,
    to be placed by hand or with ``hetu ingest … admin``.
    """
    from geo.matching.assignments import match_ledger

    if rec.reused or not rec.n_kept:
        return []
    result = match_ledger(led)
    ours = set(led.patches().query("batch_id == @rec.batch_id")["patch_id"])
    primary = result[result["primary"] & result["patch_id"].isin(ours)]
    placed = set(primary.loc[primary["relation"] != "outside", "patch_id"])
    lost = sorted(ours - placed)
    lines = [f"{len(ours) - len(lost)} case(s) placed on a river segment (hetu match)"]
    if lost:
        lines.append(
            f"{len(lost)} case(s) match no range within near_m, kept unmatched: "
            + ", ".join(lost[:20])
        )
    return lines


@click.command()
@ledger_arg
@click.option("--batch", "batch_id", help="Only this patch batch.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the list (.xlsx or .csv)."
)
@click.pass_context
def quarantine(ctx: click.Context, ledger: str, batch_id: str | None, output: str | None) -> None:
    """List the features ingest kept aside (隔离要素): file, row, id and reason.

    Rows of a CSV or Excel file are counted as the spreadsheet shows them (whichever row
    the header is in), other features by their number from 1. Correct them in the file and ingest
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
