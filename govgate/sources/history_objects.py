"""Objects a history audit reads besides the log: file contents (batched per change) and blob sizes.

Both go through long-lived ``git cat-file`` processes, so reading them never costs a process per
commit, and neither ever asks git for a blob a partial clone lacks (that would go online).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice

from govgate.model import Change, ContentUnavailable, FileChange, Gap, GapKind
from govgate.sources.git import ZERO_SHA, BlobStore, GitRepo, _git_env, close_pipe_process

PREFETCH_MAX_BLOB = 256 * 1024  # new versions larger than this are read only if a detector asks
PREFETCH_MAX_BYTES = 4 * 1024 * 1024  # per change
PREFETCH_MAX_COUNT = 500  # requests per round trip: they must fit in the pipe before answers are read
SIZE_BATCH = 1000  # object names per cat-file round trip: requests and answers stay within one pipe buffer


class ChangeContents:
    """Content loaders for one change's files that never ask git for a blob a partial clone lacks.

    The first read of a new version fetches, in the same round trip, the new versions of the
    change's other files that ``wanted`` says a detector will read (the detectors' declared
    scopes), and no others: one pipelined ``cat-file --batch`` exchange costs about what a single
    one does. Old versions (read only to diff a file a detector found interesting) are read one at
    a time.
    """

    def __init__(self, store: Callable[[], BlobStore], present: set[str] | None, files: list[FileChange],
                 wanted: Callable[[FileChange], bool] | None = None) -> None:
        self._store = store
        self._present = present
        self._files = files
        self._wanted = wanted
        self._fetched: dict[str, bytes | None] | None = None

    def loader(self, sha: str | None, *, prefetch: bool) -> Callable[[], bytes | None] | None:
        if not sha or sha == ZERO_SHA:
            return None
        if self._present is not None and sha not in self._present:
            return lambda: _unavailable(sha)
        if prefetch:
            return lambda: self._read_new(sha)
        return lambda: self._store().read(sha)

    def _read_new(self, sha: str) -> bytes | None:
        if self._fetched is None:
            wanted = self._prefetchable()
            self._fetched = self._store().read_many(wanted) if sha in wanted and len(wanted) > 1 else {}
        if sha in self._fetched:
            data = self._fetched.pop(sha)
            if data is None:
                raise ContentUnavailable(sha)
            return data
        return self._store().read(sha)

    def _prefetchable(self) -> list[str]:
        wanted: list[str] = []
        total = 0
        for f in self._files:
            sha = f.new_blob
            if not sha or (self._present is not None and sha not in self._present) or f.binary:
                continue
            if self._wanted is None or not self._wanted(f):
                continue
            size = f.new_size if f.new_size is not None else (None if f.added is None else f.added * 80)
            if size is None or size > PREFETCH_MAX_BLOB or total + size > PREFETCH_MAX_BYTES:
                continue
            wanted.append(sha)
            total += size
            if len(wanted) >= PREFETCH_MAX_COUNT:
                break
        return list(dict.fromkeys(wanted))


def _unavailable(sha: str) -> bytes:
    raise ContentUnavailable(sha)


@dataclass(frozen=True)
class SizeSettings:
    enabled: bool  # False with --exact-lines (line counts are exact: sizes would add nothing)
    present: set[str] | None  # a partial clone's local blobs: no other is asked for
    env: dict[str, str]


class BlobSizes:
    """Fills in the blob sizes of changes' files (the risk detector estimates churn from them), for
    many changes per round trip, and notes objects missing from a repository that should have them."""

    def __init__(self, repo: GitRepo, settings: SizeSettings) -> None:
        self._repo = repo
        self._settings = settings
        self._lookup: SizeLookup | None = None

    def apply(self, changes: Sequence[Change]) -> None:
        if not self._settings.enabled:
            return
        present = self._settings.present
        wanted = {sha for change in changes for f in change.files for sha in (f.old_blob, f.new_blob) if sha}
        if present is not None:
            wanted = {sha for sha in wanted if sha in present}
        if self._lookup is None and wanted:
            self._lookup = SizeLookup(self._repo, self._settings.env)
        sizes = self._lookup.sizes(sorted(wanted)) if self._lookup is not None and wanted else {}
        for change in changes:
            for f in change.files:
                f.old_size = sizes.get(f.old_blob) if f.old_blob else None
                f.new_size = sizes.get(f.new_blob) if f.new_blob else None
                if present is None:
                    gone = [sha for sha in (f.old_blob, f.new_blob) if sha and sha in sizes and sizes[sha] is None]
                    if gone:
                        change.incomplete.append(Gap(GapKind.CONTENT_MISSING,
                                                     f"{f.path}: object {gone[0][:12]} is missing from the repository"))

    def close(self) -> None:
        if self._lookup is not None:
            self._lookup.close()
            self._lookup = None


class SizeLookup:
    """Blob sizes through one ``git cat-file --batch-check`` process."""

    def __init__(self, repo: GitRepo, env: dict[str, str]) -> None:
        self._proc = subprocess.Popen(
            ["git", "-C", str(repo.path), "cat-file", "--batch-check=%(objectsize)"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**_git_env(), **env},
        )

    def sizes(self, shas: Sequence[str]) -> dict[str, int | None]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        found: dict[str, int | None] = {}
        it = iter(shas)
        while chunk := list(islice(it, SIZE_BATCH)):
            try:
                self._proc.stdin.write(("\n".join(chunk) + "\n").encode())
                self._proc.stdin.flush()
                for sha in chunk:
                    line = self._proc.stdout.readline().strip()
                    found[sha] = int(line) if line.isdigit() else None
            except (OSError, ValueError):
                found.update({sha: found.get(sha) for sha in chunk})
        return found

    def close(self) -> None:
        close_pipe_process(self._proc)
