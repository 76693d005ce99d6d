"""Shallow clones in CI: deepening from a real local "origin", the API fallback, and the fetch-depth advice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import RepoBuilder, run_cli
from tests.github_case import (
    API,
    TOKEN,
    VERIFIED_POLICY,
    WORKFLOW,
    WORKFLOW_TEXT,
    actions_env,
    payload,
    pull_request_event,
    serve_evidence,
    write_event,
)
from tests.github_server import GitHubServer


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def many_commits(builder: RepoBuilder, count: int, prefix: str) -> None:
    script = f'for i in $(seq {count}); do git commit -q --allow-empty -m "{prefix} $i"; done'
    subprocess.run(["bash", "-c", script], cwd=builder.path, check=True)


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> tuple[RepoBuilder, str, str, list[str]]:
    """An origin whose main moved 70 commits past the fork point of a 3-commit feature branch.

    300 commits come before the fork point, so a deepening that found the merge base leaves the
    clone shallow: proof that it stopped in time rather than fetching everything.
    """
    builder = RepoBuilder(tmp_path_factory.mktemp("origin") / "origin")  # read-only for the tests: built once
    feature = diverged_history(builder, before=300, after=70)
    return builder, builder.head(), feature[-1], feature


def diverged_history(builder: RepoBuilder, before: int, after: int) -> list[str]:
    """``before`` commits on main, a 3-commit feature branch, then ``after`` more on main; the feature's shas."""
    builder.commit("Initial commit", {".govgate.yml": VERIFIED_POLICY, "README.md": "# project\n", WORKFLOW: WORKFLOW_TEXT})
    many_commits(builder, before, "early")
    builder.branch("feature")
    feature = [builder.commit(f"Feature step {i}", {f"src/feature_{i}.py": f"STEP = {i}\n"}) for i in range(3)]
    builder.checkout("main")
    many_commits(builder, after, "main moves on")
    return feature


def shallow_clone(origin: RepoBuilder, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--depth=1", "--branch", "main", f"file://{origin.path}", str(target)],
                   check=True, capture_output=True)
    assert git(target, "rev-parse", "--is-shallow-repository") == "true"
    return target


def test_a_depth_1_clone_is_deepened_until_the_merge_base_is_found(
    tmp_path: Path, origin: tuple[RepoBuilder, str, str, list[str]], github_server: GitHubServer,
) -> None:
    builder, base, head, feature = origin
    work = shallow_clone(builder, tmp_path / "work")
    assert subprocess.run(["git", "cat-file", "-e", f"{head}^{{commit}}"], cwd=work, capture_output=True).returncode != 0
    serve_evidence(github_server, head)
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_cli("check", "--format", "json", cwd=work, env=env)
    assert result.code == 0, result.stderr + result.stdout
    data = result.json()
    assert data["change"]["commits"] == list(reversed(feature))
    assert data["change"]["files"] == 3
    assert data["problems"] == []
    # The deepening stopped when the fork point arrived: the clone is still shallow, not a full copy.
    assert git(work, "rev-parse", "--is-shallow-repository") == "true"
    assert git(work, "merge-base", base, head) == git(builder.path, "merge-base", base, head)


def test_when_the_head_cannot_be_fetched_the_files_come_from_the_api_but_it_is_not_fully_judged(
    tmp_path: Path, origin: tuple[RepoBuilder, str, str, list[str]], github_server: GitHubServer,
) -> None:
    builder, base, head, feature = origin
    work = shallow_clone(builder, tmp_path / "work")
    git(work, "remote", "set-url", "origin", f"file://{tmp_path}/gone")  # e.g. a fork the runner cannot fetch
    serve_evidence(github_server, head)
    github_server.paginated(f"{API}/pulls/2/files", [
        {"filename": f"src/feature_{i}.py", "status": "added", "additions": 1, "deletions": 0, "changes": 1,
         "patch": f"@@ -0,0 +1 @@\n+STEP = {i}"} for i in range(3)
    ])
    author = {"name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com", "date": "2024-03-11T10:00:00Z"}
    github_server.paginated(f"{API}/pulls/2/commits", [
        {"sha": sha, "commit": {"author": author, "committer": author, "message": f"Feature step {i}"},
         "parents": [{"sha": "0" * 40}]} for i, sha in enumerate(feature)
    ])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_cli("check", "--format", "json", cwd=work, env=env)
    # The file list and commits are complete, but the head's contents are not in the clone: the
    # detectors that read them could not judge them, so the change never passes.
    assert result.code == 2, result.stderr + result.stdout
    data = result.json()
    assert data["verdict"] == "incomplete" and data["complete"] is False
    assert [gap["kind"] for gap in data["incomplete"]] == ["content_missing"]
    assert "src/feature_0.py" in data["incomplete"][0]["detail"]
    assert data["change"]["files"] == 3 and data["change"]["commits"] == list(reversed(feature))
    assert any("read from the GitHub API" in p and "fetch-depth: 0" in p for p in data["problems"])
    assert TOKEN not in result.stdout + result.stderr


def test_without_history_or_a_pull_request_it_says_to_set_fetch_depth_0(
    tmp_path: Path, origin: tuple[RepoBuilder, str, str, list[str]], github_server: GitHubServer,
) -> None:
    builder, base, _, _ = origin
    work = shallow_clone(builder, tmp_path / "work")
    git(work, "remote", "set-url", "origin", f"file://{tmp_path}/gone")
    event = payload("push.with-new-branch.payload.json")
    event.update(ref="refs/heads/main", before=git(builder.path, "rev-parse", "main~40"), after=base, created=False)
    github_server.paginated(f"{API}/commits/{base}/pulls", [])
    result = run_cli("check", "--format", "json", cwd=work, env=actions_env(github_server, "push", write_event(tmp_path, event)))
    assert result.code == 2
    assert "fetch-depth: 0" in result.stderr
    assert result.stdout == ""
