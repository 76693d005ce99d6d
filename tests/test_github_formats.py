"""Markdown job summary, workflow-command annotations, SARIF 2.1.0 and JUnit, rendered from real verdicts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from govgate.formats import github_annotations, junit, markdown, sarif
from govgate.model import Change, Evidence, FileChange, FileStatus, Location, PullRequest, Question, Trust
from govgate.policy.engine import judge
from govgate.policy.loader import parse_policy
from govgate.verdict import Verdict
from tests.conftest import DATA, run_cli
from tests.github_case import VERIFIED_POLICY, actions_env, pr_repo, pull_request_event, serve_evidence, write_event
from tests.github_server import GitHubServer

POLICY = """\
version: 1
rules:
  - id: no-all-at-once
    description: Deploys roll out gradually
    require:
      rollout: {no_red_flags: true}
    message: Use a RollingUpdate strategy.
  - id: needs-review
    require:
      reviewed: {approvals: 1, trust: verified}
    message: Ask for a review.
  - id: docs-only
    when: {paths: ["docs/**"]}
    require:
      tested: {test_plan: true}
  - id: waived-tests
    require:
      tested: {tests_changed: true}
    severity: warning
waivers:
  - {rule: waived-tests, change: "#7", reason: "docs change", approved_by: carol, expires: 2999-01-01}
