"""What each detector can speak to, known from paths alone, compiled into one matcher.

Every detector declares ``speaks_to``: ``EVERY_CHANGE`` (it reads commit messages, pull request
data, or every path of a change) or the FileScopes of the files it judges; and ``reads``: the
FileScopes of the files whose new contents it may read. The registry compiles all declarations
into one ScopeMatcher, so a change whose files no detector speaks to costs those detectors
nothing, a detector only ever sees its own files, and only the contents a detector will read are
fetched from git.

A declaration must cover at least what the detector's own path tests accept (each detector still
applies them): a scope narrower than the detector would silently drop evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from govgate.model import FileChange

EVERY_CHANGE = None  # speaks_to of a detector that looks at every change
NO_CONTENT: tuple[FileScope, ...] = ()  # reads of a detector that reads no file contents
MEMO_LIMIT = 200_000  # distinct paths remembered; a history repeats paths, so this is rarely reached


@dataclass(frozen=True)
class FileScope:
    """Files known from their path: by ending (lower-cased) and, optionally, a finer test of the path."""

    suffixes: tuple[str, ...] = ()  # () means any ending
    accept: Callable[[str], bool] | None = None

    def matches(self, path: str, lowered: str | None = None) -> bool:
        """``lowered``: ``path.lower()``, when the caller has it already."""
        if self.suffixes and not (path.lower() if lowered is None else lowered).endswith(self.suffixes):
            return False
        return self.accept is None or self.accept(path)


class ScopeMatcher:
    """Per path, one bit per file-scoped detector that speaks to it, and one bit if any detector reads it."""

    def __init__(self, speaks_to: Sequence[Sequence[FileScope] | None], reads: Iterable[Sequence[FileScope]]) -> None:
        self.bits: list[int | None] = []  # per detector: its bit, or None for an every-change detector
        self._scopes: list[tuple[int, Sequence[FileScope]]] = []
        for index, scopes in enumerate(speaks_to):
            if scopes is EVERY_CHANGE:
                self.bits.append(None)
            else:
                self.bits.append(1 << index)
                self._scopes.append((1 << index, scopes))
        self.read_bit = 1 << len(self.bits)
        self._reads = tuple(scope for scopes in reads for scope in scopes)
        self._memo: dict[str, int] = {}

    def path_mask(self, path: str) -> int:
        mask = self._memo.get(path)
        if mask is None:
            lowered = path.lower()
            mask = 0
            for bit, scopes in self._scopes:
                for scope in scopes:
                    if scope.matches(path, lowered):
                        mask |= bit
                        break
            for scope in self._reads:
                if scope.matches(path, lowered):
                    mask |= self.read_bit
                    break
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[path] = mask
        return mask

    def file_mask(self, file: FileChange) -> int:
        """A file counts for a scope by its new path or, for a rename or copy, its old one."""
        mask = self.path_mask(file.path)
        return mask | self.path_mask(file.old_path) if file.old_path else mask

    def is_read(self, file: FileChange) -> bool:
        return bool(self.file_mask(file) & self.read_bit)


ContentFilter = Callable[[FileChange], bool]
