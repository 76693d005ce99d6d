"""A real HTTP server on 127.0.0.1 that answers like the GitLab REST API v4, for tests.

It is ``tests.github_server``'s server under ``/api/v4`` with GitLab's 404 body and GitLab's
offset pagination: ``x-page``, ``x-per-page``, ``x-next-page``, ``x-prev-page``, ``x-total``,
``x-total-pages`` and a ``link`` header (``rel="next"``, ``"first"``, ``"last"``); 20 items a page
unless ``per_page`` asks for more (at most 100). The payload builders below return the shapes of
GitLab's API documentation (see tests/data/SOURCES.md for the pages each comes from).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, ClassVar

from tests.github_server import GitHubServer, Reply, Seen

GITLAB_PREFIX = "/api/v4"
STAMP = "2024-03-11T10:00:00.000Z"


class GitLabServer(GitHubServer):
    prefix = GITLAB_PREFIX
    not_found: ClassVar[Any] = {"message": "404 Not found"}

    def paginated(self, path: str, items: list[Any], page_size: int = 100, item_key: str | None = None,
                  link: bool = True) -> None:
        """A list endpoint paged as GitLab pages it; ``link=False`` leaves only the ``x-next-page`` header."""

        def answer(seen: Seen, server: GitHubServer) -> Reply:
            size = min(int(seen.query.get("per_page", "20")), 100, page_size)
            page = int(seen.query.get("page", "1"))
            pages = max(1, -(-len(items) // size))
            chunk = items[(page - 1) * size: page * size]
            headers = {"x-page": str(page), "x-per-page": str(size), "x-total": str(len(items)),
                       "x-total-pages": str(pages), "x-next-page": str(page + 1) if page < pages else "",
                       "x-prev-page": str(page - 1) if page > 1 else ""}
            if link:
                def at(number: int) -> str:
                    return f"{server.url}{seen.path}?{urllib.parse.urlencode({**seen.query, 'page': str(number)})}"
                rels = ([f'<{at(page + 1)}>; rel="next"'] if page < pages else []) + [f'<{at(1)}>; rel="first"',
                                                                                     f'<{at(pages)}>; rel="last"']
                headers["link"] = ", ".join(rels)
            return Reply(200, chunk, headers)

        self.on(path, answer)


# -- GitLab-shaped objects (fields as the REST API v4 returns them) ----------------------------------

def user(username: str, user_id: int, *, name: str | None = None, state: str = "active") -> dict[str, Any]:
    """A user as merge requests, approvals and events embed it (``UserBasic``)."""
    return {"id": user_id, "username": username, "name": name or username.replace("_", " ").title(), "state": state,
            "locked": state != "active", "avatar_url": f"https://www.gravatar.com/avatar/{user_id}?s=80&d=identicon",
            "web_url": f"https://gitlab.example.com/{username}"}


def user_detail(username: str, user_id: int, *, bot: bool = False, state: str = "active", public_email: str = "",
                name: str | None = None) -> dict[str, Any]:
    """``GET /users/:id`` as a non-admin token sees it."""
    return {**user(username, user_id, name=name, state=state), "created_at": "2023-01-02T03:04:05.000Z", "bio": "",
            "location": "", "public_email": public_email, "linkedin": "", "twitter": "", "discord": "",
            "website_url": "", "organization": "", "job_title": "", "pronouns": None, "bot": bot,
            "work_information": None, "local_time": None}


def member(username: str, user_id: int, access_level: int) -> dict[str, Any]:
    """``GET /projects/:id/members/all/:user_id``."""
    return {**user(username, user_id), "access_level": access_level, "created_at": "2023-02-03T04:05:06.000Z",
            "created_by": user("root", 1), "expires_at": None, "group_saml_identity": None, "membership_state": "active"}


def merge_request(iid: int, project_id: int, *, head: str, base: str, start: str | None = None, author: dict[str, Any],
                  title: str = "Update the README", description: str | None = "", labels: list[str] | None = None,
                  source_branch: str = "feature", target_branch: str = "main", source_project_id: int | None = None,
                  pipeline: dict[str, Any] | None = None, changes_count: str = "1",
                  created_at: str = "2024-03-10T09:00:00.000Z") -> dict[str, Any]:
    """``GET /projects/:id/merge_requests/:merge_request_iid``."""
    return {
        "id": 1000 + iid, "iid": iid, "project_id": project_id, "title": title, "description": description,
        "state": "opened", "created_at": created_at, "updated_at": STAMP, "merged_by": None, "merge_user": None,
        "merged_at": None, "closed_by": None, "closed_at": None, "target_branch": target_branch,
        "source_branch": source_branch, "user_notes_count": 0, "upvotes": 0, "downvotes": 0, "author": author,
        "assignees": [], "assignee": None, "reviewers": [], "source_project_id": source_project_id or project_id,
        "target_project_id": project_id, "labels": labels or [], "draft": False, "work_in_progress": False,
        "milestone": None, "merge_when_pipeline_succeeds": False, "merge_status": "can_be_merged",
        "detailed_merge_status": "mergeable", "sha": head, "merge_commit_sha": None, "squash_commit_sha": None,
        "discussion_locked": None, "should_remove_source_branch": None, "force_remove_source_branch": True,
        "reference": f"!{iid}", "references": {"short": f"!{iid}", "relative": f"!{iid}", "full": f"group/project!{iid}"},
        "web_url": f"https://gitlab.example.com/group/project/-/merge_requests/{iid}",
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None,
                       "human_total_time_spent": None},
        "squash": False, "task_completion_status": {"count": 0, "completed_count": 0}, "has_conflicts": False,
        "blocking_discussions_resolved": True, "subscribed": False, "changes_count": changes_count,
        "latest_build_started_at": None, "latest_build_finished_at": None, "first_deployed_to_production_at": None,
        "pipeline": pipeline, "head_pipeline": pipeline,
        "diff_refs": {"base_sha": base, "head_sha": head, "start_sha": start or base},
        "merge_error": None, "first_contribution": False, "user": {"can_merge": True},
    }


def approvals(iid: int, project_id: int, approved_by: list[tuple[dict[str, Any], str | None]]) -> dict[str, Any]:
    """``GET /projects/:id/merge_requests/:merge_request_iid/approvals``; ``approved_at`` where a time is given."""
    return {
        "id": 1000 + iid, "iid": iid, "project_id": project_id, "title": "Update the README", "description": "",
        "state": "opened", "created_at": "2024-03-10T09:00:00.000Z", "updated_at": STAMP, "merge_status": "can_be_merged",
        "approved": bool(approved_by), "approvals_required": 1, "approvals_left": 0 if approved_by else 1,
        "require_password_to_approve": False,
        "approved_by": [{"user": who, **({"approved_at": at} if at else {})} for who, at in approved_by],
        "suggested_approvers": [], "approvers": [], "approver_groups": [], "user_has_approved": False,
        "user_can_approve": True, "approval_rules_left": [], "has_approval_rules": False,
        "merge_request_approvers_available": True, "multiple_approval_rules_available": True,
    }


def approval_state(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """``GET /projects/:id/merge_requests/:merge_request_iid/approval_state``."""
    return {"approval_rules_overwritten": False, "rules": rules}


def approval_rule(name: str, required: int, approved_by: list[dict[str, Any]], *, rule_type: str = "regular",
                  section: str | None = None) -> dict[str, Any]:
    return {"id": abs(hash(name)) % 10_000, "name": name, "rule_type": rule_type, "eligible_approvers": approved_by,
            "approvals_required": required, "users": approved_by, "groups": [], "contains_hidden_groups": False,
            "approved_by": approved_by, "source_rule": None, "approved": len(approved_by) >= required, "overridden": False,
            "section": section, "code_owner": rule_type == "code_owner"}


def version(head: str, base: str, created_at: str, version_id: int = 1) -> dict[str, Any]:
    """One entry of ``GET /projects/:id/merge_requests/:merge_request_iid/versions``."""
    return {"id": version_id, "head_commit_sha": head, "base_commit_sha": base, "start_commit_sha": base,
            "created_at": created_at, "merge_request_id": 1007, "state": "collected", "real_size": "1",
            "patch_id_sha": "d504412d5b6e6739647e752aff8e468dde093f2f"}


def push_event(username: str, user_id: int, *, ref: str, commit_to: str, commit_from: str | None = None,
               created_at: str = "2024-03-10T08:00:00.000Z", event_id: int = 1) -> dict[str, Any]:
    """A ``pushed to`` entry of ``GET /projects/:id/events``."""
    return {"id": event_id, "project_id": 42, "action_name": "pushed to", "target_id": None, "target_iid": None,
            "target_type": None, "author_id": user_id, "target_title": None, "created_at": created_at,
            "author": user(username, user_id), "imported": False, "imported_from": "none", "author_username": username,
            "push_data": {"commit_count": 1, "action": "pushed", "ref_type": "branch", "commit_from": commit_from,
                          "commit_to": commit_to, "ref": ref, "commit_title": "Update the README", "ref_count": None}}


def pipeline(pipeline_id: int, project_id: int, sha: str, *, ref: str = "refs/merge-requests/7/head",
             status: str = "running", source: str = "merge_request_event") -> dict[str, Any]:
    """``GET /projects/:id/pipelines/:pipeline_id`` (and the ``head_pipeline`` of a merge request)."""
    return {"id": pipeline_id, "iid": pipeline_id % 1000, "project_id": project_id, "sha": sha, "ref": ref,
            "status": status, "source": source, "created_at": STAMP, "updated_at": STAMP,
            "web_url": f"https://gitlab.example.com/group/project/-/pipelines/{pipeline_id}",
            "before_sha": "0" * 40, "tag": False, "yaml_errors": None, "user": user("alice", 2),
            "started_at": STAMP, "finished_at": None, "committed_at": None, "duration": None, "queued_duration": 0.2,
            "coverage": None, "detailed_status": {"icon": f"status_{status}", "text": status, "label": status,
                                                  "group": status, "tooltip": status, "has_details": True}}


def job(name: str, job_id: int, sha: str, *, status: str = "success", stage: str = "test", pipeline_id: int = 500,
        project_id: int = 42, allow_failure: bool = False) -> dict[str, Any]:
    """One entry of ``GET /projects/:id/pipelines/:pipeline_id/jobs``."""
    return {
        "commit": {"author_email": "alice@example.com", "author_name": "Alice Example", "created_at": STAMP, "id": sha,
                   "message": "Update the README", "short_id": sha[:8], "title": "Update the README"},
        "coverage": None, "archived": False, "allow_failure": allow_failure, "created_at": STAMP, "started_at": STAMP,
        "finished_at": STAMP if status in ("success", "failed", "canceled") else None, "erased_at": None,
        "duration": 12.5, "queued_duration": 0.1, "artifacts_expire_at": None, "tag_list": ["docker"], "id": job_id,
        "name": name, "pipeline": {"id": pipeline_id, "project_id": project_id, "ref": "refs/merge-requests/7/head",
                                   "sha": sha, "status": "running"},
        "ref": "refs/merge-requests/7/head", "artifacts": [], "runner": None, "runner_manager": None, "stage": stage,
        "status": status, "failure_reason": "script_failure" if status == "failed" else None, "tag": False,
        "web_url": f"https://gitlab.example.com/group/project/-/jobs/{job_id}",
        "project": {"ci_job_token_scope_enabled": False}, "user": user("alice", 2),
    }


def project(project_id: int, *, ci_config_path: str | None = None) -> dict[str, Any]:
    """``GET /projects/:id`` (the fields govgate reads, and their neighbours)."""
    return {"id": project_id, "description": "", "name": "project", "name_with_namespace": "group / project",
            "path": "project", "path_with_namespace": "group/project", "created_at": "2023-01-01T00:00:00.000Z",
            "default_branch": "main", "tag_list": [], "topics": [], "ssh_url_to_repo": "git@gitlab.example.com:group/project.git",
            "http_url_to_repo": "https://gitlab.example.com/group/project.git",
            "web_url": "https://gitlab.example.com/group/project", "visibility": "private",
            "ci_config_path": ci_config_path, "merge_method": "merge", "only_allow_merge_if_pipeline_succeeds": True}


def mr_commit(sha: str, *, author: tuple[str, str], committer: tuple[str, str] | None = None,
              message: str = "Update the README", parents: list[str] | None = None,
              date: str = "2024-03-10T08:00:00.000+00:00") -> dict[str, Any]:
    """One entry of ``GET /projects/:id/merge_requests/:merge_request_iid/commits``."""
    committer = committer or author
    return {"id": sha, "short_id": sha[:8], "created_at": date, "parent_ids": parents or [], "title": message.splitlines()[0],
            "message": message, "author_name": author[0], "author_email": author[1], "authored_date": date,
            "committer_name": committer[0], "committer_email": committer[1], "committed_date": date, "trailers": {},
            "extended_trailers": {}, "web_url": f"https://gitlab.example.com/group/project/-/commit/{sha}"}


def mr_diff(new_path: str, diff: str, *, old_path: str | None = None, new_file: bool = False, deleted_file: bool = False,
            renamed_file: bool = False) -> dict[str, Any]:
    """One entry of ``GET /projects/:id/merge_requests/:merge_request_iid/diffs``."""
    return {"old_path": old_path or new_path, "new_path": new_path, "a_mode": "100644", "b_mode": "100644", "diff": diff,
            "new_file": new_file, "renamed_file": renamed_file, "deleted_file": deleted_file, "generated_file": False}
