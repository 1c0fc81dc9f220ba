"""Text encodings of what offices send: shapefile DBFs and CSV files.

A GBK DBF without a ``.cpg`` is decoded by GDAL as Latin-1 without a word
(docs/architecture.md, Input pitfalls 2), and a CSV saved by Chinese-locale Excel is GBK while one
saved elsewhere is UTF-8, with or without a byte-order mark. The functions
here decide the encoding from the bytes and say why, for the import record.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

_CPG_NAMES = {"65001": "utf-8", "936": "cp936", "utf8": "utf-8", "gbk": "gbk"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with a byte-order mark"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 (little-endian byte-order mark)"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 (big-endian byte-order mark)"),
)


def sidecar(path: Path, suffix: str) -> Path | None:
    """Return the file beside ``path`` with ``suffix`` (either case), or None."""
    for cand in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if cand.is_file():
            return cand
    return None


def sniff_dbf_encoding(path: str | os.PathLike) -> tuple[str | None, str]:
    """Decide the text encoding of a shapefile's DBF.

    Order: a ``.cpg`` file; the DBF's language driver id (LDID, byte 29),
    which GDAL maps itself; strict UTF-8 over the header and records; GB18030.

    Parameters
    ----------
    path : path-like
        The ``.shp`` or ``.dbf``.

    Returns
    -------
    encoding : str or None
        The encoding to pass to the reader; ``None`` lets GDAL use the LDID.
    reason : str
        The decision in words, for the import record.
    """
    p = Path(path)
    cpg = sidecar(p, ".cpg")
    if cpg is not None:
        name = cpg.read_text(encoding="ascii", errors="replace").strip()
        enc = _CPG_NAMES.get(name.lower(), name)
        return enc, f"{cpg.name} says {name}"
    dbf = sidecar(p, ".dbf")
    if dbf is None:
        return None, "no .dbf: geometry only"
    raw = dbf.read_bytes()
    if len(raw) > 29 and raw[29] != 0:
        return None, f"DBF language driver id {raw[29]} (no .cpg): decoded by GDAL"
    chunks = _dbf_text_chunks(raw)
    if all(c.isascii() for c, _ in chunks):
        return "utf-8", "no .cpg, no LDID, ASCII text only"
    utf8, gb = _cjk_score(chunks, "utf-8"), _cjk_score(chunks, "gb18030")
    if utf8 is not None and (gb is None or utf8 >= gb):
        return "utf-8", "no .cpg, no LDID, valid UTF-8 Chinese text"
    if gb is not None:
        return "gb18030", "no .cpg, no LDID, text reads as Chinese in GB18030 (GBK superset)"
    return "ISO-8859-1", (
        "no .cpg, no LDID, neither UTF-8 nor GB18030: read as Latin-1; if the text looks "
        "wrong, give the encoding (--encoding)"
    )


def sniff_text_encoding(raw: bytes) -> tuple[str, str]:
    """Decide the encoding of a text file (CSV) from its bytes.

    Order: a byte-order mark (UTF-8, UTF-16); strict UTF-8; GB18030 (the
    superset of GBK that Chinese-locale Excel writes).

    Parameters
    ----------
    raw : bytes
        The file's content.

    Returns
    -------
    encoding : str
        A Python codec name that decodes ``raw`` without error.
    reason : str
        The decision in words, for the import record.

    Raises
    ------
    UnicodeDecodeError
        When neither UTF-8 nor GB18030 decodes the bytes.
    """
    for bom, enc, why in _BOMS:
        if raw.startswith(bom):
            raw.decode(enc)
            return enc, why
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raw.decode("gb18030")
        return "gb18030", "not valid UTF-8; decoded as GB18030 (GBK superset)"
    if raw.isascii():
        return "utf-8", "ASCII text only"
    return "utf-8", "valid UTF-8 without a byte-order mark"


def _dbf_text_chunks(raw: bytes, *, max_records: int = 2000) -> list[tuple[bytes, bool]]:
    """Split a DBF into field names and character values (first records only).

    Each chunk comes with whether it fills its space (a 10-byte name, a value
    as wide as its field): only such a chunk may end in a cut character.
    """
    if len(raw) < 32:
        return []
    n_records = int.from_bytes(raw[4:8], "little")
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = int.from_bytes(raw[10:12], "little")
    chunks: list[tuple[bytes, bool]] = []
    fields, pos, offset = [], 32, 1
    while pos + 32 <= header_len and raw[pos] != 0x0D:
        desc = raw[pos : pos + 32]
        width = desc[16]
        name = desc[:11].split(b"\0", 1)[0]
        chunks.append((name, len(name) >= 10))
        if desc[11:12] == b"C":
            fields.append((offset, width))
        offset += width
        pos += 32
    for i in range(min(n_records, max_records)):
        rec = raw[header_len + i * record_len : header_len + (i + 1) * record_len]
        for o, w in fields:
            value = rec[o : o + w].rstrip(b" \0")
            chunks.append((value, len(value) == w))
    return [c for c in chunks if c[0]]


def _cjk_score(chunks: list[tuple[bytes, bool]], encoding: str) -> float | None:
    """Share of non-ASCII characters that are CJK when decoded, or None if it fails.

    A writer may cut a value at the field width in the middle of a character,
    so an incomplete sequence is tolerated at the end of a chunk that fills its
    field, and only there (a Latin-1 ``Ñandú`` ends in a byte GB18030 cannot end on).
    """
    cjk = other = 0
    for chunk, full in chunks:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            text = decoder.decode(chunk, final=not full)
        except UnicodeDecodeError:
            return None
        for ch in text:
            if ord(ch) < 128:
                continue
            if (
                "\u4e00" <= ch <= "\u9fff"
                or "\u3000" <= ch <= "\u303f"
                or "\uff00" <= ch <= "\uffef"
            ):
                cjk += 1
            else:
                other += 1
    return cjk / (cjk + other) if cjk + other else 1.0


def dbf_record_counts(path: Path) -> tuple[int | None, int | None]:
    """Return the record counts of a shapefile's .shx (geometries) and .dbf (attributes)."""
    shx, dbf = sidecar(path, ".shx"), sidecar(path, ".dbf")
    n_shp = (shx.stat().st_size - 100) // 8 if shx else None
    n_dbf = None
    if dbf is not None:
        with open(dbf, "rb") as fh:
            head = fh.read(8)
        n_dbf = int.from_bytes(head[4:8], "little") if len(head) == 8 else None
    return n_shp, n_dbf


def zip_member_name(info_name: str, flag_bits: int) -> str:
    """Return a zip member's real name: names not flagged UTF-8 are often GBK, not CP437.

    Parameters
    ----------
    info_name : str
        ``ZipInfo.filename`` as Python decoded it.
    flag_bits : int
        ``ZipInfo.flag_bits``; bit 11 means the name is UTF-8.

    Returns
    -------
    str
    """
    if flag_bits & 0x800:
        return info_name
    try:
        return info_name.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info_name
