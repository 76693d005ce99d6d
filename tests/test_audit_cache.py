"""The incremental audit cache: warm and incremental runs write exactly what a cold run writes, read
only what is new, stay correct when several audits share the cache, and never serve a stale verdict."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import govgate
from govgate.audit import cache as audit_cache
from govgate.policy.loader import find_policy, load_policy
from tests.audit_support import audit, generate, git
from tests.conftest import BOB, RepoBuilder

FORMATS = ("json", "csv", "text", "markdown", "html")
_GENERATED_AT = re.compile(r"(?i)generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")  # the HTML report's own clock


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cache") / "repo"
    generate(path, 160, seed=5, initial_files=60)
    git(path, "remote", "add", "origin", "git@github.com:acme/widgets.git")
    return path


@pytest.fixture
def history(pristine: Path, tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    shutil.copytree(pristine, path)
    return path


def _outputs(repo: Path, *args: str) -> dict[str, str]:
    found = {}
    for output_format in FORMATS:
        result = audit(repo, "--format", output_format, "--jobs", "1", *args)
        assert result.code == 0, result.stderr
        found[output_format] = _GENERATED_AT.sub("generated <time>", result.stdout)
    return found


def _cache_file(repo: Path) -> Path:
    return repo / ".git" / "govgate-cache" / audit_cache.FILE_NAME


def _add_commits(repo: Path) -> list[str]:
    """New changes on top: a squash merge, a merge of a branch, and a revert of an old (cached) change."""
    git(repo, "reset", "-q", "--hard", "main")
    b = RepoBuilder(repo)
    b.commit("Add retries to the client (#900)\n\nReviewed-by: Bob Reviewer <bob@example.com>",
             {"src/api/client.py": "retries = 3\n"}, author=BOB)
    b.branch("feature", "main")
    b.commit("Feature part 1", {"src/web/feature.py": "x = 1\n"})
    b.checkout("main")
    b.git("merge", "--no-ff", "-q", "-m", "Merge pull request #901 from acme/feature\n\nFeature", "feature")
    old = git(repo, "rev-list", "--first-parent", "--skip=40", "-1", "main^").strip()
    b.commit(f"Revert an old change (#902)\n\nThis reverts commit {old}.", {"src/api/revert_note.py": "reverted = True\n"})
    return [old]


def test_cold_warm_and_incremental_runs_write_the_same_bytes(history: Path) -> None:
    cold = _outputs(history, "--no-cache")
    assert not _cache_file(history).exists()  # --no-cache leaves nothing behind
    assert _outputs(history) == cold  # first run with the cache: stores as it goes
    assert _cache_file(history).exists()
    assert _outputs(history) == cold  # nothing new: everything from the cache

    [reverted] = _add_commits(history)
    cold_after = _outputs(history, "--no-cache")
    assert cold_after != cold
    assert '"reverted_by":["#902"]' in next(line for line in cold_after["json"].splitlines() if f'"sha":"{reverted}"' in line)
    assert _outputs(history) == cold_after  # three new changes read; an old cached change learns it was reverted


@pytest.mark.parametrize("filters", [("--since", "2022-06-01"), ("--until", "2022-09-30"), ("--path", "src/api/**"),
                                     ("--since", "2022-03-01", "--until", "2022-08-01", "--path", "deploy/**")])
def test_filters_over_a_cache_filled_without_them(history: Path, filters: tuple[str, ...]) -> None:
    assert audit(history, "--format", "json", "--jobs", "1", "HEAD~60").code == 0  # an older part of the line, cached
    cold = _outputs(history, "--no-cache", *filters)
    assert _outputs(history, *filters) == cold  # the cache is topped up where the filters need more
    assert _outputs(history, *filters) == cold
    assert _outputs(history, "--no-cache") == _outputs(history)  # and the unfiltered audit still agrees


def _explode_pack(repo: Path) -> None:
    """Turn the repository's packs into loose objects, so single objects can be deleted."""
    pack_dir = repo / ".git" / "objects" / "pack"
    for pack in pack_dir.glob("*.pack"):
        moved = repo / pack.name
        pack.rename(moved)
        pack.with_suffix(".idx").unlink()
        with moved.open("rb") as data:
            subprocess.run(["git", "-C", str(repo), "unpack-objects", "-q"], stdin=data, check=True)
        moved.unlink()
    for leftover in pack_dir.glob("*"):
        leftover.unlink()
    (repo / ".git" / "objects" / "info" / "commit-graph").unlink(missing_ok=True)


def test_a_warm_run_reads_only_what_is_new(history: Path) -> None:
    """After the first audit, the trees of every older first-parent commit are deleted: an audit that
    read old history again would trip over them (the control shows it does), the warm one does not."""
    _explode_pack(history)
    assert audit(history, "--format", "json", "--jobs", "1").code == 0  # fills the cache
    expected = audit(history, "--format", "json", "--jobs", "1", "--no-cache").stdout
    tip = git(history, "rev-parse", "main").strip()
    old = git(history, "rev-list", "--first-parent", "main").split()[1:]  # all but the tip, whose tree new diffs need
    for sha in old:
        tree = git(history, "rev-parse", f"{sha}^{{tree}}").strip()
        (history / ".git" / "objects" / tree[:2] / tree[2:]).unlink(missing_ok=True)

    control = audit(history, "--format", "json", "--jobs", "1", "--no-cache")
    problems = json.loads(control.stdout.splitlines()[-1])["problems"]
    assert control.code == 0 and (problems["run"] or problems["changes_with_problems"])  # reading old history now fails

    warm = audit(history, "--format", "json", "--jobs", "1")
    assert warm.code == 0 and warm.stdout == expected  # nothing new: not one old tree was needed
    git(history, "reset", "-q", "--hard", tip)
    RepoBuilder(history).commit("Small fix (#950)", {"src/api/fix.py": "fixed = True\n"})
    after = audit(history, "--format", "json", "--jobs", "1")
    assert after.code == 0, after.stderr
    lines = after.stdout.splitlines()
    assert len(lines) == len(expected.splitlines()) + 1 and '"problems":[]' in lines[0]  # the new change, read and judged
    new_tip = git(history, "rev-parse", "main").strip()
    moved = [line.replace(f'"revision":"{tip}"', f'"revision":"{new_tip}"').replace(f" at {tip[:12]}", f" at {new_tip[:12]}")
             for line in expected.splitlines()[:-1]]  # the policy is now read at the new tip
    assert lines[1:-1] == moved


