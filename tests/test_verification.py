"""核查 → 认定 → 整改 → 验收 → 复核 (issue 17): deadlines in every state, 挂账 open, the two
rates, the classification table, propose and decide, responsibility, 回头看.

Real ledgers (GeoPackage and PostGIS), real evidence files, the real command line.
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.cli.main import cli
from geo.demo.county import write_photo
from geo.errors import SchemaError, SettingsError
from geo.field.review import (
    apply_recheck,
    read_recheck_sheet,
    read_review_sheet,
    recheck_sample,
    record_duty,
    record_verdict,
    review,
    write_recheck_sheet,
    write_review_sheet,
)
from geo.labels import COLUMNS, VERIFICATION
from geo.ledger.changes import Change
from geo.ledger.store import Ledger
from geo.policy.lifecycle import CLOCK_STATES, DEFAULT_LIFECYCLE, overdue_days
from geo.policy.verification import stage_of
from geo.records import ImportRecord
from geo.reports.summary import summary_tables
from geo.settings import Settings, settings_from_dict

IDS = ["A", "B", "C", "D", "E", "F"]


def _patches(ids, *, batch="b1", issued="2025-08-01"):
    geoms = [
        shapely.box(114.0 + i * 0.01, 28.0, 114.001 + i * 0.01, 28.001) for i in range(len(ids))
    ]
    return gpd.GeoDataFrame(
        {"patch_id": ids, "batch_id": batch, "issue_type": "dumping",
         "admin_code": "439999001001", "detected_on": "2025-07-01", "issued_on": issued,
         "area_m2": 100.0, "source_area": None, "description": "描述", "attrs": "{}"},
        geometry=geoms, crs=4490,
    )  # fmt: skip


def _rec(batch="b1"):
    return ImportRecord(kind="patches", file=f"{batch}.shp", sha256=batch, batch_id=batch)


@pytest.fixture
def led(location):
    s = settings_from_dict({"townships": {"439999001": "清溪镇"}})
    ledger = Ledger.create(location, settings=s)
    yield ledger
    ledger.close()


def _photo(tmp_path, pid, kind="photo_watermarked"):
    return write_photo(tmp_path / f"{pid}_{kind}.jpg", lon=114.0005, lat=28.0005,
                       taken=dt.datetime(2025, 8, 10, 10), tint=len(pid))  # fmt: skip


def _pdf(tmp_path, pid, kind):
    path = tmp_path / f"{pid}_{kind}.pdf"
    path.write_bytes(f"%PDF-1.4 {kind} {pid}\n".encode())
    return path


def _attach(led, tmp_path, pid, kinds, at="2025-08-10T10:00"):
    files = tuple(
        (_photo(tmp_path, pid, k) if k.startswith("photo") else _pdf(tmp_path, pid, k), k, {})
        for k in kinds
    )
    assert led.apply_changes([Change(pid, (), actor="核查员", at=at, files=files)]) == []


def test_verify_deadline_at_ingest_overdue_and_escalated(led):
    led.add_patches(_patches(IDS[:2]), _rec("b1"))  # [lifecycle] verify_days = 25 working days
    led.add_patches(_patches(["G"], batch="b2"), _rec("b2"), verify_by="2025-08-15")
    frame = led.status_frame(as_of="2025-09-30").set_index("patch_id")
    assert frame.loc["A", "deadline"] == "2025-09-05"  # 25 working days after 2025-08-01
    assert frame.loc["G", "deadline"] == "2025-08-15"  # the batch's own 核查 deadline
    assert frame.loc["A", "overdue_days"] > 0 and frame.loc["G", "overdue_days"] > 0
    led.transition("A", "verifying", actor="核查员", at="2025-09-20T09:00")
    frame = led.status_frame(as_of="2025-09-30").set_index("patch_id")
    assert frame.loc["A", "overdue_days"] == 18  # 核查中 past it is overdue (09-28 worked)
    detail = led.status_summary(as_of="2025-09-30")
    assert detail["overdue"] == 3 and detail["overdue_by_stage"]["verify"] == 3
    from geo.reports.escalation import escalate

    out = escalate(led, as_of="2025-09-30", out_dir=led.attachments_dir.parent / "notices",
                   pdf=False)  # fmt: skip
    assert out.events == 3  # 核查 overdue escalates like rectification
    assert set(led.events()["action"]) >= {"supervision"}
    assert led.verify() == []


def test_confirm_sets_the_rectify_deadline_and_monitored_its_review_date(led):
    led.add_patches(_patches(IDS[:2]), _rec())
    led.transition(IDS[:2], "verifying", actor="核查员", at="2025-08-05T09:00")
    led.transition("A", "confirmed", actor="县河长办", at="2025-08-11T09:00")
    led.transition("B", "monitored", actor="县河长办", at="2025-08-11T09:00")
    frame = led.status_frame(as_of="2025-08-12").set_index("patch_id")
    assert frame.loc["A", "deadline"] == "2025-09-22"  # 30 working days from 认定
    assert frame.loc["B", "deadline"] == "2025-11-09"  # 90 days: the 监管 review date
    led.transition("A", "rectifying", actor="县河长办", at="2025-08-20T09:00")
    assert led.patches().set_index("patch_id").loc["A", "deadline"] == "2025-09-22"  # kept
    late = led.status_summary(as_of="2025-12-01")
    assert late["overdue_by_stage"] == {"verify": 0, "rectify": 1, "review": 1}
    assert late["open"] == 2  # 挂账监管 is open


def test_monitored_is_open_and_the_rates_are_per_stage(led):
    led.add_patches(_patches(IDS), _rec())
    led.transition(IDS[1:], "verifying", actor="核查员", at="2025-08-05T09:00")
    led.transition(["C", "D"], "confirmed", actor="县河长办", at="2025-08-06T09:00")
    led.transition(["E"], "monitored", actor="县河长办", at="2025-08-06T09:00")
    assert not DEFAULT_LIFECYCLE.is_open("closed") and DEFAULT_LIFECYCLE.is_open("monitored")
    summary = led.status_summary(as_of="2025-08-07")
    assert summary["open"] == 6
    assert summary["verify_rate"] == pytest.approx(3 / 6)  # 已核查 / 下发
    assert summary["rectify_rate"] == 0.0  # 已销号 / 问题图斑 (C, D, E)
    table = summary_tables(led.status_frame(as_of="2025-08-07"))["township"]
    total = table.loc[COLUMNS["total"]]
    assert total["uncleared"] == 6 and total["monitored"] == 1
    assert total["verify_rate"] == pytest.approx(0.5) and total["rectify_rate"] == 0.0


def test_the_classification_table_decides_the_evidence(led, tmp_path):
    led.add_patches(_patches(IDS[:3]), _rec())
    led.transition(IDS[:3], "verifying", actor="核查员", at="2025-08-05T09:00")
    _attach(led, tmp_path, "A", ["photo_watermarked"])
    bridge = {"category": "not_problem", "feature_class": "桥梁", "basis": "许可"}
    problems = record_verdict(led, ["A"], bridge, actor="县河长办", at="2025-08-11T09:00")
    assert len(problems) == 1 and "permit+photo_watermarked" in problems[0].reason
    assert led.patches().set_index("patch_id").loc["A", "state"] == "verifying"  # nothing written
    _attach(led, tmp_path, "A", ["permit"])
    assert record_verdict(led, ["A"], bridge, actor="县河长办", at="2025-08-11T09:00") == []
    verdict = {"category": "problem", "feature_class": "pile", "severity": "serious",
               "blocks_flood": True, "subtype": "弃置垃圾",
               "issue_type": "construction"}  # fmt: skip
    _attach(led, tmp_path, "B", ["photo_watermarked"])
    assert record_verdict(led, ["B"], verdict, actor="县河长办", at="2025-08-11T09:00") == []
    wrong = record_verdict(led, ["C"], {"category": "bogus"}, actor="x", at="2025-08-11T09:00")
    assert wrong and "category" in wrong[0].reason
    frame = led.status_frame().set_index("patch_id")
    assert frame.loc["A", "state"] == "dismissed" and frame.loc["B", "state"] == "confirmed"
    assert frame.loc["A", "verdict_category"] == VERIFICATION["verdict_not_problem"]
    assert frame.loc["A", "feature_class"] == "桥梁"
    assert (frame.loc["B", "severity"], frame.loc["B", "blocks_flood"]) == ("较严重", "是")
    assert frame.loc["B", "issue_type"] == "construction"  # corrected at 认定
    assert led.verify() == []


def test_settings_replace_the_classification_table_and_name_mistakes():
    s = settings_from_dict({"verification": {"classes": {"wharf": {
        "label": "码头", "group": "涉河建设项目", "verdicts": ["not_problem", "problem"],
        "evidence": {"not_problem": [["permit", "document", "photo_watermarked"]]}}}}})  # fmt: skip
    assert [c.key for c in s.classes] == ["wharf", "other"]
    assert s.classes[0].missing("not_problem", ["permit", "photo_watermarked"]) is not None
    with pytest.raises(SettingsError, match=r"verdicts \['maybe'\] unknown"):
        settings_from_dict({"verification": {"classes": {"x": {"verdicts": ["maybe"]}}}})
    with pytest.raises(SettingsError, match="unknown kind"):
        settings_from_dict({"verification": {"classes": {"x": {"evidence": {
            "problem": [["selfie"]]}}}}})  # fmt: skip
    with pytest.raises(SettingsError, match="verify_days"):
        settings_from_dict({"lifecycle": {"verify_days": 0}})


def test_propose_and_decide_with_actors_and_reasons(led, tmp_path):
    led.add_patches(_patches(IDS[:4]), _rec())
    for pid in IDS[:3]:
        _attach(led, tmp_path, pid, ["photo_watermarked"], at="2025-08-09T10:00")
    verdict = {"category": "not_problem", "basis": "农田灌溉设施"}
    assert record_verdict(led, IDS[:3], verdict, actor="清溪镇", at="2025-08-10T10:00",
                          propose=True, opinion="不是问题") == []  # fmt: skip
    assert set(led.patches()["state"]) == {"proposed", "issued"}
    assert led.status_summary(as_of="2025-08-11")["verify_rate"] == 0.0  # not yet decided
    refused = review(led, returned=["B"], actor="县河长办", at="2025-08-12T10:00")
    assert refused and "理由" in refused[0].reason
    assert review(led, approve=["A"], returned=["B"], reason="照片看不清水印",
                  actor="县河长办", at="2025-08-12T10:00") == []  # fmt: skip
    state = led.patches().set_index("patch_id")["state"]
    assert (state["A"], state["B"], state["C"]) == ("dismissed", "verifying", "proposed")
    ev = led.events()
    last = ev[ev["patch_id"] == "B"].iloc[-1]
    assert (last["action"], last["actor"], last["note"]) == ("return", "县河长办", "照片看不清水印")
    assert ev.loc[ev["action"] == "proposal", "actor"].eq("清溪镇").all()
    # 申请销号 → 县级验收: returned to 整改中 with the reason
    led.transition("D", "verifying", actor="核查员", at="2025-08-05T09:00")
    for step, at in (("confirmed", "08-06"), ("rectifying", "08-07"), ("rectified", "08-20")):
        led.transition("D", step, actor="清溪镇", at=f"2025-{at}T09:00")
    sheet = write_review_sheet(led.status_frame(), tmp_path / "审核.xlsx")
    assert set(
        pd.read_excel(sheet, dtype=str, engine="openpyxl")[COLUMNS["patch_id"]].dropna()
    ) >= {"C", "D"}
    assert review(led, returned=["D"], reason="岸坡未恢复", inspector="王科长", actor="县河长办",
                  at="2025-08-25T09:00") == []  # fmt: skip
    frame = led.status_frame().set_index("patch_id")
    assert frame.loc["D", "state"] == "rectifying"
    assert frame.loc["D", "acceptance"].startswith(
        VERIFICATION["returned"] + "；王科长；2025-08-25"
    )
    assert led.verify() == []


def test_duty_defaults_and_records(led):
    led.add_patches(_patches(IDS[:2]), _rec())
    frame = led.status_frame().set_index("patch_id")
    assert frame.loc["A", "duty_unit"] == "清溪镇人民政府、县住房和城乡建设局"  # dumping
    duty = {"person": "张三", "phone": "13800000000", "measures": "清运", "case_filed": True,
            "case_unit": "县水利局", "case_no": "水罚〔2025〕1号", "demolished_m2": 86.5,
            "cleared_t": 24}  # fmt: skip
    assert record_duty(led, ["A"], duty, actor="县河长办", at="2025-08-10T10:00") == []
    bad = record_duty(led, ["B"], {"cleared_t": -1}, actor="县河长办", at="2025-08-10T10:00")
    assert bad and "cleared_t" in bad[0].reason
    frame = led.status_frame().set_index("patch_id")
    assert (frame.loc["A", "duty_person"], frame.loc["A", "measures"]) == ("张三", "清运")
    assert frame.loc["A", "case"] == "是 县水利局 水罚〔2025〕1号"
    assert "86.5平方米" in frame.loc["A", "workload"] and "24吨" in frame.loc["A", "workload"]
    rows = led._conn.execute("SELECT data FROM patch_details").fetchall()
    assert json.loads(rows[0][0])["person"] == "张三"
    assert led.verify() == []


def test_recheck_samples_by_township_and_reopens_a_rebound(led, tmp_path):
    led.add_patches(_patches(IDS), _rec())
    led.transition(IDS, "verifying", actor="核查员", at="2025-08-05T09:00")
    led.transition(IDS[:3], "monitored", actor="县河长办", at="2025-08-06T09:00")
    sample = recheck_sample(led.status_frame(), share=0.5, seed=3)
    assert len(sample) == 2 and recheck_sample(led.status_frame(), share=0.5, seed=3).equals(sample)
    sheet = write_recheck_sheet(sample, tmp_path / "回头看.xlsx", seed=3, share=0.5)
    filled = pd.read_excel(sheet, dtype=str, engine="openpyxl")
    filled.loc[0, VERIFICATION["sheet_result"]] = VERIFICATION["rebound"]
    filled.loc[1, VERIFICATION["sheet_result"]] = VERIFICATION["recheck_ok"]
    filled.to_excel(sheet, index=False)
    results = read_recheck_sheet(sheet)
    assert apply_recheck(led, results, actor="县河长办", at="2025-12-01T10:00") == []
    state = led.patches().set_index("patch_id")
    bad, ok = results["patch_id"]
    assert state.loc[bad, "state"] == "rectifying" and state.loc[ok, "state"] == "monitored"
    assert state.loc[ok, "deadline"] == "2026-03-01"  # the next 监管 review
    assert led.status_frame().set_index("patch_id").loc[bad, "recheck"].startswith("反弹回潮")


def test_cli_verdict_review_recheck(location, tmp_path):
    with Ledger.create(location, settings=Settings()) as led:
        led.add_patches(_patches(IDS[:2]), _rec())
    run = CliRunner().invoke
    out = run(cli, ["verdict", str(location), "A", "--category", "problem", "--actor", "镇"])
    assert out.exit_code == 0, out.output
    out = run(cli, ["review", str(location), "--return", "A"])
    assert out.exit_code == 1 and "Traceback" not in out.output
    out = run(cli, ["recheck", str(location), "--sample", "2", "--seed", "1", "-o",
                    str(tmp_path / "x.xlsx")])  # fmt: skip
    assert out.exit_code != 0 and "Traceback" not in out.output
    out = run(cli, ["ingest", str(location), "patches", str(tmp_path), "--verify-by", "2025-13-01"])
    assert out.exit_code != 0 and "not a date" in out.output


@given(st.sampled_from(DEFAULT_LIFECYCLE.states), st.integers(0, 400))
def test_only_clock_states_are_overdue_and_each_has_a_stage(state, days):
    deadline, day = dt.date(2025, 1, 1), dt.date(2025, 1, 1) + dt.timedelta(days=days)
    late = overdue_days(deadline, state, day)
    assert (late > 0) == (state in CLOCK_STATES and days > 0)
    assert stage_of(state) in {"verify", "rectify", "review"}


_OPS = st.lists(
    st.tuples(st.sampled_from(["A", "B"]),
              st.sampled_from(["propose_dismiss", "propose_confirm", "approve", "return",
                               "rectify", "report", "accept", "reject", "monitor", "recheck"])),
    max_size=12,
)  # fmt: skip


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_OPS)
def test_review_steps_keep_the_ledger_true(tmp_path_factory, ops):
    """Random proposals, decisions, 验收 and 回头看: the history replays and verifies."""
    folder = tmp_path_factory.mktemp("prop")
    with Ledger.create(folder / "l.gpkg", settings=Settings()) as led:
        led.add_patches(_patches(["A", "B"]), _rec())
        for pid in ("A", "B"):
            _attach(led, folder, pid, ["photo_watermarked", "photo_before", "photo_after"])
        at = dt.datetime(2025, 8, 11, 9)
        for pid, op in ops:
            at += dt.timedelta(hours=1)
            when = at.isoformat()
            category = {"propose_dismiss": "not_problem", "propose_confirm": "problem"}
            if op in category:
                record_verdict(led, [pid], {"category": category[op]}, actor="镇", at=when,
                               propose=True)  # fmt: skip
            elif op in ("approve", "accept"):
                review(led, approve=[pid], actor="县", at=when)
            elif op in ("return", "reject"):
                review(led, returned=[pid], reason="退回", actor="县", at=when)
            elif op == "monitor":
                record_verdict(led, [pid], {"category": "problem_historic"}, actor="县", at=when)
            elif op == "recheck":
                frame = pd.DataFrame({"patch_id": [pid], "result": ["ok"], "note": [""],
                                      "row": [2]})  # fmt: skip
                apply_recheck(led, frame, actor="县", at=when)
            else:
                step = {"rectify": "rectifying", "report": "rectified"}[op]
                led.apply_changes([Change(pid, (step,), actor="镇", at=when)])
        events = led.events()
        assert led.verify() == []
        assert events["actor"].astype(bool).all()
        states = led.patches().set_index("patch_id")["state"]
        last = events.groupby("patch_id")["to_state"].last()
        assert all(states[p] == last[p] for p in ("A", "B"))
        into = events[events["to_state"].isin(["dismissed", "confirmed", "monitored", "closed"])
                      & events["from_state"].isin(["proposed", "rectified"])]  # fmt: skip
        assert into["actor"].eq("县").all()  # only the county decides a proposal or 验收
        summary = led.status_summary()
        assert summary["open"] == int((~states.isin(["closed", "dismissed"])).sum())


def test_duty_and_verdict_show_in_the_dossier_and_the_map_popup(led, tmp_path):
    from geo.maps.status import save_map, status_map
    from geo.reports.dossier import dossier_html

    led.add_patches(_patches(IDS[:1]), _rec())
    _attach(led, tmp_path, "A", ["photo_watermarked"])
    verdict = {"category": "problem", "severity": "major", "subtype": "<b>违建</b>"}
    assert record_verdict(led, ["A"], verdict, actor="县河长办", at="2025-08-11T09:00") == []
    duty = {"person": "张三", "measures": "拆除<script>alert(1)</script>"}
    assert record_duty(led, ["A"], duty, actor="县河长办", at="2025-08-12T09:00") == []
    html = dossier_html(led, "A", as_of="2025-08-20")
    assert "严重程度" in html and "重大" in html and "张三" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html  # escaped
    frame = led.status_frame(as_of="2025-08-20")
    page = save_map(status_map(frame, title="t", offline=True), tmp_path / "m.html")
    text = page.read_text(encoding="utf-8")
    assert "整改措施" in text and "严重程度" in text and "<script>alert(1)" not in text
    assert "核查完成率" in text and "整改销号率" in text  # the dashboard shows both rates


def test_transition_propose_waits_for_the_county(location):
    with Ledger.create(location, settings=Settings()) as led:
        led.add_patches(_patches(IDS[:1]), _rec())
    run = CliRunner().invoke
    args = ["transition", str(location), "A", "--to", "已认定", "--propose", "--actor", "白沙乡"]
    out = run(cli, [*args, "--at", "2025-08-10T09:00"])
    assert out.exit_code == 0, out.output
    out = run(cli, ["review", str(location), "--approve", "A", "--at", "2025-08-11T09:00"])
    assert out.exit_code == 0, out.output
    with Ledger(location) as led:
        events = led.events()
        assert led.patches()["state"].tolist() == ["confirmed"]
        assert events["action"].tolist()[-3:] == ["propose", "review", "approve"]
        assert events["actor"].tolist()[-3:] == ["白沙乡", "县河长办", "县河长办"]


def test_the_demo_shows_issue_17_done_when(demo_run):
    """The demo: overdue in 核查 and 整改, open with 挂账, the 台账 columns and the two rates."""
    import openpyxl

    from geo.demo import DEMO_AS_OF

    out = CliRunner().invoke(cli, ["status", str(demo_run.ledger), "--as-of", DEMO_AS_OF,
                                   "--json", "--detail"])  # fmt: skip
    detail = json.loads(out.output)
    stage = detail["overdue_by_stage"]
    assert stage["verify"] > 0 and stage["rectify"] > 0
    states = detail["states"]
    settled = states["closed"] + states["dismissed"]
    assert detail["open"] == sum(states.values()) - settled and states["monitored"] > 0
    assert states["proposed"] >= 1  # a proposal awaits the county
    book = openpyxl.load_workbook(demo_run.xlsx, read_only=True)
    # the 台账 sheet is a printable form: title, 数据截至 and unit, then the header row
    ledger_head = next(book["图斑台账"].iter_rows(min_row=3, max_row=3, values_only=True))
    assert {"认定类别", "严重程度", "责任单位", "整改措施"} <= set(ledger_head)
    summary = [c for row in book["汇总"].iter_rows(max_row=6, values_only=True) for c in row]
    assert "核查完成率" in summary and "整改销号率" in summary and "未清零" in summary
    with Ledger(demo_run.ledger) as led:
        frame = led.status_frame(as_of=DEMO_AS_OF)
        events = led.events(as_of=DEMO_AS_OF)
    not_late = frame[(frame["batch_id"] == "2026-Q1") & frame["state"].isin(["issued"])]
    assert (not_late["overdue_days"] == 0).all()  # its --verify-by has not passed
    assert (frame["verdict_category"] != "").sum() >= 7
    assert frame["acceptance"].str.startswith(VERIFICATION["returned"]).any()
    assert frame["recheck"].str.startswith(VERIFICATION["rebound"]).any()
    assert frame.loc[frame["state"] == "monitored", "deadline_kind"].eq("监管复查日期").all()
    assert {"verdict", "duty", "proposal", "review", "acceptance", "recheck"} <= set(
        events["action"]
    )


def test_an_audit_overturns_a_recorded_verdict(led, tmp_path):
    from geo.field.audit import apply_audit

    led.add_patches(_patches(IDS[:1]), _rec())
    _attach(led, tmp_path, "A", ["photo_watermarked"])
    verdict = {"category": "not_problem", "feature_class": "building"}
    assert record_verdict(led, ["A"], verdict, actor="县河长办", at="2025-08-11T09:00") == []
    results = pd.DataFrame({"patch_id": ["A"], "result": ["overturn"], "note": ["实为违建"],
                            "row": [2]})  # fmt: skip
    assert apply_audit(led, results, actor="市河长办", at="2025-11-10T10:00") == []
    assert led.patches()["state"].tolist() == ["confirmed"]  # 抽查改判 needs no new verdict
    mixed = record_verdict(led, ["A"], {"category": "not_problem"}, actor="x",
                           at="2025-11-11T10:00")  # fmt: skip
    assert mixed and "cannot go from confirmed" in mixed[0].reason


def _clerks_copy(sheet, ids) -> dict[str, int]:
    """Give a written sheet a title row and a blank row, as a clerk does; id → its Excel row."""
    import openpyxl

    book = openpyxl.load_workbook(sheet)
    ws = book.active
    ws.insert_rows(1)
    ws.cell(1, 1).value = "清溪镇 图斑审核表（2025年8月）"
    ws.insert_rows(4)  # header in row 2, the first patch in row 3, then a blank row
    book.save(sheet)
    found = {ws.cell(r, 1).value: r for r in range(3, ws.max_row + 1)}
    return {pid: found[pid] for pid in ids}


def test_a_review_sheet_with_a_title_row_names_the_excel_row(tmp_path):
    import openpyxl

    frame = pd.DataFrame({
        "patch_id": ["A", "B", "C"], "township": "清溪镇", "state": "proposed",
        "issue_type": "dumping", "water_name": "清水河", "description": "",
    })  # fmt: skip
    sheet = write_review_sheet(frame, tmp_path / "审核.xlsx")
    rows = _clerks_copy(sheet, ["A", "B", "C"])
    assert rows == {"A": 3, "B": 5, "C": 6}  # B and C below the blank row
    book = openpyxl.load_workbook(sheet)
    ws = book.active
    result = 1 + [c.value for c in ws[2]].index(VERIFICATION["sheet_result"])
    ws.cell(rows["A"], result).value = VERIFICATION["approve"]
    ws.cell(rows["C"], result).value = "也许"
    book.save(sheet)
    with pytest.raises(SchemaError, match=f"row 6 {VERIFICATION['sheet_result']}: '也许'"):
        read_review_sheet(sheet)
    ws.cell(rows["C"], result).value = VERIFICATION["return"]
    book.save(sheet)
    back = read_review_sheet(sheet)
    assert back[["patch_id", "result", "row"]].values.tolist() == [
        ["A", "approve", 3], ["C", "return", 6]
    ]  # fmt: skip
