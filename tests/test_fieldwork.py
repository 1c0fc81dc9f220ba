"""The field round trip: task packages out, filled sheets back (geo.field.fieldwork)."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3

import openpyxl
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from geo.errors import IngestError, InvalidTransitionError, LedgerError, SchemaError
from geo.field.fieldwork import HEADERS, apply_sheet, implied_steps, target_options
from geo.field.tasks import write_tasks
from geo.labels import COLUMNS, EVIDENCE, FIELDWORK, STATES
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.matching import match_ledger
from geo.policy.lifecycle import DEFAULT_LIFECYCLE
from geo.settings import load_settings

AS_OF = "2025-10-01"


@pytest.fixture(scope="module")
def template(demo_files, tmp_path_factory):
    """A matched ledger of the demo county's first batch; two patches already rectifying."""
    path = tmp_path_factory.mktemp("fieldwork") / "ledger.gpkg"
    settings = load_settings(demo_files.settings)
    with Ledger.create(path, settings=settings) as led:
        ingest_file(led, "ranges", demo_files.ranges)
        ingest_file(led, "chiefs", demo_files.chiefs)
        ingest_file(
            led, "patches", demo_files.patches["2025-Q3"], batch_id="2025-Q3",
            issued_on="2025-08-01",
        )  # fmt: skip
        match_ledger(led)
        busy = _by_town(led)["白沙乡"][-2:]
        led.transition(busy, "verifying", actor="核查员", at="2025-08-05T09:00")
        led.transition(busy, "confirmed", actor="核查员", at="2025-08-10T09:00")
        led.transition(busy, "rectifying", actor="县河长办", at="2025-08-12T09:00")
    return path, settings


@pytest.fixture(scope="module")
def tasks(template, tmp_path_factory):
    """The task packages of the template ledger, written once."""
    path, settings = template
    with Ledger(path, settings=settings) as led:
        return write_tasks(led, tmp_path_factory.mktemp("tasks"), as_of=AS_OF)


@pytest.fixture
def ledger(template, tmp_path):
    path, settings = template
    shutil.copy(path, tmp_path / "ledger.gpkg")
    led = Ledger(tmp_path / "ledger.gpkg", settings=settings)
    yield led
    led.close()


@pytest.fixture
def package(tasks, tmp_path):
    """A fresh copy of the 白沙乡 package (its sheet and photos folder) and its sheet."""
    folder = shutil.copytree(next(f for f in tasks if f.name == "白沙乡"), tmp_path / "白沙乡")
    return folder, Sheet(next(folder.glob("*.xlsx")))


def _by_town(led):
    frame = led.status_frame(as_of=AS_OF).sort_values("patch_id")
    return frame.groupby("township")["patch_id"].apply(list).to_dict()


def _photo(path, *, when, lon, lat, color=(90, 140, 60)):
    """A small JPEG with EXIF time and GPS, as a phone would take it."""
    img = Image.new("RGB", (48, 32), color)
    exif = Image.Exif()
    stamp = when.strftime("%Y:%m:%d %H:%M:%S")
    exif[0x0132] = stamp
    exif.get_ifd(0x8769)[0x9003] = stamp

    def dms(v):
        d = int(v)
        m = int((v - d) * 60)
        return (float(d), float(m), round((v - d - m / 60) * 3600, 4))

    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon)})
    img.save(path, exif=exif)
    return path


def _centroid(led, pid):
    c = shapely.centroid(led.patch_row(pid)["geometry"])
    return c.x, c.y


class Sheet:
    """A task sheet opened with openpyxl, filled in as a clerk would."""

    def __init__(self, path):
        self.path = path
        self.book = openpyxl.load_workbook(path)
        self.ws = self.book[FIELDWORK["sheet"]]
        heads = [c.value for c in self.ws[1]]
        self.col = {f: heads.index(h) + 1 for f, h in HEADERS.items()}
        self.row_of = {
            self.ws.cell(r, 1).value: r for r in range(2, self.ws.max_row + 1)
        }  # fmt: skip

    def fill(self, pid, **values):
        row = self.row_of[pid]
        for field, value in values.items():
            self.ws.cell(row, self.col[field], value)
        return row

    def save(self):
        self.book.save(self.path)
        return self.path


