"""The JSON Schema of the memory file: the single place its shape is defined.

As strict as the policy's: an unknown key is an error, because a misspelt ``fragile`` or ``knows``
that is silently ignored would drop a protection without anyone noticing.
"""

from __future__ import annotations

from typing import Any

from govgate.model import Fragility, KnowledgeStatus

FRAGILITY_LEVELS = tuple(level.value for level in Fragility)
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
# @login, @org/team, or an email address. A bare name could be anyone: it is refused.
KNOWER_PATTERN = (r"^(@[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?"
                  r"|[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+)$")
ENTRY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def memory_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "govgate organisational memory",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "entries"],
        "properties": {
            "version": {"const": 1},
            "description": {"type": "string"},
            "stale_after_days": {"type": "integer", "minimum": 1,
                                 "description": "entries whose `reviewed` date is older than this are reported as stale"},
            "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
        },
        "$defs": {
            "entry": {
                "type": "object",
                "additionalProperties": False,
                "required": ["paths"],
                "properties": {
                    "id": {"type": "string", "pattern": ENTRY_ID_PATTERN,
                           "description": "letters, digits, '.', '_' and '-', starting with a letter or digit"},
                    "paths": {**_STRINGS, "minItems": 1, "description": "path globs (** spans folders)"},
                    "why": {"type": "string", "description": "why it looks the way it does, and what breaks"},
                    "fragile": {"enum": list(FRAGILITY_LEVELS)},
                    "knows": {"type": "array", "items": {"type": "string", "pattern": KNOWER_PATTERN,
                                                         "description": "write @login, @org/team or an email address"},
                              "description": "people who know it: @login, @org/team or an email address"},
                    "depends_on": {**_STRINGS, "description": "paths or services that break with it"},
                    "links": {**_STRINGS, "description": "incidents, runbooks, design notes"},
                    "reviewed": {**_DATE, "description": "when people last confirmed this entry (YYYY-MM-DD)"},
                    "mined": {"$ref": "#/$defs/mined"},
                },
            },
            "mined": {
                "type": "object",
                "additionalProperties": False,
                "description": "facts written by `govgate memory suggest` from history; rewritten on every run",
                "properties": {
                    "as_of": _DATE,
                    "changes": {"type": "integer", "minimum": 0},
                    "reverted_or_fixed": {"type": "integer", "minimum": 0},
                    "brittleness": {"type": "number", "minimum": 0, "maximum": 1},
                    "status": {"enum": [s.value for s in KnowledgeStatus]},
                    "knowers": _STRINGS,
                    "departed": _STRINGS,
                    "last_change": _DATE,
                },
            },
        },
    }
