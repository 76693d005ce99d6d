"""Rails (``db/migrate/*.rb``) and Knex (``migrations/*.{js,ts}``) migrations.

Neither language is parsed fully: the detector blanks comments and string contents (so
``# def down`` or ``"execute"`` never count), then reads method and block extents from the
conventional layout (a Ruby ``end`` at the ``def``'s indentation, balanced JS braces).

Rails:
- a ``def up``/``def down`` pair with a non-empty down, or ``def change`` using only operations
  Rails can invert (``reversible do |dir|`` and ``up_only`` blocks are exempt), supports;
- ``raise ActiveRecord::IrreversibleMigration`` is a red flag (error), and so is ``def up``
  without ``def down`` (rolling back silently does nothing) or an empty ``def down``;
- inside ``def change`` these are red flags (error), as in RuboCop ``Rails/ReversibleMigration``:
  ``execute``, ``remove_column`` without a type, ``remove_columns`` without ``type:``,
  ``drop_table`` without a block, ``change_column``, ``change_column_default`` without
  ``from:``/``to:``, ``remove_index`` without a column, and ``t.remove``/``t.change`` inside
  ``change_table``;
- removing a column or table in an otherwise reversible migration is a warning: rolling back
  restores the schema, not the data.

Knex (and JS migrations with the same shape: ``exports.up``/``exports.down``,
``export async function down``, ``{ async down() {} }``): a ``down`` with a non-empty body
supports (confidence medium: the detector does not prove it reverses ``up``); a missing
``down`` or one whose body is empty (``{}``, ``return Promise.resolve()``) is a red flag (error).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from govgate.detectors.js_functions import blank_js, find_functions
from govgate.detectors.migration_common import Finder, basename, line_of, live_files, read_text
from govgate.detectors.scope import FileScope
from govgate.model import Change, Confidence, Evidence, FileChange, Severity

_RAILS = Finder("migrations_rails_knex", "rails")
_KNEX = Finder("migrations_rails_knex", "knex")
_JS_EXTENSIONS = (".js", ".ts", ".mjs", ".cjs", ".mts", ".cts")


class RailsKnexMigrationDetector:
    name = "migrations_rails_knex"
    config_schema: Mapping[str, Any] | None = None
    speaks_to = (FileScope((".rb", *_JS_EXTENSIONS), accept=lambda path: _is_candidate(path)),)
    reads = speaks_to

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        for file in live_files(change, _is_candidate):
            if file.path.endswith(".rb"):
                yield from _rails(file)
            else:
                yield from _knex(file)


def _is_candidate(path: str) -> bool:
    parts = path.split("/")
    if len(parts) < 2:
        return False
    if path.endswith(".rb"):
        # db/migrate, and Rails multi-database folders such as db/animals_migrate
        return len(parts) >= 3 and parts[-3] == "db" and parts[-2].endswith("migrate")
    return parts[-2] == "migrations" and path.endswith(_JS_EXTENSIONS) and not path.endswith(".d.ts")


# --- Rails -----------------------------------------------------------------------------------

_DEF = re.compile(r"^(?P<indent>[ \t]*)def\s+(?:self\.)?(?P<name>up|down|change)\b")
_IRREVERSIBLE = re.compile(r"\braise\s+(?:::)?ActiveRecord::IrreversibleMigration\b")
_EXEMPT_BLOCK = re.compile(r"^(?P<indent>[ \t]*)(?:reversible|up_only)\b.*\bdo\b")
_CHANGE_TABLE = re.compile(r"^(?P<indent>[ \t]*)change_table\b.*\bdo\s*\|\s*(?P<var>\w+)\s*\|")
_CALL = re.compile(r"^\s*(?P<name>execute|remove_columns|remove_column|drop_table|change_column_default|change_column"
                   r"|remove_index)\b(?!\?)(?P<args>.*)$")
_HEREDOC = re.compile(r"<<[~-]?(['\"`]?)(?P<tag>[A-Z_][A-Z0-9_]*)\1")
_DROPS_IN_UP = re.compile(r"^\s*(?P<name>remove_columns?|drop_table|remove_reference|remove_belongs_to)\b(?P<args>.*)$")


def _ruby_code(text: str) -> list[str]:
    """Lines with comments, string contents and heredoc bodies blanked; line numbers kept."""
    lines = text.splitlines()
    out: list[str] = []
    heredoc: str | None = None
    in_doc_comment = False
    for line in lines:
        if heredoc is not None:
            out.append("")
            if line.strip() == heredoc:
                heredoc = None
            continue
        if in_doc_comment or line.startswith("=begin"):
            in_doc_comment = not line.startswith("=end")
            out.append("")
            continue
        code = _blank_ruby_line(line)
        tag = _HEREDOC.search(code)
        if tag:
            heredoc = tag.group("tag")
        out.append(code)
    return out


def _blank_ruby_line(line: str) -> str:
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                out.append("  ")
                i += 2
                continue
            out.append(c if c == quote else " ")
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
            out.append(c)
        elif c == "#":
            break
        else:
            out.append(c)
        i += 1
    return "".join(out).rstrip()


def _block_end(lines: list[str], start: int, indent: str) -> int:
    """Index of the ``end`` that closes the construct opened on ``lines[start]``."""
    closing = re.compile(rf"^{re.escape(indent)}end\b")
    for i in range(start + 1, len(lines)):
        if closing.match(lines[i]):
            return i
    return len(lines) - 1


@dataclass(frozen=True)
class _Method:
    name: str
    start: int  # 0-based line index of the def
    end: int

    def body(self, lines: list[str]) -> list[tuple[int, str]]:
        return [(i, lines[i]) for i in range(self.start + 1, self.end) if lines[i].strip()]


def _rails(file: FileChange) -> Iterator[Evidence]:
    text, missing = read_text(file, _RAILS)
    if missing is not None:
        yield missing
        return
    if text is None:
        return
    lines = _ruby_code(text)
    path = file.path
    methods: dict[str, _Method] = {}
    for i, line in enumerate(lines):
        match = _DEF.match(line)
        if match and match.group("name") not in methods:
            methods[match.group("name")] = _Method(match.group("name"), i, _block_end(lines, i, match.group("indent")))
    for i, line in enumerate(lines):
        if _IRREVERSIBLE.search(line):
            inside = next((m.name for m in methods.values() if m.start < i < m.end), None)
            yield _RAILS.flag("irreversible-migration", "irreversible migration: raises ActiveRecord::IrreversibleMigration"
                              + (f" in def {inside}" if inside else ""), path, i + 1)
            return
    raw = text.splitlines()
    if "change" in methods:
        yield from _rails_change(path, lines, raw, methods["change"])
    elif "up" in methods:
        yield from _rails_up_down(path, lines, raw, methods["up"], methods.get("down"))


def _rails_up_down(path: str, lines: list[str], raw: list[str], up: _Method, down: _Method | None) -> Iterator[Evidence]:
    if down is None:
        yield _RAILS.flag("irreversible-migration",
                          "irreversible migration: def up without def down, so rolling back does nothing",
                          path, up.start + 1, end_line=up.end + 1)
        return
    if not down.body(lines):
        yield _RAILS.flag("irreversible-migration", "irreversible migration: def down is empty", path,
                          down.start + 1, end_line=down.end + 1)
        return
    yield _RAILS.supports("reversible-migration", "def down reverses def up", path, down.start + 1,
                          end_line=down.end + 1, confidence=Confidence.MEDIUM)
    for i, line in up.body(lines):
        match = _DROPS_IN_UP.match(line)
        if match:
            yield _data_warning(path, i, match.group("name"), raw)


def _rails_change(path: str, lines: list[str], raw: list[str], change: _Method) -> Iterator[Evidence]:
    exempt: set[int] = set()
    table_blocks: dict[int, str] = {}
    reverse_blocks: list[tuple[int, int]] = []
    for i in range(change.start + 1, change.end):
        block = _EXEMPT_BLOCK.match(lines[i])
        if block:
            end = _block_end(lines, i, block.group("indent"))
            exempt.update(range(i, end + 1))
            if lines[i].lstrip().startswith("reversible"):
                reverse_blocks.append((i, end))
        table = _CHANGE_TABLE.match(lines[i])
        if table:
            for j in range(i + 1, _block_end(lines, i, table.group("indent"))):
                table_blocks[j] = table.group("var")
    flags: list[Evidence] = []
    warnings: list[Evidence] = []
    for i, line in change.body(lines):
        if i in exempt:
            continue
        problem = _irreversible_call(line, _continued(lines, i, change.end), table_blocks.get(i))
        if problem:
            flags.append(_RAILS.flag("irreversible-migration", f"irreversible in def change: {problem}", path, i + 1))
            continue
        match = _DROPS_IN_UP.match(line)
        if match:
            warnings.append(_data_warning(path, i, match.group("name"), raw))
    for start, end in reverse_blocks:
        block = " ".join(lines[start:end + 1])
        if re.search(r"\.up\b", block) and not re.search(r"\.down\b", block):
            warnings.append(_RAILS.flag("rails-reversible-without-down",
                                        "reversible block has dir.up but no dir.down: that step is not undone",
                                        path, start + 1, end_line=end + 1, severity=Severity.WARNING))
    yield from flags
    if not flags:
        yield _RAILS.supports("reversible-migration", "def change uses only operations Rails can reverse"
                              + (" (and reversible blocks)" if reverse_blocks else ""), path, change.start + 1,
                              end_line=change.end + 1)
    yield from warnings


def _continued(lines: list[str], index: int, stop: int) -> str:
    """A call with its continuation lines (a trailing comma or open parenthesis)."""
    text = lines[index]
    j = index
    while j + 1 < stop and (text.rstrip().endswith((",", "(", "\\")) or text.count("(") > text.count(")")):
        j += 1
        text += " " + lines[j].strip()
    return text


def _irreversible_call(line: str, full: str, table_var: str | None) -> str | None:
    if table_var is not None:
        member = re.match(rf"^\s*{re.escape(table_var)}\.(?P<name>remove|change_default|change)\b(?P<args>.*)$", full)
        if member:
            name, args = member.group("name"), member.group("args")
            if name == "change":
                return f"{table_var}.change cannot be reversed; use up/down"
            if name == "remove" and "type:" not in args:
                return f"{table_var}.remove without type: cannot be reversed"
            if name == "change_default" and not ("from:" in args and "to:" in args):
                return f"{table_var}.change_default without from:/to: cannot be reversed"
        return None
    match = _CALL.match(full)
    if match is None:
        return None
    name, args = match.group("name"), match.group("args")
    positional, keywords = _ruby_args(args)
    if name == "execute":
        return "execute cannot be reversed; wrap it in reversible do |dir| ... or use up/down"
    if name == "remove_column" and len(positional) < 3 and "type" not in keywords:
        return "remove_column without a type cannot be reversed"
    if name == "remove_columns" and "type" not in keywords:
        return "remove_columns without type: cannot be reversed"
    if name == "drop_table" and not re.search(r"\bdo\b|\{", args):
        return "drop_table without a block cannot be reversed (give the columns in a block)"
    if name == "change_column":
        return "change_column cannot be reversed; use up/down or change_column_default/null"
    if name == "change_column_default" and not ("from" in keywords and "to" in keywords):
        return "change_column_default without from:/to: cannot be reversed"
    if name == "remove_index" and len(positional) < 2 and "column" not in keywords:
        return "remove_index without a column cannot be reversed"
    return None


def _ruby_args(args: str) -> tuple[list[str], set[str]]:
    """Top-level positional arguments and keyword names of a Ruby call (blanked strings)."""
    text = args.strip()
    text = re.split(r"\s+do\b|\{\s*\|", text, maxsplit=1)[0]
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    parts: list[str] = []
    depth, current = 0, ""
    for c in text:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += c
    if current.strip():
        parts.append(current.strip())
    keywords = {m.group(1) for p in parts if (m := re.match(r"^(\w+):(?!:)", p))}
    keywords |= {m.group(1) for p in parts if (m := re.match(r"^:(\w+)\s*=>", p))}
    positional = [p for p in parts if not re.match(r"^(\w+):(?!:)|^:\w+\s*=>", p)]
    return positional, keywords


def _data_warning(path: str, index: int, name: str, raw: list[str]) -> Evidence:
    # Names come from the raw line: the blanked one has lost its string contents.
    args = raw[index].split(name, 1)[-1] if index < len(raw) else ""
    target = ".".join(re.findall(r"[:\"']([A-Za-z_]\w*)", args)[:2]) or "?"
    what = "table" if name == "drop_table" else "column"
    return _RAILS.flag("rollback-loses-data", f"{name} {target}: rolling back brings the {what} back, not the data",
                       path, index + 1, severity=Severity.WARNING)


# --- Knex ------------------------------------------------------------------------------------

_EMPTY_BODY = re.compile(r"\breturn\b|\bPromise\s*\.\s*resolve\s*\(\s*\)|\bawait\b|\bnull\b|\bundefined\b|\bvoid\s+0|[;{}()\s]")
_JS_DROPS = re.compile(r"\.\s*(?P<name>dropTable|dropTableIfExists|dropColumns?)\s*\(")


def _knex(file: FileChange) -> Iterator[Evidence]:
    text, missing = read_text(file, _KNEX)
    if missing is not None:
        yield missing
        return
    if text is None:
        return
    code = blank_js(text)
    found = find_functions(code)
    path = file.path
    if "up" not in found:
        return  # not a migration (a helper or seed file that happens to live there)
    up = found["up"]
    down = found.get("down")
    if down is None:
        yield _KNEX.flag("irreversible-migration", f"irreversible migration: {basename(path)} exports up but no down",
                         path, line_of(code, up.start))
        return
    line = line_of(code, down.start)
    if down.body is None:
        yield _KNEX.supports("reversible-migration", "down is defined elsewhere; its body was not checked", path, line,
                             confidence=Confidence.LOW)
        return
    if not _EMPTY_BODY.sub("", down.body):
        yield _KNEX.flag("irreversible-migration", "irreversible migration: down() has an empty body", path, line)
        return
    yield _KNEX.supports("reversible-migration", "down() has a body (not checked to reverse up())", path, line,
                         end_line=line_of(code, down.body_start + len(down.body)), confidence=Confidence.MEDIUM)
    for drop in _JS_DROPS.finditer(up.body or ""):
        what = "table" if "Table" in drop.group("name") else "column"
        yield _KNEX.flag("rollback-loses-data", f"up() calls {drop.group('name')}: down() can bring the {what} back, "
                         "not the data", path, line_of(code, up.body_start + drop.start()), severity=Severity.WARNING)


DETECTOR = RailsKnexMigrationDetector()