def test_one_package_per_township_with_sheet_geopackage_and_photos(ledger, tasks, tmp_path):
    folders = tasks
    towns = _by_town(ledger)
    assert sorted(f.name for f in folders) == sorted(towns)
    for folder in folders:
        assert (folder / "photos").is_dir()
        (xlsx,) = folder.glob("*.xlsx")
        (gpkg,) = folder.glob("*.gpkg")
        sheet = Sheet(xlsx)
        assert sorted(sheet.row_of) == towns[folder.name]  # every patch is open
        assert sheet.ws.freeze_panes == "B2"
        assert sheet.ws.protection.sheet  # ledger columns are read-only
        assert not sheet.ws.cell(2, sheet.col["target"]).protection.locked
        assert sheet.ws.cell(2, sheet.col["patch_id"]).protection.locked
        kinds = {dv.type for dv in sheet.ws.data_validations.dataValidation}
        assert {"list", "date"} <= kinds
        layers = dict(pyogrio.list_layers(gpkg))
        (layer,) = [name for name in layers if "patch" in name]
        back = pyogrio.read_dataframe(gpkg, layer=layer)
        assert back.crs.to_epsg() == 4326
        assert sorted(back["patch_id"]) == towns[folder.name]
        assert set(back["state_zh"]) <= set(STATES.values())
        with sqlite3.connect(gpkg) as conn:
            aliases = dict(conn.execute("SELECT column_name, name FROM gpkg_data_columns"))
        assert aliases["patch_id"] == COLUMNS["patch_id"]
    with pytest.raises(LedgerError, match="field team"):
        write_tasks(ledger, folders[0].parent, as_of=AS_OF)
    out = shutil.copytree(folders[0].parent, tmp_path / "again")
    assert write_tasks(ledger, out, as_of=AS_OF, overwrite=True) == [out / f.name for f in folders]


def test_drop_down_offers_the_states_each_row_can_reach(package):
    _, sheet = package
    options = sheet.book[FIELDWORK["options_sheet"]]
    assert options.sheet_state == "hidden"
    lists = {options.cell(1, c).value: [options.cell(r, c).value for r in range(2, 8)]
             for c in range(1, options.max_column + 1)}  # fmt: skip
    assert [v for v in lists["issued"] if v] == [
        STATES[s] for s in ("verifying", "confirmed", "dismissed", "monitored")
    ]
    assert [v for v in lists["rectifying"] if v] == [STATES["rectified"], STATES["closed"]]
    by_range = {}
    for dv in sheet.ws.data_validations.dataValidation:
        if dv.type == "list":
            by_range[str(dv.sqref)] = dv.formula1
    assert len(by_range) == 2  # one drop-down per run of rows in the same state


def test_implied_step_rule():
    lc = DEFAULT_LIFECYCLE
    assert implied_steps(lc, "issued", "dismissed") == ("verifying", "dismissed")
    assert implied_steps(lc, "verifying", "confirmed") == ("confirmed",)
    assert implied_steps(lc, "rectifying", "closed") == ("rectified", "closed")
    assert "rectifying" not in target_options(lc, "verifying")  # via confirmed or monitored
    with pytest.raises(InvalidTransitionError, match="verifying"):
        implied_steps(lc, "issued", "rectifying")  # two implied steps: never
    with pytest.raises(InvalidTransitionError, match="unknown state"):
        implied_steps(lc, "issued", "nonsense")


