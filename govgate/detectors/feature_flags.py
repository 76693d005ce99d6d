"""New code behind feature flags.

Code: a flag check in an ADDED line, from OpenFeature (``get_boolean_value``,
``getBooleanValue``, Go ``BooleanValue``), LaunchDarkly (``variation``, ``boolVariation``,
``BoolVariation``), Unleash (``isEnabled``, ``is_enabled``, ``is_enabled?``) or GrowthBook
(``isOn``, ``useFeatureIsOn``, ``<IfFeatureEnabled>``). A check whose default is off puts the
new path behind the flag (rollout: flagged) and turning the flag off takes it away again
(rollback: flag-off). A new check that defaults to on is a warning: if the flag service is
unreachable or the flag undefined, the new path runs for everyone.

Config: flagd flag files and GitLab-style ``config/feature_flags/**/*.yml`` (#10) are
judged in ``flag_configs``.

Only paths whose extension can hold code are read, and a file is only diffed after a cheap
search of its text finds a flag call: history audits pass thousands of files through here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from govgate.detectors import deploy_evidence as ev
from govgate.detectors.flag_configs import flag_config_kind, judge_flag_config
from govgate.detectors.scope import FileScope
from govgate.model import Change, Confidence, Evidence, FileChange, Question, Severity
from govgate.patterns import compile_bytes

SOURCE = "feature_flags"

_CODE_SUFFIXES = (
    ".py", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".vue", ".svelte", ".go", ".java", ".kt", ".kts",
    ".scala", ".rb", ".cs", ".php", ".swift", ".ex", ".exs", ".rs",
)
_TEST_PATH = re.compile(
    r"(^|/)(tests?|spec|specs|__tests__|testdata|fixtures)/|(^|/)test_[^/]*$|_test\.[a-z]+$|_spec\.rb$"
    r"|\.(test|spec)\.[a-z]+$|Tests?\.(java|kt|cs|swift)$"
)


@dataclass(frozen=True)
class _Call:
    sdk: str
    key_index: int
    default_index: int | None  # None: the SDK's implicit default (off) unless a literal true is passed
    generic: bool = False  # a common method name: needs a flag-looking receiver or a literal key


_CALLS: dict[str, _Call] = {
    "get_boolean_value": _Call("OpenFeature", 0, 1),
    "get_boolean_details": _Call("OpenFeature", 0, 1),
    "getBooleanValue": _Call("OpenFeature", 0, 1),
    "getBooleanDetails": _Call("OpenFeature", 0, 1),
    "GetBooleanValueAsync": _Call("OpenFeature", 0, 1),
    "GetBooleanDetailsAsync": _Call("OpenFeature", 0, 1),
    "BooleanValue": _Call("OpenFeature", 1, 2),  # Go: (ctx, flag, default, evalCtx)
    "BooleanValueDetails": _Call("OpenFeature", 1, 2),
    "variation": _Call("LaunchDarkly", 0, 2, generic=True),
    "boolVariation": _Call("LaunchDarkly", 0, 2),
    "BoolVariation": _Call("LaunchDarkly", 0, 2),
    "isEnabled": _Call("Unleash", 0, None, generic=True),
    "is_enabled": _Call("Unleash", 0, None, generic=True),
    "is_enabled?": _Call("Unleash", 0, None, generic=True),
    "IsEnabled": _Call("Unleash", 0, None, generic=True),
    "isOn": _Call("GrowthBook", 0, None, generic=True),
    "is_on": _Call("GrowthBook", 0, None, generic=True),
    "IsOn": _Call("GrowthBook", 0, None, generic=True),
    "useFeatureIsOn": _Call("GrowthBook", 0, None),
}
_CALL_RE = re.compile(
    r"(?P<recv>[\w$@]+(?:\(\))?(?:\.[\w$]+(?:\(\))?)*\.)?(?<![\w$])(?P<name>"
    + "|".join(re.escape(name) for name in sorted(_CALLS, key=len, reverse=True))
    + r")(?![\w?])\s*\("
)
_COMPONENT_RE = re.compile(r"<IfFeatureEnabled\b[^>]*?\bfeature=[\"'{]+(?P<key>[\w.:-]+)")
# Substrings one of which every call name above contains. ``_mentions_flag_call`` finds them with
# str.find (memchr speed) and looks at the identifier around each hit, instead of running a regex
# over every changed source file (at about 50 ns a byte, most of a history audit's time).
_QUICK_TOKENS = ("oolean", "ariation", "nabled", "IsOn", "isOn", "is_on")
# A pre-check on the raw bytes that accepts at least every file ``_mentions_flag_call`` accepts, in
# one linear-time pass and without decoding: a call name after a byte that cannot end an ASCII
# identifier, followed by a byte that can start white space (str.isspace: ASCII or, as UTF-8, any
# byte from 0x80) or by "(". Latin-1 mode makes each byte one character, so invalid UTF-8 cannot
# hide a name. Three times faster than the token scans above, which stay as the exact check.
_CALL_BYTES = compile_bytes(
    rb"(?:^|[^A-Za-z0-9_$])(?:"
    + b"|".join(re.escape(name).encode() for name in sorted(_CALLS, key=len, reverse=True))
    + rb")(?:[\t\n\x0b\x0c\r\x1c-\x1f (]|[\x80-\xff])|<IfFeatureEnabled"
)
_NAMES_BY_START: dict[str, tuple[str, ...]] = {}
for _name in sorted(_CALLS, key=len, reverse=True):
    _NAMES_BY_START[_name[0]] = (*_NAMES_BY_START.get(_name[0], ()), _name)

# Bundled, vendored and minified code is not where a change's own flag checks live.
_GENERATED_PATH = re.compile(r"(^|/)(node_modules|vendor|third_party|dist|build)/|\.min\.[a-z]+$|\.bundle\.[a-z]+$")
_MAX_LINE = 2000  # longer lines are minified or generated
_FLAG_RECEIVER = re.compile(r"(?i)unleash|growthbook|\bgb\b|feature|flag|toggle|launchdarkly|ld_?client|ldclient|openfeature")
_CONDITION = re.compile(r"\b(if|elif|elsif|unless|when|while|guard)\b|\s\?\s|&&|\|\||\band\b|\bor\b")
_ASSIGNED = re.compile(r"^\s*(?:(?:const|let|var|val|final|auto|bool|boolean|Boolean|my)\s+)*(?P<var>[A-Za-z_]\w*)"
                       r"(?:\s*,\s*[A-Za-z_]\w*)*\s*(?::\s*\w+\s*)?(?::=|=)(?!=)")
_GUARD_WINDOW = 60  # lines after an assignment in which a condition on the variable still counts
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


class FeatureFlagDetector:
    name = SOURCE
    config_schema: Mapping[str, Any] | None = None
    speaks_to = (
        FileScope(_CODE_SUFFIXES, accept=lambda path: _is_flag_code(path)),
        FileScope((".json", ".yaml", ".yml"), accept=lambda path: flag_config_kind(path) is not None),
    )
    reads = speaks_to

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        for file in change.files:
            if ev.is_deleted(file):
                continue
            config_kind = flag_config_kind(file.path)
            is_code = _is_flag_code(file.path)
            if not (config_kind or is_code):
                continue
            raw = file.new_bytes()
            if file.unavailable:
                yield ev.unavailable(SOURCE, Question.ROLLOUT, file)
                continue
            if raw is None:
                continue
            if not config_kind and _CALL_BYTES.search(raw) is None:
                continue  # no call in the bytes, so none in the text: spare decoding it
            text = file.new_text()
            if text is None:
                continue
            if config_kind:
                yield from judge_flag_config(SOURCE, file, text, config_kind)
            elif _mentions_flag_call(text):
                yield from _judge_code(file, text)


def _mentions_flag_call(text: str) -> bool:
    """Whether ``text`` holds a call of a flag SDK: a name of ``_CALLS`` starting an identifier
    (not preceded by a word character or $), then optional whitespace and "(" ; or <IfFeatureEnabled."""
    if "<IfFeatureEnabled" in text:
        return True
    for token in _QUICK_TOKENS:
        at = text.find(token)
        while at >= 0:
            start = at
            while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_$"):
                start -= 1
            if _call_at(text, start):
                return True
            at = text.find(token, at + 1)
    return False


def _call_at(text: str, start: int) -> bool:
    for name in _NAMES_BY_START.get(text[start], ()):
        if text.startswith(name, start):
            end = start + len(name)
            while end < len(text) and text[end].isspace():
                end += 1
            if end < len(text) and text[end] == "(":
                return True
    return False


@lru_cache(maxsize=65536)
def _is_flag_code(path: str) -> bool:
    return path.endswith(_CODE_SUFFIXES) and not _TEST_PATH.search(path) and not _GENERATED_PATH.search(path)


@dataclass
class _Found:
    sdk: str
    key: str
    literal_key: bool
    default: bool | None
    line: int
    guard_line: int | None
    calls: int = 1


def _judge_code(file: FileChange, text: str) -> Iterable[Evidence]:
    added = file.added_lines()
    if not added:
        return
    line_starts = _line_starts(text)
    found: dict[str, _Found] = {}
    for number, line in added:
        for item in _calls_on_line(text, line_starts, number, line, added):
            if item.key in found:
                found[item.key].calls += 1
            else:
                found[item.key] = item
    for item in found.values():
        yield from _evidence(file, item)


def _calls_on_line(text: str, line_starts: list[int], number: int, line: str, added: list[tuple[int, str]]) -> Iterable[_Found]:
    stripped = line.lstrip()
    if stripped.startswith(("#", "//", "*", "/*")) or len(line) > _MAX_LINE:
        return
    for match in _COMPONENT_RE.finditer(line):
        yield _Found("GrowthBook", match.group("key"), True, False, number, number)
    for match in _CALL_RE.finditer(line):
        call = _CALLS[match.group("name")]
        receiver = match.group("recv") or ""
        if match.group("name") == "variation" and not receiver:
            continue
        args = _split_args(text, line_starts[number - 1] + match.end())
        if args is None:
            continue
        positional, keywords = _arguments(args)
        key_text = _keyword(keywords, ("key", "flag", "name", "feature")) or _at(positional, call.key_index)
        if key_text is None:
            continue
        key, literal = _string_literal(key_text)
        if call.generic and not literal and not _FLAG_RECEIVER.search(receiver):
            continue
        if call.default_index is None:
            # Unleash/GrowthBook default to off for an unknown flag unless a literal true fallback is passed.
            default: bool | None = any(a.strip() in _TRUE for a in args[call.key_index + 1:])
        else:
            default_text = _keyword(keywords, ("default", "default_value", "defaultValue", "fallback"))
            default = _boolean(default_text if default_text is not None else _at(positional, call.default_index))
            if match.group("name") == "variation" and default is None:
                continue  # a non-boolean variation is not an on/off guard
        yield _Found(call.sdk, key, literal, default, number, _guard(line, match.start(), number, added))


def _evidence(file: FileChange, item: _Found) -> Iterable[Evidence]:
    attrs: dict[str, Any] = {"sdk": item.sdk, "flag": item.key, "default": item.default, "calls": item.calls}
    if item.guard_line is not None:
        attrs["guard_line"] = item.guard_line
    flag = f"'{item.key}'" if item.literal_key else item.key
    if item.default is True:
        yield ev.red_flag(
            SOURCE, Question.ROLLOUT, "flag-default-on",
            f"new {item.sdk} check of flag {flag} defaults to true: the new path runs for everyone "
            "if the flag is undefined or the flag service is unreachable",
            file.path, item.line, severity=Severity.WARNING, attrs=attrs,
        )
    else:
        if item.guard_line is not None and item.literal_key:
            confidence = Confidence.HIGH
        elif item.literal_key or item.guard_line is not None:
            confidence = Confidence.MEDIUM
        else:
            confidence = Confidence.LOW  # a flag wrapper, or a check whose result this diff does not branch on
        if item.default is None:
            confidence = Confidence.LOW
        default_words = "defaults to off" if item.default is False else "has a default that is not a literal"
        guard = "guards new code" if item.guard_line is not None else "was added"
        yield ev.rollout(
            SOURCE, "feature-flag", f"{item.sdk} flag {flag} {guard} and {default_words}",
            file.path, item.line, facets=("flagged",), attrs=attrs, confidence=confidence,
        )
    yield ev.rollback(
        SOURCE, "feature-flag-off", f"turning {item.sdk} flag {flag} off disables the new path without a deploy",
        file.path, item.line, path_kind=ev.FLAG_OFF, attrs=attrs,
        confidence=Confidence.MEDIUM if item.default is not False else Confidence.HIGH,
    )


def _guard(line: str, call_start: int, number: int, added: list[tuple[int, str]]) -> int | None:
    """Line of a condition on the flag check: on the call's own line, or on the variable it sets."""
    if _CONDITION.search(line[:call_start]):
        return number
    assigned = _ASSIGNED.match(line[:call_start])
    if not assigned:
        return None
    var = re.compile(rf"\b{re.escape(assigned.group('var'))}\b")
    for later, text in added:
        if number < later <= number + _GUARD_WINDOW and var.search(text) and _CONDITION.search(text):
            return later
    return None


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for index, char in enumerate(text):
        if char == "\n":
            starts.append(index + 1)
    return starts


