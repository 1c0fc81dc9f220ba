"""Benchmark: PDFs of many notices through one browser session vs one browser per notice.

Writes ``--docs`` notices (default 20) as Hetu renders them (公文 with the problem
list, the location sketch and the 回执; synthetic patches), then prints their PDFs
in the same run, interleaved round after round so a shared machine slows both alike:

- ``per-doc``: one headless Chromium per notice, a few at a time (the old path,
  :func:`geo.reports.pdf.print_pdfs` with ``one_session=False``);
- ``session``: every notice through one Playwright session
  (:func:`geo.reports.pdf.print_in_one_browser`).

Prints pages per second of each (PDF pages counted in the files) and the ratio
``session`` / ``per-doc`` (target: ``session`` ≥ 5 pages/s on two cores).

Usage: ``python scripts/bench_documents.py [--docs N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tempfile
import time
from pathlib import Path

import pandas as pd
import shapely

from geo.policy.documents import DocumentRule
from geo.reports.documents import render_notice, thumbnail_svg
from geo.reports.escalation import DUE_COLUMNS
from geo.reports.gongwen import build_notice
from geo.reports.pdf import find_pdf_converter, print_in_one_browser, print_pdfs


def _rows(n: int) -> pd.DataFrame:
    rows = []
    for k in range(n):
        rows.append(
            {
                "patch_id": f"43999920250{k:03d}", "action": "supervision", "step_days": 10,
                "to_level": "county", "chief_id": "HZ001", "chief_name": "王建国",
                "chief_title": "副县长", "chief_level": "county", "fallback": False,
                "state": "rectifying", "deadline": "2026-03-31", "overdue_days": 10 + k,
                "days_left": 0, "issue_type": "dumping", "township": "清溪镇",
                "water_name": "清溪河", "segment_id": "439999000001",
                "segment_name": "清溪河上村段", "area_m2": 1234.5 + k,
                "description": "河道管理范围内堆放建筑垃圾约三百立方米",
                "township_organ": "清溪镇人民政府", "issued_before": "reminder,notice",
            }
        )  # fmt: skip
    return pd.DataFrame(rows, columns=DUE_COLUMNS)


def write_notices(folder: Path, docs: int) -> list[Path]:
    """Write ``docs`` notices of 8 patches each into ``folder``."""
    rows = _rows(8)
    patches = [shapely.box(114 + k * 0.001, 28, 114.0005 + k * 0.001, 28.0005) for k in range(8)]
    svg = thumbnail_svg(patches, [shapely.box(113.999, 27.999, 114.01, 28.001)])
    rule = DocumentRule(abbr="示河长办", contact="王明", phone="0731-12345678")
    paths = []
    for k in range(docs):
        doc = build_notice(rows, kind="supervision", as_of=dt.date(2026, 4, 15),
                           issuer="示范县河长制办公室", rule=rule, calendar=None,
                           doc_no=f"示河长办督〔2026〕{k + 1}号",
                           cc_chiefs=["县级河长王建国（副县长）"])  # fmt: skip
        html = render_notice(rows, as_of=dt.date(2026, 4, 15), office="示范县河长制办公室",
                             map_svg=svg, doc=doc)  # fmt: skip
        path = folder / f"notice_{k:03d}.html"
        path.write_text(html, encoding="utf-8")
        paths.append(path)
    return paths


def pages(paths: list[Path]) -> int:
    """PDF pages in the files (``/Type /Page`` objects)."""
    return sum(len(re.findall(rb"/Type\s*/Page(?!s)", p.read_bytes())) for p in paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    browser = find_pdf_converter()
    if browser is None:
        raise SystemExit("no Chromium found: install chromium")
    with tempfile.TemporaryDirectory() as work:
        paths = write_notices(Path(work), args.docs)
        best = {"per-doc": float("inf"), "session": float("inf")}
        counted = {}
        for _ in range(args.repeat):
            for name in best:
                for p in paths:
                    p.with_suffix(".pdf").unlink(missing_ok=True)
                start = time.perf_counter()
                if name == "session":
                    done = print_in_one_browser(paths, browser=browser)
                    if done is None:
                        raise SystemExit("Playwright is not installed: pip install playwright")
                    printed, failed = done
                else:
                    printed, failed = print_pdfs(paths, browser=browser, one_session=False)
                best[name] = min(best[name], time.perf_counter() - start)
                if failed:
                    raise SystemExit(f"{name}: {len(failed)} PDFs failed")
                counted[name] = pages(printed)
        for name, secs in best.items():
            rate = counted[name] / secs
            print(f"{name:8s} {args.docs} notices, {counted[name]} pages in {secs:.2f} s: "
                  f"{rate:.1f} pages/s")  # fmt: skip
        ratio = (counted["session"] / best["session"]) / (counted["per-doc"] / best["per-doc"])
        print(f"session / per-doc: {ratio:.1f}x")


if __name__ == "__main__":
    main()
