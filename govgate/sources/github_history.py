"""History in CI: make a shallow clone deep enough to judge, or build the change from the API.

``actions/checkout`` fetches one commit by default. Rather than demand ``fetch-depth: 0``
(a full clone of a large repository costs minutes), govgate fetches the two commits it
needs and deepens in a bounded loop until ``git merge-base`` finds their fork point.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from govgate.errors import GitError
from govgate.model import Change, FileChange, FileStatus, PullRequest
from govgate.sources.git import LOG_FORMAT, ZERO_SHA, GitRepo, _git_env, parse_diff_tokens, parse_log
from govgate.sources.git_credentials import FetchCredentials
from govgate.sources.github_api import GitHubClient
from govgate.sources.github_pr import fetch_commits, fetch_files

# Commits added per deepening round; six rounds reach ~4000 commits behind the shallow edge.
DEEPEN_STEPS: tuple[int, ...] = (50, 100, 200, 400, 1000, 2500)
FETCH_TIMEOUT_SECONDS = 180
PR_FILES_LIMIT = 3000  # GET /pulls/{n}/files stops here

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


def has_commit(repo: GitRepo, sha: str) -> bool:
    return repo.try_run("cat-file", "-e", f"{sha}^{{commit}}") is not None


def commit_parents(repo: GitRepo, sha: str) -> tuple[str, ...]:
    """Parents as recorded in the commit object: known even when a shallow clone cut them off."""
    raw = repo.try_run("cat-file", "commit", sha) or ""
    header = raw.split("\n\n", 1)[0]
    return tuple(line.split()[1] for line in header.splitlines() if line.startswith("parent "))


def fetch_credentials(repo: GitRepo, token: str | None, server_url: str | None) -> FetchCredentials | None:
    """The token for fetches from origin, unless the checkout persisted credentials of its own."""
    if repo.try_run("config", "--get-regexp", r"^http\..*\.extraheader$"):
        return None  # persist-credentials: true already sends one; a second Authorization header is refused
    return FetchCredentials.for_remote(token, server_url, repo.remote_url("origin"))


def ensure_history(
    repo: GitRepo, base: str, head: str, *, pr_number: int | None = None, credentials: FetchCredentials | None = None,
) -> tuple[str | None, list[str]]:
    """Fetch and deepen until base, head and their merge base are present.

    Returns the merge base (None if it could not be found) and what was done, for messages.
    """
    actions: list[str] = []
    if has_commit(repo, base) and has_commit(repo, head):
        found = repo.merge_base(base, head)
        if found or not repo.is_shallow():
            return found, actions
    if not repo.remote_url("origin"):
        return None, ["no `origin` remote to fetch from"]
    shallow = repo.is_shallow()
    missing = [sha for sha in dict.fromkeys((base, head)) if not has_commit(repo, sha)]
    if missing:
        # In a full clone, fetch everything the missing commits need; in a shallow one, just them.
        _fetch(repo, (["--depth=1"] if shallow else []) + ["origin", *missing], actions, credentials)
        if not has_commit(repo, head) and pr_number is not None:
            _fetch(repo, (["--depth=1"] if shallow else []) + ["origin", f"refs/pull/{pr_number}/head"], actions, credentials)
    if not (has_commit(repo, base) and has_commit(repo, head)):
        return None, actions
    for step in DEEPEN_STEPS:
        found = repo.merge_base(base, head)
        if found:
            return found, actions
        if not repo.is_shallow():
            return None, actions
        if not _fetch(repo, [f"--deepen={step}", "origin", base, head], actions, credentials):
            break
    return repo.merge_base(base, head), actions


def _fetch(repo: GitRepo, args: Sequence[str], actions: list[str], credentials: FetchCredentials | None) -> bool:
    command = ["git", "-C", str(repo.path), "fetch", "--no-tags", "--no-recurse-submodules", "--quiet", *args]
    actions.append("git fetch " + " ".join(args))
    env = credentials.git_env(_git_env()) if credentials else _git_env()
    try:
        result = subprocess.run(command, capture_output=True, env=env, timeout=FETCH_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        actions.append(f"  (timed out after {FETCH_TIMEOUT_SECONDS}s)")
        return False
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        actions.append("  (failed: " + (lines[-1] if lines else f"exit {result.returncode}") + ")")
        return False
    return True


def single_commit_change(repo: GitRepo, sha: str) -> Change:
    """A root commit judged on its own: every file it adds."""
    stream = repo.stream("log", "-1", "-z", f"--format={LOG_FORMAT}", "--raw", "--numstat", "--no-abbrev",
                         "--root", "-M", "--no-ext-diff", "--no-textconv", sha)
    entries = list(parse_log(stream))
    if not entries:
        raise GitError(f"cannot read commit {sha[:12]}")
    commit, tokens = entries[0]
    return Change(
        id=sha[:12], title=commit.subject, base=None, head=sha, commits=[commit],
        files=parse_diff_tokens(tokens, repo.blobs()), kind="commit", date=commit.committed_at, author=commit.author,
    )


def change_from_api(
    client: GitHubClient, repository: str, pull: PullRequest, repo: GitRepo, problems: list[str], changed_files: int | None,
) -> Change:
    """The PR's files and commits from the API, when the clone cannot give the range.

    Contents are read from the local objects of the head and base commits where those were
    fetched (a depth-1 fetch brings their trees); otherwise files are listed without content.
    """
    assert pull.number is not None and pull.head_sha is not None
    listed = fetch_files(client, repository, pull.number)
    commits = fetch_commits(client, repository, pull.number)
    blobs = repo.blobs()
    head_present = has_commit(repo, pull.head_sha)
    base_present = bool(pull.base_sha) and has_commit(repo, pull.base_sha or ZERO_SHA)
    files: list[FileChange] = []
    for item in listed:
        path = str(item.get("filename") or "")
        status = _API_STATUS.get(str(item.get("status")), FileStatus.MODIFIED)
        old_path = item.get("previous_filename")
        files.append(
            FileChange(
                path=path,
                status=status,
                old_path=old_path,
                added=_count(item.get("additions")),
                removed=_count(item.get("deletions")),
                _load_new=blobs.loader(f"{pull.head_sha}:{path}") if head_present and status is not FileStatus.DELETED else None,
                _load_old=blobs.loader(f"{pull.base_sha}:{old_path or path}")
                if base_present and status is not FileStatus.ADDED else None,
            )
        )
    problems.append(
        f"the clone lacks the history between base and head: the {len(files)} changed files and {len(commits)} commits "
        "were read from the GitHub API (set `fetch-depth: 0` on actions/checkout to judge from git)"
    )
    if changed_files is not None and changed_files > len(files):
        problems.append(f"the API lists at most {PR_FILES_LIMIT} files: {changed_files - len(files)} changed files were not seen")
    newest = commits[0] if commits else None
    return Change(
        id=f"#{pull.number}", title=pull.title, base=pull.base_sha, head=pull.head_sha, commits=commits, files=files,
        kind="pull_request", date=newest.committed_at if newest else None, author=commits[-1].author if commits else None,
    )


def _count(value: object) -> int | None:
    return value if isinstance(value, int) else None
