import codecs

import pytest
from conftest import realdata
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.ingest.encodings import sniff_dbf_encoding, sniff_text_encoding, zip_member_name


@pytest.mark.parametrize(
    ("raw", "enc"),
    [
        ("经度,纬度".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "经度".encode(), "utf-8-sig"),
        ("经度,纬度".encode("gbk"), "gb18030"),
        ("经度".encode("utf-16"), "utf-16"),
        (b"lon,lat", "utf-8"),
    ],
)
def test_text_encodings(raw, enc):
    got, why = sniff_text_encoding(raw)
    assert got == enc and why
    assert raw.decode(got)


def test_undecodable_text_raises_unicode_error():
    with pytest.raises(UnicodeDecodeError):
        sniff_text_encoding(b"abc\x81")  # a lone GBK lead byte at the end


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_sniffed_text_decodes_back(text, encoding):
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        return
    enc, _ = sniff_text_encoding(raw)
    decoded = raw.decode(enc).removeprefix("\ufeff")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:  # GBK bytes: must be read as GB18030
        assert enc == "gb18030" and decoded == text
        return
    if encoding != "gb18030" or raw.isascii():  # UTF-8 bytes read as UTF-8
        expected = text.removeprefix("\ufeff") if encoding == "utf-8-sig" else text
        assert decoded == expected.removeprefix("\ufeff")


def test_real_latin1_dbf_is_not_taken_for_gbk():
    enc, why = sniff_dbf_encoding(realdata("broken", "latin1.dbf"))
    assert enc == "ISO-8859-1" and "--encoding" in why


def test_zip_names_not_flagged_utf8_are_read_as_gbk():
    mangled = "图斑.shp".encode("gbk").decode("cp437")
    assert zip_member_name(mangled, 0) == "图斑.shp"
    assert zip_member_name("图斑.shp", 0x800) == "图斑.shp"
