"""Verified test evidence: check runs and commit statuses on the head commit, from GitHub.

A success is evidence (facet ``ci_passed``, subject = the check's name, which the policy's
``require.tested.checks`` globs match). A check still running is shown as pending, neither
success nor failure. A failed, timed-out, cancelled or blocked check contradicts "tested".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from govgate.detectors.forge_settings import checks_schema
from govgate.model import Change, CheckResult, Evidence, Location, Question, Trust

_FAILED = frozenset({"failure", "timed_out", "cancelled", "action_required", "startup_failure", "error"})
_NOT_A_RESULT = frozenset({"neutral", "skipped", "stale"})


class GitHubCheckDetector:
    name = "github_checks"
    config_schema: Mapping[str, Any] | None = checks_schema()

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        pr = change.pull_request
        if pr is None or pr.checks is None:
            return []
        ignore = tuple(settings.get("ignore", ()))
        severity = settings.get("failure_severity", "error")
        head = pr.head_sha or change.head
        evidence: list[Evidence] = []
        for check in pr.checks:
            if not check.name or any(fnmatchcase(check.name, pattern) for pattern in ignore):
                continue
            evidence.append(self._judge(check, head, severity))
        return evidence

    def _judge(self, check: CheckResult, head: str, severity: str) -> Evidence:
        noun = "status" if check.kind == "status" else "check"
        where = Location(where=f"GitHub {noun} {check.name}" + (f" ({check.app})" if check.app else ""))
        attrs: dict[str, Any] = {"kind": check.kind, "status": check.status, "conclusion": check.conclusion,
                                 "head_sha": check.head_sha}
        base = {"question": Question.TESTED, "trust": Trust.VERIFIED, "source": self.name, "location": where,
                "subject": check.name}
        if check.head_sha and head and check.head_sha != head:
            return Evidence(kind="check-other-commit", supports=True, detail=f"{noun} {check.name!r} ran on "
                            f"{check.head_sha[:12]}, not the head", discounted="not the head commit", attrs=attrs, **base)
        conclusion = (check.conclusion or "").lower()
        if check.status != "completed" or not conclusion:
            return Evidence(kind="check-pending", supports=True, detail=f"{noun} {check.name!r} is {check.status or 'pending'}",
                            discounted="pending", attrs={**attrs, "pending": True}, **base)
        if conclusion == "success":
            return Evidence(kind="check-passed", supports=True, detail=f"{noun} {check.name!r} succeeded on the head commit",
                            facets=frozenset({"ci_passed"}), attrs=attrs, **base)
        if conclusion in _FAILED:
            return Evidence(kind="check-failed", supports=False, detail=f"{noun} {check.name!r} concluded {conclusion}",
                            severity=severity, attrs=attrs, **base)
        reason = f"concluded {conclusion}" if conclusion in _NOT_A_RESULT else f"unknown conclusion {conclusion}"
        return Evidence(kind="check-inconclusive", supports=True, detail=f"{noun} {check.name!r} {reason}",
                        discounted=reason, attrs=attrs, **base)


DETECTOR = GitHubCheckDetector()
