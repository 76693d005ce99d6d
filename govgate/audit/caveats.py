"""What a reader must know to read an audit's figures right, said once in words for every format.

The summary decides which caveats hold (formats print them as they are): reviews that offline data
cannot see, compliance that counts only what the policy asked, months too small to judge, and
merges that brought in so many commits that judging them as one change hides most of the work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govgate.audit.thresholds import LARGE_MERGE_COMMITS, MIN_MONTH_CHANGES
from govgate.formats.audit import percent
from govgate.model import GOVERNANCE_QUESTIONS, Question

if TYPE_CHECKING:
    from govgate.audit.summary import AuditSummary

QUESTION_NOUNS = {Question.REVIEWED: "review", Question.TESTED: "tests", Question.ROLLOUT: "a rollout",
                  Question.ROLLBACK: "a rollback path"}
ASKED_LITTLE = 0.5  # below this share of changes asked, compliance says little about the evidence


def caveats_of(summary: AuditSummary) -> list[dict[str, str]]:
    if not summary.changes:
        return []
    found = [_reviews_not_seen(summary), _compliance_counts_what_was_asked(summary), _small_months(summary),
             _large_merges(summary)]
    return [{"id": key, "message": text} for key, text in found if text]


def _reviews_not_seen(summary: AuditSummary) -> tuple[str, str | None]:
    if summary.context.github_reviews:
        return "reviews_not_seen", None
    url = summary.context.repository_url or ""
    unreviewed = percent(summary.total.gap_share("unreviewed"))
    text = (f"Reviews: only git history was read. Reviews given on pull requests are not stored in git, so "
            f"'without review evidence' ({unreviewed} here) counts changes without a Reviewed-by style trailer, "
            "not changes nobody reviewed.")
    if "github" in url.split("://", 1)[-1].split("/", 1)[0]:
        text += " Run govgate audit with --github (and GITHUB_TOKEN) to read the reviews of merged pull requests."
    else:
        text += " govgate reads pull-request reviews from GitHub only (--github)."
    return "reviews_not_seen", text


def _compliance_counts_what_was_asked(summary: AuditSummary) -> tuple[str, str | None]:
    total = summary.total
    asked = {q: total.asked[q] for q in GOVERNANCE_QUESTIONS}
    if all(count / total.changes >= ASKED_LITTLE for count in asked.values()):
        return "compliance_counts_what_was_asked", None
    parts = ", ".join(f"{QUESTION_NOUNS[q]} on {n:,} ({percent(n / total.changes)})" for q, n in asked.items())
    return "compliance_counts_what_was_asked", (
        f"Compliance counts only what the policy asked: of {total.changes:,} changes it asked for {parts}. "
        "Where it asks little, compliance stays near 100% whatever evidence exists; the 'without ... evidence' "
        "figures count what was found, whatever the policy asks.")


def _small_months(summary: AuditSummary) -> tuple[str, str | None]:
    months = summary.sorted_months()
    small = sum(not period.judged for _, period in months)
    if not small:
        return "small_months", None
    return "small_months", (
        f"{small} of {len(months)} months had fewer than {MIN_MONTH_CHANGES} changes: their shares are shown with "
        "their count but not plotted or compared (a handful of changes makes large swings).")


def _large_merges(summary: AuditSummary) -> tuple[str, str | None]:
    if not summary.large_merges:
        return "large_merges", None
    count = summary.large_merges
    return "large_merges", (
        f"{count} merge{'s' if count != 1 else ''} brought in {LARGE_MERGE_COMMITS} commits or more "
        f"({summary.large_merge_commits:,} commits in all). Each is judged as one change, so the reviews and tests "
        "of the commits it brought are not judged one by one: audit the merged branch itself for that.")
