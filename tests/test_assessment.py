"""The quarterly 4+1 assessment of townships, on a real ledger with a known history."""

import json
import math
import shutil

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import SchemaError, SettingsError
from geo.labels import ASSESSMENT
from geo.ledger.store import Ledger
from geo.policy.assessment import DEFAULT_RULE, AssessmentRule, assessment_rule_from_toml
from geo.policy.workdays import WorkCalendar
from geo.records import ImportRecord
from geo.reports.assessment import ASSESSMENT_COLUMNS, assess, quarter_bounds, score_components
from geo.settings import Settings

TOWNS = {"439999001": "清溪镇", "439999002": "白沙乡", "439999003": "龙泉镇"}
Q4 = quarter_bounds("2025Q4")


def _settings(calendar=None):
    return Settings(central_meridian=114, townships=TOWNS, calendar=calendar)


def _patches(ids, town, issued_on, batch):
    return gpd.GeoDataFrame(
        {
            "patch_id": ids,
            "batch_id": batch,
            "issue_type": "dumping",
            "admin_code": f"{town}001",
            "detected_on": "2025-07-01",
            "issued_on": issued_on,
            "area_m2": 100.0,
            "source_area": None,
            "description": "堆放",
            "attrs": "{}",
        },
        geometry=[
            shapely.box(114 + k * 0.01, 28, 114.0004 + k * 0.01, 28.0004) for k in range(len(ids))
        ],
        crs=4490,
    )


def _close(led, pid, *, reported, closed, evidence):
    led.transition(pid, "rectified", actor="乡级河长", at=reported)
    for kind in ("photo_before", "photo_after"):
        led.attach(pid, evidence, kind=kind, actor="核查员", at=reported)
    led.transition(pid, "closed", actor="县河长办", at=closed)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """清溪镇: T1 closed on time, T2 closed late, T3 still open past 11-30.
    白沙乡: T4 due next year, T5 closed before the quarter, T6 backlog (due 09-15), T7
    dismissed, R1 issued 2025-11-01 over T5 (a recurrence). 龙泉镇: nothing."""
    base = tmp_path_factory.mktemp("assessment")
    path = base / "ledger.gpkg"
    evidence = base / "photo.txt"
    evidence.write_text("photo")
    with Ledger.create(path, settings=_settings()) as led:
        b1 = pd.concat(
            [
                _patches(["T1", "T2", "T3"], "439999001", "2025-08-01", "2025-Q3"),
                _patches(["T4", "T5", "T6", "T7"], "439999002", "2025-08-01", "2025-Q3"),
            ]
        )
        led.add_patches(b1, ImportRecord(kind="patches", file="b1", sha256="1", batch_id="2025-Q3"))
        r1 = _patches(["R1"], "439999002", "2025-11-01", "2025-Q4")
        led.add_patches(r1, ImportRecord(kind="patches", file="b2", sha256="2", batch_id="2025-Q4"))
        work = ["T1", "T2", "T3", "T4", "T5", "T6"]
        led.transition([*work, "T7"], "verifying", actor="核查员", at="2025-08-05T09:00")
        led.transition(work, "confirmed", actor="核查员", at="2025-08-20T10:00")
        deadlines = {"T1": "2025-10-10", "T2": "2025-10-10", "T3": "2025-11-30",
                     "T4": "2026-01-31", "T5": "2025-09-25", "T6": "2025-09-15"}  # fmt: skip
        for pid, deadline in deadlines.items():
            led.transition(pid, "rectifying", actor="县河长办", at="2025-08-25T09:00",
                           deadline=deadline)  # fmt: skip
        led.attach("T7", evidence, kind="permit", actor="核查员", at="2025-08-06T09:00")
        led.transition("T7", "dismissed", actor="核查员", at="2025-08-06T10:00")
        _close(led, "T5", reported="2025-09-10T10:00", closed="2025-09-20T10:00", evidence=evidence)
        _close(led, "T1", reported="2025-10-03T10:00", closed="2025-10-05T10:00", evidence=evidence)
        _close(led, "T2", reported="2025-10-15T10:00", closed="2025-10-20T10:00", evidence=evidence)
        led.replace_links(
            pd.DataFrame(
                [("R1", "T5", "recurrence", 0.9, 0.8, 2.0)],
                columns=["patch_id", "earlier_id", "kind", "overlap_ratio", "iou", "centroid_m"],
            )
        )
    return path


