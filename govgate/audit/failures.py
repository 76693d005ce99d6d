"""The change-failure signal: which audited changes were later reverted or fixed.

A change is *reverted* when a newer change says ``This reverts commit <sha>`` of one of its
commits (what ``git revert`` writes), or reverts its pull request (GitHub's ``Reverts owner/repo#N``
body, or a ``Revert "Title (#N)"`` subject). It is *fixed* when a newer change carries a
``Fixes: <sha>`` trailer (kernel style) naming one of its commits, or is a fix commit (a ``fix``,
``fixes``, ``fixed`` or ``fixup`` word) whose message names one of its commit ids.

The history streams newest first, so a reference is always seen before the change it names:
references wait in a map keyed by sha prefix (its size is the number of references, not of
commits; unresolved ones point outside the audited range) and are settled when the named change
streams past. A free-text token is only taken for a commit id when a commit of the range starts
with it, so numbers (dates, issue numbers) in fix messages cost nothing: 7 hex digits match one
commit of 50,000 by chance about once in 5,000 messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from govgate.model import Change

MAX_PENDING = 200_000  # references waiting for their change; past this, new ones are not recorded

_REVERTS_COMMIT = re.compile(r"this reverts commit ([0-9a-f]{7,40})\b", re.IGNORECASE)
_REVERTS_PR = re.compile(r"^\s*Reverts [\w.-]+/[\w.-]+#(\d+)\s*$", re.MULTILINE)
_REVERT_SUBJECT = re.compile(r'^Revert "(?P<inner>.*)"')
_INNER_PR = re.compile(r"(?:\(#(\d+)\)\s*$|^Merge pull request #(\d+) )")
_FIXES_TRAILER = re.compile(r"^\s*Fixes:\s*(?:commit\s+)?([0-9a-f]{7,40})\b", re.IGNORECASE | re.MULTILINE)
_FIX_WORD = re.compile(r"\bfix(?:e[sd]|up)?\b", re.IGNORECASE)
_HEX = re.compile(r"(?<![#\w])([0-9a-f]{7,40})(?!\w)", re.IGNORECASE)


@dataclass
class ChangeFacts:
    """What the audit learnt about one change from the rest of the history (and where it was found)."""

    reverted_by: list[str] = field(default_factory=list)  # ids of newer changes that revert it
    fixed_by: list[str] = field(default_factory=list)
    large_merge: bool = False  # a merge that brought in very many commits, judged as one change
    repository: str | None = None  # the audited repository's name, so that lines from many audits stay apart

    @property
    def reverted(self) -> bool:
        return bool(self.reverted_by)

    @property
    def fixed(self) -> bool:
        return bool(self.fixed_by)

    def to_dict(self) -> dict[str, Any]:
        return {"reverted_by": self.reverted_by, "fixed_by": self.fixed_by, "large_merge": self.large_merge,
                "repository": self.repository}


@dataclass
class ChangeRefs:
    """What the tracker needs of a change: its own ids, and the references it makes to older changes."""

    id: str
    shas: list[str]
    pull_request: int | None
    mentions: list[tuple[str, str]]  # ("revert" | "fix", lower-cased sha prefix), none of its own commits
    reverted_pulls: list[int]  # pull requests it reverts, not its own

    def values(self) -> list[Any]:
        return [self.id, self.shas, self.pull_request, self.mentions, self.reverted_pulls]

    @classmethod
    def from_values(cls, values: list[Any]) -> ChangeRefs:
        change_id, shas, number, mentions, pulls = values
        return cls(change_id, shas, number, [tuple(m) for m in mentions], pulls)  # type: ignore[misc]


def references_of(change: Change) -> ChangeRefs:
    own = [c.sha for c in change.commits]
    number = change.pull_request.number if change.pull_request else None
    mentions = []
    for kind, sha in _mentions(change):
        sha = sha.lower()
        if not any(o.startswith(sha) for o in own):  # a commit of the same change is not a later failure
            mentions.append((kind, sha))
    pulls = [n for n in _reverted_pulls(change) if number != n]
    return ChangeRefs(change.id, own, number, mentions, pulls)


@dataclass(frozen=True)
class Reference:
    kind: str  # "revert" | "fix"
    by: str  # the id of the change that made the reference


_START = 7  # every sha a message can name has at least 7 hex digits (the patterns above)


class FailureTracker:
    def __init__(self) -> None:
        # Waiting references by their first 7 hex digits: one lookup per commit of a change, however
        # many prefix lengths messages used (git/git's use 30). Each entry keeps its prefix and a serial.
        self._by_start: dict[str, list[tuple[str, int, Reference]]] = {}
        self._length_rank: dict[int, int] = {}  # prefix length -> order first seen: the order references settle in
        self._serial = 0
        self._by_pull: dict[int, list[Reference]] = {}
        self.pending = 0
        self.dropped = 0

    def observe(self, refs: ChangeRefs) -> ChangeFacts:
        """Settle references to this change, then remember the ones it makes to older changes."""
        facts = ChangeFacts()
        for reference in self._references_to(refs):
            target = facts.reverted_by if reference.kind == "revert" else facts.fixed_by
            if reference.by not in target:
                target.append(reference.by)
        self._remember(refs)
        return facts

    def _references_to(self, refs: ChangeRefs) -> Iterable[Reference]:
        found: list[tuple[int, int, int, Reference]] = []
        for index, sha in enumerate(refs.shas):
            waiting = self._by_start.get(sha[:_START])
            if not waiting:
                continue
            keep = []
            for prefix, serial, reference in waiting:
                if sha.startswith(prefix):
                    found.append((self._length_rank[len(prefix)], index, serial, reference))
                else:
                    keep.append((prefix, serial, reference))
            self.pending -= len(waiting) - len(keep)
            if keep:
                self._by_start[sha[:_START]] = keep
            else:
                del self._by_start[sha[:_START]]
        found.sort(key=lambda item: item[:3])  # by prefix length as first seen, then commit, then arrival
        yield from (reference for *_, reference in found)
        number = refs.pull_request
        if number is not None and number in self._by_pull:
            found_pulls = self._by_pull.pop(number)
            self.pending -= len(found_pulls)
            yield from found_pulls

    def _remember(self, refs: ChangeRefs) -> None:
        for kind, sha in refs.mentions:
            self._wait_for(sha, Reference(kind, refs.id))
        for number in refs.reverted_pulls:
            self._add(self._by_pull.setdefault(number, []), Reference("revert", refs.id))

    def _wait_for(self, prefix: str, reference: Reference) -> None:
        self._length_rank.setdefault(len(prefix), len(self._length_rank))
        if self.pending >= MAX_PENDING:
            self.dropped += 1
            return
        waiting = self._by_start.setdefault(prefix[:_START], [])
        if any(p == prefix and r == reference for p, _, r in waiting):
            return
        self._serial += 1
        waiting.append((prefix, self._serial, reference))
        self.pending += 1

    def _add(self, bucket: list[Reference], reference: Reference) -> None:
        if self.pending >= MAX_PENDING:
            self.dropped += 1
            return
        if reference not in bucket:
            bucket.append(reference)
            self.pending += 1


def _mentions(change: Change) -> Iterable[tuple[str, str]]:
    for commit in change.commits:
        message = commit.message
        # Most messages name nothing: for ASCII text (where ignoring case is lower-casing) plain
        # substring tests skip the case-insensitive regexes, which scan every character.
        lowered = message.lower() if message.isascii() else None
        reverted = _REVERTS_COMMIT.findall(message) if lowered is None or "this reverts commit" in lowered else []
        for sha in reverted:
            yield "revert", sha
        fixes = _FIXES_TRAILER.findall(message) if lowered is None or "fixes:" in lowered else []
        for sha in fixes:
            yield "fix", sha
        if (lowered is None or "fix" in lowered) and _FIX_WORD.search(message):
            named = {s.lower() for s in (*reverted, *fixes)}
            for sha in _HEX.findall(message):
                if sha.lower() not in named:
                    yield "fix", sha


def _reverted_pulls(change: Change) -> Iterable[int]:
    for commit in change.commits:
        for number in _REVERTS_PR.findall(commit.message) if "Reverts " in commit.message else ():
            yield int(number)
        match = _REVERT_SUBJECT.match(commit.subject)
        if match:
            inner = _INNER_PR.search(match.group("inner"))
            if inner:
                yield int(inner.group(1) or inner.group(2))
