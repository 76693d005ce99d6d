"""Read the JSON lines of many audits (files, directories, ``-`` for standard input) without re-reading history.

Each audit's output is one ``govgate/check/v1`` object per change and then one ``govgate/audit/v1``
summary; several audits may be concatenated in one file (``cat *.jsonl``). Only the summaries carry
what the organisation report needs; the change lines are parsed, checked and counted so that a
summary is never taken for more than its audit printed (a truncated artifact is caught, not
silently short). Every problem names the file and line, and what to do about it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from govgate.errors import GovgateError

CHANGE_SCHEMA = "govgate/check/v1"
SUMMARY_SCHEMA = "govgate/audit/v1"
SUFFIXES = (".jsonl", ".ndjson", ".json")
STDIN = "-"

_INT = {"type": "integer", "minimum": 0}
_BUCKET = {"type": "object", "required": ["changes", "failing", "unreviewed", "untested", "without_rollout", "without_rollback",
                                          "reverted", "fixed", "reverted_or_fixed"],
           "properties": {key: _INT for key in ("changes", "failing", "unreviewed", "untested", "without_rollout",
                                                "without_rollback", "reverted", "fixed", "reverted_or_fixed")}}
_QUESTION = {"type": "object", "required": ["statuses"],
             "properties": {"statuses": {"type": "object", "additionalProperties": _INT}, "asked": _INT}}
_PERIOD = {
    "type": "object",
    "required": ["changes", "failing", "ai_assisted", "ai", "other", "questions"],
    "properties": {
        "changes": _INT, "failing": _INT, "ai_assisted": _INT, "ai": _BUCKET, "other": _BUCKET,
        "ai_tools": {"type": "object", "additionalProperties": _INT},
        "ai_vendors": {"type": "object", "additionalProperties": _INT},
        "questions": {"type": "object", "required": ["reviewed", "tested", "rollout", "rollback"],
                      "additionalProperties": _QUESTION},
    },
}
# The part of govgate/audit/v1 the organisation report reads; anything else in a summary is left alone.
SUMMARY_SHAPE = {
    "type": "object",
    "required": ["schema", "range", "totals", "months"],
    "properties": {
        "repository": {"type": ["string", "null"]},
        "repository_name": {"type": "string", "minLength": 1},
        "range": {"type": "object", "properties": {"rev": {"type": "string"}, "paths": {"type": "array"}}},
        "totals": _PERIOD,
        "months": {"type": "array", "items": {"allOf": [_PERIOD, {"required": ["month"],
                                                                   "properties": {"month": {"type": "string"}}}]}},
        "knowledge_loss": {"type": "object", "properties": {"paths": {"type": "array", "items": {"type": "object"}}}},
        "large_merges": {"type": "object", "properties": {"count": _INT, "commits": _INT}},
        "evidence_sources": {"type": "object", "properties": {"github_reviews": {"type": "boolean"}}},
        "policy_origin": {"type": ["object", "null"], "properties": {"description": {"type": "string"}}},
    },
}


@dataclass
class AuditRecord:
    """One audit's summary, where it was read, and what its change lines said."""

    summary: dict[str, Any]
    where: str  # file:line of the summary
    change_lines: int = 0
    ai_lines: int = 0
    failing_lines: int = 0


