"""The organisation report: audits of many repositories added up, per repository and in all.

Every figure is a sum of the audits' own counts (``Period.from_dict`` then ``plus``), and every
share is recomputed from the sums with the audit's own definitions, so the organisation's
compliance is the share of all its changes, not an average of averages. The same repository
and range given twice counts once (the newer audit); the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from govgate import __version__
from govgate.audit.context import now_utc, repository_name
from govgate.audit.summary import Period, quarters
from govgate.audit.thresholds import MIN_MONTH_CHANGES
from govgate.formats.audit import percent
from govgate.model import GOVERNANCE_QUESTIONS
from govgate.orgreport.reader import AuditRecord, ReadResult

REPORT_SCHEMA = "govgate/report/v1"
KNOWLEDGE_SHOWN = 25


@dataclass
class RepositoryAudit:
    name: str
    url: str | None
    range_label: str
    oldest: str | None
    newest: str | None
    policy: str
    github_reviews: bool
    period: Period
    months: dict[str, Period]
    knowledge_paths: list[dict[str, Any]]
    large_merges: int
    large_merge_commits: int
    problems: int
    where: str

    @classmethod
    def from_record(cls, record: AuditRecord) -> RepositoryAudit:
        summary = record.summary
        rng = summary.get("range", {})
        url = summary.get("repository")
        name = summary.get("repository_name") or (repository_name(url, None) if url else record.where)
        large = summary.get("large_merges", {})
        return cls(
            name=name, url=url, range_label=rng.get("label") or rng.get("rev") or "", oldest=rng.get("oldest"),
            newest=rng.get("newest"), policy=(summary.get("policy_origin") or {}).get("description") or str(summary.get("policy", "")),
            github_reviews=bool(summary.get("evidence_sources", {}).get("github_reviews")),
            period=Period.from_dict(summary["totals"]),
            months={m["month"]: Period.from_dict(m) for m in summary["months"]},
            knowledge_paths=list(summary.get("knowledge_loss", {}).get("paths", [])),
            large_merges=large.get("count", 0), large_merge_commits=large.get("commits", 0),
            problems=summary.get("problems", {}).get("changes_with_problems", 0), where=record.where,
        )

    @staticmethod
    def identity(record: AuditRecord) -> tuple[Any, ...]:
        summary = record.summary
        rng = summary.get("range", {})
        name = summary.get("repository_name") or summary.get("repository") or record.where
        return name, rng.get("rev"), tuple(rng.get("paths") or ()), rng.get("since"), rng.get("until")


@dataclass
class OrgReport:
    repositories: list[RepositoryAudit]
    total: Period
    months: dict[str, Period]
    problems: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # "name: a.jsonl:161 replaced by b.jsonl:161"
    generated_at: str = ""

    @classmethod
    def build(cls, read: ReadResult) -> OrgReport:
        chosen: dict[tuple[Any, ...], AuditRecord] = {}
        replaced = []
        for record in read.audits:
            key = RepositoryAudit.identity(record)
            if key in chosen:
                # The audit that reaches further in history is the newer one; on a tie, the one given last.
                older, newer = sorted((chosen[key], record), key=lambda r: str(r.summary.get("range", {}).get("newest") or ""))
                replaced.append(f"{key[0]} ({key[1]}): {older.where} left out, {newer.where} used (the newer audit)")
                chosen[key] = newer
            else:
                chosen[key] = record
        repositories = sorted((RepositoryAudit.from_record(r) for r in chosen.values()), key=lambda r: (r.name, r.range_label))
        total = Period()
        months: dict[str, Period] = {}
        for repo in repositories:
            total = total.plus(repo.period)
            for month, period in repo.months.items():
                months[month] = months[month].plus(period) if month in months else period
        return cls(repositories, total, months, list(read.problems), replaced, now_utc())

    def sorted_months(self) -> list[tuple[str, Period]]:
        return sorted(self.months.items())

    def sorted_quarters(self) -> list[tuple[str, Period]]:
        return quarters(self.sorted_months())

    def knowledge_paths(self) -> list[dict[str, Any]]:
        """The audits' knowledge-loss paths, each with its repository, the largest first."""
        rows = [{"repository": repo.name, **row} for repo in self.repositories for row in repo.knowledge_paths]
        rows.sort(key=lambda r: (-(r.get("recent_changes", 0) * max(r.get("ai_share") or 0, r.get("newcomer_share") or 0)),
                                 r["repository"], str(r.get("path"))))
        return rows[:KNOWLEDGE_SHOWN]

    def caveats(self) -> list[dict[str, str]]:
        notes = []
        offline = [r.name for r in self.repositories if not r.github_reviews]
        if offline:
            notes.append({"id": "reviews_not_seen", "message": (
                f"{len(offline)} of {len(self.repositories)} repositories were audited from git history only (no --github): "
                "there, 'without review evidence' counts changes without a Reviewed-by style trailer, not changes nobody "
                "reviewed. Audit them with --github to read pull-request reviews.")})
        policies = sorted({r.policy for r in self.repositories})
        if len(policies) > 1:
            notes.append({"id": "policies_differ", "message": (
                f"The repositories were judged by {len(policies)} different policies ({'; '.join(policies)}): "
                "'meets the policy' compares what each policy asked, not one standard.")})
        small = [r.name for r in self.repositories if not r.period.judged]
        if small:
            notes.append({"id": "small_repositories", "message": (
                f"{len(small)} repositories had fewer than {MIN_MONTH_CHANGES} changes in their range ({', '.join(small[:10])}"
                f"{', ...' if len(small) > 10 else ''}): their shares are not given, their counts are in the totals.")})
        merges = sum(r.large_merges for r in self.repositories)
        if merges:
            notes.append({"id": "large_merges", "message": (
                f"{merges} large merge(s) ({sum(r.large_merge_commits for r in self.repositories):,} commits brought in) "
                "are each counted as one change; see each repository's audit.")})
        if self.replaced:
            notes.append({"id": "duplicates", "message": (
                f"{len(self.replaced)} audit(s) of a repository and range given twice were counted once: "
                + "; ".join(self.replaced))})
        return notes

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "generated_at": self.generated_at,
            "govgate_version": __version__,
            "thresholds": {"min_month_changes": MIN_MONTH_CHANGES},
            "caveats": self.caveats(),
            "totals": {"repositories": len(self.repositories), **self.total.to_dict()},
            "repositories": [_repository_dict(r) for r in self.repositories],
            "months": [{"month": month, **period.to_dict()} for month, period in self.sorted_months()],
            "knowledge_loss": self.knowledge_paths(),
            "problems": self.problems,
        }


def _repository_dict(repo: RepositoryAudit) -> dict[str, Any]:
    return {
        "repository": repo.name, "url": repo.url, "range": repo.range_label, "oldest": repo.oldest, "newest": repo.newest,
        "policy": repo.policy, "github_reviews": repo.github_reviews, "source": repo.where,
        "knowledge_loss_paths": len(repo.knowledge_paths), "large_merges": repo.large_merges,
        "changes_with_problems": repo.problems, **repo.period.to_dict(),
    }


def compliance_cells(period: Period) -> list[str]:
    """'meets the policy' per question, or the count when too few changes to judge."""
    if not period.judged:
        return [f"n={period.changes}"] * len(GOVERNANCE_QUESTIONS)
    return [percent(period.compliance(q)) for q in GOVERNANCE_QUESTIONS]
