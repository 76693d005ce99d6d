"""The outcome of judging one change, and its stable JSON form (``govgate/check/v1``).

Formats render a Verdict; none of them recomputes anything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from govgate.detectors.ai_markers import vendors_of
from govgate.model import GOVERNANCE_QUESTIONS, Change, Evidence, Gap, Question, Severity
from govgate.policy.model import PolicyOrigin, Requirement, Rule, Waiver

if TYPE_CHECKING:
    from govgate.policy.freeze_state import FreezeReport
    from govgate.policy.memory_state import MemoryReport

CHECK_SCHEMA = "govgate/check/v1"


class RuleStatus(enum.StrEnum):
    """What a rule came to on a change."""

    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"  # its condition did not hold: not applied, never "passed"
    WAIVED = "waived"  # failed, and a waiver in force covers it


class WaiverStatus(enum.StrEnum):
    """What became of a waiver on a change."""

    APPLIED = "applied"
    EXPIRED = "expired"
    UNUSED = "unused"  # its rule did not fail
    UNKNOWN_RULE = "unknown_rule"  # it names no rule of the policy (only policies built in code: files are refused)
    UNPROVEN = "unproven"  # a '#N' that only a commit message claims


class QuestionStatus(enum.StrEnum):
    """What the evidence says about one governance question, whatever the rules ask."""

    SATISFIED = "satisfied"
    MISSING = "missing"
    CONTRADICTED = "contradicted"
    NOT_REQUIRED = "not_required"


class Outcome(enum.StrEnum):
    """The verdict on a change. ``incomplete``: part of the change could not be read, so it cannot pass."""

    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"

    @property
    def headline(self) -> str:
        return "NOT FULLY JUDGED" if self is Outcome.INCOMPLETE else self.value.upper()


@dataclass
class RequirementResult:
    requirement: Requirement
    met: bool
    reasons: list[str]  # why it is not met (empty when met)
    evidence: list[Evidence]  # the evidence that counted
    red_flags: list[Evidence] = field(default_factory=list)  # the contradicting evidence that failed it

    @property
    def question(self) -> str:
        return self.requirement.question


@dataclass
class RuleResult:
    rule: Rule
    status: RuleStatus
    requirements: list[RequirementResult] = field(default_factory=list)
    waiver: Waiver | None = None

    @property
    def message(self) -> str:
        if self.status is RuleStatus.SKIPPED:
            return f"does not apply (applies when: {self.rule.when.describe()})"
        if self.status is RuleStatus.PASS:
            return "all requirements met"
        unmet = [r for r in self.requirements if not r.met]
        text = "; ".join(f"{r.question}: {', '.join(r.reasons)}" for r in unmet)
        if self.status is RuleStatus.WAIVED and self.waiver:
            return f"waived by {self.waiver.approved_by} until {self.waiver.expires}: {self.waiver.reason} ({text})"
        return text

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.rule.id,
            "status": self.status,
            "severity": self.rule.severity,
            "message": self.message,
        }
        if self.rule.description:
            data["description"] = self.rule.description
        if self.status in (RuleStatus.FAIL, RuleStatus.WAIVED):
            data["unmet"] = [
                {"question": r.question, "reasons": r.reasons, "expected": r.requirement.describe()}
                for r in self.requirements if not r.met
            ]
            if self.rule.message:
                data["fix"] = self.rule.message
        if self.waiver:
            data["waiver"] = _waiver_dict(self.waiver)
        return data


@dataclass
class QuestionResult:
    question: Question
    status: QuestionStatus
    evidence: list[Evidence]
    required_by: list[str] = field(default_factory=list)  # rule ids
    declared_offline: bool = False  # a rule was met offline on evidence only the change's author declared

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "evidence": [e.to_dict() for e in self.evidence]}
        if self.required_by:
            data["required_by"] = self.required_by
        if self.declared_offline:
            data["declared_offline"] = True
        return data


@dataclass
class Risk:
    level: str
    score: int
    factors: list[Evidence]

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "score": self.score,
            "factors": [_factor_dict(e) for e in self.factors],
        }


def _factor_dict(factor: Evidence) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": factor.kind, "score": round(factor.attrs.get("score", 0)), "detail": factor.detail}
    if factor.location.to_dict():
        data["location"] = factor.location.to_dict()
    return data


@dataclass
class WaiverNote:
    waiver: Waiver
    status: WaiverStatus

    def to_dict(self) -> dict[str, Any]:
        return {**_waiver_dict(self.waiver), "status": self.status}


@dataclass
class Verdict:
    change: Change
    verdict: Outcome
    ai_assisted: bool
    ai_evidence: list[Evidence]
    risk: Risk
    questions: dict[Question, QuestionResult]
    rules: list[RuleResult]
    waivers: list[WaiverNote]
    evidence: list[Evidence]
    policy_source: str
    fail_on: Severity = Severity.ERROR
    notes: list[str] = field(default_factory=list)  # what the reader must know about how it was judged
    memory: MemoryReport | None = None  # what the organisational memory says about the touched paths
    freeze: FreezeReport | None = None  # whether a freeze window held the change (None: the policy has none)
    incomplete: list[Gap] = field(default_factory=list)  # what could not be read: never a pass
    policy_origin: PolicyOrigin | None = None

    @property
    def complete(self) -> bool:
        return not self.incomplete

    @property
    def problems(self) -> list[str]:
        """Everything said aloud about reading the change: the gaps first, then the notes."""
        return [gap.detail for gap in self.incomplete] + list(self.change.problems)

    @property
    def policy_description(self) -> str:
        return self.policy_origin.describe() if self.policy_origin else self.policy_source

    @property
    def ai_tools(self) -> list[str]:
        return sorted({e.subject for e in self.ai_evidence if e.supports and e.subject})

    @property
    def ai_tool_vendors(self) -> dict[str, str]:
        """Each AI tool found and the vendor behind it (tools of no known vendor are left out)."""
        return {e.subject: str(e.attrs["vendor"]) for e in self.ai_evidence
                if e.supports and e.subject and e.attrs.get("vendor")}

    @property
    def failing_rules(self) -> list[RuleResult]:
        return [r for r in self.rules if r.status is RuleStatus.FAIL]

    @property
    def gating_failures(self) -> list[RuleResult]:
        return [r for r in self.failing_rules if r.rule.severity.at_least(self.fail_on)]

    def to_dict(self) -> dict[str, Any]:
        before, after = self.members_around_rules()
        return {**before, "rules": [r.to_dict() for r in self.rules], **after}

    def members_around_rules(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The check object's members before ``rules`` and after it, in order (``to_dict`` is them
        around the rules; an audit writes the rules' text from what it already wrote for the rule)."""
        tool_vendors = self.ai_tool_vendors
        before = {
            "schema": CHECK_SCHEMA,
            "verdict": self.verdict,
            "change": change_dict(self.change),
            "ai_assisted": self.ai_assisted,
            "ai": {"tools": self.ai_tools, "vendors": vendors_of(tool_vendors),
                   "tool_vendors": dict(sorted(tool_vendors.items())), "evidence": [e.to_dict() for e in self.ai_evidence]},
            "risk": self.risk.to_dict(),
            "questions": {q._value_: self.questions[q].to_dict() for q in GOVERNANCE_QUESTIONS},
        }
        after = {
            "waivers": [w.to_dict() for w in self.waivers],
            "problems": self.problems,
            "complete": self.complete,
            "incomplete": [gap.to_dict() for gap in self.incomplete],
            "notes": list(self.notes),
            **run_members(self.policy_source, self.policy_origin, self.fail_on),
            "memory": self.memory.to_dict() if self.memory else None,
            "freeze": self.freeze.to_dict() if self.freeze else None,
        }
        return before, after


