import pandas as pd
import pytest
from conftest import gk_frame, square

from geo.errors import SchemaError
from geo.labels import MATCHING
from geo.ledger.store import Ledger
from geo.matching import match_patches
from geo.matching.chiefs import CHAIN_COLUMNS, chain_ledger, chief_chain, responsible_chain

X0, Y0 = 500_000.0, 3_098_000.0


def _segments():
    return gk_frame(
        {
            "segment_id": ["S1", "S2"],
            "water_name": ["W", "W"],
            "segment_name": ["W1", "W2"],
            "admin_code": ["439999001002", "439999002"],
        },
        [square(X0, Y0, 100), square(X0 + 100, Y0, 100)],
    )


def _chiefs():
    rows = [
        ("C1", "Zhao", "governor", "province", "S1"),
        ("C1", "Zhao", "governor", "province", "S2"),
        ("C2", "Qian", "", "county", "S1"),
        ("C3", "Sun", "head", "village", "S1"),
        ("C4", "Li", None, "village", "S1"),
        ("C5", "Zhou", "mayor", "township", "S2"),
        ("C6", "Wu", "x", "district", "S2"),
    ]
    return pd.DataFrame(rows, columns=["chief_id", "name", "title", "level", "segment_id"])


def test_chief_chain_every_level():
    chain = chief_chain(_chiefs()).set_index("segment_id")
    o, c, sep = MATCHING["title_open"], MATCHING["title_close"], MATCHING["list_sep"]
    assert chain.loc["S1", "chief_province"] == f"Zhao{o}governor{c}"
    assert chain.loc["S1", "chief_county"] == "Qian"
    assert chain.loc["S1", "chief_village"] == f"Sun{o}head{c}{sep}Li"
    assert chain.loc["S1", "chief_city"] == "" and chain.loc["S2", "chief_township"] != ""
    with pytest.raises(SchemaError, match="level"):
        chief_chain(_chiefs().drop(columns="level"))


def test_straddle_names_both_chains_and_the_admin_area():
    patches = gk_frame(
        {"patch_id": ["in", "cross", "near"], "admin_code": ["439999", None, "439999003004"]},
        [square(X0 + 10, Y0 + 10, 5), square(X0 + 90, Y0 + 10, 30), square(X0 + 300, Y0, 5)],
    )
    m = match_patches(patches, _segments(), id_column="segment_id")
    out = responsible_chain(m, _segments(), _chiefs(), patches=patches)
    assert list(out.columns) == [*m.columns, *CHAIN_COLUMNS]
    by = {(r.patch_id, r.segment_id): r for r in out.itertuples()}
    inside = by[("in", "S1")]  # county-level code on the patch: the segment's village code
    assert (inside.admin_source, inside.village_code, inside.township_code) == (
        "segment",
        "439999001002",
        "439999001",
    )
    cross = out[out["patch_id"] == "cross"]
    assert cross["segment_id"].tolist() == ["S2", "S1"] and cross["primary"].tolist() == [
        True,
        False,
    ]
    assert cross["village_code"].tolist() == ["", "439999001002"]
    near = by[("near", "S2")]
    assert (near.relation, near.admin_source, near.township_code) == ("near", "patch", "439999003")
    assert near.chief_township != "" and near.chief_village == ""


def test_outside_has_no_chain():
    patches = gk_frame({"patch_id": ["far"]}, [square(X0 + 9000, Y0, 5)])
    m = match_patches(patches, _segments(), id_column="segment_id")
    out = responsible_chain(m, _segments(), _chiefs())
    row = out.iloc[0]
    assert (
        row["relation"] == "outside" and row["chief_province"] == "" and row["admin_source"] == ""
    )


def test_demo_ledger_chain(demo_run):
    with Ledger(demo_run.ledger) as ledger:
        out = chain_ledger(ledger)
        n = len(ledger.patches())
    primary = out[out["primary"]]
    assert len(primary) == n
    matched = primary[primary["segment_id"].notna()]
    assert (matched["chief_county"] != "").all() and (matched["chief_village"] != "").all()
    assert (primary["township_code"].str.len() == 9).all()
