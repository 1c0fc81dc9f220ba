"""Hetu (河图): track river and lake remote-sensing patches to closure.

The package is flat, one module per domain noun:

- :mod:`geo.layers`: read what an office receives into canonical GeoDataFrames;
- :mod:`geo.matching`: who is responsible for each patch;
- :mod:`geo.store`: the ledger (a GeoPackage file), the only stateful object;
- :mod:`geo.lifecycle`: states and transitions, pure;
- :mod:`geo.maps` and :mod:`geo.export`: the leadership map and the Excel ledger;
- :mod:`geo.demo`: a seeded demo county that runs the whole flow.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
