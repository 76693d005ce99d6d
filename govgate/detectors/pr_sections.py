"""Written plans: "Test plan", "Rollout plan" and "Rollback plan" sections of the PR body and commit messages.

A section counts only when something is written in it once template noise is removed: HTML
comments, unticked checkboxes, empty "Label:" lines and placeholders such as "N/A" (prior art:
sourcegraph's dev/pr-auditor/check.go strips ``<!-- -->`` and requires the rest to be non-empty).
Ticked boxes ("- [x] Rollback plan documented") are claims without content: they count at low
confidence. Everything here is ``declared``: the change's author wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from govgate.detectors.per_settings import once_per_settings
from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.model import Change, Confidence, Evidence, Location, Question, Trust


@dataclass(frozen=True)
class _Kind:
    question: Question
    facet: str
    label: str  # how the detail names it


TEST_PLAN = _Kind(Question.TESTED, "test_plan", "test plan")
ROLLOUT_PLAN = _Kind(Question.ROLLOUT, "plan", "rollout plan")
ROLLBACK_PLAN = _Kind(Question.ROLLBACK, "plan", "rollback plan")

# Normalised heading -> what it plans (see _normalise). Sources: sourcegraph ("Test plan", older
# "Testing plan:"), Phabricator ("Test Plan:", aliases Testplan, Tested, Tests), GitLab ("How to set
# up and validate locally", "Rollout Steps", "Rollback Steps"), goldenpath-idp ("Risk & Rollback"),
# and the common GitHub template question "How has this been tested?".
DEFAULT_HEADINGS: dict[str, tuple[_Kind, ...]] = {
    **dict.fromkeys((
        "test plan", "testing plan", "testplan", "tested", "tests", "testing", "test evidence", "testing done",
        "how to set up and validate locally", "how has this been tested", "how was this tested", "how to test",
        "testing and validation", "testing validation", "test and validation", "verification", "validation",
    ), (TEST_PLAN,)),
    **dict.fromkeys((
        "rollout plan", "rollout", "rollout steps", "rollout strategy", "deployment plan", "deploy plan",
    ), (ROLLOUT_PLAN,)),
    **dict.fromkeys((
        "rollback plan", "rollback", "rollback steps", "rollback strategy", "rollback procedure", "risk and rollback",
        "revert plan", "backout plan", "back out plan",
    ), (ROLLBACK_PLAN,)),
    **dict.fromkeys((
        "rollout and rollback", "rollout and rollback plan", "rollout rollback", "deployment and rollback plan",
    ), (ROLLOUT_PLAN, ROLLBACK_PLAN)),
}

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_FENCES = ("```", "~~~")
_ATX = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.*?)\s*#*\s*$")
_BOLD = re.compile(r"^(?:\*\*|__)(?P<title>[^*_].*?)(?:\*\*|__)\s*:?\s*(?P<rest>.*)$")
# "Test Plan: ran it" (Phabricator, sourcegraph's old "Testing plan:"): known keys only, capitalised,
# so a conventional-commit "tests: fix flake" is not a heading.
_KEY = re.compile(r"^(?P<title>[A-Z][A-Za-z /&?-]{2,60}?)\s*:\s*(?P<rest>.*)$")
# Another field ("Reviewers: alice", "I have tested on:") after a blank line ends a Key: section.
_LABEL = re.compile(r"^[A-Z][\w ,'/()&?-]{0,50}:(?:\s.*)?$")
_CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[(?P<mark>[ xX])\]\s*(?P<text>.*)$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_EMPTY_LABEL = re.compile(r"^[^:]{1,60}:$")  # "Rollback notes/link:" with nothing after it
_ONLY_TAGS = re.compile(r"^(?:<[^>]*>\s*)+$")
_PLACEHOLDERS = frozenset({
    "", "n/a", "na", "none", "tbd", "todo", "-", "--", "---", "...", "…", "if applicable", "(if applicable)",
    "optional", "(optional)", "paste below", "describe your test plan", "add your test plan here",
})
# A section that only says there is no plan ("N/A: docs only", "Not tested.", "None needed").
_NO_PLAN = re.compile(
    r"^(?:n/?a|none(?: needed| required)?|nothing|untested|tbd|todo|not (?:tested|needed|applicable|required)"
    r"|no (?:tests?|testing|plan|rollout|rollback)(?: plan)?(?: (?:needed|required))?)\b\s*(?:[.:;,!()\u2013\u2014-].*)?$",
    re.IGNORECASE,
)
_NEGATIVE_BOX = re.compile(r"^(?:no|not|n/a|none)\b", re.IGNORECASE)
# Ticked boxes anywhere in the body that claim a plan, e.g. "- [x] Rollback plan documented".
_CLAIMS: tuple[tuple[re.Pattern[str], _Kind], ...] = (
    (re.compile(r"\b(?:roll ?back|revert|back ?out)\b.*\b(?:plan|steps|procedure|documented|tested)\b", re.I),
     ROLLBACK_PLAN),
    (re.compile(r"\b(?:rollout plan|canary|gradual rollout|staged rollout|phased rollout|feature flag)", re.I),
     ROLLOUT_PLAN),
    (re.compile(r"\b(?:tests? (?:added|updated|pass(?:ed|es)?)|tested|manual(?:ly)? test|(?:unit|integration|e2e) tests)",
                re.I), TEST_PLAN),
)
_CHROMIUM_TEST = re.compile(r"^Test:\s*(?P<value>.+)$")
_EXCERPT = 120


@dataclass
class _Section:
    kinds: tuple[_Kind, ...]
    title: str
    line: int  # 1-based line of the heading
    content: list[str] = field(default_factory=list)
    ticked: list[tuple[int, str]] = field(default_factory=list)
    end: int = 0  # 0-based index of the first line after the section


class PrSectionsDetector:
    name = "pr_sections"
    speaks_to = EVERY_CHANGE
    reads = NO_CONTENT
    config_schema: Mapping[str, Any] | None = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            key: {"type": "array", "items": {"type": "string", "minLength": 1},
                  "description": f"extra headings that hold a {label}, added to the defaults"}
            for key, label in (("test_plan", "test plan"), ("rollout_plan", "rollout plan"),
                               ("rollback_plan", "rollback plan"))
        },
    }

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        headings = _headings_for(settings)
        body = change.pr_body
        if body and body.strip():
            yield from _evidence_for(_lines(body), headings, "PR body", first_line=0)
        for commit in change.commits:
            where = f"commit message of {commit.sha[:12]}"
            # The subject is a title, never a section ("Tests: fix flaky timeout").
            yield from _evidence_for(_lines(commit.message), headings, where, first_line=1)
            yield from _chromium_test_footer(commit.lines, commit.sha[:12])


@once_per_settings
def _headings_for(settings: Mapping[str, Any]) -> dict[str, tuple[_Kind, ...]]:
    """The known headings with the policy's own."""
    headings = dict(DEFAULT_HEADINGS)
    for key, kind in (("test_plan", TEST_PLAN), ("rollout_plan", ROLLOUT_PLAN), ("rollback_plan", ROLLBACK_PLAN)):
        for title in settings.get(key, []):
            normal = _normalise(title)
            headings[normal] = (*headings.get(normal, ()), kind)
    return headings


