"""The per-patch dossier (一斑一档) on a real ledger: header, map, chips, history, links."""

import base64
import datetime as dt
import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from PIL import Image

from geo.demo.county import write_photo
from geo.errors import NotFoundError, OutputError, SchemaError
from geo.field.evidence import attach_evidence
from geo.labels import ACTIONS, COLUMNS, DOSSIER, EVIDENCE, IMAGERY, MATCHING, STATES
from geo.ledger.store import Ledger
from geo.matching import match_ledger
from geo.records import ImportRecord
from geo.reports.dossier import dossier_html, write_dossier, write_dossiers
from geo.reports.pdf import find_pdf_converter
from geo.settings import Settings

OFFICE = "示范县河长制办公室"
XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
AS_OF = "2025-10-20"


def _settings():
    return Settings(office_name=OFFICE, central_meridian=114, townships={"439999001": "清溪镇"})


def _ledger_files(led, tmp):
    seg = gpd.GeoDataFrame(
        {
            "segment_id": ["439999000001"],
            "range_id": "R01",
            "water_name": "清溪河",
            "water_code": "HN-QXH",
            "segment_name": ["清溪河上村段"],
            "admin_code": ["439999001001"],
            "attrs": "{}",
        },
        geometry=[shapely.box(114.000, 28.000, 114.010, 28.002)],
        crs=4490,
    )
    chiefs = pd.DataFrame(
        [
            ("HZ001", "王建国", "副县长", "county"),
            ("HZ002", "李秀英", "镇长", "township"),
            ("HZ003", "张伟", "村支书", "village"),
        ],
        columns=["chief_id", "name", "title", "level"],
    ).assign(
        segment_id="439999000001", admin_code="439999", phone="", term_start="2021-06-01",
        term_end=None, attrs="{}",
    )  # fmt: skip
    boxes = {"A": 114.002, "B": 114.006, "C": 114.00601}
    patches = gpd.GeoDataFrame(
        {
            "patch_id": list(boxes),
            "batch_id": ["2025-Q3", "2025-Q3", "2026-Q1"],
            "issue_type": ["dumping", "construction", "construction"],
            "admin_code": "439999001001",
            "detected_on": "2025-07-01",
            "issued_on": ["2025-08-01", "2025-08-01", "2026-02-01"],
            "area_m2": [120.0, 88.5, 90.0],
            "source_area": None,
            "description": [XSS + "疑似乱堆", "彩钢棚", "彩钢棚又建"],
            "attrs": [json.dumps({"备注": XSS, "HHMC": "清溪河"}, ensure_ascii=False), "{}", "{}"],
        },
        geometry=[shapely.box(x, 28.0005, x + 0.0004, 28.0009) for x in boxes.values()],
        crs=4490,
    )
    led.add_segments(seg, ImportRecord(kind="ranges", file="r.gpkg", sha256="r"))
    led.add_chiefs(chiefs, ImportRecord(kind="chiefs", file="c.xlsx", sha256="c"))
    for batch, rows in patches.groupby("batch_id"):
        record = ImportRecord(kind="patches", file=f"{batch}.shp", sha256=batch, batch_id=batch)
        led.add_patches(rows, record)
    match_ledger(led, link=False)
    led.transition(["A", "B"], "verifying", actor="核查员", at="2025-08-05T09:00")
    led.transition(["A", "B"], "confirmed", actor="核查员", at="2025-08-20T10:00", note=XSS)
    led.transition(
        ["A", "B"], "rectifying", actor=XSS, at="2025-08-25T09:00", deadline="2025-09-30"
    )
    led.transition(["B"], "rectified", actor="乡级河长", at="2025-09-15T16:00")
    photos = tmp / "photos"
    photos.mkdir()
    centre = patches.geometry.iloc[1].centroid
    for kind, day in (("photo_before", "2025-08-06T10:00"), ("photo_after", "2025-09-14T15:00")):
        path = write_photo(photos / f"B_{kind}.jpg", lon=centre.x, lat=centre.y,
                           taken=dt.datetime.fromisoformat(day))  # fmt: skip
        attach_evidence(led, "B", path, kind=kind, actor="核查员", at="2025-09-16T09:00")
    led.transition(["B"], "closed", actor="县河长办", at="2025-09-30T15:00")
    chips = {}
    for role, colour in (("before", (200, 180, 120)), ("after", (40, 120, 40))):
        path = tmp / f"B_{role}.png"
        Image.new("RGB", (32, 32), colour).save(path)
        chips[role] = (hashlib.sha256(path.read_bytes()).hexdigest(), path)
    rows = pd.DataFrame(
        [
            ("B", "before", "/data/img_2025.tif", "2025-07-15", chips["before"][0], "ok", None,
             json.dumps({"brightness_patch": 190.5, "ndvi_diff": -0.12})),
            ("B", "after", "/data/img_2026.tif", "2026-04-12", chips["after"][0], "ok", None,
             json.dumps({"brightness_patch": 90.1, "delta_brightness_patch": -100.4})),
            ("A", "before", "/data/img_2025.tif", "2025-07-15", None, "outside", XSS, None),
        ],
        columns=["patch_id", "role", "source", "acquired_on", "attachment_id", "status", "reason",
                 "indicators"],
    )  # fmt: skip
    led.replace_imagery(rows, files={sha: p for sha, p in chips.values()})
    led.replace_links(
        pd.DataFrame(
            [("C", "B", "recurrence", 0.97, 0.9, 1.1)],
            columns=["patch_id", "earlier_id", "kind", "overlap_ratio", "iou", "centroid_m"],
        )
    )
    return chips


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("dossier")
    path = base / "ledger.gpkg"
    with Ledger.create(path, settings=_settings()) as led:
        chips = _ledger_files(led, base)
    return path, chips


