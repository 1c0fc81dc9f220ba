"""Field work: evidence, verification in the field, audits, surveys and patrols.

- :mod:`geo.field.evidence`: attachments and their EXIF checks;
- :mod:`geo.field.tasks`: field packages per township (sheet, QField GeoPackage);
- :mod:`geo.field.fieldwork`: filled field sheets applied, all or nothing;
- :mod:`geo.field.audit`: the seeded sample audit (抽查复核);
- :mod:`geo.field.surveys`: survey findings near no patch turned into patches;
- :mod:`geo.field.coverage`: shoreline surveyed per segment and township;
- :mod:`geo.field.patrols`: chiefs' patrols against the required frequency.
"""

from __future__ import annotations

from geo.field.audit import apply_audit, audit_sample
from geo.field.coverage import coverage_ledger, shoreline_coverage
from geo.field.evidence import attach_evidence
from geo.field.fieldwork import apply_sheet
from geo.field.patrols import patrol_completion, patrols_ledger
from geo.field.surveys import survey_patches
from geo.field.tasks import write_tasks

__all__ = [
    "apply_audit",
    "apply_sheet",
    "attach_evidence",
    "audit_sample",
    "coverage_ledger",
    "patrol_completion",
    "patrols_ledger",
    "shoreline_coverage",
    "survey_patches",
    "write_tasks",
]
