"""Streaming aggregation of an audit: per month and overall, AI-assisted changes versus the others.

Definitions (they are repeated in the JSON summary under ``definitions``):

* **AI-assisted**: the verdict's ``ai_assisted`` (the same markers and confidence floor as ``check``).
* **unreviewed / untested / without rollout / without rollback evidence**: the question's status is
  anything but ``satisfied``. A question is satisfied when usable supporting evidence was found (a
  self-review, an AI reviewer or an unreadable file does not count) and it meets every applicable
  rule's requirement. So when no rule asks for review, a change still counts as unreviewed unless
  some review evidence (an approval, a Reviewed-by trailer, ...) was found; and a change whose single
  approval falls short of a rule asking for two counts as unreviewed too.
* **compliance** of a question: the share of changes whose status is neither ``missing`` nor
  ``contradicted`` (what the policy asked for was there, or nothing was asked and no red flag seen).
* **change-failure signal**: the share of changes later reverted or fixed (see ``failures``).
* **failing**: the verdict is ``fail`` (a rule at or above ``--fail-on`` failed and was not waived).
* **asked**: a rule that applied to the change required something of the question (``required_by``).
  Compliance counts only what was asked, so it stays near 100% under a policy that asks little,
  while "without review evidence" counts what was found whatever the policy asks.
* **judged**: a month (or one group of its changes) holds at least ``MIN_MONTH_CHANGES`` changes;
  shares of smaller groups are reported but not plotted or compared (4 changes make 25% steps).
* **large merge**: a merge that brought in at least ``LARGE_MERGE_COMMITS`` commits. It is judged as
  one change, like any other, and flagged, because its commits' own reviews are not judged here.
* **not fully judged**: part of the change could not be read (missing commits or contents): whatever
  its verdict, it is never counted as passing.

Memory is bounded: counters per month, a bounded heap of the worst failing changes, the pending
references of the failure tracker and the recent window of the knowledge tracker.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from govgate.audit.caveats import caveats_of
from govgate.audit.context import AuditContext
from govgate.audit.failures import ChangeFacts, ChangeRefs, FailureTracker, references_of
from govgate.audit.knowledge import KnowledgeTracker
from govgate.audit.memory_summary import MemorySummary
from govgate.audit.record import ChangeRecord
from govgate.audit.thresholds import LARGE_MERGE_COMMITS, MIN_MONTH_CHANGES
from govgate.detectors.ai_markers import UNKNOWN_VENDOR, vendors_of
from govgate.model import GOVERNANCE_QUESTIONS, Change, Question, Severity, parse_moment
from govgate.policy.model import Policy, Waiver

SCHEMA = "govgate/audit/v1"
WORST_LIMIT = 200
PROBLEM_EXAMPLES = 20
LARGE_MERGE_EXAMPLES = 20

GAPS: dict[str, Question] = {
    "unreviewed": Question.REVIEWED,
    "untested": Question.TESTED,
    "without_rollout": Question.ROLLOUT,
    "without_rollback": Question.ROLLBACK,
}
NONCOMPLIANT = ("missing", "contradicted")
_GAP_INDEX = tuple((name, GOVERNANCE_QUESTIONS.index(question)) for name, question in GAPS.items())

DEFINITIONS = {
    "ai_assisted": "the verdict found AI-assistance markers (the same detectors and confidence floor as check)",
    "unreviewed": "the reviewed question is not satisfied: no usable review evidence (self-reviews and AI reviews "
                  "do not count), or less than an applicable rule requires",
    "untested": "the tested question is not satisfied (no test evidence, or less than a rule requires)",
    "without_rollout": "the rollout question is not satisfied (no gradual rollout, flag or plan found, or a red flag)",
    "without_rollback": "the rollback question is not satisfied (no reversible migration, revert path or plan, or a red flag)",
    "compliance": "share of changes whose question is neither missing (a rule asked for it) nor contradicted (red flag)",
    "reverted": "a newer change reverts one of its commits (This reverts commit <sha>) or its pull request",
    "fixed": "a newer change has a Fixes: <sha> trailer naming one of its commits, or is a fix naming one",
    "failure_signal": "share of changes later reverted or fixed",
    "failing": "the verdict is fail: a rule at or above --fail-on failed and was not waived",
    "asked": "a rule that applied to the change required something of the question",
    "judged": f"the group holds at least {MIN_MONTH_CHANGES} changes; smaller groups are shown but not plotted or compared",
    "large_merge": f"a merge that brought in at least {LARGE_MERGE_COMMITS} commits, judged as one change",
    "incomplete": "part of the change could not be read (commits, trees or contents missing from the clone): it was "
                  "not fully judged and never counts as passing",
}


@dataclass
class Bucket:
    """Counts for one group of changes (AI-assisted, or the others) in one period."""

    changes: int = 0
    failing: int = 0
    incomplete: int = 0
    gaps: Counter[str] = field(default_factory=Counter)
    reverted: int = 0
    fixed: int = 0
    failed_later: int = 0

    def add(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        self.changes += 1
        self.failing += record.verdict == "fail"
        self.incomplete += not record.complete
        for name, index in _GAP_INDEX:
            if record.statuses[index] != "satisfied":
                self.gaps[name] += 1
        self.reverted += facts.reverted
        self.fixed += facts.fixed
        self.failed_later += facts.reverted or facts.fixed

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bucket:
        """The inverse of ``to_dict`` (shares are recomputed, never read)."""
        return cls(changes=data["changes"], failing=data["failing"], incomplete=data.get("incomplete", 0),
                   gaps=Counter({n: data[n] for n in GAPS}), reverted=data["reverted"], fixed=data["fixed"],
                   failed_later=data["reverted_or_fixed"])

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"changes": self.changes, "failing": self.failing, "incomplete": self.incomplete}
        for name in GAPS:
            data[name] = self.gaps[name]
        data.update(reverted=self.reverted, fixed=self.fixed, reverted_or_fixed=self.failed_later, judged=self.judged)
        data["shares"] = {
            name: share(value, self.changes)
            for name, value in (("failing", self.failing), ("incomplete", self.incomplete), *((n, self.gaps[n]) for n in GAPS),
                                ("reverted", self.reverted), ("fixed", self.fixed), ("failure_signal", self.failed_later))
        }
        return data

    @property
    def judged(self) -> bool:
        return self.changes >= MIN_MONTH_CHANGES

    @property
    def failure_share(self) -> float | None:
        return share(self.failed_later, self.changes)

    def plus(self, other: Bucket) -> Bucket:
        return Bucket(changes=self.changes + other.changes, failing=self.failing + other.failing,
                      incomplete=self.incomplete + other.incomplete, gaps=self.gaps + other.gaps,
                      reverted=self.reverted + other.reverted, fixed=self.fixed + other.fixed,
                      failed_later=self.failed_later + other.failed_later)


@dataclass
class Period:
    """A month, or the whole run."""

    ai: Bucket = field(default_factory=Bucket)
    other: Bucket = field(default_factory=Bucket)
    tools: Counter[str] = field(default_factory=Counter)
    vendors: Counter[str] = field(default_factory=Counter)
    statuses: dict[Question, Counter[str]] = field(default_factory=lambda: {q: Counter() for q in GOVERNANCE_QUESTIONS})
    asked: Counter[Question] = field(default_factory=Counter)

    @property
    def changes(self) -> int:
        return self.ai.changes + self.other.changes

    @property
    def judged(self) -> bool:
        return self.changes >= MIN_MONTH_CHANGES

    @property
    def ai_share(self) -> float | None:
        return share(self.ai.changes, self.changes)

    @property
    def incomplete(self) -> int:
        return self.ai.incomplete + self.other.incomplete

    def combined(self) -> Bucket:
        """AI-assisted and other changes counted together."""
        return self.ai.plus(self.other)

    def plus(self, other: Period) -> Period:
        return Period(ai=self.ai.plus(other.ai), other=self.other.plus(other.other), tools=self.tools + other.tools,
                      vendors=self.vendors + other.vendors,
                      statuses={q: self.statuses[q] + other.statuses[q] for q in GOVERNANCE_QUESTIONS},
                      asked=self.asked + other.asked)

    def gap_share(self, name: str) -> float | None:
        """Share of all the period's changes without usable evidence for GAPS[name]."""
        return share(self.ai.gaps[name] + self.other.gaps[name], self.changes)

    def add(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        (self.ai if record.ai_assisted else self.other).add(record, facts)
        if record.ai_assisted:
            self.tools.update(record.ai_tools or ["unnamed tool"])
            by_tool = record.ai_tool_vendors
            unknown = not record.ai_tools or any(tool not in by_tool for tool in record.ai_tools)
            self.vendors.update(sorted(set(by_tool.values())) + [UNKNOWN_VENDOR] * unknown)
        for question, status, asked in zip(GOVERNANCE_QUESTIONS, record.statuses, record.asked, strict=True):
            self.statuses[question][status] += 1
            self.asked[question] += asked

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Period:
        """A period read back from an audit summary, so that summaries of many audits add up (``plus``)."""
        questions = data["questions"]
        return cls(ai=Bucket.from_dict(data["ai"]), other=Bucket.from_dict(data["other"]),
                   tools=Counter(data.get("ai_tools", {})), vendors=Counter(data.get("ai_vendors", {})),
                   statuses={q: Counter(questions[q.value]["statuses"]) for q in GOVERNANCE_QUESTIONS},
                   asked=Counter({q: questions[q.value].get("asked", 0) for q in GOVERNANCE_QUESTIONS}))

    def compliance(self, question: Question) -> float | None:
        bad = sum(self.statuses[question][s] for s in NONCOMPLIANT)
        return share(self.changes - bad, self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": self.changes,
            "failing": self.ai.failing + self.other.failing,
            "incomplete": self.incomplete,
            "ai_assisted": self.ai.changes,
            "ai_share": share(self.ai.changes, self.changes),
            "ai_tools": dict(self.tools.most_common()),
            "ai_vendors": dict(self.vendors.most_common()),
            "reverted_or_fixed": self.ai.failed_later + self.other.failed_later,
            "judged": self.judged,
            "ai": self.ai.to_dict(),
            "other": self.other.to_dict(),
            "questions": {
                q.value: {"compliance": self.compliance(q), "asked": self.asked[q],
                          "statuses": dict(sorted(self.statuses[q].items()))}
                for q in GOVERNANCE_QUESTIONS
            },
        }


class AuditSummary:
    def __init__(
        self, policy: Policy, *, range_label: str, since: dt.datetime | None = None, until: dt.datetime | None = None,
        paths: tuple[str, ...] = (), repo_url: str | None = None, fail_on: Severity = Severity.ERROR, worst_limit: int = WORST_LIMIT,
        now: dt.datetime | None = None,
        context: AuditContext,
    ) -> None:
        self.policy = policy
        self.range_label = range_label
        self.context = context
        self.since, self.until, self.paths = since, until, paths
        self.repo_url = repo_url
        self.fail_on = fail_on
        self.worst_limit = worst_limit
        self.total = Period()
        self.months: dict[str, Period] = {}
        self.rules: dict[str, Counter[str]] = {rule.id: Counter() for rule in policy.rules}
        self.failures = FailureTracker()
        self.knowledge = KnowledgeTracker()
        self.memory = MemorySummary(now)
        self.problems: list[str] = []  # about the run as a whole
        self.problem_changes = 0
        self.problem_examples: list[dict[str, Any]] = []
        self.newest: str | None = None
        self.oldest: str | None = None
        self._waivers: dict[Waiver, Counter[str]] = {w: Counter() for w in policy.waivers}
        self._worst: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self._seen = 0
        self.tool_vendors: dict[str, str] = {}
        self.large_merges = 0
        self.large_merge_commits = 0
        self.large_merge_examples: list[dict[str, Any]] = []

    @property
    def changes(self) -> int:
        return self.total.changes

    @property
    def policy_description(self) -> str:
        """Where the policy was read from (the audited revision, a file, a preset)."""
        return self.policy.origin.describe() if self.policy.origin else self.policy.source

    def add(self, record: ChangeRecord, refs: ChangeRefs) -> ChangeFacts:
        """Count one judged change (in history order, newest first); returns what newer changes said of it."""
        facts = self.failures.observe(refs)
        facts.repository = self.context.repository_name
        facts.large_merge = self._note_large_merge(record)
        self.tool_vendors.update(record.ai_tool_vendors)
        when = _when(record.date)
        month = when.strftime("%Y-%m") if when else "unknown"
        self.total.add(record, facts)
        period = self.months.get(month)
        if period is None:
            period = self.months[month] = Period()
        period.add(record, facts)
        rules = self.rules
        for rule_id, status in record.rules:
            counts = rules.get(rule_id)
            if counts is None:
                counts = rules[rule_id] = Counter()
            counts[status] += 1
        waivers = self.policy.waivers
        for index, status in record.waivers:
            waiver = waivers[index]
            self._waivers[waiver][status] += 1  # every waiver of the policy is counted from the start
        self.knowledge.observe(record, when)
        self.memory.observe(record, facts)
        if record.problems:
            self.problem_changes += 1
            if len(self.problem_examples) < PROBLEM_EXAMPLES:
                self.problem_examples.append({"change": record.id, "sha": record.sha, "problems": list(record.problems)})
        self.newest = self.newest or record.date
        self.oldest = record.date
        self._seen += 1
        if record.verdict == "fail":
            self._keep_worst(record, facts)
        return facts

    def add_older(self, change: Change) -> None:
        """A change before the audited range: it shows who knew what before, and is never judged or counted."""
        facts = self.failures.observe(references_of(change))
        self.knowledge.observe_baseline(change)
        self.memory.observe_older(change, facts)

    def _note_large_merge(self, record: ChangeRecord) -> bool:
        brought_in = record.commits - 1
        if record.kind != "merge" or brought_in < LARGE_MERGE_COMMITS:
            return False
        self.large_merges += 1
        self.large_merge_commits += brought_in
        if len(self.large_merge_examples) < LARGE_MERGE_EXAMPLES:
            self.large_merge_examples.append({
                "id": record.id, "sha": record.sha, "date": record.date, "title": record.title, "commits": brought_in,
                "verdict": record.verdict, "url": record.url,
            })
        return True

    def caveats(self) -> list[dict[str, str]]:
        """What a reader must know to read the figures right, in words (see ``caveats``)."""
        return caveats_of(self)

    def _keep_worst(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        key = (record.gating, len(record.failing), record.risk_score, record.ai_assisted, -self._seen)
        if len(self._worst) >= self.worst_limit and key <= self._worst[0][0]:
            return
        entry = offender(record, facts)
        if len(self._worst) >= self.worst_limit:
            heapq.heapreplace(self._worst, (key, entry))
        else:
            heapq.heappush(self._worst, (key, entry))

    def worst(self, limit: int | None = None) -> list[dict[str, Any]]:
        ranked = [entry for _, entry in sorted(self._worst, key=lambda item: item[0], reverse=True)]
        return ranked[:limit] if limit is not None else ranked

    def sorted_months(self) -> list[tuple[str, Period]]:
        return sorted(self.months.items())

    def sorted_quarters(self) -> list[tuple[str, Period]]:
        """Months summed by calendar quarter (``2026-Q1``): groups too small by month may be judged by quarter."""
        return quarters(self.sorted_months())

    def waiver_notes(self) -> list[dict[str, Any]]:
        rule_ids = {rule.id for rule in self.policy.rules}
        notes = []
        for waiver, counts in self._waivers.items():
            if counts["applied"]:
                status = "applied"
            elif counts["expired"]:
                status = "expired"
            elif counts["unused"]:
                status = "unused"
            elif counts["unproven"]:
                status = "unproven"
            elif waiver.rule not in rule_ids:
                status = "unknown_rule"
            else:
                status = "not_matched"
            notes.append({
                "rule": waiver.rule, "change": waiver.change, "reason": waiver.reason, "approved_by": waiver.approved_by,
                "expires": waiver.expires, "status": status, "applied": counts["applied"],
            })
        return notes

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "range": {
                "rev": self.range_label,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "paths": list(self.paths),
                "newest": self.newest,
                "oldest": self.oldest,
                "branch": self.context.branch,
                "tip": self.context.tip,
                "label": self.context.describe_range(),
            },
            "repository": self.repo_url,
            "policy": self.policy.source,
            "policy_origin": self.policy.origin.to_dict() if self.policy.origin else None,
            "fail_on": self.fail_on,
            **self.context.to_dict(),
            "thresholds": {"min_month_changes": MIN_MONTH_CHANGES, "large_merge_commits": LARGE_MERGE_COMMITS},
            "caveats": self.caveats(),
            "definitions": DEFINITIONS,
            "totals": self.total.to_dict(),
            "ai_tool_vendors": dict(sorted(self.tool_vendors.items())),
            "large_merges": {"count": self.large_merges, "commits": self.large_merge_commits,
                             "examples": self.large_merge_examples},
            "months": [{"month": month, **period.to_dict()} for month, period in self.sorted_months()],
            "rules": {rule_id: dict(sorted(counts.items())) for rule_id, counts in self.rules.items()},
            "waivers": self.waiver_notes(),
            "knowledge_loss": self.knowledge.to_dict(),
            **self.memory.to_dict(),
            "worst": self.worst(),
            "problems": {
                "run": list(self.problems),
                "changes_with_problems": self.problem_changes,
                "examples": self.problem_examples,
                "unresolved_references": self.failures.pending,
            },
        }


def offender(record: ChangeRecord, facts: ChangeFacts) -> dict[str, Any]:
    return {
        "id": record.id,
        "sha": record.sha,
        "kind": record.kind,
        "date": record.date,
        "title": record.title,
        "author": record.author,
        "ai_assisted": record.ai_assisted,
        "ai_tools": record.ai_tools,
        "ai_vendors": vendors_of(record.ai_tool_vendors),
        "commits": record.commits,
        "risk": record.risk_level,
        "risk_score": round(record.risk_score, 2),
        "questions": {q.value: status for q, status in zip(GOVERNANCE_QUESTIONS, record.statuses, strict=True)},
        "failing": [{"rule": rule, "severity": severity, "message": message} for rule, severity, message in record.failing],
        "url": record.url,
        "pull_request_url": record.pull_request_url,
        "reverted_by": facts.reverted_by,
        "fixed_by": facts.fixed_by,
    }


def quarters(months: list[tuple[str, Period]]) -> list[tuple[str, Period]]:
    grouped: dict[str, Period] = {}
    for month, period in months:
        year, _, number = month.partition("-")
        key = f"{year}-Q{(int(number) - 1) // 3 + 1}" if number.isdigit() else month
        grouped[key] = grouped[key].plus(period) if key in grouped else period
    return sorted(grouped.items())


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _when(text: str | None) -> dt.datetime | None:
    moment = parse_moment(text)
    return moment.astimezone(dt.UTC) if moment is not None else None
