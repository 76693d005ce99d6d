"""The policy engine: conditions, requirements, trust, red flags, waivers, question statuses."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from govgate.errors import PolicyError
from govgate.model import (
    Change,
    Commit,
    Confidence,
    Evidence,
    FileChange,
    FileStatus,
    Location,
    Person,
    PullRequest,
    Question,
    Severity,
    Trust,
)
from govgate.policy.engine import judge
from govgate.policy.loader import parse_policy
from govgate.policy.model import Waiver

ALICE = Person("Alice", "alice@example.com")
TODAY = dt.date(2026, 11, 24)


def make_change(paths: tuple[str, ...] = ("src/app.py",), pr_number: int | None = None, labels: tuple[str, ...] = (),
                branch: str | None = "feature/x") -> Change:
    commit = Commit("a" * 40, ("b" * 40,), ALICE, ALICE, "2026-11-01T10:00:00+00:00", "2026-11-01T10:00:00+00:00", "Change things")
    pr = PullRequest(number=pr_number, labels=labels) if pr_number or labels else None
    return Change(
        id="test", title="Change things", base="b" * 40, head="a" * 40, commits=[commit],
        files=[FileChange(path=p, status=FileStatus.MODIFIED, added=10, removed=2) for p in paths],
        pull_request=pr, branch=branch,
    )


def ev(question: Question, *facets: str, trust: Trust = Trust.DECLARED, supports: bool = True, subject: str | None = None,
       severity: Severity = Severity.ERROR, confidence: Confidence = Confidence.HIGH, discounted: str | None = None,
       **attrs: object) -> Evidence:
    return Evidence(
        question=question, kind="k", supports=supports, trust=trust, source="test", detail=f"{question.value} {facets}",
        location=Location(path="f.py", line=3), facets=frozenset(facets), subject=subject, severity=severity,
        confidence=confidence, discounted=discounted, attrs=attrs,
    )


AI = ev(Question.AI_ASSISTED, subject="Claude Code")


def policy(text: str):  # type: ignore[no-untyped-def]
    return parse_policy("version: 1\n" + text, "test.yml")


TWO_HUMANS = policy("""
rules:
  - id: two-humans
    when: {ai_assisted: true}
    require:
      reviewed: {approvals: 2, trust: verified}
