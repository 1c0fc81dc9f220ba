"""`hetu verify` against each way the office was shown to be fooled, on both backends.

Every attack is made behind Hetu's back with ``raw_sql`` (triggers taken out of the way
and put back exactly as they were, as an attacker who knows the schema would), and each
test asserts the Chinese line naming what was done. Before the integrity work each of
these ledgers verified as "history intact".
"""

import contextlib
import json
import re

import geopandas as gpd
import openpyxl
import psycopg
import pytest
import shapely
from click.testing import CliRunner
from conftest import raw_sql
from test_history import LAT, LON, _ledger, _to_rectified, photo
from test_notices import _chiefs, _segments

from geo.cli.main import cli
from geo.errors import LedgerError, SchemaError
from geo.field.evidence import attach_evidence
from geo.ledger import gpkg as gpkg_blobs
from geo.ledger.digests import LEDGER_ID, chain_hash
from geo.ledger.integrity import SHOWN, read_anchors, verify_ledger
from geo.ledger.roles import create_roles, role_statements
from geo.ledger.schema import MIGRATIONS
from geo.ledger.store import Ledger
from geo.records import ImportRecord, event_hash
from geo.reports.exports import export_ledger

FIELDS = (
    "patch_id, at, actor, action, from_state, to_state, deadline, note, evidence, content, db_user"
)


def _pg(location) -> bool:
    return str(location).startswith("postgresql://")


