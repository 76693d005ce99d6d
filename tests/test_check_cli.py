"""`govgate check` end to end: real repositories, the real CLI in a subprocess, exit codes 0/1/2."""

from __future__ import annotations

import subprocess
from pathlib import Path

from govgate.model import FileStatus
from tests.conftest import BOB, RepoBuilder, judge_range, local_change, run_cli

REVIEW_ALL = """\
version: 1
rules:
  - id: reviewed
    require:
      reviewed: {approvals: 1}
    severity: error
    message: Ask someone to review.
"""


def write_policy(tmp_path: Path, text: str = REVIEW_ALL) -> str:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    return str(path)


def test_pass_is_quiet_and_exit_0(repo: RepoBuilder, tmp_path: Path) -> None:
    base = repo.head()
    repo.commit("Add feature\n\nReviewed-by: Bob Reviewer <bob@example.com>\n", {"src/app.py": "print('hi')\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", write_policy(tmp_path))
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("govgate: PASS")
    assert len(result.stdout.splitlines()) == 2


def test_fail_explains_evidence_and_fix_with_exit_1(repo: RepoBuilder, tmp_path: Path) -> None:
    base = repo.head()
    repo.commit("Add feature\n\nReviewed-by: Alice Example <alice@example.com>\n", {"src/app.py": "x = 1\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", write_policy(tmp_path))
    assert result.code == 1
    out = result.stdout
    assert out.startswith("govgate: FAIL")
    assert "x reviewed [error]" in out
    assert "has 0 of 1 human approval" in out
    assert "Reviewed-by: Alice Example <alice@example.com>" in out  # the discounted self-review is shown
    assert "to satisfy: 1 approval by humans other than the author" in out
    assert "fix: Ask someone to review." in out


def test_json_contract_and_output_file(repo: RepoBuilder, tmp_path: Path) -> None:
    base = repo.head()
    repo.commit("Tweak\n\nAcked-by: Bob Reviewer <bob@example.com>\n", {"src/a.py": "a = 2\n"})
    out_file = tmp_path / "out" / "result.json"
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", write_policy(tmp_path),
                     "--format", "json", "--output", str(out_file), "--report", f"text={tmp_path / 'r.txt'}")
    assert result.code == 0 and result.stdout == ""
    import json

    data = json.loads(out_file.read_text())
    assert data["schema"] == "govgate/check/v1" and data["verdict"] == "pass"
    assert data["questions"]["reviewed"]["status"] == "satisfied"
    assert data["questions"]["reviewed"]["evidence"][0]["trust"] == "declared"
    assert data["rules"] == [{"id": "reviewed", "status": "pass", "severity": "error", "message": "all requirements met"}]
    assert data["change"]["commits"] == [repo.head()]
    assert (tmp_path / "r.txt").read_text().startswith("govgate: PASS")


def test_repo_policy_file_is_read_at_the_base_and_embedded_default_otherwise(repo: RepoBuilder) -> None:
    repo.commit("Add policy", {".govgate.yml": REVIEW_ALL})
    base = repo.head()
    repo.commit("Change", {"src/app.py": "x = 1\n"})
    data = judge_range(repo, base)
    assert data["policy"] == f".govgate.yml@{base[:12]}" and data["verdict"] == "fail"
    assert data["policy_origin"] == {"kind": "revision", "path": ".govgate.yml", "revision": base,
                                     "role": "the base revision",
                                     "description": f".govgate.yml at {base[:12]} (the base revision)"}
    repo.commit("Remove policy", {".govgate.yml": None})
    data = judge_range(repo, "HEAD~1")  # the removal is judged by the policy it removes
    assert data["policy"] == f".govgate.yml@{repo.git('rev-parse', 'HEAD~1').strip()[:12]}"
    repo.commit("After the removal", {"src/b.py": "b = 1\n"})
    data = judge_range(repo, "HEAD~1")
    assert data["policy"].endswith("default.yml")
    assert data["policy_origin"]["kind"] == "preset" and data["policy_origin"]["embedded_default"] is True
    assert data["policy_origin"]["reason"].startswith("no .govgate.yml or .govgate.yaml at ")


def test_default_base_is_the_remote_default_branch(repo: RepoBuilder, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone)], check=True)
    builder = RepoBuilder.__new__(RepoBuilder)
    builder.path = clone
    import git

    builder.repo = git.Repo(clone)
    builder.git("checkout", "-q", "-b", "topic")
    builder.commit("One", {"a.py": "1\n"})
    builder.commit("Two", {"b.py": "2\n"})
    result = run_cli("check", "--repo", str(clone), "--format", "json")
    assert result.code in (0, 1), result.stderr
    assert len(result.json()["change"]["commits"]) == 2


