"""The read side of the ledger: frames of patches, segments, events and the status.

:class:`LedgerReads` is mixed into :class:`geo.ledger.store.Ledger`; it only reads,
through the ledger's connection, and derives what is never stored (the
current state, deadlines, overdue days, the chief chain, the township).

**As of a day.** Every read a report draws from takes ``as_of``: the ledger
replayed to the end of that day (Asia/Shanghai), in this one place. Then
:meth:`~LedgerReads.patches` holds only the patches issued by then (their issue
event, dated by the issue date or, without one, the day they were ingested), with
the state, its time and the deadline of their events up to then;
:meth:`~LedgerReads.events` only the events up to then; :meth:`~LedgerReads.segments`
the segments imported by then and :meth:`~LedgerReads.chiefs` the chiefs known then
(see there: a ledger filled after the fact knows its first lists from the start);
:meth:`~LedgerReads.status_frame` and :meth:`~LedgerReads.status_summary` are built
from these.

**Townships.** The status frame's ``township`` is the patch's own code (9 or 12
digits), else its segment's, else the administrative area ``hetu match`` placed it
in (``hetu ingest LEDGER admin``), named from the settings' ``[townships]``, else
from the stored boundaries, else shown as the code; a patch none of these places
is :data:`geo.labels.TEXT` ``no_township`` (未明确乡镇), never blank or ``nan``.
``township_check`` names both townships when the patch's code and its segment's differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.clock import as_date
from geo.labels import TEXT
from geo.ledger.changes import fallback_verify_deadline
from geo.ledger.chiefs import chief_chain
from geo.ledger.details import DETAIL_COLUMNS, corrected_types, detail_columns, latest_details
from geo.ledger.digests import LEDGER_ID, ChainHead, chain_head
from geo.ledger.schema import CHIEF_COLUMNS, STATUS_COLUMNS
from geo.policy.lifecycle import Lifecycle, overdue_days
from geo.policy.verification import PROBLEM_STATES, VERIFIED_STATES, VERIFY_STATES, stage_of
from geo.settings import Settings

STORAGE_EPSG = 4490
#: 挂账监管: a problem kept on the books. It needs no action (so ``open_exempt`` lists it)
#: but is not cleared: 动态清零 counts it open (docs/architecture.md, CONTRACTS.md).
MONITORED = "monitored"

#: The state of every patch issued by the end of a day (``?``: the ISO day).
_STATE_AS_OF = """
WITH upto AS (SELECT event_id, patch_id, at, to_state, deadline FROM events
              WHERE substr(at, 1, 10) <= ? AND patch_id IN (SELECT patch_id FROM patches))
SELECT u.patch_id, u.to_state AS state, u.at AS state_since, d.deadline
FROM upto u
JOIN (SELECT max(event_id) AS last_id FROM upto GROUP BY patch_id) l ON u.event_id = l.last_id
LEFT JOIN (SELECT patch_id, max(event_id) AS deadline_id FROM upto
           WHERE deadline IS NOT NULL GROUP BY patch_id) m ON m.patch_id = u.patch_id
