"""Which jobs of a merge request's pipeline the merge request could have written itself.

A merge request pipeline runs the ``.gitlab-ci.yml`` of the merge request's own head, so a job named
``test`` proves nothing by its name: the merge request can add a ``test`` job that runs ``exit 0``,
or rewrite the script of the existing one. A job counts as evidence only when its definition at the
pipeline's commit is the same as at the trust root (the target branch the policy comes from):

- the job's own mapping (from every file that defines it), the hidden jobs and templates it reaches
  through ``extends`` and ``!reference``, the global keys that shape every job (``default``,
  ``variables``, ``image``, ``services``, ``cache``, ``before_script``, ``after_script``,
  ``workflow``) and the includes govgate cannot read, compared after YAML anchors are resolved;
- local includes are followed (``include: local``, plain paths, ``*`` and ``**`` globs) in the
  revision's own objects, never the working tree and never through a symbolic link;
- includes from other projects, remote URLs, templates and components are compared by what they
  name, not by their content (their content is outside the merge request's reach, and its changes
  are not the merge request's).

When the project's CI configuration file lives in another project (``ci_config_path`` of the form
``path@group/project``, or a URL), no job is the merge request's to define. What cannot be read is
"unknown", which never counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from govgate.errors import GovgateError
from govgate.model import JobDefinition
from govgate.sources.base_files import BaseFiles, tree_listing

DEFAULT_CI_CONFIG = ".gitlab-ci.yml"
GLOBAL_KEYS = ("default", "variables", "image", "services", "cache", "before_script", "after_script", "workflow")
_NOT_JOBS = frozenset({*GLOBAL_KEYS, "include", "stages", "types", "spec"})
_MAX_FILES = 150  # GitLab's own limit on included files
_MAX_CANONICAL_CHARS = 4 << 20  # anchors can expand a small file enormously: past this, the job is unknown
_PARALLEL_SUFFIX = re.compile(r"^(?P<name>.+?)(?: \d+/\d+|: \[.*\])$")


class _ReferenceLoader(yaml.SafeLoader):
    """The safe loader, with GitLab's ``!reference [job, key]`` kept as a marker instead of failing."""


