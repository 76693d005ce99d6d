"""What an audit is about: the repository, the range, and what data it could see.

Every audit summary carries this, so that summaries from many repositories combine into one
organisation report (``govgate report``) without guessing which is which, and so that a reader
knows what each figure could not see (pull-request reviews are not in git history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govgate import __version__


@dataclass(frozen=True)
class AuditContext:
    repository_name: str  # "owner/name" from the remote, else the directory's name (or --repo-name)
    repository_url: str | None
    range_label: str  # as given: REV or A..B
    branch: str | None  # the branch HEAD is on, when REV is HEAD
    tip: str | None  # the sha audited from
    github_reviews: bool = False  # --github: reviews of merged pull requests were read
    govgate_version: str = __version__  # no generation time: the same audit must print the same bytes

    def describe_range(self) -> str:
        """``main at 1a2b3c4d5e6f`` or ``v1.0..v2.0``: the branch a manager knows, and the exact commit."""
        tip = f" at {self.tip[:12]}" if self.tip else ""
        name = self.branch if self.range_label == "HEAD" and self.branch else self.range_label
        return f"{name}{tip}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "repository_name": self.repository_name,
            "evidence_sources": {"git": True, "github_reviews": self.github_reviews},
            "govgate_version": self.govgate_version,
        }


def repository_name(url: str | None, repo_path: Path | None, override: str | None = None) -> str:
    """``owner/name`` from the forge URL; else the repository directory's name (``widgets.git`` -> ``widgets``)."""
    if override and override.strip():
        return override.strip()
    if url:
        path = url.split("://", 1)[-1].split("/", 1)[-1]
        if path:
            return path
    if repo_path is not None:
        resolved = repo_path.resolve()
        folder = resolved.parent if resolved.name == ".git" else resolved
        return folder.name.removesuffix(".git") or str(folder)
    return "unnamed repository"


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
