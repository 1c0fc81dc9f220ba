import pandas as pd
import pytest

from geo.errors import SchemaError, SettingsError
from geo.ingest.profiles import DEFAULT_PROFILE, load_profile, merge_profile, rename_to_canonical


def test_profile_file_merges_over_the_default(tmp_path):
    path = tmp_path / "湖南.toml"
    path.write_text('[patches]\npatch_id = ["图斑号", "TBBH"]\n\n[ranges]\nsegment_id = "HDDM2"\n')
    prof = load_profile(path)
    assert prof["patches"]["patch_id"][:2] == ("图斑号", "TBBH")
    assert prof["patches"]["patch_id"].count("TBBH") == 1
    assert "图斑编号" in prof["patches"]["patch_id"]
    assert prof["ranges"]["segment_id"][0] == "HDDM2"
    assert DEFAULT_PROFILE["patches"]["patch_id"][0] == "TBBH"  # the default is unchanged


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[tuban]\npatch_id = ['X']\n", r"unknown table \[tuban\]"),
        ("[patches]\npatchid = ['X']\n", "no field 'patchid'"),
        ("[patches]\npatch_id = [1, 2]\n", "list of names"),
        ("[patches\n", "not a valid UTF-8 TOML"),
    ],
)
def test_bad_profiles_are_refused_with_the_fix(tmp_path, text, match):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=match):
        load_profile(path)


def test_missing_profile_file():
    with pytest.raises(SettingsError, match="not found"):
        load_profile("no/such/profile.toml")


def test_rename_prefers_the_profile_order_and_keeps_the_rest():
    df = pd.DataFrame({"tbbh ": ["a"], "图斑号": ["b"], "patch_id": ["c"], "其他": [1]})
    prof = merge_profile({"patches": {"patch_id": ["图斑号"]}})
    out, mapping, unknown = rename_to_canonical(df, "patches", source="f", profile=prof)
    assert out["patch_id"].iloc[0] == "b" and mapping["图斑号"] == "patch_id"
    assert set(unknown) == {"tbbh ", "patch_id (source)", "其他"}
    assert "issue_type" in out.columns and df.columns[2] == "patch_id"


def test_missing_required_field_names_what_was_found():
    with pytest.raises(SchemaError, match=r"patch_id: one of TBBH.*Found: 名称.*--profile"):
        rename_to_canonical(pd.DataFrame({"名称": [1]}), "patches", source="f")