@pytest.fixture
def ledger(built, tmp_path):
    src, _ = built
    path = tmp_path / "ledger.gpkg"
    shutil.copyfile(src, path)
    attachments = src.with_name(src.name + ".attachments")
    if attachments.is_dir():
        shutil.copytree(attachments, path.with_name(path.name + ".attachments"))
    with Ledger(path, settings=_settings()) as led:
        yield led


class _Page(HTMLParser):
    """Every start tag with its attributes, the rows of each table by class, and the svg."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.tables, self._table, self._row, self._cell = [], {}, None, None, None
        self.text = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("class", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def test_dossier_holds_header_map_chips_history_evidence_and_links(ledger, built, tmp_path):
    _, chips = built
    paths = write_dossiers(ledger, ["B", "C"], tmp_path / "out", pdf=False, as_of="2026-04-30")
    assert [p.name for p in paths] == ["B.html", "C.html"]
    html = paths[0].read_text(encoding="utf-8")
    page = _Page(html)
    facts = {row[0]: row[1] for row in page.tables["facts"]}
    assert facts["图斑编号"] == "B" and facts["下发批次"] == "2025-Q3"
    assert facts["问题类型"] == "乱建" and facts["状态"] == STATES["closed"]
    assert facts["乡镇"] == "清溪镇（439999001001）"
    assert "清溪河上村段" in facts["河湖/河段"] and "439999000001" in facts["河湖/河段"]
    assert facts["整改期限"] == "2025-09-30" and facts["逾期天数"] == DOSSIER["not_overdue"]
    assert facts["村级河长"] == "张伟（村支书）" and facts["县级河长"] == "王建国（副县长）"
    # every event, oldest first, with its action and state change
    history = page.tables["history"][1:]
    events = ledger.events("B")
    assert len(history) == len(events)
    assert [r[2] for r in history] == [ACTIONS[a] for a in events["action"]]
    assert history[-1][3] == f"{STATES['rectified']} → {STATES['closed']}"
    assert "B_photo_before.jpg" in history[-3][6]  # the attach events name their files
    # the evidence list: kind, file, EXIF time and position, checks
    evidence = page.tables["evidence"][1:]
    assert [r[0] for r in evidence] == [EVIDENCE["photo_before"], EVIDENCE["photo_after"]]
    assert evidence[0][1] == "B_photo_before.jpg" and evidence[0][2] == "2025-08-06 10:00"
    assert evidence[0][3].startswith("114.00") and "28.00" in evidence[0][3]
    assert DOSSIER["check_ok"] in evidence[0][4]
    # the chips are inlined byte for byte, with dates and indicators
    imgs = [a["src"] for t, a in page.tags if t == "img" and a.get("class") != "photo"]
    assert len(imgs) == 2
    for src, role in zip(imgs, ("before", "after"), strict=True):
        assert base64.b64decode(src.split(",", 1)[1]) == chips[role][1].read_bytes()
    text = "".join(page.text)
    assert "2025-07-15" in text and "2026-04-12" in text and DOSSIER["phase_before"] in text
    assert IMAGERY["before"] not in text  # 前时相/后时相: the later image is not "after rectifying"
    # the field photos are shown (thumbnails) and linked to their files in the attachment store
    photos = [a for t, a in page.tags if t == "img" and a.get("class") == "photo"]
    assert len(photos) == 2 and all(a["src"].startswith("data:image/jpeg;base64,") for a in photos)
    hrefs = [a["href"] for t, a in page.tags if t == "a" and ".attachments/" in a.get("href", "")]
    assert len(hrefs) == 2 and all((paths[0].parent / h).is_file() for h in hrefs)
    # Chinese only, with a block for the 验收 signatures, and no software text
    for word in ("null", "None", "nan", "Hetu", "河图"):
        assert word not in text, word
    assert not [r for r in page.tables["history"] if "photo_" in r[5] or r[1] == "hetu"]
    assert DOSSIER["acceptance"] in text and DOSSIER["acceptance_town"] in text
    # the same archive page as an editable Word file, photos included
    import docx

    word = docx.Document(str(paths[0].with_suffix(".docx")))
    cells = [c.text for t in word.tables for row in t.rows for c in row.cells]
    assert "B" in cells and DOSSIER["acceptance_town"] in cells
    assert len(word.inline_shapes) == 4  # two imagery chips, two field photos
    # the indices in one compact line, three significant digits
    assert f"{IMAGERY['delta']}{IMAGERY['brightness_patch']} -100" in text
    assert "batch " not in text and f"{COLUMNS['batch_id']} 2025-Q3" in text
    # the later patch at the same site, linked to its own dossier and numbered on the map
    links = page.tables["links"][1:]
    assert links[0][:4] == [DOSSIER["later"], "C", "2", MATCHING["recurrence"]]
    assert ("a", {"href": "C.html"}) in page.tags
    back = _Page(paths[1].read_text(encoding="utf-8")).tables["links"][1]
    assert back[:2] == [DOSSIER["earlier"], "B"] and back[5] == STATES["closed"]
    # the map: inline SVG, well-formed, the patch and its linked one over the segment
    svg = ET.fromstring(html[html.index("<svg") : html.index("</svg>") + 6])
    classes = [e.get("class") for e in svg.iter()]
    assert classes.count("patch") == 2 and classes.count("segment") == 1
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing fetched


def test_untrusted_text_is_escaped_everywhere(ledger, tmp_path):
    (path,) = write_dossier(ledger, "A", tmp_path, pdf=False, as_of=AS_OF)
    html = path.read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    page = _Page(html)
    assert not any("onerror" in attrs for _, attrs in page.tags)
    assert all(a.get("src", "").startswith("data:image/") for t, a in page.tags if t == "img")
    text = "".join(page.text)
    assert XSS + "疑似乱堆" in text  # shown as text: description, note, actor, attrs, reason
    assert text.count(XSS) >= 5
    facts = {row[0]: row[1] for row in page.tables["facts"]}
    # due 2025-09-30; Oct 1-8 off, Sat Oct 11 worked: Oct 9, 10, 11, 13-17, 20 = 9 working days
    assert facts["逾期天数"] == f"{DOSSIER['overdue']} 9 {DOSSIER['workdays']}"
    assert IMAGERY["outside"] in text and DOSSIER["no_evidence"] in text


def test_overdue_days_follow_the_status_frame(ledger):
    html = dossier_html(ledger, "A", as_of="2025-11-03")
    frame = ledger.status_frame(as_of="2025-11-03").set_index("patch_id")
    days = int(frame.at["A", "overdue_days"])
    assert days > 14
    assert f"{DOSSIER['overdue']} {days} {DOSSIER['workdays']}" in html


def test_unknown_patch_is_named_with_how_to_list_ids_and_nothing_is_written(ledger, tmp_path):
    out = tmp_path / "none"
    with pytest.raises(NotFoundError) as info:
        write_dossiers(ledger, ["B", "b"], out, pdf=False)
    message = str(info.value)
    assert "'b'" in message and "did you mean 'B'" in message
    assert "hetu export" in message and "patches()" in message
    assert not out.exists()
    with pytest.raises(SchemaError, match="not a date"):
        write_dossier(ledger, "B", out, pdf=False, as_of="30/09/2025")


def test_ids_with_unsafe_characters_get_distinct_safe_names():
    from geo.reports.dossier import file_name

    names = {file_name(p) for p in ("A/B", "A_B", "A B", "../x")}
    assert len(names) == 4
    assert all("/" not in n and " " not in n and not n.startswith(".") for n in names)


ODD_IDS = ["清溪河-001", "QX-2025-001", "tb-1", "TB-1", "图" * 305, "a/b", "a_b", "..", "CON",
           "X_1234abcd", "A\u202egpj.exe"]  # fmt: skip
FORBIDDEN = re.compile(r'[\\/:*?"<>|\s;\x00-\x1f\u202e]')


def test_file_names_keep_chinese_and_are_unique_and_bounded(ledger, tmp_path):
    rows = gpd.GeoDataFrame(
        {"patch_id": ODD_IDS, "batch_id": "2025-Q4", "issue_type": "dumping",
         "admin_code": "439999001001", "detected_on": "2025-09-01", "issued_on": "2025-09-01",
         "area_m2": 10.0, "source_area": None, "description": "", "attrs": "{}"},
        geometry=[shapely.box(114.003, 28.0005, 114.0032, 28.0007)] * len(ODD_IDS), crs=4490,
    )  # fmt: skip
    ledger.add_patches(rows, ImportRecord(kind="patches", file="q.shp", sha256="q",
                                          batch_id="2025-Q4"))  # fmt: skip
    out = tmp_path / "out"
    paths = write_dossiers(ledger, ODD_IDS, out, pdf=False, as_of=AS_OF)
    names = [p.name for p in paths]
    assert len({n.casefold() for n in names}) == len(ODD_IDS)  # even where case is not told
    assert sorted(p.name for p in out.glob("*.html")) == sorted(names)
    assert sorted(p.stem for p in out.glob("*.docx")) == sorted(n[:-5] for n in names)
    assert all(len(n.encode("utf-8")) <= 120 and not FORBIDDEN.search(n) for n in names)
    assert not any(n.startswith(".") for n in names)
    assert names[:2] == ["清溪河-001.html", "QX-2025-001.html"] and "TB-1.html" in names
    assert names[4].startswith("图" * 30) and names[2] != "tb-1.html"
    for pid, path in zip(ODD_IDS, paths, strict=True):  # each page is its own patch's
        assert _Page(path.read_text(encoding="utf-8")).tables["facts"][0][1] == pid


def test_an_output_folder_under_a_file_is_refused(ledger, tmp_path):
    blocker = tmp_path / "existing_file.txt"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match=r"lies under the file .*existing_file\.txt"):
        write_dossiers(ledger, ["B"], blocker / "dossiers", pdf=False)
    assert blocker.read_text(encoding="utf-8") == "x"


def test_pdf_beside_each_page_when_chromium_is_found(ledger, tmp_path):
    if find_pdf_converter() is None:
        pytest.skip("no headless Chromium here")
    paths = write_dossier(ledger, "B", tmp_path, as_of=AS_OF)  # one browser start: ~2 s
    assert [p.name for p in paths] == ["B.html", "B.pdf"]
    assert paths[1].read_bytes()[:5] == b"%PDF-" and paths[1].stat().st_size > 10_000
    none = write_dossiers(ledger, ["A"], tmp_path / "no", pdf=False, as_of=AS_OF)
    assert [p.suffix for p in none] == [".html"]
