"""Risk factors of a change: each one an Evidence(question=risk) with ``attrs.score``.

The engine adds the scores; the policy's ``risk.medium`` / ``risk.high`` thresholds (default
3 and 6) turn the sum into low, medium or high. Only factors with a score above 0 are reported.

Files that match ``ignore`` count for nothing, so a docs-only or tests-only change scores 0.
By default that is documentation by file type (``*.md``, ``*.rst``, LICENSE...) and test files by
each language's naming convention (``test_*.py``, ``*_test.go``, ``*.spec.ts``, ``*Test.java``...),
never a folder name: code under ``auth/tests/`` or ``payments/docs/`` is still code in a
sensitive area, and the folder is the change author's choice. Generated files (lockfiles, minified bundles) do not count towards
size, file count, areas or "config only", but still count as sensitive paths.

Factor (kind)        Default score
size                 lines added + removed in counted files: > 200: 1, > 500: 2, > 1500: 3.
                     When a source gives no line counts (history audits skip diffing blobs),
                     lines are estimated as |new_size - old_size| / 40 bytes (new_size for an added
                     file, old_size for a deleted one) and the detail says "estimated".
files                counted files: > 15: 1, > 40: 2.
sensitive-path       once per label touched, at that label's score:
                     authentication, permissions, security, cryptography, secrets,
                     payments: 4; CI/CD, container image, infrastructure, database migrations,
                     governance (CODEOWNERS, .govgate.yml): 3; dependencies (manifests and
                     lockfiles): 2.
areas                distinct top-level areas among counted files (the first path component, or
                     the first two under src/, packages/, services/ and similar): > 2: 2, > 4: 3.
deleted-files        counted files deleted: > 4: 1, > 19: 2.
binary-files         any counted binary file (it cannot be reviewed as text): 1.
config-only          every counted file is configuration (YAML, JSON, TOML, INI...) and none
                     is already a sensitive path: 1, because config reaches every environment
                     at once and no test usually exercises it.

With these defaults a 50-line feature with its test scores 0 (low); a 250-line change across
three areas scores 1 + 2 = 3 (medium); a 600-line change to auth code scores 2 + 4 = 6 (high).

Settings (``settings.risk`` in the policy), all optional:
  sensitive_paths: [{label, score, glob: str | [str]}]  added to the built-in labels; an entry
                   with a built-in label replaces that label (no glob: keep its globs and change
                   only the score; score 0 turns it off)
  ignore, generated, config_files: [globs]  added to the built-in lists
  builtin_ignore: false                     drop the built-in docs/tests ignore list
  size_thresholds, files_thresholds, areas_thresholds, deleted_thresholds:
                   [{above: n, score: s}]   replace the built-in table; the highest ``above``
                                            that the value exceeds gives the score
  binary_score, config_only_score: n
  area_containers: [names]                  replace the built-in container folder names
  bytes_per_line: n                         for size estimates (default 40)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from govgate.detectors.per_settings import once_per_settings
from govgate.detectors.scope import EVERY_CHANGE, NO_CONTENT
from govgate.model import Change, Evidence, FileChange, FileStatus, Location, Question, Trust, glob_set
from govgate.schema_parts import path_globs

_SOURCE = "risk"

DEFAULT_SENSITIVE: dict[str, tuple[float, tuple[str, ...]]] = {
    "authentication": (4, ("auth", "auth.*", "*_auth.*", "auth_*", "authn", "authz", "*authenticat*", "*authoriz*",
                           "oauth*", "login*", "sso", "saml*", "jwt*")),
    "permissions": (4, ("permissions", "*permission*", "iam", "rbac", "acl", "acls")),
    "security": (4, ("security", "*security*")),
    "cryptography": (4, ("crypto", "*crypto*", "*encrypt*", "*decrypt*", "*cipher*", "*.pem", "*.key", "*.crt")),
    "secrets": (4, ("secrets", "*secret*", ".env", ".env.*", "*credential*", "*.keystore", "*.jks")),
    "payments": (4, ("payment*", "*payments*", "billing*", "*billing*", "checkout", "stripe", "invoice*")),
    "CI/CD": (3, (".github/workflows/**", ".github/actions/**", ".gitlab-ci.yml", ".gitlab/ci/**", "Jenkinsfile",
                  ".circleci/**", "azure-pipelines*.yml", ".buildkite/**", ".travis.yml", "bitbucket-pipelines.yml",
                  ".drone.yml", "cloudbuild*.yaml", "buildspec*.yml")),
    "container image": (3, ("Dockerfile", "Dockerfile.*", "*.dockerfile", "Containerfile", "docker-compose*.yml",
                            "docker-compose*.yaml", "compose.yml", "compose.yaml")),
    "infrastructure": (3, ("*.tf", "*.tfvars", "terragrunt.hcl", "terraform", "infra", "infrastructure", "k8s",
                           "kubernetes", "helm", "charts", "deploy", "deployment", "deployments", "kustomization.yaml",
                           "kustomization.yml", "ansible", "Pulumi.yaml", "cdk.json", "serverless.yml",
                           "clouddeploy.yaml", "skaffold.yaml")),
    "database migrations": (3, ("migrations", "db/migrate", "alembic", "*.up.sql", "*.down.sql", "V*__*.sql",
                                "U*__*.sql", "schema.prisma", "db/schema.rb", "db/structure.sql")),
    "governance": (3, ("CODEOWNERS", ".govgate.yml", ".govgate.yaml")),
    "dependencies": (2, ("package.json", "requirements*.txt", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile",
                         "go.mod", "Cargo.toml", "Gemfile", "pom.xml", "build.gradle", "build.gradle.kts",
                         "composer.json", "*.csproj", "mix.exs", *(
                             "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock",
                             "go.sum", "Cargo.lock", "Gemfile.lock", "composer.lock", "uv.lock", "bun.lockb",
                             "gradle.lockfile", "mix.lock"))),
}
# What counts for nothing, by what a file IS, never by the folder it sits in: a folder name is the
# author's choice, so ``auth/tests/session.py`` or ``payments/docs/handler.py`` is code like any other.
_DOC_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "CONTRIBUTORS", "CHANGELOG", "CHANGES", "HISTORY")
DEFAULT_DOCS: tuple[str, ...] = (
    "*.md", "*.markdown", "*.rst", "*.adoc", "*.asciidoc", *_DOC_NAMES, *(f"{name}.txt" for name in _DOC_NAMES),
)
_JS = ("js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts")
DEFAULT_TEST_FILES: tuple[str, ...] = (
    "test_*.py", "*_test.py", "conftest.py",  # pytest, unittest
    "*_test.go",  # go test
    *(f"*.{kind}.{ext}" for kind in ("test", "spec") for ext in _JS),  # Jest, Vitest, Mocha, Jasmine
    "*Test.java", "*Tests.java", "*IT.java", "*Test.kt", "*Tests.kt",  # JUnit (Surefire and Failsafe names)
    "*_spec.rb", "*_test.rb", "test_*.rb",  # RSpec, Minitest
    "*Test.php", "*Tests.cs", "*Test.cs", "*Tests.swift", "*Spec.scala", "*Test.scala", "*Suite.scala",
    "*_test.exs", "*_test.dart", "*_test.cc", "*_unittest.cc", "*_test.cpp",
)
DEFAULT_IGNORE: tuple[str, ...] = DEFAULT_DOCS + DEFAULT_TEST_FILES
DEFAULT_GENERATED: tuple[str, ...] = (
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "go.sum", "Cargo.lock",
    "Gemfile.lock", "composer.lock", "uv.lock", "bun.lockb", "gradle.lockfile", "mix.lock",
    "*.min.js", "*.min.css", "*.map", "*.pb.go", "*_pb2.py", "*_pb2_grpc.py",
)
DEFAULT_CONFIG: tuple[str, ...] = (
    "*.yml", "*.yaml", "*.json", "*.toml", "*.ini", "*.cfg", "*.conf", "*.properties", "*.env", ".env*",
)
DEFAULT_AREA_CONTAINERS: tuple[str, ...] = (
    "src", "lib", "libs", "app", "apps", "packages", "services", "pkg", "internal", "cmd", "modules", "components",
    "crates", "projects",
)
DEFAULT_THRESHOLDS: dict[str, tuple[tuple[float, float], ...]] = {
    "size": ((200, 1), (500, 2), (1500, 3)),
    "files": ((15, 1), (40, 2)),
    "areas": ((2, 2), (4, 3)),
    "deleted": ((4, 1), (19, 2)),
}
DEFAULT_BYTES_PER_LINE = 40

_GLOBS = path_globs()
_THRESHOLDS = {
    "type": "array",
    "items": {
        "type": "object", "additionalProperties": False, "required": ["above", "score"],
        "properties": {"above": {"type": "number", "minimum": 0}, "score": {"type": "integer", "minimum": 0}},
    },
}


@dataclass(frozen=True)
class _Settings:
    sensitive: dict[str, tuple[int, tuple[str, ...]]]
    ignore: tuple[str, ...]
    generated: tuple[str, ...]
    config: tuple[str, ...]
    thresholds: dict[str, tuple[tuple[float, int], ...]]
    binary_score: int
    config_only_score: int
    containers: frozenset[str]
    bytes_per_line: float

    @classmethod
    def read(cls, raw: Mapping[str, Any]) -> _Settings:
        sensitive = dict(DEFAULT_SENSITIVE)
        for entry in raw.get("sensitive_paths", ()):
            glob = entry.get("glob")
            globs = (glob,) if isinstance(glob, str) else tuple(glob or ())
            if not globs:
                globs = sensitive.get(entry["label"], (0, ()))[1]
            sensitive[entry["label"]] = (int(entry["score"]), globs)
        ignore = (DEFAULT_IGNORE if raw.get("builtin_ignore", True) else ()) + tuple(raw.get("ignore", ()))
        thresholds = {
            name: tuple((float(t["above"]), int(t["score"])) for t in raw[f"{name}_thresholds"])
            if f"{name}_thresholds" in raw else default
            for name, default in DEFAULT_THRESHOLDS.items()
        }
        return cls(
            sensitive=sensitive, ignore=ignore,
            generated=DEFAULT_GENERATED + tuple(raw.get("generated", ())),
            config=DEFAULT_CONFIG + tuple(raw.get("config_files", ())),
            thresholds=thresholds,
            binary_score=int(raw.get("binary_score", 1)),
            config_only_score=int(raw.get("config_only_score", 1)),
            containers=frozenset(raw.get("area_containers", DEFAULT_AREA_CONTAINERS)),
            bytes_per_line=float(raw.get("bytes_per_line", DEFAULT_BYTES_PER_LINE)),
        )

    def score(self, table: str, value: float) -> int:
        return max((score for above, score in self.thresholds[table] if value > above), default=0)

    def facts(self, path: str) -> _PathFacts:
        """What these settings say of one path, worked out once per path (a history repeats its paths)."""
        found = self._memo.get(path)
        if found is None:
            matchers = self._matchers
            found = _PathFacts(
                ignored=matchers.ignored(path), generated=matchers.generated(path), config=matchers.config(path),
                labels=tuple(label for label, _, matches in matchers.labels if matches(path))
                if matchers.sensitive(path) else (),
                area=_area(path, self.containers),
            )
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[path] = found
        return found

    @cached_property
    def _memo(self) -> dict[str, _PathFacts]:
        return {}

    @cached_property
    def _matchers(self) -> _Matchers:
        return _Matchers(
            ignored=glob_set(self.ignore), generated=glob_set(self.generated), config=glob_set(self.config),
            sensitive=glob_set(tuple(g for _, globs in self.sensitive.values() for g in globs)),
            labels=tuple((label, score, glob_set(globs)) for label, (score, globs) in self.sensitive.items()),
        )


_MEMO_LIMIT = 100_000


@dataclass(frozen=True)
class _Matchers:
    """The settings' glob lists, compiled once per policy."""

    ignored: Callable[[str], bool]
    generated: Callable[[str], bool]
    config: Callable[[str], bool]
    sensitive: Callable[[str], bool]  # any label's globs
    labels: tuple[tuple[str, int, Callable[[str], bool]], ...]


