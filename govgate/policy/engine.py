"""Judge a change: match each rule's condition, check its requirements against evidence.

The engine knows evidence only by question, trust, facets and subject; it never names a
detector, a source or an output format.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase

from govgate.globs import glob_any, glob_set
from govgate.model import (
    GOVERNANCE_QUESTIONS,
    Change,
    Confidence,
    Evidence,
    Gap,
    GapKind,
    Question,
    Severity,
    Trust,
    parse_moment,
)
from govgate.policy.freeze_state import FreezeReport, assess_freeze
from govgate.policy.memory_state import MemoryReport, approvals_by, assess_memory
from govgate.policy.model import FACET_WORDS, Alternative, Condition, Policy, Requirement, Rule, Waiver
from govgate.policy.schema import FREEZE_REQUIREMENT, MIN_WAIVER_SHA_PREFIX
from govgate.verdict import (
    Outcome,
    QuestionResult,
    QuestionStatus,
    RequirementResult,
    Risk,
    RuleResult,
    RuleStatus,
    Verdict,
    WaiverNote,
    WaiverStatus,
)

_CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
_FLOOR = {c._value_: rank for c, rank in _CONFIDENCE_RANK.items()}  # ai_min_confidence is text
_QUESTION = {q.value: q for q in Question}  # a requirement names its question as text
_TRUST = {t.value: t for t in Trust}
_QUESTIONS = tuple(Question)
# The policy's rules (kept alive here, so no other tuple can take their id while cached) with their
# conditions' tests, compiled once per policy: every judged change walks every rule.
_PLANS: dict[int, tuple[tuple[Rule, ...], tuple[tuple[Rule, tuple[Callable[[_Context], bool], ...]], ...]]] = {}


def _rule_plan(rules: tuple[Rule, ...]) -> tuple[tuple[Rule, tuple[Callable[[_Context], bool], ...]], ...]:
    found = _PLANS.get(id(rules))
    if found is None:
        if len(_PLANS) >= 1024:
            _PLANS.clear()
        found = _PLANS[id(rules)] = (rules, tuple((rule, _compile_condition(rule.when)) for rule in rules))
    return found[1]


def _compile_condition(when: Condition) -> tuple[Callable[[_Context], bool], ...]:
    """The tests a condition makes (path globs compiled here), cheapest first."""
    tests: list[Callable[[_Context], bool]] = []
    if when.ai_assisted is not None:
        tests.append(lambda ctx: when.ai_assisted == ctx.ai_assisted)
    if when.forge is not None:
        tests.append(lambda ctx: (ctx.change.forge is not None) == when.forge)
    if when.risk:
        tests.append(lambda ctx: ctx.risk_level in when.risk)
    if when.frozen is not None:
        tests.append(lambda ctx: when.frozen == ctx.frozen)
    if when.policy_changed is not None:
        tests.append(lambda ctx: ctx.edits_policy() == when.policy_changed)
    if when.fragile is not None:
        tests.append(lambda ctx: bool(ctx.memory.is_fragile(when.fragile) if ctx.memory else when.fragile is False))
    if when.labels:
        labels = {label.lower() for label in when.labels}
        tests.append(lambda ctx: bool(labels & {label.lower() for label in ctx.change.labels}))
    if when.branch:
        tests.append(lambda ctx: _on_branch(ctx.change, when.branch))
    if when.authors:
        authors = [a.lower() for a in when.authors]
        tests.append(lambda ctx: any(glob_any(identity, authors) for identity in ctx.change.author_identities))
    if when.paths or when.paths_ignore:
        ignored, wanted = glob_set(when.paths_ignore), glob_set(when.paths or ("**",))
        tests.append(lambda ctx: any(wanted(p) for p in ctx.paths() if not ignored(p)))
    return tuple(tests)


def _on_branch(change: Change, patterns: Sequence[str]) -> bool:
    branch = change.branch or (change.pull_request.head_ref if change.pull_request else None)
    return branch is not None and glob_any(branch, patterns)


Grouped = Mapping[Question, Sequence[Evidence]]
CHECK_PASSED = "check_passed"  # one named check succeeded (what ``checks:`` globs match); not a policy key


def judge(
    change: Change,
    evidence: Sequence[Evidence],
    policy: Policy,
    *,
    fail_on: Severity = Severity.ERROR,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Verdict:
    """``now`` is the moment freezes are judged at: by default when the change landed, else the present."""
    at = now or _moment(change.merged_at) or dt.datetime.now(dt.UTC)
    today = today or (now.date() if now else dt.date.today())
    by_question = _by_question(evidence)
    ai_evidence = by_question[Question.AI_ASSISTED]
    ai_assisted = _is_ai_assisted(ai_evidence, policy.ai_min_confidence)
    risk = assess_risk(by_question[Question.RISK], policy)
    reviewed = by_question[Question.REVIEWED]
    memory = assess_memory(change, reviewed, today)
    freeze = assess_freeze(change, policy.freezes, at, ai_assisted, reviewed)
    context = _Context(change, ai_assisted, risk.level, policy, memory, freeze)
    results = [_judge_rule(rule, tests, context, by_question) for rule, tests in _rule_plan(policy.rules)]
    waiver_notes = _apply_waivers(policy, results, change, today) if policy.waivers else []
    questions = _questions(results, by_question)
    fail_on = fail_on if type(fail_on) is Severity else Severity(fail_on)
    failed = any(r.status is RuleStatus.FAIL and r.rule.severity.at_least(fail_on) for r in results)
    uninspected, accepted = _uninspected_contents(change, policy)
    gaps = [*change.incomplete, *_unread_contents(change), *uninspected]
    # What was read may already fail; what was not read can never pass.
    outcome = Outcome.FAIL if failed else Outcome.INCOMPLETE if gaps else Outcome.PASS
    return Verdict(
        change=change,
        verdict=outcome,
        ai_assisted=ai_assisted,
        ai_evidence=ai_evidence,
        risk=risk,
        questions=questions,
        rules=results,
        waivers=waiver_notes,
        evidence=list(evidence),
        policy_source=policy.source,
        fail_on=fail_on,
        incomplete=gaps,
        policy_origin=policy.origin,
        notes=[*_offline_notes(change, results, questions), *accepted],
        memory=memory,
        freeze=freeze,
    )


def _by_question(evidence: Sequence[Evidence]) -> dict[Question, list[Evidence]]:
    """Grouped once: every requirement and question status reads only its own question's evidence."""
    grouped: dict[Question, list[Evidence]] = {q: [] for q in _QUESTIONS}
    for item in evidence:
        grouped[item.question].append(item)
    return grouped