def _lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<!--" not in text:
        return text.split("\n")
    # Blank out comments but keep their line breaks, so line numbers stay those of the original.
    return _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")


@lru_cache(maxsize=4096)  # titles repeat: trailer keys, template headings
def _normalise(title: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", title.strip().strip("*_").lower())
    text = text.replace("&", " and ").replace("/", " ")
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text).split())


def parse_sections(lines: Sequence[str], headings: Mapping[str, tuple[_Kind, ...]], first_line: int = 0) -> list[_Section]:
    """The plan sections in ``lines`` (comments already blanked), with their cleaned content."""
    marks: list[tuple[int, str, int, str, str]] = []  # (index, style, level, title, inline rest)
    in_fence = False
    for index in range(first_line, len(lines)):
        text = lines[index].strip()
        if text.startswith(_FENCES):
            in_fence = not in_fence
            continue
        if in_fence or not text or text.startswith(">"):
            continue
        # Each pattern is tried only where its first character allows a match (most lines allow none).
        first = text[0]
        atx = _ATX.match(text) if first == "#" else None
        bold = _BOLD.match(text) if first in "*_" else None
        key_like = "A" <= first <= "Z" and ":" in text
        key = _KEY.match(text) if key_like else None
        if atx:
            marks.append((index, "atx", len(atx.group("hashes")), atx.group("title"), ""))
        elif bold and (not bold.group("rest") or _normalise(bold.group("title")) in headings):
            marks.append((index, "bold", 7, bold.group("title"), bold.group("rest")))
        elif key and _normalise(key.group("title")) in headings:
            marks.append((index, "key", 8, key.group("title"), key.group("rest")))
        elif key_like and _LABEL.match(text) and index > 0 and not lines[index - 1].strip():
            marks.append((index, "label", 9, "", ""))
    sections: list[_Section] = []
    for position, (index, style, level, title, rest) in enumerate(marks):
        kinds = headings.get(_normalise(title)) if style != "label" else None
        if not kinds:
            continue
        end = len(lines)
        for later_index, later_style, later_level, later_title, _ in marks[position + 1:]:
            known = later_style != "label" and _normalise(later_title) in headings
            if style == "atx":
                stops = (later_style == "atx" and later_level <= level) or (later_style in ("bold", "key") and known)
            elif style == "bold":
                stops = later_style in ("atx", "bold") or (later_style == "key" and known)
            else:
                stops = later_style in ("atx", "bold", "label") or known
            if stops:
                end = later_index
                break
        section = _Section(kinds, title.strip().strip("*_: "), index + 1, end=end)
        _fill(section, [(index, rest)] + [(i, lines[i]) for i in range(index + 1, end)])
        sections.append(section)
    return sections


