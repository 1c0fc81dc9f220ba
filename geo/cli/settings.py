"""The ``hetu settings`` command: the office settings stored with the ledger.

Registered on the ``hetu`` group by :mod:`geo.cli.main`; one library call each
(:meth:`geo.ledger.office.LedgerOffice.store_settings`, ``settings_record``,
``settings_versions``).
"""

from __future__ import annotations

import click

from geo.cli.common import ledger_arg, location
from geo.errors import NotFoundError
from geo.labels import CLI


@click.command("settings")
@ledger_arg
@click.option("--set", "new_file", type=click.Path(exists=True, dir_okay=False),
              help="Check this hetu.toml and store it as the ledger's new version.")  # fmt: skip
@click.option("--show", is_flag=True, help="Print the current stored settings (the default).")
@click.option("--history", is_flag=True, help="List every stored version (time, file, sha256).")
@click.option("--actor", default="hetu", show_default=True, help="Who stores them (recorded).")
def settings(ledger: str, new_file: str | None, show: bool, history: bool, actor: str) -> None:
    """Show or store the office settings kept in LEDGER (hetu.toml, versioned).

    Every command on LEDGER uses the stored settings, from any folder or cron job;
    --settings FILE (or HETU_SETTINGS) overrides them for one command. Relative paths
    in them (templates, profile) count from the folder the file was stored from.
    """
    from geo.ledger.store import Ledger

    if sum([bool(new_file), show, history]) > 1:
        raise click.UsageError("give one of --set, --show, --history")
    with Ledger(location(ledger)) as led:
        if new_file:
            before = led.settings_record()
            version = led.store_settings(new_file, actor=actor)
            record = led.settings_record()
            same = before is not None and before.version == version
            text = CLI["settings_same" if same else "settings_stored"]
            click.echo(text.format(v=version, ledger=led.name, source=record.source,
                                   sha=record.sha256[:12]))  # fmt: skip
            return
        if history:
            for row in led.settings_versions().itertuples(index=False):
                click.echo(f"v{row.version}  {row.stored_at}  {row.sha256[:12]}  "
                           f"{row.actor or '-'}  {row.source}")  # fmt: skip
            return
        record = led.settings_record()
    if record is None:
        raise NotFoundError(CLI["settings_none"].format(ledger=ledger))
    click.echo(f"# v{record.version} {record.stored_at} {record.source} sha256 {record.sha256}")
    click.echo(record.text.rstrip("\n"))


#: The commands of this module.
COMMANDS = [settings]
