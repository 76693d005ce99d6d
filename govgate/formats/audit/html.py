"""HTML: one self-contained file (inline CSS, SVG charts and a few lines of script; nothing fetched).

Charts: compliance per question over time, AI-assisted share over time, and the change-failure
signal of AI-assisted versus other changes. Then the knowledge-loss paths, waivers to review and
the worst failing changes (a bounded list kept by the summary), linked to the forge when the
remote URL is known. A Content-Security-Policy forbids every network request from the page.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.summary import AuditSummary
from govgate.formats.audit import percent
from govgate.formats.audit.memory_sections import HTML_CSS, html_section
from govgate.formats.audit.svg import bar_chart, line_chart
from govgate.formats.audit.text import ROW_LABELS, _cell
from govgate.model import GOVERNANCE_QUESTIONS
from govgate.verdict import Verdict

COLOURS = {"reviewed": "#2563eb", "tested": "#16a34a", "rollout": "#d97706", "rollback": "#9333ea"}
AI_COLOUR, OTHER_COLOUR = "#db2777", "#64748b"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#0f172a;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f8fafc;cursor:default}th.sortable{cursor:pointer}td.num{text-align:right}
.muted{color:#64748b}.bad{color:#b91c1c}.chart{margin:8px 0 16px}
svg .grid{stroke:#e2e8f0;stroke-width:1}svg .tick,svg .legend{font-size:11px;fill:#475569}
code{background:#f1f5f9;padding:0 3px;border-radius:3px}
"""