def _is_ai_assisted(ai_evidence: Sequence[Evidence], min_confidence: str) -> bool:
    floor = _FLOOR.get(min_confidence)
    if floor is None:
        floor = _CONFIDENCE_RANK[Confidence(min_confidence)]
    return any(e.supports and e.discounted is None and _CONFIDENCE_RANK[e.confidence] >= floor for e in ai_evidence)


def _judge_rule(rule: Rule, tests: tuple[Callable[[_Context], bool], ...], context: _Context,
                by_question: Grouped) -> RuleResult:
    if not all(test(context) for test in tests):
        return RuleResult(rule, RuleStatus.SKIPPED)
    requirements = [
        check_freeze_requirement(req, context.freeze) if req.question == FREEZE_REQUIREMENT
        else check_requirement(req, by_question[_QUESTION[req.question]], by_question, context.memory)
        for req in rule.require
    ]
    return RuleResult(rule, RuleStatus.PASS if all(r.met for r in requirements) else RuleStatus.FAIL, requirements)


def _apply_waivers(policy: Policy, results: Sequence[RuleResult], change: Change, today: dt.date) -> list[WaiverNote]:
    """Waive the failed rules a waiver binds to this change, and say what became of every waiver that
    names an applied rule (or no rule of the policy at all)."""
    notes: list[WaiverNote] = []
    used: set[int] = set()
    for result in results:
        if result.status is RuleStatus.SKIPPED:
            continue
        for index, waiver in enumerate(policy.waivers):
            if waiver.rule != result.rule.id:
                continue
            binding = waiver_binding(waiver, change)
            if binding is WaiverBinding.OTHER_CHANGE:
                continue
            used.add(index)
            notes.append(_waiver_outcome(waiver, binding, result, today))
    rule_ids = {r.id for r in policy.rules}
    notes.extend(WaiverNote(waiver, WaiverStatus.UNKNOWN_RULE) for index, waiver in enumerate(policy.waivers)
                 if index not in used and waiver.rule not in rule_ids)
    return notes


def _waiver_outcome(waiver: Waiver, binding: WaiverBinding, result: RuleResult, today: dt.date) -> WaiverNote:
    if binding is WaiverBinding.UNPROVEN:
        return WaiverNote(waiver, WaiverStatus.UNPROVEN)
    if _expired(waiver, today):
        return WaiverNote(waiver, WaiverStatus.EXPIRED)
    if result.status is RuleStatus.FAIL:
        result.status, result.waiver = RuleStatus.WAIVED, waiver
        return WaiverNote(waiver, WaiverStatus.APPLIED)
    return WaiverNote(waiver, WaiverStatus.UNUSED)


