"""Terraform: lifecycle guards, ASG instance refresh, and destroyed resources.

Supports: ``lifecycle { create_before_destroy = true }`` (the replacement exists before the
old one goes), ``prevent_destroy = true`` (a guard, weaker: it blocks the step that has no way
back), and an ASG ``instance_refresh`` with ``checkpoint_percentages`` / ``min_healthy_percentage``
(gradual) and ``auto_rollback = true`` (rolls back, on alarms if ``alarm_specification`` is set).

Red flags: a resource or module block present before the change and gone after it, in any
``.tf`` file of the same directory, with no ``moved`` block for it: Terraform destroys it,
"even if prevent_destroy is enabled". And in a committed plan JSON (``terraform show -json``),
``resource_changes[].change.actions`` containing ``"delete"``.

The HCL reading is a tolerant scan (strings, comments and heredocs masked, braces matched),
not a parser: it needs no dependency and never fails on syntax it does not know.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from govgate.detectors import deploy_evidence as ev
from govgate.detectors.scope import FileScope
from govgate.detectors.yaml_docs import added_line_numbers, touches
from govgate.model import Change, Confidence, Evidence, FileChange, Question, Severity

SOURCE = "terraform"
_HEADER = re.compile(r"""(?m)^[ \t]*([A-Za-z_][\w-]*)((?:[ \t]+"[^"\n]*"|[ \t]+[\w.-]+)*)[ \t]*\{""")
_LABEL = re.compile(r'"([^"\n]*)"|([\w.-]+)')
_ATTR_TRUE = r"(?m)^[ \t]*{name}[ \t]*=[ \t]*true\b"


@dataclass(frozen=True)
class _Block:
    kind: str  # resource | data | module | moved | removed
    labels: tuple[str, ...]
    body: str  # masked text between the braces (strings and comments blanked, same offsets)
    raw: str  # the original text between the braces
    first_line: int
    last_line: int
    body_line: int  # line of the body's first character

    @property
    def address(self) -> str | None:
        if self.kind == "resource" and len(self.labels) >= 2:
            return f"{self.labels[0]}.{self.labels[1]}"
        if self.kind == "module" and self.labels:
            return f"module.{self.labels[0]}"
        return None

    def line_at(self, offset: int) -> int:
        return self.body_line + self.body.count("\n", 0, offset)


class TerraformDetector:
    name = SOURCE
    config_schema: Mapping[str, Any] | None = None
    speaks_to = (FileScope((".tf",)), FileScope((".json",), accept=lambda path: _is_plan_path(path)))
    reads = speaks_to

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        tf_files = [f for f in change.files if f.path.endswith(".tf") or (f.old_path or "").endswith(".tf")]
        new_blocks: dict[str, list[_Block]] = {}
        unreadable: set[str] = set()  # directories whose new configuration is unknown
        for file in tf_files:
            text = None if ev.is_deleted(file) else file.new_text()
            if file.unavailable:
                unreadable.add(posixpath.dirname(file.path))
                yield ev.unavailable(SOURCE, Question.ROLLBACK, file)
                continue
            if text is not None and file.path.endswith(".tf"):
                blocks = parse_blocks(text)
                new_blocks[file.path] = blocks
                yield from _supports(file, blocks)
        yield from _destroyed([f for f in tf_files if posixpath.dirname(f.path) not in unreadable], new_blocks)
        for file in change.files:
            if _is_plan_path(file.path) and not ev.is_deleted(file):
                text = file.new_text()
                if file.unavailable:
                    yield ev.unavailable(SOURCE, Question.ROLLBACK, file)
                elif text is not None and '"resource_changes"' in text:
                    yield from _plan(file, text)


def _supports(file: FileChange, blocks: list[_Block]) -> Iterable[Evidence]:
    added = added_line_numbers(file)
    for block in blocks:
        if block.kind not in ("resource", "module") or not touches(added, block.first_line, block.last_line):
            continue
        address = block.address or block.kind
        for lifecycle in _nested(block, r"\blifecycle[ \t]*\{"):
            start, body = lifecycle
            for name, path_kind, confidence, words in (
                ("create_before_destroy", ev.CREATE_BEFORE_DESTROY, Confidence.HIGH,
                 "a replacement is created before the old one is destroyed, so a failed replacement leaves the old one serving"),
                ("prevent_destroy", ev.PREVENT_DESTROY, Confidence.LOW,
                 "Terraform refuses plans that would destroy it (but not the removal of its block)"),
            ):
                match = re.search(_ATTR_TRUE.format(name=name), body)
                if match:
                    yield ev.rollback(
                        SOURCE, f"terraform-{name.replace('_', '-')}", f"{address}: {name} = true: {words}",
                        file.path, block.line_at(start + match.start()), path_kind=path_kind,
                        attrs={"address": address}, confidence=confidence,
                    )
        for start, body in _nested(block, r"\binstance_refresh[ \t]*=?[ \t]*\{"):
            yield from _instance_refresh(file, block, address, start, body)


