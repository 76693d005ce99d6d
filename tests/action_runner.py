"""Run action.yml the way the Actions runner runs a composite action.

The runner evaluates ``${{ }}`` expressions in a step's ``env:``, ``with:`` and ``if:`` to plain
strings, writes a ``run`` script to a file and executes ``bash --noprofile --norc -eo pipefail
{0}`` with that environment, in GITHUB_WORKSPACE (the checkout) unless the step names another
directory; outputs come back through the $GITHUB_OUTPUT file. This module does the same.

The two ``uses:`` steps (actions/cache restore and save) are played by ``ActionsCache``, a stand-in
for GitHub's cache service that keeps directories by key, as the fake GitHub API stands in for the
REST API. The install step really runs: a venv, pip, hash-checked wheels. ``installed_action()``
runs it once per session in a clean workspace (a cold cache: the wheels are downloaded), and
tests that are not about installing reuse that venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONDITION = re.compile(r"^(?P<name>[\w.-]+)\s*(?P<op>==|!=)\s*'(?P<value>[^']*)'$")
INSTALL_STEPS = ("prepare", "restore", "install", "save")
CACHE_ACTIONS = ("actions/cache/restore@", "actions/cache/save@")


@dataclass
class ActionRun:
    code: int
    outputs: dict[str, str]
    stdout: str
    stderr: str
    summary: str
    steps_run: list[str] = field(default_factory=list)


@dataclass
class ActionsCache:
    """GitHub's cache service: a directory saved under a key, restored on an exact key match."""

    root: Path
    saved: dict[str, Path] = field(default_factory=dict)

    def restore(self, key: str, path: Path) -> bool:
        if key not in self.saved:
            return False
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(self.saved[key], path, symlinks=True)
        return True

    def save(self, key: str, path: Path) -> None:
        if key in self.saved or not path.is_dir():
            return  # the real service refuses to overwrite a key, and warns when the path is missing
        target = self.root / f"entry{len(self.saved)}"
        shutil.copytree(path, target, symlinks=True)
        self.saved[key] = target


@dataclass
class InstalledAction:
    """Outputs of a real run of the install steps, for tests that are not about installing."""

    cache: ActionsCache
    outputs: dict[str, str]  # steps.<id>.outputs.<name> -> value


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


def condition_holds(condition: str, context: Mapping[str, str]) -> bool:
    """``if:`` of the forms action.yml uses: ``name == 'literal'`` / ``name != 'literal'``; else refuse."""
    match = CONDITION.match(EXPRESSION.sub(lambda m: m.group(1), condition).strip())
    if not match:
        raise AssertionError(f"action.yml uses a condition this harness does not know: {condition}")
    equal = context.get(match["name"], "") == match["value"]
    return equal if match["op"] == "==" else not equal


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


