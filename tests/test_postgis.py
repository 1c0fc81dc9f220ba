"""The same ledger on PostGIS: the whole demo ledger copied there and back, the CLI on a URL."""

import pytest
import shapely
from click.testing import CliRunner

from geo.cli.main import cli
from geo.errors import LedgerError
from geo.ledger.db import pg_statements
from geo.ledger.schema import MIGRATIONS
from geo.ledger.store import Ledger
from geo.ledger.transfer import copy_ledger, ledger_tables


def _frames(led):
    events = led.events().drop(columns="event_id")
    patches = led.patches().sort_values("patch_id").reset_index(drop=True)
    return events, patches


def test_every_migration_translates_for_postgresql():
    for name, script, _tables in MIGRATIONS:
        statements = pg_statements(script)
        text = "\n".join(statements)
        assert "AUTOINCREMENT" not in text and " BLOB" not in text, name
        assert "RAISE(ABORT" not in text, name
    initial = "\n".join(pg_statements(MIGRATIONS[0][1]))
    assert "geometry(MultiPolygon, 4490)" in initial and "USING GIST" in initial
    assert "BEFORE TRUNCATE ON events" in initial


def test_demo_ledger_goes_to_postgis_and_back_without_loss(demo_run, postgres, tmp_path):
    url = postgres.new_database()
    there = copy_ledger(demo_run.ledger, url, destination_attachments=tmp_path / "pg-files")
    assert there.rows["events"] > 300 and there.rows["patches"] == 108
    assert there.missing_files == [] and there.files > 10
    back_path = tmp_path / "back.gpkg"
    back = copy_ledger(url, back_path, source_attachments=tmp_path / "pg-files")
    assert back.rows == there.rows
    with (
        Ledger(demo_run.ledger) as a,
        Ledger(url, attachments_dir=tmp_path / "pg-files") as b,
        Ledger(back_path) as c,
    ):
        assert b.backend == "postgis" and b.verify() == [] and c.verify() == []
        ev_a, pa_a = _frames(a)
        for other in (b, c):
            ev, pa = _frames(other)
            assert ev.equals(ev_a)  # times, actors, notes and hashes, in the same order
            assert list(other.events()["event_id"]) == list(a.events()["event_id"])
            assert (pa["patch_id"] == pa_a["patch_id"]).all()
            assert shapely.equals_exact(pa.geometry.values, pa_a.geometry.values, 0).all()
            assert pa.drop(columns="geometry").equals(pa_a.drop(columns="geometry"))
            assert other.evidence().equals(a.evidence())
            assert other.imagery().equals(a.imagery())
            assert other.status_counts() == a.status_counts()
            cases = other.status_frame().query("source == '12345'")  # issue 18: 12345, 回访
            assert len(cases) == 8 and cases["revisit"].str.startswith("满意").sum() == 1
        for sha in a.evidence()["attachment_id"]:
            assert c.attachment_path(sha).read_bytes() == a.attachment_path(sha).read_bytes()
        # the PostGIS ledger takes new events after the copied ones, and the chain goes on
        pid = a.patches().query("state == 'issued'")["patch_id"].iloc[0]
        b.transition(pid, "verifying", actor="分析员", at="2026-05-06T09:00")
        assert b.verify() == [] and b.events()["event_id"].max() > a.events()["event_id"].max()


def test_copy_refuses_a_destination_that_holds_a_ledger(tmp_path, postgres):
    url = postgres.new_database()
    Ledger.create(url).close()
    src = tmp_path / "a.gpkg"
    Ledger.create(src).close()
    with pytest.raises(LedgerError, match="already exists"):
        copy_ledger(src, url)
    assert [t for t, _ in ledger_tables()][:2] == ["batches", "imports"]


def test_cli_reads_the_url_from_the_environment_and_never_takes_a_password(postgres, tmp_path):
    url = postgres.new_database()
    runner = CliRunner()
    env = {"HETU_DATABASE_URL": url, "HETU_ATTACHMENTS": str(tmp_path / "files")}
    result = runner.invoke(cli, ["init", "env:HETU_DATABASE_URL"], env=env)
    assert result.exit_code == 0, result.output
    assert "postgis" in result.output and MIGRATIONS[-1][0] in result.output
    result = runner.invoke(cli, ["status", "env:HETU_DATABASE_URL"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["status", "env:NOT_SET_ANYWHERE"], env=env)
    assert result.exit_code == 2 and "NOT_SET_ANYWHERE" in result.output
    secret = url.replace("postgres@", "postgres:hunter2@")
    result = runner.invoke(cli, ["status", secret])
    assert result.exit_code == 2 and "env:HETU_DATABASE_URL" in result.output
    assert "hunter2" not in result.output
    back = tmp_path / "office.gpkg"
    result = runner.invoke(cli, ["copy-ledger", "env:HETU_DATABASE_URL", str(back)], env=env)
    assert result.exit_code == 0, result.output
    assert back.is_file() and "copied" in result.output


def test_a_city_hosts_its_counties_in_schemas_of_one_database(postgres):
    import psycopg

    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA county_a")
        conn.execute("CREATE SCHEMA county_b")
    a_url = f"{url}?options=-csearch_path%3Dcounty_a,public"
    b_url = f"{url}?options=-csearch_path%3Dcounty_b,public"
    from test_store import _patches, _rec

    with Ledger.create(a_url) as a, Ledger.create(b_url) as b:
        a.add_patches(_patches(["A1", "A2"]), _rec())
        b.add_patches(_patches(["B1"]), _rec())
        a.transition("A1", "verifying", actor="t", at="2025-08-02T09:00")
        assert sorted(a.patches()["patch_id"]) == ["A1", "A2"]
        assert list(b.patches()["patch_id"]) == ["B1"]
        assert a.verify() == [] and b.verify() == []
        assert len(a.events()) == 3 and len(b.events()) == 1
