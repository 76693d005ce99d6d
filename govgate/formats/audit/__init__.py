"""Audit formats: one module each, every one a streaming writer.

A writer gets each judged change as it comes (``change(verdict, facts)``) and the finished
summary once (``finish(summary)``). None of them holds all verdicts: per-change formats write a
row and forget it, and summary formats keep only what the summary keeps (a bounded list of
the worst failing changes).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol, TextIO

from govgate.errors import GovgateError

if TYPE_CHECKING:
    from govgate.audit.failures import ChangeFacts
    from govgate.audit.summary import AuditSummary
    from govgate.verdict import Verdict

AUDIT_WRITERS: dict[str, str] = {
    "text": "govgate.formats.audit.text",
    "json": "govgate.formats.audit.json_lines",
    "csv": "govgate.formats.audit.csv_rows",
    "markdown": "govgate.formats.audit.markdown",
    "html": "govgate.formats.audit.html",
}


class AuditWriter(Protocol):
    def change(self, verdict: Verdict, facts: ChangeFacts) -> None: ...

    def finish(self, summary: AuditSummary) -> None: ...


def audit_writer(name: str, out: TextIO) -> AuditWriter:
    if name not in AUDIT_WRITERS:
        raise GovgateError(f"unknown audit format {name!r}", f"choose one of: {', '.join(AUDIT_WRITERS)}")
    return importlib.import_module(AUDIT_WRITERS[name]).writer(out)  # type: ignore[no-any-return]


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"