@contextlib.contextmanager
def triggers_off(location):
    """Take the append-only triggers out of the way, then put them back exactly as they were."""
    if _pg(location):
        raw_sql(location, "ALTER TABLE events DISABLE TRIGGER USER")
        try:
            yield
        finally:
            raw_sql(location, "ALTER TABLE events ENABLE TRIGGER USER")
        return
    saved = raw_sql(
        location,
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'",
    )
    for name, _sql in saved:
        raw_sql(location, f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        for _name, sql in saved:
            raw_sql(location, sql)


def rewind_head(location):
    """Make the database's own record of the chain's end agree with what is left."""
    if _pg(location):
        raw_sql(
            location,
            "UPDATE hetu_head SET last_event_id = (SELECT max(event_id) FROM events),"
            " last_hash = (SELECT hash FROM events ORDER BY event_id DESC LIMIT 1)",
        )
    else:
        raw_sql(
            location,
            "UPDATE sqlite_sequence SET seq = (SELECT coalesce(max(event_id), 0)"
            " FROM events) WHERE name = 'events'",
        )


def build_story(location, tmp_path):
    """A ledger with a history: A closed with its photos, C rectified, B verifying, lists in."""
    led = _ledger(location)
    led.add_segments(_segments(), ImportRecord(kind="ranges", file="河段.gpkg", sha256="r"))
    led.add_chiefs(_chiefs(), ImportRecord(kind="chiefs", file="河长.xlsx", sha256="c"))
    _to_rectified(led, "A")
    before = photo(tmp_path / "before.jpg", taken="2025:07:20 09:00:00")
    attach_evidence(led, "A", before, kind="photo_before", actor="巡查员", at="2025-09-20T09:00")
    after = photo(tmp_path / "after.jpg", taken="2025:09:19 09:00:00")
    attach_evidence(led, "A", after, kind="photo_after", actor="巡查员", at="2025-09-20T09:00")
    led.transition("A", "closed", actor="验收组", at="2025-09-21T09:00")
    _to_rectified(led, "C", day="2025-08-2")
    led.transition("B", "verifying", actor="核查员", at="2025-09-22T09:00")
    return led


@pytest.fixture
def story(location, tmp_path):
    led = build_story(location, tmp_path)
    led.location = location
    assert verify_ledger(led).problems == []
    yield led
    led.close()


def test_an_untouched_ledger_is_intact_and_covers_its_rows(story):
    result = verify_ledger(story)
    assert result.problems == [] and result.files == 2
    assert result.rows == 3 + 2 + 5 + 2 + 2  # patches, segments, chiefs, evidence, file records
    assert result.head == story.chain_head() and result.head.count == len(
        raw_sql(story.location, "SELECT event_id FROM events")
    )
    assert re.fullmatch(r"\d+-[0-9a-f]{10}", str(story.chain_head()))
    own = raw_sql(
        story.location, f"SELECT action, content FROM events WHERE patch_id = '{LEDGER_ID}'"
    )
    assert [a for a, _ in own] == ["import", "import"]  # the two lists' digests are chained
    assert {t for _, c in own for t in json.loads(c)} == {"segments", "chiefs"}
    assert LEDGER_ID not in set(story.events()["patch_id"])  # reports never see them
    assert sum(story.status_counts().values()) == 3


def test_tail_cut_with_the_head_rewound_is_found_by_an_anchor(location, tmp_path):
    led = build_story(location, tmp_path)
    more = [f"D{i}" for i in range(10)]
    led.add_patches(
        _ledger_frame(more), ImportRecord(kind="patches", file="b2", sha256="b2", batch_id="b2")
    )
    led.transition(more, "verifying", actor="核查员", at="2025-09-23T09:00")
    head = led.chain_head()
    led.record_export(
        as_of="2025-09-23", since=None, started_at="2025-09-23T10:00", files=[], counts={}
    )
    with triggers_off(location):
        raw_sql(
            location,
            "DELETE FROM events WHERE event_id IN (SELECT event_id FROM events"
            " ORDER BY event_id DESC LIMIT 10)",
        )
    rewind_head(location)
    problems = led.verify()  # the export the ledger recorded still names the head
    assert problems == [
        f"链首校验码 {head.full}（导出记录 1（2025-09-23））：台账只有 {head.count - 10} "
        "个事件，其后的事件被删除"
    ]
    raw_sql(location, "DELETE FROM exports")  # the attacker removes that record too
    assert led.verify() == []  # nothing inside the ledger tells any more…
    problems = led.verify(anchors=read_anchors(head.code))  # …the code printed on paper does
    assert problems == [
        f"链首校验码 {head.code}（--anchor）：台账只有 {head.count - 10} 个事件，其后的事件被删除"
    ]
    assert set(led.patches().set_index("patch_id").loc[more, "state"]) == {"issued"}
    led.close()


def _ledger_frame(ids):
    return gpd.GeoDataFrame(
        {
            "patch_id": ids,
            "batch_id": "b2",
            "issue_type": "dumping",
            "admin_code": None,
            "detected_on": None,
            "issued_on": "2025-09-01",
            "area_m2": 50.0,
            "source_area": None,
            "description": None,
            "attrs": "{}",
        },
        geometry=[
            shapely.box(LON + i * 0.001, LAT + 0.002, LON + i * 0.001 + 0.0002, LAT + 0.0022)
            for i in range(len(ids))
        ],
        crs=4490,
    )


def test_a_middle_event_edited_and_the_chain_rehashed_is_found_by_an_anchor(story):
    location = story.location
    head = story.chain_head()
    rows = raw_sql(
        location, f"SELECT event_id, {FIELDS}, prev_hash, hash FROM events ORDER BY event_id"
    )
    k = next(i for i, r in enumerate(rows) if r[1] == "A" and r[4] == "close")
    prev, updates = rows[k - 1][-1], []
    for i, row in enumerate(rows[k:]):
        fields = list(row[1:12])
        if i == 0:
            fields[2] = "局长"  # who closed it
        digest = chain_hash(prev, fields)
        updates.append((fields[2], prev, digest, row[0]))
        prev = digest
    with triggers_off(location):
        for values in updates:
            raw_sql(
                location,
                "UPDATE events SET actor = ?, prev_hash = ?, hash = ? WHERE event_id = ?",
                values,
            )
    rewind_head(location)
    assert story.verify() == []  # an unkeyed chain rewritten whole is consistent in itself
    where = "hetu-export.log 第 3 行"
    assert story.verify(anchors=[(head.full, where)]) == [
        f"链首校验码 {head.full}（{where}）：第 {head.count} 个事件的哈希不符，历史被改写"
    ]


@pytest.mark.parametrize(
    ("backend", "attack", "expected", "update_works"),
    [
        (
            "gpkg",
            [
                "DROP TRIGGER events_no_update",
                "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT 1; END",
            ],
            "触发器 events_no_update 的定义与河图建立的不符",
            True,
        ),
        (
            "gpkg",
            [
                "DROP TRIGGER events_no_delete",
                "CREATE TRIGGER events_no_delete AFTER INSERT ON patches BEGIN SELECT 1; END",
            ],
            "触发器 events_no_delete 的定义与河图建立的不符",
            False,
        ),
        (
            "gpkg",
            ["CREATE TRIGGER events_undo AFTER INSERT ON events BEGIN SELECT 1; END"],
            "events 表上有河图未建立的触发器 events_undo",
            False,
        ),
        (
            "postgis",
            [
                "CREATE OR REPLACE FUNCTION events_no_update_refuse() RETURNS trigger"
                " LANGUAGE plpgsql AS $f$ BEGIN RETURN NEW; END $f$"
            ],
            "触发器 events_no_update 调用的函数 events_no_update_refuse 被改写",
            True,
        ),
        (
            "postgis",
            ["ALTER TABLE events DISABLE TRIGGER events_no_update"],
            "触发器 events_no_update 被停用",
            True,
        ),
        (
            "postgis",
            ["ALTER TABLE events ENABLE REPLICA TRIGGER events_no_update"],
            "触发器 events_no_update 被停用",
            True,
        ),
        (
            "postgis",
            [
                "DROP TRIGGER events_no_update ON events",
                "CREATE TRIGGER events_no_update AFTER INSERT ON events FOR EACH ROW"
                " EXECUTE FUNCTION events_no_update_refuse()",
            ],
            "触发器 events_no_update 的定义与河图建立的不符",
            True,
        ),
        (
            "postgis",
            ["ALTER TABLE events DISABLE TRIGGER events_db_user"],
            "触发器 events_db_user 被停用",
            False,
        ),
    ],
)
def test_guards_replaced_by_no_ops_or_disabled(
    request, tmp_path, backend, attack, expected, update_works
):
    location = (
        request.getfixturevalue("postgres").new_database()
        if backend == "postgis"
        else (tmp_path / "ledger.gpkg")
    )
    led = _ledger(location)
    led.transition("A", "verifying", actor="t", at="2025-08-02T09:00")
    assert led.verify() == []
    for sql in attack:
        raw_sql(location, sql)
    if update_works:  # the attack did open the history to edits
        raw_sql(location, "UPDATE events SET actor = '别人' WHERE patch_id = 'A'")
    problems = led.verify()
    assert any(p.startswith(expected) for p in problems), problems
    led.close()


def test_a_forged_close_without_photos_breaks_the_evidence_rule(story):
    location = story.location
    last = raw_sql(location, "SELECT hash FROM events ORDER BY event_id DESC LIMIT 1")[0][0]
    row = [
        "C",
        "2025-09-30T09:00:00+08:00",
        "验收组",
        "close",
        "rectified",
        "closed",
        None,
        None,
        None,
    ]
    raw_sql(
        location,
        "INSERT INTO events (patch_id, at, actor, action, from_state, to_state,"
        " deadline, note, evidence, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [*row, last, event_hash(last, row)],
    )
    rewind_head(location)
    assert story.patches().set_index("patch_id").loc["C", "state"] == "closed"
    (problem,) = story.verify()
    assert re.fullmatch(
        r"事件 \d+（图斑 C）：转为“已销号”时没有所需佐证（整改后照片、整改前照片），不合佐证规则",
        problem,
    )


def test_a_redefined_patch_state_view(story):
    raw_sql(story.location, "DROP VIEW patch_state")
    raw_sql(
        story.location,
        "CREATE VIEW patch_state AS SELECT patch_id, 'closed' AS state,"
        " at AS state_since, deadline FROM events",
    )
    problems = story.verify()
    assert problems[0] == "视图 patch_state 的定义被改动：图斑的当前状态不再由事件推出"
    assert problems[1].startswith("视图 patch_state 给出的状态与事件不符：")


def _move_5km(location):
    if _pg(location):
        raw_sql(
            location, "UPDATE patches SET geom = ST_Translate(geom, 0.05, 0) WHERE patch_id = 'B'"
        )
        return
    (blob,) = raw_sql(location, "SELECT geom FROM patches WHERE patch_id = 'B'")[0]
    moved = shapely.affinity.translate(gpkg_blobs.from_blobs([blob])[0], xoff=0.05)
    raw_sql(
        location,
        "UPDATE patches SET geom = ? WHERE patch_id = 'B'",
        [gpkg_blobs.to_blobs([moved], srs_id=4490)[0]],
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_move_5km, "图斑 B 的内容与链上记录不符（被改动）"),
        (
            "UPDATE patches SET issue_type = 'other' WHERE patch_id = 'B'",
            "图斑 B 的内容与链上记录不符（被改动）",
        ),
        (
            "UPDATE patches SET issued_on = '2025-09-30' WHERE patch_id = 'B'",
            "图斑 B 的内容与链上记录不符（被改动）",
        ),
        (
            "UPDATE patches SET description = '已整改' WHERE patch_id = 'B'",
            "图斑 B 的内容与链上记录不符（被改动）",
        ),
        ("DELETE FROM patches WHERE patch_id = 'B'", "图斑 B 被删除（链上有记录，表中没有）"),
        (
            "UPDATE chiefs SET phone = '13900000000' WHERE chief_id = 'HZ002'",
            "河长 HZ002（河段 439999000001） 的内容与链上记录不符（被改动）",
        ),
        (
            "DELETE FROM segments WHERE segment_id = '439999000002'",
            "河段 439999000002 被删除（链上有记录，表中没有）",
        ),
        ("DELETE FROM evidence WHERE kind = 'photo_after'", "佐证 A 整改后照片 "),
        ("UPDATE attachments SET lon = 113.5 WHERE filename = 'after.jpg'", "附件记录 "),
    ],
)
def test_rows_edited_moved_or_deleted_are_named(story, change, expected):
    if callable(change):
        change(story.location)
    else:
        raw_sql(story.location, change)
    problems = story.verify()
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_rows_added_behind_hetus_back_are_named(story):
    raw_sql(
        story.location,
        "INSERT INTO evidence (patch_id, attachment_id, kind, checks, actor,"
        " added_at) SELECT 'C', attachment_id, 'photo_after', 'null', '某人', '2025-09-30'"
        " FROM attachments LIMIT 1",
    )
    (problem,) = story.verify()
    assert problem.startswith("佐证 C 整改后照片 ") and problem.endswith("不在链上（绕过河图写入）")