def runner_base_env(workspace: Path, temp: Path) -> dict[str, str]:
    """What every step of the job sees besides the event variables."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")}
    keep.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})  # this machine's index settings
    return {**keep, "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(temp), "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64", "GITHUB_ACTION_PATH": str(ROOT)}


def run_action(workspace: Path, runner_env: dict[str, str], inputs: dict[str, str], temp: Path, *,
               action: dict | None = None, cache: ActionsCache | None = None,
               installed: InstalledAction | None = None, check_run_id: str = "") -> ActionRun:
    """Run every step of the action; with ``installed``, the install steps' outputs are taken from it."""
    action = action or load_action()
    given = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    given.update(inputs)
    event = json.loads(Path(runner_env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    pull = event.get("pull_request") or {}
    context = {"github.token": runner_env["GITHUB_TOKEN"], "github.action_path": str(ROOT),
               "github.event.pull_request.title": str(pull.get("title", "")),
               "github.event.pull_request.body": str(pull.get("body", "")),
               "github.head_ref": runner_env.get("GITHUB_HEAD_REF", ""), "job.check_run_id": check_run_id}
    context["inputs.github-token"] = evaluate(given["github-token"], context)
    context.update({f"inputs.{k}": v for k, v in given.items() if k != "github-token"})
    if installed is not None:
        context.update(installed.outputs)
        home = temp / "govgate-action"  # each run writes its result into a directory of its own
        home.mkdir(parents=True, exist_ok=True)
        context["steps.prepare.outputs.home"] = str(home)
    cache = cache or (installed.cache if installed else ActionsCache(temp / "actions-cache"))
    cache.root.mkdir(parents=True, exist_ok=True)
    step_summary = temp / "step_summary.md"
    run = ActionRun(0, {}, "", "", "")
    base_env = {**runner_base_env(workspace, temp), **runner_env}
    for step in action["runs"]["steps"]:
        if installed is not None and step["id"] in INSTALL_STEPS:
            continue
        if "if" in step and not condition_holds(str(step["if"]), context):
            continue
        run.steps_run.append(step["id"])
        output_file = temp / f"output_{step['id']}"
        output_file.write_text("")
        if "uses" in step:
            _run_cache_step(step, context, cache, output_file)
        else:
            env = {**base_env, "GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(step_summary)}
            env.update({k: evaluate(str(v), context) for k, v in (step.get("env") or {}).items()})
            script = temp / f"{step['id']}.sh"
            script.write_text(evaluate(step["run"], context), encoding="utf-8")  # the runner expands these too
            cwd = workspace / evaluate(step.get("working-directory", "."), context)
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=300, check=False)
            run.stdout, run.stderr, run.code = run.stdout + proc.stdout, run.stderr + proc.stderr, proc.returncode
        for name, val in parse_output_file(output_file).items():
            context[f"steps.{step['id']}.outputs.{name}"] = val
        if run.code != 0:
            break
    for name, spec in action["outputs"].items():
        run.outputs[name] = EXPRESSION.sub(lambda m: context.get(m.group(1), ""), spec["value"])
    run.summary = step_summary.read_text(encoding="utf-8") if step_summary.exists() else ""
    return run


def _run_cache_step(step: dict, context: dict[str, str], cache: ActionsCache, output_file: Path) -> None:
    uses = str(step["uses"])
    if not uses.startswith(CACHE_ACTIONS):
        raise AssertionError(f"action.yml uses an action this harness does not know: {uses}")
    with_ = {k: evaluate(str(v), context) for k, v in (step.get("with") or {}).items()}
    path, key = Path(with_["path"]), with_["key"]
    if uses.startswith("actions/cache/restore@"):
        hit = cache.restore(key, path)
        output_file.write_text(f"cache-hit={'true' if hit else 'false'}\ncache-primary-key={key}\n")
    else:
        cache.save(key, path)


def install_only(action: dict) -> dict:
    """The action cut down to its install steps."""
    action = {**action, "outputs": {}}
    action["runs"] = {**action["runs"], "steps": [s for s in action["runs"]["steps"] if s["id"] in INSTALL_STEPS]}
    return action


def installed_action(root: Path) -> InstalledAction:
    """Run the install steps for real in an empty workspace, with an empty cache (downloads the wheels)."""
    workspace, temp = root / "workspace", root / "runner_temp"
    workspace.mkdir(parents=True)
    temp.mkdir()
    event = root / "event.json"
    event.write_text("{}", encoding="utf-8")
    env = {"GITHUB_EVENT_PATH": str(event), "GITHUB_TOKEN": "unused"}
    cache = ActionsCache(root / "actions-cache")
    run = run_action(workspace, env, {}, temp, action=install_only(load_action()), cache=cache)
    if run.code != 0:
        raise AssertionError(f"installing the action failed:\n{run.stdout}\n{run.stderr}")
    outputs = {}
    for step_id in ("prepare", "install"):
        for name, val in parse_output_file(temp / f"output_{step_id}").items():
            outputs[f"steps.{step_id}.outputs.{name}"] = val
    return InstalledAction(cache, outputs)
