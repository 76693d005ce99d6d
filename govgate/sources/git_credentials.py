"""A token for ``git fetch``, given to git through its environment: never in a URL, argv or a file.

With ``actions/checkout``'s ``persist-credentials: false`` (what a hardened workflow sets), the
clone keeps no credentials, so deepening a shallow clone of a private repository would fail. The
token reaches git as an ``http.<server>/.extraheader`` entry of ``GIT_CONFIG_COUNT`` /
``GIT_CONFIG_KEY_n`` / ``GIT_CONFIG_VALUE_n`` (git 2.31+): scoped to the forge's URL (so neither a
submodule on another host nor a redirect elsewhere receives it), absent from ``ps`` output, from
``.git/config`` and from every message git prints.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class FetchCredentials:
    server_url: str  # scheme://host[:port]/ the header is scoped to
    token: str = field(repr=False)

    def __repr__(self) -> str:  # never show the token, even in a traceback
        return f"FetchCredentials({self.server_url!r}, token=***)"

    @classmethod
    def for_remote(cls, token: str | None, server_url: str | None, remote_url: str | None) -> FetchCredentials | None:
        """Credentials when the remote lives on the forge's server over HTTP(S); otherwise none."""
        if not token or not server_url or not remote_url:
            return None
        server, remote = urlsplit(server_url), urlsplit(remote_url)
        if server.scheme not in ("https", "http") or (remote.scheme, remote.netloc) != (server.scheme, server.netloc):
            return None
        return cls(f"{server.scheme}://{server.netloc}/", token)

    def git_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` plus the header, after any GIT_CONFIG_* entries already there."""
        count = int(env.get("GIT_CONFIG_COUNT") or 0)
        basic = base64.b64encode(f"x-access-token:{self.token}".encode()).decode("ascii")
        return {
            **env,
            "GIT_CONFIG_COUNT": str(count + 1),
            f"GIT_CONFIG_KEY_{count}": f"http.{self.server_url}.extraheader",
            f"GIT_CONFIG_VALUE_{count}": f"AUTHORIZATION: basic {basic}",
        }