def test_files_overwritten_or_deleted_are_named(story):
    ev = story.evidence().set_index("kind")
    after = story.attachment_path(ev.loc["photo_after", "attachment_id"])
    before_sha = ev.loc["photo_before", "attachment_id"]
    after.write_bytes(b"not the photo that was taken")
    story.attachment_path(before_sha).unlink()
    problems = story.verify()
    assert problems == [
        f"附件文件 {before_sha[:12]}（before.jpg）不在附件库 {story.attachments_dir} 中"
        "（被删除或移走）",
        f"附件文件 {after} 的内容与其 sha256 不符（被覆盖或改动）",
    ]


def test_every_event_deleted(story):
    with triggers_off(story.location):
        raw_sql(story.location, "DELETE FROM events")
    rewind_head(story.location)
    problems = story.verify()
    assert problems[0] == "台账有 12 行图斑、河段、河长或佐证，却没有任何事件：事件被整体删除"
    assert "图斑 A 不在链上（绕过河图写入）" in problems
    assert not any("history intact" in p for p in problems)


def test_many_problems_are_counted_not_flooded(location):
    led = _ledger(location, ids=[f"P{i:02d}" for i in range(SHOWN + 5)])
    raw_sql(location, "UPDATE patches SET description = '改'")
    problems = led.verify()
    assert len(problems) == SHOWN + 1 and problems[-1] == "……另有 5 处同类问题未逐条列出"
    led.close()


