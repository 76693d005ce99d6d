"""Were tests changed with the code? Test files in the diff, inline Rust tests, Tested-by trailers.

A changed test file is ``inferred`` evidence: it shows tests moved with the code, not that they
pass (CI says that). Each changed source file is matched to test changes by its base name
(``app.py`` to ``test_app.py``, ``Button.tsx`` to ``Button.test.tsx``); the ones without a match
are reported so a reviewer can see what the tests may not cover.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from govgate.detectors.ai import agent_wrote_it, is_ai_identity
from govgate.detectors.per_settings import once_per_settings
from govgate.detectors.scope import EVERY_CHANGE, FileScope
from govgate.model import (
    Change,
    Confidence,
    Evidence,
    FileChange,
    FileStatus,
    Location,
    Question,
    Severity,
    Trust,
    glob_set,
)
from govgate.schema_parts import path_globs

DEFAULT_TEST_PATTERNS: tuple[str, ...] = (
    # Python
    "test_*.py", "*_test.py", "conftest.py",
    # test folders of any language (Python tests/, Rust tests/, JS test/, Java src/test/)
    "**/tests/**", "**/test/**", "**/__tests__/**", "**/src/test/**",
    # JavaScript / TypeScript
    *(f"*.{kind}.{ext}" for kind in ("test", "spec") for ext in ("js", "jsx", "ts", "tsx", "mjs", "cjs")),
    # Go, Java, Kotlin, Ruby
    "*_test.go", "*Test.java", "*Tests.java", "*Test.kt", "**/spec/**/*.rb", "*_spec.rb",
)
DEFAULT_SOURCE_PATTERNS: tuple[str, ...] = tuple(
    f"*.{ext}" for ext in (
        "py", "js", "jsx", "ts", "tsx", "mjs", "cjs", "go", "java", "kt", "rb", "rs",
        "c", "h", "cc", "cpp", "hpp", "cs", "php", "swift", "scala",
    )
)
DEFAULT_IGNORE: tuple[str, ...] = ("**/vendor/**", "**/node_modules/**", "**/third_party/**")

_RUST_TEST_ATTRIBUTE = re.compile(r"^\s*#\[(?:cfg\(test\)|test|tokio::test(?:\([^)]*\))?)\]")
_IDENTITY = re.compile(r"^(?P<name>[^<]*?)\s*<(?P<email>[^>]+)>")
# Prefixes and suffixes that turn a source name into its test's name.
_TEST_AFFIXES = re.compile(r"^(?:test_)|(?:_test|_tests|_spec|Tests|Test)$")
_LISTED = 50  # attrs lists stop here: a 3000-file PR must not produce a 3000-entry JSON array
_CHANGED_TEST_STATUSES = {FileStatus.ADDED, FileStatus.MODIFIED, FileStatus.RENAMED, FileStatus.COPIED,
                          FileStatus.TYPE_CHANGED}


@dataclass(frozen=True)
class _TestChange:
    path: str
    line: int | None = None  # the first inline test line, for tests inside a source file


class TestsChangedDetector:
    name = "tests_changed"
    speaks_to = EVERY_CHANGE  # every path decides whether sources came with tests
    reads = (FileScope((".rs",)),)  # inline #[test]s in Rust sources
    config_schema: Mapping[str, Any] | None = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "test_patterns": path_globs("globs of test files, added to the defaults"),
            "source_patterns": path_globs("globs of source files that should come with tests, added to the defaults"),
            "ignore": path_globs("globs of paths that are neither (vendored, generated code)"),
        },
    }

    def detect(self, change: Change, settings: Mapping[str, Any]) -> Iterable[Evidence]:
        ignore, tests, sources = _matchers_for(settings)
        changed_tests: list[_TestChange] = []
        deleted_tests: list[str] = []
        changed_sources: list[str] = []
        deleted_sources: list[str] = []
        for file in change.files:
            if ignore(file.path):
                continue
            if tests(file.path):
                if file.status is FileStatus.DELETED:
                    deleted_tests.append(file.path)
                elif file.status in _CHANGED_TEST_STATUSES and not _pure_rename(file):
                    changed_tests.append(_TestChange(file.path))
                continue
            if not sources(file.path):
                continue
            if file.status is FileStatus.DELETED:
                deleted_sources.append(file.path)
                continue
            changed_sources.append(file.path)
            if file.path.endswith(".rs") and not file.binary:
                inline = _inline_rust_test(file)
                if inline is not None:
                    changed_tests.append(_TestChange(file.path, inline))
                elif file.unavailable:
                    yield _unreadable(file)
        if changed_tests:
            yield _tests_changed(changed_tests, changed_sources, deleted_tests)
        else:
            flag = _tests_deleted(deleted_tests, changed_sources, deleted_sources)
            if flag is not None:
                yield flag
        yield from _tested_by(change)


_Matcher = Callable[[str], bool]


@once_per_settings
def _matchers_for(settings: Mapping[str, Any]) -> tuple[_Matcher, _Matcher, _Matcher]:
    """(ignored, test, source) path matchers."""
    return (glob_set((*DEFAULT_IGNORE, *settings.get("ignore", []))),
            glob_set((*DEFAULT_TEST_PATTERNS, *settings.get("test_patterns", []))),
            glob_set((*DEFAULT_SOURCE_PATTERNS, *settings.get("source_patterns", []))))


def _pure_rename(file: FileChange) -> bool:
    return file.status is FileStatus.RENAMED and file.added == 0 and file.removed == 0


def _inline_rust_test(file: FileChange) -> int | None:
    for number, text in file.added_lines():
        if _RUST_TEST_ATTRIBUTE.match(text):
            return number
    return None


def stem(path: str) -> str:
    """The name a source file and its tests share: ``src/app.py`` and ``tests/test_app.py`` give ``app``."""
    base = posixpath.basename(path).split(".", 1)[0]
    return _TEST_AFFIXES.sub("", base).lower() or base.lower()


def _tests_changed(tests: list[_TestChange], sources: list[str], deleted_tests: list[str]) -> Evidence:
    test_stems = {stem(t.path) for t in tests}
    inline = {t.path for t in tests if t.line is not None}
    untested = [s for s in sources if s not in inline and stem(s) not in test_stems]
    covered = len(sources) - len(untested)
    if not sources or not untested:
        confidence = Confidence.HIGH
    else:
        confidence = Confidence.MEDIUM if covered else Confidence.LOW
    names = ", ".join(t.path for t in tests[:3]) + (f" and {len(tests) - 3} more" if len(tests) > 3 else "")
    detail = f"{len(tests)} test file{'s' if len(tests) != 1 else ''} changed ({names})"
    if not sources:
        detail += "; the change touches no other source files"
    elif untested:
        shown = ", ".join(untested[:5]) + (f" and {len(untested) - 5} more" if len(untested) > 5 else "")
        detail += f"; {len(untested)} of {len(sources)} source files have no matching test change: {shown}"
    else:
        detail += f"; every changed source file ({len(sources)}) has a matching test change"
    first = tests[0]
    attrs: dict[str, Any] = {
        "test_files": [t.path for t in tests][:_LISTED],
        "source_files": sources[:_LISTED],
        "untested_sources": untested[:_LISTED],
        "counts": {"tests": len(tests), "sources": len(sources), "untested_sources": len(untested)},
    }
    if deleted_tests:
        attrs["deleted_tests"] = deleted_tests[:_LISTED]
    return Evidence(
        question=Question.TESTED, kind="tests-changed", supports=True, trust=Trust.INFERRED, source="tests_changed",
        detail=detail, location=Location(path=first.path, line=first.line), facets=frozenset({"tests_changed"}),
        confidence=confidence, attrs=attrs,
    )


def _tests_deleted(deleted_tests: list[str], sources: list[str], deleted_sources: list[str]) -> Evidence | None:
    """Tests removed while code changes and no test is added: the pattern of 'make CI green by deleting tests'.

    Removing a test together with the code it tested is housekeeping, and a change that only
    deletes tests changes no behaviour; neither is flagged.
    """
    gone = {stem(path) for path in deleted_sources}
    orphaned = [path for path in deleted_tests if stem(path) not in gone]
    if not orphaned or not sources:
        return None
    shown = ", ".join(orphaned[:5]) + (f" and {len(orphaned) - 5} more" if len(orphaned) > 5 else "")
    return Evidence(
        question=Question.TESTED, kind="tests-deleted", supports=False, trust=Trust.INFERRED, source="tests_changed",
        detail=f"test files deleted while source files change and no test is added or changed: {shown}",
        location=Location(path=orphaned[0]), severity=Severity.WARNING, confidence=Confidence.MEDIUM,
        attrs={"deleted_tests": orphaned[:_LISTED], "source_files": sources[:_LISTED]},
    )


def _unreadable(file: FileChange) -> Evidence:
    return Evidence(
        question=Question.TESTED, kind="content-unavailable", supports=True, trust=Trust.INFERRED,
        source="tests_changed", detail=f"could not read {file.path} to look for inline tests",
        location=Location(path=file.path), unavailable=True,
    )


def _tested_by(change: Change) -> Iterator[Evidence]:
    authors: set[str] | None = None
    for commit in change.commits:
        agent_written: str | None = None
        for trailer in commit.trailers:
            if trailer.key.lower() != "tested-by" or trailer.line == 1:
                continue
            if authors is None:
                authors = change.author_identities
            agent_written = agent_written or agent_wrote_it(commit, authors)
            match = _IDENTITY.match(trailer.value)
            name = (match.group("name") if match else trailer.value).strip()
            email = (match.group("email") if match else "").strip().lower()
            discounted = None
            if is_ai_identity(name, email):
                discounted = "an AI agent's testing claim is not a person's"
            elif (email and email in authors) or name.lower() in authors:
                discounted = "the change's own author cannot vouch for it"
            elif agent_written is not None:
                discounted = agent_written
            yield Evidence(
                question=Question.TESTED, kind="tested-by-trailer", supports=True, trust=Trust.DECLARED,
                source="tests_changed", detail=f"{trailer.key}: {trailer.value}",
                location=Location(where=f"{trailer.key} trailer of {commit.sha[:12]}", line=trailer.line),
                facets=frozenset({"tested_by"}), subject=email or name.lower(), discounted=discounted,
            )


DETECTOR = TestsChangedDetector()
