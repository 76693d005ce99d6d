"""Feature-flag definitions kept as files: flagd and GitLab-style YAML.

Used by the ``feature_flags`` detector; split out only to keep modules small.

flagd: ``fractional`` targeting serves the new variant to a share of users (gradual);
other targeting rules serve it to matching users (flagged); a new flag whose
``defaultVariant`` is on and that has no targeting is on for everyone at once.
GitLab: ``default_enabled: false`` on introduction is a dark launch, rolled out through the
rollout issue and rolled back with ``/chatops run feature set <flag> false``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from govgate.detectors import deploy_evidence as ev
from govgate.detectors.yaml_docs import YamlDoc, load_documents
from govgate.model import Confidence, Evidence, FileChange, Question, Severity

_GITLAB_PATH = re.compile(r"(^|/)config/feature_flags/(.+/)?[^/]+\.ya?ml$")
_FLAGD_SUFFIXES = (".flagd.json", ".flagd.yaml", ".flagd.yml")
_ON_NAMES = {"on", "enabled", "true", "yes"}
_OFF_NAMES = {"off", "disabled", "false", "no"}


@lru_cache(maxsize=65536)  # asked for every changed source file; a history repeats its paths
def flag_config_kind(path: str) -> str | None:
    """"gitlab", "flagd" or None, from the path alone (no contents are read)."""
    if _GITLAB_PATH.search(path):
        return "gitlab"
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    # flagd files need not be called *.flagd.json; a JSON file named for flags is worth a look.
    if low.endswith(_FLAGD_SUFFIXES) or (name.endswith(".json") and "flag" in name):
        return "flagd"
    return None


def judge_flag_config(source: str, file: FileChange, text: str, kind: str) -> Iterable[Evidence]:
    if kind == "gitlab":
        yield from _gitlab(source, file, text)
    elif "defaultVariant" in text and ("flagd.dev/schema" in text or file.path.lower().endswith(_FLAGD_SUFFIXES)
                                       or '"flags"' in text):
        yield from _flagd(source, file, text)


def _first_mapping(text: str | None, key: str | None = None) -> YamlDoc | None:
    if text is None:
        return None
    for doc in load_documents(text):
        if isinstance(doc.data, dict) and (key is None or isinstance(doc.data.get(key), dict)):
            return doc
    return None


def _flagd(source: str, file: FileChange, text: str) -> Iterable[Evidence]:
    doc = _first_mapping(text, "flags")
    if doc is None:
        return
    old_doc = _first_mapping(file.old_text(), "flags")
    old_flags = old_doc.mapping("flags") if old_doc else {}
    evaluators = doc.mapping("$evaluators")
    for name, flag in doc.mapping("flags").items():
        if not isinstance(flag, dict) or old_flags.get(name) == flag or flag.get("state") == "DISABLED":
            continue
        is_new = name not in old_flags
        line = doc.line("flags", name)
        variants = flag.get("variants") if isinstance(flag.get("variants"), dict) else {}
        default_variant = flag.get("defaultVariant")
        targeting = flag.get("targeting")
        attrs: dict[str, Any] = {"flag": name, "defaultVariant": default_variant, "new": is_new}
        buckets = _fractional(targeting, evaluators)
        if buckets:
            attrs["buckets"] = buckets
            split = ", ".join(f"{variant} {weight}%" for variant, weight in buckets)
            yield ev.rollout(source, "flagd-fractional", f"flagd flag '{name}' splits users into fractional buckets: {split}",
                             file.path, line, attrs=attrs)
        elif isinstance(targeting, dict) and targeting:
            yield ev.rollout(source, "flagd-targeting",
                             f"flagd flag '{name}' serves variants by targeting rules (default '{default_variant}')",
                             file.path, line, facets=("flagged",), attrs=attrs, confidence=Confidence.MEDIUM)
        else:
            default_value = variants.get(default_variant) if isinstance(default_variant, str) else None
            if _is_on(default_variant, default_value):
                old_default = old_flags.get(name, {}).get("defaultVariant") if isinstance(old_flags.get(name), dict) else None
                if is_new or old_default != default_variant:
                    yield ev.red_flag(
                        source, Question.ROLLOUT, "flagd-default-on",
                        f"flagd flag '{name}' has defaultVariant '{default_variant}' and no targeting: on for 100% at once",
                        file.path, doc.line("flags", name, "defaultVariant"), severity=Severity.WARNING, attrs=attrs,
                    )
                continue
            if not (is_new and _is_off(default_variant, default_value)):
                continue
            yield ev.rollout(source, "flagd-default-off", f"new flagd flag '{name}' defaults to '{default_variant}' (off)",
                             file.path, line, facets=("flagged",), attrs=attrs)
        yield ev.rollback(source, "flagd-flag-off",
                          f"setting flagd flag '{name}' to its off variant (or state DISABLED) withdraws the new behaviour",
                          file.path, line, path_kind=ev.FLAG_OFF, attrs=attrs, confidence=Confidence.MEDIUM)


def _fractional(targeting: Any, evaluators: dict[str, Any], depth: int = 0) -> list[tuple[str, float]]:
    """The (variant, weight) buckets of the first ``fractional`` rule, following ``$ref`` evaluators."""
    if depth > 32:
        return []
    if isinstance(targeting, dict):
        for key, value in targeting.items():
            if key == "fractional" and isinstance(value, list):
                return [(str(b[0]), b[1]) for b in value
                        if isinstance(b, list) and len(b) == 2 and isinstance(b[1], int | float) and not isinstance(b[1], bool)]
            if key == "$ref" and isinstance(value, str):
                found = _fractional(evaluators.get(value), evaluators, depth + 1)
            else:
                found = _fractional(value, evaluators, depth + 1)
            if found:
                return found
    elif isinstance(targeting, list):
        for item in targeting:
            found = _fractional(item, evaluators, depth + 1)
            if found:
                return found
    return []


def _is_on(variant: Any, value: Any) -> bool:
    return value is True or (isinstance(variant, str) and variant.lower() in _ON_NAMES and value is not False)


def _is_off(variant: Any, value: Any) -> bool:
    return value is False or (isinstance(variant, str) and variant.lower() in _OFF_NAMES and value is not True)


def _gitlab(source: str, file: FileChange, text: str) -> Iterable[Evidence]:
    doc = _first_mapping(text)
    if doc is None or file.old_text() is not None:
        return  # only the flag's introduction says how it starts; later edits are the rollout itself
    data = doc.data
    name = data.get("name") if isinstance(data.get("name"), str) else file.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    attrs = {k: data[k] for k in ("name", "type", "default_enabled", "rollout_issue_url", "introduced_by_url", "milestone")
             if k in data}
    default_enabled = data.get("default_enabled")
    if default_enabled is True:
        yield ev.red_flag(
            source, Question.ROLLOUT, "gitlab-flag-default-enabled",
            f"feature flag {name} is introduced with default_enabled: true: it is on everywhere as soon as it deploys",
            file.path, doc.line("default_enabled"), severity=Severity.WARNING, attrs=attrs,
        )
    elif default_enabled is False:
        yield ev.rollout(source, "gitlab-flag-default-off",
                         f"feature flag {name} is introduced with default_enabled: false and enabled through its rollout issue",
                         file.path, doc.line("default_enabled"), facets=("flagged",), attrs=attrs)
        yield ev.rollback(source, "gitlab-flag-off", f"/chatops run feature set {name} false turns the new path off",
                          file.path, doc.line("default_enabled"), path_kind=ev.FLAG_OFF, attrs=attrs)
    if not data.get("rollout_issue_url"):
        yield ev.red_flag(
            source, Question.ROLLOUT, "gitlab-flag-no-rollout-issue",
            f"feature flag {name} has no rollout_issue_url: nothing records how it will be rolled out",
            file.path, doc.line("rollout_issue_url"), severity=Severity.WARNING, attrs=attrs,
        )
