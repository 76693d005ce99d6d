"""A change read from a local git range: the commits base..head and the net diff base...head."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from govgate.errors import GitError
from govgate.model import Change, Gap, GapKind
from govgate.sources import PullRequestFlags, SourceRequest, TrustRoot
from govgate.sources.git import LOG_FORMAT, GitRepo, parse_diff_tokens, parse_log

if TYPE_CHECKING:
    from govgate.sources.trusted import TrustedConfig

__all__ = ["LocalRangeSource", "PullRequestFlags", "open_source", "single_commit_change"]


@dataclass
class LocalRangeSource:
    """The commits base..head of a local repository; its policy comes from the base revision."""

    repo: GitRepo
    base: str | None
    head: str
    pr: PullRequestFlags = field(default_factory=PullRequestFlags)
    name: ClassVar[str] = "local"
    _resolved: tuple[str, str, str, str | None] | None = field(default=None, repr=False)

    def trust_root(self) -> TrustRoot:
        base_rev, base_sha, _, _ = self._resolve()
        named = "" if base_sha.startswith(base_rev.lower()) else f" {base_rev}"  # a sha would only repeat itself
        return TrustRoot(base_sha, f"the base revision{named}")

    def changes(self, trusted: TrustedConfig) -> Iterator[Change]:
        yield self.read()

    def _resolve(self) -> tuple[str, str, str, str | None]:
        """(base as named, base sha, head sha, checked-out branch), resolved once."""
        if self._resolved is None:
            base_rev = self.base if self.base else self.repo.default_base()
            (base_sha, head_sha), checked_out = self.repo.resolve_with_branch(base_rev, self.head)
            self._resolved = (base_rev, base_sha, head_sha, checked_out)
        return self._resolved

    def read(self) -> Change:
        base_rev, base_sha, head_sha, checked_out = self._resolve()
        fork_point = self.repo.merge_base(base_sha, head_sha)
        if fork_point is None:
            hint = "the clone is shallow: fetch more history (git fetch --unshallow)" if self.repo.is_shallow() else None
            raise GitError(f"{base_rev} and {self.head} share no history", hint)
        commits = [c for c, _ in parse_log(self.repo.stream("log", "-z", f"--format={LOG_FORMAT}", f"{base_sha}..{head_sha}"))]
        if not commits:
            raise GitError(
                f"empty range: {self.head} has no commits that are not in {base_rev}",
                "pass --base with an older revision (e.g. --base HEAD~1)",
            )
        gaps: list[Gap] = []
        try:
            diff = self.repo.run_bytes("diff", "-z", "--raw", "--numstat", "--no-abbrev", "-M", "--no-ext-diff",
                                       "--no-textconv", fork_point, head_sha)
        except GitError as exc:
            # A partial clone or damaged mirror lacks blobs that line counts and rename detection
            # read; the tree diff still lists every file, but size-based risk is then unknown.
            diff = self.repo.run_bytes("diff", "-z", "--raw", "--no-abbrev", "--no-renames", fork_point, head_sha)
            gaps.append(Gap(GapKind.CONTENT_MISSING, f"{exc.message}: files are listed without rename detection or line counts"))
        files = parse_diff_tokens(diff.split(b"\0"), self.repo.blobs())
        branch = self.pr.branch or checked_out
        pull_request = self.pr.to_pull_request()
        if pull_request is not None:
            pull_request.head_sha, pull_request.base_sha = head_sha, fork_point
            pull_request.head_ref = pull_request.head_ref or branch
        newest = commits[0]
        title = (pull_request.title if pull_request and pull_request.title else None) or (
            newest.subject if len(commits) == 1 else f"{len(commits)} commits: {commits[-1].subject}"
        )
        return Change(
            id=f"{base_sha[:12]}..{head_sha[:12]}",
            title=title,
            base=fork_point,
            head=head_sha,
            commits=commits,
            files=files,
            pull_request=pull_request,
            branch=branch,
            kind="range",
            date=newest.committed_at,
            author=commits[-1].author,
            incomplete=gaps,
        )

    def close(self) -> None:
        self.repo.close()


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


def open_source(request: SourceRequest) -> LocalRangeSource:
    return LocalRangeSource(request.repo, request.base, request.head or "HEAD", request.pr)