@dataclass(frozen=True)
class _PathFacts:
    ignored: bool
    generated: bool
    config: bool
    labels: tuple[str, ...]  # sensitive-path labels whose globs match
    area: str


class RiskDetector:
    name = "risk"
    speaks_to = EVERY_CHANGE
    reads = NO_CONTENT
    config_schema: Mapping[str, Any] | None = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "sensitive_paths": {
                "type": "array",
                "items": {
                    "type": "object", "additionalProperties": False, "required": ["label", "score"],
                    "properties": {
                        "label": {"type": "string", "minLength": 1},
                        "score": {"type": "integer", "minimum": 0},
                        "glob": {"oneOf": [{"type": "string", "minLength": 1, "format": "path-glob"}, _GLOBS]},
                    },
                },
            },
            "ignore": _GLOBS,
            "builtin_ignore": {"type": "boolean"},
            "generated": _GLOBS,
            "config_files": _GLOBS,
            "size_thresholds": _THRESHOLDS,
            "files_thresholds": _THRESHOLDS,
            "areas_thresholds": _THRESHOLDS,
            "deleted_thresholds": _THRESHOLDS,
            "binary_score": {"type": "integer", "minimum": 0},
            "config_only_score": {"type": "integer", "minimum": 0},
            "area_containers": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "bytes_per_line": {"type": "number", "exclusiveMinimum": 0},
        },
    }

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        config = _settings_for(settings)
        facts = config.facts
        relevant = [f for f in change.files
                    if not (facts(f.path).ignored and (f.old_path is None or facts(f.old_path).ignored))]
        if not relevant:
            return []
        counted = [f for f in relevant
                   if not (facts(f.path).generated and (f.old_path is None or facts(f.old_path).generated))]
        factors: list[Evidence] = []
        factors += _size(counted, config)
        factors += _files(counted, config)
        sensitive, sensitive_paths = _sensitive(relevant, config)
        factors += sensitive
        factors += _areas(counted, config)
        factors += _deleted(counted, config)
        factors += _binary(counted, config)
        factors += _config_only(counted, sensitive_paths, config)
        return [f for f in factors if f.attrs["score"] > 0]


