"""Which pipeline jobs a merge request could have written: job definitions compared at two revisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from govgate.model import JobDefinition
from govgate.sources.base_files import BaseFiles
from govgate.sources.git import GitRepo
from govgate.sources.gitlab_ci_config import (
    compare_jobs,
    config_outside_repository,
    job_definition_name,
    read_ci_config,
)
from tests.conftest import RepoBuilder

BASE = """\
include:
  - local: ci/templates.yml
  - project: platform/ci
    file: jobs.yml
variables: {PYTHON: "3.12"}
.defaults: &defaults
  image: python:3.12
test:
  <<: *defaults
  extends: .pytest
  script: !reference [.pytest, script]
lint:
  script: [ruff check]
"""
TEMPLATES = ".pytest:\n  script: [pytest -q]\n"


def verdicts(tmp_path: Path, base: dict[str, str], head: dict[str, str | None], names: list[str]) -> dict[str, JobDefinition]:
    builder = RepoBuilder(tmp_path / "repo")
    before = builder.commit("base", dict(base))
    after = builder.commit("head", dict(head)) if head else before
    repo = GitRepo.open(builder.path)
    try:
        found = compare_jobs(read_ci_config(BaseFiles(repo, before)), read_ci_config(BaseFiles(repo, after)), names)
    finally:
        repo.close()
    return {name: definition for name, (definition, _) in found.items()}


def test_unchanged_jobs_are_the_target_branchs(tmp_path: Path) -> None:
    base = {".gitlab-ci.yml": BASE, "ci/templates.yml": TEMPLATES}
    assert verdicts(tmp_path, base, {"README.md": "words\n"}, ["test", "lint"]) == {
        "test": JobDefinition.SAME, "lint": JobDefinition.SAME}


@pytest.mark.parametrize(("what", "head"), [
    ("the job's script", {".gitlab-ci.yml": BASE.replace("script: !reference [.pytest, script]", "script: [exit 0]")}),
    ("a template it extends, in an included file", {"ci/templates.yml": ".pytest:\n  script: [exit 0]\n"}),
    ("an anchor it merges", {".gitlab-ci.yml": BASE.replace("image: python:3.12", "image: evil:latest")}),
    ("a global variable", {".gitlab-ci.yml": BASE.replace('PYTHON: "3.12"', 'PYTHON: "0"')}),
    ("the include of another project", {".gitlab-ci.yml": BASE.replace("file: jobs.yml", "file: lax.yml")}),
])
def test_a_change_to_what_a_job_runs_is_the_merge_requests(tmp_path: Path, what: str, head: dict[str, str]) -> None:
    base = {".gitlab-ci.yml": BASE, "ci/templates.yml": TEMPLATES}
    assert verdicts(tmp_path, base, head, ["test"])["test"] is JobDefinition.CHANGED, what


def test_a_template_only_another_job_uses_leaves_a_job_alone(tmp_path: Path) -> None:
    base = {".gitlab-ci.yml": BASE + ".other:\n  script: [a]\nother:\n  extends: .other\n", "ci/templates.yml": TEMPLATES}
    head = {".gitlab-ci.yml": base[".gitlab-ci.yml"].replace("script: [a]", "script: [b]")}
    found = verdicts(tmp_path, base, head, ["test", "other"])
    assert found == {"test": JobDefinition.SAME, "other": JobDefinition.CHANGED}


def test_a_job_the_target_branch_lacks_was_added(tmp_path: Path) -> None:
    base = {".gitlab-ci.yml": "lint:\n  script: [ruff check]\n"}
    head = {".gitlab-ci.yml": "lint:\n  script: [ruff check]\ntest:\n  script: [exit 0]\n"}
    assert verdicts(tmp_path, base, head, ["test"]) == {"test": JobDefinition.ADDED}


def test_a_name_missing_where_unread_includes_could_define_it_is_unknown(tmp_path: Path) -> None:
    base = {".gitlab-ci.yml": "include: {template: Security/SAST.gitlab-ci.yml}\nlint:\n  script: [x]\n"}
    assert verdicts(tmp_path, base, {}, ["semgrep-sast"]) == {"semgrep-sast": JobDefinition.UNKNOWN}


def test_globbed_local_includes_are_followed(tmp_path: Path) -> None:
    base = {".gitlab-ci.yml": "include: 'ci/**/*.yml'\n", "ci/unit/test.yml": "test:\n  script: [pytest]\n"}
    head = {"ci/unit/test.yml": "test:\n  script: [exit 0]\n"}
    assert verdicts(tmp_path, base, head, ["test"]) == {"test": JobDefinition.CHANGED}
    assert verdicts(tmp_path / "same", base, {"README.md": "x\n"}, ["test"]) == {"test": JobDefinition.SAME}


def test_an_included_symlink_makes_the_jobs_unknown(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("base", {".gitlab-ci.yml": "include: ci/jobs.yml\n", "elsewhere.yml": "test:\n  script: [pytest]\n"})
    builder.symlink("ci/jobs.yml", "../elsewhere.yml")
    sha = builder.commit("link")
    repo = GitRepo.open(builder.path)
    try:
        config = read_ci_config(BaseFiles(repo, sha))
    finally:
        repo.close()
    assert config.problem is not None and "symbolic link" in config.problem


def test_an_alias_bomb_is_unknown_not_a_hang(tmp_path: Path) -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    base = {".gitlab-ci.yml": "test:\n  script: [pytest]\n"}
    head = {".gitlab-ci.yml": bomb + "test:\n  script: [pytest]\n  variables: {X: *i}\n"}
    assert verdicts(tmp_path, base, head, ["test"]) == {"test": JobDefinition.UNKNOWN}


def test_invalid_yaml_and_a_missing_file_are_unknown(tmp_path: Path) -> None:
    assert verdicts(tmp_path, {".gitlab-ci.yml": "test: [unclosed\n"}, {}, ["test"]) == {"test": JobDefinition.UNKNOWN}
    assert verdicts(tmp_path / "none", {"README.md": "x\n"}, {}, ["test"]) == {"test": JobDefinition.UNKNOWN}


def test_parallel_and_matrix_runs_are_runs_of_their_job() -> None:
    assert job_definition_name("test 2/5") == "test"
    assert job_definition_name("deploy: [aws, eu-west-1]") == "deploy"
    assert job_definition_name("test") == "test"


def test_a_configuration_in_another_project_is_outside_the_repository() -> None:
    assert config_outside_repository(".gitlab-ci.yml@security/ci-configs")
    assert config_outside_repository("https://example.com/ci.yml")
    assert not config_outside_repository("ci/pipeline.yml")
    assert not config_outside_repository(None)
