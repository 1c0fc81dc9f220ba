"""Issue 18.2 and 18.6: the three lists, and the demo's patrols with assistants and short tracks.

``hetu lists`` writes 问题清单, 责任清单 and 任务清单 from a copy of the demo's GeoPackage
ledger: the columns, the rows (every problem but 不是问题 and those closed before the
period), and the ledger as it stood on ``--as-of`` (a later change is not shown). On the
same copy, ``hetu patrols`` shows the per-river counts with the reason a short track did
not count and a patrol walked by an assistant credited to his chief, and ``hetu
patrol-cards`` writes cards only for the chiefs behind.
"""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from geo.cli.main import cli
from geo.demo.county import ASSISTANTS, PATROL_PERIOD, SHORT_TRACKS
from geo.field.patrols import patrol_report_ledger
from geo.labels import CARDS, FIELD_WORK, LISTS, PATROLS, SOURCES, STATES
from geo.ledger.chiefs import assistants
from geo.ledger.store import open_ledger
from geo.reports.lists import LIST_COLUMNS, period_bounds

APRIL = "2026-04"


def run(settings, *args, ok=True):
    result = CliRunner().invoke(cli, ["--settings", str(settings), *map(str, args)])
    assert (result.exit_code == 0) == ok, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(scope="module")
def copy(demo_run, tmp_path_factory):
    """A copy of the demo ledger (this module records events on it)."""
    base = tmp_path_factory.mktemp("lists")
    ledger = base / "ledger.gpkg"
    shutil.copyfile(demo_run.ledger, ledger)
    return ledger, demo_run.data.settings, base


def _sheets(path):
    return pd.read_excel(path, sheet_name=None, header=2, dtype=str, engine="openpyxl")


def _rows(table: pd.DataFrame) -> pd.DataFrame:
    """The list's rows, without the note under the table."""
    return table[table["序号"].fillna("").str.fullmatch(r"\d+")]


def test_the_three_lists_of_the_demo_month(copy, demo_run):
    ledger, s, base = copy
    out = run(s, "lists", ledger, "-o", base / "april", "--as-of", "2026-04-30")
    path = base / "april" / LISTS["file"].format(period=APRIL)
    assert str(path) in out
    assert demo_run.lists == demo_run.ledger.with_name(path.name)  # the demo writes them too
    assert (
        _sheets(demo_run.lists)[LISTS["problems"]].shape == _sheets(path)[LISTS["problems"]].shape
    )
    sheets = _sheets(path)
    assert list(sheets) == [LISTS["problems"], LISTS["duties"], LISTS["tasks"]]
    heads = {name: list(sheets[LISTS[name]].columns) for name in ("problems", "duties", "tasks")}
    assert heads["problems"][:6] == ["序号", "图斑编号", "问题来源", "河湖名称", "河段名称", "乡镇"]
    assert {"问题类型", "状态", "严重程度"} <= set(heads["problems"])
    assert heads["duties"][5:] == [
        "县级河长", "乡级河长", "村级河长", "责任单位", "责任人", "联系电话",
    ]  # fmt: skip
    assert heads["tasks"][4:8] == ["整改任务", "整改措施", "责任单位", "完成时限"]
    assert all(len(heads[k]) == len(LIST_COLUMNS[k]) + 1 for k in heads)
    # the rows: every patch issued by 04-30 but 不是问题 and those closed before April
    with open_ledger(ledger) as led:
        frame = led.status_frame(as_of="2026-04-30")
    kept = frame[
        (frame["state"] != "dismissed")
        & ~(
            (frame["state"] == "closed")
            & (frame["state_since"].astype(str).str[:10] < "2026-04-01")
        )
    ]
    problems, duties, tasks = (_rows(sheets[LISTS[k]]) for k in ("problems", "duties", "tasks"))
    assert len(problems) == len(kept) and 0 < len(kept) < len(frame)
    assert set(problems["图斑编号"]) == set(kept["patch_id"])
    assert list(problems["序号"]) == [str(k) for k in range(1, len(kept) + 1)]
    assert list(duties["图斑编号"]) == list(problems["图斑编号"]) == list(tasks["图斑编号"])
    assert STATES["dismissed"] not in set(problems["状态"])
    # 问题来源: the province's batches and the office's own 自查
    assert {SOURCES["issued"], SOURCES["selfcheck"]} <= set(problems["问题来源"])
    # 责任单位 everywhere (the township government by default), the chiefs of the segment,
    # never an assistant; 责任人 and 整改措施 where 落实责任 recorded them
    assert duties["责任单位"].notna().all()
    inside = duties[duties["河段名称"].notna()]
    assert inside["村级河长"].notna().all() and inside["县级河长"].notna().all()
    with open_ledger(ledger) as led:
        chiefs = led.chiefs()
    helpers = set(chiefs.loc[assistants(chiefs).notna(), "name"])
    assert len(helpers) == len(ASSISTANTS)
    named = " ".join(inside[["县级河长", "乡级河长", "村级河长"]].fillna("").to_numpy().ravel())
    assert not any(h in named for h in helpers)
    assert duties["责任人"].notna().any() and tasks["整改措施"].notna().any()
    assert set(tasks["整改任务"]) <= {
        LISTS["task_verify"],
        LISTS["task_rectify"],
        LISTS["task_review"],
        LISTS["task_done"],
    }
    late = tasks[pd.to_numeric(tasks["逾期天数"]) > 0]
    assert len(late) and late["完成时限"].notna().all()
    # a printable form: title, 数据截至, A4 landscape one page wide, header on every page
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        assert ws["A1"].value.startswith("示范县河长制办公室2026年4月河湖")
        assert ws["A2"].value.startswith("数据截至 2026-04-30")
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        assert ws.page_setup.fitToWidth in (None, 1)  # one page wide (1 is the default)
        assert ws.print_title_rows == "$3:$3"