def test_an_old_ledger_gets_a_baseline_and_keeps_every_id_and_hash(location, tmp_path, monkeypatch):
    """A ledger written before 0006 (events without digests or users) upgrades and verifies."""
    import geo.ledger.store as store

    def old_append(self, conn, rows):  # what Hetu wrote before content digests
        last = conn.execute("SELECT hash FROM events ORDER BY event_id DESC LIMIT 1").fetchone()
        prev, out = last[0] if last else None, []
        for row in [r[:9] for r in rows if r[0] != LEDGER_ID]:
            out.append((*row, prev, event_hash(prev, row)))
            prev = out[-1][-1]
        conn.executemany(
            "INSERT INTO events (patch_id, at, actor, action, from_state, to_state,"
            " deadline, note, evidence, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            out,
        )
        conn.events_written()

    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", MIGRATIONS[:5])
        m.setattr(Ledger, "append_events", old_append)
        m.setattr(Ledger, "stored_settings", lambda self: None)
        m.setattr("geo.ledger.changes.with_content", lambda conn, events: events)
        build_story(location, tmp_path).close()
    old = raw_sql(
        location, "SELECT event_id, patch_id, prev_hash, hash FROM events ORDER BY event_id"
    )
    applied = {r[0] for r in raw_sql(location, "SELECT name FROM hetu_migrations")}
    assert len(old) == 15 and applied == {m[0] for m in MIGRATIONS[:5]}
    with Ledger(location) as led:
        assert led.schema_version == MIGRATIONS[-1][0]
        now = raw_sql(
            location,
            "SELECT event_id, patch_id, prev_hash, hash, action, actor, content"
            " FROM events ORDER BY event_id",
        )
        assert [r[:4] for r in now[: len(old)]] == old  # every id and hash kept
        (baseline,) = now[len(old) :]
        assert baseline[1:2] == (LEDGER_ID,) and baseline[4:6] == ("baseline", "系统")
        assert {t: len(r) for t, r in json.loads(baseline[6]).items()} == {
            "patches": 3,
            "segments": 2,
            "chiefs": 5,
            "evidence": 2,
            "attachments": 2,
        }
        assert led.verify() == []
        raw_sql(location, "UPDATE patches SET issue_type = 'other' WHERE patch_id = 'C'")
        raw_sql(location, "DELETE FROM chiefs WHERE chief_id = 'HZ004'")
        assert led.verify() == [
            "图斑 C 的内容与链上记录不符（被改动）",
            "河长 HZ004（河段 439999000002） 被删除（链上有记录，表中没有）",
        ]


