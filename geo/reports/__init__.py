"""Reports: what the office hands on.

- :mod:`geo.reports.exports`: the weekly export set (Excel, CSV, GeoPackage
  snapshot, GBK shapefile), its lock and log; :mod:`geo.reports.timers` its
  cron/systemd/schtasks lines;
- :mod:`geo.reports.excel`, :mod:`geo.reports.summary`: the Excel 台账 and its sheets;
- :mod:`geo.reports.province_template`: the province's own .xlsx template filled;
- :mod:`geo.reports.shapefile`: the legacy GBK shapefile with 10-byte field codes;
- :mod:`geo.reports.escalation`: the ladder 卡单函令, recorded and written;
- :mod:`geo.reports.documents`, :mod:`geo.reports.pdf`: notices rendered, PDFs printed;
- :mod:`geo.reports.dossier`: 一斑一档 pages;
- :mod:`geo.reports.assessment`: the quarterly "4+1" township scores.
"""

from __future__ import annotations

from geo.reports.assessment import assess
from geo.reports.dossier import write_dossiers
from geo.reports.escalation import due_escalations, escalate
from geo.reports.exports import export_ledger

__all__ = ["assess", "due_escalations", "escalate", "export_ledger", "write_dossiers"]