@dataclass
class ReadResult:
    audits: list[AuditRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # with --keep-going: what was skipped, and where


class InputError(GovgateError):
    """A bad line or file among the report's inputs."""


def read_audits(inputs: Iterable[str], *, keep_going: bool = False, stdin: TextIO | None = None) -> ReadResult:
    result = ReadResult()
    names = list(inputs)
    if not names:
        raise InputError("no input given", "pass audit JSON-lines files, directories of them, or - for standard input")
    for name, handle_factory in _sources(names, stdin or sys.stdin):
        try:
            with handle_factory() as handle:
                _read_one(name, handle, result, keep_going)
        except InputError as exc:
            if not keep_going:
                raise
            result.problems.append(exc.message)
        except OSError as exc:
            problem = f"{name}: cannot read: {exc.strerror or exc}"
            if not keep_going:
                raise InputError(problem) from None
            result.problems.append(problem)
    if not result.audits:
        raise InputError("no govgate/audit/v1 summary in the input",
                         "give the output of govgate audit --format json (its last line is the summary)")
    return result


def _sources(names: list[str], stdin: TextIO) -> Iterator[tuple[str, Any]]:
    for name in names:
        if name == STDIN:
            yield "<stdin>", lambda: _Borrowed(stdin)
            continue
        path = Path(name)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            if not files:
                raise InputError(f"{name}: no {', '.join(SUFFIXES)} files in this directory")
            for file in files:
                yield str(file), lambda file=file: open(file, encoding="utf-8", newline="")
        elif path.exists():
            yield name, lambda path=path: open(path, encoding="utf-8", newline="")
        else:
            raise InputError(f"{name}: no such file or directory")


class _Borrowed:
    """Standard input inside a ``with``, without closing it."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle

    def __enter__(self) -> TextIO:
        return self.handle

    def __exit__(self, *exc: object) -> None:
        return None


def _read_one(name: str, handle: TextIO, result: ReadResult, keep_going: bool) -> None:
    pending = AuditRecord(summary={}, where="")
    number = 0
    try:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = _parse(name, number, line)
                if item.get("schema") == CHANGE_SCHEMA:
                    pending.change_lines += 1
                    pending.ai_lines += item.get("ai_assisted") is True
                    pending.failing_lines += item.get("verdict") == "fail"
                    continue
                pending.summary, pending.where = item, f"{name}:{number}"
                _check_counts(pending)
                result.audits.append(pending)
            except InputError as exc:
                if not keep_going:
                    raise
                result.problems.append(exc.message)
            pending = AuditRecord(summary={}, where="")
    except UnicodeDecodeError:
        raise InputError(f"{name}:{number + 1}: not UTF-8 text (is it the JSON output of govgate audit?)") from None
    if pending.change_lines:
        raise InputError(f"{name}: {pending.change_lines} change line(s) after the last summary, and no summary for them",
                         "the audit was cut short: run it again, or leave the file out")


def _parse(name: str, number: int, line: str) -> dict[str, Any]:
    where = f"{name}:{number}"
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON ({exc.msg} at column {exc.colno})",
                         "each line must be one JSON object from govgate audit --format json") from None
    if not isinstance(item, dict):
        raise InputError(f"{where}: a JSON {type(item).__name__}, expected an object")
    schema = item.get("schema")
    if schema == CHANGE_SCHEMA:
        return item
    if schema != SUMMARY_SCHEMA:
        raise InputError(f"{where}: schema {schema!r} is neither {CHANGE_SCHEMA!r} nor {SUMMARY_SCHEMA!r}")
    _validate(where, item)
    return item


def _validate(where: str, summary: dict[str, Any]) -> None:
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(SUMMARY_SHAPE).iter_errors(summary))
    if error is not None:
        path = ".".join(str(p) for p in error.absolute_path)
        raise InputError(f"{where}: {path + ': ' if path else ''}{error.message}",
                         "was the summary edited or written by another tool?")


def _check_counts(record: AuditRecord) -> None:
    totals = record.summary["totals"]
    if not record.change_lines:
        return  # a summary on its own (for instance `tail -n 1` of each audit) is fine
    expected = (totals["changes"], totals["ai_assisted"], totals["failing"])
    found = (record.change_lines, record.ai_lines, record.failing_lines)
    if expected != found:
        raise InputError(
            f"{record.where}: the summary counts {expected[0]} changes ({expected[1]} AI-assisted, {expected[2]} failing) but "
            f"{found[0]} change lines ({found[1]} AI-assisted, {found[2]} failing) precede it",
            "the file mixes or lost lines of an audit: give each audit's output whole")
