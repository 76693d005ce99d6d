"""The jobs of a merge request's pipeline, bound to the pipeline that ran them and to who defined them.

A job's name proves nothing by itself (``govgate.sources.gitlab_ci_config``), so each job carries:

- whether its pipeline can vouch for the head: it must belong to the merge request's own project
  (a fork's pipeline runs on runners and settings the fork's owner controls) and have run on the
  head commit, or on GitLab's merged-results commit whose parents include the head;
- whether it is govgate's own job: the job ``CI_JOB_ID`` names, and any job of the same name (an
  earlier run of the gate is no evidence either);
- whether its definition at the pipeline's commit is the one at the trust root.

The pipeline read is the one govgate runs in (``CI_PIPELINE_ID``), else the merge request's head
pipeline. Retried jobs are left out, as GitLab lists them: the newest run of each job stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govgate.model import JobDefinition, PipelineJob
from govgate.sources.base_files import BaseFiles
from govgate.sources.clone import commit_parents, has_commit
from govgate.sources.git import GitRepo
from govgate.sources.gitlab_api import GitLabClient
from govgate.sources.gitlab_ci_config import DEFAULT_CI_CONFIG, compare_jobs, config_outside_repository, read_ci_config
from govgate.sources.gitlab_mr_api import MergeRequest, fetch_commit_parents, fetch_jobs, fetch_pipeline, fetch_project
from govgate.sources.json_shapes import integer
from govgate.sources.trusted import TrustedConfig

Definitions = dict[str, tuple[JobDefinition, str]]


@dataclass
class PipelineReader:
    repo: GitRepo
    project: str
    mr: MergeRequest
    head: str
    trusted: TrustedConfig
    own_job_id: int | None
    own_job_name: str | None
    problems: list[str] = field(default_factory=list)

    def read(self, client: GitLabClient, pipeline_id: int | None) -> tuple[PipelineJob, ...]:
        pipeline_id = pipeline_id or integer((self.mr.head_pipeline or {}).get("id"))
        if pipeline_id is None:
            self.problems.append("the merge request has no pipeline: no job can vouch for it")
            return ()
        pipeline = fetch_pipeline(client, self.project, pipeline_id)
        sha = str(pipeline.get("sha") or "")
        bound = self._binding(client, pipeline, sha)
        jobs = fetch_jobs(client, self.project, pipeline_id)
        own_names = {str(j.get("name")) for j in jobs if self.own_job_id is not None and integer(j.get("id")) == self.own_job_id}
        own_names |= {self.own_job_name} if self.own_job_name else set()
        definitions = self._definitions(client, sha, [str(j.get("name") or "") for j in jobs])
        return tuple(self._job(j, pipeline_id, sha, bound, own_names, definitions) for j in jobs if j.get("name"))

    def _job(self, job: Mapping[str, Any], pipeline_id: int, sha: str, bound: str | None, own_names: set[str],
             definitions: Definitions) -> PipelineJob:
        name = str(job.get("name"))
        definition, note = definitions.get(name, (JobDefinition.UNKNOWN, "its definition was not compared"))
        return PipelineJob(
            name=name, status=str(job.get("status") or ""), id=integer(job.get("id")), stage=job.get("stage"),
            allow_failure=bool(job.get("allow_failure")), pipeline_id=pipeline_id, sha=sha or None,
            own=name in own_names, definition=definition,
            definition_note=note, bound=bound,
        )

    def _binding(self, client: GitLabClient, pipeline: Mapping[str, Any], sha: str) -> str | None:
        """Why the pipeline cannot vouch for the head, or None when it can."""
        project = integer(pipeline.get("project_id"))
        if project is not None and self.mr.project_id is not None and project != self.mr.project_id:
            return (f"the pipeline ran in project {project}, not in the merge request's project {self.mr.project_id} "
                    "(a fork's pipeline runs on runners and settings its owner controls)")
        if sha == self.head:
            return None
        iid = self.mr.pull.number
        if str(pipeline.get("ref") or "") in (f"refs/merge-requests/{iid}/merge", f"refs/merge-requests/{iid}/train"):
            parents = commit_parents(self.repo, sha) if has_commit(self.repo, sha) else fetch_commit_parents(client, self.project, sha)
            if self.head in parents:
                return None
        return f"the pipeline ran on {sha[:12] or 'an unknown commit'}, not on the head commit {self.head[:12]}"

    def _definitions(self, client: GitLabClient, sha: str, names: list[str]) -> Definitions:
        config_path = str(fetch_project(client, self.project).get("ci_config_path") or "") or DEFAULT_CI_CONFIG
        if config_outside_repository(config_path):
            note = f"the pipeline's configuration ({config_path}) lives outside the repository: the merge request cannot edit it"
            return {name: (JobDefinition.OUTSIDE, note) for name in names}
        if self.trusted.files is None:
            return {name: (JobDefinition.UNKNOWN, "there is no trust root to compare its definition with") for name in names}
        commit = sha if sha and has_commit(self.repo, sha) else self.head
        base = read_ci_config(self.trusted.files, config_path)
        head = read_ci_config(BaseFiles(self.repo, commit, "the pipeline's commit"), config_path)
        return compare_jobs(base, head, names)