def _split_args(text: str, start: int, limit: int = 2000) -> list[str] | None:
    """The top-level arguments of a call whose '(' ends just before ``start``."""
    args: list[str] = []
    depth, quote, current = 0, "", []
    end = min(len(text), start + limit)
    index = start
    while index < end:
        char = text[index]
        if quote:
            current.append(char)
            if char == "\\":
                current.append(text[index + 1] if index + 1 < end else "")
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif char in "([{":
            depth += 1
            current.append(char)
        elif char in ")]}":
            if depth == 0:
                piece = "".join(current).strip()
                if piece or args:
                    args.append(piece)
                return args
            depth -= 1
            current.append(char)
        elif char == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    return None


def _arguments(args: list[str]) -> tuple[list[str], dict[str, str]]:
    positional: list[str] = []
    keywords: dict[str, str] = {}
    for arg in args:
        match = re.match(r"^([A-Za-z_]\w*)\s*[=:]\s*(?![=:])(.*)$", arg, re.DOTALL)
        if match and not arg.startswith(("'", '"')):
            keywords[match.group(1)] = match.group(2).strip()
        else:
            positional.append(arg)
    return positional, keywords


def _keyword(keywords: dict[str, str], names: tuple[str, ...]) -> str | None:
    for name in keywords:
        if name in names or name.replace("_", "").lower() in {n.replace("_", "").lower() for n in names}:
            return keywords[name]
    return None


def _at(items: list[str], index: int) -> str | None:
    return items[index] if index < len(items) else None


def _string_literal(text: str) -> tuple[str, bool]:
    match = re.fullmatch(r"""(?s)[:@]?(['"`])(.*)\1""", text.strip())
    if match:
        return match.group(2), True
    return text.strip(), bool(re.fullmatch(r":\w+|[A-Z][A-Z0-9_]*(?:\.[A-Z][A-Z0-9_]*)*", text.strip()))


def _boolean(text: str | None) -> bool | None:
    if text is None:
        return None
    value = text.strip()
    return True if value in _TRUE else False if value in _FALSE else None


DETECTOR = FeatureFlagDetector()
