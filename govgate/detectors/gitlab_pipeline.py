"""Verified test evidence from a GitLab merge request's pipeline: its jobs, bound to who defined them.

A job counts only when (facts from ``govgate.sources.gitlab_pipeline``) its pipeline belongs to the
merge request's project and ran on the head commit (or GitLab's merged-results commit of it), it is
not govgate's own job, and its definition is the target branch's (a job the merge request added or
rewrote in ``.gitlab-ci.yml`` cannot vouch for it; a configuration kept in another project can).

A successful job gives the facet ``ci_passed`` with the job's name as subject (what
``require.tested.checks`` globs match). A job still created, pending, running or waiting is pending
("not yet"); a manual job nobody ran is pending when it blocks the pipeline and not a result when it
may be skipped; a cancelled job is inconclusive; a skipped job or a failure the job is allowed
(``allow_failure``) is not a result; any other failure contradicts "tested".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from govgate.detectors.forge_settings import checks_schema
from govgate.model import Change, Evidence, JobDefinition, Location, PipelineJob, Question, Trust

_PENDING = frozenset({"created", "pending", "running", "preparing", "waiting_for_resource", "scheduled",
                      "waiting_for_callback"})
_CANCELLED = frozenset({"canceled", "canceling"})
_COUNTED_DEFINITIONS = frozenset({JobDefinition.SAME, JobDefinition.OUTSIDE})


class GitLabPipelineDetector:
    name = "gitlab_pipeline"
    config_schema: Mapping[str, Any] | None = checks_schema()

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        pr = change.pull_request
        if pr is None or pr.jobs is None:
            return []
        ignore = tuple(settings.get("ignore", ()))
        severity = settings.get("failure_severity", "error")
        evidence: list[Evidence] = []
        for job in pr.jobs:
            if any(fnmatchcase(job.name, pattern) for pattern in ignore):
                continue
            reason = not_evidence(job)
            if reason is not None:
                evidence.append(_finding(job, "job-not-counted", f"job {job.name!r} is not counted: {reason}", discounted=reason))
            else:
                evidence.append(_judge(job, severity))
        return evidence


def not_evidence(job: PipelineJob) -> str | None:
    """Why this job says nothing about the change, or None when it is evidence."""
    if job.own:
        return "govgate's own job (this run, or another run of it) is never evidence about the change"
    if job.bound is not None:
        return job.bound
    if job.definition not in _COUNTED_DEFINITIONS:
        return job.definition_note or "who defined it is unknown"
    return None


def _judge(job: PipelineJob, severity: str) -> Evidence:
    status = job.status.lower()
    name = job.name
    if status == "success":
        return _finding(job, "job-passed", f"job {name!r} succeeded on the head commit", facets=frozenset({"ci_passed"}))
    if status == "failed":
        if job.allow_failure:
            return _finding(job, "job-inconclusive", f"job {name!r} failed, which it is allowed to do",
                            discounted="allowed to fail")
        return _finding(job, "job-failed", f"job {name!r} failed", supports=False, severity=severity)
    if status in _PENDING or (status == "manual" and not job.allow_failure):
        waiting = "waiting for someone to run it" if status == "manual" else status
        return _finding(job, "job-pending", f"job {name!r} is {waiting}", discounted="pending", pending=True)
    if status in _CANCELLED:
        return _finding(job, "job-inconclusive", f"job {name!r} was cancelled", discounted="cancelled: inconclusive")
    if status == "manual":
        return _finding(job, "job-inconclusive", f"job {name!r} is a manual job nobody ran", discounted="not run (manual)")
    reason = "skipped" if status == "skipped" else f"unknown status {status or 'none'}"
    return _finding(job, "job-inconclusive", f"job {name!r}: {reason}", discounted=reason)


def _finding(job: PipelineJob, kind: str, detail: str, *, supports: bool = True, facets: frozenset[str] = frozenset(),
             discounted: str | None = None, severity: str = "error", pending: bool = False) -> Evidence:
    attrs: dict[str, Any] = {"status": job.status, "id": job.id, "stage": job.stage, "pipeline_id": job.pipeline_id,
                             "sha": job.sha, "definition": job.definition.value, "allow_failure": job.allow_failure}
    if pending:
        attrs["pending"] = True
    return Evidence(question=Question.TESTED, kind=kind, supports=supports, trust=Trust.VERIFIED, source="gitlab_pipeline",
                    detail=detail, location=Location(where=f"GitLab job {job.name}"), facets=facets, subject=job.name,
                    severity=severity, discounted=discounted, attrs=attrs)


DETECTOR = GitLabPipelineDetector()