""")


def rule(verdict, rule_id: str):  # type: ignore[no-untyped-def]
    return next(r for r in verdict.rules if r.rule.id == rule_id)


def test_rule_that_does_not_apply_is_skipped_not_passed() -> None:
    verdict = judge(make_change(), [], TWO_HUMANS, today=TODAY)
    assert verdict.verdict == "pass" and not verdict.ai_assisted
    assert rule(verdict, "two-humans").status == "skipped"
    assert verdict.questions[Question.REVIEWED].status == "not_required"


def test_distinct_verified_humans_are_counted() -> None:
    one = ev(Question.REVIEWED, "approval", trust=Trust.VERIFIED, subject="bob")
    same_again = ev(Question.REVIEWED, "approval", trust=Trust.VERIFIED, subject="bob")
    verdict = judge(make_change(), [AI, one, same_again], TWO_HUMANS, today=TODAY)
    assert verdict.verdict == "fail"
    assert rule(verdict, "two-humans").requirements[0].reasons == ["has 1 of 2 human approvals"]
    assert verdict.questions[Question.REVIEWED].status == "missing"
    carol = ev(Question.REVIEWED, "approval", trust=Trust.VERIFIED, subject="carol")
    assert judge(make_change(), [AI, one, carol], TWO_HUMANS, today=TODAY).verdict == "pass"


def test_declared_evidence_does_not_meet_a_verified_requirement_and_says_so() -> None:
    trailers = [ev(Question.REVIEWED, "approval", subject=s) for s in ("bob", "carol")]
    verdict = judge(make_change(), [AI, *trailers], TWO_HUMANS, today=TODAY)
    reason = rule(verdict, "two-humans").requirements[0].reasons[0]
    assert verdict.verdict == "fail"
    assert "0 of 2" in reason and "2 only declared; this rule needs verified" in reason


def test_discounted_evidence_never_counts_but_is_shown() -> None:
    self_review = ev(Question.REVIEWED, "approval", trust=Trust.VERIFIED, subject="alice", discounted="author")
    verdict = judge(make_change(), [AI, self_review], TWO_HUMANS, today=TODAY)
    assert verdict.verdict == "fail"
    assert verdict.questions[Question.REVIEWED].evidence == [self_review]


def test_low_confidence_ai_marker_is_below_the_default_floor() -> None:
    weak = ev(Question.AI_ASSISTED, subject="maybe", confidence=Confidence.LOW)
    assert not judge(make_change(), [weak], TWO_HUMANS, today=TODAY).ai_assisted
    lenient = policy("ai_assisted: {min_confidence: low}\nrules: []\n")
    assert judge(make_change(), [weak], lenient, today=TODAY).ai_assisted


def test_red_flag_contradicts_even_when_no_rule_requires_the_question() -> None:
    recreate = ev(Question.ROLLOUT, supports=False, severity=Severity.WARNING)
    verdict = judge(make_change(), [recreate], TWO_HUMANS, today=TODAY)
    assert verdict.questions[Question.ROLLOUT].status == "contradicted"
    assert verdict.verdict == "pass"


def test_error_red_flag_fails_requirement_even_with_support() -> None:
    p = policy("rules:\n  - id: gradual\n    require: {rollout: {gradual: true}}\n")
    canary = ev(Question.ROLLOUT, "gradual", trust=Trust.INFERRED)
    all_at_once = ev(Question.ROLLOUT, supports=False)
    assert judge(make_change(), [canary], p, today=TODAY).verdict == "pass"
    failed = judge(make_change(), [canary, all_at_once], p, today=TODAY)
    assert failed.verdict == "fail" and failed.rules[0].requirements[0].reasons[0].startswith("red flag:")


def test_warning_red_flags_fail_only_when_warnings_are_not_allowed() -> None:
    warning = ev(Question.ROLLOUT, supports=False, severity=Severity.WARNING)
    lenient = policy("rules:\n  - id: r\n    require: {rollout: {no_red_flags: true}}\n")
    strict = policy("rules:\n  - id: r\n    require: {rollout: {no_red_flags: true, allow_warnings: false}}\n")
    assert judge(make_change(), [warning], lenient, today=TODAY).verdict == "pass"
    assert judge(make_change(), [warning], strict, today=TODAY).verdict == "fail"
    # a red-flag-only requirement demands no evidence: an empty change passes it and the question stays not_required
    quiet = judge(make_change(), [], strict, today=TODAY)
    assert quiet.verdict == "pass" and quiet.questions[Question.ROLLOUT].status == "not_required"


def test_any_of_and_all_facets() -> None:
    p = policy("rules:\n  - id: t\n    require: {tested: {any_of: [tests_changed, test_plan]}}\n"
               "  - id: both\n    severity: warning\n    require: {tested: {tests_changed: true, ci_passed: true}}\n")
    plan = ev(Question.TESTED, "test_plan")
    verdict = judge(make_change(), [plan], p, today=TODAY)
    assert rule(verdict, "t").status == "pass"
    assert rule(verdict, "both").status == "fail"
    assert verdict.verdict == "pass"  # a failing warning does not fail the gate at --fail-on error
    assert judge(make_change(), [plan], p, fail_on="warning", today=TODAY).verdict == "fail"
    assert verdict.questions[Question.TESTED].status == "missing"


def test_checks_globs_and_pending_wording() -> None:
    p = policy("rules:\n  - id: ci\n    require: {tested: {checks: ['build*', 'lint']}}\n")
    build = ev(Question.TESTED, "check_passed", trust=Trust.VERIFIED, subject="build (ubuntu)")
    lint_pending = ev(Question.TESTED, trust=Trust.VERIFIED, subject="lint", discounted="pending", pending=True)
    verdict = judge(make_change(), [build, lint_pending], p, today=TODAY)
    assert verdict.verdict == "fail"
    assert verdict.rules[0].requirements[0].reasons == ["check 'lint' is still pending"]


def test_on_head_counts_only_current_approvals() -> None:
    p = policy("rules:\n  - id: r\n    require: {reviewed: {approvals: 1, on_head: true, trust: verified}}\n")
    stale = ev(Question.REVIEWED, "approval", trust=Trust.VERIFIED, subject="bob")
    verdict = judge(make_change(), [stale], p, today=TODAY)
    assert verdict.rules[0].requirements[0].reasons == ["has 0 of 1 human approval on the head commit; 1 more on an older commit"]
    fresh = ev(Question.REVIEWED, "approval", "approval_on_head", trust=Trust.VERIFIED, subject="bob")
    assert judge(make_change(), [fresh], p, today=TODAY).verdict == "pass"


def test_conditions_paths_labels_branch_authors_risk() -> None:
    p = policy("""
