"""What a ``git push`` is about to send: one range of commits per branch it updates.

Three ways in, most specific first:

- pre-commit's pre-push stage sets ``PRE_COMMIT_FROM_REF`` / ``PRE_COMMIT_TO_REF`` /
  ``PRE_COMMIT_REMOTE_BRANCH`` / ``PRE_COMMIT_LOCAL_BRANCH`` / ``PRE_COMMIT_REMOTE_NAME`` (and
  leaves out the refs when the push carries a whole new history);
- git's own pre-push hook passes the remote's name and URL as arguments and one line per ref on
  standard input: ``<local ref> <local sha> <remote ref> <remote sha>``;
- run by hand, the current branch as it would be pushed to its upstream.

A deleted ref pushes nothing and a tag adds no change: both are skipped. A new branch (all-zero
remote sha) is judged from its merge base with the remote's default branch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from govgate.errors import SourceError
from govgate.sources.git import ZERO_SHA, GitRepo


@dataclass(frozen=True)
class RefUpdate:
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str  # ZERO_SHA: the remote has no such ref yet


@dataclass(frozen=True)
class PushedRange:
    """Commits ``base..head`` about to reach ``remote_ref`` (base None: nothing to compare with)."""

    update: RefUpdate
    base: str | None
    head: str
    branch: str
    skip_reason: str | None = None

    @property
    def label(self) -> str:
        local = self.update.local_ref.removeprefix("refs/heads/") or self.head[:12]
        return f"{local} -> {self.branch}"


def updates_from_pre_commit(env: Mapping[str, str]) -> list[RefUpdate] | None:
    """The one ref pre-commit hands its pre-push hooks, or None when not run by pre-commit."""
    if not env.get("PRE_COMMIT_REMOTE_BRANCH") and not env.get("PRE_COMMIT_TO_REF"):
        return None
    local_ref = env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    to_ref = env.get("PRE_COMMIT_TO_REF") or ""  # absent when the push starts a new history
    return [RefUpdate(local_ref, to_ref or local_ref, env.get("PRE_COMMIT_REMOTE_BRANCH") or "",
                      env.get("PRE_COMMIT_FROM_REF") or ZERO_SHA)]


def updates_from_hook_input(text: str) -> list[RefUpdate]:
    updates = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.rsplit(maxsplit=3)
        if len(parts) != 4:
            raise SourceError(f"pre-push input line {number} is not '<local ref> <local sha> <remote ref> <remote sha>': {line!r}")
        updates.append(RefUpdate(*parts))
    return updates


def upstream_update(repo: GitRepo) -> list[RefUpdate]:
    """Run by hand: the checked-out branch as a push to its upstream would send it."""
    branch = repo.current_branch()
    if branch is None:
        raise SourceError("HEAD is detached: there is no branch to push", "check out the branch you are about to push")
    upstream = (repo.try_run("rev-parse", "--symbolic-full-name", f"{branch}@{{upstream}}") or "").strip()
    remote_sha = (repo.try_run("rev-parse", "--verify", "--quiet", f"{upstream}^{{commit}}") or "").strip() if upstream else ""
    remote_ref = "refs/heads/" + upstream.split("/", 3)[-1] if upstream.startswith("refs/remotes/") else f"refs/heads/{branch}"
    return [RefUpdate(f"refs/heads/{branch}", repo.resolve("HEAD"), remote_ref, remote_sha or ZERO_SHA)]


def pushed_ranges(repo: GitRepo, updates: Iterable[RefUpdate], remote: str) -> list[PushedRange]:
    return [_pushed_range(repo, update, remote) for update in updates]


def _pushed_range(repo: GitRepo, update: RefUpdate, remote: str) -> PushedRange:
    branch = update.remote_ref.removeprefix("refs/heads/")
    if update.local_sha == ZERO_SHA:
        return PushedRange(update, None, ZERO_SHA, branch, "deletes the branch: nothing is pushed")
    if update.remote_ref.startswith("refs/tags/") or update.local_ref.startswith("refs/tags/"):
        return PushedRange(update, None, update.local_sha, branch, "a tag adds no change")
    head = repo.resolve(update.local_sha)
    base = _commit(repo, update.remote_sha) if update.remote_sha != ZERO_SHA else None
    if base is None:
        # A new branch, or a remote tip this clone has not fetched: compare with the remote's default branch.
        default = _remote_default(repo, remote)
        base = repo.merge_base(default, head) if default else _before_first_unpushed(repo, head, remote)
    if base is None:
        return PushedRange(update, None, head, branch, "starts a new history: nothing on the remote to compare it with")
    if base == head or repo.try_run("merge-base", "--is-ancestor", head, base) is not None:
        return PushedRange(update, base, head, branch, "adds no commits the remote does not have")
    return PushedRange(update, base, head, branch)


def _commit(repo: GitRepo, sha: str) -> str | None:
    out = repo.try_run("rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}")
    return out.strip() if out else None


def _remote_default(repo: GitRepo, remote: str) -> str | None:
    symbolic = repo.try_run("symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD")
    candidates = [symbolic.strip()] if symbolic else []
    candidates += [f"refs/remotes/{remote}/main", f"refs/remotes/{remote}/master"]
    return next((ref for ref in candidates if _commit(repo, ref)), None)


def _before_first_unpushed(repo: GitRepo, head: str, remote: str) -> str | None:
    """Without a default branch: the parent of the oldest commit no ref of the remote has."""
    unpushed = (repo.try_run("rev-list", "--topo-order", "--reverse", head, "--not", f"--remotes={remote}") or "").split()
    if not unpushed:
        return head
    return _commit(repo, f"{unpushed[0]}^")
