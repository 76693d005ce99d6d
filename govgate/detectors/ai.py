"""Was the change written with an AI agent? Trailers, footers, author identities, branch, labels, PR text.

Every marker is a claim made by whoever wrote the commit or the PR (trust ``declared``); only
the PR author as reported by the GitHub API is ``verified``. Markers prove assistance when
present and prove nothing when absent. The data tables live in ``ai_markers``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govgate.detectors import ai_markers as markers
from govgate.detectors.per_settings import once_per_settings
from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.errors import PolicyError
from govgate.model import (
    Change,
    Commit,
    Confidence,
    Evidence,
    Location,
    PullRequest,
    Question,
    Trailer,
    Trust,
    glob_any,
    parse_trailer_lines,
)
from govgate.patterns import PatternError, UserPattern, user_regex
from govgate.schema_parts import regexes

_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
_IDENTITY = re.compile(r"^(?P<name>[^<]*?)\s*<(?P<email>[^<>\s]+)>\s*$")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}
_FOOTER_HINT = re.compile(r"generated (?:with|by)", re.IGNORECASE)

_BY_EMAIL = {email: i.tool for i in markers.IDENTITIES for email in i.emails}
_BY_LOGIN = {login: i.tool for i in markers.IDENTITIES for login in i.logins}
_BY_GITHUB_ID = {gid: i.tool for i in markers.IDENTITIES for gid in i.github_ids}


def ai_tool_for_login(login: str) -> str | None:
    """The AI tool behind a GitHub login ("coderabbitai[bot]", "Copilot"), or None."""
    lowered = login.strip().lower()
    if lowered in _BY_LOGIN:
        return _BY_LOGIN[lowered]
    if not lowered.endswith("[bot]") and lowered not in markers.AMBIGUOUS_BARE_LOGINS:
        return _BY_LOGIN.get(lowered + "[bot]")
    return None


def ai_tool_for_identity(name: str, email: str) -> str | None:
    """The AI tool behind a git identity, matched by exact email, GitHub noreply id or login."""
    lowered = email.strip().lower()
    if lowered in _BY_EMAIL:
        return _BY_EMAIL[lowered]
    noreply = markers.GITHUB_NOREPLY.match(lowered)
    if noreply:
        if noreply.group("id") and int(noreply.group("id")) in _BY_GITHUB_ID:
            return _BY_GITHUB_ID[int(noreply.group("id"))]
        tool = ai_tool_for_login(noreply.group("login"))
        if tool:
            return tool
    if markers.AIDER_AUTHOR_SUFFIX.search(name):
        return "Aider"
    bare = name.strip().lower()
    # A trailer that names a bot login without an email ("Reviewed-by: coderabbitai[bot]").
    if bare.endswith("[bot]"):
        return ai_tool_for_login(bare)
    return None


def is_ai_identity(name: str, email: str) -> bool:
    return ai_tool_for_identity(name, email) is not None


def is_ai_login(login: str) -> bool:
    return ai_tool_for_login(login) is not None


@dataclass(frozen=True)
class _CustomTrailer:
    key: str
    values: frozenset[str]
    tool: str


@dataclass
class _Config:
    trailers: tuple[_CustomTrailer, ...] = ()
    emails: frozenset[str] = frozenset()
    logins: frozenset[str] = frozenset()
    branches: tuple[str, ...] = ()
    labels: frozenset[str] = field(default_factory=lambda: frozenset(markers.DEFAULT_LABELS))
    body_patterns: tuple[UserPattern, ...] = ()
    # Authors recur across a history: their answer is remembered per policy.
    _identities: dict[tuple[str, str], str | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> _Config:
        patterns: list[UserPattern] = []
        for text in settings.get("body_patterns", []):
            try:  # the policy loader compiled every pattern already; this only guards direct callers
                patterns.append(user_regex(text, multiline=True))
            except PatternError as exc:
                raise PolicyError(f"settings.ai.body_patterns: {text!r} is not a usable regular expression ({exc})") from None
        return cls(
            trailers=tuple(
                _CustomTrailer(t["key"].lower(), frozenset(v.lower() for v in t.get("values", [])), t.get("tool") or t["key"])
                for t in settings.get("trailers", [])
            ),
            emails=frozenset(e.lower() for e in settings.get("emails", [])),
            logins=frozenset(login.lower() for login in settings.get("logins", [])),
            branches=tuple(settings.get("branches", [])),
            labels=frozenset(markers.DEFAULT_LABELS) | {label.lower() for label in settings.get("labels", [])},
            body_patterns=tuple(patterns),
        )

    def identity_tool(self, name: str, email: str) -> str | None:
        key = (name, email)
        if key in self._identities:
            return self._identities[key]
        tool = markers.UNKNOWN_TOOL if email.strip().lower() in self.emails else ai_tool_for_identity(name, email)
        if len(self._identities) >= _IDENTITY_MEMO:
            self._identities.clear()
        self._identities[key] = tool
        return tool

    def login_tool(self, login: str) -> str | None:
        if login.strip().lower() in self.logins:
            return markers.UNKNOWN_TOOL
        return ai_tool_for_login(login)


_IDENTITY_MEMO = 20_000
_config_for = once_per_settings(_Config.from_settings)


@dataclass(frozen=True)
class _Hit:
    kind: str
    tool: str
    detail: str
    location: Location
    confidence: Confidence
    trust: Trust = Trust.DECLARED


class AiDetector:
    name = "ai"
    speaks_to = EVERY_CHANGE
    reads = NO_CONTENT
    config_schema: Mapping[str, Any] | None = {
        "type": "object",
        "additionalProperties": False,
        "description": "extra AI markers, added to the built-in ones",
        "properties": {
            "trailers": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["key"],
                    "properties": {
                        "key": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9-]*$"},
                        "values": {**_STRINGS, "description": "accepted values (any value when absent)"},
                        "tool": {"type": "string", "minLength": 1},
                    },
                },
            },
            "emails": {**_STRINGS, "description": "commit author or co-author emails of AI agents"},
            "logins": {**_STRINGS, "description": "GitHub logins of AI agents"},
            "branches": {**_STRINGS, "description": "branch-name globs agents push to"},
            "labels": {**_STRINGS, "description": "PR labels that declare AI assistance"},
            "body_patterns": regexes("regular expressions (RE2 syntax) for PR-body disclosures"),
        },
    }

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        config = _config_for(settings)
        hits: list[_Hit] = []
        for commit in change.commits:
            hits.extend(_commit_hits(commit, config))
        hits.extend(_branch_hits(change, config))
        if change.pull_request is not None:
            hits.extend(_pull_request_hits(change.pull_request, config))
        return _merge(hits)


GITHUB_COMMITTER_EMAIL = "noreply@github.com"  # GitHub itself committing (web edits, merges): not a person


def agent_wrote_it(commit: Commit, authors: set[str]) -> str | None:
    """Why a claim inside this commit (a Reviewed-by, a Tested-by) is the agent's or its operator's, or None.

    An AI-assisted commit that nobody else committed was written, trailers included, by the agent
    or the person running it. Someone else committing it (a maintainer applying the patch, as in
    the kernel's workflow) is a sign another person handled it; GitHub committing it is not.
    Only the built-in AI markers are consulted: a detector reads no other detector's settings.
    """
    tool = next((hit.tool for hit in _commit_hits(commit, _BUILTIN_MARKERS)), None)
    if tool is None:
        return None
    committer = commit.committer
    email = committer.email.strip().lower()
    someone_else = (email not in authors and committer.name.strip().lower() not in authors
                    and email != GITHUB_COMMITTER_EMAIL and not is_ai_identity(committer.name, committer.email))
    if someone_else:
        return None
    label = "an AI-assisted" if tool == markers.UNKNOWN_TOOL else f"a {tool}-assisted"
    return f"it sits in {label} commit that nobody else committed: the agent or its operator wrote it"


def _commit_hits(commit: Commit, config: _Config) -> Iterator[_Hit]:
    sha = commit.sha[:12]
    author = commit.author
    # Only the author: a committer-only AI identity (aider committing the user's own edits,
    # a bot rebasing) says nothing about who wrote the code.
    tool = config.identity_tool(author.name, author.email)
    if tool:
        yield _Hit("agent-author", tool, f"commit {sha} is authored by {author.render()}",
                   Location(where=f"author of {sha}"), Confidence.HIGH)
    if markers.AIDER_SUBJECT_PREFIX.match(commit.subject):
        yield _Hit("aider-subject", "Aider", f"commit {sha} subject starts with 'aider:'",
                   Location(where=f"subject of {sha}", line=1), Confidence.MEDIUM)
    yield from _message_hits(commit.lines, config, lambda key: f"{key} of {sha}", skip_first_line=True,
                             trailers=commit.trailers, whole=commit.message)


def _message_hits(
    lines: Sequence[str], config: _Config, where: Any, *, skip_first_line: bool = False,
    trailers: Sequence[Trailer] | None = None, whole: str | None = None,
) -> Iterator[_Hit]:
    """Trailer and footer markers on any line of a commit message or PR body (``trailers``: those
    of ``lines`` when already parsed; ``whole``: the text the lines came from, to skip the footer search)."""
    if trailers is None:
        trailers = parse_trailer_lines(lines)
    trailers = [t for t in trailers if not (skip_first_line and t.line == 1)]
    keys = {t.key.lower() for t in trailers}
    for trailer in trailers:
        key = trailer.key.lower()
        text = f"{trailer.key}: {trailer.value}"
        location = Location(where=where(f"{trailer.key} trailer"), line=trailer.line)
        found = _trailer_marker(key, trailer.value, keys, config)
        if found:
            kind, tool, confidence = found
            yield _Hit(kind, tool, text, location, confidence)
        for custom in config.trailers:
            if key == custom.key and (not custom.values or trailer.value.lower() in custom.values):
                yield _Hit("custom-trailer", custom.tool, text, location, Confidence.HIGH)
    if whole is not None and not _FOOTER_HINT.search(whole):
        return  # every footer says "Generated with" or "Generated by"
    for number, line in enumerate(lines, start=1):
        footer = markers.FOOTER.match(line.strip())
        if footer:
            tool = markers.FOOTER_TOOLS[footer.group("tool").lower()]
            yield _Hit("footer", tool, line.strip(), Location(where=where("footer"), line=number), Confidence.HIGH)


def _trailer_marker(key: str, value: str, keys: set[str], config: _Config) -> tuple[str, str, Confidence] | None:
    if key == "co-authored-by":
        identity = _IDENTITY.match(value)
        tool = config.identity_tool(identity.group("name"), identity.group("email")) if identity else None
        return ("co-author-trailer", tool, Confidence.HIGH) if tool else None
    if key == markers.REPLIT_AUTHOR_KEY:
        known = markers.REPLIT_VALUES.get(value.strip().lower())
        if not known:
            return None
        tool, confidence = known
        if markers.REPLIT_SESSION_KEY in keys and confidence is not Confidence.HIGH:
            confidence = Confidence.MEDIUM if confidence is Confidence.LOW else Confidence.HIGH
        return "replit-trailer", tool, confidence
    for marker in markers.TRAILER_MARKERS:
        if key != marker.key:
            continue
        stripped = value.strip()
        if marker.values and stripped.lower() not in marker.values:
            return None
        if marker.value_pattern and not re.fullmatch(marker.value_pattern, stripped):
            return None
        if marker.tool:
            return "declared-trailer", marker.tool, marker.confidence
        identity = _IDENTITY.match(stripped)
        if identity and not config.identity_tool(identity.group("name"), identity.group("email")):
            return None  # a person credited with help, not a tool
        tool = _tool_named(stripped)
        confidence = marker.confidence
        if key == "generated-by" and tool != markers.UNKNOWN_TOOL:
            confidence = Confidence.HIGH
        return "declared-trailer", tool if tool != markers.UNKNOWN_TOOL else _free_text_tool(stripped), confidence
    return None


def _free_text_tool(value: str) -> str:
    """An unknown tool named in a trailer: its name without the model ("Zed:zeta-2" -> "Zed", kernel style)."""
    name = value.split(":", 1)[0] if ":" in value and "://" not in value else value
    return " ".join(name.split())[:60] or value[:60]


def _tool_named(value: str) -> str:
    for pattern, tool in markers.TOOL_NAMES:
        if pattern.search(value):
            return tool
    return markers.UNKNOWN_TOOL


def _branch_hits(change: Change, config: _Config) -> Iterator[_Hit]:
    names = [change.pull_request.head_ref] if change.pull_request and change.pull_request.head_ref else []
    if change.branch and change.branch not in names:
        names.append(change.branch)
    for branch in names:
        for pattern, tool, confidence in markers.BRANCHES:
            if pattern.match(branch):
                yield _Hit("branch", tool, f"branch {branch!r} is named the way {tool} names its branches",
                           Location(where="branch name"), confidence)
        if config.branches and glob_any(branch, config.branches):
            yield _Hit("branch", markers.UNKNOWN_TOOL, f"branch {branch!r} matches settings.ai.branches",
                       Location(where="branch name"), Confidence.MEDIUM)


def _pull_request_hits(pr: PullRequest, config: _Config) -> Iterator[_Hit]:
    for label in pr.labels:
        if label.lower() in config.labels:
            yield _Hit("label", markers.UNKNOWN_TOOL, f"PR label {label!r} declares AI assistance",
                       Location(where="PR labels"), Confidence.HIGH)
    if pr.author_login:
        tool = config.login_tool(pr.author_login)
        if tool:
            # author_type is only set when the PR came from GitHub itself, not from a CLI flag.
            trust = Trust.VERIFIED if pr.author_type else Trust.DECLARED
            yield _Hit("pr-author", tool, f"the pull request was opened by {pr.author_login}",
                       Location(where="PR author"), Confidence.HIGH, trust)
    body = (pr.body or "").replace("\r\n", "\n").replace("\r", "\n")
    if not body.strip():
        return
    for pattern, tool, confidence in markers.BODY_MARKERS:
        match = pattern.search(body)
        if match:
            yield _Hit("pr-body-marker", tool, f"the PR body carries {tool}'s marker {match.group(0)[:80]!r}",
                       _body_location(body, match.start()), confidence)
    for pattern in config.body_patterns:
        match = pattern.search(body)
        if match:
            yield _Hit("pr-body-pattern", markers.UNKNOWN_TOOL, f"the PR body matches {pattern.pattern!r}",
                       _body_location(body, match.start()), Confidence.HIGH)
    # Template comments often mention the markers they ask for; only visible text counts.
    visible = _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), body)
    yield from _message_hits(visible.split("\n"), config, lambda _key: "PR body")
    for match in markers.PROSE_DISCLOSURE.finditer(visible):
        if markers.PROSE_NEGATION.search(match.group(0)):
            continue
        tool = markers.prose_tool(match.group("tool"))
        yield _Hit("pr-body-disclosure", tool, f"the PR body says: {match.group(0).strip()[:120]!r}",
                   _body_location(visible, match.start()), Confidence.MEDIUM)


def _body_location(body: str, offset: int) -> Location:
    return Location(where="PR body", line=body.count("\n", 0, offset) + 1)


def _merge(hits: list[_Hit]) -> list[Evidence]:
    """One Evidence per kind of marker and tool, from its strongest occurrence, counting the rest."""
    groups: dict[tuple[str, str], list[_Hit]] = {}
    for hit in hits:
        groups.setdefault((hit.kind, hit.tool), []).append(hit)
    evidence: list[Evidence] = []
    for (kind, tool), group in groups.items():
        best = max(group, key=lambda h: (h.trust.rank, _CONFIDENCE_RANK[h.confidence]))
        vendor = markers.vendor_of(tool)
        attrs: dict[str, Any] = {"vendor": vendor} if vendor else {}
        if len(group) > 1:
            places = list(dict.fromkeys(h.location.render() for h in group))
            attrs.update(occurrences=len(group), locations=places[:20])
        item = Evidence(
            question=Question.AI_ASSISTED, kind=kind, supports=True, trust=best.trust, source="ai",
            detail=best.detail, location=best.location, subject=tool, confidence=best.confidence, attrs=attrs,
        )
        evidence.append(item)
    return evidence


_BUILTIN_MARKERS = _Config()
DETECTOR = AiDetector()
