"""Scheduled exports: installing the schedule, the run log, exit codes, the exports record."""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from geo.errors import ExportLockedError, ScheduleError, TemplateError
from geo.ledger.store import Ledger
from geo.reports.exports import (
    EXIT_CODES,
    exit_code,
    export_ledger,
    export_lock,
    run_logger,
)
from geo.reports.timers import (
    UNIT_NAME,
    cron_marker,
    install_schedule,
    merge_crontab,
    schedule_lines,
)

needs_exports = pytest.mark.skipif(
    not hasattr(Ledger, "record_export"), reason="Ledger.record_export not in geo.ledger.store yet"
)

# --- merging our line into a crontab (pure) ------------------------------------------------------

_line = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
_path = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="#"),
    min_size=1,
    max_size=30,
).map(lambda s: "/srv/" + s.strip())
MARKER = "# hetu-export /srv/台账/ledger.gpkg"
ENTRY = "0 8 * * 1 hetu export /srv/台账/ledger.gpkg -o /srv/out >> /srv/out/export.log 2>&1"


@given(lines=st.lists(_line, max_size=8), old=st.integers(0, 3), pos=st.integers(0, 8))
def test_merge_crontab_replaces_never_duplicates(lines, old, pos):
    for line in lines:
        assume(not line.rstrip().endswith(" " + MARKER) and line.rstrip() != MARKER)
    current = list(lines)
    for _ in range(old):  # earlier installs, possibly with another time, anywhere
        current.insert(min(pos, len(current)), f"30 7 * * 5 hetu export old {MARKER}")
    merged = merge_crontab("\n".join(current), ENTRY, marker=MARKER)
    out = merged.splitlines()
    assert merged.endswith("\n")
    assert [ln for ln in out if ln.endswith(MARKER)] == [f"{ENTRY} {MARKER}"]
    assert out[-1] == f"{ENTRY} {MARKER}"
    kept = [ln for ln in "\n".join(lines).splitlines()]
    while kept and not kept[-1].strip():
        kept.pop()
    assert out[:-1] == kept  # every other line, in order
    assert merge_crontab(merged, ENTRY, marker=MARKER) == merged  # idempotent


@given(a=_path, b=_path)
def test_merge_crontab_keeps_other_ledgers(a, b):
    assume(a != b)
    ma, mb = f"# hetu-export {a}", f"# hetu-export {b}"
    assume(not ma.endswith(" " + mb) and not mb.endswith(" " + ma))
    both = merge_crontab(merge_crontab("", "0 8 * * 1 x", marker=ma), "0 9 * * 2 y", marker=mb)
    again = merge_crontab(both, "5 8 * * 1 x", marker=ma)
    assert again.splitlines() == [f"0 9 * * 2 y {mb}", f"5 8 * * 1 x {ma}"]


def test_merge_crontab_rejects_multiline_and_non_comment():
    with pytest.raises(ValueError, match="one line"):
        merge_crontab("", "0 8 * * 1 a\nrm -rf /", marker=MARKER)
    with pytest.raises(ValueError, match="comment"):
        merge_crontab("", ENTRY, marker="hetu-export x")
    with pytest.raises(ValueError, match="line break"):
        cron_marker("/srv/a\nb.gpkg")


def test_percent_escaped_for_cron_and_systemd(tmp_path):
    lines = schedule_lines(tmp_path / "50%.gpkg", out_dir=tmp_path / "out")
    assert r"50\%.gpkg" in lines["cron"] and "50%." not in lines["cron"].replace(r"\%", "")
    assert "50%%.gpkg" in lines["systemd_service"]
    assert cron_marker(tmp_path / "50%.gpkg").endswith(r"50\%.gpkg")


# --- installing ----------------------------------------------------------------------------------

FAKE_CRONTAB = """#!/bin/sh
# a stand-in for crontab(1): -l prints the table, - replaces it from stdin
if [ "$1" = "-l" ]; then
  if [ -f "$HETU_TEST_CRONTAB" ]; then cat "$HETU_TEST_CRONTAB"; exit 0; fi
  echo "no crontab for tester" >&2; exit 1
elif [ "$1" = "-" ]; then
  cat > "$HETU_TEST_CRONTAB"
fi
"""


