"""A pull request read from the GitHub API, when the clone cannot give its range.

Contents are read by object id (``govgate.sources.listed_files``). GitHub lists at most 250
commits and 3,000 files of a pull request: one with more, or whose contents are not in the clone,
is not fully judged (``Change.incomplete``).
"""

from __future__ import annotations

from dataclasses import dataclass

from govgate.model import Change, FileStatus, Gap, GapKind, PullRequest
from govgate.sources.git import GitRepo
from govgate.sources.github_api import GitHubClient
from govgate.sources.github_pr import fetch_commits, fetch_files
from govgate.sources.listed_files import ListedTrees

PR_FILES_LIMIT = 3000  # GET /pulls/{n}/files stops here
PR_COMMITS_LIMIT = 250  # GET /pulls/{n}/commits stops here

FETCH_DEPTH_HINT = (
    "set `fetch-depth: 0` on actions/checkout (with: {fetch-depth: 0}) so the clone has the history "
    "between the base and the head"
)

_API_STATUS = {
    "added": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "modified": FileStatus.MODIFIED,
    "renamed": FileStatus.RENAMED,
    "copied": FileStatus.COPIED,
    "changed": FileStatus.TYPE_CHANGED,
    "unchanged": FileStatus.MODIFIED,
}


@dataclass(frozen=True)
class ListedCounts:
    """How many commits and files the pull request has, as GitHub counts them (None: not known)."""

    commits: int | None = None
    files: int | None = None


def change_from_api(
    client: GitHubClient, repository: str, pull: PullRequest, repo: GitRepo, problems: list[str], counts: ListedCounts,
) -> Change:
    assert pull.number is not None and pull.head_sha is not None
    listed = fetch_files(client, repository, pull.number)
    commits = fetch_commits(client, repository, pull.number)
    trees = ListedTrees.of(repo, pull.head_sha, pull.base_sha)
    files = [
        trees.file(str(item.get("filename") or ""), _API_STATUS.get(str(item.get("status")), FileStatus.MODIFIED),
                   str(item.get("previous_filename") or "") or None, _count(item.get("additions")),
                   _count(item.get("deletions")))
        for item in listed
    ]
    problems.append(
        f"the clone lacks the history between base and head: the {len(files)} changed files and {len(commits)} commits "
        "were read from the GitHub API (set `fetch-depth: 0` on actions/checkout to judge from git)"
    )
    newest = commits[0] if commits else None
    return Change(
        id=f"#{pull.number}", title=pull.title, base=pull.base_sha, head=pull.head_sha, commits=commits, files=files,
        kind="pull_request", date=newest.committed_at if newest else None, author=commits[-1].author if commits else None,
        incomplete=_truncation(len(commits), len(files), counts),
    )


def _truncation(commits: int, files: int, counts: ListedCounts) -> list[Gap]:
    """Gaps for lists GitHub cut short: more counted than listed, or a full list with no count to compare."""
    gaps: list[Gap] = []
    if (counts.commits or 0) > commits or (counts.commits is None and commits >= PR_COMMITS_LIMIT):
        total = f"{counts.commits}" if counts.commits is not None else "at least"
        gaps.append(Gap(GapKind.COMMITS_TRUNCATED,
                        f"GitHub lists at most {PR_COMMITS_LIMIT} commits of a pull request: {commits} of {total} "
                        "commits were read (their trailers and authors count as evidence)"))
    if (counts.files or 0) > files or (counts.files is None and files >= PR_FILES_LIMIT):
        total = f"{counts.files}" if counts.files is not None else "at least"
        gaps.append(Gap(GapKind.FILES_TRUNCATED,
                        f"GitHub lists at most {PR_FILES_LIMIT} files of a pull request: {files} of {total} changed "
                        "files were seen"))
    return gaps


def _count(value: object) -> int | None:
    return value if isinstance(value, int) else None
