import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from geo.cli.main import cli
from geo.field.audit import apply_audit, audit_sample, read_audit_results, write_audit_sheet
from geo.labels import TEXT
from geo.ledger.store import Ledger
from geo.settings import load_settings, settings_from_dict


def _frame(n_per=5):
    rows = []
    for town in ("清溪镇", "白沙乡"):
        for state in ("dismissed", "closed", "rectifying"):
            rows += [{"patch_id": f"{town[:1]}{state[:2]}{i}", "township": town, "state": state,
                      "batch_id": "b", "water_name": "河", "segment_id": "s", "description": ""}
                     for i in range(n_per)]  # fmt: skip
    return pd.DataFrame(rows)


def test_sample_is_stratified_seeded_and_limited_to_verdicts():
    frame = _frame()
    a = audit_sample(frame, seed=7, fraction=0.2)
    assert set(a["state"]) == {"dismissed", "closed"}
    assert a.groupby(["township", "state"]).size().tolist() == [1, 1, 1, 1]  # ceil(0.2*5) each
    assert a.equals(audit_sample(frame, seed=7, fraction=0.2))
    others = {tuple(audit_sample(frame, seed=s, fraction=0.2)["patch_id"]) for s in range(20)}
    assert len(others) > 1
    assert len(audit_sample(frame, seed=1, fraction=1.0)) == 20
    with pytest.raises(ValueError):
        audit_sample(frame, seed=1, fraction=0)


@pytest.mark.filterwarnings(
    "ignore::geo.policy.workdays.CalendarWarning"
)  # reopened today: deadline in 2027
def test_audit_round_trip_overturns_on_the_demo(demo_run, tmp_path):
    import shutil

    ledger_path = tmp_path / "ledger.gpkg"
    shutil.copy(demo_run.ledger, ledger_path)
    shutil.copytree(
        demo_run.ledger.parent / "ledger.gpkg.attachments", tmp_path / "ledger.gpkg.attachments"
    )
    settings = load_settings(demo_run.data.settings)
    sheet = tmp_path / "抽查.xlsx"
    args = ["audit", str(ledger_path), "-o", str(sheet), "--seed", "3", "--as-of", "2026-04-30"]
    result = CliRunner().invoke(cli, ["--settings", str(demo_run.data.settings), *args])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(sheet)
    ws = book.active
    assert ws.cell(1, 1).value == "图斑编号" and ws.data_validations.dataValidation
    rows = [
        r for r in ws.iter_rows(min_row=2) if r[0].value and not str(r[0].value).startswith("seed")
    ]
    states = {r[0].value: r[2].value for r in rows}
    assert set(states.values()) <= {"不是问题", "已销号"} and len(rows) >= 2
    first_dismissed = next(pid for pid, s in states.items() if s == "不是问题")
    first_closed = next(pid for pid, s in states.items() if s == "已销号")
    for r in rows:
        r[7].value = "改判" if r[0].value in (first_dismissed, first_closed) else "维持"
    book.save(sheet)
    results = read_audit_results(sheet)
    with Ledger(ledger_path, settings=settings) as led:
        before = len(led.events())
        bad = results.copy()
        bad.loc[bad.index[-1], "result"] = "随便"
        problems = apply_audit(led, bad, actor="市河长办")
        assert [p.field for p in problems] == ["result"] and len(led.events()) == before
        assert apply_audit(led, results, actor="市河长办") == []
        after = led.patches().set_index("patch_id")["state"]
        assert after[first_dismissed] == "confirmed" and after[first_closed] == "rectifying"
        actions = led.events()["action"]
        assert (actions == "audit_sample").sum() == len(rows)
        assert (actions == "audit_keep").sum() == len(rows) - 2
        assert led.verify() == []


def test_sheet_reads_back_with_rows(tmp_path):
    sheet = write_audit_sheet(
        audit_sample(_frame(1), seed=1, fraction=1.0), tmp_path / "a.xlsx", seed=1
    )
    results = read_audit_results(sheet)
    assert len(results) == 4 and results["result"].isna().all()  # nothing filled yet
    assert results["row"].tolist() == [2, 3, 4, 5]


def test_a_sheet_with_a_title_row_names_the_excel_row(tmp_path):
    """A title above the header and a blank row: the bad result's row is the one Excel shows."""
    sample = audit_sample(_frame(1), seed=1, fraction=1.0)
    sheet = write_audit_sheet(sample, tmp_path / "a.xlsx", seed=1)
    book = openpyxl.load_workbook(sheet)
    ws = book.active
    ws.insert_rows(1)
    ws.cell(1, 1).value = "市河长办 抽查复核表"
    ws.insert_rows(4)  # header in row 2, the first patch in row 3, then a blank row
    result = 1 + [c.value for c in ws[2]].index(TEXT["audit_result"])
    ws.cell(3, result).value = "维持"
    ws.cell(6, result).value = "随便"
    book.save(sheet)
    results = read_audit_results(sheet)
    assert results["row"].tolist() == [3, 5, 6, 7]
    assert results["patch_id"].tolist() == [ws.cell(r, 1).value for r in (3, 5, 6, 7)]
    bad = results[results["row"] == 6]
    with Ledger.create(tmp_path / "ledger.gpkg", settings=settings_from_dict({})) as led:
        problems = apply_audit(led, bad, actor="市河长办")
    assert [(p.row, p.field) for p in problems] == [(6, "result")]
    assert "row 6: result '随便'" in problems[0].reason
