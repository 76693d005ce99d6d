"""audit --github: verified reviews through GraphQL, at most one query per 50 pull requests, cached on disk.

A real HTTP server on 127.0.0.1 plays the GitHub GraphQL API and counts the requests.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.audit_support import audit, audit_json, git
from tests.conftest import RepoBuilder

_ALIAS = re.compile(r"n(\d+): issueOrPullRequest\(number: (\d+)\)")


class GraphQLServer:
    """Answers ``issueOrPullRequest`` aliases from ``pulls`` (number -> node); unknown numbers fail like GitHub."""

    def __init__(self) -> None:
        self.pulls: dict[int, dict[str, Any]] = {}
        self.queries: list[list[int]] = []
        self.tokens: list[str] = []
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                numbers = [int(n) for _, n in _ALIAS.findall(body["query"])]
                server.queries.append(numbers)
                server.tokens.append(self.headers.get("authorization", ""))
                unknown = [n for n in numbers if n not in server.pulls]
                repository = {f"n{n}": server.pulls.get(n) for n in numbers}
                answer: dict[str, Any] = {"data": {"repository": repository}}
                if unknown:
                    answer["errors"] = [{"type": "NOT_FOUND", "path": ["repository", f"n{n}"],
                                         "message": f"Could not resolve to an issue or pull request with the number of {n}."}
                                        for n in unknown]
                if server.status != 200:
                    answer = {"message": "Bad credentials"}
                payload = json.dumps(answer).encode()
                self.send_response(server.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def env(self) -> dict[str, str]:
        host, port = self._httpd.server_address[:2]
        return {"GITHUB_GRAPHQL_URL": f"http://{host}:{port}/graphql", "GITHUB_API_URL": f"http://{host}:{port}",
                "GITHUB_TOKEN": "test-token"}

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def github() -> Iterator[GraphQLServer]:
    server = GraphQLServer()
    yield server
    server.close()


def _pull(number: int, merged_as: str, head: str, *, reviewer: str = "bob", state: str = "APPROVED") -> dict[str, Any]:
    return {
        "__typename": "PullRequest", "number": number, "title": f"Change {number}", "body": "## Test plan\nran it",
        "url": f"https://github.com/acme/widgets/pull/{number}", "merged": True, "mergeCommit": {"oid": merged_as},
        "headRefName": f"feature-{number}", "headRefOid": head, "baseRefName": "main",
        "author": {"login": "alice", "__typename": "User"}, "labels": {"nodes": [{"name": "backend"}]},
        "reviews": {"nodes": [{"state": state, "submittedAt": "2025-01-01T00:00:00Z",
                               "authorAssociation": "MEMBER",
                               "author": {"login": reviewer, "__typename": "User"}, "commit": {"oid": head}}]},
        "commits": {"nodes": [{"commit": {"oid": head, "author": {"user": {"login": "alice"}},
                                          "committer": {"user": {"login": "web-flow"}}}}]},
    }


def _squashes(path: Path, count: int) -> RepoBuilder:
    b = RepoBuilder(path)
    b.commit("Initial commit", {"README.md": "x\n"})
    for number in range(1, count + 1):
        b.commit(f"Change {number} (#{number})", {f"src/mod{number % 7}.py": f"value = {number}\n"})
    git(b.path, "remote", "add", "origin", "https://github.com/acme/widgets.git")
    return b


def test_reviews_come_in_batches_of_50_and_are_cached(tmp_path: Path, github: GraphQLServer) -> None:
    b = _squashes(tmp_path / "repo", 120)
    for line in git(b.path, "log", "--format=%H %s").splitlines():
        sha, subject = line.split(" ", 1)
        match = re.search(r"\(#(\d+)\)$", subject)
        if match:
            github.pulls[int(match.group(1))] = _pull(int(match.group(1)), sha, head="f" * 40)

    changes, summary = audit_json(b.path, "--github", env=github.env)
    assert len(github.queries) == 3 and all(len(q) <= 50 for q in github.queries)
    assert sorted(n for q in github.queries for n in q) == list(range(1, 121))
    assert set(github.tokens) == {"Bearer test-token"}
    assert summary["totals"]["changes"] == 121
    for item in changes[:-1]:
        reviewed = item["questions"]["reviewed"]
        assert reviewed["status"] == "satisfied", item["change"]["id"]
        assert any(e["trust"] == "verified" and e.get("subject", "").lower() == "bob" for e in reviewed["evidence"])
        assert item["change"]["pull_request"]["author"] == "alice"
    assert summary["totals"]["other"]["unreviewed"] == 1  # only the initial commit, which names no pull request
    assert (b.path / ".git" / "govgate-cache" / "github.sqlite3").is_file()

    again, _ = audit_json(b.path, "--github", env=github.env)
    assert len(github.queries) == 3  # the re-run was answered from the cache
    assert [c["questions"] for c in again] == [c["questions"] for c in changes]

    offline, _ = audit_json(b.path)
    assert all(c["questions"]["reviewed"]["status"] != "satisfied" for c in offline)


def test_only_reviews_of_this_very_commit_count(tmp_path: Path, github: GraphQLServer) -> None:
    b = _squashes(tmp_path / "repo", 3)
    b.commit("Vendor update (#999)", {"vendor/lib.py": "x = 1\n"})
    shas = {int(m.group(1)): line.split()[0] for line in git(b.path, "log", "--format=%H %s").splitlines()
            if (m := re.search(r"\(#(\d+)\)$", line))}
    github.pulls[1] = _pull(1, shas[1], head="a" * 40)
    github.pulls[2] = _pull(2, "0" * 40, head="b" * 40)  # merged as some other commit: a cherry-pick, another repo
    github.pulls[3] = {"__typename": "Issue"}  # "(#3)" names an issue
    cache = tmp_path / "cache"
    changes, _summary = audit_json(b.path, "--github", "--cache-dir", str(cache), env=github.env)
    by_id = {c["change"]["id"]: c for c in changes}
    assert by_id["#1"]["questions"]["reviewed"]["status"] == "satisfied"
    assert by_id["#2"]["questions"]["reviewed"]["status"] != "satisfied"
    assert any("was not merged as" in p for p in by_id["#2"]["problems"])
    assert by_id["#3"]["questions"]["reviewed"]["status"] != "satisfied" and not by_id["#3"]["problems"]
    assert by_id["#999"]["questions"]["reviewed"]["status"] != "satisfied"
    assert github.queries == [[999, 3, 2, 1], [3, 2, 1]]  # #999 does not exist: asked again without it
    assert (cache / "github.sqlite3").is_file()
    audit_json(b.path, "--github", "--cache-dir", str(cache), env=github.env)
    assert len(github.queries) == 2


def test_with_github_a_waiver_binds_only_to_the_commit_its_pull_request_was_merged_as(
    tmp_path: Path, github: GraphQLServer,
) -> None:
    b = _squashes(tmp_path / "repo", 1)
    b.commit("Drop the old table (#2)", {"db/migrations/versions/0002_drop.py": "def upgrade():\n    op.drop_table('t')\n"})
    shas = {int(m.group(1)): line.split()[0] for line in git(b.path, "log", "--format=%H %s").splitlines()
            if (m := re.search(r"\(#(\d+)\)$", line))}
    policy = tmp_path / "policy.yml"
    policy.write_text("version: 1\nextends: default\nrules: []\nwaivers:\n"
                      "  - {rule: migrations-must-reverse, change: '#2', reason: planned, approved_by: dba, expires: 2999-01-01}\n")
    github.pulls[1] = _pull(1, shas[1], head="a" * 40)
    # Control: GitHub merged #2 as this very commit, so the waiver for #2 applies to it.
    github.pulls[2] = _pull(2, shas[2], head="b" * 40)
    changes, _ = audit_json(b.path, "--github", "--policy", str(policy), "--cache-dir", str(tmp_path / "c1"), env=github.env)
    change = next(c for c in changes if c["change"]["id"] == "#2")
    assert change["verdict"] == "pass" and [w["status"] for w in change["waivers"]] == ["applied"]
    assert change["change"]["forge"] == "github"
    # Attack: the commit was pushed directly with "(#2)" in its subject; #2 was merged as something else.
    github.pulls[2] = _pull(2, "0" * 40, head="b" * 40)
    changes, _ = audit_json(b.path, "--github", "--policy", str(policy), "--cache-dir", str(tmp_path / "c2"), env=github.env)
    change = next(c for c in changes if c["change"]["id"] == "#2")
    assert change["verdict"] == "fail" and [w["status"] for w in change["waivers"]] == ["unproven"]


def test_github_needs_a_token_and_a_repository(tmp_path: Path) -> None:
    b = _squashes(tmp_path / "repo", 1)
    result = audit(b.path, "--github", env={"GITHUB_TOKEN": "", "GH_TOKEN": ""})
    assert result.code == 2 and "GITHUB_TOKEN" in result.stderr
    git(b.path, "remote", "remove", "origin")
    result = audit(b.path, "--github", env={"GITHUB_TOKEN": "t"})
    assert result.code == 2 and "which GitHub repository" in result.stderr


def test_api_failure_leaves_the_audit_offline(tmp_path: Path, github: GraphQLServer) -> None:
    b = _squashes(tmp_path / "repo", 2)
    github.status = 401
    _changes, summary = audit_json(b.path, "--github", env=github.env)
    assert summary["totals"]["changes"] == 3
    assert len(github.queries) == 1  # no query after the API refused one
    assert any(p.startswith("--github:") and "HTTP 401" in p for p in summary["problems"]["run"])


def test_cached_verdicts_follow_the_github_data_they_were_judged_with(tmp_path: Path, github: GraphQLServer) -> None:
    """The incremental cache keeps each change with a digest of its pull request's GitHub data: when that data
    differs (here: edited in --github's own cache), the change is judged again; the others come from the cache."""
    import sqlite3

    b = _squashes(tmp_path / "repo", 4)
    shas = {int(m.group(1)): line.split()[0] for line in git(b.path, "log", "--format=%H %s").splitlines()
            if (m := re.search(r"\(#(\d+)\)$", line))}
    for number, sha in shas.items():
        github.pulls[number] = _pull(number, sha, head="c" * 40)
    first = audit(b.path, "--github", "--format", "json", env=github.env)
    warm = audit(b.path, "--github", "--format", "json", env=github.env)
    assert first.code == warm.code == 0 and warm.stdout == first.stdout  # control: nothing changed, same bytes

    with sqlite3.connect(b.path / ".git" / "govgate-cache" / "github.sqlite3") as db:
        (data,) = db.execute("SELECT data FROM pull_requests WHERE number = 2").fetchone()
        edited = json.loads(data)
        edited["reviews"]["nodes"][0]["state"] = "CHANGES_REQUESTED"
        db.execute("UPDATE pull_requests SET data = ? WHERE number = 2", (json.dumps(edited),))
    cached = audit(b.path, "--github", "--format", "json", env=github.env)
    cold = audit(b.path, "--github", "--format", "json", "--no-cache", env=github.env)
    assert cached.code == 0 and cached.stdout == cold.stdout
    by_id = {json.loads(line)["change"]["id"]: json.loads(line) for line in cached.stdout.splitlines()[:-1]}
    assert by_id["#2"]["questions"]["reviewed"]["status"] != "satisfied"  # judged again with the new data
    assert by_id["#1"]["questions"]["reviewed"]["status"] == "satisfied"
