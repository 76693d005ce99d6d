"""JSON lines: one ``govgate/check/v1`` object per change, then one ``govgate/audit/v1`` summary.

Each change object is exactly what ``check --format json`` prints for that change, on one line,
plus an ``audit`` member with what only the history knows (``reverted_by``, ``fixed_by``). The
object arrives already written (``ChangeRecord.check_json``, by whichever process judged the
change, or from the cache); the ``audit`` member, which newer changes decide, is joined here.
"""

from __future__ import annotations

from typing import TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.record import ChangeRecord
from govgate.audit.summary import AuditSummary
from govgate.formats.compact_json import compact

NEEDS_CHECK_JSON = True


class JsonLinesWriter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def change(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        # the object's closing brace, then "audit" as its last member: what dumping the whole object would write
        self.out.write(record.check_json[:-1] + ',"audit":' + compact(facts.to_dict()) + "}\n")

    def finish(self, summary: AuditSummary) -> None:
        self.out.write(compact(summary.to_dict()) + "\n")


def writer(out: TextIO) -> JsonLinesWriter:
    return JsonLinesWriter(out)
