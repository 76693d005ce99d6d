"""The organisation report's tables as rows of text, shared by the text, Markdown and HTML formats."""

from __future__ import annotations

from govgate.audit.summary import Period
from govgate.formats.audit import percent
from govgate.formats.audit.wording import judged_share, period_share
from govgate.model import GOVERNANCE_QUESTIONS
from govgate.orgreport.model import OrgReport, RepositoryAudit, compliance_cells

REPOSITORY_HEADER = (
    "repository", "changes", "AI-assisted", "failing the policy", "without review evidence",
    *(f"{q.value}: meets the policy" for q in GOVERNANCE_QUESTIONS), "failure signal AI / other", "knowledge-loss paths",
    "large merges", "reviews read from",
)
MONTH_HEADER = ("month", "changes", "AI-assisted", "failing the policy", "failure signal AI / other")


def repository_row(name: str, period: Period, repo: RepositoryAudit | None) -> tuple[str, ...]:
    both = period.combined()
    return (
        name, f"{period.changes:,}", period_share(period, period.ai_share), judged_share(both, "failing"),
        judged_share(both, "unreviewed"), *compliance_cells(period),
        f"{judged_share(period.ai, 'failure_signal')} / {judged_share(period.other, 'failure_signal')}",
        str(len(repo.knowledge_paths)) if repo else "", str(repo.large_merges) if repo else "",
        ("GitHub" if repo.github_reviews else "git only") if repo else "",
    )


def repository_rows(report: OrgReport) -> list[tuple[str, ...]]:
    rows = [repository_row(_label(repo), repo.period, repo) for repo in report.repositories]
    total = repository_row(f"all {len(report.repositories)} repositories", report.total, None)
    paths = sum(len(r.knowledge_paths) for r in report.repositories)
    merges = sum(r.large_merges for r in report.repositories)
    online = sum(r.github_reviews for r in report.repositories)
    return [*rows, (*total[:-3], str(paths), str(merges), f"GitHub for {online} of {len(report.repositories)}")]


def month_rows(report: OrgReport) -> list[tuple[str, ...]]:
    return [(month, f"{p.changes:,}", period_share(p, p.ai_share), judged_share(p.combined(), "failing"),
             f"{judged_share(p.ai, 'failure_signal')} / {judged_share(p.other, 'failure_signal')}")
            for month, p in reversed(report.sorted_months())]


def knowledge_rows(report: OrgReport) -> list[tuple[str, ...]]:
    return [(row["repository"], str(row.get("path", "")), str(row.get("recent_changes", "")), percent(row.get("ai_share")),
             percent(row.get("newcomer_share")) if row.get("newcomer_share") is not None else "unknown",
             ", ".join(row.get("reasons", []))) for row in report.knowledge_paths()]


KNOWLEDGE_HEADER = ("repository", "path", "recent changes", "AI-assisted", "by authors new to it", "why")


def span(report: OrgReport) -> str:
    oldest = min((r.oldest for r in report.repositories if r.oldest), default=None)
    newest = max((r.newest for r in report.repositories if r.newest), default=None)
    return f"from {oldest[:10]} to {newest[:10]}" if oldest and newest else ""


def headline(report: OrgReport) -> str:
    count = len(report.repositories)
    return (f"{count} repositor{'ies' if count != 1 else 'y'}, {report.total.changes:,} changes {span(report)}".rstrip()
            + f"; AI-assisted {percent(report.total.ai_share)}")


def _label(repo: RepositoryAudit) -> str:
    return f"{repo.name} ({repo.range_label})" if repo.range_label else repo.name
