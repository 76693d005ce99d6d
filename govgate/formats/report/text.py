"""Text: the organisation's repositories side by side, what to read with care, months, knowledge-loss paths."""

from __future__ import annotations

from govgate.formats.audit.text import _grid
from govgate.formats.audit.wording import EVIDENCE_NOTE, SMALL_NOTE
from govgate.formats.escaping import terminal
from govgate.formats.report import rows
from govgate.orgreport.model import OrgReport


def render(report: OrgReport) -> str:
    lines = [f"govgate organisation report: {rows.headline(report)}", ""]
    lines += [*_grid([rows.REPOSITORY_HEADER, *rows.repository_rows(report)]), f"  ({EVIDENCE_NOTE} {SMALL_NOTE}.)", ""]
    vendors = report.total.vendors.most_common()
    if vendors:
        lines += ["AI-assisted changes by vendor: " + ", ".join(f"{v} {n:,}" for v, n in vendors), ""]
    notes = report.caveats()
    if notes:
        lines += ["read with care:", *(f"  * {n['message']}" for n in notes), ""]
    lines += ["by month, all repositories (newest first):", *_grid([rows.MONTH_HEADER, *rows.month_rows(report)]), ""]
    knowledge = rows.knowledge_rows(report)
    if knowledge:
        lines += ["knowledge-loss paths:", *_grid([rows.KNOWLEDGE_HEADER, *knowledge]), ""]
    lines += [f"! {p}" for p in report.problems]
    # Repository names and paths come from the audits' input files: one line each, escaped.
    return "\n".join(terminal(line) for line in lines).rstrip("\n") + "\n"
