"""Read a policy file: YAML with line numbers, strict schema validation, typed objects.

Every problem is reported as ``file:line: key: what was expected`` and raised as a
PolicyError (exit 2), never as a traceback.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from govgate.errors import GovgateError, PolicyError
from govgate.limits import MAX_POLICY_BYTES, MAX_POLICY_DEPTH, MAX_POLICY_NODES
from govgate.model import Severity
from govgate.policy.checks import Positions, check_meaning, duplicate_ids, render_path
from govgate.policy.model import Condition, Policy, Requirement, Rule, Waiver
from govgate.text_files import read_config_text

DEFAULT_POLICY_FILES = (".govgate.yml", ".govgate.yaml")
EMBEDDED_DEFAULT = "default"


def presets_dir() -> Path:
    """Shipped presets: inside the wheel, or beside the package in a source checkout."""
    packaged = Path(__file__).resolve().parent.parent / "policies"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "policies"


def preset_names() -> list[str]:
    return sorted(p.stem for p in presets_dir().glob("*.yml"))


def preset_path(name: str) -> Path:
    # Only a listed name: `extends: ../../x` must never reach a file outside the shipped presets.
    if name not in preset_names():
        raise PolicyError(f"unknown preset {name!r}", f"choose one of: {', '.join(preset_names())}")
    return presets_dir() / f"{name}.yml"


def find_policy(explicit: str | None, repo_root: Path | None) -> Path:
    """For `policy explain`: --policy PRESET or FILE, else .govgate.yml in the working tree, else the embedded default.

    Judging never uses this: ``govgate.sources.trusted`` reads the policy from the base revision.
    """
    from govgate.policy.choice import PolicyChoice

    choice = PolicyChoice.parse(explicit)
    if choice.preset is not None:
        return preset_path(choice.preset)
    if choice.file is not None:
        return Path(choice.file)
    if repo_root is not None:
        for name in DEFAULT_POLICY_FILES:
            if (repo_root / name).is_file():
                return repo_root / name
    return preset_path(EMBEDDED_DEFAULT)


def load_policy(path: Path) -> Policy:
    text = read_config_text(path, what="policy file", error=PolicyError, limit=MAX_POLICY_BYTES,
                            too_large_hint=_TOO_LARGE_HINT)
    return parse_policy(text, str(path))


def parse_policy(text: str, source: str, _depth: int = 0, *, today: dt.date | None = None) -> Policy:
    if len(text) > MAX_POLICY_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        _too_large(source)
    data, positions = _load_yaml(text, source)
    key = _validation_key(text)
    if not _remembered(key):
        _validate(data, positions, source)
        _remember_valid(key)
    base: Policy | None = None
    if "extends" in data:
        if _depth > 3:
            raise PolicyError(f"{source}: 'extends' nests too deeply")
        base_path = preset_path(data["extends"])
        base = parse_policy(base_path.read_text("utf-8"), str(base_path), _depth + 1, today=today)
    findings = check_meaning(data, positions, source, _schema(), {r.id for r in base.rules} if base else set(),
                             today or dt.datetime.now(dt.UTC).date())
    _raise_if_any(findings.errors)
    warnings = (base.warnings if base else ()) + tuple(text for _, text in sorted(findings.warnings))
    return _build(data, positions, source, base, warnings)


_TOO_LARGE_HINT = "a policy is a few kilobytes of YAML; check that this is the file you meant"


def _too_large(source: str) -> None:
    raise PolicyError(f"{source}: the policy is larger than {MAX_POLICY_BYTES // 1024} KiB", _TOO_LARGE_HINT)


@dataclass(frozen=True)
class YamlDocument:
    """What kind of file a YAML text is, for the loader's limits and messages (policy or memory file)."""

    noun: str
    keys: str  # the top-level keys it must have, as the message names them
    error: type[GovgateError]
    empty_hint: str


POLICY_DOCUMENT = YamlDocument("policy", "'version' and 'rules'", PolicyError, "start from `govgate policy init`")


def _policy_loader() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it

    class PolicyLoader(base):  # type: ignore[misc, valid-type]
        pass

    # `expires: 2027-02-30` must be a policy error, not a ValueError while building the document.
    PolicyLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
    return PolicyLoader


