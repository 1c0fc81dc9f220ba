"""The read side of the ledger: frames of patches, segments, events and the status.

:class:`LedgerReads` is mixed into :class:`geo.ledger.store.Ledger`; it only reads,
through the ledger's connection, and derives what is never stored (the
current state, deadlines, overdue days, the chief chain).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.clock import as_date
from geo.errors import HetuError
from geo.ledger.chiefs import chief_chain
from geo.ledger.schema import CHIEF_COLUMNS, STATUS_COLUMNS
from geo.policy.lifecycle import Lifecycle, overdue_days, replay
from geo.records import event_hash
from geo.settings import Settings

STORAGE_EPSG = 4490


class LedgerReads:
    """Read methods of the ledger (see :class:`geo.ledger.store.Ledger`)."""

    _conn: Any
    settings: Settings
    lifecycle: Lifecycle
    attachments_dir: Path

    def _frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        cur = self._conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=names)

    def _features(self, table: str, where: str = "") -> gpd.GeoDataFrame:
        df = self._frame(f"SELECT * FROM {table} {where} ORDER BY fid")
        geoms = self._conn.decode(df.pop("geom")) if len(df) else []
        return gpd.GeoDataFrame(df.drop(columns="fid"), geometry=geoms, crs=STORAGE_EPSG)

    def patches(self) -> gpd.GeoDataFrame:
        """All patches with their current ``state``, ``state_since`` and ``deadline``."""
        gdf = self._features("patches").drop(columns=["import_id"])
        state = self._frame("SELECT * FROM patch_state")
        return gdf.merge(state, on="patch_id", how="left")

    def segments(self) -> gpd.GeoDataFrame:
        """The management-range segments."""
        return self._features("segments").drop(columns=["import_id"])

    def chiefs(self) -> pd.DataFrame:
        """The chiefs, one row per chief and segment."""
        return self._frame("SELECT * FROM chiefs ORDER BY fid").drop(columns=["fid", "import_id"])

    def events(self, patch_id: str | None = None) -> pd.DataFrame:
        """The event log (of one patch, or all), oldest first."""
        if patch_id is None:
            return self._frame("SELECT * FROM events ORDER BY event_id")
        return self._frame("SELECT * FROM events WHERE patch_id = ? ORDER BY event_id", [patch_id])

    def assignments(self) -> pd.DataFrame:
        """The last matching result."""
        df = self._frame("SELECT * FROM assignments ORDER BY fid").drop(columns=["fid"])
        return df.rename(columns={"is_primary": "primary"}).astype({"primary": bool})

    def imports(self) -> pd.DataFrame:
        """Every ingest, with its decisions."""
        return self._frame("SELECT * FROM imports ORDER BY import_id")

    def quarantined(self) -> pd.DataFrame:
        """Features kept aside at ingest, with their reasons."""
        return self._frame("SELECT * FROM quarantine ORDER BY fid")

    def tracks(self) -> gpd.GeoDataFrame:
        """Survey and patrol tracks."""
        return self._features("survey_tracks")

    def findings(self) -> gpd.GeoDataFrame:
        """Survey findings (points)."""
        return self._features("survey_findings")

    def status_counts(self) -> dict[str, int]:
        """Patches per current state, every lifecycle state present (zeros included)."""
        counts = dict.fromkeys(self.lifecycle.states, 0)
        for state, n in self._conn.execute(
            "SELECT state, count(*) FROM patch_state GROUP BY state"
        ):
            counts[state] = n
        return counts

    def status_frame(self, *, as_of: dt.date | str | None = None) -> gpd.GeoDataFrame:
        """One row per patch with its state, deadline, segment and chief chain.

        This is the frame the map and the exports draw from (columns listed in
        :data:`STATUS_COLUMNS`).

        Parameters
        ----------
        as_of : date or str, optional
            The day overdue days are counted to (default today, Asia/Shanghai).

        Returns
        -------
        GeoDataFrame
            In EPSG:4490.
        """
        day = as_date(as_of)
        gdf = self.patches()
        primary = self._frame(
            "SELECT patch_id, segment_id, range_id, relation, share, distance_m"
            " FROM assignments WHERE is_primary = 1"
        )
        segs = self._frame("SELECT segment_id, water_name, segment_name FROM segments")
        gdf = gdf.merge(primary, on="patch_id", how="left").merge(segs, on="segment_id", how="left")
        chain = self._chief_chain()
        gdf = gdf.merge(chain, on="segment_id", how="left")
        for col in CHIEF_COLUMNS:
            gdf[col] = gdf[col].fillna("") if col in gdf.columns else ""
        gdf["township"] = [self.settings.township_name(c) for c in gdf["admin_code"]]
        cal = self.settings.calendar
        gdf["overdue_days"] = [
            overdue_days(d, s, day, calendar=cal)
            for d, s in zip(gdf["deadline"], gdf["state"], strict=True)
        ]
        return gdf[STATUS_COLUMNS].copy()

    def _chief_chain(self) -> pd.DataFrame:
        return chief_chain(self.chiefs())

    def patch_row(self, patch_id: str) -> dict[str, Any] | None:
        """One patch as a dict (geometry a shapely object), or ``None`` if unknown."""
        df = self._frame("SELECT * FROM patches WHERE patch_id = ?", [patch_id])
        if df.empty:
            return None
        row = df.iloc[0].to_dict()
        row["geometry"] = self._conn.decode([row.pop("geom")])[0]
        return row

    def evidence(self, patch_id: str | None = None) -> pd.DataFrame:
        """Evidence attached to patches, with the files' EXIF time, position and checks."""
        sql = (
            "SELECT e.patch_id, e.kind, e.attachment_id, a.filename, a.media_type, a.taken_at,"
            " a.lon, a.lat, e.checks, e.actor, e.added_at FROM evidence e"
            " JOIN attachments a USING (attachment_id)"
        )
        if patch_id is None:
            return self._frame(sql + " ORDER BY e.fid")
        return self._frame(sql + " WHERE e.patch_id = ? ORDER BY e.fid", [patch_id])

    def open_count(self) -> int:
        """Patches not yet cleared (动态清零 counts these down to zero)."""
        counts = self.status_counts()
        return sum(n for state, n in counts.items() if self.lifecycle.is_open(state))

    def verify(self) -> list[str]:
        """Check the history: the hash chain, no deleted events, the triggers, the lifecycle.

        Returns
        -------
        list of str
            Every problem found; empty when the history is intact.
        """
        problems = []
        triggers = self._conn.trigger_names()
        for name in ("events_no_update", "events_no_delete"):
            if name not in triggers:
                problems.append(f"trigger {name} is missing: the event log was made editable")
        rows = self._conn.execute(
            "SELECT event_id, patch_id, at, actor, action, from_state, to_state, deadline, note,"
            " evidence, prev_hash, hash FROM events ORDER BY event_id"
        ).fetchall()
        last = self._conn.last_event_id()
        gapless = self._conn.gapless_ids
        prev, expected_id = None, 1
        for row in rows:
            if gapless and row[0] != expected_id:
                problems.append(f"events {expected_id}–{row[0] - 1} are missing (deleted)")
            if row[10] != prev:
                problems.append(f"event {row[0]}: its link to the previous event is broken")
            if row[11] != event_hash(row[10], row[1:10]):
                problems.append(f"event {row[0]} ({row[1]}): its content was changed")
            prev, expected_id = row[11], row[0] + 1
        if last is not None and last >= expected_id:
            problems.append(f"events {expected_id}–{last} at the end are missing (deleted)")
        elif not gapless and rows and last != rows[-1][0]:
            problems.append(
                f"events after {last} were written outside Hetu (the chain head is {last})"
            )
        if not problems:
            try:
                replay(((r[1], r[5], r[6]) for r in rows), self.lifecycle)
            except HetuError as exc:
                problems.append(f"the events do not follow the lifecycle: {exc}")
        return problems

    def imagery(self, patch_id: str | None = None) -> pd.DataFrame:
        """Imagery chips and change indicators per patch (see ``Ledger.replace_imagery``)."""
        if patch_id is None:
            return self._frame("SELECT * FROM imagery ORDER BY fid").drop(columns=["fid"])
        sql = "SELECT * FROM imagery WHERE patch_id = ? ORDER BY fid"
        return self._frame(sql, [patch_id]).drop(columns=["fid"])

    def attachment_path(self, attachment_id: str) -> Path | None:
        """Where an attachment's file is stored, or None when it is not in the store."""
        folder = self.attachments_dir / attachment_id[:2]
        found = sorted(folder.glob(f"{attachment_id}*")) if folder.is_dir() else []
        return found[0] if found else None

    def finding_links(self) -> pd.DataFrame:
        """Survey findings linked to the patches they were found at (``hetu match``)."""
        return self._frame("SELECT * FROM finding_links ORDER BY fid").drop(columns=["fid"])

    def exports(self) -> pd.DataFrame:
        """The scheduled exports recorded (see ``Ledger.record_export``), oldest first."""
        return self._frame("SELECT * FROM exports ORDER BY export_id")

    def links(self) -> pd.DataFrame:
        """Links between patches across batches (see :meth:`replace_links`)."""
        return self._frame("SELECT * FROM patch_links ORDER BY fid").drop(columns=["fid"])
