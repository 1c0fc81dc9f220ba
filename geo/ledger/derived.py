"""The ledger's derived tables: results recomputed and replaced whole, never history.

Matching (assignments, links between patches, links between findings and
patches) and imagery (chips and their figures) are recomputed from the
patches, segments and scenes; each run replaces its table in one transaction.
They are not part of the hash chain: ``hetu match`` or ``hetu imagery`` makes
them again (chip files themselves are checked against their sha256).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pandas as pd

from geo.clock import now
from geo.ledger import changes as _changes
from geo.records import none_if_nan


class LedgerDerived:
    """Writers of the derived tables, mixed into :class:`geo.ledger.store.Ledger`."""

    # provided by the Ledger
    attachments_dir: Path
    transaction: Callable[[], AbstractContextManager[Any]]

    def replace_assignments(self, assignments: pd.DataFrame) -> int:
        """Replace the matching result with ``assignments`` (one transaction); return rows."""
        at = now().isoformat()
        cols = ["patch_id", "segment_id", "range_id", "relation", "overlap_m2", "share"]
        cols += ["distance_m", "primary"]
        rows = [
            [none_if_nan(v) for v in vals[:-1]] + [int(bool(vals[-1])), at]
            for vals in assignments[cols].astype(object).to_numpy()
        ]
        with self.transaction() as conn:
            conn.execute("DELETE FROM assignments")
            conn.executemany(
                "INSERT INTO assignments (patch_id, segment_id, range_id, relation, overlap_m2,"
                " share, distance_m, is_primary, matched_at) VALUES (?,?,?,?,?,?,?,?,?)",
                rows,
            )
        return len(rows)

    def replace_links(self, links: pd.DataFrame) -> int:
        """Replace the links between patches across batches (one transaction); return rows.

        Parameters
        ----------
        links : DataFrame
            ``patch_id, earlier_id, kind, overlap_ratio, iou, centroid_m``; ``kind`` is
            ``same`` (the same open problem), ``recurrence`` (反弹 at a closed site) or
            ``repeat_monitored`` (a 挂账 item issued again).
        """
        at = now().isoformat()
        cols = ["patch_id", "earlier_id", "kind", "overlap_ratio", "iou", "centroid_m"]
        rows = [
            [none_if_nan(v) for v in vals] + [at] for vals in links[cols].astype(object).to_numpy()
        ]
        with self.transaction() as conn:
            conn.execute("DELETE FROM patch_links")
            conn.executemany(
                "INSERT INTO patch_links (patch_id, earlier_id, kind, overlap_ratio, iou,"
                " centroid_m, linked_at) VALUES (?,?,?,?,?,?,?)",
                rows,
            )
        return len(rows)

    def replace_finding_links(self, links: pd.DataFrame) -> int:
        """Replace the links between survey findings and patches (one transaction).

        Parameters
        ----------
        links : DataFrame
            ``finding_id, patch_id, distance_m`` (:func:`geo.matching.findings.link_findings`).

        Returns
        -------
        int
            Rows written.
        """
        at = now().isoformat()
        cols = ["finding_id", "patch_id", "distance_m"]
        rows = [[none_if_nan(v) for v in vals] + [at] for vals in links[cols].to_numpy(object)]
        with self.transaction() as conn:
            conn.execute("DELETE FROM finding_links")
            conn.executemany(conn.insert_sql("finding_links", [*cols, "linked_at"]), rows)
        return len(rows)

    def replace_imagery(self, rows: pd.DataFrame, *, files: dict[str, Path] | None = None) -> int:
        """Store imagery results per patch, replacing rows of the same (patch, role, source).

        Parameters
        ----------
        rows : DataFrame
            ``patch_id, role`` (``before`` | ``after``), ``source`` (the image file),
            ``acquired_on``, ``attachment_id`` (sha256 of the chip, or None), ``status``
            (``ok`` or a short code), ``reason`` (why not, for a bad image), ``indicators``
            (JSON text of the change figures).
        files : dict, optional
            ``attachment_id -> chip file`` to copy into the attachment store.

        Returns
        -------
        int
            Rows written. All or nothing.
        """
        at = now().isoformat()
        cols = ["patch_id", "role", "source", "acquired_on", "attachment_id", "status", "reason"]
        cols += ["indicators"]
        values = [
            [none_if_nan(v) for v in vals] + [at] for vals in rows[cols].astype(object).to_numpy()
        ]
        stored = {sha: (Path(p), {"media_type": "image/png"}) for sha, p in (files or {}).items()}
        with self.transaction() as conn:
            _changes.store_files(self.attachments_dir, stored)
            conn.executemany(
                conn.insert_sql(
                    "attachments",
                    ["attachment_id", "filename", "media_type", "size", "added_at"],
                    conflict="ignore",
                ),
                [
                    (sha, p.name, m["media_type"], p.stat().st_size, at)
                    for sha, (p, m) in stored.items()
                ],
            )
            conn.executemany(
                conn.insert_sql("imagery", [*cols, "made_at"], conflict="replace"), values
            )
        return len(values)
