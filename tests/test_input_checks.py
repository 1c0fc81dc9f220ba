"""Every input gets the same checks (issues 15.5, 16.5): what an attacker and a new user sent.

Surveys like patches (finite positions, China and the office's extent, plausible times,
GPX routes); NaN vertices quarantined; plausible dates of issue and of transitions; blank
ids named; zip members bounded before unpacking; no password on the command line nor in a
message; a full disk is one line and leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import signal
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner, Result
from conftest import raw_sql, realdata

from geo.cli.main import cli
from geo.clock import EARLIEST, as_date, as_time, implausible
from geo.errors import CRSError, DiskFullError, IngestError, LedgerError, SchemaError
from geo.ingest.readers import patches_from_file, segments_from_file
from geo.ingest.tracks import surveys_from_file
from geo.ingest.vectors import read_vector
from geo.ledger.db import disk_full, is_url, redact
from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger
from geo.settings import Settings

HETU = Path(sys.executable).parent / "hetu"
OFFICE = (113.7, 27.6, 114.3, 28.1)  # the demo county's [office] extent
GUANGXI = (104.4, 20.9, 112.1, 26.4)
SETTINGS = f'[office]\nname = "测试县河长办"\nextent = {list(OFFICE)}\n[map]\nbasemap = "none"\n'


def gpx(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t" '
        f'xmlns="http://www.topografix.com/GPX/1/1">{body}</gpx>'
    )


def trkpt(lat: object, lon: object, time: str | None = None) -> str:
    return (
        f'<trkpt lat="{lat}" lon="{lon}">' + (f"<time>{time}</time>" if time else "") + "</trkpt>"
    )


def track(*points: str, name: str = "晨巡") -> str:
    return f"<trk><name>{name}</name><trkseg>{''.join(points)}</trkseg></trk>"


def hetu(*args: object, env: dict | None = None) -> Result:
    """Run ``hetu`` in this process (``exit_code``, ``stdout``, ``stderr``)."""
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def hetu_limited(*args: object, limit: int) -> subprocess.CompletedProcess:
    """Run the ``hetu`` command in a process that may write no file beyond ``limit`` bytes."""

    def apply() -> None:  # EFBIG instead of a SIGXFSZ kill: what a full disk gives a writer
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([HETU, *map(str, args)], capture_output=True, text=True,
                          preexec_fn=apply, check=False)  # fmt: skip


def batch(path: Path, ids, *, geoms=None, **columns) -> Path:
    n = len(ids)
    geoms = geoms or [
        shapely.box(113.9 + i * 0.01, 28.0, 113.905 + i * 0.01, 28.005) for i in range(n)
    ]
    gpd.GeoDataFrame({"TBBH": list(ids), "WTLX": ["3"] * n, **columns}, geometry=geoms,
                     crs=4490).to_file(path)  # fmt: skip
    return path


# -- 1. surveys like patches ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "95.5", "", "北纬28"])
@pytest.mark.parametrize("element", ["trkpt", "rtept", "wpt"])
def test_gpx_position_that_is_no_position_is_refused_naming_the_point(tmp_path, value, element):
    """Before: NaN/inf/1e308 were stored, and every later `hetu map` failed with a traceback."""
    good = '<{0} lat="28.0" lon="113.9"/><{0} lat="28.01" lon="113.91"/>'
    bad = f'<{element} lat="{value}" lon="113.92"/>'
    body = {
        "trkpt": f"<trk><name>晨巡</name><trkseg>{good.format('trkpt')}{bad}</trkseg></trk>",
        "rtept": f"<rte><name>计划</name>{good.format('rtept')}{bad}</rte>",
        "wpt": f'<wpt lat="28" lon="113.9"><name>W1</name></wpt>{bad}',
    }[element]
    path = tmp_path / "walk.gpx"
    path.write_text(gpx(body), encoding="utf-8")
    where = {"trkpt": "track 晨巡, point 3", "rtept": "route 计划, point 3", "wpt": "waypoint 2"}
    with pytest.raises(IngestError, match=rf"walk\.gpx: {where[element]}, field lat: '") as err:
        surveys_from_file(path)
    assert "not a latitude" in str(err.value) and "export the file again" in str(err.value)


def test_gpx_times_out_of_range_or_unparsable_are_dropped_and_counted(tmp_path):
    """Before: gpxpy dropped 'bogus' silently, kept 1901, and a year-9999 time crashed."""
    body = track(
        trkpt(28.0, 113.9, "1901-01-01T00:00:00Z"),
        trkpt(28.001, 113.901, "2025-05-01T01:00:00Z"),
        trkpt(28.002, 113.902, "bogus"),
        trkpt(28.003, 113.903, "9999-12-31T23:59:59-05:00"),
        trkpt(28.004, 113.904, "2025-13-01T00:00:00Z"),
        trkpt(28.005, 113.905, "2025-05-01T02:00:00"),  # no zone: UTC in GPX
    )
    path = tmp_path / "clock.gpx"
    path.write_text(gpx(body + '<wpt lat="28" lon="113.9"><time>2205-01-01T00:00:00Z</time></wpt>'))
    tracks, findings = surveys_from_file(path, extent=OFFICE)
    row = tracks.iloc[0]
    assert (row["started_at"], row["ended_at"], row["n_points"]) == (
        "2025-05-01T09:00:00+08:00", "2025-05-01T10:00:00+08:00", 6)  # fmt: skip
    assert findings["observed_at"].isna().all() and findings["finding_id"].item() == "clock-1"
    decisions = tracks.attrs["hetu"]["record"]["decisions"]
    unparsable = next(d for d in decisions if "unparsable" in d)
    assert unparsable.startswith("2 time(s) unparsable, dropped: track 晨巡, point 3: 'bogus'")
    assert "point 5: '2025-13-01T00:00:00Z'" in unparsable
    out = next(d for d in decisions if "not from 2000-01-01 to tomorrow" in d)
    assert (
        out.startswith("3 time(s)") and "point 1: 1901-01-01T00:00:00+00:00 is before 2000" in out
    )
    assert "point 4: 9999-12-31T23:59:59-05:00 is after tomorrow" in out and "waypoint 1" in out


def test_gpx_routes_are_read_as_tracks(tmp_path):
    """Before: <rte> routes were silently ignored."""
    body = (
        "<rte><name>计划路线</name><type>patrol</type>"
        '<rtept lat="28.0" lon="113.9"><time>2025-05-01T01:00:00Z</time></rtept>'
        '<rtept lat="28.01" lon="113.91"><time>2025-05-01T01:30:00Z</time></rtept></rte>'
    )
    path = tmp_path / "route.gpx"
    path.write_text(gpx(body), encoding="utf-8")
    tracks, _ = surveys_from_file(path)
    assert tracks["name"].tolist() == ["计划路线"] and tracks["n_points"].item() == 2
    assert json.loads(tracks["attrs"].item()) == {"type": "patrol", "gpx": "route"}
    assert tracks["ended_at"].item() == "2025-05-01T09:30:00+08:00"
    assert any(
        "routes (<rte>) read as tracks" in d for d in tracks.attrs["hetu"]["record"]["decisions"]
    )


def test_foreign_tracks_are_refused_by_china_and_by_the_office_extent(tmp_path):
    """Before: a Slovenian and a Boston GPX went into a Guangxi ledger; the map fit the world."""
    with pytest.raises(
        CRSError, match=r"charles_river\.gpx: data spans lon -71\.\d+.*outside China"
    ):
        surveys_from_file(realdata("gps", "charles_river.gpx"))
    with pytest.raises(CRSError, match=r"cerknicko-jezero\.gpx: .*outside the office's extent"):
        surveys_from_file(realdata("gps", "cerknicko-jezero.gpx"), extent=GUANGXI)
    hunan = tmp_path / "hunan.gpx"  # in China, not in this Guangxi office's area
    hunan.write_text(gpx(track(trkpt(28.0, 113.9), trkpt(28.01, 113.91))), encoding="utf-8")
    with pytest.raises(CRSError, match="is this the office's survey"):
        surveys_from_file(hunan, extent=GUANGXI)
    assert len(surveys_from_file(hunan, extent=OFFICE)[0]) == 1


def test_cli_refuses_a_foreign_track_in_one_line(tmp_path):
    (tmp_path / "hetu.toml").write_text(SETTINGS, encoding="utf-8")
    led = tmp_path / "ledger.gpkg"
    assert hetu("--settings", tmp_path / "hetu.toml", "init", led).exit_code == 0
    out = hetu("--settings", tmp_path / "hetu.toml", "ingest", led, "surveys",
               realdata("gps", "cerknicko-jezero.gpx"))  # fmt: skip
    assert out.exit_code == 1 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "outside the office's extent" in out.stderr
    assert raw_sql(led, "SELECT count(*) FROM survey_tracks") == [(0,)]


def test_kml_and_table_fixes_get_the_same_checks(tmp_path):
    kml = tmp_path / "巡河.kml"
    kml.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>T1</name>'
        "<TimeStamp><when>1901-04-03T08:00:00</when></TimeStamp>"
        "<LineString><coordinates>113.9,28.0 113.91,nan</coordinates></LineString>"
        "</Placemark></Document></kml>",
        encoding="utf-8",
    )
    with pytest.raises(
        IngestError, match=r"巡河\.kml: placemark 1 \(T1\), coordinate 2, field lat"
    ):
        surveys_from_file(kml)
    kml.write_text(kml.read_text(encoding="utf-8").replace("nan", "28.01"), encoding="utf-8")
    tracks, _ = surveys_from_file(kml)
    assert tracks["started_at"].isna().all()  # 1901: dropped, and said
    assert any("1901-04-03T08:00:00+08:00 is before" in d
               for d in tracks.attrs["hetu"]["record"]["decisions"])  # fmt: skip
    csv = tmp_path / "app.csv"
    csv.write_text(
        "巡河人,定位时间,经度,纬度\n张三,2026-04-03 08:00,113.90,28.00\n"
        "张三,1901-04-03 08:05,113.91,28.01\n张三,2026-04-03 08:10,113.92,28.02\n",
        encoding="utf-8",
    )
    tracks, _ = surveys_from_file(csv, extent=OFFICE)
    assert tracks["n_points"].item() == 2
    decisions = tracks.attrs["hetu"]["record"]["decisions"]
    assert any("row 3, field 定位时间: 1901-04-03T08:05:00+08:00 is before" in d for d in decisions)
    with pytest.raises(CRSError, match=r"app\.csv: .*outside the office's extent"):
        surveys_from_file(csv, extent=GUANGXI)


# -- 2. NaN and infinite vertices -----------------------------------------------------------------


def test_nan_and_inf_vertices_are_quarantined_with_their_reason(tmp_path):
    """Before: NaN became an empty patch 'repaired, area change +nan%'; inf refused the file."""
    box = [(113.9, 28.0), (113.91, 28.0), (113.91, 28.01), (113.9, 28.01)]
    nan = shapely.Polygon([box[0], (113.91, float("nan")), *box[2:]])
    inf = shapely.Polygon([box[0], box[1], (float("inf"), 28.01), box[3]])
    path = batch(tmp_path / "b.gpkg", ["A", "B", "C"], geoms=[nan, inf, shapely.Polygon(box)])
    out = patches_from_file(path)
    assert out["patch_id"].tolist() == ["C"] and out["area_m2"].item() > 1e6
    quarantine = {q["feature_id"]: q["reason"] for q in out.attrs["hetu"]["quarantine"]}
    assert quarantine["A"].startswith("coordinates not finite: vertex 2 is (113.91, nan)")
    assert quarantine["B"].startswith("coordinates not finite: vertex 3 is (inf, 28.01)")
    assert not any("repaired" in d for d in out.attrs["hetu"]["record"]["decisions"])
    segments = gpd.GeoDataFrame({"河段编码": ["S1", "S2"]}, geometry=[nan, shapely.Polygon(box)],
                                crs=4490)  # fmt: skip
    segments.to_file(tmp_path / "segs.gpkg")
    segs = segments_from_file(tmp_path / "segs.gpkg")
    assert segs["segment_id"].tolist() == ["S2"]
    assert "not finite" in segs.attrs["hetu"]["quarantine"][0]["reason"]


# -- 3. plausible dates ---------------------------------------------------------------------------


def test_the_one_bound_runs_from_2000_to_tomorrow():
    tomorrow = as_date(None) + dt.timedelta(days=1)
    assert implausible(tomorrow) is None and implausible(EARLIEST) is None
    assert implausible(tomorrow + dt.timedelta(days=1)).endswith(f"after tomorrow ({tomorrow})")
    assert implausible("1999-12-31") == "1999-12-31 is before 2000-01-01"
    assert "after tomorrow" in implausible("9999-12-31T23:59:59-05:00")  # no OverflowError
    with pytest.raises(ValueError, match="out of the calendar's range"):
        as_time("9999-12-31T23:59:59-05:00")


def test_implausible_issue_dates_are_refused_naming_row_and_field(tmp_path):
    path = batch(
        tmp_path / "b.gpkg",
        ["A", "B", "C"],
        XFSJ=["2025-07-01", "2205-01-01", None],
        JCSJ=["2025-06-01", None, "1999-05-01"],
    )
    with pytest.raises(SchemaError) as err:  # fmt: skip
        patches_from_file(path)
    text = str(err.value)
    assert text.startswith("b.gpkg: 2 implausible date(s): row 3, field JCSJ (detected_on): 1999")
    assert "row 2, field XFSJ (issued_on): 2205-01-01 is after tomorrow" in text
    good = batch(tmp_path / "c.gpkg", ["A"])
    with pytest.raises(SchemaError, match=r"c\.gpkg: the issue date given .* 2205-01-01 is after"):
        patches_from_file(good, issued_on="2205-01-01")


def test_transition_at_an_implausible_time_is_refused(tmp_path):
    """Before: `--at 2999-01-01` was accepted and the patch could never move again."""
    led_path = tmp_path / "ledger.gpkg"
    with Ledger.create(led_path) as led:
        ingest_file(led, "patches", batch(tmp_path / "b.gpkg", ["A"]))
        for at in ("2999-01-01", "1999-12-31T09:00", "9999-12-31T23:00:00-05:00"):
            with pytest.raises(SchemaError, match=rf"patch A: time {at[:10]}.*(after|before)"):
                led.transition("A", "verifying", actor="t", at=at)
        assert len(led.events()) == 1
    out = hetu(
        "transition", led_path, "A", "--to", "verifying", "--actor", "t", "--at", "2999-01-01"
    )
    assert (
        out.exit_code == 2
        and "Invalid value for '--at': 2999-01-01 is after tomorrow" in out.stderr
    )
    out = hetu("ingest", led_path, "patches", tmp_path / "b.gpkg", "--batch", "x",
               "--issued-on", "2205-01-01")  # fmt: skip
    assert out.exit_code == 2 and "'--issued-on': 2205-01-01 is after tomorrow" in out.stderr
    new = batch(
        tmp_path / "c.gpkg", ["C"]
    )  # an office's writing: read, then checked, by the library
    out = hetu("ingest", led_path, "patches", new, "--batch", "y", "--issued-on", "2205/1/1")
    assert out.exit_code == 1 and "the issue date given" in out.stderr
    assert hetu("transition", led_path, "A", "--to", "verifying", "--actor", "t").exit_code == 0


# -- 4. blank ids ---------------------------------------------------------------------------------


def test_blank_ids_are_named_and_nothing_is_written(tmp_path):
    """Before: a blank segment id reached SQLite (NOT NULL constraint failed), patches TypeError."""
    ids = ["A", None, " ", "\u3000", "\u200b", "B"]
    path = batch(tmp_path / "b.gpkg", ids)
    with pytest.raises(
        SchemaError, match=r"b\.gpkg: row\(s\) 2, 3, 4, 5, field TBBH \(patch_id\): no patch id"
    ):
        patches_from_file(path)
    square = shapely.box(113.9, 28, 113.91, 28.01)
    segs = gpd.GeoDataFrame({"HDBM": ["S1", None, "  "]}, geometry=[square] * 3, crs=4490)
    segs.to_file(tmp_path / "segs.gpkg")
    with Ledger.create(tmp_path / "ledger.gpkg") as led:
        with pytest.raises(
            SchemaError, match=r"row\(s\) 2, 3, field HDBM \(segment_id\): no segment id"
        ):
            ingest_file(led, "ranges", tmp_path / "segs.gpkg")
        with pytest.raises(SchemaError, match="nothing was read"):
            ingest_file(led, "patches", path)
        assert len(led.segments()) == 0 and len(led.patches()) == 0
        assert raw_sql(tmp_path / "ledger.gpkg", "SELECT count(*) FROM imports") == [(0,)]


# -- 5. zip members -------------------------------------------------------------------------------


def _declare_size(path: Path, member: str, size: int) -> None:
    """Make a zip's headers declare ``size`` unpacked bytes for ``member`` (a crafted zip)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(sig, start)) >= 0:
            nlen = struct.unpack_from("<H", data, start + (26 if sig == b"PK\x03\x04" else 28))[0]
            head = start + (30 if sig == b"PK\x03\x04" else 46)
            if bytes(data[head : head + nlen]) == name:
                struct.pack_into("<I", data, start + at, size)
            start += 4
    path.write_bytes(bytes(data))


