"""The change cannot choose its policy: local ranges and audits, each attack paired with its control.

Every test first shows the safe verdict on the setup without the attack (the control), then the
attack, so that none passes vacuously. GitHub events are in test_policy_trust_github.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from govgate.policy.loader import presets_dir
from tests.conftest import RepoBuilder, run_cli

NEEDS_REVIEW = """\
version: 1
rules:
  - id: reviewed
    require:
      reviewed: {approvals: 1}
    message: Ask someone to review.
  - id: policy-edits-need-two
    when: {policy_changed: true}
    require:
      reviewed: {approvals: 2}
"""
LAX = "version: 1\nrules: []\n"


def check(repo: RepoBuilder, base: str, *args: str, fmt: str = "json"):  # type: ignore[no-untyped-def]
    """From inside the checkout, as CI runs: a file named like a preset is right there."""
    return run_cli("check", "--repo", str(repo.path), "--base", base, "--format", fmt, *args, cwd=repo.path)


def statuses(data: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in data["rules"]}


def test_a_range_that_weakens_the_policy_is_judged_by_the_base_policy(repo: RepoBuilder) -> None:
    repo.commit("Add the policy", {".govgate.yml": NEEDS_REVIEW})
    base = repo.head()
    # Control: a plain change is judged by the base policy and fails for want of a review.
    repo.branch("plain")
    repo.commit("Plain change", {"src/app.py": "x = 1\n"})
    control = check(repo, base)
    assert control.code == 1 and statuses(control.json()) == {"reviewed": "fail", "policy-edits-need-two": "skipped"}
    # Attack: the range empties the policy. The base policy still judges, and flags the edit.
    repo.checkout("main")
    repo.branch("weaken")
    repo.commit("Relax the gate", {".govgate.yml": LAX, "src/app.py": "x = 2\n"})
    attack = check(repo, base)
    assert attack.code == 1
    data = attack.json()
    assert statuses(data) == {"reviewed": "fail", "policy-edits-need-two": "fail"}
    assert data["policy"] == f".govgate.yml@{base[:12]}"
    assert data["policy_origin"]["kind"] == "revision" and data["policy_origin"]["revision"] == base
    # A policy author trying the edit asks for the working tree's policy explicitly, and it says so.
    authored = check(repo, base, "--policy-from-worktree")
    assert authored.code == 0 and authored.json()["rules"] == []
    assert authored.json()["policy_origin"] == {
        "kind": "worktree", "path": ".govgate.yml",
        "description": ".govgate.yml in the working tree (--policy-from-worktree)"}


def test_an_uncommitted_policy_edit_is_not_used_without_the_flag(repo: RepoBuilder) -> None:
    repo.commit("Add the policy", {".govgate.yml": NEEDS_REVIEW})
    base = repo.head()
    repo.commit("Change", {"src/app.py": "x = 1\n"})
    assert check(repo, base).code == 1  # control
    repo.write(".govgate.yml", LAX)  # attack: edit the working tree only
    assert check(repo, base).code == 1
    assert check(repo, base, "--policy-from-worktree").code == 0


def test_a_policy_file_named_with_policy_is_read_at_the_base_and_its_edit_flagged(repo: RepoBuilder) -> None:
    repo.commit("Add the policy", {"ci/gate.yml": NEEDS_REVIEW})
    base = repo.head()
    repo.commit("Plain change", {"src/app.py": "x = 1\n"})
    control = check(repo, base, "--policy", "ci/gate.yml")
    assert statuses(control.json()) == {"reviewed": "fail", "policy-edits-need-two": "skipped"}
    assert control.json()["policy"] == f"ci/gate.yml@{base[:12]}"
    repo.commit("Relax the gate", {"ci/gate.yml": LAX})
    attack = check(repo, base, "--policy", "ci/gate.yml")
    assert statuses(attack.json()) == {"reviewed": "fail", "policy-edits-need-two": "fail"}
    # The same file named from another directory, or absolutely, is the same repository path.
    elsewhere = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "json",
                        "--policy", str(repo.path / "ci" / "gate.yml"), cwd=repo.path.parent)
    assert statuses(elsewhere.json()) == {"reviewed": "fail", "policy-edits-need-two": "fail"}


def test_a_file_called_like_a_preset_never_shadows_the_preset(repo: RepoBuilder) -> None:
    base = repo.head()
    # Attack: the change adds lax files named after presets, and the run names the preset.
    repo.commit("Add look-alikes", {"strict": LAX, "strict.yml": LAX, "default.yml": LAX, "src/app.py": "x = 1\n"})
    attack = check(repo, base, "--policy", "strict")
    assert attack.code == 1 and "every-change-reviewed" in statuses(attack.json())
    assert attack.json()["policy_origin"] == {"kind": "preset", "preset": "strict", "embedded_default": False,
                                              "description": "preset strict"}
    explicit = check(repo, base, "--policy", "preset:strict")
    assert statuses(explicit.json()) == statuses(attack.json())
    # No --policy: the embedded default, never a default.yml in the repository.
    default = check(repo, base).json()
    assert default["policy_origin"]["embedded_default"] is True and "policy-change-needs-review" in statuses(default)
    # Control: a file is a file when named as one (a path, or file:), and then it is read from the base.
    repo.checkout("main")
    repo.branch("with-strict-file")
    repo.commit("A lax file called strict on the base", {"strict": LAX})
    file_base = repo.head()
    repo.commit("Change", {"src/app.py": "x = 3\n"})
    for named in ("./strict", "file:strict"):
        control = check(repo, file_base, "--policy", named)
        assert control.code == 0 and control.json()["rules"] == [], named
        assert control.json()["policy"] == f"strict@{file_base[:12]}"


def test_an_unknown_bare_name_says_how_to_name_a_file(repo: RepoBuilder) -> None:
    base = repo.head()
    repo.commit("Change", {"mypolicy": LAX})
    result = check(repo, base, "--policy", "mypolicy")
    assert result.code == 2 and result.stdout == ""
    assert "unknown preset 'mypolicy'" in result.stderr
    assert "--policy ./mypolicy" in result.stderr and "file:mypolicy" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_symlinked_policy_at_the_base_is_refused(repo: RepoBuilder) -> None:
    repo.commit("Add policies", {"ci/real.yml": NEEDS_REVIEW, "ci/lax.yml": LAX, ".govgate.yml": NEEDS_REVIEW})
    base = repo.head()
    repo.commit("Change", {"src/app.py": "x = 1\n"})
    assert check(repo, base).code == 1  # control: a regular file judges
    repo.checkout(base)
    repo.git("checkout", "-q", "-b", "linked")
    repo.symlink(".govgate.yml", "ci/lax.yml")
    repo.commit("Point the policy at a file")
    linked_base = repo.head()
    repo.commit("Change", {"src/app.py": "x = 2\n"})
    result = check(repo, linked_base)
    assert result.code == 2 and result.stdout == ""
    assert ".govgate.yml at " in result.stderr and "is a symbolic link (mode 120000)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_symlinked_folder_on_the_way_to_the_policy_is_refused(repo: RepoBuilder) -> None:
    repo.commit("Policies", {"real/gate.yml": LAX})
    repo.symlink("ci", "real")
    repo.commit("Link the folder")
    base = repo.head()
    repo.commit("Change", {"src/app.py": "x = 1\n"})
    assert check(repo, base, "--policy", "real/gate.yml").code == 0  # control: the real folder
    result = check(repo, base, "--policy", "ci/gate.yml")
    assert result.code == 2 and "ci is a symbolic link" in result.stderr


def test_a_symlink_the_range_puts_in_place_of_the_policy_changes_nothing_but_is_flagged(repo: RepoBuilder) -> None:
    repo.commit("Add the policy", {".govgate.yml": NEEDS_REVIEW, "docs/lax.yml": LAX})
    base = repo.head()
    repo.commit("Plain change", {"src/app.py": "x = 1\n"})
    assert statuses(check(repo, base).json())["policy-edits-need-two"] == "skipped"  # control
    repo.symlink(".govgate.yml", "docs/lax.yml")
    repo.commit("Replace the policy with a link")
    attack = check(repo, base)
    assert statuses(attack.json()) == {"reviewed": "fail", "policy-edits-need-two": "fail"}
    # The working-tree policy is now a link: even a policy author's run refuses to follow it.
    linked = check(repo, base, "--policy-from-worktree")
    assert linked.code == 2 and "is a symbolic link" in linked.stderr


def test_extends_names_only_shipped_presets(repo: RepoBuilder, tmp_path: Path) -> None:
    (tmp_path / "evil.yml").write_text(LAX)
    repo.commit("Extend a preset", {".govgate.yml": "version: 1\nextends: strict\nrules: []\n"})
    base = repo.head()
    repo.commit("Change", {"src/app.py": "x = 1\n"})
    assert "every-change-reviewed" in statuses(check(repo, base).json())  # control
    relative = os.path.relpath(tmp_path / "evil", presets_dir())  # resolves to evil.yml beside the presets' folder
    repo.commit("Extend a file", {".govgate.yml": f"version: 1\nextends: {relative}\nrules: []\n"})
    result = check(repo, "HEAD~1", "--policy-from-worktree")
    assert result.code == 2 and "unknown preset" in result.stderr


def test_audit_reads_the_policy_of_the_audited_revision(repo: RepoBuilder) -> None:
    repo.commit("Add the policy", {".govgate.yml": NEEDS_REVIEW})
    repo.commit("Change", {"src/app.py": "x = 1\n"})
    tip = repo.head()
    control = run_cli("audit", "--repo", str(repo.path), "--format", "json")
    lines = control.stdout.splitlines()
    summary = json.loads(lines[-1])
    assert summary["policy_origin"]["kind"] == "revision" and summary["policy_origin"]["revision"] == tip
    assert summary["policy_origin"]["role"] == "the audited revision"
    assert summary["totals"]["failing"] == 3
    repo.write(".govgate.yml", LAX)  # an uncommitted edit is not what the history is audited by
    attack = json.loads(run_cli("audit", "--repo", str(repo.path), "--format", "json").stdout.splitlines()[-1])
    assert attack["totals"]["failing"] == 3
    authored = run_cli("audit", "--repo", str(repo.path), "--format", "json", "--policy-from-worktree")
    assert json.loads(authored.stdout.splitlines()[-1])["totals"]["failing"] == 0
    origin = f".govgate.yml at {tip[:12]} (the audited revision)"
    assert f"policy: {origin}" in run_cli("audit", "--repo", str(repo.path)).stdout
    for fmt in ("markdown", "html", "csv"):
        assert origin in run_cli("audit", "--repo", str(repo.path), "--format", fmt).stdout, fmt