def _load_yaml(text: str, source: str, kind: YamlDocument = POLICY_DOCUMENT) -> tuple[dict[str, Any], Positions]:
    import yaml

    loader = _policy_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise kind.error(f"{source}: the {kind.noun} is empty", kind.empty_hint)
        positions: Positions = {}
        # Indexing walks the document as it will be built, aliases expanded, under a node budget:
        # an alias bomb is refused here, before the document is constructed.
        _index(node, (), positions, source, [MAX_POLICY_NODES], kind)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise kind.error(f"{where}: malformed YAML: {problem}") from None
    except RecursionError:  # the pure-Python parser on deep nesting (libyaml stops at 1000 levels)
        raise kind.error(f"{source}: the {kind.noun} nests more than {MAX_POLICY_DEPTH} levels deep") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise kind.error(f"{source}:1: the {kind.noun} must be a mapping with {kind.keys}")
    return _plain(data), positions


def _index(node: Any, path: tuple[Any, ...], positions: Positions, source: str, budget: list[int],
           kind: YamlDocument) -> None:
    import yaml

    line = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise kind.error(f"{source}:{line}: {render_path(path) or '(top level)'}: the {kind.noun} expands to more than "
                          f"{MAX_POLICY_NODES:,} values (YAML aliases?)")
    if len(path) > MAX_POLICY_DEPTH:
        raise kind.error(f"{source}:{line}: {render_path(path[:8])}...: the {kind.noun} nests more than {MAX_POLICY_DEPTH} levels deep")
    positions.setdefault(path, line)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise kind.error(f"{source}:{key_line}: {render_path(path) or '(top level)'}: a key must be a plain name, "
                                  "not a list or mapping")
            key = key_node.value
            if key in seen:
                raise kind.error(
                    f"{source}:{key_line}: {render_path((*path, key))}: duplicate key "
                    f"(first given on line {seen[key]})"
                )
            seen[key] = key_line
            positions[(*path, key)] = key_line
            _index(value_node, (*path, key), positions, source, budget, kind)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), positions, source, budget, kind)


