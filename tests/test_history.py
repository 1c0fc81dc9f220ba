"""Tracking to closure: evidence, batch changes, tamper detection, concurrent writers."""

import datetime as dt
import multiprocessing

import geopandas as gpd
import pytest
import shapely
from conftest import raw_sql
from PIL import Image
from PIL.ExifTags import GPS, IFD

from geo.errors import EvidenceError, InvalidTransitionError
from geo.field.evidence import attach_evidence
from geo.ingest.photos import read_exif
from geo.ledger.changes import Change
from geo.ledger.store import Ledger
from geo.records import ImportRecord
from geo.settings import Settings

LON, LAT = 114.0, 28.0


def photo(path, *, lon=LON, lat=LAT, taken="2025:09:10 10:30:00", gps=True):
    """A JPEG with EXIF time and GPS, as a phone writes it."""
    img = Image.new("RGB", (32, 24), (90, 140, 70))
    exif = Image.Exif()
    exif.get_ifd(IFD.Exif)[0x9003] = taken
    if gps:
        g = exif.get_ifd(IFD.GPSInfo)

        def dms(v):
            d = int(v)
            m = int((v - d) * 60)
            return (float(d), float(m), round((v - d - m / 60) * 3600, 4))

        g[GPS.GPSLatitudeRef], g[GPS.GPSLatitude] = "N", dms(lat)
        g[GPS.GPSLongitudeRef], g[GPS.GPSLongitude] = "E", dms(lon)
    img.save(path, exif=exif)
    return path


def _ledger(location, ids=("A", "B", "C"), *, settings=None):
    led = Ledger.create(location, settings=settings or Settings())
    frame = gpd.GeoDataFrame(
        {"patch_id": list(ids), "batch_id": "b1", "issue_type": "dumping", "admin_code": None,
         "detected_on": None, "issued_on": "2025-08-01", "area_m2": 100.0, "source_area": None,
         "description": None, "attrs": "{}"},
        geometry=[shapely.box(LON + i * 0.01, LAT, LON + i * 0.01 + 0.0005, LAT + 0.0005)
                  for i in range(len(ids))],
        crs=4490,
    )  # fmt: skip
    led.add_patches(frame, ImportRecord(kind="patches", file="f", sha256="s", batch_id="b1"))
    return led


def _to_rectified(led, pid, day="2025-08-1"):
    for i, state in enumerate(["verifying", "confirmed", "rectifying", "rectified"]):
        led.transition(pid, state, actor="t", at=f"{day}{i + 2}T09:00")


def test_close_needs_before_and_after_photos(location, tmp_path):
    led = _ledger(location)
    _to_rectified(led, "A")
    with pytest.raises(EvidenceError, match="photo_after\\+photo_before"):
        led.transition("A", "closed", actor="t", at="2025-09-20T09:00")
    attach_evidence(led, "A", photo(tmp_path / "before.jpg", taken="2025:07:20 09:00:00"),
                    kind="photo_before", actor="巡查员", at="2025-09-20T09:00")  # fmt: skip
    attach_evidence(led, "A", photo(tmp_path / "after.jpg", lon=LON + 0.01), kind="photo_after",
                    actor="巡查员", at="2025-09-20T09:00")  # fmt: skip
    led.transition("A", "closed", actor="t", at="2025-09-21T09:00")
    ev = led.evidence("A").set_index("kind")
    assert '"time": "before_issue"' in ev.loc["photo_before", "checks"]  # taken before issue
    assert '"gps": "ok"' in ev.loc["photo_before", "checks"]
    assert '"gps": "far"' in ev.loc["photo_after", "checks"]  # ~1 km away: recorded, not blocked
    sha = ev.loc["photo_after", "attachment_id"]
    stored = led.attachments_dir / sha[:2] / f"{sha}.jpg"
    assert stored.is_file() and stored.read_bytes() == (tmp_path / "after.jpg").read_bytes()
    assert led.patches().set_index("patch_id").loc["A", "state"] == "closed"


def test_dismiss_needs_a_permit_or_watermarked_photo(location, tmp_path):
    led = _ledger(location)
    led.transition("B", "verifying", actor="t", at="2025-08-02T09:00")
    with pytest.raises(EvidenceError, match="permit or photo_watermarked"):
        led.transition("B", "dismissed", actor="t", at="2025-08-03T09:00")
    permit = tmp_path / "许可证.pdf"
    permit.write_bytes(b"%PDF-1.4 permit")
    led.attach("B", permit, kind="permit", actor="t", at="2025-08-03T09:00")
    led.transition("B", "dismissed", actor="t", at="2025-08-03T10:00")
    assert led.evidence("B")["checks"].iloc[0] == "null"  # not a photo: nothing to check


def test_exif_reader_on_photos_with_and_without_gps(tmp_path):
    meta = read_exif(photo(tmp_path / "a.jpg", lon=114.30, lat=30.59))
    assert meta["taken_at"] == "2025-09-10T10:30:00+08:00"
    assert meta["lon"] == pytest.approx(114.30, abs=1e-5) and meta["lat"] == pytest.approx(
        30.59, abs=1e-5
    )
    bare = read_exif(photo(tmp_path / "b.jpg", gps=False))
    assert bare["lon"] is None and bare["taken_at"] is not None


