"""Report commands on a copy of the demo ledger: survey patches, dossier, assessment, schedule."""

import json

from click.testing import CliRunner
from openpyxl import load_workbook

from geo.cli.main import cli
from geo.ledger.store import Ledger


def run(*args, code=0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, result.output
    return result


def test_survey_findings_become_items_once(demo_copy):
    listed = run("survey-patches", demo_copy).output
    n = int(listed.strip().splitlines()[-1].split()[0])
    assert n >= 1 and listed.count("SV-") == n
    run("survey-patches", demo_copy, "--apply")
    with Ledger(demo_copy) as led:
        added = led.patches().query("patch_id.str.startswith('SV-')")
        assert len(added) == n and set(added["state"]) == {"issued"}
        assert all(json.loads(a)["source"] == "巡河" for a in added["attrs"])
    again = run("survey-patches", demo_copy, "--apply").output
    assert "0 item(s) added" in again  # each finding is now near its own item


def test_dossier_and_assessment(demo_copy, tmp_path):
    with Ledger(demo_copy) as led:
        pid = led.patches().query("state == 'closed'")["patch_id"].iloc[0]
    out = run("dossier", demo_copy, pid, "-o", tmp_path / "dossiers", "--no-pdf").output
    page = tmp_path / "dossiers" / f"{pid}.html"
    assert str(page) in out and pid in page.read_text(encoding="utf-8")
    run("dossier", demo_copy, "NO-SUCH-PATCH", "-o", tmp_path / "d2", code=1)
    table = tmp_path / "考核.xlsx"
    text = run("assess", demo_copy, "--quarter", "2026Q2", "--as-of", "2026-04-30", "-o", table)
    assert "2026-04-01" in text.output
    rows = list(load_workbook(table).active.iter_rows(values_only=True))
    assert len(rows) >= 4 and any("得分" in str(h) or "score" in str(h) for h in rows[0])
    run("assess", demo_copy, code=2)


def test_schedule_install_writes_the_units_and_export_logs_its_runs(demo_copy, tmp_path):
    units = tmp_path / "units"
    out = run("schedule", demo_copy, "-o", tmp_path / "exp", "--install", "systemd",
              "--unit-dir", units).output  # fmt: skip
    timer = (units / "hetu-export.timer").read_text(encoding="utf-8")
    assert "Persistent=true" in timer and "systemctl --user" in out
    assert str(demo_copy) in (units / "hetu-export.service").read_text(encoding="utf-8")
    run("export", demo_copy, "-o", tmp_path / "exp", "--as-of", "2026-04-30")
    log = (tmp_path / "exp" / "hetu-export.log").read_text(encoding="utf-8").splitlines()
    assert json.loads(log[-1])["status"] == "ok"
    with Ledger(demo_copy) as led:
        assert led.exports()["as_of"].tolist()[-1] == "2026-04-30"