def _fill(section: _Section, numbered: list[tuple[int, str]]) -> None:
    """Keep what the author wrote: drop template boxes, empty labels and placeholders."""
    in_fence = False
    for index, raw in numbered:
        text = raw.strip()
        if text.startswith(_FENCES):
            in_fence = not in_fence
            section.content.append(text)
            continue
        if in_fence:
            section.content.append(text)
            continue
        box = _CHECKBOX.match(raw)
        if box:
            if box.group("mark") != " " and box.group("text").strip():
                section.ticked.append((index + 1, box.group("text").strip()))
            continue
        bold = _BOLD.match(text)
        if _ATX.match(text) or (bold and not bold.group("rest")):
            continue  # a sub-heading names a part of the plan; it is not the plan
        bare = _LIST_MARKER.sub("", text).strip("*_ ").strip()
        if bare.lower() in _PLACEHOLDERS or _EMPTY_LABEL.match(bare) or _ONLY_TAGS.match(bare):
            continue
        section.content.append(text)


def _evidence_for(
    lines: list[str], headings: Mapping[str, tuple[_Kind, ...]], where: str, first_line: int,
) -> Iterator[Evidence]:
    sections = parse_sections(lines, headings, first_line)
    found: set[_Kind] = set()
    empty: dict[_Kind, _Section] = {}
    for section in sections:
        claims = [(line, text) for line, text in section.ticked if not _NEGATIVE_BOX.match(text)]
        says_none = bool(section.content) and all(_NO_PLAN.match(_LIST_MARKER.sub("", t)) for t in section.content)
        for kind in section.kinds:
            if says_none:
                empty.setdefault(kind, section)
            elif section.content:
                excerpt = " ".join(section.content)[:_EXCERPT]
                found.add(kind)
                yield _evidence(kind, kind.label.replace(" ", "-"), f"{kind.label} in the {_place(where)}: {excerpt}",
                                Location(where=where, line=section.line), Confidence.HIGH,
                                {"heading": section.title, "excerpt": excerpt})
            elif claims:
                found.add(kind)
                ticked = "; ".join(text for _, text in claims)[:_EXCERPT]
                yield _evidence(kind, kind.label.replace(" ", "-") + "-checkbox",
                                f"{kind.label} claimed by ticked boxes under {section.title!r}: {ticked}",
                                Location(where=where, line=section.line), Confidence.LOW,
                                {"heading": section.title, "ticked": [text for _, text in claims]})
            else:
                empty.setdefault(kind, section)
    inside = {(line, kind) for s in sections for line, _ in s.ticked for kind in s.kinds}
    yield from _checkbox_claims(lines, where, found, inside)
    for kind, section in empty.items():
        if kind in found:
            continue
        found.add(kind)
        if section.content:
            said = " ".join(section.content)[:_EXCERPT]
            detail = f"{section.title!r} section in the {_place(where)} says there is none: {said}"
            why = "the section states that there is no plan"
        else:
            detail = f"{section.title!r} heading in the {_place(where)} is empty once template text is removed"
            why = "the section holds only template text (comments, unticked boxes, placeholders)"
        yield _evidence(kind, kind.label.replace(" ", "-") + "-empty", detail, Location(where=where, line=section.line),
                        Confidence.HIGH, {"heading": section.title, "empty": True}, discounted=why)


