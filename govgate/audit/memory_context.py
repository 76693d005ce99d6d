"""What an audit judges each change with besides the policy: the memory file at its base, and its clock.

An audit judges a change as the gate would have when it merged: freezes at the moment it landed
(``merged_at``), and the organisational memory of its base revision, never a later one and never
its own. Reading the memory per change would cost a git process per change, so the file's own
history is read once (``git log --first-parent --raw -- FILE``: each commit that edited it, with
the version before) and each change gets the version in force before it, by its position on the
first-parent chain. Each version is parsed once. A version that is invalid, or a symbolic link,
is reported on the changes it would have judged, which are judged without memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from govgate.errors import GitError, MemoryFileError
from govgate.limits import MAX_MEMORY_BYTES
from govgate.memory.loader import parse_memory
from govgate.memory.model import Memory
from govgate.model import Change, ContentUnavailable
from govgate.sources.git import GitRepo, ObjectTooLarge

_REGULAR = ("100644", "100755")


@dataclass(frozen=True)
class _Version:
    mode: str | None  # None: the file did not exist
    blob: str | None


class MemoryTimeline:
    """The memory file's version before each first-parent commit of an audited range."""

    def __init__(self, repo: GitRepo, tip: str, exclude: list[str], path: str) -> None:
        self.repo, self.path = repo, path
        self.problems: list[str] = []  # about the run as a whole
        # Read when first needed: an incremental audit with nothing new to judge never reads the file's history.
        self._read: tuple[list[tuple[str, _Version]], _Version] | None = None
        self._positions: dict[str, int] | None = None
        self._edits: list[tuple[int, _Version]] = []  # (first-parent position, version before), newest first
        self._tip, self._exclude = tip, exclude
        self._parsed: dict[str, Memory | str] = {}  # blob -> memory, or the reason it cannot be used

    @property
    def _edited_by(self) -> list[tuple[str, _Version]]:  # (commit, version before it), newest first
        return self._history()[0]

    @property
    def _at_tip(self) -> _Version:
        return self._history()[1]

    def _history(self) -> tuple[list[tuple[str, _Version]], _Version]:
        if self._read is None:
            try:
                self._read = (self._read_edits(self._tip, self._exclude), self._version_at(self._tip))
            except GitError as exc:  # a damaged history never ends an audit: judge without memory and say so
                self.problems.append(f"the history of {self.path} cannot be read ({exc.message}): "
                                     "changes were judged without memory")
                self._read = ([], _Version(None, None))
        return self._read

    @property
    def needed(self) -> bool:
        return bool(self._edited_by) or self._at_tip.blob is not None

    def version_before(self, head: str) -> _Version:
        """The version before ``head``: the one the nearest edit at or after it replaced, else the tip's."""
        position = self._position(head)
        if position is None:
            return self._at_tip if not self._edited_by else _Version(None, None)
        newer = [version for at, version in self._edits if at <= position]
        return newer[-1] if newer else self._at_tip

    def memory_at_tip(self) -> Memory | None:
        """The memory in force after the audited range (None when absent or unusable)."""
        version = self._at_tip
        if version.blob is None or version.mode not in _REGULAR:
            return None
        parsed = self._parsed.get(version.blob)
        if parsed is None:
            parsed = self._parsed[version.blob] = self._parse(version.blob, self._tip)
        return dataclasses.replace(parsed, source=self._source(self._tip)) if isinstance(parsed, Memory) else None

    def memory_before(self, change: Change) -> Memory | None:
        version = self.version_before(change.head)
        if version.blob is None:
            return None
        if version.mode not in _REGULAR:
            change.problems.append(f"the memory file {self.path} at the base is not a regular file (mode {version.mode}): "
                                   "judged without memory")
            return None
        parsed = self._parsed.get(version.blob)
        if parsed is None:
            parsed = self._parsed[version.blob] = self._parse(version.blob, change.base)
        if isinstance(parsed, str):
            change.problems.append(parsed)
            return None
        # Named after this change's own base, whichever change parsed the version first: a change's
        # verdict never depends on the others judged in the same run (or cached from an earlier one).
        return dataclasses.replace(parsed, source=self._source(change.base or version.blob))

    def _source(self, revision: str) -> str:
        return f"{self.path}@{revision[:12]}"

    def _parse(self, blob: str, base: str | None) -> Memory | str:
        source = self._source(base or blob)
        try:  # bounded like the gate's own read of the memory file (govgate.memory.base_revision)
            return parse_memory(self.repo.blobs().read(blob, limit=MAX_MEMORY_BYTES).decode("utf-8"), source)
        except ObjectTooLarge as exc:
            reason = f"{exc.size:,} bytes; the limit is {MAX_MEMORY_BYTES:,}"
        except ContentUnavailable:
            reason = f"object {blob[:12]} is missing from the clone"
        except (MemoryFileError, UnicodeDecodeError) as exc:
            reason = exc.message if isinstance(exc, MemoryFileError) else "not UTF-8 text"
        return f"the memory file at the base cannot be used ({reason}): judged without memory"

    def _read_edits(self, tip: str, exclude: list[str]) -> list[tuple[str, _Version]]:
        out = self.repo.run_bytes("log", "--first-parent", "--format=%x1e%H", "--raw", "--no-abbrev", "--no-renames",
                                  "-z", tip, "--not", *exclude, "--", self.path)
        edits: list[tuple[str, _Version]] = []
        for record in out.split(b"\x1e")[1:]:
            sha, _, raw = record.partition(b"\0")  # -z ends the format line with NUL, then the raw lines follow
            meta = raw.lstrip(b"\n").split(b"\0", 1)[0].decode()
            fields = meta[1:].split() if meta.startswith(":") else []
            if len(fields) >= 3:
                mode, blob = fields[0], fields[2]
                edits.append((sha.decode().strip(), _Version(None if mode == "000000" else mode,
                                                             None if set(blob) == {"0"} else blob)))
        return edits

    def _version_at(self, revision: str) -> _Version:
        listing = self.repo.run_bytes("ls-tree", "-z", "--full-tree", revision, "--", self.path)
        entry = next((e for e in listing.split(b"\0") if e), None)
        if entry is None:
            return _Version(None, None)
        meta, _, listed = entry.partition(b"\t")
        fields = meta.decode().split()
        return _Version(fields[0], fields[2]) if listed.decode("utf-8", "replace") == self.path else _Version(None, None)

    def _position(self, head: str) -> int | None:
        if self._positions is None:
            try:
                listing = self.repo.run("rev-list", "--first-parent", self._tip, "--not", *self._exclude).split()
            except GitError as exc:
                self.problems.append(f"the first-parent chain cannot be listed ({exc.message}): memory at the tip was used")
                listing = []
            self._positions = {sha: index for index, sha in enumerate(listing)}
            self._edits = [(self._positions[sha], version) for sha, version in self._edited_by if sha in self._positions]
        return self._positions.get(head)


def with_memory_and_clock(changes: Iterator[Change], timeline: MemoryTimeline) -> Iterator[Change]:
    """Each change with the memory in force before it and its merge time as the moment it is judged at."""
    for change in changes:
        change.merged_at = change.date
        if timeline.needed:
            change.memory = timeline.memory_before(change)
        yield change