def _reference(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else loader.construct_scalar(node)
    return {"!reference": value}


_ReferenceLoader.add_constructor("!reference", _reference)


@dataclass
class CiConfig:
    """The jobs, templates and global keys of one revision's CI configuration, by name, in file order."""

    definitions: dict[str, list[Any]] = field(default_factory=dict)  # every top-level mapping, hidden jobs too
    globals: list[tuple[str, Any]] = field(default_factory=list)
    external: list[Any] = field(default_factory=list)  # include specs govgate does not read
    files: list[str] = field(default_factory=list)
    problem: str | None = None  # why it could not be read: every job is then unknown


def config_outside_repository(ci_config_path: str | None) -> bool:
    """``path@group/project`` or a URL: GitLab reads the configuration from outside this repository."""
    path = (ci_config_path or "").strip()
    return "@" in path or path.startswith(("http://", "https://"))


def read_ci_config(files: BaseFiles, path: str = DEFAULT_CI_CONFIG) -> CiConfig:
    config = CiConfig()
    try:
        _read_file(files, path.lstrip("/"), config, set(), depth=0)
    except _Unreadable as exc:
        config.problem = str(exc)
    except GovgateError as exc:  # a link or a non-file where a CI file should be, an object missing from the clone
        config.problem = exc.message
    return config


def compare_jobs(base: CiConfig, head: CiConfig, names: list[str]) -> dict[str, tuple[JobDefinition, str]]:
    """For each job name of a pipeline: whether the head defines it as the base does, and why."""
    by_definition: dict[str, tuple[JobDefinition, str]] = {}  # parallel runs share one definition: compared once
    found: dict[str, tuple[JobDefinition, str]] = {}
    for shown in names:
        name = job_definition_name(shown)
        if name not in by_definition:
            by_definition[name] = _compare(base, head, name)
        found[shown] = by_definition[name]
    return found


def job_definition_name(name: str) -> str:
    """``test 1/3`` (parallel) and ``test: [a, b]`` (parallel:matrix) are runs of the job ``test``."""
    match = _PARALLEL_SUFFIX.match(name)
    return match["name"] if match else name


def _compare(base: CiConfig, head: CiConfig, name: str) -> tuple[JobDefinition, str]:
    if base.problem:
        return JobDefinition.UNKNOWN, f"the target branch's CI configuration cannot be read ({base.problem})"
    if name not in base.definitions:
        if base.external:
            return JobDefinition.UNKNOWN, (f"{name!r} is not defined in the target branch's own CI files; it may come from "
                                           "an include govgate cannot read (project, remote, template or component)")
        return JobDefinition.ADDED, f"{name!r} is not defined at the target branch: this merge request added it"
    if head.problem:
        return JobDefinition.UNKNOWN, f"the pipeline commit's CI configuration cannot be read ({head.problem})"
    if name not in head.definitions:
        return JobDefinition.UNKNOWN, f"{name!r} is not in the pipeline commit's own CI files"
    try:
        same = _fingerprint(base, name) == _fingerprint(head, name)
    except _Unreadable as exc:
        return JobDefinition.UNKNOWN, str(exc)
    if same:
        return JobDefinition.SAME, f"defined as on the target branch ({', '.join(base.files[:3])})"
    return JobDefinition.CHANGED, (f"this merge request changes what {name!r} runs (its definition, a template it extends, "
                                   "or a global key), so it cannot vouch for the merge request; rebase if the target "
                                   "branch changed it")


class _Unreadable(Exception):
    pass


def _read_file(files: BaseFiles, path: str, config: CiConfig, seen: set[str], depth: int) -> None:
    if path in seen:
        return
    if len(seen) >= _MAX_FILES or depth > 100:
        raise _Unreadable(f"more than {_MAX_FILES} included files")
    seen.add(path)
    text = files.read_text(path, what="CI configuration")
    if text is None:
        if depth == 0:
            raise _Unreadable(f"{path} does not exist at {files.label}")
        raise _Unreadable(f"included file {path} does not exist at {files.label}")
    config.files.append(path)
    try:
        documents = list(yaml.load_all(text, Loader=_ReferenceLoader))  # a SafeLoader: no object construction
    except (yaml.YAMLError, RecursionError) as exc:
        raise _Unreadable(f"{path} is not valid YAML ({type(exc).__name__})") from None
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            raise _Unreadable(f"{path} is not a mapping of jobs")
        for key, value in document.items():
            key = str(key)
            if key == "include":
                for local in _includes(value, config):
                    for target in _expand(files, local):
                        _read_file(files, target, config, seen, depth + 1)
            elif key in _NOT_JOBS:
                config.globals.append((key, value))
            elif isinstance(value, dict):
                config.definitions.setdefault(key, []).append(value)


def _includes(value: Any, config: CiConfig) -> Iterator[str]:
    """Local include paths; every other include is recorded as external (compared by what it names)."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            if item.startswith(("http://", "https://")) or "$" in item:
                config.external.append(item)
            else:
                yield item
        elif isinstance(item, dict) and isinstance(item.get("local"), str) and "$" not in item["local"]:
            yield item["local"]
        else:
            config.external.append(item)


def _expand(files: BaseFiles, include: str) -> list[str]:
    path = include.lstrip("/")
    if "*" not in path:
        return [path]
    pattern = re.compile("".join("(?:[^/]+/)*" if part == "**/" else "[^/]*" if part == "*" else re.escape(part)
                                 for part in re.split(r"(\*\*/|\*)", path)) + r"\Z")
    listing = tree_listing(files.repo, files.revision)
    return sorted(name for name in listing if pattern.match(name) and name.endswith((".yml", ".yaml")))


def _fingerprint(config: CiConfig, name: str) -> str:
    reached: dict[str, list[Any]] = {}
    pending = [name]
    while pending:
        current = pending.pop()
        if current in reached or current not in config.definitions:
            continue
        reached[current] = config.definitions[current]
        pending.extend(_referenced(config.definitions[current]))
    return _canonical({"jobs": reached, "globals": config.globals, "external": config.external})


def _referenced(definitions: list[Any]) -> Iterator[str]:
    """Names a job reaches: ``extends`` (a name or a list) and the first element of each ``!reference``."""
    stack: list[Any] = list(definitions)
    budget = 100_000
    while stack and budget > 0:
        budget -= 1
        node = stack.pop()
        if isinstance(node, dict):
            if set(node) == {"!reference"} and isinstance(node["!reference"], list) and node["!reference"]:
                yield str(node["!reference"][0])
            extends = node.get("extends")
            if isinstance(extends, str):
                yield extends
            elif isinstance(extends, list):
                yield from (str(e) for e in extends)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _canonical(value: Any) -> str:
    """A stable text of a loaded YAML value, refused past a size that only alias expansion reaches."""
    out: list[str] = []
    size = 0

    def emit(text: str) -> None:
        nonlocal size
        size += len(text)
        if size > _MAX_CANONICAL_CHARS:
            raise _Unreadable("the CI configuration expands past what govgate compares (YAML aliases)")
        out.append(text)

    def walk(node: Any, depth: int) -> None:
        if depth > 200:
            raise _Unreadable("the CI configuration nests too deeply to compare")
        if isinstance(node, dict):
            emit("{")
            for key in sorted(node, key=str):
                emit(json.dumps(str(key)) + ":")
                walk(node[key], depth + 1)
                emit(",")
            emit("}")
        elif isinstance(node, (list, tuple)):
            emit("[")
            for item in node:
                walk(item, depth + 1)
                emit(",")
            emit("]")
        else:
            emit(json.dumps(node, default=str))

    walk(value, 0)
    return "".join(out)
