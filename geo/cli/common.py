"""Plumbing shared by the command-line modules (:mod:`geo.cli.main`, :mod:`geo.cli.reports`).

How a ledger is named on the command line, how settings reach a command, how
library errors become one line (with ``--debug``, after their traceback), how the
library's log reaches the terminal, how long work shows a progress bar, and how a
report table is written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import click

from geo.errors import HetuError
from geo.labels import CLI, COLUMNS
from geo.progress import Progress
from geo.settings import Settings


class Group(click.Group):
    """A group whose commands turn library errors into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a library or file error becomes one line (``--debug``: traceback)."""
        try:
            return super().invoke(ctx)
        except (HetuError, OSError) as exc:
            if (ctx.obj or {}).get("debug"):
                import traceback

                click.echo(traceback.format_exc().rstrip(), err=True)
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


def write_report(frame: Any, path: str) -> None:
    """Write a report table with Chinese headers (:func:`geo.fileio.write_table`) and say where."""
    from geo.fileio import write_table
    from geo.labels import MATCHING

    named = frame.rename(columns=lambda c: COLUMNS.get(c) or MATCHING.get(c) or c)
    click.echo(f"{len(frame)} row(s) written to {write_table(named, path)}")


def pairs(values: tuple[str, ...], *, name: str) -> dict[str, str]:
    """Parse repeated ``KEY=VALUE`` options into a dict (``name`` in messages)."""
    out = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key or not val:
            raise click.BadParameter(f"{value!r}: write KEY=VALUE", param_hint=name)
        out[key.strip()] = val.strip()
    return out


# -- the library's log on the terminal ------------------------------------------------------

#: Loggers not shown on the terminal: the export's one-line run record belongs to its log file.
_NOT_SHOWN = frozenset({"geo.reports.exports.runs"})
_WARNING = re.compile(r".*?:\d+: \w+: (.*)", re.S)
_bars: list[Any] = []  # the progress bars drawn now: a log line is written above them


class _Terminal(logging.Handler):
    """Write each record as one line on stderr, prefixed by its level: ``警告: …``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's message on one line, after its level's word (py.warnings: the text)."""
        text = record.getMessage()
        if record.name == "py.warnings":
            text = _warning_text(text)
        return f"{CLI.get(record.levelname, record.levelname)}: {' '.join(text.split())}"

    def emit(self, record: logging.LogRecord) -> None:
        """Write the line, above the progress bars when some are drawn."""
        if record.name in _NOT_SHOWN:
            return
        try:
            line = self.format(record)
            if _bars:
                _bars[-1].write(line, file=sys.stderr)
            else:
                click.echo(line, err=True)
        except Exception:
            self.handleError(record)


def _warning_text(text: str) -> str:
    """A warning's message, without the file, line, category and source line around it."""
    lines = text.rstrip("\n").split("\n")
    if len(lines) > 1 and lines[-1].startswith("  "):
        lines.pop()  # the source line warnings.formatwarning appends
    found = _WARNING.match("\n".join(lines))
    return found[1] if found else text


def show_log(ctx: click.Context, *, verbose: int = 0, quiet: bool = False) -> None:
    """Show the ``geo`` log and warnings on stderr until ``ctx`` closes.

    Warnings and errors by default, ``-v`` adds INFO, ``-vv`` DEBUG, ``-q`` keeps errors
    only; ``warnings.warn`` of the library are captured into the log (``py.warnings``).
    """
    level = logging.ERROR if quiet else max(logging.DEBUG, logging.WARNING - 10 * verbose)
    handler = _Terminal(level)
    loggers = [logging.getLogger("geo"), logging.getLogger("py.warnings")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(level)
    logging.captureWarnings(True)

    def restore() -> None:
        logging.captureWarnings(False)
        for logger, old in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(old)

    ctx.call_on_close(restore)


# -- progress bars ------------------------------------------------------------------------------


class _Bar:
    """The callback a bar hands the library (:mod:`geo.progress`): counts, and a settable total."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar

    def __call__(self, done: int) -> None:
        self._bar.update(done)

    @property
    def total(self) -> int | None:
        """How many items the bar counts to (None until the library says)."""
        return self._bar.total

    @total.setter
    def total(self, value: int) -> None:
        if self._bar.n:  # counted already: keep the count
            self._bar.total = value
            self._bar.refresh()
        else:  # the clock starts now, so the rate is that of the work counted
            self._bar.reset(total=value)


@contextlib.contextmanager
def progress_bar(desc: str, total: int | None = None, *, unit: str = "个") -> Iterator[Progress]:
    """Yield a progress callback drawing a bar labelled ``desc`` on stderr, closed after.

    The bar is drawn only when stderr is a terminal, and not with ``hetu -q``; the
    library sets ``total`` when it finds out (:func:`geo.progress.expect`).
    """
    from tqdm import tqdm

    ctx = click.get_current_context(silent=True)
    quiet = ctx is not None and (ctx.find_root().obj or {}).get("quiet", False)
    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
               dynamic_ncols=True, disable=quiet or not sys.stderr.isatty())  # fmt: skip
    _bars.append(bar)
    try:
        yield _Bar(bar)
    finally:
        _bars.remove(bar)
        bar.close()
