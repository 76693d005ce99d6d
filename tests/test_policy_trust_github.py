"""The change cannot choose its policy on GitHub: pushes, presets, symlinked policy and CODEOWNERS.

Real payloads re-pointed at test commits, a real HTTP API on 127.0.0.1, the real CLI. Each attack
comes with its control (the same setup without the attack, giving the safe verdict first).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CliResult, RepoBuilder
from tests.github_case import API, actions_env, payload, pr_repo, pull_request_event, run_check, serve_evidence, write_event
from tests.github_server import GitHubServer, review

NEEDS_REVIEW = """\
version: 1
github: {timeout_seconds: 10}
rules:
  - id: reviewed
    require:
      reviewed: {approvals: 1}
  - id: policy-edits-need-two
    when: {policy_changed: true}
    require:
      reviewed: {approvals: 2}
"""
LAX = "version: 1\nrules: []\n"
OWNERS_POLICY = "version: 1\ngithub: {timeout_seconds: 10}\nrules:\n  - id: owners\n    require:\n      reviewed: {codeowners: true}\n"


def statuses(result: CliResult) -> dict[str, str]:
    return {r["id"]: r["status"] for r in result.json()["rules"]}


def push_event(tmp_path: Path, branch: str, before: str, after: str) -> Path:
    event = payload("push.with-new-branch.payload.json")
    event.update(ref=f"refs/heads/{branch}", before=before, after=after, created=False)
    event["repository"]["default_branch"] = "main"
    return write_event(tmp_path, event)


def serve_push(server: GitHubServer, sha: str) -> None:
    server.paginated(f"{API}/commits/{sha}/pulls", [])
    server.paginated(f"{API}/commits/{sha}/check-runs", [], item_key="check_runs")
    server.paginated(f"{API}/commits/{sha}/status", [], item_key="statuses")


def test_a_push_to_a_feature_branch_is_judged_by_the_default_branchs_policy(
    tmp_path: Path, github_server: GitHubServer,
) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Initial commit", {".govgate.yml": NEEDS_REVIEW, "src/app.py": "x = 0\n"})
    builder.branch("feature")
    first = builder.commit("First push: a harmless change", {"src/app.py": "x = 1\n"})
    control_after = builder.commit("Second push: unreviewed", {"src/app.py": "x = 2\n"})
    serve_push(github_server, control_after)
    control = run_check(builder, actions_env(github_server, "push", push_event(tmp_path, "feature", first, control_after)))
    assert control.code == 1 and statuses(control) == {"reviewed": "fail", "policy-edits-need-two": "skipped"}

    # Attack: the first push empties the policy on the branch; the second profits from it.
    builder.checkout("main")
    builder.git("checkout", "-q", "-b", "feature2")
    weakened = builder.commit("First push: relax the gate", {".govgate.yml": LAX})
    after = builder.commit("Second push: unreviewed", {"src/app.py": "x = 3\n"})
    serve_push(github_server, after)
    attack = run_check(builder, actions_env(github_server, "push", push_event(tmp_path, "feature2", weakened, after)))
    assert attack.code == 1 and statuses(attack) == {"reviewed": "fail", "policy-edits-need-two": "skipped"}
    main = builder.git("rev-parse", "main").strip()
    assert attack.json()["policy_origin"]["role"] == "the default branch main"
    assert attack.json()["policy"] == f".govgate.yml@{main[:12]}"

    # And the policy really is the default branch's: once main is lax, the same push passes.
    builder.checkout("main")
    builder.commit("Main relaxes the gate", {".govgate.yml": LAX})
    relaxed = run_check(builder, actions_env(github_server, "push", push_event(tmp_path, "feature2", weakened, after)))
    assert relaxed.code == 0 and relaxed.json()["rules"] == []


def test_a_push_to_the_default_branch_is_judged_by_its_previous_tip(tmp_path: Path, github_server: GitHubServer) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    before = builder.commit("Initial commit", {".govgate.yml": NEEDS_REVIEW, "src/app.py": "x = 0\n"})
    after = builder.commit("Relax the gate and change the code", {".govgate.yml": LAX, "src/app.py": "x = 1\n"})
    serve_push(github_server, after)
    result = run_check(builder, actions_env(github_server, "push", push_event(tmp_path, "main", before, after)))
    assert result.code == 1 and statuses(result) == {"reviewed": "fail", "policy-edits-need-two": "fail"}
    assert result.json()["policy_origin"]["role"] == "the previous tip of main"
    # Control: a push of the same kind that leaves the policy alone is not flagged as a policy edit.
    clean = builder.commit("Another change", {"src/app.py": "x = 2\n"})
    serve_push(github_server, clean)
    control = run_check(builder, actions_env(github_server, "push", push_event(tmp_path, "main", after, clean)))
    assert control.code == 0 and control.json()["rules"] == []  # judged by `after`, whose policy is lax


def test_a_preset_named_in_the_workflow_cannot_be_shadowed_by_the_pull_request(
    tmp_path: Path, github_server: GitHubServer,
) -> None:
    builder, base, _ = pr_repo(tmp_path, policy=None)
    head = builder.commit("Add look-alikes", {"strict": LAX, "strict.yml": LAX, "src/x.py": "x\n"})
    serve_evidence(github_server, head, reviews=[])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    attack = run_check(builder, env, "--policy", "strict")
    assert attack.code == 1 and statuses(attack)["every-change-reviewed"] == "fail"
    assert attack.json()["policy_origin"]["preset"] == "strict"
    # Control: a file given as a file is read from the base commit, where the PR's file does not exist.
    as_file = run_check(builder, env, "--policy", "./strict")
    assert as_file.json()["policy_origin"]["embedded_default"] is True
    assert any("policy ./strict does not exist at" in p for p in as_file.json()["problems"])


def test_the_working_tree_policy_is_refused_on_a_forge(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path, policy=NEEDS_REVIEW)
    serve_evidence(github_server, head, reviews=[review("bob", "APPROVED", head)])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    assert run_check(builder, env).code == 0  # control
    result = run_check(builder, env, "--policy-from-worktree")
    assert result.code == 2 and "--policy-from-worktree is for local runs" in result.stderr


def test_a_symlink_in_place_of_the_policy_or_codeowners(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, _ = pr_repo(tmp_path, policy=OWNERS_POLICY, codeowners="* @someone\n")
    # Attack in the head: the PR links .govgate.yml and CODEOWNERS to files it wrote.
    builder.write("mine/owners", "* @Codertocat\n")
    builder.write("mine/lax.yml", LAX)
    builder.git("add", "mine")
    builder.symlink(".govgate.yml", "mine/lax.yml")
    builder.symlink(".github/CODEOWNERS", "../mine/owners")
    head = builder.commit("Link the policy and the owners")
    serve_evidence(github_server, head, reviews=[review("someone", "APPROVED", head)])
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    control = run_check(builder, env)  # the base's regular files judge: @someone owns everything
    assert control.code == 0 and statuses(control) == {"owners": "pass"}
    serve_evidence(github_server, head, reviews=[review("bob", "APPROVED", head)])
    assert statuses(run_check(builder, env)) == {"owners": "fail"}  # the PR's own owners file is not read

    # Attack in the base: a merged link would let whoever controls its target choose the content.
    builder.checkout("main")
    for link, target in ((".github/CODEOWNERS", "../mine/owners"), (".govgate.yml", "mine/lax.yml")):
        builder.git("checkout", "-q", "-B", "linked", base)
        builder.write("mine/owners", "* @Codertocat\n")
        builder.write("mine/lax.yml", OWNERS_POLICY)
        builder.git("add", "mine")
        builder.symlink(link, target)
        linked_base = builder.commit(f"Link {link}")
        linked_head = builder.commit("Change", {"src/app.py": "print('linked')\n"})
        serve_evidence(github_server, linked_head, reviews=[review("someone", "APPROVED", linked_head)])
        event = write_event(tmp_path, pull_request_event(linked_base, linked_head))
        result = run_check(builder, actions_env(github_server, "pull_request", event))
        assert result.code == 2 and result.stdout == "", link
        assert f"{link} at {linked_base[:12]} (the pull request's base commit) is a symbolic link" in result.stderr
