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
from tests.github_server import (
    GitHubServer,
    Reply,
    Seen,
    activity,
    check_run,
    commit_status,
    pr_commit,
    review,
    workflow_job,
    workflow_run,
)

EVENTS = DATA / "github-events"
TOKEN = "ghs_TopSecretToken0123456789abcdef"
REPOSITORY = "Codertocat/Hello-World"  # as in the payloads
API = f"repos/{REPOSITORY}"

WORKFLOW = ".github/workflows/ci.yml"  # on the base branch of every pr_repo
WORKFLOW_TEXT = "on: pull_request\njobs:\n  build: {runs-on: ubuntu-latest, steps: [{run: make test}]}\n"
VERIFIED_POLICY = """\
version: 1
github: {timeout_seconds: 10}
settings:
  github_checks: {contexts: ["ci/*"]}   # commit statuses count only from the contexts named here
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


def rule(result: CliResult, rule_id: str) -> dict[str, Any]:
    return next(r for r in result.json()["rules"] if r["id"] == rule_id)


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
    files: dict[str, str | bytes | None] = {"README.md": "# Hello World\n", "src/app.py": "print('hello')\n",
                                            WORKFLOW: WORKFLOW_TEXT}
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
                   number: int = 2, writers: dict[str, str] | None = None, commits: list[dict[str, Any]] | None = None,
                   pushes: list[dict[str, Any]] | None = None, workflows: dict[int, dict[str, Any]] | None = None) -> None:
    """Everything the API says about a pull request: reviews and reviewers' permissions, who wrote and pushed
    the commits (the PR author, Codertocat, by default), check runs with the workflows behind them, statuses."""
    server.paginated(f"{API}/pulls/{number}/reviews", reviews if reviews is not None else [review("alice", "APPROVED", head)])
    serve_permissions(server, writers or {})
    server.paginated(f"{API}/pulls/{number}/commits", commits if commits is not None else [pr_commit(head, "Codertocat")])
    server.paginated(f"{API}/activity", pushes if pushes is not None else [activity("Codertocat", "0" * 40, head, "refs/heads/changes")])
    runs = runs if runs is not None else [check_run("build", head)]
    server.paginated(f"{API}/commits/{head}/check-runs", runs, item_key="check_runs")
    server.paginated(f"{API}/commits/{head}/status", statuses if statuses is not None else [commit_status("ci/lint", "success")],
                     item_key="statuses")
    serve_workflows(server, head, runs, workflows or {})


def serve_permissions(server: GitHubServer, levels: dict[str, str], default: str = "write") -> None:
    """GET /collaborators/{login}/permission: ``levels`` by login, everyone else ``default``."""

    def answer(seen: Seen, _server: GitHubServer) -> Reply:
        login = seen.path.rsplit("/", 2)[-2]
        level = levels.get(login, default)
        if level == "404":
            return Reply(404, {"message": "Not Found"})
        return Reply(200, {"permission": level, "role_name": level, "user": {"login": login, "type": "User"}})

    server.on_pattern(f"{API}/collaborators/[^/]+/permission", answer)


def serve_workflows(server: GitHubServer, head: str, runs: list[dict[str, Any]], workflows: dict[int, dict[str, Any]]) -> None:
    """The Actions API behind check runs: each check suite is one workflow run of ``WORKFLOW`` whose jobs are the
    suite's check runs, unless ``workflows[suite_id]`` says otherwise (``path``, ``jobs``: check run ids, ``referenced``)."""
    suites: dict[int, list[int]] = {}
    for run in runs:
        if run["app"]["slug"] == "github-actions":
            suites.setdefault(run["check_suite"]["id"], []).append(run["id"])
    answers: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for suite_id, check_ids in suites.items():
        spec = workflows.get(suite_id, {})
        run_id = 1000 + suite_id
        found = workflow_run(run_id, spec.get("path", WORKFLOW), suite_id, head, referenced=tuple(spec.get("referenced", ())))
        jobs = [workflow_job(i, run_id, "job") for i in spec.get("jobs", check_ids)]
        answers[suite_id] = (found, jobs)

    def by_suite(seen: Seen, _server: GitHubServer) -> Reply:
        found = answers.get(int(seen.query.get("check_suite_id", "0")))
        return Reply(200, {"total_count": 1 if found else 0, "workflow_runs": [found[0]] if found else []})

    def jobs_of(seen: Seen, _server: GitHubServer) -> Reply:
        run_id = int(seen.path.rsplit("/", 2)[-2])
        jobs = next((j for r, j in answers.values() if r["id"] == run_id), [])
        return Reply(200, {"total_count": len(jobs), "jobs": jobs})

    server.on(f"{API}/actions/runs", by_suite)
    server.on_pattern(f"{API}/actions/runs/[0-9]+/jobs", jobs_of)


def run_check(where: RepoBuilder | Path, env: dict[str, str], *args: str) -> CliResult:
    """``govgate check --format json`` from inside the checkout, as the Action runs it; the token never shows."""
    result = run_cli("check", "--format", "json", *args, cwd=where.path if isinstance(where, RepoBuilder) else where, env=env)
    assert TOKEN not in result.stdout + result.stderr
    return result
