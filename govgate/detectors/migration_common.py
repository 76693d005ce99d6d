"""What the migration detectors share: which files to open and how their evidence looks.

Every migration finding answers the rollback question, is ``inferred`` (it comes from reading
files), carries ``attrs.path_kind = "schema-reverse"`` (the rollback path it speaks about is a
schema reversal, which brings structure back but not data) and, when it supports, the facet
``reversible_migrations``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from govgate.model import Change, Confidence, Evidence, FileChange, FileStatus, Location, Question, Severity, Trust

REVERSIBLE = frozenset({"reversible_migrations"})
PATH_KIND = "schema-reverse"


def live_files(change: Change, path_test: Callable[[str], bool]) -> Iterator[FileChange]:
    """Files that still exist after the change and whose path passes the cheap test.

    The path test runs before any content is loaded: history audits call detectors for
    thousands of changes, and reading blobs is the expensive part.
    """
    for file in change.files:
        if file.status is FileStatus.DELETED or file.binary:
            continue
        if path_test(file.path):
            yield file


@dataclass(frozen=True)
class Finder:
    """Builds the Evidence of one detector for one migration tool."""

    source: str
    tool: str

    def supports(
        self, kind: str, detail: str, path: str, line: int | None = None, *,
        end_line: int | None = None, confidence: Confidence = Confidence.HIGH,
    ) -> Evidence:
        return self._evidence(kind, True, detail, path, line, end_line, confidence, "error")

    def flag(
        self, kind: str, detail: str, path: str, line: int | None = None, *,
        end_line: int | None = None, severity: Severity = Severity.ERROR, confidence: Confidence = Confidence.HIGH,
    ) -> Evidence:
        return self._evidence(kind, False, detail, path, line, end_line, confidence, severity)

    def unavailable(self, path: str, why: str, line: int | None = None) -> Evidence:
        return Evidence(
            question=Question.ROLLBACK, kind=f"{self.tool}-unreadable", supports=True, trust=Trust.INFERRED,
            source=self.source, detail=f"{self.tool} migration could not be checked: {why}",
            location=Location(path=path, line=line), confidence=Confidence.LOW, unavailable=True,
            attrs={"path_kind": PATH_KIND, "tool": self.tool},
        )

    def _evidence(
        self, kind: str, supports: bool, detail: str, path: str, line: int | None, end_line: int | None,
        confidence: Confidence, severity: Severity,
    ) -> Evidence:
        return Evidence(
            question=Question.ROLLBACK, kind=kind, supports=supports, trust=Trust.INFERRED, source=self.source,
            detail=detail, location=Location(path=path, line=line, end_line=end_line),
            facets=REVERSIBLE if supports else frozenset(), confidence=confidence, severity=severity,
            attrs={"path_kind": PATH_KIND, "tool": self.tool},
        )


def read_text(file: FileChange, finder: Finder) -> tuple[str | None, Evidence | None]:
    """The new contents, or the Evidence that says they could not be read."""
    text = file.new_text()
    if file.unavailable:
        return None, finder.unavailable(file.path, "its contents could not be read")
    return text, None


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def dirname(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""
