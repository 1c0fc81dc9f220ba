"""The weekly timer of ``hetu export``: crontab, systemd service and timer, schtasks.

:func:`schedule_lines` gives the crontab line, the systemd service and timer
(``Persistent=true``: a run missed while the machine was off happens at the next
boot) and the Windows ``schtasks`` command that run the export weekly;
:func:`install_schedule` writes the systemd units or merges the line into the
user's crontab (:func:`merge_crontab`, idempotent). Exit codes of the run:
:data:`geo.reports.exports.EXIT_CODES`.

So that the scheduled run equals the one made by hand, the lines name the ``hetu``
by its absolute path (:func:`running_hetu`: the one running, or ``python -m geo.cli``
of this Python), change into the working directory first (``cd``,
``WorkingDirectory=``, ``cd /d``) and pass ``--settings`` when the manual run was
given a settings file; a ledger that stores its settings needs none.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from geo.clock import TZ
from geo.errors import ScheduleError
from geo.fileio import write_atomic
from geo.ledger.db import is_url

__all__ = [
    "UNIT_NAME",
    "InstallResult",
    "ScheduleError",
    "cron_marker",
    "install_schedule",
    "merge_crontab",
    "running_hetu",
    "schedule_lines",
]

#: Base name of the systemd units (``hetu-export.service`` and ``.timer``).
UNIT_NAME = "hetu-export"
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _when(weekday: str, time: str) -> tuple[str, int, int]:
    day = weekday.upper()[:3]
    if day not in _WEEKDAYS:
        raise ValueError(f"weekday {weekday!r}: use one of {', '.join(_WEEKDAYS)}")
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", time)
    if match is None:
        raise ValueError(f"time {time!r}: use HH:MM, 24-hour, e.g. 08:00")
    return day, int(match.group(1)), int(match.group(2))


def running_hetu() -> list[str]:
    """The command that runs this ``hetu``, by absolute paths (what a scheduler runs).

    Returns
    -------
    list of str
        ``[argv0]`` when ``sys.argv[0]`` (resolved) is an executable file other
        than a Python module (the ``hetu`` console script, ``hetu.exe``); else
        ``[python, "-m", "geo.cli"]`` with this interpreter's absolute path (its
        virtual environment kept: the path is not resolved through links).
    """
    first = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if (
        first is not None
        and first.is_file()
        and first.suffix.lower() != ".py"
        and os.access(first, os.X_OK)
        and first.stem.lower().startswith("hetu")
    ):
        return [str(first)]
    return [os.path.abspath(sys.executable), "-m", "geo.cli"]


def _words(hetu: str | Sequence[str]) -> list[str]:
    return [hetu] if isinstance(hetu, str) else [str(w) for w in hetu]


def _ledger_arg(ledger: str | os.PathLike) -> str:
    """A ledger as the scheduled command names it: a path made absolute; a URL or env:NAME as is."""
    text = os.fspath(ledger)
    return text if is_url(text) or text.startswith("env:") else str(Path(text).resolve())


def _cron_job(posix: str, day: str, hour: int, minute: int, logfile: Path) -> str:
    """One crontab entry (``%`` escaped: cron turns a bare one into a newline).

    The log's folder is made first: the shell opens the log before ``hetu`` could
    make the output folder, and a job whose log cannot be opened fails unseen.
    """
    folder = shlex.quote(str(logfile.parent))
    command = f"mkdir -p {folder} && {posix} >> {shlex.quote(str(logfile))} 2>&1"
    command = command.replace("%", r"\%")
    return f"{minute} {hour} * * {(_WEEKDAYS.index(day) + 1) % 7} {command}"


def schedule_lines(
    ledger: str | os.PathLike,
    *,
    out_dir: str | os.PathLike,
    weekday: str = "MON",
    time: str = "08:00",
    hetu: str | Sequence[str] = "hetu",
    log: str | os.PathLike | None = None,
    workdir: str | os.PathLike | None = None,
    settings: str | os.PathLike | None = None,
) -> dict[str, str]:
    """Return the lines that run ``hetu export`` weekly, for cron, systemd and Windows.

    Parameters
    ----------
    ledger, out_dir : path-like
        Passed to ``hetu export`` (made absolute).
    weekday : str
        ``MON`` … ``SUN`` (case-insensitive).
    time : str
        ``HH:MM``, Beijing time.
    hetu : str or sequence of str
        The ``hetu`` executable (a full path is safest for schedulers), or the words
        that run it (:func:`running_hetu`).
    log : path-like, optional
        File the cron job appends its output to; default ``out_dir/export.log``.
    workdir : path-like, optional
        The folder the run starts in (made absolute): ``cd`` in the crontab line and
        ``schtasks``, ``WorkingDirectory=`` in the service.
    settings : path-like, optional
        A settings file the run is given (``hetu --settings FILE export …``, made
        absolute); leave out for a ledger that stores its settings.

    Returns
    -------
    dict
        ``cron`` (a crontab line with ``CRON_TZ``), ``systemd_service`` and
        ``systemd_timer`` (unit files; the timer has ``Persistent=true`` so a
        run missed while the machine was off happens at the next boot) and
        ``schtasks`` (the Windows command that creates the task).

    Raises
    ------
    ValueError
        If ``weekday`` or ``time`` is malformed.
    """
    day, hour, minute = _when(weekday, time)
    led, out = _ledger_arg(ledger), Path(out_dir).resolve()
    logfile = Path(log).resolve() if log is not None else out / "export.log"
    given = ["--settings", str(Path(settings).resolve())] if settings is not None else []
    words = [*_words(hetu), *given, "export", str(led), "-o", str(out)]
    posix = shlex.join(words)
    home = str(Path(workdir).resolve()) if workdir is not None else None
    job = f"cd {shlex.quote(home)} && {posix}" if home else posix
    cron = f"CRON_TZ={TZ.key}\n{_cron_job(job, day, hour, minute, logfile)}"
    # systemd expands %-specifiers: a literal % is written %%
    where = f"WorkingDirectory={home.replace('%', '%%')}\n" if home else ""
    service = (
        "[Unit]\nDescription=Hetu weekly ledger export\n\n"
        f"[Service]\nType=oneshot\n{where}ExecStart={posix.replace('%', '%%')}\n"
    )
    timer = (
        "[Unit]\nDescription=Hetu weekly ledger export\n\n"
        f"[Timer]\nOnCalendar={day.title()} *-*-* {hour:02d}:{minute:02d}:00 {TZ.key}\n"
        "Persistent=true\n\n[Install]\nWantedBy=timers.target\n"
    )
    # schtasks /TR: paths in \"…\"; the && stays inside the quoted /TR argument
    command = " ".join(w if w in ("export", "-o", "-m", "--settings") else f'\\"{w}\\"'
                       for w in words)  # fmt: skip
    if home:
        command = f'cmd /c cd /d \\"{home}\\" && {command}'
    schtasks = (
        f'schtasks /Create /TN "Hetu weekly export" /SC WEEKLY /D {day} '
        f'/ST {hour:02d}:{minute:02d} /TR "{command}" /F'
    )
    return {
        "cron": cron,
        "systemd_service": service,
        "systemd_timer": timer,
        "schtasks": schtasks,
    }


# --- installing the schedule ------------------------------------------------------------------


@dataclass(frozen=True)
class InstallResult:
    """What :func:`install_schedule` did.

    ``target`` is ``systemd`` (``files``: the unit files written; ``command``:
    the ``systemctl --user`` commands to run), ``cron`` (``crontab``: the text
    installed) or ``windows`` (``command``: the ``schtasks`` command to run;
    nothing installed).
    """

    target: str
    files: tuple[Path, ...] = ()
    command: str = ""
    crontab: str | None = None


def cron_marker(ledger: str | os.PathLike) -> str:
    """Return the comment that marks the crontab line of ``ledger`` (made absolute).

    Raises
    ------
    ValueError
        If the path holds a line break (it cannot stand in a crontab).
    """
    text = _ledger_arg(ledger)
    if "\n" in text or "\r" in text:
        raise ValueError(f"ledger path {text!r} holds a line break; rename the file")
    return f"# hetu-export {text}".replace("%", r"\%")


def merge_crontab(current: str, entry: str, *, marker: str) -> str:
    """Return ``current`` with the line ending in ``marker`` replaced by ``entry + marker``.

    Every line ending with `` <marker>`` (or equal to it) is dropped, the
    other lines are kept in order, and ``entry`` followed by the marker is
    appended as the last line. Merging twice gives the same text; a crontab
    always ends with a newline.

    Parameters
    ----------
    current : str
        The current crontab (``crontab -l``; empty when the user has none).
    entry : str
        The cron entry (one line: schedule and command).
    marker : str
        A comment starting with ``#`` (see :func:`cron_marker`).

    Returns
    -------
    str
        The new crontab text.

    Raises
    ------
    ValueError
        If ``entry`` or ``marker`` spans lines, or the marker is not a comment.
    """
    if "\n" in entry or "\r" in entry or "\n" in marker or "\r" in marker:
        raise ValueError("a crontab entry and its marker must each be one line")
    if not marker.startswith("#"):
        raise ValueError(f"marker {marker!r} must be a comment starting with #")
    kept = [
        line
        for line in current.splitlines()
        if not (line.rstrip() == marker or line.rstrip().endswith(" " + marker))
    ]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, f"{entry.rstrip()} {marker}"]) + "\n"


def _crontab_binary() -> str:
    found = shutil.which("crontab")
    if found is None:
        raise ScheduleError(
            "no `crontab` command on this machine: install cron, or use the systemd timer "
            "(hetu schedule … --install systemd)"
        )
    return found


def _install_crontab(entry: str, marker: str) -> str:
    binary = _crontab_binary()
    listed = subprocess.run([binary, "-l"], capture_output=True, text=True, check=False)
    if listed.returncode == 0:
        current = listed.stdout
    elif "no crontab" in listed.stderr.lower():
        current = ""
    else:
        raise ScheduleError(f"`crontab -l` failed: {' '.join(listed.stderr.split())}")
    text = merge_crontab(current, entry, marker=marker)
    wrote = subprocess.run([binary, "-"], input=text, capture_output=True, text=True, check=False)
    if wrote.returncode != 0:
        raise ScheduleError(
            f"`crontab -` refused the new crontab: {' '.join(wrote.stderr.split())}"
        )
    return text


def install_schedule(
    ledger: str | os.PathLike,
    *,
    out_dir: str | os.PathLike,
    target: str = "auto",
    weekday: str = "MON",
    time: str = "08:00",
    hetu: str | Sequence[str] = "hetu",
    log: str | os.PathLike | None = None,
    unit_dir: str | os.PathLike | None = None,
    workdir: str | os.PathLike | None = None,
    settings: str | os.PathLike | None = None,
) -> InstallResult:
    """Install the weekly export: systemd user units, a crontab line, or (Windows) print only.

    Rerunning replaces what an earlier call installed for the same ledger.
    ``hetu`` is resolved to a full path when it is on ``PATH`` (schedulers run
    with a minimal ``PATH``).

    Parameters
    ----------
    ledger, out_dir : path-like
        As for :func:`schedule_lines`.
    target : {"auto", "systemd", "cron", "windows"}
        ``auto``: ``windows`` on Windows, ``systemd`` where ``systemctl``
        exists, else ``cron``.
    weekday, time, hetu, log, workdir, settings
        As for :func:`schedule_lines`.
    unit_dir : path-like, optional
        Where the systemd units go; default ``~/.config/systemd/user``.
        Nothing is enabled: :attr:`InstallResult.command` says what to run.

    Returns
    -------
    InstallResult

    Raises
    ------
    ScheduleError
        For ``cron`` without a ``crontab`` command, or when ``crontab`` fails.
    ValueError
        If ``target``, ``weekday`` or ``time`` is malformed.
    """
    if target == "auto":
        if sys.platform == "win32":
            target = "windows"
        else:
            target = "systemd" if shutil.which("systemctl") else "cron"
    if target not in ("systemd", "cron", "windows"):
        raise ValueError(f"target {target!r}: use auto, systemd, cron or windows")
    if isinstance(hetu, str) and target != "windows":
        hetu = shutil.which(hetu) or hetu
    lines = schedule_lines(ledger, out_dir=out_dir, weekday=weekday, time=time, hetu=hetu, log=log,
                           workdir=workdir, settings=settings)  # fmt: skip
    if target == "windows":
        return InstallResult(target, command=lines["schtasks"])
    if target == "cron":
        entry = lines["cron"].splitlines()[-1]  # the job; the machine's clock is Beijing time
        return InstallResult(target, crontab=_install_crontab(entry, cron_marker(ledger)))
    units = Path(unit_dir) if unit_dir is not None else Path.home() / ".config/systemd/user"
    units.mkdir(parents=True, exist_ok=True)
    files = (
        write_atomic(units / f"{UNIT_NAME}.service", lines["systemd_service"].encode("utf-8")),
        write_atomic(units / f"{UNIT_NAME}.timer", lines["systemd_timer"].encode("utf-8")),
    )
    command = f"systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}.timer"
    return InstallResult(target, files=files, command=command)
