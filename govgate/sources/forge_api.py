"""A small JSON REST client for forge APIs (GitHub, GitLab) on urllib: pagination, retries, a hard time bound.

Why not a library: govgate reads a handful of endpoints, must run anywhere Python runs (GitHub
Enterprise Server and self-managed GitLab included) and must never leak the token. Every request
shares one deadline: backoff and rate-limit waits that would pass it fail at once instead, so a
gate on a slow or rate-limited API ends with a clear message rather than hanging the job.

A socket timeout only bounds each wait for a byte, so a server that trickles its answer a byte at
a time could hold a request forever. Each attempt therefore has one total deadline, from connecting
to the last byte of the body (a watchdog shuts the connection when it passes), and a body larger
than MAX_API_BODY_BYTES is refused.

The token goes only to the origin (scheme, host, port) of the API URL the client was given:
redirects are followed only to that origin or to https on the same host, pagination links to any
other origin are refused, and every text that could carry the token (error bodies, exception
reasons) has it replaced by ``***`` before it is shortened, so a cut can never leave a fragment of
it behind.

A forge is a subclass: its name for messages, its authentication headers, its error hints and the
policy key that sets its time bound.
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
from typing import Any, ClassVar

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


class ForgeApiError(SourceError):
    """A forge API could not be read (down, unreachable, refused, rate-limited, too slow)."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint)
        self.status = status


DEFAULT_DEADLINE_SECONDS = 60.0  # every request of a run, retries included, unless the policy says otherwise


def policy_deadline(settings: Mapping[str, Any]) -> float:
    """The whole run's time bound for a forge's API, from the policy's block for it (``timeout_seconds``)."""
    return float(settings.get("timeout_seconds", DEFAULT_DEADLINE_SECONDS))


def fails_open(settings: Mapping[str, Any]) -> bool:
    """Whether the policy's block for a forge judges without its data when the API is down (else exit 2)."""
    return settings.get("on_api_error") == "fail_open"


