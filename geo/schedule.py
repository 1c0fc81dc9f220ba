"""Scheduled exports of the ledger: one locked, idempotent run, and the lines that schedule it.

:func:`export_ledger` writes the dated outputs of one run into a directory —
the Excel 台账, a UTF-8-with-BOM CSV, a GeoPackage snapshot and the legacy GBK
shapefile with its alias sheet. Every file is written to a temporary name in
the same directory and renamed into place, so a reader (Excel, QGIS, a
province upload job) sees the old file or the new one, never half of one. The
names depend only on ``as_of``, so a rerun replaces the same files. A lock file
in the directory keeps two runs from overlapping.

:func:`schedule_lines` gives the crontab line, the systemd service and timer
and the Windows ``schtasks`` command that run the export weekly.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd

from geo._errors import HetuError
from geo._reads import as_date
from geo.export import LEDGER_COLUMNS, Period, _replace_or_fallback, write_ledger_xlsx
from geo.labels import COLUMNS, EXPORT, ISSUE_TYPES, RELATIONS, STATES, label
from geo.shapefile import ENCODING, write_shapefile

__all__ = [
    "LOCK_NAME",
    "ExportLockedError",
    "ExportResult",
    "export_ledger",
    "export_lock",
    "period_ids",
    "schedule_lines",
]

logger = logging.getLogger("geo")

#: Name of the lock file held in the output directory during a run.
LOCK_NAME = ".hetu-export.lock"
_DATED = re.compile(r"^ledger_(\d{4}-\d{2}-\d{2})\.xlsx$")
_LABELLED = {"issue_type": ISSUE_TYPES, "relation": RELATIONS, "state": STATES}
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


class ExportLockedError(HetuError, RuntimeError):
    """Another export holds the lock on the output directory."""


@dataclass(frozen=True)
class ExportResult:
    """What one export run wrote.

    Attributes
    ----------
    as_of, since : str
        The day the data stand at, and the end of the previous period (``None``
        when no earlier export was found: the period counts everything).
    rows, new, closed : int
        Patches exported, issued in the period, closed in the period.
    xlsx, csv, gpkg, shp, aliases : pathlib.Path
        The files written (a fallback name when the target was locked).
    """

    as_of: str
    since: str | None
    rows: int
    new: int
    closed: int
    xlsx: Path
    csv: Path
    gpkg: Path
    shp: Path
    aliases: Path

    @property
    def files(self) -> list[Path]:
        """The main files, in the order a CLI prints them."""
        return [self.xlsx, self.csv, self.gpkg, self.shp, self.aliases]


@contextmanager
def export_lock(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the export lock of ``out_dir`` (non-blocking) for the ``with`` block.

    Parameters
    ----------
    out_dir : path-like
        The output directory (must exist).

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    ExportLockedError
        If another run holds the lock.
    """
    path = Path(out_dir) / LOCK_NAME
    handle = open(path, "a+b")  # noqa: SIM115 - held open for the whole block
    try:
        try:
            _lock(handle)
        except OSError as err:
            raise ExportLockedError(
                f"{path}: another export is running into {out_dir} (lock held); "
                "wait for it to finish, or remove the lock file if no export is running"
            ) from err
        try:
            yield path
        finally:
            _unlock(handle)
    finally:
        handle.close()


def _lock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def period_ids(events: pd.DataFrame, *, since: str | None, as_of: str) -> Period:
    """Return the patch ids issued and closed after ``since`` up to ``as_of`` (days, inclusive).

    Parameters
    ----------
    events : DataFrame
        The ledger's event log (``Ledger.events()``).
    since : str, optional
        ISO day the previous period ended; ``None`` counts from the start.
    as_of : str
        ISO day the period ends.

    Returns
    -------
    (list of str, list of str)
        Ids whose first event (no ``from_state``) and ids with a ``closed``
        event fall in the period.
    """
    if events.empty:
        return [], []
    day = events["at"].astype(str).str[:10]
    window = day <= as_of
    if since is not None:
        window &= day > since
    first = events["from_state"].isna() & window
    closed = (events["to_state"] == "closed") & window
    return (
        sorted(set(events.loc[first, "patch_id"].astype(str))),
        sorted(set(events.loc[closed, "patch_id"].astype(str))),
    )


def _previous_export(out_dir: Path, as_of: str) -> str | None:
    days = [m.group(1) for p in out_dir.iterdir() if (m := _DATED.match(p.name))]
    earlier = [d for d in days if d < as_of]
    return max(earlier) if earlier else None


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """The ledger columns with Chinese headers and labelled values (a new frame)."""
    out = pd.DataFrame(index=frame.index)
    for column in LEDGER_COLUMNS:
        if column not in frame:
            continue
        values = frame[column]
        if column in _LABELLED:
            table = _LABELLED[column]
            values = values.map(lambda v, t=table: label(t, v) if pd.notna(v) else v)
        out[COLUMNS[column]] = values
    return out


def _tmp(out_dir: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=Path(name).suffix, dir=out_dir)
    os.close(fd)
    Path(tmp).unlink()
    return Path(tmp)


