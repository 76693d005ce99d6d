"""Hostile API answers against the real HTTP server: trickled bytes, huge bodies, redirects, echoed tokens.

Each attack is paired with a control that differs only in the attack and gives the normal answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from govgate.sources import forge_api
from govgate.sources.github_api import GitHubApiError, GitHubClient
from tests.conftest import run_cli
from tests.github_case import API, VERIFIED_POLICY, actions_env, pr_repo, pull_request_event, serve_evidence, write_event
from tests.github_server import GitHubServer, Reply, review, serving

TOKEN = "ghs_TopSecretToken0123456789abcdef"


@pytest.fixture
def github_server() -> Iterator[GitHubServer]:
    with serving() as server:
        yield server


def client_for(server: GitHubServer, **kwargs: float) -> GitHubClient:
    options = {"deadline_seconds": 10.0, "per_request_timeout": 5.0, "backoff_seconds": 0.05, **kwargs}
    return GitHubClient(server.api_url, TOKEN, **options)  # type: ignore[arg-type]


def timed(call: object) -> tuple[object, float]:
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started  # type: ignore[operator]
    except GitHubApiError as exc:
        return exc, time.monotonic() - started


# -- one deadline per request, body included ------------------------------------------------------

def test_a_body_trickled_a_byte_at_a_time_ends_at_the_time_bound(github_server: GitHubServer) -> None:
    body = {"items": list(range(400))}
    # CONTROL: the same answer, trickled fast enough to finish, is read whole.
    github_server.trickle("repos/o/r/fast", {"items": [1, 2]}, every=0.001)
    assert client_for(github_server).get_json("repos/o/r/fast") == {"items": [1, 2]}
    # ATTACK: each byte arrives well within the 20 s socket timeout, so only a total deadline ends it.
    github_server.trickle("repos/o/r/slow", body, every=0.05)
    outcome, elapsed = timed(lambda: client_for(github_server, deadline_seconds=1.5, per_request_timeout=20).get_json("repos/o/r/slow"))
    assert isinstance(outcome, GitHubApiError), outcome
    assert "did not complete within the time bound of 1.5s" in outcome.message
    assert elapsed < 4, elapsed  # before the fix: 1,500 bytes at 20 bytes/s, about 75 s


def test_trickled_headers_are_bounded_too(github_server: GitHubServer) -> None:
    github_server.trickle("repos/o/r/headers", {"ok": True}, every=0.05, headers=True)
    outcome, elapsed = timed(lambda: client_for(github_server, deadline_seconds=1.0, per_request_timeout=20).get_json("repos/o/r/headers"))
    assert isinstance(outcome, GitHubApiError) and "time bound of 1s" in outcome.message
    assert elapsed < 3.5, elapsed


def test_a_partial_body_is_never_used_after_a_cut(github_server: GitHubServer) -> None:
    # A cut can end a read early without an error; the half-read JSON must not be parsed or retried as data.
    github_server.trickle("repos/o/r/half", b'{"verified": true, "padding": "' + b"x" * 400 + b'"}', every=0.01)
    outcome, _ = timed(lambda: client_for(github_server, deadline_seconds=1.0, per_request_timeout=0.5).get_json("repos/o/r/half"))
    assert isinstance(outcome, GitHubApiError)
    assert "time bound" in outcome.message and "not JSON" not in outcome.message


def test_a_body_over_the_size_limit_is_refused(github_server: GitHubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forge_api, "MAX_API_BODY_BYTES", 1000)
    github_server.json("repos/o/r/small", {"x": "y" * 900})  # CONTROL: under the limit
    assert client_for(github_server).get_json("repos/o/r/small") == {"x": "y" * 900}
    github_server.json("repos/o/r/big", {"x": "y" * 1200})
    with pytest.raises(GitHubApiError, match="answered with more than"):
        client_for(github_server).get_json("repos/o/r/big")
    # A body sent without a length (or with a false one) is counted as it arrives.
    github_server.on("repos/o/r/chunked", Reply(200, b'{"x": "' + b"y" * 1200 + b'"}', {"content-length": "10"}))
    with pytest.raises(GitHubApiError):
        client_for(github_server).get_json("repos/o/r/chunked")


# -- redirects ----------------------------------------------------------------------------------------

def test_a_redirect_to_a_file_url_is_refused_not_read_as_api_data(github_server: GitHubServer, tmp_path: Path) -> None:
    planted = tmp_path / "forged.json"
    planted.write_text('[{"user": {"login": "mallory"}, "state": "APPROVED"}]', encoding="utf-8")
    github_server.json("repos/o/r/reviews", [], status=302, headers={"location": planted.as_uri()})
    with pytest.raises(GitHubApiError) as caught:
        client_for(github_server).get_json("repos/o/r/reviews")
    assert "redirected to file:" in caught.value.message and "mallory" not in caught.value.message
    # CONTROL: the same redirect within the API's origin is followed.
    github_server.json("repos/o/r/moved", [], status=302, headers={"location": f"{github_server.api_url}/repos/o/r/real"})
    github_server.json("repos/o/r/real", [{"state": "APPROVED"}])
    assert client_for(github_server).get_json("repos/o/r/moved") == [{"state": "APPROVED"}]


def test_only_https_on_the_same_host_is_followed(github_server: GitHubServer) -> None:
    port = github_server.url.rsplit(":", 1)[1]
    # Another port of the same host over https is another service: refused without a request.
    github_server.json("a", {}, status=301, headers={"location": f"https://127.0.0.1:{port}/api/v3/b"})
    with pytest.raises(GitHubApiError, match="only the API's own host"):
        client_for(github_server).get_json("a")
    # https on the same host's standard port is followed (nothing listens there in the test: "cannot reach").
    github_server.json("c", {}, status=301, headers={"location": "https://127.0.0.1/api/v3/d"})
    with pytest.raises(GitHubApiError) as caught:
        client_for(github_server, deadline_seconds=2, max_attempts=1).get_json("c")
    assert "cannot reach" in caught.value.message or "time bound" in caught.value.message


# -- the token never survives in an error ----------------------------------------------------------

@pytest.mark.parametrize("prefix", [150, 185, 195, 199])
def test_the_token_is_redacted_before_the_error_text_is_shortened(github_server: GitHubServer, prefix: int) -> None:
    body = ("e" * prefix + TOKEN + " and more text after it").encode()
    github_server.json("repos/o/r/echo", None, status=400)
    github_server.on("repos/o/r/echo", Reply(400, body))
    with pytest.raises(GitHubApiError) as caught:
        client_for(github_server).get_json("repos/o/r/echo")
    message = caught.value.message
    # Not the token, nor any 6-character piece of it, may appear (before the fix 12-20 characters did).
    pieces = {TOKEN[i:i + 6] for i in range(len(TOKEN) - 5)}
    assert not any(piece in message for piece in pieces), message
    assert "eeee" in message  # CONTROL: the rest of the body is still shown, shortened
    json_body = {"message": "bad credentials " + TOKEN, "documentation_url": "x"}
    github_server.json("repos/o/r/json-echo", json_body, status=401)
    with pytest.raises(GitHubApiError) as caught:
        client_for(github_server).get_json("repos/o/r/json-echo")
    assert TOKEN not in caught.value.message and "bad credentials ***" in caught.value.message


# -- end to end: the gate ends within the policy's bound ---------------------------------------------

def test_a_trickling_api_ends_the_check_within_the_policy_time_bound(tmp_path: Path, github_server: GitHubServer) -> None:
    builder, base, head = pr_repo(tmp_path, policy=VERIFIED_POLICY.replace("timeout_seconds: 10", "timeout_seconds: 2"))
    serve_evidence(github_server, head)
    env = actions_env(github_server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    control = run_cli("check", "--format", "json", cwd=builder.path, env=env)
    assert control.code in (0, 1), control.stderr  # CONTROL: the same API answering normally is judged
    approvals = [review(f"user{i}", "APPROVED", head, review_id=i) for i in range(10)]  # ~2 KB: 100 s at this pace
    github_server.trickle(f"{API}/pulls/2/reviews", approvals, every=0.05)
    started = time.monotonic()
    result = run_cli("check", "--format", "json", cwd=builder.path, env=env)
    assert time.monotonic() - started < 15
    assert result.code == 2 and "time bound of 2s" in result.stderr, result.stderr
