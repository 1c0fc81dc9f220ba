"""Progress callbacks of the long library functions: a total first, then counts summing to it."""

import geopandas as gpd
import pytest
import shapely
from test_imagery import ground, inside, make_tif, patches_at

import geo.ledger.store
import geo.reports.pdf
from geo.imagery.chipping import chips_for_patches
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.progress import expect, no_progress
from geo.reports.dossier import write_dossiers
from geo.reports.exports import export_ledger
from geo.reports.pdf import print_pdfs
from geo.settings import Settings

X0, Y0 = 500_000.0, 3_098_000.0  # EPSG:4547 near (114E, 28N)
# Prints a fake PDF for --print-to-pdf=FILE, and fails for a page named bad.html.
FAKE_CHROMIUM = """#!/bin/sh
for a in "$@"; do
  case "$a" in
    *bad.html) exit 1 ;;
    --print-to-pdf=*) printf '%%PDF-1.4 fake' > "${a#--print-to-pdf=}" ;;
  esac
done
"""


class Counter:
    """A callback with a ``total``, like the command line's progress bar."""

    def __init__(self):
        self.total = None
        self.calls = []

    def __call__(self, done):
        assert self.total is not None, "counted before the total was told"
        self.calls.append(done)


@pytest.fixture
def fake_chromium(tmp_path):
    exe = tmp_path / "chromium"
    exe.write_text(FAKE_CHROMIUM)
    exe.chmod(0o755)
    return str(exe)


@pytest.fixture
def demo_ledger(demo_copy):
    with Ledger(demo_copy) as led:
        yield led


def test_expect_sets_a_total_where_there_is_one():
    counter = Counter()
    assert expect(counter, 7) is counter and counter.total == 7
    assert expect(None, 7) is no_progress
    plain = []
    assert expect(plain.append, 7) == plain.append  # a plain function is just called


def test_ingest_counts_every_feature_read_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(geo.ledger.store, "_WRITE_CHUNK", 2)
    boxes = [shapely.box(X0 + 100 * i, Y0, X0 + 100 * i + 40, Y0 + 40) for i in range(5)]
    gdf = gpd.GeoDataFrame(
        {"TBBH": [f"T{i}" for i in range(6)], "WTLX": "3"}, geometry=[*boxes, None], crs=4547
    )
    gdf.to_file(tmp_path / "batch.gpkg")
    counter = Counter()
    settings = Settings(central_meridian=114, extent=(113.5, 27.5, 114.5, 28.5))
    with Ledger.create(tmp_path / "l.gpkg", settings=settings) as led:
        rec = ingest_file(led, "patches", tmp_path / "batch.gpkg", progress=counter)
        assert rec.n_read == 6 and rec.n_quarantined == 1
        assert counter.total == sum(counter.calls) == 6
        assert counter.calls == [1, 2, 2, 1]  # the quarantined one, then chunks of 2 written
        assert len(led.events()) == 5 and led.verify() == []  # the chain across chunks holds


def test_chips_count_every_patch_placed_or_not(tmp_path):
    image = make_tif(tmp_path / "good.tif", ground())
    patches = patches_at(inside(100, 100), inside(300, 300), inside(5000, 5000))
    patches.loc[len(patches)] = ["P3", None]  # no geometry
    calls = []
    rows, _ = chips_for_patches(
        patches, [image], role="before", out_dir=tmp_path / "c", progress=calls.append
    )
    assert rows["status"].tolist() == ["ok", "ok", "outside", "no_geometry"]
    assert calls == [1, 1, 1, 1]  # per patch chipped or outside, then the empty ones at once


def test_export_counts_each_file(demo_ledger, tmp_path):
    counter = Counter()
    result = export_ledger(demo_ledger, tmp_path / "out", as_of="2026-04-30", progress=counter)
    assert counter.total == sum(counter.calls) == len(result.files) == 5
    assert set(counter.calls) == {1}


def test_dossiers_count_pages_then_pdfs(demo_ledger, tmp_path, monkeypatch, fake_chromium):
    monkeypatch.setattr(geo.reports.pdf, "find_pdf_converter", lambda: fake_chromium)
    ids = demo_ledger.patches()["patch_id"].head(3).tolist()
    counter = Counter()
    paths = write_dossiers(demo_ledger, ids, tmp_path / "d", as_of="2026-04-30", progress=counter)
    assert len(paths) == 6 and sum(p.suffix == ".pdf" for p in paths) == 3
    assert counter.total == sum(counter.calls) == 6 and set(counter.calls) == {1}
    plain = []
    write_dossiers(demo_ledger, ids, tmp_path / "e", pdf=False, progress=plain.append)
    assert plain == [1, 1, 1]


def test_print_pdfs_counts_failures_too(tmp_path, fake_chromium):
    pages = [tmp_path / f"{name}.html" for name in ("a", "bad", "c")]
    for page in pages:
        page.write_text("<p>页</p>", encoding="utf-8")
    calls = []
    printed, failed = print_pdfs(pages, browser=fake_chromium, progress=calls.append)
    assert [p.name for p in printed] == ["a.pdf", "c.pdf"] and failed == [pages[1]]
    assert calls == [1, 1, 1]