def _write_csv(frame: pd.DataFrame, target: Path) -> Path:
    tmp = _tmp(target.parent, target.name)
    try:
        _labelled(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
        return _replace_or_fallback(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_gpkg(frame: gpd.GeoDataFrame, target: Path) -> Path:
    tmp = _tmp(target.parent, target.name)
    try:
        snapshot = gpd.GeoDataFrame(_labelled(frame), geometry=frame.geometry.values, crs=frame.crs)
        snapshot.to_file(tmp, layer=EXPORT["layer"], driver="GPKG", engine="pyogrio")
        return _replace_or_fallback(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_shp(frame: gpd.GeoDataFrame, target: Path) -> tuple[Path, pd.DataFrame]:
    work = Path(tempfile.mkdtemp(prefix=f".{target.stem}.", dir=target.parent))
    try:
        _, aliases = write_shapefile(frame, work / target.name, encoding=ENCODING)
        for part in sorted(work.iterdir()):
            _replace_or_fallback(part, target.with_suffix(part.suffix))
        return target, aliases
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_aliases(aliases: pd.DataFrame, target: Path) -> Path:
    tmp = _tmp(target.parent, target.name)
    try:
        aliases.to_excel(tmp, sheet_name=EXPORT["aliases"], index=False, engine="xlsxwriter")
        return _replace_or_fallback(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def export_ledger(
    ledger: Any,
    out_dir: str | os.PathLike,
    *,
    as_of: str | None = None,
    since: str | None = None,
    title: str | None = None,
) -> ExportResult:
    """Write the dated exports of ``ledger`` into ``out_dir``, under the directory's lock.

    Files (``D`` = ``as_of``): ``ledger_D.xlsx`` (summary with 本期新增 and
    本期销号, the full ledger sheet and one sheet per township),
    ``ledger_D.csv`` (UTF-8 with BOM, Chinese headers), ``ledger_D.gpkg``
    (layer 图斑台账), ``ledger_D_gbk.shp`` with its sidecars (GBK, field codes
    of at most 10 bytes) and ``ledger_D_gbk_fields.xlsx`` (code → Chinese
    name). A rerun with the same ``as_of`` replaces the same files.

    Parameters
    ----------
    ledger : Ledger
        The open ledger (read only).
    out_dir : path-like
        Created if missing.
    as_of : str, optional
        ISO day the data stand at (overdue days are counted to it); default today (UTC+8).
    since : str, optional
        ISO day the previous period ended; default the date of the latest
        ``ledger_<date>.xlsx`` in ``out_dir`` before ``as_of`` (none: count all).
    title : str, optional
        Title of the summary sheet.

    Returns
    -------
    ExportResult

    Raises
    ------
    ExportLockedError
        If another export into ``out_dir`` is running.
    ValueError
        If ``as_of`` or ``since`` is not an ISO date.
    """
    day = as_date(as_of).isoformat()
    start = as_date(since).isoformat() if since is not None else None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with export_lock(out):
        if start is None:
            start = _previous_export(out, day)
        frame = ledger.status_frame(as_of=day)
        period = period_ids(ledger.events(), since=start, as_of=day)
        stem = f"ledger_{day}"
        xlsx = write_ledger_xlsx(
            frame,
            out / f"{stem}.xlsx",
            as_of=day,
            title=title,
            period=period,
            township_sheets=True,
        )
        csv = _write_csv(frame, out / f"{stem}.csv")
        gpkg = _write_gpkg(frame, out / f"{stem}.gpkg")
        shp, aliases = _write_shp(frame, out / f"{stem}_gbk.shp")
        alias_path = _write_aliases(aliases, out / f"{stem}_gbk_fields.xlsx")
    logger.info("export %s: %d patches into %s (since %s)", day, len(frame), out, start)
    return ExportResult(
        as_of=day,
        since=start,
        rows=len(frame),
        new=len(period[0]),
        closed=len(period[1]),
        xlsx=xlsx,
        csv=csv,
        gpkg=gpkg,
        shp=shp,
        aliases=alias_path,
    )


def schedule_lines(
    ledger: str | os.PathLike,
    *,
    out_dir: str | os.PathLike,
    weekday: str = "MON",
    time: str = "08:00",
    hetu: str = "hetu",
    log: str | os.PathLike | None = None,
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
    hetu : str
        The ``hetu`` executable (a full path is safest for schedulers).
    log : path-like, optional
        File the cron job appends its output to; default ``out_dir/export.log``.

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
    day = weekday.upper()[:3]
    if day not in _WEEKDAYS:
        raise ValueError(f"weekday {weekday!r}: use one of {', '.join(_WEEKDAYS)}")
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", time)
    if match is None:
        raise ValueError(f"time {time!r}: use HH:MM, 24-hour, e.g. 08:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    led, out = Path(ledger).resolve(), Path(out_dir).resolve()
    logfile = Path(log).resolve() if log is not None else out / "export.log"
    posix = shlex.join([hetu, "export", str(led), "-o", str(out)])
    cron_day = (_WEEKDAYS.index(day) + 1) % 7
    cron = (
        f"CRON_TZ=Asia/Shanghai\n{minute} {hour} * * {cron_day} "
        f"{posix} >> {shlex.quote(str(logfile))} 2>&1"
    )
    service = (
        "[Unit]\nDescription=Hetu weekly ledger export\n\n"
        f"[Service]\nType=oneshot\nExecStart={posix}\n"
    )
    timer = (
        "[Unit]\nDescription=Hetu weekly ledger export\n\n"
        f"[Timer]\nOnCalendar={day.title()} *-*-* {hour:02d}:{minute:02d}:00 Asia/Shanghai\n"
        "Persistent=true\n\n[Install]\nWantedBy=timers.target\n"
    )
    command = f'\\"{hetu}\\" export \\"{led}\\" -o \\"{out}\\"'
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
