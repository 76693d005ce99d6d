"""The GitHub REST client against a real HTTP server: pagination, retries, rate limits, time bounds, secrecy."""

from __future__ import annotations

import socket
import time

import pytest

from govgate.sources.github_api import GitHubApiError, GitHubClient, default_graphql_url
from tests.github_server import GitHubServer, Reply

TOKEN = "ghs_TopSecretToken0123456789abcdef"


def client_for(server: GitHubServer, **kwargs: float) -> GitHubClient:
    options = {"deadline_seconds": 10.0, "per_request_timeout": 5.0, "backoff_seconds": 0.05, **kwargs}
    return GitHubClient(server.api_url, TOKEN, **options)  # type: ignore[arg-type]


def test_get_json_on_an_enterprise_server_path_sends_token_and_api_headers(github_server: GitHubServer) -> None:
    github_server.json("repos/o/r/pulls/7", {"number": 7})
    assert client_for(github_server).get_json("/repos/o/r/pulls/7") == {"number": 7}
    seen = github_server.calls("repos/o/r/pulls/7")[0]
    assert seen.path == "/api/v3/repos/o/r/pulls/7"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["accept"] == "application/vnd.github+json"
    assert seen.headers["x-github-api-version"] == "2022-11-28"


def test_paginate_follows_link_next_with_per_page_100(github_server: GitHubServer) -> None:
    items = [{"n": i} for i in range(250)]
    github_server.paginated("repos/o/r/pulls/1/reviews", items)
    got = client_for(github_server).paginate("repos/o/r/pulls/1/reviews")
    assert [i["n"] for i in got] == list(range(250))
    calls = github_server.calls("repos/o/r/pulls/1/reviews")
    assert [c.query.get("page", "1") for c in calls] == ["1", "2", "3"]
    assert all(c.query["per_page"] == "100" for c in calls)


def test_paginate_reads_lists_wrapped_in_an_object(github_server: GitHubServer) -> None:
    runs = [{"name": f"job-{i}"} for i in range(130)]
    github_server.paginated("repos/o/r/commits/abc/check-runs", runs, item_key="check_runs")
    got = client_for(github_server).paginate("repos/o/r/commits/abc/check-runs", item_key="check_runs")
    assert len(got) == 130 and got[-1]["name"] == "job-129"


def test_a_502_is_retried_then_succeeds(github_server: GitHubServer) -> None:
    github_server.on("repos/o/r/pulls/1", Reply(502, {"message": "Server Error"}), Reply(200, {"number": 1}))
    assert client_for(github_server).get_json("repos/o/r/pulls/1") == {"number": 1}
    assert len(github_server.calls("repos/o/r/pulls/1")) == 2


def test_persistent_5xx_fails_with_the_status_after_bounded_attempts(github_server: GitHubServer) -> None:
    github_server.on("repos/o/r/pulls/1", Reply(503, {"message": "unavailable"}))
    with pytest.raises(GitHubApiError) as caught:
        client_for(github_server, max_attempts=3).get_json("repos/o/r/pulls/1")
    assert "HTTP 503" in caught.value.message
    assert len(github_server.calls("repos/o/r/pulls/1")) == 3


def test_403_rate_limit_honours_retry_after(github_server: GitHubServer) -> None:
    limited = Reply(403, {"message": "You have exceeded a secondary rate limit"}, {"retry-after": "1"})
    github_server.on("repos/o/r/pulls/1/reviews", limited, Reply(200, []))
    started = time.monotonic()
    assert client_for(github_server).paginate("repos/o/r/pulls/1/reviews") == []
    assert time.monotonic() - started >= 1.0
    assert len(github_server.calls("repos/o/r/pulls/1/reviews")) == 2


