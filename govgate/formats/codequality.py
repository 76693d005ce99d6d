"""GitLab Code Quality report: the JSON array the merge-request widget reads (``artifacts:reports:codequality``).

Each object has the fields GitLab's report format requires: ``description``, ``check_name`` (the
policy rule's id, or ``govgate/<kind>`` for a red flag or a gap), ``fingerprint``, ``severity``
(``info``, ``minor``, ``major``, ``critical``, ``blocker``) and ``location.path`` with
``location.lines.begin``. The widget shows what is new against the target branch's report by
fingerprint, so fingerprints hash the rule, the file and what was found (as SARIF's do), never line
numbers or commit shas; findings with the same fingerprint are written once.

Severity: a change that could not be read in full is a ``blocker``; a failing rule that fails the
gate is ``critical`` (error rules) or ``major``; a failing rule below ``--fail-on`` and a loose
warning-level red flag are ``minor`` (``info`` for info rules). A passing change is ``[]``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from govgate.formats.findings import Finding, fallback_path, fingerprint, loose_warnings, place, rule_findings
from govgate.model import Severity
from govgate.verdict import Verdict

DESCRIPTION_LIMIT = 1000


def render_check(verdict: Verdict) -> str:
    issues: dict[str, dict[str, Any]] = {}
    first_file = fallback_path(verdict)
    for gap in verdict.incomplete:
        digest = hashlib.sha256(f"incomplete\0{gap.kind.value}\0{gap.detail}".encode()).hexdigest()[:32]
        issues.setdefault(digest, _issue(f"not fully judged: {gap.detail}", f"govgate/incomplete/{gap.kind.value}", digest,
                                         "blocker", first_file, 1))
    for finding in rule_findings(verdict):
        path, line, _ = place(finding, verdict)
        digest = fingerprint(finding, path)
        issues.setdefault(digest, _issue(finding.message, finding.rule_id, digest, _severity(finding, verdict), path, line))
    for flag in loose_warnings(verdict):
        path = (flag.location.path or "").lstrip("/")  # loose warnings always have a file
        digest = hashlib.sha256(f"{flag.kind}\0{path}\0{flag.subject or flag.detail}".encode()).hexdigest()[:32]
        issues.setdefault(digest, _issue(f"{flag.question.value}: {flag.detail}", f"govgate/{flag.kind}", digest, "minor",
                                         path, max(1, flag.location.line or 1)))
    return json.dumps(list(issues.values()), indent=2, ensure_ascii=False) + "\n"


def _severity(finding: Finding, verdict: Verdict) -> str:
    rule_severity = finding.result.rule.severity
    if rule_severity.at_least(verdict.fail_on):  # it fails the gate
        return "critical" if rule_severity is Severity.ERROR else "major"
    return "info" if rule_severity is Severity.INFO else "minor"


def _issue(description: str, check_name: str, digest: str, severity: str, path: str, line: int) -> dict[str, Any]:
    text = " ".join(description.split())
    if len(text) > DESCRIPTION_LIMIT:
        text = text[: DESCRIPTION_LIMIT - 1] + "…"
    return {"description": text, "check_name": check_name, "fingerprint": digest, "severity": severity,
            "location": {"path": path, "lines": {"begin": line}}}
