"""The GitLab API client (tokens, pages, hosts, redaction) and the change read from the API when the clone is shallow."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from govgate.sources.gitlab_api import GitLabApiError, GitLabClient, TokenKind, token_from
from tests.github_server import Reply, Seen
from tests.gitlab_case import MR, TOKEN, MergeRequestCase, case
from tests.gitlab_server import GitLabServer, mr_commit, mr_diff


def client(server: GitLabServer, token: str | None = TOKEN, kind: TokenKind = TokenKind.ACCESS) -> GitLabClient:
    given = token_from({"GOVGATE_GITLAB_TOKEN": token} if kind is TokenKind.ACCESS else {"CI_JOB_TOKEN": token or ""})
    return GitLabClient(server.api_url, given, deadline_seconds=10, backoff_seconds=0.01)


def test_the_most_capable_token_is_chosen_and_sent_in_gitlabs_header(gitlab_server: GitLabServer) -> None:
    chosen = token_from({"CI_JOB_TOKEN": "job", "GITLAB_TOKEN": "generic", "GOVGATE_GITLAB_TOKEN": "mine"})
    assert chosen is not None and (chosen.variable, chosen.kind) == ("GOVGATE_GITLAB_TOKEN", TokenKind.ACCESS)
    assert token_from({"CI_JOB_TOKEN": "job"}).kind is TokenKind.JOB  # type: ignore[union-attr]
    assert token_from({"GITLAB_TOKEN": "  "}) is None
    assert "mine" not in repr(chosen)
    gitlab_server.json("version", {"version": "17.0.0"})
    client(gitlab_server).get_json("version")
    client(gitlab_server, "job-secret", TokenKind.JOB).get_json("version")
    first, second = gitlab_server.calls("version")
    assert first.headers["private-token"] == TOKEN and "job-token" not in first.headers
    assert second.headers["job-token"] == "job-secret" and "private-token" not in second.headers
    assert TOKEN not in repr(client(gitlab_server))


def test_a_pagination_link_to_another_host_is_refused(gitlab_server: GitLabServer) -> None:
    elsewhere = gitlab_server.url.replace("127.0.0.1", "localhost")
    gitlab_server.on("items", Reply(200, [1], {"link": f'<{elsewhere}/api/v4/items?page=2>; rel="next"'}))
    with pytest.raises(GitLabApiError, match="refusing to follow a pagination link to another host"):
        client(gitlab_server).paginate("items")
    assert len(gitlab_server.requests) == 1


def test_a_redirect_to_another_host_is_refused_and_never_carries_the_token() -> None:
    with_token = GitLabServer()
    other = GitLabServer()
    try:
        other.json("landing", {"ok": True})
        with_token.on("moved", Reply(302, {}, {"location": other.url.replace("127.0.0.1", "localhost") + "/api/v4/landing"}))
        with_token.on("here", Reply(302, {}, {"location": "/api/v4/landing"}))
        with_token.json("landing", {"ok": True})
        assert client(with_token).get_json("here") == {"ok": True}  # CONTROL: within the API's own origin
        with pytest.raises(GitLabApiError, match="only the API's own host") as caught:
            client(with_token).get_json("moved")
        assert caught.value.hint and "CI_API_V4_URL" in caught.value.hint
        assert other.requests == []
    finally:
        with_token.close()
        other.close()


def test_the_token_is_redacted_before_a_long_error_is_shortened(gitlab_server: GitLabServer) -> None:
    gitlab_server.on("secret", Reply(401, {"message": "x" * 180 + TOKEN + "y" * 50}))  # the token straddles the cut
    with pytest.raises(GitLabApiError) as caught:
        client(gitlab_server).get_json("secret")
    text = caught.value.message
    assert "***" in text and not any(TOKEN[:n] in text for n in range(6, len(TOKEN) + 1))
    assert caught.value.hint and "GOVGATE_GITLAB_TOKEN" in caught.value.hint


def test_gitlabs_error_shapes_are_read(gitlab_server: GitLabServer) -> None:
    gitlab_server.on("scope", Reply(403, {"error": "insufficient_scope",
                                          "error_description": "The request requires higher privileges than provided."}))
    gitlab_server.on("field", Reply(400, {"message": {"labels": ["is invalid"]}}))
    with pytest.raises(GitLabApiError, match="insufficient_scope The request requires higher privileges"):
        client(gitlab_server).get_json("scope")
    with pytest.raises(GitLabApiError, match=r"labels: \['is invalid'\]"):
        client(gitlab_server).get_json("field")


def test_rate_limits_are_waited_out_within_the_time_bound(gitlab_server: GitLabServer) -> None:
    gitlab_server.on("busy", Reply(429, {"message": "Retry later"}, {"retry-after": "0", "ratelimit-remaining": "0"}),
                     Reply(200, {"ok": True}))
    assert client(gitlab_server).get_json("busy") == {"ok": True}
    assert len(gitlab_server.calls("busy")) == 2


# -- a shallow clone that cannot be deepened: the change comes from the API --------------------------------

def shallow_case(tmp_path: Path, server: GitLabServer) -> MergeRequestCase:
    """The honest merge request in a depth-1 clone whose origin cannot serve git (so history cannot be deepened)."""
    source = case(tmp_path / "source", server)
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{source.builder.path}", str(checkout)],
                   check=True)
    subprocess.run(["git", "-C", str(checkout), "checkout", "-q", source.head], check=True)
    subprocess.run(["git", "-C", str(checkout), "remote", "set-url", "origin", f"{server.url}/group/project.git"], check=True)
    source.builder.path = checkout  # run from the shallow checkout
    server.paginated(f"{MR}/commits", [mr_commit(source.head, author=("Alice Example", "alice@example.com"),
                                                 parents=[source.base])])
    server.paginated(f"{MR}/diffs", [mr_diff("README.md", "@@ -1 +1,3 @@\n # Project\n+\n+More words.\n")])
    return source


def test_a_shallow_clone_reads_the_change_from_the_api(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = shallow_case(tmp_path, gitlab_server)
    result = mr.run()
    assert result.code == 0, result.stdout + result.stderr
    data = result.json()
    assert data["change"]["files"] == 1 and data["change"]["lines_added"] == 2
    assert any("were read from the GitLab API" in p and "GIT_DEPTH" in p for p in data["problems"])


def test_a_diff_gitlab_stopped_listing_is_not_fully_judged(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = shallow_case(tmp_path, gitlab_server)
    mr.mr["changes_count"] = "1000+"
    result = mr.run()
    assert result.code == 2 and result.json()["verdict"] == "incomplete"
    assert "GitLab counts 1000+ changed files" in result.stderr


def test_requests_are_only_the_ones_a_merge_request_needs(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = case(tmp_path, gitlab_server)
    assert mr.run().code == 0
    seen: list[Seen] = gitlab_server.requests
    assert all(s.method == "GET" for s in seen)  # govgate never writes to GitLab
    assert len(seen) <= 12


def test_a_merge_request_field_of_the_wrong_type_reads_as_absent() -> None:
    from govgate.sources.gitlab_mr_api import merge_request_from

    good = {"iid": 7, "author": {"username": "alice", "bot": False}, "labels": ["risky"],
            "diff_refs": {"head_sha": "a" * 40, "base_sha": "b" * 40}, "source_branch": "feature"}
    pull = merge_request_from(good).pull
    assert (pull.author_login, pull.labels, pull.head_sha, pull.head_ref) == ("alice", ("risky",), "a" * 40, "feature")
    hostile = {**good, "author": True, "labels": 5, "diff_refs": ["x"], "source_branch": {"x": 1}}
    pull = merge_request_from(hostile).pull  # once an "internal error"
    assert (pull.author_login, pull.labels, pull.head_sha, pull.head_ref) == (None, (), None, None)
