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

#: Key of ``Context.meta`` (shared by a command's context and the group's) holding the
#: context of the command running, for the group's messages.
_RUNNING = "hetu.command"
#: Parameters naming what a command works on, and their word in a message (:data:`CLI`).
_SUBJECTS = {"ledger": "on_ledger", "source": "on_ledger", "destination": "on_ledger",
             "file": "on_file", "files": "on_file", "out_dir": "on_output",
             "output": "on_output"}  # fmt: skip


class _CommandContext(click.Context):
    """A command's context that leaves itself in the shared ``meta`` (:data:`_RUNNING`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meta[_RUNNING] = self


class Group(click.Group):
    """A group whose commands never show a traceback (``--debug`` does, before the line).

    - A library error (:class:`~geo.errors.HetuError`) or a file error: its message on
      one line, exit 1.
    - Any other exception (a bug): one line naming the command, the ledger and files it
      worked on and the error, asking to rerun with ``--debug``; exit 1.
    - The reader of the output went away (``hetu status L | head -1``): silent, exit 0.
    - Ctrl+C: one line, exit 130.
    """

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd``; its context tells the group what it works on."""
        cmd.context_class = _CommandContext
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, turning every error into one line (see the class)."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            quiet_stdout()
            raise click.exceptions.Exit(0) from None
        except (HetuError, OSError) as exc:
            _traceback(ctx)
            raise click.ClickException(one_line(exc)) from None
        except KeyboardInterrupt:
            _traceback(ctx)
            click.echo(CLI["interrupted"].format(command=_running(ctx)), err=True)
            raise click.exceptions.Exit(130) from None
        except Exception as exc:
            _traceback(ctx)
            name = ctx.invoked_subcommand or ""
            error = f"{type(exc).__name__}: {one_line(exc)}"
            text = CLI["unexpected"].format(command=_running(ctx), error=error, name=name)
            raise click.ClickException(text) from None


def _traceback(ctx: click.Context) -> None:
    """With ``hetu --debug``, print the traceback of the exception being handled."""
    if (ctx.obj or {}).get("debug"):
        import traceback

        click.echo(traceback.format_exc().rstrip(), err=True)


def _running(ctx: click.Context) -> str:
    """``hetu <command>`` and what it works on: ``hetu export（台账 a.gpkg，输出 out）``."""
    sub = ctx.meta.get(_RUNNING)
    name = ctx.invoked_subcommand or ""
    params = sub.params if isinstance(sub, click.Context) and sub.parent is ctx else {}
    parts = []
    for key, word in _SUBJECTS.items():
        value = params.get(key)
        values = list(value) if isinstance(value, tuple | list) else [value]
        shown = [str(v) for v in values if v not in (None, "")]
        if shown:
            more = CLI["and_more"].format(n=len(shown) - 2) if len(shown) > 2 else ""
            parts.append(f"{CLI[word]} {CLI['list_sep'].join(shown[:2])}{more}")
    where = f"（{CLI['list_sep'].join(parts)}）" if parts else ""
    return f"hetu {name}".rstrip() + where


def quiet_stdout() -> None:
    """Send what is still to be written on stdout to the null device: its reader went away.

    ``hetu status LEDGER | head -1``: ``head`` closes the pipe after one line; the rest
    of the output, and Python's last flush at exit, must not fail with a broken pipe.
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)


def end_output() -> None:
    """Flush stdout at the end of a run; a reader that went away (``| head``) is no error.

    Raises
    ------
    SystemExit
        Exit 1 after one line when the output cannot be written (a full disk).
    """
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_stdout()
    except OSError as exc:
        quiet_stdout()
        click.echo(f"Error: {one_line(exc)}", err=True)
        raise SystemExit(1) from None
    except (ValueError, AttributeError):  # no stdout at all (closed, or pythonw): nothing to flush
        pass


def one_line(exc: BaseException) -> str:
    """An error's message on one line."""
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def settings_of(ctx: click.Context, ledger: str | None = None) -> Settings:
    """The office settings a command works with (the order: :mod:`geo.settings`).

    ``--settings FILE`` (or ``HETU_SETTINGS``) when given; else, for a command on a
    ledger (``ledger``, default the command's ``LEDGER`` argument), the settings stored
    in it; else ``./hetu.toml``; else the defaults.
    """
    obj = ctx.find_root().obj
    if obj.get("settings") is not None:
        return obj["settings"]
    name = ledger if ledger is not None else ctx.params.get("ledger")
    if name is None:
        return _fallback(obj)
    place = location(name)
    if place not in obj.setdefault("ledger_settings", {}):
        from geo.ledger.db import exists

        if not exists(place):  # hetu init: no ledger yet
            return _fallback(obj)
        open_from_cli(ctx, name).close()
    return obj["ledger_settings"][place]


