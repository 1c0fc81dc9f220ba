"""The matching's thread pool: tasks are index ranges of arrays, run in order of the tasks.

shapely releases the GIL in its GEOS calls, so threads share one copy of the
geometries instead of pickling them to processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def thread_count(workers: int | None) -> int:
    """The threads to use: ``workers``, or the CPUs this process may run on when ``None``."""
    if workers is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    return max(1, int(workers))


def run_chunks(
    fn: Callable[[int, int], Any], tasks: list[tuple[int, int]], workers: int
) -> list[Any]:
    """``fn(lo, hi)`` for every task, in ``workers`` threads; the results in the tasks' order."""
    if workers == 1 or len(tasks) <= 1:
        return [fn(lo, hi) for lo, hi in tasks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hetu-match") as pool:
        return list(pool.map(lambda t: fn(*t), tasks))


def chunks(n: int, size: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` ranges of at most ``size`` covering ``0 .. n``."""
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]
