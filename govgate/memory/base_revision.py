"""Read the memory file from the revision a change is judged against, never from the change.

If the memory came from the change, a pull request could drop the entry that marks its path
fragile, or name its author a knower, and pass the gate meant to judge it. So the file is read
from git objects at the base revision: ``git ls-tree`` must show a regular file there (a symbolic
link is never followed: its target could name any file), then its blob is read by object id.
"""

from __future__ import annotations

from govgate.errors import GitError, MemoryFileError
from govgate.memory.loader import parse_memory
from govgate.memory.model import Memory
from govgate.model import Change
from govgate.sources.git import GitRepo

MAX_MEMORY_BYTES = 4 * 1024 * 1024
_REGULAR_FILE_MODES = (b"100644", b"100755")


def memory_at(repo: GitRepo, revision: str | None, path: str) -> Memory | None:
    """The memory file at ``revision``, or None when that revision has none."""
    if revision is None:
        return None
    data = read_regular_file(repo, revision, path)
    if data is None:
        return None
    source = f"{path}@{revision[:12]}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise MemoryFileError(f"{source}: the memory file is not UTF-8 text") from None
    return parse_memory(text, source)


def read_regular_file(repo: GitRepo, revision: str, path: str) -> bytes | None:
    """The content of ``path`` at ``revision`` if it is a regular file there; None if absent."""
    listing = repo.run_bytes("ls-tree", "-z", "--full-tree", revision, "--", path)
    entry = next((e for e in listing.split(b"\0") if e), None)
    if entry is None:
        return None
    meta, _, listed_path = entry.partition(b"\t")
    mode, kind, object_id = [*meta.split(), b"", b"", b""][:3]
    where = f"{path}@{revision[:12]}"
    if listed_path.decode("utf-8", "replace") != path:
        return None
    if mode == b"120000":
        raise MemoryFileError(f"{where}: the memory file is a symbolic link; govgate never follows one",
                              "commit the file itself at that path")
    if kind != b"blob" or mode not in _REGULAR_FILE_MODES:
        raise MemoryFileError(f"{where}: expected a regular file, found a {kind.decode() or 'different'} entry")
    sha = object_id.decode()
    try:
        size = int(repo.run("cat-file", "-s", sha).strip())
    except (GitError, ValueError):
        raise MemoryFileError(f"{where}: object {sha[:12]} cannot be read from the repository") from None
    if size > MAX_MEMORY_BYTES:
        raise MemoryFileError(f"{where}: {size} bytes, more than the {MAX_MEMORY_BYTES} a memory file may hold")
    return repo.run_bytes("cat-file", "blob", sha)


def attach_base_memory(repo: GitRepo, change: Change, memory_file: str) -> None:
    """Give ``change`` the memory of its base revision, and say so when its own version is broken.

    A change that edits the memory file is still judged by the base's; the version it writes is
    only checked, so that a broken file is caught before it can stop every later check.
    """
    change.memory = memory_at(repo, change.base, memory_file)
    if memory_file not in change.paths() or not change.head:
        return
    try:
        memory_at(repo, change.head, memory_file)
    except MemoryFileError as exc:
        change.problems.append(f"the memory file this change writes is invalid and would stop later checks: {exc.message}")
