import datetime as dt

import pandas as pd
import pytest

from geo.errors import SchemaError
from geo.field.patrols import (
    behind,
    completion_by_level,
    patrol_completion,
    patrols_ledger,
    required_patrols,
    unattributed,
)
from geo.labels import LEVELS_DISTRICT
from geo.ledger.store import open_ledger

OCT = {"start": dt.date(2025, 10, 1), "end": dt.date(2025, 10, 31)}


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


def test_required_rounds_halves_up():
    oct_days = {"start": dt.date(2025, 10, 1), "end": dt.date(2025, 10, 31)}
    assert required_patrols(**oct_days, every_days=30) == 1
    assert required_patrols(**oct_days, every_days=15) == 2
    assert required_patrols(**oct_days, every_days=7) == 4
    feb = {"start": dt.date(2025, 2, 1), "end": dt.date(2025, 2, 28)}
    assert required_patrols(**feb, every_days=30) == 1
    year = {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 12, 31)}
    assert required_patrols(**year, every_days=7) == 52
    with pytest.raises(SchemaError, match="before it starts"):
        required_patrols(dt.date(2025, 2, 2), dt.date(2025, 2, 1), every_days=7)


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
            ("钱村", f"2025-09-30{t}"),  # before the period
            ("路人", f"2025-10-02{t}"),
            ("赵村", None),
        ]
    )
    per = patrol_completion(tracks, _chiefs(), **OCT, level_labels=LEVELS_DISTRICT)
    got = per.set_index("chief_id")
    assert got.loc["HZ1", ["done", "required", "n_segments"]].tolist() == [1, 1, 2]
    assert got.loc["HZ2", ["done", "required"]].tolist() == [2, 2]
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
    assert sorted(odd["reason"]) == ["no chief named so", "no start time"]


def test_the_office_sets_its_frequencies():
    tracks = _tracks([("王强", "2025-10-03T08:00:00+08:00")])
    per = patrol_completion(tracks, _chiefs(), **OCT, required={"county": 10})
    assert per.set_index("chief_id").loc["HZ1", ["required", "behind"]].tolist() == [3, True]
    chiefs = _chiefs().assign(level="team")
    with pytest.raises(SchemaError, match="team"):
        patrol_completion(tracks, chiefs, **OCT)


def test_demo_patrols(demo_run):
    with open_ledger(demo_run.ledger) as ledger:
        per = patrols_ledger(ledger, start=dt.date(2025, 10, 1), end=dt.date(2025, 10, 31))
        n_chiefs = ledger.chiefs()["chief_id"].nunique()
        tracks = ledger.tracks()
        april = patrols_ledger(ledger, start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30))
    names = set(tracks.loc[tracks["started_at"].str[:7] == "2025-10", "surveyor"])
    assert len(per) == n_chiefs and per["required"].gt(0).all()
    levels = completion_by_level(per)
    assert list(levels["level"]) == ["county", "township", "village"]
    # October: only the two bank surveys, walked by township chiefs
    done_by = set(per.loc[per["done"] > 0, "name"])
    assert done_by == names & set(per["name"]) and len(done_by) == 2
    assert levels["n_behind"].sum() == per["behind"].sum() == len(behind(per))
    # April: the chiefs patrol (app, KML, photos); most keep up, some fall behind
    by_level = completion_by_level(april).set_index("level")["completion_pct"]
    assert (by_level > 50).all() and (by_level <= 100).all()
    assert 0 < len(behind(april)) < len(april)