def _checkbox_claims(lines: list[str], where: str, found: set[_Kind], inside: set[tuple[int, _Kind]]) -> Iterator[Evidence]:
    """Ticked boxes outside a matching section, e.g. a "Rollback plan documented" box under "Rollout Plan"."""
    in_fence = False
    for index, raw in enumerate(lines):
        if "```" in raw or "~~~" in raw:
            if raw.strip().startswith(_FENCES):
                in_fence = not in_fence
        box = None if in_fence or "[" not in raw else _CHECKBOX.match(raw)
        if not box or box.group("mark") == " ":
            continue
        text = box.group("text").strip()
        if not text or _NEGATIVE_BOX.match(text):
            continue
        for pattern, kind in _CLAIMS:
            if kind in found or (index + 1, kind) in inside or not pattern.search(text):
                continue
            found.add(kind)
            yield _evidence(kind, kind.label.replace(" ", "-") + "-checkbox", f"ticked box in the {_place(where)}: {text}",
                            Location(where=where, line=index + 1), Confidence.LOW, {"ticked": [text]})


def _chromium_test_footer(lines: list[str], sha: str) -> Iterator[Evidence]:
    """Chromium's ``Test:`` footer counts only in the last paragraph (docs/contributing.md)."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 1 and lines[start - 1].strip():
        start -= 1
    for index in range(max(start, 1), end):
        match = _CHROMIUM_TEST.match(lines[index].strip())
        if match and match.group("value").strip().lower() not in _PLACEHOLDERS:
            value = match.group("value").strip()
            yield _evidence(TEST_PLAN, "test-footer", f"Test: footer of {sha}: {value[:_EXCERPT]}",
                            Location(where=f"Test footer of {sha}", line=index + 1), Confidence.MEDIUM,
                            {"excerpt": value[:_EXCERPT]})


def _place(where: str) -> str:
    return where if where == "PR body" else where.replace("commit message of", "message of commit")


def _evidence(
    kind: _Kind, name: str, detail: str, location: Location, confidence: Confidence, attrs: dict[str, Any],
    discounted: str | None = None,
) -> Evidence:
    return Evidence(
        question=kind.question, kind=name, supports=True, trust=Trust.DECLARED, source="pr_sections",
        detail=detail, location=location, facets=frozenset() if discounted else frozenset({kind.facet}), confidence=confidence,
        discounted=discounted, attrs=attrs,
    )


DETECTOR = PrSectionsDetector()