# Click a header of the failing-changes table to sort by it.
_SCRIPT = """
document.addEventListener("DOMContentLoaded", function () {
  var table = document.getElementById("failing");
  if (!table) { return; }
  var headers = table.querySelectorAll("th");
  headers.forEach(function (th, column) {
    th.classList.add("sortable");
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var descending = th.getAttribute("data-order") !== "desc";
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        return descending ? y.localeCompare(x) : x.localeCompare(y);
      });
      th.setAttribute("data-order", descending ? "desc" : "asc");
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


class HtmlWriter:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def change(self, verdict: Verdict, facts: ChangeFacts) -> None:
        return None  # the summary keeps the bounded list of worst failing changes

    def finish(self, summary: AuditSummary) -> None:
        self.out.write(render(summary))


def render(summary: AuditSummary) -> str:
    title = f"govgate audit: {summary.range_label}"
    body = [f"<h1>{escape(title)}</h1>", _meta(summary)]
    if summary.changes:
        body += [_totals(summary), _charts(summary), _knowledge(summary), html_section(summary, _table), _waivers(summary),
                 _failing(summary)]
    else:
        body.append("<p>No changes in this range.</p>")
    body.append(_problems(summary))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title>"
        f"<style>{_CSS}{HTML_CSS}</style></head><body>\n" + "\n".join(part for part in body if part)
        + f"\n<script>{_SCRIPT}</script></body></html>\n"
    )


def _meta(summary: AuditSummary) -> str:
    repo = summary.repo_url
    repository = f'<a href="{escape(repo)}">{escape(repo)}</a>' if repo else "a local repository"
    span = f"from {escape((summary.oldest or '')[:10])} to {escape((summary.newest or '')[:10])}" if summary.changes else ""
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<p class="muted">{summary.changes} changes {span} in {repository}; policy <code>{escape(summary.policy_description)}'
            f"</code>, failing at <code>{escape(summary.fail_on)}</code>; generated {generated}.</p>")


def _totals(summary: AuditSummary) -> str:
    total = summary.total
    both = total.combined()
    rows = [("changes", str(total.changes), f"{total.ai.changes} ({percent(total.ai.changes / total.changes)})",
             str(total.other.changes))]
    rows += [(label, _cell(both, name), _cell(total.ai, name), _cell(total.other, name)) for name, label in ROW_LABELS.items()]
    tools = ", ".join(f"{escape(t)} ({n})" for t, n in total.tools.most_common())
    return ("<h2>AI-assisted versus other changes</h2>" + _table(("", "all changes", "AI-assisted", "other"), rows, numeric=True)
            + (f"<p>AI tools: {tools}</p>" if tools else ""))


def _charts(summary: AuditSummary) -> str:
    months = summary.sorted_months()
    labels = [m for m, _ in months]
    compliance = line_chart(
        "Compliance per question by month", labels,
        [(q.value, COLOURS[q.value], [p.compliance(q) for _, p in months]) for q in GOVERNANCE_QUESTIONS],
    )
    ai_share = bar_chart("AI-assisted share of changes by month", labels,
                         [p.ai.changes / p.changes if p.changes else None for _, p in months], AI_COLOUR, "AI-assisted share")
    failure = line_chart(
        "Change-failure signal by month (share later reverted or fixed)", labels,
        [("AI-assisted", AI_COLOUR, [p.ai.failed_later / p.ai.changes if p.ai.changes else None for _, p in months]),
         ("other", OTHER_COLOUR, [p.other.failed_later / p.other.changes if p.other.changes else None for _, p in months])],
    )
    return ("<h2>Compliance per question over time</h2>"
            f'<div class="chart" id="chart-compliance">{compliance}</div>'
            "<h2>AI-assisted share over time</h2>"
            f'<div class="chart" id="chart-ai-share">{ai_share}</div>'
            "<h2>Change-failure signal over time</h2>"
            f'<div class="chart" id="chart-failure">{failure}</div>')


def _knowledge(summary: AuditSummary) -> str:
    data = summary.knowledge.to_dict()
    if not data["paths"]:
        return ""
    rows = [(f"<code>{escape(r['path'])}</code>", str(r["recent_changes"]), percent(r["ai_share"]),
             percent(r["newcomer_share"]) if r["newcomer_share"] is not None else "unknown", escape(", ".join(r["reasons"])))
            for r in data["paths"]]
    return (f"<h2>Knowledge-loss paths</h2><p class=\"muted\">Directories whose changes since {escape(str(data['window_start']))} "
            "came mostly from AI-assisted commits or from authors with no earlier change there.</p>"
            + _table(("path", "recent changes", "AI-assisted", "by newcomers", "why"), rows, raw=True))


def _waivers(summary: AuditSummary) -> str:
    notes = [n for n in summary.waiver_notes() if n["status"] != "applied"]
    if not notes:
        return ""
    rows = [(n["rule"], n["change"], n["approved_by"], n["expires"], n["status"]) for n in notes]
    return "<h2>Waivers to review</h2>" + _table(("rule", "change", "approved by", "expires", "status"), rows)


def _failing(summary: AuditSummary) -> str:
    worst = summary.worst()
    failing = summary.total.ai.failing + summary.total.other.failing
    if not worst:
        return "<h2>Failing changes</h2><p>No change fails the policy.</p>"
    rows = [_offender(e) for e in worst]
    head = ("change", "date", "title", "author", "AI-assisted", "risk", "failing rules", "later")
    return (f"<h2>Failing changes ({len(worst)} worst of {failing})</h2>"
            + _table(head, rows, raw=True, table_id="failing"))


def _offender(entry: dict[str, Any]) -> tuple[str, ...]:
    label = escape(entry["id"])
    if entry["url"]:
        label = f'<a href="{escape(entry["url"])}">{label}</a>'
    ai = escape(", ".join(entry["ai_tools"]) or "yes") if entry["ai_assisted"] else "no"
    rules = "<br>".join(f'<code>{escape(r["rule"])}</code> <span class="muted">{escape(r["message"])}</span>'
                        for r in entry["failing"])
    later = "; ".join([*(f"reverted by {escape(x)}" for x in entry["reverted_by"]),
                       *(f"fixed by {escape(x)}" for x in entry["fixed_by"])])
    return (label, escape((entry["date"] or "")[:10]), escape(entry["title"]), escape(entry["author"] or ""), ai,
            escape(entry["risk"]), rules, f'<span class="bad">{later}</span>' if later else "")


def _problems(summary: AuditSummary) -> str:
    items = [escape(p) for p in summary.problems]
    if summary.problem_changes:
        items.append(f"{summary.problem_changes} change(s) could not be read completely (see the JSON output's problems)")
    return "<h2>Problems</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]], *, raw: bool = False, numeric: bool = False,
           table_id: str | None = None) -> str:
    attr = f' id="{table_id}"' if table_id else ""
    out = [f"<table{attr}><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            text = cell if raw else escape(cell)
            css = ' class="num"' if numeric and index > 0 else ""
            cells.append(f"<td{css}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def writer(out: TextIO) -> HtmlWriter:
    return HtmlWriter(out)
