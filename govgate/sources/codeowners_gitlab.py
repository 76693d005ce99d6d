"""GitLab's CODEOWNERS: sections, optional sections, approval counts and exclusions.

GitLab reads the first of ``CODEOWNERS``, ``docs/CODEOWNERS`` and ``.gitlab/CODEOWNERS``; govgate reads
it from the trust root, like GitHub's (``TrustedConfig.codeowners``). The syntax differs from
GitHub's (``govgate.sources.codeowners``) in ways that decide who must approve, so it has its own
parser:

- ``[Section]`` starts a section, ``^[Section]`` an optional one, ``[Section][2]`` one that needs two
  approvals, and owners after the header are the section's default owners for entries that name
  none. Names compare without case; sections with the same name are one section. Entries before
  any header form the default section ``codeowners``.
- Each section is judged on its own: a path's owners in a section are those of the last entry of
  that section matching it, so a path can need approvals from several sections. An entry written
  again keeps its first position (a later line replaces its owners, not its order), as GitLab does.
- ``!pattern`` excludes matching paths from the section whatever the order of its lines.
- Only lines starting with ``#`` are comments: a ``#`` later in a line is not (GitLab has no inline
  comments). ``\\#`` escapes a leading ``#`` and ``\\ `` a space in a path.
- Patterns are Ruby ``File.fnmatch`` globs with ``FNM_PATHNAME | FNM_DOTMATCH`` on ``/``-prefixed
  paths: a pattern without a leading ``/`` matches at any depth, a trailing ``/`` means everything
  below, ``*`` and ``?`` never cross ``/``, ``**/`` spans folders, and ``**`` elsewhere is ``*``.
- Owners are ``@user``, ``@group`` or ``@group/subgroup``, ``@@role`` (``@@developer``,
  ``@@maintainer``, ``@@owner``) and email addresses. Which approvers an owner names is the source's
  question (it takes the API); a section's verdict is the detector's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from govgate.model import OwnerRule

GITLAB_CODEOWNERS_LOCATIONS = ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
DEFAULT_SECTION = "codeowners"

_HEADER = re.compile(r"^(?P<optional>\^)?\[(?P<name>[^\]]*)\](?:\[(?P<approvals>[^\]]*)\])?(?P<owners>.*)$")
_UNESCAPED_SPACE = re.compile(r"(?<!\\)\s+")


@dataclass(frozen=True)
class Entry:
    pattern: str  # as written, without the leading ``!`` of an exclusion
    owners: tuple[str, ...]
    approvals: int
    optional: bool
    exclusion: bool
    line: int


@dataclass
class Section:
    name: str
    entries: dict[str, Entry] = field(default_factory=dict)  # normalized pattern -> entry, in first-written order

    @property
    def optional(self) -> bool:
        """Optional only when every entry came under an optional header (a required header wins)."""
        return bool(self.entries) and all(entry.optional for entry in self.entries.values())

    def owner_of(self, path: str) -> Entry | None:
        """The entry that owns ``path`` in this section: its last match, unless an exclusion matches."""
        rooted = "/" + path.lstrip("/")
        matches = [entry for pattern, entry in reversed(self.entries.items()) if _compile(pattern).match(rooted)]
        if not matches or any(entry.exclusion for entry in matches):
            return None
        return matches[0]


@dataclass
class GitLabCodeOwners:
    sections: list[Section]
    problems: list[str] = field(default_factory=list)  # lines GitLab would flag, said with the verdict

    def rules_for(self, paths: Iterable[str]) -> tuple[OwnerRule, ...]:
        """One rule per (section, owning entry) with the touched paths it owns."""
        owned: dict[tuple[str, str], tuple[Section, Entry, list[str]]] = {}
        for path in dict.fromkeys(paths):
            for section in self.sections:
                entry = section.owner_of(path)
                if entry is not None:
                    owned.setdefault((section.name.lower(), entry.pattern), (section, entry, []))[2].append(path)
        return tuple(
            OwnerRule(section=section.name, pattern=entry.pattern, owners=entry.owners, approvals=entry.approvals,
                      optional=section.optional, paths=tuple(paths))
            for section, entry, paths in owned.values()
        )


def parse_gitlab_codeowners(text: str) -> GitLabCodeOwners:
    default = Section(DEFAULT_SECTION)
    sections: dict[str, Section] = {DEFAULT_SECTION: default}
    problems: list[str] = []
    current, optional, approvals, defaults = default, False, 1, ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = _HEADER.match(line)
        if header:
            name = header["name"].strip()
            if not name:
                problems.append(f"CODEOWNERS line {number}: a section header without a name is ignored")
                continue
            current = sections.setdefault(name.lower(), Section(name))
            optional = header["optional"] is not None
            approvals = _approvals(header["approvals"], number, problems)
            defaults = owner_references(header["owners"])
            continue
        pattern, *rest = _UNESCAPED_SPACE.split(line, maxsplit=1)
        listed = rest[0] if rest else ""
        exclusion = pattern.startswith("!")
        pattern = pattern[1:] if exclusion else pattern
        owners = () if exclusion else (owner_references(listed) or defaults)
        if not owners and not exclusion:
            problems.append(f"CODEOWNERS line {number}: {pattern} names no owner, so no approval is required for it")
        current.entries[_normalize(pattern)] = Entry(pattern, owners, approvals, optional, exclusion, number)
    return GitLabCodeOwners([s for s in sections.values() if s.entries], problems)


def owner_references(text: str) -> tuple[str, ...]:
    """The owners a line names: ``@user``, ``@group/sub``, ``@@role`` and emails; other words are not owners."""
    found: list[str] = []
    for token in text.split():
        if token.startswith("@"):
            name = token.rstrip(".,;:")
            if len(name) > 1 and name != "@@":
                found.append(name)
        elif "@" in token and "." in token.split("@", 1)[1]:
            found.append(token.lower())
    return tuple(dict.fromkeys(found))


def _approvals(given: str | None, number: int, problems: list[str]) -> int:
    if given is None:
        return 1
    if given.strip().isdigit() and int(given) >= 1:
        return int(given)
    problems.append(f"CODEOWNERS line {number}: [{given}] is not a number of approvals of at least 1; 1 is required")
    return 1


def _normalize(pattern: str) -> str:
    """GitLab's normalisation: ``*`` is everything, a relative pattern matches at any depth, ``dir/`` all below."""
    if pattern == "*":
        return "/**/*"
    if pattern.startswith("\\#"):
        pattern = pattern[1:]
    pattern = re.sub(r"\\(\s)", r"\1", pattern)
    if not pattern.startswith("/"):
        pattern = "/**/" + pattern
    if pattern.endswith("/"):
        pattern += "**/*"
    return pattern


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    """A normalized pattern as a regex with Ruby ``File.fnmatch`` semantics (FNM_PATHNAME | FNM_DOTMATCH)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i) and (i == 0 or pattern[i - 1] == "/"):
            out.append("(?:[^/]+/)*")
            i += 3
        elif char == "*":
            while i + 1 < len(pattern) and pattern[i + 1] == "*":
                i += 1  # `**` not followed by `/` is `*`
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
                i += 1
                continue
            body = pattern[i + 1:end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out.append("(?!/)[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = end + 1
        elif char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out) + r"\Z")
