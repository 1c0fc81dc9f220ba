"""``hetu bulletin``: the quarterly 通报 of the 4+1 assessment, as a 公文 (HTML and .docx)."""

from __future__ import annotations

import click

from geo.cli.common import as_of_opt, ledger_arg, open_from_cli


@click.command()
@ledger_arg
@click.option("--quarter", required=True, metavar="YYYYQn", help="The quarter, e.g. 2026Q1.")
@click.option("-o", "--out", "out_dir", default="bulletins", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the 通报.")  # fmt: skip
@as_of_opt
@click.pass_context
def bulletin(
    ctx: click.Context, ledger: str, quarter: str, out_dir: str, as_of: str | None
) -> None:
    """Write the quarter's 通报: ranking with 等次, named overdue problems, in 公文 form."""
    from geo.reports.bulletin import write_bulletin

    with open_from_cli(ctx, ledger) as led:
        result = write_bulletin(led, quarter=quarter, out_dir=out_dir, as_of=as_of)
    click.echo(f"{result.doc_no}: {result.html}")
    click.echo(str(result.docx))


#: The commands of this module.
COMMANDS = [bulletin]