def _geojson(tmp_path: Path) -> bytes:
    gpd.GeoDataFrame({"TBBH": ["A"]}, geometry=[shapely.box(113.9, 28, 113.91, 28.01)],
                     crs=4490).to_file(tmp_path / "a.geojson")  # fmt: skip
    return (tmp_path / "a.geojson").read_bytes()


def test_a_zip_member_declaring_a_huge_size_is_refused_before_unpacking(tmp_path):
    """Before: every member was inflated into memory (2.2 GB peak for a 1 GiB member)."""
    path = tmp_path / "批次.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("图斑.geojson", _geojson(tmp_path))
    _declare_size(path, "图斑.geojson", 3 * 2**30)
    with pytest.raises(
        IngestError, match=r"批次\.zip: member 图斑\.geojson \(3,072 MiB\) would unpack"
    ):
        read_vector(path)


def test_zip_limits_per_member_and_in_all_and_unrelated_members_stay_packed(tmp_path):
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.geojson", _geojson(tmp_path) + b" " * 2**21)  # 2 MiB of blanks
        zf.writestr("影像/huge.tif", b"\0" * 1000)
    _declare_size(path, "影像/huge.tif", 3 * 2**30)  # never unpacked: not the layer's
    gdf, _, notes = read_vector(path)
    assert len(gdf) == 1 and notes[0] == "read a.geojson from b.zip"
    with pytest.raises(IngestError, match=r"limit per member; nothing was unpacked"):
        read_vector(path, member_limit=2**20)
    with pytest.raises(IngestError, match=r"over the limit of 1 MiB"):
        read_vector(path, member_limit=2**22, total_limit=2**20)


