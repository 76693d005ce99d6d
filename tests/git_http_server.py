"""git's smart HTTP protocol on 127.0.0.1, behind a token, for tests of authenticated fetches.

Requests go to the real ``git http-backend`` (the CGI program git ships); the server in front
admits only requests carrying ``Authorization: basic base64(x-access-token:TOKEN)``, as GitHub
does for private repositories, and records every Authorization header it saw.
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.local_http import LocalHttpServer


class GitHttpServer(LocalHttpServer):
    def __init__(self, project_root: Path, token: str) -> None:
        self.project_root = project_root
        self.expected = "basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        self.authorizations: list[str | None] = []
        self.refused = 0
        super().__init__(_make_handler(self))


@contextlib.contextmanager
def serving_git(project_root: Path, token: str) -> Iterator[GitHttpServer]:
    server = GitHttpServer(project_root, token)
    try:
        yield server
    finally:
        server.close()


def _make_handler(server: GitHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            authorization = self.headers.get("Authorization")
            server.authorizations.append(authorization)
            body = self._body()
            if (authorization or "").lower() != server.expected.lower():
                server.refused += 1
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            env = {
                **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
                "GIT_PROJECT_ROOT": str(server.project_root), "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": urllib.parse.unquote(path), "QUERY_STRING": query, "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1",
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            }
            proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
            head, _, payload = proc.stdout.partition(b"\r\n\r\n")
            status, headers = 200, []
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().strip(), 16)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                    if size == 0:
                        return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    return Handler
