"""Who may do what on a PostGIS ledger (``hetu roles``): a viewer, a clerk and an owner.

Three group roles (``NOLOGIN``; the database administrator grants them to people's
own logins, ``GRANT hetu_clerk TO zhang;``), so every event records a real person
(``events.db_user``, stamped by the database) and the history cannot be edited
by anyone who only records changes:

- ``hetu_viewer`` reads every table and the ``patch_state`` view, nothing more;
- ``hetu_clerk`` (a viewer too) ingests, matches, moves patches, attaches evidence
  and records exports: INSERT where Hetu inserts, UPDATE only where Hetu upserts
  (the chiefs list, imagery, the chain head's lock row), DELETE only on the results
  ``hetu match`` replaces — never UPDATE, DELETE or TRUNCATE on ``events``,
  ``patches``, ``segments``, ``evidence`` or ``attachments``;
- ``hetu_owner`` (a clerk too) owns the ledger's tables, view and trigger
  functions: it migrates the schema, stores the office settings, copies the ledger.

The statements are idempotent: run ``hetu roles`` again after an upgrade adds tables.
A GeoPackage has no users; its protection is the file's permissions.
"""

from __future__ import annotations

from typing import Any

from geo.errors import LedgerError
from geo.ledger.db import expected_triggers
from geo.ledger.transfer import ledger_tables

__all__ = ["CLERK", "OWNER", "VIEWER", "create_roles", "role_statements"]

VIEWER, CLERK, OWNER = "hetu_viewer", "hetu_clerk", "hetu_owner"
#: Tables Hetu writes only through an owner (the office settings' versions).
_OWNER_ONLY = frozenset({"office_settings"})
#: Tables whose rows Hetu updates in place (upserts) besides the chain head's lock row.
_UPSERTED = ("hetu_head", "chiefs", "imagery")
#: Results ``hetu match`` replaces whole.
_REPLACED = ("assignments", "patch_links", "finding_links", "patch_areas")


def role_statements(ledger: Any) -> list[str]:
    """The SQL that creates the three roles and grants them their rights on ``ledger``.

    Parameters
    ----------
    ledger : Ledger
        An open PostGIS ledger (its schema is the one the statements name).

    Returns
    -------
    list of str
        One statement each, in order.

    Raises
    ------
    LedgerError
        For a GeoPackage ledger.
    """
    conn = ledger._conn
    if conn.kind != "postgis":
        raise LedgerError(
            f"{ledger.name}: roles exist only on a PostGIS ledger; a GeoPackage is protected "
            "by its file's permissions (give the analysts read-only access to the folder)"
        )
    schema = conn.execute(
        "SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = to_regclass('events')"
    ).fetchone()[0]
    present = {t for t, _key in ledger_tables() if conn.has_table(t)}
    tables = sorted(present | {"hetu_migrations", "hetu_head"})
    written = [t for t in sorted(present) if t not in _OWNER_ONLY]
    create = " ".join(
        f"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN"
        f" CREATE ROLE {role} NOLOGIN; END IF;"
        for role in (VIEWER, CLERK, OWNER)
    )
    functions = sorted({sql.split("EXECUTE FUNCTION ")[1] for _t, sql, _b in
                        expected_triggers("postgis").values()})  # fmt: skip
    return [
        f"DO $$ BEGIN {create} END $$",
        f"GRANT {VIEWER} TO {CLERK}",
        f"GRANT {CLERK} TO {OWNER}",
        f"GRANT {OWNER} TO CURRENT_USER",
        f"GRANT USAGE ON SCHEMA {schema} TO {VIEWER}",
        f"GRANT SELECT ON {', '.join([*tables, 'patch_state'])} TO {VIEWER}",
        f"GRANT INSERT ON {', '.join(written)} TO {CLERK}",
        f"GRANT UPDATE ON {', '.join(t for t in _UPSERTED if t in tables)} TO {CLERK}",
        f"GRANT DELETE ON {', '.join(t for t in _REPLACED if t in present)} TO {CLERK}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON events FROM {VIEWER}, {CLERK}",
        f"GRANT ALL ON {', '.join(tables)} TO {OWNER}",
        *(f"ALTER TABLE {t} OWNER TO {OWNER}" for t in tables),
        f"ALTER VIEW patch_state OWNER TO {OWNER}",
        *(f"ALTER FUNCTION {f} OWNER TO {OWNER}" for f in functions),
    ]


def create_roles(ledger: Any) -> list[str]:
    """Create the roles and grant their rights on ``ledger`` in one transaction; return the SQL.

    Raises
    ------
    LedgerError
        For a GeoPackage, or when the database user may not create roles or
        grant on the ledger's tables (naming the refusal; nothing is changed).
    """
    statements = role_statements(ledger)
    with ledger.transaction() as conn:
        for statement in statements:
            conn.execute(statement)
    return statements
