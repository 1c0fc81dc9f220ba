"""The text layer of printed PDFs names the characters written (geo.reports.pdf_text)."""

from __future__ import annotations

import io
import re
import shutil

import pytest
from pypdf import PdfReader

from geo.reports.pdf import find_pdf_converter, print_pdfs
from geo.reports.pdf_text import radical_ideographs, repair_cmap, repair_text_layer

HEAD = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
1 begincodespacerange
<00> <FF>
endcodespacerange
"""
TAIL = b"""endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""
#: Every character Chromium was seen to name by a radical in a printed notice.
SEEN = "长文日月工方面示龙黄"


def _pairs(cmap: bytes) -> dict[str, str]:
    found = re.findall(rb"<([0-9A-F]+)> <([0-9A-F]+)>", cmap.split(b"endcodespacerange")[1])
    return {s.decode(): bytes.fromhex(d.decode()).decode("utf-16-be") for s, d in found}


def test_radicals_become_the_ideographs_drawn_with_their_glyph():
    mapping = {0x2ED3: 0x957F, 0x2F42: 0x6587}
    cmap = HEAD + b"2 beginbfchar\n<92> <2F42>\n<7B> <6C5F>\nendbfchar\n"
    cmap += b"1 beginbfrange\n<10> <12> <2ED2>\nendbfrange\n"
    cmap += b"1 beginbfrange\n<20> <21> [<0041> <2ED3>]\nendbfrange\n" + TAIL
    fixed = repair_cmap(cmap, mapping)
    assert fixed is not None and fixed.startswith(HEAD) and fixed.endswith(TAIL)
    assert _pairs(fixed) == {
        "92": "文", "7B": "江",  # bfchar: the radical replaced, the rest kept
        "10": "\u2ed2", "11": "长", "12": "\u2ed4",  # a range expanded, its middle code fixed
        "20": "A", "21": "长",  # an array range
    }  # fmt: skip
    assert b"bfrange" not in fixed


def test_a_map_without_radicals_is_left_alone():
    cmap = HEAD + b"1 beginbfchar\n<01> <0020>\nendbfchar\n" + TAIL
    assert repair_cmap(cmap, {0x2F42: 0x6587}) is None
    assert repair_cmap(b"not a cmap", {0x2F42: 0x6587}) is None


def test_a_pdf_that_cannot_be_read_is_kept_as_printed():
    assert repair_text_layer(b"%PDF-1.4 broken") == b"%PDF-1.4 broken"


def test_kangxi_radicals_map_even_without_fonts():
    mapping = radical_ideographs()
    assert mapping[0x2F42] == ord("文") and mapping[0x2F47] == ord("日")
    if shutil.which("fc-match") and shutil.which("fc-list"):  # the CJK fonts of this machine
        assert mapping.get(0x2EA7) == ord("长") or mapping.get(0x2ED3) == ord("长")
    assert all(0x3400 <= v < 0xA000 or v >= 0x20000 for v in mapping.values())


def test_chromium_print_keeps_the_characters(tmp_path):
    browser = find_pdf_converter()
    if browser is None:
        pytest.skip("no Chromium to print PDFs with")
    text = f"河长办关于{SEEN}的通知"
    html = tmp_path / "n.html"
    html.write_text(
        '<html><head><meta charset="utf-8"></head>'
        f"<body style=\"font-family:'Noto Serif CJK SC',serif\"><p>{text}</p>"
        f"<p style=\"font-family:'Noto Sans CJK SC',sans-serif\">{text}</p></body></html>",
        encoding="utf-8",
    )
    printed, failed = print_pdfs([html], browser=browser)
    assert failed == [] and printed == [html.with_suffix(".pdf")]
    page = PdfReader(io.BytesIO(printed[0].read_bytes())).pages[0]
    layer = re.sub(r"\s+", "", page.extract_text())
    assert layer == text * 2