def test_apply_changes_reports_every_problem_and_writes_nothing(location, tmp_path):
    led = _ledger(location)
    before = len(led.events())
    problems = led.apply_changes([
        Change("A", ("verifying",), actor="t", at="2025-08-02T09:00", row=2),
        Change("ZZ", ("verifying",), actor="t", row=3),
        Change("B", ("closed",), actor="t", at="2025-08-02T09:00", row=4),
        Change("C", ("verifying",), actor="t", at="2024-01-01T09:00", row=5),
        Change("A", ("confirmed", "rectifying"), actor="t", at="2025-08-03T09:00",
               deadline="2025-13-40", row=6),
    ])  # fmt: skip
    assert [(p.row, p.field) for p in problems] == [
        (3, "patch_id"),
        (4, "state"),
        (5, "at"),
        (6, "deadline"),
    ]
    assert "allowed from issued" in problems[1].reason
    assert len(led.events()) == before
    ok = [Change("A", ("verifying", "confirmed"), actor="t", at="2025-08-02T09:00")]
    assert led.apply_changes(ok) == []
    assert led.patches().set_index("patch_id").loc["A", "state"] == "confirmed"


def test_record_keeps_state_and_carries_the_deadline(location, tmp_path):
    led = _ledger(location)
    for i, s in enumerate(["verifying", "confirmed", "rectifying"]):
        led.transition("A", s, actor="t", at=f"2025-08-0{i + 2}T09:00", deadline="2025-08-20")
    led.record("A", "notice", actor="县河长办", at="2025-08-21T09:00", note="逾期1天")
    last = led.events("A").iloc[-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (
        "notice",
        "rectifying",
        "rectifying",
    )
    assert last["deadline"] == "2025-08-20"
    assert led.verify() == []


def test_deadline_from_rules_in_working_days(location, tmp_path):
    from geo.settings import settings_from_dict

    s = settings_from_dict({"lifecycle": {"deadline": [{"issue_type": "dumping", "days": 3}]}})
    led = _ledger(location, settings=s)
    for i, state in enumerate(["verifying", "confirmed", "rectifying"]):
        led.transition("A", state, actor="t", at=f"2025-09-2{i + 7}T09:00")
    # the 整改期限 is set at 认定 on Sunday 2025-09-28 and kept into 整改: 3 working days
    # are 09-29, 09-30, 10-09 (National Day between)
    assert led.patches().set_index("patch_id").loc["A", "deadline"] == "2025-10-09"
    # overdue on 10-14: 10-10, 10-11 (a Saturday worked in lieu), 10-13, 10-14
    assert led.status_frame(as_of="2025-10-14").set_index("patch_id").loc["A", "overdue_days"] == 4


@pytest.mark.parametrize("tamper", ["edit", "delete_middle", "delete_last", "drop_trigger"])
def test_verify_detects_tampering(location, tmp_path, tamper):
    led = _ledger(location)
    led.transition(["A", "B"], "verifying", actor="t", at="2025-08-02T09:00")
    led.transition("A", "confirmed", actor="t", at="2025-08-03T09:00")
    assert led.verify() == [] and led.open_count() == 3
    on = " ON events" if led.backend == "postgis" else ""
    raw_sql(location, f"DROP TRIGGER events_no_update{on}")
    raw_sql(location, f"DROP TRIGGER events_no_delete{on}")
    if tamper == "edit":
        raw_sql(location, "UPDATE events SET actor = '别人' WHERE event_id = 4")
    elif tamper == "delete_middle":
        raw_sql(location, "DELETE FROM events WHERE event_id = 2")
    elif tamper == "delete_last":
        raw_sql(location, "DELETE FROM events WHERE event_id = (SELECT max(event_id) FROM events)")
    problems = led.verify()
    assert problems, tamper
    assert any(p.startswith("触发器 events_no_update 缺失") for p in problems)
    if tamper != "drop_trigger":
        assert any(w in " ".join(problems) for w in ("被改动", "缺失（被删除）", "断开"))


def _worker(path, ids, shared, barrier, out):
    led = Ledger(path)
    barrier.wait()
    done = refused = 0
    steps = (
        ["verifying", "confirmed", "rectifying"] + ["rectified", "rectifying"] * 3 + ["rectified"]
    )
    for k, state in enumerate(steps):
        for pid in ids:
            at = dt.datetime(2025, 9, 1, 8) + dt.timedelta(minutes=k)
            led.transition(pid, state, actor=f"p{ids[0]}", at=at)
            done += 1
        try:
            led.transition(shared, "verifying", actor=f"p{ids[0]}", at="2025-09-02T08:00")
            done += 1
        except InvalidTransitionError:
            refused += 1
    led.close()
    out.put((done, refused))


def test_four_writers_lose_nothing_and_keep_the_state_machine(location):
    """4 processes x 500 transitions on PostGIS (a row lock), x 250 on GeoPackage (one writer)."""
    n = 200 if "postgresql" in str(location) else 100
    ids = [f"P{i:03d}" for i in range(n)]
    led = _ledger(location, [*ids, "S"])
    start_events = len(led.events())
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(location, ids[i::4], "S", barrier, out))
             for i in range(4)]  # fmt: skip
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    done = sum(r[0] for r in results)
    assert done == n * 10 + 1  # n patches x 10 steps, and the shared patch moved exactly once
    assert sum(r[1] for r in results) == 4 * 10 - 1
    assert len(led.events()) == start_events + done
    states = led.patches().set_index("patch_id")["state"]
    assert (states[ids] == "rectified").all() and states["S"] == "verifying"
    assert led.verify() == []
