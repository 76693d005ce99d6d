"""A real HTTP server on 127.0.0.1 that answers like the GitHub REST API, for tests.

Routes are registered per test: a fixed JSON answer, a sequence of answers (a 502 then a
success), a paginated list (``link: <...>; rel="next"`` like GitHub's), an endpoint that
hangs, or one that trickles its answer a byte at a time (headers or body). Every request is
recorded with its headers so tests can check what govgate sent. Served under ``/api/v3``, the
GitHub Enterprise Server layout, so URL joining is exercised.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

from tests.local_http import LocalHttpServer

API_PREFIX = "/api/v3"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds between bytes of the body (0: all at once)
    trickle_headers: bool = False  # trickle the status line and headers too


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen, "GitHubServer"], Reply]


class GitHubServer(LocalHttpServer):
    prefix = API_PREFIX
    not_found: ClassVar[Any] = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply | Handler]] = {}
        self.patterns: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Seen] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        super().__init__(_make_handler(self))

    @property
    def api_url(self) -> str:
        return self.url + self.prefix

    def close(self) -> None:
        self.stop.set()
        super().close()

    # -- registering answers ----------------------------------------------------------------

    def on(self, path: str, *answers: Reply | Handler, method: str = "GET") -> None:
        """Answer requests to ``path`` (under the API prefix) with ``answers`` in turn; the last one repeats."""
        self.routes[(method, self.prefix + "/" + path.lstrip("/"))] = list(answers)

    def on_pattern(self, pattern: str, handler: Handler, method: str = "GET") -> None:
        """Answer every path (under the API prefix) that fully matches ``pattern``; ``handler`` reads the match from ``seen.path``."""
        self.patterns.insert(0, (method, re.compile(re.escape(self.prefix + "/") + pattern), handler))

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

    def trickle(self, path: str, body: Any, *, every: float = 0.05, headers: bool = False, status: int = 200) -> None:
        """Answer ``body`` one byte every ``every`` seconds: each byte arrives long before a socket timeout."""
        self.on(path, Reply(status, body, trickle=every, trickle_headers=headers))

    def calls(self, path: str) -> list[Seen]:
        return [s for s in self.requests if s.path == self.prefix + "/" + path.lstrip("/")]

    # -- serving ----------------------------------------------------------------------------

    def _answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            answers = self.routes.get((seen.method, seen.path))
            if not answers:
                handler = next((h for m, p, h in self.patterns if m == seen.method and p.fullmatch(seen.path)), None)
                if handler is not None:
                    answers = [handler]
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
                if reply.trickle and reply.trickle_headers:
                    self._trickle(b"".join(self._headers_buffer) + b"\r\n", reply.trickle)
                    self._headers_buffer = []
                else:
                    self.end_headers()
                if reply.trickle:
                    self._trickle(data, reply.trickle)
                else:
                    self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to tell it

        def _trickle(self, data: bytes, every: float) -> None:
            for i in range(len(data)):
                if server.stop.wait(every):
                    return
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()

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

_IDS = itertools.count(4_000_000_001)


def user(login: str, user_type: str = "User") -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10_000_000, "type": user_type,
            "html_url": f"https://github.com/{login}"}


def review(login: str | None, state: str, commit_id: str, *, user_type: str = "User", review_id: int = 1,
           submitted_at: str = "2024-03-11T10:00:00Z", association: str = "MEMBER") -> dict[str, Any]:
    """GET /pulls/{n}/reviews item; ``login=None`` is a deleted account (GitHub sends a null user)."""
    return {
        "id": review_id,
        "user": user(login, user_type) if login is not None else None,
        "body": "",
        "state": state,
        "commit_id": commit_id,
        "submitted_at": submitted_at,
        "author_association": association,
    }


def check_run(name: str, head_sha: str, *, status: str = "completed", conclusion: str | None = "success",
              app: str = "github-actions", run_id: int | None = None, suite_id: int = 11) -> dict[str, Any]:
    """GET /commits/{ref}/check-runs item; ids grow like GitHub's, so a later run is newer."""
    identifier = run_id if run_id is not None else next(_IDS)
    return {
        "id": identifier,
        "name": name,
        "head_sha": head_sha,
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "app": {"slug": app, "name": app},
        "check_suite": {"id": suite_id},
        "details_url": f"https://github.com/Codertocat/Hello-World/runs/{identifier}",
    }


def commit_status(context: str, state: str) -> dict[str, Any]:
    return {"context": context, "state": state, "description": "", "target_url": None, "creator": user("ci-bot")}


def workflow_run(run_id: int, path: str, suite_id: int, head_sha: str, *, event: str = "pull_request",
                 referenced: tuple[str, ...] = ()) -> dict[str, Any]:
    """GET /actions/runs item (``workflow_runs[]``)."""
    return {"id": run_id, "name": path.rsplit("/", 1)[-1], "path": path, "check_suite_id": suite_id,
            "head_sha": head_sha, "event": event, "status": "completed", "run_attempt": 1,
            "referenced_workflows": [{"path": p, "sha": "0" * 40} for p in referenced]}


def workflow_job(check_run_id: int, run_id: int, name: str, *, status: str = "completed",
                 runner_name: str | None = "GitHub Actions 2") -> dict[str, Any]:
    """GET /actions/runs/{id}/jobs item: a job's check run is named by ``check_run_url``."""
    return {"id": check_run_id, "run_id": run_id, "name": name, "status": status,
            "conclusion": "success" if status == "completed" else None, "runner_name": runner_name,
            "check_run_url": f"https://api.github.com/repos/Codertocat/Hello-World/check-runs/{check_run_id}"}


def pr_commit(sha: str, author: str | None, committer: str | None = "web-flow") -> dict[str, Any]:
    """GET /pulls/{n}/commits item: ``author``/``committer`` are the GitHub accounts linked to the commit."""
    return {"sha": sha, "parents": [], "author": user(author) if author else None,
            "committer": user(committer) if committer else None,
            "commit": {"message": "change", "author": {"name": author or "", "email": "", "date": "2024-03-11T10:00:00Z"},
                       "committer": {"name": committer or "", "email": "", "date": "2024-03-11T10:00:00Z"}}}


def activity(actor: str, before: str, after: str, ref: str, activity_type: str = "push") -> dict[str, Any]:
    """GET /repos/{o}/{r}/activity item."""
    return {"id": next(_IDS), "node_id": "RA_x", "before": before, "after": after, "ref": ref,
            "timestamp": "2024-03-11T09:00:00Z", "activity_type": activity_type, "actor": user(actor)}