rules:
  - {id: mig, when: {paths: ["**/migrations/**"], paths_ignore: ["**/tests/**"]}, require: {rollback: {}}}
  - {id: lab, when: {labels: [Hotfix]}, require: {rollback: {}}}
  - {id: br, when: {branch: ["release/*"]}, require: {rollback: {}}}
  - {id: who, when: {authors: ["*@example.com"]}, require: {rollback: {}}}
  - {id: risky, when: {risk: high}, require: {rollback: {}}}
""")
    statuses = lambda change, evidence=(): {r.rule.id: r.status for r in judge(change, list(evidence), p, today=TODAY).rules}  # noqa: E731
    assert statuses(make_change(("app/migrations/0001.py",)))["mig"] == "fail"
    assert statuses(make_change(("app/tests/migrations/x.py",)))["mig"] == "skipped"
    assert statuses(make_change(labels=("hotfix",)))["lab"] == "fail"  # labels compare case-insensitively
    assert statuses(make_change(branch="release/1.2"))["br"] == "fail"
    assert statuses(make_change())["br"] == "skipped"
    assert statuses(make_change())["who"] == "fail"
    score = ev(Question.RISK, score=7)
    assert statuses(make_change(), [score])["risky"] == "fail"
    assert statuses(make_change())["risky"] == "skipped"


def test_policy_changed_condition() -> None:
    p = policy("rules:\n  - {id: pol, when: {policy_changed: true}, require: {reviewed: {approvals: 1}}}\n")
    assert judge(make_change((".govgate.yml",)), [], p, today=TODAY).rules[0].status == "fail"
    assert judge(make_change(), [], p, today=TODAY).rules[0].status == "skipped"


def test_risk_levels_follow_thresholds() -> None:
    p = policy("risk: {medium: 2, high: 4}\nrules: []\n")
    assert judge(make_change(), [ev(Question.RISK, score=1)], p, today=TODAY).risk.level == "low"
    assert judge(make_change(), [ev(Question.RISK, score=1), ev(Question.RISK, score=1)], p, today=TODAY).risk.level == "medium"
    assert judge(make_change(), [ev(Question.RISK, score=5)], p, today=TODAY).risk.level == "high"


WAIVED = """
rules:
  - id: mig
    require: {rollback: {reversible_migrations: true}}
waivers:
  - {rule: mig, change: "#482", reason: "forward-only backfill", approved_by: alice, expires: 2027-01-31}
  - {rule: mig, change: "aaaaaaaaaaaa", reason: "old", approved_by: bob, expires: 2026-01-01}
