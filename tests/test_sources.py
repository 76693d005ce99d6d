"""The change-source contract: the registry, how the CLI picks a source, and the base-revision file reader."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path

import pytest

from govgate.errors import GitError, GovgateError
from govgate.policy.choice import PolicyChoice
from govgate.sources import SOURCES, SourceRequest, TrustRoot, detect_source, open_source
from govgate.sources.base_files import BaseFileError, BaseFiles, tree_listing
from govgate.sources.git import GitRepo
from govgate.sources.trusted import read_trusted
from tests.conftest import RepoBuilder, run_cli


def test_every_available_source_is_one_module_with_open_source() -> None:
    assert set(SOURCES) == {"local", "github", "gitlab", "history"}
    for entry in SOURCES.values():
        if entry.module is None:
            continue
        module = importlib.import_module(entry.module)
        assert callable(module.open_source), entry.name
    assert SOURCES["gitlab"].module == "govgate.sources.gitlab_mr"


@pytest.mark.parametrize(("requested", "github", "environ", "expected"), [
    ("auto", None, {}, "local"),
    ("auto", None, {"GITHUB_ACTIONS": "true"}, "github"),
    ("auto", None, {"GITHUB_ACTIONS": "false"}, "local"),
    ("auto", None, {"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "7"}, "gitlab"),
    ("auto", None, {"GITLAB_CI": "true"}, "local"),  # a branch pipeline: no merge request to read
    ("auto", False, {"GITHUB_ACTIONS": "true"}, "local"),
    ("auto", True, {}, "github"),
    ("local", None, {"GITHUB_ACTIONS": "true"}, "local"),
    ("github", True, {}, "github"),
])
def test_the_source_comes_from_flags_then_the_ci_environment(
    requested: str, github: bool | None, environ: dict[str, str], expected: str,
) -> None:
    assert detect_source(requested, github, environ) == expected


def test_a_source_is_detected_only_in_the_kind_of_job_it_reads() -> None:
    from dataclasses import replace

    assert SOURCES["gitlab"].detected({"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "7"})
    assert not SOURCES["gitlab"].detected({"GITLAB_CI": "true"})  # a branch pipeline: no merge request to read
    reserved = replace(SOURCES["gitlab"], module=None)  # a source not available in a version is never detected
    assert not reserved.detected({"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "7"})
    assert SOURCES["github"].detected({"GITHUB_ACTIONS": "true"})


def test_contradicting_flags_and_sources_outside_their_job_are_usage_errors(repo: RepoBuilder) -> None:
    with pytest.raises(GovgateError, match="contradicts"):
        detect_source("github", False, {})
    result = run_cli("check", "--repo", str(repo.path), "--source", "github", "--no-github")
    assert result.code == 2 and "--source github contradicts --no-github" in result.stderr
    result = run_cli("check", "--repo", str(repo.path), "--source", "gitlab")  # outside a merge-request pipeline
    assert result.code == 2 and "CI_MERGE_REQUEST_IID" in result.stderr and "merge_request_event" in result.stderr
    assert run_cli("check", "--repo", str(repo.path), "--source", "history").code == 2  # audit's source, not check's


def test_local_source_in_a_github_job_when_asked(repo: RepoBuilder) -> None:
    base = repo.head()
    repo.commit("Change\n\nReviewed-by: Bob Reviewer <bob@example.com>\n", {"src/a.py": "a = 1\n"})
    env = {"GITHUB_ACTIONS": "true"}  # no event file: the github source would fail
    assert run_cli("check", "--repo", str(repo.path), "--base", base, env=env).code == 2
    for flag in ("--source=local", "--no-github"):
        result = run_cli("check", "--repo", str(repo.path), "--base", base, flag, env=env)
        assert result.code == 0, (flag, result.stderr)


def base_files(builder: RepoBuilder, role: str = "the test revision") -> BaseFiles:
    return BaseFiles(GitRepo.open(builder.path), builder.head(), role)


def test_base_files_read_regular_files_and_refuse_everything_else(repo: RepoBuilder) -> None:
    repo.commit("Files", {"conf/policy.yml": "version: 1\n", "conf/deep/x.txt": "x\n", "latin.txt": b"caf\xe9\n"})
    repo.symlink("conf/link.yml", "policy.yml")
    repo.symlink("linked-dir", "conf")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{repo.head()},vendor/lib")
    repo.commit("Links and a submodule")
    files = base_files(repo)
    assert files.read_text("conf/policy.yml") == "version: 1\n"
    assert files.read_text("./conf/deep/x.txt") == "x\n"
    assert files.read_text("conf/missing.yml") is None and files.read_text("README.md/below") is None
    assert files.first_of(["nope.yml", "conf/policy.yml"]) == ("conf/policy.yml", "version: 1\n")
    refused = {
        "conf/link.yml": "is a symbolic link (mode 120000)",
        "linked-dir/policy.yml": "linked-dir is a symbolic link",
        "conf": "is a directory",
        "vendor/lib": "is a submodule",
        "vendor/lib/inner.yml": "vendor/lib is a submodule",
        "latin.txt": "is not UTF-8 text",
        "../outside.yml": "is not a path inside the repository",
    }
    for path, message in refused.items():
        with pytest.raises(BaseFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
            files.read_text(path, what="policy")
    assert f"at {repo.head()[:12]} (the test revision)" in _error(files, "conf/link.yml")


def _error(files: BaseFiles, path: str) -> str:
    with pytest.raises(GovgateError) as info:
        files.read_text(path)
    return info.value.message


def test_base_files_are_size_bounded_and_stay_in_step_after_a_refusal(repo: RepoBuilder) -> None:
    repo.commit("Big and small", {"big.yml": "x" * 200_000, "small.yml": "ok\n"})
    files = base_files(repo)
    with pytest.raises(BaseFileError, match="200,000 bytes; the limit is 1,000"):
        files.read_bytes("big.yml", limit=1000)
    assert files.read_text("small.yml") == "ok\n"  # the skipped content did not shift the next answer


def test_base_files_of_a_missing_revision_or_object(repo: RepoBuilder) -> None:
    with pytest.raises(GitError, match="not a full commit id"):
        BaseFiles(GitRepo.open(repo.path), "HEAD")
    with pytest.raises(GitError, match="is not in the clone"):
        BaseFiles(GitRepo.open(repo.path), "1" * 40).read_text(".govgate.yml")
    repo.commit("Data", {"data.yml": "precious\n"})
    blob = repo.git("rev-parse", "HEAD:data.yml").strip()
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(GitError, match="is missing from the clone"):
        base_files(repo).read_text("data.yml", what="policy")


def test_base_files_in_a_sha256_repository(tmp_path: Path) -> None:
    path = tmp_path / "sha256"
    subprocess.run(["git", "init", "-q", "--object-format=sha256", str(path)], check=True)
    builder = RepoBuilder.__new__(RepoBuilder)
    builder.path = path
    (path / "ci").mkdir()
    (path / "ci" / "gate.yml").write_text("version: 1\n")
    builder.git("add", "ci/gate.yml")
    builder.git("-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-m", "one")
    assert len(builder.head()) == 64
    assert base_files(builder).read_text("ci/gate.yml") == "version: 1\n"


def test_tree_listing_keeps_names_with_newlines_and_tabs(repo: RepoBuilder) -> None:
    repo.commit("Odd names", {"a\nb.txt": "one\n", "c\td.txt": "two\n"})
    listing = tree_listing(GitRepo.open(repo.path), repo.head())
    assert {"a\nb.txt", "c\td.txt", "README.md"} <= set(listing)
    assert listing["a\nb.txt"].oid == repo.git("rev-parse", "HEAD:a\nb.txt").strip()


def test_trusted_config_reads_other_files_of_the_trust_root(repo: RepoBuilder) -> None:
    """What the memory file (and any later trusted file) reads: the trust root's regular files only."""
    repo.commit("Memory", {".govgate/memory.yml": "paths: {}\n"})
    root = repo.head()
    repo.commit("Rewrite memory in the change", {".govgate/memory.yml": "paths: {forged: true}\n"})
    git_repo = GitRepo.open(repo.path)
    trusted = read_trusted(git_repo, TrustRoot(root, "the base"), PolicyChoice())
    assert trusted.read_file(".govgate/memory.yml", what="memory") == "paths: {}\n"
    assert read_trusted(git_repo, TrustRoot(None, "no base"), PolicyChoice()).read_file(".govgate/memory.yml") is None
    repo.symlink(".govgate/memory.yml.link", "memory.yml")
    repo.commit("Link")
    trusted = read_trusted(git_repo, TrustRoot(repo.head(), "the base"), PolicyChoice())
    with pytest.raises(BaseFileError, match="symbolic link"):
        trusted.read_file(".govgate/memory.yml.link", what="memory")


def test_the_history_source_is_opened_through_the_registry(repo: RepoBuilder) -> None:
    repo.commit("Two", {"a.py": "a\n"})
    source = open_source("history", SourceRequest(GitRepo.open(repo.path), head="HEAD"))
    try:
        assert source.trust_root() == TrustRoot(repo.head(), "the audited revision")
        assert next(c.head for c in source.changes(None)) == repo.head()  # type: ignore[arg-type]
    finally:
        source.close()
