"""The pr_sections detector: test, rollout and rollback plans in PR bodies and commit messages.

Bodies are real templates, recreated from these public files:
- sourcegraph/sourcegraph-public-snapshot .github/PULL_REQUEST_TEMPLATE.md (the "## Test plan"
  version with its HTML comment, and the older "Testing plan:" version);
- mikeybeezy/goldenpath-idp-infra .github/pull_request_template.md ("## Risk & Rollback" checklist);
- Laderis97/AI-Powered-Recruiter-Automation .github/PULL_REQUEST_TEMPLATE.md ("## Rollout Plan");
- gitlabhq/gitlabhq .gitlab/issue_templates/Feature Flag Roll Out.md ("## Rollback Steps").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from govgate.detectors.pr_sections import DETECTOR
from govgate.errors import PolicyError
from govgate.model import Confidence, Question, Trust
from govgate.policy.loader import parse_policy
from tests.conftest import RepoBuilder, detect, local_change, run_cli

SOURCEGRAPH_TEMPLATE = """<!--

💡 To write a useful PR description, make sure that your description covers:

- WHAT this PR is changing:
- WHY this PR is needed.
-->

## Changelog

<!--
Example:

Title: fix(search): parse quotes with the appropriate context
Changelog section:

## Changelog

- When a quote is used with regexp pattern type, then ...
-->

## Test plan

<!-- All pull requests REQUIRE a test plan: https://docs.sourcegraph.com/dev/background-information/testing_principles

Why does it matter?

Here are a non exhaustive list of test plan examples to help you:

- Making changes on a given feature or component:
  - "Covered by existing tests" or "CI" for the shortest possible plan if there is zero ambiguity
  - "Added new tests"
-->
"""

SOURCEGRAPH_OLD_TEMPLATE = """This PR changes:

<!-- fixes x bug, feature x, etc -->.

Testing plan:

<!-- provide the steps you are doing to test so others can easily know where to start -->

I have tested on:

<!--
You Don't have to test each environment before opening this PR, but provide which ones you have
tested so each can get tested by someone before this gets merged.
-->

- [ ] Chrome
- [ ] Firefox
- [ ] Safari
- [ ] Phabricator Bundle
"""

GOLDENPATH_TEMPLATE = """Select at least one checkbox per section by changing `[ ]` to `[x]`.

## Change Type
- [ ] Feature
- [ ] Bug fix
- [ ] Infra change
- [ ] Governance / Policy

## Production Readiness
- [ ] Readiness checklist completed
- [ ] No production impact

## Testing / Validation
- [ ] Plan/apply link provided (paste below)
- [ ] Test command or run ID provided (paste below)
- [ ] Not applicable

Testing/Validation details:
- Plan/apply link:
- Test command/run:

## Risk & Rollback
- [ ] Rollback plan documented (link or notes below)
- [ ] Data migration required
- [ ] No data migration
- [ ] Not applicable

Rollback notes/link:

## Notes / Summary (optional)
-
"""

LADERIS_ROLLOUT = """# Pull Request

## Summary
Adds the candidate scoring queue.

## Rollout Plan
- [x] Feature flag enabled
- [x] Canary deployment
- [ ] Full rollout
- [x] Rollback plan documented

## Test Evidence
- [ ] Unit tests added/updated
- [ ] Manual testing completed
"""

GITLAB_ROLLBACK = """## Summary

Enables the new blame view.

## Rollback Steps

- [ ] This feature can be disabled by running the following Chatops command:

