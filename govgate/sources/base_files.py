"""Files of a revision read from its git objects: never from the working tree, never through a link.

The policy, CODEOWNERS and the memory file decide how a change is judged, so they are read from a
commit the change cannot rewrite (the base of a pull request, the audited revision). The path is
walked tree by tree by object id: no path string ever reaches git, so neither pathspec magic nor a
newline in a name can redirect the read. Only a regular file is accepted: a symbolic link (mode
120000) would let whoever controls its target choose the content, so a link at the path or among
its folders, a submodule or a directory is a BaseFileError that names the path and the revision.
Reads are bounded in size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from govgate.errors import GitError, GovgateError
from govgate.model import ContentUnavailable
from govgate.sources.git import GitRepo, ObjectTooLarge

TREE = "40000"
SYMLINK = "120000"
GITLINK = "160000"
DEFAULT_LIMIT = 1 << 20  # 1 MiB: far above any real policy or memory file

_KIND = {TREE: "a directory", SYMLINK: "a symbolic link", GITLINK: "a submodule"}


class BaseFileError(GovgateError):
    """A file that decides the verdict is not a plain, readable file at the revision it must come from."""


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    oid: str

    @property
    def regular(self) -> bool:
        return self.mode.startswith("100")  # 100644, 100755 (and the legacy 100664)

    @property
    def kind(self) -> str:
        return "a regular file" if self.regular else _KIND.get(self.mode, f"an entry of mode {self.mode}")


@dataclass
class BaseFiles:
    """Reads paths of one revision (a full commit id) through the repository's ``cat-file --batch``."""

    repo: GitRepo
    revision: str
    role: str | None = None  # what the revision is, for messages: "the pull request's base commit"
    _trees: dict[str, dict[bytes, TreeEntry]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.revision) not in (40, 64) or any(c not in "0123456789abcdef" for c in self.revision):
            raise GitError(f"internal: {self.revision!r} is not a full commit id")

    @property
    def label(self) -> str:
        return self.revision[:12] + (f" ({self.role})" if self.role else "")

    def entry(self, path: str) -> TreeEntry | None:
        """The tree entry at ``path``, None when nothing is there; a link among its folders is an error."""
        parts = _components(path)
        tree = self._root()
        for depth, name in enumerate(parts, start=1):
            found = self._tree(tree).get(name)
            if found is None:
                return None
            if depth == len(parts):
                return found
            if found.mode == TREE:
                tree = found.oid
            elif found.mode in (SYMLINK, GITLINK):
                folder = "/".join(p.decode("utf-8", "replace") for p in parts[:depth])
                raise BaseFileError(
                    f"cannot read {path} at {self.label}: {folder} is {found.kind}, and govgate never follows one",
                    f"make {folder} a real directory on that branch",
                )
            else:
                return None  # a file where a folder was expected: the path does not exist
        return None

    def read_bytes(self, path: str, *, what: str = "file", limit: int = DEFAULT_LIMIT) -> bytes | None:
        """The content of the regular file at ``path``, or None when there is none."""
        found = self.entry(path)
        if found is None:
            return None
        if not found.regular:
            raise BaseFileError(
                f"{what} {path} at {self.label} is {found.kind} (mode {found.mode}), not a regular file; govgate reads "
                f"the {what} only from a regular file, so that no link can point it at other content",
                f"replace {path} with the file itself on that branch",
            )
        try:
            return self.repo.blobs().read(found.oid, limit=limit)
        except ObjectTooLarge as exc:
            raise BaseFileError(f"{what} {path} at {self.label} is {exc.size:,} bytes; the limit is {limit:,}") from None
        except ContentUnavailable:
            raise GitError(
                f"cannot read {what} {path} at {self.label}: object {found.oid[:12]} is missing from the clone",
                "fetch the object (a partial or damaged clone)",
            ) from None

    def read_text(self, path: str, *, what: str = "file", limit: int = DEFAULT_LIMIT) -> str | None:
        data = self.read_bytes(path, what=what, limit=limit)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise BaseFileError(f"{what} {path} at {self.label} is not UTF-8 text") from None

    def first_of(self, paths: Iterable[str], *, what: str = "file", limit: int = DEFAULT_LIMIT) -> tuple[str, str] | None:
        """(path, text) of the first of ``paths`` that exists."""
        for path in paths:
            text = self.read_text(path, what=what, limit=limit)
            if text is not None:
                return path, text
        return None

    def _root(self) -> str:
        tree = f"{self.revision}^{{tree}}"
        if tree not in self._trees:
            self._trees[tree] = self._parse(self._object(tree, f"commit {self.label}"))
        return tree

    def _tree(self, name: str) -> dict[bytes, TreeEntry]:
        if name not in self._trees:
            self._trees[name] = self._parse(self._object(name, f"a folder of {self.label}"))
        return self._trees[name]

    def _object(self, name: str, what: str) -> bytes:
        try:
            return self.repo.blobs().read(name)
        except ContentUnavailable:
            raise GitError(f"cannot read {what}: it is not in the clone", "fetch it first (git fetch origin <sha>)") from None

    def _parse(self, data: bytes) -> dict[bytes, TreeEntry]:
        """A raw tree object: entries of ``<mode> <name>\\0<binary object id>``."""
        width = len(self.revision) // 2
        entries: dict[bytes, TreeEntry] = {}
        at = 0
        while at < len(data):
            space = data.index(b" ", at)
            nul = data.index(b"\0", space)
            entries[data[space + 1:nul]] = TreeEntry(data[at:space].decode("ascii"), data[nul + 1:nul + 1 + width].hex())
            at = nul + 1 + width
        return entries


def tree_listing(repo: GitRepo, commit: str) -> dict[str, TreeEntry]:
    """Every file of a commit with its object id (``ls-tree -r -z``: names are NUL-separated, never quoted)."""
    raw = repo.run_bytes("ls-tree", "-r", "-z", "--full-tree", commit)
    listing: dict[str, TreeEntry] = {}
    for record in raw.split(b"\0"):
        meta, tab, name = record.partition(b"\t")
        if not tab:
            continue
        mode, _, oid = meta.decode("ascii").split(" ")
        listing[name.decode("utf-8", "replace")] = TreeEntry(mode, oid)
    return listing


def _components(path: str) -> list[bytes]:
    parts = [p for p in path.removeprefix("./").split("/")]
    if not parts or any(p in ("", ".", "..") for p in parts):
        raise BaseFileError(f"{path!r} is not a path inside the repository")
    return [p.encode("utf-8") for p in parts]