def test_round_trip_applies_verdicts_with_evidence(ledger, package):
    folder, sheet = package
    ids = sorted(sheet.row_of)
    a, b, c = ids[0], ids[1], ids[-1]  # c is rectifying
    assert ledger.status_frame().set_index("patch_id").at[c, "state"] == "rectifying"
    lon, lat = _centroid(ledger, b)
    _photo(folder / "photos" / "b水印.jpg", when=dt.datetime(2025, 8, 20, 10), lon=lon, lat=lat)
    lon, lat = _centroid(ledger, c)
    _photo(folder / "photos" / "c前.jpg", when=dt.datetime(2025, 8, 13, 9), lon=lon, lat=lat)
    _photo(folder / "photos" / "c后1.jpg", when=dt.datetime(2025, 9, 1, 9), lon=lon, lat=lat,
           color=(10, 20, 200))  # fmt: skip
    _photo(folder / "photos" / "c后2.jpg", when=dt.datetime(2025, 9, 1, 10), lon=lon, lat=lat,
           color=(200, 20, 10))  # fmt: skip
    sheet.fill(a, target=STATES["confirmed"], measures="现场核实为堆放建筑垃圾",
               date=dt.datetime(2025, 8, 20), reporter="张三")  # fmt: skip
    sheet.fill(b, target=STATES["dismissed"], date="2025/8/20", reporter="李四",
               photo_watermarked="b水印.jpg", note="系农田灌溉设施")  # fmt: skip
    sheet.fill(c, target=STATES["closed"], measures="垃圾已清运", date="2025年9月2日",
               reporter="王五", photo_before="photos/c前.jpg",
               photo_after="c后1.jpg；c后2.jpg")  # fmt: skip
    for pid in ids[2:-2]:
        sheet.fill(pid, reporter="张三")  # pre-filled down the column: not a row that counts
    before = len(ledger.events())
    result = apply_sheet(ledger, sheet.save(), actor="县河长办")
    assert result.ok and result.applied == 3 and result.report_path is None
    state = ledger.status_frame().set_index("patch_id")["state"]
    # a township's sheet proposes (待审核) and applies for 销号 (已整改待验收): the county decides
    assert (state[a], state[b], state[c]) == ("proposed", "proposed", "rectified")
    events = ledger.events()
    new = events.iloc[before:]
    assert list(new.query("patch_id == @a")["action"]) == ["proposal", "propose"]
    assert list(new.query("patch_id == @c")["action"]) == ["attach"] * 3 + ["report"]
    from geo.field.review import review

    assert review(ledger, approve=[a, b, c], opinion="同意", actor="县河长办",
                  at="2025-09-03T10:00") == []  # fmt: skip
    state = ledger.status_frame().set_index("patch_id")["state"]
    assert (state[a], state[b], state[c]) == ("confirmed", "dismissed", "closed")
    new = ledger.events().iloc[before:]
    steps = new[~new["action"].isin(["attach", "review", "acceptance", "approve", "close"])]
    assert set(steps["actor"]) == {"张三", "李四", "王五"}
    assert steps.query("patch_id == @a")["at"].iloc[0] == "2025-08-20T09:00:00+08:00"
    assert "现场核实为堆放建筑垃圾" in steps.query("patch_id == @a")["note"].iloc[-1]
    evidence = ledger.evidence(c)
    assert sorted(evidence["kind"]) == ["photo_after", "photo_after", "photo_before"]
    for sha in evidence["attachment_id"]:
        assert (ledger.attachments_dir / sha[:2] / f"{sha}.jpg").is_file()
    assert '"gps": "ok"' in ledger.evidence(b)["checks"].iloc[0]
    assert ledger.verify() == []


def test_applying_the_same_sheet_twice_changes_nothing(ledger, package):
    _, sheet = package
    pid = sorted(sheet.row_of)[0]
    sheet.fill(pid, target=STATES["confirmed"], date="2025-08-20", reporter="张三")
    path = sheet.save()
    first = apply_sheet(ledger, path)
    assert (first.applied, first.skipped) == (1, 0)
    n = len(ledger.events())
    # Re-saved by another program: the date now a real Excel date, the same content.
    again = Sheet(path)
    again.fill(pid, date=dt.datetime(2025, 8, 20))
    second = apply_sheet(ledger, again.save())
    assert second.ok and (second.applied, second.skipped) == (0, 1)
    assert len(ledger.events()) == n
    # A corrected row is new: it is checked (and here refused, the patch already moved on).
    again.fill(pid, measures="补充说明")
    third = apply_sheet(ledger, again.save())
    assert third.applied == 0 and list(third.problems["field"]) == ["target"]
    assert len(ledger.events()) == n


