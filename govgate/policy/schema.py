"""The JSON Schema of a govgate policy: the single place its shape is defined.

The schema is strict (no unknown keys anywhere) because a misspelt requirement that is
silently ignored weakens the gate without anyone noticing. Detector settings are validated
by the schema fragment each detector publishes, merged in under ``settings``.
"""

from __future__ import annotations

from typing import Any

from govgate.memory.schema import FRAGILITY_LEVELS
from govgate.model import Severity
from govgate.project import POLICY_SCHEMA_URL
from govgate.schema_parts import DATE, ID_PATTERN, STRINGS, path_globs

SEVERITIES = tuple(s.value for s in reversed(Severity))  # error, warning, info: strongest first
TRUST_LEVELS = ("verified", "declared", "inferred")
RISK_LEVELS = ("low", "medium", "high")
CONFIDENCES = ("high", "medium", "low")

# Requirement facets per question: the names a policy may require and detectors may emit.
FACETS: dict[str, tuple[str, ...]] = {
    "reviewed": ("approval", "approval_on_head", "codeowner_approval"),
    "tested": ("tests_changed", "ci_passed", "test_plan", "tested_by"),
    "rollout": ("gradual", "flagged", "plan"),
    "rollback": ("reversible_migrations", "revert_path", "plan"),
}
# Facets that only the forge or the pull request's description supply (reviews, checks, written
# plans): they can still arrive after a push, so a pre-push judgement leaves them to the PR's gate.
AFTER_PUSH_FACETS: frozenset[str] = frozenset(
    {"approval", "approval_on_head", "codeowner_approval", "ci_passed", "test_plan", "plan"}
)

_STRING_OR_STRINGS = {"oneOf": [{"type": "string", "minLength": 1}, STRINGS]}
_NON_BLANK = {"type": "string", "minLength": 1, "pattern": r"\S"}


# A waiver names one change: a pull request, or its head commit by at least this many hex digits.
# Seven digits (git's short sha) can be ground to a chosen prefix in under a minute on one core;
# twelve take 16^5 = a million times longer.
MIN_WAIVER_SHA_PREFIX = 12
WAIVER_TARGET = {
    "type": "string",
    "pattern": rf"^(#[1-9][0-9]*|[0-9a-fA-F]{{{MIN_WAIVER_SHA_PREFIX},64}})$",
    "description": f"a waiver binds to one change: '#N' (a pull request), the full head sha, or at least "
                   f"{MIN_WAIVER_SHA_PREFIX} hex digits of the head commit",
}
_MOMENT = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$",
           "description": "a date and time, e.g. 2026-12-18T18:00 (in the window's timezone) or with an offset"}
# A requirement that is no governance question: a frozen change passes only through the emergency path.
FREEZE_REQUIREMENT = "freeze"


def _requirement(question: str) -> dict[str, Any]:
    facets = FACETS[question]
    alternative = {
        "oneOf": [
            {"enum": list(facets)},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["facet", "together_with"],
                "description": "{facet: F, together_with: {QUESTION: REQUIREMENT}} (F counts only when those are met too)",
                "properties": {"facet": {"enum": list(facets)}, "together_with": {"$ref": "#/$defs/require"}},
            },
        ]
    }
    properties: dict[str, Any] = {
        "trust": {"enum": list(TRUST_LEVELS), "description": "weakest trust level that counts"},
        "any_of": {"type": "array", "items": alternative, "minItems": 1},
        "allow_warnings": {"type": "boolean", "description": "warning-level red flags do not fail"},
        "no_red_flags": {"type": "boolean", "description": "fail only on red flags; no evidence is required"},
    }
    properties.update({facet: {"type": "boolean"} for facet in facets})
    if question == "reviewed":
        properties.update(
            approvals={"type": "integer", "minimum": 1},
            on_head={"type": "boolean"},
            codeowners={"type": "boolean"},
            by_knowers={"type": "integer", "minimum": 1,
                        "description": "approvals by people the organisational memory names for the touched paths"},
        )
    if question == "tested":
        properties["checks"] = STRINGS
    return {"type": "object", "additionalProperties": False, "properties": properties}


