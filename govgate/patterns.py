"""Regular expressions written by users, matched in linear time by RE2.

A policy's patterns (``settings.ai.body_patterns``, ``settings.helm.production_pattern``) run
against text the change's author wrote. Python's backtracking engine can take exponential
time on a pattern such as ``(a+)+$``; RE2 guarantees time linear in the text, whatever the
pattern. The price is RE2's syntax: no lookarounds and no backreferences, which a policy is
told about when it loads, with the file, line and key of the pattern.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

from govgate.limits import REGEX_MAX_MEMORY


class Match(Protocol):
    def start(self, group: int = 0) -> int: ...

    def group(self, group: int = 0) -> Any: ...


class UserPattern(Protocol):
    pattern: str

    def search(self, text: Any) -> Match | None: ...


class PatternError(ValueError):
    """A user pattern RE2 cannot compile (bad syntax, or a construct RE2 does not support)."""


def user_regex(pattern: str, *, ignore_case: bool = False, multiline: bool = False) -> UserPattern:
    """``pattern`` compiled by RE2 (cached); PatternError says why it cannot be."""
    return _compile(pattern, ignore_case, multiline)


@lru_cache(maxsize=256)
def _compile(pattern: str, ignore_case: bool, multiline: bool) -> UserPattern:
    flags = ("i" if ignore_case else "") + ("m" if multiline else "")
    return compile_re2(f"(?{flags}){pattern}" if flags else pattern, original=pattern)


def compile_re2(regex: str, *, original: str | None = None) -> UserPattern:
    import re2

    try:
        compiled = re2.compile(regex, _options())
    except re2.error as exc:
        raise PatternError(_reason(exc)) from None
    return _Named(compiled, original if original is not None else regex)


def compile_bytes(regex: bytes) -> Any:
    """A fixed pattern of govgate's own, matched by RE2 over raw bytes (Latin-1 mode: one byte, one
    character, so no byte sequence is skipped as invalid UTF-8). For pre-checks over file contents
    that a backtracking engine would scan too slowly."""
    import re2

    options = _options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.never_capture = True
    return re2.compile(regex, options)


def _options() -> Any:
    """RE2's options for every govgate pattern: bounded memory, errors raised rather than printed."""
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print to stderr; the error is raised instead
    options.max_mem = REGEX_MAX_MEMORY
    return options


class _Named:
    """An RE2 pattern that reports the text the user wrote, not the one with inline flags."""

    def __init__(self, compiled: Any, pattern: str) -> None:
        self._compiled = compiled
        self.pattern = pattern

    def search(self, text: Any) -> Match | None:
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogatepass")  # lone surrogates from undecodable names
            match = self._compiled.search(text)
            return _TextMatch(match, text) if match is not None else None
        return self._compiled.search(text)


class _TextMatch:
    """Character offsets and text for a match found in the UTF-8 bytes of a str."""

    def __init__(self, match: Any, data: bytes) -> None:
        self._match = match
        self._data = data

    def start(self, group: int = 0) -> int:
        return len(self._data[: self._match.start(group)].decode("utf-8", "surrogatepass"))

    def group(self, group: int = 0) -> Any:
        value = self._match.group(group)
        return value.decode("utf-8", "surrogatepass") if value is not None else None


def _reason(exc: BaseException) -> str:
    detail = exc.args[0] if exc.args else str(exc)
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    if "invalid perl operator" in text or ("invalid escape sequence: \\" in text and text[-1:].isdigit()):
        text += " (RE2 syntax: lookarounds and backreferences are not supported)"
    return text
