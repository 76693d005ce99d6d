"""A change's files as a forge's API lists them, with their contents read from the clone by object id.

When the clone cannot give a change's range (a shallow clone that could not be deepened), a forge
source lists the changed files from its API. Their contents are then looked up in the head and
base commits' trees (a depth-1 fetch brings them), listed with ``ls-tree -z``: no path string is
ever sent to ``git cat-file --batch``, so a file name holding a newline cannot make it answer for
another file. A file whose commit is not in the clone reads as unavailable, never as empty.
"""

from __future__ import annotations

from dataclasses import dataclass

from govgate.model import ContentLoader, ContentUnavailable, FileChange, FileStatus
from govgate.sources.base_files import TreeEntry, tree_listing
from govgate.sources.clone import has_commit
from govgate.sources.git import BlobStore, GitRepo


@dataclass
class ListedTrees:
    blobs: BlobStore
    new_tree: dict[str, TreeEntry] | None
    old_tree: dict[str, TreeEntry] | None

    @classmethod
    def of(cls, repo: GitRepo, head: str | None, base: str | None) -> ListedTrees:
        return cls(repo.blobs(), _listing(repo, head), _listing(repo, base))

    def file(self, path: str, status: FileStatus, old_path: str | None = None, added: int | None = None,
             removed: int | None = None) -> FileChange:
        new = self.new_tree.get(path) if self.new_tree is not None and status is not FileStatus.DELETED else None
        old = self.old_tree.get(old_path or path) if self.old_tree is not None and status is not FileStatus.ADDED else None
        return FileChange(
            path=path, status=status, old_path=old_path, added=added, removed=removed,
            old_blob=old.oid if old else None, new_blob=new.oid if new else None,
            _load_new=self._loader(self.new_tree, new, path) if status is not FileStatus.DELETED else None,
            _load_old=self._loader(self.old_tree, old, old_path or path) if status is not FileStatus.ADDED else None,
        )

    def _loader(self, tree: dict[str, TreeEntry] | None, entry: TreeEntry | None, path: str) -> ContentLoader:
        if entry is not None:
            blobs = self.blobs
            return lambda: blobs.read(entry.oid)
        why = "its commit is not in the clone" if tree is None else "the commit holds no such file"

        def unavailable() -> bytes | None:
            raise ContentUnavailable(f"{path}: {why}")

        return unavailable


def _listing(repo: GitRepo, commit: str | None) -> dict[str, TreeEntry] | None:
    return tree_listing(repo, commit) if commit and has_commit(repo, commit) else None
