import pytest

from geo.errors import SettingsError
from geo.settings import Settings, load_settings, settings_from_dict


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HETU_SETTINGS", raising=False)
    s = load_settings()
    assert s == Settings()
    assert s.near_m == 1000.0 and s.basemap == "osm" and s.source == "defaults"


def test_reads_every_table(tmp_path):
    p = tmp_path / "hetu.toml"
    p.write_text(
        '[office]\nname = "示范县河长办"\nadmin_code = "439999"\n'
        "extent = [113.7, 27.6, 114.3, 28.1]\ncentral_meridian = 114\n"
        '[townships]\n"439999001" = "清溪镇"\n[lifecycle]\nrectify_days = 15\n'
        '[matching]\nnear_m = 500\n[map]\nbasemap = "none"\n',
        encoding="utf-8",
    )
    s = load_settings(p)
    assert s.office_name == "示范县河长办"
    assert s.extent == (113.7, 27.6, 114.3, 28.1)
    assert s.central_meridian == 114
    assert s.township_name("439999001007") == "清溪镇"
    assert s.township_name("439999009001") == "439999009"
    assert (s.rectify_days, s.near_m, s.basemap) == (15, 500.0, "none")


def test_env_variable_names_the_file(tmp_path, monkeypatch):
    p = tmp_path / "office.toml"
    p.write_text('[office]\nname = "甲"\n', encoding="utf-8")
    monkeypatch.setenv("HETU_SETTINGS", str(p))
    assert load_settings().office_name == "甲"


def test_tianditu_key_from_environment(monkeypatch):
    monkeypatch.setenv("TIANDITU_KEY", "abc")
    assert settings_from_dict({"map": {"tianditu_key": "zzz"}}).tianditu_key == "abc"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"office": {"central_meridian": 113}}, "multiple of 3"),
        ({"office": {"extent": [114, 28, 113, 27]}}, "extent"),
        ({"map": {"basemap": "gaode"}}, "basemap"),
        ({"lifecycle": {"rectify_days": "30"}}, "rectify_days"),
        ({"lifecycle": {"rectify_days": True}}, "rectify_days"),
    ],
)
def test_bad_values_are_named(data, words):
    with pytest.raises(SettingsError, match=words):
        settings_from_dict(data, source="hetu.toml")


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[office\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not a valid"):
        load_settings(bad)


def test_field_work_export_and_assessment_tables(tmp_path):
    (tmp_path / "hetu.toml").write_text(
        "[surveys]\nwithin_m = 30\n[patrols.every_days]\nvillage = 5\ncounty = 60\n"
        '[export]\ntemplate = "t/省厅模板.xlsx"\ncolumn_map = "t/列.toml"\n'
        "[assessment]\nclosure = 60\non_time = 10\n",
        encoding="utf-8",
    )
    s = load_settings(tmp_path / "hetu.toml")
    assert s.survey_within_m == 30.0 and s.patrol_every_days == {"village": 5.0, "county": 60.0}
    assert s.export_template == str(tmp_path / "t" / "省厅模板.xlsx")
    assert s.export_column_map == str(tmp_path / "t" / "列.toml")
    assert s.assessment.closure == 60 and s.assessment.on_time == 10
    assert Settings().survey_within_m == 50.0 and Settings().patrol_every_days == {}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"surveys": {"within_m": -1}}, "within_m"),
        ({"patrols": {"every_days": {"town": 7}}}, "no chief level"),
        ({"patrols": {"every_days": {"village": 0}}}, "days > 0"),
        ({"assessment": {"closure_weight": 3}}, "closure_weight"),
    ],
)
def test_bad_field_work_and_assessment_values_are_named(data, words):
    with pytest.raises(SettingsError, match=words):
        settings_from_dict(data, source="hetu.toml")
