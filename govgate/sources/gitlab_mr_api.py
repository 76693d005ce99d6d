"""Merge-request data from the GitLab REST API v4, as model objects.

One function per endpoint, reading the payload shapes GitLab's API documentation gives (merge
requests, merge request approvals, pipelines and jobs, members, users, events). Lists are read page
by page (``per_page=100``) until GitLab says there is no next page.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govgate.model import ApprovalRule, Commit, Person, PullRequest
from govgate.sources.gitlab_api import GitLabApiError, GitLabClient, project_path
from govgate.sources.json_shapes import integer, obj, text

NOT_AVAILABLE = frozenset({403, 404})  # a Premium endpoint on GitLab Free, or one the token's role cannot see
NOT_MEMBER = frozenset({404})  # a membership endpoint's answer for someone who is not a member


@dataclass(frozen=True)
class MergeRequest:
    """What the merge request endpoint says, beyond the PullRequest every source shares."""

    pull: PullRequest
    project_id: int | None  # the target project, where the merge request lives
    source_project_id: int | None
    created_at: str | None
    changes_count: str | None  # a string; "1000+" when GitLab stopped counting
    head_pipeline: Mapping[str, Any] | None


def get_or_none(client: GitLabClient, path: str, absent: frozenset[int]) -> Any:
    """The endpoint's answer, or None when GitLab answers with one of the ``absent`` statuses."""
    try:
        return client.get_json(path)
    except GitLabApiError as exc:
        if exc.status in absent:
            return None
        raise


def merge_request_path(project: str | int, iid: int) -> str:
    return f"{project_path(project)}/merge_requests/{iid}"


def fetch_merge_request(client: GitLabClient, project: str | int, iid: int) -> MergeRequest:
    data = client.get_json(merge_request_path(project, iid))
    if not isinstance(data, dict):
        raise GitLabApiError(f"GitLab API: merge request !{iid} came back in an unexpected shape")
    return merge_request_from(data)


def merge_request_from(data: Mapping[str, Any]) -> MergeRequest:
    # A field of the wrong type reads as absent (json_shapes), as in the GitHub source.
    author = obj(data.get("author"))
    refs = obj(data.get("diff_refs"))
    pipeline = data.get("head_pipeline") or data.get("pipeline")
    labels = data.get("labels")
    pull = PullRequest(
        number=integer(data.get("iid")),
        title=str(data.get("title") or ""),
        body=str(data.get("description") or ""),  # null for an empty description
        labels=tuple(_label(label) for label in labels) if isinstance(labels, list) else (),
        author_login=text(author.get("username")),
        author_type="Bot" if author.get("bot") else "User",
        head_ref=text(data.get("source_branch")),
        base_ref=text(data.get("target_branch")),
        head_sha=text(refs.get("head_sha")) or text(data.get("sha")),
        base_sha=text(refs.get("base_sha")),
        merged=data.get("state") == "merged",
        url=text(data.get("web_url")),
    )
    return MergeRequest(
        pull=pull, project_id=integer(data.get("project_id") or data.get("target_project_id")),
        source_project_id=integer(data.get("source_project_id")), created_at=data.get("created_at"),
        changes_count=_text(data.get("changes_count")),
        head_pipeline=pipeline if isinstance(pipeline, dict) else None,
    )


def fetch_commits(client: GitLabClient, project: str | int, iid: int) -> list[Commit]:
    """The merge request's commits, newest first, as GitLab lists them."""
    commits: list[Commit] = []
    for item in client.paginate(f"{merge_request_path(project, iid)}/commits"):
        if not isinstance(item, dict):
            continue
        commits.append(Commit(
            sha=str(item.get("id") or ""),
            parents=tuple(str(p) for p in item.get("parent_ids") or ()),
            author=Person(str(item.get("author_name") or ""), str(item.get("author_email") or "")),
            committer=Person(str(item.get("committer_name") or item.get("author_name") or ""),
                             str(item.get("committer_email") or item.get("author_email") or "")),
            authored_at=str(item.get("authored_date") or item.get("created_at") or ""),
            committed_at=str(item.get("committed_date") or item.get("created_at") or ""),
            message=str(item.get("message") or item.get("title") or "").rstrip("\n"),
        ))
    return commits


def fetch_versions(client: GitLabClient, project: str | int, iid: int) -> list[tuple[str, str]]:
    """(head commit, when GitLab recorded it) of every diff version, newest first: when each head was pushed."""
    return [(str(v.get("head_commit_sha") or ""), str(v.get("created_at") or ""))
            for v in client.paginate(f"{merge_request_path(project, iid)}/versions") if isinstance(v, dict)]


def fetch_approvals(client: GitLabClient, project: str | int, iid: int) -> list[tuple[dict[str, Any], str | None]]:
    """(user, approved_at) of each approval; ``approved_at`` only where GitLab gives it."""
    data = client.get_json(f"{merge_request_path(project, iid)}/approvals")
    if not isinstance(data, dict):
        raise GitLabApiError(f"GitLab API: the approvals of merge request !{iid} came back in an unexpected shape")
    found: list[tuple[dict[str, Any], str | None]] = []
    for item in data.get("approved_by") or ():
        user = item.get("user") if isinstance(item, dict) else None
        if isinstance(user, dict):
            found.append((user, item.get("approved_at")))
    return found


