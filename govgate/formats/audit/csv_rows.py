"""CSV: one row per change (RFC 4180, header first). The summary is in the other formats.

Titles, authors and rule ids come from the changes: a cell that a spreadsheet would run as a
formula (``=``, ``+``, ``-``, ``@``, tab, CR first) is written with a leading ``'``.

New columns are only ever added at the end, so that spreadsheets reading columns by position keep working.
"""

from __future__ import annotations

import csv
from typing import TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.summary import AuditSummary
from govgate.formats.escaping import spreadsheet_cell
from govgate.model import GOVERNANCE_QUESTIONS
from govgate.sources.merge_messages import commit_url
from govgate.verdict import Verdict

COLUMNS = (
    "id", "sha", "kind", "date", "author", "title", "pull_request", "verdict", "ai_assisted", "ai_tools", "risk",
    "risk_score", *(q.value for q in GOVERNANCE_QUESTIONS), "failing_rules", "waived_rules", "reverted_by", "fixed_by",
    "files", "commits", "problems", "url", "complete", "policy", "repository", "ai_vendors", "large_merge",
)


class CsvWriter:
    def __init__(self, out: TextIO) -> None:
        self._csv = csv.writer(out, lineterminator="\r\n")
        self._csv.writerow(COLUMNS)

    def change(self, verdict: Verdict, facts: ChangeFacts) -> None:
        change = verdict.change
        pr = change.pull_request
        self._csv.writerow([spreadsheet_cell(cell) for cell in (
            change.id, change.head, change.kind, change.date or "", change.author.render() if change.author else "",
            change.title, pr.number if pr and pr.number is not None else "", verdict.verdict,
            "true" if verdict.ai_assisted else "false", ";".join(verdict.ai_tools), verdict.risk.level,
            f"{verdict.risk.score:g}", *(verdict.questions[q].status for q in GOVERNANCE_QUESTIONS),
            ";".join(r.rule.id for r in verdict.failing_rules),
            ";".join(r.rule.id for r in verdict.rules if r.status == "waived"),
            ";".join(facts.reverted_by), ";".join(facts.fixed_by), len(change.files), len(change.commits),
            " | ".join(verdict.problems), commit_url(change.repo_url, change.head) or "",
            "true" if verdict.complete else "false", verdict.policy_description,
            facts.repository or "", ";".join(verdict.ai_vendors), "true" if facts.large_merge else "false",
        )])

    def finish(self, summary: AuditSummary) -> None:
        return None


def writer(out: TextIO) -> CsvWriter:
    return CsvWriter(out)
