"""Shared fixtures: real git repositories in temporary folders and the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import git
import pytest

from tests.github_server import GitHubServer, serving
from tests.gitlab_server import GitLabServer

SHARED = Path(__file__).resolve().parents[2] / "shared"

# Keep the policy-validation cache of test runs away from the user's own cache.
os.environ.setdefault("GOVGATE_CACHE_DIR", tempfile.mkdtemp(prefix="govgate-test-cache-"))
DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Author:
    name: str
    email: str

    def actor(self) -> git.Actor:
        return git.Actor(self.name, self.email)


ALICE = Author("Alice Example", "alice@example.com")
BOB = Author("Bob Reviewer", "bob@example.com")


class RepoBuilder:
    """A real git repository that tests fill with commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.repo = git.Repo.init(path, initial_branch="main")
        with self.repo.config_writer() as cfg:
            cfg.set_value("user", "name", ALICE.name)
            cfg.set_value("user", "email", ALICE.email)
            cfg.set_value("commit", "gpgsign", "false")

    def write(self, relpath: str, content: str | bytes) -> None:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")

    def commit(
        self,
        message: str,
        files: dict[str, str | bytes | None] | None = None,
        author: Author = ALICE,
        committer: Author | None = None,
        date: str | None = None,
    ) -> str:
        """Write (or, with None, delete) files and commit them; returns the new sha."""
        for relpath, content in (files or {}).items():
            if content is None:
                self.repo.index.remove([relpath], working_tree=True)
            else:
                self.write(relpath, content)
                self.repo.index.add([relpath])
        env = {}
        if date:
            env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        args = ["commit", "--allow-empty", "-q", "-F", "-", f"--author={author.name} <{author.email}>"]
        committer = committer or author
        run_env = {
            **os.environ, **env,
            "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
        }
        subprocess.run(["git", *args], cwd=self.path, input=message.encode("utf-8"), env=run_env, check=True)
        return self.head()

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, check=True).stdout

    def symlink(self, link: str, target: str) -> None:
        """Stage ``link`` as a symbolic link to ``target`` (replacing whatever is there); commit() records it."""
        path = self.path / link
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            self.git("rm", "-q", "--cached", link)
            path.unlink()
        os.symlink(target, path)
        self.git("add", link)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)


@pytest.fixture
def github_server() -> Iterator[GitHubServer]:
    """A fake GitHub REST API on 127.0.0.1 (tests/github_server.py), closed after the test."""
    with serving() as server:
        yield server


@pytest.fixture
def gitlab_server() -> Iterator[GitLabServer]:
    """A fake GitLab REST API v4 on 127.0.0.1 (tests/gitlab_server.py), closed after the test."""
    with serving(GitLabServer) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    """A repository with one base commit on main."""
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Initial commit", {"README.md": "# project\n"})
    return builder


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60,
            input: str | None = None) -> CliResult:
    """Run the real ``govgate`` CLI in a subprocess (``input``: its standard input)."""
    # A test describes the CI job it stands for in full: nothing of the CI running the tests leaks in.
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("GITHUB_", "GITLAB_", "CI_")) and k not in ("CI", "GOVGATE_GITLAB_TOKEN")}
    base_env.pop("GOVGATE_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "govgate", *args],
        cwd=cwd, capture_output=True, text=True, env={**base_env, **(env or {})}, timeout=timeout, check=False, input=input,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> Iterator[object]:
    yield run_cli


def judge_range(builder: RepoBuilder, base: str, head: str = "HEAD", policy: str | None = None, *extra: str) -> dict:
    """Run ``govgate check --format json`` on a range and return the parsed object."""
    args = ["check", "--repo", str(builder.path), "--base", base, "--head", head, "--format", "json", *extra]
    if policy:
        args += ["--policy", policy]
    result = run_cli(*args)
    assert result.code in (0, 1), result.stderr
    return result.json()


def detect(detector: object, change: object, settings: dict | None = None) -> list:
    """Run one detector on a Change the way the pipeline does: only if the change holds a file the
    detector declares it can speak to, and with only those files (so every detector test also
    checks that the detector's scope covers the paths it judges)."""
    from govgate.detectors import detect_in_scope

    return detect_in_scope(detector, change, settings or {})  # type: ignore[arg-type]


def local_change(builder: RepoBuilder, base: str, head: str = "HEAD", **pr: object):  # type: ignore[no-untyped-def]
    """Read a Change through the real local git source."""
    from govgate.sources.git import GitRepo
    from govgate.sources.local import LocalRangeSource, PullRequestFlags

    return LocalRangeSource(GitRepo.open(builder.path), base, head, PullRequestFlags(**pr)).read()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def installed_action(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """action.yml's install steps run once for real (venv, pip, hash-checked wheels; a cold cache)."""
    from tests.action_runner import installed_action as install

    return install(tmp_path_factory.mktemp("installed-action"))
