import datetime as dt
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import geo.settings
from geo.cli.main import cli
from geo.errors import SettingsError
from geo.settings import SCHEMA, Settings, load_settings, settings_from_dict

ROOT = Path(__file__).resolve().parents[1]


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
        ({"patrols": {"every_days": {"town": 7}}}, r"unknown key 'town' \(did you mean 'township'"),
        ({"patrols": {"every_days": {"village": 0}}}, r"village must be a number > 0, got 0"),
        ({"assessment": {"closure_weight": 3}}, "closure_weight"),
    ],
)
def test_bad_field_work_and_assessment_values_are_named(data, words):
    with pytest.raises(SettingsError, match=words):
        settings_from_dict(data, source="hetu.toml")


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "hetu.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_typo_names_the_closest_key(tmp_path):
    path = _write(tmp_path, "[surveys]\nwitin_m = 30\n")
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert str(info.value) == (
        f"{path}: [surveys] unknown key 'witin_m' (did you mean 'within_m'?); known keys: within_m"
    )


@pytest.mark.parametrize(
    ("text", "where", "typo", "meant"),
    [
        ('[office]\nnmae = "x"\n', "[office]", "nmae", "name"),
        ("[lifecycle]\nrectifydays = 9\n", "[lifecycle]", "rectifydays", "rectify_days"),
        ("[[lifecycle.deadline]]\nday = 9\n", "[[lifecycle.deadline]] 1", "day", "days"),
        ('[calendar]\nholiday = ["2027-01-01"]\n', "[calendar]", "holiday", "holidays"),
        ("[escalation]\npfd = true\n", "[escalation]", "pfd", "pdf"),
        (
            '[[escalation.steps]]\naction = "notice"\ndays = 1\ntoo = "county"\n',
            "[[escalation.steps]] 1",
            "too",
            "to",
        ),
        ('[export]\ncolumnmap = "c.toml"\n', "[export]", "columnmap", "column_map"),
        ("[evidence]\nmax_distance = 9\n", "[evidence]", "max_distance", "max_distance_m"),
        ("[patrols]\nevery_day = {}\n", "[patrols]", "every_day", "every_days"),
        ("[patrols.every_days]\nvilage = 7\n", "[patrols.every_days]", "vilage", "village"),
        ('[ingest]\nprofil = "p.toml"\n', "[ingest]", "profil", "profile"),
        ("[matching]\nnearm = 9\n", "[matching]", "nearm", "near_m"),
        ('[map]\nbase_map = "osm"\n', "[map]", "base_map", "basemap"),
        ("[assessment]\nclosure_weight = 9\n", "[assessment]", "closure_weight", "closure"),
    ],
)
def test_a_typo_in_any_table_names_the_closest_key(tmp_path, text, where, typo, meant):
    path = _write(tmp_path, text)
    expected = f"{path}: {where} unknown key '{typo}' (did you mean '{meant}'?); known keys: "
    with pytest.raises(SettingsError, match=re.escape(expected)):
        load_settings(path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[survey]\nwithin_m = 30\n", r"unknown table \[survey\] \(did you mean \[surveys\]\?\)"),
        ("[gis]\nlayer = 1\n", r"unknown table \[gis\]; known tables: office, townships"),
        ("within_m = 30\n[surveys]\n", r"within_m = 30 is outside every table; .*\[surveys\]"),
        ("[lifecycle.deadlines]\ndays = 3\n", r"\[lifecycle\] unknown key 'deadlines'"),
    ],
)
def test_an_unknown_table_fails(tmp_path, text, words):
    with pytest.raises(SettingsError, match=words):
        load_settings(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"surveys": {"within_m": "30"}}, r"\[surveys\] within_m must be a number >= 0, got '30'"),
        ({"matching": {"near_m": "far"}}, r"\[matching\] near_m must be a number >= 0"),
        ({"evidence": {"max_distance_m": True}}, r"\[evidence\] max_distance_m must be a number"),
        ({"office": {"name": 7}}, r"\[office\] name must be a string, got 7"),
        ({"office": {"admin_code": 439999}}, r"\[office\] admin_code must be a string"),
        ({"office": {"extent": [113.7, 27.6, 114.3]}}, r"extent must be a list of 4 numbers"),
        ({"office": {"extent": ["113.7", 27.6, 114.3, 28]}}, r"extent must be a list of 4 numbers"),
        (
            {"office": {"central_meridian": 114.5}},
            r"central_meridian must be an integer, got 114.5",
        ),
        ({"townships": {"439999001": 1}}, r"\[townships\] 439999001 must be a string, got 1"),
        ({"townships": {"43999900": "清溪镇"}}, r"key '43999900' must be a 9-digit township code"),
        ({"lifecycle": {"initial": 1}}, r"\[lifecycle\] initial must be a string"),
        ({"lifecycle": {"transitions": ["issued"]}}, r"transitions must be a table"),
        ({"lifecycle": {"transitions": {"issued": "verifying"}}}, r"issued must be a list of str"),
        ({"lifecycle": {"actions": {"issued->verifying": 1}}}, r"\[lifecycle.actions\] issued->"),
        (
            {"lifecycle": {"evidence": {"closed": ["photo_after"]}}},
            r"closed must be a list of lists",
        ),
        ({"lifecycle": {"labels": {"reviewing": 1}}}, r"\[lifecycle.labels\] reviewing must be"),
        ({"lifecycle": {"open_exempt": "closed"}}, r"open_exempt must be a list of strings"),
        ({"lifecycle": {"deadline_states": [1]}}, r"deadline_states must be a list of strings"),
        ({"lifecycle": {"deadline": {"days": 3}}}, r"deadline must be an array of tables"),
        ({"lifecycle": {"deadline": [{"days": "3"}]}}, r"\[\[lifecycle.deadline\]\] 1 days must"),
        ({"lifecycle": {"deadline": [{"days": 3, "level": "town"}]}}, r"level must be one of"),
        (
            {"lifecycle": {"deadline": [{"days": 3, "issue_type": "dumpng"}]}},
            r'issue_type must be one of .*got \'dumpng\'; write it as issue_type = "dumping"',
        ),
        ({"calendar": {"count": "work"}}, r"\[calendar\] count must be one of workdays, calendar"),
        ({"calendar": {"holidays": "2027-01-01"}}, r"holidays must be a list of dates"),
        ({"calendar": {"workdays": ["2027-02-30"]}}, r"workdays must be a list of dates"),
        ({"escalation": {"template": 1}}, r"\[escalation\] template must be a string"),
        ({"escalation": {"pdf": "yes"}}, r"\[escalation\] pdf must be true or false, got 'yes'"),
        ({"escalation": {"steps": {"action": "notice"}}}, r"steps must be an array of tables"),
        (
            {"escalation": {"steps": [{"action": "notice", "days": "1"}]}},
            r"\[\[escalation.steps\]\] 1 days must be an integer, got '1'",
        ),
        ({"escalation": {"steps": [{"action": "notice", "days": 1, "to": 3}]}}, r"to must be one"),
        ({"export": {"column_map": ["a"]}}, r"\[export\] column_map must be a string"),
        ({"ingest": {"profile": 1}}, r"\[ingest\] profile must be a string, got 1"),
        ({"patrols": {"every_days": 7}}, r"\[patrols\] every_days must be a table"),
        ({"patrols": {"every_days": {"village": "7"}}}, r"village must be a number > 0, got '7'"),
        ({"map": {"tianditu_key": 1}}, r"\[map\] tianditu_key must be a string"),
        ({"assessment": {"on_time": "20"}}, r"\[assessment\] on_time must be a number >= 0"),
        ({"surveys": 30}, r"surveys must be a table"),
    ],
)
def test_a_wrong_type_names_the_field_the_type_and_the_fix(data, words, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    with pytest.raises(SettingsError, match=words) as info:
        settings_from_dict(data, source="hetu.toml")
    assert str(info.value).startswith("hetu.toml: ") and "\n" not in str(info.value)


def test_dates_may_be_toml_dates_and_paths_resolve_beside_the_file(tmp_path):
    path = _write(
        tmp_path,
        '[calendar]\nholidays = [2027-01-01]\nworkdays = ["2027-01-02"]\n'
        '[escalation]\ntemplate = "t/notice.html.j2"\npdf = false\n'
        '[[escalation.steps]]\naction = "notice"\ndays = 1\nto = "township"\n',
    )
    s = load_settings(path)
    assert not s.calendar.is_workday(dt.date(2027, 1, 1))
    assert s.calendar.is_workday(dt.date(2027, 1, 2))  # a Saturday made a working day
    assert s.notice_template == str(tmp_path / "t" / "notice.html.j2") and s.notice_pdf is False
    assert [(x.action, x.days, x.to_level) for x in s.ladder] == [("notice", 1, "township")]


def _schema_keys(table, name=""):
    """(table, key) of every key of the schema, sub-tables and arrays of tables included."""
    for key, node in (table.keys or {}).items():
        yield name, key
        sub = getattr(node, "table", node)  # an array of tables: the table of each
        if isinstance(getattr(sub, "keys", None), dict):
            yield from _schema_keys(sub, f"{name}.{key}".strip("."))


def _documented_example() -> str:
    return textwrap.dedent(geo.settings.__doc__.split("Example ``hetu.toml``::", 1)[1])


def test_the_docstring_documents_every_key_and_its_example_loads(tmp_path):
    doc = _documented_example()
    pairs = list(_schema_keys(SCHEMA))
    assert len(pairs) > 40
    for table, key in pairs:  # `key = ...` or a [table.key] header, perhaps commented out
        header = f"{table}.{key}".strip(".")
        as_key = table and re.search(rf'^[ #]*"?{re.escape(key)}"? *=', doc, re.M)
        assert as_key or re.search(rf"^[ #]*\[+{re.escape(header)}[].]", doc, re.M), header
    s = load_settings(_write(tmp_path, doc))
    assert s.survey_within_m == 50.0 and s.deadline_rules[0].level == "village"
    assert s.townships == {"439999001": "清溪镇"} and s.assessment.closure == 50
    # the commented-out lifecycle is a valid office lifecycle too
    uncommented = re.sub(r'^# (?=\[lifecycle\.|"?[\w>-]+"? = )', "", doc, flags=re.M)
    lc = load_settings(_write(tmp_path, uncommented)).lifecycle
    assert lc.allowed("rectifying") == ("reviewing",) and lc.label("reviewing") == "复核中"
    assert lc.check("reviewing", "closed") == "close" and not lc.is_open("dismissed")


def test_the_demo_and_every_settings_file_in_the_repository_load(demo_files):
    s = load_settings(demo_files.settings)
    assert s.central_meridian == 114 and len(s.townships) == 3
    assert s.patrols.preset == "guangzhou" and s.patrols.rule("township").times == 2
    files = [p for d in ("tests", "data") for p in (ROOT / d).rglob("*.toml")]
    for path in files:
        if path.name == "hetu.toml":
            assert load_settings(path).source == str(path)


def test_the_cli_refuses_a_typo_in_one_line(tmp_path):
    path = _write(tmp_path, '[office]\nname = "甲"\n[surveys]\nwitin_m = 30\n')
    result = CliRunner().invoke(cli, ["--settings", str(path), "status", str(tmp_path / "l.gpkg")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        f"Error: {path}: [surveys] unknown key 'witin_m' (did you mean 'within_m'?); "
        "known keys: within_m"
    )