_settings_for = once_per_settings(_Settings.read)


def _paths(file: FileChange) -> list[str]:
    return [file.path] + ([file.old_path] if file.old_path else [])


def _factor(kind: str, score: int, detail: str, path: str | None = None, **attrs: Any) -> Evidence:
    return Evidence(
        question=Question.RISK, kind=kind, supports=True, trust=Trust.INFERRED, source=_SOURCE, detail=detail,
        location=Location(path=path) if path else Location(), subject=attrs.get("label"),
        attrs={"score": score, **attrs},
    )


def _size(files: list[FileChange], config: _Settings) -> list[Evidence]:
    exact = 0
    estimated = 0
    unknown = 0
    for file in files:
        if file.binary:
            continue
        if file.added is not None and file.removed is not None:
            exact += file.added + file.removed
            continue
        lines = _estimate_lines(file, config.bytes_per_line)
        if lines is None:
            unknown += 1
        else:
            estimated += lines
    total = exact + estimated
    score = config.score("size", total)
    if score <= 0:
        return []  # reported only above 0 (and a factor is the costly part of a small change)
    if estimated:
        detail = f"about {total} lines changed (estimated from blob sizes)"
    else:
        detail = f"{total} lines changed"
    if unknown:
        detail += f"; size unknown for {unknown} file{'s' if unknown != 1 else ''}"
    return [_factor("size", score, detail, lines=total, estimated=bool(estimated))]


