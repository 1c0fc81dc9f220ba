"""Every file Hetu writes opens cleanly in the clients offices use (issue 21).

The demo's ledger is copied and every kind of office file is written from it through
the command line (台账 with township sheets, province template fill, field packages,
a rejection report, the audit sheet, the assessment, quarantine, coverage and patrol
tables). Then, with the clients themselves:

- every ``.xlsx`` and ``.docx`` found in the output folders (so a kind added later is
  covered too) converts to PDF in one headless LibreOffice call;
- the ledger, its export snapshot, a field package and the banks layer pass GDAL's
  ``validate_gpkg.py``;
- the GBK shapefile reads back through its ``.cpg`` in GDAL (pyogrio and fiona);
- the PDFs printed by Chromium have their pages and extractable Chinese text.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from _clients import convert_to_pdf, validate_gpkg
from click.testing import CliRunner
from pandas.api.types import is_string_dtype
from pypdf import PdfReader
from test_fieldwork import Sheet
from test_province import COLUMN_MAP, make_template

from geo.cli import cli
from geo.labels import STATES
from geo.ledger.store import open_ledger
from geo.reports.pdf import find_pdf_converter, print_pdfs
from geo.reports.shapefile import shapefile_frame
from geo.settings import load_settings

AS_OF = "2026-06-30"


def _run(settings: Path, *args: object, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--settings", str(settings), *map(str, args)])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def office(demo_run, tmp_path_factory):
    """A copy of the demo ledger and every kind of office file written from it."""
    base = tmp_path_factory.mktemp("office")
    ledger = base / "ledger.gpkg"
    shutil.copyfile(demo_run.ledger, ledger)
    shutil.copytree(demo_run.ledger.with_name("ledger.gpkg.attachments"),
                    base / "ledger.gpkg.attachments")  # fmt: skip
    s = demo_run.data.settings
    out = base / "out"
    template = make_template(base / "省厅模板.xlsx")
    cmap = base / "columns.toml"
    cmap.write_text(
        "[columns]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in COLUMN_MAP.items()), "utf-8"
    )
    _run(s, "export", ledger, "-o", out / "export", "--as-of", AS_OF,
         "--template", template, "--column-map", cmap)  # fmt: skip
    _run(s, "tasks", ledger, "-o", out / "tasks", "--as-of", AS_OF)
    _run(s, "audit", ledger, "-o", out / "抽查复核.xlsx", "--seed", 7, "--as-of", AS_OF)
    _run(s, "assess", ledger, "--quarter", "2026Q2", "-o", out / "考核.xlsx", "--as-of", AS_OF)
    _run(s, "quarantine", ledger, "-o", out / "隔离要素.xlsx")
    _run(s, "lists", ledger, "-o", out / "lists", "--period", "2026Q2", "--as-of", AS_OF)
    _run(s, "coverage", ledger, "-o", out / "巡河覆盖.xlsx")
    _run(s, "coverage", ledger, "-o", out / "巡河岸线.gpkg")
    _run(s, "patrols", ledger, "--from", "2026-01-01", "--to", "2026-03-31",
         "-o", out / "巡河次数.xlsx")  # fmt: skip
    # a field sheet with one impossible date comes back with its rejection report (退回)
    sheet = Sheet(sorted((out / "tasks").glob("*/*.xlsx"))[0])  # the first township, by name
    sheet.fill(sorted(sheet.row_of)[0], target=STATES["verifying"], date="2026-13-01",
               reporter="张三")  # fmt: skip
    _run(s, "apply", ledger, sheet.save(), code=1)
    assert sheet.path.with_name(f"{sheet.path.stem}_退回.xlsx").is_file()
    return {"ledger": ledger, "out": out, "settings": s, "demo": demo_run}


def _office_files(*folders: Path) -> list[Path]:
    return sorted(
        p for folder in folders for p in folder.rglob("*")
        if p.suffix.lower() in (".xlsx", ".docx") and not p.name.startswith(("~$", ".~lock"))
    )  # fmt: skip


def test_every_office_file_converts_with_libreoffice(office, tmp_path):
    files = _office_files(office["demo"].ledger.parent, office["out"])
    kinds = {re.sub(r"[\d_-]+", "", p.stem) for p in files}
    # the kinds written above: 台账 (demo and export), its field codes, the province fill,
    # the field sheets and a rejection, the audit, the assessment and the three tables
    assert len(files) >= 12 and "ledger" in kinds and any("退回" in k for k in kinds), kinds
    staged = tmp_path / "in"
    staged.mkdir()
    copies = []  # flat and uniquely named: LibreOffice names each PDF after its input
    for n, path in enumerate(files):
        copies.append(shutil.copyfile(path, staged / f"{n:02d}_{path.name}"))
    out = tmp_path / "pdf"
    output, seconds = convert_to_pdf(copies, out, profile=tmp_path / "profile")
    print(f"LibreOffice converted {len(copies)} files in {seconds:.1f} s")
    errors = [line for line in output.splitlines() if re.search(r"\berror\b", line, re.I)]
    assert errors == [], output
    for source, copy in zip(files, copies, strict=True):
        pdf = out / f"{copy.stem}.pdf"
        assert pdf.is_file() and pdf.stat().st_size > 0, f"{source}: no PDF\n{output}"
        reader = PdfReader(pdf)
        first = reader.pages[0].extract_text() if reader.pages else ""
        assert re.search(r"[\u4e00-\u9fff]", first), source  # at least a page, in Chinese
        if source.suffix == ".xlsx" and "province" not in source.stem:  # the province's own layout
            box = reader.pages[0].mediabox  # A4 landscape, all columns on one page width
            assert (round(box.width), round(box.height)) == (842, 595), (source, box)
            if source.stem.endswith("_退回"):  # one problem: one page
                assert len(reader.pages) == 1, source


def test_the_geopackages_pass_gdals_validator(office):
    out = office["out"]
    packages = [
        office["ledger"],
        office["demo"].ledger,
        *sorted((out / "export").glob("*.gpkg")),
        sorted((out / "tasks").glob("*/*.gpkg"))[0],
        out / "巡河岸线.gpkg",
    ]
    assert len(packages) == 5
    assert {str(p): validate_gpkg(p) for p in packages} == {str(p): [] for p in packages}


def test_the_shapefile_reads_back_through_its_cpg_without_mojibake(office):
    import fiona
    import pyogrio

    (shp,) = (office["out"] / "export").glob("*_gbk.shp")
    assert shp.with_suffix(".cpg").read_text("ascii").strip() == "GBK"
    with open_ledger(office["ledger"], settings=load_settings(office["settings"])) as led:
        expected, _aliases = shapefile_frame(led.status_frame(as_of=AS_OF))
    text = [c for c in expected.columns if c != "geometry" and is_string_dtype(expected[c])]
    assert {"XZ", "HHMC", "WTMS", "ZT", "CJHZ"} <= set(text)
    want = expected[text].fillna("").astype(str)
    back = pyogrio.read_dataframe(shp)  # no encoding given: GDAL reads the .cpg
    assert back[text].fillna("").astype(str).to_dict("list") == want.to_dict("list")
    assert "白沙乡" in set(back["XZ"]) and back["WTMS"].str.contains("平方米").any()
    with fiona.open(shp) as src:
        rows = [dict(f["properties"]) for f in src]
    assert [{c: r[c] or "" for c in text} for r in rows] == want.to_dict("records")


@pytest.fixture(scope="module")
def printed(office, tmp_path_factory):
    """Three demo notices printed to PDF by Chromium (copies: the demo's folder stays as it is)."""
    browser = find_pdf_converter()
    if browser is None:
        pytest.skip("no Chromium to print PDFs with")
    folder = tmp_path_factory.mktemp("printed")
    notices = [shutil.copyfile(html, folder / html.name) for html in office["demo"].notices[:3]]
    pdfs, failed = print_pdfs(notices, browser=browser)
    assert failed == [] and len(pdfs) == len(notices)
    return list(zip(notices, pdfs, strict=True))


def _text(pdf: Path) -> tuple[int, str]:
    """The pages of a PDF and its text layer, without white space."""
    reader = PdfReader(pdf)
    return len(reader.pages), re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))


