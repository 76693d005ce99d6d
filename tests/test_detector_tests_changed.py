"""The tests_changed detector on real git repositories: test files per language, inline Rust tests, Tested-by."""

from __future__ import annotations

from pathlib import Path

import pytest

from govgate.detectors.tests_changed import DETECTOR, stem
from govgate.errors import PolicyError
from govgate.model import Confidence, Question, Trust
from govgate.policy.loader import parse_policy
from tests.conftest import ALICE, BOB, RepoBuilder, detect, local_change, run_cli


def _change(repo: RepoBuilder, files: dict[str, str | None], message: str = "Change code", author=ALICE):  # type: ignore[no-untyped-def]
    base = repo.head()
    repo.commit(message, files, author=author)
    return local_change(repo, base)


def _seed(repo: RepoBuilder, files: dict[str, str]) -> None:
    repo.commit("Seed", files)


@pytest.mark.parametrize(("source", "test"), [
    ("app/service.py", "tests/test_service.py"),
    ("app/service.py", "app/service_test.py"),
    ("src/Button.tsx", "src/__tests__/Button.test.tsx"),
    ("src/api.ts", "src/api.spec.ts"),
    ("web/cart.js", "web/cart.test.js"),
    ("pkg/store/store.go", "pkg/store/store_test.go"),
    ("src/main/java/com/shop/Order.java", "src/test/java/com/shop/OrderTest.java"),
    ("app/models/user.rb", "spec/models/user_spec.rb"),
    ("lib/parser.rb", "test/lib/parser_test.rb"),
    ("src/parser.rs", "tests/parser.rs"),
])
def test_source_with_matching_test(repo: RepoBuilder, source: str, test: str) -> None:
    [evidence] = detect(DETECTOR, _change(repo, {source: "code = 1\n", test: "check = 1\n"}))
    assert evidence.question is Question.TESTED and evidence.supports
    assert evidence.facets == frozenset({"tests_changed"}) and evidence.trust is Trust.INFERRED
    assert evidence.location.path == test
    assert evidence.attrs["untested_sources"] == [] and evidence.confidence is Confidence.HIGH


def test_sources_without_matching_tests_are_named(repo: RepoBuilder) -> None:
    files = {"app/service.py": "a = 1\n", "app/util.py": "b = 1\n", "app/auth.py": "c = 1\n",
             "tests/test_service.py": "def test(): pass\n", "README.md": "docs\n"}
    [evidence] = detect(DETECTOR, _change(repo, files))
    assert sorted(evidence.attrs["untested_sources"]) == ["app/auth.py", "app/util.py"]
    assert evidence.attrs["counts"] == {"tests": 1, "sources": 3, "untested_sources": 2}
    assert evidence.confidence is Confidence.MEDIUM
    assert "2 of 3 source files have no matching test change" in evidence.detail and "app/util.py" in evidence.detail


def test_unrelated_test_change_still_counts_at_low_confidence(repo: RepoBuilder) -> None:
    [evidence] = detect(DETECTOR, _change(repo, {"app/billing.py": "x = 1\n", "tests/test_search.py": "t = 1\n"}))
    assert evidence.facets == frozenset({"tests_changed"}) and evidence.confidence is Confidence.LOW


def test_change_with_only_tests(repo: RepoBuilder) -> None:
    [evidence] = detect(DETECTOR, _change(repo, {"tests/test_flaky.py": "def test(): assert True\n"}))
    assert evidence.facets == frozenset({"tests_changed"})
    assert "touches no other source files" in evidence.detail


@pytest.mark.parametrize("files", [
    {"app/service.py": "x = 2\n"},
    {"docs/guide.md": "words\n", "README.md": "more words\n"},
    {"vendor/lib/test_vendored.py": "x = 1\n", "node_modules/pkg/index.test.js": "x\n"},
])
def test_no_test_evidence(repo: RepoBuilder, files: dict[str, str]) -> None:
    assert detect(DETECTOR, _change(repo, files)) == []


RUST_BEFORE = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
RUST_WITH_TESTS = RUST_BEFORE + (
    "\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn adds() {\n        assert_eq!(add(2, 2), 4);\n"
    "    }\n}\n"
)


def test_inline_rust_tests_in_added_lines(repo: RepoBuilder) -> None:
    _seed(repo, {"src/lib.rs": RUST_BEFORE})
    [evidence] = detect(DETECTOR, _change(repo, {"src/lib.rs": RUST_WITH_TESTS}))
    assert evidence.location.path == "src/lib.rs" and evidence.location.line == 5
    assert evidence.attrs["untested_sources"] == []


def test_rust_change_below_existing_tests_is_not_a_test_change(repo: RepoBuilder) -> None:
    _seed(repo, {"src/lib.rs": RUST_WITH_TESTS})
    changed = RUST_WITH_TESTS.replace("a + b", "b + a")
    assert detect(DETECTOR, _change(repo, {"src/lib.rs": changed})) == []


def test_deleted_tests_do_not_count_and_raise_a_warning_when_code_changes(repo: RepoBuilder) -> None:
    _seed(repo, {"app/payments.py": "x = 1\n", "tests/test_payments.py": "def test(): assert False\n"})
    [flag] = detect(DETECTOR, _change(repo, {"app/payments.py": "x = 2\n", "tests/test_payments.py": None}))
    assert flag.contradicts and flag.severity == "warning" and flag.kind == "tests-deleted"
    assert flag.location.path == "tests/test_payments.py" and "tests_changed" not in flag.facets


