"""Markdown (GitHub-flavoured): the summary as tables, then the worst failing changes with links."""

from __future__ import annotations

from typing import Any, TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.record import ChangeRecord
from govgate.audit.summary import AuditSummary
from govgate.audit.thresholds import LARGE_MERGE_COMMITS
from govgate.formats.audit import percent, wording
from govgate.formats.escaping import markdown_inline
from govgate.model import GOVERNANCE_QUESTIONS

WORST_SHOWN = 50


class MarkdownWriter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def change(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        return None  # a summary format

    def finish(self, summary: AuditSummary) -> None:
        self.out.write(render(summary))


def render(summary: AuditSummary) -> str:
    lines = [f"# govgate audit: {_esc(wording.scope(summary))}", ""]
    if not summary.changes:
        return "\n".join([*lines, "No changes in this range" + _esc(wording.filters(summary)) + ".", ""]) + "\n"
    lines.append(f"{summary.changes:,} changes {wording.span(summary)}. Policy: {_esc(summary.policy_description)}, failing at "
                 f"`{summary.fail_on}`. Evidence read: {_esc(wording.reviews_source(summary))}.")
    total = summary.total
    rows = [list(row) for row in wording.totals_rows(total)]
    lines += ["", "## AI-assisted versus other changes", "", *_table(["", "all", "AI-assisted", "other"], rows),
              "", f"_{_esc(wording.EVIDENCE_NOTE)}_"]
    if total.tools:
        lines += ["", "AI tools by vendor: " + "; ".join(_esc(line) for line in wording.vendor_lines(summary))]
    lines += ["", "## Policy compliance", "",
              *_table(["question", "asked on", "meets the policy", "evidence found"], [list(r) for r in wording.compliance_rows(total)]),
              "", f"_{_esc(wording.COMPLIANCE_NOTE)}_"]
    notes = summary.caveats()
    if notes:
        lines += ["", "## Read with care", "", *(f"- {_esc(note['message'])}" for note in notes)]
    months = [[m, str(p.changes), wording.period_share(p, p.ai_share),
               *(wording.period_share(p, p.compliance(q)) for q in GOVERNANCE_QUESTIONS),
               wording.period_share(p, p.combined().failure_share)]
              for m, p in reversed(summary.sorted_months())]
    lines += ["", "## By month", "", f"_{_esc(wording.SMALL_NOTE)}._", "",
              *_table(["month", "changes", "AI-assisted", *(f"{q.value}: meets the policy" for q in GOVERNANCE_QUESTIONS),
                       "reverted or fixed later"], months)]
    if summary.large_merges:
        lines += ["", f"## Large merges ({LARGE_MERGE_COMMITS}+ commits brought in, each judged as one change)", "",
                  *_table(["change", "date", "title", "commits brought in", "verdict"],
                          [[f"[{_esc(e['id'])}]({e['url']})" if e["url"] else _esc(e["id"]), (e["date"] or "")[:10],
                            _esc(e["title"]), f"{e['commits']:,}", e["verdict"]] for e in summary.large_merge_examples])]
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
