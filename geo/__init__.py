"""Hetu (河图): track river and lake remote-sensing patches to closure.

The package is layered by stage (docs/architecture.md): :mod:`geo.ingest`
reads what an office receives, :mod:`geo.ledger` keeps the 台账,
:mod:`geo.matching` finds who is responsible, :mod:`geo.field` and
:mod:`geo.imagery` gather evidence, :mod:`geo.reports` and :mod:`geo.maps`
write what the office hands on, :mod:`geo.demo` and :mod:`geo.cli` are the
applications. :mod:`geo.errors`, :mod:`geo.labels` and :mod:`geo.settings`
are shared by every layer.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