def _questions(results: Sequence[RuleResult], by_question: Grouped) -> dict[Question, QuestionResult]:
    """Each governance question's status, from its evidence and the applied rules' requirements on it."""
    applicable: dict[str, list[tuple[Rule, RequirementResult]]] = {}
    for rr in results:
        if rr.status is not RuleStatus.SKIPPED:
            for req in rr.requirements:
                if req.requirement.demands_evidence:
                    applicable.setdefault(req.requirement.question, []).append((rr.rule, req))
    return {q: _question_status(q, by_question[q], applicable.get(q._value_, ())) for q in GOVERNANCE_QUESTIONS}


def _unread_contents(change: Change) -> list[Gap]:
    """Files a detector needed but could not read (objects missing from a partial or damaged clone)."""
    unread = sorted({f.path for f in change.files if f.unavailable})
    if not unread:
        return []
    shown = ", ".join(unread[:10]) + (f" and {len(unread) - 10} more" if len(unread) > 10 else "")
    return [Gap(GapKind.CONTENT_MISSING, f"content unavailable (object missing): {shown}")]


def _offline_notes(change: Change, results: Sequence[RuleResult], questions: Mapping[Question, QuestionResult]) -> list[str]:
    """Say plainly when a rule passed offline on nothing but the author's own word, and on which questions."""
    if change.forge is not None:
        return []
    on_declared: list[str] = []
    for result in results:
        if result.status is not RuleStatus.PASS:
            continue
        for req in result.requirements:
            if any(e.trust is Trust.DECLARED for e in req.evidence):
                on_declared.append(result.rule.id)
                questions[Question(req.question)].declared_offline = True
    if not on_declared:
        return []
    return [f"judged offline: {', '.join(dict.fromkeys(on_declared))} passed on what the change's author declared "
            "(commit trailers, PR text), which nothing offline can verify; run with a forge (the GitHub Action, "
            "the GitLab CI template, audit --github) to read reviews and checks that are verified"]


def _uninspected_contents(change: Change, policy: Policy) -> tuple[list[Gap], list[str]]:
    """Files a detector needed but that were past the inspection limits: a red flag could hide there,
    so each is a gap, unless the policy accepts such files on that path (then a note says so)."""
    gaps: list[Gap] = []
    notes: list[str] = []
    for f in change.files:
        if not f.too_large:
            continue
        if policy.accept_too_large and glob_any(f.path, policy.accept_too_large):
            notes.append(f"not inspected: {f.path} ({f.too_large}); the policy accepts it (inspection.accept_too_large)")
        else:
            gaps.append(Gap(GapKind.CONTENT_TOO_LARGE, f"too large to inspect: {f.path} ({f.too_large}); "
                                                       "its contents were not checked"))
    return gaps, notes


def assess_risk(evidence: Sequence[Evidence], policy: Policy) -> Risk:
    factors = [e for e in evidence if e.question is Question.RISK]
    score = sum(round(e.attrs.get("score", 0)) for e in factors)  # risk scores are integers in every output
    medium, high = policy.risk_thresholds
    level = "high" if score >= high else "medium" if score >= medium else "low"
    return Risk(level=level, score=score, factors=factors)


class _Context:
    def __init__(self, change: Change, ai_assisted: bool, risk_level: str, policy: Policy,
                 memory: MemoryReport | None, freeze: FreezeReport | None) -> None:
        self.change = change
        self.ai_assisted = ai_assisted
        self.risk_level = risk_level
        self.policy = policy
        self.memory = memory
        self.freeze = freeze
        self.frozen = freeze is not None and freeze.frozen
        self._paths: list[str] | None = None

    def paths(self) -> list[str]:
        if self._paths is None:
            self._paths = self.change.paths()
        return self._paths

    def edits_policy(self) -> bool:
        governing = (*self.policy.policy_paths, self.policy.memory_file)
        return any(p in governing for p in self.paths())