@dataclass(frozen=True)
class ApprovalState:
    """GitLab's own approval rules and their state (Premium), and the approval times they carry."""

    rules: tuple[ApprovalRule, ...]
    approved_at: dict[str, str]  # lower-case username -> when, where GitLab gives it


def fetch_approval_state(client: GitLabClient, project: str | int, iid: int) -> ApprovalState | None:
    """None where the endpoint is not available (GitLab Free, or a role that cannot see it)."""
    data = get_or_none(client, f"{merge_request_path(project, iid)}/approval_state", NOT_AVAILABLE)
    if data is None:
        return None
    rules = [rule for rule in ((data or {}).get("rules") if isinstance(data, dict) else None) or () if isinstance(rule, dict)]
    times = {str(u.get("username")).lower(): str(u["approved_at"]) for rule in rules
             for u in rule.get("approved_by") or () if isinstance(u, dict) and u.get("approved_at") and u.get("username")}
    return ApprovalState(tuple(
        ApprovalRule(
            name=str(rule.get("name") or ""), kind=str(rule.get("rule_type") or "regular"),
            required=integer(rule.get("approvals_required")) or 0, approved=bool(rule.get("approved")),
            approved_by=tuple(str(u.get("username")) for u in rule.get("approved_by") or () if isinstance(u, dict)),
            section=rule.get("section"),
        )
        for rule in rules
    ), times)


def fetch_user(client: GitLabClient, user_id: int) -> dict[str, Any]:
    data = client.get_json(f"users/{user_id}")
    return data if isinstance(data, dict) else {}


def fetch_access_level(client: GitLabClient, project: str | int, user_id: int) -> int | None:
    """The user's role in the project, inherited ones included (10 Guest ... 50 Owner); None: not a member."""
    data = get_or_none(client, f"{project_path(project)}/members/all/{user_id}", NOT_MEMBER)
    return integer(data.get("access_level")) if isinstance(data, dict) else None


def in_group(client: GitLabClient, group: str, user_id: int) -> bool:
    """Whether the user belongs to the group (or one of its parents), by the group's full path."""
    data = get_or_none(client, f"groups/{urllib.parse.quote(group, safe='')}/members/all/{user_id}", NOT_MEMBER)
    return isinstance(data, dict) and bool(data.get("id"))


def fetch_push_events(client: GitLabClient, project: str | int, after: str | None,
                      max_pages: int) -> tuple[list[dict[str, Any]], bool]:
    """The project's push events, newest first, and whether every page was read."""
    params: dict[str, str | int] = {"action": "pushed", "sort": "desc"}
    if after:
        params["after"] = after
    items, complete = client.pages(f"{project_path(project)}/events", params, max_pages=max_pages)
    return [event for event in items if isinstance(event, dict)], complete


def fetch_project(client: GitLabClient, project: str | int) -> dict[str, Any]:
    data = client.get_json(project_path(project))
    return data if isinstance(data, dict) else {}


def fetch_resets_approvals_on_push(client: GitLabClient, project: str | int) -> bool | None:
    """The project's "remove all approvals when commits are added" setting (Premium); None: not available."""
    data = get_or_none(client, f"{project_path(project)}/approvals", NOT_AVAILABLE)
    value = data.get("reset_approvals_on_push") if isinstance(data, dict) else None
    return value if isinstance(value, bool) else None


def fetch_pipeline(client: GitLabClient, project: str | int, pipeline_id: int) -> dict[str, Any]:
    data = client.get_json(f"{project_path(project)}/pipelines/{pipeline_id}")
    if not isinstance(data, dict):
        raise GitLabApiError(f"GitLab API: pipeline {pipeline_id} came back in an unexpected shape")
    return data


def fetch_jobs(client: GitLabClient, project: str | int, pipeline_id: int) -> list[dict[str, Any]]:
    """The pipeline's jobs and trigger jobs (bridges); retried jobs are left out, as GitLab does by default."""
    base = f"{project_path(project)}/pipelines/{pipeline_id}"
    jobs = [job for job in client.paginate(f"{base}/jobs") if isinstance(job, dict)]
    jobs += [job for job in client.paginate(f"{base}/bridges") if isinstance(job, dict)]
    return jobs


def fetch_commit_parents(client: GitLabClient, project: str | int, sha: str) -> tuple[str, ...]:
    data = client.get_json(f"{project_path(project)}/repository/commits/{sha}")
    return tuple(str(p) for p in (data or {}).get("parent_ids") or ()) if isinstance(data, dict) else ()


def fetch_diffs(client: GitLabClient, project: str | int, iid: int) -> list[dict[str, Any]]:
    return [d for d in client.paginate(f"{merge_request_path(project, iid)}/diffs") if isinstance(d, dict)]


def _label(label: Any) -> str:
    return str(label.get("name")) if isinstance(label, dict) else str(label)  # with_labels_details gives objects


def _text(value: Any) -> str | None:
    return None if value is None else str(value)