@pytest.fixture
def ledger(built, tmp_path):
    path = tmp_path / "ledger.gpkg"
    shutil.copyfile(built, path)
    with Ledger(path, settings=_settings()) as led:
        yield led


def test_components_points_and_ranks_from_the_history(ledger):
    table = assess(ledger, start=Q4[0], end=Q4[1], as_of="2026-01-15")
    assert list(table.columns) == ASSESSMENT_COLUMNS
    assert set(ASSESSMENT_COLUMNS) <= set(ASSESSMENT)  # every column has a Chinese header
    rows = table.set_index("township")
    qx, bs, lq = rows.loc["清溪镇"], rows.loc["白沙乡"], rows.loc["龙泉镇"]
    # 清溪镇: T1, T2 closed in the quarter (T1 on time), T3 open past its deadline
    assert (qx.n_due, qx.n_closed, qx.n_on_time) == (3, 2, 1)
    assert qx.closure_rate == pytest.approx(2 / 3, abs=1e-4)
    # overdue: T2 Oct 11-14 (reported on the 15th) + T3 Dec 1-31, in calendar days
    assert (qx.overdue_patch_days, qx.n_overdue, qx.recurrences) == (4 + 31, 2, 0)
    # 白沙乡: only the backlog T6 is due (T4 next year, T5 closed before, T7 dismissed)
    assert (bs.n_due, bs.n_closed, bs.closure_rate) == (1, 0, 0.0)
    assert (bs.overdue_patch_days, bs.recurrences) == (92, 1)
    # 龙泉镇 has no patch: nothing due, rates empty, full points
    assert lq.n_due == 0 and math.isnan(lq.closure_rate) and lq.score == DEFAULT_RULE.max_score
    assert lq.township_code == "439999003"
    # the points, by the documented formula
    assert qx.closure_points == pytest.approx(33.33) and qx.on_time_points == pytest.approx(6.67)
    assert qx.overdue_points == pytest.approx(20 - 0.1 * 35) and qx.recurrence_points == 10
    assert bs.overdue_points == pytest.approx(20 - 9.2) and bs.recurrence_points == 8
    points = ["closure_points", "on_time_points", "overdue_points", "recurrence_points"]
    assert (table[points].sum(axis=1).round(2) == table["score"]).all()
    assert list(table["township"]) == ["龙泉镇", "清溪镇", "白沙乡"]
    assert list(table["rank"]) == [1, 2, 3]


def test_a_quarter_in_progress_is_counted_to_as_of_and_rules_change_the_score(ledger):
    start, end = quarter_bounds("2026Q1")
    table = assess(ledger, start=start, end=end, as_of="2026-01-10").set_index("township")
    # T3, T6 overdue Jan 1-10; T4 (due 01-31) is not due yet on the 10th
    assert table.loc["清溪镇", "overdue_patch_days"] == 10
    assert table.loc["白沙乡", "n_due"] == 1 and table.loc["白沙乡", "overdue_patch_days"] == 10
    rule = assessment_rule_from_toml({"recurrence": 30, "recurrence_each": 30, "closure": 0})
    ruled = assess(ledger, start=Q4[0], end=Q4[1], rule=rule, as_of="2026-01-15")
    assert ruled.set_index("township").loc["白沙乡", "recurrence_points"] == 0
    assert ruled["closure_points"].eq(0).all()
    with pytest.raises(SchemaError, match="after it ends"):
        assess(ledger, start="2025-12-31", end="2025-10-01")
    with pytest.raises(SchemaError, match="not a date"):
        assess(ledger, start="2025-13-01", end="2025-12-31")


def test_frames_give_what_the_ledger_gives_and_overdue_days_match_the_status_frame(ledger):
    cal = WorkCalendar()
    with Ledger(ledger.path, settings=_settings(cal)) as led:
        frame = led.status_frame(as_of="2025-12-31")
        frames = {"status": frame, "events": led.events(), "links": led.links()}
        from_ledger = assess(led, start=Q4[0], end=Q4[1], as_of="2026-01-15")
        from_frames = assess(frames, start=Q4[0], end=Q4[1], calendar=cal, as_of="2026-01-15")
    # the same figures; 龙泉镇 (no patch) comes only from the ledger's settings, so ranks differ
    same = [c for c in ASSESSMENT_COLUMNS if c != "rank"]
    pd.testing.assert_frame_equal(
        from_ledger.loc[from_ledger["township"] != "龙泉镇", same].reset_index(drop=True),
        from_frames[same],
    )
    late = frame[frame["overdue_days"] > 0]  # T3 and T6, overdue since before the year began
    assert set(late["patch_id"]) == {"T3", "T6", "R1"}  # R1: its 核查 is late (not scored)
    late = late[late["patch_id"] != "R1"]
    whole = assess(
        {"status": late, "events": frames["events"]},
        start="2025-01-01",
        end="2025-12-31",
        calendar=cal,
        as_of="2026-01-15",
    )
    assert whole["overdue_patch_days"].sum() == late["overdue_days"].sum()  # working days


