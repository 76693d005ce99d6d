"""Untrusted text made inert for each kind of output: a terminal line, a spreadsheet cell, Markdown.

File names, commit messages, PR titles and bodies come from the change's author. In a terminal a
newline in a file name could print a fake ``govgate: PASS`` line and an escape sequence could
rewrite the screen; in a spreadsheet a cell starting with ``=`` is a formula; in Markdown an
``@mention`` pings people and an image fetches a remote URL when the summary is opened.
"""

from __future__ import annotations

import html
import re

# C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional overrides that
# can make text display in another order than it reads (CVE-2021-42574).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def terminal(text: object) -> str:
    """One line of text with every control character shown as an escape (``\\n``, ``\\x1b``, ``\\u202e``)."""
    return _CONTROL.sub(_visible, str(text))


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: a leading ``'`` before a formula character."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}|~#!])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def markdown_inline(text: object) -> str:
    """Untrusted text as inert Markdown: one line, HTML escaped, Markdown punctuation escaped,
    ``@mentions`` broken with a zero-width space (so nobody is notified), no image or link syntax."""
    flat = " ".join(str(text).split())
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))
    return _MENTION.sub("@&#8203;", escaped)


def markdown_code(text: object) -> str:
    """Inline code that survives backticks in the text (mentions and images are inert in code)."""
    # Code spans show entities literally, so no HTML escaping; a pipe still needs `\|` in a table.
    flat = " ".join(str(text).split()).replace("`", "'").replace("|", "\\|")
    return f"`{flat}`" if flat else ""
