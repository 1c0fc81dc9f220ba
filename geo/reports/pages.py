"""Small self-contained HTML pages built from fixed strings and escaped values.

For the documents whose layout is Hetu's own (patrol cards, 一河一档): every value from the
ledger goes through :func:`html.escape`, and no text is ever compiled as a template. The
pages carry their own CSS (no network), print on A4 and use the CJK serif fonts offices
have (思源宋体 / Noto Serif CJK, 宋体).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

import pandas as pd

from geo.records import is_missing

__all__ = ["cell", "page", "table"]

_CSS = (
    "body{font-family:'Noto Serif CJK SC','Source Han Serif SC','SimSun',serif;max-width:60em;"
    "margin:2em auto;line-height:1.7;color:#111}h1{text-align:center;font-size:1.6em;"
    "letter-spacing:.2em}h2{font-size:1.15em;border-bottom:1px solid #999;margin-top:1.6em}"
    "table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #555;"
    "padding:.15em .45em;vertical-align:top}th{background:#eee}.num{text-align:right}"
    ".sign{text-align:right;margin-top:2.5em}.note{color:#444;font-size:.9em}"
    "@page{size:A4;margin:2cm}"
)


def cell(value: object) -> str:
    """A value as escaped text: blanks for missing values, integers without ``.0``."""
    if is_missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:.1f}"
    return escape(str(value))


def table(frame: pd.DataFrame, headers: Mapping[str, str] | None = None) -> str:
    """An HTML table of ``frame`` (headers renamed by ``headers``), every cell escaped."""
    names = [escape((headers or {}).get(c, str(c))) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(t) for t in frame.dtypes]
    head = "".join(f"<th>{n}</th>" for n in names)
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell(v)}</td>' if num else f"<td>{cell(v)}</td>"
            for v, num in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def page(title: str, parts: Iterable[str]) -> str:
    """A whole page: ``title`` (escaped) and ``parts`` (HTML already made of escaped values)."""
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>{''.join(parts)}</body></html>"
    )
