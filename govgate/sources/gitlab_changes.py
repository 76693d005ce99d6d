"""A merge request read from the GitLab API, when the clone cannot give its range.

The commits come from ``GET /merge_requests/:iid/commits`` and the files from the paginated
``GET /merge_requests/:iid/diffs``; contents are read from the clone by object id
(``govgate.sources.listed_files``). GitLab stops listing a large diff (``changes_count`` then reads
``"1000+"``): a merge request with more files than were listed is not fully judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govgate.model import Change, FileStatus, Gap, GapKind
from govgate.sources.git import GitRepo
from govgate.sources.gitlab_api import GitLabClient
from govgate.sources.gitlab_mr_api import MergeRequest, fetch_commits, fetch_diffs
from govgate.sources.listed_files import ListedTrees


def change_from_api(client: GitLabClient, project: str | int, mr: MergeRequest, head: str, base: str, repo: GitRepo) -> Change:
    iid = mr.pull.number or 0
    commits = fetch_commits(client, project, iid)
    trees = ListedTrees.of(repo, head, base)
    files = [trees.file(str(d.get("new_path") or d.get("old_path") or ""), _status(d), _old_path(d), *_counts(d))
             for d in fetch_diffs(client, project, iid)]
    newest = commits[0] if commits else None
    return Change(
        id=f"!{iid}", title=mr.pull.title, base=base, head=head, commits=commits, files=files, kind="merge_request",
        date=newest.committed_at if newest else None, author=commits[-1].author if commits else None,
        incomplete=_truncation(mr.changes_count, len(files)),
    )


def _status(diff: Mapping[str, Any]) -> FileStatus:
    if diff.get("new_file"):
        return FileStatus.ADDED
    if diff.get("deleted_file"):
        return FileStatus.DELETED
    if diff.get("renamed_file"):
        return FileStatus.RENAMED
    return FileStatus.MODIFIED


def _old_path(diff: Mapping[str, Any]) -> str | None:
    return str(diff.get("old_path")) if diff.get("renamed_file") and diff.get("old_path") else None


def _counts(diff: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """Lines added and removed, from the unified diff text; unknown when GitLab left the text out."""
    text = diff.get("diff")
    if not isinstance(text, str) or (not text and (diff.get("too_large") or diff.get("collapsed"))):
        return None, None
    lines = text.splitlines()
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return added, removed


def _truncation(changes_count: str | None, listed: int) -> list[Gap]:
    if changes_count is None:
        return []
    counted = changes_count.rstrip("+")
    if changes_count.endswith("+") or (counted.isdigit() and int(counted) > listed):
        return [Gap(GapKind.FILES_TRUNCATED, f"GitLab counts {changes_count} changed files in the merge request but "
                                             f"listed {listed}: the rest were not seen")]
    return []
