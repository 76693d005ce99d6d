"""Forge mode cannot be forged: who may approve, who ran a check, and what the author typed.

Every attack is paired with its control: the same setup without the attack must give the safe
verdict first, so no test here passes because the setup was broken. All of it runs the real CLI
against a real git repository and the fake GitHub API on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ALICE, BOB, Author, CliResult, RepoBuilder, run_cli
from tests.github_case import (
    API,
    VERIFIED_POLICY,
    WORKFLOW,
    actions_env,
    pr_repo,
    pull_request_event,
    rule,
    run_check,
    serve_evidence,
    write_event,
)
from tests.github_server import (
    GitHubServer,
    activity,
    check_run,
    commit_status,
    pr_commit,
    review,
    workflow_job,
)

CLAUDE = "Co-Authored-By: Claude <noreply@anthropic.com>"
PLANS = ("## Summary\nFaster sessions.\n\n## Test plan\nRan the login suite by hand.\n\n"
         "## Rollout plan\nEnable for 5% of users, then 50%, then everyone.\n\n"
         "## Rollback plan\nRevert the commit; sessions fall back to the old store.\n")


def approvals(result: CliResult) -> dict[str, str | None]:
    """Reviewer -> why their approval was discounted (None: it counts)."""
    return {e["subject"]: e.get("discounted") for e in result.json()["questions"]["reviewed"]["evidence"]
            if e["kind"] == "github-approval"}


def pr_env(server: GitHubServer, tmp_path: Path, base: str, head: str, name: str = "pull_request.opened.payload.json",
           **extra: str) -> dict[str, str]:
    return actions_env(server, "pull_request", write_event(tmp_path, pull_request_event(base, head, name=name)), **extra)


# -- 8.2: an approval counts only from a person who may approve --------------------------------------


def test_an_approval_counts_only_from_someone_with_write_access(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    env = pr_env(github_server, tmp_path, base, head)
    # Control: an organisation member whose permission on the repository is write.
    serve_evidence(github_server, head, writers={"alice": "write"})
    control = run_check(builder, env)
    assert control.code == 0, control.stdout
    assert approvals(control) == {"alice": None}
    assert len(github_server.calls(f"{API}/collaborators/alice/permission")) == 1
    # Attack: a member with only read (or triage, which the endpoint reports as read) approves.
    serve_evidence(github_server, head, writers={"alice": "read"})
    attack = run_check(builder, env)
    assert attack.code == 1
    assert approvals(attack) == {"alice": "@alice has read access to the repository, not write: they cannot approve"}
    text = run_cli("check", cwd=builder.path, env=env).stdout
    assert "approved by @alice on the head commit [verified] at GitHub review by @alice (https://github.com/Codertocat/" \
           "Hello-World/pull/2) (not counted: @alice has read access to the repository, not write" in text
    # Someone who is no collaborator at all: GitHub answers 404 for the permission.
    serve_evidence(github_server, head, writers={"alice": "404"})
    assert approvals(run_check(builder, env))["alice"] == "@alice has none access to the repository, not write: they cannot approve"
    # A contributor's association says it without asking; an owner's too.
    github_server.requests.clear()
    serve_evidence(github_server, head, reviews=[review("alice", "APPROVED", head, association="CONTRIBUTOR"),
                                                 review("olivia", "APPROVED", head, association="OWNER")])
    mixed = run_check(builder, env)
    assert approvals(mixed) == {"alice": "@alice has no write access to the repository (author_association CONTRIBUTOR)",
                                "olivia": None}
    assert mixed.code == 0
    assert not [s for s in github_server.requests if s.path.endswith("/permission")]


def test_whoever_wrote_or_pushed_the_commits_cannot_approve_them(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    env = pr_env(github_server, tmp_path, base, head)
    # Control: the author (Codertocat) wrote and pushed; alice, who did neither, approves.
    serve_evidence(github_server, head)
    assert run_check(builder, env).code == 0
    activity_call = github_server.calls(f"{API}/activity")[0]
    assert activity_call.query["ref"] == "refs/heads/changes"
    # Attack 1: alice pushed the head (a maintainer pushing onto the branch, then approving her own push).
    serve_evidence(github_server, head, pushes=[activity("Codertocat", "0" * 40, base, "refs/heads/changes"),
                                                activity("alice", base, head, "refs/heads/changes", "force_push")])
    pushed = run_check(builder, env)
    assert pushed.code == 1
    assert approvals(pushed)["alice"] == (f"@alice pushed {head[:12]} to changes: whoever wrote or pushed the commits "
                                          "cannot approve them (GitHub's approval of the most recent push)")
    # Attack 2: alice authored a commit of the pull request.
    serve_evidence(github_server, head, commits=[pr_commit(head, "alice", "Codertocat")])
    authored = run_check(builder, env)
    assert authored.code == 1 and approvals(authored)["alice"].startswith(f"@alice authored commit {head[:12]}")
    # Attack 3: the activity cannot be read (a fork), but this very run was started by alice's push.
    serve_evidence(github_server, head)
    github_server.json(f"{API}/activity", {"message": "Resource not accessible by integration"}, status=403)
    event = pull_request_event(base, head, name="pull_request.synchronize.payload.json")
    event.update(after=head, sender={"login": "alice", "id": 1, "type": "User"})
    sync_env = actions_env(github_server, "pull_request", write_event(tmp_path, event))
    synced = run_check(builder, sync_env)
    assert synced.code == 1
    assert "(the push that started this run)" in str(approvals(synced)["alice"])
    assert any("could not be read from Codertocat/Hello-World's activity" in p for p in synced.json()["problems"])
    # ... and the same unreadable activity with someone else's push: alice counts, the gap is said aloud.
    event.update(sender={"login": "Codertocat", "id": 2, "type": "User"})
    other = run_check(builder, actions_env(github_server, "pull_request", write_event(tmp_path, event)))
    assert other.code == 0 and approvals(other) == {"alice": None}


def test_bots_ai_agents_and_deleted_accounts_never_approve(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    env = pr_env(github_server, tmp_path, base, head)
    serve_evidence(github_server, head, reviews=[review("bob", "APPROVED", head)])
    assert run_check(builder, env).code == 0  # control: a person
    serve_evidence(github_server, head, reviews=[review(None, "APPROVED", head), review("Copilot", "APPROVED", head),
                                                 review("mergebot[bot]", "APPROVED", head, user_type="Bot")])
    attack = run_check(builder, env)
    assert attack.code == 1
    assert approvals(attack) == {
        "ghost": "the reviewer's account was deleted (GitHub shows it as ghost): nobody stands behind it",
        "copilot": "an AI agent's approval is not a human review",
        "mergebot[bot]": "a bot's approval is not a human review",
    }
    assert not [s for s in github_server.requests if s.path.endswith("/permission") and "ghost" in s.path]


# -- 8.3: nothing the author typed passes the embedded default on GitHub --------------------------------


def risky_ai_change(tmp_path: Path, committer: Author | None = None) -> tuple[RepoBuilder, str, str]:
    """No .govgate.yml (the embedded default); one AI-assisted, high-risk commit whose message vouches for itself."""
    builder, base, _ = pr_repo(tmp_path, policy=None)
    body = "".join(f"SESSION_{i} = {i}\n" for i in range(600))
    head = builder.commit(f"Rework session storage\n\n{CLAUDE}\nReviewed-by: {BOB.name} <{BOB.email}>\n"
                          f"Tested-by: {BOB.name} <{BOB.email}>\n", {"src/auth/session.py": body}, committer=committer)
    return builder, base, head


def test_on_github_nothing_the_author_typed_passes_the_embedded_default(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = risky_ai_change(tmp_path, committer=BOB)  # Bob committed it: his trailers are his
    body = tmp_path / "body.md"
    body.write_text(PLANS, encoding="utf-8")
    # Control, offline: the declared review, test plan and rollout/rollback plans pass, and the output says so.
    offline = run_cli("check", "--repo", str(builder.path), "--base", base, "--pr-body-file", str(body), "--format", "json")
    assert offline.code == 0, offline.stdout
    data = offline.json()
    assert data["change"]["forge"] is None and data["risk"]["level"] == "high" and data["ai_assisted"]
    assert data["questions"]["reviewed"]["declared_offline"] is True
    assert data["notes"] and "judged offline" in data["notes"][0] and "ai-risky-needs-human-review" in data["notes"][0]
    text = run_cli("check", "--repo", str(builder.path), "--base", base, "--pr-body-file", str(body))
    assert "reviewed: ok (declared, offline)" in text.stdout
    markdown = run_cli("check", "--repo", str(builder.path), "--base", base, "--pr-body-file", str(body), "--format", "markdown")
    assert "> [!NOTE]" in markdown.stdout and "(declared, offline)" in markdown.stdout

    # Attack, on GitHub: the same trailers and plans, no approval, no checks.
    event = pull_request_event(base, head, body=PLANS)
    env = actions_env(github_server, "pull_request", write_event(tmp_path, event))
    serve_evidence(github_server, head, reviews=[], runs=[], statuses=[])
    attack = run_check(builder, env)
    assert attack.code == 1
    failed = {r["id"] for r in attack.json()["rules"] if r["status"] == "fail"}
    assert failed == {"ai-risky-needs-verified-review", "ai-risky-needs-verified-tests",
                      "ai-high-risk-needs-verified-rollout-and-rollback"}
    assert attack.json()["change"]["forge"] == "github" and attack.json()["notes"] == []
    message = rule(attack, "ai-high-risk-needs-verified-rollout-and-rollback")["message"]
    assert "a written plan in the PR body counts only together with reviewed" in message
    assert "1 only declared; this rule needs verified" in rule(attack, "ai-risky-needs-verified-review")["message"]

    # A stale approval (of an older commit) does not make the plans count either.
    serve_evidence(github_server, head, reviews=[review("carol", "APPROVED", base)], runs=[], statuses=[])
    stale = run_check(builder, env)
    assert rule(stale, "ai-high-risk-needs-verified-rollout-and-rollback")["status"] == "fail"

    # Control, on GitHub: a verified approval of the head by someone who may approve.
    serve_evidence(github_server, head, reviews=[review("carol", "APPROVED", head)], runs=[], statuses=[])
    approved = run_check(builder, env)
    assert approved.code == 0, approved.stdout
    assert {r["id"]: r["status"] for r in approved.json()["rules"]}["ai-high-risk-needs-verified-rollout-and-rollback"] == "pass"


def test_trailers_inside_an_ai_commit_nobody_else_committed_do_not_count(tmp_path: Path) -> None:
    # Control: Bob committed the AI-assisted commit (he applied the patch), so his Reviewed-by and Tested-by are his.
    builder, base, _ = risky_ai_change(tmp_path / "control", committer=BOB)
    control = run_cli("check", "--repo", str(builder.path), "--base", base, "--format", "json")
    assert rule(control, "ai-risky-needs-human-review")["status"] == "pass"
    assert rule(control, "ai-risky-needs-tests")["status"] == "pass"
    # Attack: Alice (the operator) committed it alone: the agent or she typed those trailers.
    builder, base, _ = risky_ai_change(tmp_path / "attack", committer=ALICE)
    attack = run_cli("check", "--repo", str(builder.path), "--base", base, "--format", "json")
    assert attack.code == 1
    assert rule(attack, "ai-risky-needs-human-review")["status"] == "fail"
    assert rule(attack, "ai-risky-needs-tests")["status"] == "fail"
    reason = "it sits in a Claude Code-assisted commit that nobody else committed: the agent or its operator wrote it"
    discounted = {(e["kind"], e.get("discounted")) for q in ("reviewed", "tested")
                  for e in attack.json()["questions"][q]["evidence"]}
    assert ("agent-written-review", reason) in discounted and ("tested-by-trailer", reason) in discounted


# -- 8.6: a check counts only from who is trusted to run it ---------------------------------------------


CHECKS_POLICY = VERIFIED_POLICY.replace('checks: ["build", "ci/*"]', 'checks: ["build"]')


def test_a_job_the_pull_request_adds_or_edits_cannot_satisfy_a_required_check(
    tmp_path: Path, github_server: GitHubServer,
) -> None:
    builder, base, _ = pr_repo(tmp_path, policy=CHECKS_POLICY)
    head = builder.commit("Add a build job of our own", {".github/workflows/sneaky.yml": "on: pull_request\n"})
    env = pr_env(github_server, tmp_path, base, head)
    # Control: "build" is a job of ci.yml, which is on the base branch and untouched.
    serve_evidence(github_server, head)
    assert run_check(builder, env).code == 0
    # Attack 1: "build" comes from the workflow file this pull request adds.
    serve_evidence(github_server, head, workflows={11: {"path": ".github/workflows/sneaky.yml"}})
    added = run_check(builder, env)
    assert added.code == 1
    assert "check 'build' did not succeed on the head commit" in rule(added, "ci-green")["message"]
    reasons = {e.get("discounted") for e in added.json()["questions"]["tested"]["evidence"]}
    assert "its workflow .github/workflows/sneaky.yml does not exist on the base branch: the change added it" in reasons
    # Attack 2: a step created a check run named "build" through the Checks API: it is no job of its run.
    serve_evidence(github_server, head, workflows={11: {"jobs": []}})
    assert run_check(builder, env).code == 1
    # Attack 3: a commit status named "build" (statuses count only from configured contexts) and
    # a check run named "build" from some other app.
    serve_evidence(github_server, head, runs=[check_run("build", head, app="my-own-app")],
                   statuses=[commit_status("build", "success")])
    assert run_check(builder, env).code == 1


def test_a_pull_request_that_edits_the_workflow_cannot_vouch_with_its_jobs(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, _ = pr_repo(tmp_path, policy=CHECKS_POLICY)
    head = builder.commit("Make the build job pass", {WORKFLOW: "on: pull_request\njobs:\n  build: {steps: [{run: 'true'}]}\n"})
    env = pr_env(github_server, tmp_path, base, head)
    serve_evidence(github_server, head)
    edited = run_check(builder, env)
    assert edited.code == 1
    reasons = {e.get("discounted") for e in edited.json()["questions"]["tested"]["evidence"]}
    assert (f"this change edits {WORKFLOW}, the workflow that ran it: a change cannot vouch for itself with jobs it "
            "wrote") in reasons
    # Without actions: read the workflow cannot be known: the check proves nothing, and the log says what to grant.
    builder2, base2, head2 = pr_repo(tmp_path / "other", policy=CHECKS_POLICY)
    serve_evidence(github_server, head2)
    github_server.json(f"{API}/actions/runs", {"message": "Resource not accessible by integration"}, status=403)
    refused = run_check(builder2, pr_env(github_server, tmp_path, base2, head2))
    assert refused.code == 1
    assert any("grant `actions: read`" in p for p in refused.json()["problems"])


def ai_change_without_tests(tmp_path: Path) -> tuple[RepoBuilder, str, str]:
    """The embedded default, an AI-assisted change to auth code with no test change: CI must pass."""
    builder, base, _ = pr_repo(tmp_path, policy=None)
    head = builder.commit(f"Harden login throttling\n\n{CLAUDE}\n", {"src/auth/throttle.py": "LIMIT = 5\n"})
    return builder, base, head


def test_a_human_approval_after_a_failed_govgate_run_passes_on_re_run(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = ai_change_without_tests(tmp_path)
    build = check_run("build", head, suite_id=11)

    # Run 1, on pull_request: no approval yet. This job is "govgate", in progress in workflow run 7001;
    # govgate finds its own check run through the run's jobs on this runner.
    first = check_run("govgate", head, status="in_progress", suite_id=12)
    serve_evidence(github_server, head, reviews=[], runs=[build, first], statuses=[])
    github_server.paginated(f"{API}/actions/runs/7001/attempts/1/jobs", [
        workflow_job(first["id"], 7001, "govgate", status="in_progress", runner_name="GitHub Actions 7"),
        workflow_job(999, 7001, "lint", status="in_progress", runner_name="GitHub Actions 8"),
    ], item_key="jobs")
    run1 = run_check(builder, pr_env(github_server, tmp_path, base, head, GITHUB_RUN_ID="7001", RUNNER_NAME="GitHub Actions 7"))
    assert run1.code == 1
    assert {r["id"] for r in run1.json()["rules"] if r["status"] == "fail"} == {"ai-risky-needs-verified-review"}
    assert rule(run1, "ai-risky-needs-verified-tests")["status"] == "pass"  # CI passed: its own job does not count

    # Run 1 ended in failure. A human approves; pull_request_review starts run 2, whose job (check run
    # `second`) is named by job.check_run_id through action.yml.
    failed_first = {**first, "status": "completed", "conclusion": "failure"}
    second = check_run("govgate", head, status="in_progress", suite_id=13)
    serve_evidence(github_server, head, reviews=[review("alice", "APPROVED", head)], runs=[build, failed_first, second],
                   statuses=[])
    review_env = pr_env(github_server, tmp_path, base, head, name="pull_request_review.submitted.payload.json",
                        GOVGATE_CHECK_RUN_ID=str(second["id"]))
    run2 = run_check(builder, review_env)
    assert run2.code == 0, run2.stdout
    assert run2.json()["questions"]["tested"]["status"] == "satisfied"
    own = [e for e in run2.json()["questions"]["tested"]["evidence"] if e.get("subject") == "govgate"]
    assert len(own) == 2 and all("govgate's own check" in e["discounted"] for e in own)

    # Control: had govgate not known its own job, that job would be a check still running on the head,
    # and "CI passed" would not hold yet.
    blind = run_check(builder, pr_env(github_server, tmp_path, base, head, name="pull_request_review.submitted.payload.json"))
    assert blind.code == 1
    assert "CI passed on the head commit" in rule(blind, "ai-risky-needs-verified-tests")["message"]


def test_the_action_passes_its_own_check_run_id(tmp_path: Path) -> None:
    import yaml

    action = yaml.safe_load((Path(__file__).resolve().parents[1] / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s["id"] == "check")
    assert step["env"]["GOVGATE_CHECK_RUN_ID"] == "${{ job.check_run_id }}"


def test_a_check_run_id_from_the_environment_that_names_no_check_changes_nothing(
    tmp_path: Path, github_server: GitHubServer,
) -> None:
    # GOVGATE_CHECK_RUN_ID comes from the runner; even a wrong one can only exclude the check it names.
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head, runs=[check_run("build", head, conclusion="failure")])
    result = run_check(builder, pr_env(github_server, tmp_path, base, head, GOVGATE_CHECK_RUN_ID="12345"))
    assert result.code == 1 and "red flag: check 'build' concluded failure" in rule(result, "ci-green")["message"]
