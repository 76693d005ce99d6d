"""Pull-request data from webhook payloads and the REST API, as model objects.

Payloads and API objects share the pull-request shape, so one function reads both. Review
states are upper-cased because webhooks send ``approved`` where the REST API says ``APPROVED``.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from govgate.model import GHOST_LOGIN, CheckResult, Commit, Person, PullRequest, Review
from govgate.sources.github_api import GitHubApiError, GitHubClient
from govgate.sources.json_shapes import integer, obj, objects, text

# A merge-queue branch: refs/heads/gh-readonly-queue/<base>/pr-<N>-<sha> (observed, not documented).
_MERGE_QUEUE_REF = re.compile(r"gh-readonly-queue/.+/pr-(\d+)-[0-9a-f]{7,40}$")


def repo_path(repository: str) -> str:
    owner, _, name = repository.partition("/")
    return f"repos/{urllib.parse.quote(owner, safe='')}/{urllib.parse.quote(name, safe='')}"


def pull_request_from(data: Mapping[str, Any], html_url: str | None = None) -> PullRequest:
    """A PullRequest from a webhook ``pull_request`` object or a REST ``GET /pulls/{n}`` answer."""
    user, head, base = obj(data.get("user")), obj(data.get("head")), obj(data.get("base"))
    merged = data.get("merged")
    return PullRequest(
        number=integer(data.get("number")),
        title=text(data.get("title")) or "",
        body=text(data.get("body")) or "",  # null for an empty description
        labels=tuple(name for label in objects(data.get("labels")) if (name := text(label.get("name")))),
        author_login=text(user.get("login")),
        author_type=text(user.get("type")),
        head_ref=text(head.get("ref")),
        base_ref=text(base.get("ref")),
        head_sha=text(head.get("sha")),
        base_sha=text(base.get("sha")),
        merged=bool(merged) if merged is not None else data.get("merged_at") is not None,
        url=text(data.get("html_url")) or html_url,
        head_repository=text(obj(head.get("repo")).get("full_name")),
    )


def merge_queue_pr_number(head_ref: str | None) -> int | None:
    match = _MERGE_QUEUE_REF.search(head_ref or "")
    return int(match.group(1)) if match else None


def fetch_pull(client: GitHubClient, repository: str, number: int) -> dict[str, Any]:
    data = client.get_json(f"{repo_path(repository)}/pulls/{number}")
    if not isinstance(data, dict):
        raise GitHubApiError(f"GitHub API: pull request #{number} came back in an unexpected shape")
    return data


def fetch_reviews(client: GitHubClient, repository: str, number: int) -> tuple[Review, ...]:
    reviews = []
    for item in client.paginate(f"{repo_path(repository)}/pulls/{number}/reviews"):
        user = item.get("user") or {}
        reviews.append(
            Review(
                reviewer=str(user.get("login") or GHOST_LOGIN),  # deleted accounts come back as null
                reviewer_type=str(user.get("type") or "User"),
                state=str(item.get("state") or "").upper(),
                commit_id=item.get("commit_id"),
                submitted_at=item.get("submitted_at"),
                author_association=item.get("author_association"),
            )
        )
    return tuple(reviews)


def fetch_checks(client: GitHubClient, repository: str, sha: str) -> tuple[CheckResult, ...]:
    """Check runs and legacy commit statuses on one commit."""
    base = f"{repo_path(repository)}/commits/{sha}"
    results: list[CheckResult] = []
    for run in client.paginate(f"{base}/check-runs", item_key="check_runs"):
        app = run.get("app") or {}
        results.append(
            CheckResult(
                name=str(run.get("name") or ""),
                status=str(run.get("status") or ""),
                conclusion=run.get("conclusion"),
                head_sha=run.get("head_sha") or sha,
                kind="check_run",
                app=app.get("slug"),
                id=integer(run.get("id")),
                suite_id=integer((run.get("check_suite") or {}).get("id")),
            )
        )
    seen_contexts: set[str] = set()
    for status in client.paginate(f"{base}/status", item_key="statuses"):
        context = str(status.get("context") or "")
        if context in seen_contexts:  # newest first: the first one per context is the current state
            continue
        seen_contexts.add(context)
        state = str(status.get("state") or "pending")
        results.append(
            CheckResult(
                name=context,
                status="pending" if state == "pending" else "completed",
                conclusion=None if state == "pending" else state,
                head_sha=sha,
                kind="status",
            )
        )
    return tuple(results)


def fetch_files(client: GitHubClient, repository: str, number: int) -> list[dict[str, Any]]:
    return [f for f in client.paginate(f"{repo_path(repository)}/pulls/{number}/files") if isinstance(f, dict)]


def fetch_commits(client: GitHubClient, repository: str, number: int) -> list[Commit]:
    """The PR's commits, newest first (the order ``git log`` gives)."""
    commits: list[Commit] = []
    for item in client.paginate(f"{repo_path(repository)}/pulls/{number}/commits"):
        detail = item.get("commit") or {}
        author = detail.get("author") or {}
        committer = detail.get("committer") or {}
        commits.append(
            Commit(
                sha=str(item.get("sha") or ""),
                parents=tuple(str(p.get("sha")) for p in item.get("parents") or [] if isinstance(p, dict)),
                author=Person(str(author.get("name") or ""), str(author.get("email") or "")),
                committer=Person(str(committer.get("name") or ""), str(committer.get("email") or "")),
                authored_at=str(author.get("date") or ""),
                committed_at=str(committer.get("date") or ""),
                message=str(detail.get("message") or "").rstrip("\n"),
            )
        )
    commits.reverse()
    return commits


def find_merged_pull(client: GitHubClient, repository: str, sha: str) -> dict[str, Any] | None:
    """The merged pull request that produced commit ``sha`` (a push to the default branch), if any."""
    pulls = [p for p in client.paginate(f"{repo_path(repository)}/commits/{sha}/pulls") if isinstance(p, dict)]
    merged = [p for p in pulls if p.get("merged_at")]
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    if exact:
        return exact[0]
    return merged[0] if len(merged) == 1 else None

