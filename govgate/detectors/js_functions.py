"""Find the ``up`` and ``down`` functions of a JS/TS migration without a JavaScript parser.

Comments and string contents are blanked first (offsets and newlines kept, so a match's
offset still gives its line), then each definition form is found by pattern and its body
by bracket matching: ``exports.down = function (knex) {...}``, ``exports.down = knex => ...``,
``export async function down(knex: Knex): Promise<void> {...}``, object and class methods
``async down(knex) {...}``, properties ``down: async () => {...}``, and references such as
``exports.down = rollback`` resolved to ``function rollback`` in the same file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DEFINITION = re.compile(
    r"\b(?:module\.)?exports\.(?P<a>up|down)\s*=\s*"
    r"|\bexport\s+(?:default\s+)?(?:async\s+)?function\s*\*?\s*(?P<b>up|down)\s*(?=[(<])"
    r"|\bexport\s+(?:const|let|var)\s+(?P<c>up|down)\b\s*(?::[^=]+)?=\s*"
    r"|\b(?:async\s+)?function\s+(?P<d>up|down)\s*(?=[(<])"
    r"|\b(?:const|let|var)\s+(?P<e>up|down)\b\s*(?::[^=]+)?=\s*"
    r"|(?:^|(?<=[{,;\s]))(?:(?:public|private|protected|static)\s+)*(?:async\s+)?(?P<f>up|down)\s*(?=\()"
    r"|(?:^|(?<=[{,\s]))(?P<g>up|down)\s*:\s*",
    re.MULTILINE,
)


def blank_js(text: str) -> str:
    """JS/TS with comments and string contents blanked out; offsets and newlines kept."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:end]))
            i = end
        elif c in "'\"`":
            j = i + 1
            while j < n and text[j] != c and (c == "`" or text[j] != "\n"):
                j += 2 if text[j] == "\\" else 1
            end = min(j + 1, n)
            out.append(c + "".join(ch if ch == "\n" else " " for ch in text[i + 1:end - 1]) + (c if end - 1 > i else ""))
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class JsFunction:
    start: int  # offset of the definition
    body: str | None  # None: a reference to another name that could not be resolved
    body_start: int


def find_functions(code: str) -> dict[str, JsFunction]:
    """``up``/``down`` (and any other found name) to its definition, in code from ``blank_js``."""
    found: dict[str, JsFunction] = {}
    for match in _DEFINITION.finditer(code):
        name = next(v for v in match.groupdict().values() if v)
        if name in found and found[name].body is not None:
            continue
        body = _function_body(code, match.end())
        if body is None:
            continue
        if isinstance(body, str):  # a reference: exports.down = rollback
            target = re.search(rf"\bfunction\s+{re.escape(body)}\s*\(|\b(?:const|let|var)\s+{re.escape(body)}\s*=\s*",
                               code)
            resolved = _function_body(code, target.end() - (1 if code[target.end() - 1] == "(" else 0)) if target else None
            if isinstance(resolved, tuple):
                found[name] = JsFunction(match.start(), resolved[0], resolved[1])
            elif name not in found:
                found[name] = JsFunction(match.start(), None, match.end())
            continue
        found[name] = JsFunction(match.start(), body[0], body[1])
    return found


def _function_body(code: str, pos: int) -> tuple[str, int] | str | None:
    """From just after ``down =`` or ``function down``: (body, offset), a referenced name, or None."""
    n = len(code)

    def skip_space(p: int) -> int:
        while p < n and code[p].isspace():
            p += 1
        return p

    pos = skip_space(pos)
    while True:
        word = re.match(r"(async|function)\b\s*\*?", code[pos:])
        if not word:
            break
        pos = skip_space(pos + word.end())
    name = re.match(r"[A-Za-z_$][\w$]*", code[pos:])
    if name:
        after = skip_space(pos + name.end())
        if code.startswith("=>", after):
            pos = after
        elif after < n and code[after] in "(<":
            pos = after  # function name( ... )
        else:
            return name.group(0)  # exports.down = someFunction
    if pos < n and code[pos] == "<":  # TS generics
        pos = _match(code, pos, "<", ">")
    if pos < n and code[pos] == "(":
        pos = _match(code, pos, "(", ")")
    pos = skip_space(pos)
    if pos < n and code[pos] == ":":  # TS return type
        while pos < n and code[pos] != "{" and not code.startswith("=>", pos):
            pos += 1
    pos = skip_space(pos)
    if code.startswith("=>", pos):
        pos = skip_space(pos + 2)
        if pos < n and code[pos] != "{":
            return _expression(code, pos), pos
    if pos < n and code[pos] == "{":
        end = _match(code, pos, "{", "}")
        return code[pos + 1:end - 1], pos + 1
    return None


def _match(code: str, pos: int, opening: str, closing: str) -> int:
    """Offset just after the bracket that closes the one at ``pos``."""
    depth = 0
    for i in range(pos, len(code)):
        if code[i] == opening:
            depth += 1
        elif code[i] == closing:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(code)


def _expression(code: str, pos: int) -> str:
    """An arrow function's expression body: up to ``;``, a closing bracket, or a line that does not continue."""
    depth = 0
    i = pos
    while i < len(code):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and c in ";,":
            break
        elif depth == 0 and c == "\n":
            rest = code[i:].lstrip()
            if not rest.startswith((".", "?", ":", "&&", "||", "+")):
                break
        i += 1
    return code[pos:i]