def test_assessment_settings_are_validated_and_named():
    rule = assessment_rule_from_toml({"closure": 60, "overdue_per_day": 0.5})
    assert rule.closure == 60.0 and rule.overdue_per_day == 0.5 and rule.on_time == 20.0
    assert rule.max_score == 60 + 20 + 20 + 10
    with pytest.raises(SettingsError, match=r"'closure_weight' \(did you mean 'closure'\?\)"):
        assessment_rule_from_toml({"closure_weight": 50}, source="hetu.toml")
    with pytest.raises(SettingsError, match=r"hetu.toml: \[assessment\] on_time must be a number"):
        assessment_rule_from_toml({"on_time": "20"}, source="hetu.toml")
    with pytest.raises(SettingsError, match="must be a number"):
        assessment_rule_from_toml({"overdue": True})
    with pytest.raises(SettingsError, match=">= 0"):
        assessment_rule_from_toml({"recurrence_each": -1})
    with pytest.raises(SettingsError, match="every component weighs 0"):
        assessment_rule_from_toml(dict.fromkeys(("closure", "on_time", "overdue", "recurrence"), 0))
    with pytest.raises(SchemaError, match="2026Q2"):
        quarter_bounds("2026-06")


_weights = st.floats(min_value=0, max_value=1000, allow_nan=False)
_rules = st.builds(
    AssessmentRule,
    closure=st.floats(min_value=0.01, max_value=1000),
    on_time=_weights,
    overdue=_weights,
    overdue_per_day=_weights,
    recurrence=_weights,
    recurrence_each=_weights,
)
_rates = st.floats(min_value=0, max_value=1)


@settings(max_examples=60, deadline=None)
@given(
    rule=_rules,
    low=_rates,
    high=_rates,
    on_time=st.one_of(st.just(math.nan), _rates),
    days=st.integers(0, 10_000),
    recurrences=st.integers(0, 100),
)
def test_score_rises_with_the_closure_rate_and_stays_within_the_maximum(
    rule, low, high, on_time, days, recurrences
):
    low, high = sorted((low, high))
    table = pd.DataFrame(
        {
            "closure_rate": [low, high, math.nan],
            "on_time_rate": on_time,
            "overdue_patch_days": days,
            "recurrences": recurrences,
        }
    )
    scored = score_components(table, rule)
    score = scored["score"].tolist()
    assert score[0] <= score[1] <= score[2]  # nothing due scores like a full closure
    assert all(-1e-9 <= s <= rule.max_score + 0.03 for s in score)  # 2-decimal rounding
    assert scored["rank"].min() == 1


@settings(deadline=None)
@given(
    values=st.dictionaries(
        st.sampled_from(
            ["closure", "on_time", "overdue", "overdue_per_day", "recurrence", "recurrence_each"]
        ),
        st.one_of(st.integers(0, 500), st.floats(min_value=0, max_value=500)),
    ),
    extra=st.text(min_size=1, max_size=12).filter(
        lambda k: (
            k
            not in {
                "closure",
                "on_time",
                "overdue",
                "overdue_per_day",
                "recurrence",
                "recurrence_each",
                "excellent",
                "good",
                "passing",
            }
        )
    ),
)
def test_rule_parser_keeps_every_value_and_names_any_unknown_key(values, extra):
    weights = {k: values.get(k, getattr(DEFAULT_RULE, k)) for k in ("closure", "on_time",
               "overdue", "recurrence")}  # fmt: skip
    if sum(weights.values()) > 0:
        rule = assessment_rule_from_toml(values)
        for key, value in values.items():
            assert getattr(rule, key) == float(value)
    with pytest.raises(SettingsError) as info:
        assessment_rule_from_toml({**values, extra: 1})
    assert repr(extra) in str(info.value)


@settings(deadline=None)
@given(year=st.integers(1000, 9998), q=st.integers(1, 4), dash=st.booleans(), low=st.booleans())
def test_quarters_tile_the_year(year, q, dash, low):
    text = f"{year}{'-' if dash else ''}{'q' if low else 'Q'}{q}"
    first, last = quarter_bounds(text)
    assert first == pd.Timestamp(year, 3 * q - 2, 1).date()
    nxt = quarter_bounds(f"{year + (q == 4)}Q{q % 4 + 1}")[0]
    assert (pd.Timestamp(nxt) - pd.Timestamp(last)).days == 1


