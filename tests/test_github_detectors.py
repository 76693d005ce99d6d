"""The review and check detectors on Changes carrying GitHub data, judged by the real engine."""

from __future__ import annotations

from govgate.detectors.github_checks import DETECTOR as CHECKS
from govgate.detectors.github_reviews import DETECTOR as REVIEWS
from govgate.detectors.github_reviews import standing_reviews
from govgate.model import Change, CheckResult, FileChange, FileStatus, PullRequest, Review
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
    return Review(reviewer=login, reviewer_type=kind, state=state, commit_id=commit, submitted_at=at)


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


def test_check_states_map_to_passed_pending_failed_and_inconclusive() -> None:
    checks = (
        CheckResult("build", "completed", "success", HEAD),
        CheckResult("lint", "queued", None, HEAD),
        CheckResult("e2e", "completed", "timed_out", HEAD),
        CheckResult("docs", "completed", "skipped", HEAD),
        CheckResult("old", "completed", "success", OLD),
        CheckResult("ci/legacy", "completed", "error", HEAD, kind="status"),
    )
    found = {e.subject: e for e in detect(CHECKS, change_with(checks=checks))}
    assert found["build"].facets == frozenset({"ci_passed"}) and found["build"].discounted is None
    assert found["lint"].attrs["pending"] is True and found["lint"].discounted == "pending"
    assert found["e2e"].contradicts and found["e2e"].severity == "error"
    assert found["docs"].discounted == "concluded skipped"
    assert found["old"].discounted == "not the head commit"
    assert found["ci/legacy"].contradicts and found["ci/legacy"].detail == "status 'ci/legacy' concluded error"


def test_check_settings_ignore_names_and_soften_failures() -> None:
    checks = (CheckResult("govgate", "in_progress", None, HEAD), CheckResult("flaky", "completed", "failure", HEAD))
    found = detect(CHECKS, change_with(checks=checks), {"ignore": ["gov*"], "failure_severity": "warning"})
    assert [(e.subject, e.severity) for e in found] == [("flaky", "warning")]
