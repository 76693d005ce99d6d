"""Incomplete data never passes: capped API lists, history out of reach, missing objects.

Each case first shows the complete control (the same setup with everything readable) giving its
verdict, then the incomplete one giving "not fully judged" (verdict ``incomplete``, exit 2) or a
fail, never a pass. Contents are read by object id, so a file name holding a newline cannot make
one file's content be read for another.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.audit_support import audit, audit_json, git
from tests.conftest import RepoBuilder, run_cli
from tests.github_case import API, actions_env, payload, pull_request_event, run_check, serve_evidence, write_event
from tests.github_server import GitHubServer, review

REVIEWED = "version: 1\ngithub: {timeout_seconds: 10}\nrules:\n  - id: reviewed\n    require:\n      reviewed: {approvals: 1}\n"
RECREATE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: 3
  strategy:
    type: Recreate
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      containers: [{name: app, image: "app:2"}]
"""
MIGRATION = ("revision = '0002'\ndown_revision = '0001'\n\n\ndef upgrade():\n    op.add_column('users', sa.Column('age'))\n"
             "\n\ndef downgrade():\n    op.drop_column('users', 'age')\n")
NEWLINE_NAME = "deploy/first\nsecond.yaml"
GONE = "1234567890abcdef1234567890abcdef12345678"  # a commit no clone has: what a force-push leaves as `before`


def cut_off_clone(tmp_path: Path, files: dict[str, str | bytes | None]) -> tuple[Path, str, str, list[str]]:
    """A clone holding the base and head commits (depth 1 each) but not their fork point, and no way to fetch it.

    Returns (clone, base, head, the feature commits newest last): the pull request must be read from the API.
    """
    origin = RepoBuilder(tmp_path / "origin")
    origin.commit("Initial commit", {".govgate.yml": REVIEWED, "README.md": "# app\n"})
    origin.branch("feature")
    feature = [origin.commit("Feature", files), origin.commit("Polish", {"README.md": "# app\n\npolished\n"})]
    origin.checkout("main")
    base = origin.commit("Main moves on", {"docs/x.md": "x\n"})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth=1", "--branch", "feature", f"file://{origin.path}", str(clone)],
                   check=True, capture_output=True)
    git(clone, "fetch", "-q", "--depth=1", "origin", "main")
    git(clone, "remote", "set-url", "origin", f"file://{tmp_path}/gone")
    return clone, base, feature[-1], feature


def serve_pull(server: GitHubServer, head: str, feature: list[str], files: list[dict], commits: list[str] | None = None) -> None:
    serve_evidence(server, head, reviews=[review("bob", "APPROVED", head)])  # first: the commit list below replaces its own
    author = {"name": "Codertocat", "email": "codertocat@example.com", "date": "2024-03-11T10:00:00Z"}
    server.paginated(f"{API}/pulls/2/files", files)
    server.paginated(f"{API}/pulls/2/commits", [
        {"sha": sha, "commit": {"author": author, "committer": author, "message": f"commit {i}"}, "parents": []}
        for i, sha in enumerate(commits if commits is not None else feature)
    ])


def serve_push(server: GitHubServer, sha: str) -> None:
    server.paginated(f"{API}/commits/{sha}/pulls", [])
    server.paginated(f"{API}/commits/{sha}/check-runs", [], item_key="check_runs")
    server.paginated(f"{API}/commits/{sha}/status", [], item_key="statuses")


def push_event(tmp_path: Path, branch: str, before: str, after: str) -> Path:
    event = payload("push.with-new-branch.payload.json")
    event.update(ref=f"refs/heads/{branch}", before=before, after=after, created=False)
    event["repository"]["default_branch"] = "main"
    return write_event(tmp_path, event)


def api_file(name: str, status: str = "added") -> dict:
    return {"filename": name, "status": status, "additions": 12, "deletions": 0, "changes": 12}


def test_capped_commit_and_file_lists_are_not_fully_judged(tmp_path: Path, github_server: GitHubServer) -> None:
    clone, base, head, feature = cut_off_clone(tmp_path, {"src/app.py": "print('x')\n"})
    files = [api_file("src/app.py"), api_file("README.md", "modified")]
    serve_pull(github_server, head, feature, files)
    event = pull_request_event(base, head, commits=2, changed_files=2)
    control = run_check(clone, actions_env(github_server, "pull_request", write_event(tmp_path, event)))
    assert control.code == 0, control.stderr + control.stdout
    assert control.json()["complete"] is True and control.json()["verdict"] == "pass"

    # GitHub answers at most 250 commits and 3,000 files: the payload counts more than the API listed.
    for counts, kind in (({"commits": 300, "changed_files": 2}, "commits_truncated"),
                         ({"commits": 2, "changed_files": 3005}, "files_truncated")):
        event = pull_request_event(base, head, **counts)
        result = run_check(clone, actions_env(github_server, "pull_request", write_event(tmp_path, event)))
        assert result.code == 2, (kind, result.stdout)
        data = result.json()
        assert data["verdict"] == "incomplete" and data["complete"] is False
        assert [gap["kind"] for gap in data["incomplete"]] == [kind]
        assert all(rule["status"] == "pass" for rule in data["rules"])  # what was read passes; the whole cannot
        assert "not fully judged" in result.stderr