def test_two_audits_at_once_share_the_cache(history: Path) -> None:
    expected = audit(history, "--format", "json", "--jobs", "1", "--no-cache").stdout
    command = [sys.executable, "-m", "govgate", "audit", "--repo", str(history), "--format", "json", "--jobs", "1"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [run.communicate(timeout=120) for run in runs]
    for run, (stdout, stderr) in zip(runs, results, strict=True):
        assert run.returncode == 0, stderr
        assert stdout == expected
        assert "cannot be used" not in stderr
    assert audit(history, "--format", "json", "--jobs", "1").stdout == expected  # what they stored is whole


def test_workers_fill_the_cache_the_same_way(history: Path) -> None:
    expected = audit(history, "--format", "csv", "--jobs", "1", "--no-cache").stdout
    assert audit(history, "--format", "csv", "--jobs", "2", "HEAD~50").code == 0  # cached by workers
    assert audit(history, "--format", "csv", "--jobs", "2").stdout == expected
    assert audit(history, "--format", "csv", "--jobs", "1").stdout == expected


def test_a_changed_policy_is_never_served_stale_verdicts(history: Path, tmp_path: Path) -> None:
    assert audit(history, "--format", "json", "--jobs", "1").code == 0
    strict = tmp_path / "strict.yml"
    strict.write_text("version: 1\nextends: default\nrules:\n  - id: everything-reviewed\n"
                      "    require: {reviewed: {approvals: 1}}\n")
    cold = audit(history, "--format", "json", "--jobs", "1", "--no-cache", "--policy", str(strict)).stdout
    assert audit(history, "--format", "json", "--jobs", "1", "--policy", str(strict)).stdout == cold
    assert "everything-reviewed" in cold


def test_an_unusable_cache_is_said_once_and_changes_nothing(history: Path) -> None:
    expected = audit(history, "--format", "text", "--jobs", "1", "--no-cache").stdout
    blocker = history / ".git" / "govgate-cache"
    blocker.write_text("not a directory\n")  # the cache directory cannot be created
    result = audit(history, "--format", "text", "--jobs", "1")
    assert result.code == 0 and result.stdout == expected
    assert result.stderr.count("cannot be used") == 1


def test_a_corrupt_cache_file_is_said_and_bypassed(history: Path) -> None:
    expected = audit(history, "--format", "text", "--jobs", "1", "--no-cache").stdout
    path = _cache_file(history)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    result = audit(history, "--format", "text", "--jobs", "1")
    assert result.code == 0 and result.stdout == expected
    assert "cannot be used" in result.stderr


# -- the key: everything that decides a verdict, nothing else -------------------------------------------


def _key(repo: Path, policy_text: str | None = None, tmp: Path | None = None, **overrides: object) -> str:
    if policy_text is not None and tmp is not None:
        (tmp / "policy.yml").write_text(policy_text)
        policy = load_policy(tmp / "policy.yml")
    else:
        policy = load_policy(find_policy(None, repo))
    options: dict[str, object] = {"fail_on": "error", "exact_lines": False, "github": False,
                                  "repo_url": "https://github.com/acme/widgets", "today": dt.date(2026, 6, 1)}
    exclude = overrides.pop("exclude", ())
    paths = overrides.pop("paths", ())
    options.update(overrides)
    inputs = audit_cache.judge_inputs(policy, **options)  # type: ignore[arg-type]
    return audit_cache.chain_key(inputs, exclude, paths)  # type: ignore[arg-type]


def test_the_key_changes_with_everything_that_decides_a_verdict(history: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base = _key(history)
    assert _key(history) == base  # control: the same inputs give the same key
    assert _key(history, fail_on="warning") != base
    assert _key(history, exact_lines=True) != base
    assert _key(history, github=True) != base
    assert _key(history, repo_url="https://github.com/acme/other") != base
    assert _key(history, exclude=("a" * 40,)) != base
    assert _key(history, paths=("src/**",)) != base
    waiver = ("version: 1\nextends: default\nrules: []\nwaivers:\n  - {rule: migrations-must-reverse, change: '#3', "
              "reason: r, approved_by: dba, expires: 2026-06-15}\n")
    before_expiry = _key(history, waiver, tmp_path, today=dt.date(2026, 6, 10))
    assert _key(history, waiver, tmp_path, today=dt.date(2026, 6, 14)) == before_expiry  # no waiver expired between
    assert _key(history, waiver, tmp_path, today=dt.date(2026, 6, 16)) != before_expiry  # the waiver expired
    assert _key(history, waiver.replace("reason: r", "reason: s"), tmp_path, today=dt.date(2026, 6, 10)) != before_expiry
    monkeypatch.setattr(govgate, "__version__", "99.0")
    assert _key(history) != base  # an upgrade never reads what an older govgate wrote
