"""A small GitHub REST and GraphQL client on urllib: pagination, retries, a hard time bound.

Why not a library: govgate needs four endpoints, must run anywhere Python runs (GitHub
Enterprise Server included) and must never leak the token. Every request shares one
deadline: backoff and rate-limit waits that would pass it fail at once instead, so a gate
on a slow or rate-limited API ends with a clear message rather than hanging the job.

A socket timeout only bounds each wait for a byte, so a server that trickles its answer a
byte at a time could hold a request forever. Each attempt therefore has one total deadline,
from connecting to the last byte of the body (a watchdog shuts the connection when it passes),
and a body larger than MAX_API_BODY_BYTES is refused. Redirects are followed only to the API's
own origin or to https on the same host; error text is redacted before it is shortened.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from email.message import Message
from typing import Any

from govgate import __version__
from govgate.errors import SourceError
from govgate.limits import MAX_API_BODY_BYTES, MAX_API_ERROR_CHARS

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
        self._connections = _ConnectionLog()
        self._opener = urllib.request.build_opener(
            _NoRedirect, _TrackedHTTPHandler(self._connections), _TrackedHTTPSHandler(self._connections),
        )

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
                status, headers, raw = self._attempt(request, min(self.per_request_timeout, remaining))
            except _AttemptTimedOut:
                failure = self._timeout_error(method, url)
                if attempt >= self.max_attempts:
                    raise failure from None
                wait = self._backoff(attempt)
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError, OSError) as exc:
                failure = self._connection_error(method, url, exc)
                if attempt >= self.max_attempts:
                    raise failure from None
                wait = self._backoff(attempt)
            else:
                if status < 300:
                    return _decode_json(raw, url), headers
                if status in _REDIRECT_STATUSES and headers.get("location") and redirects < _MAX_REDIRECTS:
                    redirects += 1
                    attempt -= 1
                    url = self._redirect_target(method, url, headers["location"])
                    continue
                failure = self._http_error(method, url, status, raw)
                limited = self._rate_limit_wait(status, headers, raw) if status in (403, 429) else None
                if limited is not None:
                    if attempt >= self.max_attempts or limited >= self.remaining_seconds():
                        raise self._rate_limited_error(method, url, status, limited, attempt) from None
                    wait = limited
                elif status in _RETRY_STATUSES and attempt < self.max_attempts:
                    wait = self._backoff(attempt)
                else:
                    raise failure from None
            if wait >= self.remaining_seconds():
                raise failure
            self._sleep(wait)

    def _attempt(self, request: urllib.request.Request, seconds: float) -> tuple[int, Message, bytes]:
        """Status, headers and body of one attempt, all of it within ``seconds``."""
        cut = threading.Event()

        def cut_connection() -> None:
            cut.set()
            self._connections.shut()

        watchdog = threading.Timer(seconds, cut_connection)
        watchdog.daemon = True
        watchdog.start()
        try:
            try:
                with self._opener.open(request, timeout=seconds) as response:
                    outcome = response.status, response.headers, _read_body(response, request.full_url)
            except urllib.error.HTTPError as exc:
                try:
                    outcome = exc.code, exc.headers, _read_body(exc, request.full_url)
                finally:
                    exc.close()
            if cut.is_set():  # the cut may end a body early without an error: never use a partial answer
                raise _AttemptTimedOut
            return outcome
        except (GitHubApiError, _AttemptTimedOut):
            raise
        except Exception:
            if cut.is_set():
                raise _AttemptTimedOut from None
            raise
        finally:
            watchdog.cancel()
            self._connections.forget()

    def _redirect_target(self, method: str, url: str, location: str) -> str:
        target = urllib.parse.urljoin(url, location)
        if _origin(target) == self._origin or _same_host_https(target, self.api_url):
            return target
        shown = _origin(target) if urllib.parse.urlsplit(target).netloc else urllib.parse.urlsplit(target).scheme + ":"
        raise GitHubApiError(
            f"GitHub API: {method} {_shown(url)} redirected to {shown}; only the API's own host (https) is followed",
            "check GITHUB_API_URL; a proxy or server that redirects elsewhere cannot supply verified evidence",
        )

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
            message = body.decode("utf-8", "replace")
        message = self._redact(message)
        text = f"GitHub API: {method} {_shown(url)} failed with HTTP {status}" + (f": {message}" if message else "")
        return GitHubApiError(text, _HINTS.get(status), status=status)

    def _redact(self, text: str) -> str:
        """The token replaced by ``***`` in the whole text first, then the text cut to one short line:
        cutting first could leave a prefix of the token that no longer matches it."""
        if self._token:
            text = text.replace(self._token, "***")
        flat = " ".join(text.split())
        return flat if len(flat) <= MAX_API_ERROR_CHARS else flat[: MAX_API_ERROR_CHARS - 1] + "…"


_HINTS = {
    401: "the token was refused: pass github-token (default ${{ github.token }}) and check it has not expired",
    403: "the token lacks a permission: grant `pull-requests: read`, `checks: read`, `statuses: read` and `contents: read`",
    404: "not found, or the token cannot see it: check GITHUB_REPOSITORY and the workflow's `permissions:`",
    429: "rate limited: run again later",
}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # surfaces as HTTPError; _request decides whether the token may follow


class _AttemptTimedOut(Exception):
    """The watchdog cut an attempt at its deadline."""


class _ConnectionLog:
    """The socket of the attempt in flight, so the watchdog can shut it at the deadline."""

    def __init__(self) -> None:
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()

    def track(self, http_class: type[http.client.HTTPConnection]) -> Callable[..., http.client.HTTPConnection]:
        def connection(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            conn = http_class(*args, **kwargs)
            connect = conn.connect

            def connect_and_remember() -> None:
                connect()
                with self._lock:
                    self._socket = conn.sock  # urllib closes its reference later; the socket stays open

            conn.connect = connect_and_remember  # type: ignore[method-assign]
            return conn

        return connection

    def shut(self) -> None:
        with self._lock:
            sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # a blocked read returns at once
            except OSError:
                pass

    def forget(self) -> None:
        with self._lock:
            self._socket = None


class _Tracking:
    """Handler mixin: every connection it opens is recorded in the log, so the watchdog can cut it."""

    def __init__(self, log: _ConnectionLog) -> None:
        super().__init__()
        self._log = log

    def do_open(self, http_class, req, **http_conn_args):  # type: ignore[no-untyped-def]
        return super().do_open(self._log.track(http_class), req, **http_conn_args)  # type: ignore[misc]


class _TrackedHTTPHandler(_Tracking, urllib.request.HTTPHandler):
    pass


class _TrackedHTTPSHandler(_Tracking, urllib.request.HTTPSHandler):
    pass


def _read_body(response: Any, url: str) -> bytes:
    """The whole body, refused past MAX_API_BODY_BYTES (checked before and while reading)."""
    declared = response.headers.get("content-length") if response.headers else None
    if declared and declared.isdigit() and int(declared) > MAX_API_BODY_BYTES:
        raise _too_big(url)
    chunks: list[bytes] = []
    total = 0
    while chunk := response.read(1 << 16):
        total += len(chunk)
        if total > MAX_API_BODY_BYTES:
            raise _too_big(url)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(url: str) -> GitHubApiError:
    return GitHubApiError(f"GitHub API: {_shown(url)} answered with more than {MAX_API_BODY_BYTES // (1024 * 1024)} MiB")


def _same_host_https(target: str, api_url: str) -> bool:
    parts, api = urllib.parse.urlsplit(target), urllib.parse.urlsplit(api_url)
    return parts.scheme == "https" and bool(parts.hostname) and parts.hostname == api.hostname and parts.port in (None, 443)


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


