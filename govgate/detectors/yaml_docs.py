"""Deploy configuration as it is found in repositories: multi-document, tagged, templated YAML.

Every YAML-reading detector goes through ``load_documents``. It never raises on bad input,
because a detector that crashes on one Helm template hides the evidence of every other file:

1. each ``---`` document is parsed on its own, so one broken document does not take the
   others with it;
2. tags the safe loader does not know (CloudFormation ``!Ref``, ``!Sub``, ``!GetAtt``) load
   as the plain value they wrap;
3. a document that fails because of ``{{ }}`` / ``{% %}`` templating is parsed again with the
   directive-only lines blanked and inline expressions replaced by ``TEMPLATED`` (same line
   count, so line numbers stay true);
4. what still fails is read by a tolerant indentation scan that keeps every ``key: value``
   line it can make sense of.

Each document keeps the 1-based line of every key and list item, taken from the composed
nodes' marks, so detectors can point at ``type: Recreate`` rather than at the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from govgate.detectors.scope import FileScope
from govgate.limits import YAML_EXPANSION_ALLOWANCE
from govgate.model import FileChange

TEMPLATED = "<templated>"  # stands in for a template expression's value

YAML_SUFFIXES = (".yaml", ".yml", ".yaml.tpl", ".yml.tpl", ".yaml.j2", ".yml.j2", ".yaml.tmpl", ".yml.tmpl")
_DOC_SEPARATOR = re.compile(r"^(?:---|\.\.\.)(?:[ \t].*)?$")
_TEMPLATE_EXPR = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
_SCAN_LINE = re.compile(r"""^(?P<dash>-(?:\s+|$))?(?:(?P<key>"[^"]*"|'[^']*'|[^\s'"#{\[][^:#]*?)\s*:(?:\s+|$))?(?P<value>.*)$""")

Path = tuple[Any, ...]


@dataclass(frozen=True)
class YamlDoc:
    """One document of a stream: its data and the line of each key path."""

    data: Any
    start_line: int  # 1-based, first line of the document's text (after a ``---``)
    end_line: int
    lines: Mapping[Path, int] = field(default_factory=dict, repr=False)
    mode: str = "yaml"  # yaml | templated (parsed after blanking templating) | scanned | json

    @property
    def templated(self) -> bool:
        return self.mode in ("templated", "scanned")

    def get(self, *path: Any, default: Any = None) -> Any:
        node = self.data
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
                node = node[part]
            else:
                return default
        return node

    def mapping(self, *path: Any) -> dict[str, Any]:
        value = self.get(*path)
        return value if isinstance(value, dict) else {}

    def sequence(self, *path: Any) -> list[Any]:
        value = self.get(*path)
        return value if isinstance(value, list) else []

    def line(self, *path: Any) -> int:
        """Line of the key at ``path``, else of its nearest recorded ancestor, else the document start."""
        probe: Path = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.start_line

    def contains_line(self, line: int) -> bool:
        return self.start_line <= line <= self.end_line


def is_yaml_path(path: str) -> bool:
    return path.lower().endswith(YAML_SUFFIXES)


def load_documents(text: str) -> tuple[YamlDoc, ...]:
    """Every non-empty document in ``text``; never raises."""
    return _load_documents(text)


@lru_cache(maxsize=64)
def _load_documents(text: str) -> tuple[YamlDoc, ...]:
    # Cached: a multi-document file is often looked at by several detectors in one run.
    start = text.lstrip()[:2]
    if start[:1] in ("{", "[") and start not in ("{{", "{%", "{#"):
        return _load_json(text)
    docs: list[YamlDoc] = []
    for first_line, chunk in _split_documents(text):
        doc = _load_chunk(chunk, first_line)
        if doc is not None and doc.data is not None:
            docs.append(doc)
    return tuple(docs)


def _load_json(text: str) -> tuple[YamlDoc, ...]:
    end_line = text.count("\n") + 1
    parsed = _parse(text, 1)  # YAML reads most JSON, trailing commas included, and keeps line marks
    if parsed is not None:
        return (YamlDoc(parsed[0], 1, end_line, parsed[1], "yaml"),)
    try:
        # Tabs before tokens stop YAML; JSON reads them, without line numbers.
        return (YamlDoc(json.loads(text), 1, end_line, {}, "json"),)
    except (ValueError, RecursionError):
        return ()


def touched_documents(file: FileChange, docs: Iterable[YamlDoc]) -> list[YamlDoc]:
    """Documents this change edits: all of them in an added file, else those holding an added line."""
    docs = list(docs)
    added = added_line_numbers(file)
    if added is None:
        return docs
    return [doc for doc in docs if any(doc.contains_line(number) for number in added)]


def added_line_numbers(file: FileChange) -> frozenset[int] | None:
    """Lines of the new file this change added; None when every line counts as touched.

    That is a file with no old side, or a change that only deletes lines, which cannot be
    placed in a document or block cheaply.
    """
    if file.old_text() is None:
        return None
    added = frozenset(number for number, _ in file.added_lines())
    return added or None


def touches(added: frozenset[int] | None, first: int, last: int) -> bool:
    return added is None or any(first <= number <= last for number in added)


def line_of(text: str, needle: str, start: int = 1) -> int | None:
    """1-based line of the first occurrence of ``needle`` at or after line ``start``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= start and needle in line:
            return number
    return None


def _split_documents(text: str) -> list[tuple[int, str]]:
    chunks: list[tuple[int, str]] = []
    current: list[str] = []
    first = 1
    for number, line in enumerate(text.splitlines(), start=1):
        if _DOC_SEPARATOR.match(line):
            if current:
                chunks.append((first, "\n".join(current)))
            # The separator line itself may carry content after it ("--- !tag" or "--- {a: 1}"): rare, dropped.
            current, first = [], number + 1
            continue
        current.append(line)
    if current:
        chunks.append((first, "\n".join(current)))
    return chunks


def _load_chunk(chunk: str, first_line: int) -> YamlDoc | None:
    if not chunk.strip():
        return None
    end_line = first_line + chunk.count("\n")
    parsed = _parse(chunk, first_line)
    if parsed is not None:
        data, lines = parsed
        return YamlDoc(data, first_line, end_line, lines, "yaml")
    clean = _blank_templating(chunk)
    if clean != chunk:
        parsed = _parse(clean, first_line)
        if parsed is not None:
            data, lines = parsed
            return YamlDoc(data, first_line, end_line, lines, "templated")
    data, lines = _scan(clean, first_line)
    return YamlDoc(data or None, first_line, end_line, lines, "scanned")


class _TolerantLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader (libyaml's when the wheel has it: ~10x faster) that loads any unknown tag as the plain value it wraps."""


def _untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return None


_TolerantLoader.add_multi_constructor("", _untagged)


def _parse(chunk: str, first_line: int) -> tuple[Any, dict[Path, int]] | None:
    try:
        loader = _TolerantLoader(chunk)  # rejects unprintable characters already here
    except yaml.YAMLError:
        return None
    lines: dict[Path, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Walk the document as it would be built, aliases expanded, under a budget linear in the text:
        # an alias bomb in a changed file is read by the line scanner instead of being expanded.
        _index_lines(node, (), first_line, lines, depth=0, budget=[len(chunk) + YAML_EXPANSION_ALLOWANCE])
        data = loader.construct_document(node)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError, _ExpandsTooFar):
        return None
    finally:
        loader.dispose()
    return data, lines


class _ExpandsTooFar(Exception):
    """The document holds more values, aliases expanded, than its text could without aliases."""


def _index_lines(node: yaml.Node, path: Path, offset: int, out: dict[Path, int], depth: int, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise _ExpandsTooFar
    if depth > 64:  # anchors can make graphs deeper than any real config
        return
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = (*path, key_node.value)
            out.setdefault(child, key_node.start_mark.line + offset)
            _index_lines(value_node, child, offset, out, depth + 1, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            out.setdefault(child, item.start_mark.line + offset)
            _index_lines(item, child, offset, out, depth + 1, budget)


def _blank_templating(chunk: str) -> str:
    out: list[str] = []
    for line in chunk.split("\n"):
        if "{{" not in line and "{%" not in line and "{#" not in line:
            out.append(line)
        elif not _TEMPLATE_EXPR.sub("", line).strip():
            out.append("")  # a directive on its own line: {{- if ... }}, {{ include ... | nindent 4 }}
        else:
            out.append(_TEMPLATE_EXPR.sub(TEMPLATED, line))
    return "\n".join(out)


# --- the tolerant indentation scan -----------------------------------------------------------


@dataclass
class _Frame:
    indent: int  # column of the entries this container holds
    container: dict[str, Any] | list[Any]
    path: Path
    pending_key: str | None = None  # last key whose value is an indented block


def _scan(chunk: str, first_line: int) -> tuple[dict[str, Any], dict[Path, int]]:
    """Best-effort nested data from ``key: value`` and ``- item`` lines, by indentation."""
    root: dict[str, Any] = {}
    lines: dict[Path, int] = {}
    stack = [_Frame(-1, root, ())]
    block_scalar_indent: int | None = None
    for number, raw in enumerate(chunk.split("\n"), start=first_line):
        body = raw.rstrip()
        stripped = body.lstrip(" ")
        indent = len(body) - len(stripped)
        if block_scalar_indent is not None:
            if not stripped or indent > block_scalar_indent:
                continue
            block_scalar_indent = None
        if not stripped or stripped.startswith("#") or "\t" in body[:indent]:
            continue
        entry_indent = indent
        is_item = stripped == "-" or stripped.startswith("- ")
        if is_item:
            rest = stripped[1:].lstrip(" ")
            item_key_indent = indent + (len(stripped) - len(rest))
        else:
            rest = stripped
            item_key_indent = indent
        match = _SCAN_LINE.match(rest)
        key = match.group("key") if match else None
        value_text = (match.group("value") if match else rest).strip()
        key = key.strip().strip("'\"") if key else None

        # Close deeper containers; a non-item line at a list's own column also closes the list.
        while len(stack) > 1 and (stack[-1].indent > entry_indent or (
                stack[-1].indent == entry_indent and isinstance(stack[-1].container, list) and not is_item)):
            stack.pop()
        frame = stack[-1]
        if len(stack) == 1 and not root and frame.indent < 0:
            frame.indent = entry_indent  # the document's own column, whatever it is
            if is_item:
                continue  # a top-level sequence: nothing a detector looks for
        if frame.indent < entry_indent or (is_item and isinstance(frame.container, dict)):
            frame = _open_child(stack, frame, entry_indent, is_item)
            if frame is None:
                continue
        if is_item and isinstance(frame.container, list):
            item_path = (*frame.path, len(frame.container))
            lines.setdefault(item_path, number)
            if key is None:
                frame.container.append(_scalar(value_text) if value_text else None)
                continue
            mapping: dict[str, Any] = {}
            frame.container.append(mapping)
            frame = _Frame(item_key_indent, mapping, item_path)
            stack.append(frame)
        if key is None or not isinstance(frame.container, dict):
            continue
        key_path = (*frame.path, key)
        lines.setdefault(key_path, number)
        if value_text in ("", "|", ">", "|-", ">-", "|+", ">+") or (value_text.startswith(("&", "!")) and " " not in value_text):
            frame.container[key] = None
            frame.pending_key = key
            if value_text.startswith(("|", ">")):
                block_scalar_indent = indent
        else:
            frame.container[key] = _scalar(value_text)
            frame.pending_key = None
    return root, lines


def _open_child(stack: list[_Frame], frame: _Frame, indent: int, is_item: bool) -> _Frame | None:
    if isinstance(frame.container, list):
        return None  # an indented line under a scalar list item: continuation text
    key = frame.pending_key
    if key is None:
        return None  # continuation of a multi-line plain scalar
    child: dict[str, Any] | list[Any] = [] if is_item else {}
    frame.container[key] = child
    frame.pending_key = None
    new = _Frame(indent, child, (*frame.path, key))
    stack.append(new)
    return new


def _scalar(text: str) -> Any:
    if " #" in text and not text.startswith(("'", '"')):
        text = text.split(" #", 1)[0].rstrip()
    try:
        return yaml.load(text, Loader=_TolerantLoader)
    except yaml.YAMLError:
        return text.strip("'\"")


class YamlResourceDetector:
    """The walk every Kubernetes-style YAML detector shares: the documents of one kind that a change touches.

    A subclass names itself, the strings a file must contain before it is parsed (a cheap filter:
    history audits pass thousands of YAML files), which documents it judges, and how.
    """

    name: str
    config_schema: Mapping[str, Any] | None = None
    needles: tuple[str, ...] = ()
    speaks_to: tuple[FileScope, ...] = (FileScope(YAML_SUFFIXES),)
    reads = speaks_to

    def is_resource(self, doc: YamlDoc) -> bool:
        raise NotImplementedError

    def judge(self, file: FileChange, doc: YamlDoc) -> Iterable[Any]:
        raise NotImplementedError

    def detect(self, change: Any, settings: Mapping[str, Any]) -> Iterable[Any]:
        from govgate.detectors import deploy_evidence as ev
        from govgate.model import Question

        for file in change.files:
            if ev.is_deleted(file) or not is_yaml_path(file.path):
                continue
            text = file.new_text()
            if file.unavailable:
                yield ev.unavailable(self.name, Question.ROLLOUT, file)
                continue
            if text is None or not all(needle in text for needle in self.needles):
                continue
            resources = [doc for doc in load_documents(text) if self.is_resource(doc)]
            if resources:
                for doc in touched_documents(file, resources):
                    yield from self.judge(file, doc)