def test_bad_input_is_one_clear_line_and_exit_2(repo: RepoBuilder, tmp_path: Path) -> None:
    not_repo = tmp_path / "plain"
    not_repo.mkdir()
    cases = {
        ("check", "--repo", str(not_repo)): "not a git repository",
        ("check", "--repo", str(tmp_path / "missing")): "no such directory",
        ("check", "--repo", str(repo.path), "--base", "no-such-rev"): "unknown revision 'no-such-rev'",
        ("check", "--repo", str(repo.path), "--base", "HEAD", "--head", "HEAD"): "empty range",
        ("check", "--repo", str(repo.path), "--base", "HEAD", "--pr-body-file", str(tmp_path / "nope.md")): "nope.md",
        ("check", "--repo", str(repo.path), "--format", "yaml"): "Invalid value for '--format'",
        ("check", "--repo", str(repo.path), "--report", "sarif"): "expected FORMAT=PATH",
    }
    bad_policy = tmp_path / "bad.yml"
    bad_policy.write_text("version: 1\nrules:\n  - id: x\n    require: {reviewd: {}}\n")
    cases[("check", "--repo", str(repo.path), "--base", "HEAD", "--policy", str(bad_policy))] = "bad.yml:4: rules[0].require.reviewd"
    for args, expected in cases.items():
        result = run_cli(*args)
        assert result.code == 2, (args, result.stdout, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_unrelated_histories_say_so(repo: RepoBuilder) -> None:
    repo.git("checkout", "-q", "--orphan", "other")
    repo.commit("Unrelated root", {"x.txt": "x\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", "main", "--head", "other")
    assert result.code == 2 and "share no history" in result.stderr


def test_pr_flags_feed_the_change(repo: RepoBuilder, tmp_path: Path) -> None:
    base = repo.head()
    repo.commit("Change", {"src/x.py": "x\n"})
    body = tmp_path / "body.md"
    body.write_text("## Test plan\nRan the suite.\n")
    policy = write_policy(tmp_path, "version: 1\nrules:\n  - id: hot\n    when: {labels: [hotfix]}\n"
                                    "    require: {rollback: {plan: true}}\n")
    data = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", policy, "--format", "json",
                   "--label", "hotfix", "--pr-author", "alice", "--pr-body-file", str(body)).json()
    assert data["rules"][0]["status"] == "fail"  # the label made the rule apply
    assert "rollback plan" in data["rules"][0]["message"].lower() or "plan" in data["rules"][0]["message"]


def test_awkward_changes_are_judged(repo: RepoBuilder) -> None:
    repo.commit("Seed", {"docs/old.md": "old\n" * 20, "gone.txt": "bye\n", "data/blob.bin": b"\x00\x01\x02"})
    base = repo.head()
    repo.git("mv", "docs/old.md", "docs/new.md")
    repo.commit("Rename and delete\n\nReviewed-by: Bob Reviewer <bob@example.com>",
                {"gone.txt": None, "data/blob.bin": b"\x00\x09" * 500, "big.txt": "line\n" * 60_000})
    # a non-UTF-8 commit message (latin-1 bytes, no encoding header)
    (repo.path / "msg.txt").write_bytes(b"Caf\xe9 au lait\n")
    repo.write("cafe.txt", "x\n")
    repo.git("add", "cafe.txt")
    repo.git("-c", "i18n.commitEncoding=latin1", "commit", "-q", "-F", "msg.txt")
    # a merge commit inside the range
    repo.branch("side", base)
    repo.commit("Side work", {"side.py": "s = 1\n"})
    repo.checkout("main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge branch 'side'", "side")

    change = local_change(repo, base)
    by_path = {f.path: f for f in change.files}
    assert by_path["docs/new.md"].status is FileStatus.RENAMED and by_path["docs/new.md"].old_path == "docs/old.md"
    assert by_path["gone.txt"].status is FileStatus.DELETED and by_path["gone.txt"].new_text() is None
    assert by_path["data/blob.bin"].binary and by_path["data/blob.bin"].new_text() is None
    assert by_path["big.txt"].added == 60_000
    assert any("Caf" in c.message for c in change.commits)
    assert any(c.is_merge for c in change.commits)
    data = judge_range(repo, base)
    assert data["change"]["files"] == len(change.files)
    assert data["verdict"] in ("pass", "fail")


def test_help_on_every_command() -> None:
    for args in (("--help",), ("check", "--help"), ("audit", "--help"), ("policy", "--help"), ("policy", "validate", "--help"),
                 ("policy", "explain", "--help"), ("policy", "init", "--help"), ("policy", "presets", "--help"),
                 ("policy", "schema", "--help"), ("-h",)):
        result = run_cli(*args)
        assert result.code == 0 and "Usage:" in result.stdout, args
    assert run_cli("--version").stdout.startswith("govgate, version")
    assert run_cli("nonesuch").code == 2


def test_reviewer_identity_from_trailer_is_not_the_author(repo: RepoBuilder) -> None:
    base = repo.head()
    repo.commit("Fix\n\nReviewed-by: Bob Reviewer <bob@example.com>", {"f.py": "1\n"}, author=BOB)
    change = local_change(repo, base)
    assert "bob@example.com" in change.author_identities


def test_missing_blob_is_reported_and_never_passes(repo: RepoBuilder) -> None:
    base = repo.head()
    repo.commit("Add data", {"data.txt": "precious\n" * 10, "src/app.py": "x = 1\n"})
    policy = ["--policy", "preset:default", "--format", "json"]
    control = run_cli("check", "--repo", str(repo.path), "--base", base, *policy)
    assert control.code == 0 and control.json()["complete"] is True
    blob = repo.git("rev-parse", "HEAD:data.txt").strip()
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()  # a damaged mirror
    result = run_cli("check", "--repo", str(repo.path), "--base", base, *policy)
    assert result.code == 2 and "not fully judged" in result.stderr
    data = result.json()
    assert data["verdict"] == "incomplete" and data["complete"] is False
    assert [g["kind"] for g in data["incomplete"]] == ["content_missing"]
    assert any("files are listed without rename detection or line counts" in p for p in data["problems"])
    assert data["change"]["files"] == 2
