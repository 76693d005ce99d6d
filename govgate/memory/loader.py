"""Read a memory file: YAML with line numbers, strict schema validation, typed entries.

The YAML reading, the ``file:line: key: what was expected`` error wording and the validation
cache are the policy loader's, so both files report problems the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

from govgate.errors import MemoryFileError
from govgate.limits import MAX_MEMORY_BYTES
from govgate.memory.model import DEFAULT_STALE_AFTER_DAYS, Knower, Memory, MemoryEntry
from govgate.memory.schema import memory_schema
from govgate.model import Fragility
from govgate.policy.checks import duplicate_ids, pattern_problems, render_path
from govgate.policy.loader import YamlDocument, _describe, _load_yaml, _remember_valid, _remembered, _validation_key
from govgate.text_files import read_config_text

Positions = dict[tuple[Any, ...], int]
MEMORY_DOCUMENT = YamlDocument("memory file", "'version' and 'entries'", MemoryFileError,
                               "start one with `govgate memory init`")


def load_memory_file(path: Path) -> Memory:
    text = read_config_text(path, what="memory file", error=MemoryFileError, limit=MAX_MEMORY_BYTES,
                            missing_hint="start one with `govgate memory init`")
    return parse_memory(text, str(path))


def parse_memory(text: str, source: str) -> Memory:
    data, positions = read_yaml(text, source)
    key = _validation_key(text, schema="govgate-memory\0" + _schema_text())
    if not _remembered(key):
        validate(data, positions, source)
        _remember_valid(key)
    return build(data, positions, source)


@cache
def _schema_text() -> str:
    """The memory schema as JSON, for the validation cache's key (without the policy's: it imports every detector)."""
    return json.dumps(memory_schema(), sort_keys=True)


def read_yaml(text: str, source: str) -> tuple[dict[str, Any], Positions]:
    """The document and the line of every key, with the policy loader's limits and wording."""
    return _load_yaml(text, source, MEMORY_DOCUMENT)


def validate(data: dict[str, Any], positions: Positions, source: str) -> None:
    from jsonschema import Draft202012Validator

    schema = memory_schema()
    problems = [_describe(error, tuple(error.absolute_path), positions, source)
                for error in Draft202012Validator(schema).iter_errors(data)]
    problems += _semantic_problems(data, positions, source)
    problems += pattern_problems(data, positions, source, schema)
    if problems:
        problems.sort()
        raise MemoryFileError("\n".join(text for _, text in problems))


def _semantic_problems(data: dict[str, Any], positions: Positions, source: str) -> list[tuple[int, str]]:
    """What a schema cannot say: ids are unique, dates exist."""
    entries = data.get("entries")
    problems = duplicate_ids(entries, ("entries",), "entry", positions, source)
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        for where, value in (((index, "reviewed"), entry.get("reviewed")),
                             ((index, "mined", "as_of"), (entry.get("mined") or {}).get("as_of")),
                             ((index, "mined", "last_change"), (entry.get("mined") or {}).get("last_change"))):
            if isinstance(value, str) and _date(value) is None and len(value) == 10:
                line = positions.get(("entries", *where), 0)
                problems.append((line, f"{source}:{line}: {render_path(('entries', *where))}: {value!r} is not a calendar date"))
    return problems


def build(data: dict[str, Any], positions: Positions, source: str) -> Memory:
    entries = tuple(
        MemoryEntry(
            paths=tuple(raw["paths"]),
            id=raw.get("id"),
            why=(raw.get("why") or "").strip(),
            fragile=Fragility(raw["fragile"]) if raw.get("fragile") else None,
            knows=tuple(Knower.parse(k) for k in raw.get("knows") or ()),
            depends_on=tuple(raw.get("depends_on") or ()),
            links=tuple(raw.get("links") or ()),
            reviewed=_date(raw["reviewed"]) if raw.get("reviewed") else None,
            mined=dict(raw.get("mined") or {}),
            line=positions.get(("entries", index)),
        )
        for index, raw in enumerate(data.get("entries") or [])
    )
    return Memory(entries=entries, source=source,
                  stale_after_days=int(data.get("stale_after_days", DEFAULT_STALE_AFTER_DAYS)))


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
