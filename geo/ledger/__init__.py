"""The ledger (台账): the only stateful object, a GeoPackage file or a PostGIS database.

- :mod:`geo.ledger.store`: :class:`Ledger`, writes in transactions, append-only
  hash-chained events;
- :mod:`geo.ledger.reads`: the frames a ledger reads (status, events, links…);
- :mod:`geo.ledger.changes`: lifecycle changes checked and applied as a set;
- :mod:`geo.ledger.schema`, :mod:`geo.ledger.db`, :mod:`geo.ledger.gpkg`: the
  migrations, the two databases behind one interface, GeoPackage blobs;
- :mod:`geo.ledger.loading`: :func:`ingest_file`, a file read and stored;
- :mod:`geo.ledger.transfer`: :func:`copy_ledger` between the two backends;
- :mod:`geo.ledger.chiefs`: the chiefs of each segment, as people read them;
- :mod:`geo.ledger.digests`: what the chain covers (rows' digests, the database user,
  the office's chain key) and the chain head (链首校验码);
- :mod:`geo.ledger.integrity`: ``hetu verify``; :mod:`geo.ledger.roles`: ``hetu roles``.
"""

from __future__ import annotations

from geo.ledger.loading import ingest_file
from geo.ledger.store import Ledger, open_ledger
from geo.ledger.transfer import copy_ledger

__all__ = ["Ledger", "copy_ledger", "ingest_file", "open_ledger"]
