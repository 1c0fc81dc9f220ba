import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.errors import SchemaError, SettingsError
from geo.field.patrols import (
    behind,
    completion_by_level,
    patrol_completion,
    patrol_report,
    patrol_report_ledger,
    patrols_ledger,
    unattributed,
)
from geo.labels import LEVELS_DISTRICT, PATROLS
from geo.ledger.chiefs import assistants
from geo.ledger.store import open_ledger
from geo.policy.patrols import PRESETS, PatrolRule, counted_periods, patrol_rules
from geo.settings import load_settings

OCT = {"start": dt.date(2025, 10, 1), "end": dt.date(2025, 10, 31)}
#: Monthly county, twice-monthly township, weekly village; no minimums (tracks without lines).
PLAIN = patrol_rules(
    levels={
        "county": PatrolRule("month"),
        "township": PatrolRule("month", 2),
        "village": PatrolRule("week"),
    }
)


def _chiefs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "chief_id": ["HZ1", "HZ1", "HZ2", "HZ3", "HZ4"],
            "name": ["王强", "王强", "李梅", "赵村", "钱村"],
            "level": ["county", "county", "township", "village", "village"],
            "segment_id": ["S1", "S2", "S1", "S1", "S2"],
        }
    )


def _tracks(rows: list[tuple[str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame({"surveyor": [r[0] for r in rows], "started_at": [r[1] for r in rows]})


def test_periods_are_judged_in_the_report_they_end_in():
    weekly, quarterly = PatrolRule("week"), PatrolRule("quarter")
    weeks = counted_periods(**OCT, rule=weekly)
    # the week of 29 Sep ends on 5 Oct: judged in October; the week of 27 Oct is November's
    assert [w[0].isoformat() for w in weeks] == [
        "2025-09-29",
        "2025-10-06",
        "2025-10-13",
        "2025-10-20",
    ]
    assert counted_periods(**OCT, rule=quarterly) == []
    dec = counted_periods(dt.date(2025, 12, 1), dt.date(2025, 12, 31), quarterly)
    assert dec == [(dt.date(2025, 10, 1), dt.date(2025, 12, 31))]
    xun = counted_periods(dt.date(2026, 2, 1), dt.date(2026, 2, 28), PatrolRule("ten_days"))
    assert [(a.day, b.day) for a, b in xun] == [(1, 10), (11, 20), (21, 28)]
    # 阿合奇: township and village duties run from March to December
    aheqi = PRESETS["aheqi"]
    q1 = {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 3, 31)}
    assert [p[0].month for p in counted_periods(**q1, rule=aheqi["township"])] == [3]
    assert len(counted_periods(**q1, rule=aheqi["county"])) == 1
    assert aheqi["village"].describe() == "3–12月每周不少于1次，每次不少于30分钟、2公里"


def test_completion_per_chief_and_level():
    t = "T08:00:00+08:00"
    tracks = _tracks(
        [
            ("王强", f"2025-10-03{t}"),
            ("李梅", f"2025-10-05{t}"),
            ("李梅", "2025-10-05T15:00:00+08:00"),  # same day: one patrol
            ("李 梅", f"2025-10-20{t}"),  # spaces do not hide a name
            *[("赵村", f"2025-10-{d:02d}{t}") for d in (2, 9, 16, 23, 30)],
            ("钱村", f"2025-10-02{t}"),
            ("钱村", f"2025-09-30{t}"),  # the same week as 2 Oct: one patrol that week
            ("路人", f"2025-10-02{t}"),
            ("赵村", None),
        ]
    )
    per = patrol_completion(tracks, _chiefs(), **OCT, rules=PLAIN, level_labels=LEVELS_DISTRICT)
    got = per.set_index("chief_id")
    assert got.loc["HZ1", ["done", "required", "n_segments"]].tolist() == [1, 1, 2]
    assert got.loc["HZ2", ["done", "required"]].tolist() == [2, 2]
    # 30 Oct is in the week judged in November: done 5, credited 4 of 4
    assert got.loc["HZ3", ["done", "required", "completion_pct"]].tolist() == [5, 4, 100.0]
    assert got.loc["HZ4", ["done", "shortfall", "completion_pct"]].tolist() == [1, 3, 25.0]
    assert got.loc["HZ4", "last_patrol"] == dt.date(2025, 10, 2)
    assert list(per["level_label"].unique()) == ["区级", "街道", "村(社区)"]
    assert list(behind(per)["chief_id"]) == ["HZ4"]
    levels = completion_by_level(per).set_index("level")
    # HZ3's extra patrol does not hide HZ4's missing ones: (4 + 1) / 8
    assert levels.loc["village", ["done", "required", "n_behind"]].tolist() == [6, 8, 1]
    assert levels.loc["village", "completion_pct"] == pytest.approx(62.5)
    assert levels.loc["county", "completion_pct"] == 100.0
    odd = unattributed(tracks, _chiefs(), **OCT)
    assert sorted(odd["reason"]) == sorted([PATROLS["not_listed"], PATROLS["no_time"]])


def test_the_office_sets_its_rules():
    tracks = _tracks([("王强", "2025-10-03T08:00:00+08:00")])
    weekly = patrol_rules(levels={"county": {"per": "week"}, "township": {"per": "month"}})
    per = patrol_completion(tracks, _chiefs(), **OCT, rules=weekly)
    assert per.set_index("chief_id").loc["HZ1", ["required", "behind"]].tolist() == [4, True]
    # Hetu 0.1's every_days still reads: 10 days → 旬, 3 of them in October
    old = patrol_completion(tracks, _chiefs(), **OCT, required={"county": 10})
    assert old.set_index("chief_id").loc["HZ1", ["required", "behind"]].tolist() == [3, True]
    with pytest.raises(SchemaError, match="team"):
        patrol_completion(tracks, _chiefs().assign(level="team"), **OCT)
    with pytest.raises(SettingsError, match="per must be one of"):
        patrol_rules(levels={"village": {"per": "fortnight"}})
    with pytest.raises(SettingsError, match="preset"):
        patrol_rules(preset="nowhere")


def test_settings_choose_a_preset_and_override_a_level(tmp_path):
    toml = tmp_path / "hetu.toml"
    toml.write_text(
        '[patrols]\npreset = "dinghu"\nwithin_m = 50.0\n\n'
        '[patrols.levels.village]\nper = "ten_days"\nmin_km = 1.0\n',
        encoding="utf-8",
    )
    s = load_settings(toml)
    assert s.patrols.preset == "dinghu" and s.patrols.within_m == 50.0
    assert s.patrols.rule("township") == PRESETS["dinghu"]["township"]
    village = s.patrols.rule("village")
    assert (village.per, village.times, village.min_minutes, village.min_km) == (
        "ten_days",
        2,
        5,
        1,
    )
    # a level the preset leaves out takes 阿合奇's rule, and says so
    assert s.patrols.rule("county") == PRESETS["aheqi"]["county"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[patrols.levels.village]\nmonths = [0, 13]\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="months"):
        load_settings(bad)


def _river_case() -> tuple[gpd.GeoDataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    """Two rivers of one township chief, an assistant, and tracks that count or not."""
    crs = "EPSG:4547"  # CM 114°E, metres
    x0, y0 = 500_000.0, 3_000_000.0
    water = shapely.box(x0, y0, x0 + 5_000, y0 + 100)  # 清水河, 5 km
    creek = shapely.box(x0, y0 + 3_000, x0 + 3_000, y0 + 3_080)  # 石溪, 3 km
    segments = gpd.GeoDataFrame(
        {"segment_id": ["S1", "S3"], "water_name": ["清水河", "石溪"]},
        geometry=[water, creek],
        crs=crs,
    ).to_crs(4490)
    chiefs = pd.DataFrame(
        {
            "chief_id": ["HZ1", "HZ1", "ZL1"],
            "name": ["李梅", "李梅", "周助理"],
            "level": ["township", "township", "township"],
            "segment_id": ["S1", "S3", "S3"],
            "attrs": [None, None, '{"for": "HZ1"}'],
        }
    )

    def walk(y: float, km: float) -> shapely.LineString:
        return shapely.LineString([(x0 + 100, y), (x0 + 100 + km * 1000, y)])

    rows = [  # (surveyor, line, start, minutes)
        ("李梅", walk(y0 + 50, 3.0), "2026-04-03T09:00:00+08:00", 40),  # counts: 清水河
        ("李梅", walk(y0 + 3_040, 1.0), "2026-04-05T09:00:00+08:00", 40),  # 1 km < 2 km
        ("李梅", walk(y0 + 1_500, 2.5), "2026-04-07T09:00:00+08:00", 40),  # between the rivers
        ("李梅", walk(y0 + 50, 2.5), "2026-04-09T09:00:00+08:00", 12),  # 12 min < 30 min
        ("周助理", walk(y0 + 3_040, 2.5), "2026-04-11T09:00:00+08:00", 35),  # for HZ1: 石溪
        ("路人", walk(y0 + 50, 3.0), "2026-04-12T09:00:00+08:00", 60),
    ]
    starts = pd.to_datetime([r[2] for r in rows])
    tracks = gpd.GeoDataFrame(
        {
            "name": [f"T{i}" for i in range(len(rows))],
            "surveyor": [r[0] for r in rows],
            "started_at": [r[2] for r in rows],
            "ended_at": [
                (s + pd.Timedelta(minutes=r[3])).isoformat()
                for s, r in zip(starts, rows, strict=True)
            ],
        },
        geometry=[r[1] for r in rows],
        crs=crs,
    ).to_crs(4490)
    return segments, chiefs, tracks


def test_patrols_count_per_river_with_minimums_and_assistants():
    segments, chiefs, tracks = _river_case()
    april = {"start": dt.date(2026, 4, 1), "end": dt.date(2026, 4, 30)}
    report = patrol_report(tracks, chiefs, segments, **april)  # 阿合奇: monthly, 30 min, 2 km
    rivers = report.rivers.set_index("river")
    assert list(report.rivers["chief_id"].unique()) == ["HZ1"]  # the assistant is no chief
    assert rivers.loc["清水河", ["done", "required", "credited"]].tolist() == [1, 1, 1]
    assert rivers.loc["石溪", ["done", "required", "behind"]].tolist() == [1, 1, False]
    reasons = report.tracks.set_index(["track", "river"])["reason"]
    assert reasons[("T1", "石溪")].startswith("里程不足（1.00 公里")
    assert reasons[("T2", "清水河")].startswith("未到责任河段（最近处距河段 1.40 公里")
    assert reasons[("T3", "清水河")] == PATROLS["too_short"].format(got=12, need=30)
    assert reasons[("T4", "石溪")] == "" and reasons[("T0", "清水河")] == ""
    # a walk on one of his rivers is not "off the river" for the other; off both, the nearest
    per_track = report.tracks.groupby("track")["river"].agg(list).to_dict()
    assert per_track["T0"] == ["清水河"] and per_track["T1"] == ["石溪"]
    assert per_track["T2"] == ["清水河"]
    stranger = report.tracks[report.tracks["track"] == "T5"]
    assert stranger["reason"].tolist() == [PATROLS["not_listed"]]
    chief = report.chiefs.set_index("chief_id").loc["HZ1"]
    assert chief[["done", "required", "completion_pct", "n_segments"]].tolist() == [2, 2, 100.0, 2]
    # without the assistant's walk 石溪 is behind
    alone = patrol_report(tracks[tracks["surveyor"] != "周助理"], chiefs, segments, **april)
    assert alone.rivers.set_index("river").loc["石溪", "behind"]
    # 丁湖镇 asks 5 min and 300 m: the short walks count, the one between the rivers not
    dinghu = patrol_report(tracks, chiefs, segments, **april, rules=patrol_rules(preset="dinghu"))
    assert dinghu.rivers.set_index("river")["done"].to_dict() == {"清水河": 2, "石溪": 2}


def test_demo_patrols(demo_run):
    with open_ledger(demo_run.ledger) as ledger:
        per = patrols_ledger(ledger, start=dt.date(2025, 10, 1), end=dt.date(2025, 10, 31))
        listed = ledger.chiefs()
        n_chiefs = listed.loc[assistants(listed).isna(), "chief_id"].nunique()  # not assistants
        quarter = patrol_report_ledger(ledger, start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31))
    assert len(per) == n_chiefs
    # October: no quarter ends, so county chiefs are not judged; the others are
    judged = per.set_index("level")["required"]
    assert (judged.loc["county"] == 0).all() and (judged.drop("county") > 0).all()
    levels = completion_by_level(quarter.chiefs)
    assert list(levels["level"]) == ["county", "township", "village"]
    assert levels["n_behind"].sum() == quarter.chiefs["behind"].sum() == len(behind(quarter.chiefs))
    # 2026Q1: one row per chief and river, and every track not counted says why
    assert quarter.rivers.groupby(["chief_id", "river"]).size().max() == 1
    assert set(quarter.rivers["chief_id"]) == set(quarter.chiefs["chief_id"])
    missed = quarter.tracks[~quarter.tracks["counted"]]
    assert len(missed) and (missed["reason"] != "").all()
    assert 0 < len(behind(quarter.chiefs)) < len(quarter.chiefs)


def test_no_tracks_in_the_period_is_a_report_of_nothing_done():
    empty = _tracks([("王强", "2024-01-03T08:00:00+08:00")])  # long before the period
    report = patrol_report(empty, _chiefs(), **OCT, rules=PLAIN)
    assert report.tracks.empty and report.chiefs["done"].sum() == 0
    assert report.chiefs.set_index("chief_id").loc["HZ4", "required"] == 4
