"""The GitLab Code Quality report, rendered from real verdicts and checked against the report format."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from govgate.formats import codequality
from govgate.model import Gap, GapKind, Severity
from tests.conftest import DATA, RepoBuilder, run_cli
from tests.test_github_formats import make_verdict, red_flag


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((DATA / "gitlab-codequality.schema.json").read_text(encoding="utf-8"))


def render(verdict: object) -> list[dict]:
    text = codequality.render_check(verdict)  # type: ignore[arg-type]
    assert not text.startswith("\ufeff")  # GitLab's parser refuses a byte order mark
    return json.loads(text)


def test_failing_rules_become_issues_at_their_red_flags_or_the_first_file(schema: dict) -> None:
    issues = render(make_verdict([red_flag()]))
    jsonschema.validate(issues, schema)
    by_check = {issue["check_name"]: issue for issue in issues}
    assert set(by_check) == {"no-all-at-once", "needs-review"}  # the waived warning is not an issue
    assert by_check["no-all-at-once"]["location"] == {"path": "deploy/app.yaml", "lines": {"begin": 12}}
    assert by_check["needs-review"]["location"] == {"path": "src/api.py", "lines": {"begin": 1}}
    assert {issue["severity"] for issue in issues} == {"critical"}
    assert "Fix: Use a RollingUpdate strategy." in by_check["no-all-at-once"]["description"]


def test_a_passing_change_is_an_empty_report(schema: dict) -> None:
    policy = "version: 1\nrules:\n  - id: no-all-at-once\n    require:\n      rollout: {no_red_flags: true}\n"
    issues = render(make_verdict([], policy))
    assert issues == []
    jsonschema.validate(issues, schema)


def test_fingerprints_are_stable_across_runs_and_distinct_across_findings(schema: dict) -> None:
    first = render(make_verdict([red_flag(line=12), red_flag(path="deploy/b.yaml", line=3)], head="c" * 40))
    again = render(make_verdict([red_flag(line=40), red_flag(path="deploy/b.yaml", line=9)], head="d" * 40))
    assert [i["fingerprint"] for i in first] == [i["fingerprint"] for i in again]  # lines and shas moved, identity did not
    assert len({i["fingerprint"] for i in first}) == len(first) == 3
    jsonschema.validate(first, schema)


def test_severity_follows_the_rule_and_fail_on(schema: dict) -> None:
    policy = "version: 1\nrules:\n  - id: flags\n    severity: warning\n    require:\n      rollout: {no_red_flags: true}\n"
    verdict = make_verdict([red_flag()], policy)
    assert [i["severity"] for i in render(verdict)] == ["minor"]  # fails, but below --fail-on error
    verdict.fail_on = Severity.WARNING
    assert [i["severity"] for i in render(verdict)] == ["major"]


def test_a_change_not_read_in_full_is_a_blocker(schema: dict) -> None:
    verdict = make_verdict([], files=[])
    verdict.incomplete = [Gap(GapKind.FILES_TRUNCATED, "GitLab counts 1000+ changed files but listed 1000")]
    issues = render(verdict)
    jsonschema.validate(issues, schema)
    blocker = next(i for i in issues if i["severity"] == "blocker")
    assert blocker["check_name"] == "govgate/incomplete/files_truncated"
    assert blocker["location"]["path"] == ".govgate.yml"  # no file to point at: the policy's place


def test_untrusted_text_stays_one_line_of_json(schema: dict) -> None:
    title = 'Sneaky "title"\n\n"},{"check_name":"forged'
    issues = render(make_verdict([red_flag(detail=title + " " + "x" * 3000)], title=title))
    jsonschema.validate(issues, schema)
    assert all("\n" not in issue["description"] and len(issue["description"]) <= 1000 for issue in issues)
    assert all(issue["check_name"] != "forged" for issue in issues)


def test_the_cli_writes_the_report(repo: RepoBuilder, tmp_path: Path, schema: dict) -> None:
    base = repo.head()
    repo.commit("Deploy everything at once", {"deploy/app.yaml": (DATA / "deploy" / "k8s" / "mysql-deployment.yaml").read_text()})
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nrules:\n  - id: gradual\n    require:\n"
                      "      rollout: {no_red_flags: true, allow_warnings: false}\n", encoding="utf-8")
    report = tmp_path / "gl-code-quality-report.json"
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", str(policy), "--format", "codequality",
                     "-o", str(report))
    assert result.code == 1, result.stderr
    issues = json.loads(report.read_text(encoding="utf-8"))
    jsonschema.validate(issues, schema)
    assert issues and issues[0]["check_name"] == "gradual" and issues[0]["location"]["path"] == "deploy/app.yaml"