class ForgeClient:
    service: ClassVar[str] = "forge API"  # how messages name the API: "GitHub API", "GitLab API"
    error_type: ClassVar[type[ForgeApiError]] = ForgeApiError
    hints: ClassVar[Mapping[int, str]] = {}
    timeout_setting: ClassVar[str] = "timeout_seconds"  # the policy key that sets the time bound
    unreachable_hint: ClassVar[str] = "check the API URL and the runner's network"
    redirect_hint: ClassVar[str] = "check the API URL; a proxy or server that redirects elsewhere cannot supply verified evidence"

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        per_request_timeout: float = 20.0,  # each attempt, and never past the deadline
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token or None
        self._origin = origin_of(self.api_url)
        self.deadline_seconds = deadline_seconds
        self.per_request_timeout = per_request_timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._clock = clock
        self._deadline = clock() + deadline_seconds
        # Redirects are followed by hand: urllib would forward the authentication header to any host.
        self._connections = _ConnectionLog()
        self._opener = urllib.request.build_opener(
            _NoRedirect, _TrackedHTTPHandler(self._connections), _TrackedHTTPSHandler(self._connections),
        )

    def __repr__(self) -> str:  # never show the token, even in a traceback
        return f"{type(self).__name__}({self.api_url!r}, token={'***' if self._token else None})"

    # -- what a forge defines -----------------------------------------------------------------

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def base_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    def next_page(self, url: str, headers: Message) -> str | None:
        """The next page of a list: the ``link: <...>; rel="next"`` header (GitHub, GitLab)."""
        return next_link(headers.get("link"))

    # -- public API ---------------------------------------------------------------------------

    def get_json(self, path: str, params: Params = None) -> Any:
        body, _ = self._request("GET", self._url(path, params))
        return body

    def paginate(self, path: str, params: Params = None, item_key: str | None = None,
                 max_pages: int = _MAX_PAGES) -> list[Any]:
        """Every item of a list endpoint, page after page (per_page=100)."""
        items, complete = self.pages(path, params, item_key, max_pages)
        if not complete:
            raise self.error_type(f"{self.service}: {_shown(self._url(path, None))} has more than {max_pages} pages")
        return items

    def pages(self, path: str, params: Params = None, item_key: str | None = None,
              max_pages: int = _MAX_PAGES) -> tuple[list[Any], bool]:
        """Items of up to ``max_pages`` pages, and whether that was every page."""
        query = {"per_page": 100, **(params or {})}
        url: str | None = self._url(path, query)
        items: list[Any] = []
        for _ in range(max_pages):
            if url is None:
                return items, True
            body, headers = self._request("GET", url)
            page = body.get(item_key) if item_key and isinstance(body, dict) else body
            if not isinstance(page, list):
                raise self.error_type(f"{self.service}: {_shown(url)} did not return a list")
            items.extend(page)
            url = self.next_page(url, headers)
            if url is not None and origin_of(url) != self._origin:
                raise self.error_type(f"{self.service}: refusing to follow a pagination link to another host ({origin_of(url)})")
        return items, url is None

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
        headers = {**self.base_headers(), "User-Agent": f"govgate/{__version__}"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self._token and origin_of(url) == self._origin:
            headers.update(self.auth_headers(self._token))
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
                    return self._decode_json(raw, url), headers
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
                    outcome = response.status, response.headers, self._read_body(response, request.full_url)
            except urllib.error.HTTPError as exc:
                try:
                    outcome = exc.code, exc.headers, self._read_body(exc, request.full_url)
                finally:
                    exc.close()
            if cut.is_set():  # the cut may end a body early without an error: never use a partial answer
                raise _AttemptTimedOut
            return outcome
        except (ForgeApiError, _AttemptTimedOut):
            raise
        except Exception:
            if cut.is_set():
                raise _AttemptTimedOut from None
            raise
        finally:
            watchdog.cancel()
            self._connections.forget()

    def _read_body(self, response: Any, url: str) -> bytes:
        """The whole body, refused past MAX_API_BODY_BYTES (checked before and while reading)."""
        declared = response.headers.get("content-length") if response.headers else None
        too_big = self.error_type(f"{self.service}: {_shown(url)} answered with more than "
                                  f"{MAX_API_BODY_BYTES // (1024 * 1024)} MiB")
        if declared and declared.isdigit() and int(declared) > MAX_API_BODY_BYTES:
            raise too_big
        chunks: list[bytes] = []
        total = 0
        while chunk := response.read(1 << 16):
            total += len(chunk)
            if total > MAX_API_BODY_BYTES:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)

    def _redirect_target(self, method: str, url: str, location: str) -> str:
        target = urllib.parse.urljoin(url, location)
        if origin_of(target) == self._origin or _same_host_https(target, self.api_url):
            return target
        shown = origin_of(target) if urllib.parse.urlsplit(target).netloc else urllib.parse.urlsplit(target).scheme + ":"
        raise self.error_type(
            f"{self.service}: {method} {_shown(url)} redirected to {shown}; only the API's own host (https) is followed",
            self.redirect_hint,
        )

    def _rate_limit_wait(self, status: int, headers: Message, body: bytes) -> float | None:
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                return _RATE_LIMIT_DEFAULT_WAIT
        remaining = headers.get("x-ratelimit-remaining") or headers.get("ratelimit-remaining")
        if remaining == "0":
            reset = headers.get("x-ratelimit-reset") or headers.get("ratelimit-reset")
            try:
                return max(0.0, float(reset) - time.time()) + 1.0 if reset else _RATE_LIMIT_DEFAULT_WAIT
            except ValueError:
                return _RATE_LIMIT_DEFAULT_WAIT
        if status == 429 or b"rate limit" in body.lower():
            return _RATE_LIMIT_DEFAULT_WAIT
        return None  # a plain 403: the token lacks a permission; retrying cannot help

    def _rate_limited_error(self, method: str, url: str, status: int, wait: float, attempt: int) -> ForgeApiError:
        if attempt >= self.max_attempts:
            text = f"{self.service}: still rate limited on {method} {_shown(url)} after {attempt} attempts"
        else:
            text = (f"{self.service}: rate limited on {method} {_shown(url)}; it asks to wait {wait:.0f}s, "
                    f"beyond the time bound of {self.deadline_seconds:g}s")
        return self.error_type(text, f"run again after the limit resets, or raise {self.timeout_setting} in the policy",
                               status=status)

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_seconds * (2 ** (attempt - 1)), _BACKOFF_CAP_SECONDS)

    def _timeout_error(self, method: str, url: str) -> ForgeApiError:
        return self.error_type(
            f"{self.service}: {method} {_shown(url)} did not complete within the time bound of {self.deadline_seconds:g}s",
            f"the API may be slow or unreachable from this runner; {self.timeout_setting} in the policy sets the bound",
        )

    def _connection_error(self, method: str, url: str, exc: BaseException) -> ForgeApiError:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return self._timeout_error(method, url)
        return self.error_type(
            f"{self.service}: cannot reach {self._origin} for {method} {_shown(url)}: {self.redact(str(reason))}",
            self.unreachable_hint,
        )

    def _http_error(self, method: str, url: str, status: int, body: bytes) -> ForgeApiError:
        message = self.redact(error_message(body))
        text = f"{self.service}: {method} {_shown(url)} failed with HTTP {status}" + (f": {message}" if message else "")
        return self.error_type(text, self.hints.get(status), status=status)

    def _decode_json(self, raw: bytes, url: str) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise self.error_type(f"{self.service}: {_shown(url)} returned something that is not JSON") from None

    def redact(self, text: str) -> str:
        """The token replaced in the whole text first, then the text cut to one short line: cutting
        first could leave a prefix of the token that no longer matches it."""
        if self._token:
            text = text.replace(self._token, "***")
        flat = " ".join(text.split())
        return flat if len(flat) <= MAX_API_ERROR_CHARS else flat[: MAX_API_ERROR_CHARS - 1] + "…"


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


def _same_host_https(target: str, api_url: str) -> bool:
    parts, api = urllib.parse.urlsplit(target), urllib.parse.urlsplit(api_url)
    return parts.scheme == "https" and bool(parts.hostname) and parts.hostname == api.hostname and parts.port in (None, 443)


def error_message(body: bytes) -> str:
    """What an error body says: GitHub's and GitLab's ``message`` (a string or a field -> errors map),
    OAuth's ``error``/``error_description``, or the raw text."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")
    if not isinstance(parsed, dict):
        return ""
    message = parsed.get("message")
    if isinstance(message, dict):
        return "; ".join(f"{key}: {value}" for key, value in message.items())
    if message:
        return str(message)
    return " ".join(str(parsed[k]) for k in ("error", "error_description") if parsed.get(k))


def origin_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _shown(url: str) -> str:
    """The path of a URL, for messages: never the query (it could carry anything) or a userinfo part."""
    return urllib.parse.urlsplit(url).path or "/"


def next_link(header: str | None) -> str | None:
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
