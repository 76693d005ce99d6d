"""When each release tag named by a freeze appeared in git: the tagger date of an annotated tag,
else the committer date of the commit it names (``creatordate`` covers both)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from govgate.policy.model import Policy
from govgate.sources.git import GitRepo


def tag_times(repo: GitRepo, names: list[str]) -> dict[str, dt.datetime]:
    if not names:
        return {}
    refs = [f"refs/tags/{name}" for name in names]
    out = repo.try_run("for-each-ref", "--format=%(refname)%00%(creatordate:iso-strict)", *refs) or ""
    found: dict[str, dt.datetime] = {}
    for line in out.splitlines():
        ref, _, date = line.partition("\0")
        name = ref.removeprefix("refs/tags/")
        if name in names and date:
            try:
                found[name] = dt.datetime.fromisoformat(date).astimezone(dt.UTC)
            except ValueError:
                continue
    return found


def with_release_tags(repo: GitRepo, policy: Policy) -> Policy:
    """The policy with each release window's tag time read from this repository (absent: still open)."""
    freezes = policy.freezes
    if freezes is None or not freezes.release_tags():
        return policy
    return dataclasses.replace(policy, freezes=freezes.with_tag_times(tag_times(repo, freezes.release_tags())))
