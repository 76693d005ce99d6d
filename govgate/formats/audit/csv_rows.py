"""CSV: one row per change (RFC 4180, header first). The summary is in the other formats.

Titles, authors and rule ids come from the changes: a cell that a spreadsheet would run as a
formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is written with a leading ``'``.

New columns are only ever added at the end, so that spreadsheets reading columns by position keep working.
"""

from __future__ import annotations

import csv
from typing import TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.record import ChangeRecord
from govgate.audit.summary import AuditSummary
from govgate.detectors.ai_markers import vendors_of
from govgate.formats.escaping import spreadsheet_cell
from govgate.model import GOVERNANCE_QUESTIONS

COLUMNS = (
    "id", "sha", "kind", "date", "author", "title", "pull_request", "verdict", "ai_assisted", "ai_tools", "risk",
    "risk_score", *(q.value for q in GOVERNANCE_QUESTIONS), "failing_rules", "waived_rules", "reverted_by", "fixed_by",
    "files", "commits", "problems", "url", "complete", "policy", "repository", "ai_vendors", "large_merge",
)


class CsvWriter:
    def __init__(self, out: TextIO) -> None:
        self._csv = csv.writer(out, lineterminator="\r\n")
        self._csv.writerow(COLUMNS)

    def change(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        self._csv.writerow([spreadsheet_cell(cell) for cell in (
            record.id, record.sha, record.kind, record.date or "", record.author or "",
            record.title, record.pull_request if record.pull_request is not None else "", record.verdict,
            "true" if record.ai_assisted else "false", ";".join(record.ai_tools), record.risk_level,
            f"{record.risk_score:g}", *record.statuses,
            ";".join(rule for rule, _, _ in record.failing),
            ";".join(rule for rule, status in record.rules if status == "waived"),
            ";".join(facts.reverted_by), ";".join(facts.fixed_by), record.files, record.commits,
            " | ".join(record.problems), record.url or "",
            "true" if record.complete else "false", record.policy,
            facts.repository or "", ";".join(vendors_of(record.ai_tool_vendors)),
            "true" if facts.large_merge else "false",
        )])

    def finish(self, summary: AuditSummary) -> None:
        return None


def writer(out: TextIO) -> CsvWriter:
    return CsvWriter(out)