def test_429_with_ratelimit_reset_waits_until_the_reset(github_server: GitHubServer) -> None:
    reset = str(int(time.time()))  # already due: the client adds a second of margin
    limited = Reply(429, {"message": "API rate limit exceeded"}, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
    github_server.on("rate", limited, Reply(200, {"ok": True}))
    assert client_for(github_server).get_json("rate") == {"ok": True}


def test_a_reset_beyond_the_deadline_fails_at_once_instead_of_sleeping(github_server: GitHubServer) -> None:
    reset = str(int(time.time()) + 3600)
    github_server.on("rate", Reply(403, {"message": "API rate limit exceeded"},
                                   {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}))
    started = time.monotonic()
    with pytest.raises(GitHubApiError) as caught:
        client_for(github_server, deadline_seconds=5).get_json("rate")
    assert time.monotonic() - started < 2
    assert "rate limited" in caught.value.message and "time bound" in caught.value.message


def test_a_plain_403_is_a_permission_problem_and_is_not_retried(github_server: GitHubServer) -> None:
    github_server.json("repos/o/r/commits/abc/check-runs", {"message": "Resource not accessible by integration"}, status=403)
    with pytest.raises(GitHubApiError) as caught:
        client_for(github_server).get_json("repos/o/r/commits/abc/check-runs")
    assert "Resource not accessible by integration" in caught.value.message
    assert "checks: read" in (caught.value.hint or "")
    assert len(github_server.calls("repos/o/r/commits/abc/check-runs")) == 1


def test_a_hanging_endpoint_fails_within_the_hard_time_bound(github_server: GitHubServer) -> None:
    github_server.hang("repos/o/r/pulls/1/reviews")
    started = time.monotonic()
    with pytest.raises(GitHubApiError) as caught:
        client_for(github_server, deadline_seconds=1.5, per_request_timeout=20).paginate("repos/o/r/pulls/1/reviews")
    elapsed = time.monotonic() - started
    assert elapsed < 4, elapsed
    assert "time bound of 1.5s" in caught.value.message


def test_an_unreachable_host_fails_with_a_clear_message(tmp_path: object) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GitHubClient(f"http://127.0.0.1:{port}/api/v3", TOKEN, deadline_seconds=5, backoff_seconds=0.05, max_attempts=3)
    with pytest.raises(GitHubApiError) as caught:
        client.get_json("repos/o/r")
    assert "cannot reach" in caught.value.message
    assert "GITHUB_API_URL" in (caught.value.hint or "")


def test_the_token_never_appears_in_errors_even_when_github_echoes_it(github_server: GitHubServer) -> None:
    github_server.json("repos/o/r", {"message": f"Bad credentials: Bearer {TOKEN}"}, status=401)
    client = client_for(github_server)
    with pytest.raises(GitHubApiError) as caught:
        client.get_json("repos/o/r")
    rendered = caught.value.render() + repr(caught.value) + str(caught.value) + repr(client)
    assert TOKEN not in rendered
    assert "Bad credentials: Bearer ***" in caught.value.message


def test_a_pagination_link_to_another_host_is_refused_and_gets_no_token(github_server: GitHubServer) -> None:
    other = GitHubServer()
    try:
        other.json("stolen", [{"x": 1}])
        github_server.json("repos/o/r/pulls", [{"n": 1}], headers={"link": f'<{other.api_url}/stolen>; rel="next"'})
        with pytest.raises(GitHubApiError, match="another host"):
            client_for(github_server).paginate("repos/o/r/pulls")
        assert other.requests == []
    finally:
        other.close()


def test_a_same_host_redirect_keeps_the_token_and_another_host_is_refused(github_server: GitHubServer) -> None:
    other = GitHubServer()
    try:
        # CONTROL: a renamed repository redirects within the API: followed, with the token.
        github_server.json("repos/old/name", {}, status=301, headers={"location": f"{github_server.api_url}/repositories/42"})
        github_server.json("repositories/42", {"id": 42})
        assert client_for(github_server).get_json("repos/old/name") == {"id": 42}
        assert github_server.calls("repositories/42")[0].headers["authorization"] == f"Bearer {TOKEN}"
        # ATTACK: an answer from another host would count as verified API data: refused, never asked.
        other.json("elsewhere", {"moved": True})
        github_server.json("repos/moved", {}, status=302, headers={"location": f"{other.api_url}/elsewhere"})
        with pytest.raises(GitHubApiError, match=r"redirected to http://127\.0\.0\.1:.*only the API's own host"):
            client_for(github_server).get_json("repos/moved")
        assert other.requests == []
    finally:
        other.close()


def test_graphql_posts_the_query_and_surfaces_errors(github_server: GitHubServer) -> None:
    github_server.on("graphql", Reply(200, {"data": {"viewer": {"login": "octocat"}}}),
                     Reply(200, {"errors": [{"message": "Field 'nope' doesn't exist"}]}), method="POST")
    client = GitHubClient(github_server.api_url, TOKEN, graphql_url=github_server.api_url + "/graphql")
    assert client.graphql("query { viewer { login } }") == {"viewer": {"login": "octocat"}}
    with pytest.raises(GitHubApiError, match="doesn't exist"):
        client.graphql("query { nope }")
    assert b'"query"' in github_server.requests[0].body


def test_graphql_url_defaults_follow_github_and_enterprise_layouts() -> None:
    assert default_graphql_url("https://api.github.com") == "https://api.github.com/graphql"
    assert default_graphql_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/graphql"
