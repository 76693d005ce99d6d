"""Verified test evidence: check runs and commit statuses on the head commit, bound to who ran them.

A check's name is chosen by whoever wrote the job or called the API, so a name alone proves
nothing. A check counts only when it comes from a trusted source:

- check runs from an app in ``apps`` (default: GitHub Actions); an Actions check run must be a
  job of a workflow file that exists on the base branch and that this change does not edit
  (nor a reusable workflow it calls): a job a pull request adds to its own workflow cannot vouch
  for it. Other apps are trusted as apps: configure only apps whose jobs the change cannot define;
- commit statuses only from contexts listed in ``contexts`` (none by default): anyone with
  ``statuses: write`` can post any context;
- never govgate's own job, identified by the source from the runner, never by name.

The newest run of each name wins (an earlier failure re-run green counts as green). A success
gives the facet ``check_passed`` with the check's name as subject (what ``require.tested.checks``
globs match). ``ci_passed`` is one finding for the whole head: every counted check completed
successfully (success, or neutral/skipped, which GitHub treats as passing). A check still queued
or running is pending ("not yet"); cancelled or stale is inconclusive; failed, timed out or
blocked contradicts "tested".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govgate.detectors.forge_checks import GLOBS, PASSING, checks_schema, failure_severity, ignored, whole_head
from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.model import Change, CheckResult, Evidence, Location, Question, Severity, Trust, glob_any, newest_per_name

_FAILED = frozenset({"failure", "timed_out", "action_required", "startup_failure", "error"})
_INCONCLUSIVE = frozenset({"cancelled", "stale"})
DEFAULT_APPS = ("github-actions",)


@dataclass(frozen=True)
class _Trust:
    apps: tuple[str, ...]
    contexts: tuple[str, ...]
    touched: frozenset[str]


class GitHubCheckDetector:
    name = "github_checks"
    speaks_to = EVERY_CHANGE
    reads = NO_CONTENT
    config_schema: Mapping[str, Any] | None = checks_schema(
        apps={**GLOBS, "description": "slugs of the apps whose check runs count (default: github-actions)"},
        contexts={**GLOBS, "description": "commit-status contexts (globs) that count; statuses count only when listed"},
    )

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        pr = change.pull_request
        if pr is None or pr.checks is None:
            return []
        checks = [c for c in pr.checks if c.name and not ignored(c.name, settings)]
        trust = _Trust(tuple(settings.get("apps", DEFAULT_APPS)), tuple(settings.get("contexts", ())),
                       frozenset(change.paths()))
        severity = failure_severity(settings)
        head = pr.head_sha or change.head
        newest = newest_per_name(checks)
        # Every run of the name govgate's own job has is govgate's: this run, earlier ones, concurrent ones.
        own_names = {(c.kind, c.app, c.name) for c in checks if c.own}
        evidence: list[Evidence] = []
        counted: list[CheckResult] = []
        for check in checks:
            reason = _not_evidence(check, head, newest, own_names, trust)
            if reason is not None:
                evidence.append(_finding(check, "check-not-counted", f"{_noun(check)} {check.name!r} is not counted: {reason}",
                                         discounted=reason))
                continue
            counted.append(check)
            evidence.append(_judge(check, severity))
        evidence.extend(_whole_head(counted))
        return evidence


def _not_evidence(
    check: CheckResult, head: str, newest: set[CheckResult], own_names: set[tuple[str, str | None, str]], trust: _Trust,
) -> str | None:
    """Why this check says nothing about the change, or None when it is evidence."""
    if (check.kind, check.app, check.name) in own_names:
        return "govgate's own check (this job, or an earlier run of it) is never evidence about the change"
    if check not in newest:
        return f"a newer run of {check.name!r} supersedes it"
    if check.head_sha and head and check.head_sha != head:
        return f"it ran on {check.head_sha[:12]}, not the head commit"
    if check.kind == "status":
        if not glob_any(check.name, trust.contexts):
            return "commit statuses count only from contexts listed in settings.github_checks.contexts"
        return None
    if not glob_any(check.app or "", trust.apps):
        return f"it comes from the app {check.app or 'unknown'!r}, not one of settings.github_checks.apps"
    if check.app == "github-actions":
        return _workflow_problem(check, trust.touched)
    return None


def _workflow_problem(check: CheckResult, touched: frozenset[str]) -> str | None:
    origin = check.origin
    if origin is None:
        return "the workflow that ran it is unknown"
    if origin.unknown:
        return origin.unknown
    if origin.workflow_path is None:
        return "it is not a job of any workflow run (a step can create check runs of any name through the API)"
    if not origin.on_base:
        return f"its workflow {origin.workflow_path} does not exist on the base branch: the change added it"
    edited = [path for path in (origin.workflow_path, *origin.called) if path in touched]
    if edited:
        return f"this change edits {edited[0]}, the workflow that ran it: a change cannot vouch for itself with jobs it wrote"
    return None


def _noun(check: CheckResult) -> str:
    return "status" if check.kind == "status" else "check"


def _finding(check: CheckResult, kind: str, detail: str, *, supports: bool = True, facets: frozenset[str] = frozenset(),
             discounted: str | None = None, severity: Severity = Severity.ERROR, pending: bool = False) -> Evidence:
    origin = check.origin
    attrs: dict[str, Any] = {"kind": check.kind, "status": check.status, "conclusion": check.conclusion,
                             "head_sha": check.head_sha, "app": check.app, "id": check.id}
    if origin is not None and origin.workflow_path:
        attrs["workflow"] = origin.workflow_path
    if pending:
        attrs["pending"] = True
    where = Location(where=f"GitHub {_noun(check)} {check.name}" + (f" ({check.app})" if check.app else ""))
    return Evidence(question=Question.TESTED, kind=kind, supports=supports, trust=Trust.VERIFIED, source="github_checks",
                    detail=detail, location=where, facets=facets, subject=check.name, severity=severity,
                    discounted=discounted, attrs=attrs)


def _judge(check: CheckResult, severity: Severity) -> Evidence:
    noun, name = _noun(check), check.name
    conclusion = (check.conclusion or "").lower()
    if check.status != "completed" or not conclusion:
        return _finding(check, "check-pending", f"{noun} {name!r} is {check.status or 'pending'}", discounted="pending",
                        pending=True)
    if conclusion == "success":
        return _finding(check, "check-passed", f"{noun} {name!r} succeeded on the head commit",
                        facets=frozenset({"check_passed"}))
    if conclusion in _FAILED:
        return _finding(check, "check-failed", f"{noun} {name!r} concluded {conclusion}", supports=False, severity=severity)
    reason = (f"concluded {conclusion}: inconclusive" if conclusion in _INCONCLUSIVE
              else f"concluded {conclusion}" if conclusion in PASSING else f"unknown conclusion {conclusion}")
    return _finding(check, "check-inconclusive", f"{noun} {name!r} {reason}", discounted=reason)


def _whole_head(counted: Sequence[CheckResult]) -> list[Evidence]:
    """One finding on "CI passed" for every counted check."""
    conclusions = [(c.name, (c.conclusion or "").lower() if c.status == "completed" else "") for c in counted]
    return whole_head(conclusions, source="github_checks", where="GitHub checks on the head commit")


DETECTOR = GitHubCheckDetector()
