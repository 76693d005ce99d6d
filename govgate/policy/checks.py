"""What a policy must mean, beyond its shape: checks JSON Schema cannot express.

They run on every load, never from the validation cache (some depend on today's date, and a
cache must never be able to switch a check off): real calendar dates, waivers that name a rule
of the policy, finite numbers, and every regular expression and glob compiled as it will be
used. Errors say ``file:line: key: what to fix``; an expired waiver is only a warning.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from govgate.schema_parts import GLOB_FORMAT, REGEX_FORMAT

Positions = dict[tuple[Any, ...], int]



@dataclass
class Findings:
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


def check_meaning(
    data: Mapping[str, Any], positions: Positions, source: str, schema: Mapping[str, Any],
    inherited_rules: set[str], today: dt.date,
) -> Findings:
    found = Findings()

    def at(path: tuple[Any, ...]) -> tuple[int, str]:
        line = positions.get(path, positions.get(path[:-1], 1))
        return line, f"{source}:{line}: {render_path(path) or '(top level)'}"

    for path, number in _numbers(data, ()):
        if not math.isfinite(number):
            line, where = at(path)
            found.errors.append((line, f"{where}: {number} is not a finite number"))
    found.errors.extend(pattern_problems(data, positions, source, schema))
    rule_ids = inherited_rules | {r["id"] for r in data.get("rules", []) if isinstance(r, dict) and isinstance(r.get("id"), str)}
    for i, waiver in enumerate(data.get("waivers", [])):
        if not isinstance(waiver, dict):
            continue
        _check_waiver(waiver, ("waivers", i), rule_ids, today, at, found)
    return found


def pattern_problems(data: Mapping[str, Any], positions: Positions, source: str,
                     schema: Mapping[str, Any]) -> list[tuple[int, str]]:
    """Every regex and glob of ``data`` (the strings its schema marks with a format) that does not
    compile, as ``(line, "file:line: key: 'text' is ...")``."""
    problems: list[tuple[int, str]] = []
    for path, kind, text in formatted_values(schema, data, (), schema):
        problem = _pattern_problem(kind, text)
        if problem:
            line = positions.get(path, positions.get(path[:-1], 1))
            problems.append((line, f"{source}:{line}: {render_path(path) or '(top level)'}: {text!r} {problem}"))
    return problems


def duplicate_ids(items: Any, list_path: tuple[Any, ...], noun: str, positions: Positions,
                  source: str) -> list[tuple[int, str]]:
    """Every item of the list at ``list_path`` whose ``id`` an earlier item already has, as
    ``(line, "file:line: key: duplicate NOUN id 'x' (first on line N)")``."""
    problems: list[tuple[int, str]] = []
    first: dict[str, int] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str):
            continue
        path = (*list_path, index, "id")
        line = positions.get(path, 0)
        if item_id in first:
            problems.append((line, f"{source}:{line}: {render_path(path)}: duplicate {noun} id {item_id!r} "
                                   f"(first on line {first[item_id]})"))
        first.setdefault(item_id, line)
    return problems


def _check_waiver(waiver: Mapping[str, Any], path: tuple[Any, ...], rule_ids: set[str], today: dt.date,
                  at: Any, found: Findings) -> None:
    rule = waiver.get("rule")
    if isinstance(rule, str) and rule not in rule_ids:
        line, where = at((*path, "rule"))
        known = ", ".join(sorted(rule_ids)[:10]) or "none"
        found.errors.append((line, f"{where}: waives {rule!r}, which is not a rule of this policy (rules: {known})"))
    expires = waiver.get("expires")
    if not isinstance(expires, str):
        return
    line, where = at((*path, "expires"))
    try:
        day = dt.date.fromisoformat(expires)
    except ValueError as exc:
        found.errors.append((line, f"{where}: {expires} is not a calendar date ({exc})"))
        return
    if day < today:
        found.warnings.append((line, f"{where}: the waiver of {rule!r} for {waiver.get('change')!r} expired on {expires}; "
                                     "it no longer applies (renew it or remove it)"))


def _pattern_problem(kind: str, text: str) -> str | None:
    if kind == REGEX_FORMAT:
        from govgate.patterns import PatternError, user_regex

        try:
            user_regex(text)
        except PatternError as exc:
            return f"is not a usable regular expression: {exc}"
    elif kind == GLOB_FORMAT:
        from govgate.globs import check_glob

        try:
            check_glob(text)
        except ValueError as exc:
            return f"is {exc}"
    return None


def formatted_values(
    schema: Mapping[str, Any], value: Any, path: tuple[Any, ...], root: Mapping[str, Any],
) -> Iterator[tuple[tuple[Any, ...], str, str]]:
    """(path, format, text) of every string in ``value`` whose schema carries a ``format``."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        schema = root["$defs"][ref.removeprefix("#/$defs/")]
    if isinstance(value, str) and "format" in schema:
        yield path, schema["format"], value
    for branch in schema.get("oneOf", ()):
        yield from formatted_values(branch, value, path, root)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                yield from formatted_values(properties[key], item, (*path, key), root)
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            yield from formatted_values(schema["items"], item, (*path, i), root)


def _numbers(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], float]]:
    if isinstance(value, float):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _numbers(item, (*path, i))


def render_path(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
