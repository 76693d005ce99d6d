"""Change sources: where a Change comes from (a local git range, a forge's CI event, history).

Every source meets one contract, ``ChangeSource``, in two steps, so that what judges a change is
never read from the change itself:

1. ``trust_root()`` says which revision the judging configuration comes from (the pull request's
   base commit, the default branch for a push to another branch, the audited revision). A source
   may fetch or deepen history here.
2. The command reads the policy, CODEOWNERS and the memory file from that revision's objects
   (``govgate.sources.trusted``, the same code for every source), then calls ``changes(trusted)``.
   A forge source reads its API with the settings of that trusted policy.

Sources are listed in ``SOURCES``: a new one is one module with an ``open_source(request)``
function and one line here. The CLI picks one from ``--source``, ``--github/--no-github`` or the
CI environment (``detect_source``); nothing else names a source.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from govgate.errors import GovgateError, SourceError
from govgate.model import Change, PullRequest

if TYPE_CHECKING:
    from govgate.sources.git import GitRepo
    from govgate.sources.history import HistoryOptions
    from govgate.sources.trusted import TrustedConfig


class NothingToJudge(Exception):
    """The event carries no change (a deleted branch or tag, a tag push): say so and exit 0."""


@dataclass(frozen=True)
class TrustRoot:
    """The revision whose objects hold the policy, CODEOWNERS, waivers and memory that judge a change.

    ``revision`` is None when there is no earlier state to trust (the first push of a repository):
    then only a preset or a file outside the repository can judge.
    """

    revision: str | None
    role: str  # what the revision is, in words: "the pull request's base commit"
    forge: bool = False  # a forge's CI run: the working-tree policy may never be chosen


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
class SourceRequest:
    """What the user asked for; each source reads the parts that concern it."""

    repo: GitRepo
    base: str | None = None  # None: the source's own base (the event's, or the remote default branch)
    head: str | None = None  # None: the source's own head (the event's, or HEAD)
    pr: PullRequestFlags = field(default_factory=PullRequestFlags)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    history: HistoryOptions | None = None  # for the history source (`govgate audit`)


class ChangeSource(Protocol):
    name: str

    def trust_root(self) -> TrustRoot:
        """The revision the judging configuration is read from; may fetch what it needs first."""
        ...

    def changes(self, trusted: TrustedConfig) -> Iterator[Change]:
        """Yield the changes to judge, one at a time, so that history can stream."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SourceEntry:
    name: str
    module: str | None  # None: reserved, not available in this version
    summary: str
    command: str  # the command that reads it: check (one change) or audit (many)
    ci_variable: str | None = None  # set to "true" by the CI service this source reads (auto-detection)
    ci_requires: tuple[str, ...] = ()  # also set (non-empty) when that service runs the kind of job it reads

    def detected(self, environ: Mapping[str, str]) -> bool:
        return (self.module is not None and self.ci_variable is not None and environ.get(self.ci_variable) == "true"
                and all(environ.get(name) for name in self.ci_requires))


SOURCES: dict[str, SourceEntry] = {entry.name: entry for entry in (
    SourceEntry("local", "govgate.sources.local", "the commits BASE..HEAD of a local repository", "check"),
    SourceEntry("github", "govgate.sources.github_event", "a GitHub Actions event and the GitHub API", "check",
                "GITHUB_ACTIONS"),
    SourceEntry("gitlab", "govgate.sources.gitlab_mr", "a GitLab CI merge-request pipeline and the GitLab API", "check",
                "GITLAB_CI",
                ("CI_MERGE_REQUEST_IID",)),
    SourceEntry("history", "govgate.sources.history", "every change on a branch's first-parent line", "audit"),
)}


def check_source_names() -> list[str]:
    return [name for name, entry in SOURCES.items() if entry.command == "check"]


def detect_source(requested: str | None, github: bool | None, environ: Mapping[str, str]) -> str:
    """The check source to use: --source, else --github/--no-github, else the CI service we run in, else local."""
    if requested and requested != "auto":
        if github is not None and (requested == "github") != github:
            raise GovgateError(f"--source {requested} contradicts --{'' if github else 'no-'}github", "pass only one of them")
        return requested
    if github is not None:
        return "github" if github else "local"
    for name, entry in SOURCES.items():
        if entry.command == "check" and entry.detected(environ):
            return name
    return "local"


def open_source(name: str, request: SourceRequest) -> ChangeSource:
    import importlib

    entry = SOURCES.get(name)
    if entry is None:
        raise GovgateError(f"unknown change source {name!r}", f"choose one of: {', '.join(SOURCES)}")
    if entry.module is None:
        raise GovgateError(f"the {name} source ({entry.summary}) is not available in this version of govgate",
                           "judge the range from git instead: --source local --base REV")
    return importlib.import_module(entry.module).open_source(request)  # type: ignore[no-any-return]
