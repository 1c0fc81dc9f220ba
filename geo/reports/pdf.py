"""PDFs of the documents Hetu writes, printed by a headless Chromium.

Notices and dossiers are HTML first (the record that stands); a PDF is printed
beside each when a Chromium or Chrome is installed, its text layer repaired so that
search and copy find every character (:mod:`geo.reports.pdf_text`). With Playwright installed, every
document goes through one browser session (:func:`print_in_one_browser`: one page
after another, no browser started per document); without it, or where its sync API
cannot run (inside an asyncio loop, e.g. a notebook), one headless browser per
document, a few at a time (:func:`html_to_pdf`).
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
from geo.reports.pdf_text import repair_text_layer

__all__ = [
    "find_pdf_converter",
    "html_to_pdf",
    "pdf_converter",
    "print_in_one_browser",
    "print_pdfs",
]

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
        write_atomic(pdf, repair_text_layer(tmp.read_bytes()))


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


def _browser_args() -> list[str]:
    args = ["--disable-gpu", "--disable-dev-shm-usage"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root otherwise
    return args


def print_in_one_browser(
    paths: list[Path], *, browser: str, progress: Progress | None = None
) -> tuple[list[Path], list[Path]] | None:
    """Print each HTML file to a PDF beside it through one headless browser session.

    Uses Playwright's DevTools connection to the installed ``browser`` (no browser is
    downloaded). Each PDF is written atomically; the page's own ``@page`` size and
    margins apply.

    Returns
    -------
    (printed, failed) or None
        ``None`` when Playwright is not installed, cannot run here (an asyncio loop is
        running) or the browser does not start: the caller prints another way.
    """
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    tick = progress or no_progress
    printed: list[Path] = []
    failed: list[Path] = []
    try:
        with sync_playwright() as play:
            chromium = play.chromium.launch(executable_path=browser, args=_browser_args())
            try:
                page = chromium.new_context().new_page()
                for path in paths:
                    target = path.with_suffix(".pdf")
                    try:
                        page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
                        data = page.pdf(prefer_css_page_size=True, print_background=True)
                        write_atomic(target, repair_text_layer(data))
                    except (PlaywrightError, OSError) as exc:
                        log.warning("%s: PDF not written (%s); the HTML stands", path, exc)
                        failed.append(path)
                    else:
                        printed.append(target)
                    tick(1)
            finally:
                chromium.close()
    except PlaywrightError as exc:
        if printed or failed:
            done = {*printed, *(p.with_suffix(".pdf") for p in failed)}
            failed.extend(p for p in paths if p.with_suffix(".pdf") not in done)
            log.warning("PDF browser session ended early (%s); the HTML stands", exc)
            return printed, failed
        log.info("one-browser PDF printing unavailable (%s); one browser per document", exc)
        return None
    return printed, failed


def print_pdfs(
    paths: list[Path],
    *,
    browser: str,
    progress: Progress | None = None,
    one_session: bool = True,
) -> tuple[list[Path], list[Path]]:
    """Print each HTML file to a PDF beside it.

    Through one browser session (:func:`print_in_one_browser`) where Playwright can
    run, else one browser per document, a few at a time.

    Parameters
    ----------
    paths : list of Path
        The HTML files.
    browser : str
        The converter (:func:`find_pdf_converter`).
    progress : Progress, optional
        Told of each file done, printed or failed (:mod:`geo.progress`).
    one_session : bool
        Try the one-session path first (``False``: one browser per document, as
        ``scripts/bench_documents.py`` compares).

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
    if one_session:
        done = print_in_one_browser(paths, browser=browser, progress=progress)
        if done is not None:
            return done
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(paths))) as pool:
        for path, exc in zip(paths, pool.map(one, paths), strict=True):
            if exc is None:
                printed.append(path.with_suffix(".pdf"))
            else:
                log.warning("%s: PDF not written (%s); the HTML stands", path, exc)
                failed.append(path)
            tick(1)
    return printed, failed
