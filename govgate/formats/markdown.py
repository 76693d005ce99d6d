"""Markdown for a GitHub job summary ($GITHUB_STEP_SUMMARY) or a PR comment.

A table of the four questions with their status and key evidence, then every failing rule
with its evidence and the fix. Everything that came from the change (titles, branch names,
evidence text quoting a PR body) is escaped: it is untrusted and must not become markup.
GitHub caps a step summary at 1 MiB, so the output shrinks its detail to stay below that.
"""

from __future__ import annotations

import re

from govgate.formats.escaping import markdown_code as code
from govgate.formats.escaping import markdown_inline as md
from govgate.formats.memory_view import markdown_lines
from govgate.model import GOVERNANCE_QUESTIONS, Evidence, Severity
from govgate.verdict import Outcome, QuestionStatus, RuleResult, RuleStatus, Verdict

SUMMARY_LIMIT_BYTES = 1024 * 1024
_BUDGET = SUMMARY_LIMIT_BYTES - 64 * 1024  # room for what other steps append to the same summary

_STATUS = {
    QuestionStatus.SATISFIED: "✅ satisfied",
    QuestionStatus.MISSING: "❌ missing",
    QuestionStatus.CONTRADICTED: "⛔ red flag",
    QuestionStatus.NOT_REQUIRED: "➖ not required",
}
_ICON = {Outcome.PASS: "✅", Outcome.FAIL: "❌", Outcome.INCOMPLETE: "⚠️"}
_RULE_MARK = {RuleStatus.PASS: "✅ pass", RuleStatus.FAIL: "❌ fail", RuleStatus.SKIPPED: "➖ skipped",
              RuleStatus.WAIVED: "⚠️ waived"}
_MAX_REASONS = 10
__all__ = ["code", "md", "render_check"]


def render_check(verdict: Verdict) -> str:
    for evidence_limit, with_all_rules in ((5, True), (2, True), (1, False), (0, False)):
        text = _render(verdict, evidence_limit, with_all_rules)
        if len(text.encode("utf-8")) <= _BUDGET:
            return text
    return _truncate(text)


def _render(verdict: Verdict, evidence_limit: int, with_all_rules: bool) -> str:
    change = verdict.change
    icon = _ICON[verdict.verdict]
    lines = [f"### {icon} govgate: {verdict.verdict.headline} — {md(change.id)} {md(_short(change.title, 120))}", ""]
    lines.append("**Change:** " + " · ".join(_facts(verdict)))
    lines.append("")
    if verdict.incomplete:
        lines.append("> [!CAUTION]")
        lines.append("> **Not fully judged: part of this change could not be read, so it cannot pass.**")
        lines.extend(f"> - {md(gap.detail)}" for gap in verdict.incomplete)
        lines.append("")
    if change.problems:
        lines.append("> [!WARNING]")
        lines.append("> **govgate could not read everything; the verdict below is based on less evidence:**")
        lines.extend(f"> - {md(problem)}" for problem in change.problems)
        lines.append("")
    if verdict.notes:
        lines.append("> [!NOTE]")
        lines.extend(f"> {md(note)}" for note in verdict.notes)
        lines.append("")
    lines += ["| Question | Status | Key evidence |", "| --- | --- | --- |"]
    for question in GOVERNANCE_QUESTIONS:
        result = verdict.questions[question]
        key = _key_evidence(result.evidence, max(1, evidence_limit))
        status = _STATUS[result.status] + (" (declared, offline)" if result.declared_offline else "")
        lines.append(f"| {question.value.capitalize()} | {status} | {key or '—'} |")
    lines.append("")
    lines += markdown_lines(verdict, md, code)
    failing = [r for r in verdict.rules if r.status is RuleStatus.FAIL]
    if failing:
        lines.append(f"#### Failing rules ({len(failing)})")
        lines.append("")
        for result in failing:
            lines.extend(_rule_section(result, verdict, evidence_limit))
        if verdict.verdict == "pass":
            lines.append(f"_These rules are below the fail-on severity ({verdict.fail_on}): they do not fail the gate._")
            lines.append("")
    lines.extend(_waivers(verdict))
    if with_all_rules and verdict.rules:
        lines += [f"<details><summary>All {len(verdict.rules)} rules of {md(verdict.policy_description)}</summary>", "",
                  "| Rule | Status | Severity | Detail |", "| --- | --- | --- | --- |"]
        for result in verdict.rules:
            detail = result.message if result.status is not RuleStatus.FAIL else _first_reason(result)
            lines.append(f"| {code(result.rule.id)} | {_RULE_MARK[result.status]} | {result.rule.severity} | "
                         f"{md(_short(detail, 200))} |")
        lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def _facts(verdict: Verdict) -> list[str]:
    change = verdict.change
    pr = change.pull_request
    facts: list[str] = []
    if pr is not None and pr.number is not None and pr.url:
        facts.append(f"[#{pr.number}]({_safe_url(pr.url)})")
    commits, files = len(change.commits), len(change.files)
    facts.append(f"{commits} commit{'s' if commits != 1 else ''}")
    added = sum(f.added or 0 for f in change.files)
    removed = sum(f.removed or 0 for f in change.files)
    facts.append(f"{files} file{'s' if files != 1 else ''} (+{added}/−{removed})")
    tools = ", ".join(verdict.ai_tools) or "unnamed tool"
    facts.append("AI-assisted: " + (f"**yes** ({md(tools)})" if verdict.ai_assisted else "no"))
    facts.append(f"risk: **{verdict.risk.level}** ({verdict.risk.score:g})")
    facts.append(f"policy: {code(verdict.policy_description)}")
    return facts


