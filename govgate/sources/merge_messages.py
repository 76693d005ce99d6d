"""What a first-parent commit's message says about the pull request or branch it landed.

Offline, a history audit knows a change's pull request only from the text forges write:
GitHub's ``Merge pull request #N from owner/branch`` merge commits (the PR title follows as
the first body line), GitHub squash merges ``Title (#N)``, and git's own ``Merge branch 'x'``.
Repository URLs are turned into forge links here too (never with credentials in them).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from govgate.model import Commit, PullRequest

_GITHUB_MERGE = re.compile(r"^Merge pull request #(?P<number>\d+) from (?P<head>\S+)")
_SQUASH = re.compile(r"^(?P<title>.*\S)\s+\(#(?P<number>\d+)\)$")
_BRANCH_MERGE = re.compile(r"^Merge (?:remote-tracking )?branch '(?P<branch>[^']+)'")
_SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]+):(?P<path>[^\s]+)$")


@dataclass(frozen=True)
class Landing:
    """How a first-parent commit reached the branch, as far as its message tells."""

    number: int | None = None  # the pull request number
    head_ref: str | None = None  # the branch that was merged
    title: str | None = None  # the pull request's title
    body: str = ""
    squash: bool = False


def read_landing(commit: Commit) -> Landing:
    subject = commit.subject
    body = commit.message.split("\n", 1)[1].strip() if "\n" in commit.message else ""
    match = _GITHUB_MERGE.match(subject)
    if match and commit.is_merge:
        head = match.group("head")
        # "owner/branch/with/slashes": the first component is the head repository's owner.
        branch = head.split("/", 1)[1] if "/" in head else head
        first_line = body.split("\n", 1)[0].strip() if body else ""
        return Landing(number=int(match.group("number")), head_ref=branch, title=first_line or None, body=body)
    match = _SQUASH.match(subject)
    if match:
        return Landing(number=int(match.group("number")), title=match.group("title"), body=body, squash=not commit.is_merge)
    match = _BRANCH_MERGE.match(subject)
    if match and commit.is_merge:
        return Landing(head_ref=match.group("branch"))
    return Landing()


def pull_number(subject: str, is_merge: bool) -> int | None:
    """The pull request number a first-parent commit's subject names (as ``read_landing`` finds it)."""
    match = _GITHUB_MERGE.match(subject) if is_merge else None
    match = match or _SQUASH.match(subject.strip())
    return int(match.group("number")) if match else None


def pull_request_for(landing: Landing, commit: Commit, web_url: str | None) -> PullRequest | None:
    """The offline PullRequest a landing message implies (no reviews, no checks: those need the API)."""
    if landing.number is None:
        return None
    return PullRequest(
        number=landing.number,
        title=landing.title or commit.subject,
        body=landing.body,
        head_ref=landing.head_ref,
        head_sha=commit.parents[-1] if commit.is_merge else commit.sha,
        base_sha=commit.parents[0] if commit.parents else None,
        merged=True,
        url=pull_request_url(web_url, landing.number),
    )


def web_url(remote_url: str | None) -> str | None:
    """An https URL for a remote (``git@host:owner/repo.git``, ``ssh://``, ``https://``), credentials removed."""
    if not remote_url:
        return None
    text = remote_url.strip()
    if "://" in text:
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("http", "https", "ssh", "git", "git+ssh", "ssh+git") or not parts.hostname:
            return None
        host = parts.hostname
        if parts.scheme in ("http", "https") and parts.port:
            host = f"{host}:{parts.port}"
        path = parts.path
    else:
        match = _SCP_LIKE.match(text)
        if not match or text.startswith(("/", ".")):
            return None  # a local path: no forge to link to
        host, path = match.group("host"), match.group("path")
    path = path.strip("/").removesuffix(".git").strip("/")
    if not path or "/" not in path:
        return None
    scheme = "http" if "://" in text and text.startswith("http://") else "https"
    return f"{scheme}://{host}/{path}"


def commit_url(base: str | None, sha: str) -> str | None:
    if not base:
        return None
    host = urllib.parse.urlsplit(base).hostname or ""
    if "gitlab" in host:
        return f"{base}/-/commit/{sha}"
    if "bitbucket" in host:
        return f"{base}/commits/{sha}"
    return f"{base}/commit/{sha}"


def pull_request_url(base: str | None, number: int) -> str | None:
    if not base:
        return None
    host = urllib.parse.urlsplit(base).hostname or ""
    if "gitlab" in host:
        return None  # "(#N)" on GitLab is an issue reference, not a merge request
    return f"{base}/pull/{number}"


def github_repository(base: str | None) -> tuple[str, str, str] | None:
    """(host, owner, name) when the web URL looks like a GitHub repository."""
    if not base:
        return None
    parts = urllib.parse.urlsplit(base)
    segments = parts.path.strip("/").split("/")
    if len(segments) != 2 or not parts.hostname:
        return None
    return parts.hostname, segments[0], segments[1]
