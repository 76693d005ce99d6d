"""The review and check detectors on Changes carrying GitHub data, judged by the real engine."""

from __future__ import annotations

from govgate.detectors.github_checks import DETECTOR as CHECKS
from govgate.detectors.github_reviews import DETECTOR as REVIEWS
from govgate.detectors.github_reviews import standing_reviews
from govgate.model import Change, CheckOrigin, CheckResult, FileChange, FileStatus, PullRequest, Review
from govgate.policy.engine import check_requirement
from govgate.policy.model import Requirement
from tests.conftest import detect

HEAD, OLD = "h" * 40, "o" * 40


def change_with(reviews: tuple[Review, ...] | None = None, checks: tuple[CheckResult, ...] | None = None,
                codeowners: tuple | None = None, paths: tuple[str, ...] = ("src/app.py",)) -> Change:
    pr = PullRequest(number=5, author_login="Author", head_sha=HEAD, reviews=reviews, checks=checks, codeowners=codeowners)
    return Change(id="#5", title="t", base=OLD, head=HEAD, commits=[],
                  files=[FileChange(path=p, status=FileStatus.MODIFIED) for p in paths], pull_request=pr)


def rv(login: str, state: str, commit: str = HEAD, kind: str = "User", at: str = "2024-01-01T00:00:00Z") -> Review:
    return Review(reviewer=login, reviewer_type=kind, state=state, commit_id=commit, submitted_at=at, author_association="MEMBER")


def test_nothing_is_found_without_github_data() -> None:
    assert detect(REVIEWS, change_with()) == []
    assert detect(CHECKS, change_with()) == []


def test_pending_reviews_and_comments_never_replace_a_standing_opinion() -> None:
    standing = standing_reviews((rv("Bob", "APPROVED"), rv("bob", "COMMENTED"), rv("bob", "PENDING"), rv("eve", "COMMENTED")))
    assert {login: r.state for login, r in standing.items()} == {"bob": "APPROVED"}


def test_dismissed_review_is_shown_but_not_counted() -> None:
    found = detect(REVIEWS, change_with(reviews=(rv("bob", "APPROVED"), rv("bob", "DISMISSED"))))
    assert [(e.kind, e.discounted) for e in found] == [("dismissed-review", "a dismissed review is no longer an opinion")]
    assert not check_requirement(Requirement("reviewed", approvals=1), found).met


def test_changes_requested_by_a_bot_warns_and_by_a_human_blocks() -> None:
    found = detect(REVIEWS, change_with(reviews=(rv("lint[bot]", "CHANGES_REQUESTED", kind="Bot"), rv("bob", "APPROVED"))))
    assert [(e.subject, e.severity) for e in found if e.contradicts] == [("lint[bot]", "warning")]
    assert check_requirement(Requirement("reviewed", approvals=1, trust="verified"), found).met
    found = detect(REVIEWS, change_with(reviews=(rv("carol", "CHANGES_REQUESTED"), rv("bob", "APPROVED"))))
    result = check_requirement(Requirement("reviewed", approvals=1, trust="verified"), found)
    assert not result.met and result.reasons[0].startswith("red flag: @carol requested changes")


def test_codeowner_approval_needs_every_owned_path_covered() -> None:
    owners = (("*.py", ("@py-owner",)), ("deploy/", ("@ops", "@org/sre")))
    paths = ("src/app.py", "deploy/app.yaml")
    found = detect(REVIEWS, change_with(reviews=(rv("py-owner", "APPROVED"),), codeowners=owners, paths=paths))
    assert not any("codeowner_approval" in e.facets for e in found)
    assert [e.detail for e in found if e.kind == "codeowner-missing"] == ["deploy/app.yaml: no approval by @ops or @org/sre"]
    found = detect(REVIEWS, change_with(reviews=(rv("py-owner", "APPROVED"), rv("OPS", "APPROVED")), codeowners=owners,
                                        paths=paths))
    assert {e.subject for e in found if "codeowner_approval" in e.facets} == {"py-owner", "ops"}
    assert check_requirement(Requirement("reviewed", codeowners=True, trust="verified"), found).met


def test_team_only_owners_are_explained_as_unresolvable() -> None:
    found = detect(REVIEWS, change_with(reviews=(rv("bob", "APPROVED"),), codeowners=(("*", ("@org/team",)),)))
    note = next(e for e in found if e.kind == "codeowner-missing")
    assert "team and email owners cannot be resolved" in note.detail


CI = CheckOrigin(workflow_path=".github/workflows/ci.yml", on_base=True)


def run(name: str, status: str = "completed", conclusion: str | None = "success", sha: str = HEAD, *, id: int = 1,
        origin: CheckOrigin | None = CI, app: str = "github-actions", own: bool = False) -> CheckResult:
    return CheckResult(name, status, conclusion, sha, app=app, id=id, origin=origin, own=own)