def test_anchors_from_a_code_or_an_export_log(tmp_path):
    assert read_anchors(" 12-3F9A2C7E1B ") == [("12-3f9a2c7e1b", "--anchor")]
    log = tmp_path / "hetu-export.log"
    log.write_text(
        '{"status": "failed"}\nnot json\n{"chain_head": "5-' + "a" * 64 + '"}\n', encoding="utf-8"
    )
    assert read_anchors(str(log)) == [("5-" + "a" * 64, "hetu-export.log 第 3 行")]
    with pytest.raises(SchemaError, match="neither a chain head"):
        read_anchors("12-xyz")
    log.write_text('{"status": "ok"}\n', encoding="utf-8")
    with pytest.raises(SchemaError, match="no line of this log holds a chain_head"):
        read_anchors(str(log))


def test_exports_print_the_chain_head_and_verify_checks_it(location, tmp_path):
    led = build_story(location, tmp_path)
    log = tmp_path / "hetu-export.log"
    result = export_ledger(led, tmp_path / "out", as_of="2025-09-30", log_file=log)
    head = led.chain_head()
    entry = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    assert entry["chain_head"] == result.chain_head == head.full
    assert led.exports()["chain_head"].tolist() == [head.full]
    title = openpyxl.load_workbook(result.xlsx)["汇总"]["A1"].value
    assert f"链首校验码 {head.code}" in title
    env = {"LEDGER": str(location), "HETU_ATTACHMENTS": str(led.attachments_dir)}
    runner = CliRunner()
    ok = runner.invoke(cli, ["verify", "env:LEDGER", "--anchor", str(log)], env=env)
    assert ok.exit_code == 0, ok.output
    assert f"链首校验码 {head.full} 仍在历史中（第 {head.count} 个事件）" in ok.output
    assert "history intact 台账历史完整" in ok.output
    with triggers_off(location):
        raw_sql(location, "DELETE FROM events WHERE event_id = (SELECT max(event_id) FROM events)")
    rewind_head(location)
    raw_sql(location, "DELETE FROM exports")
    bad = runner.invoke(cli, ["verify", "env:LEDGER", "--anchor", str(log)], env=env)
    assert bad.exit_code == 1 and "history intact" not in bad.output
    assert bad.output.strip().splitlines()[-1] == (
        f"链首校验码 {head.full}（hetu-export.log 第 1 行）：台账只有 "
        f"{head.count - 1} 个事件，其后的事件被删除"
    )
    led.close()


