"""Building blocks for GitHub Actions tests: real webhook payloads re-pointed at test commits.

Payloads are the octokit/webhooks examples copied to tests/data/github-events/ (see
tests/data/SOURCES.md). Their shas name commits of the fictional Codertocat/Hello-World, so a
test copies one and rewrites only the shas (and what the case is about); the rest stays real.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tests.conftest import DATA, CliResult, RepoBuilder, run_cli
from tests.github_server import GitHubServer, check_run, commit_status, review

EVENTS = DATA / "github-events"
TOKEN = "ghs_TopSecretToken0123456789abcdef"
REPOSITORY = "Codertocat/Hello-World"  # as in the payloads
API = f"repos/{REPOSITORY}"

VERIFIED_POLICY = """\
version: 1
github: {timeout_seconds: 10}
rules:
  - id: human-approval-on-head
    require:
      reviewed: {approvals: 1, trust: verified, on_head: true}
    message: Ask a teammate to approve the latest commit.
  - id: ci-green
    require:
      tested: {checks: ["build", "ci/*"], trust: verified}
    message: Let CI pass on the head commit.
"""


def payload(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def pull_request_event(base_sha: str, head_sha: str, name: str = "pull_request.opened.payload.json", **pr: Any,
                       ) -> dict[str, Any]:
    """A real pull_request payload whose head and base point at test commits; ``pr`` overrides fields."""
    event = copy.deepcopy(payload(name))
    event["pull_request"]["head"]["sha"] = head_sha
    event["pull_request"]["base"]["sha"] = base_sha
    event["pull_request"]["base"]["ref"] = "main"
    event["pull_request"].update(pr)
    return event


def write_event(tmp_path: Path, event: dict[str, Any]) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


def actions_env(server: GitHubServer | None, event_name: str, event_path: Path, *, api_url: str | None = None,
                **extra: str) -> dict[str, str]:
    """The variables the Actions runner sets for a step (those govgate reads and a few more)."""
    base_url = api_url or (server.api_url if server else "http://127.0.0.1:9/api/v3")
    return {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": base_url,
        "GITHUB_GRAPHQL_URL": base_url.replace("/api/v3", "/api/graphql"),
        "GITHUB_SERVER_URL": base_url.replace("/api/v3", ""),
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_SHA": "0" * 40,
        "GITHUB_REF": "refs/pull/2/merge",
        "GITHUB_JOB": "govgate",
        **extra,
    }


def pr_repo(tmp_path: Path, policy: str | None = VERIFIED_POLICY, codeowners: str | None = None) -> tuple[RepoBuilder, str, str]:
    """main with the policy, then a branch with one commit: (builder, base sha, head sha)."""
    builder = RepoBuilder(tmp_path / "repo")
    files: dict[str, str | bytes | None] = {"README.md": "# Hello World\n", "src/app.py": "print('hello')\n"}
    if policy is not None:
        files[".govgate.yml"] = policy
    if codeowners is not None:
        files[".github/CODEOWNERS"] = codeowners
    builder.commit("Initial commit", files)
    base = builder.head()
    builder.branch("changes")
    head = builder.commit("Update the README with new information", {"README.md": "# Hello World\n\nMore words.\n"})
    return builder, base, head


def serve_evidence(server: GitHubServer, head: str, *, reviews: list[dict[str, Any]] | None = None,
                   runs: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None,
                   number: int = 2) -> None:
    server.paginated(f"{API}/pulls/{number}/reviews", reviews if reviews is not None else [review("alice", "APPROVED", head)])
    server.paginated(f"{API}/commits/{head}/check-runs", runs if runs is not None else [check_run("build", head)],
                     item_key="check_runs")
    server.paginated(f"{API}/commits/{head}/status", statuses if statuses is not None else [commit_status("ci/lint", "success")],
                     item_key="statuses")


def run_check(where: RepoBuilder | Path, env: dict[str, str], *args: str) -> CliResult:
    """``govgate check --format json`` from inside the checkout, as the Action runs it; the token never shows."""
    result = run_cli("check", "--format", "json", *args, cwd=where.path if isinstance(where, RepoBuilder) else where, env=env)
    assert TOKEN not in result.stdout + result.stderr
    return result
