"""The GitLab source end to end: a real repository, the real CLI, GitLab's variables and a fake API.

Every trust rule is tested with an attack and its control: the same merge request without the
attack, which must pass first (``test_honest_merge_request_passes`` is the control of them all).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.github_server import Reply
from tests.gitlab_case import (
    ALICE,
    APPROVED_AT,
    BOB,
    CI_CONFIG,
    IID,
    JOB_TOKEN,
    MR,
    OWN_JOB_ID,
    PIPELINE_ID,
    PROJECT_ID,
    PUSHED_AT,
    TOKEN,
    VERIFIED_POLICY,
    MergeRequestCase,
    case,
    evidence,
    statuses,
)
from tests.gitlab_server import GitLabServer, job, pipeline, push_event, user, user_detail

EARLIER = "2024-03-09T10:00:00.000Z"


def approval_of(data: dict, login: str) -> dict:
    return next(e for e in evidence(data, "reviewed", "gitlab-approval") if e["subject"] == login)


def job_finding(data: dict, name: str) -> dict:
    return next(e for e in evidence(data, "tested") if e["subject"] == name)


# -- the honest merge request: the control of every attack below -------------------------------------

def test_honest_merge_request_passes(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    result = mr.run()
    assert result.code == 0, result.stdout + result.stderr
    data = result.json()
    assert data["change"]["id"] == f"!{IID}" and data["change"]["kind"] == "merge_request"
    assert data["change"]["title"] == "Update the README" and data["change"]["head"] == mr.head
    assert data["policy_origin"]["revision"] == mr.base and "target branch main" in data["policy_origin"]["role"]
    bob = approval_of(data, "bob")
    assert bob["trust"] == "verified" and set(bob["facets"]) == {"approval", "approval_on_head"}
    assert job_finding(data, "test")["facets"] == ["check_passed"]
    (whole,) = evidence(data, "tested", "ci-passed")
    assert whole["facets"] == ["ci_passed"] and whole["attrs"]["checks"] == ["test"]
    own = job_finding(data, "govgate")
    assert own["discounted"].startswith("govgate's own job") and "facets" not in own
    sent = gitlab_server.calls(MR)[0].headers
    assert sent["private-token"] == TOKEN and "job-token" not in sent and "authorization" not in sent


def test_the_source_is_detected_from_gitlab_variables_alone(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.serve()
    result = run_cli("check", "--format", "json", cwd=mr.builder.path, env=mr.env())
    assert result.code == 0 and result.json()["change"]["id"] == "!7"
    branch_pipeline = {k: v for k, v in mr.env().items() if not k.startswith("CI_MERGE_REQUEST_")}
    local = run_cli("check", "--format", "json", "--base", mr.base, cwd=mr.builder.path, env=branch_pipeline)
    assert local.json()["change"]["kind"] == "range"  # a branch pipeline has no merge request: judged as a range


def test_description_labels_and_author_come_from_the_api(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.mr.update(description="## Test plan\nRun pytest.\n", labels=["hotfix"], title="Fix the login page")
    data = mr.run().json()
    assert data["change"]["title"] == "Fix the login page"
    assert data["change"]["pull_request"] == {"number": IID, "url": mr.mr["web_url"], "author": "alice"}
    assert any(e["kind"] == "test-plan" for e in evidence(data, "tested"))


def test_unapproved_merge_request_fails(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.approved_by = []
    result = mr.run()
    assert result.code == 1
    assert statuses(result.json())["human-approval-on-head"] == "fail"


# -- who may approve -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("approver", "detail", "why"), [
    (ALICE, user_detail("alice", 2), "the merge request's author cannot approve it"),
    (user("project_42_bot_3f8a2c1d", 77), user_detail("project_42_bot_3f8a2c1d", 77, bot=True), "a bot's approval"),
    (user("ci-helper", 78), user_detail("ci-helper", 78, bot=True), "a bot's approval"),
    (user("group_9_bot_0c1f", 79), user_detail("group_9_bot_0c1f", 79), "a bot's approval"),
    (user("copilot", 80), user_detail("copilot", 80), "an AI agent's approval"),
    (user("mallory", 81, state="blocked"), user_detail("mallory", 81, state="blocked"), "account is blocked"),
    (user("ghost", 82), user_detail("ghost", 82), "account was deleted"),
])
def test_approvals_by_people_who_may_not_approve_are_discounted(
    tmp_path: Path, gitlab_server: GitLabServer, approver: dict, detail: dict, why: str,
) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.approved_by = [(approver, APPROVED_AT)]
    mr.users[approver["id"]] = detail
    mr.access[approver["id"]] = 40
    result = mr.run()
    assert result.code == 1, result.stdout
    found = approval_of(result.json(), approver["username"])
    assert why in found["discounted"] and "facets" not in found


def test_a_reporter_cannot_approve_but_a_developer_can(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.access[3] = 20  # Reporter
    attack = mr.run()
    assert attack.code == 1
    assert "has the Reporter role" in approval_of(attack.json(), "bob")["discounted"]
    mr.access[3] = 30
    assert mr.run().code == 0


def test_a_non_member_cannot_approve(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    del mr.access[3]  # the members endpoint answers 404
    result = mr.run()
    assert result.code == 1 and "has no role (not a member of the project)" in approval_of(result.json(), "bob")["discounted"]


def test_a_committer_of_the_merge_request_cannot_approve_it(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    from tests.conftest import BOB as BOB_PERSON

    mr = case(tmp_path, gitlab_server)
    mr.builder.commit("Tidy the README", {"README.md": "# Project\n\nFewer words.\n"}, committer=BOB_PERSON)
    mr.head = mr.builder.head()
    control = MergeRequestCase(mr.server, mr.builder, mr.base, mr.head)  # same history, head re-pointed
    result = control.run()
    assert result.code == 1
    assert "committed commit" in approval_of(result.json(), "bob")["discounted"]


def test_a_pusher_of_the_merge_request_cannot_approve_it(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.events = [push_event("bob", 3, ref="feature", commit_to=mr.head, event_id=2),
                 push_event("bob", 3, ref="other-branch", commit_to="1" * 40, event_id=1)]
    result = mr.run()
    assert result.code == 1
    assert f"pushed {mr.head[:12]} to feature" in approval_of(result.json(), "bob")["discounted"]
    mr.events = [push_event("bob", 3, ref="other-branch", commit_to=mr.head)]  # control: a push elsewhere
    assert mr.run().code == 0


def test_pushers_are_read_page_by_page(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    noise = [push_event("carol", 9, ref=f"topic-{i}", commit_to=f"{i:040x}", event_id=100 + i) for i in range(130)]
    mr.events = [*noise, push_event("bob", 3, ref="feature", commit_to=mr.head, event_id=1)]
    result = mr.run()
    assert result.code == 1 and "pushed" in approval_of(result.json(), "bob")["discounted"]
    pages = [s.query.get("page", "1") for s in gitlab_server.calls(f"projects/{PROJECT_ID}/events")]
    assert pages == ["1", "2"]


def test_an_approval_older_than_the_head_is_not_on_the_head(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.approved_by = [(BOB, EARLIER)]  # before the head was pushed (PUSHED_AT)
    result = mr.run()
    assert result.code == 1
    bob = approval_of(result.json(), "bob")
    assert bob["facets"] == ["approval"] and "approved before the head commit was pushed" in bob["detail"]


def test_an_approval_without_a_time_stands_for_the_head_only_when_pushes_reset_approvals(
    tmp_path: Path, gitlab_server: GitLabServer,
) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.approved_by = [(BOB, None)]  # GitLab before approved_at: no time at all
    attack = mr.run()
    assert attack.code == 1 and "may predate the head commit" in approval_of(attack.json(), "bob")["detail"]
    gitlab_server.json(f"projects/{PROJECT_ID}/approvals", {"reset_approvals_on_push": True,
                                                            "selective_code_owner_removals": False,
                                                            "disable_overriding_approvers_per_merge_request": False,
                                                            "merge_requests_author_approval": False,
                                                            "merge_requests_disable_committers_approval": True,
                                                            "require_password_to_approve": False})
    control = mr.run(serve=False)
    assert control.code == 0, control.stdout


def test_an_approval_time_may_come_from_gitlabs_approval_state(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    from tests.gitlab_server import approval_rule, approval_state

    mr = case(tmp_path, gitlab_server)
    mr.approved_by = [(BOB, None)]
    mr.serve()
    gitlab_server.json(f"{MR}/approval_state", approval_state([
        approval_rule("All members", 1, [{**BOB, "approved_at": APPROVED_AT}], rule_type="any_approver")]))
    result = mr.run(serve=False)
    assert result.code == 0, result.stdout
    assert approval_of(result.json(), "bob")["attrs"]["approved_at"] == APPROVED_AT


def test_an_approval_after_a_newer_push_is_not_one_of_the_pipelines_head(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    newer = "9" * 40
    mr.mr["sha"] = mr.mr["diff_refs"]["head_sha"] = newer  # pushed again while this pipeline ran
    result = mr.run()
    assert result.code == 1
    assert f"moved on to {newer[:12]}" in approval_of(result.json(), "bob")["detail"]
    assert any(f"moved on to {newer[:12]}" in p for p in result.json()["problems"])


# -- which jobs can vouch for the merge request -----------------------------------------------------------

def test_a_job_the_merge_request_adds_cannot_satisfy_a_required_name(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    without_test = CI_CONFIG.replace("test:\n  stage: test\n  script: [pytest -q]\n", "")
    mr = case(tmp_path, gitlab_server, files={".gitlab-ci.yml": without_test}, change={".gitlab-ci.yml": CI_CONFIG})
    result = mr.run()
    assert result.code == 1
    assert "this merge request added it" in job_finding(result.json(), "test")["discounted"]


def test_a_job_whose_script_the_merge_request_rewrites_cannot_vouch(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    rewritten = CI_CONFIG.replace("script: [pytest -q]", "script: [exit 0]")
    mr = case(tmp_path, gitlab_server, change={".gitlab-ci.yml": rewritten})
    result = mr.run()
    assert result.code == 1
    assert "changes what 'test' runs" in job_finding(result.json(), "test")["discounted"]


def test_a_job_rewritten_through_an_included_template_cannot_vouch(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    config = "include: [{local: ci/templates.yml}]\ntest:\n  extends: .pytest\n"
    template = ".pytest:\n  script: [pytest -q]\n"
    mr = case(tmp_path, gitlab_server, files={".gitlab-ci.yml": config, "ci/templates.yml": template},
              change={"ci/templates.yml": ".pytest:\n  script: [echo ok]\n"})
    attack = mr.run()
    assert attack.code == 1 and "changes what 'test' runs" in job_finding(attack.json(), "test")["discounted"]
    control = case(tmp_path / "control", GitLabServer(), files={".gitlab-ci.yml": config, "ci/templates.yml": template})
    try:
        assert control.run().code == 0  # the same configuration, left alone
    finally:
        control.server.close()


def test_a_configuration_kept_in_another_project_vouches_for_its_jobs(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    rewritten = CI_CONFIG.replace("script: [pytest -q]", "script: [exit 0]")
    mr = case(tmp_path, gitlab_server, change={".gitlab-ci.yml": rewritten})
    mr.project["ci_config_path"] = ".gitlab-ci.yml@security/ci-templates"
    result = mr.run()
    assert result.code == 0, result.stdout
    assert job_finding(result.json(), "test")["attrs"]["definition"] == "outside"


def test_govgates_own_job_is_never_evidence(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    policy = VERIFIED_POLICY.replace('checks: ["test"]', 'checks: ["gate*"]')
    config = CI_CONFIG.replace("govgate:", "gate-lint:\n  script: [ruff check]\ngate:")
    mr = case(tmp_path, gitlab_server, policy, files={".gitlab-ci.yml": config})
    mr.jobs = [job("gate", OWN_JOB_ID, mr.head), job("gate-lint", 802, mr.head)]
    result = mr.run(env=mr.env(CI_JOB_NAME="gate"))
    assert result.code == 0, result.stdout  # gate-lint passed
    assert job_finding(result.json(), "gate")["discounted"].startswith("govgate's own job")
    mr.jobs = [job("gate", OWN_JOB_ID, mr.head)]  # the attack: only the gate itself "succeeded"
    assert mr.run(env=mr.env(CI_JOB_NAME="gate")).code == 1


def test_ci_passed_needs_every_counted_job_and_never_waits_for_govgate_itself(
    tmp_path: Path, gitlab_server: GitLabServer,
) -> None:
    policy = VERIFIED_POLICY.replace('checks: ["test"]', "ci_passed: true")
    config = CI_CONFIG.replace("govgate:", "lint:\n  script: [ruff check]\ngovgate:")
    mr = case(tmp_path, gitlab_server, policy, files={".gitlab-ci.yml": config})
    mr.jobs.append(job("lint", 803, mr.head, status="running"))
    pending = mr.run()
    assert pending.code == 1
    assert "pending: lint" in evidence(pending.json(), "tested", "ci-not-passed")[0]["detail"]
    mr.jobs[-1] = job("lint", 803, mr.head)  # lint finished; govgate's own job is still running, as it always is
    assert mr.run().code == 0


def test_a_forks_pipeline_cannot_vouch(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.pipeline = pipeline(PIPELINE_ID, 4242, mr.head)
    result = mr.run()
    assert result.code == 1 and "ran in project 4242" in job_finding(result.json(), "test")["discounted"]


def test_a_pipeline_of_another_commit_cannot_vouch(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.pipeline = pipeline(PIPELINE_ID, PROJECT_ID, mr.base, ref="main")
    result = mr.run()
    assert result.code == 1 and "not on the head commit" in job_finding(result.json(), "test")["discounted"]


@pytest.mark.parametrize(("status", "allow_failure", "kind", "code"), [
    ("running", False, "job-pending", 1),
    ("manual", False, "job-pending", 1),
    ("canceled", False, "job-inconclusive", 1),
    ("skipped", False, "job-inconclusive", 1),
    ("failed", True, "job-inconclusive", 1),
    ("failed", False, "job-failed", 1),
    ("success", False, "job-passed", 0),
])
def test_job_states_are_read_as_for_github(
    tmp_path: Path, gitlab_server: GitLabServer, status: str, allow_failure: bool, kind: str, code: int,
) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.jobs = [job("test", 801, mr.head, status=status, allow_failure=allow_failure)]
    result = mr.run()
    assert result.code == code
    assert job_finding(result.json(), "test")["kind"] == kind


@pytest.mark.parametrize("link", [True, False], ids=["link-header", "x-next-page"])
def test_jobs_are_read_page_by_page(tmp_path: Path, gitlab_server: GitLabServer, link: bool) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.jobs = [job(f"lint {i}/30", 1000 + i, mr.head) for i in range(1, 31)] + [job("test", 801, mr.head)]
    mr.serve()
    gitlab_server.paginated(f"projects/{PROJECT_ID}/pipelines/{PIPELINE_ID}/jobs", mr.jobs, page_size=10, link=link)
    result = mr.run(serve=False)
    assert result.code == 0, result.stdout
    assert len(gitlab_server.calls(f"projects/{PROJECT_ID}/pipelines/{PIPELINE_ID}/jobs")) == 4


# -- the API: fail closed, fail open, tokens ---------------------------------------------------------------

def test_api_down_fails_closed(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.serve()
    gitlab_server.on(MR, Reply(503, {"message": "503 Service Unavailable"}))
    result = mr.run(serve=False)
    assert result.code == 2 and result.stdout == ""
    assert "failing closed: nothing was judged" in result.stderr and "gitlab: {on_api_error: fail_open}" in result.stderr
    assert len(gitlab_server.calls(MR)) == 5  # retried with backoff first


def test_api_down_with_fail_open_judges_without_verified_evidence(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    policy = VERIFIED_POLICY.replace("gitlab: {timeout_seconds: 10}", "gitlab: {timeout_seconds: 10, on_api_error: fail_open}")
    mr = case(tmp_path, gitlab_server, policy)
    mr.serve()
    gitlab_server.on(MR, Reply(503, {"message": "503 Service Unavailable"}))
    result = mr.run(serve=False)
    assert result.code == 1  # nothing verified: the verified requirements fail
    problems = result.json()["problems"]
    assert any(p.startswith("NOT VERIFIED: the merge request") for p in problems)
    assert result.json()["change"]["title"] == "Update the README"  # from CI_MERGE_REQUEST_TITLE


def test_the_token_never_shows_even_when_the_api_echoes_it(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.serve()
    gitlab_server.on(MR, Reply(401, {"message": f"401 Unauthorized: token {TOKEN} " + "x" * 400}))
    result = mr.run(serve=False)  # run() asserts neither token appears anywhere
    assert result.code == 2 and "***" in result.stderr and "HTTP 401" in result.stderr


def test_only_the_job_token_reads_the_merge_request_and_verifies_nothing(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    env = {k: v for k, v in mr.env().items() if k != "GOVGATE_GITLAB_TOKEN"}
    result = mr.run(env=env)
    assert result.code == 1
    assert any("CI_JOB_TOKEN" in p and "GOVGATE_GITLAB_TOKEN" in p for p in result.json()["problems"])
    assert [s.headers.get("job-token") for s in gitlab_server.requests] == [JOB_TOKEN]  # the merge request, nothing else
    assert f"{MR}/approvals" not in {s.path.removeprefix("/api/v4/") for s in gitlab_server.requests}


def test_the_token_goes_only_to_the_host_the_code_came_from(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    elsewhere = mr.env(CI_API_V4_URL=gitlab_server.api_url.replace("127.0.0.1", "localhost"))
    attack = mr.run(env=elsewhere)
    assert attack.code == 2 and "govgate sends its token only to the GitLab the code came from" in attack.stderr
    assert gitlab_server.requests == []
    pinned = VERIFIED_POLICY.replace("gitlab: {timeout_seconds: 10}",
                                     f"gitlab: {{timeout_seconds: 10, api_url: '{gitlab_server.api_url}'}}")
    control = case(tmp_path / "control", gitlab_server, pinned)
    assert control.run(env=control.env(CI_API_V4_URL="https://attacker.example/api/v4")).code == 0  # the policy names it


def test_self_managed_gitlab_under_a_relative_url_root(tmp_path: Path) -> None:
    class RelativeRoot(GitLabServer):
        prefix = "/gitlab/api/v4"

    server = RelativeRoot()
    try:
        mr = case(tmp_path, server)
        result = mr.run()
        assert result.code == 0, result.stderr
        assert server.requests and all(s.path.startswith("/gitlab/api/v4/") for s in server.requests)
    finally:
        server.close()


# -- where the policy comes from --------------------------------------------------------------------------

def test_a_redefined_diff_base_cannot_choose_the_policy(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    lax = "version: 1\nrules: []\n"
    mr = case(tmp_path, gitlab_server, change={".govgate.yml": lax})
    mr.approved_by = []
    control = mr.run()
    assert control.code == 1 and control.json()["policy_origin"]["revision"] == mr.base  # the target branch's policy
    mr.builder.git("remote", "set-url", "origin", f"file://{mr.builder.path}")  # a remote git can fetch main from
    attack = mr.run(env=mr.env(CI_MERGE_REQUEST_DIFF_BASE_SHA=mr.head))  # as `variables:` in .gitlab-ci.yml could
    assert attack.code == 2 and "is not on main on origin" in attack.stderr


def test_a_stale_target_branch_ref_is_fetched_again_before_refusing(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    stale = mr.builder.git("commit-tree", f"{mr.base}^{{tree}}", "-m", "an old tip").strip()
    mr.builder.git("update-ref", "refs/remotes/origin/main", stale)  # a reused build directory's old ref
    mr.builder.git("remote", "set-url", "origin", f"file://{mr.builder.path}")
    result = mr.run()
    assert result.code == 0, result.stderr  # fetched main afresh: the diff base is on it
    assert mr.builder.git("rev-parse", "refs/remotes/origin/main").strip() == mr.base


def test_missing_merge_request_variables_are_a_usage_error(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    env = {k: v for k, v in mr.env().items() if k != "CI_MERGE_REQUEST_IID"}
    result = mr.run("--source", "gitlab", env=env)
    assert result.code == 2 and "CI_MERGE_REQUEST_IID" in result.stderr and "Traceback" not in result.stderr


# -- outputs the merge-request widget reads ----------------------------------------------------------------

def test_code_quality_and_junit_reports_in_one_run(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    mr.approved_by = []
    result = mr.run("--report", f"codequality={tmp_path / 'gl-code-quality.json'}", "--report",
                    f"junit={tmp_path / 'junit.xml'}")
    assert result.code == 1
    issues = json.loads((tmp_path / "gl-code-quality.json").read_text(encoding="utf-8"))
    assert [i["check_name"] for i in issues] == ["human-approval-on-head"]
    assert issues[0]["severity"] == "critical" and issues[0]["location"] == {"path": "README.md", "lines": {"begin": 1}}
    assert 'name="human-approval-on-head"' in (tmp_path / "junit.xml").read_text(encoding="utf-8")


def test_the_approval_timing_is_shown_with_the_verdict(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    data = mr.run().json()
    bob = approval_of(data, "bob")
    assert bob["attrs"]["approved_at"] == APPROVED_AT and bob["attrs"]["role"] == "the Developer role"
    assert PUSHED_AT < APPROVED_AT
