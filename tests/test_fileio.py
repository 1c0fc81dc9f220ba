"""The core helpers written once: atomic writes, the table writer, header matching, CJK width."""

import csv
import os
import stat
import sys

import openpyxl
import pandas as pd
import pytest

from geo.fileio import (
    atomic_path,
    background_writes,
    copy_atomic,
    deferred_writes,
    move_into_place,
    temp_beside,
    write_atomic,
    write_table,
    xlsx_workbook,
)
from geo.text import display_width, name_key, normalise_header

HYPERLINK = '=HYPERLINK("http://evil.example","x")'
DDE = "=cmd|' /C calc'!A0"


class Boom(Exception):
    pass


# -- atomic writes ---------------------------------------------------------------------------


def test_write_atomic_writes_and_replaces(tmp_path):
    target = tmp_path / "a.html"
    assert write_atomic(target, b"one") == target
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["a.html"]


def test_failed_writer_leaves_target_unchanged_and_no_temp(tmp_path):
    target = tmp_path / "ledger.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(Boom), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".xlsx" and tmp.name.startswith(".")
        tmp.write_bytes(b"half a file")
        raise Boom
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["ledger.xlsx"]


def test_deferred_writes_land_together_at_the_end_or_not_at_all(tmp_path):
    (tmp_path / "a.png").write_bytes(b"old")
    with deferred_writes() as write:
        assert write(tmp_path / "a.png", b"new a") == tmp_path / "a.png"
        write(tmp_path / "b.png", b"new b")
        # nothing is in place before the block ends; the files wait under hidden names
        assert (tmp_path / "a.png").read_bytes() == b"old" and not (tmp_path / "b.png").exists()
        assert sum(n.startswith(".") for n in os.listdir(tmp_path)) == 2
    assert (tmp_path / "a.png").read_bytes() == b"new a"
    assert (tmp_path / "b.png").read_bytes() == b"new b"
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]
    with pytest.raises(Boom), deferred_writes() as write:
        write(tmp_path / "a.png", b"newer a")
        write(tmp_path / "c.png", b"c")
        raise Boom
    assert (tmp_path / "a.png").read_bytes() == b"new a"
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]


def test_failed_library_writer_leaves_no_file(tmp_path):
    target = tmp_path / "sheet.xlsx"
    with pytest.raises(Boom), xlsx_workbook(target) as book:
        book.add_worksheet("a").write_string(0, 0, "x")
        raise Boom
    assert os.listdir(tmp_path) == []


def test_atomic_path_serves_a_library_that_writes_by_name(tmp_path):
    target = tmp_path / "template.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "河长"
    with atomic_path(target) as tmp:
        assert not tmp.exists()  # GDAL and others create the file themselves
        book.save(tmp)
    assert openpyxl.load_workbook(target).active["A1"].value == "河长"
    assert os.listdir(tmp_path) == ["template.xlsx"]


def test_temp_beside_names_are_unique_and_removed(tmp_path):
    target = tmp_path / "x.csv"
    with temp_beside(target) as a, temp_beside(target) as b:
        assert a != b
        a.write_text("left behind")
    assert not a.exists() and not b.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_replacing_keeps_the_targets_permissions(tmp_path):
    target = tmp_path / "map.html"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == "new"


def test_move_into_place_and_copy_atomic(tmp_path):
    src = tmp_path / "photo.jpg"
    src.write_bytes(b"\xff\xd8\xff jpeg")
    dst = tmp_path / "ab" / "abcd.jpg"
    dst.parent.mkdir()
    assert copy_atomic(src, dst) == dst
    assert dst.read_bytes() == src.read_bytes()
    assert os.listdir(dst.parent) == ["abcd.jpg"]
    moved = tmp_path / "moved.jpg"
    assert move_into_place(src, moved) == moved
    assert not src.exists() and moved.read_bytes() == dst.read_bytes()


# -- the table writer ------------------------------------------------------------------------


@pytest.fixture
def hostile():
    return pd.DataFrame(
        {
            "图斑编号": [HYPERLINK, DDE, "+1-2", "@SUM(A1)", "\tx", "plain"],
            "面积": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0],
            "n": [1, -2, 3, 4, 5, 6],
        }
    )


