"""A small GitHub REST and GraphQL client on urllib: pagination, retries, a hard time bound.

Why not a library: govgate needs four endpoints, must run anywhere Python runs (GitHub
Enterprise Server included) and must never leak the token. Every request shares one
deadline: backoff and rate-limit waits that would pass it fail at once instead, so a gate
on a slow or rate-limited API ends with a clear message rather than hanging the job.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any

from govgate import __version__
from govgate.errors import SourceError

_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
_MAX_PAGES = 100  # 100 pages of 100 items: far beyond what any endpoint we read returns
_BACKOFF_CAP_SECONDS = 30.0
_RATE_LIMIT_DEFAULT_WAIT = 60.0  # GitHub: "wait at least one minute" when no header says how long

Params = Mapping[str, str | int] | None


class GitHubApiError(SourceError):
    """The GitHub API could not be read (down, unreachable, refused, rate-limited, too slow)."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


class GitHubClient:
    def __init__(
        self,
        api_url: str,
        token: str | None,
        graphql_url: str | None = None,
        *,
        deadline_seconds: float = 60.0,
        per_request_timeout: float = 20.0,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.graphql_url = graphql_url or default_graphql_url(self.api_url)
        self._token = token or None
        self._origin = _origin(self.api_url)
        self.deadline_seconds = deadline_seconds
        self.per_request_timeout = per_request_timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._clock = clock
        self._deadline = clock() + deadline_seconds
        # Redirects are followed by hand: urllib would forward the Authorization header to any host.
        self._opener = urllib.request.build_opener(_NoRedirect)

    def __repr__(self) -> str:  # never show the token, even in a traceback
        return f"GitHubClient({self.api_url!r}, token={'***' if self._token else None})"

    # -- public API ---------------------------------------------------------------------------

    def get_json(self, path: str, params: Params = None) -> Any:
        body, _ = self._request("GET", self._url(path, params))
        return body

    def paginate(self, path: str, params: Params = None, item_key: str | None = None) -> list[Any]:
        """Every item of a list endpoint, following ``link: <...>; rel="next"`` (per_page=100)."""
        query = {"per_page": 100, **(params or {})}
        url: str | None = self._url(path, query)
        items: list[Any] = []
        for _ in range(_MAX_PAGES):
            if url is None:
                return items
            body, headers = self._request("GET", url)
            page = body.get(item_key) if item_key and isinstance(body, dict) else body
            if not isinstance(page, list):
                raise GitHubApiError(f"GitHub API: {_shown(url)} did not return a list")
            items.extend(page)
            url = _next_link(headers.get("link"))
            if url is not None and _origin(url) != self._origin:
                raise GitHubApiError(f"GitHub API: refusing to follow a pagination link to another host ({_origin(url)})")
        raise GitHubApiError(f"GitHub API: {_shown(self._url(path, None))} has more than {_MAX_PAGES} pages")

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        payload = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        body, _ = self._request("POST", self.graphql_url, payload)
        if not isinstance(body, dict):
            raise GitHubApiError("GitHub GraphQL API returned no object")
        if body.get("errors"):
            first = body["errors"][0]
            text = first.get("message", "unknown error") if isinstance(first, dict) else str(first)
            raise GitHubApiError(f"GitHub GraphQL API: {self._redact(text)}")
        return body.get("data")

    def remaining_seconds(self) -> float:
        return self._deadline - self._clock()

    # -- internals ----------------------------------------------------------------------------

    def _url(self, path: str, params: Params) -> str:
        url = path if path.startswith(("http://", "https://")) else f"{self.api_url}/{path.lstrip('/')}"
        if params:
            separator = "&" if "?" in url else "?"
            url += separator + urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        return url

    def _headers(self, url: str, has_body: bool) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"govgate/{__version__}",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        if self._token and _origin(url) == self._origin:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def _request(self, method: str, url: str, data: bytes | None = None) -> tuple[Any, Message]:
        attempt = 0
        redirects = 0
        while True:
            attempt += 1
            remaining = self.remaining_seconds()
            if remaining <= 0:
                raise self._timeout_error(method, url)
            request = urllib.request.Request(url, data=data, method=method, headers=self._headers(url, data is not None))
            try:
                with self._opener.open(request, timeout=min(self.per_request_timeout, remaining)) as response:
                    raw = response.read()
                    return _decode_json(raw, url), response.headers
            except urllib.error.HTTPError as exc:
                status, headers = exc.code, exc.headers
                error_body = _read_quietly(exc)
                exc.close()
                if status in _REDIRECT_STATUSES and headers.get("location") and redirects < _MAX_REDIRECTS:
                    redirects += 1
                    attempt -= 1
                    url = urllib.parse.urljoin(url, headers["location"])
                    continue
                failure = self._http_error(method, url, status, error_body)
                limited = self._rate_limit_wait(status, headers, error_body) if status in (403, 429) else None
                if limited is not None:
                    if attempt >= self.max_attempts or limited >= self.remaining_seconds():
                        raise self._rate_limited_error(method, url, status, limited, attempt) from None
                    wait = limited
                elif status in _RETRY_STATUSES and attempt < self.max_attempts:
                    wait = self._backoff(attempt)
                else:
                    raise failure from None
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError, OSError) as exc:
                failure = self._connection_error(method, url, exc)
                if attempt >= self.max_attempts:
                    raise failure from None
                wait = self._backoff(attempt)
            if wait >= self.remaining_seconds():
                raise failure
            self._sleep(wait)

    def _rate_limit_wait(self, status: int, headers: Message, body: bytes) -> float | None:
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return _RATE_LIMIT_DEFAULT_WAIT
        if headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset")
            try:
                return max(0.0, float(reset) - time.time()) + 1.0 if reset else _RATE_LIMIT_DEFAULT_WAIT
            except ValueError:
                return _RATE_LIMIT_DEFAULT_WAIT
        if status == 429 or b"rate limit" in body.lower():
            return _RATE_LIMIT_DEFAULT_WAIT
        return None  # a plain 403: the token lacks a permission; retrying cannot help

    def _rate_limited_error(self, method: str, url: str, status: int, wait: float, attempt: int) -> GitHubApiError:
        if attempt >= self.max_attempts:
            text = f"GitHub API: still rate limited on {method} {_shown(url)} after {attempt} attempts"
        else:
            text = (f"GitHub API: rate limited on {method} {_shown(url)}; it asks to wait {wait:.0f}s, "
                    f"beyond the time bound of {self.deadline_seconds:g}s")
        return GitHubApiError(text, "run again after the limit resets, or raise github.timeout_seconds in the policy",
                              status=status)

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_seconds * (2 ** (attempt - 1)), _BACKOFF_CAP_SECONDS)

    def _timeout_error(self, method: str, url: str) -> GitHubApiError:
        return GitHubApiError(
            f"GitHub API: {method} {_shown(url)} did not complete within the time bound of {self.deadline_seconds:g}s",
            "GitHub may be slow or unreachable from this runner; github.timeout_seconds in the policy sets the bound",
        )

    def _connection_error(self, method: str, url: str, exc: BaseException) -> GitHubApiError:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return self._timeout_error(method, url)
        return GitHubApiError(
            f"GitHub API: cannot reach {self._origin} for {method} {_shown(url)}: {self._redact(str(reason))}",
            "check GITHUB_API_URL (GitHub Enterprise Server: https://HOST/api/v3) and the runner's network",
        )

    def _http_error(self, method: str, url: str, status: int, body: bytes) -> GitHubApiError:
        message = ""
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                message = str(parsed.get("message", ""))
        except ValueError:
            message = body[:200].decode("utf-8", "replace")
        text = f"GitHub API: {method} {_shown(url)} failed with HTTP {status}" + (f": {self._redact(message)}" if message else "")
        return GitHubApiError(text, _HINTS.get(status), status=status)

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


