"""The JSON Schema of the memory file: the single place its shape is defined.

As strict as the policy's: an unknown key is an error, because a misspelt ``fragile`` or ``knows``
that is silently ignored would drop a protection without anyone noticing.
"""

from __future__ import annotations

from typing import Any

from govgate.model import Fragility, KnowledgeStatus
from govgate.schema_parts import DATE, ID_PATTERN, STRINGS, path_globs

FRAGILITY_LEVELS = tuple(level.value for level in Fragility)
# @login, @org/team, or an email address. A bare name could be anyone: it is refused.
KNOWER_PATTERN = (r"^(@[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?(?:/[A-Za-z0-9][A-Za-z0-9._-]*)?"
                  r"|[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+)$")


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
                    "id": {"type": "string", "pattern": ID_PATTERN,
                           "description": "letters, digits, '.', '_' and '-', starting with a letter or digit"},
                    "paths": {**path_globs("path globs (** spans folders)"), "minItems": 1},
                    "why": {"type": "string", "description": "why it looks the way it does, and what breaks"},
                    "fragile": {"enum": list(FRAGILITY_LEVELS)},
                    "knows": {"type": "array", "items": {"type": "string", "pattern": KNOWER_PATTERN,
                                                         "description": "write @login, @org/team or an email address"},
                              "description": "people who know it: @login, @org/team or an email address"},
                    "depends_on": {**STRINGS, "description": "paths or services that break with it"},
                    "links": {**STRINGS, "description": "incidents, runbooks, design notes"},
                    "reviewed": {**DATE, "description": "when people last confirmed this entry (YYYY-MM-DD)"},
                    "mined": {"$ref": "#/$defs/mined"},
                },
            },
            "mined": {
                "type": "object",
                "additionalProperties": False,
                "description": "facts written by `govgate memory suggest` from history; rewritten on every run",
                "properties": {
                    "as_of": DATE,
                    "changes": {"type": "integer", "minimum": 0},
                    "reverted_or_fixed": {"type": "integer", "minimum": 0},
                    "brittleness": {"type": "number", "minimum": 0, "maximum": 1},
                    "status": {"enum": [s.value for s in KnowledgeStatus]},
                    "knowers": STRINGS,
                    "departed": STRINGS,
                    "last_change": DATE,
                },
            },
        },
    }
