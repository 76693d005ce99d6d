"""`govgate check` on GitHub Actions: real payloads, real git, a real HTTP API on 127.0.0.1, the real CLI."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import BOB, run_cli
from tests.github_case import (
    API,
    TOKEN,
    VERIFIED_POLICY,
    actions_env,
    payload,
    pr_repo,
    pull_request_event,
    rule,
    run_check,
    serve_evidence,
    serve_workflows,
    write_event,
)
from tests.github_server import GitHubServer, Reply, check_run, commit_status, review


def test_approved_and_green_pull_request_passes_on_verified_evidence(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head)
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 0, result.stderr + result.stdout
    data = result.json()
    assert data["verdict"] == "pass"
    assert data["change"]["id"] == "#2" and data["change"]["kind"] == "pull_request"
    assert data["change"]["pull_request"] == {"number": 2, "url": "https://github.com/Codertocat/Hello-World/pull/2",
                                              "author": "Codertocat"}
    assert data["change"]["commits"] == [head]
    approval = next(e for e in data["questions"]["reviewed"]["evidence"] if e["kind"] == "github-approval")
    assert approval["trust"] == "verified" and approval["subject"] == "alice"
    assert set(approval["facets"]) == {"approval", "approval_on_head"}
    tested = {e["subject"] for e in data["questions"]["tested"]["evidence"] if "check_passed" in e.get("facets", [])}
    assert tested == {"build", "ci/lint"}
    [whole] = [e for e in data["questions"]["tested"]["evidence"] if "ci_passed" in e.get("facets", [])]
    assert whole["detail"] == "every check on the head commit completed successfully (2 counted)"
    assert data["policy"] == f".govgate.yml@{base[:12]}"
    sent = github_server.calls(f"{API}/pulls/2/reviews")[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


def test_approvals_by_the_author_a_bot_and_an_ai_agent_do_not_count(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head, reviews=[
        review("Codertocat", "APPROVED", head),  # the PR's author
        review("dependabot[bot]", "APPROVED", head, user_type="Bot"),
        review("renovate-helper", "APPROVED", head, user_type="Bot"),
        review("coderabbitai[bot]", "APPROVED", head, user_type="Bot"),
        review("Copilot", "APPROVED", head),  # an AI reviewer, even where GitHub reports a plain user
    ])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 1
    assert "has 0 of 1 human approval" in rule(result, "human-approval-on-head")["message"]
    discounted = {e["subject"]: e["discounted"] for e in result.json()["questions"]["reviewed"]["evidence"]
                  if e["kind"] == "github-approval"}
    assert discounted == {
        "codertocat": "the pull request's author cannot approve it",
        "dependabot[bot]": "a bot's approval is not a human review",
        "renovate-helper": "a bot's approval is not a human review",
        "coderabbitai[bot]": "an AI agent's approval is not a human review",
        "copilot": "an AI agent's approval is not a human review",
    }


def test_a_stale_approval_does_not_satisfy_on_head(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head, reviews=[review("alice", "APPROVED", base)])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 1
    assert "1 more on an older commit" in rule(result, "human-approval-on-head")["message"]


def test_latest_standing_review_wins_and_comments_do_not_replace_it(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    # 120 reviews over two pages: bob requests changes, then approves on page 2; carol approves
    # then requests changes; dave approves then only comments.
    noise = [review("erin", "COMMENTED", head, review_id=i) for i in range(110)]
    reviews = [review("bob", "CHANGES_REQUESTED", base), review("carol", "APPROVED", head), review("dave", "APPROVED", head),
               *noise, review("bob", "APPROVED", head), review("carol", "CHANGES_REQUESTED", head),
               review("dave", "COMMENTED", head)]
    serve_evidence(github_server, head, reviews=reviews)
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert len(github_server.calls(f"{API}/pulls/2/reviews")) == 2
    evidence = result.json()["questions"]["reviewed"]["evidence"]
    approvers = {e["subject"] for e in evidence if e["kind"] == "github-approval" and not e.get("discounted")}
    assert approvers == {"bob", "dave"}
    blocking = [e for e in evidence if e["effect"] == "contradicts"]
    assert [(e["subject"], e["severity"]) for e in blocking] == [("carol", "error")]
    assert result.code == 1
    assert "red flag: @carol requested changes" in rule(result, "human-approval-on-head")["message"]


def test_checks_pending_and_failing_are_reported_as_such(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head, runs=[check_run("build", head, status="in_progress")],
                   statuses=[commit_status("ci/lint", "pending")])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 1
    message = rule(result, "ci-green")["message"]
    assert "check 'build' is still pending" in message and "check 'ci/*' is still pending" in message
    assert "red flag" not in message

    serve_evidence(github_server, head, runs=[check_run("build", head, conclusion="failure")],
                   statuses=[commit_status("ci/lint", "success")])
    result = run_check(builder, env)
    assert result.code == 1
    message = rule(result, "ci-green")["message"]
    assert "red flag: check 'build' concluded failure" in message
    assert result.json()["questions"]["tested"]["status"] == "contradicted"


def test_null_body_is_an_empty_description(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head)
    event = pull_request_event(base, head, name="pull_request.opened.with-null-body.json")
    assert event["pull_request"]["body"] is None
    result = run_check(builder, actions_env(github_server, "pull_request", write_event(tmp_path, event)))
    assert result.code == 0, result.stderr


def test_the_base_policy_judges_a_pull_request_that_weakens_it(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, _ = pr_repo(tmp_path)
    head = builder.commit("Relax the gate", {".govgate.yml": "version: 1\nrules: []\n"})
    serve_evidence(github_server, head, reviews=[])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 1
    data = result.json()
    assert data["policy"] == f".govgate.yml@{base[:12]}"
    assert {r["id"] for r in data["rules"]} == {"human-approval-on-head", "ci-green"}
    # Control: judged with the head's working-tree policy (what a policy author may ask for locally), it passes.
    local = run_cli("check", "--repo", str(builder.path), "--base", base, "--format", "json", "--policy-from-worktree")
    assert local.code == 0 and local.json()["rules"] == []


def test_adding_a_policy_is_judged_by_the_embedded_default_and_flagged(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, _ = pr_repo(tmp_path, policy=None)
    head = builder.commit("Add a lax policy", {".govgate.yml": "version: 1\nrules: []\n"})
    serve_evidence(github_server, head, reviews=[])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 1
    assert rule(result, "policy-change-needs-verified-review")["status"] == "fail"

    serve_evidence(github_server, head, reviews=[review("bob", "APPROVED", head)])
    result = run_check(builder, env)
    assert rule(result, "policy-change-needs-verified-review")["status"] == "pass"


def test_codeowners_from_the_base_commit_decide_codeowner_approval(tmp_path: Path, github_server: GitHubServer) -> None:
    policy = "version: 1\nrules:\n  - id: owners\n    require:\n      reviewed: {codeowners: true, trust: verified}\n"
    builder, base, head = pr_repo(tmp_path, policy=policy, codeowners="* @someone\n/README.md @docs-team-lead @org/docs\n")
    # The PR tries to make its author an owner: the base commit's CODEOWNERS is what counts.
    head = builder.commit("Own it", {".github/CODEOWNERS": "* @Codertocat\n"})
    serve_evidence(github_server, head, reviews=[review("someone", "APPROVED", head)])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 1
    notes = [e["detail"] for e in result.json()["questions"]["reviewed"]["evidence"] if e["kind"] == "codeowner-missing"]
    assert notes == ["README.md: no approval by @docs-team-lead or @org/docs"]

    serve_evidence(github_server, head, reviews=[review("someone", "APPROVED", head), review("Docs-Team-Lead", "APPROVED", head)])
    result = run_check(builder, env)
    assert result.code == 0, result.stdout
    owners = {e["subject"] for e in result.json()["questions"]["reviewed"]["evidence"]
              if "codeowner_approval" in e.get("facets", [])}
    assert owners == {"someone", "docs-team-lead"}


def test_a_merged_pull_request_is_read_as_merged(tmp_path: Path, github_server: GitHubServer) -> None:
    # octokit/webhooks has no merged example: the closed one, with the fields GitHub sets on merge.
    builder, base, head = pr_repo(tmp_path)
    builder.checkout("main")
    builder.git("merge", "--no-ff", "-q", "-m", "Merge pull request #2 from Codertocat/changes", "changes")
    merge_sha = builder.head()
    serve_evidence(github_server, head)
    event = pull_request_event(base, head, name="pull_request.closed.payload.json", merged=True,
                               merged_at="2019-05-15T15:21:00Z", merge_commit_sha=merge_sha)
    result = run_check(builder, actions_env(github_server, "pull_request", write_event(tmp_path, event)))
    assert result.code == 0, result.stderr
    assert result.json()["change"]["commits"] == [head]


def test_a_bot_authored_pull_request_needs_a_human_and_its_own_approval_never_counts(
    tmp_path: Path, github_server: GitHubServer,
) -> None:
    builder, base, head = pr_repo(tmp_path)
    bot = {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"}
    event = pull_request_event(base, head, user=bot, head={**payload("pull_request.opened.payload.json")["pull_request"]["head"],
                                                           "sha": head, "ref": "dependabot/pip/requests-2.32.0"})
    serve_evidence(github_server, head, reviews=[review("dependabot[bot]", "APPROVED", head, user_type="Bot")])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, event))
    result = run_check(builder, env)
    assert result.code == 1
    assert result.json()["change"]["pull_request"]["author"] == "dependabot[bot]"

    serve_evidence(github_server, head, reviews=[review("dependabot[bot]", "APPROVED", head, user_type="Bot"),
                                                 review("alice", "APPROVED", head)])
    assert run_check(builder, env).code == 0


def test_pull_request_target_and_review_events_judge_the_pr_head(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    builder.checkout("main")  # pull_request_target checks out the base, never the head
    serve_evidence(github_server, head)
    for name, event in (
        ("pull_request_target", pull_request_event(base, head)),
        ("pull_request_review", pull_request_event(base, head, name="pull_request_review.submitted.payload.json")),
    ):
        result = run_check(builder, actions_env(github_server, name, write_event(tmp_path, event)))
        assert result.code == 0, (name, result.stderr)
        assert result.json()["change"]["commits"] == [head]


def test_merge_group_uses_payload_shas_and_the_queued_pull_request(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, pr_head = pr_repo(tmp_path)
    builder.checkout("main")
    builder.git("checkout", "-q", "-b", "gh-readonly-queue/main/pr-104-" + base)
    builder.git("merge", "--no-ff", "-q", "-m", "Merge pull request #104", "changes")
    group_head = builder.head()
    event = payload("merge_group.checks_requested.payload.json")
    event["merge_group"].update(head_sha=group_head, base_sha=base,
                                head_ref=f"refs/heads/gh-readonly-queue/main/pr-104-{base}")
    pull = payload("pull_request.opened.payload.json")["pull_request"]
    pull.update(number=104, head={**pull["head"], "sha": pr_head}, base={**pull["base"], "sha": base})
    github_server.json(f"{API}/pulls/104", pull)
    serve_evidence(github_server, pr_head, number=104)
    result = run_check(builder, actions_env(github_server, "merge_group", write_event(tmp_path, event)))
    assert result.code == 0, result.stderr + result.stdout
    data = result.json()
    assert data["change"]["kind"] == "merge_group" and data["change"]["head"] == group_head
    assert data["change"]["pull_request"]["number"] == 104
    assert set(data["change"]["commits"]) == {group_head, pr_head}


def test_a_tag_deletion_push_has_nothing_to_judge(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, _, _ = pr_repo(tmp_path)
    event_path = tmp_path / "push.json"
    event_path.write_bytes((Path(__file__).parent / "data/github-events/push.payload.json").read_bytes())
    result = run_check(builder, actions_env(github_server, "push", event_path))
    assert result.code == 0
    assert result.stdout == ""
    assert "deleted refs/tags/simple-tag: nothing to judge" in result.stderr
    assert github_server.requests == []


def test_a_new_branch_push_is_judged_against_the_default_branch(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, _, head = pr_repo(tmp_path)
    second = builder.commit("More docs", {"docs/x.md": "x\n"})
    event = payload("push.with-new-branch.payload.json")
    event.update(ref="refs/heads/changes", after=second)
    event["repository"]["default_branch"] = "main"
    github_server.paginated(f"{API}/commits/{second}/pulls", [])
    runs = [check_run("build", second)]
    github_server.paginated(f"{API}/commits/{second}/check-runs", runs, item_key="check_runs")
    serve_workflows(github_server, second, runs, {})
    github_server.paginated(f"{API}/commits/{second}/status", [commit_status("ci/docs", "success")], item_key="statuses")
    result = run_check(builder, actions_env(github_server, "push", write_event(tmp_path, event)))
    data = result.json()
    assert data["change"]["kind"] == "push" and data["change"]["branch"] == "changes"
    assert data["change"]["commits"] == [second, head]
    assert rule(result, "ci-green")["status"] == "pass"


def test_a_push_to_the_default_branch_finds_its_merged_pull_request(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    builder.checkout("main")
    builder.git("merge", "--no-ff", "-q", "-m", "Merge pull request #2", "changes")
    after = builder.head()
    event = payload("push.with-new-branch.payload.json")
    event.update(ref="refs/heads/main", before=base, after=after, created=False)
    event["repository"]["default_branch"] = "main"
    pull = payload("pull_request.closed.payload.json")["pull_request"]
    pull.update(merged_at="2024-03-11T10:00:00Z", merge_commit_sha=after, head={**pull["head"], "sha": head})
    github_server.paginated(f"{API}/commits/{after}/pulls", [pull])
    serve_evidence(github_server, head)
    result = run_check(builder, actions_env(github_server, "push", write_event(tmp_path, event)))
    assert result.code == 0, result.stdout + result.stderr
    data = result.json()
    assert data["change"]["pull_request"]["number"] == 2
    assert set(data["change"]["commits"]) == {after, head}


def test_unreachable_api_fails_closed_with_exit_2(tmp_path: Path) -> None:
    builder, base, head = pr_repo(tmp_path, policy=VERIFIED_POLICY.replace("timeout_seconds: 10", "timeout_seconds: 1"))
    env = actions_env(None, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 2
    assert "cannot reach" in result.stderr and "failing closed" in result.stderr
    assert "on_api_error: fail_open" in result.stderr
    assert result.stdout == ""


def test_fail_open_judges_without_verified_evidence_and_says_so(tmp_path: Path) -> None:
    policy = VERIFIED_POLICY.replace("github: {timeout_seconds: 10}", "github: {timeout_seconds: 1, on_api_error: fail_open}")
    builder, base, head = pr_repo(tmp_path, policy=policy)
    env = actions_env(None, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 1  # the rules need verified evidence, which could not be read
    problems = result.json()["problems"]
    assert any("NOT VERIFIED: reviews" in p and "fail_open" in p for p in problems)
    assert any("NOT VERIFIED: check runs and statuses" in p for p in problems)
    text = run_cli("check", "--format", "text", cwd=builder.path, env=env)
    assert "NOT VERIFIED" in text.stdout


def test_a_hanging_api_hits_the_policy_time_bound(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path, policy=VERIFIED_POLICY.replace("timeout_seconds: 10", "timeout_seconds: 1.5"))
    github_server.hang(f"{API}/pulls/2/reviews")
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    started = time.monotonic()
    result = run_check(builder, env)
    assert time.monotonic() - started < 15
    assert result.code == 2
    assert "time bound of 1.5s" in result.stderr


def test_rate_limit_and_server_errors_are_retried_end_to_end(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    build = check_run("build", head)
    serve_evidence(github_server, head, runs=[build])
    github_server.on(f"{API}/pulls/2/reviews",
                     Reply(403, {"message": "API rate limit exceeded"}, {"retry-after": "1", "x-ratelimit-remaining": "0"}),
                     Reply(200, [review("alice", "APPROVED", head)]))
    github_server.on(f"{API}/commits/{head}/check-runs", Reply(502, {"message": "Server Error"}),
                     Reply(200, {"total_count": 1, "check_runs": [build]}))
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 0, result.stderr
    assert len(github_server.calls(f"{API}/pulls/2/reviews")) == 2
    assert len(github_server.calls(f"{API}/commits/{head}/check-runs")) == 2


def test_the_token_stays_out_of_every_output_when_github_echoes_it(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    github_server.json(f"{API}/pulls/2/reviews", {"message": f"Bad credentials {TOKEN}"}, status=401)
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    for output_format in ("json", "text", "github", "markdown"):
        result = run_cli("check", "--format", output_format, cwd=builder.path, env=env)
        assert result.code == 2
        assert TOKEN not in result.stdout + result.stderr
        assert "Bad credentials ***" in result.stderr


def test_an_unsupported_event_is_a_usage_error(tmp_path: Path) -> None:
    builder, _, _ = pr_repo(tmp_path)
    event = write_event(tmp_path, payload("pull_request.opened.payload.json"))
    result = run_check(builder, actions_env(None, "issues", event))
    assert result.code == 2 and "'issues' is not supported" in result.stderr


def test_reviewed_by_trailer_from_bob_is_declared_not_verified(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, _ = pr_repo(tmp_path)
    head = builder.commit(f"Tweak\n\nReviewed-by: {BOB.name} <{BOB.email}>\n", {"src/app.py": "print('hi')\n"})
    serve_evidence(github_server, head, reviews=[])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    result = run_check(builder, env)
    assert result.code == 1
    assert "1 only declared; this rule needs verified" in rule(result, "human-approval-on-head")["message"]


def test_ai_assistance_is_read_from_the_pull_request_author_and_branch(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path)
    serve_evidence(github_server, head)
    agent = {"login": "copilot-swe-agent[bot]", "id": 198982749, "type": "Bot"}
    event = pull_request_event(base, head, user=agent)
    event["pull_request"]["head"]["ref"] = "copilot/fix-readme"
    result = run_check(builder, actions_env(github_server, "pull_request", write_event(tmp_path, event)))
    data = result.json()
    assert data["ai_assisted"] is True
    assert any("copilot-swe-agent[bot]" in e["detail"] for e in data["ai"]["evidence"])
