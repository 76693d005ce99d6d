"""The GitLab CI template: well-formed, reports where the merge-request widget reads them, and its script,
run as the runner runs it, installs govgate in isolation and never executes a file of the merge request."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gitlab_case import case
from tests.gitlab_server import GitLabServer

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "examples" / "gitlab" / "govgate.gitlab-ci.yml"
PLANTED = ("json.py", "yaml.py", "click.py", "govgate/__main__.py", "govgate/__init__.py", "venv/__main__.py",
           "pip/__main__.py", "ensurepip/__main__.py")


def gate_job() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))["govgate"]


def test_the_job_runs_on_merge_request_pipelines_after_every_other_stage() -> None:
    job = gate_job()
    assert job["stage"] == ".post"
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"', "when": "always"}]
    assert job["variables"]["GIT_DEPTH"] == "50"


def test_reports_are_uploaded_where_the_widget_reads_them() -> None:
    job = gate_job()
    script = "\n".join(job["script"])
    reports = dict(re.findall(r'--report "(\w+)=\$CI_PROJECT_DIR/([^"]+)"', script))
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"] == {"codequality": reports["codequality"], "junit": reports["junit"]}
    assert job["artifacts"]["paths"] == [reports["json"]]


def test_every_interpreter_is_isolated_and_started_outside_the_checkout() -> None:
    script = gate_job()["script"]
    assert script[0] == "cd /tmp"
    for line in script:
        for call in re.findall(r"python3?\"?\s+(-\S+)?", line):
            assert call == "-I", line
    assert any('--repo "$CI_PROJECT_DIR"' in line and '"$GOVGATE_VENV/bin/govgate" check' in line for line in script)


@pytest.mark.parametrize("flag", ["--repo", "--source", "--format", "--report"])
def test_the_template_uses_only_real_flags(flag: str) -> None:
    from tests.conftest import run_cli

    assert flag in "\n".join(gate_job()["script"])
    assert flag in run_cli("check", "--help").stdout


def plant(marker: Path) -> dict[str, str]:
    """Modules a merge request could add at its root: each records that it ran."""
    code = f"open({str(marker)!r}, 'a').write(__file__ + '\\n')\n"
    return dict.fromkeys(PLANTED, code)


def run_script(job: dict[str, Any], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The job's script as the runner runs it: one shell, stopping at the first failing line."""
    script = "set -eo pipefail\n" + "\n".join(job["script"])
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_the_script_judges_the_merge_request_and_runs_nothing_from_it(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    marker = tmp_path / "planted-code-ran"
    mr = case(tmp_path, gitlab_server, change=plant(marker))
    mr.approved_by = []  # unapproved: the gate must fail, whatever the planted files would say
    mr.serve()
    job = gate_job()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **job["variables"], **mr.env(),
           "CI_PROJECT_DIR": str(mr.builder.path), "GOVGATE_PIP_SPEC": str(ROOT), "GOVGATE_VENV": str(tmp_path / "venv")}
    result = run_script(job, mr.builder.path, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "govgate: FAIL  !7" in result.stdout
    assert not marker.exists(), marker.read_text(encoding="utf-8")
    issues = json.loads((mr.builder.path / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    assert [issue["check_name"] for issue in issues] == ["human-approval-on-head"]
    assert 'name="human-approval-on-head"' in (mr.builder.path / "govgate-junit.xml").read_text(encoding="utf-8")
    assert json.loads((mr.builder.path / "govgate.json").read_text(encoding="utf-8"))["verdict"] == "fail"
    # The control: the same files, imported the way an interpreter started in the checkout would, do run.
    subprocess.run(["python3", "-c", "import json"], cwd=mr.builder.path, env={"PATH": os.environ["PATH"]}, check=True)
    assert marker.exists()
