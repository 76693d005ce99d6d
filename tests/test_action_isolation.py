"""The action never executes code from the checkout it judges.

The checkout belongs to the pull request. Python puts the current directory first on sys.path for
``python -m ...``, ``python -c`` and ``python -``, so a PR that adds ``json.py``, ``yaml.py``,
``click.py``, ``venv/``, ``pip/`` or ``govgate/`` at its root would run its own code, with the token
in the environment, in any step that starts Python there. Here a workspace holds all of those
files, each recording that it ran (and whether the token was in reach) before stepping aside so
the run goes on. The real action, install steps included, must fail the unapproved change and run
none of them; the same harness running the action the old way (interpreters not isolated, started
in the checkout, ``python -m govgate``) catches every one, so the first test cannot pass vacuously.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.action_runner import (
    INSTALL_STEPS,
    ActionRun,
    ActionsCache,
    InstalledAction,
    install_only,
    load_action,
    run_action,
)
from tests.github_case import actions_env, pr_repo, pull_request_event, serve_evidence, write_event
from tests.github_server import serving

# A module a PR plants: record that it ran, then load the real module in its place (the trick the
# import system documents: a module may replace itself in sys.modules), so the run carries on.
SHADOW = '''\
import importlib, os, sys
_root = os.path.dirname(os.path.abspath(__file__))
if os.path.basename(__file__) == "__init__.py":
    _root = os.path.dirname(_root)
with open(os.path.join({markers!r}, {marker!r}), "w") as _out:
    _out.write("token" if os.environ.get("GITHUB_TOKEN") else "no token")
_saved = list(sys.path)
sys.path[:] = [p for p in _saved if os.path.abspath(p or os.curdir) != _root]
del sys.modules[__name__]
try:
    _real = importlib.import_module(__name__)
finally:
    sys.path[:] = _saved
sys.modules[__name__] = _real
'''
# What the attacker would really run: forge a pass.
FORGE = '''\
import os, sys
with open(os.path.join({markers!r}, {marker!r}), "w") as _out:
    _out.write("token" if os.environ.get("GITHUB_TOKEN") else "no token")
print("govgate: PASS")
sys.exit(0)
'''
SHADOWS = ("json.py", "yaml.py", "click.py", "venv/__init__.py", "pip/__init__.py", "govgate/__init__.py")
FORGERS = ("venv/__main__.py", "pip/__main__.py", "govgate/__main__.py", "sitecustomize.py", "usercustomize.py")


def plant(workspace: Path, markers: Path) -> None:
    for name in SHADOWS + FORGERS:
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        template = SHADOW if name in SHADOWS else FORGE
        path.write_text(template.format(markers=str(markers), marker=name.replace("/", "_")), encoding="utf-8")


def old_way(action: dict) -> dict:
    """The action as it was: interpreters not isolated, started in the checkout, govgate as a module."""
    edits = [
        (r" -I ", " "),  # every interpreter isolated
        (r"cd -- ", ": cd -- "),  # every step moves out of the checkout (now a no-op)
        (r'"\$GOVGATE_BIN"', '"$GOVGATE_PYTHON" -m govgate'),  # the installed entry point
    ]
    steps = []
    for step in action["runs"]["steps"]:
        step = dict(step)
        if "run" in step:
            for pattern, replacement in edits:
                step["run"] = re.sub(pattern, replacement, step["run"])
            step["env"] = {k: v for k, v in (step.get("env") or {}).items() if k != "PYTHONSAFEPATH"}
        steps.append(step)
    for pattern, _ in edits:  # each edit must have found something to undo, or this is no control
        assert any(re.search(pattern, s.get("run", "")) for s in action["runs"]["steps"]), pattern
    return {**action, "runs": {**action["runs"], "steps": steps}}


def judge_hostile_checkout(tmp_path: Path, installed: InstalledAction, action: dict) -> tuple[ActionRun, dict[str, str]]:
    builder, base, head = pr_repo(tmp_path)
    markers = tmp_path / "markers"
    markers.mkdir()
    plant(builder.path, markers)
    temp = tmp_path / "runner_temp"
    temp.mkdir()
    with serving() as server:
        serve_evidence(server, head, reviews=[])  # nobody approved: the gate must fail
        event = write_event(tmp_path, pull_request_event(base, head))
        env = {**actions_env(server, "pull_request", event), "GITHUB_WORKSPACE": str(builder.path)}
        cache = ActionsCache(tmp_path / "actions-cache", dict(installed.cache.saved))  # warm, as on a second run
        run = run_action(builder.path, env, {}, temp, action=action, cache=cache)
    ran = {path.name: path.read_text() for path in markers.iterdir()}
    return run, ran


def test_planted_modules_never_run_and_the_unapproved_change_fails(
    tmp_path: Path, installed_action: InstalledAction,
) -> None:
    run, ran = judge_hostile_checkout(tmp_path, installed_action, load_action())
    assert set(INSTALL_STEPS) - {"save"} <= set(run.steps_run)  # a warm cache: installed offline, nothing saved
    assert ran == {}, f"code from the checkout ran: {ran}"
    assert run.code == 1, run.stdout + run.stderr
    assert run.outputs["verdict"] == "fail"
    result = json.loads(Path(run.outputs["result"]).read_text(encoding="utf-8"))
    assert any(rule["status"] == "fail" for rule in result["rules"])
    assert "PASS" not in run.stdout


def test_control_the_same_harness_catches_the_planted_code_when_run_the_old_way(
    tmp_path: Path, installed_action: InstalledAction,
) -> None:
    run, ran = judge_hostile_checkout(tmp_path, installed_action, old_way(load_action()))
    shadows = {name.replace("/", "_") for name in SHADOWS}
    assert shadows <= set(ran), f"only {sorted(ran)} ran: {run.stdout}{run.stderr}"
    assert ran["govgate___init__.py"] == "token"  # the planted code had the token in reach
    assert run.code == 1  # the shadows step aside; a forger in their place would print PASS and exit 0


def test_a_cold_cache_downloads_and_saves_and_a_warm_one_installs_offline(
    tmp_path: Path, installed_action: InstalledAction,
) -> None:
    saved = installed_action.cache.saved
    assert len(saved) == 1  # the session's cold run saved one entry ...
    key, entry = next(iter(saved.items()))
    assert key.startswith("govgate-wheels-") and sorted(p.suffix for p in entry.iterdir()) == [".whl"] * len(list(entry.iterdir()))
    # ... and a tampered entry is refused by its hash and downloaded again, never installed.
    poisoned = tmp_path / "poisoned"
    poisoned.mkdir()
    for wheel in entry.iterdir():
        (poisoned / wheel.name).write_bytes(wheel.read_bytes() + (b"\0" if wheel.name.startswith("click-") else b""))
    cache = ActionsCache(tmp_path / "actions-cache", {key: poisoned})
    workspace, temp = tmp_path / "workspace", tmp_path / "runner_temp"
    workspace.mkdir()
    temp.mkdir()
    event = write_event(tmp_path, {})
    run = run_action(workspace, {"GITHUB_EVENT_PATH": str(event), "GITHUB_TOKEN": "unused"}, {}, temp,
                     action=install_only(load_action()), cache=cache)
    assert run.code == 0, run.stdout + run.stderr
    assert "cached wheels did not match" in run.stdout
    assert "save" not in run.steps_run  # the key existed: nothing to save
    govgate = temp / "govgate-action" / "venv" / "bin" / "govgate"
    assert govgate.is_file()


def test_windows_runners_fail_with_one_clear_line(tmp_path: Path) -> None:
    workspace, temp = tmp_path / "workspace", tmp_path / "runner_temp"
    workspace.mkdir()
    temp.mkdir()
    event = write_event(tmp_path, {})
    run = run_action(workspace, {"GITHUB_EVENT_PATH": str(event), "GITHUB_TOKEN": "unused", "RUNNER_OS": "Windows"}, {},
                     temp, action=install_only(load_action()))
    assert run.code == 2 and run.steps_run == ["prepare"]
    lines = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("::error title=govgate::") and "ubuntu-latest" in lines[0]

