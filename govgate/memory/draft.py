"""Write mined facts into a memory file without touching a byte people wrote.

PyYAML would drop every comment and reformat the file, so the file is edited as text: it is
parsed only to find where things are (node positions), and three kinds of edit are spliced in:

* an existing entry's ``mined`` value is replaced (that key belongs to govgate and is rewritten on
  every run; it is written as one flow mapping on one line);
* an entry without ``mined`` gets a ``mined:`` line after its last line;
* new draft entries are appended after the last entry, in the list's own indentation.

Everything else (``why``, ``knows``, ``fragile``, comments, blank lines, quoting, key order) is
kept exactly. The result is parsed and validated before it is returned: a merge can never write
a file the gate would refuse.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from govgate.errors import MemoryFileError
from govgate.globs import glob_set
from govgate.memory.loader import parse_memory
from govgate.memory.mining import AreaFacts

HEADER = """\
# govgate organisational memory: why paths look the way they do, how fragile they are, who knows them.
# Drafted by `govgate memory suggest` from history. Complete each `why`, check `knows` and `fragile`,
# and set `reviewed: YYYY-MM-DD` once people confirmed an entry. `mined` is rewritten on every run;
# everything else you write is kept as it is.
version: 1
stale_after_days: 365
entries:
"""


@dataclass
class MergeResult:
    text: str
    added: list[str] = field(default_factory=list)  # ids of new draft entries
    refreshed: list[str] = field(default_factory=list)  # names of entries whose mined facts were rewritten


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str
    order: int = 0  # at the same position, a higher order is applied first and so ends up later in the text


def merge_draft(existing: str | None, new_areas: list[AreaFacts], entry_facts: dict[int, AreaFacts], as_of: dt.date,
                source: str, min_changes: int) -> MergeResult:
    """``existing`` (None: no file yet) with ``entry_facts`` (by entry index) refreshed and ``new_areas`` added."""
    if existing is None or not existing.strip():
        blocks = _new_entries(new_areas, set(), as_of, 2, min_changes)
        result = MergeResult(HEADER + "".join(f"{b}\n" for b in blocks.texts), added=blocks.ids)
        result.text = result.text if blocks.texts else HEADER.replace("entries:\n", "entries: []\n")
        _check(result.text, source)
        return result
    import yaml

    root = yaml.compose(existing, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    entries_key, entries = _entries_node(root)
    edits: list[_Edit] = []
    result = MergeResult(existing)
    for index, entry in enumerate(entries.value if entries is not None else []):
        facts = entry_facts.get(index)
        if facts is not None and isinstance(entry, yaml.MappingNode):
            edits.append(_mined_edit(existing, entry, facts.mined(as_of)))
            result.refreshed.append(_entry_name(entry, index))
    ids = {_scalar(entry, "id") for entry in (entries.value if entries is not None else [])} - {None}
    globs = existing_globs(entries)
    fresh = [a for a in new_areas if not _covered(a, globs)]
    indent = entries.start_mark.column if entries is not None and entries.value and not entries.flow_style else 2
    blocks = _new_entries(fresh, ids, as_of, indent, min_changes)  # type: ignore[arg-type]
    result.added = blocks.ids
    if blocks.texts:
        edits.append(_append_edit(existing, entries_key, entries, blocks.texts))
    for edit in sorted(edits, key=lambda e: (e.start, e.order), reverse=True):
        result.text = result.text[: edit.start] + edit.text + result.text[edit.end :]
    _check(result.text, source)
    return result


def existing_globs(entries: Any) -> list[tuple[str, ...]]:
    import yaml

    found = []
    for entry in entries.value if entries is not None else []:
        paths = _value_of(entry, "paths")
        if isinstance(paths, yaml.SequenceNode):
            found.append(tuple(str(item.value) for item in paths.value if isinstance(item, yaml.ScalarNode)))
    return found


def _entries_node(root: Any) -> tuple[Any, Any]:
    import yaml

    if not isinstance(root, yaml.MappingNode):
        raise MemoryFileError("the memory file is not a mapping: suggest can only add to a valid memory file")
    for key, value in root.value:
        if key.value == "entries":
            if not isinstance(value, yaml.SequenceNode) and not (isinstance(value, yaml.ScalarNode) and value.value == ""):
                raise MemoryFileError("`entries` is not a list: suggest can only add to a valid memory file")
            return key, value if isinstance(value, yaml.SequenceNode) else None
    return None, None


def _mined_edit(text: str, entry: Any, mined: dict[str, Any]) -> _Edit:
    flow = _flow(mined)
    value = _value_of(entry, "mined")
    if value is not None:
        return _Edit(value.start_mark.index, _content_end(value), flow)
    if entry.flow_style:  # `- {id: a, paths: [x]}`: add before the closing brace
        close = entry.end_mark.index - 1
        return _Edit(close, close, f", mined: {flow}")
    at = _line_end(text, _content_end(entry))
    return _Edit(at, at, "\n" + " " * entry.start_mark.column + f"mined: {flow}")


def _append_edit(text: str, key: Any, entries: Any, blocks: list[str]) -> _Edit:
    body = "\n".join(blocks)
    if entries is None and key is None:  # no `entries` key at all
        prefix = "" if text.endswith("\n") else "\n"
        return _Edit(len(text), len(text), f"{prefix}entries:\n{body}\n", order=1)
    if entries is None:  # `entries:` with nothing after it
        at = _line_end(text, key.end_mark.index)
        return _Edit(at, at, "\n" + body, order=1)
    if entries.flow_style:
        if entries.value:
            raise MemoryFileError("`entries` is written as a flow list ([...]); write it as a block list (- ...) so that "
                                  "suggest can add to it without rewriting it")
        return _Edit(entries.start_mark.index, entries.end_mark.index, "\n" + body, order=1)
    at = _line_end(text, _content_end(entries.value[-1]))
    return _Edit(at, at, "\n" + body, order=1)


@dataclass
class _Blocks:
    texts: list[str]
    ids: list[str]


def _new_entries(areas: list[AreaFacts], taken: set[str], as_of: dt.date, indent: int, min_changes: int) -> _Blocks:
    blocks = _Blocks([], [])
    for area in areas:
        entry_id = _unique_id(area.path, taken)
        taken.add(entry_id)
        blocks.ids.append(entry_id)
        blocks.texts.append(_entry_text(entry_id, area, as_of, " " * indent, min_changes))
    return blocks


def _entry_text(entry_id: str, area: AreaFacts, as_of: dt.date, pad: str, min_changes: int) -> str:
    knowers = [p.knower for p in area.active if p.knower]
    lines = [f"{pad}- id: {entry_id}  # drafted by govgate memory suggest on {as_of.isoformat()}: complete and review it",
             f"{pad}  paths: [{_string(area.glob)}]",
             f'{pad}  why: ""  # TODO: why does it look this way, and what breaks if it changes?']
    level = area.suggested_fragility(min_changes)
    if level is not None:
        lines.append(f"{pad}  fragile: {level.value}  # suggested: {area.failed} of {area.changes} changes were later "
                     "reverted or fixed; confirm or remove")
    departed = ", ".join(p.handle for p in area.departed)
    note = f"  # every knower has left ({departed}): who knows it now?" if not knowers and departed else ""
    lines.append(f"{pad}  knows: [{', '.join(_string(k) for k in knowers)}]{note}")
    lines.append(f"{pad}  mined: {_flow(area.mined(as_of))}")
    return "\n".join(lines)


def _unique_id(path: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", path).strip("-.") or "area"
    base = re.sub(r"^[^A-Za-z0-9]+", "", base) or "area"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _covered(area: AreaFacts, globs: list[tuple[str, ...]]) -> bool:
    probes = (area.path, f"{area.path}/\0") if area.is_dir else (area.path,)  # no file is named NUL: only globs spanning it
    return any(glob_set(paths)(probe) for paths in globs if paths for probe in probes)


def _flow(data: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{key}: {_flow_value(value)}" for key, value in data.items()) + "}"


def _flow_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_flow_value(v) for v in value) + "]"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}|[a-z_0-9]+", value):
        return value  # dates and enum words read back as themselves
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value)


def _string(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid ones)."""
    return json.dumps(value, ensure_ascii=False)


def _content_end(node: Any) -> int:
    """Where a node's own text ends: the end of its last scalar or flow collection, never trailing comments."""
    import yaml

    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    children = [v for pair in node.value for v in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
    return max((_content_end(child) for child in children), default=int(node.end_mark.index))


def _line_end(text: str, index: int) -> int:
    while index > 0 and text[index - 1] == "\n":  # a block scalar (why: |) ends after its last newline
        index -= 1
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline


def _value_of(mapping: Any, key: str) -> Any:
    import yaml

    if not isinstance(mapping, yaml.MappingNode):
        return None
    return next((value for k, value in mapping.value if k.value == key), None)


def _scalar(mapping: Any, key: str) -> str | None:
    value = _value_of(mapping, key)
    return str(value.value) if value is not None and hasattr(value, "value") and isinstance(value.value, str) else None


def _entry_name(entry: Any, index: int) -> str:
    return _scalar(entry, "id") or f"entries[{index}]"


def _check(text: str, source: str) -> None:
    try:
        parse_memory(text, source)
    except MemoryFileError as exc:
        raise MemoryFileError(f"the merged memory file would not be valid, so nothing was written: {exc.message}",
                              "fix the existing file first: govgate memory validate") from None
