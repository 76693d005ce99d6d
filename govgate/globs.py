"""Path and name globs: ``**`` spans folders, a bare name matches at any depth, lists compile to one regex.

Semantics (gitignore-like): a pattern with no ``/`` but a trailing one, or one that starts with
``**/``, floats: it matches at any folder depth. Any other pattern is anchored at the repository
root. A pattern that matches a folder matches everything below it. ``*`` and ``?`` stay within
one path segment, ``**`` spans segments, ``[abc]`` / ``[!abc]`` are character classes.

Paths come from the change's author, so matching must stay linear in the path's length. Python's
backtracking engine is linear for a pattern with one wildcard that can backtrack, but a pattern
with two (``V*__*.sql``, ``**/spec/**/*.rb``) is quadratic or worse on a crafted 100 KB name;
those patterns are matched by RE2 (``govgate.patterns``), which is linear for any pattern.
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
    fast: dict[bool, list[str]] = {False: [], True: []}  # floats -> regexes for Python's engine
    linear: dict[bool, list[str]] = {False: [], True: []}  # the same, for RE2
    for pattern in key:
        body, floats = _split(pattern)
        (linear if _backtracks(body, floats) else fast)[floats].append(_translate(body))
    tests = [test for test in (
        _regex_test(fast[False], anchored=True), _regex_test(fast[True], anchored=False),
        _re2_test(linear[False], anchored=True), _re2_test(linear[True], anchored=False),
    ) if test is not None]

    memo: dict[str, bool] = {}

    def matcher(path: str) -> bool:
        found = memo.get(path)
        if found is None:
            found = any(test(path) for test in tests)
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[path] = found
        return found

    _GLOB_SETS[key] = matcher
    return matcher


def check_glob(pattern: str) -> None:
    """Raise ValueError when ``pattern`` cannot be used as a path glob (e.g. ``[z-a]``)."""
    body, floats = _split(pattern)
    regex = _translate(body)
    try:
        re.compile(regex)
    except re.error as exc:
        raise ValueError(f"not a valid glob: {exc.msg}") from None
    if _backtracks(body, floats):
        from govgate.patterns import PatternError, compile_re2

        try:
            compile_re2(_ROOTED + "(?:" + regex + ")" + _END)
        except PatternError as exc:
            raise ValueError(f"not a valid glob: {exc}") from None


_ROOTED, _FLOATING, _END = "^", "(?:^|/)", "(?:/|$)"


def _regex_test(regexes: list[str], *, anchored: bool) -> Callable[[str], bool] | None:
    if not regexes:
        return None
    compiled = re.compile(("" if anchored else _FLOATING) + "(?:" + "|".join(regexes) + ")" + _END)
    find = compiled.match if anchored else compiled.search
    return lambda path: find(path) is not None


def _re2_test(regexes: list[str], *, anchored: bool) -> Callable[[str], bool] | None:
    if not regexes:
        return None
    from govgate.patterns import compile_re2

    compiled = compile_re2((_ROOTED if anchored else _FLOATING) + "(?:" + "|".join(regexes) + ")" + _END)
    return lambda path: compiled.search(path) is not None


def _backtracks(body: str, floats: bool) -> bool:
    """Whether Python's engine could take more than linear time on this glob.

    Every wildcard followed by more of the pattern may be re-tried at each later position:
    two of them make the work quadratic, and a folder-spanning ``**`` re-tried from every
    folder of a floating pattern does too. A final ``*`` or ``**`` is cheap (it ends the match).
    """
    inner = re.findall(r"\*+", body.rstrip("*"))
    return len(inner) >= 2 or (floats and any(len(run) >= 2 for run in inner))


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