def run_members(policy_source: str, policy_origin: PolicyOrigin | None, fail_on: Severity) -> dict[str, Any]:
    """The members of the check object that are the same for every change one run judges."""
    return {
        "policy": policy_source,
        "policy_origin": policy_origin.to_dict() if policy_origin else None,
        "fail_on": fail_on,
    }


def change_dict(change: Change) -> dict[str, Any]:
    newest = change.commits[0] if change.commits else None
    data: dict[str, Any] = {
        "id": change.id,
        "kind": change.kind,
        "title": change.title,
        "base": change.base,
        "head": change.head,
        "sha": change.head,
        "date": change.date,
        "author": change.author.render() if change.author else None,
        "subject": newest.subject if newest else change.title,
        "branch": change.branch,
        "commits": [c.sha for c in change.commits],
        "files": len(change.files),
        "lines_added": sum(f.added or 0 for f in change.files),
        "lines_removed": sum(f.removed or 0 for f in change.files),
        "forge": change.forge,  # the forge that supplied verified data; null: judged offline
    }
    pr = change.pull_request
    if pr is not None and pr.number is not None:
        data["pull_request"] = {"number": pr.number, "url": pr.url, "author": pr.author_login}
    return data


def _waiver_dict(waiver: Waiver) -> dict[str, Any]:
    return {
        "rule": waiver.rule,
        "change": waiver.change,
        "reason": waiver.reason,
        "approved_by": waiver.approved_by,
        "expires": waiver.expires,
    }
