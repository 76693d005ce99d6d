"""Path and name globs: ``**`` spans folders, a bare name matches at any depth, lists compile to one regex.

Semantics (gitignore-like): a pattern with no ``/`` but a trailing one, or one that starts with
``**/``, floats: it matches at any folder depth. Any other pattern is anchored at the repository
root. A pattern that matches a folder matches everything below it. ``*`` and ``?`` stay within
one path segment, ``**`` spans segments, ``[abc]`` / ``[!abc]`` are character classes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase


def path_matches(path: str, pattern: str) -> bool:
    return glob_set((pattern,))(path)


_GLOB_SETS: dict[tuple[str, ...], Callable[[str], bool]] = {}
MEMO_LIMIT = 50_000  # answers remembered per glob set: a history touches the same paths again and again


def glob_set(patterns: Iterable[str]) -> Callable[[str], bool]:
    """One compiled matcher for a list of path globs: true when any of them matches.

    Detectors test hundreds of paths against dozens of globs per change. Floating patterns
    are searched from segment boundaries rather than matched behind a ``(.*/)?`` prefix, which
    would make the regex engine backtrack through every folder for every alternative.
    """
    key = tuple(patterns)
    cached = _GLOB_SETS.get(key)
    if cached is not None:
        return cached
    anchored: list[str] = []
    floating: list[str] = []
    for pattern in key:
        body, floats = _split(pattern)
        (floating if floats else anchored).append(_translate(body))
    at_root = re.compile("(?:" + "|".join(anchored) + r")(?:/|$)") if anchored else None
    anywhere = re.compile("(?:^|/)(?:" + "|".join(floating) + r")(?:/|$)") if floating else None

    memo: dict[str, bool] = {}

    def matcher(path: str) -> bool:
        found = memo.get(path)
        if found is None:
            found = bool((at_root is not None and at_root.match(path)) or (anywhere is not None and anywhere.search(path)))
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[path] = found
        return found

    _GLOB_SETS[key] = matcher
    return matcher


def _split(pattern: str) -> tuple[str, bool]:
    """The pattern without its leading ``/`` or ``**/``, and whether it floats."""
    body = pattern.lstrip("/")
    if body.endswith("/"):
        body += "**"
    floats = "/" not in pattern.rstrip("/")
    while body.startswith("**/"):
        body, floats = body[3:], True
    return body, floats


def _translate(pattern: str) -> str:
    regex = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("/**/", i):
            regex += "/(?:.*/)?"
            i += 4
            continue
        if pattern.startswith("**", i):
            regex += ".*"
            i += 2
            continue
        if c == "*":
            regex += "[^/]*"
        elif c == "?":
            regex += "[^/]"
        elif c == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            regex += "[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]"
            i = end + 1
            continue
        else:
            regex += re.escape(c)
        i += 1
    return regex


def glob_any(value: str, patterns: Iterable[str]) -> bool:
    """Case-sensitive shell-style match of a plain string (branch, label) against patterns."""
    return any(fnmatchcase(value, p) for p in patterns)