def _fallback(obj: dict[str, Any]) -> Settings:
    """``./hetu.toml`` when there is one, else the defaults (read once per command)."""
    if obj.get("fallback") is None:
        from geo.settings import load_settings

        obj["fallback"] = load_settings()
    return obj["fallback"]


def _settle(led: Any, obj: dict[str, Any]) -> None:
    """Give a ledger opened without ``--settings`` its settings, saying what was chosen."""
    from pathlib import Path

    from geo.ledger.office import text_sha256

    log = logging.getLogger(__name__)
    local = Path("hetu.toml")
    record = led.settings_record()
    if record is None:
        led.use_settings(_fallback(obj))
        if local.is_file():
            log.warning(CLI["settings_local"].format(ledger=led.name))
        else:
            log.warning(CLI["settings_default"].format(ledger=led.name))
        return
    if local.is_file():
        text = local.read_text(encoding="utf-8-sig", errors="replace")
        if text_sha256(text) != record.sha256:
            log.warning(CLI["settings_ignored"].format(ledger=led.name, v=record.version))


def no_password(text: str) -> str:
    """Return a ledger location given on the command line, refusing one that carries a password.

    A password written there (``user:pw@``, ``?password=``, ``password=`` in a libpq
    string) would stay in the shell history, the process list and a crontab.
    """
    from geo.ledger.db import redact

    if redact(text) != text:
        raise click.UsageError(
            f"LEDGER {redact(text)}: carries a password, which would stay in the shell history "
            "and the process list; put the URL in an environment variable and give "
            "env:HETU_DATABASE_URL, or keep the password in ~/.pgpass or PGPASSWORD"
        )
    return text


def location(text: str) -> str:
    """A ledger named on the command line: a ``.gpkg`` path, a URL, or ``env:NAME``.

    The environment variable may hold a URL with its password; the command line may
    not (:func:`no_password`).
    """
    if text.startswith("env:"):
        name = text[4:]
        value = os.environ.get(name, "").strip()
        if not value:
            raise click.UsageError(
                f"LEDGER {text}: the environment variable {name} is not set; set it to the "
                "ledger's postgresql:// URL (or a .gpkg path) in the environment, not here"
            )
        return value
    return no_password(text)


def open_from_cli(ctx: click.Context, path: str) -> Any:
    """Open the ledger at ``path`` with the command's settings (:func:`settings_of`)."""
    from geo.ledger.store import Ledger

    obj = ctx.find_root().obj
    place = location(path)
    known = obj.setdefault("ledger_settings", {})
    led = Ledger(place, settings=obj.get("settings") or known.get(place))
    if obj.get("settings") is None and place not in known:
        try:
            _settle(led, obj)
        except BaseException:
            led.close()
            raise
        known[place] = led.settings
    return led


def today() -> str:
    """Today in Beijing, as an ISO date."""
    from geo.clock import now

    return now().date().isoformat()


ledger_arg = click.argument("ledger", type=click.Path(dir_okay=False))


def iso_day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check a day option (``--as-of``): an ISO date, returned as ``YYYY-MM-DD``."""
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2026-04-30"
        ) from None


as_of_opt = click.option(
    "--as-of",
    metavar="DATE",
    default=None,
    callback=iso_day,
    help="The ledger as it stood at the end of DATE (YYYY-MM-DD, Asia/Shanghai; default today).",
)


def happened(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Check a date or time option that says when something happened (``--at``, ``--issued-on``).

    A click callback: an ISO date or time must fall from 2000-01-01 to tomorrow
    (:func:`geo.clock.implausible`), else the option is named with the fix; other
    writings (2025/8/1, 2025年8月1日) are left to the library, which reads and checks them.
    """
    from geo.clock import implausible

    if value is None:
        return None
    try:
        why = implausible(value)
    except ValueError:
        return value
    if why:
        raise click.BadParameter(f"{why}; give the day it happened (2000-01-01 to today)")
    return value


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
