"""What the ledger keeps about the office itself: its settings and its administrative areas.

**Settings** (migration ``0007_office_settings``). The office's ``hetu.toml`` is
stored in the ledger, so every command that opens the ledger, from any folder,
cron job or colleague's machine, works with the same office name, townships,
calendar, deadline and evidence rules. Each :meth:`LedgerOffice.store_settings`
appends a version to the table ``office_settings`` (version, time, the file it
came from, the folder relative paths resolve against, the sha256 of the text,
the text itself, who stored it); triggers refuse UPDATE and DELETE there, as on
the events. The current settings are the latest version; reading them checks the
text against its sha256. They are a table of their own rather than events:
events belong to a patch and are replayed through the lifecycle, while the
settings belong to no patch and must be readable before the lifecycle they
define is known.

Paths inside the stored text (templates, column map, profile) resolve against
the folder the file was stored from (kept with the version), because the
office keeps its templates there, a template may extend another file beside it,
and a province ``.xlsx`` template is not text; storing checks that every such
file exists, and a version stored from another folder follows the files.

**Administrative areas** (migration ``0008_admin_areas``). Township and village
boundaries (乡镇界, 村界; ``hetu ingest LEDGER admin FILE``) with their codes and
names: they name the townships the settings lack, and ``hetu match`` places each
patch in the area it overlaps most (``patch_areas``), for patches whose own code
and segment say nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.clock import now
from geo.errors import BatchConflictError, LedgerError, SettingsError
from geo.records import ImportRecord, none_if_nan
from geo.settings import Settings, settings_file_text, settings_files, settings_from_text

__all__ = ["LedgerOffice", "StoredSettings", "read_settings_file", "text_sha256"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredSettings:
    """One stored version of the office settings.

    Attributes
    ----------
    version : int
        1, 2, … in the order stored.
    stored_at : str
        When (ISO, Asia/Shanghai).
    source : str
        The file it was stored from (absolute).
    folder : str
        The folder relative paths in it resolve against.
    sha256 : str
        Of ``text`` (UTF-8).
    text : str
        The TOML text, as the file held it.
    actor : str
        Who stored it.
    """

    version: int
    stored_at: str
    source: str
    folder: str
    sha256: str
    text: str
    actor: str


def text_sha256(text: str) -> str:
    """The hex sha256 of a text (UTF-8): how a stored settings version is identified."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_settings_file(path: str | Path) -> tuple[Path, str, Settings]:
    """Read and check a settings file: its absolute path, its text and the settings.

    Raises
    ------
    SettingsError
        If the file is missing, not UTF-8 TOML, holds a bad value (naming the
        table and key), or names a template or profile that does not exist.
    """
    p = Path(path).resolve()
    text = settings_file_text(p)
    settings = settings_from_text(text, source=str(p))
    for key, named in settings_files(settings).items():
        if not Path(named).is_file():
            raise SettingsError(
                f"{p}: {key} names {named}, which does not exist; put the file there, correct "
                "the path (relative paths count from the settings file's folder) or delete the line"
            )
    return p, text, settings