def test_a_ledger_where_nothing_was_ever_closed_is_assessed(tmp_path):
    """Issue 16.8: ``hetu assess`` crashed when no patch had ever been closed (or issued)."""
    from click.testing import CliRunner

    from geo.cli.main import cli

    towns = "".join(f'"{code}" = "{name}"\n' for code, name in TOWNS.items())
    settings = tmp_path / "hetu.toml"
    settings.write_text(f"[office]\ncentral_meridian = 114\n[townships]\n{towns}", encoding="utf-8")
    empty, path = tmp_path / "empty.gpkg", tmp_path / "ledger.gpkg"
    Ledger.create(empty, settings=_settings()).close()
    with Ledger.create(path, settings=_settings()) as led:
        batch = _patches(["A", "B"], "439999001", "2025-08-01", "2025-Q3")
        led.add_patches(
            batch, ImportRecord(kind="patches", file="b", sha256="1", batch_id="2025-Q3")
        )
        led.transition("A", "verifying", actor="核查员", at="2025-08-05T09:00")
    for ledger in (path, empty):
        table = tmp_path / f"{ledger.stem}.csv"
        args = ["--settings", settings, "assess", ledger, "--quarter", "2025Q3",
                "--as-of", "2025-10-15", "-o", table]  # fmt: skip
        result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "清溪镇" in result.stdout and "龙泉镇" in result.stdout
        frame = pd.read_csv(table, encoding="utf-8-sig")
        assert sorted(frame[ASSESSMENT["township"]]) == sorted(TOWNS.values())
        assert (frame[ASSESSMENT["n_closed"]] == 0).all()
        assert (frame[ASSESSMENT["score"]] == DEFAULT_RULE.max_score).all()  # nothing was due


def test_grades_follow_the_thresholds_and_the_sheet_is_titled_with_its_notes(ledger, tmp_path):
    import openpyxl

    from geo.reports.assessment import assessment_title, write_assessment_xlsx

    table = assess(ledger, start=Q4[0], end=Q4[1], as_of="2026-01-15")
    rows = table.set_index("township")
    # 开化: 优秀 >= 90, 良好 >= 80, 合格 >= 70 (percent of the best score)
    assert rows.loc["龙泉镇", "grade"] == "优秀"  # 100 points
    for score, grade in zip(table["score"], table["grade"], strict=True):
        expected = (
            "优秀"
            if score >= 90
            else "良好"
            if score >= 80
            else "合格"
            if score >= 70
            else "不合格"
        )
        assert grade == expected
    strict = AssessmentRule(excellent=95, good=90, passing=85)
    assert strict.grade(92) == "good" and strict.grade(84.99) == "failing"
    with pytest.raises(SettingsError, match="excellent >= good >= passing"):
        AssessmentRule(excellent=80, good=90)
    title, period = assessment_title("示范县河长制办公室", *Q4, "2025Q4")
    assert title == "示范县河长制办公室2025年第四季度乡镇河湖遥感图斑整改考核得分表"
    out = write_assessment_xlsx(table, tmp_path / "考核.xlsx", title=title, period=period)
    sheet = openpyxl.load_workbook(out)[ASSESSMENT["sheet"]]
    assert sheet["A1"].value == title and sheet["A2"].value == "考核期：2025-10-01 至 2025-12-31"
    heads = [c.value for c in sheet[4]]
    assert heads[0] == "乡镇" and heads[-1] == "等次" and "township_code" not in heads
    grades = [sheet.cell(5 + k, len(heads)).value for k in range(len(table))]
    assert grades == list(table["grade"])
    notes = [sheet.cell(r, 1).value for r in range(5 + len(table), sheet.max_row + 1)]
    assert "评分说明" in notes and any("开化县" in (n or "") for n in notes)
    assert sheet.page_setup.orientation == "landscape"


