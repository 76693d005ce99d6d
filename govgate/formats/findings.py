"""Failing rules as located findings: what annotations, SARIF and JUnit place at file:line.

A failing rule is reported at each red flag that made it fail and that has a file location
(an AllAtOnce deploy, an irreversible migration); a rule that fails for missing evidence
has no line to point at and becomes one finding without a location. Formats decide what to
do with those (SARIF needs a location: it uses the first changed file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from govgate.model import Evidence, FileStatus, Location, Severity
from govgate.verdict import RuleResult, RuleStatus, Verdict

LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FALLBACK_FILE = ".govgate.yml"  # where a finding goes when the change touches no file at all
MESSAGE_LIMIT = 2000  # a rule with hundreds of red flags still makes a readable one-line message


@dataclass(frozen=True)
class Finding:
    result: RuleResult
    message: str
    location: Location | None  # a location with a file path, or None
    evidence: Evidence | None

    @property
    def rule_id(self) -> str:
        return self.result.rule.id

    @property
    def level(self) -> str:
        """SARIF level: error, warning or note."""
        return LEVELS.get(self.result.rule.severity, "warning")


def rule_findings(verdict: Verdict, statuses: tuple[str, ...] = ("fail",)) -> list[Finding]:
    found: list[Finding] = []
    for result in verdict.rules:
        if result.status not in statuses:
            continue
        flags = blocking_flags(result)
        located = [f for f in flags if f.location.path]
        fix = f" Fix: {result.rule.message}" if result.rule.message else ""
        if located:
            for flag in located:
                found.append(Finding(result, f"{result.rule.id}: {flag.detail}.{fix}", flag.location, flag))
        else:
            found.append(Finding(result, f"{result.rule.id}: {_short(result.message, MESSAGE_LIMIT)}.{fix}", None, None))
    return found


def place(finding: Finding, verdict: Verdict) -> tuple[str, int, int | None]:
    """(path, line, end line) to show a finding at: its red flag's file line, else line 1 of the first file the
    change touches (code scanning and code quality widgets need a location on every finding)."""
    location = finding.location
    if location is not None and location.path:
        return location.path.lstrip("/"), max(1, location.line or 1), location.end_line
    return fallback_path(verdict), 1, None


def fallback_path(verdict: Verdict) -> str:
    """Where a finding with no file of its own is shown: the first file the change keeps, else the first it touches."""
    files = verdict.change.files
    present = [f.path for f in files if f.status is not FileStatus.DELETED]
    candidates = present or [f.path for f in files]
    return candidates[0].lstrip("/") if candidates else FALLBACK_FILE


def fingerprint(finding: Finding, path: str) -> str:
    """A stable identity: the rule, the file and what was found, never line numbers or commit shas, so the
    same finding on a later push is the same finding."""
    evidence = finding.evidence
    what = f"{evidence.kind}\0{evidence.subject or evidence.detail}" if evidence else "missing-evidence"
    return hashlib.sha256(f"{finding.rule_id}\0{path}\0{what}".encode()).hexdigest()[:32]


def blocking_flags(result: RuleResult) -> list[Evidence]:
    """The red flags that made this rule's unmet requirements fail, as the engine recorded them."""
    return list(dict.fromkeys(flag for requirement in result.requirements if not requirement.met
                              for flag in requirement.red_flags))


def loose_warnings(verdict: Verdict) -> list[Evidence]:
    """Warning-level red flags with a file location that no failing rule already reports."""
    reported = {id(e) for r in verdict.rules if r.status is RuleStatus.FAIL for e in blocking_flags(r)}
    return [
        e for e in verdict.evidence
        if e.contradicts and e.discounted is None and e.severity is Severity.WARNING and e.location.path and id(e) not in reported
    ]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
