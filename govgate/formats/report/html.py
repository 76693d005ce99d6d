"""HTML: the organisation report as one self-contained page (inline CSS and SVG, nothing fetched)."""

from __future__ import annotations

from html import escape

from govgate.audit.thresholds import MIN_MONTH_CHANGES
from govgate.formats.audit.html import _CSS, AI_COLOUR, COUNT_COLOUR, OTHER_COLOUR, _table
from govgate.formats.audit.svg import Series, bar_chart, count_chart, line_chart
from govgate.formats.audit.wording import EVIDENCE_NOTE, SMALL_NOTE
from govgate.formats.report.rows import (
    KNOWLEDGE_HEADER,
    MONTH_HEADER,
    REPOSITORY_HEADER,
    headline,
    knowledge_rows,
    month_rows,
    repository_rows,
)
from govgate.orgreport.model import OrgReport

TITLE = "govgate organisation report"


def render(report: OrgReport) -> str:
    body = [f"<h1>{TITLE}</h1>", f'<p class="muted">{escape(headline(report))}. Generated {escape(report.generated_at)}.</p>']
    notes = report.caveats()
    if notes:
        items = "".join(f'<li data-caveat="{escape(n["id"])}">{escape(n["message"])}</li>' for n in notes)
        body.append(f'<div class="caveats" id="caveats"><strong>Read with care</strong><ul>{items}</ul></div>')
    body += ["<h2>Repositories</h2>", _table(REPOSITORY_HEADER, repository_rows(report), numeric=True, table_id="repositories"),
             f'<p class="note">{escape(EVIDENCE_NOTE)} {escape(SMALL_NOTE)}.</p>']
    vendors = report.total.vendors.most_common()
    if vendors:
        body.append("<p>AI-assisted changes by vendor: " + escape(", ".join(f"{v} {n:,}" for v, n in vendors)) + "</p>")
    body += _charts(report)
    body += ["<h2>By month, all repositories</h2>", _table(MONTH_HEADER, month_rows(report), numeric=True)]
    knowledge = knowledge_rows(report)
    if knowledge:
        body += ["<h2>Knowledge-loss paths</h2>", _table(KNOWLEDGE_HEADER, knowledge)]
    if report.problems:
        body.append("<h2>Problems</h2><ul>" + "".join(f"<li>{escape(p)}</li>" for p in report.problems) + "</ul>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{TITLE}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _charts(report: OrgReport) -> list[str]:
    months = report.sorted_months()
    if not months:
        return []
    labels = [m for m, _ in months]
    small = [not p.judged for _, p in months]
    counts = count_chart("Changes per month, all repositories", labels, [p.changes for _, p in months], COUNT_COLOUR,
                         "changes", threshold=MIN_MONTH_CHANGES, threshold_label=f"{MIN_MONTH_CHANGES} changes: fewer are not judged")
    share = bar_chart("AI-assisted share of changes by month, all repositories", labels, [p.ai_share for _, p in months],
                      AI_COLOUR, "AI-assisted share", unjudged=small)
    quarters = report.sorted_quarters()
    failure = line_chart(
        "Change-failure signal by quarter, all repositories", [q for q, _ in quarters],
        [Series("AI-assisted", AI_COLOUR, [p.ai.failure_share if p.ai.judged else None for _, p in quarters], dash="",
                marker="circle"),
         Series("other", OTHER_COLOUR, [p.other.failure_share if p.other.judged else None for _, p in quarters],
                dash="6 4", marker="square")],
        unjudged=[not p.judged for _, p in quarters])
    return ["<h2>Changes per month</h2>", f'<div class="chart" id="chart-changes">{counts}</div>',
            "<h2>AI-assisted share over time</h2>",
            f'<p class="note">Shaded months had fewer than {MIN_MONTH_CHANGES} changes and are not judged.</p>',
            f'<div class="chart" id="chart-ai-share">{share}</div>',
            "<h2>Change-failure signal over time</h2>",
            f'<p class="note">Share of changes later reverted or fixed, by quarter; a point needs {MIN_MONTH_CHANGES} changes '
            "of its group in the quarter.</p>", f'<div class="chart" id="chart-failure">{failure}</div>']