class LedgerOffice:
    """Methods of the ledger for its office settings and administrative areas.

    Mixed into :class:`geo.ledger.store.Ledger`.
    """

    _conn: Any
    name: str
    settings: Settings
    lifecycle: Any
    # and, from the ledger and its reads: transaction, _write_import, _insert_features,
    # _features, _frame

    # -- settings ---------------------------------------------------------------------------

    def store_settings(self, path: str | Path, *, actor: str = "hetu") -> int:
        """Store the settings file as the ledger's current settings; return its version.

        The file is checked first (strictly, as :func:`geo.settings.load_settings`
        does, and every template or profile it names must exist); nothing is
        stored when it fails. Storing the same text from the same folder again
        stores nothing and returns the current version. The open ledger uses the
        new settings from now on.

        Parameters
        ----------
        path : path-like
            The ``hetu.toml``.
        actor : str
            Who stores it (recorded).

        Returns
        -------
        int
            The version now current.

        Raises
        ------
        SettingsError
            If the file is missing or its settings are not valid.
        """
        p, text, settings = read_settings_file(path)
        digest = text_sha256(text)
        current = self.settings_record()
        if current is not None and (current.sha256, current.folder) == (digest, str(p.parent)):
            self.use_settings(self.stored_settings() or settings)
            return current.version
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO office_settings (stored_at, source, folder, sha256, text, actor)"
                " VALUES (?,?,?,?,?,?) RETURNING version",
                (now().isoformat(), str(p), str(p.parent), digest, text, actor),
            ).fetchone()
        version = int(row[0])
        log.info("%s: settings version %d stored from %s", self.name, version, p)
        self.use_settings(self.stored_settings() or settings)
        return version

    def settings_record(self) -> StoredSettings | None:
        """The current stored version of the settings, or ``None`` when none is stored.

        Raises
        ------
        LedgerError
            If the stored text no longer matches its sha256 (edited behind Hetu's back).
        """
        row = self._conn.execute(
            "SELECT version, stored_at, source, folder, sha256, text, actor FROM office_settings"
            " ORDER BY version DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        record = StoredSettings(*row[:6], actor=row[6] or "")
        if text_sha256(record.text) != record.sha256:
            raise LedgerError(
                f"{self.name}: stored settings version {record.version} do not match their "
                "sha256 (edited outside Hetu); store the office's hetu.toml again with "
                "`hetu settings LEDGER --set hetu.toml`"
            )
        return record

    def stored_settings(self) -> Settings | None:
        """The settings stored in the ledger (latest version), or ``None`` when none are."""
        record = self.settings_record()
        if record is None:
            return None
        where = f"{self.name} (settings v{record.version}, stored from {record.source})"
        return settings_from_text(record.text, source=where, base=record.folder)

    def settings_versions(self) -> pd.DataFrame:
        """Every stored version of the settings, oldest first (without their text)."""
        cur = self._conn.execute(
            "SELECT version, stored_at, source, folder, sha256, actor FROM office_settings"
            " ORDER BY version"
        )
        names = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=names)

    def use_settings(self, settings: Settings) -> None:
        """Work with ``settings`` (and their lifecycle) from now on; nothing is stored."""
        self.settings = settings
        self.lifecycle = settings.lifecycle

    # -- administrative areas -----------------------------------------------------------------

    def add_admin_areas(
        self,
        areas: gpd.GeoDataFrame,
        record: ImportRecord,
        *,
        quarantine: pd.DataFrame | None = None,
    ) -> ImportRecord:
        """Write township and village boundaries, all or nothing; refuse codes already stored.

        Parameters
        ----------
        areas : GeoDataFrame
            ``admin_code, name, level, attrs`` and polygons
            (:func:`geo.ingest.admin.admin_areas_from_file`).
        record : ImportRecord
            The import record.
        quarantine : DataFrame, optional
            Areas without a usable polygon, with their reasons.

        Returns
        -------
        ImportRecord
            With ``import_id`` set.
        """
        with self.transaction() as conn:
            known = {r[0] for r in conn.execute("SELECT admin_code FROM admin_areas")}
            clash = sorted(set(areas["admin_code"].astype(str)) & known)
            if clash:
                raise BatchConflictError(
                    f"{record.file}: area code(s) already in the ledger: {', '.join(clash[:20])}; "
                    "nothing was written. Leave them out of the file, or ingest the other level "
                    "on its own"
                )
            self._write_import(conn, record, quarantine)
            cols = ["admin_code", "name", "level", "attrs", "import_id"]
            self._insert_features(
                conn, "admin_areas", areas.assign(import_id=record.import_id), cols
            )
        return record

    def admin_areas(self) -> gpd.GeoDataFrame:
        """The township and village boundaries (``admin_code, name, level, attrs``)."""
        return self._features("admin_areas").drop(columns=["import_id"])

    def area_names(self) -> dict[str, str]:
        """Administrative code → name, from the stored boundaries."""
        rows = self._conn.execute("SELECT admin_code, name FROM admin_areas WHERE name IS NOT NULL")
        return {str(code): str(name) for code, name in rows}

    def replace_placements(self, placements: pd.DataFrame) -> int:
        """Replace the patches' places in the administrative areas (one transaction).

        Parameters
        ----------
        placements : DataFrame
            ``patch_id, admin_code, overlap_m2, share`` (:func:`geo.matching.areas.place_patches`).

        Returns
        -------
        int
            Rows written.
        """
        at = now().isoformat()
        cols = ["patch_id", "admin_code", "overlap_m2", "share"]
        rows = [[none_if_nan(v) for v in vals] + [at] for vals in placements[cols].to_numpy(object)]
        with self.transaction() as conn:
            conn.execute("DELETE FROM patch_areas")
            conn.executemany(conn.insert_sql("patch_areas", [*cols, "placed_at"]), rows)
        return len(rows)

    def placements(self) -> pd.DataFrame:
        """Where ``hetu match`` placed each patch among the administrative areas."""
        return self._frame("SELECT * FROM patch_areas ORDER BY fid").drop(columns=["fid"])
