"""Policy files: strict schema, errors that name file, line and key, presets, CLI commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govgate.errors import PolicyError
from govgate.policy.loader import load_policy, parse_policy, preset_names, preset_path
from tests.conftest import run_cli

VALID = """\
version: 1
rules:
  - id: ai-needs-two
    when: {ai_assisted: true}
    require:
      reviewed: {approvals: 2, trust: verified}
      tested: {tests_changed: true}
    severity: error
  - id: migrations-must-reverse
    when: {paths: ["**/migrations/**"]}
    require:
      rollback: {reversible_migrations: true}
waivers:
  - {rule: migrations-must-reverse, change: "#482", reason: "forward-only backfill", approved_by: alice, expires: 2027-01-31}
"""


def error_of(text: str) -> str:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "policy.yml")
    return info.value.message


def test_valid_policy_builds_typed_rules() -> None:
    policy = parse_policy(VALID, "policy.yml")
    assert [r.id for r in policy.rules] == ["ai-needs-two", "migrations-must-reverse"]
    reviewed = policy.rules[0].require[0]
    assert (reviewed.question, reviewed.approvals, reviewed.trust) == ("reviewed", 2, "verified")
    assert policy.rules[1].severity == "error"  # the default
    assert policy.waivers[0].expires == "2027-01-31"  # a YAML date is kept as the text the user wrote


def test_unknown_key_names_file_line_and_expected_keys() -> None:
    text = VALID.replace("    require:\n      rollback", "    requre:\n      rollback")
    lines = error_of(text).splitlines()
    # the misspelt key, and (since a rule must require something) the requirement it failed to give
    assert lines[0] == "policy.yml:9: rules[1]: 'require' is a required property"
    assert lines[1].startswith("policy.yml:11: rules[1].requre: unknown key 'requre'")
    assert "require" in lines[1] and "severity" in lines[1]


def test_misspelt_requirement_key_is_an_error_not_ignored() -> None:
    message = error_of(VALID.replace("approvals: 2", "aprovals: 2"))
    assert "policy.yml:6:" in message and "rules[0].require.reviewed.aprovals" in message


def test_wrong_type_and_bad_enum_point_at_the_value() -> None:
    assert "policy.yml:6: rules[0].require.reviewed.approvals" in error_of(VALID.replace("approvals: 2", "approvals: two"))
    message = error_of(VALID.replace("severity: error", "severity: fatal"))
    assert "policy.yml:8: rules[0].severity" in message and "expected one of: error, warning, info" in message


def test_duplicate_rule_ids_are_rejected() -> None:
    text = VALID.replace("id: migrations-must-reverse", "id: ai-needs-two")
    assert "duplicate rule id 'ai-needs-two'" in error_of(text)


def test_duplicate_yaml_keys_are_rejected() -> None:
    text = "version: 1\nrules: []\nrules: []\n"
    assert error_of(text) == "policy.yml:3: rules: duplicate key (first given on line 2)"


def test_malformed_yaml_is_reported_with_line() -> None:
    message = error_of("version: 1\nrules:\n  - id: [unclosed\n")
    assert message.startswith("policy.yml:") and "malformed YAML" in message


def test_missing_required_waiver_fields() -> None:
    text = VALID.replace(', approved_by: alice', '')
    assert "'approved_by' is a required property" in error_of(text)


def test_every_problem_is_listed_one_per_line() -> None:
    text = VALID.replace("approvals: 2", "approvals: -1").replace("severity: error", "severity: loud")
    lines = error_of(text).splitlines()
    assert len(lines) == 2 and lines[0].startswith("policy.yml:6:") and lines[1].startswith("policy.yml:8:")


def test_empty_and_non_mapping_policies() -> None:
    assert "empty" in error_of("")
    assert "must be a mapping" in error_of("- just\n- a list\n")


def test_risk_thresholds_must_be_ordered() -> None:
    assert "must not exceed" in error_of("version: 1\nrisk: {medium: 9, high: 2}\nrules: []\n")


def test_extends_takes_preset_rules_and_overrides_by_id() -> None:
    policy = parse_policy(
        "version: 1\nextends: default\nrules:\n  - id: migrations-must-reverse\n    severity: warning\n"
        "    require: {rollback: {reversible_migrations: true}}\n",
        "p.yml",
    )
    by_id = {r.id: r for r in policy.rules}
    assert by_id["migrations-must-reverse"].severity == "warning"
    assert "ai-risky-needs-human-review" in by_id


@pytest.mark.parametrize("name", ["default", "strict", "ai-strict"])
def test_shipped_presets_are_valid(name: str) -> None:
    assert name in preset_names()
    policy = load_policy(preset_path(name))
    assert policy.rules


def test_unreadable_policy_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "missing.yml")
    with pytest.raises(PolicyError, match="is a directory"):
        load_policy(tmp_path)
    bad = tmp_path / "latin1.yml"
    bad.write_bytes(b"version: 1\nrules: []\n# caf\xe9\n")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(bad)


def test_cli_validate_reports_errors_with_exit_2(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(VALID)
    bad = tmp_path / "bad.yml"
    bad.write_text(VALID.replace("trust: verified", "trust: sworn"))
    ok = run_cli("policy", "validate", str(good))
    assert ok.code == 0 and "valid (2 rules, 1 waivers)" in ok.stdout
    result = run_cli("policy", "validate", str(good), str(bad))
    assert result.code == 2
    assert f"{bad}:6: rules[0].require.reviewed.trust: 'sworn' is not allowed" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_explain_and_init(tmp_path: Path) -> None:
    explained = run_cli("policy", "explain", "--policy", "ai-strict")
    assert explained.code == 0
    assert "ai-two-verified-approvals [error]" in explained.stdout
    assert "2 approvals by humans with write access who neither wrote nor pushed the commits" in explained.stdout
    as_json = run_cli("policy", "explain", "--policy", "strict", "--format", "json").json()
    assert any(r["id"] == "every-change-reviewed" for r in as_json["rules"])

    target = tmp_path / ".govgate.yml"
    assert run_cli("policy", "init", "--preset", "strict", "--output", str(target)).code == 0
    assert run_cli("policy", "validate", str(target)).code == 0
    again = run_cli("policy", "init", "--output", str(target))
    assert again.code == 2 and "already exists" in again.stderr


def test_cli_schema_is_json_with_detector_settings() -> None:
    schema = json.loads(run_cli("policy", "schema").stdout)
    assert schema["title"] == "govgate policy"
    assert "review_trailers" in schema["properties"]["settings"]["properties"]


def test_unknown_preset_is_a_clear_error() -> None:
    result = run_cli("policy", "explain", "--policy", "nonesuch")
    assert result.code == 2 and "unknown preset 'nonesuch'" in result.stderr and "default" in result.stderr


def test_validation_is_cached_per_exact_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVGATE_CACHE_DIR", str(tmp_path / "cache"))
    parse_policy(VALID, "a.yml")
    remembered = list((tmp_path / "cache" / "validated").iterdir())
    assert len(remembered) == 1
    # a different text is validated afresh, so an error is never hidden by the cache
    with pytest.raises(PolicyError, match="unknown key"):
        parse_policy(VALID + "extra: 1\n", "a.yml")
    assert len(list((tmp_path / "cache" / "validated").iterdir())) == 1


WAIVER = ("version: 1\nrules:\n  - {{id: r, require: {{reviewed: {{approvals: 1}}}}}}\nwaivers:"
          "\n  - rule: r\n    change: {target}\n    reason: x\n    approved_by: a\n    expires: 2999-01-01\n")


@pytest.mark.parametrize("target", ["'#482'", "'0123456789ab'", "0123456789abcdef0123456789abcdef01234567", "'ABCDEF012345'"])
def test_a_waiver_names_a_pull_request_or_at_least_12_hex_digits_of_a_head(target: str) -> None:
    assert parse_policy(WAIVER.format(target=target), "policy.yml").waivers[0].change == target.strip("'")


@pytest.mark.parametrize("target", ["abc1234", "'0123456789a'", "main", "'#'", "'#0'", "'#12abc'", "'feature/x'",
                                    "'0123456789abz'"])
def test_weaker_waiver_targets_are_refused_with_file_line_and_key(target: str) -> None:
    message = error_of(WAIVER.format(target=target))
    assert message.startswith("policy.yml:6: waivers[0].change: ")
    assert "'#N' (a pull request), the full head sha, or at least 12 hex digits of the head commit" in message


def test_together_with_is_validated_and_explained(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text("version: 1\nrules:\n  - id: r\n    when: {forge: true}\n    require:\n      rollback:\n"
                    "        any_of: [revert_path, {facet: plan, together_with: {reviewed: {approvals: 1, trust: verified}}}]\n")
    explained = run_cli("policy", "explain", "--policy", str(good))
    assert explained.code == 0, explained.stderr
    assert ("rollback: one of: an automatic revert path (atomic deploy, analysis abort, create-before-destroy) / a written "
            "plan in the PR body, counted only together with reviewed: 1 approval by humans with write access") in explained.stdout
    assert "applies to: read from a forge that verifies reviews and checks (GitHub)" in explained.stdout
    message = error_of("version: 1\nrules:\n  - id: r\n    require:\n      rollback:\n"
                       "        any_of: [{facet: plan, togther_with: {reviewed: {approvals: 1}}}]\n")
    assert message.startswith("policy.yml:6: rules[0].require.rollback.any_of[0]")
    assert "forge" in error_of("version: 1\nrules:\n  - {id: r, when: {forge: github}, require: {reviewed: {}}}\n")
