"""The GitLab REST API v4 client: ``govgate.sources.forge_api`` with GitLab's tokens, pages and hints.

Self-managed GitLab works as it is: the API URL is ``CI_API_V4_URL`` (``https://HOST/api/v4``, or
under a relative URL root). The token is chosen from the environment, most capable first:

- ``GOVGATE_GITLAB_TOKEN``, then ``GITLAB_TOKEN``: a project, group or personal access token, sent as
  ``PRIVATE-TOKEN``. It needs the ``read_api`` scope and at least the Reporter role to read
  approvals, commits, pipelines, members and events;
- ``CI_JOB_TOKEN``, sent as ``JOB-TOKEN``: GitLab lets a job token read only a few endpoints (of the
  ones govgate uses, the merge request itself), so with it alone nothing can be verified.

Pages follow the ``link: <...>; rel="next"`` header, or ``x-next-page`` where a proxy dropped it.
"""

from __future__ import annotations

import enum
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any, ClassVar

from govgate.sources.forge_api import ForgeApiError, ForgeClient, next_link


class GitLabApiError(ForgeApiError):
    """The GitLab API could not be read (down, unreachable, refused, rate-limited, too slow)."""


class TokenKind(enum.StrEnum):
    ACCESS = "access token"  # personal, project or group access token: PRIVATE-TOKEN
    JOB = "job token"  # CI_JOB_TOKEN: JOB-TOKEN


# Environment variables that may hold a token, most capable first.
TOKEN_VARIABLES: tuple[tuple[str, TokenKind], ...] = (
    ("GOVGATE_GITLAB_TOKEN", TokenKind.ACCESS),
    ("GITLAB_TOKEN", TokenKind.ACCESS),
    ("CI_JOB_TOKEN", TokenKind.JOB),
)


@dataclass(frozen=True)
class GitLabToken:
    value: str
    kind: TokenKind
    variable: str

    def __repr__(self) -> str:  # never show the value, even in a traceback
        return f"GitLabToken(kind={self.kind.value!r}, variable={self.variable!r})"


def token_from(environ: Mapping[str, str]) -> GitLabToken | None:
    for variable, kind in TOKEN_VARIABLES:
        value = (environ.get(variable) or "").strip()
        if value:
            return GitLabToken(value, kind, variable)
    return None


_HINTS = {
    401: "the token was refused: check that GOVGATE_GITLAB_TOKEN holds a token that has not expired or been revoked",
    403: "the token lacks access: use a project access token with the read_api scope and at least the Reporter role",
    404: "not found, or the token cannot see it: check CI_MERGE_REQUEST_PROJECT_ID and the token's project",
    429: "rate limited: run again later",
}


class GitLabClient(ForgeClient):
    service: ClassVar[str] = "GitLab API"
    error_type: ClassVar[type[ForgeApiError]] = GitLabApiError
    hints: ClassVar[Mapping[int, str]] = _HINTS
    timeout_setting: ClassVar[str] = "gitlab.timeout_seconds"
    unreachable_hint: ClassVar[str] = "check CI_API_V4_URL (self-managed: https://HOST/api/v4) and the runner's network"
    redirect_hint: ClassVar[str] = ("check CI_API_V4_URL or gitlab.api_url in the policy; a proxy or server that redirects "
                                    "elsewhere cannot supply verified evidence")

    def __init__(self, api_url: str, token: GitLabToken | None, **options: Any) -> None:
        super().__init__(api_url, token.value if token else None, **options)
        self.token_kind = token.kind if token else None

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"JOB-TOKEN" if self.token_kind is TokenKind.JOB else "PRIVATE-TOKEN": token}

    def next_page(self, url: str, headers: Message) -> str | None:
        linked = next_link(headers.get("link"))
        if linked is not None:
            return linked
        page = (headers.get("x-next-page") or "").strip()
        if not page.isdigit():
            return None
        parts = urllib.parse.urlsplit(url)
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["page"] = page
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def project_path(project: str | int) -> str:
    """``projects/<id>``, or ``projects/<url-encoded path>`` (``group%2Fproject``) for a path."""
    return f"projects/{urllib.parse.quote(str(project), safe='')}"