@pytest.fixture
def fake_crontab(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "crontab"
    exe.write_text(FAKE_CRONTAB)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    table = tmp_path / "table"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("HETU_TEST_CRONTAB", str(table))
    return table


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs /bin/sh")
def test_install_cron_merges_idempotently(fake_crontab, tmp_path):
    ledger, out = tmp_path / "ledger.gpkg", tmp_path / "out"
    first = install_schedule(ledger, out_dir=out, target="cron", hetu="/opt/hetu/bin/hetu")
    assert first.target == "cron" and first.files == ()
    assert fake_crontab.read_text() == first.crontab
    assert first.crontab.splitlines() == [
        f"0 8 * * 1 mkdir -p {out} && /opt/hetu/bin/hetu export {ledger} -o {out} "
        f">> {out}/export.log 2>&1 "
        f"{cron_marker(ledger)}"
    ]
    fake_crontab.write_text(
        "MAILTO=office@example.cn\n15 2 * * * /usr/bin/backup\n" + first.crontab
    )
    again = install_schedule(ledger, out_dir=out, target="cron", weekday="fri", time="17:30",
                             hetu="/opt/hetu/bin/hetu")  # fmt: skip
    text = fake_crontab.read_text()
    assert text == again.crontab
    assert text.splitlines()[:2] == ["MAILTO=office@example.cn", "15 2 * * * /usr/bin/backup"]
    assert [ln[:12] for ln in text.splitlines() if "hetu-export" in ln] == ["30 17 * * 5 "]
    install_schedule(ledger, out_dir=out, target="cron", weekday="fri", time="17:30",
                     hetu="/opt/hetu/bin/hetu")  # fmt: skip
    assert fake_crontab.read_text() == text


def test_install_cron_without_crontab_binary(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ScheduleError, match="no `crontab` command"):
        install_schedule(tmp_path / "l.gpkg", out_dir=tmp_path, target="cron")


def test_install_systemd_writes_units_only(tmp_path):
    units = tmp_path / "units"
    done = install_schedule(tmp_path / "l.gpkg", out_dir=tmp_path / "out", target="systemd",
                            hetu="/opt/hetu/bin/hetu", unit_dir=units, weekday="TUE")  # fmt: skip
    lines = schedule_lines(tmp_path / "l.gpkg", out_dir=tmp_path / "out", weekday="TUE",
                           hetu="/opt/hetu/bin/hetu")  # fmt: skip
    assert [p.name for p in done.files] == [f"{UNIT_NAME}.service", f"{UNIT_NAME}.timer"]
    assert done.files[0].read_text() == lines["systemd_service"]
    assert done.files[1].read_text() == lines["systemd_timer"]
    assert "Persistent=true" in done.files[1].read_text()
    assert done.command == (
        "systemctl --user daemon-reload && systemctl --user enable --now hetu-export.timer"
    )
    before = {p.name: p.read_bytes() for p in units.iterdir()}
    install_schedule(tmp_path / "l.gpkg", out_dir=tmp_path / "out", target="systemd",
                     hetu="/opt/hetu/bin/hetu", unit_dir=units, weekday="TUE")  # fmt: skip
    assert {p.name: p.read_bytes() for p in units.iterdir()} == before  # no temp files left


def test_install_windows_prints_only(tmp_path):
    done = install_schedule(tmp_path / "l.gpkg", out_dir=tmp_path / "o", target="windows")
    assert done.files == () and done.crontab is None
    assert done.command.startswith('schtasks /Create /TN "Hetu weekly export" /SC WEEKLY')
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match="target"):
        install_schedule(tmp_path / "l.gpkg", out_dir=tmp_path, target="launchd")


# --- runs: log file, exit codes, the exports record ---------------------------------------------


@pytest.fixture
def ledger(demo_run, tmp_path):
    """A private copy of the demo ledger (runs write their records into it)."""
    from geo.settings import load_settings

    path = tmp_path / "ledger.gpkg"
    shutil.copy(demo_run.ledger, path)
    with Ledger(path, settings=load_settings(demo_run.data.settings)) as led:
        if led.exports().shape[0]:  # other tests' exports of the shared demo ledger
            with led.transaction() as conn:
                conn.execute("DELETE FROM exports")
        yield led


def _log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_exit_codes_documented():
    assert EXIT_CODES == {"ok": 0, "error": 1, "usage": 2, "locked": 3}
    assert exit_code(None) == 0
    assert exit_code(ExportLockedError("x")) == 3
    assert exit_code(OSError("disk full")) == 1


