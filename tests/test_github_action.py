"""action.yml run the way the Actions runner runs a composite action, with hostile PR data.

See tests/action_runner.py for how the runner is played. The install steps run for real once per
session (``installed_action``); these tests reuse that venv.
"""

from __future__ import annotations

import copy
from pathlib import Path

from govgate.formats.markdown import md
from tests.action_runner import ROOT, InstalledAction, load_action, run_action
from tests.github_case import TOKEN, actions_env, pr_repo, pull_request_event, serve_evidence, write_event
from tests.github_server import GitHubServer

HOSTILE_TITLE = '"; touch pwned_title; echo "$(id)" `touch pwned_backtick` $(touch pwned_subshell); "'
HOSTILE_BODY = "Body `touch pwned_body` $(touch pwned_body2) \"; touch pwned_body3; \" ${IFS}$(id) <img src=x>"
HOSTILE_BRANCH = 'feature/$(touch${IFS}pwned_branch)";touch pwned_branch2;"'


def runner_env(base: dict[str, str], workspace: Path) -> dict[str, str]:
    return {**base, "GITHUB_WORKSPACE": str(workspace), "GITHUB_HEAD_REF": HOSTILE_BRANCH, "GITHUB_BASE_REF": "main"}


def pwned(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if "pwned" in p.name and "$(" not in p.name]


def test_action_scripts_never_paste_expressions_and_every_run_step_has_a_shell() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    run_steps = [step for step in action["runs"]["steps"] if "run" in step]
    assert [s["id"] for s in run_steps] == ["prepare", "install", "check"]
    for step in run_steps:
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], f"step {step['id']} pastes an expression into its script"
    assert set(action["inputs"]) >= {"policy", "format", "fail-on", "github-token", "sarif"}
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert set(action["outputs"]) == {"verdict", "ai-assisted", "risk-level", "result"}


def test_hostile_pr_title_body_and_branch_run_nothing(
    tmp_path: Path, github_server: GitHubServer, installed_action: InstalledAction,
) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head, reviews=[])  # no approval: the gate fails
    event = pull_request_event(base, head, title=HOSTILE_TITLE, body=HOSTILE_BODY)
    event["pull_request"]["head"]["ref"] = HOSTILE_BRANCH
    env = runner_env(actions_env(github_server, "pull_request", write_event(tmp_path, event)), builder.path)
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    sarif_path = "reports/$(touch pwned_input).sarif"  # even an input is data, never code
    run = run_action(builder.path, env, {"sarif": sarif_path}, temp, installed=installed_action)

    assert run.code == 1, run.stderr
    assert pwned(tmp_path) == [] and pwned(Path.cwd()) == []
    assert "uid=" not in run.stdout + run.stderr + run.summary
    assert (builder.path / sarif_path).is_file()  # written under its literal name
    assert run.outputs["verdict"] == "fail" and run.outputs["risk-level"] in ("low", "medium", "high")
    assert run.outputs["ai-assisted"] in ("true", "false")
    assert Path(run.outputs["result"]).is_file()
    # The hostile text arrived as data: escaped in the summary, flattened in the log.
    assert md(HOSTILE_TITLE) in run.summary
    assert "$(touch pwned_subshell)" in run.stdout.splitlines()[-1]
    assert "::error title=govgate%3A human-approval-on-head::" in run.stdout
    assert TOKEN not in run.stdout + run.stderr + run.summary


def test_a_passing_pull_request_sets_outputs_and_exits_0(
    tmp_path: Path, github_server: GitHubServer, installed_action: InstalledAction,
) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head)
    env = runner_env(actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head))),
                     builder.path)
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    run = run_action(builder.path, env, {}, temp, installed=installed_action)
    assert run.code == 0, run.stderr + run.stdout
    assert run.outputs["verdict"] == "pass"
    assert "### ✅ govgate: PASS" in run.summary


def test_an_error_exits_2_and_a_tag_deletion_is_skipped(tmp_path: Path, installed_action: InstalledAction) -> None:
    builder, base, head = pr_repo(tmp_path)
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    env = runner_env(actions_env(None, "pull_request", write_event(tmp_path, pull_request_event(base, head))), builder.path)
    run = run_action(builder.path, env, {"policy": "no-such-preset"}, temp, installed=installed_action)
    assert run.code == 2 and "unknown preset" in run.stderr
    assert run.outputs["verdict"] == ""

    tag_event = tmp_path / "push.json"
    tag_event.write_bytes((ROOT / "tests/data/github-events/push.payload.json").read_bytes())
    run = run_action(builder.path, runner_env(actions_env(None, "push", tag_event), builder.path), {}, temp, installed=installed_action)
    assert run.code == 0 and run.outputs["verdict"] == "skipped"
    assert "nothing to judge" in run.stderr


def test_the_harness_catches_an_injection_when_a_script_pastes_an_expression(
    tmp_path: Path, github_server: GitHubServer, installed_action: InstalledAction,
) -> None:
    # Control: the same run with a step that pastes ${{ github.event.pull_request.title }} into its
    # script (the documented exploit) does execute the title. So the test above can fail.
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head)
    event = pull_request_event(base, head, title=HOSTILE_TITLE)
    env = runner_env(actions_env(github_server, "pull_request", write_event(tmp_path, event)), builder.path)
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    vulnerable = copy.deepcopy(load_action())
    check = next(s for s in vulnerable["runs"]["steps"] if s["id"] == "check")
    check["run"] = 'echo "Judging: ${{ github.event.pull_request.title }}"\n' + check["run"]
    run_action(builder.path, env, {}, temp, action=vulnerable, installed=installed_action)
    assert {p.name for p in pwned(tmp_path)} >= {"pwned_title", "pwned_backtick", "pwned_subshell"}
