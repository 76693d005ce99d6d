"""``govgate pre-push`` end to end: a real ``git push`` to a local bare remote through git's own
pre-push hook, and through pre-commit's pre-push stage.

The failing change is an AI-assisted commit with an irreversible migration: the push must stop
with the full explanation. Its controls: the same change made reversible pushes, although no
review or CI can exist yet (those requirements are left for the pull request), and the very same
push fails when govgate is asked to require that forge evidence now.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.action_runner import InstalledAction
from tests.checkout_copy import snapshot

GOVGATE = Path(sys.executable).parent / "govgate"
AI_TRAILER = "\n\nCo-authored-by: Claude <noreply@anthropic.com>"
MIGRATION = '''revision = "0001"
down_revision = None


def upgrade() -> None:
    op.add_column("users", sa.Column("age", sa.Integer()))


def downgrade() -> None:
    {down}
'''
IRREVERSIBLE, REVERSIBLE = "pass", 'op.drop_column("users", "age")'


@dataclass
class Pushed:
    code: int
    output: str


class Workspace:
    """A clone of a bare remote whose main is pushed, with origin/HEAD known."""

    def __init__(self, root: Path) -> None:
        self.remote, self.path = root / "origin.git", root / "work"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.remote)], check=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(self.path)], check=True)
        self.git("config", "user.name", "Ada Dev")
        self.git("config", "user.email", "ada@example.com")
        self.git("remote", "add", "origin", str(self.remote))
        self.commit("Initial commit", {"README.md": "# app\n", "app/core.py": "X = 1\n"})
        self.git("push", "-q", "origin", "main")
        self.git("remote", "set-head", "origin", "main")

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, check=True,
                              env={**os.environ, **(env or {})})
        return proc.stdout.strip()

    def commit(self, message: str, files: dict[str, str]) -> str:
        for name, text in files.items():
            path = self.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self, *args: str) -> Pushed:
        proc = subprocess.run(["git", "push", "origin", *args], cwd=self.path, capture_output=True, text=True,
                              timeout=300, check=False)
        return Pushed(proc.returncode, proc.stdout + proc.stderr)

    def remote_has(self, ref: str) -> str | None:
        proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref], cwd=self.remote, capture_output=True,
                              text=True, check=False)
        return proc.stdout.strip() or None

    def hook(self, *flags: str) -> None:
        hook = self.path / ".git" / "hooks" / "pre-push"
        hook.write_text(f'#!/bin/sh\nexec "{GOVGATE}" pre-push {" ".join(flags)} "$@"\n', encoding="utf-8")
        hook.chmod(0o755)

    def ai_migration(self, down: str) -> str:
        self.git("checkout", "-q", "-B", "feature", "main")
        payments = {f"src/payments/step_{i}.py": f"def step_{i}():\n    return {i}\n" for i in range(5)}
        return self.commit("Add the age column" + AI_TRAILER,
                           {"alembic/versions/0001_add_age.py": MIGRATION.format(down=down), **payments})


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def govgate_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("govgate")]


def test_an_irreversible_ai_migration_stops_the_push_with_the_full_explanation(workspace: Workspace) -> None:
    workspace.hook()
    head = workspace.ai_migration(IRREVERSIBLE)
    pushed = workspace.push("feature")
    assert pushed.code != 0 and workspace.remote_has("refs/heads/feature") is None
    assert "x migrations-must-reverse [error]" in pushed.output
    assert "alembic/versions/0001_add_age.py:9" in pushed.output  # the evidence, with its line
    assert "git push --no-verify" in pushed.output and head[:12] in pushed.output


def test_control_the_reversible_change_pushes_quietly_leaving_review_and_ci_for_the_pull_request(
    workspace: Workspace,
) -> None:
    workspace.hook()
    head = workspace.ai_migration(REVERSIBLE)
    pushed = workspace.push("feature")
    assert pushed.code == 0, pushed.output
    assert workspace.remote_has("refs/heads/feature") == head
    lines = govgate_lines(pushed.output)
    assert len(lines) == 1 and lines[0].startswith("govgate: pass  feature -> feature  1 commit")
    assert "left for the pull request (reviewed, tested, rollout, rollback)" in lines[0]


def test_control_requiring_forge_evidence_now_stops_the_same_push(workspace: Workspace) -> None:
    workspace.hook("--require-forge-evidence")
    workspace.ai_migration(REVERSIBLE)
    pushed = workspace.push("feature")
    assert pushed.code != 0 and "x ai-risky-needs-human-review [error]" in pushed.output


def test_quiet_prints_nothing_on_a_pass(workspace: Workspace) -> None:
    workspace.hook("--quiet")
    workspace.ai_migration(REVERSIBLE)
    pushed = workspace.push("feature")
    assert pushed.code == 0 and govgate_lines(pushed.output) == []


def test_only_the_commits_the_remote_lacks_are_judged(workspace: Workspace) -> None:
    workspace.hook()
    # main moves on, then a branch starts from it: a new branch is judged from its merge base with main.
    workspace.commit("Main moves on", {"app/core.py": "X = 2\n"})
    workspace.git("push", "-q", "origin", "main", env={"GIT_DIR": str(workspace.path / ".git")})
    workspace.git("checkout", "-q", "-b", "topic")
    workspace.commit("Topic one", {"app/one.py": "ONE = 1\n"})
    workspace.commit("Topic two", {"app/two.py": "TWO = 2\n"})
    first = workspace.push("topic")
    assert first.code == 0 and "topic -> topic  2 commits" in first.output
    # An update of an existing branch: only the new commit.
    workspace.commit("Topic three", {"app/three.py": "THREE = 3\n"})
    second = workspace.push("topic")
    assert second.code == 0 and "topic -> topic  1 commit" in second.output


def test_a_deleted_branch_pushes_nothing_and_passes(workspace: Workspace) -> None:
    workspace.ai_migration(IRREVERSIBLE)
    workspace.git("push", "-q", "--no-verify", "origin", "feature")
    workspace.hook()
    pushed = workspace.push("--delete", "feature")
    assert pushed.code == 0 and workspace.remote_has("refs/heads/feature") is None
    assert "nothing to judge (deletes the branch" in pushed.output


def test_run_by_hand_it_judges_the_branch_against_its_upstream(workspace: Workspace) -> None:
    workspace.ai_migration(IRREVERSIBLE)
    proc = subprocess.run([str(GOVGATE), "pre-push"], cwd=workspace.path, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 1 and "x migrations-must-reverse" in proc.stdout
    assert subprocess.run([str(GOVGATE), "pre-push", "--help"], capture_output=True, check=False).returncode == 0


def test_malformed_hook_input_is_an_input_error(workspace: Workspace) -> None:
    proc = subprocess.run([str(GOVGATE), "pre-push", "origin", "url"], cwd=workspace.path, input="garbage\n",
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "pre-push input line 1" in proc.stderr and "Traceback" not in proc.stderr


def test_pre_commit_runs_the_hook_at_the_pre_push_stage(
    tmp_path: Path, workspace: Workspace, installed_action: InstalledAction,
) -> None:
    # pre-commit builds the hook's own environment with pip: offline, from the action's hash-checked wheels.
    wheels = next(iter(installed_action.cache.saved.values()))
    hooks_repo = tmp_path / "govgate-hooks"
    rev = snapshot(hooks_repo)
    (workspace.path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks_repo}\n    rev: {rev}\n    hooks: [{{id: govgate}}]\n", encoding="utf-8")
    workspace.git("add", ".pre-commit-config.yaml")
    workspace.git("commit", "-q", "-m", "Use pre-commit")
    workspace.git("push", "-q", "--no-verify", "origin", "main")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PIP_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(wheels), "VIRTUALENV_OVERRIDE_APP_DATA": str(tmp_path / "virtualenv")}
    pre_commit = Path(sys.executable).parent / "pre-commit"
    subprocess.run([str(pre_commit), "install", "--hook-type", "pre-push"], cwd=workspace.path, env=env, check=True,
                   capture_output=True)

    def push(*args: str) -> Pushed:
        proc = subprocess.run(["git", "push", "origin", *args], cwd=workspace.path, env=env, capture_output=True,
                              text=True, timeout=600, check=False)
        return Pushed(proc.returncode, proc.stdout + proc.stderr)

    workspace.ai_migration(IRREVERSIBLE)
    stopped = push("feature")
    assert stopped.code != 0, stopped.output
    assert "govgate" in stopped.output and "Failed" in stopped.output and "x migrations-must-reverse" in stopped.output
    assert workspace.remote_has("refs/heads/feature") is None
    workspace.commit("Make the migration reversible", {"alembic/versions/0001_add_age.py": MIGRATION.format(down=REVERSIBLE)})
    passed = push("feature")
    assert passed.code == 0, passed.output
    assert len(govgate_lines(passed.output)) == 1  # pre-commit's own "govgate....Passed" line, nothing else
    assert "Passed" in passed.output and "migrations-must-reverse" not in passed.output


def test_a_release_freeze_ends_before_the_push_when_its_tag_exists(workspace: Workspace) -> None:
    # The same reading of release tags as the pull request's gate: a slipped release holds the freeze,
    # the tag (dated when it was cut) ends it.
    workspace.commit("Freeze around v2", {".govgate.yml": (
        "version: 1\nextends: default\nrules: []\nfreezes:\n  windows:\n    - id: v2\n"
        "      release: {planned: 2026-07-01T12:00, tag: v2.0.0}\n      before: 48h\n      after: 1h\n")})
    workspace.git("push", "-q", "origin", "main")
    workspace.git("checkout", "-q", "-B", "feature", "main")
    workspace.commit("Tidy", {"app/core.py": "X = 2\n"})
    run = lambda: subprocess.run([str(GOVGATE), "pre-push"], cwd=workspace.path, capture_output=True,  # noqa: E731
                                 text=True, stdin=subprocess.DEVNULL, check=False)
    held = run()
    assert held.returncode == 1 and "v2" in held.stdout, held.stdout + held.stderr  # CONTROL: no tag yet
    workspace.git("tag", "-a", "v2.0.0", "-m", "2.0.0", "main", env={"GIT_COMMITTER_DATE": "2026-07-02T09:00:00+00:00"})
    released = run()
    assert released.returncode == 0, released.stdout + released.stderr
