"""Hostile and broken policies: bounded parsing, complete validation, a cache that cannot switch it off.

Every bad policy must end in ``file:line: key: ...`` and exit 2 (never "internal error"), within
bounded time and memory; each attack is paired with a control that is valid.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from govgate.errors import PolicyError
from govgate.limits import MAX_POLICY_BYTES, MAX_POLICY_DEPTH
from govgate.policy import loader
from govgate.policy.loader import load_policy, parse_policy
from tests.conftest import RepoBuilder, run_cli

RULE = "rules:\n  - id: r\n    require: {reviewed: {approvals: 1}}\n"
VALID = "version: 1\n" + RULE


def error_of(text: str, source: str = "p.yml") -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source)
    return caught.value.message


def validate(tmp_path: Path, text: str) -> tuple[int, str, str]:
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("policy", "validate", str(path))
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    return result.code, result.stdout, result.stderr


# -- bounded parsing ----------------------------------------------------------------------------------

def alias_bomb(levels: int) -> str:
    lines = [VALID.rstrip("\n"), 'description: &a0 "lol"']
    for i in range(levels):
        lines.append(f"x{i}: &a{i + 1} [" + ",".join([f"*a{i}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_the_document_is_built(tmp_path: Path) -> None:
    # CONTROL: the same shape two levels deep (81 values) is within the budget: it reaches the schema,
    # which rejects the extra keys for what they are.
    assert "unknown key 'x0'" in error_of(alias_bomb(2)) and "expands" not in error_of(alias_bomb(2))
    started = time.process_time()
    code, _, stderr = validate(tmp_path, alias_bomb(9))  # 9**9 = 387 million values once expanded
    assert code == 2 and "expands to more than 100,000 values" in stderr and "policy.yml:" in stderr
    assert time.process_time() - started < 5  # this process only waits; the child is bounded below
    # In-process the refusal costs well under a second (before: 36 s of CPU and 3 GB, then MemoryError).
    started = time.process_time()
    error_of(alias_bomb(9))
    assert time.process_time() - started < 2


def test_a_small_alias_expansion_is_still_accepted() -> None:
    text = VALID + "settings:\n  ai: {labels: &labels [ai-generated, bot]}\n  risk: {config_files: [a.cfg]}\n"
    assert parse_policy(text, "p.yml").settings["ai"]["labels"] == ["ai-generated", "bot"]


def test_a_recursive_alias_and_deep_nesting_are_policy_errors() -> None:
    assert "nests more than 64 levels deep" in error_of("version: 1\nrules: &r [*r]\n")
    deep = "version: 1\nrules: []\ndescription: " + "[" * (MAX_POLICY_DEPTH + 5) + "]" * (MAX_POLICY_DEPTH + 5) + "\n"
    assert "nests more than 64 levels deep" in error_of(deep)
    block = "version: 1\nrules: []\nsettings:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)) + "\n"
    message = error_of(block)
    assert message.startswith("p.yml:") and ("levels deep" in message or "unknown key" in message)


def test_an_oversized_policy_is_refused_before_parsing(tmp_path: Path) -> None:
    filler = "# " + "x" * 76 + "\n"
    just_under = VALID + filler * ((MAX_POLICY_BYTES - len(VALID)) // len(filler))
    assert len(just_under.encode()) <= MAX_POLICY_BYTES
    assert parse_policy(just_under, "p.yml").rules[0].id == "r"  # CONTROL: at the limit it loads
    code, _, stderr = validate(tmp_path, just_under + filler)
    assert code == 2 and "larger than 1024 KiB" in stderr
    huge = tmp_path / "huge.yml"
    with huge.open("w") as handle:  # 20 MB: before the fix 38 s of CPU and 1.2 GB of memory
        handle.write(VALID)
        for _ in range(20):
            handle.write(filler * 13_000)
    with pytest.raises(PolicyError, match="larger than"):
        load_policy(huge)


def test_yaml_keys_must_be_plain_names() -> None:
    assert "a key must be a plain name" in error_of(VALID + "? [a, b]\n: 1\n")


# -- complete validation --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("version: 1\nrules: 7\n", "p.yml:2: rules: 7 is not of type 'array'"),
    ("version: 1\nrules: {}\n", "p.yml:2: rules: {} is not of type 'array'"),
    ("version: 1\nrules: [3]\n", "p.yml:2: rules[0]: 3 is not of type 'object'"),
    ("version: 1\nrules: []\nsettings: 5\n", "p.yml:3: settings: 5 is not of type 'object'"),
    ("version: 1\nrules: []\nwaivers: 3\n", "p.yml:3: waivers: 3 is not of type 'array'"),
    ("version: 1\nrules:\n  - id: a\n", "p.yml:3: rules[0]: 'require' is a required property"),
    ("version: 1\nrules:\n  - id: a\n    require: {reviewed: {approvals: 0}}\n",
     "p.yml:4: rules[0].require.reviewed.approvals: 0 is less than the minimum of 1"),
    (VALID + "risk: {medium: .nan}\n", "p.yml:5: risk.medium: nan is not a finite number"),
    (VALID + "settings:\n  risk: {binary_score: 1.5}\n", "p.yml:6: settings.risk.binary_score: 1.5 is not of type 'integer'"),
])
def test_wrong_shapes_are_policy_errors_with_file_line_and_key(text: str, expected: str) -> None:
    assert expected in error_of(text)


WAIVER = '  - {rule: r, change: "#1", reason: why, approved_by: alice, expires: EXPIRES}\n'


@pytest.mark.parametrize(("expires", "reason"), [
    ("2027-02-30", "day is out of range for month"),
    ("2027-13-45", "month must be in 1..12"),
    ("2027-1-5", "expected a date written YYYY-MM-DD"),
    ('"next year"', "expected a date written YYYY-MM-DD"),
])
def test_impossible_dates_are_policy_errors(expires: str, reason: str) -> None:
    control = VALID + "waivers:\n" + WAIVER.replace("EXPIRES", "2099-02-28")
    assert parse_policy(control, "p.yml").waivers[0].expires == "2099-02-28"
    message = error_of(VALID + "waivers:\n" + WAIVER.replace("EXPIRES", expires))
    assert message.startswith("p.yml:6: waivers[0].expires:") and reason in message


def test_waiver_fields_must_not_be_blank_and_must_name_a_rule() -> None:
    blank = VALID + "waivers:\n" + WAIVER.replace("EXPIRES", "2099-01-01").replace("alice", '"  "')
    assert "p.yml:6: waivers[0].approved_by: '  ' must not be blank" in error_of(blank)
    unknown = VALID + "waivers:\n" + WAIVER.replace("EXPIRES", "2099-01-01").replace("rule: r", "rule: nosuch")
    assert "p.yml:6: waivers[0].rule: waives 'nosuch', which is not a rule of this policy (rules: r)" in error_of(unknown)
    # A rule inherited from the preset it extends counts.
    inherited = "version: 1\nextends: default\nrules: []\nwaivers:\n" + WAIVER.replace("EXPIRES", "2099-01-01").replace(
        "rule: r", "rule: policy-change-needs-review")
    assert parse_policy(inherited, "p.yml").waivers[0].rule == "policy-change-needs-review"


def test_an_expired_waiver_is_a_warning_at_validate_time(tmp_path: Path) -> None:
    expired = VALID + "waivers:\n" + WAIVER.replace("EXPIRES", "2020-01-01")
    policy = parse_policy(expired, "p.yml", today=dt.date(2026, 1, 1))
    assert policy.warnings == ("p.yml:6: waivers[0].expires: the waiver of 'r' for '#1' expired on 2020-01-01; "
                               "it no longer applies (renew it or remove it)",)
    code, stdout, stderr = validate(tmp_path, expired)
    assert code == 0 and "valid (1 rules, 1 waivers)" in stdout and "govgate: warning:" in stderr and "expired on 2020-01-01" in stderr
    code, _, stderr = validate(tmp_path, VALID + "waivers:\n" + WAIVER.replace("EXPIRES", "2099-01-01"))
    assert code == 0 and "warning" not in stderr  # CONTROL


@pytest.mark.parametrize(("settings", "key", "problem"), [
    ("ai: {body_patterns: ['(unclosed']}", "settings.ai.body_patterns[0]", "not a usable regular expression"),
    ("ai: {body_patterns: ['(?<=x)y']}", "settings.ai.body_patterns[0]", "lookarounds and backreferences"),
    ("helm: {production_pattern: '[z-a]'}", "settings.helm.production_pattern", "not a usable regular expression"),
    ("tests_changed: {test_patterns: ['[z-a]']}", "settings.tests_changed.test_patterns[0]", "not a valid glob"),
    ("risk: {sensitive_paths: [{label: x, score: 1, glob: '*[z-a]*x*'}]}", "settings.risk.sensitive_paths[0].glob",
     "not a valid glob"),
])
def test_bad_patterns_in_settings_fail_at_validate_time(tmp_path: Path, settings: str, key: str, problem: str) -> None:
    code, _, stderr = validate(tmp_path, VALID + "settings:\n  " + settings + "\n")
    assert code == 2 and f"policy.yml:6: {key}:" in stderr and problem in stderr, stderr


def test_bad_globs_in_conditions_fail_at_validate_time(tmp_path: Path) -> None:
    text = "version: 1\nrules:\n  - id: r\n    when: {paths: ['src/**', '[z-a]']}\n    require: {reviewed: {}}\n"
    code, _, stderr = validate(tmp_path, text)
    assert code == 2 and "policy.yml:4: rules[0].when.paths[1]: '[z-a]' is not a valid glob" in stderr
    code, _, _ = validate(tmp_path, text.replace(", '[z-a]'", ""))
    assert code == 0  # CONTROL
    frozen = ("version: 1\nrules: []\nfreezes:\n  windows:\n    - id: w\n      start: 2027-01-01T00:00:00Z\n"
              "      end: 2027-01-02T00:00:00Z\n      paths: ['src/**', '[z-a]']\n")
    code, _, stderr = validate(tmp_path, frozen)
    assert code == 2 and "policy.yml:8: freezes.windows[0].paths[1]: '[z-a]' is not a valid glob" in stderr
    assert validate(tmp_path, frozen.replace(", '[z-a]'", ""))[0] == 0  # CONTROL


def test_extends_names_a_preset_never_a_path(tmp_path: Path) -> None:
    outside = tmp_path / "evil.yml"
    outside.write_text("version: 1\nrules: []\n", encoding="utf-8")
    relative = Path("..") / ".." / ".." / ".." / ".." / ".." / ".." / str(outside.with_suffix("")).lstrip("/")
    message = error_of(f"version: 1\nextends: {relative}\nrules: []\n")
    assert "unknown preset" in message


# -- the validation cache cannot switch validation off ------------------------------------------------

def test_a_forged_or_stale_cache_entry_never_skips_a_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_CACHE_DIR", str(tmp_path / "cache"))
    bad = VALID + "waivers:\n" + WAIVER.replace("EXPIRES", "2027-02-30")
    key = loader._validation_key(bad)
    assert key is not None
    key.parent.mkdir(parents=True)
    key.write_bytes(loader._entry(key))  # a well-formed entry claiming the bad text passed the schema
    # The checks beyond the schema run on every load, whatever the cache says.
    assert "2027-02-30 is not a calendar date" in error_of(bad)
    # An entry that is not exactly what govgate writes is ignored, and the schema runs.
    shape = "version: 1\nrules: 7\n"
    forged = loader._validation_key(shape)
    assert forged is not None
    forged.write_bytes(b"")
    assert "rules: 7 is not of type 'array'" in error_of(shape)
    # CONTROL: a valid text is remembered once and then loads from the cache.
    parse_policy(VALID, "p.yml")
    assert loader._remembered(loader._validation_key(VALID))


def test_the_cache_key_covers_the_schema(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GOVGATE_CACHE_DIR", str(tmp_path / "cache"))
    before = loader._validation_key(VALID)
    schema = loader._schema()
    monkeypatch.setattr(loader, "_schema", lambda: {**schema, "title": "another schema"})
    assert loader._validation_key(VALID) != before


# -- a catastrophic user regex runs in linear time -------------------------------------------------------

def test_a_catastrophic_body_pattern_is_matched_in_linear_time(repo: RepoBuilder, tmp_path: Path) -> None:
    repo.commit("Change", {"a.txt": "b\n"})
    policy = tmp_path / "rx.yml"
    policy.write_text(VALID + "settings:\n  ai: {body_patterns: ['^(a+)+$']}\n", encoding="utf-8")
    body = tmp_path / "body.md"
    args = ("check", "--repo", str(repo.path), "--base", "HEAD~1", "--policy", str(policy), "--format", "json",
            "--pr-body-file", str(body))
    # CONTROL: a body the pattern matches marks the change AI-assisted.
    body.write_text("a" * 40 + "\n", encoding="utf-8")
    result = run_cli(*args, timeout=60)
    assert result.code in (0, 1) and result.json()["ai_assisted"] is True, result.stderr
    # ATTACK: with Python's engine 32 a's and a '!' took longer than 120 s; RE2 answers at once.
    body.write_text("a" * 100_000 + "!\n", encoding="utf-8")
    started = time.monotonic()
    result = run_cli(*args, timeout=60)
    assert time.monotonic() - started < 30
    assert result.code in (0, 1) and result.json()["ai_assisted"] is False, result.stderr
