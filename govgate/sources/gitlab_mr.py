"""The change a GitLab CI merge-request pipeline is about, with verified approvals and jobs from the API.

The merge request is named by GitLab's predefined variables (``CI_MERGE_REQUEST_IID``, the project,
the diff base and head shas, branches, labels, title); its description, author, approvals and the
pipeline's jobs come from the GitLab REST API v4 (``govgate.sources.gitlab_api``).

Trust rules this module enforces (``govgate.sources.trusted`` reads what the trust root holds):
- The policy, its waivers and CODEOWNERS come from the target branch: its tip when GitLab gives it
  (``CI_MERGE_REQUEST_TARGET_BRANCH_SHA``, merged-results pipelines), else the merge request's diff
  base. Variables can be redefined by the merge request's own ``.gitlab-ci.yml``, so the trust root
  must be on the target branch (an ancestor of its tip on origin) and the API must live on the host
  the repository was cloned from, unless the trusted policy names it (``gitlab: {api_url: ...}``).
- When the API cannot be read the gate fails closed (exit 2, nothing judged) unless the trusted
  policy says ``gitlab: {on_api_error: fail_open}``.
- With only ``CI_JOB_TOKEN`` (which GitLab lets read the merge request but not its approvals,
  commits, pipelines or members), nothing is verified: the output says so and which token to set.
- What could not be read in full (a diff GitLab stopped listing, history that could not be fetched)
  is a gap in ``Change.incomplete``: the change is not fully judged.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from govgate.errors import GitError, SourceError
from govgate.model import Approval, Change, PullRequest
from govgate.sources import SourceRequest, TrustRoot
from govgate.sources.clone import branch_tip, ensure_commits, ensure_history, has_commit
from govgate.sources.codeowners_gitlab import GITLAB_CODEOWNERS_LOCATIONS, parse_gitlab_codeowners
from govgate.sources.forge_api import fails_open, policy_deadline
from govgate.sources.forge_reads import ForgeReads
from govgate.sources.gitlab_api import GitLabClient, GitLabToken, TokenKind, token_from
from govgate.sources.gitlab_approvers import ApproverReader, add_pushers, contributors_of
from govgate.sources.gitlab_changes import change_from_api
from govgate.sources.gitlab_mr_api import MergeRequest, fetch_approval_state, fetch_approvals, fetch_merge_request
from govgate.sources.gitlab_pipeline import PipelineReader
from govgate.sources.json_shapes import integer
from govgate.sources.local import LocalRangeSource
from govgate.sources.trusted import TrustedConfig

__all__ = ["GitLabMergeRequestSource", "open_source"]

GIT_DEPTH_HINT = (
    "set `GIT_DEPTH: 0` in the govgate job's variables (or a depth that reaches the merge base), or let govgate "
    "fetch from origin: the job's clone needs the commits between the target branch and the head"
)


@dataclass(frozen=True)
class GitLabEnvironment:
    """The predefined variables of a GitLab CI merge-request pipeline that govgate reads."""

    api_url: str
    project: str  # the merge request's project: an id, or a full path
    iid: int
    head: str | None
    diff_base: str | None
    target_sha: str | None
    target_branch: str | None
    source_branch: str | None
    title: str
    labels: tuple[str, ...]
    pipeline_id: int | None
    job_id: int | None
    job_name: str | None
    token: GitLabToken | None

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> GitLabEnvironment:
        project = env.get("CI_MERGE_REQUEST_PROJECT_ID") or env.get("CI_PROJECT_ID") or env.get("CI_PROJECT_PATH")
        api_url = env.get("CI_API_V4_URL") or (env["CI_SERVER_URL"].rstrip("/") + "/api/v4" if env.get("CI_SERVER_URL") else "")
        missing = [name for name, value in (("CI_MERGE_REQUEST_IID", env.get("CI_MERGE_REQUEST_IID")),
                                            ("CI_API_V4_URL", api_url), ("CI_PROJECT_ID", project)) if not value]
        if missing:
            raise SourceError(
                f"reading a merge request from GitLab CI needs {', '.join(missing)} in the environment, which GitLab sets "
                "only in merge-request pipelines",
                'run the govgate job with `rules: [{if: $CI_PIPELINE_SOURCE == "merge_request_event"}]`; '
                "outside GitLab CI, run `govgate check --source local --base REV`",
            )
        iid = integer(env.get("CI_MERGE_REQUEST_IID"))
        if iid is None:
            raise SourceError(f"CI_MERGE_REQUEST_IID is not a number: {env.get('CI_MERGE_REQUEST_IID')!r}")
        return cls(
            api_url=api_url, project=str(project), iid=iid,
            head=env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA") or None,
            diff_base=env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None,
            target_sha=env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA") or None,
            target_branch=env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME") or None,
            source_branch=env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME") or None,
            title=env.get("CI_MERGE_REQUEST_TITLE") or "",
            labels=tuple(label for label in (env.get("CI_MERGE_REQUEST_LABELS") or "").split(",") if label),
            pipeline_id=integer(env.get("CI_PIPELINE_ID")), job_id=integer(env.get("CI_JOB_ID")),
            job_name=env.get("CI_JOB_NAME") or None, token=token_from(env),
        )


@dataclass
class GitLabMergeRequestSource:
    """A ChangeSource over a GitLab CI merge-request pipeline and the GitLab REST API."""

    request: SourceRequest
    name: ClassVar[str] = "gitlab"
    problems: list[str] = field(default_factory=list)
    merge_base: str | None = None
    actions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.repo = self.request.repo
        self.env = GitLabEnvironment.from_environ(self.request.environ)
        head = self.request.head or self.env.head
        base = self.request.base or self.env.diff_base
        if not head or not base:
            raise SourceError("the merge request's head or diff base is unknown (CI_COMMIT_SHA, CI_MERGE_REQUEST_DIFF_BASE_SHA)",
                              "pass --base and --head")
        self.head = self.repo.resolve(head) if self.request.head else head
        self.base = self.repo.resolve(base) if self.request.base else base

    # -- where the policy comes from, and the history to judge ---------------------------------

    def trust_root(self) -> TrustRoot:
        env = self.env
        target = f" {env.target_branch}" if env.target_branch else ""
        if env.target_sha:
            root = TrustRoot(env.target_sha, f"the merge request's target branch{target}", forge=True)
        elif env.diff_base:
            root = TrustRoot(env.diff_base, f"the merge request's diff base on the target branch{target}", forge=True)
        else:
            raise SourceError("neither CI_MERGE_REQUEST_TARGET_BRANCH_SHA nor CI_MERGE_REQUEST_DIFF_BASE_SHA is set: "
                              "cannot tell which policy judges the merge request")
        self.merge_base, self.actions = ensure_history(self.repo, self.base, self.head,
                                                       head_refs=(f"refs/merge-requests/{env.iid}/head",))
        ensure_commits(self.repo, [root.revision or ""], self.actions)
        if not has_commit(self.repo, root.revision or ""):
            raise GitError(f"cannot read the policy: {root.role}, {(root.revision or '')[:12]}, is not in the clone",
                           GIT_DEPTH_HINT)
        self._check_on_target_branch(root)
        return root

    def _check_on_target_branch(self, root: TrustRoot) -> None:
        """The trust root must be on the target branch: a redefined variable could name the merge request's own commit."""
        branch = self.env.target_branch
        if not branch or not self.repo.remote_url("origin"):
            self.problems.append("the trust root could not be checked against the target branch (no branch name or "
                                 "origin remote)")
            return
        if not any(self._on_branch(root.revision or "", branch, refresh) for refresh in (False, True)):
            raise SourceError(
                f"{root.role}, {(root.revision or '')[:12]}, is not on {branch} on origin: the variables that name it "
                "do not describe this merge request (were they redefined in .gitlab-ci.yml?)",
                "judge only merge-request pipelines, and keep CI_MERGE_REQUEST_* variables as GitLab sets them",
            )

    def _on_branch(self, revision: str, branch: str, refresh: bool) -> bool:
        tip = branch_tip(self.repo, branch, self.actions, refresh=refresh)
        if tip is None:
            if refresh:
                raise GitError(f"cannot read the target branch {branch} on origin to check where the policy comes from",
                               GIT_DEPTH_HINT)
            return False
        found, _ = ensure_history(self.repo, revision, tip)
        return found == revision

    # -- the change and its verified evidence ------------------------------------------------

    def changes(self, trusted: TrustedConfig) -> Iterator[Change]:
        settings = trusted.policy.gitlab
        client = GitLabClient(self._api_url(settings), self.env.token, deadline_seconds=policy_deadline(settings))
        reads = ForgeReads(client, "GitLab", "gitlab", fails_open(settings), self.problems)
        env = self.env
        mr = reads.call("the merge request", lambda c: fetch_merge_request(c, env.project, env.iid))
        pull = mr.pull if mr is not None else self._pull_from_variables()
        change = self._read_change(mr, reads)
        current = pull.head_sha if mr is not None else None  # the merge request's head now, as GitLab says
        if current and current != self.head:
            self.problems.append(f"the merge request's head moved on to {current[:12]} since this pipeline started: "
                                 f"judged the pipeline's head {self.head[:12]}")
        pull.head_sha, pull.base_sha = self.head, change.base
        if mr is not None:
            self._add_verified_evidence(pull, mr, change, trusted, reads, current)
        change.pull_request = pull
        self._describe(change, pull)
        change.problems.extend(self.problems)
        yield change

    def close(self) -> None:
        self.repo.close()

    def _api_url(self, settings: Mapping[str, Any]) -> str:
        """The policy's ``gitlab.api_url``, else CI_API_V4_URL when it is on the host the clone came from."""
        if settings.get("api_url"):
            return str(settings["api_url"])
        api_host = urllib.parse.urlsplit(self.env.api_url).hostname
        origin = self.repo.remote_url("origin") or ""
        clone_host = urllib.parse.urlsplit(origin).hostname if origin.startswith(("http://", "https://")) else None
        if clone_host and api_host and clone_host.lower() != api_host.lower():
            raise SourceError(
                f"CI_API_V4_URL points at {api_host}, but this repository was cloned from {clone_host}: govgate sends its "
                "token only to the GitLab the code came from",
                "if the API really lives elsewhere, name it in the policy: `gitlab: {api_url: https://HOST/api/v4}`",
            )
        return self.env.api_url

    def _pull_from_variables(self) -> PullRequest:
        """The merge request as the pipeline's variables describe it (when the API could not be read)."""
        env = self.env
        return PullRequest(number=env.iid, title=env.title, labels=env.labels, head_ref=env.source_branch,
                           base_ref=env.target_branch)

    def _read_change(self, mr: MergeRequest | None, reads: ForgeReads[GitLabClient]) -> Change:
        if self.merge_base is not None:
            return LocalRangeSource(self.repo, self.base, self.head).read()
        if mr is not None:
            ensure_commits(self.repo, [self.head, self.base], self.actions)
            change = reads.call("the merge request's commits and diffs",
                                lambda c: change_from_api(c, self.env.project, mr, self.head, self.base, self.repo))
            if change is not None:
                self.problems.append(
                    f"the clone lacks the history between {self.base[:12]} and {self.head[:12]}: the {len(change.files)} "
                    f"changed files and {len(change.commits)} commits were read from the GitLab API ({GIT_DEPTH_HINT})")
                return change
        done = "; ".join(self.actions) or "nothing could be fetched"
        raise GitError(f"cannot find the merge base of {self.base[:12]} and {self.head[:12]} in this clone (tried: {done})",
                       GIT_DEPTH_HINT)

    def _add_verified_evidence(self, pull: PullRequest, mr: MergeRequest, change: Change, trusted: TrustedConfig,
                               reads: ForgeReads[GitLabClient], current: str | None) -> None:
        token = self.env.token
        if token is not None and token.kind is TokenKind.JOB:
            self.problems.append(
                "NOT VERIFIED: approvals, the pipeline's jobs and who wrote the commits: GitLab lets CI_JOB_TOKEN read the "
                "merge request but not these; set GOVGATE_GITLAB_TOKEN to a project access token with the read_api scope "
                "and the Reporter role (a masked CI/CD variable)")
            return
        if trusted.asks_for_code_owners:
            found = trusted.codeowners(GITLAB_CODEOWNERS_LOCATIONS)
            owners = parse_gitlab_codeowners(found[1]) if found else None
            pull.owner_rules = owners.rules_for(change.paths()) if owners else ()
            self.problems.extend(f"{found[0]}: {note}" for note in (owners.problems if owners and found else ()))
        state = reads.call("GitLab's approval rules", lambda c: fetch_approval_state(c, self.env.project, self.env.iid))
        pull.approval_rules = state.rules if state is not None else None
        times = state.approved_at if state is not None else {}
        pull.approvals = reads.call("approvals and who gave them",
                                    lambda c: self._approvals(c, mr, change, pull, times, current))
        pipeline = PipelineReader(self.repo, self.env.project, mr, self.head, trusted, self.env.job_id,
                                  self.env.job_name, self.problems)
        pull.jobs = reads.call("the pipeline's jobs", lambda c: pipeline.read(c, self.env.pipeline_id))

    def _approvals(self, client: GitLabClient, mr: MergeRequest, change: Change, pull: PullRequest,
                   times: Mapping[str, str], current: str | None) -> tuple[Approval, ...]:
        """Each approval with the facts that decide it; a time missing from /approvals is taken from approval_state."""
        approvals = [(user, at or times.get(str(user.get("username") or "").lower()))
                     for user, at in fetch_approvals(client, self.env.project, self.env.iid)]
        if not approvals:
            return ()
        people = contributors_of(change.commits)
        add_pushers(client, mr, change.commits, self.head, people)
        self.problems.extend(people.notes)
        reader = ApproverReader(client, self.env.project, mr, self.head, current, people, pull.owner_rules, self.problems)
        return reader.read(approvals)

    def _describe(self, change: Change, pull: PullRequest) -> None:
        change.id = f"!{self.env.iid}"
        change.kind = "merge_request"
        change.forge = "gitlab"  # even when fail_open lost the API: verified-only rules must then fail, not relax
        change.title = pull.title or change.title
        change.branch = pull.head_ref or self.env.source_branch or change.branch
        if pull.url and "/-/merge_requests/" in pull.url:
            change.repo_url = pull.url.split("/-/merge_requests/", 1)[0]


def open_source(request: SourceRequest) -> GitLabMergeRequestSource:
    return GitLabMergeRequestSource(request)

