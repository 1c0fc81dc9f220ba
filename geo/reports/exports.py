"""Scheduled exports of the ledger: one locked, idempotent, logged and recorded run.

:func:`export_ledger` writes the dated outputs of one run into a directory —
the Excel 台账, a UTF-8-with-BOM CSV, a GeoPackage snapshot and the legacy GBK
shapefile with its alias sheet. The names depend only on ``as_of``, so a rerun
replaces the same files. A lock file in the directory keeps two runs from
overlapping.

The set is written together: every file of a run goes into a staging folder
beside the output folder (``.<out>.hetu-export-…``; inside it, hidden, when the
output folder is a mount point or its parent is not writable, so that each move
stays a rename on one file system), and only when all are written are they
renamed into place, the Excel 台账 last. A reader (Excel, QGIS, a province
upload job) sees each file old or new, never half of one, and a run that fails
or is interrupted leaves the previous set as it was and no temporary file. A
run killed outright (``kill -9``, a power cut) leaves its staging folder; the
next run, holding the lock, moves the files of a killed run that had finished
writing into place (it was killed while renaming) and removes the others.

Each run appends one line to a log file when asked (``log_file``) and records
itself in the ledger (its ``exports`` table), whose latest successful export
starts the next period.

:data:`EXIT_CODES` lists the exit codes of ``hetu export`` that schedulers see;
:mod:`geo.reports.timers` schedules the run (crontab, systemd timer, schtasks).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd

from geo.clock import as_date, now
from geo.errors import ExportLockedError, TemplateError
from geo.fileio import staging_folder, write_atomic, write_table
from geo.labels import COLUMNS, EXPORT, ISSUE_TYPES, LEDGER_FORM, RELATIONS, STATES, label
from geo.ledger.gpkg import GDAL_OPTIONS
from geo.progress import Progress, expect
from geo.reports.excel import Period, _replace_or_fallback, ledger_columns, write_ledger_xlsx
from geo.reports.province_template import fill_template
from geo.reports.shapefile import ENCODING, write_shapefile

__all__ = [
    "EXIT_CODES",
    "LOCK_NAME",
    "ExportLockedError",
    "ExportResult",
    "exit_code",
    "export_ledger",
    "export_lock",
    "period_ids",
]

logger = logging.getLogger("geo")
#: Logger of the one-line run records; a file handler is attached only during a run.
run_logger = logging.getLogger("geo.reports.exports.runs")

#: Exit codes of ``hetu export`` (what cron, systemd and Task Scheduler see):
#: ``ok`` 0 — the files were written and the export recorded; ``error`` 1 — a
#: library or file error (one line on stderr, a ``failed`` line in the log and,
#: where the ledger could be written, a ``failed`` export record); ``usage`` 2 —
#: bad options (click); ``locked`` 3 — another export into the same folder holds
#: the lock, nothing was written (the next scheduled run catches up).
EXIT_CODES: dict[str, int] = {"ok": 0, "error": 1, "usage": 2, "locked": 3}

#: Name of the lock file held in the output directory during a run.
LOCK_NAME = ".hetu-export.lock"
#: Written into a staging folder once every file of the set is in it (then moved into place).
_COMPLETE = ".complete"
_DATED = re.compile(r"^ledger_(\d{4}-\d{2}-\d{2})\.xlsx$")
_LABELLED = {"issue_type": ISSUE_TYPES, "relation": RELATIONS, "state": STATES}


def exit_code(exc: BaseException | None) -> int:
    """Return the :data:`EXIT_CODES` value of a run that raised ``exc`` (``None``: success)."""
    if exc is None:
        return EXIT_CODES["ok"]
    return EXIT_CODES["locked" if isinstance(exc, ExportLockedError) else "error"]


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
    province : pathlib.Path, optional
        The filled province template, when one was given.
    chain_head : str
        The ledger's chain head when the data were read (``Ledger.chain_head``, whole
        hash), also in the run's log line and the ledger's export record: ``hetu verify
        --anchor`` checks the history still holds it. Empty for a ledger without one.
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
    province: Path | None = None
    chain_head: str = ""

    @property
    def files(self) -> list[Path]:
        """The main files, in the order a CLI prints them."""
        main = [self.xlsx, self.csv, self.gpkg, self.shp, self.aliases]
        return main if self.province is None else [*main, self.province]


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
    for column in ledger_columns(frame):
        if column not in frame:
            continue
        values = frame[column]
        if column in _LABELLED:
            table = _LABELLED[column]
            values = values.map(lambda v, t=table: label(t, v) if pd.notna(v) else v)
        out[COLUMNS[column]] = values
    return out


def _staging_prefix(out: Path) -> str:
    """The name every staging folder of ``out`` starts with."""
    return f".{out.name}.hetu-export-"


def _staging_places(out: Path) -> list[Path]:
    """Where a staging folder of ``out`` may be: beside it, else inside it."""
    return [out.parent, out]


def _publish(work: Path, out: Path) -> dict[str, Path]:
    """Rename the files of ``work`` into ``out``, the Excel 台账 last; return name -> path.

    A target held open (Excel on Windows) gets a timestamped name beside it.
    """
    files = [f for f in work.iterdir() if f.is_file() and f.name != _COMPLETE]
    files.sort(key=lambda f: (_DATED.match(f.name) is not None, f.name))
    return {f.name: _replace_or_fallback(f, out / f.name) for f in files}


def _clean_stale(out: Path) -> None:
    """Finish or remove the staging folders of earlier runs killed outright (under the lock).

    A run killed while renaming its finished set (its folder holds
    :data:`_COMPLETE`) has the rest of its files moved into place; any other
    staging folder is removed with what it holds.
    """
    prefix = _staging_prefix(out)
    for place in _staging_places(out):
        try:
            found = sorted(p for p in place.iterdir() if p.name.startswith(prefix) and p.is_dir())
        except OSError:  # a parent folder this user may not list holds none of ours
            continue
        for stale in found:
            if (stale / _COMPLETE).is_file():
                moved = _publish(stale, out)
                logger.info("export: %d file(s) of a killed run moved into %s", len(moved), out)
            shutil.rmtree(stale, ignore_errors=True)
            logger.info("export: removed %s, left by a run that was killed", stale)


def _write_csv(frame: pd.DataFrame, target: Path) -> Path:
    return write_table(_labelled(frame), target)


def _write_gpkg(frame: gpd.GeoDataFrame, target: Path) -> Path:
    snapshot = gpd.GeoDataFrame(_labelled(frame), geometry=frame.geometry.values, crs=frame.crs)
    snapshot.to_file(target, layer=EXPORT["layer"], driver="GPKG", engine="pyogrio",
                     dataset_options=GDAL_OPTIONS)  # fmt: skip
    return target


def _write_aliases(aliases: pd.DataFrame, target: Path) -> Path:
    return write_table(aliases, target, sheet=EXPORT["aliases"])


def _message(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())


def _overdue_unit(ledger: Any) -> str:
    """How the ledger counts overdue days: 工作日, or 自然日 (``[calendar] count = "calendar"``)."""
    settings = getattr(ledger, "settings", None)
    counted = settings is None or settings.calendar is not None
    return LEDGER_FORM["workdays" if counted else "calendar"]


def _previous_recorded(ledger: Any, as_of: str) -> str | None:
    """The ``as_of`` of the ledger's latest successful export before ``as_of``, if recorded."""
    exports = getattr(ledger, "exports", None)
    if exports is None:
        return None
    frame = exports()
    if frame.empty:
        return None
    days = frame.loc[frame["status"] == "ok", "as_of"].astype(str).str[:10]
    earlier = days[days < as_of]
    return str(earlier.max()) if len(earlier) else None


