"""Audit formats: one module each, every one a streaming writer.

A writer gets each judged change as it comes (``change(record, facts)``: the ChangeRecord the
judging process made, and what newer changes said of it) and the finished summary once
(``finish(summary)``). None of them holds all verdicts: per-change formats write a row and forget
it, and summary formats keep only what the summary keeps (a bounded list of the worst failing
changes). A writer module that prints each change's ``govgate/check/v1`` object sets
``NEEDS_CHECK_JSON``, so the judging process writes it.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Protocol, TextIO

from govgate.formats import load_format

if TYPE_CHECKING:
    from govgate.audit.failures import ChangeFacts
    from govgate.audit.record import ChangeRecord
    from govgate.audit.summary import AuditSummary

AUDIT_WRITERS: dict[str, str] = {
    "text": "govgate.formats.audit.text",
    "json": "govgate.formats.audit.json_lines",
    "csv": "govgate.formats.audit.csv_rows",
    "markdown": "govgate.formats.audit.markdown",
    "html": "govgate.formats.audit.html",
}


class AuditWriter(Protocol):
    def change(self, record: ChangeRecord, facts: ChangeFacts) -> None: ...

    def finish(self, summary: AuditSummary) -> None: ...


def audit_writer(name: str, out: TextIO) -> AuditWriter:
    return _module(name).writer(out)  # type: ignore[no-any-return]


def needs_check_json(name: str) -> bool:
    """Whether the format prints each change's govgate/check/v1 object."""
    return bool(getattr(_module(name), "NEEDS_CHECK_JSON", False))


def _module(name: str) -> ModuleType:
    return load_format(AUDIT_WRITERS, name, "audit format")


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"