def test_errors_about_a_zipped_file_name_the_zip_and_the_member(tmp_path):
    path = tmp_path / "批次.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("坏.geojson", b'{"type": "FeatureCollection", "features": [ oops')
    with pytest.raises(IngestError) as err:
        read_vector(path)
    assert f"{path} (member 坏.geojson): cannot be read" in str(err.value)
    assert "hetu-zip-" not in str(err.value)
    kmz = tmp_path / "轨迹.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("doc.kml", "<kml/>")
    _declare_size(kmz, "doc.kml", 2**30)
    with pytest.raises(IngestError, match=r"轨迹\.kmz: member doc\.kml \(1,024 MiB\) would unpack"):
        surveys_from_file(kmz)
    with pytest.raises(IngestError, match=r"轨迹\.kmz: member doc\.kml \(1,024 MiB\) would unpack"):
        read_vector(kmz)  # a KMZ of patches: GDAL would unpack it itself


# -- 6. passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("postgresql://hetu:s3cret@db.example/hetu", "postgresql://hetu:***@db.example/hetu"),
        (
            "postgres://u:p@ss/w@db:5432/h?sslmode=require",
            "postgres://u:***@db:5432/h?sslmode=require",
        ),
        (
            "postgresql://db/h?sslmode=require&password=s3cret",
            "postgresql://db/h?sslmode=require&password=***",
        ),
        ("host=db password=s3cret dbname=hetu", "host=db password=*** dbname=hetu"),
        ("host=db password = 's3 c\\'ret' dbname=hetu", "host=db password = *** dbname=hetu"),
    ],
)
def test_redact_masks_every_form_of_password(given, shown):
    assert redact(given) == shown and is_url(given)


