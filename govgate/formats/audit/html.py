"""HTML: one self-contained file (inline CSS, SVG charts and a few lines of script; nothing fetched).

The page names the repository, range and policy, says first what its figures can and cannot see
(the summary's caveats), then shows: changes per month (n, with the threshold under which a month
is not judged), one small chart per question with "meets the policy" beside "evidence found",
the AI-assisted share and the change-failure signal of AI-assisted versus other changes. Then
large merges, the knowledge-loss paths, waivers to review and the worst failing changes (a
bounded list kept by the summary), linked to the forge when the remote URL is known. A
Content-Security-Policy forbids every network request from the page.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any, TextIO

from govgate.audit.failures import ChangeFacts
from govgate.audit.record import ChangeRecord
from govgate.audit.summary import AuditSummary
from govgate.audit.thresholds import LARGE_MERGE_COMMITS
from govgate.formats.audit import percent
from govgate.formats.audit.memory_sections import HTML_CSS, html_section
from govgate.formats.audit.period_charts import FAILURE_NOTE, SHADED_NOTE, ai_share_chart, changes_chart, failure_chart
from govgate.formats.audit.svg import Frame, Series, line_chart
from govgate.formats.audit.wording import (
    COMPLIANCE_NOTE,
    EVIDENCE_NOTE,
    QUESTION_LABELS,
    compliance_rows,
    evidence_found,
    reviews_source,
    scope,
    span,
    totals_rows,
    vendor_lines,
)
from govgate.model import GOVERNANCE_QUESTIONS

MET_COLOUR, FOUND_COLOUR = "#2563eb", "#d97706"
PANEL = Frame(width=520, height=210, left=44, bottom=30)

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#0f172a;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f8fafc;cursor:default}th.sortable{cursor:pointer}td.num{text-align:right}
.muted{color:#64748b}.bad{color:#b91c1c}.chart{margin:8px 0 16px}
svg .grid{stroke:#e2e8f0;stroke-width:1}svg .tick,svg .legend{font-size:11px;fill:#475569}
code{background:#f1f5f9;padding:0 3px;border-radius:3px}
svg{max-width:100%;height:auto}.legend-key svg{vertical-align:middle}
.caveats{background:#fffbeb;border:1px solid #fcd34d;border-radius:6px;padding:8px 16px;margin:12px 0}
.caveats li{margin:4px 0}.note{color:#475569;font-size:13px;margin:4px 0 12px}
.multiples{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:8px 16px}
.multiples h3{font-size:14px;margin:8px 0 0}
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

    def change(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        return None  # the summary keeps the bounded list of worst failing changes

    def finish(self, summary: AuditSummary) -> None:
        self.out.write(render(summary))


def render(summary: AuditSummary) -> str:
    title = f"govgate audit: {summary.context.repository_name}"
    body = [f"<h1>{escape(title)}</h1>", _meta(summary)]
    if summary.changes:
        body += [_caveats(summary), _totals(summary), _compliance(summary), _charts(summary), _large_merges(summary),
                 _knowledge(summary), html_section(summary, _table), _waivers(summary), _failing(summary)]
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
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<p class="muted"><strong>{escape(scope(summary))}</strong>: {summary.changes:,} changes '
            f"{escape(span(summary))} in {repository}.<br>Policy: {escape(summary.policy_description)}, failing at "
            f"<code>{escape(summary.fail_on)}</code>. Evidence read: {escape(reviews_source(summary))}. Generated {generated}.</p>")


def _caveats(summary: AuditSummary) -> str:
    notes = summary.caveats()
    if not notes:
        return ""
    items = "".join(f'<li data-caveat="{escape(n["id"])}">{escape(n["message"])}</li>' for n in notes)
    return f'<div class="caveats" id="caveats"><strong>Read with care</strong><ul>{items}</ul></div>'


def _totals(summary: AuditSummary) -> str:
    total = summary.total
    rows = totals_rows(total)
    vendors = "; ".join(escape(line) for line in vendor_lines(summary))
    return ("<h2>AI-assisted versus other changes</h2>" + _table(("", "all changes", "AI-assisted", "other"), rows, numeric=True)
            + f'<p class="note">{escape(EVIDENCE_NOTE)}</p>' + (f"<p>AI tools by vendor: {vendors}</p>" if vendors else ""))


def _compliance(summary: AuditSummary) -> str:
    rows = compliance_rows(summary.total)
    return ("<h2>Policy compliance</h2>" + _table(("question", "asked on", "meets the policy", "evidence found"), rows, numeric=True)
            + f'<p class="note">{escape(COMPLIANCE_NOTE)}</p>')


def _charts(summary: AuditSummary) -> str:
    months = summary.sorted_months()
    labels = [m for m, _ in months]
    small = [not p.judged for _, p in months]
    panels = []
    for question in GOVERNANCE_QUESTIONS:
        label = QUESTION_LABELS[question]
        met = Series("meets the policy", MET_COLOUR, [p.compliance(question) for _, p in months], dash="", marker="circle")
        found = Series("evidence found", FOUND_COLOUR,
                       [evidence_found(p, question) for _, p in months], dash="6 4", marker="square")
        chart = line_chart(f"{label}: meets the policy and evidence found, by month", labels, [met, found], unjudged=small,
                           frame=PANEL, legend=False)
        asked = summary.total.asked[question]
        panels.append(f'<div class="chart panel" id="chart-{label}"><h3>{escape(label)} <span class="muted">(the policy '
                      f"asked on {asked:,} of {summary.changes:,} changes)</span></h3>{chart}</div>")
    return ("<h2>Changes per month</h2>"
            f'<div class="chart" id="chart-changes">{changes_chart("Changes per month", months)}</div>'
            "<h2>Meets the policy versus evidence found, per question</h2>"
            f'<p class="note">{escape(_legend_text())} {escape(SHADED_NOTE)}</p>'
            f'<div class="multiples" id="chart-compliance">{"".join(panels)}</div>'
            + trend_sections(ai_share_chart("AI-assisted share of changes by month", months),
                             failure_chart("Change-failure signal by quarter (share later reverted or fixed)",
                                           summary.sorted_quarters())))


def trend_sections(ai_share: str, failure: str) -> str:
    """The AI-assisted share and change-failure sections, with the notes that say how to read them."""
    return ("<h2>AI-assisted share over time</h2>"
            f'<p class="note">{escape(SHADED_NOTE)}</p>'
            f'<div class="chart" id="chart-ai-share">{ai_share}</div>'
            "<h2>Change-failure signal over time</h2>"
            f'<p class="note">{escape(FAILURE_NOTE)}</p>'
            f'<div class="chart" id="chart-failure">{failure}</div>')


def _legend_text() -> str:
    return ("Solid line, dots: meets the policy (had what an applicable rule asked, no red flag). Dashed line, squares: "
            "evidence found (usable evidence, whatever the policy asks).")


def _large_merges(summary: AuditSummary) -> str:
    if not summary.large_merges:
        return ""
    rows = []
    for e in summary.large_merge_examples:
        label = escape(e["id"])
        if e["url"]:
            label = f'<a href="{escape(e["url"])}">{label}</a>'
        rows.append((label, escape((e["date"] or "")[:10]), escape(e["title"]), f"{e['commits']:,}", escape(e["verdict"])))
    return (f"<h2>Large merges ({summary.large_merges:,})</h2><p class=\"note\">Merges that brought in {LARGE_MERGE_COMMITS} "
            "commits or more, each judged as one change: the commits they brought are not judged one by one.</p>"
            + _table(("change", "date", "title", "commits brought in", "verdict"), rows, raw=True, table_id="large-merges"))


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
