"""The risk detector: factors and scores on real repositories, levels with the default policy's thresholds."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from govgate.detectors.risk import DETECTOR as RISK
from govgate.errors import PolicyError
from govgate.model import Change, Evidence, Question, Trust
from govgate.policy.engine import assess_risk
from govgate.policy.loader import load_policy, parse_policy, preset_path
from govgate.policy.model import Policy
from tests.conftest import RepoBuilder, detect, judge_range, local_change


def code(lines: int, word: str = "value") -> str:
    return "".join(f"{word}_{i} = {i}\n" for i in range(lines))


def commit_change(repo: RepoBuilder, files: dict[str, str | bytes | None],
                  before: dict[str, str | bytes] | None = None) -> Change:
    if before:
        repo.commit("Before", before)  # type: ignore[arg-type]
    base = repo.head()
    repo.commit("Change", files)
    return local_change(repo, base)


@pytest.fixture(scope="module")
def default_policy() -> Policy:
    return load_policy(preset_path("default"))


def level(found: list[Evidence], policy: Policy) -> tuple[str, float]:
    risk = assess_risk(found, policy)
    return risk.level, risk.score


def by_kind(found: list[Evidence]) -> dict[str, float]:
    return {(e.kind if e.kind != "sensitive-path" else f"sensitive:{e.attrs['label']}"): e.attrs["score"] for e in found}


def test_factors_have_the_risk_shape(repo: RepoBuilder) -> None:
    found = detect(RISK, commit_change(repo, {"src/auth/login.py": code(600)}))
    assert found
    for item in found:
        assert item.question is Question.RISK and item.supports and item.trust is Trust.INFERRED
        assert item.source == "risk" and item.attrs["score"] > 0 and item.detail


def test_docs_only_and_tests_only_score_zero(repo: RepoBuilder, default_policy: Policy) -> None:
    docs = commit_change(repo, {"docs/guide.md": code(900), "README.md": code(50), "docs/auth/login.rst": code(10)})
    assert detect(RISK, docs) == []
    tests = commit_change(repo, {"tests/test_auth.py": code(2000), "web/src/__tests__/App.test.tsx": code(300),
                                 "pkg/api/handler_test.go": code(100), "spec/models/user_spec.rb": code(40)})
    found = detect(RISK, tests)
    assert found == [] and level(found, default_policy) == ("low", 0)


def test_small_feature_with_its_test_is_low(repo: RepoBuilder, default_policy: Policy) -> None:
    found = detect(RISK, commit_change(repo, {"src/shop/cart.py": code(35), "tests/test_cart.py": code(15)}))
    assert level(found, default_policy) == ("low", 0)


def test_600_line_auth_change_is_high(repo: RepoBuilder, default_policy: Policy) -> None:
    found = detect(RISK, commit_change(repo, {"src/auth/session_tokens.py": code(600), "tests/test_tokens.py": code(80)}))
    assert by_kind(found) == {"size": 2, "sensitive:authentication": 4}
    assert level(found, default_policy) == ("high", 6)
    size = next(e for e in found if e.kind == "size")
    assert size.attrs["lines"] == 600 and not size.attrs["estimated"]


def test_250_lines_across_three_areas_is_medium(repo: RepoBuilder, default_policy: Policy) -> None:
    found = detect(RISK, commit_change(repo, {
        "api/orders.py": code(100), "web/orders.ts": code(100), "worker/orders.py": code(50),
    }))
    assert by_kind(found) == {"size": 1, "areas": 2}
    assert level(found, default_policy) == ("medium", 3)


def test_size_thresholds_count_added_and_removed_lines(repo: RepoBuilder) -> None:
    # 1000 lines rewritten: 1000 removed + 1000 added
    change = commit_change(repo, {"app/model.py": code(1000, "new")}, before={"app/model.py": code(1000, "old")})
    assert by_kind(detect(RISK, change))["size"] == 3


def test_size_is_estimated_from_blob_sizes_when_counts_are_missing(repo: RepoBuilder) -> None:
    change = commit_change(repo, {"app/big.py": code(900), "app/small.py": code(30, "x") + code(40, "y")},
                           before={"app/small.py": code(30, "x")})
    for file in change.files:  # what a history audit gives: sizes, no line counts
        new, old = file.new_bytes(), file.old_bytes()
        file.new_size, file.old_size = (len(new) if new else None), (len(old) if old else None)
        file.added = file.removed = None
    [size] = [e for e in detect(RISK, change) if e.kind == "size"]
    assert "estimated" in size.detail and size.attrs["estimated"]
    # 40 bytes a line: the whole added file, and only the growth of the modified one
    expected = math.ceil(len(code(900)) / 40) + math.ceil(len(code(40, "y")) / 40)
    assert size.attrs["lines"] == expected and size.attrs["score"] == 1
    assert detect(RISK, change, {"bytes_per_line": 5})[0].attrs["score"] == 3


def test_sensitive_labels_score_once_each(repo: RepoBuilder) -> None:
    found = detect(RISK, commit_change(repo, {
        ".github/workflows/deploy.yml": "on: push\n",
        ".github/workflows/test.yml": "on: push\n",
        "Dockerfile": "FROM python:3.12\n",
        "infra/main.tf": 'resource "null_resource" "x" {}\n',
        "package.json": '{"dependencies": {}}\n',
        "package-lock.json": code(3000),  # generated: counts as dependencies, not as size
    }))
    kinds = by_kind(found)
    assert kinds["sensitive:CI/CD"] == 3 and kinds["sensitive:container image"] == 3
    assert kinds["sensitive:infrastructure"] == 3 and kinds["sensitive:dependencies"] == 2
    assert "size" not in kinds
    ci = next(e for e in found if e.attrs.get("label") == "CI/CD")
    assert ci.location.path == ".github/workflows/deploy.yml" and ci.subject == "CI/CD"
    assert "config-only" not in kinds  # every config file here is already a sensitive path


def test_renamed_out_of_a_sensitive_folder_still_counts(repo: RepoBuilder) -> None:
    body = code(20)
    change = commit_change(repo, {"billing/invoice_math.py": None, "shared/invoice_math.py": body},
                           before={"billing/invoice_math.py": body})
    assert any(f.old_path == "billing/invoice_math.py" for f in change.files)
    assert by_kind(detect(RISK, change)).get("sensitive:payments") == 4


def test_binary_deleted_and_config_only_factors(repo: RepoBuilder) -> None:
    before: dict[str, str | bytes] = {f"legacy/mod_{i}.py": code(5) for i in range(6)}
    found = detect(RISK, commit_change(repo, {
        **dict.fromkeys(before), "assets/logo.png": b"\x89PNG\r\n\x1a\n\0\0\0binary",
    }, before=before))
    kinds = by_kind(found)
    assert kinds["deleted-files"] == 1 and kinds["binary-files"] == 1
    config = detect(RISK, commit_change(repo, {"config/app.yaml": "timeout: 5\n", "config/limits.toml": "max = 3\n"}))
    assert by_kind(config) == {"config-only": 1}


def test_many_files_score(repo: RepoBuilder) -> None:
    found = detect(RISK, commit_change(repo, {f"lib/part_{i}.py": code(2) for i in range(45)}))
    assert by_kind(found) == {"files": 2}


def test_settings_change_labels_thresholds_and_ignores(repo: RepoBuilder) -> None:
    change = commit_change(repo, {"src/auth/login.py": code(300), "generated/api.py": code(300),
                                  "vendor/lib.py": code(10)})
    default = by_kind(detect(RISK, change))
    assert default["sensitive:authentication"] == 4 and default["size"] == 2
    tuned = by_kind(detect(RISK, change, {
        "sensitive_paths": [{"label": "authentication", "score": 0}, {"label": "vendored", "score": 2, "glob": "vendor"}],
        "ignore": ["generated/**"],
        "size_thresholds": [{"above": 100, "score": 5}],
    }))
    # generated/ is ignored now, so only two areas are left (src/auth, vendor): no areas factor
    assert tuned == {"size": 5, "sensitive:vendored": 2}
    assert default["areas"] == 2
    counted_tests = by_kind(detect(RISK, commit_change(repo, {"tests/test_x.py": code(250)}), {"builtin_ignore": False}))
    assert counted_tests == {"size": 1}


def test_policy_schema_for_risk_settings_is_strict(tmp_path: Path) -> None:
    good = parse_policy(
        "version: 1\nrules: []\nsettings:\n  risk:\n    ignore: [generated/**]\n"
        "    sensitive_paths:\n      - {label: ledger, score: 4, glob: [ledger/**]}\n", "good.yml")
    assert good.settings["risk"]["sensitive_paths"][0]["label"] == "ledger"
    with pytest.raises(PolicyError, match=r"bad.yml:5: settings.risk.sensitive_paths\[0\].pattern: unknown key"):
        parse_policy("version: 1\nrules: []\nsettings:\n  risk:\n    sensitive_paths: [{label: x, score: 1, pattern: y}]\n",
                     "bad.yml")
    with pytest.raises(PolicyError, match="size_threshold"):
        parse_policy("version: 1\nrules: []\nsettings:\n  risk:\n    size_threshold: []\n", "typo.yml")


def test_cli_reports_risk_level_and_custom_sensitive_path(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nrules: []\nsettings:\n  risk:\n    sensitive_paths:\n"
                      "      - {label: ledger, score: 6, glob: ledger/**}\n")
    base = repo.head()
    repo.commit("Touch the ledger", {"ledger/post.py": code(10)})
    verdict = judge_range(repo, base, "HEAD", str(policy))
    assert verdict["risk"]["level"] == "high" and verdict["risk"]["score"] == 6
    [factor] = verdict["risk"]["factors"]
    assert factor["kind"] == "sensitive-path" and factor["location"] == {"path": "ledger/post.py"}
    default = judge_range(repo, base)
    assert default["risk"]["level"] == "low"


# -- a folder name is the author's choice: it cannot hide code from the risk score ------------------

CLAUDE_TRAILER = "Co-Authored-By: Claude <noreply@anthropic.com>"


@pytest.mark.parametrize(("hidden", "honest"), [
    ("src/auth/tests/session_bypass.py", "src/auth/tests/test_session.py"),
    ("src/auth/test/helpers.py", "src/auth/test/helpers_test.py"),
    ("payments/docs/refunds.py", "payments/docs/refunds.md"),
    ("payments/doc/handler.ts", "payments/doc/handler.rst"),
    ("src/auth/__tests__/token.ts", "src/auth/__tests__/token.test.ts"),
    ("src/auth/spec/login.rb", "src/auth/spec/login_spec.rb"),
    ("src/auth/testdata/keys.go", "src/auth/testdata/keys_test.go"),
])
def test_code_in_a_tests_or_docs_folder_of_a_sensitive_area_still_counts(
    repo: RepoBuilder, default_policy: Policy, hidden: str, honest: str,
) -> None:
    # Control: a real test file (by its language's naming) or real documentation (by file type)
    # in that folder counts for nothing.
    control = detect(RISK, commit_change(repo, {honest: code(20)}))
    assert control == [] and level(control, default_policy) == ("low", 0)
    # Attack: the same folder holding code that is neither.
    attack = by_kind(detect(RISK, commit_change(repo, {hidden: code(20)})))
    assert attack.get("sensitive:authentication", attack.get("sensitive:payments")) == 4


def test_a_risky_ai_change_hidden_in_a_tests_folder_still_needs_review(repo: RepoBuilder) -> None:
    base = repo.head()
    message = f"Speed up logins\n\n{CLAUDE_TRAILER}\n"
    repo.commit(message, {"src/auth/tests/test_login.py": code(30)})
    control = judge_range(repo, base)
    assert control["risk"]["level"] == "low" and control["verdict"] == "pass"

    attack_base = repo.head()
    repo.commit(message, {"src/auth/tests/fast_login.py": code(30)})
    attack = judge_range(repo, attack_base)
    assert attack["ai_assisted"] and attack["risk"]["level"] in ("medium", "high")
    assert attack["verdict"] == "fail"
    assert "ai-risky-needs-human-review" in {r["id"] for r in attack["rules"] if r["status"] == "fail"}
