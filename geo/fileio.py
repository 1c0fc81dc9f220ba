"""Writing files safely: the one atomic write and the one table writer.

A file Hetu writes is either complete or absent: the content goes to a
temporary file with a unique name beside the target, is flushed to disk, and
the temporary file is then renamed over the target (which keeps its
permissions); the temporary file is removed on any failure.

- :func:`write_atomic` writes bytes and :func:`copy_atomic` copies a file.
- :func:`atomic_path` lends a library that writes by file name (openpyxl,
  GDAL, Folium, pandas) a temporary path that becomes the target on success;
  :func:`xlsx_workbook` does the same for an xlsxwriter workbook.
- :func:`temp_beside` and :func:`move_into_place` are the two halves of
  :func:`atomic_path`, for a writer that decides at the end where the file
  goes (the exports' fallback name when Excel holds the target open).
- :func:`staging_folder` lends a run that writes several files a temporary
  folder on the output folder's file system; each file is then moved into
  place with :func:`move_into_place` (the notices, once their events commit).
- :func:`write_table` writes a table as ``.xlsx`` or CSV with text that a
  spreadsheet would run as a formula kept as text.

Standard library only at import time; pandas and xlsxwriter are imported by
the functions that need them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import xlsxwriter

__all__ = [
    "DISK_FULL_ERRNOS",
    "FORMULA_START",
    "XLSX_TEXT",
    "atomic_path",
    "copy_atomic",
    "move_into_place",
    "staging_folder",
    "temp_beside",
    "write_atomic",
    "write_table",
    "xlsx_workbook",
]

#: xlsxwriter options under which text is written as text: never a formula, a number or a link.
XLSX_TEXT = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: ``errno`` values of a write that found no room: a full disk, a file-size limit, a full quota.
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


@contextlib.contextmanager
def temp_beside(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a unique temporary path in the directory of ``path``; remove it when the block ends.

    The file is not created (GDAL insists on creating it); its name is hidden
    (a leading dot) and ends in the target's suffix, for libraries that choose
    the format by the suffix. Whatever is still at the path when the block
    ends, normally or by an exception, is removed.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}-{secrets.token_hex(4)}{target.suffix}")
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def staging_folder(folder: str | os.PathLike, *, prefix: str = ".hetu-") -> Iterator[Path]:
    """Yield a new empty folder on the file system of ``folder``; remove it when the block ends.

    For files written first and moved into ``folder`` (which must exist) at the
    end, each by a rename (:func:`move_into_place`). The folder is beside
    ``folder``, or inside it (hidden by the leading dot of ``prefix``) when
    ``folder`` is a mount point or its parent is not writable. Whatever it still
    holds when the block ends, normally or by an exception, is removed.
    """
    target = Path(folder)
    parent = target.parent
    if (
        parent.resolve() == target.resolve()
        or parent.stat().st_dev != target.stat().st_dev
        or not os.access(parent, os.W_OK | os.X_OK)
    ):
        parent = target
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def move_into_place(tmp: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Flush ``tmp`` to disk and rename it over ``target``, which keeps its permissions.

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    PermissionError
        On Windows, when another program (Excel) holds ``target`` open.
    """
    dest = Path(target)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    with contextlib.suppress(FileNotFoundError):
        os.chmod(tmp, stat.S_IMODE(dest.stat().st_mode))
    os.replace(tmp, dest)
    return dest


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is moved over ``path``.

    For libraries that write by file name: ``with atomic_path(p) as tmp:
    book.save(tmp)``. If the block raises, ``path`` is left as it was and the
    temporary file is removed.
    """
    with temp_beside(path) as tmp:
        yield tmp
        move_into_place(tmp, path)


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextlib.contextmanager
def deferred_writes() -> Iterator[Callable[[str | os.PathLike, bytes], Path]]:
    """Yield ``write(path, data)`` for many small files, each atomic, flushed to disk once.

    Each file is written under a hidden temporary name beside its target; when the
    block ends normally, everything is flushed to disk at once (``syncfs`` of the
    file system they are on, not a ``fsync`` per file: that was most of the cost of a
    small file; see :func:`_flush`) and each file is
    renamed over its target. If the block raises, no target is touched and the
    temporary files are removed. ``write`` may be called from several threads.
    """
    pending: list[tuple[Path, Path]] = []

    def write(path: str | os.PathLike, data: bytes) -> Path:
        target = Path(path)
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
        pending.append((tmp, target))  # first, so that a failed write is cleaned up too
        tmp.write_bytes(data)
        return target

    try:
        yield write
        if pending:
            _flush([tmp for tmp, _ in pending])
        for tmp, target in pending:
            os.replace(tmp, target)
        pending.clear()  # all in place: nothing left to remove
    finally:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def background_writes(
    write: Callable[[str | os.PathLike, bytes], Path], *, depth: int = 64
) -> Iterator[Callable[[str | os.PathLike, bytes], Path]]:
    """Yield a ``write(path, data)`` that hands each call of ``write`` to a thread of its own.

    For many small files where creating each costs a millisecond or more (ext4 here): the
    caller goes on computing while the file is created. The wrapper may be called from
    several threads; ``write`` is called from one only.

    Parameters
    ----------
    write : callable
        ``write(path, data) -> Path``, e.g. the one :func:`deferred_writes` yields.
    depth : int
        At most this many writes wait at a time; the caller then waits for the oldest.

    Yields
    ------
    callable
        ``write(path, data) -> Path`` (the path given), returning at once.

    Raises
    ------
    Exception
        The first failure of ``write``: when the caller waits for it, or when the block
        ends (every write is done by then).
    """
    waiting: deque[Future[Path]] = deque()
    lock = threading.Lock()

    def later(path: str | os.PathLike, data: bytes) -> Path:
        with lock:
            oldest = waiting.popleft() if len(waiting) >= depth else None
            waiting.append(pool.submit(write, path, data))
        if oldest is not None:
            oldest.result()
        return Path(path)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hetu-writes") as pool:
        yield later
    for done in waiting:
        done.result()


def _flush(files: list[Path]) -> None:
    """Flush ``files`` to disk: one ``syncfs`` per file system they lie on (Linux).

    ``syncfs`` flushes only that file system, not every disk of the machine as
    ``sync`` does; where it is missing (not Linux), each file is ``fsync``-ed.
    """
    import ctypes

    syncfs = None
    with contextlib.suppress(OSError, AttributeError):
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    if syncfs is None:
        for path in files:
            with open(path, "rb+") as fh:
                os.fsync(fh.fileno())
        return
    done: set[int] = set()
    for path in files:
        device = path.stat().st_dev
        if device in done:
            continue
        done.add(device)
        fd = os.open(path, os.O_RDONLY)
        try:
            if syncfs(fd) != 0:
                code = ctypes.get_errno()
                raise OSError(code, os.strerror(code), str(path))
        finally:
            os.close(fd)


def copy_atomic(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy the file ``src`` to ``dst`` atomically; return ``dst``."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dst)


@contextlib.contextmanager
def xlsx_workbook(path: str | os.PathLike) -> Iterator[xlsxwriter.Workbook]:
    """Yield an xlsxwriter workbook (text stays text: :data:`XLSX_TEXT`) saved atomically.

    Its sheets print as :func:`print_setup` sets them, unless the writer set its own fit.
    """
    import xlsxwriter

    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(tmp, XLSX_TEXT)
        yield book
        print_setup(book)
        book.close()


def print_setup(book: xlsxwriter.Workbook) -> None:
    """Let every sheet of ``book`` print as an office prints a 台账: A4 landscape, one page wide.

    All columns fit one page width, with as many pages down as needed; without it a wide
    sheet prints its columns over several pages, in Excel, WPS and LibreOffice alike. A
    sheet whose writer chose its own fit keeps it.
    """
    for sheet in book.worksheets():
        if not sheet.fit_page:
            sheet.set_paper(9)  # A4
            sheet.set_landscape()
            sheet.fit_to_pages(1, 0)


def _defused(value: Any) -> Any:
    """A text a spreadsheet would take for a formula, with a leading apostrophe; else ``value``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers cannot run as formulas in a spreadsheet."""
    import pandas as pd

    out = frame.copy()
    texts = (pd.StringDtype, pd.CategoricalDtype)
    for i, dtype in enumerate(out.dtypes):
        if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, texts):
            out.isetitem(i, out.iloc[:, i].map(_defused))
    out.columns = [_defused(c) for c in out.columns]
    return out


def write_tables(frames: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write several tables as the sheets of one ``.xlsx`` (sheet name → table), atomically.

    Text stays text (:data:`XLSX_TEXT`), as in :func:`write_table`; sheet names are cut to
    Excel's 31 characters.
    """
    import pandas as pd

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        options = {"options": XLSX_TEXT}
        with pd.ExcelWriter(tmp, engine="xlsxwriter", engine_kwargs=options) as writer:
            for name, frame in frames.items():
                frame.to_excel(writer, sheet_name=str(name)[:31], index=False)
    return target


