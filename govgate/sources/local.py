"""A change read from a local git range: the commits base..head and the net diff base...head."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from govgate.errors import GitError, SourceError
from govgate.model import Change, PullRequest
from govgate.sources.git import LOG_FORMAT, GitRepo, parse_diff_tokens, parse_log


@dataclass
class PullRequestFlags:
    """PR data a local run cannot see, given on the command line."""

    body_file: Path | None = None
    labels: tuple[str, ...] = ()
    author: str | None = None
    title: str | None = None
    branch: str | None = None

    def given(self) -> bool:
        return bool(self.body_file or self.labels or self.author or self.title)

    def to_pull_request(self) -> PullRequest | None:
        if not self.given():
            return None
        body = ""
        if self.body_file is not None:
            try:
                body = self.body_file.read_bytes().decode("utf-8", "replace")
            except OSError as exc:
                raise SourceError(f"cannot read --pr-body-file {self.body_file}: {exc.strerror}") from exc
        return PullRequest(
            title=self.title or "", body=body, labels=self.labels, author_login=self.author,
            head_ref=self.branch,
        )


@dataclass
class LocalRangeSource:
    repo: GitRepo
    base: str | None
    head: str
    pr: PullRequestFlags = field(default_factory=PullRequestFlags)

    def changes(self) -> Iterator[Change]:
        yield self.read()

    def read(self) -> Change:
        base_rev = self.base if self.base else self.repo.default_base()
        (base_sha, head_sha), checked_out = self.repo.resolve_with_branch(base_rev, self.head)
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
        problems: list[str] = []
        try:
            diff = self.repo.run_bytes("diff", "-z", "--raw", "--numstat", "--no-abbrev", "-M", "--no-ext-diff",
                                       "--no-textconv", fork_point, head_sha)
        except GitError as exc:
            # A partial clone or damaged mirror lacks blobs that line counts and rename detection
            # read; the tree diff still lists every file, so judge that and say what is missing.
            diff = self.repo.run_bytes("diff", "-z", "--raw", "--no-abbrev", "--no-renames", fork_point, head_sha)
            problems.append(f"{exc.message}: files are listed without rename detection or line counts")
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
            problems=problems,
        )

    def close(self) -> None:
        self.repo.close()
