"""Settings shared by the detectors that read a forge's checks or jobs (``github_checks``, ``gitlab_pipeline``)."""

from __future__ import annotations

from typing import Any

IGNORE_SETTING: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "minLength": 1},
    "description": "check or job names (globs) to leave out entirely",
}
FAILURE_SEVERITY_SETTING: dict[str, Any] = {
    "enum": ["error", "warning"],
    "description": "how a failure counts: error fails tested requirements (default), warning only shows",
}


def checks_schema(**extra: Any) -> dict[str, Any]:
    """The settings block of a check-reading detector: ``ignore``, ``failure_severity`` and its own keys."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {"ignore": IGNORE_SETTING, "failure_severity": FAILURE_SEVERITY_SETTING, **extra},
    }
