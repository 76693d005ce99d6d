"""A pull request read from the GitHub API, when the clone cannot give its range.

Contents are read by object id: the head and base commits' trees (a depth-1 fetch brings them)
are listed with ``ls-tree -z``, and each file the API names is looked up there. No path string
is ever sent to ``git cat-file --batch``, so a file name holding a newline cannot make it answer
for another file. GitHub lists at most 250 commits and 3,000 files of a pull request: one with
more, or whose contents are not in the clone, is not fully judged (``Change.incomplete``).
"""

from __future__ import annotations

from dataclasses import dataclass

from govgate.model import Change, ContentLoader, ContentUnavailable, FileChange, FileStatus, Gap, GapKind, PullRequest
from govgate.sources.base_files import TreeEntry, tree_listing
from govgate.sources.clone import has_commit
from govgate.sources.git import BlobStore, GitRepo
from govgate.sources.github_api import GitHubClient
from govgate.sources.github_pr import fetch_commits, fetch_files

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
    blobs = repo.blobs()
    new_tree = _listing(repo, pull.head_sha)
    old_tree = _listing(repo, pull.base_sha)
    files: list[FileChange] = []
    for item in listed:
        path = str(item.get("filename") or "")
        status = _API_STATUS.get(str(item.get("status")), FileStatus.MODIFIED)
        old_path = str(item.get("previous_filename") or "") or None
        new = new_tree.get(path) if new_tree is not None and status is not FileStatus.DELETED else None
        old = old_tree.get(old_path or path) if old_tree is not None and status is not FileStatus.ADDED else None
        files.append(FileChange(
            path=path, status=status, old_path=old_path, added=_count(item.get("additions")),
            removed=_count(item.get("deletions")), old_blob=old.oid if old else None, new_blob=new.oid if new else None,
            _load_new=_loader(blobs, new_tree, new, path) if status is not FileStatus.DELETED else None,
            _load_old=_loader(blobs, old_tree, old, old_path or path) if status is not FileStatus.ADDED else None,
        ))
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


def _listing(repo: GitRepo, commit: str | None) -> dict[str, TreeEntry] | None:
    return tree_listing(repo, commit) if commit and has_commit(repo, commit) else None


def _loader(blobs: BlobStore, tree: dict[str, TreeEntry] | None, entry: TreeEntry | None, path: str) -> ContentLoader:
    if entry is not None:
        return lambda: blobs.read(entry.oid)
    why = "its commit is not in the clone" if tree is None else "the commit holds no such file"

    def unavailable() -> bytes | None:
        raise ContentUnavailable(f"{path}: {why}")

    return unavailable


def _count(value: object) -> int | None:
    return value if isinstance(value, int) else None
