"""Building blocks for GitLab CI tests: a merge request in a real repository, its API on 127.0.0.1.

``MergeRequestCase`` holds an honest merge request: Alice's branch changes the README, Bob (a
Developer who neither wrote nor pushed it) approved it after the head was pushed, and the pipeline's
``test`` job, defined on the target branch, passed. A test changes one thing (the attack), serves
the API and runs the real CLI with the variables GitLab sets in a merge-request pipeline; the same
case without the change is the control.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import CliResult, RepoBuilder, run_cli
from tests.github_case import VERIFIED_POLICY as GITHUB_POLICY
from tests.gitlab_server import (
    GitLabServer,
    approvals,
    job,
    member,
    merge_request,
    pipeline,
    project,
    push_event,
    user,
    user_detail,
    version,
)

TOKEN = "glpat-TopSecretToken0123456789ab"
JOB_TOKEN = "glcbt-JobTokenSecret9876543210zz"
PROJECT_ID = 42
IID = 7
PIPELINE_ID = 500
OWN_JOB_ID = 901
MR = f"projects/{PROJECT_ID}/merge_requests/{IID}"
PUSHED_AT = "2024-03-10T09:30:00.000Z"
APPROVED_AT = "2024-03-11T10:00:00.000Z"

ALICE = user("alice", 2, name="Alice Example")  # the author
BOB = user("bob", 3, name="Bob Reviewer")  # a Developer who reviews

CI_CONFIG = """\
stages: [test]
default:
  image: python:3.12
test:
  stage: test
  script: [pytest -q]
govgate:
  stage: .post
  script: [govgate check]
"""

# The GitHub tests' policy, for GitLab: the same rules, with the job name a GitLab pipeline has.
VERIFIED_POLICY = (GITHUB_POLICY.replace("github:", "gitlab:").replace('checks: ["build", "ci/*"]', 'checks: ["test"]')
                   .replace("Let CI pass on the head commit.", "Let the test job pass on the head commit."))


@dataclass
class MergeRequestCase:
    server: GitLabServer
    builder: RepoBuilder
    base: str
    head: str
    approved_by: list[tuple[dict[str, Any], str | None]] = field(default_factory=lambda: [(BOB, APPROVED_AT)])
    users: dict[int, dict[str, Any]] = field(default_factory=lambda: {
        2: user_detail("alice", 2, name="Alice Example"), 3: user_detail("bob", 3, name="Bob Reviewer")})
    access: dict[int, int] = field(default_factory=lambda: {2: 30, 3: 30})
    events: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    pipeline: dict[str, Any] | None = None
    mr: dict[str, Any] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)
    project: dict[str, Any] = field(default_factory=lambda: project(PROJECT_ID))

    def __post_init__(self) -> None:
        self.mr = merge_request(IID, PROJECT_ID, head=self.head, base=self.base, author=ALICE,
                                pipeline=pipeline(PIPELINE_ID, PROJECT_ID, self.head))
        self.pipeline = pipeline(PIPELINE_ID, PROJECT_ID, self.head)
        self.jobs = [job("test", 801, self.head), job("govgate", OWN_JOB_ID, self.head, status="running", stage=".post")]
        self.events = [push_event("alice", 2, ref="feature", commit_to=self.head)]
        self.versions = [version(self.head, self.base, PUSHED_AT)]

    def serve(self) -> None:
        server = self.server
        server.json(MR, self.mr)
        server.json(f"{MR}/approvals", approvals(IID, PROJECT_ID, self.approved_by))
        server.paginated(f"{MR}/versions", self.versions)
        for user_id, detail in self.users.items():
            server.json(f"users/{user_id}", detail)
        for user_id, level in self.access.items():
            server.json(f"projects/{PROJECT_ID}/members/all/{user_id}", member(self.users[user_id]["username"], user_id, level))
        server.paginated(f"projects/{PROJECT_ID}/events", self.events)
        server.json(f"projects/{PROJECT_ID}", self.project)
        if self.pipeline is not None:
            server.json(f"projects/{PROJECT_ID}/pipelines/{PIPELINE_ID}", self.pipeline)
        server.paginated(f"projects/{PROJECT_ID}/pipelines/{PIPELINE_ID}/jobs", self.jobs)
        server.paginated(f"projects/{PROJECT_ID}/pipelines/{PIPELINE_ID}/bridges", [])

    def env(self, **extra: str) -> dict[str, str]:
        """The variables GitLab sets for a job of a merge-request pipeline (those govgate reads and a few more)."""
        return {
            "GITLAB_CI": "true", "CI": "true", "CI_SERVER_URL": self.server.url, "CI_API_V4_URL": self.server.api_url,
            "CI_PROJECT_ID": str(PROJECT_ID), "CI_PROJECT_PATH": "group/project", "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_IID": str(IID), "CI_MERGE_REQUEST_PROJECT_ID": str(PROJECT_ID),
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": self.base, "CI_COMMIT_SHA": self.head,
            "CI_MERGE_REQUEST_TITLE": "Update the README", "CI_MERGE_REQUEST_LABELS": "",
            "CI_PIPELINE_ID": str(PIPELINE_ID), "CI_JOB_ID": str(OWN_JOB_ID), "CI_JOB_NAME": "govgate",
            "CI_JOB_TOKEN": JOB_TOKEN, "GOVGATE_GITLAB_TOKEN": TOKEN, "GITLAB_USER_LOGIN": "alice",
            **extra,
        }

    def run(self, *args: str, serve: bool = True, env: dict[str, str] | None = None) -> CliResult:
        """``govgate check --format json`` from inside the checkout, as the CI template runs it; no token ever shows."""
        if serve:
            self.serve()
        result = run_cli("check", "--format", "json", *args, cwd=self.builder.path, env=env or self.env())
        assert TOKEN not in result.stdout + result.stderr
        assert JOB_TOKEN not in result.stdout + result.stderr
        return result


def mr_repo(tmp_path: Path, policy: str | None = VERIFIED_POLICY, *, files: dict[str, str | None] | None = None,
            change: dict[str, str | None] | None = None) -> tuple[RepoBuilder, str, str]:
    """main with the policy and the CI configuration, then the feature branch with one commit: (builder, base, head)."""
    builder = RepoBuilder(tmp_path / "repo")
    initial: dict[str, str | bytes | None] = {"README.md": "# Project\n", "src/app.py": "print('hello')\n",
                                              ".gitlab-ci.yml": CI_CONFIG}
    if policy is not None:
        initial[".govgate.yml"] = policy
    initial.update(files or {})
    builder.commit("Initial commit", initial)
    base = builder.head()
    builder.branch("feature")
    head = builder.commit("Update the README", {"README.md": "# Project\n\nMore words.\n", **(change or {})})
    return builder, base, head


def case(tmp_path: Path, server: GitLabServer, policy: str | None = VERIFIED_POLICY, **repo: Any) -> MergeRequestCase:
    builder, base, head = mr_repo(tmp_path, policy, **repo)
    # As the runner sets it up: the job token in the remote's URL (it must never show either).
    builder.git("remote", "add", "origin", server.url.replace("://", f"://gitlab-ci-token:{JOB_TOKEN}@") + "/group/project.git")
    return MergeRequestCase(server, builder, base, head)


def statuses(data: dict[str, Any]) -> dict[str, str]:
    return {rule["id"]: rule["status"] for rule in data["rules"]}


def evidence(data: dict[str, Any], question: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [e for e in data["questions"][question]["evidence"] if kind is None or e["kind"] == kind]
