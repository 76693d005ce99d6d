"""Review claims in commit messages: Reviewed-by/Acked-by/Approved-by, Gerrit, Phabricator.

All of it is ``declared``: the change's author wrote these lines. The author reviewing
themself and AI identities never count, nor does a trailer inside an AI-assisted commit that
nobody else committed: the agent or its operator typed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from govgate.detectors.ai import agent_wrote_it, is_ai_identity
from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.model import Change, Commit, Confidence, Evidence, Location, Question, Trust

_REVIEW_KEYS = {"reviewed-by": "Reviewed-by", "acked-by": "Acked-by", "approved-by": "Approved-by"}
_IDENTITY = re.compile(r"^(?P<name>[^<]*?)\s*<(?P<email>[^>]+)>")
_PHABRICATOR = re.compile(r"^Differential Revision:\s*(\S+)", re.IGNORECASE)


class ReviewTrailerDetector:
    name = "review_trailers"
    speaks_to = EVERY_CHANGE
    reads = NO_CONTENT
    config_schema: Mapping[str, Any] | None = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "keys": {
                "type": "array",
                "items": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9-]*$"},
                "description": "trailer keys that record a review (default Reviewed-by, Acked-by, Approved-by)",
            },
        },
    }

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        keys = {k.lower(): k for k in settings.get("keys", [])} or _REVIEW_KEYS
        authors = change.author_identities
        for commit in change.commits:
            yield from self._trailers(commit, keys, authors)
            yield from self._review_systems(commit)

    def _trailers(self, commit: Commit, keys: Mapping[str, str], authors: set[str]) -> Iterable[Evidence]:
        reviewed_on = any(t.key.lower() == "reviewed-on" for t in commit.trailers)
        agent_written = agent_wrote_it(commit, authors) if any(t.key.lower() in keys for t in commit.trailers) else None
        for trailer in commit.trailers:
            if trailer.key.lower() not in keys:
                continue
            match = _IDENTITY.match(trailer.value)
            name = (match.group("name") if match else trailer.value).strip()
            email = (match.group("email") if match else "").strip().lower()
            where = Location(where=f"{trailer.key} trailer of {commit.sha[:12]}", line=trailer.line)
            text = f"{trailer.key}: {trailer.value}"
            if is_ai_identity(name, email):
                yield _evidence(True, "review-by-ai", text, where, subject=email or name,
                                discounted="an AI agent's review is not a human review")
                continue
            if (email and email in authors) or name.lower() in authors:
                yield _evidence(True, "self-review", text, where, subject=email or name,
                                discounted="the change's own author cannot review it")
                continue
            if agent_written is not None:
                yield _evidence(True, "agent-written-review", text, where, subject=email or name.lower(),
                                discounted=agent_written)
                continue
            kind = "gerrit-review" if reviewed_on else "review-trailer"
            yield _evidence(True, kind, text, where, subject=email or name.lower(), facets=frozenset({"approval"}))

    def _review_systems(self, commit: Commit) -> Iterable[Evidence]:
        for number, line in enumerate(commit.lines, start=1):
            match = _PHABRICATOR.match(line.strip())
            if match:
                yield _evidence(
                    True, "phabricator-revision", f"reviewed in Phabricator: {match.group(1)}",
                    Location(where=f"Differential Revision of {commit.sha[:12]}", line=number),
                    subject=f"phabricator:{match.group(1)}", facets=frozenset({"approval"}),
                    confidence=Confidence.MEDIUM,
                )


def _evidence(
    supports: bool, kind: str, detail: str, where: Location, *, subject: str, facets: frozenset[str] = frozenset(),
    confidence: Confidence = Confidence.HIGH, discounted: str | None = None,
) -> Evidence:
    return Evidence(
        question=Question.REVIEWED, kind=kind, supports=supports, trust=Trust.DECLARED, source="review_trailers",
        detail=detail, location=where, facets=facets, subject=subject, confidence=confidence, discounted=discounted,
    )


DETECTOR = ReviewTrailerDetector()
