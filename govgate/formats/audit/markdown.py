"""Markdown (GitHub-flavoured): the summary as tables, then the worst failing changes with links."""

from __future__ import annotations

from typing import Any, TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.summary import AuditSummary
from govgate.formats.audit import percent
from govgate.formats.audit.text import ROW_LABELS, _cell, _filters
from govgate.formats.escaping import markdown_inline
from govgate.model import GOVERNANCE_QUESTIONS
from govgate.verdict import Verdict

WORST_SHOWN = 50


class MarkdownWriter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def change(self, verdict: Verdict, facts: ChangeFacts) -> None:
        return None  # a summary format

    def finish(self, summary: AuditSummary) -> None:
        self.out.write(render(summary))


def render(summary: AuditSummary) -> str:
    lines = [f"# govgate audit: `{_code(summary.range_label)}`", ""]
    if not summary.changes:
        return "\n".join([*lines, "No changes in this range" + _esc(_filters(summary)) + ".", ""]) + "\n"
    lines.append(f"{summary.changes} changes from {(summary.oldest or '')[:10]} to {(summary.newest or '')[:10]}; "
                 f"policy `{_code(summary.policy_description)}`, failing at `{summary.fail_on}`.")
    total = summary.total
    both = total.combined()
    rows = [["changes", str(total.changes), f"{total.ai.changes} ({percent(total.ai.changes / total.changes)})",
             str(total.other.changes)]]
    rows += [[label, _cell(both, name), _cell(total.ai, name), _cell(total.other, name)] for name, label in ROW_LABELS.items()]
    lines += ["", "## AI-assisted versus other changes", "", *_table(["", "all", "AI-assisted", "other"], rows)]
    if total.tools:
        lines += ["", "AI tools: " + ", ".join(f"{_esc(t)} ({n})" for t, n in total.tools.most_common())]
    months = [[m, str(p.changes), percent(p.ai.changes / p.changes if p.changes else None),
               *(percent(p.compliance(q)) for q in GOVERNANCE_QUESTIONS),
               percent((p.ai.failed_later + p.other.failed_later) / p.changes if p.changes else None)]
              for m, p in reversed(summary.sorted_months())]
    lines += ["", "## By month", "",
              *_table(["month", "changes", "AI-assisted", *(f"{q.value} compliance" for q in GOVERNANCE_QUESTIONS),
                       "reverted or fixed"], months)]
    knowledge = summary.knowledge.to_dict()
    if knowledge["paths"]:
        lines += ["", f"## Knowledge-loss paths (since {knowledge['window_start']})", "",
                  *_table(["path", "recent changes", "AI-assisted", "by newcomers", "why"],
                          [[f"`{_code(r['path'])}`", str(r["recent_changes"]), percent(r["ai_share"]),
                            percent(r["newcomer_share"]) if r["newcomer_share"] is not None else "unknown",
                            ", ".join(r["reasons"])] for r in knowledge["paths"]])]
    notes = [n for n in summary.waiver_notes() if n["status"] != "applied"]
    if notes:
        lines += ["", "## Waivers to review", "",
                  *_table(["rule", "change", "approved by", "expires", "status"],
                          [[_esc(n["rule"]), _esc(n["change"]), _esc(n["approved_by"]), n["expires"], n["status"]]
                           for n in notes])]
    worst = summary.worst(WORST_SHOWN)
    if worst:
        lines += ["", f"## Failing changes (worst {len(worst)} of {total.ai.failing + total.other.failing})", "",
                  *_table(["change", "date", "title", "AI", "risk", "failing rules"], [_offender(e) for e in worst])]
    problems = list(summary.problems)
    if summary.problem_changes:
        problems.append(f"{summary.problem_changes} change(s) could not be read completely")
    if problems:
        lines += ["", "## Problems", "", *(f"- {_esc(p)}" for p in problems)]
    return "\n".join(lines) + "\n"


def _offender(entry: dict[str, Any]) -> list[str]:
    label = f"[{_esc(entry['id'])}]({entry['url']})" if entry["url"] else _esc(entry["id"])
    ai = ", ".join(entry["ai_tools"]) or "yes" if entry["ai_assisted"] else "no"
    return [label, (entry["date"] or "")[:10], _esc(entry["title"]), _esc(ai), entry["risk"],
            "<br>".join(f"`{_code(r['rule'])}`" for r in entry["failing"])]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(row) + " |" for row in rows)]


def _esc(text: str) -> str:
    """Table-safe Markdown: no pipes, no raw HTML, no line breaks, no mentions or images."""
    return markdown_inline(text)


def _code(text: str) -> str:
    return text.replace("`", "'").replace("|", "\\|")


def writer(out: TextIO) -> MarkdownWriter:
    return MarkdownWriter(out)