def test_removing_code_with_its_tests_is_housekeeping(repo: RepoBuilder) -> None:
    _seed(repo, {"app/legacy.py": "x = 1\n", "tests/test_legacy.py": "t = 1\n", "app/core.py": "c = 1\n"})
    files = {"app/legacy.py": None, "tests/test_legacy.py": None, "app/core.py": "c = 2\n"}
    assert detect(DETECTOR, _change(repo, files)) == []


def test_deleting_only_tests_is_not_flagged(repo: RepoBuilder) -> None:
    _seed(repo, {"tests/test_obsolete.py": "t = 1\n"})
    assert detect(DETECTOR, _change(repo, {"tests/test_obsolete.py": None})) == []


def test_deleted_and_added_tests(repo: RepoBuilder) -> None:
    _seed(repo, {"app/search.py": "s = 1\n", "tests/test_old_search.py": "t = 1\n"})
    files = {"app/search.py": "s = 2\n", "tests/test_old_search.py": None, "tests/test_search.py": "t = 2\n"}
    [evidence] = detect(DETECTOR, _change(repo, files))
    assert evidence.supports and evidence.location.path == "tests/test_search.py"
    assert evidence.attrs["deleted_tests"] == ["tests/test_old_search.py"]


def test_pure_rename_of_a_test_is_not_a_test_change(repo: RepoBuilder) -> None:
    body = "def test_one():\n    assert 1 + 1 == 2\n" * 5
    _seed(repo, {"tests/test_math.py": body})
    repo.git("mv", "tests/test_math.py", "tests/test_arith.py")
    base = repo.head()
    repo.commit("Rename test module")
    assert detect(DETECTOR, local_change(repo, base)) == []


def test_settings_extend_patterns_and_ignore(repo: RepoBuilder) -> None:
    change = _change(repo, {"checks/verify_orders.sh": "#!/bin/sh\n", "sql/orders.sql": "select 1;\n",
                            "generated/test_client.py": "x = 1\n"})
    [default] = detect(DETECTOR, change)
    assert default.location.path == "generated/test_client.py"  # test_*.py, until ignored
    settings = {"test_patterns": ["checks/**"], "source_patterns": ["*.sql"], "ignore": ["generated/**"]}
    [evidence] = detect(DETECTOR, change, settings)
    assert evidence.location.path == "checks/verify_orders.sh"
    assert evidence.attrs["untested_sources"] == ["sql/orders.sql"]


def test_settings_schema_is_strict() -> None:
    parse_policy("version: 1\nrules: []\nsettings:\n  tests_changed:\n    ignore: [gen/**]\n", "ok.yml")
    with pytest.raises(PolicyError):
        parse_policy("version: 1\nrules: []\nsettings:\n  tests_changed:\n    test_glob: [x]\n", "typo.yml")


def test_stem() -> None:
    assert {stem(p) for p in ("a/service.py", "tests/test_service.py", "service_test.go", "Service.test.ts",
                              "ServiceTest.java", "ServiceTests.java", "service_spec.rb")} == {"service"}


# --- Tested-by trailers ---------------------------------------------------------------------

def test_tested_by_trailers(repo: RepoBuilder) -> None:
    message = ("Fix the scheduler\n\nTested-by: Bob Reviewer <bob@example.com>\n"
               "Tested-by: Alice Example <alice@example.com>\nTested-by: Claude <noreply@anthropic.com>\n")
    change = _change(repo, {"docs/notes.md": "x\n"}, message=message)
    evidence = detect(DETECTOR, change)
    by_subject = {e.subject: e for e in evidence}
    bob = by_subject["bob@example.com"]
    assert bob.facets == frozenset({"tested_by"}) and bob.trust is Trust.DECLARED and bob.discounted is None
    assert bob.location.where == f"Tested-by trailer of {change.commits[0].sha[:12]}" and bob.location.line == 3
    assert by_subject["alice@example.com"].discounted  # the author
    assert by_subject["noreply@anthropic.com"].discounted  # an AI agent


# --- through the engine and the CLI ---------------------------------------------------------

POLICY = """version: 1
rules:
  - id: tests-with-code
    when: {paths: ["app/**"]}
    require:
      tested: {tests_changed: true}
    severity: error
"""


def test_cli_requires_tests_changed(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY, encoding="utf-8")
    base = repo.head()
    repo.commit("Add billing", {"app/billing.py": "rate = 1\n"})
    args = ["check", "--repo", str(repo.path), "--base", base, "--policy", str(policy), "--format", "json"]
    without = run_cli(*args)
    assert without.code == 1, without.stderr
    assert without.json()["questions"]["tested"]["status"] == "missing"
    repo.commit("Test billing", {"tests/test_billing.py": "def test_rate():\n    assert True\n"}, author=BOB)
    with_tests = run_cli(*args)
    assert with_tests.code == 0, with_tests.stdout
    tested = with_tests.json()["questions"]["tested"]
    assert tested["status"] == "satisfied"
    assert tested["evidence"][0]["location"]["path"] == "tests/test_billing.py"


def test_cli_housekeeping_is_not_contradicted(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY, encoding="utf-8")
    repo.commit("Seed", {"app/legacy.py": "x = 1\n", "tests/test_legacy.py": "t = 1\n"})
    base = repo.head()
    repo.commit("Drop legacy module", {"app/legacy.py": None, "tests/test_legacy.py": None, "CHANGELOG.md": "- drop\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", str(policy), "--format", "json")
    assert result.json()["questions"]["tested"]["status"] == "missing"  # not "contradicted"
