"""Errors that end a run with exit code 2 and a one-line message, never a traceback."""

from __future__ import annotations


class GovgateError(Exception):
    """Bad usage, bad input or a policy error: nothing is judged, exit 2."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"govgate: error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class GitError(GovgateError):
    """git refused a request (unknown revision, not a repository, ...)."""


class PolicyError(GovgateError):
    """The policy file is unreadable, malformed or violates the schema."""


class SourceError(GovgateError):
    """A change source could not read its input (event file, API)."""


class MemoryFileError(GovgateError):
    """The organisational memory file is unreadable, malformed or violates its schema."""
