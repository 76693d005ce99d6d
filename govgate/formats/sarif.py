"""SARIF 2.1.0 for GitHub code scanning (``github/codeql-action/upload-sarif``).

Rule ids are the policy's rule ids, so an alert keeps its identity from run to run; every
rule of the policy is listed in ``tool.driver.rules`` whether it failed or not. Code scanning
needs a location on every result: a failing rule is placed at its red flags' file lines, or,
when it fails for missing evidence (no line to point at), at line 1 of the first file the
change touches, so the alert appears in the pull request's diff. ``primaryLocationLineHash``
hashes the rule, the file and what was found, never line numbers or commit shas, so the
same finding on a later push updates the same alert instead of opening a new one.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from govgate import __version__
from govgate.formats.findings import LEVELS, Finding, fingerprint, place, rule_findings
from govgate.verdict import RuleResult, RuleStatus, Verdict

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000  # GitHub's per-run limit


def render_check(verdict: Verdict) -> str:
    rule_index = {result.rule.id: i for i, result in enumerate(verdict.rules)}
    results = [_result(f, rule_index, verdict) for f in rule_findings(verdict, ("fail", "waived"))][:MAX_RESULTS]
    change = verdict.change
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "govgate",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_descriptor(result) for result in verdict.rules],
                    }
                },
                "automationDetails": {"id": "govgate/"},
                # A change not read in full is a run that could not do its job: SARIF's own way to say so.
                "invocations": [{
                    "executionSuccessful": verdict.complete,
                    "toolExecutionNotifications": [
                        {"level": "error", "descriptor": {"id": f"govgate/incomplete/{gap.kind.value}"},
                         "message": {"text": f"not fully judged: {gap.detail}"}}
                        for gap in verdict.incomplete
                    ],
                }],
                "results": results,
                "properties": {
                    "verdict": verdict.verdict.value,
                    "complete": verdict.complete,
                    "change": change.id,
                    "head": change.head,
                    "aiAssisted": verdict.ai_assisted,
                    "risk": verdict.risk.level,
                    "policy": verdict.policy_source,
                    "policyOrigin": verdict.policy_description,
                    "problems": verdict.problems,
                },
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _descriptor(result: RuleResult) -> dict[str, Any]:
    rule = result.rule
    requires = "; ".join(f"{req.question}: {req.describe()}" for req in rule.require) or "no requirements"
    summary = rule.description or f"govgate policy rule {rule.id}"
    full = f"{summary}. Applies when: {rule.when.describe()}. Requires: {requires}."
    help_text = rule.message or f"Provide the evidence the rule requires ({requires}), or waive the rule with a reason."
    return {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": f"**{rule.id}**: {help_text}\n\nRequires: {requires}."},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "warning")},
        "properties": {"tags": ["govgate", *sorted({req.question for req in rule.require})]},
    }


def _result(finding: Finding, rule_index: dict[str, int], verdict: Verdict) -> dict[str, Any]:
    path, line, end_line = place(finding, verdict)
    digest = fingerprint(finding, path)
    region: dict[str, int] = {"startLine": line}
    if end_line and end_line >= line:
        region["endLine"] = end_line
    data: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index[finding.rule_id],
        "level": finding.level,
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": urllib.parse.quote(path, safe="/")},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {"primaryLocationLineHash": f"{digest}:1"},
        "properties": {"change": verdict.change.id, "located": finding.location is not None},
    }
    waiver = finding.result.waiver
    if finding.result.status is RuleStatus.WAIVED and waiver is not None:
        data["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": f"waived by {waiver.approved_by} until {waiver.expires}: {waiver.reason}",
        }]
    return data