def test_a_full_page_of_250_commits_without_a_count_is_taken_as_capped(tmp_path: Path, github_server: GitHubServer) -> None:
    clone, base, head, feature = cut_off_clone(tmp_path, {"src/app.py": "print('x')\n"})
    serve_pull(github_server, head, feature, [api_file("src/app.py")], commits=[*feature, *(["0" * 40] * 248)])
    event = pull_request_event(base, head, changed_files=1)
    event["pull_request"].pop("commits")
    result = run_check(clone, actions_env(github_server, "pull_request", write_event(tmp_path, event)))
    assert result.code == 2 and [g["kind"] for g in result.json()["incomplete"]] == ["commits_truncated"]
    assert "250 of at least" in result.json()["incomplete"][0]["detail"]


def test_contents_are_read_by_object_id_even_with_a_newline_in_a_file_name(
    tmp_path: Path, github_server: GitHubServer,
) -> None:
    names = ["deploy/alpha.yaml", NEWLINE_NAME, "deploy/omega.yaml"]
    contents = {name: RECREATE.replace("NAME", f"app{i}") for i, name in enumerate(names)}
    clone, base, head, feature = cut_off_clone(tmp_path, {**contents, "src/app.py": "print('x')\n"})
    serve_pull(github_server, head, feature, [api_file(name) for name in [*names, "src/app.py"]])
    event = pull_request_event(base, head, commits=2, changed_files=4)
    result = run_check(clone, actions_env(github_server, "pull_request", write_event(tmp_path, event)))
    assert result.code == 0, result.stderr + result.stdout
    data = result.json()
    assert data["complete"] is True
    assert any("read from the GitHub API" in p for p in data["problems"])
    flags = {e["location"]["path"]: e["detail"].split(":")[0] for e in data["questions"]["rollout"]["evidence"]
             if e["kind"] == "recreate-strategy"}
    # Each file's own content at its own name: a read by "<sha>:<path>" line would lose the file with the
    # newline and hand every later file the answer meant for the one before it.
    assert flags == {name: f"Deployment app{i} uses strategy Recreate" for i, name in enumerate(names)}


def test_a_push_whose_previous_tip_cannot_be_read_is_not_judged(tmp_path: Path, github_server: GitHubServer) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Initial commit", {"README.md": "# app\n"})
    before = builder.commit("Policy", {".govgate.yml": REVIEWED})
    after = builder.commit("Reviewed change\n\nReviewed-by: Bob Reviewer <bob@example.com>\n", {"src/app.py": "x = 1\n"})
    serve_push(github_server, after)
    control = run_check(builder.path, actions_env(github_server, "push", push_event(tmp_path, "main", before, after)))
    assert control.code == 0 and control.json()["complete"] is True
    # `before` was rewritten by a force-push and cannot be fetched: the policy it held cannot be read.
    result = run_check(builder.path, actions_env(github_server, "push", push_event(tmp_path, "main", GONE, after)))
    assert result.code == 2 and result.stdout == ""
    assert "cannot read the policy: the previous tip of main" in result.stderr


def test_a_pushed_range_out_of_reach_is_not_fully_judged(tmp_path: Path, github_server: GitHubServer) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Initial commit", {".govgate.yml": REVIEWED})
    builder.git("checkout", "-q", "--orphan", "imported")  # a branch that shares no history with main
    builder.git("rm", "-q", "-r", "--cached", ".")
    first = builder.commit("Imported\n\nReviewed-by: Bob Reviewer <bob@example.com>\n", {"a.py": "a = 1\n"})
    after = builder.commit("More\n\nReviewed-by: Bob Reviewer <bob@example.com>\n", {"b.py": "b = 1\n"})
    serve_push(github_server, after)
    control = run_check(builder.path, actions_env(github_server, "push", push_event(tmp_path, "imported", first, after)))
    assert control.code == 0 and control.json()["complete"] is True
    # Force-pushed: `before` is gone, and the branch shares no history with main: only the head can be read.
    result = run_check(builder.path, actions_env(github_server, "push", push_event(tmp_path, "imported", GONE, after)))
    assert result.code == 2, result.stdout + result.stderr
    data = result.json()
    assert data["verdict"] == "incomplete" and [g["kind"] for g in data["incomplete"]] == ["history_missing"]
    assert data["change"]["commits"] == [after] and data["rules"][0]["status"] == "pass"


