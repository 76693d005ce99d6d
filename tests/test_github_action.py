"""action.yml run the way the Actions runner runs a composite action, with hostile PR data.

The runner evaluates ``${{ }}`` expressions in a step's ``env:`` to plain strings, writes the
``run`` script to a file and executes ``bash --noprofile --norc -eo pipefail {0}`` with that
environment; outputs come back through the $GITHUB_OUTPUT file. This test does the same. The
install step is the one thing replaced: instead of ``pip install "$GITHUB_ACTION_PATH"`` into a
fresh venv (network, a minute), it points at the interpreter that already has govgate installed.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from govgate.formats.markdown import md
from tests.github_case import TOKEN, actions_env, pr_repo, pull_request_event, serve_evidence, write_event
from tests.github_server import GitHubServer

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
HOSTILE_TITLE = '"; touch pwned_title; echo "$(id)" `touch pwned_backtick` $(touch pwned_subshell); "'
HOSTILE_BODY = "Body `touch pwned_body` $(touch pwned_body2) \"; touch pwned_body3; \" ${IFS}$(id) <img src=x>"
HOSTILE_BRANCH = 'feature/$(touch${IFS}pwned_branch)";touch pwned_branch2;"'


@dataclass
class ActionRun:
    code: int
    outputs: dict[str, str]
    stdout: str
    stderr: str
    summary: str


def load_action() -> dict:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


def evaluate(text: str, context: Mapping[str, str]) -> str:
    """Replace each ``${{ expr }}`` by its value, as the runner does (only the names action.yml uses)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in context:
            raise AssertionError(f"action.yml uses an expression this harness does not know: {name}")
        return context[name]

    return EXPRESSION.sub(value, text)


def parse_output_file(path: Path) -> dict[str, str]:
    """name=value lines and name<<DELIMITER ... DELIMITER blocks, as the runner reads them."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1: end])
            i = end + 1
            continue
        name, _, val = line.partition("=")
        outputs[name] = val
        i += 1
    return outputs


def run_action(workspace: Path, runner_env: dict[str, str], inputs: dict[str, str], temp: Path,
               action: dict | None = None) -> ActionRun:
    action = action or load_action()
    given = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    given.update(inputs)
    event = json.loads(Path(runner_env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    pull = event.get("pull_request") or {}
    context = {"github.token": runner_env["GITHUB_TOKEN"], "github.action_path": str(ROOT),
               "github.event.pull_request.title": str(pull.get("title", "")),
               "github.event.pull_request.body": str(pull.get("body", "")),
               "github.head_ref": runner_env.get("GITHUB_HEAD_REF", "")}
    context["inputs.github-token"] = evaluate(given["github-token"], context)
    context.update({f"inputs.{k}": v for k, v in given.items() if k != "github-token"})
    step_summary = temp / "step_summary.md"
    stdout, stderr, code = "", "", 0
    for step in action["runs"]["steps"]:
        output_file = temp / f"output_{step['id']}"
        output_file.write_text("")
        env = {**runner_env, "GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(step_summary),
               "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(temp)}
        env.update({k: evaluate(str(v), context) for k, v in (step.get("env") or {}).items()})
        if step["id"] == "install":
            output_file.write_text(f"python={sys.executable}\n")  # the already-installed govgate
        else:
            script = temp / f"{step['id']}.sh"
            script.write_text(evaluate(step["run"], context), encoding="utf-8")  # the runner expands these too
            cwd = workspace / evaluate(step.get("working-directory", "."), context)
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=120, check=False)
            stdout, stderr, code = stdout + proc.stdout, stderr + proc.stderr, proc.returncode
        for name, val in parse_output_file(output_file).items():
            context[f"steps.{step['id']}.outputs.{name}"] = val
        if code != 0:
            break
    outputs = {}
    for name, spec in action["outputs"].items():
        outputs[name] = EXPRESSION.sub(lambda m: context.get(m.group(1), ""), spec["value"])
    summary = step_summary.read_text(encoding="utf-8") if step_summary.exists() else ""
    return ActionRun(code, outputs, stdout, stderr, summary)


def runner_env(base: dict[str, str], workspace: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")}
    return {**keep, **base, "GITHUB_WORKSPACE": str(workspace), "GITHUB_HEAD_REF": HOSTILE_BRANCH,
            "GITHUB_BASE_REF": "main"}


def pwned(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if "pwned" in p.name and "$(" not in p.name]


def test_action_scripts_never_paste_expressions_and_every_run_step_has_a_shell() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], f"step {step['id']} pastes an expression into its script"
    assert set(action["inputs"]) >= {"policy", "format", "fail-on", "github-token", "sarif"}
    assert action["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert set(action["outputs"]) == {"verdict", "ai-assisted", "risk-level", "result"}
    install = next(s for s in action["runs"]["steps"] if s["id"] == "install")["run"]
    assert 'pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"' in install


def test_hostile_pr_title_body_and_branch_run_nothing(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head, reviews=[])  # no approval: the gate fails
    event = pull_request_event(base, head, title=HOSTILE_TITLE, body=HOSTILE_BODY)
    event["pull_request"]["head"]["ref"] = HOSTILE_BRANCH
    env = runner_env(actions_env(github_server, "pull_request", write_event(tmp_path, event)), builder.path)
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    sarif_path = "reports/$(touch pwned_input).sarif"  # even an input is data, never code
    run = run_action(builder.path, env, {"sarif": sarif_path}, temp)

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


def test_a_passing_pull_request_sets_outputs_and_exits_0(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head)
    env = runner_env(actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head))),
                     builder.path)
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    run = run_action(builder.path, env, {}, temp)
    assert run.code == 0, run.stderr + run.stdout
    assert run.outputs["verdict"] == "pass"
    assert "### ✅ govgate: PASS" in run.summary


def test_an_error_exits_2_and_a_tag_deletion_is_skipped(tmp_path: Path) -> None:
    builder, base, head = pr_repo(tmp_path)
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    env = runner_env(actions_env(None, "pull_request", write_event(tmp_path, pull_request_event(base, head))), builder.path)
    run = run_action(builder.path, env, {"policy": "no-such-preset"}, temp)
    assert run.code == 2 and "unknown preset" in run.stderr
    assert run.outputs["verdict"] == ""

    tag_event = tmp_path / "push.json"
    tag_event.write_bytes((ROOT / "tests/data/github-events/push.payload.json").read_bytes())
    run = run_action(builder.path, runner_env(actions_env(None, "push", tag_event), builder.path), {}, temp)
    assert run.code == 0 and run.outputs["verdict"] == "skipped"
    assert "nothing to judge" in run.stderr


def test_the_harness_catches_an_injection_when_a_script_pastes_an_expression(
    tmp_path: Path, github_server: GitHubServer,
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
    run_action(builder.path, env, {}, temp, action=vulnerable)
    assert {p.name for p in pwned(tmp_path)} >= {"pwned_title", "pwned_backtick", "pwned_subshell"}
