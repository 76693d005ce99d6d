"""Verified test evidence from a GitLab merge request's pipeline: its jobs, bound to who defined them.

A job counts only when (facts from ``govgate.sources.gitlab_pipeline``) its pipeline belongs to the
merge request's project and ran on the head commit (or GitLab's merged-results commit of it), it is
not govgate's own job, and its definition is the target branch's (a job the merge request added or
rewrote in ``.gitlab-ci.yml`` cannot vouch for it; a configuration kept in another project can).

A successful job gives the facet ``check_passed`` with the job's name as subject (what
``require.tested.checks`` globs match); ``ci_passed`` is one finding for the whole pipeline: every
counted job completed successfully (or was skipped, or failed as it is allowed to). A job still
created, pending, running or waiting is pending ("not yet"); a manual job nobody ran is pending when
it blocks the pipeline and not a result when it may be skipped; a cancelled job is inconclusive; a
skipped job or a failure the job is allowed (``allow_failure``) is not a result; any other failure
contradicts "tested". GitLab's statuses are read as GitHub's conclusions, so both forges pass alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from govgate.detectors.forge_checks import checks_schema, failure_severity, ignored, whole_head
from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.model import Change, Evidence, JobDefinition, Location, PipelineJob, Question, Severity, Trust

_PENDING = frozenset({"created", "pending", "running", "preparing", "waiting_for_resource", "scheduled",
                      "waiting_for_callback"})
_CANCELLED = frozenset({"canceled", "canceling"})
_COUNTED_DEFINITIONS = frozenset({JobDefinition.SAME, JobDefinition.OUTSIDE})


class GitLabPipelineDetector:
    name = "gitlab_pipeline"
    speaks_to = EVERY_CHANGE  # merge-request data, not files
    reads = NO_CONTENT
    config_schema: Mapping[str, Any] | None = checks_schema()

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        pr = change.pull_request
        if pr is None or pr.jobs is None:
            return []
        severity = failure_severity(settings)
        evidence: list[Evidence] = []
        counted: list[tuple[str, str]] = []
        for job in pr.jobs:
            if ignored(job.name, settings):
                continue
            reason = not_evidence(job)
            if reason is not None:
                evidence.append(_finding(job, "job-not-counted", f"job {job.name!r} is not counted: {reason}", discounted=reason))
                continue
            state = conclusion(job)
            counted.append((job.name, state))
            evidence.append(_judge(job, state, severity))
        evidence.extend(whole_head(counted, source=self.name, where="GitLab pipeline on the head commit", noun="job"))
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


def conclusion(job: PipelineJob) -> str:
    """The job's state in the words GitHub's checks use ("" while it has not concluded), so "CI passed" reads both alike."""
    status = job.status.lower()
    if status in _PENDING or (status == "manual" and not job.allow_failure):
        return ""
    if status == "failed":
        return "neutral" if job.allow_failure else "failure"
    if status in _CANCELLED:
        return "cancelled"
    if status == "manual":
        return "skipped"  # a manual job that may be skipped, which nobody ran
    return status


def _judge(job: PipelineJob, state: str, severity: Severity) -> Evidence:
    name = job.name
    if state == "success":
        return _finding(job, "job-passed", f"job {name!r} succeeded on the head commit", facets=frozenset({"check_passed"}))
    if state == "failure":
        return _finding(job, "job-failed", f"job {name!r} failed", supports=False, severity=severity)
    if not state:
        waiting = "waiting for someone to run it" if job.status == "manual" else job.status
        return _finding(job, "job-pending", f"job {name!r} is {waiting}", discounted="pending", pending=True)
    reason = {"neutral": "failed, which it is allowed to do", "cancelled": "was cancelled: inconclusive",
              "skipped": "is a manual job nobody ran" if job.status == "manual" else "was skipped"}.get(
        state, f"has the unknown status {job.status or 'none'}")
    return _finding(job, "job-inconclusive", f"job {name!r} {reason}", discounted=reason)


def _finding(job: PipelineJob, kind: str, detail: str, *, supports: bool = True, facets: frozenset[str] = frozenset(),
             discounted: str | None = None, severity: Severity = Severity.ERROR, pending: bool = False) -> Evidence:
    attrs: dict[str, Any] = {"status": job.status, "id": job.id, "stage": job.stage, "pipeline_id": job.pipeline_id,
                             "sha": job.sha, "definition": job.definition.value, "allow_failure": job.allow_failure}
    if pending:
        attrs["pending"] = True
    return Evidence(question=Question.TESTED, kind=kind, supports=supports, trust=Trust.VERIFIED, source="gitlab_pipeline",
                    detail=detail, location=Location(where=f"GitLab job {job.name}"), facets=facets, subject=job.name,
                    severity=severity, discounted=discounted, attrs=attrs)


DETECTOR = GitLabPipelineDetector()