@pytest.mark.parametrize(
    "ledger",
    [
        "postgresql://hetu:s3cret@127.0.0.1:1/hetu",
        "postgresql://127.0.0.1:1/hetu?password=s3cret",
        "host=127.0.0.1 port=1 password=s3cret dbname=hetu",
    ],
)
def test_a_password_on_the_command_line_is_refused(ledger, tmp_path):
    for args in (("status", ledger), ("schedule", ledger, "-o", tmp_path)):
        out = hetu(*args)
        assert out.exit_code == 2 and "s3cret" not in out.output
        assert "env:HETU_DATABASE_URL" in out.stderr and "PGPASSWORD" in out.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://hetu:s3cret@127.0.0.1:1/hetu",
        "host=127.0.0.1 port=1 user=hetu password=s3cret",
    ],
)
def test_messages_redact_a_password_from_the_environment(url):
    out = hetu("status", "env:HETU_TEST_URL", env={"HETU_TEST_URL": url})
    assert out.exit_code == 1 and "cannot connect" in out.stderr
    assert "s3cret" not in out.stderr and "***" in out.stderr


def test_a_libpq_keyword_string_names_a_postgis_ledger(postgres):
    from urllib.parse import urlsplit

    url = urlsplit(postgres.new_database())
    dsn = f"host={url.hostname} port={url.port} dbname={url.path[1:]} user={url.username}"
    with Ledger.create(dsn) as led:
        assert led.backend == "postgis" and led.name == dsn


