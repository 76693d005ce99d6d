"""Deepening a clone that kept no credentials (``persist-credentials: false``): govgate authenticates
its own ``git fetch`` with the token, through git's environment, and never shows the token.

The origin is served over git's smart HTTP protocol on 127.0.0.1 by the real ``git http-backend``,
behind a check of the Authorization header, as a private repository on GitHub is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from govgate.sources.git_credentials import FetchCredentials
from tests.conftest import RepoBuilder, run_cli
from tests.git_http_server import GitHttpServer, serving_git
from tests.github_case import TOKEN, actions_env, pull_request_event, serve_evidence, write_event
from tests.github_server import GitHubServer
from tests.test_github_history import diverged_history, git


@pytest.fixture(scope="module")
def private_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GitHttpServer, str, str, list[str]]]:
    """A fork point 20 commits deep on main, a 3-commit feature branch, served only with the token."""
    root = tmp_path_factory.mktemp("git-http")
    builder = RepoBuilder(root / "origin")
    feature = diverged_history(builder, before=20, after=30)
    with serving_git(root, TOKEN) as server:
        yield server, builder.head(), feature[-1], feature


def checkout_without_credentials(server: GitHttpServer, head: str, target: Path) -> Path:
    """What actions/checkout does with persist-credentials: false: fetch the head once, keep no token."""
    header = "AUTHORIZATION: " + server.expected
    git(target.parent, "init", "-q", str(target))
    git(target, "remote", "add", "origin", f"{server.url}/origin")
    git(target, "-c", f"http.{server.url}/.extraheader={header}", "fetch", "-q", "--depth=1", "origin", head)
    git(target, "checkout", "-q", "--detach", head)
    return target


def judge(tmp_path: Path, work: Path, github_server: GitHubServer, server: GitHttpServer, base: str, head: str,
          token: str) -> tuple[int, dict, str]:
    serve_evidence(github_server, head)
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)),
                      GITHUB_SERVER_URL=server.url, GITHUB_TOKEN=token)
    result = run_cli("check", "--repo", str(work), "--format", "json", env=env)
    return result.code, result.json() if result.stdout else {}, result.stdout + result.stderr


def test_a_clone_without_credentials_is_deepened_with_the_token_which_is_never_shown(
    tmp_path: Path, private_origin: tuple[GitHttpServer, str, str, list[str]], github_server: GitHubServer,
) -> None:
    server, base, head, feature = private_origin
    work = checkout_without_credentials(server, head, tmp_path / "work")
    seen = len(server.authorizations)
    code, data, output = judge(tmp_path, work, github_server, server, base, head, TOKEN)
    assert code == 0, output
    assert data["change"]["commits"] == list(reversed(feature)) and data["problems"] == []  # judged from git
    sent = server.authorizations[seen:]
    assert len(sent) >= 2 and set(sent) == {server.expected} and server.refused == 0  # fetched and deepened, authenticated
    assert TOKEN not in output
    config = git(work, "config", "--list", "--show-origin")
    assert TOKEN not in config and "extraheader" not in config  # nothing persisted


def test_control_without_the_token_the_origin_refuses_and_the_pull_request_comes_from_the_api(
    tmp_path: Path, private_origin: tuple[GitHttpServer, str, str, list[str]], github_server: GitHubServer,
) -> None:
    server, base, head, _ = private_origin
    work = checkout_without_credentials(server, head, tmp_path / "work")
    refused = server.refused
    code, _, output = judge(tmp_path, work, github_server, server, base, head, "")
    assert server.refused > refused  # the origin really demands the token ...
    assert code == 2 and "is not in the clone" in output and "fetch-depth: 0" in output  # ... so nothing is judged


def test_credentials_persisted_by_the_checkout_are_used_as_they_are(
    tmp_path: Path, private_origin: tuple[GitHttpServer, str, str, list[str]], github_server: GitHubServer,
) -> None:
    # persist-credentials: true leaves a header in .git/config; a second Authorization header from
    # govgate would make the server refuse the request, so govgate adds none (its token is wrong here).
    server, base, head, feature = private_origin
    work = checkout_without_credentials(server, head, tmp_path / "work")
    git(work, "config", f"http.{server.url}/.extraheader", "AUTHORIZATION: " + server.expected)
    refused = server.refused
    code, data, output = judge(tmp_path, work, github_server, server, base, head, "ghs_wrong")
    assert code == 0, output
    assert data["change"]["commits"] == list(reversed(feature)) and server.refused == refused


def test_the_header_is_scoped_to_the_forge_and_never_printed() -> None:
    server = "https://github.com"
    credentials = FetchCredentials.for_remote(TOKEN, server, "https://github.com/octo/repo.git")
    assert credentials is not None and TOKEN not in repr(credentials)
    env = credentials.git_env({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.x", "GIT_CONFIG_VALUE_0": "y"})
    assert env["GIT_CONFIG_COUNT"] == "2" and env["GIT_CONFIG_KEY_0"] == "core.x"  # existing entries kept
    assert env["GIT_CONFIG_KEY_1"] == "http.https://github.com/.extraheader"
    # No token for another host, an ssh remote or plain http to an https forge.
    assert FetchCredentials.for_remote(TOKEN, server, "https://evil.example/octo/repo.git") is None
    assert FetchCredentials.for_remote(TOKEN, server, "git@github.com:octo/repo.git") is None
    assert FetchCredentials.for_remote(TOKEN, server, "http://github.com/octo/repo.git") is None
    assert FetchCredentials.for_remote(None, server, "https://github.com/octo/repo.git") is None