def test_notices_print_the_chain_head_and_the_demo_verifies(demo_copy, tmp_path):
    from geo.reports.escalation import escalate

    runner = CliRunner()
    ok = runner.invoke(cli, ["verify", str(demo_copy)])
    assert ok.exit_code == 0 and "history intact" in ok.output, ok.output
    with Ledger(demo_copy) as led:
        head = led.chain_head()
        result = escalate(led, as_of="2026-06-01", out_dir=tmp_path / "notices", pdf=False)
        assert result.documents
        for doc in result.documents:
            assert f"台账链首校验码 {head.code}。" in doc.read_text(encoding="utf-8")
        assert led.verify() == []  # the notices' events are chained and covered too


def test_postgis_records_the_database_user_and_roles_limit_what_each_may_do(
    postgres, tmp_path, monkeypatch
):
    url = postgres.new_database()
    monkeypatch.setenv("HETU_ATTACHMENTS", str(tmp_path / "files"))
    led = build_story(url, tmp_path)
    assert set(led.events()["db_user"]) == {"postgres"}  # stamped, not typed by anyone
    printed = CliRunner().invoke(cli, ["roles", "env:URL", "--print"], env={"URL": url})
    assert printed.exit_code == 0 and "CREATE ROLE hetu_viewer NOLOGIN" in printed.output
    assert (
        "REVOKE UPDATE, DELETE, TRUNCATE ON events FROM hetu_viewer, hetu_clerk;" in printed.output
    )
    assert role_statements(led) == create_roles(led) and create_roles(led)  # runs twice
    name = url.rsplit("/", 1)[1]
    raw_sql(url, f"CREATE ROLE v_{name} LOGIN IN ROLE hetu_viewer")
    raw_sql(url, f"CREATE ROLE c_{name} LOGIN IN ROLE hetu_clerk")
    viewer, clerk = (url.replace("postgres@", f"{who}_{name}@") for who in ("v", "c"))
    with Ledger(viewer) as v:
        assert len(v.patches()) == 3 and v.verify() == []  # a viewer reads and verifies
        with pytest.raises(LedgerError, match=f"database user v_{name} may not do this") as err:
            v.transition("B", "confirmed", actor="冒名", at="2025-09-23T09:00")
        assert "permission denied" in str(err.value) and "\n" not in str(err.value)
    refused = CliRunner().invoke(
        cli,
        ["transition", "env:URL", "B", "--to", "confirmed", "--actor", "冒名"],
        env={"URL": viewer},
    )
    errors = [line for line in refused.output.splitlines() if not line.startswith("警告")]
    assert refused.exit_code == 1 and len(errors) == 1 and errors[0].startswith("Error: ")
    assert "permission denied" in refused.output and "Traceback" not in refused.output
    with Ledger(clerk) as c:
        c.transition("B", "confirmed", actor="张三", at="2025-09-23T09:00")
        assert c.events("B")["db_user"].iloc[-1] == f"c_{name}"
    with psycopg.connect(clerk, autocommit=True) as conn:
        for sql in (
            "UPDATE events SET actor = 'x'",
            "DELETE FROM events",
            "TRUNCATE events",
            "UPDATE patches SET issue_type = 'x'",
            "DELETE FROM evidence",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
        last = conn.execute("SELECT hash FROM events ORDER BY event_id DESC LIMIT 1").fetchone()[0]
        conn.execute(
            "INSERT INTO events (patch_id, at, actor, action, from_state, to_state,"
            " db_user, prev_hash, hash) VALUES ('B', '2025-09-24T09:00:00+08:00', '局长',"
            " 'reminder', 'confirmed', 'confirmed', 'postgres', %s, 'x')",
            [last],
        )
    assert led.events("B")["db_user"].iloc[-1] == f"c_{name}"  # the database said who, not them
    assert led.verify() != []
    led.close()


def test_roles_need_postgis(tmp_path):
    led = Ledger.create(tmp_path / "l.gpkg")
    result = CliRunner().invoke(cli, ["roles", str(tmp_path / "l.gpkg")])
    assert result.exit_code == 1 and "roles exist only on a PostGIS ledger" in result.output
    led.close()


def test_a_chain_key_kept_outside_makes_a_rewrite_without_it_show(location, monkeypatch):
    led = _ledger(location)  # events 1-3 written before the office had a key: plain hashes
    monkeypatch.setenv("HETU_CHAIN_KEY", "县河长办-2026")
    led.transition(["A", "B"], "verifying", actor="核查员", at="2025-08-02T09:00")
    led.transition("A", "confirmed", actor="科长", at="2025-08-03T09:00")
    hashes = [r[0] for r in raw_sql(location, "SELECT hash FROM events ORDER BY event_id")]
    assert [h.startswith("hmac:") for h in hashes] == [False] * 3 + [True] * 3
    assert led.verify() == [] and re.fullmatch(r"6-[0-9a-f]{10}", led.chain_head().code)
    monkeypatch.delenv("HETU_CHAIN_KEY")
    result = verify_ledger(led)  # a viewer without the key: checked as far as it can be
    assert result.problems == []
    assert result.notes == ["3 个事件以办公室链密钥签名；设置 HETU_CHAIN_KEY 后才能核对这些签名"]
    last = raw_sql(location, f"SELECT event_id, {FIELDS}, prev_hash FROM events WHERE event_id = 6")
    fields = [*last[0][1:12]]
    fields[2] = "局长"  # who confirmed it, re-hashed by someone without the key
    unkeyed = "事件 6（图斑 A）：在以链密钥签名的事件之后却未签名（由没有密钥的人写入或改写）"
    forged = "事件 6（图斑 A）：签名与办公室链密钥不符（内容被改动，或 HETU_CHAIN_KEY 不对）"
    for digest, problem in [
        (chain_hash(last[0][12], fields), unkeyed),
        ("hmac:" + chain_hash(last[0][12], fields), forged),  # the mark alone proves nothing
    ]:
        with triggers_off(location):
            raw_sql(
                location, "UPDATE events SET actor = '局长', hash = ? WHERE event_id = 6", [digest]
            )
        rewind_head(location)
        assert led.verify() == []  # without the key the rewrite holds together
        monkeypatch.setenv("HETU_CHAIN_KEY", "县河长办-2026")
        assert led.verify() == [problem]
        wrong = verify_ledger(led, key="别的密钥".encode()).problems
        assert wrong[:2] == [
            f"事件 {i}（图斑 {p}）：签名与办公室链密钥不符（内容被改动，或 HETU_CHAIN_KEY 不对）"
            for i, p in ((4, "A"), (5, "B"))
        ]
        monkeypatch.delenv("HETU_CHAIN_KEY")
    led.close()