def test_the_quarterly_bulletin_is_a_gongwen_with_ranking_and_named_problems(ledger, tmp_path):
    import docx
    from click.testing import CliRunner

    from geo.cli.main import cli
    from geo.reports.bulletin import write_bulletin

    res = write_bulletin(ledger, quarter="2025Q4", out_dir=tmp_path / "b", as_of="2025-12-31")
    html = res.html.read_text(encoding="utf-8")
    assert (
        res.doc_no == "河长办通报〔2025〕1号" and f'<div class="docno">{res.doc_no}</div>' in html
    )
    assert "关于2025年第四季度河湖遥感图斑问题整改情况的通报</h1>" in html
    assert "各乡镇人民政府：" in html and "2025年12月31日" in html
    assert "考核等次为优秀的：龙泉镇" in html  # nothing due: full points
    assert ">T3<" in html and ">T6<" in html and ">T1<" not in html  # the overdue, by name
    assert "前完成整改并将整改情况报送" in html and "Hetu" not in html
    word = docx.Document(str(res.docx))
    texts = [p.text for p in word.paragraphs]
    assert res.doc_no in texts and any("通报" in t for t in texts)
    cells = [c.text for t in word.tables for row in t.rows for c in row.cells]
    assert "优秀" in cells and "T3" in cells
    # the same quarter again keeps its number; the CLI writes it too
    again = CliRunner().invoke(
        cli, ["bulletin", str(ledger.path), "--quarter", "2025Q4", "-o", str(tmp_path / "b"),
              "--as-of", "2025-12-31"],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert f"{res.doc_no}: {res.html}" in again.output


def test_classes_rank_within_each_and_the_year_is_the_one_of_4_plus_1(ledger, tmp_path):
    import openpyxl
    from click.testing import CliRunner

    from geo.cli.main import cli
    from geo.reports.assessment import in_classes

    table = assess(ledger, start=Q4[0], end=Q4[1], as_of="2026-01-15")
    grouped = in_classes(table, {"439999001": "A组", "439999003": "A组", "439999002": "B组"})
    assert list(grouped.columns) == ["class", *ASSESSMENT_COLUMNS]
    ranks = dict(zip(grouped["township"], zip(grouped["class"], grouped["rank"], strict=True),
                     strict=True))  # fmt: skip
    assert ranks["龙泉镇"] == ("A组", 1) and ranks["清溪镇"] == ("A组", 2)
    assert ranks["白沙乡"] == ("B组", 1)  # first of its own class
    sheet = tmp_path / "年度.xlsx"
    ran = CliRunner().invoke(
        cli, ["assess", str(ledger.path), "--year", "2025", "--as-of", "2026-01-15", "-o",
              str(sheet)],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    title = openpyxl.load_workbook(sheet).active["A1"].value
    assert title.endswith("2025年度乡镇河湖遥感图斑整改考核得分表")
    both = CliRunner().invoke(cli, ["assess", str(ledger.path), "--year", "2025", "--quarter",
                                    "2025Q4"])  # fmt: skip
    assert both.exit_code == 2 and "one of" in both.output


def test_the_counts_split_by_source_add_up_to_the_assessment(ledger, tmp_path):
    import openpyxl

    from geo.reports.assessment import assess_by_source, write_assessment_xlsx

    frame = ledger.status_frame(as_of="2025-12-31")
    hotline = frame["patch_id"].isin(["T1", "T3"])  # two of 清溪镇's came from the 12345 line
    frame.loc[hotline, "attrs"] = json.dumps({"source": "12345"})
    frames = {"status": frame, "events": ledger.events(), "links": ledger.links()}
    table = assess(frames, start=Q4[0], end=Q4[1], as_of="2026-01-15")
    by = assess_by_source(frames, start=Q4[0], end=Q4[1], as_of="2026-01-15")
    rows = by.set_index(["township", "source"])
    assert rows.loc[("清溪镇", "12345"), ["n_due", "n_closed", "n_overdue"]].tolist() == [2, 1, 1]
    issued = rows.loc[("清溪镇", "上级下发"), ["n_due", "n_closed", "n_on_time"]]
    assert issued.tolist() == [1, 1, 0]  # T2, closed late
    sums = by.groupby("township")[["n_due", "n_closed", "n_on_time"]].sum()
    mine = table.set_index("township").loc[sums.index, ["n_due", "n_closed", "n_on_time"]]
    pd.testing.assert_frame_equal(sums, mine, check_dtype=False)
    out = write_assessment_xlsx(table, tmp_path / "考核.xlsx", title="考核", period="期",
                                by_source=by)  # fmt: skip
    sheet = openpyxl.load_workbook(out)[ASSESSMENT["by_source_sheet"]]
    assert [c.value for c in sheet[4]][:2] == ["乡镇", "问题来源"]
    assert sheet.max_row == 4 + len(by) and sheet.page_setup.orientation == "landscape"
