"""Issue 18.4–18.5: patrols per river through the CLI, and the 卡 of 卡单函令.

A small county is built from files as an office receives them (ranges GeoPackage, chiefs
CSV with an assistant and a liaison unit, patrol tracks CSV); ``hetu patrols`` reports
per chief and river with the reason a track did not count, and ``hetu patrol-cards``
issues cards to the chiefs behind only, records them, writes a lost one again, and keeps
``hetu verify`` green.
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.cli.main import cli
from geo.labels import CARDS
from geo.ledger.store import open_ledger
from geo.reports.cards import CARD_ACTION, recorded_cards

LON, LAT = 114.0, 28.0
HOSTILE = "<script>alert(1)</script>{{7*7}}"


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def _walk(who: str, day: str, lat: float, km: float, minutes: int) -> list[dict]:
    """A straight walk east from LON at ``lat``: ``km`` long, ``minutes`` long."""
    n = 6
    t0 = dt.datetime.fromisoformat(f"{day} 09:00:00")
    dlon = km / (111.32 * 0.8829)  # degrees of longitude per km at 28°N
    times = [t0 + dt.timedelta(minutes=minutes * k / (n - 1)) for k in range(n)]
    return [
        {"巡查人": who, "轨迹编号": f"{who}-{day}-{lat}", "time": f"{t:%Y-%m-%d %H:%M:%S}",
         "lon": LON + dlon * k / (n - 1), "lat": lat}
        for k, t in enumerate(times)
    ]  # fmt: skip


@pytest.fixture
def county(tmp_path):
    """Two rivers: 李梅 walks 清水河 monthly and 石溪 once (by his assistant); HZ2 never."""
    (tmp_path / "hetu.toml").write_text(
        '[office]\nname = "示范县河长制办公室"\n[patrols]\npreset = "aheqi"\n', encoding="utf-8"
    )
    segs = gpd.GeoDataFrame(
        {
            "河段编码": ["S1", "S3"],
            "河湖名称": ["清水河", "石溪"],
            "行政区划代码": ["439999001001", "439999001001"],
        },
        geometry=[
            shapely.box(LON, LAT, LON + 0.06, LAT + 0.002),
            shapely.box(LON, LAT + 0.03, LON + 0.04, LAT + 0.032),
        ],
        crs=4490,
    )
    segs.to_file(tmp_path / "ranges.gpkg", driver="GPKG", engine="pyogrio")
    pd.DataFrame(
        [
            {
                "河长编号": "HZ1",
                "姓名": "李梅",
                "级别": "乡级",
                "河段编码": "S1",
                "联系单位": "县水利局",
            },
            {
                "河长编号": "HZ1",
                "姓名": "李梅",
                "级别": "乡级",
                "河段编码": "S3",
                "联系单位": "县水利局",
            },
            {"河长编号": "HZ2", "姓名": HOSTILE, "级别": "村级", "河段编码": "S3", "联系单位": ""},
            {"河长编号": "ZL1", "姓名": "周助理", "级别": "乡级", "河段编码": "S3", "for": "HZ1"},
            {"河长编号": "HZ3", "姓名": "赵勤", "级别": "县级", "河段编码": "S1", "联系单位": ""},
        ]
    ).to_csv(tmp_path / "chiefs.csv", index=False, encoding="utf-8")
    fixes = []
    for month in ("2026-03-10", "2026-04-10", "2026-05-10", "2026-06-10"):
        fixes += _walk("李梅", month, LAT + 0.001, 3.0, 40)  # 清水河: every month
    fixes += _walk("李梅", "2026-03-12", LAT + 0.031, 0.8, 40)  # 石溪, too short
    fixes += _walk("周助理", "2026-04-12", LAT + 0.031, 2.5, 35)  # 石溪 for 李梅, counts
    fixes += _walk("赵勤", "2026-05-20", LAT + 0.001, 3.0, 45)  # county: once a quarter
    pd.DataFrame(fixes).to_csv(tmp_path / "tracks.csv", index=False, encoding="utf-8")
    led = tmp_path / "ledger.gpkg"
    s = tmp_path / "hetu.toml"
    run("--settings", s, "init", led)
    run("--settings", s, "ingest", led, "ranges", tmp_path / "ranges.gpkg")
    run("--settings", s, "ingest", led, "chiefs", tmp_path / "chiefs.csv")
    run("--settings", s, "ingest", led, "surveys", tmp_path / "tracks.csv")
    return led, s


def test_patrols_per_river_from_the_command_line(county, tmp_path):
    led, s = county
    out = run("--settings", s, "patrols", led, "--from", "2026-04-01", "--to", "2026-06-30",
              "-o", tmp_path / "patrols.xlsx")  # fmt: skip
    assert "乡级: 3–12月每月不少于1次，每次不少于30分钟、2公里（阿合奇县水利局" in out
    with open_ledger(led) as ledger:
        from geo.field.patrols import patrol_report_ledger

        report = patrol_report_ledger(ledger, start=dt.date(2026, 3, 1), end=dt.date(2026, 6, 30))
    rivers = report.rivers.set_index(["chief_id", "river"])
    assert rivers.loc[("HZ1", "清水河"), ["required", "credited"]].tolist() == [4, 4]
    assert rivers.loc[("HZ1", "石溪"), ["required", "credited"]].tolist() == [
        4,
        1,
    ]  # the assistant's
    # county: once a quarter; Q1 ends in the dates too, and he walked only in Q2
    assert rivers.loc[("HZ3", "清水河"), ["required", "credited"]].tolist() == [2, 1]
    assert "ZL1" not in set(report.rivers["chief_id"])
    short = report.tracks[report.tracks["reason"].str.startswith("里程不足")]
    assert list(short["surveyor"]) == ["李梅"] and list(short["river"]) == ["石溪"]
    book = pd.read_excel(tmp_path / "patrols.xlsx", dtype=str)
    assert {"河流(湖泊)", "巡河要求", "依据", "达标次数"} <= set(book.columns)


def test_cards_go_to_the_chiefs_behind_only_and_are_recorded(county, tmp_path):
    led, s = county
    cards = tmp_path / "cards"
    out = run("--settings", s, "patrol-cards", led, "--quarter", "2026Q2", "-o", cards)
    files = sorted(p.name for p in cards.iterdir())
    # behind in Q2: 李梅 on 石溪 (1 of 3 months) and HZ2; 赵勤 walked once: not behind
    assert len(files) == 3, files
    assert sum(n.startswith(CARDS["card"]) for n in files) == 2
    assert sum(n.startswith(CARDS["liaison"]) for n in files) == 1  # 县水利局 for 李梅
    assert "2 名河长巡河未达标" in out
    li = next(cards.glob(f"{CARDS['card']}*李梅*")).read_text("utf-8")
    assert "石溪" in li and "清水河" not in li and "链首校验码" in li
    hostile = next(p for p in cards.iterdir() if "李梅" not in p.name and "县水利局" not in p.name)
    page = hostile.read_text("utf-8")
    assert (
        "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page and "{{7*7}}" in page
    )
    with open_ledger(led) as ledger:
        assert set(recorded_cards(ledger, "2026Q2")) == set(files)
        events = ledger.ledger_events(CARD_ACTION)
        assert len(events) == 3 and json.loads(events["note"].iloc[0])["quarter"] == "2026Q2"
    # the same quarter again: nothing new; a lost card is written again
    next(cards.glob(f"{CARDS['card']}*李梅*")).unlink()
    again = run("--settings", s, "patrol-cards", led, "--quarter", "2026Q2", "-o", cards)
    assert "新记录 0 份" in again and "补写缺失文件" in again
    assert sorted(p.name for p in cards.iterdir()) == files
    with open_ledger(led) as ledger:
        assert len(ledger.ledger_events(CARD_ACTION)) == 3
    run("--settings", s, "verify", led)  # exit 0: the card events keep the chain valid
    bad = run("--settings", s, "patrol-cards", led, "--quarter", "2026Q5", "-o", cards, ok=False)
    assert "2026Q5" in bad and "Traceback" not in bad


def test_river_files_one_per_river(county, tmp_path):
    led, s = county
    out = run("--settings", s, "river-file", led, "--all", "--as-of", "2026-06-30",
              "-o", tmp_path / "rivers")  # fmt: skip
    assert "2 条（个）河湖" in out
    pages = sorted((tmp_path / "rivers").glob("*.html"))
    books = sorted((tmp_path / "rivers").glob("*.xlsx"))
    assert [p.name.split("_")[1] for p in pages] == ["清水河", "石溪"] and len(books) == 2
    stream = next(p for p in pages if "石溪" in p.name).read_text("utf-8")
    assert (
        "石溪一河（湖）一档" in stream and "&lt;script&gt;" in stream and "<script>" not in stream
    )
    sheets = pd.read_excel(next(b for b in books if "石溪" in b.name), sheet_name=None, dtype=str)
    assert list(sheets) == ["年度情况", "河段与河长", "问题清单", "河长巡河", "岸线巡查"]
    figures = dict(zip(sheets["年度情况"]["项目"], sheets["年度情况"]["数值"], strict=True))
    assert figures["河段数"] == "1" and figures["本年发现问题"] == "0"
    patrols = sheets["河长巡河"].set_index("河长")
    assert patrols.loc["李梅", ["应巡河次数", "达标次数"]].tolist() == ["4", "1"]
    one = run("--settings", s, "river-file", led, "--river", "清水河", "-o", tmp_path / "one")
    assert "1 条（个）河湖" in one
    bad = run("--settings", s, "river-file", led, "--river", "长江", "-o", tmp_path / "x", ok=False)
    assert "长江" in bad and "清水河" in bad and "Traceback" not in bad
