"""The organisation-audit workflow example: least privilege, pinned actions, and scripts that really work.

The matrix job's and the report job's scripts are run with bash the way the runner runs them
(matrix values through env), on real generated repositories, with the artifact hand-over done by
copying the files; the report they produce must cover every repository of the matrix.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.report_support import busy_history
from tests.test_github_examples import WORKFLOWS, steps, workflow

NAME = "govgate-org-audit.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def test_actions_are_pinned_by_full_sha_with_the_version_in_a_comment() -> None:
    text = WORKFLOWS[NAME].read_text(encoding="utf-8")
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for action, comment in uses:
        assert PINNED.match(action), action
        assert re.fullmatch(r"\s+# v\d+(\.\d+)*", comment), f"{action}: no version comment"


def test_least_privilege_and_no_kept_credentials() -> None:
    data = workflow(NAME)
    assert data["permissions"] == {}
    for name, job in data["jobs"].items():
        assert set(job["permissions"].items()) <= {("contents", "read")}, name
    for step in steps(data):
        if step.get("uses", "").startswith("actions/checkout"):
            assert step["with"]["persist-credentials"] is False and step["with"]["fetch-depth"] == 0
        assert "${{" not in step.get("run", ""), "a script pastes an expression"


def _script(job: dict, name: str) -> str:
    return next(s["run"] for s in job["steps"] if s.get("name") == name)


def test_the_matrix_audits_and_the_report_job_combines_them(tmp_path: Path) -> None:
    data = workflow(NAME)
    audit_job, report_job = data["jobs"]["audit"], data["jobs"]["report"]
    repositories = audit_job["strategy"]["matrix"]["repository"]
    assert audit_job["strategy"]["fail-fast"] is False and report_job["needs"] == "audit"
    bin_dir = str(Path(sys.executable).parent)  # where pip put the govgate command
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    audits = tmp_path / "report" / "audits"
    audits.mkdir(parents=True)
    for index, repository in enumerate(repositories):
        job_dir = tmp_path / f"job{index}"
        busy_history(job_dir / "target", changes=40, seed=20 + index, remote=f"https://github.com/{repository}.git")
        result = subprocess.run(["bash", "-e", "-c", _script(audit_job, "Audit the last 90 days")], cwd=job_dir,
                                env={**env, "REPOSITORY": repository, "GITHUB_TOKEN": ""}, capture_output=True, text=True,
                                check=False)
        # No GitHub here: --github fails for want of a token. Run the same command offline instead, as a job without
        # network would have to; the flags, paths and file names are the workflow's own.
        assert "GITHUB_TOKEN" in result.stderr, result.stderr
        offline = _script(audit_job, "Audit the last 90 days").replace(" --github", "").replace('"90 days ago"', '"20 years ago"')
        subprocess.run(["bash", "-e", "-c", offline], cwd=job_dir, env={**env, "REPOSITORY": repository}, check=True)
        for file in (job_dir / "audit").iterdir():  # upload-artifact, then download-artifact with merge-multiple
            shutil.copy(file, audits / file.name)
    summary = tmp_path / "step-summary.md"
    subprocess.run(["bash", "-e", "-c", _script(report_job, "Combine the audits")], cwd=audits.parent,
                   env={**env, "GITHUB_STEP_SUMMARY": str(summary)}, check=True)
    report = json.loads((audits.parent / "govgate-org-report.json").read_text())
    assert sorted(r["repository"] for r in report["repositories"]) == sorted(repositories)
    assert (audits.parent / "govgate-org-report.html").read_text().startswith("<!DOCTYPE html>")
    assert all(name in summary.read_text() for name in repositories)