def _forge_api(**extra: Any) -> dict[str, Any]:
    """How a forge source reads its API: fail closed (default) or open, and the time bound."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "on_api_error": {"enum": ["fail_closed", "fail_open"]},
            "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
            **extra,
        },
    }


def policy_schema(detector_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    settings_properties = dict(detector_settings or {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": POLICY_SCHEMA_URL,
        "title": "govgate policy",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "rules"],
        "properties": {
            "version": {"const": 1},
            "extends": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "ai_assisted": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"min_confidence": {"enum": list(CONFIDENCES)}},
            },
            "risk": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "medium": {"type": "number", "minimum": 0},
                    "high": {"type": "number", "minimum": 0},
                },
            },
            "inspection": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"accept_too_large": path_globs(
                    "files whose contents may go uninspected past the inspection limits (4 MiB, 100,000 lines): "
                    "said in the verdict's notes instead of making it incomplete")},
            },
            "github": _forge_api(),
            "gitlab": _forge_api(api_url={
                "type": "string", "pattern": "^https?://[^/?#@]+(/[^?#]*)?$",
                "description": "the GitLab API (https://HOST/api/v4); overrides CI_API_V4_URL, which the "
                               "merge request's own .gitlab-ci.yml could redefine",
            }),
            "settings": {
                "type": "object",
                "additionalProperties": False,
                "properties": settings_properties,
            },
            "memory": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"file": {"type": "string", "minLength": 1,
                                        "description": "the memory file, read from the base revision (default .govgate/memory.yml)"}},
            },
            "freezes": {"$ref": "#/$defs/freezes"},
            "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            "waivers": {"type": "array", "items": {"$ref": "#/$defs/waiver"}},
        },
        "$defs": {
            "rule": {
                "type": "object",
                "additionalProperties": False,
                # A rule without requirements would pass every change: `require` is not optional.
                "required": ["id", "require"],
                "properties": {
                    "id": {"type": "string", "pattern": ID_PATTERN},
                    "description": {"type": "string"},
                    "message": {"type": "string"},
                    "severity": {"enum": list(SEVERITIES)},
                    "when": {"$ref": "#/$defs/when"},
                    "require": {"$ref": "#/$defs/rule_require"},
                },
            },
            # A rule's requirements: the governance questions, and the freeze (never a companion of another).
            "rule_require": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {**{q: _requirement(q) for q in FACETS}, FREEZE_REQUIREMENT: _freeze_requirement()},
            },
            "require": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {q: _requirement(q) for q in FACETS},
            },
            "when": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "ai_assisted": {"type": "boolean"},
                    "paths": path_globs(),
                    "paths_ignore": path_globs(),
                    "labels": STRINGS,
                    "authors": STRINGS,
                    "branch": _STRING_OR_STRINGS,
                    "risk": {
                        "oneOf": [
                            {"enum": list(RISK_LEVELS)},
                            {"type": "array", "items": {"enum": list(RISK_LEVELS)}, "minItems": 1},
                        ]
                    },
                    "policy_changed": {"type": "boolean"},
                    "forge": {
                        "type": "boolean",
                        "description": "true: the change was read from a forge (GitHub) whose API supplied verified "
                                       "data; false: judged offline (a local range, an audit without --github)",
                    },
                    "fragile": {
                        "oneOf": [{"type": "boolean"}, {"enum": list(FRAGILITY_LEVELS)}],
                        "description": "true: touches a path the memory marks fragile; a level: at least that fragile",
                    },
                    "frozen": {"type": "boolean", "description": "inside a freeze window that applies to the change"},
                },
            },
            **freeze_definitions(),
            "waiver": {
                "type": "object",
                "additionalProperties": False,
                "required": ["rule", "change", "reason", "approved_by", "expires"],
                "properties": {
                    "rule": _NON_BLANK,
                    "change": WAIVER_TARGET,
                    "reason": _NON_BLANK,
                    "approved_by": _NON_BLANK,
                    "expires": DATE,
                },
            },
        },
    }


def _freeze_requirement() -> dict[str, Any]:
    return {
        "type": "object", "additionalProperties": False, "required": ["emergency"],
        "properties": {"emergency": {"const": True, "description": "only the emergency path lets a frozen change through"}},
    }


def freeze_definitions() -> dict[str, Any]:
    from govgate.policy.freeze import DURATION_PATTERN

    duration = {"type": "string", "pattern": DURATION_PATTERN, "description": "e.g. 62h, 2d, 1d12h, 90m"}
    login = {"type": "string", "pattern": r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$"}
    return {
        "freezes": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "windows": {"type": "array", "items": {"$ref": "#/$defs/freeze_window"}},
                "emergency": {
                    "type": "object", "additionalProperties": False, "required": ["label", "approvers"],
                    "properties": {
                        "label": {"type": "string", "minLength": 1},
                        "approvers": {"type": "array", "items": login, "minItems": 1},
                        "approvals": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
        "freeze_window": {
            "type": "object", "additionalProperties": False, "required": ["id"],
            "properties": {
                "id": {"type": "string", "pattern": ID_PATTERN},
                "description": {"type": "string"},
                "timezone": {"type": "string", "minLength": 1, "description": "IANA zone, e.g. Europe/Berlin (default UTC)"},
                "start": _MOMENT,
                "end": _MOMENT,
                "cron": {"type": "string", "minLength": 1, "description": "five-field cron start, e.g. '0 18 * * FRI'"},
                "duration": duration,
                "end_cron": {"type": "string", "minLength": 1},
                "release": {
                    "type": "object", "additionalProperties": False, "required": ["planned", "tag"],
                    "properties": {"planned": _MOMENT, "tag": {"type": "string", "minLength": 1}},
                },
                "before": duration,
                "after": duration,
                "paths": path_globs(),
                "emergency": {"type": "boolean", "description": "false: no emergency path out of this window"},
                "ai_assisted": {
                    "type": "object", "additionalProperties": False,
                    "properties": {"only": {"type": "boolean"}, "before": duration, "after": duration,
                                   "emergency": {"type": "boolean"}},
                },
            },
        },
    }