BAD_ROWS = {
    "unknown id": ({"patch_id": "TB-NOPE"}, "patch_id", "图斑 TB-NOPE 不在台账中；请核对图斑编号"),
    "illegal transition": (
        {"target": STATES["closed"]}, "target", "不能从“已下发”直接改为“已销号”"
    ),
    "missing evidence": (
        {"target": STATES["dismissed"]}, "evidence", "“不是问题”须有佐证材料：许可文件 或 水印照片"
    ),
    "bad date": (
        {"date": "上周三"}, "date", "日期无效：上周三，请写成 YYYY-MM-DD（如 2025-08-20）"
    ),
    "impossible date": (
        {"date": "2025-13-01"}, "date",
        "日期无效：2025-13-01（月份应为 1 至 12），请写成 YYYY-MM-DD（如 2025-08-20）",
    ),
    "no such day": ({"date": "2025/2/30"}, "date", "日期无效：2025/2/30（该月没有这一天）"),
    "future date": ({"date": "2099-01-01"}, "date", "日期 2099-01-01 晚于今天"),
    "implausible date": ({"date": "2999-01-01"}, "date", "2999-01-01 不在 2000 年至 2100 年之间"),
    "missing file": ({"permit": "许可证.pdf"}, "permit", "找不到文件 许可证.pdf"),
    "unknown state": ({"target": "差不多了"}, "target", "“差不多了”不是有效的状态；可选：核查中、"),
    "no reporter": ({"reporter": None}, "reporter", "没有填报人"),
    "before the last event": (
        {"date": "2025-07-20"}, "date", "日期 2025-07-20 09:00 早于该图斑上一条记录的时间"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_ROWS)
def test_one_bad_row_applies_nothing_and_the_report_names_it(ledger, package, case):
    _, sheet = package
    good, bad = sorted(sheet.row_of)[:2]
    sheet.fill(good, target=STATES["confirmed"], date="2025-08-20", reporter="张三")
    values, field, reason = BAD_ROWS[case]
    fill = {"target": STATES["confirmed"], "date": "2025-08-21", "reporter": "李四", **values}
    row = sheet.fill(bad, **fill)
    before = len(ledger.events())
    result = apply_sheet(ledger, sheet.save())
    assert result.applied == 0 and not result.ok
    assert len(ledger.events()) == before
    assert ledger.status_frame().set_index("patch_id").at[good, "state"] == "issued"
    (problem,) = result.problems.itertuples()
    assert (problem.row, problem.field) == (row, field) and reason in problem.reason
    assert result.report_path == sheet.path.with_name(f"{sheet.path.stem}_退回.xlsx")
    report = openpyxl.load_workbook(result.report_path).active
    lines = [[c.value for c in r] for r in report.iter_rows(min_row=3)]
    label = HEADERS.get(field) or FIELDWORK["evidence"]
    assert lines == [[row, fill.get("patch_id", bad), label, problem.reason]]


def test_unreadable_files_raise_typed_errors(ledger, tmp_path):
    text = tmp_path / "sheet.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(IngestError, match="xlsx"):
        apply_sheet(ledger, text)
    book = openpyxl.Workbook()
    book.active.append(["编号", "状态"])
    book.save(tmp_path / "other.xlsx")
    with pytest.raises(SchemaError, match=COLUMNS["patch_id"]):
        apply_sheet(ledger, tmp_path / "other.xlsx")
    with pytest.raises(SchemaError, match="group"):
        write_tasks(ledger, tmp_path / "t", by="no_such_column")


def test_a_sheet_reordered_and_retitled_still_reads(ledger, package):
    """Columns found by header anywhere in the first rows; serial dates and numeric cells."""
    folder, sheet = package
    pid = sorted(sheet.row_of)[0]
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["某县外业核查表"])
    ws.append([HEADERS["reporter"], HEADERS["date"], HEADERS["target"], HEADERS["patch_id"]])
    ws.append(["张三", 45889, STATES["verifying"], pid])  # 45889 = 2025-08-20
    path = folder / "re-saved.xlsx"
    book.save(path)
    result = apply_sheet(ledger, path)
    assert result.ok and result.applied == 1
    assert ledger.events(pid)["at"].iloc[-1] == "2025-08-20T09:00:00+08:00"


