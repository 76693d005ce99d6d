"""Offline proof that a first-parent commit is the landing of pull request #N.

A ``(#N)`` or ``Merge pull request #N`` in a message is typed by whoever made the commit: a direct
push can claim any number, and with it that pull request's waivers. What proves the landing offline
is content GitHub itself recorded: the ``refs/pull/N/head`` ref (mirrors carry it; any clone gets it
with ``git fetch origin '+refs/pull/*/head:refs/pull/*/head'``), the head the pull request ended at.

- a merge commit proves #N when its second parent is that head;
- a squash commit proves #N when its tree is exactly that head merged onto its parent
  (``git merge-tree --write-tree``): whatever its message says, its content is what #N reviewed.

Without those refs nothing offline proves a landing; ``audit --github`` proves it from the API
(the pull request's merge commit is this commit).
"""

from __future__ import annotations

import re

from govgate.model import Commit
from govgate.sources.git import GitRepo

_PULL_HEAD = re.compile(r"^refs/(?:remotes/[^/]+/)?pull/(\d+)/head$")


class PullRefs:
    def __init__(self, repo: GitRepo) -> None:
        self.repo = repo
        self._heads: dict[int, str] | None = None

    def head_of(self, number: int) -> str | None:
        if self._heads is None:
            self._heads = {}
            out = self.repo.try_run("for-each-ref", "--format=%(objectname) %(refname)", "refs/pull", "refs/remotes") or ""
            for line in out.splitlines():
                sha, _, name = line.partition(" ")
                match = _PULL_HEAD.match(name)
                if match:
                    self._heads[int(match.group(1))] = sha
        return self._heads.get(number)

    def proves(self, commit: Commit, number: int) -> bool:
        head = self.head_of(number)
        if head is None or not commit.parents:
            return False
        if commit.is_merge:
            return commit.parents[1] == head
        merged = self.repo.try_run("merge-tree", "--write-tree", "--no-messages", commit.parents[0], head)
        tree = self.repo.try_run("rev-parse", f"{commit.sha}^{{tree}}")
        if not merged or not tree:
            return False  # a conflicting merge, or a git older than 2.38: nothing is proven
        return merged.split()[0] == tree.strip()