def test_a_force_pushed_feature_branch_is_judged_against_the_default_branch(
    tmp_path: Path, github_server: GitHubServer,
) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Initial commit", {".govgate.yml": REVIEWED})
    builder.branch("feature")
    first = builder.commit("One\n\nReviewed-by: Bob Reviewer <bob@example.com>\n", {"a.py": "a = 1\n"})
    after = builder.commit("Two\n\nReviewed-by: Bob Reviewer <bob@example.com>\n", {"b.py": "b = 1\n"})
    serve_push(github_server, after)
    control = run_check(builder.path, actions_env(github_server, "push", push_event(tmp_path, "feature", first, after)))
    assert control.code == 0 and control.json()["change"]["commits"] == [after]
    result = run_check(builder.path, actions_env(github_server, "push", push_event(tmp_path, "feature", GONE, after)))
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["complete"] is True and data["change"]["commits"] == [after, first]
    assert any("could not be read (force-push?)" in p for p in data["problems"])


def test_every_format_says_not_fully_judged_and_where_the_policy_came_from(repo: RepoBuilder, tmp_path: Path) -> None:
    repo.commit("Policy", {".govgate.yml": "version: 1\nrules: []\n"})
    base = repo.head()
    repo.commit("Add data", {"data.txt": "precious\n" * 10, "src/app.py": "x = 1\n"})
    origin = f".govgate.yml at {base[:12]} (the base revision)"

    def outputs() -> tuple[int, dict[str, str]]:
        targets = {name: tmp_path / f"out.{name}" for name in ("text", "json", "markdown", "sarif", "junit", "github")}
        reports = [arg for name, path in targets.items() for arg in ("--report", f"{name}={path}")]
        result = run_cli("check", "--repo", str(repo.path), "--base", base, *reports)
        return result.code, {name: path.read_text() for name, path in targets.items()}

    code, complete = outputs()
    assert code == 0
    for name, text in complete.items():
        assert origin in text or json.dumps(origin)[1:-1] in text, name
    assert "NOT FULLY JUDGED" not in complete["text"] + complete["markdown"] + complete["github"]
    assert json.loads(complete["sarif"])["runs"][0]["invocations"][0]["executionSuccessful"] is True
    assert 'errors="0"' in complete["junit"]

    blob = repo.git("rev-parse", "HEAD:data.txt").strip()
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    code, partial = outputs()
    assert code == 2
    assert partial["text"].startswith("govgate: NOT FULLY JUDGED") and "! NOT FULLY JUDGED: " in partial["text"]
    data = json.loads(partial["json"])
    assert data["verdict"] == "incomplete" and data["complete"] is False and data["incomplete"][0]["kind"] == "content_missing"
    assert "[!CAUTION]" in partial["markdown"] and "NOT FULLY JUDGED" in partial["markdown"]
    run = json.loads(partial["sarif"])["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False and run["properties"]["complete"] is False
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "error"
    assert 'errors="1"' in partial["junit"] and 'type="incomplete"' in partial["junit"]
    assert partial["github"].startswith("::error title=govgate%3A not fully judged::")
    for name, text in partial.items():
        assert origin in text or json.dumps(origin)[1:-1] in text, name


def _partial_clone(tmp_path: Path) -> tuple[Path, Path]:
    source = RepoBuilder(tmp_path / "source")
    source.commit("Initial commit", {"README.md": "# app\n"})
    source.commit("Add a migration (#2)", {"db/migrations/versions/0002_age.py": MIGRATION})
    source.commit("Deploy (#3)", {"deploy/app.yaml": RECREATE.replace("NAME", "app").replace("Recreate", "RollingUpdate")})
    source.commit("Docs (#4)", {"docs/guide.md": "# guide\n"})
    git(source.path, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{source.path}", str(clone)],
                   check=True, capture_output=True)
    return source.path, clone


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_audit_never_counts_an_unreadable_change_as_passing(tmp_path: Path, jobs: str) -> None:
    full, partial = _partial_clone(tmp_path)
    changes, summary = audit_json(full, "--jobs", jobs)
    assert summary["totals"]["incomplete"] == 0 and all(c["complete"] for c in changes)
    assert {c["verdict"] for c in changes} == {"pass"}
    # The partial clone lacks the contents the migration and deployment detectors must read.
    changes, summary = audit_json(partial, "--jobs", jobs)
    by_id = {c["change"]["id"]: c for c in changes}
    deploy = by_id["#3"]
    assert deploy["verdict"] == "incomplete" and deploy["complete"] is False
    assert [g["kind"] for g in deploy["incomplete"]] == ["content_missing"]
    # Without its content, "reversible" cannot be shown: the migration fails, and is not complete either.
    assert by_id["#2"]["verdict"] == "fail" and by_id["#2"]["complete"] is False
    assert by_id["#4"]["complete"] is True  # a docs page no detector reads is judged in full
    assert summary["totals"]["incomplete"] == 2 and summary["totals"]["failing"] == 1
    assert audit(full, "--fail-on-violations", "--path", "deploy/**").code == 0
    assert audit(partial, "--fail-on-violations", "--path", "deploy/**").code == 1  # only the incomplete change
    assert "not fully judged" in audit(partial).stdout