def test_check_states_map_to_passed_pending_failed_and_inconclusive() -> None:
    checks = (
        run("build", id=1),
        run("lint", "queued", None, id=2),
        run("e2e", conclusion="timed_out", id=3),
        run("docs", conclusion="skipped", id=4),
        run("old", sha=OLD, id=5),
        run("flaky", conclusion="cancelled", id=6),
        CheckResult("ci/legacy", "completed", "error", HEAD, kind="status"),
    )
    found = {e.subject: e for e in detect(CHECKS, change_with(checks=checks), {"contexts": ["ci/*"]})}
    assert found["build"].facets == frozenset({"check_passed"}) and found["build"].discounted is None
    assert found["lint"].attrs["pending"] is True and found["lint"].discounted == "pending"
    assert found["e2e"].contradicts and found["e2e"].severity == "error"
    assert found["docs"].discounted == "concluded skipped"
    assert found["old"].discounted == f"it ran on {OLD[:12]}, not the head commit"
    assert found["flaky"].discounted == "concluded cancelled: inconclusive" and found["flaky"].supports
    assert found["ci/legacy"].contradicts and found["ci/legacy"].detail == "status 'ci/legacy' concluded error"


def test_check_settings_ignore_names_and_soften_failures() -> None:
    checks = (run("govgate", "in_progress", None, id=1), run("flaky", conclusion="failure", id=2))
    found = detect(CHECKS, change_with(checks=checks), {"ignore": ["gov*"], "failure_severity": "warning"})
    assert [(e.subject, e.severity) for e in found if e.kind != "ci-not-passed"] == [("flaky", "warning")]


def ci_passed(found: list) -> bool:
    return check_requirement(Requirement("tested", facets=("ci_passed",), trust="verified"), found).met


def test_ci_passed_means_every_counted_check_succeeded_the_newest_run_of_each_name_winning() -> None:
    green = (run("build", id=1), run("test", id=2), run("docs", conclusion="skipped", id=3))
    assert ci_passed(detect(CHECKS, change_with(checks=green)))
    # A failure re-run green: the newest run wins.
    rerun = (run("build", conclusion="failure", id=1), run("build", id=7), run("test", id=2))
    found = detect(CHECKS, change_with(checks=rerun))
    assert ci_passed(found) and not any(e.contradicts for e in found)
    assert "a newer run of 'build' supersedes it" in [e.discounted for e in found]
    # Pending is "not yet", cancelled is inconclusive: neither is a pass, neither is a red flag.
    for other in (run("test", "in_progress", None, id=2), run("test", conclusion="cancelled", id=2)):
        found = detect(CHECKS, change_with(checks=(run("build", id=1), other)))
        assert not ci_passed(found) and not any(e.contradicts for e in found)
        assert any(e.kind == "ci-not-passed" for e in found)
    # A newer failure after a success: red flag.
    found = detect(CHECKS, change_with(checks=(run("build", id=1), run("build", conclusion="failure", id=9))))
    assert not ci_passed(found) and [e.subject for e in found if e.contradicts] == ["build"]


def test_govgates_own_check_is_never_evidence_nor_are_its_earlier_runs() -> None:
    # Control: a failed check named "govgate" that is not this job's is a real failure.
    earlier = run("govgate", conclusion="failure", id=3)
    found = detect(CHECKS, change_with(checks=(run("build", id=1), earlier)))
    assert [e.subject for e in found if e.contradicts] == ["govgate"] and not ci_passed(found)
    # Attack on the gate's own history: this job (in progress) and its earlier failed run say nothing.
    found = detect(CHECKS, change_with(checks=(run("build", id=1), earlier, run("govgate", "in_progress", None, id=8, own=True))))
    assert not any(e.contradicts for e in found) and ci_passed(found)
    assert {e.discounted for e in found if e.subject == "govgate"} == {
        "govgate's own check (this job, or an earlier run of it) is never evidence about the change"}


def test_a_check_counts_only_from_a_trusted_app_a_configured_context_and_a_base_workflow_the_change_leaves_alone() -> None:
    def counted(check: CheckResult, settings: dict | None = None, paths: tuple[str, ...] = ("src/app.py",)) -> bool:
        found = detect(CHECKS, change_with(checks=(check,), paths=paths), settings)
        return check_requirement(Requirement("tested", checks=("build",), trust="verified"), found).met

    assert counted(run("build"))  # control: a job of a workflow on the base branch
    assert not counted(run("build", app="some-app"))
    assert counted(run("build", app="circleci-checks", origin=None), {"apps": ["github-actions", "circleci-*"]})
    assert not counted(run("build", origin=CheckOrigin()))  # created through the Checks API, not by a job
    assert not counted(run("build", origin=CheckOrigin(".github/workflows/sneaky.yml", on_base=False)))
    assert not counted(run("build"), paths=("src/app.py", ".github/workflows/ci.yml"))  # the change edits the workflow
    called = CheckOrigin(".github/workflows/ci.yml", on_base=True, called=(".github/workflows/reusable.yml",))
    assert not counted(run("build", origin=called), paths=(".github/workflows/reusable.yml",))
    assert not counted(run("build", origin=CheckOrigin(unknown="the workflow that ran it could not be read")))
    status = CheckResult("build", "completed", "success", HEAD, kind="status")
    assert not counted(status) and counted(status, {"contexts": ["build"]})