def _ids(text: str) -> set[str]:
    return set(re.findall(r"TB\d{4}Q\d-\d{4}", text))


def test_printed_pdfs_have_their_pages_and_chinese_text(office, printed, tmp_path):
    for html, pdf in printed:
        pages, text = _text(pdf)
        source = html.read_text("utf-8")
        kind = re.search(r"<title>(.*?)（", source)[1]  # 关于…的督办函（示河长办督〔2026〕3号）
        assert pages >= 1 and kind in text, (pdf, text[:200])
        assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 100, pdf  # Chinese, not boxes
        assert _ids(source) and _ids(source) <= _ids(text), pdf  # every patch it lists
    pid = sorted(_ids(printed[0][0].read_text("utf-8")))[0]
    dossier = _run(office["settings"], "dossier", office["ledger"], pid,
                   "-o", tmp_path / "dossier", "--pdf", "--as-of", AS_OF)  # fmt: skip
    (pdf,) = [Path(p) for p in dossier.split() if p.endswith(".pdf")]
    pages, text = _text(pdf)
    assert pages >= 1 and pid in text and len(re.findall(r"[\u4e00-\u9fff]", text)) > 100


def test_printed_text_is_the_text_written(printed):
    """No look-alike radical in the text layer (长 as ⻓, 文 as ⽂): search and copy work."""
    for _html, pdf in printed:
        assert re.findall(r"[\u2e80-\u2fdf]", _text(pdf)[1]) == [], pdf