"""


def red_flag(path: str = "deploy/app.yaml", line: int = 12, detail: str = "strategy Recreate stops every pod at once") -> Evidence:
    return Evidence(Question.ROLLOUT, "recreate-strategy", False, Trust.INFERRED, "k8s_deployment", detail,
                    Location(path=path, line=line, end_line=line + 1), subject=path)


def make_verdict(evidence: list[Evidence], policy: str = POLICY, *, title: str = "Roll out the new API",
                 head: str = "b" * 40, problems: list[str] | None = None, files: list[str] | None = None) -> Verdict:
    change = Change(
        id="#7", title=title, base="a" * 40, head=head, commits=[],
        files=[FileChange(path=p, status=FileStatus.MODIFIED, added=3, removed=1)
               for p in (files if files is not None else ["src/api.py", "deploy/app.yaml"])],
        pull_request=PullRequest(number=7, url="https://github.com/o/r/pull/7"),
        problems=list(problems or []),
    )
    return judge(change, evidence, parse_policy(policy, ".govgate.yml"))


# -- SARIF -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    # OASIS sarif-spec sarif-2.1/schema/sarif-schema-2.1.0.json (see tests/data/SOURCES.md)
    return json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


def validate_sarif(text: str, schema: dict) -> dict:
    log = json.loads(text)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class(schema).validate(log)
    return log


def test_sarif_is_valid_2_1_0_with_stable_rule_ids_and_locations(sarif_schema: dict) -> None:
    log = validate_sarif(sarif.render_check(make_verdict([red_flag()])), sarif_schema)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["no-all-at-once", "needs-review", "docs-only", "waived-tests"]
    assert all(r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"] for r in rules)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert set(by_rule) == {"no-all-at-once", "needs-review", "waived-tests"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert location["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["primaryLocationLineHash"].endswith(":1")
    flagged = by_rule["no-all-at-once"]["locations"][0]["physicalLocation"]
    assert flagged == {"artifactLocation": {"uri": "deploy/app.yaml"}, "region": {"startLine": 12, "endLine": 13}}
    assert by_rule["no-all-at-once"]["level"] == "error"
    # No line to point at (missing evidence): the first changed file, line 1.
    missing = by_rule["needs-review"]["locations"][0]["physicalLocation"]
    assert missing == {"artifactLocation": {"uri": "src/api.py"}, "region": {"startLine": 1}}
    waived = by_rule["waived-tests"]
    assert waived["level"] == "warning" and waived["suppressions"][0]["kind"] == "external"


def test_sarif_fingerprints_are_stable_across_runs_and_distinct_across_findings(sarif_schema: dict) -> None:
    def fingerprints(verdict: Verdict) -> dict[tuple[str, str], str]:
        log = validate_sarif(sarif.render_check(verdict), sarif_schema)
        return {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]):
                r["partialFingerprints"]["primaryLocationLineHash"] for r in log["runs"][0]["results"]}

    first = fingerprints(make_verdict([red_flag(line=12)], head="b" * 40))
    later = fingerprints(make_verdict([red_flag(line=40)], head="c" * 40))  # a new push moved the line
    assert first == later
    two = fingerprints(make_verdict([red_flag(), red_flag(path="deploy/worker.yaml", line=3)]))
    assert len(set(two.values())) == len(two) == 4


def test_sarif_paths_are_uri_encoded_and_an_empty_change_still_has_a_location(sarif_schema: dict) -> None:
    log = validate_sarif(sarif.render_check(make_verdict([red_flag(path="deploy/my app#1.yaml")])), sarif_schema)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert "deploy/my%20app%231.yaml" in uris
    empty = validate_sarif(sarif.render_check(make_verdict([], files=[])), sarif_schema)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in empty["runs"][0]["results"]} == {
        ".govgate.yml"}


# -- annotations -------------------------------------------------------------------------------

def test_annotations_escape_data_and_properties() -> None:
    flag = red_flag(path="deploy/a,b:c.yaml", line=3, detail="100% of pods\nstop")
    lines = github_annotations.render_check(make_verdict([flag])).splitlines()
    assert ("::error file=deploy/a%2Cb%3Ac.yaml,line=3,endLine=4,title=govgate%3A no-all-at-once::"
            "no-all-at-once: 100%25 of pods%0Astop. Fix: Use a RollingUpdate strategy.") in lines
    assert any(line.startswith("::error title=govgate%3A needs-review::needs-review: reviewed: has 0 of 1") for line in lines)
    # The failing warning rule was waived: it is no annotation at all.
    assert not any("waived-tests" in line for line in lines)


def test_annotations_keep_within_10_per_type_and_summarise_the_rest() -> None:
    rules = "".join(
        f"  - id: error-{i}\n    require:\n      reviewed: {{approvals: 1}}\n" for i in range(15)
    ) + "".join(
        f"  - id: warning-{i}\n    severity: warning\n    require:\n      tested: {{tests_changed: true}}\n" for i in range(12)
    )
    output = github_annotations.render_check(make_verdict([], policy="version: 1\nrules:\n" + rules))
    lines = output.splitlines()
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 10
    notices = [line for line in lines if line.startswith("::notice ")]
    assert len(notices) == 1 and "5 more errors, 2 more warnings not shown" in notices[0]


def test_untrusted_title_cannot_start_a_workflow_command() -> None:
    title = 'x\n::error file=evil::pwned\r\n::add-mask::%0A'
    lines = github_annotations.render_check(make_verdict([], title=title, problems=["api down\n::stop-commands::x"]))
    for line in lines.splitlines():
        assert line.startswith(("::error ", "::warning ", "::notice ", "govgate: ")), line
    assert "::stop-commands::" not in lines.replace("%0A::stop-commands", "")


def test_a_failure_below_fail_on_is_never_shown_as_an_error() -> None:
    policy = "version: 1\nrules:\n  - id: soft\n    severity: warning\n    require:\n      reviewed: {approvals: 1}\n"
    output = github_annotations.render_check(make_verdict([], policy=policy))
    assert "::warning title=govgate%3A soft::" in output and "::error" not in output


# -- markdown ----------------------------------------------------------------------------------

def test_markdown_has_the_question_table_failing_rules_with_evidence_and_fix() -> None:
    text = markdown.render_check(make_verdict([red_flag()], problems=["NOT VERIFIED: reviews"]))
    assert "| Question | Status | Key evidence |" in text
    for row in ("| Reviewed | ❌ missing |", "| Tested |", "| Rollout | ⛔ red flag |", "| Rollback | ➖ not required |"):
        assert row in text
    assert "**❌ `no-all-at-once`** (error): Deploys roll out gradually" in text
    assert "strategy Recreate stops every pod at once" in text and "`deploy/app.yaml:12`" in text
    assert "- **Fix:** Use a RollingUpdate strategy." in text
    assert "> - NOT VERIFIED: reviews" in text
    assert "waived-tests" in text and "**applied**" in text


def test_markdown_escapes_untrusted_text() -> None:
    title = "<img src=x onerror=alert(1)> | [click](javascript:x) `code` **bold**"
    text = markdown.render_check(make_verdict([red_flag(detail="a | b <script>")], title=title))
    assert "<img" not in text and "<script>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; \\| \\[click\\](javascript:x) \\`code\\` \\*\\*bold\\*\\*" in text
    table_rows = [line for line in text.splitlines() if line.startswith("| Rollout")]
    assert table_rows and table_rows[0].count(" | ") == 2  # the escaped pipe did not add a column


def test_markdown_stays_under_the_step_summary_limit() -> None:
    flags = [red_flag(path=f"deploy/app-{i}.yaml", line=i + 1, detail="x" * 400) for i in range(200)]
    rules = "".join(f"  - id: rule-{i}\n    description: {'d' * 300}\n    require:\n      rollout: {{no_red_flags: true}}\n"
                    for i in range(400))
    verdict = make_verdict(flags, policy="version: 1\nrules:\n" + rules)
    assert len(markdown._render(verdict, 5, True).encode()) > markdown.SUMMARY_LIMIT_BYTES  # would not fit as is
    text = markdown.render_check(verdict)
    assert len(text.encode("utf-8")) < markdown.SUMMARY_LIMIT_BYTES
    assert "| Rollout | ⛔ red flag |" in text


# -- JUnit -------------------------------------------------------------------------------------

def test_junit_has_one_suite_with_a_testcase_per_rule() -> None:
    text = junit.render_check(make_verdict([red_flag()], title="weird \x1b[31m title"))
    root = ET.fromstring(text)
    suites = root.findall("testsuite")
    assert len(suites) == 1
    cases = {c.get("name"): c for c in suites[0].findall("testcase")}
    assert list(cases) == ["no-all-at-once", "needs-review", "docs-only", "waived-tests"]
    assert cases["no-all-at-once"].find("failure").get("type") == "error"
    assert "Fix" not in cases["no-all-at-once"].find("failure").text
    assert "fix: Use a RollingUpdate strategy." in cases["no-all-at-once"].find("failure").text
    assert cases["docs-only"].find("skipped") is not None
    assert cases["waived-tests"].find("failure") is None and "waived by carol" in cases["waived-tests"].find("system-out").text
    assert suites[0].get("failures") == "2" and suites[0].get("skipped") == "1" and suites[0].get("tests") == "4"
    props = {p.get("name"): p.get("value") for p in suites[0].find("properties")}
    assert props["verdict"] == "fail" and props["title"].startswith("weird ")


# -- the real CLI writes several reports at once ----------------------------------------------

def test_cli_writes_sarif_junit_and_markdown_reports_in_one_run(
    tmp_path: Path, github_server: GitHubServer, sarif_schema: dict,
) -> None:
    builder, base, head = pr_repo(tmp_path, policy=VERIFIED_POLICY)
    serve_evidence(github_server, head, reviews=[])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    out = tmp_path / "out"
    result = run_cli("check", "--format", "github", "--report", f"sarif={out}/govgate.sarif", "--report",
                     f"junit={out}/govgate.xml", "--report", f"markdown={out}/summary.md", cwd=builder.path, env=env)
    assert result.code == 1, result.stderr
    assert "::error title=govgate%3A human-approval-on-head::" in result.stdout
    log = validate_sarif((out / "govgate.sarif").read_text(), sarif_schema)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["human-approval-on-head"]
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "README.md"
    assert ET.parse(out / "govgate.xml").getroot().find("testsuite").get("failures") == "1"
    assert "#### Failing rules (1)" in (out / "summary.md").read_text()