_HINTS = {
    401: "the token was refused: pass github-token (default ${{ github.token }}) and check it has not expired",
    403: "the token lacks a permission: grant `pull-requests: read`, `checks: read`, `statuses: read` and `contents: read`",
    404: "not found, or the token cannot see it: check GITHUB_REPOSITORY and the workflow's `permissions:`",
    429: "rate limited: run again later",
}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # surfaces as HTTPError; _request decides whether the token may follow


def default_graphql_url(api_url: str) -> str:
    """https://api.github.com -> .../graphql; GHES https://HOST/api/v3 -> https://HOST/api/graphql."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _shown(url: str) -> str:
    """The path of a URL, for messages: never the query (it could carry anything) or a userinfo part."""
    return urllib.parse.urlsplit(url).path or "/"


def _next_link(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        section = part.split(";")
        if len(section) < 2:
            continue
        target = section[0].strip()
        if any(p.strip().replace(" ", "") in ('rel="next"', "rel=next") for p in section[1:]):
            if target.startswith("<") and target.endswith(">"):
                return target[1:-1]
    return None


def _decode_json(raw: bytes, url: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise GitHubApiError(f"GitHub API: {_shown(url)} returned something that is not JSON") from None


def _read_quietly(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read() or b""
    except (OSError, ValueError):
        return b""