LEFT JOIN events d ON d.event_id = m.deadline_id
"""


def _end_of(as_of: dt.date | str) -> str:
    """The ISO day a read stops at (its end, Asia/Shanghai)."""
    return as_date(as_of).isoformat()


def _code9(values: pd.Series) -> pd.Series:
    """The 9-digit township code of each administrative code, ``""`` for none or a shorter one."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    return text.str[:9].where(text.str.len() >= 9, "")


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

    def patches(self, *, as_of: dt.date | str | None = None) -> gpd.GeoDataFrame:
        """The patches with their ``state``, ``state_since`` and ``deadline``.

        Parameters
        ----------
        as_of : date or str, optional
            Replay to the end of this day: only the patches issued by then, in
            the state of their events up to then. Default: every patch, now.
        """
        gdf = self._features("patches").drop(columns=["import_id"])
        if as_of is None:
            return gdf.merge(self._frame("SELECT * FROM patch_state"), on="patch_id", how="left")
        state = self._frame(_STATE_AS_OF, [_end_of(as_of)])
        return gdf.merge(state, on="patch_id", how="inner")

    def segments(self, *, as_of: dt.date | str | None = None) -> gpd.GeoDataFrame:
        """The management-range segments (with ``as_of``: those imported by the end of that day).

        A ledger whose ranges were all imported after ``as_of`` (history entered
        after the fact) knows the segments of its first import day from the start.
        """
        gdf = self._features("segments")
        if as_of is not None:
            gdf = gdf[self._known(gdf["import_id"], "ranges", as_of)]
        return gdf.drop(columns=["import_id"])

    def chiefs(self, *, as_of: dt.date | str | None = None) -> pd.DataFrame:
        """The chiefs, one row per chief and segment.

        Parameters
        ----------
        as_of : date or str, optional
            The chiefs known on that day: those whose term (``term_start`` to
            ``term_end``, either open when blank) covers it and, for each segment
            and level, those of the latest chiefs list imported by then that names
            any (a later list replaces an earlier one there; a ledger whose lists
            all came later knows those of its first import day from the start, and
            where none of those names any, the first list that does).
            Default: every row stored.
        """
        df = self._frame("SELECT * FROM chiefs ORDER BY fid")
        if as_of is not None and len(df):
            day = _end_of(as_of)
            start = df["term_start"].fillna("").astype(str).str[:10]
            end = df["term_end"].fillna("").astype(str).str[:10]
            df = df[((start == "") | (start <= day)) & ((end == "") | (end >= day))]
            known = self._known(df["import_id"], "chiefs", as_of)
            order = df["import_id"].fillna(0).astype("int64").where(known, -df["import_id"])
            best = order.groupby([df["segment_id"], df["level"]]).transform("max")
            df = df[order.eq(best)]
        return df.drop(columns=["fid", "import_id"]).reset_index(drop=True)

    def _known(self, import_ids: pd.Series, kind: str, as_of: dt.date | str) -> pd.Series:
        """Which rows' imports (of ``kind``) the ledger had by the end of ``as_of``.

        The cut-off is ``as_of``, or the first day the ledger imported ``kind`` when
        that is later (a ledger set up after the fact); rows without an import count as known.
        """
        dates = dict(
            self._conn.execute("SELECT import_id, imported_at FROM imports WHERE kind = ?", [kind])
        )
        days = {int(i): str(at)[:10] for i, at in dates.items()}
        cutoff = max([_end_of(as_of), min(days.values(), default="")])
        day = import_ids.map(lambda i: None if pd.isna(i) else days.get(int(i)))
        return day.isna() | (day.fillna("") <= cutoff)

    def events(
        self, patch_id: str | None = None, *, as_of: dt.date | str | None = None
    ) -> pd.DataFrame:
        """The event log (of one patch, or all), oldest first; with ``as_of``, up to that day.

        The ledger's own events (imports' digests, the baseline) are left out.
        """
        where, params = ["patch_id <> ?"], [LEDGER_ID]
        if patch_id is not None:
            where.append("patch_id = ?")
            params.append(patch_id)
        if as_of is not None:
            where.append("substr(at, 1, 10) <= ?")
            params.append(_end_of(as_of))
        clause = f" WHERE {' AND '.join(where)}"
        frame = self._frame(f"SELECT * FROM events{clause} ORDER BY event_id", params)
        return frame.drop(columns=["content"], errors="ignore")

    def ledger_events(self, action: str | None = None) -> pd.DataFrame:
        """The ledger's own events (imports' digests, the baseline, patrol cards), oldest first."""
        where, params = "patch_id = ?", [LEDGER_ID]
        if action is not None:
            where, params = where + " AND action = ?", [*params, action]
        frame = self._frame(f"SELECT * FROM events WHERE {where} ORDER BY event_id", params)
        return frame.drop(columns=["content"], errors="ignore")

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

    def tracks(self, *, as_of: dt.date | str | None = None) -> gpd.GeoDataFrame:
        """Survey and patrol tracks (with ``as_of``: those walked and imported by that day)."""
        return self._walked(self._features("survey_tracks"), "started_at", as_of)

    def findings(self, *, as_of: dt.date | str | None = None) -> gpd.GeoDataFrame:
        """Survey findings, points (with ``as_of``: those observed and imported by that day)."""
        return self._walked(self._features("survey_findings"), "observed_at", as_of)

    def _walked(
        self, gdf: gpd.GeoDataFrame, when: str, as_of: dt.date | str | None
    ) -> gpd.GeoDataFrame:
        """Survey rows the ledger had at the end of ``as_of``: dated by then, imported by then.

        A row without a date counts by its import alone (a ledger whose surveys were
        all imported later knows those of its first import day, as :meth:`_known` says).
        """
        if as_of is None or gdf.empty:
            return gdf
        day = gdf[when].fillna("").astype(str).str[:10]
        walked = (day == "") | (day <= _end_of(as_of)[:10])
        return gdf[walked & self._known(gdf["import_id"], "surveys", as_of)]

    def status_counts(self, *, as_of: dt.date | str | None = None) -> dict[str, int]:
        """Patches per state (now, or at the end of ``as_of``), every state present."""
        counts = dict.fromkeys(self.lifecycle.states, 0)
        if as_of is None:
            sql = "SELECT state, count(*) FROM patch_state WHERE patch_id <> ? GROUP BY state"
            params = [LEDGER_ID]
        else:
            sql = (
                f"SELECT state, count(*) FROM ({_STATE_AS_OF}) s WHERE patch_id <> ? GROUP BY state"
            )
            params = [_end_of(as_of), LEDGER_ID]
        for state, n in self._conn.execute(sql, params):
            counts[state] = n
        return counts

    def counts_open(self, state: str) -> bool:
        """Whether a patch in ``state`` is not cleared (动态清零): 挂账监管 counts open."""
        return state == MONITORED or self.lifecycle.is_open(state)

    def status_summary(self, *, as_of: dt.date | str | None = None) -> dict[str, Any]:
        """The figures of ``hetu status --json --detail`` on a day.

        Parameters
        ----------
        as_of : date or str, optional
            The day (default today, Asia/Shanghai); the ledger replayed to its end.

        Returns
        -------
        dict
            ``states`` (patches per state, zeros included), ``open`` (not cleared,
            挂账监管 included), ``overdue`` (past their deadline: 核查, 整改 or a 挂账
            review date), ``overdue_by_stage`` (``verify``, ``rectify``, ``review``),
            ``verify_rate`` (核查完成率: 已核查 / 下发) and ``rectify_rate`` (整改销号率:
            已销号 / 问题图斑; ``None`` for no base) and ``by_township``: township
            name → ``{"total", "open", "overdue"}``, in the order of the townships' codes.
        """
        day = _end_of(as_of) if as_of is not None else as_date(None).isoformat()
        frame = self.status_frame(as_of=day)
        states = dict.fromkeys(self.lifecycle.states, 0)
        for state, n in frame["state"].value_counts().items():
            states[str(state)] = int(n)
        is_open = frame["state"].map(lambda s: self.counts_open(str(s)))
        late = frame["overdue_days"] > 0
        towns: dict[str, dict[str, int]] = {}
        order = frame.assign(_o=is_open, _l=late).sort_values(["township_code", "township"])
        for name, part in order.groupby("township", sort=False):
            towns[str(name)] = {
                "total": len(part),
                "open": int(part["_o"].sum()),
                "overdue": int(part["_l"].sum()),
            }
        stage = frame["state"].map(stage_of)
        total = len(frame)
        verified = int(frame["state"].isin(VERIFIED_STATES).sum())
        problems = int(frame["state"].isin(PROBLEM_STATES).sum())
        return {
            "states": states,
            "open": int(is_open.sum()),
            "overdue": int(late.sum()),
            "overdue_by_stage": {
                s: int((late & (stage == s)).sum()) for s in ("verify", "rectify", "review")
            },
            "verify_rate": round(verified / total, 4) if total else None,
            "rectify_rate": round(states.get("closed", 0) / problems, 4) if problems else None,
            "by_township": towns,
        }

    def status_frame(self, *, as_of: dt.date | str | None = None) -> gpd.GeoDataFrame:
        """One row per patch with its state, deadline, segment, chief chain and township.

        This is the frame the map and the exports draw from (columns listed in
        :data:`STATUS_COLUMNS`).

        Parameters
        ----------
        as_of : date or str, optional
            The ledger replayed to the end of this day (see the module): the
            patches issued by then, their states and deadlines then, the segments
            and chiefs known then, overdue days counted to it. Default: every
            patch in its current state, overdue days counted to today (Asia/Shanghai).

        Returns
        -------
        GeoDataFrame
            In EPSG:4490. ``township`` is never blank (:data:`geo.labels.TEXT`
            ``no_township`` where nothing places the patch); ``township_code`` is
            the 9-digit code it was named from (``""`` when none);
            ``township_check`` names both townships when the patch's own code and
            its segment's differ (else ``""``).
        """
        day = as_date(as_of)
        gdf = self.patches(as_of=as_of)
        primary = self._frame(
            "SELECT patch_id, segment_id, range_id, relation, share, distance_m"
            " FROM assignments WHERE is_primary = 1"
        )
        segs = self._frame(
            "SELECT segment_id, water_name, segment_name, admin_code AS segment_code, import_id"
            " FROM segments"
        )
        segs = segs[self._known(segs.pop("import_id"), "ranges", day)]
        primary = primary[primary["segment_id"].isin(segs["segment_id"])]
        gdf = gdf.merge(primary, on="patch_id", how="left").merge(segs, on="segment_id", how="left")
        gdf = gdf.merge(chief_chain(self.chiefs(as_of=day)), on="segment_id", how="left")
        for col in CHIEF_COLUMNS:
            gdf[col] = gdf[col].fillna("") if col in gdf.columns else ""
        self._townships(gdf)
        self._verify_deadlines(gdf)
        cal, counted = self.settings.calendar, {}  # few distinct deadlines: count each once
        gdf["overdue_days"] = [
            counted[(d, s)] if (d, s) in counted
            else counted.setdefault((d, s), overdue_days(d, s, day, calendar=cal))
            for d, s in zip(gdf["deadline"], gdf["state"], strict=True)
        ]  # fmt: skip
        found = latest_details(self._conn, as_of=None if as_of is None else day)
        fixed = corrected_types(found)
        if fixed:  # the 问题类型 corrected at 认定
            gdf["issue_type"] = [fixed.get(p, t) for p, t in zip(gdf["patch_id"], gdf["issue_type"],
                                                                  strict=True)]  # fmt: skip
        gdf[DETAIL_COLUMNS] = detail_columns(gdf, found, self.settings)
        return gdf[[*STATUS_COLUMNS[:-1], *DETAIL_COLUMNS, STATUS_COLUMNS[-1]]].copy()

    def _verify_deadlines(self, gdf: pd.DataFrame) -> None:
        """Give patches in 核查 issued before deadlines were recorded their 核查 deadline.

        The same rule as the write side (:func:`geo.ledger.changes.fallback_verify_deadline`).
        """
        missing = gdf["deadline"].isna() & gdf["state"].isin(VERIFY_STATES)
        if not missing.any():
            return
        gdf["deadline"] = gdf["deadline"].astype(object)
        batches = self._frame("SELECT batch_id, issued_on, created_at, verify_by FROM batches")
        day = dict(zip(batches["batch_id"], batches["issued_on"].fillna(
            batches["created_at"].astype(str).str[:10]), strict=True))  # fmt: skip
        by = dict(zip(batches["batch_id"], batches["verify_by"], strict=True))
        rows = gdf.loc[missing, ["batch_id", "issued_on", "state_since"]]
        gdf.loc[missing, "deadline"] = [
            fallback_verify_deadline(
                (own if isinstance(own, str) and own else day.get(b), by.get(b)),
                str(since),
                self.settings,
            )
            for b, own, since in zip(rows["batch_id"], rows["issued_on"], rows["state_since"],
                                     strict=True)
        ]  # fmt: skip

    def _townships(self, gdf: pd.DataFrame) -> None:
        """Set ``township_code``, ``township`` and ``township_check`` (see :meth:`status_frame`)."""
        placed = self._frame("SELECT patch_id, admin_code FROM patch_areas")
        area = gdf["patch_id"].map(dict(zip(placed["patch_id"], placed["admin_code"], strict=True)))
        own, seg = _code9(gdf["admin_code"]), _code9(gdf["segment_code"])
        code = own.where(own != "", seg.where(seg != "", _code9(area)))
        known = {**self.area_names(), **self.settings.townships}

        def name(c: str) -> str:
            return known.get(c, c)

        gdf["township_code"] = code
        gdf["township"] = [name(c) if c else TEXT["no_township"] for c in code]
        clash = (own != "") & (seg != "") & (own != seg)
        gdf["township_check"] = [
            TEXT["township_conflict"].format(patch=name(a), segment=name(b)) if c else ""
            for a, b, c in zip(own, seg, clash, strict=True)
        ]

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

    def details(self, *, as_of: dt.date | str | None = None) -> dict[str, dict[str, dict]]:
        """Per patch and kind, the fields of its details (:mod:`geo.ledger.details`)."""
        return latest_details(self._conn, as_of=None if as_of is None else _end_of(as_of))

    def open_count(self, *, as_of: dt.date | str | None = None) -> int:
        """Patches not yet cleared (动态清零 counts these down to zero; 挂账监管 included)."""
        counts = self.status_counts(as_of=as_of)
        return sum(n for state, n in counts.items() if self.counts_open(state))

    def verify(self, *, anchors: Sequence[tuple[str, str]] = ()) -> list[str]:
        """Check everything the office relies on (:func:`geo.ledger.integrity.verify_ledger`).

        Parameters
        ----------
        anchors : sequence of (str, str)
            Chain heads kept outside the ledger and where each came from
            (:func:`geo.ledger.integrity.read_anchors`).

        Returns
        -------
        list of str
            Every problem found, one Chinese line each; empty when the history is intact.
        """
        from geo.ledger.integrity import verify_ledger

        return verify_ledger(self, anchors=anchors).problems

    def chain_head(self) -> ChainHead:
        """The end of the hash chain now: ``str()`` is the 链首校验码 exports and notices print."""
        return chain_head(self._conn)

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

    def documents(self) -> pd.DataFrame:
        """The documents issued with their 文号 (see ``Ledger.take_numbers``), oldest first."""
        return self._frame("SELECT * FROM documents ORDER BY doc_id")

    def links(self) -> pd.DataFrame:
        """Links between patches across batches (see :meth:`replace_links`)."""
        return self._frame("SELECT * FROM patch_links ORDER BY fid").drop(columns=["fid"])
