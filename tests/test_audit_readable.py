"""The audit report reads right: every figure says what it counts, in every format.

One busy generated history (a few hundred changes over a year on a GitHub remote, then a merge that
brings in 120 commits, then a month of four changes) is audited once per format; each test checks
a misreading the report used to invite, and that the words agree with the JSON numbers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from govgate.audit.thresholds import LARGE_MERGE_COMMITS, MIN_MONTH_CHANGES
from tests.audit_support import audit, audit_json, git
from tests.conftest import RepoBuilder
from tests.report_support import LARGE_MERGE, SMALL_MONTH_CHANGES, BusyHistory, busy_history
from tests.test_audit_github import GraphQLServer, _pull


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> BusyHistory:
    return busy_history(tmp_path_factory.mktemp("busy") / "widgets")


@pytest.fixture(scope="module")
def outputs(busy: BusyHistory) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in ("text", "markdown", "html", "csv"):
        result = audit(busy.path, "--format", name)
        assert result.code == 0, result.stderr
        found[name] = result.stdout
    found["changes"], found["summary"] = audit_json(busy.path)
    return found


SUMMARY_FORMATS = ("text", "markdown", "html")


def test_the_title_names_the_repository_and_the_range(busy: BusyHistory, outputs: dict[str, Any]) -> None:
    tip = git(busy.path, "rev-parse", "main").strip()
    summary = outputs["summary"]
    assert summary["repository_name"] == "acme/widgets"
    assert summary["range"]["branch"] == "main" and summary["range"]["tip"] == tip
    assert summary["range"]["label"] == f"main at {tip[:12]}"
    assert outputs["text"].splitlines()[0].startswith(f"govgate audit of acme/widgets, main at {tip[:12]}: {busy.changes} changes")
    assert outputs["markdown"].startswith(f"# govgate audit: acme/widgets, main at {tip[:12]}\n")
    assert "<title>govgate audit: acme/widgets</title>" in outputs["html"]
    assert f"acme/widgets, main at {tip[:12]}" in outputs["html"]


def test_the_policy_is_named_never_a_path_inside_the_package(outputs: dict[str, Any]) -> None:
    origin = outputs["summary"]["policy_origin"]
    assert origin["kind"] == "preset" and origin["preset"] == "default" and origin["embedded_default"] is True
    assert origin["description"].startswith("embedded default policy (preset default)")
    for name in SUMMARY_FORMATS:
        assert "embedded default policy (preset default)" in outputs[name], name
        assert "policies/default.yml" not in outputs[name] and "site-packages" not in outputs[name], name


def test_a_policy_file_in_the_repository_and_a_preset_are_named_as_such(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    b.commit("Initial commit", {"README.md": "x\n", ".govgate.yml": "version: 1\nextends: default\nrules: []\n"})
    b.commit("Change (#1)", {"app.py": "x = 1\n"})
    tip = b.head()
    _, summary = audit_json(b.path)
    assert summary["policy_origin"]["description"] == f".govgate.yml at {tip[:12]} (the audited revision)"
    assert f"policy: .govgate.yml at {tip[:12]} (the audited revision);" in audit(b.path).stdout
    _, summary = audit_json(b.path, "--policy", "strict")
    assert summary["policy_origin"]["description"] == "preset strict"
    assert audit(b.path, "--policy", "strict").stdout.splitlines()[1].startswith("policy: preset strict;")


def test_evidence_found_and_policy_met_are_named_apart_and_agree_with_the_json(outputs: dict[str, Any]) -> None:
    totals = outputs["summary"]["totals"]
    text = outputs["text"]
    unreviewed = totals["ai"]["unreviewed"] + totals["other"]["unreviewed"]
    assert re.search(rf"^without review evidence\s+{unreviewed} \(", text, re.MULTILINE)
    assert "unreviewed" not in text  # the old word hid that it counts evidence, not reviews
    reviewed = next(line for line in text.splitlines() if line.startswith("reviewed "))
    asked = totals["questions"]["reviewed"]["asked"]
    compliance = totals["questions"]["reviewed"]["compliance"]
    found = 1 - unreviewed / totals["changes"]
    assert reviewed.split() == ["reviewed", f"{asked}", f"({asked / totals['changes'] * 100:.1f}%)",
                                f"{compliance * 100:.1f}%", f"{found * 100:.1f}%"]
    for name in SUMMARY_FORMATS:
        assert "meets the policy" in outputs[name] and "evidence found" in outputs[name], name
        assert "without review evidence" in outputs[name], name


def test_offline_audits_say_reviews_cannot_be_seen_and_how_to_see_them(outputs: dict[str, Any]) -> None:
    caveats = {c["id"]: c["message"] for c in outputs["summary"]["caveats"]}
    assert outputs["summary"]["evidence_sources"] == {"git": True, "github_reviews": False}
    assert "--github" in caveats["reviews_not_seen"]
    assert "compliance_counts_what_was_asked" in caveats  # the default policy asks for review on few changes
    for name in SUMMARY_FORMATS:
        assert "Reviews given on pull requests are not stored in git" in outputs[name], name
        assert "Run govgate audit with --github" in outputs[name], name


def test_with_github_reviews_the_offline_caveat_goes(tmp_path: Path) -> None:
    """CONTROL for the caveat above: the same kind of repository audited with --github has no such note."""
    b = RepoBuilder(tmp_path / "repo")
    b.commit("Initial commit", {"README.md": "x\n"})
    for number in (1, 2):
        b.commit(f"Change {number} (#{number})", {"app.py": f"x = {number}\n"})
    git(b.path, "remote", "add", "origin", "https://github.com/acme/widgets.git")
    server = GraphQLServer()
    try:
        for line in git(b.path, "log", "--format=%H %s").splitlines():
            sha, subject = line.split(" ", 1)
            if match := re.search(r"\(#(\d+)\)$", subject):
                server.pulls[int(match.group(1))] = _pull(int(match.group(1)), sha, head="f" * 40)
        _, online = audit_json(b.path, "--github", env=server.env)
        server.status = 401  # the API refuses: the audit went on offline, and says so
        _, refused = audit_json(b.path, "--github", "--cache-dir", str(tmp_path / "fresh"), env=server.env)
    finally:
        server.close()
    _, offline = audit_json(b.path)
    assert "reviews_not_seen" in {c["id"] for c in offline["caveats"]}
    assert online["evidence_sources"]["github_reviews"] is True
    assert "reviews_not_seen" not in {c["id"] for c in online["caveats"]}
    assert refused["evidence_sources"]["github_reviews"] is False
    assert "reviews_not_seen" in {c["id"] for c in refused["caveats"]}


def test_a_local_repository_without_a_forge_gets_no_github_hint(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "widgets")
    b.commit("Initial commit", {"README.md": "x\n"})
    _, summary = audit_json(b.path)
    assert summary["repository_name"] == "widgets" and summary["repository"] is None
    message = {c["id"]: c["message"] for c in summary["caveats"]}["reviews_not_seen"]
    assert "GitHub only" in message and "Run govgate audit with --github" not in message
    _, named = audit_json(b.path, "--repo-name", "platform/widgets")
    assert named["repository_name"] == "platform/widgets"


def test_months_with_too_few_changes_are_counted_but_not_judged(busy: BusyHistory, outputs: dict[str, Any]) -> None:
    summary = outputs["summary"]
    assert summary["thresholds"]["min_month_changes"] == MIN_MONTH_CHANGES
    months = {m["month"]: m for m in summary["months"]}
    small = months[busy.small_month]
    assert small["changes"] == SMALL_MONTH_CHANGES and small["judged"] is False
    judged = [m for m in summary["months"] if m["changes"] >= MIN_MONTH_CHANGES]
    assert judged and all(m["judged"] for m in judged)
    assert any(c["id"] == "small_months" for c in summary["caveats"])
    row = next(line for line in outputs["text"].splitlines() if line.startswith(busy.small_month))
    assert f"n={SMALL_MONTH_CHANGES}" in row and "%" not in row  # no 25% step from 4 changes
    md_row = next(line for line in outputs["markdown"].splitlines() if line.startswith(f"| {busy.small_month} |"))
    assert f"n={SMALL_MONTH_CHANGES}" in md_row and "%" not in md_row
    # The HTML charts plot no point for it: no tooltip names that month with a share.
    assert not re.search(rf"<title>[^<]* {busy.small_month}: [\d.]+%</title>", outputs["html"])
    assert re.search(rf"<title>changes {busy.small_month}: {SMALL_MONTH_CHANGES} changes</title>", outputs["html"])


def test_a_merge_that_brought_many_commits_is_flagged(busy: BusyHistory, outputs: dict[str, Any]) -> None:
    changes = outputs["changes"]
    flagged = [c for c in changes if c["audit"]["large_merge"]]
    assert [c["change"]["sha"] for c in flagged] == [busy.large_merge]
    assert len(flagged[0]["change"]["commits"]) == LARGE_MERGE + 1 > LARGE_MERGE_COMMITS
    # CONTROL: ordinary merges (1-4 commits) are not flagged.
    assert any(c["change"]["kind"] == "merge" and not c["audit"]["large_merge"] for c in changes)
    summary = outputs["summary"]["large_merges"]
    assert summary["count"] == 1 and summary["commits"] == LARGE_MERGE
    assert summary["examples"][0]["sha"] == busy.large_merge and summary["examples"][0]["commits"] == LARGE_MERGE
    assert f"{busy.large_merge[:12]}" in outputs["text"] and "large merges" in outputs["text"]
    assert "Large merges" in outputs["markdown"] and 'id="large-merges"' in outputs["html"]
    rows = list(csv.DictReader(io.StringIO(outputs["csv"], newline="")))
    assert [r["sha"] for r in rows if r["large_merge"] == "true"] == [busy.large_merge]


def test_tools_are_counted_by_vendor(busy: BusyHistory, outputs: dict[str, Any]) -> None:
    totals = outputs["summary"]["totals"]
    truth = busy.truth.ai
    assert totals["ai_tools"]["Claude Code"] == truth["Claude Code"]
    assert totals["ai_tools"]["Claude"] == truth["Claude (Assisted-by)"]
    assert totals["ai_vendors"]["Anthropic"] == truth["Claude Code"] + truth["Claude (Assisted-by)"]
    assert totals["ai_vendors"]["OpenAI"] == truth["OpenAI Codex"]
    assert outputs["summary"]["ai_tool_vendors"]["Claude Code"] == "Anthropic"
    anthropic = truth["Claude Code"] + truth["Claude (Assisted-by)"]
    assert f"Anthropic {anthropic} changes (Claude" in outputs["text"]
    rows = list(csv.DictReader(io.StringIO(outputs["csv"], newline="")))
    assert sum("Anthropic" in r["ai_vendors"].split(";") for r in rows) == anthropic


def test_every_change_line_names_its_repository(outputs: dict[str, Any]) -> None:
    assert {c["audit"]["repository"] for c in outputs["changes"]} == {"acme/widgets"}
    rows = list(csv.DictReader(io.StringIO(outputs["csv"], newline="")))
    assert {r["repository"] for r in rows} == {"acme/widgets"}


# -- the progress bar ------------------------------------------------------------------------------


def _progress(repo: Path, *args: str) -> str:
    """Run an audit with stderr on a terminal (a pseudo-terminal); return what it drew there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "govgate", "audit", "--repo", str(repo), "--format", "json",
                             "--output", os.devnull, *args], stderr=slave, stdout=subprocess.DEVNULL)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the terminal closed: the audit is done
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0
    return drawn.decode()


