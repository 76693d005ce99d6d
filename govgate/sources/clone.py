"""A CI clone made deep enough to judge, whatever the forge.

CI services clone shallowly (``actions/checkout`` fetches one commit; GitLab CI 20 or 50).
Rather than demand a full clone (minutes on a large repository), govgate fetches the commits it
needs and deepens in a bounded loop until ``git merge-base`` finds their fork point.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from govgate.errors import GitError
from govgate.sources.git import GitRepo, _git_env, commit_from_object
from govgate.sources.git_credentials import FetchCredentials

# Commits added per deepening round; six rounds reach ~4000 commits behind the shallow edge.
DEEPEN_STEPS: tuple[int, ...] = (50, 100, 200, 400, 1000, 2500)
FETCH_TIMEOUT_SECONDS = 180


def has_commit(repo: GitRepo, sha: str) -> bool:
    return repo.try_run("cat-file", "-e", f"{sha}^{{commit}}") is not None


def commit_parents(repo: GitRepo, sha: str) -> tuple[str, ...]:
    """Parents as recorded in the commit object: known even when a shallow clone cut them off."""
    try:  # header lines split on newlines only: a name may hold other line breaks (never a forged parent)
        return commit_from_object(sha, repo.run_bytes("cat-file", "commit", sha)).parents
    except GitError:
        return ()


def fetch_credentials(repo: GitRepo, token: str | None, server_url: str | None) -> FetchCredentials | None:
    """The token for fetches from origin, unless the checkout persisted credentials of its own."""
    if repo.try_run("config", "--get-regexp", r"^http\..*\.extraheader$"):
        return None  # persist-credentials: true already sends one; a second Authorization header is refused
    return FetchCredentials.for_remote(token, server_url, repo.remote_url("origin"))


def ensure_commits(repo: GitRepo, shas: Sequence[str], actions: list[str]) -> bool:
    """Fetch the commits of ``shas`` the clone lacks (only them, in a shallow clone); True when all are present."""
    missing = [sha for sha in dict.fromkeys(shas) if not has_commit(repo, sha)]
    if missing and repo.remote_url("origin"):
        fetch(repo, (["--depth=1"] if repo.is_shallow() else []) + ["origin", *missing], actions)
    return all(has_commit(repo, sha) for sha in missing)


def ensure_history(
    repo: GitRepo, base: str, head: str, *, head_refs: Sequence[str] = (),
) -> tuple[str | None, list[str]]:
    """Fetch and deepen until base, head and their merge base are present.

    ``head_refs`` are refs to fetch when the head commit itself cannot be fetched by id (a pull
    request from a fork: ``refs/pull/N/head`` on GitHub). Returns the merge base (None if it could
    not be found) and what was done, for messages.
    """
    actions: list[str] = []
    if has_commit(repo, base) and has_commit(repo, head):
        found = repo.merge_base(base, head)
        if found or not repo.is_shallow():
            return found, actions
    if not repo.remote_url("origin"):
        return None, ["no `origin` remote to fetch from"]
    shallow = repo.is_shallow()
    ensure_commits(repo, (base, head), actions)
    for ref in head_refs:
        if has_commit(repo, head):
            break
        fetch(repo, (["--depth=1"] if shallow else []) + ["origin", ref], actions)
    if not (has_commit(repo, base) and has_commit(repo, head)):
        return None, actions
    for step in DEEPEN_STEPS:
        found = repo.merge_base(base, head)
        if found:
            return found, actions
        if not repo.is_shallow():
            return None, actions
        if not fetch(repo, [f"--deepen={step}", "origin", base, head], actions):
            break
    return repo.merge_base(base, head), actions


def branch_tip(repo: GitRepo, branch: str, actions: list[str], *, refresh: bool = False) -> str | None:
    """The tip of ``branch`` on origin: the remote-tracking ref if the clone has it, else fetched (one commit).

    ``refresh`` fetches it even when a ref exists (a reused build directory can hold a stale one).
    """
    if repo.try_run("check-ref-format", "--branch", branch) is None:
        return None
    for ref in (f"refs/remotes/origin/{branch}", f"refs/heads/{branch}") if not refresh else ():
        sha = repo.try_run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if sha:
            return sha.strip()
    if not repo.remote_url("origin"):
        return None
    depth = ["--depth=1"] if repo.is_shallow() else []
    if not fetch(repo, [*depth, "origin", f"+refs/heads/{branch}:refs/remotes/origin/{branch}"], actions):
        return None
    sha = repo.try_run("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}^{{commit}}")
    return sha.strip() if sha else None


def fetch(repo: GitRepo, args: Sequence[str], actions: list[str]) -> bool:
    command = ["git", "-C", str(repo.path), "fetch", "--no-tags", "--no-recurse-submodules", "--quiet", *args]
    actions.append("git fetch " + " ".join(args))
    env = repo.credentials.git_env(_git_env()) if repo.credentials else _git_env()
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
