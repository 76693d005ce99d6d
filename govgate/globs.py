"""Path and name globs: ``**`` spans folders, a bare name matches at any depth, lists compile to one regex."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase


def path_matches(path: str, pattern: str) -> bool:
    """Glob match where ``**`` spans directories and a bare name matches at any depth."""
    return glob_set((pattern,))(path)


_GLOB_SETS: dict[tuple[str, ...], Callable[[str], bool]] = {}


def glob_set(patterns: Iterable[str]) -> Callable[[str], bool]:
    """One compiled matcher for a list of path globs: true when any of them matches.

    Detectors test hundreds of paths against dozens of globs per change; one alternation
    regex is an order of magnitude faster than a loop of single matches.
    """
    key = tuple(patterns)
    cached = _GLOB_SETS.get(key)
    if cached is not None:
        return cached
    import re

    if not key:
        matcher: Callable[[str], bool] = lambda path: False  # noqa: E731
    else:
        compiled = re.compile("|".join(f"(?:{_glob_regex(p)})" for p in key))
        matcher = lambda path: compiled.match(path) is not None  # noqa: E731
    _GLOB_SETS[key] = matcher
    return matcher


def _glob_regex(pattern: str) -> str:
    import re

    pat = pattern.lstrip("/")
    anchored = "/" in pattern.rstrip("/")
    if pat.endswith("/"):
        pat += "**"
    regex = ""
    i = 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
            continue
        if pat.startswith("**", i):
            regex += ".*"
            i += 2
            continue
        if c == "*":
            regex += "[^/]*"
        elif c == "?":
            regex += "[^/]"
        elif c == "[" and "]" in pat[i + 2 :]:
            end = pat.index("]", i + 2)
            body = pat[i + 1 : end]
            regex += "[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]"
            i = end + 1
            continue
        else:
            regex += re.escape(c)
        i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return f"{prefix}{regex}(?:/.*)?$"


def glob_any(value: str, patterns: Iterable[str]) -> bool:
    """Case-sensitive shell-style match of a plain string (branch, label) against patterns."""
    return any(fnmatchcase(value, p) for p in patterns)
