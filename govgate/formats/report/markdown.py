"""Markdown (GitHub-flavoured, for a job summary): the organisation report as tables."""

from __future__ import annotations

from govgate.formats.audit.markdown import _esc, _table
from govgate.formats.audit.wording import EVIDENCE_NOTE, SMALL_NOTE
from govgate.formats.report import rows
from govgate.orgreport.model import OrgReport


def render(report: OrgReport) -> str:
    lines = ["# govgate organisation report", "", _esc(rows.headline(report)) + ".", "", "## Repositories", "",
             *_table(list(rows.REPOSITORY_HEADER), [[_esc(c) for c in row] for row in rows.repository_rows(report)]),
             "", f"_{_esc(EVIDENCE_NOTE)} {_esc(SMALL_NOTE)}._"]
    vendors = report.total.vendors.most_common()
    if vendors:
        lines += ["", "AI-assisted changes by vendor: " + ", ".join(f"{_esc(v)} {n:,}" for v, n in vendors)]
    notes = report.caveats()
    if notes:
        lines += ["", "## Read with care", "", *(f"- {_esc(n['message'])}" for n in notes)]
    lines += ["", "## By month, all repositories", "", *_table(list(rows.MONTH_HEADER), [list(r) for r in rows.month_rows(report)])]
    knowledge = rows.knowledge_rows(report)
    if knowledge:
        lines += ["", "## Knowledge-loss paths", "",
                  *_table(list(rows.KNOWLEDGE_HEADER), [[_esc(c) for c in row] for row in knowledge])]
    if report.problems:
        lines += ["", "## Problems", "", *(f"- {_esc(p)}" for p in report.problems)]
    return "\n".join(lines) + "\n"