def test_the_progress_bar_counts_what_since_keeps_and_ends_full(busy: BusyHistory) -> None:
    since = busy.small_month[:4] + "-01-01"
    kept = len(audit_json(busy.path, "--since", since)[0])
    everything = busy.changes
    assert 0 < kept < everything
    drawn = _progress(busy.path, "--since", since)
    frames = re.findall(r"(\d+)/(\d+)  (\d+) changes? audited", drawn)
    assert frames, drawn
    done, total, audited = map(int, frames[-1])
    assert done == total == kept and audited == kept  # not stuck at kept/everything
    # --path keeps fewer changes: the bar still ends full over the commits it looked at, and says how many it kept.
    docs = len(audit_json(busy.path, "--since", since, "--path", "docs/**")[0])
    done, total, audited = map(int, re.findall(r"(\d+)/(\d+)  (\d+) changes? audited",
                                               _progress(busy.path, "--since", since, "--path", "docs/**"))[-1])
    assert done == total == kept and audited == docs < kept


def test_no_progress_bar_when_stderr_is_not_a_terminal(busy: BusyHistory) -> None:
    result = audit(busy.path, "--format", "json", "--since", busy.small_month + "-01")
    assert result.code == 0 and result.stderr == ""
    assert json.loads(result.stdout.splitlines()[-1])["totals"]["changes"] == SMALL_MONTH_CHANGES