def check_requirement(
    req: Requirement, evidence: Sequence[Evidence], context: Grouped | None = None, memory: MemoryReport | None = None,
) -> RequirementResult:
    """Whether ``evidence`` (the requirement's question's) meets it; ``context`` holds every question's
    evidence, for alternatives that count only together with a requirement on another question;
    ``memory`` names the knowers of the touched paths."""
    question = _QUESTION[req.question]
    minimum = _TRUST[req.trust]
    shown = [e for e in evidence if e.question is question]
    relevant = [e for e in shown if e.discounted is None]
    usable = [e for e in relevant if e.supports and not e.unavailable]
    trusted = [e for e in usable if e.trust.at_least(minimum)]
    reasons: list[str] = []
    counted: list[Evidence] = []

    # Error-level red flags always fail a requirement; warnings only where the requirement refuses them.
    flags = [e for e in relevant if e.contradicts and (e.severity == Severity.ERROR or not req.allow_warnings)]
    for flag in flags:
        reasons.append(f"red flag: {flag.detail}" + (f" ({flag.location.render()})" if flag.location.render() else ""))

    def with_facet(facet: str) -> list[Evidence]:
        return [e for e in trusted if facet in e.facets]

    for facet in req.facets:
        found = with_facet(facet)
        counted += found
        if not found:
            reasons.append("missing " + _words(facet, usable, trusted, minimum))
    if req.any_of:
        found, withheld = _one_of(req.any_of, with_facet, context or {})
        counted += found
        if not found:
            reasons.append("missing one of: " + ", ".join(_words(a.facet, usable, trusted, minimum) for a in req.any_of)
                           + "".join(f"; {why}" for why in withheld))
    if req.approvals or req.on_head or req.codeowners:
        needed = max(req.approvals or 0, 1 if (req.on_head or req.codeowners) else 0)
        approvals = with_facet("approval_on_head" if req.on_head else "approval")
        reviewers = {e.subject for e in approvals}
        counted += approvals
        if len(reviewers) < needed:
            have = f"{len(reviewers)} of {needed} human approval{'s' if needed != 1 else ''}"
            stale = len({e.subject for e in with_facet("approval")}) - len(reviewers) if req.on_head else 0
            extra = f"; {stale} more on an older commit" if stale > 0 else ""
            weaker = _weaker_note(usable, trusted, "approval", minimum)
            reasons.append(f"has {have}{' on the head commit' if req.on_head else ''}{extra}{weaker}")
        if req.codeowners:
            owners = [e for e in approvals if "codeowner_approval" in e.facets]
            counted += owners
            if not owners:
                reasons.append("no approval by a code owner of the touched paths")
    for pattern in req.checks:
        passed = [e for e in with_facet(CHECK_PASSED) if e.subject and fnmatchcase(e.subject, pattern)]
        counted += passed
        if not passed:
            pending = [e for e in shown if e.attrs.get("pending") and e.subject and fnmatchcase(e.subject, pattern)]
            reasons.append(f"check {pattern!r} {'is still pending' if pending else 'did not succeed on the head commit'}")
    if req.by_knowers:
        counted += _knower_approvals(req, relevant, memory, reasons)
    plain = not (req.facets or req.any_of or req.approvals or req.on_head or req.codeowners or req.checks or req.by_knowers)
    if plain and req.demands_evidence:
        counted += trusted
        if not trusted:
            reasons.append(f"no {question.value} evidence" + _weaker_note(usable, trusted, None, minimum))
    unique = list(dict.fromkeys(counted))
    return RequirementResult(req, not reasons, reasons, unique, flags)


def _one_of(
    alternatives: Sequence[Alternative], with_facet: Callable[[str], list[Evidence]], context: Grouped,
) -> tuple[list[Evidence], list[str]]:
    """The evidence of the alternatives that hold, and why the others that had evidence were withheld."""
    found: list[Evidence] = []
    withheld: list[str] = []
    for alternative in alternatives:
        hits = with_facet(alternative.facet)
        if not hits:
            continue
        companions = [check_requirement(c, context.get(Question(c.question), ()), context) for c in alternative.together_with]
        unmet = [r for r in companions if not r.met]
        if not unmet:
            found += hits
            continue
        needs = " and ".join(f"{r.question}: {r.requirement.describe()}" for r in unmet)
        why = "; ".join(f"{r.question}: {', '.join(r.reasons)}" for r in unmet)
        withheld.append(f"{FACET_WORDS.get(alternative.facet, alternative.facet)} counts only together with {needs} ({why})")
    return found, withheld
