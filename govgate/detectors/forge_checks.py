"""What the detectors that read a forge's checks or jobs share (``github_checks``, ``gitlab_pipeline``):
their settings, and the one finding on "CI passed" for the whole head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govgate.model import Evidence, Location, Question, Severity, Trust, glob_any

PASSING = frozenset({"success", "neutral", "skipped"})  # conclusions that do not stand in the way of "CI passed"

GLOBS: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}}
IGNORE_SETTING: dict[str, Any] = {**GLOBS, "description": "check or job names (globs) to leave out entirely"}
FAILURE_SEVERITY_SETTING: dict[str, Any] = {
    "enum": ["error", "warning"],
    "description": "how a failure counts: error fails tested requirements (default), warning only shows",
}


def ignored(name: str, settings: Mapping[str, Any]) -> bool:
    """Whether the settings' ``ignore`` globs leave this check or job out entirely."""
    return glob_any(name, settings.get("ignore", ()))


def failure_severity(settings: Mapping[str, Any]) -> Severity:
    return Severity(settings.get("failure_severity", Severity.ERROR))


def checks_schema(**extra: Any) -> dict[str, Any]:
    """The settings block of a check-reading detector: ``ignore``, ``failure_severity`` and its own keys."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {"ignore": IGNORE_SETTING, "failure_severity": FAILURE_SEVERITY_SETTING, **extra},
    }


def whole_head(conclusions: Sequence[tuple[str, str]], *, source: str, where: str, noun: str = "check") -> list[Evidence]:
    """One finding on "CI passed" from the counted (name, conclusion) pairs ("" while pending): every one
    completed successfully (success, or neutral/skipped), or what stands in the way."""
    if not conclusions:
        return []
    pending = [name for name, conclusion in conclusions if not conclusion]
    unsettled = [f"{name} ({conclusion})" for name, conclusion in conclusions if conclusion and conclusion not in PASSING]
    location = Location(where=where)
    if not pending and not unsettled and any(conclusion == "success" for _, conclusion in conclusions):
        return [Evidence(question=Question.TESTED, kind="ci-passed", supports=True, trust=Trust.VERIFIED, source=source,
                         detail=f"every {noun} on the head commit completed successfully ({len(conclusions)} counted)",
                         location=location, facets=frozenset({"ci_passed"}),
                         attrs={"checks": sorted({name for name, _ in conclusions})})]
    parts = ([f"pending: {', '.join(pending)}"] if pending else []) + ([f"not successful: {', '.join(unsettled)}"]
                                                                          if unsettled else [])
    reason = "; ".join(parts) or f"no {noun} succeeded"
    return [Evidence(question=Question.TESTED, kind="ci-not-passed", supports=True, trust=Trust.VERIFIED, source=source,
                     detail=f"CI has not passed on the head commit yet ({reason})", location=location,
                     discounted=f"not every {noun} completed successfully", attrs={"pending": bool(pending)})]