_CELL = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    st.integers(-(10**6), 10**7),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2200, 1, 1)),
    st.sampled_from([*STATES.values(), *EVIDENCE.values(), "2025-08-20", "photos/x.jpg", ";"]),
)
_FILL = ["target", "measures", "date", "reporter", "photo_before", "permit", "note"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.fixed_dictionaries({f: _CELL for f in _FILL}), min_size=1, max_size=3))
def test_garbage_in_the_fill_in_cells_is_reported_never_crashes(ledger, tmp_path, rows):
    ids = sorted(ledger.patches()["patch_id"])[:3]
    book = openpyxl.Workbook()
    ws = book.active
    ws.append([HEADERS["patch_id"], *(HEADERS[f] for f in _FILL)])
    for pid, values in zip(ids, rows, strict=False):
        ws.append([pid, *(values[f] for f in _FILL)])
    path = tmp_path / "garbage.xlsx"
    book.save(path)
    before = len(ledger.events())
    result = apply_sheet(ledger, path, dry_run=True)  # problems are reported, never raised
    assert len(ledger.events()) == before
    assert result.applied == 0
    assert set(result.problems.columns) == {"row", "patch_id", "field", "reason"}
    assert result.problems["field"].isin([*HEADERS, "evidence", "deadline"]).all()


def test_photos_must_be_images_and_far_after_photos_warn_or_refuse(ledger, package, caplog):
    """Issue 16.8: a PDF in a photo column is refused (in Chinese); a closure whose after-photo
    lies beyond [evidence] max_distance_m is refused with far_photo = "refuse", else warned."""
    import dataclasses

    folder, sheet = package
    ids = sorted(sheet.row_of)
    b, c = ids[1], ids[-1]  # c is rectifying
    (folder / "photos" / "scan.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
    (folder / "photos" / "scan.jpg").write_bytes(b"%PDF-1.4 renamed")  # the name is no proof
    lon, lat = _centroid(ledger, c)
    _photo(folder / "photos" / "c前.jpg", when=dt.datetime(2025, 8, 13, 9), lon=lon, lat=lat)
    _photo(folder / "photos" / "c后.jpg", when=dt.datetime(2025, 9, 1, 9), lon=lon + 0.01,
           lat=lat, color=(10, 20, 200))  # fmt: skip
    b_row = sheet.fill(b, target=STATES["dismissed"], date="2025-08-20", reporter="李四",
                       photo_watermarked="scan.pdf；scan.jpg", permit="scan.pdf")  # fmt: skip
    c_row = sheet.fill(c, target=STATES["closed"], date="2025-09-02", reporter="王五",
                       photo_before="c前.jpg", photo_after="c后.jpg")  # fmt: skip
    path = sheet.save()
    strict = dataclasses.replace(ledger.settings, evidence_far_photo="refuse")
    with Ledger(ledger.path, settings=strict) as refusing:
        result = apply_sheet(refusing, path)
    assert result.applied == 0
    got = sorted(zip(result.problems["row"], result.problems["field"], result.problems["reason"],
                     strict=True))  # fmt: skip
    want = "须为 JPG、PNG、HEIC 等照片，PDF 请填在“许可文件”或“其他材料”列"
    assert got[:2] == [
        (b_row, "photo_watermarked", f"scan.jpg 不是照片（图片）；水印照片{want}"),
        (b_row, "photo_watermarked", f"scan.pdf 不是照片（图片）；水印照片{want}"),
    ]
    (far,) = got[2:]
    assert far[:2] == (c_row, "photo_after") and far[2].startswith(
        "整改后照片 c后.jpg 的拍摄位置距图斑 "
    )
    assert far[2].endswith("米，超过规定的 200 米；请补拍现场照片")
    assert ledger.status_frame().set_index("patch_id").at[c, "state"] == "rectifying"
    for field in ("target", "date", "reporter", "photo_watermarked", "permit"):
        sheet.ws.cell(b_row, sheet.col[field]).value = None  # the row taken back
    with caplog.at_level("WARNING", logger="geo"):
        done = apply_sheet(ledger, sheet.save(), propose=False)  # warn, and close
    assert done.ok and done.applied == 1, done.problems.to_dict("records")
    assert ledger.status_frame().set_index("patch_id").at[c, "state"] == "closed"
    (warning,) = [r.getMessage() for r in caplog.records if "after-photo" in r.getMessage()]
    assert (
        warning.startswith(f"patch {c}: after-photo c后.jpg was taken ")
        and "closed anyway" in warning
    )
