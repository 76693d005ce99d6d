"""Helm releases: how deploy scripts call ``helm upgrade``, and chart values.

``helm upgrade --atomic`` (Helm 3) or ``--rollback-on-failure`` (Helm 4, where ``--atomic``
is deprecated) rolls the release back when the upgrade fails: a revert path. A production
``helm upgrade`` with neither leaves a half-applied release behind a failed deploy: a warning.
Commands are read from scripts, Makefiles and CI files, joined across ``\\`` continuations and
flag-only continuation lines, and judged when the change adds any of their lines. Values files
that enable a canary (``canary.enabled: true``, as in Flagger's podinfo chart) are gradual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from govgate.detectors import deploy_evidence as ev
from govgate.detectors.scope import FileScope
from govgate.detectors.yaml_docs import added_line_numbers, is_yaml_path, load_documents, touched_documents
from govgate.errors import PolicyError
from govgate.model import Change, Confidence, Evidence, FileChange, Question, Severity
from govgate.patterns import PatternError, UserPattern, user_regex

SOURCE = "helm"
_SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh", ".mk", ".ps1", ".groovy")
_SCRIPT_NAMES = {"makefile", "gnumakefile", "justfile", "jenkinsfile", "taskfile.yml", "taskfile.yaml", "tiltfile"}
_CI_PATH = re.compile(
    r"(^|/)\.github/workflows/[^/]+\.ya?ml$|(^|/)\.gitlab-ci\.ya?ml$|\.gitlab-ci\.ya?ml$|(^|/)\.gitlab/ci/.+\.ya?ml$"
    r"|(^|/)\.circleci/config\.ya?ml$|(^|/)azure-pipelines[^/]*\.ya?ml$|(^|/)bitbucket-pipelines\.ya?ml$"
    r"|(^|/)\.drone\.ya?ml$|(^|/)\.travis\.ya?ml$|(^|/)cloudbuild[^/]*\.ya?ml$|(^|/)buildspec[^/]*\.ya?ml$"
    r"|(^|/)\.buildkite/.+\.ya?ml$|(^|/)\.tekton/.+\.ya?ml$|(^|/)(scripts?|ci|deploy|bin)/[^/]+$"
)
_HELMFILE = re.compile(r"(^|/)helmfile(\.d/[^/]+)?[^/]*\.ya?ml(\.gotmpl)?$")
_UPGRADE = re.compile(r"\bhelm[0-9]?(?:\s+--?[\w-]+(?:[= ]\S+)?)*\s+upgrade\b")
_ROLLBACK_CMD = re.compile(r"\bhelm[0-9]?\s+rollback\b")
_ATOMIC = re.compile(r"(?<![\w-])--(?:atomic|rollback-on-failure)(?:=true)?(?![\w-])")
_FLAG_LINE = re.compile(r"^\s*(?:- )?--?[A-Za-z]")
_DEFAULT_PRODUCTION_PATTERN = re.compile(r"\bprod(?:uction)?\b", re.IGNORECASE)
_PROD_FILE = re.compile(
    r"(?im)^\s*(?:-\s*)?(?:environment|env|name|stage|deploy_env|target)\s*:\s*[\"']?prod(?:uction)?\b"
    r"|\b(?:ENVIRONMENT|ENV|DEPLOY_ENV|STAGE)=[\"']?prod(?:uction)?\b"
)


class HelmDetector:
    name = SOURCE
    speaks_to = (FileScope(accept=lambda path: _file_kind(path) is not None),)
    reads = speaks_to
    config_schema: Mapping[str, Any] | None = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "production_pattern": {
                "type": "string", "minLength": 1, "format": "regex",
                "description": "regex (RE2 syntax) that marks a helm upgrade command as a production deploy "
                               "(default: prod or production)",
            },
        },
    }

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        production = _production_pattern(settings.get("production_pattern"))
        for file in change.files:
            kind = _file_kind(file.path)
            if ev.is_deleted(file) or kind is None:
                continue
            text = file.new_text()
            if file.unavailable:
                yield ev.unavailable(SOURCE, Question.ROLLBACK, file)
                continue
            if text is None:
                continue
            if kind == "values":
                yield from _values(file, text)
            elif kind == "helmfile":
                yield from _helmfile(file, text)
            elif "helm" in text:
                yield from _commands(file, text, production)


def _production_pattern(pattern: str | None) -> re.Pattern[str] | UserPattern:
    if pattern is None:
        return _DEFAULT_PRODUCTION_PATTERN
    try:  # the policy loader compiled it already; this only guards direct callers
        return user_regex(pattern, ignore_case=True)
    except PatternError as exc:
        raise PolicyError(f"settings.helm.production_pattern is not a usable regular expression: {exc}") from None


def _file_kind(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1].lower()
    if _HELMFILE.search(path):
        return "helmfile"
    if name.startswith("values") and is_yaml_path(name):
        return "values"
    if name.endswith(_SCRIPT_SUFFIXES) or name in _SCRIPT_NAMES or _CI_PATH.search(path):
        return "script"
    return None


@dataclass(frozen=True)
class _Command:
    text: str
    first: int
    last: int


def _logical_commands(lines: list[str], start: re.Pattern[str]) -> Iterable[_Command]:
    index = 0
    while index < len(lines):
        if not start.search(lines[index]) or lines[index].lstrip().startswith("#"):
            index += 1
            continue
        first = index
        parts = [lines[index].rstrip().rstrip("\\")]
        while index + 1 < len(lines) and (lines[index].rstrip().endswith("\\") or _FLAG_LINE.match(lines[index + 1])):
            index += 1
            parts.append(lines[index].strip().rstrip("\\"))
        yield _Command(" ".join(part.strip() for part in parts), first + 1, index + 1)
        index += 1


def _commands(file: FileChange, text: str, production: re.Pattern[str] | UserPattern) -> Iterable[Evidence]:
    lines = text.splitlines()
    upgrades = list(_logical_commands(lines, _UPGRADE))
    rollbacks = list(_logical_commands(lines, _ROLLBACK_CMD))
    if not upgrades and not rollbacks:
        return
    added = added_line_numbers(file)

    def touched(command: _Command) -> bool:
        return added is None or any(command.first <= n <= command.last for n in added)

    file_is_production = bool(_PROD_FILE.search(text))
    for command in filter(touched, upgrades):
        flags = sorted(set(re.findall(r"(?<![\w-])--[a-z][\w-]*", command.text)))
        namespace = re.search(r"(?:--namespace[= ]|(?<![\w-])-n\s+)[\"']?([^\s\"']+)", command.text)
        attrs: dict[str, Any] = {"flags": flags, "command_lines": [command.first, command.last]}
        if namespace:
            attrs["namespace"] = namespace.group(1)
        if _ATOMIC.search(command.text):
            flag = "--rollback-on-failure" if "--rollback-on-failure" in command.text else "--atomic"
            yield ev.rollback(
                SOURCE, "helm-atomic", f"helm upgrade {flag} rolls the release back if the upgrade fails",
                file.path, command.first, path_kind=ev.ATOMIC_RELEASE, attrs=attrs,
            )
            continue
        if production.search(command.text):
            attrs["production_hint"] = "command"
        elif file_is_production:
            attrs["production_hint"] = "file"
        else:
            continue
        wait = " (--wait only waits; it does not roll back)" if "--wait" in flags else ""
        yield ev.red_flag(
            SOURCE, Question.ROLLBACK, "helm-upgrade-not-atomic",
            f"production helm upgrade without --atomic or --rollback-on-failure: a failed upgrade stays half-applied{wait}",
            file.path, command.first, severity=Severity.WARNING, attrs=attrs,
            confidence=Confidence.HIGH if attrs["production_hint"] == "command" else Confidence.MEDIUM,
        )
    for command in filter(touched, rollbacks):
        yield ev.rollback(
            SOURCE, "helm-rollback", "the deploy script runs helm rollback to return to the previous release",
            file.path, command.first, path_kind=ev.HELM_ROLLBACK, attrs={"command_lines": [command.first, command.last]},
            confidence=Confidence.MEDIUM,
        )


def _values(file: FileChange, text: str) -> Iterable[Evidence]:
    if "canary" not in text:
        return
    old_docs = load_documents(file.old_text() or "")
    was_enabled = any(doc.get("canary", "enabled") is True for doc in old_docs)
    for doc in touched_documents(file, load_documents(text)):
        enabled = doc.get("canary", "enabled")
        analysis = doc.mapping("canary", "analysis")
        attrs = {k: analysis[k] for k in ("interval", "threshold", "stepWeight", "maxWeight") if k in analysis}
        if enabled is True:
            yield ev.rollout(
                SOURCE, "helm-values-canary",
                "chart values enable the canary (canary.enabled: true)"
                + (f", stepWeight {attrs['stepWeight']}% up to {attrs.get('maxWeight', '?')}%" if "stepWeight" in attrs else ""),
                file.path, doc.line("canary", "enabled"), attrs=attrs, confidence=Confidence.MEDIUM,
            )
        elif enabled is False and was_enabled:
            yield ev.red_flag(
                SOURCE, Question.ROLLOUT, "helm-values-canary-disabled",
                "chart values turn the canary off (canary.enabled: false): releases go straight to every pod",
                file.path, doc.line("canary", "enabled"), severity=Severity.WARNING, attrs=attrs,
            )


def _helmfile(file: FileChange, text: str) -> Iterable[Evidence]:
    for doc in touched_documents(file, load_documents(text)):
        if doc.get("helmDefaults", "atomic") is True:
            yield ev.rollback(SOURCE, "helmfile-atomic", "helmfile helmDefaults.atomic: true rolls failed releases back",
                              file.path, doc.line("helmDefaults", "atomic"), path_kind=ev.ATOMIC_RELEASE)
        for index, release in enumerate(doc.sequence("releases")):
            if isinstance(release, dict) and release.get("atomic") is True:
                yield ev.rollback(
                    SOURCE, "helmfile-atomic", f"helmfile release {release.get('name', index)} is atomic: a failed upgrade rolls back",
                    file.path, doc.line("releases", index, "atomic"), path_kind=ev.ATOMIC_RELEASE,
                )


DETECTOR = HelmDetector()
