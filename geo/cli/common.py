"""Plumbing shared by the command-line modules (:mod:`geo.cli.main`, :mod:`geo.cli.reports`).

How a ledger is named on the command line, how settings reach a command, how
library errors become one line, and how a report table is written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from geo.errors import HetuError
from geo.labels import COLUMNS
from geo.settings import Settings


class Group(click.Group):
    """A group whose commands turn library errors into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a library or file error becomes one line."""
        try:
            return super().invoke(ctx)
        except (HetuError, OSError) as exc:
            raise click.ClickException(one_line(exc)) from None


def one_line(exc: BaseException) -> str:
    """An error's message on one line."""
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def settings_of(ctx: click.Context) -> Settings:
    """The office settings loaded by the ``hetu`` group."""
    return ctx.find_root().obj["settings"]


def location(text: str) -> str:
    """A ledger named on the command line: a ``.gpkg`` path, a URL, or ``env:NAME``."""
    from geo.ledger.db import is_url

    if text.startswith("env:"):
        name = text[4:]
        value = os.environ.get(name, "").strip()
        if not value:
            raise click.UsageError(
                f"LEDGER {text}: the environment variable {name} is not set; set it to the "
                "ledger's postgresql:// URL (or a .gpkg path) in the environment, not here"
            )
        return value
    if is_url(text) and re.search(r"://[^/@]*:[^/@]*@", text):
        raise click.UsageError(
            "LEDGER: the URL carries a password, which would stay in the shell history and the "
            "process list; put the URL in an environment variable and give env:HETU_DATABASE_URL, "
            "or keep the password in ~/.pgpass or PGPASSWORD"
        )
    return text


def open_from_cli(ctx: click.Context, path: str) -> Any:
    """Open the ledger at ``path`` with the command's settings."""
    from geo.ledger.store import Ledger

    return Ledger(location(path), settings=settings_of(ctx))


def today() -> str:
    """Today in Beijing, as an ISO date."""
    from geo.clock import now

    return now().date().isoformat()


ledger_arg = click.argument("ledger", type=click.Path(dir_okay=False))
as_of_opt = click.option(
    "--as-of",
    metavar="DATE",
    default=None,
    help="Day the figures are counted to (YYYY-MM-DD; default today).",
)


def write_table(frame: Any, path: str) -> None:
    """Write a report as .xlsx or UTF-8-BOM .csv (Excel opens both), with Chinese headers."""
    from geo.labels import MATCHING

    named = frame.rename(columns=lambda c: COLUMNS.get(c) or MATCHING.get(c) or c)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".xlsx":
        named.to_excel(target, index=False, engine="xlsxwriter")
    else:
        named.to_csv(target, index=False, encoding="utf-8-sig")
    click.echo(f"{len(frame)} row(s) written to {target}")


def pairs(values: tuple[str, ...], *, name: str) -> dict[str, str]:
    """Parse repeated ``KEY=VALUE`` options into a dict (``name`` in messages)."""
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key or not val:
            raise click.BadParameter(f"{value!r}: write KEY=VALUE", param_hint=name)
        out[key.strip()] = val.strip()
    return out
