"""Editors: the published policy schema, the yaml-language-server line, shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from govgate.project import POLICY_SCHEMA_PATH, POLICY_SCHEMA_URL, PROJECT_URL
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / POLICY_SCHEMA_PATH
GOVGATE = Path(sys.executable).parent / "govgate"  # the installed entry point, as a shell calls it


class Yaml12Loader(yaml.SafeLoader):
    """Reads YAML as an editor's YAML 1.2 language server does: 2027-06-30 stays a string."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def published_validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(PUBLISHED.read_text(encoding="utf-8")))


def test_the_published_schema_is_what_govgate_enforces() -> None:
    printed = run_cli("policy", "schema")
    assert printed.code == 0
    assert json.loads(printed.stdout) == json.loads(PUBLISHED.read_text(encoding="utf-8")), (
        f"{POLICY_SCHEMA_PATH} drifted from the code: regenerate it with `govgate policy schema > {POLICY_SCHEMA_PATH}`"
    )
    assert PUBLISHED.read_text(encoding="utf-8") == printed.stdout  # byte for byte: one way to write it


def test_the_schema_has_a_stable_id_in_the_project() -> None:
    schema = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert schema["$id"] == POLICY_SCHEMA_URL
    assert POLICY_SCHEMA_URL.endswith("/" + POLICY_SCHEMA_PATH)
    assert PROJECT_URL.rsplit("/", 2)[-2:] == POLICY_SCHEMA_URL.split("/")[3:5]  # same owner/name


@pytest.mark.parametrize("policy", sorted((ROOT / "policies").glob("*.yml")) + sorted((ROOT / "examples" / "policies").glob("*.yml")),
                         ids=lambda p: p.name)
def test_an_editor_using_the_published_schema_accepts_every_shipped_policy(policy: Path) -> None:
    data = yaml.load(policy.read_text(encoding="utf-8"), Loader=Yaml12Loader)
    errors = list(published_validator().iter_errors(data))
    assert errors == []


def test_control_an_editor_flags_a_misspelt_requirement() -> None:
    data = {"version": 1, "rules": [{"id": "r", "require": {"reviewed": {"aprovals": 2}}}]}
    assert [e.message for e in published_validator().iter_errors(data)]


def test_policy_init_writes_the_schema_line_and_the_file_validates(tmp_path: Path) -> None:
    target = tmp_path / ".govgate.yml"
    assert run_cli("policy", "init", "--output", str(target)).code == 0
    first = target.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema={POLICY_SCHEMA_URL}"
    result = run_cli("policy", "validate", str(target))
    assert result.code == 0 and "valid" in result.stdout


def complete(words: str, shell: str = "bash") -> str:
    env = {**os.environ, "_GOVGATE_COMPLETE": f"{shell}_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    return subprocess.run([str(GOVGATE)], env=env, capture_output=True, text=True, check=True, timeout=30).stdout


@pytest.mark.parametrize("shell, marker", [("bash", "_govgate_completion"), ("zsh", "#compdef govgate"),
                                           ("fish", "complete --no-files --command govgate")])
def test_completion_scripts_generate_for_each_documented_shell(shell: str, marker: str) -> None:
    env = {**os.environ, "_GOVGATE_COMPLETE": f"{shell}_source"}
    script = subprocess.run([str(GOVGATE)], env=env, capture_output=True, text=True, check=True, timeout=30).stdout
    assert marker in script
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"_GOVGATE_COMPLETE={shell}_source govgate" in readme


def test_completion_completes_commands_subcommands_and_options() -> None:
    assert "plain,policy" in complete("govgate pol").splitlines()
    assert "plain,init" in complete("govgate policy in").splitlines()
    assert "plain,--pre-push" not in complete("govgate check --fo").splitlines()
    assert "plain,--format" in complete("govgate check --fo").splitlines()
