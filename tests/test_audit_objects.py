"""Incomplete histories: partial clones, shallow clones and damaged mirrors never end an audit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.audit_support import audit, audit_json, git
from tests.conftest import RepoBuilder

MIGRATION = ("revision = '0002'\ndown_revision = '0001'\n\n\ndef upgrade():\n    op.add_column('users', sa.Column('age'))\n\n\n"
             "def downgrade():\n    op.drop_column('users', 'age')\n")


def _history(path: Path) -> RepoBuilder:
    """main: five changes, one of them a merge of two commits, one a migration, one a rename."""
    b = RepoBuilder(path)
    b.commit("Initial commit", {"README.md": "# app\n", "src/app.py": "print('hello')\n" * 20})
    b.commit("Add migration (#2)", {"db/migrations/versions/0002_age.py": MIGRATION})
    b.branch("feature")
    b.commit("Rename the app module", {"src/app.py": None, "src/main.py": "print('hello')\n" * 20 + "print('bye')\n"})
    b.commit("Tune the main module", {"src/main.py": "print('hello')\n" * 20 + "print('bye!')\n"})
    b.checkout("main")
    b.commit("Docs (#3)", {"docs/guide.md": "# guide\n"})
    b.git("merge", "--no-ff", "-q", "-m", "Merge pull request #4 from acme/feature\n\nRename the app", "feature")
    b.commit("Config (#5)", {"config/app.yaml": "debug: false\n"})
    return b


def _loose_path(repo: Path, sha: str) -> Path:
    return repo / ".git" / "objects" / sha[:2] / sha[2:]


def _missing_objects(repo: Path) -> int:
    out = git(repo, "rev-list", "--objects", "--all", "--missing=print")
    return sum(1 for line in out.splitlines() if line.startswith("?"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_partial_clone_is_audited_offline(tmp_path: Path, jobs: str) -> None:
    source = _history(tmp_path / "source")
    git(source.path, "config", "uploadpack.allowFilter", "true")
    git(source.path, "config", "uploadpack.allowAnySHA1InWant", "true")
    clone = tmp_path / "partial"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{source.path}", str(clone)],
                   check=True, capture_output=True)
    missing_before = _missing_objects(clone)
    assert missing_before > 0
    changes, summary = audit_json(clone, "--jobs", jobs)
    assert summary["totals"]["changes"] == 5
    assert any("partial clone" in p for p in summary["problems"]["run"])
    migration = next(c for c in changes if c["change"]["id"] == "#2")
    rollback = migration["questions"]["rollback"]["evidence"]
    assert any(e.get("unavailable") for e in rollback), rollback
    assert any("content unavailable" in p for p in migration["problems"])
    merge = next(c for c in changes if c["change"]["id"] == "#4")
    assert len(merge["change"]["commits"]) == 3
    assert _missing_objects(clone) == missing_before  # nothing was fetched


def test_shallow_clone_ends_at_its_depth(tmp_path: Path) -> None:
    source = _history(tmp_path / "source")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{source.path}", str(clone)], check=True, capture_output=True)
    changes, summary = audit_json(clone)
    assert any("shallow clone" in p for p in summary["problems"]["run"])
    boundary = changes[-1]
    assert boundary["change"]["files"] == 0
    assert any("beyond the clone's depth" in p for p in boundary["problems"])
    assert changes[0]["change"]["id"] == "#5" and not changes[0]["problems"]


def test_missing_blob_affects_only_its_change(tmp_path: Path) -> None:
    b = _history(tmp_path / "repo")
    renamed = git(b.path, "rev-parse", "HEAD~1:src/main.py").strip()
    _loose_path(b.path, renamed).unlink()  # the rename target: git log -M needs it and dies there
    result = audit(b.path, "--format", "json")
    assert result.code == 0, result.stderr
    changes, summary = audit_json(b.path)
    assert summary["totals"]["changes"] == 5
    merge = next(c for c in changes if c["change"]["id"] == "#4")
    assert any("git could not diff this change" in p for p in merge["problems"])
    assert any("is missing from the repository" in p for p in merge["problems"])
    assert [c["change"]["id"] for c in changes[-2:]] == ["#2", changes[-1]["change"]["id"]]
    assert not changes[-1]["problems"] and not changes[0]["problems"]


def test_missing_tree_and_missing_side_commit(tmp_path: Path) -> None:
    b = _history(tmp_path / "repo")
    side = git(b.path, "rev-parse", "HEAD~1^2~1").strip()  # "Rename the app module", brought in by #4
    _loose_path(b.path, side).unlink()
    docs_tree = git(b.path, "rev-parse", "HEAD~2^{tree}").strip()  # "Docs (#3)": #3 and #4 (diffed against it) need it
    _loose_path(b.path, docs_tree).unlink()
    changes, summary = audit_json(b.path)
    assert summary["totals"]["changes"] == 5
    by_id = {c["change"]["id"]: c for c in changes}
    assert any("could not be read" in p for p in by_id["#4"]["problems"])
    assert by_id["#4"]["change"]["commits"] == [by_id["#4"]["change"]["sha"]]
    assert any("cannot be read" in p for p in by_id["#3"]["problems"])
    assert not by_id["#2"]["problems"] and not by_id["#5"]["problems"]
    assert summary["problems"]["changes_with_problems"] >= 2


def test_missing_mainline_commit_ends_the_walk_not_the_run(tmp_path: Path) -> None:
    b = _history(tmp_path / "repo")
    oldest = git(b.path, "rev-list", "--max-parents=0", "HEAD").strip()
    _loose_path(b.path, oldest).unlink()
    changes, summary = audit_json(b.path)
    assert [c["change"]["id"] for c in changes] == ["#5", "#4", "#3", "#2"]
    assert len(changes[1]["change"]["commits"]) == 3  # the merge still brought in its two commits
    assert any("files of this change cannot be read" in p for p in changes[-1]["problems"])
    assert any(p.startswith(f"history ends early: commit {oldest[:12]}") for p in summary["problems"]["run"])