def _instance_refresh(file: FileChange, block: _Block, address: str, start: int, body: str) -> Iterable[Evidence]:
    raw = block.raw[start:start + len(body)]
    checkpoints = re.search(r"\bcheckpoint_percentages[ \t]*=[ \t]*\[([\d, \t]*)\]", raw)
    healthy = re.search(r"\bmin_healthy_percentage[ \t]*=[ \t]*(\d+)", raw)
    strategy = re.search(r'\bstrategy[ \t]*=[ \t]*"(\w+)"', raw)
    attrs: dict[str, Any] = {"address": address}
    if checkpoints:
        attrs["checkpoint_percentages"] = [int(p) for p in re.findall(r"\d+", checkpoints.group(1))]
    if healthy:
        attrs["min_healthy_percentage"] = int(healthy.group(1))
    if strategy:
        attrs["strategy"] = strategy.group(1)
    line = block.line_at(start)
    if checkpoints or healthy:
        steps = f"checkpoints at {attrs['checkpoint_percentages']}%" if checkpoints else "no checkpoints"
        yield ev.rollout(
            SOURCE, "asg-instance-refresh",
            f"{address}: instance refresh replaces instances gradually ({steps}, min healthy {attrs.get('min_healthy_percentage', '?')}%)",
            file.path, line, attrs=attrs, confidence=Confidence.HIGH if checkpoints else Confidence.MEDIUM,
        )
    rollback_match = re.search(_ATTR_TRUE.format(name="auto_rollback"), body)
    if rollback_match:
        on_alarm = re.search(r"\balarm_specification\b", body) is not None
        yield ev.rollback(
            SOURCE, "asg-auto-rollback",
            f"{address}: auto_rollback = true returns the group to its previous launch template "
            + ("when the refresh fails or an alarm fires" if on_alarm else "when the refresh fails"),
            file.path, block.line_at(start + rollback_match.start()),
            path_kind=ev.ALARM_ROLLBACK if on_alarm else ev.FAILURE_ROLLBACK, attrs=attrs,
        )


def _destroyed(tf_files: list[FileChange], new_blocks: dict[str, list[_Block]]) -> Iterable[Evidence]:
    present: set[tuple[str, str]] = set()
    handled: set[tuple[str, str]] = set()  # moved away, or removed from state without destroying
    for path, blocks in new_blocks.items():
        directory = posixpath.dirname(path)
        for block in blocks:
            if block.address:
                present.add((directory, block.address))
            elif block.kind in ("moved", "removed"):
                source = re.search(r"(?m)^[ \t]*from[ \t]*=[ \t]*([\w.\[\]\"-]+)", block.raw)
                keeps = block.kind == "moved" or re.search(r"(?m)^[ \t]*destroy[ \t]*=[ \t]*false\b", block.body)
                if source and keeps:
                    handled.add((directory, re.sub(r"\[.*?\]", "", source.group(1))))
    for file in tf_files:
        old_path = file.old_path or file.path
        if not old_path.endswith(".tf") or ev.is_added(file):
            continue
        old_text = file.old_text()
        if old_text is None:
            continue
        directory = posixpath.dirname(old_path)
        for block in parse_blocks(old_text):
            address = block.address
            if address is None or (directory, address) in present or (directory, address) in handled:
                continue
            guarded = re.search(_ATTR_TRUE.format(name="prevent_destroy"), block.body) is not None
            what = "every resource of module" if block.kind == "module" else ""
            detail = f"removing the {block.kind} block destroys {what + ' ' if what else ''}{address}"
            if guarded:
                detail += ", although it had prevent_destroy = true: removing the configuration bypasses that guard"
            yield ev.red_flag(
                SOURCE, Question.ROLLBACK, "terraform-destroy", detail, file.path, None, severity=Severity.ERROR,
                attrs={"address": address, "old_path": old_path, "old_line": block.first_line, "prevent_destroy": guarded},
            )


