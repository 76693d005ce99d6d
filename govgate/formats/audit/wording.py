"""The words every audit format uses for the summary's figures, so that text, Markdown and HTML agree.

Two kinds of figure are easy to confuse, so their names say which they are: *evidence found*
("without review evidence": no usable evidence, whatever the policy asks) and *policy met*
("meets the policy": had what an applicable rule asked, no red flag).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govgate.audit.thresholds import MIN_MONTH_CHANGES
from govgate.detectors.ai_markers import UNKNOWN_VENDOR
from govgate.formats.audit import percent
from govgate.model import GOVERNANCE_QUESTIONS, Question

if TYPE_CHECKING:
    from govgate.audit.summary import AuditSummary, Bucket, Period

# Row of the AI-assisted versus other table -> its label.
ROW_LABELS = {
    "failing": "failing the policy",
    "incomplete": "not fully judged",
    "unreviewed": "without review evidence",
    "untested": "without test evidence",
    "without_rollout": "without rollout evidence",
    "without_rollback": "without rollback evidence",
    "reverted": "reverted later",
    "fixed": "fixed later",
    "failure_signal": "change-failure signal (reverted or fixed later)",
}
QUESTION_LABELS = {Question.REVIEWED: "reviewed", Question.TESTED: "tested", Question.ROLLOUT: "rollout",
                   Question.ROLLBACK: "rollback"}
GAP_OF = {Question.REVIEWED: "unreviewed", Question.TESTED: "untested", Question.ROLLOUT: "without_rollout",
          Question.ROLLBACK: "without_rollback"}

EVIDENCE_NOTE = ("'without ... evidence' counts changes where no usable evidence was found (or less than a rule asked), "
                 "whatever the policy asks; 'meets the policy' counts changes that had what an applicable rule asked "
                 "and no red flag.")
COMPLIANCE_NOTE = ("meets the policy: share of changes that had what the policy's applicable rules asked for the question "
                   "and no red flag; 'asked on' counts the changes where a rule asked for it.")
SMALL_NOTE = f"n<{MIN_MONTH_CHANGES}: too few changes to judge; the share is not given"


def bucket_value(bucket: Bucket, name: str) -> int:
    from govgate.audit.summary import GAPS

    values = {"failing": bucket.failing, "incomplete": bucket.incomplete, "reverted": bucket.reverted, "fixed": bucket.fixed,
              "failure_signal": bucket.failed_later, **{n: bucket.gaps[n] for n in GAPS}}
    return values[name]


def count_and_share(bucket: Bucket, name: str) -> str:
    """``12 (3.4%)``; ``-`` for an empty group."""
    value = bucket_value(bucket, name)
    return f"{value:,} ({percent(value / bucket.changes)})" if bucket.changes else "-"


def totals_rows(total: Period) -> list[tuple[str, str, str, str]]:
    """The AI-assisted versus other table: (label, all changes, AI-assisted, other) for each row."""
    both = total.combined()
    rows = [("changes", f"{total.changes:,}", f"{total.ai.changes:,} ({percent(total.ai_share)})", f"{total.other.changes:,}")]
    rows += [(label, count_and_share(both, name), count_and_share(total.ai, name), count_and_share(total.other, name))
             for name, label in ROW_LABELS.items()]
    return rows


def judged_share(bucket: Bucket, name: str) -> str:
    """A group's share, or its count when it is too small to judge (``n=4``)."""
    if not bucket.changes:
        return "-"
    if not bucket.judged:
        return f"n={bucket.changes}"
    return percent(bucket_value(bucket, name) / bucket.changes)


def period_share(period: Period, value: float | None) -> str:
    """A month's share of all its changes, or ``n=4`` when the month is too small to judge."""
    if not period.changes:
        return "-"
    return percent(value) if period.judged else f"n={period.changes}"


def compliance_rows(period: Period) -> list[tuple[str, str, str, str]]:
    """(question, asked on, meets the policy, evidence found) for each question."""
    rows = []
    for question in GOVERNANCE_QUESTIONS:
        asked = period.asked[question]
        rows.append((QUESTION_LABELS[question], f"{asked:,} ({percent(asked / period.changes)})" if period.changes else "-",
                     percent(period.compliance(question)), percent(evidence_found(period, question))))
    return rows


def evidence_found(period: Period, question: Question) -> float | None:
    """The share of the period's changes that had evidence on ``question`` (None: nothing to count)."""
    missing = period.gap_share(GAP_OF[question])
    return None if missing is None else 1 - missing


def vendor_lines(summary: AuditSummary) -> list[str]:
    """``Anthropic 44 changes (Claude 23, Claude Code 21)``, vendors by number of changes."""
    total = summary.total
    by_vendor: dict[str, list[str]] = {}
    for tool, count in total.tools.most_common():
        vendor = summary.tool_vendors.get(tool, UNKNOWN_VENDOR)
        by_vendor.setdefault(vendor, []).append(f"{tool} {count:,}")
    lines = []
    for vendor, count in total.vendors.most_common():
        tools = by_vendor.get(vendor, [])
        lines.append(f"{vendor} {count:,} change{'s' if count != 1 else ''}" + (f" ({', '.join(tools)})" if tools else ""))
    return lines


def filters(summary: AuditSummary) -> str:
    """`` (since 2026-01-01; touching src/**)``, or nothing when the whole range was audited."""
    parts = []
    if summary.since:
        parts.append(f"since {summary.since.date().isoformat()}")
    if summary.until:
        parts.append(f"until {summary.until.date().isoformat()}")
    if summary.paths:
        parts.append("touching " + ", ".join(summary.paths))
    return f" ({'; '.join(parts)})" if parts else ""


def scope(summary: AuditSummary) -> str:
    """``acme/widgets, main at 1a2b3c4d5e6f (since 2026-01-01; touching src/**)``."""
    return f"{summary.context.repository_name}, {summary.context.describe_range()}{filters(summary)}"


def span(summary: AuditSummary) -> str:
    if not (summary.oldest and summary.newest):
        return ""
    return f"from {summary.oldest[:10]} to {summary.newest[:10]}"


def reviews_source(summary: AuditSummary) -> str:
    if summary.context.github_reviews:
        return "git history and the reviews of merged pull requests on GitHub"
    return "git history only (pull-request reviews not read: no --github)"
