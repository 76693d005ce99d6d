"""The GitHub REST and GraphQL client: ``govgate.sources.forge_api`` with GitHub's headers and hints.

Time bounds, body limits, redirects and token redaction are the forge client's (``forge_api``).

GitHub Enterprise Server works as it is: the API URL comes from ``GITHUB_API_URL`` and the GraphQL
URL is derived from it (``https://HOST/api/v3`` -> ``https://HOST/api/graphql``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from govgate.sources.forge_api import ForgeApiError, ForgeClient


class GitHubApiError(ForgeApiError):
    """The GitHub API could not be read (down, unreachable, refused, rate-limited, too slow)."""


_HINTS = {
    401: "the token was refused: pass github-token (default ${{ github.token }}) and check it has not expired",
    403: "the token lacks a permission: grant `pull-requests: read`, `checks: read`, `statuses: read` and `contents: read`",
    404: "not found, or the token cannot see it: check GITHUB_REPOSITORY and the workflow's `permissions:`",
    429: "rate limited: run again later",
}


class GitHubClient(ForgeClient):
    service: ClassVar[str] = "GitHub API"
    error_type: ClassVar[type[ForgeApiError]] = GitHubApiError
    hints: ClassVar[Mapping[int, str]] = _HINTS
    timeout_setting: ClassVar[str] = "github.timeout_seconds"
    unreachable_hint: ClassVar[str] = "check GITHUB_API_URL (GitHub Enterprise Server: https://HOST/api/v3) and the runner's network"
    redirect_hint: ClassVar[str] = "check GITHUB_API_URL; a proxy or server that redirects elsewhere cannot supply verified evidence"

    def __init__(self, api_url: str, token: str | None, graphql_url: str | None = None, **options: Any) -> None:
        super().__init__(api_url, token, **options)
        self.graphql_url = graphql_url or default_graphql_url(self.api_url)

    def base_headers(self) -> dict[str, str]:
        return {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        payload = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        body, _ = self._request("POST", self.graphql_url, payload)
        if not isinstance(body, dict):
            raise GitHubApiError("GitHub GraphQL API returned no object")
        if body.get("errors"):
            first = body["errors"][0]
            text = first.get("message", "unknown error") if isinstance(first, dict) else str(first)
            raise GitHubApiError(f"GitHub GraphQL API: {self.redact(text)}")
        return body.get("data")


def default_graphql_url(api_url: str) -> str:
    """https://api.github.com -> .../graphql; GHES https://HOST/api/v3 -> https://HOST/api/graphql."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"
