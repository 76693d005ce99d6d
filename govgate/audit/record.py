"""What an audit keeps of one judged change: its finished output and the few facts the summary counts.

A ChangeRecord is built where the change was judged (this process, or a worker) from the
Verdict, and is all the rest of the audit needs: the summary counts it, the writers render it
(the ``govgate/check/v1`` object is already text), and the incremental cache stores it. It
holds nothing that depends on newer changes: what the history says later about a change
(reverted, fixed) is settled as the stream goes and joined at write time.

A new summary figure that needs a per-change fact adds a field here and sets it in
``record_of``; everything else passes records through.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from govgate.audit.knowledge import knowledge_paths
from govgate.formats.compact_json import compact
from govgate.memory.mining import MiningInput
from govgate.model import GOVERNANCE_QUESTIONS, Change, Severity
from govgate.policy.model import Policy, Rule
from govgate.sources.merge_messages import commit_url
from govgate.verdict import RuleResult, RuleStatus, Verdict, run_members


@dataclass
class ChangeRecord:
    id: str
    sha: str
    kind: str
    date: str | None
    title: str
    author: str | None  # "Name <email>"
    author_email: str  # lower-cased, "" when unknown
    commit_authors: list[str]  # lower-cased emails of every commit of the change
    pull_request: int | None
    pull_request_url: str | None
    url: str | None  # the change's head commit on the forge
    files: int
    commits: int
    problems: list[str]  # what reading the change ran into: its gaps, then its notes
    complete: bool  # no gap: the change was read in full
    verdict: str  # pass | fail | incomplete
    ai_assisted: bool
    ai_tools: list[str]
    ai_tool_vendors: dict[str, str]  # each tool of a known vendor -> the vendor
    risk_level: str
    risk_score: float
    statuses: list[str]  # per governance question, in GOVERNANCE_QUESTIONS order
    asked: list[bool]  # per governance question: an applicable rule asked for it
    rules: list[tuple[str, str]]  # (rule id, status) in policy order
    failing: list[tuple[str, str, str]]  # (rule id, severity, message) of failed rules
    gating: int  # failed rules at or above --fail-on
    waivers: list[tuple[int, str]]  # (index of the waiver in the policy, status)
    knowledge_paths: list[str]  # folders the change touched, for the knowledge-loss figures
    mining: MiningInput  # what the knowledge map reads of the change
    # An AI-assisted change that touched fragile memory without a knower's approval: its example entry.
    fragile: dict[str, Any] | None
    freeze: dict[str, Any] | None  # landed inside a freeze window: which, and whether the emergency path was taken
    # The govgate/check/v1 object, compact, when asked for, with RUN_PLACEHOLDER where the members
    # every change of a run shares go (where the policy was read: the audited tip moves between runs).
    check_json: str = ""
    policy: str = ""  # where the policy came from, in words: the run's, set by RunFacts.finish (never stored)

    def values(self) -> list[Any]:
        """The fields but the check object, in order (what the cache stores as a JSON array)."""
        return [getattr(self, name) if name != "mining" else self.mining.values() for name in _STORED]

    @classmethod
    def from_values(cls, values: list[Any], check_json: str) -> ChangeRecord:
        """The inverse of ``values`` after a JSON round trip (tuples came back as lists)."""
        record = cls(*values, check_json)  # type: ignore[arg-type]
        record.mining = MiningInput.from_values(record.mining)  # type: ignore[arg-type]
        record.rules = [tuple(r) for r in record.rules]  # type: ignore[misc]
        record.failing = [tuple(r) for r in record.failing]  # type: ignore[misc]
        record.waivers = [tuple(w) for w in record.waivers]  # type: ignore[misc]
        return record


_STORED = tuple(f.name for f in fields(ChangeRecord) if f.name not in ("check_json", "policy"))


def record_of(verdict: Verdict, policy: Policy, *, with_json: bool) -> ChangeRecord:
    change: Change = verdict.change
    pr = change.pull_request
    waiver_index = {id(w): i for i, w in enumerate(policy.waivers)}
    failing = verdict.failing_rules
    return ChangeRecord(
        id=change.id,
        sha=change.head,
        kind=change.kind,
        date=change.date,
        title=change.title,
        author=change.author.render() if change.author else None,
        author_email=change.author.email.lower() if change.author else "",
        commit_authors=[c.author.email.lower() for c in change.commits],
        pull_request=pr.number if pr is not None else None,
        pull_request_url=pr.url if pr is not None else None,
        url=commit_url(change.repo_url, change.head),
        files=len(change.files),
        commits=len(change.commits),
        problems=verdict.problems,
        complete=verdict.complete,
        verdict=verdict.verdict.value,
        ai_assisted=verdict.ai_assisted,
        ai_tools=verdict.ai_tools,
        ai_tool_vendors=verdict.ai_tool_vendors,
        risk_level=verdict.risk.level,
        risk_score=verdict.risk.score,
        statuses=[verdict.questions[q].status for q in GOVERNANCE_QUESTIONS],
        asked=[bool(verdict.questions[q].required_by) for q in GOVERNANCE_QUESTIONS],
        rules=[(r.rule.id, r.status) for r in verdict.rules],
        failing=[(r.rule.id, r.rule.severity, r.message) for r in failing],
        gating=len(verdict.gating_failures),
        waivers=[(waiver_index.get(id(n.waiver), -1), n.status) for n in verdict.waivers],
        knowledge_paths=sorted(knowledge_paths(change)),
        mining=MiningInput.of(change),
        fragile=_fragile(verdict),
        freeze=_freeze(verdict),
        check_json=_check_json(verdict) if with_json else "",
    )


def _fragile(verdict: Verdict) -> dict[str, Any] | None:
    report = verdict.memory
    if report is None or not verdict.ai_assisted or report.fragility is None or report.approvals.counted:
        return None
    return {"entries": [t.entry.name for t in report.touched if t.entry.fragile is not None],
            "fragile": report.fragility.value, "knowers": [k.text for k in report.knowers]}


def _freeze(verdict: Verdict) -> dict[str, Any] | None:
    freeze = verdict.freeze
    if freeze is None or not freeze.frozen:
        return None
    return {"windows": [f.window.id for f in freeze.frozen_by], "window": freeze.frozen_by[0].describe(),
            "emergency_taken": freeze.emergency_taken}


_SAME_FOR_THE_RUN = "(the same for the whole run)"
RUN_PLACEHOLDER = compact(run_members(_SAME_FOR_THE_RUN, None, _SAME_FOR_THE_RUN))[1:-1]


def _check_json(verdict: Verdict) -> str:
    """``compact(verdict.to_dict())`` with RUN_PLACEHOLDER's members, written around the rules' text:
    a rule that passed or did not apply writes the same text on every change, so it is written once."""
    before, after = verdict.members_around_rules()
    for key in run_members(verdict.policy_source, verdict.policy_origin, verdict.fail_on):
        after[key] = None if key == "policy_origin" else _SAME_FOR_THE_RUN
    rules = ",".join([_rule_text(result) for result in verdict.rules])
    return f'{compact(before)[:-1]},"rules":[{rules}],{compact(after)[1:]}'


# id(rule) -> (the rule, kept alive so no other rule takes its id while cached; [its text passed, skipped])
_RULE_TEXTS: dict[int, tuple[Rule, list[str | None]]] = {}


def _rule_text(result: RuleResult) -> str:
    status = result.status
    slot = 0 if status is RuleStatus.PASS else 1 if status is RuleStatus.SKIPPED else None
    if slot is None or result.waiver is not None:
        return compact(result.to_dict())
    rule = result.rule
    known = _RULE_TEXTS.get(id(rule))
    if known is None:
        if len(_RULE_TEXTS) >= 4096:
            _RULE_TEXTS.clear()
        known = _RULE_TEXTS[id(rule)] = (rule, [None, None])
    text = known[1][slot]
    if text is None:
        text = known[1][slot] = compact(result.to_dict())
    return text


@dataclass(frozen=True)
class RunFacts:
    """What every change of a run shares, joined to each record as it is written."""

    policy: str  # where the policy came from, in words (the CSV's column)
    check_members: str  # the check object's members that RUN_PLACEHOLDER stands for

    @classmethod
    def of(cls, policy: Policy, fail_on: Severity) -> RunFacts:
        description = policy.origin.describe() if policy.origin else policy.source
        return cls(description, compact(run_members(policy.source, policy.origin, fail_on))[1:-1])

    def finish(self, record: ChangeRecord) -> ChangeRecord:
        """The record with the run's facts joined: its check object whole (in JSON text a quote inside a
        string is always escaped, so the placeholder's members can only be the object's own)."""
        record.policy = self.policy
        if record.check_json:
            record.check_json = record.check_json.replace(RUN_PLACEHOLDER, self.check_members, 1)
        return record
