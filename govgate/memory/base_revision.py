"""Read the memory file from the revision a change is judged against, never from the change.

If the memory came from the change, a pull request could drop the entry that marks its path
fragile, or name its author a knower, and pass the gate meant to judge it. So the file is read
from the objects of the change's trust root with the reader the policy uses
(``govgate.sources.base_files``: a regular file only, never through a symbolic link, bounded).
"""

from __future__ import annotations

from govgate.errors import GovgateError
from govgate.limits import MAX_MEMORY_BYTES
from govgate.memory.loader import parse_memory
from govgate.memory.model import Memory
from govgate.model import Change
from govgate.sources.base_files import BaseFiles
from govgate.sources.git import GitRepo
from govgate.sources.trusted import TrustedConfig


def memory_from(files: BaseFiles | None, path: str) -> Memory | None:
    """The memory file at the revision of ``files``, or None when that revision has none."""
    if files is None:
        return None
    text = files.read_text(path, what="memory file", limit=MAX_MEMORY_BYTES)
    return parse_memory(text, f"{path}@{files.revision[:12]}") if text is not None else None


def memory_at(repo: GitRepo, revision: str, path: str) -> Memory | None:
    return memory_from(BaseFiles(repo, revision), path)


def attach_base_memory(repo: GitRepo, change: Change, trusted: TrustedConfig) -> None:
    """Give ``change`` the memory of its trust root, and say so when its own version is broken.

    A change that edits the memory file is still judged by the trust root's; the version it writes
    is only checked, so that a broken file is caught before it can stop every later check.
    """
    path = trusted.policy.memory_file
    change.memory = memory_from(trusted.files, path)
    if path not in change.paths() or len(change.head or "") not in (40, 64):
        return
    try:
        memory_at(repo, change.head, path)
    except GovgateError as exc:
        change.problems.append(f"the memory file this change writes is invalid and would stop later checks: {exc.message}")