@needs_exports
def test_run_logged_recorded_and_idempotent(ledger, tmp_path):
    out, log = tmp_path / "out", tmp_path / "out" / "hetu-export.log"
    first = export_ledger(ledger, out, as_of="2026-06-30", log_file=log)
    assert first.since is None
    (entry,) = _log(log)
    assert entry["status"] == "ok" and entry["error"] == ""
    assert entry["as_of"] == "2026-06-30" and entry["since"] is None
    assert entry["files"] == [str(p) for p in first.files]
    assert entry["counts"] == {"rows": first.rows, "new": first.new, "closed": first.closed}
    assert entry["start"] <= entry["end"] and entry["start"].endswith("+08:00")
    assert not run_logger.handlers  # attached for the run only
    (rec,) = ledger.exports().to_dict("records")
    assert rec["status"] == "ok" and rec["as_of"] == "2026-06-30" and rec["since"] is None
    assert json.loads(rec["files"]) == entry["files"]
    assert json.loads(rec["counts"]) == entry["counts"]

    again = export_ledger(ledger, out, as_of="2026-06-30", log_file=log)
    assert again.files == first.files and again.since is None  # same as_of, same period
    assert len(_log(log)) == 2 and len(ledger.exports()) == 2
    names = sorted(p.name for p in out.iterdir())

    # the next week's period starts at the last recorded export, whatever folder it went to
    elsewhere = export_ledger(ledger, tmp_path / "elsewhere", as_of="2026-07-07")
    assert elsewhere.since == "2026-06-30" and elsewhere.new == 0
    assert sorted(p.name for p in out.iterdir()) == names
    assert ledger.exports()["as_of"].tolist() == ["2026-06-30", "2026-06-30", "2026-07-07"]


@needs_exports
def test_failed_run_logged_and_recorded_not_used_as_since(ledger, tmp_path):
    out, log = tmp_path / "out", tmp_path / "hetu-export.log"
    (out / "ledger_2026-06-30.csv").mkdir(parents=True)  # the CSV cannot be moved into place
    with pytest.raises(OSError) as err:
        export_ledger(ledger, out, as_of="2026-06-30", log_file=log)
    assert exit_code(err.value) == EXIT_CODES["error"]
    (entry,) = _log(log)
    assert entry["status"] == "failed" and entry["error"] and entry["files"] == []
    (rec,) = ledger.exports().to_dict("records")
    assert rec["status"] == "failed" and rec["message"] == entry["error"]
    later = export_ledger(ledger, tmp_path / "next", as_of="2026-07-07", log_file=log)
    assert later.since is None  # a failed export does not end a period
    assert [e["status"] for e in _log(log)] == ["failed", "ok"]


def test_locked_run_logged_not_recorded(ledger, tmp_path):
    log = tmp_path / "hetu-export.log"
    with export_lock(tmp_path), pytest.raises(ExportLockedError) as err:
        export_ledger(ledger, tmp_path, as_of="2026-06-30", log_file=log)
    assert exit_code(err.value) == EXIT_CODES["locked"]
    (entry,) = _log(log)
    assert entry["status"] == "locked" and "lock held" in entry["error"]
    if hasattr(ledger, "exports"):
        assert ledger.exports().empty
    assert not list(tmp_path.glob("ledger_*"))


def test_no_log_file_stays_silent(ledger, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="geo"):
        export_ledger(ledger, tmp_path / "out", as_of="2026-06-30")
    assert not list((tmp_path / "out").glob("*.log"))
    assert run_logger.level == logging.NOTSET and not run_logger.handlers
    assert any("2026-06-30" in r.getMessage() for r in caplog.records)


@needs_exports
def test_run_fills_province_template_under_the_lock(ledger, tmp_path):
    import openpyxl

    template = tmp_path / "省厅模板.xlsx"
    book = openpyxl.Workbook()
    book.active.merge_cells("A1:C1")
    book.active["A1"] = "××省图斑整改台账"
    book.active.append([])
    book.active.append(["序号", "图斑编号", "整改状态"])
    book.save(template)
    cmap = {"序号": "#", "图斑编号": "patch_id", "整改状态": "state"}
    out = tmp_path / "out"
    result = export_ledger(ledger, out, as_of="2026-06-30", template=template, column_map=cmap)
    assert result.province == out / "ledger_2026-06-30_province.xlsx"
    assert result.files[-1] == result.province
    ws = openpyxl.load_workbook(result.province).active
    assert ws["A1"].value == "××省图斑整改台账"
    assert (
        ws.cell(3 + result.rows, 1).value == result.rows
        and ws.cell(4 + result.rows, 1).value is None
    )
    assert str(result.province) in json.loads(ledger.exports()["files"].iloc[-1])
    with pytest.raises(TemplateError, match="不存在的列"):
        export_ledger(ledger, tmp_path / "bad", as_of="2026-07-07", template=template,
                      column_map={"不存在的列": "state"})  # fmt: skip
    assert not list((tmp_path / "bad").glob("ledger_*"))
    assert ledger.exports()["status"].tolist() == ["ok", "failed"]


def test_ledger_url_or_env_passed_as_is(tmp_path):
    lines = schedule_lines("env:HETU_DATABASE_URL", out_dir=tmp_path, weekday="WED")
    assert "hetu export env:HETU_DATABASE_URL -o" in lines["systemd_service"]
    assert (
        cron_marker("postgresql://db.example/hetu") == "# hetu-export postgresql://db.example/hetu"
    )
