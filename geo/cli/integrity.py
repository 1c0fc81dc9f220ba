"""The ``hetu`` commands of the ledger's integrity: ``verify`` and ``roles``.

Registered on the ``hetu`` group by :mod:`geo.cli.main`; thin like the others (one
library call each, errors turned into one line by the group).
"""

from __future__ import annotations

import click

from geo.cli.common import ledger_arg, open_from_cli


@click.command()
@ledger_arg
@click.option("--anchor", "anchors", multiple=True, metavar="CODE|LOGFILE",
              help="A chain head printed on an export or notice (链首校验码, e.g. "
              "1234-3f9a2c7e1b), or a hetu export log: the history must still hold each "
              "(repeat).")  # fmt: skip
@click.pass_context
def verify(ctx: click.Context, ledger: str, anchors: tuple[str, ...]) -> None:
    """Check LEDGER: chain, triggers, view, lifecycle and evidence rules, rows, files.

    Prints one line per problem and exits 1; prints "history intact" only when
    everything holds.
    """
    from geo.labels import INTEGRITY
    from geo.ledger.integrity import read_anchors, verify_ledger

    given = [a for value in anchors for a in read_anchors(value)]
    with open_from_cli(ctx, ledger) as led:
        result = verify_ledger(led, anchors=given)
    if result.problems:
        for problem in result.problems:
            click.echo(problem, err=True)
        raise click.exceptions.Exit(1)
    for line in [*result.anchors, *result.notes]:
        click.echo(line)
    click.echo(
        INTEGRITY["intact"].format(
            n=result.head.count, head=result.head, rows=result.rows, files=result.files
        )
    )


@click.command()
@ledger_arg
@click.option("--print", "show", is_flag=True, help="Print the SQL instead of running it.")
@click.pass_context
def roles(ctx: click.Context, ledger: str, show: bool) -> None:
    """Create the roles hetu_viewer, hetu_clerk, hetu_owner on a PostGIS LEDGER."""
    from geo.labels import INTEGRITY
    from geo.ledger.roles import CLERK, OWNER, VIEWER, create_roles, role_statements

    with open_from_cli(ctx, ledger) as led:
        if show:
            for statement in role_statements(led):
                click.echo(f"{statement};")
            return
        create_roles(led)
        name = led.name
    click.echo(INTEGRITY["roles_done"].format(roles=", ".join((VIEWER, CLERK, OWNER)), name=name))
    click.echo(INTEGRITY["roles_member"])


COMMANDS = [verify, roles]