def _plain(value: Any) -> Any:
    """Keys as strings, as the schema names them (dates are already the text written: see _policy_loader)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _validate(data: dict[str, Any], positions: Positions, source: str) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(_schema())
    problems: list[tuple[int, str]] = []
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        problems.append(_describe(error, path, positions, source))
    problems += duplicate_ids(data.get("rules"), ("rules",), "rule", positions, source)
    _raise_if_any(problems)


def _raise_if_any(problems: list[tuple[int, str]]) -> None:
    if problems:
        problems.sort()
        raise PolicyError("\n".join(text for _, text in problems) if len(problems) > 1 else problems[0][1])


# What a failed "pattern" means, for the patterns the schema uses.
_PATTERN_WORDS = {r"\S": "must not be blank", r"^\d{4}-\d{2}-\d{2}$": "expected a date written YYYY-MM-DD"}


def _describe(error: Any, path: tuple[Any, ...], positions: Positions, source: str) -> tuple[int, str]:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extras = sorted(set(error.instance) - set(allowed))
        key = extras[0] if extras else "?"
        line = positions.get((*path, key), positions.get(path, 1))
        return line, (
            f"{source}:{line}: {render_path((*path, key))}: unknown key {key!r}; "
            f"expected one of: {', '.join(allowed)}"
        )
    line = positions.get(path, positions.get(path[:-1], 1))
    where = render_path(path) or "(top level)"
    if error.validator == "required":
        return line, f"{source}:{line}: {where}: {error.message}"
    if error.validator in ("enum", "const"):
        expected = error.validator_value if error.validator == "enum" else [error.validator_value]
        return line, f"{source}:{line}: {where}: {error.instance!r} is not allowed; expected one of: {', '.join(map(str, expected))}"
    if error.validator == "oneOf":
        return line, f"{source}:{line}: {where}: {error.instance!r} is not valid here; expected {_expected_of(error)}"
    if error.validator == "pattern" and error.validator_value in _PATTERN_WORDS:
        return line, f"{source}:{line}: {where}: {error.instance!r} {_PATTERN_WORDS[error.validator_value]}"
    if error.validator == "pattern" and error.schema.get("description"):  # say what is expected in words, not as a regex
        return line, f"{source}:{line}: {where}: {error.instance!r} does not fit: {error.schema['description']}"
    return line, f"{source}:{line}: {where}: {error.message}"


def _expected_of(error: Any) -> str:
    kinds = []
    for sub in error.validator_value:
        if "enum" in sub:
            kinds.append("one of " + ", ".join(sub["enum"]))
        elif sub.get("type") == "array":
            kinds.append("a list")
        elif "description" in sub:
            kinds.append(sub["description"])
        elif "type" in sub:
            kinds.append(f"a {sub['type']}")
    return " or ".join(kinds) or "another value"


def _validation_key(text: str, schema: str | None = None) -> Path | None:
    """Where a successful schema validation of exactly this text, by this govgate, is remembered.

    Importing jsonschema costs more than half of a small check (measured: 0.23 s of CPU for
    ``policy validate`` without the cache, 0.10 s with it), so a text that passed the JSON Schema
    once is not run through it again. The key hashes the text, govgate's version and the schema
    itself, and the entry must hold that key: any doubt (None) means validate. Only the schema
    pass is remembered; the checks of ``govgate.policy.checks`` run on every load. ``schema``: the
    JSON text of another file's schema (the memory file's), else the policy's.
    """
    import hashlib
    import json
    import os

    from govgate import __version__

    root = os.environ.get("GOVGATE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "govgate"
    )
    if schema is None:
        schema = json.dumps(_schema(), sort_keys=True)
    digest = hashlib.sha256("\0".join((__version__, schema, text)).encode("utf-8", "surrogatepass")).hexdigest()
    return Path(root) / "validated" / digest


def _entry(key: Path) -> bytes:
    return f"govgate policy schema validation passed: {key.name}\n".encode()


def _remembered(key: Path | None) -> bool:
    try:
        return key is not None and key.is_file() and key.read_bytes() == _entry(key)
    except OSError:
        return False


def _remember_valid(key: Path | None) -> None:
    if key is None:
        return
    try:
        key.parent.mkdir(parents=True, exist_ok=True)
        temporary = key.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(_entry(key))
        temporary.replace(key)  # never a half-written entry
    except OSError:
        pass  # a read-only home only costs the next run a validation


@cache
def _schema() -> dict[str, Any]:
    from govgate.detectors import all_detectors
    from govgate.policy.schema import policy_schema

    settings = {d.name: d.config_schema for d in all_detectors() if d.config_schema}
    return policy_schema(settings)


def compiled_schema() -> dict[str, Any]:
    return copy.deepcopy(_schema())


def _build(data: dict[str, Any], positions: Positions, source: str, base: Policy | None, warnings: tuple[str, ...]) -> Policy:
    rules: dict[str, Rule] = {r.id: r for r in base.rules} if base else {}
    for i, raw in enumerate(data.get("rules") or []):
        require = tuple(Requirement.from_dict(q, spec) for q, spec in (raw.get("require") or {}).items())
        rules[raw["id"]] = Rule(
            id=raw["id"],
            when=Condition.from_dict(raw.get("when") or {}),
            require=require,
            severity=Severity(raw.get("severity", Severity.ERROR)),
            description=raw.get("description", ""),
            message=raw.get("message", ""),
            line=positions.get(("rules", i)),
        )
    waivers = tuple(
        Waiver(**{k: str(v) for k, v in w.items()}, line=positions.get(("waivers", i)))
        for i, w in enumerate(data.get("waivers") or [])
    )
    settings: dict[str, dict[str, Any]] = dict(base.settings) if base else {}
    for name, block in (data.get("settings") or {}).items():
        settings[name] = _merge(settings.get(name, {}), block)
    risk = data.get("risk") or {}
    base_risk = base.risk_thresholds if base else (3.0, 6.0)
    thresholds = (float(risk.get("medium", base_risk[0])), float(risk.get("high", base_risk[1])))
    if thresholds[0] > thresholds[1]:
        line = positions.get(("risk",), 1)
        raise PolicyError(f"{source}:{line}: risk: 'medium' ({thresholds[0]:g}) must not exceed 'high' ({thresholds[1]:g})")
    return Policy(
        **_memory_and_freezes(data, positions, source, base),
        rules=tuple(rules.values()),
        waivers=(base.waivers if base else ()) + waivers,
        settings=settings,
        risk_thresholds=thresholds,
        ai_min_confidence=(data.get("ai_assisted") or {}).get("min_confidence", base.ai_min_confidence if base else "medium"),
        github={**(base.github if base else {}), **(data.get("github") or {})},
        gitlab={**(base.gitlab if base else {}), **(data.get("gitlab") or {})},
        accept_too_large=tuple((data.get("inspection") or {}).get("accept_too_large",
                                                                   base.accept_too_large if base else ())),
        source=source,
        description=data.get("description", base.description if base else ""),
        warnings=warnings,
    )


def _memory_and_freezes(data: dict[str, Any], positions: dict[tuple[Any, ...], int], source: str,
                        base: Policy | None) -> dict[str, Any]:
    """The memory file's location and the freezes: a policy's own block replaces its base's."""
    from govgate.policy.freeze_loader import build_freezes

    values: dict[str, Any] = {}
    if "freezes" in data:
        values["freezes"] = build_freezes(data["freezes"] or {}, positions, source)
    elif base is not None:
        values["freezes"] = base.freezes
    memory_file = (data.get("memory") or {}).get("file") or (base.memory_file if base else None)
    if memory_file:
        values["memory_file"] = memory_file
    return values


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