def _knower_approvals(req: Requirement, relevant: list[Evidence], memory: MemoryReport | None,
                      reasons: list[str]) -> list[Evidence]:
    """Approvals by people the touched memory entries name; appends why they fall short."""
    needed = req.by_knowers or 0
    knowers = memory.knowers if memory else ()
    if not knowers:
        where = "no memory file at the base revision" if memory is None else "the touched memory entries name no knowers"
        reasons.append(f"no knower can approve: {where} (add `knows` to the entries for these paths)")
        return []
    minimum = max(Trust(req.trust), memory.floor if memory else Trust.DECLARED, key=lambda t: t.rank)
    found = approvals_by(knowers, relevant, minimum, on_head=req.on_head)
    if len(found.counted) < needed:
        names = ", ".join(k.text for k in knowers[:8]) + (" …" if len(knowers) > 8 else "")
        text = f"has {len(found.counted)} of {needed} approval{'s' if needed != 1 else ''} by a knower ({names})"
        if found.weaker:
            weaker = sorted({e.trust.value for e in relevant if e.subject in found.weaker})
            text += f"; {', '.join(found.weaker)} only {'/'.join(weaker)}: this needs {minimum.value}"
        reasons.append(text)
    return [e for e in relevant if e.subject in found.counted and e.trust.at_least(minimum)]


def check_freeze_requirement(req: Requirement, freeze: FreezeReport | None) -> RequirementResult:
    """Met when the change is not frozen, or took the freeze's emergency path."""
    reasons = freeze.unmet() if freeze is not None and freeze.frozen else []
    return RequirementResult(req, not reasons, reasons, [])


def _moment(text: str | None) -> dt.datetime | None:
    moment = parse_moment(text)
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _words(facet: str, usable: list[Evidence], trusted: list[Evidence], minimum: Trust) -> str:
    return FACET_WORDS.get(facet, facet) + _weaker_note(usable, trusted, facet, minimum)


def _weaker_note(usable: list[Evidence], trusted: list[Evidence], facet: str | None, minimum: Trust) -> str:
    weaker = [e for e in usable if e not in trusted and (facet is None or facet in e.facets)]
    if not weaker:
        return ""
    levels = sorted({e.trust.value for e in weaker})
    return f" ({len(weaker)} only {'/'.join(levels)}; this rule needs {minimum.value})"


def _question_status(question: Question, evidence: Sequence[Evidence],
                     applicable: Sequence[tuple[Rule, RequirementResult]]) -> QuestionResult:
    """``applicable``: the requirements on ``question`` that ask for evidence, of the rules that applied."""
    shown = [e for e in evidence if e.question is question]
    if not shown:
        required_by = list(dict.fromkeys(rule.id for rule, _ in applicable)) if applicable else []
        return QuestionResult(question, QuestionStatus.MISSING if applicable else QuestionStatus.NOT_REQUIRED, shown,
                              required_by)
    relevant = [e for e in shown if e.discounted is None]
    required_by = list(dict.fromkeys(rule.id for rule, _ in applicable))
    if any(e.contradicts for e in relevant):
        status = QuestionStatus.CONTRADICTED
    elif any(e.supports and not e.unavailable for e in relevant) and all(req.met for _, req in applicable):
        status = QuestionStatus.SATISFIED
    elif applicable:
        status = QuestionStatus.MISSING
    else:
        status = QuestionStatus.NOT_REQUIRED
    return QuestionResult(question, status, shown, required_by)


class WaiverBinding(enum.Enum):
    THIS_CHANGE = "this change"
    OTHER_CHANGE = "another change"
    UNPROVEN = "a pull request number the history only claims"


def waiver_binding(waiver: Waiver, change: Change) -> WaiverBinding:
    """Whether a waiver names this change: its pull request, or its head commit (never another commit of it)."""
    target = waiver.change.strip().lower()
    if target.startswith("#"):
        pr = change.pull_request
        if pr is None or pr.number is None or target[1:] != str(pr.number):
            return WaiverBinding.OTHER_CHANGE
        # A "(#N)" typed into a direct push's subject must not borrow #N's waiver.
        return WaiverBinding.UNPROVEN if pr.landing_proven is False else WaiverBinding.THIS_CHANGE
    # The schema already refuses shorter targets; checked again so that no path weakens it.
    if len(target) >= MIN_WAIVER_SHA_PREFIX and all(c in "0123456789abcdef" for c in target) \
            and change.head.lower().startswith(target):
        return WaiverBinding.THIS_CHANGE
    return WaiverBinding.OTHER_CHANGE


def waiver_matches(waiver: Waiver, change: Change) -> bool:
    return waiver_binding(waiver, change) is WaiverBinding.THIS_CHANGE


def _expired(waiver: Waiver, today: dt.date) -> bool:
    return dt.date.fromisoformat(waiver.expires) < today


def rules_by_id(policy: Policy) -> dict[str, Rule]:
    return {r.id: r for r in policy.rules}