def _record(ledger: Any, **fields: Any) -> None:
    """Record the run in the ledger's exports table (one short write transaction).

    A ledger without one (a store older than migration 0004) records nothing.
    """
    record = getattr(ledger, "record_export", None)
    if record is not None:
        record(**fields)


@contextmanager
def _run_log(log_file: str | os.PathLike | None) -> Iterator[None]:
    """Attach a file handler to :data:`run_logger` for one run (none without ``log_file``)."""
    if log_file is None:
        yield
        return
    path = Path(log_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = run_logger.level
    run_logger.addHandler(handler)
    if level == logging.NOTSET or level > logging.INFO:
        run_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        run_logger.setLevel(level)
        run_logger.removeHandler(handler)
        handler.close()


def _log_run(entry: dict[str, Any]) -> None:
    entry["end"] = now().isoformat()
    line = json.dumps(entry, ensure_ascii=False)
    run_logger.log(logging.INFO if entry["status"] == "ok" else logging.ERROR, line)


def export_ledger(
    ledger: Any,
    out_dir: str | os.PathLike,
    *,
    as_of: str | None = None,
    since: str | None = None,
    title: str | None = None,
    log_file: str | os.PathLike | None = None,
    template: str | os.PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the dated exports of ``ledger`` into ``out_dir``, under the directory's lock.

    Files (``D`` = ``as_of``): ``ledger_D.xlsx`` (summary with 本期新增 and
    本期销号, the full ledger sheet and one sheet per township),
    ``ledger_D.csv`` (UTF-8 with BOM, Chinese headers), ``ledger_D.gpkg``
    (layer 图斑台账), ``ledger_D_gbk.shp`` with its sidecars (GBK, field codes
    of at most 10 bytes) and ``ledger_D_gbk_fields.xlsx`` (code → Chinese
    name); with a province ``template``, also ``ledger_D_province.xlsx``
    (:func:`geo.reports.province_template.fill_template`). A rerun with the same ``as_of``
    replaces the same files (and, the previous period being found the same
    way, with the same contents).

    The run records itself in the ledger (``Ledger.record_export``: status
    ``ok`` with the files and counts ``rows``, ``new``, ``closed``, or
    ``failed`` with the error), after the files are written, in one short
    write transaction; a run refused by the lock records nothing.

    Parameters
    ----------
    ledger : Ledger
        The open ledger; read, then written once to record the run.
    out_dir : path-like
        Created if missing.
    as_of : str, optional
        ISO day the data stand at (overdue days are counted to it); default today (UTC+8).
    since : str, optional
        ISO day the previous period ended; default the ``as_of`` of the
        ledger's latest successful recorded export before ``as_of``, else the
        date of the latest ``ledger_<date>.xlsx`` in ``out_dir`` before
        ``as_of`` (none: count all).
    title : str, optional
        Title of the summary sheet.
    log_file : path-like, optional
        File to append one JSON line per run to (keys ``start``, ``end``,
        ``as_of``, ``since``, ``status`` — ``ok``, ``failed`` or ``locked`` —,
        ``counts``, ``files``, ``error``, and ``chain_head`` on success); the handler is
        attached to :data:`run_logger` for the run only.
    template : path-like, optional
        A province ``.xlsx`` template to fill as well, with ``column_map``.
    column_map : mapping, optional
        Header → source for ``template``
        (see :func:`geo.reports.province_template.load_column_map`).
    progress : Progress, optional
        Told how many files to expect, then of each file written (the shapefile with its
        sidecars is one) (:mod:`geo.progress`).

    Returns
    -------
    ExportResult

    Raises
    ------
    ExportLockedError
        If another export into ``out_dir`` is running.
    ValueError
        If ``as_of`` or ``since`` is not an ISO date.
    LedgerError
        If the files were written but the ledger could not record the export.
    TemplateError
        If ``template`` and ``column_map`` do not fit (checked before anything is written).
    """
    entry: dict[str, Any] = dict(
        start=now().isoformat(), end=None, as_of=as_of, since=since, status="failed"
    )
    entry.update(counts={}, files=[], error="")
    with _run_log(log_file):
        try:
            province = (template, column_map) if template is not None else None
            result = _export_recorded(
                ledger, Path(out_dir), as_of, since, title, province, entry, progress
            )
        except Exception as exc:
            locked = isinstance(exc, ExportLockedError)
            entry.update(status="locked" if locked else "failed", error=_message(exc))
            _log_run(entry)
            raise
        entry["status"] = "ok"
        _log_run(entry)
    logger.info("export %s: %d patches into %s", result.as_of, result.rows, out_dir)
    return result


def _export_recorded(
    ledger: Any,
    out: Path,
    as_of: str | None,
    since: str | None,
    title: str | None,
    province: tuple[Any, Mapping[str, str] | None] | None,
    entry: dict[str, Any],
    progress: Progress | None,
) -> ExportResult:
    """Parse the days, take the lock, write, record; fill ``entry`` on the way."""
    day = as_date(as_of).isoformat()
    start = as_date(since).isoformat() if since is not None else None
    entry.update(as_of=day, since=start)
    out.mkdir(parents=True, exist_ok=True)
    with export_lock(out):
        _clean_stale(out)
        if start is None:
            start = _previous_recorded(ledger, day) or _previous_export(out, day)
            entry["since"] = start
        record = {"as_of": day, "since": start, "started_at": entry["start"]}
        try:
            with staging_folder(
                out, prefix=_staging_prefix(out)
            ) as work:  # the set, written together (see the module doc)
                staged = _write_set(ledger, work, day, start, title, province, progress)
                result = _publish_set(staged, work, out)
        except Exception as exc:
            try:
                _record(ledger, **record, files=[], counts={}, status="failed",
                        message=_message(exc))  # fmt: skip
            except Exception as again:  # the ledger itself may be what failed
                logger.warning("export %s: failure not recorded in the ledger: %s", day, again)
            raise
        files = [str(p) for p in result.files]
        counts = {"rows": result.rows, "new": result.new, "closed": result.closed}
        entry.update(files=files, counts=counts, chain_head=result.chain_head or None)
        _record(ledger, **record, files=files, counts=counts, status="ok",
                chain_head=result.chain_head or None)  # fmt: skip
    return result


def _field_work(ledger: Any, day: str, start: str | None) -> tuple[Any, Any]:
    """Shoreline coverage and patrol completion over the period (the month without one)."""
    from geo.field.coverage import coverage_ledger
    from geo.field.patrols import patrols_ledger

    if not hasattr(ledger, "tracks") or ledger.tracks().empty:
        return None, None
    end = as_date(day)
    first = as_date(start) + dt.timedelta(days=1) if start else end.replace(day=1)
    settings = ledger.settings
    coverage = coverage_ledger(ledger, within_m=settings.survey_within_m, start=first, end=end)
    patrols = patrols_ledger(ledger, start=first, end=end)
    return coverage, patrols


def _publish_set(staged: ExportResult, work: Path, out: Path) -> ExportResult:
    """Mark the staged set finished, rename it into ``out``; return it with the final paths."""
    write_atomic(work / _COMPLETE, "\n".join(sorted(f.name for f in work.iterdir())).encode())
    placed = _publish(work, out)
    paths = {k: placed[getattr(staged, k).name] for k in ("xlsx", "csv", "gpkg", "shp", "aliases")}
    filled = None if staged.province is None else placed[staged.province.name]
    return replace(staged, province=filled, **paths)


def _write_set(
    ledger: Any,
    work: Path,
    day: str,
    start: str | None,
    title: str | None,
    province: tuple[Any, Mapping[str, str] | None] | None,
    progress: Progress | None,
) -> ExportResult:
    """Write every file of the set into the staging folder ``work``."""
    tick = expect(progress, 5 + (province is not None))
    head = ledger.chain_head() if hasattr(ledger, "chain_head") else None
    frame = ledger.status_frame(as_of=day)
    filled = None
    if province is not None:
        template, column_map = province
        if not column_map:
            raise TemplateError(f"{template}: a province template needs a column map")
        target = work / f"ledger_{day}_province.xlsx"  # the template keeps its own title
        filled = fill_template(frame, template, target, column_map=column_map)
        tick(1)
    period = period_ids(ledger.events(as_of=day), since=start, as_of=day)
    stem = f"ledger_{day}"
    coverage, patrols = _field_work(ledger, day, start)
    xlsx = write_ledger_xlsx(
        frame,
        work / f"{stem}.xlsx",
        as_of=day,
        title=title,
        period=period,
        township_sheets=True,
        coverage=coverage,
        patrols=patrols,
        chain_head=head.code if head else None,
        overdue_unit=_overdue_unit(ledger),
    )
    tick(1)
    csv = _write_csv(frame, work / f"{stem}.csv")
    tick(1)
    gpkg = _write_gpkg(frame, work / f"{stem}.gpkg")
    tick(1)
    shp, aliases = write_shapefile(frame, work / f"{stem}_gbk.shp", encoding=ENCODING)
    tick(1)
    alias_path = _write_aliases(aliases, work / f"{stem}_gbk_fields.xlsx")
    tick(1)
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
        province=filled,
        chain_head=head.full if head else "",
    )
