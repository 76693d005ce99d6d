"""A real HTTP server on 127.0.0.1 that answers like the GitHub REST API, for tests.

Routes are registered per test: a fixed JSON answer, a sequence of answers (a 502 then a
success), a paginated list (``link: <...>; rel="next"`` like GitHub's), or an endpoint that
hangs. Every request is recorded with its headers so tests can check what govgate sent.
Served under ``/api/v3``, the GitHub Enterprise Server layout, so URL joining is exercised.
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

API_PREFIX = "/api/v3"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen, "GitHubServer"], Reply]


class GitHubServer:
    prefix = API_PREFIX
    not_found: ClassVar[Any] = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply | Handler]] = {}
        self.requests: list[Seen] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + self.prefix

    def close(self) -> None:
        self.stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- registering answers ----------------------------------------------------------------

    def on(self, path: str, *answers: Reply | Handler, method: str = "GET") -> None:
        """Answer requests to ``path`` (under the API prefix) with ``answers`` in turn; the last one repeats."""
        self.routes[(method, self.prefix + "/" + path.lstrip("/"))] = list(answers)

    def json(self, path: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.on(path, Reply(status, body, headers or {}))

    def paginated(self, path: str, items: list[Any], page_size: int = 100, item_key: str | None = None) -> None:
        """A list endpoint that honours per_page and page and links the next page like GitHub."""

        def answer(seen: Seen, server: GitHubServer) -> Reply:
            size = min(int(seen.query.get("per_page", "30")), page_size)
            page = int(seen.query.get("page", "1"))
            chunk = items[(page - 1) * size: page * size]
            headers: dict[str, str] = {}
            if page * size < len(items):
                query = {**seen.query, "page": str(page + 1)}
                nxt = f"{server.url}{seen.path}?{urllib.parse.urlencode(query)}"
                last = f"{server.url}{seen.path}?{urllib.parse.urlencode({**seen.query, 'page': str(-(-len(items) // size))})}"
                headers["link"] = f'<{nxt}>; rel="next", <{last}>; rel="last"'
            body: Any = {"total_count": len(items), item_key: chunk} if item_key else chunk
            return Reply(200, body, headers)

        self.on(path, answer)

    def hang(self, path: str) -> None:
        def answer(seen: Seen, server: GitHubServer) -> Reply:
            server.stop.wait(30)
            return Reply(504, {"message": "gave up"})

        self.on(path, answer)

    def calls(self, path: str) -> list[Seen]:
        return [s for s in self.requests if s.path == self.prefix + "/" + path.lstrip("/")]

    # -- serving ----------------------------------------------------------------------------

    def _answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            answers = self.routes.get((seen.method, seen.path))
            if not answers:
                return Reply(404, self.not_found)
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(seen, self) if callable(answer) else answer


def _make_handler(server: GitHubServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(
                method=self.command,
                path=parts.path,
                query=dict(urllib.parse.parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            reply = server._answer(seen)
            data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to tell it

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            return

    return _Handler


@contextlib.contextmanager
def serving(kind: type[GitHubServer] = GitHubServer) -> Iterator[GitHubServer]:
    """A running server, closed on exit; the ``github_server`` and ``gitlab_server`` fixtures wrap it."""
    server = kind()
    try:
        yield server
    finally:
        server.close()


# -- GitHub-shaped objects (fields as the REST API returns them) ---------------------------------

def review(login: str, state: str, commit_id: str, *, user_type: str = "User", review_id: int = 1,
           submitted_at: str = "2024-03-11T10:00:00Z") -> dict[str, Any]:
    return {
        "id": review_id,
        "user": {"login": login, "id": abs(hash(login)) % 10_000_000, "type": user_type},
        "body": "",
        "state": state,
        "commit_id": commit_id,
        "submitted_at": submitted_at,
        "author_association": "MEMBER",
    }


def check_run(name: str, head_sha: str, *, status: str = "completed", conclusion: str | None = "success",
              app: str = "github-actions") -> dict[str, Any]:
    return {
        "id": abs(hash(name)) % 10_000_000,
        "name": name,
        "head_sha": head_sha,
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "app": {"slug": app},
    }


def commit_status(context: str, state: str) -> dict[str, Any]:
    return {"context": context, "state": state, "description": "", "target_url": None}
