"""HTML: the organisation report as one self-contained page (inline CSS and SVG, nothing fetched)."""

from __future__ import annotations

from html import escape

from govgate.formats.audit.html import _CSS, _table, trend_sections
from govgate.formats.audit.period_charts import ai_share_chart, changes_chart, failure_chart
from govgate.formats.audit.wording import EVIDENCE_NOTE, SMALL_NOTE
from govgate.formats.report import rows
from govgate.orgreport.model import OrgReport

TITLE = "govgate organisation report"


def render(report: OrgReport) -> str:
    body = [f"<h1>{TITLE}</h1>", f'<p class="muted">{escape(rows.headline(report))}. Generated {escape(report.generated_at)}.</p>']
    notes = report.caveats()
    if notes:
        items = "".join(f'<li data-caveat="{escape(n["id"])}">{escape(n["message"])}</li>' for n in notes)
        body.append(f'<div class="caveats" id="caveats"><strong>Read with care</strong><ul>{items}</ul></div>')
    body += ["<h2>Repositories</h2>", _table(rows.REPOSITORY_HEADER, rows.repository_rows(report), numeric=True, table_id="repositories"),
             f'<p class="note">{escape(EVIDENCE_NOTE)} {escape(SMALL_NOTE)}.</p>']
    vendors = report.total.vendors.most_common()
    if vendors:
        body.append("<p>AI-assisted changes by vendor: " + escape(", ".join(f"{v} {n:,}" for v, n in vendors)) + "</p>")
    body += _charts(report)
    body += ["<h2>By month, all repositories</h2>", _table(rows.MONTH_HEADER, rows.month_rows(report), numeric=True)]
    knowledge = rows.knowledge_rows(report)
    if knowledge:
        body += ["<h2>Knowledge-loss paths</h2>", _table(rows.KNOWLEDGE_HEADER, knowledge)]
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
    counts = changes_chart("Changes per month, all repositories", months)
    return ["<h2>Changes per month</h2>", f'<div class="chart" id="chart-changes">{counts}</div>',
            trend_sections(ai_share_chart("AI-assisted share of changes by month, all repositories", months),
                           failure_chart("Change-failure signal by quarter, all repositories", report.sorted_quarters()))]