# -- 7. a full disk -------------------------------------------------------------------------------


def test_disk_full_during_ingest_and_transition_is_one_line(tmp_path):
    """Before: SQLite's 'disk I/O error' came out as a traceback (the ledger stayed intact)."""
    led = tmp_path / "ledger.gpkg"
    with Ledger.create(led) as ledger:
        ingest_file(ledger, "patches", batch(tmp_path / "a.gpkg", ["A"]))
    before = raw_sql(led, "SELECT event_id, hash FROM events")
    big = batch(tmp_path / "b.gpkg", [f"B{i}" for i in range(300)])
    for args in (("ingest", led, "patches", big), ("transition", led, "A", "--to", "verifying",
                                                     "--actor", "t")):  # fmt: skip
        out = hetu_limited("-q", *args, limit=16 * 1024)
        assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
        line = out.stderr.strip()
        assert len(line.splitlines()) == 1 and line.startswith("Error: 磁盘已满: disk full while")
        assert str(led) in line and line.endswith("free space and rerun; nothing was written")
    assert raw_sql(led, "SELECT event_id, hash FROM events") == before
    with Ledger(led) as ledger:
        assert ledger.verify() == [] and ledger.patches()["patch_id"].tolist() == ["A"]


def test_disk_full_is_told_apart(tmp_path):
    import errno
    import sqlite3

    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert disk_full(OSError(errno.EFBIG, "File too large"))
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    conn = sqlite3.connect(tmp_path / "small.db")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute("PRAGMA max_page_count = 2")  # a real SQLITE_FULL, as a full disk gives
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 50)
    with pytest.raises(sqlite3.OperationalError) as other:
        conn.execute("SELECT * FROM no_such_table")
    conn.close()
    assert disk_full(full.value) and not disk_full(other.value)
    assert issubclass(DiskFullError, LedgerError)


def test_settings_extent_reaches_the_survey_check(tmp_path):
    """`ingest_file` hands the office's extent to the survey reader."""
    path = tmp_path / "hunan.gpx"
    path.write_text(gpx(track(trkpt(28.0, 113.9), trkpt(28.01, 113.91))), encoding="utf-8")
    with Ledger.create(tmp_path / "l.gpkg", settings=Settings(extent=GUANGXI)) as led:
        with pytest.raises(CRSError, match="outside the office's extent"):
            ingest_file(led, "surveys", path)
        assert len(led.tracks()) == 0
