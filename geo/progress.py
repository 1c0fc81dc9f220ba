"""Progress of long work: a callback told how many items were just done.

The long library functions (:func:`geo.ledger.loading.ingest_file`,
:meth:`geo.ledger.store.Ledger.add_patches`, :func:`geo.imagery.chipping.imagery_for_ledger`,
:func:`geo.reports.exports.export_ledger`, :func:`geo.reports.dossier.write_dossiers`,
:func:`geo.reports.pdf.print_pdfs` …) take a keyword-only ``progress``: a
:data:`Progress` called with the number of items done since its last call
(patches written, chips cut, files exported, pages written, PDFs printed), so
the counts of one run sum to the number of items. The library never draws
anything; the command line turns the calls into a progress bar.

A function that finds out how many items there will be (by reading a file or the
ledger) says so first with :func:`expect`: a callback with a writable ``total``
attribute (the command line's bar) gets it set; a plain function does not need one.
A function handed a list only counts; its caller knows the total.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "expect", "no_progress"]

#: A progress callback: called with the number of items done since its last call.
Progress = Callable[[int], None]


def no_progress(done: int) -> None:
    """Ignore progress (what a function reports to when it is given no callback)."""


def expect(progress: Progress | None, total: int) -> Progress:
    """Tell ``progress`` that ``total`` items are coming; return the callback to report to.

    Parameters
    ----------
    progress : Progress, optional
        The caller's callback; its ``total`` attribute is set when it has one.
    total : int
        How many items the work will count.

    Returns
    -------
    Progress
        ``progress``, or :func:`no_progress` when it is None.
    """
    if progress is None:
        return no_progress
    if hasattr(progress, "total"):
        progress.total = total  # type: ignore[attr-defined]
    return progress