def _estimate_lines(file: FileChange, bytes_per_line: float) -> int | None:
    if file.status is FileStatus.ADDED:
        size = file.new_size
    elif file.status is FileStatus.DELETED:
        size = file.old_size
    elif file.new_size is not None and file.old_size is not None:
        size = abs(file.new_size - file.old_size)
    else:
        size = None
    return None if size is None else math.ceil(size / bytes_per_line)


def _files(files: list[FileChange], config: _Settings) -> list[Evidence]:
    count = len(files)
    score = config.score("files", count)
    if score <= 0:
        return []
    return [_factor("files", score, f"{count} files changed (docs, tests and generated files not counted)", count=count)]


def _sensitive(files: list[FileChange], config: _Settings) -> tuple[list[Evidence], set[str]]:
    factors: list[Evidence] = []
    touched: set[str] = set()
    facts = config.facts
    candidates = [p for f in files for p in _paths(f) if facts(p).labels]
    if not candidates:
        return factors, touched
    for label, (score, _) in config.sensitive.items():
        hits = [p for p in candidates if label in facts(p).labels]
        if not hits or score <= 0:
            continue
        hits = list(dict.fromkeys(hits))
        touched.update(hits)
        more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
        factors.append(_factor("sensitive-path", score, f"touches {label}: {hits[0]}{more}", hits[0],
                               label=label, paths=hits[:10]))
    return factors, touched


