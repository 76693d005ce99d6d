"""JSON lines: one ``govgate/check/v1`` object per change, then one ``govgate/audit/v1`` summary.

Each change object is exactly what ``check --format json`` prints for that change, on one line,
plus an ``audit`` member with what only the history knows (``reverted_by``, ``fixed_by``).
"""

from __future__ import annotations

from typing import TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.summary import AuditSummary
from govgate.formats.compact_json import compact
from govgate.verdict import Verdict


class JsonLinesWriter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def change(self, verdict: Verdict, facts: ChangeFacts) -> None:
        data = verdict.to_dict()
        data["audit"] = facts.to_dict()
        self.out.write(compact(data) + "\n")

    def finish(self, summary: AuditSummary) -> None:
        self.out.write(compact(summary.to_dict()) + "\n")


def writer(out: TextIO) -> JsonLinesWriter:
    return JsonLinesWriter(out)