def write_table(
    frame: pd.DataFrame,
    path: str | os.PathLike,
    *,
    sheet: str = "Sheet1",
    place: Callable[[Path, Path], Path] = move_into_place,
) -> Path:
    """Write a table, without its index, as ``.xlsx`` (by the suffix) or CSV, atomically.

    The CSV is UTF-8 with a byte-order mark, which Excel opens. Text is never
    run as a formula: in ``.xlsx`` every text is a string cell (no formula,
    number or link, :data:`XLSX_TEXT`); a CSV has no cell types, so a text
    starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading apostrophe (:data:`FORMULA_START`). Numbers stay numbers. Missing
    folders are created.

    Parameters
    ----------
    frame : DataFrame
        The table; its column labels are the headers.
    path : path-like
        The ``.xlsx`` or ``.csv`` file.
    sheet : str
        The sheet's name in ``.xlsx``.
    place : callable
        ``place(tmp, target) -> path written``, moving the finished temporary
        file into place; default :func:`move_into_place`.

    Returns
    -------
    pathlib.Path
        The file written (what ``place`` returned).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with temp_beside(target) as tmp:
        if target.suffix.lower() == ".xlsx":
            import pandas as pd

            options = {"options": XLSX_TEXT}
            with pd.ExcelWriter(tmp, engine="xlsxwriter", engine_kwargs=options) as writer:
                frame.to_excel(writer, sheet_name=sheet, index=False)
                print_setup(writer.book)
        else:
            _csv_safe(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
        return place(tmp, target)