def test_xlsx_keeps_formula_text_as_text_and_numbers_as_numbers(tmp_path, hostile):
    path = write_table(hostile, tmp_path / "chain.xlsx")
    ws = openpyxl.load_workbook(path).active
    rows = list(ws.iter_rows(min_row=2, values_only=False))
    texts = [r[0] for r in rows]
    assert [c.value for c in texts] == hostile["图斑编号"].tolist()
    assert {c.data_type for c in texts} == {"s"}  # strings, never formulas ("f")
    assert [r[1].value for r in rows] == [1.5, -2.0, 3.0, 4.0, 5.0, 6.0]
    assert [r[2].value for r in rows] == [1, -2, 3, 4, 5, 6]
    assert {r[1].data_type for r in rows} == {"n"}
    assert [c.value for c in ws[1]] == ["图斑编号", "面积", "n"]
    assert os.listdir(tmp_path) == ["chain.xlsx"]


def test_csv_defuses_formula_text_with_an_apostrophe(tmp_path, hostile):
    path = write_table(hostile, tmp_path / "out" / "chain.csv")  # missing folder made
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel wants
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["图斑编号", "面积", "n"]
    assert [r[0] for r in rows[1:]] == [
        "'" + HYPERLINK,
        "'" + DDE,
        "'+1-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
    ]
    assert [r[1] for r in rows[1:]] == ["1.5", "-2.0", "3.0", "4.0", "5.0", "6.0"]
    assert [r[2] for r in rows[1:]] == ["1", "-2", "3", "4", "5", "6"]  # numbers stay numbers
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert back["n"].dtype.kind == "i" and back["面积"].dtype.kind == "f"


def test_csv_defuses_object_columns_and_headers(tmp_path):
    frame = pd.DataFrame({"=bad": pd.Series(["-x", None, 7], dtype=object), "ok": ["a", "b", "c"]})
    text = write_table(frame, tmp_path / "t.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines() == ["'=bad,ok", "'-x,a", ",b", "7,c"]


def test_table_writer_place_decides_the_final_name(tmp_path, hostile):
    target = tmp_path / "ledger.csv"

    def elsewhere(tmp, dest):
        return move_into_place(tmp, dest.with_name("ledger_120000.csv"))

    assert write_table(hostile, target, place=elsewhere).name == "ledger_120000.csv"
    assert os.listdir(tmp_path) == ["ledger_120000.csv"]

    def refuse(tmp, dest):
        raise PermissionError(dest)

    with pytest.raises(PermissionError):
        write_table(hostile, target, place=refuse)
    assert os.listdir(tmp_path) == ["ledger_120000.csv"]  # no temporary file left


# -- header matching and width ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        (" 经度（°） ", "经度"),
        ("经 度", "经度"),
        ("Patch_ID", "patchid"),
        ("patch-id", "patchid"),
        ("ＴＢＢＨ", "tbbh"),
        ("X坐标[m]", "x坐标"),
        ("【必填】河长", "河长"),
        ("河湖/河段", "河湖河段"),
        ("GPS时间:", "gps时间"),
        (None, ""),
    ],
)
def test_normalise_header(variant, plain):
    assert normalise_header(variant) == plain


def test_normalise_header_can_keep_notes_that_tell_columns_apart():
    mu = normalise_header("面积（亩）", keep_notes=True)
    m2 = normalise_header("面积\n(平方米)", keep_notes=True)
    assert mu == "面积(亩)" and m2 == "面积(平方米)"
    assert normalise_header("面积（亩）") == normalise_header("面积(平方米)") == "面积"


def test_display_width_counts_wide_characters_twice():
    assert display_width("") == 0
    assert display_width("abc 12") == 6
    assert display_width("河长制") == 6
    assert display_width("图斑A-1") == 7
    assert display_width("１２，") == 6  # full-width digits and comma
    assert display_width("é·") == 2  # narrow or ambiguous: 1 each


def test_name_key():
    assert name_key(" 王 五\u3000") == "王五"
    assert name_key(float("nan")) == name_key(None) == ""


def test_background_writes_all_land_before_the_block_ends_and_failures_raise(tmp_path):
    with deferred_writes() as write, background_writes(write, depth=4) as later:
        paths = [later(tmp_path / f"{k}.png", bytes([k])) for k in range(20)]
    assert paths == [tmp_path / f"{k}.png" for k in range(20)]
    assert all((tmp_path / f"{k}.png").read_bytes() == bytes([k]) for k in range(20))

    def failing(path, data):
        raise Boom

    with pytest.raises(Boom), background_writes(failing) as later:
        later(tmp_path / "x.png", b"x")