"""


def test_waiver_applies_to_its_change_until_it_expires() -> None:
    p = policy(WAIVED)
    verdict = judge(make_change(pr_number=482), [], p, today=TODAY)
    assert verdict.verdict == "pass" and verdict.rules[0].status == "waived"
    notes = {(n.waiver.approved_by, n.status) for n in verdict.waivers}
    assert ("alice", "applied") in notes and ("bob", "expired") in notes
    assert verdict.to_dict()["rules"][0]["waiver"]["approved_by"] == "alice"
    after_expiry = judge(make_change(pr_number=482), [], p, today=dt.date(2027, 2, 1))
    assert after_expiry.verdict == "fail"
    assert {(n.waiver.approved_by, n.status) for n in after_expiry.waivers} >= {("alice", "expired")}


def test_a_waiver_naming_no_rule_is_refused_by_the_loader_and_still_reported_by_the_engine() -> None:
    with pytest.raises(PolicyError, match=r"test.yml:\d+: waivers\[0\].rule: waives 'gone', which is not a rule"):
        stray_line = '  - {rule: gone, change: "#1", reason: typo, approved_by: carol, expires: 2027-01-01}\n'
        policy(WAIVED.replace("waivers:\n", "waivers:\n" + stray_line))
    # A Policy assembled in code never went through the loader: the engine still says so.
    stray = Waiver(rule="gone", change="#1", reason="typo", approved_by="carol", expires="2027-01-01")
    p = dataclasses.replace(policy(WAIVED), waivers=(stray,))
    notes = {(n.waiver.approved_by, n.status) for n in judge(make_change(), [], p, today=TODAY).waivers}
    assert notes == {("carol", "unknown_rule")}


def test_waiver_for_a_rule_that_passes_is_reported_unused() -> None:
    reversible = ev(Question.ROLLBACK, "reversible_migrations", trust=Trust.INFERRED)
    verdict = judge(make_change(pr_number=482), [reversible], policy(WAIVED), today=TODAY)
    assert verdict.rules[0].status == "pass"
    assert ("alice", "unused") in {(n.waiver.approved_by, n.status) for n in verdict.waivers}


def test_json_contract_shape() -> None:
    data = judge(make_change(), [AI], TWO_HUMANS, today=TODAY).to_dict()
    assert data["schema"] == "govgate/check/v1"
    assert set(data) >= {"verdict", "change", "ai_assisted", "risk", "questions", "rules"}
    assert set(data["questions"]) == {"reviewed", "tested", "rollout", "rollback"}
    assert set(data["risk"]) == {"level", "score", "factors"}
    assert data["rules"][0].keys() >= {"id", "status", "severity", "message"}
    assert data["ai_assisted"] is True and data["ai"]["tools"] == ["Claude Code"]


def test_a_waiver_binds_to_the_head_commit_only_never_another_commit_of_the_range() -> None:
    change = make_change()
    older = Commit("c" * 40, ("b" * 40,), ALICE, ALICE, "2026-10-01T10:00:00+00:00", "2026-10-01T10:00:00+00:00", "Older")
    change.commits.append(older)
    waive = "rules:\n  - id: mig\n    require: {rollback: {reversible_migrations: true}}\nwaivers:\n" \
            "  - {rule: mig, change: '%s', reason: r, approved_by: alice, expires: 2999-01-01}\n"
    # Control: 12 hex digits of the head, or all of it, waive the rule.
    for target in ("a" * 12, "A" * 40):
        assert judge(change, [], policy(waive % target), today=TODAY).rules[0].status == "waived"
    # Attack: a commit of the range that is not its head (an old, once-waived commit carried along).
    attacked = judge(change, [], policy(waive % ("c" * 12)), today=TODAY)
    assert attacked.rules[0].status == "fail" and attacked.verdict == "fail"


def test_a_pull_request_waiver_needs_the_landing_proven_when_the_number_came_from_a_message() -> None:
    waive = policy("rules:\n  - id: mig\n    require: {rollback: {reversible_migrations: true}}\nwaivers:\n"
                   "  - {rule: mig, change: '#7', reason: r, approved_by: alice, expires: 2999-01-01}\n")
    change = make_change(pr_number=7)
    assert change.pull_request is not None
    for proven, status in ((None, "waived"), (True, "waived"), (False, "fail")):
        change.pull_request.landing_proven = proven
        verdict = judge(change, [], waive, today=TODAY)
        assert verdict.rules[0].status == status
    assert [n.status for n in verdict.waivers] == ["unproven"]


PLAN_WITH_APPROVAL = policy("""
rules:
  - id: plan-needs-approval
    require:
      rollout:
        any_of: [gradual, {facet: plan, together_with: {reviewed: {approvals: 1, trust: verified, on_head: true}}}]
