"""JSON Schema pieces the policy and the memory file share, so both files mean the same by them."""

from __future__ import annotations

from typing import Any

# The schema marks strings that are patterns with these JSON Schema "format" annotations; the
# loaders compile every such string when the file loads (govgate.policy.checks).
REGEX_FORMAT = "regex"
GLOB_FORMAT = "path-glob"

STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}}
DATE: dict[str, Any] = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}  # a real calendar date: checked on load
# Rule, freeze window and memory entry ids: letters, digits, '.', '_' and '-', starting with a letter or digit.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def path_globs(description: str | None = None) -> dict[str, Any]:
    """A list of path globs (``**`` spans folders), each compiled when the file loads."""
    schema: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1, "format": GLOB_FORMAT}}
    if description:
        schema["description"] = description
    return schema


def regexes(description: str | None = None) -> dict[str, Any]:
    """A list of regular expressions (RE2 syntax), each compiled when the file loads."""
    schema: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1, "format": REGEX_FORMAT}}
    if description:
        schema["description"] = description
    return schema
