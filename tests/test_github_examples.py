"""The shipped examples work: policies validate, workflows are well-formed and use only real flags."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted((ROOT / "examples" / "policies").glob("*.yml"))
WORKFLOWS = {p.name: p for p in sorted((ROOT / "examples" / "workflows").glob("*.yml"))}


def workflow(name: str) -> dict:
    data = yaml.safe_load(WORKFLOWS[name].read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(data: dict) -> list[dict]:
    return [step for job in data["jobs"].values() for step in job["steps"]]


def test_there_are_examples() -> None:
    assert len(POLICIES) >= 3
    assert set(WORKFLOWS) >= {"govgate-pull-request.yml", "govgate-merge-queue.yml", "govgate-nightly-audit.yml",
                              "govgate-org-audit.yml"}


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_every_example_policy_validates(policy: Path) -> None:
    result = run_cli("policy", "validate", str(policy))
    assert result.code == 0, result.stderr
    assert "valid" in result.stdout


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_workflows_never_paste_expressions_into_scripts(name: str) -> None:
    for step in steps(workflow(name)):
        assert "${{" not in step.get("run", ""), f"{name}: a run script pastes an expression"


def test_pull_request_workflow_keeps_the_required_job_read_only_and_uploads_sarif_elsewhere() -> None:
    # Fork PRs get a read-only token: an upload needing security-events: write inside the required
    # job would fail it. The required job is read-only; code scanning is a separate job, skipped for forks.
    data = workflow("govgate-pull-request.yml")
    assert set(data["on"]) == {"pull_request", "pull_request_review"}
    assert data["permissions"] == {}
    gate_job, scan_job = data["jobs"]["govgate"], data["jobs"]["code-scanning"]
    assert gate_job["permissions"] == {"contents": "read", "pull-requests": "read", "checks": "read", "statuses": "read",
                                  "actions": "read"}
    assert scan_job["permissions"] == {"security-events": "write"} and scan_job["needs"] == "govgate"
    assert "github.event.pull_request.head.repo.full_name == github.repository" in scan_job["if"]
    gate = next(s for s in gate_job["steps"] if s.get("uses", "").startswith("govgate/govgate@"))
    keep = next(s for s in gate_job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert keep["with"]["path"] == gate["with"]["sarif"] and "always()" in keep["if"]
    upload = next(s for s in scan_job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == gate["with"]["sarif"]


def test_merge_queue_workflow_reports_on_pull_requests_too() -> None:
    data = workflow("govgate-merge-queue.yml")
    assert set(data["on"]) == {"pull_request", "merge_group"}
    assert data["on"]["merge_group"] == {"types": ["checks_requested"]}


def test_nightly_audit_fetches_all_history_and_uses_real_audit_flags() -> None:
    data = workflow("govgate-nightly-audit.yml")
    assert "schedule" in data["on"]
    checkout = next(s for s in steps(data) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    commands = [shlex.split(line) for s in steps(data) for line in s.get("run", "").splitlines()
                if line.strip().startswith("govgate audit")]
    assert commands and any("html" in c for c in commands)
    help_text = run_cli("audit", "--help").stdout
    for command in commands:
        for flag in (arg for arg in command if arg.startswith("--")):
            assert re.search(rf"(^|\s){re.escape(flag)}\b", help_text), f"govgate audit has no {flag}"
    upload = next(s for s in steps(data) if s.get("uses", "").startswith("actions/upload-artifact"))
    assert "govgate-audit.html" in upload["with"]["path"]