def _is_plan_path(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(".json") and ("plan" in name or name.startswith("tf"))


def _plan(file: FileChange, text: str) -> Iterable[Evidence]:
    try:
        plan = json.loads(text)
    except (ValueError, RecursionError):
        return
    changes = plan.get("resource_changes") if isinstance(plan, dict) else None
    if not isinstance(changes, list):
        return
    section = text.find('"resource_changes"')
    starts = _line_starts(text)
    for item in changes:
        if not isinstance(item, dict) or not isinstance(item.get("change"), dict):
            continue
        actions = item["change"].get("actions") or []
        if "delete" not in actions:
            continue
        address = str(item.get("address", "?"))
        found = re.compile(r'"address"\s*:\s*"' + re.escape(address) + '"').search(text, max(section, 0))
        line = bisect.bisect_right(starts, found.start()) if found else None
        if actions == ["create", "delete"]:
            verb, severity = "replaces (creating the new one first)", Severity.WARNING
        elif "create" in actions:
            verb, severity = "replaces (destroying it first)", Severity.ERROR
        else:
            verb, severity = "destroys", Severity.ERROR
        yield ev.red_flag(
            SOURCE, Question.ROLLBACK, "terraform-plan-delete", f"the plan {verb} {address}",
            file.path, line, severity=severity, attrs={"address": address, "actions": list(actions)},
        )


# --- the tolerant HCL scan -------------------------------------------------------------------


def parse_blocks(text: str) -> list[_Block]:
    """Top-level blocks of a .tf file, with their bodies."""
    masked = _mask(text)
    starts = _line_starts(text)
    blocks: list[_Block] = []
    position = 0
    while True:
        header = _HEADER.search(masked, position)
        if header is None:
            break
        open_brace = header.end() - 1
        close = _matching(masked, open_brace)
        labels = tuple(a or b for a, b in _LABEL.findall(text[header.start(2):header.end(2)]))
        end = close if close is not None else len(text)
        blocks.append(_Block(
            kind=header.group(1), labels=labels, body=masked[open_brace + 1:end], raw=text[open_brace + 1:end],
            first_line=bisect.bisect_right(starts, header.start(1)), last_line=bisect.bisect_right(starts, min(end, len(text) - 1)),
            body_line=bisect.bisect_right(starts, open_brace),
        ))
        position = end + 1 if close is not None else len(text)
    return blocks


def _nested(block: _Block, opener: str) -> Iterable[tuple[int, str]]:
    """(offset in body, masked text) of each nested block or object that ``opener`` (ending in '{') starts."""
    for match in re.finditer(opener, block.body):
        close = _matching(block.body, match.end() - 1)
        end = close if close is not None else len(block.body)
        yield match.start(), block.body[match.start():end]


def _matching(masked: str, open_index: int) -> int | None:
    depth = 0
    for index in range(open_index, len(masked)):
        char = masked[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def _mask(text: str) -> str:
    """The text with comments, string contents and heredoc bodies blanked; offsets and newlines kept."""
    out = list(text)
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "#" or text.startswith("//", index):
            end = text.find("\n", index)
            end = length if end < 0 else end
            _blank(out, index, end)
            index = end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = length if end < 0 else end + 2
            _blank(out, index, end)
            index = end
        elif char == '"':
            end = index + 1
            while end < length and text[end] != '"' and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            _blank(out, index + 1, min(end, length))
            index = end + 1
        elif text.startswith("<<", index):
            heredoc = re.match(r"<<-?[ \t]*([A-Za-z_]\w*)[ \t]*\n", text[index:])
            if not heredoc:
                index += 2
                continue
            terminator = re.compile(rf"(?m)^[ \t]*{re.escape(heredoc.group(1))}[ \t]*$")
            found = terminator.search(text, index + heredoc.end())
            end = found.end() if found else length
            _blank(out, index + heredoc.end(), found.start() if found else length)
            index = end
        else:
            index += 1
    return "".join(out)


def _blank(out: list[str], start: int, end: int) -> None:
    for index in range(start, end):
        if out[index] != "\n":
            out[index] = " "


def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in re.finditer("\n", text))]


DETECTOR = TerraformDetector()
