"""``--as-of DATE``: the ledger replayed to the end of that day, the same in every report.

Issue 16.2. The demo county: batch 2025-Q3 issued 2025-08-01 and worked to closure by
2025-09-30, one dismissal overturned by the city's audit on 2025-11-10, batch 2026-Q1
issued 2026-02-01. On 2025-11-01 the ledger held the first batch only, the audit had
not happened, and no later event may show.
"""

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from geo.cli.main import cli
from geo.labels import COLUMNS, STATES, TEXT
from geo.ledger.store import Ledger

DAY = "2025-11-01"  # after the first batch's closures, before the audit and the second batch
AUDITOR = "市河长办抽查"  # the actor of the 2025-11-10 audit event (geo.demo.flow)


def run(*args, code=0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def audited(demo_copy):
    """The patch whose dismissal the audit overturned on 2025-11-10."""
    with Ledger(demo_copy) as led:
        events = led.events()
    pid = events.loc[events["actor"].eq(AUDITOR), "patch_id"].iloc[0]
    return str(pid)


def test_export_as_of_lists_only_what_the_ledger_held_that_day(demo_copy, tmp_path, audited):
    run("export", demo_copy, "-o", tmp_path / "exp", "--as-of", DAY)
    csv = pd.read_csv(tmp_path / "exp" / f"ledger_{DAY}.csv", dtype=str, encoding="utf-8-sig")
    assert len(csv) == 60 and set(csv[COLUMNS["batch_id"]]) == {"2025-Q3"}  # no 2026 patch
    assert (csv[COLUMNS["issued_on"]] <= DAY).all()
    assert (csv[COLUMNS["state_since"]].str[:10] <= DAY).all()  # no event after the day
    row = csv.set_index(COLUMNS["patch_id"]).loc[audited]
    assert row[COLUMNS["state"]] == STATES["dismissed"]  # the audit of 11-10 had not happened
    # the counts equal `hetu status --as-of` of the same day
    status = json.loads(run("status", demo_copy, "--as-of", DAY, "--json").output)
    shown = csv[COLUMNS["state"]].value_counts()
    assert status == {s: int(shown.get(STATES[s], 0)) for s in status}
    detail = json.loads(run("status", demo_copy, "--as-of", DAY, "--json", "--detail").output)
    assert set(detail) == {"states", "open", "overdue", "by_township", "overdue_by_stage",
                           "verify_rate", "rectify_rate"}  # fmt: skip
    assert detail["states"] == status
    assert sum(detail["overdue_by_stage"].values()) == detail["overdue"]
    settled = csv[COLUMNS["state"]].isin([STATES["closed"], STATES["dismissed"]])
    assert detail["open"] == int((~settled).sum())  # 挂账监管 counts open
    assert detail["open"] > status["issued"] + status["verifying"] + status["rectifying"]
    late = pd.to_numeric(csv[COLUMNS["overdue_days"]]) > 0
    assert detail["overdue"] == int(late.sum()) > 0
    towns = csv[COLUMNS["township"]].value_counts()
    assert {t: n["total"] for t, n in detail["by_township"].items()} == towns.to_dict()
    book = load_workbook(tmp_path / "exp" / f"ledger_{DAY}.xlsx", read_only=True)
    title = next(book[TEXT["summary"]].iter_rows(max_row=1, values_only=True))[0]
    assert f"{TEXT['as_of']} {DAY}" in title and "示范县河长制办公室" in title
    ledger_rows = list(book[TEXT["ledger_sheet"]].iter_rows(min_row=4, values_only=True))
    assert len(ledger_rows) == 60 + 2  # and the 填报 lines under a blank row
    assert ledger_rows[59][0] == 60 and ledger_rows[-1][0].startswith("填报单位")


def test_status_as_of_today_equals_status_now(demo_copy):
    now = json.loads(run("status", demo_copy, "--json").output)
    with Ledger(demo_copy) as led:
        last = led.events()["at"].str[:10].max()
    assert json.loads(run("status", demo_copy, "--as-of", last, "--json").output) == now
    before = json.loads(run("status", demo_copy, "--as-of", "2025-07-31", "--json").output)
    assert sum(before.values()) == 0  # nothing issued yet
    bad = run("status", demo_copy, "--as-of", "2025-13-01", code=2)
    assert "2025-13-01" in bad.output and "YYYY-MM-DD" in bad.output


def test_map_and_dossier_as_of_show_nothing_after_the_day(demo_copy, tmp_path, audited):
    html = tmp_path / "map.html"
    run("map", demo_copy, "-o", html, "--as-of", DAY, "--basemap", "none", "--no-shoreline")
    text = html.read_text(encoding="utf-8")
    assert "TB2025Q3-0001" in text and "TB2026Q1" not in text
    assert AUDITOR not in text  # the popups' history stops at the day
    assert f"{COLUMNS['observed_at']}: 2026-" not in text  # nor a track walked in 2026
    later = tmp_path / "later.html"
    run("map", demo_copy, "-o", later, "--as-of", "2026-04-30", "--basemap", "none",
        "--no-shoreline")  # fmt: skip
    assert "TB2026Q1" in later.read_text(encoding="utf-8")
    run("dossier", demo_copy, audited, "-o", tmp_path / "d", "--no-pdf", "--as-of", DAY)
    page = (tmp_path / "d" / f"{audited}.html").read_text(encoding="utf-8")
    assert AUDITOR not in page and f"{DAY}" in page
    run("dossier", demo_copy, audited, "-o", tmp_path / "d2", "--no-pdf", "--as-of", "2026-04-30")
    assert AUDITOR in (tmp_path / "d2" / f"{audited}.html").read_text(encoding="utf-8")
    # a patch issued after the day has no dossier as of that day
    late = run("dossier", demo_copy, "TB2026Q1-0001", "-o", tmp_path / "d3", "--no-pdf",
               "--as-of", DAY, code=1)  # fmt: skip
    assert f"issued after {DAY}" in late.output


def test_assess_as_of_counts_only_the_history_up_to_the_day(demo_copy):
    early = run("assess", demo_copy, "--quarter", "2025Q4", "--as-of", DAY).output
    late = run("assess", demo_copy, "--quarter", "2025Q4", "--as-of", "2025-12-31").output
    assert "2025-10-01 – 2025-11-01" in early and "2025-10-01 – 2025-12-31" in late
    assert "nan" not in early and "nan" not in late


def test_tracks_and_findings_as_of_are_those_walked_and_imported_by_the_day(demo_copy):
    with Ledger(demo_copy) as led:
        tracks, findings = led.tracks(), led.findings()
        then, seen = led.tracks(as_of=DAY), led.findings(as_of=DAY)
        now = led.tracks(as_of="2099-01-01")
    assert 0 < len(then) < len(tracks) and 0 < len(seen) <= len(findings)
    assert (then["started_at"].str[:10] <= DAY).all()
    assert (seen["observed_at"].str[:10] <= DAY).all()
    late = tracks["started_at"].str[:10] > DAY
    assert late.any() and len(then) == int((~late).sum()) and len(now) == len(tracks)


def test_reads_as_of_on_both_backends(location, tmp_path):
    """The replay is SQL both databases run: patches, events and counts as of a day."""
    import geopandas as gpd
    import shapely

    from geo.records import ImportRecord

    with Ledger.create(location) as led:
        frame = gpd.GeoDataFrame(
            {"patch_id": ["A", "B"], "batch_id": "b", "issue_type": "dumping",
             "admin_code": [None, "439999001001"], "issued_on": ["2025-08-01", "2026-02-01"]},
            geometry=[shapely.box(114.0, 28.0, 114.001, 28.001)] * 2, crs=4490,
        )  # fmt: skip
        for col in ("detected_on", "area_m2", "source_area", "description", "attrs"):
            frame[col] = None
        led.add_patches(frame, ImportRecord(kind="patches", file="f", sha256="s", batch_id="b"))
        led.transition("A", "verifying", actor="t", at="2025-08-05T10:00")
        led.transition("A", "confirmed", actor="t", at="2025-09-05T10:00")
        assert list(led.patches(as_of="2025-08-31")["state"]) == ["verifying"]
        assert list(led.patches(as_of="2026-03-01")["patch_id"]) == ["A", "B"]
        assert led.status_counts(as_of="2025-09-05")["confirmed"] == 1
        assert len(led.events(as_of="2025-08-04")) == 1 and len(led.events("A")) == 3
        frame = led.status_frame(as_of="2025-08-31")
        assert list(frame["township"]) == [TEXT["no_township"]]