def test_as_of_shows_the_ledger_as_it_stood(copy):
    ledger, s, base = copy
    with open_ledger(ledger) as led:
        frame = led.status_frame(as_of="2026-04-30")
        pid = sorted(frame.loc[frame["state"] == "issued", "patch_id"])[0]
        led.transition([pid], "verifying", actor="核查员", at="2026-05-12T09:00")
    run(s, "lists", ledger, "-o", base / "then", "--period", APRIL, "--as-of", "2026-04-30")
    run(s, "lists", ledger, "-o", base / "may", "--period", "2026-05")
    then = _rows(_sheets(base / "then" / LISTS["file"].format(period=APRIL))[LISTS["problems"]])
    may = _rows(_sheets(base / "may" / LISTS["file"].format(period="2026-05"))[LISTS["problems"]])
    assert then.set_index("图斑编号").at[pid, "状态"] == STATES["issued"]  # not the May change
    assert may.set_index("图斑编号").at[pid, "状态"] == STATES["verifying"]
    # a problem closed in April is listed in April (已销号) and drops off in May
    closed = then[then["状态"] == STATES["closed"]]
    assert set(closed["图斑编号"]).isdisjoint(may["图斑编号"])


def test_periods_and_bad_input(copy):
    ledger, s, base = copy
    assert period_bounds("2026Q1")[:2] == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert period_bounds("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28), "2026年2月")
    bad = run(s, "lists", ledger, "-o", base / "x", "--period", "2026Q5", ok=False)
    assert "2026Q5" in bad and "2026Q1 or 2026-04" in bad
    bad = run(s, "lists", ledger, "-o", base / "x", "--period", "2026Q1", "--as-of", "2026-04-30",
              ok=False)  # fmt: skip
    assert "outside the period 2026Q1" in bad
    bad = run(s, "lists", ledger, "-o", base / "x", "--period", "9999Q1", ok=False)
    assert "9999-01-01 is after tomorrow" in bad
    assert not (base / "x").exists()


def test_demo_patrols_show_short_tracks_and_the_assistant(copy):
    ledger, s, base = copy
    first, last = PATROL_PERIOD
    out = run(s, "patrols", ledger, "--from", first, "--to", last, "-o", base / "巡河.xlsx")
    assert f"{PATROLS['too_little'].split('（')[0]}" in out  # 里程不足
    assert f"{PATROLS['too_short'].split('（')[0]}" in out  # 时长不足
    with open_ledger(ledger) as led:
        report = patrol_report_ledger(led, start=first, end=last)
        chiefs = led.chiefs()
    rivers = pd.read_excel(base / "巡河.xlsx", dtype=str)
    assert {"河流(湖泊)", "应巡河次数", "达标次数"} <= set(rivers.columns)
    missed = pd.read_excel(base / "巡河_未计入轨迹.xlsx", dtype=str)
    for cid, _km, _minutes in SHORT_TRACKS:  # each short track, with its reason
        mine = report.tracks[(report.tracks["chief_id"] == cid) & ~report.tracks["counted"]]
        reasons = mine["reason"].str.split("（").str[0]
        assert reasons.isin(["里程不足", "时长不足"]).any(), mine
    reason = missed[FIELD_WORK["reason"]]  # 未计入原因
    assert (
        reason.str.startswith("里程不足").sum() == 1
        and reason.str.startswith("时长不足").sum() == 1
    )
    # the assistant's walk counts for his chief, who is not behind; the assistant is no chief
    title, cid, _walks = next(a for a in ASSISTANTS if a[2])
    helper = chiefs.loc[assistants(chiefs).notna() & (chiefs["title"] == title), "name"].item()
    walked = report.tracks[report.tracks["surveyor"] == helper]
    assert len(walked) == 1 and walked["counted"].all() and set(walked["chief_id"]) == {cid}
    per = report.chiefs.set_index("chief_id")
    assert not per.at[cid, "behind"] and helper not in set(per["name"])
    for short, _km, _minutes in SHORT_TRACKS:
        assert per.at[short, "behind"]  # a short track does not count: he is behind


def test_demo_cards_go_only_to_the_chiefs_behind(copy):
    ledger, s, base = copy
    out = run(s, "patrol-cards", ledger, "--quarter", "2026Q1", "-o", base / "cards")
    with open_ledger(ledger) as led:
        report = patrol_report_ledger(led, start=PATROL_PERIOD[0], end=PATROL_PERIOD[1])
    per = report.chiefs
    late, fine = per[per["behind"]], per[~per["behind"]]
    assert 0 < len(late) < len(per) and f"{len(late)} 名河长巡河未达标" in out
    cards = [p.name for p in (base / "cards").iterdir() if p.name.startswith(CARDS["card"])]
    assert len(cards) == len(late)
    assert all(any(n in c for c in cards) for n in late["name"])
    assert not any(n in c for n in fine["name"] for c in cards)