def _key_evidence(evidence: list[Evidence], limit: int) -> str:
    flags = [e for e in evidence if e.contradicts and e.discounted is None]
    counted = [e for e in evidence if e.supports and e.discounted is None and not e.unavailable]
    shown = [e for e in evidence if e.discounted is not None]
    picked = (flags + counted + shown)[:limit]
    parts = [_evidence_line(e) for e in picked]
    more = len(evidence) - len(picked)
    if more > 0:
        parts.append(f"+{more} more")
    return "<br>".join(parts)


def _evidence_line(item: Evidence) -> str:
    if item.contradicts:
        mark = "⛔" if item.severity is Severity.ERROR else "⚠️"
    else:
        mark = "➖" if item.discounted else "✔️"
    text = f"{mark} {md(_short(item.detail, 160))} _({item.trust.value})_"
    where = item.location.render()
    if item.location.path:
        text += f" {code(where)}"
    if item.discounted:
        text += f" — not counted: {md(item.discounted)}"
    return text


def _rule_section(result: RuleResult, verdict: Verdict, evidence_limit: int) -> list[str]:
    rule = result.rule
    head = f"**❌ {code(rule.id)}** ({rule.severity})"
    if rule.description:
        head += f": {md(rule.description)}"
    lines = [head, ""]
    for requirement in result.requirements:
        if requirement.met:
            continue
        reasons = requirement.reasons[:_MAX_REASONS]
        extra = len(requirement.reasons) - len(reasons)
        lines.append(f"- **{requirement.question}**: {md('; '.join(reasons))}" + (f" (and {extra} more)" if extra > 0 else ""))
        seen = [e for e in verdict.evidence if e.question.value == requirement.question]
        for item in seen[:evidence_limit]:
            lines.append(f"  - evidence: {_evidence_line(item)}")
        if len(seen) > evidence_limit:
            lines.append(f"  - … and {len(seen) - evidence_limit} more (see the JSON result)")
        lines.append(f"  - to satisfy: {md(requirement.requirement.describe())}")
    if rule.message:
        lines.append(f"- **Fix:** {md(rule.message)}")
    lines.append("")
    return lines


def _first_reason(result: RuleResult) -> str:
    unmet = [r for r in result.requirements if not r.met]
    if not unmet:
        return result.message
    first = unmet[0]
    more = sum(len(r.reasons) for r in unmet) - 1
    return f"{first.question}: {first.reasons[0] if first.reasons else 'not met'}" + (f" (+{more} more)" if more > 0 else "")


def _waivers(verdict: Verdict) -> list[str]:
    if not verdict.waivers:
        return []
    lines = ["#### Waivers", ""]
    for note in verdict.waivers:
        w = note.waiver
        lines.append(f"- {code(w.rule)} for {md(w.change)}: **{note.status.replace('_', ' ')}** — {md(w.reason)} "
                     f"(approved by {md(w.approved_by)}, expires {md(w.expires)})")
    lines.append("")
    return lines


def _safe_url(url: str) -> str:
    return url if url.startswith(("https://", "http://")) and not re.search(r"[\s()<>]", url) else "#"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _truncate(text: str) -> str:
    note = "\n\n_(summary truncated to GitHub's step summary limit; the JSON result has everything)_\n"
    data = text.encode("utf-8")[: _BUDGET - len(note.encode())]
    return data.decode("utf-8", "ignore") + note
