import pandas as pd
import pytest

from geo.errors import SchemaError, SettingsError
from geo.ingest.profiles import (
    DEFAULT_PROFILE,
    describe_fields,
    load_profile,
    merge_profile,
    missing_fields,
    rename_to_canonical,
)


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


def test_missing_fields_names_only_what_no_alias_provides():
    assert missing_fields(["姓名", "级 别", "hdbm"], "chiefs") == []
    assert missing_fields(["姓名", "级别（必填）", "HDBM"], "chiefs") == ["level"]  # a note counts
    assert missing_fields(["XM"], "chiefs") == ["level", "segment_id"]
    assert missing_fields([], "patches") == ["patch_id"]
    assert describe_fields(["level"], "chiefs") == "level: one of JB, 级别, 河长级别, level"


def test_a_kml_name_is_the_patch_id_only_without_an_id_field():
    kml = pd.DataFrame({"Name": ["K1"], "Description": ["堆土"]})
    out, mapping, _ = rename_to_canonical(kml, "patches", source="f.kml")
    assert mapping == {"Name": "patch_id", "Description": "description"}
    both = pd.DataFrame({"NAME": ["清溪河"], "TBBH": ["T1"]})
    out, mapping, unknown = rename_to_canonical(both, "patches", source="f.shp")
    assert out["patch_id"].tolist() == ["T1"] and unknown == ["NAME"]
