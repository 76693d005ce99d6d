"""Human-readable text: two lines when all is well, every failure with its evidence and fix."""

from __future__ import annotations

from govgate.formats.escaping import terminal
from govgate.formats.memory_view import text_lines
from govgate.model import GOVERNANCE_QUESTIONS, Evidence, Question, Severity
from govgate.verdict import QuestionStatus, RuleResult, RuleStatus, Verdict, WaiverStatus

_MARK = {QuestionStatus.SATISFIED: "ok", QuestionStatus.MISSING: "MISSING", QuestionStatus.CONTRADICTED: "RED FLAG",
         QuestionStatus.NOT_REQUIRED: "-"}


def render_check(verdict: Verdict) -> str:
    lines = [_headline(verdict), _questions_line(verdict)]
    for gap in verdict.incomplete:
        lines.append(f"  ! NOT FULLY JUDGED: {gap.detail}")
    if verdict.incomplete:
        lines.append("    a change that could not be read in full never passes: make the missing part readable and run again")
    for problem in verdict.change.problems:
        lines.append(f"  ! {problem}")
    lines += text_lines(verdict)
    failing = [r for r in verdict.rules if r.status is RuleStatus.FAIL]
    if failing and verdict.risk.factors and verdict.risk.level != "low":
        scored = [f for f in verdict.risk.factors if f.attrs.get("score")]
        lines.append(f"  risk {verdict.risk.level} because: " + "; ".join(f"{f.detail} (+{f.attrs['score']:g})" for f in scored))
    if failing and verdict.ai_assisted:
        first = next((e for e in verdict.ai_evidence if e.supports and e.discounted is None), None)
        if first is not None:
            lines.append(f"  AI-assisted because: {first.detail}{_at(first)}")
    for result in failing:
        lines.extend(_rule_block(result, verdict))
    for result in verdict.rules:
        if result.status is RuleStatus.WAIVED:
            lines.append(f"~ {result.rule.id} [{result.rule.severity}] {result.message}")
    for note in verdict.waivers:
        if note.status is not WaiverStatus.APPLIED:
            w = note.waiver
            lines.append(f"! waiver for {w.rule} on {w.change} ({w.approved_by}, expires {w.expires}): {_WAIVER_WORDS[note.status]}")
    contradictions = [e for e in verdict.evidence if e.contradicts and e.question.value in _QUESTION_NAMES]
    shown = {id(e) for r in failing for req in r.requirements for e in req.evidence}
    warnings = [e for e in contradictions if id(e) not in shown and e.severity is Severity.WARNING]
    for flag in warnings:
        lines.append(f"! warning: {flag.question.value}: {flag.detail}{_at(flag)}")
    if failing and verdict.verdict == "pass":
        lines.append(f"(failures below severity {verdict.fail_on} do not fail the gate)")
    # A file name or message holding a newline must not start a line of its own (a fake "PASS").
    return "\n".join(terminal(line) for line in lines) + "\n"


_QUESTION_NAMES = {q.value for q in GOVERNANCE_QUESTIONS}
_WAIVER_WORDS = {
    "expired": "expired, so it does not apply",
    "unused": "not needed: the rule did not fail",
    "unknown_rule": "names no rule in this policy",
    "unproven": "not applied: only the commit message says this change is that pull request (nothing proves the merge)",
}


def _headline(verdict: Verdict) -> str:
    change = verdict.change
    files = len(change.files)
    count = len(change.commits)
    ai = "AI-assisted: " + ("yes (" + ", ".join(verdict.ai_tools or ["unnamed tool"]) + ")" if verdict.ai_assisted else "no")
    risk = f"risk: {verdict.risk.level} ({verdict.risk.score:g})"
    return (
        f"govgate: {verdict.verdict.headline}  {change.id}  {_short(change.title, 60)!r}  "
        f"{count} commit{'s' if count != 1 else ''}, {files} file{'s' if files != 1 else ''}  {ai}  {risk}"
    )


def _questions_line(verdict: Verdict) -> str:
    parts = [f"{q.value}: {_MARK[verdict.questions[q].status]}"
             + (" (declared, offline)" if verdict.questions[q].declared_offline else "") for q in GOVERNANCE_QUESTIONS]
    return "  " + "   ".join(parts) + f"   policy: {verdict.policy_description}"


def _rule_block(result: RuleResult, verdict: Verdict) -> list[str]:
    rule = result.rule
    lines = [f"x {rule.id} [{rule.severity}]" + (f": {rule.description}" if rule.description else "")]
    for req in result.requirements:
        if req.met:
            continue
        lines.append(f"    {req.question}: {'; '.join(req.reasons)}")
        seen = verdict.questions[Question(req.question)].evidence if req.question in _QUESTION_NAMES else []
        for item in seen[:6]:
            lines.append(f"      evidence: {_evidence(item)}")
        if len(seen) > 6:
            lines.append(f"      ... and {len(seen) - 6} more (--format json lists all)")
        lines.append(f"      to satisfy: {req.requirement.describe()}")
    if rule.message:
        lines.append(f"    fix: {rule.message}")
    return lines


def _evidence(item: Evidence) -> str:
    effect = "+" if item.supports else "-"
    not_counted = f" (not counted: {item.discounted})" if item.discounted else ""
    return f"{effect} {item.detail} [{item.trust.value}]{_at(item)}{not_counted}"


def _at(item: Evidence) -> str:
    where = item.location.render()
    return f" at {where}" if where else ""


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