def _area(path: str, containers: frozenset[str]) -> str:
    parts = path.split("/")
    if len(parts) == 1:
        return "(root)"
    if parts[0] in containers and len(parts) > 2:
        return f"{parts[0]}/{parts[1]}"
    return parts[0]


def _areas(files: list[FileChange], config: _Settings) -> list[Evidence]:
    distinct = {config.facts(f.path).area for f in files}
    score = config.score("areas", len(distinct))
    if score <= 0:
        return []
    areas = sorted(distinct)
    shown = ", ".join(areas[:6]) + (", ..." if len(areas) > 6 else "")
    return [_factor("areas", score, f"{len(areas)} areas touched: {shown}", count=len(areas), areas=areas)]


def _deleted(files: list[FileChange], config: _Settings) -> list[Evidence]:
    deleted = [f.path for f in files if f.status is FileStatus.DELETED]
    score = config.score("deleted", len(deleted))
    if score <= 0:
        return []
    return [_factor("deleted-files", score, f"{len(deleted)} files deleted", deleted[0] if deleted else None,
                    count=len(deleted))]


def _binary(files: list[FileChange], config: _Settings) -> list[Evidence]:
    binary = [f.path for f in files if f.binary and f.status is not FileStatus.DELETED]
    if not binary:
        return []
    noun = "file" if len(binary) == 1 else "files"
    return [_factor("binary-files", config.binary_score, f"{len(binary)} binary {noun} cannot be reviewed as text",
                    binary[0], count=len(binary))]


def _config_only(files: list[FileChange], sensitive_paths: set[str], config: _Settings) -> list[Evidence]:
    live = [f for f in files if f.status is not FileStatus.DELETED]
    if not live or not all(config.facts(f.path).config for f in live):
        return []
    if any(p in sensitive_paths for f in live for p in _paths(f)):
        return []
    return [_factor("config-only", config.config_only_score,
                    f"configuration only ({len(live)} file{'s' if len(live) != 1 else ''}): it reaches every "
                    "environment at once and no test exercises it", live[0].path)]


DETECTOR = RiskDetector()