```
/chatops run feature set blame_ignore_revs false
```
"""


def _change(repo: RepoBuilder, tmp_path: Path, body: str | None = None, message: str = "Change things"):  # type: ignore[no-untyped-def]
    base = repo.head()
    repo.commit(message, {"app.py": f"x = {len(message)}\n"})
    if body is None:
        return local_change(repo, base)
    path = tmp_path / "body.md"
    path.write_bytes(body.encode("utf-8"))
    return local_change(repo, base, body_file=path)


def _counted(evidence: list) -> dict[str, list]:
    by_kind: dict[str, list] = {}
    for item in evidence:
        if item.discounted is None:
            by_kind.setdefault(item.kind, []).append(item)
    return by_kind


def test_sourcegraph_template_left_empty_counts_nothing(repo: RepoBuilder, tmp_path: Path) -> None:
    [empty] = detect(DETECTOR, _change(repo, tmp_path, SOURCEGRAPH_TEMPLATE))
    assert empty.kind == "test-plan-empty" and empty.discounted and not empty.facets
    assert empty.location.where == "PR body" and empty.location.line == 22


def test_sourcegraph_template_filled_in(repo: RepoBuilder, tmp_path: Path) -> None:
    body = SOURCEGRAPH_TEMPLATE + "\nAdded tests for quoted patterns; ran `go test ./internal/search/...` locally.\n"
    [plan] = detect(DETECTOR, _change(repo, tmp_path, body))
    assert plan.kind == "test-plan" and plan.question is Question.TESTED and plan.facets == frozenset({"test_plan"})
    assert plan.trust is Trust.DECLARED and plan.confidence is Confidence.HIGH and plan.discounted is None
    assert plan.location.line == 22 and "go test" in plan.detail


def test_sourcegraph_old_testing_plan_field(repo: RepoBuilder, tmp_path: Path) -> None:
    [empty] = detect(DETECTOR, _change(repo, tmp_path, SOURCEGRAPH_OLD_TEMPLATE))
    assert empty.discounted and empty.location.line == 5  # "I have tested on:" is the next field, not the plan
    filled = SOURCEGRAPH_OLD_TEMPLATE.replace("Testing plan:\n", "Testing plan:\nOpened a file in each browser.\n")
    [plan] = detect(DETECTOR, _change(repo, tmp_path, filled))
    assert plan.kind == "test-plan" and "Opened a file" in plan.detail


def test_goldenpath_template_unfilled_counts_nothing(repo: RepoBuilder, tmp_path: Path) -> None:
    evidence = detect(DETECTOR, _change(repo, tmp_path, GOLDENPATH_TEMPLATE))
    assert _counted(evidence) == {}
    assert {e.kind for e in evidence} == {"test-plan-empty", "rollback-plan-empty"}


def test_goldenpath_ticked_rollback_box_is_a_low_confidence_claim(repo: RepoBuilder, tmp_path: Path) -> None:
    body = GOLDENPATH_TEMPLATE.replace("- [ ] Rollback plan documented", "- [x] Rollback plan documented")
    [claim] = _counted(detect(DETECTOR, _change(repo, tmp_path, body)))["rollback-plan-checkbox"]
    assert claim.question is Question.ROLLBACK and claim.facets == frozenset({"plan"})
    assert claim.confidence is Confidence.LOW and claim.location.line == 22  # the "## Risk & Rollback" heading


def test_goldenpath_rollback_notes_are_a_plan(repo: RepoBuilder, tmp_path: Path) -> None:
    body = (GOLDENPATH_TEMPLATE.replace("- [ ] Rollback plan documented", "- [x] Rollback plan documented")
            .replace("Rollback notes/link:\n", "Rollback notes/link: `helm rollback api 41`, then revert this PR.\n")
            .replace("- Test command/run:", "- Test command/run: make test (run 8812)"))
    found = _counted(detect(DETECTOR, _change(repo, tmp_path, body)))
    [rollback] = found["rollback-plan"]
    assert rollback.confidence is Confidence.HIGH and "helm rollback" in rollback.detail
    assert rollback.attrs["heading"] == "Risk & Rollback"
    assert found["test-plan"][0].attrs["heading"] == "Testing / Validation"


def test_ticked_no_migration_box_is_not_a_plan(repo: RepoBuilder, tmp_path: Path) -> None:
    body = GOLDENPATH_TEMPLATE.replace("- [ ] No data migration", "- [x] No data migration").replace(
        "- [ ] Not applicable\n\nRollback", "- [x] Not applicable\n\nRollback")
    assert _counted(detect(DETECTOR, _change(repo, tmp_path, body))) == {}


def test_laderis_rollout_checklist(repo: RepoBuilder, tmp_path: Path) -> None:
    found = _counted(detect(DETECTOR, _change(repo, tmp_path, LADERIS_ROLLOUT)))
    [rollout] = found["rollout-plan-checkbox"]
    assert rollout.question is Question.ROLLOUT and rollout.confidence is Confidence.LOW
    assert rollout.location.line == 6 and "Canary deployment" in rollout.detail
    [rollback] = found["rollback-plan-checkbox"]  # the ticked box names a rollback plan, outside a rollback section
    assert rollback.question is Question.ROLLBACK and rollback.location.line == 10
    assert "test-plan" not in found and "test-plan-checkbox" not in found


def test_gitlab_rollback_steps(repo: RepoBuilder, tmp_path: Path) -> None:
    [plan] = detect(DETECTOR, _change(repo, tmp_path, GITLAB_ROLLBACK))
    assert plan.kind == "rollback-plan" and plan.location.line == 5 and "chatops" in plan.detail


@pytest.mark.parametrize(("body", "kinds"), [
    ("### Test Plan\nRan the suite.\n", {"test-plan"}),
    ("#### testing plan\n\n1. Start the server\n2. Open /health\n", {"test-plan"}),
    ("**Test plan**\nManual QA on staging.\n", {"test-plan"}),
    ("**Test plan:** ran pytest -k scheduler\n", {"test-plan"}),
    ("Summary: speed up search\n\nTest Plan: ran the benchmark twice\n", {"test-plan"}),
    ("## How has this been tested?\n\nUnit tests.\n", {"test-plan"}),
    ("## How to set up and validate locally\n\n1. `gdk start`\n", {"test-plan"}),
    ("## Rollout\nBehind `new_search` flag, 10% then 50% then 100%.\n", {"rollout-plan"}),
    ("## Rollout Steps\n\nEnable for internal users first.\n", {"rollout-plan"}),
    ("## Rollback plan\nRevert the PR; no migrations.\n", {"rollback-plan"}),
    ("## Risk & Rollback\nLow risk. Revert to roll back.\n", {"rollback-plan"}),
    ("# Rollout and rollback plan\nCanary 5% for an hour; revert on alerts.\n", {"rollout-plan", "rollback-plan"}),
    ("## Test plan 🧪 (required)\nCI\n", {"test-plan"}),
])
def test_heading_forms(repo: RepoBuilder, tmp_path: Path, body: str, kinds: set[str]) -> None:
    evidence = detect(DETECTOR, _change(repo, tmp_path, body))
    assert set(_counted(evidence)) == kinds


@pytest.mark.parametrize("body", [
    "## Test plan\n\n## Screenshots\n![img](https://example.com/a.png)\n",
    "## Test plan\nN/A\n",
    "## Test plan\n- [ ] Unit tests\n- [ ] Manual QA\n",
    "## Rollout Steps\n### Rollout on non-production environments\n- [ ] Enable on staging\n",
    "```markdown\n## Test plan\nthis is a quoted template\n```\n",
    "> ## Test plan\n> copied from the issue\n",
    "Some text about tests: they are good.\n",
    "## Rollback plan\n<!-- How do we undo this? -->\n<details>\n</details>\n",
])
def test_empty_or_quoted_sections_count_nothing(repo: RepoBuilder, tmp_path: Path, body: str) -> None:
    assert _counted(detect(DETECTOR, _change(repo, tmp_path, body))) == {}


@pytest.mark.parametrize("text", ["N/A: documentation-only", "Not tested.", "None needed", "- No tests needed."])
def test_section_that_says_there_is_none(repo: RepoBuilder, tmp_path: Path, text: str) -> None:
    [none] = detect(DETECTOR, _change(repo, tmp_path, f"## Testing\n\n{text}\n"))
    assert none.kind == "test-plan-empty" and none.discounted == "the section states that there is no plan"
    assert "says there is none" in none.detail


def test_a_plan_that_starts_with_no_is_still_a_plan(repo: RepoBuilder, tmp_path: Path) -> None:
    [plan] = detect(DETECTOR, _change(repo, tmp_path, "## Rollback plan\nNo migrations; revert the PR.\n"))
    assert plan.kind == "rollback-plan" and plan.discounted is None


def test_crlf_body(repo: RepoBuilder, tmp_path: Path) -> None:
    body = "## Summary\r\n\r\nFix.\r\n\r\n## Test plan\r\n\r\n* Run the logging locally.\r\n\r\n## App preview:\r\n\r\n- [Web](x)\r\n"
    [plan] = detect(DETECTOR, _change(repo, tmp_path, body))
    assert plan.location.line == 5 and "Run the logging locally" in plan.detail and "App preview" not in plan.detail


def test_phabricator_test_plan_in_commit_message(repo: RepoBuilder, tmp_path: Path) -> None:
    message = ("Fix race in the scheduler\n\nSummary: Two workers could claim the same job.\n\n"
               "Test Plan: Ran the scheduler stress test 100 times; no failures.\n\nReviewers: alice\n\n"
               "Differential Revision: https://phabricator.example.com/D1234\n")
    change = _change(repo, tmp_path, message=message)
    [plan] = detect(DETECTOR, change)
    assert plan.kind == "test-plan" and plan.location.where == f"commit message of {change.commits[0].sha[:12]}"
    assert plan.location.line == 5 and "Reviewers" not in plan.detail


@pytest.mark.parametrize("field", ["Testplan", "Tested", "Tests"])
def test_phabricator_aliases(repo: RepoBuilder, tmp_path: Path, field: str) -> None:
    [plan] = detect(DETECTOR, _change(repo, tmp_path, message=f"Fix\n\nSummary: x\n\n{field}: make check\n"))
    assert plan.kind == "test-plan"


def test_conventional_commit_subject_is_not_a_section(repo: RepoBuilder, tmp_path: Path) -> None:
    assert detect(DETECTOR, _change(repo, tmp_path, message="tests: fix flaky timeout\n\nbody text\n")) == []
    assert detect(DETECTOR, _change(repo, tmp_path, message="Tests: add retries\n")) == []


def test_chromium_test_footer(repo: RepoBuilder, tmp_path: Path) -> None:
    message = ("[omnibox] Fix suggestion ordering\n\nLonger description.\n\n"
               "Bug: 1234567\nTest: browser_tests --gtest_filter=OmniboxViewTest.*\nChange-Id: I0123456789abcdef\n")
    change = _change(repo, tmp_path, message=message)
    [footer] = detect(DETECTOR, change)
    assert footer.kind == "test-footer" and footer.facets == frozenset({"test_plan"})
    assert footer.location.line == 6 and "browser_tests" in footer.detail


def test_chromium_test_line_outside_the_last_paragraph(repo: RepoBuilder, tmp_path: Path) -> None:
    message = "Fix ordering\n\nTest: this line is prose in the body\n\nBug: 1234567\nChange-Id: I0123\n"
    assert detect(DETECTOR, _change(repo, tmp_path, message=message)) == []
    assert detect(DETECTOR, _change(repo, tmp_path, message="Fix\n\nBug: 1\nTest: None\n")) == []


def test_settings_add_headings(repo: RepoBuilder, tmp_path: Path) -> None:
    change = _change(repo, tmp_path, "## QA notes\nClicked through checkout.\n\n## Undo\nFlip the flag.\n")
    assert detect(DETECTOR, change) == []
    found = _counted(detect(DETECTOR, change, {"test_plan": ["QA notes"], "rollback_plan": ["Undo"]}))
    assert set(found) == {"test-plan", "rollback-plan"}


def test_settings_schema_is_strict() -> None:
    parse_policy("version: 1\nrules: []\nsettings:\n  pr_sections:\n    test_plan: [QA]\n", "ok.yml")
    with pytest.raises(PolicyError):
        parse_policy("version: 1\nrules: []\nsettings:\n  pr_sections:\n    testplan: [QA]\n", "typo.yml")


POLICY = """version: 1
rules:
  - id: plans-written
    require:
      tested: {test_plan: true, trust: declared}
      rollback: {plan: true}
    severity: error
"""


def test_cli_with_pr_body_file(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY, encoding="utf-8")
    base = repo.head()
    repo.commit("Change retries", {"app.py": "retries = 3\n"})
    body = tmp_path / "pr.md"

    def check() -> tuple[int, dict]:
        result = run_cli("check", "--repo", str(repo.path), "--base", base, "--policy", str(policy),
                         "--pr-body-file", str(body), "--format", "json")
        assert result.code in (0, 1), result.stderr
        return result.code, result.json()

    body.write_text(SOURCEGRAPH_TEMPLATE + "\n## Rollback plan\n\n<!-- how to undo -->\n", encoding="utf-8")
    code, data = check()
    assert code == 1 and data["questions"]["tested"]["status"] == "missing"
    body.write_text(SOURCEGRAPH_TEMPLATE + "\nRan the unit tests.\n\n## Rollback plan\n\nRevert this PR.\n", encoding="utf-8")
    code, data = check()
    assert code == 0 and data["questions"]["rollback"]["status"] == "satisfied"
    assert data["questions"]["tested"]["evidence"][0]["location"] == {"where": "PR body", "line": 22}