""")


def test_a_plan_counts_only_together_with_its_companion_requirement() -> None:
    plan = ev(Question.ROLLOUT, "plan")
    head_approval = ev(Question.REVIEWED, "approval", "approval_on_head", trust=Trust.VERIFIED, subject="carol")
    stale_approval = ev(Question.REVIEWED, "approval", trust=Trust.VERIFIED, subject="carol")
    declared_approval = ev(Question.REVIEWED, "approval", "approval_on_head", subject="bob")
    # Control: the plan with a verified approval of the head passes; a gradual rollout needs no companion.
    assert judge(make_change(), [plan, head_approval], PLAN_WITH_APPROVAL, today=TODAY).verdict == "pass"
    assert judge(make_change(), [ev(Question.ROLLOUT, "gradual", trust=Trust.INFERRED)], PLAN_WITH_APPROVAL,
                 today=TODAY).verdict == "pass"
    # Attack: the author's plan alone, with a stale approval, or with a Reviewed-by the author typed.
    for companion in ([], [stale_approval], [declared_approval]):
        verdict = judge(make_change(), [plan, *companion], PLAN_WITH_APPROVAL, today=TODAY)
        assert verdict.verdict == "fail"
        [reason] = verdict.rules[0].requirements[0].reasons
        assert reason.startswith("missing one of: a gradual rollout (canary, rolling, linear), a written plan in the PR body; "
                                 "a written plan in the PR body counts only together with reviewed: 1 approval")


def test_the_forge_condition_tells_verified_from_offline_judgements() -> None:
    p = policy("rules:\n  - {id: on-forge, when: {forge: true}, require: {reviewed: {approvals: 1}}}\n"
               "  - {id: offline, when: {forge: false}, require: {reviewed: {approvals: 1}}}\n")
    offline = judge(make_change(), [], p, today=TODAY)
    assert [(r.rule.id, r.status) for r in offline.rules] == [("on-forge", "skipped"), ("offline", "fail")]
    forge = make_change()
    forge.forge = "github"
    assert [(r.rule.id, r.status) for r in judge(forge, [], p, today=TODAY).rules] == [("on-forge", "fail"), ("offline", "skipped")]
    assert p.rules[0].when.describe() == "read from a forge that verifies reviews and checks (GitHub)"


def test_an_offline_pass_on_declared_evidence_is_said_plainly_and_a_verified_one_is_not() -> None:
    p = policy("rules:\n  - {id: reviewed, require: {reviewed: {approvals: 1, trust: declared}}}\n")
    trailer = ev(Question.REVIEWED, "approval", subject="bob")
    offline = judge(make_change(), [trailer], p, today=TODAY)
    assert offline.verdict == "pass" and offline.questions[Question.REVIEWED].declared_offline
    assert offline.notes and offline.notes[0].startswith("judged offline: reviewed passed on what the change's author declared")
    forge = make_change()
    forge.forge = "github"
    on_github = judge(forge, [trailer], p, today=TODAY)
    assert on_github.notes == [] and not on_github.questions[Question.REVIEWED].declared_offline
    verified = judge(make_change(), [ev(Question.REVIEWED, "approval", trust=Trust.VERIFIED, subject="bob")], p, today=TODAY)
    assert verified.notes == []
