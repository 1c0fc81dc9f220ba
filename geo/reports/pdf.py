"""PDFs of the documents Hetu writes, printed by a headless Chromium.

Notices and dossiers are HTML first (the record that stands); a PDF is printed
beside each when a Chromium or Chrome is installed, a few browsers at a time.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from geo.errors import SettingsError
from geo.fileio import write_atomic
from geo.progress import Progress, no_progress

__all__ = ["find_pdf_converter", "html_to_pdf", "pdf_converter", "print_pdfs"]

log = logging.getLogger(__name__)


_PDF_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_pdf_converter() -> str | None:
    """Return the path of a headless Chromium/Chrome to print PDFs with, or ``None``."""
    for name in _PDF_BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def html_to_pdf(html: Path, pdf: Path, *, browser: str, timeout: float = 120.0) -> None:
    """Print an HTML file to PDF with a headless Chromium, written atomically.

    Raises
    ------
    OSError, subprocess.SubprocessError
        If the browser cannot run, fails, times out or writes nothing.
    """
    with tempfile.TemporaryDirectory(prefix="hetu-pdf-") as work:
        tmp = Path(work) / "out.pdf"
        cmd = [browser, "--headless", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-pdf-header-footer", f"--user-data-dir={work}/profile",
               f"--print-to-pdf={tmp}", html.resolve().as_uri()]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise subprocess.SubprocessError(f"{browser} wrote no PDF for {html}")
        write_atomic(pdf, tmp.read_bytes())


def pdf_converter(pdf: bool | None) -> str | None:
    """The PDF converter to use: ``None`` when ``pdf`` is False or none is found.

    Raises
    ------
    SettingsError
        If ``pdf`` is True (PDFs required) and no converter is installed.
    """
    if pdf is False:
        return None
    browser = find_pdf_converter()
    if browser is None and pdf:
        raise SettingsError("no PDF converter found: install chromium, or leave the PDF out")
    return browser


def print_pdfs(
    paths: list[Path], *, browser: str, progress: Progress | None = None
) -> tuple[list[Path], list[Path]]:
    """Print each HTML file to a PDF beside it, a few browsers at a time.

    Parameters
    ----------
    paths : list of Path
        The HTML files.
    browser : str
        The converter (:func:`find_pdf_converter`).
    progress : Progress, optional
        Told of each file done, printed or failed (:mod:`geo.progress`).

    Returns
    -------
    printed, failed : list of Path
        The PDFs written, and the HTML files whose PDF failed (logged; the HTML stands).
    """

    def one(path: Path) -> BaseException | None:
        try:
            html_to_pdf(path, path.with_suffix(".pdf"), browser=browser)
        except (OSError, subprocess.SubprocessError) as exc:
            return exc
        return None

    printed: list[Path] = []
    failed: list[Path] = []
    tick = progress or no_progress
    if not paths:
        return printed, failed
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(paths))) as pool:
        for path, exc in zip(paths, pool.map(one, paths), strict=True):
            if exc is None:
                printed.append(path.with_suffix(".pdf"))
            else:
                log.warning("%s: PDF not written (%s); the HTML stands", path, exc)
                failed.append(path)
            tick(1)
    return printed, failed
