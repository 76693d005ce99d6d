"""CODEOWNERS: GitHub has no endpoint that returns it parsed, so govgate reads and matches it.

Files are looked up as GitHub does (``.github/CODEOWNERS``, then ``CODEOWNERS``, then
``docs/CODEOWNERS``; the first found wins) and the last matching pattern decides a path's
owners. Patterns follow gitignore with GitHub's documented deviations: no ``!`` negation,
and ``docs/*`` owns the files directly in ``docs/`` but not deeper ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")

Entry = tuple[str, tuple[str, ...]]  # (pattern, owners)


def find_codeowners(read: Callable[[str], str | None]) -> tuple[str, str] | None:
    """(location, text) of the first CODEOWNERS file that ``read`` returns, or None."""
    for location in CODEOWNERS_LOCATIONS:
        text = read(location)
        if text is not None:
            return location, text
    return None


def parse_codeowners(text: str) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and "]" in line:  # GitLab-style section header; GitHub has none
            continue
        tokens: list[str] = []
        for token in line.split():
            if token.startswith("#"):
                break  # the rest of the line is a comment
            tokens.append(token)
        if not tokens:
            continue
        pattern = tokens[0].replace("\\#", "#")
        owners = tuple(t for t in tokens[1:] if "@" in t)
        entries.append((pattern, owners))
    return tuple(entries)


def owners_of(path: str, entries: Sequence[Entry]) -> tuple[str, ...] | None:
    """The owners of a path (last matching pattern wins); None when no pattern matches it."""
    for pattern, owners in reversed(entries):
        if pattern_matches(pattern, path):
            return owners
    return None


def pattern_matches(pattern: str, path: str) -> bool:
    matcher = _compile(pattern)
    return matcher is not None and matcher.match(path.lstrip("/")) is not None


def is_user_owner(owner: str) -> bool:
    """``@login`` is a user; ``@org/team`` is a team; ``name@host`` is an email."""
    return owner.startswith("@") and "/" not in owner


def owned_by(login: str, owners: Iterable[str]) -> bool:
    wanted = "@" + login.lower()
    return any(owner.lower() == wanted for owner in owners)


@lru_cache(maxsize=512)
def _compile(pattern: str) -> re.Pattern[str] | None:
    if pattern.startswith("!"):
        return None  # GitHub does not support negation: such a line matches nothing
    anchored = pattern.startswith("/") or "/" in pattern.strip("/")
    directory_only = pattern.endswith("/")
    body = pattern.strip("/")
    if not body:
        return None
    regex = ""
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif body.startswith("**", i):
            regex += ".*"
            i += 2
        elif body[i] == "*":
            regex += "[^/]*"
            i += 1
        elif body[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(body[i])
            i += 1
    prefix = "^" if anchored else "^(?:.*/)?"
    if directory_only:
        suffix = "/.*$"
    elif body.endswith("/*"):
        suffix = "$"  # `docs/*`: files directly inside docs/, not in its subdirectories
    else:
        suffix = "(?:/.*)?$"  # a file, or a directory and everything under it
    return re.compile(prefix + regex + suffix)
