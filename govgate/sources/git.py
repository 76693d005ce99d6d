"""Plain git plumbing shared by the local and history sources.

git is driven through subprocess rather than GitPython on the hot path: a streamed
``git log`` and one long-lived ``git cat-file --batch`` are what keep govgate within a
small factor of git itself, and GitPython's import alone costs more than our start-up budget.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from govgate.errors import GitError
from govgate.limits import MAX_INSPECT_BYTES
from govgate.model import Commit, ContentTooLarge, ContentUnavailable, FileChange, FileStatus, Person
from govgate.sources.git_credentials import FetchCredentials

ZERO_SHA = "0" * 40

# One record per commit: a record separator, NUL-separated fields, then the diff part.
_FIELDS = ("%H", "%P", "%an", "%ae", "%cn", "%ce", "%aI", "%cI", "%B")
LOG_FORMAT = "%x1e" + "%x00".join(_FIELDS) + "%x00"

_STATUS = {
    "A": FileStatus.ADDED,
    "M": FileStatus.MODIFIED,
    "D": FileStatus.DELETED,
    "R": FileStatus.RENAMED,
    "C": FileStatus.COPIED,
    "T": FileStatus.TYPE_CHANGED,
}


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    # Never prompt, never page, never localise the messages we parse.
    env.update(GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", LC_ALL="C", GIT_OPTIONAL_LOCKS="0")
    return env


@dataclass
class GitRepo:
    path: Path
    _batch: BlobStore | None = field(default=None, repr=False)
    credentials: FetchCredentials | None = field(default=None, repr=False)  # for fetches from origin

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> GitRepo:
        directory = Path(path)
        if not directory.is_dir():
            raise GitError(f"{directory}: no such directory", "pass --repo DIR pointing at a git checkout")
        result = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, env=_git_env(), check=False,
        )
        if result.returncode != 0:
            result = subprocess.run(
                ["git", "-C", str(directory), "rev-parse", "--git-dir"],
                capture_output=True, text=True, env=_git_env(), check=False,
            )
            if result.returncode != 0:
                raise GitError(f"{directory}: not a git repository", "pass --repo DIR pointing at a git checkout")
            return cls(directory.resolve())  # a bare repository or a mirror
        return cls(Path(result.stdout.strip()))

    def run(self, *args: str) -> str:
        return self.run_bytes(*args).decode("utf-8", "replace")

    def run_bytes(self, *args: str, input_: bytes | None = None) -> bytes:
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True, input=input_, env=_git_env(), check=False,
        )
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {args[0]} failed: {message[-1] if message else 'exit ' + str(result.returncode)}")
        return result.stdout

    def try_run(self, *args: str) -> str | None:
        result = subprocess.run(
            ["git", "-C", str(self.path), *args], capture_output=True, env=_git_env(), check=False
        )
        return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else None

    def resolve(self, rev: str) -> str:
        sha = self.try_run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        if not sha:
            raise GitError(f"unknown revision {rev!r} in {self.path}", "check the name, or fetch it first (git fetch)")
        return sha.strip()

    def resolve_with_branch(self, *revs: str) -> tuple[list[str], str | None]:
        """Resolve several revisions and the checked-out branch in one git call."""
        out = self.try_run("rev-parse", *(f"{rev}^{{commit}}" for rev in revs), "--symbolic-full-name", "HEAD")
        lines = out.split() if out else []
        if len(lines) != len(revs) + 1 or any(len(sha) != 40 for sha in lines[: len(revs)]):
            shas = [self.resolve(rev) for rev in revs]  # one at a time, to name the bad one
            return shas, self.current_branch()
        branch = lines[-1].removeprefix("refs/heads/") if lines[-1].startswith("refs/heads/") else None
        return lines[: len(revs)], branch

    def merge_base(self, a: str, b: str) -> str | None:
        out = self.try_run("merge-base", a, b)
        return out.strip() if out else None

    def is_shallow(self) -> bool:
        return (self.try_run("rev-parse", "--is-shallow-repository") or "").strip() == "true"

    def current_branch(self) -> str | None:
        out = self.try_run("symbolic-ref", "--quiet", "--short", "HEAD")
        return out.strip() if out else None

    def remote_url(self, remote: str = "origin") -> str | None:
        out = self.try_run("remote", "get-url", remote)
        return out.strip() if out else None

    def default_base(self) -> str:
        """The remote default branch (origin/HEAD), else a conventional main branch."""
        head = self.try_run("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
        candidates = [head.strip()] if head else []
        candidates += ["refs/remotes/origin/main", "refs/remotes/origin/master", "refs/heads/main", "refs/heads/master"]
        for ref in candidates:
            if self.try_run("rev-parse", "--verify", "--quiet", ref):
                return ref.removeprefix("refs/remotes/").removeprefix("refs/heads/")
        raise GitError("cannot find a default branch to compare with", "pass --base REV (e.g. --base origin/main)")

    def blobs(self) -> BlobStore:
        if self._batch is None:
            self._batch = BlobStore(self)
        return self._batch

    def close(self) -> None:
        if self._batch is not None:
            self._batch.close()
            self._batch = None

    def stream(self, *args: str) -> Iterator[bytes]:
        """Run git and yield its stdout in chunks, raising GitError if it fails."""
        proc = subprocess.Popen(
            ["git", "-C", str(self.path), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_git_env(),
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            while chunk := proc.stdout.read(1 << 16):
                yield chunk
        finally:
            proc.stdout.close()
            err = proc.stderr.read().decode("utf-8", "replace").strip()
            proc.stderr.close()
            code = proc.wait()
        if code != 0:
            last = err.splitlines()[-1] if err else f"exit {code}"
            raise GitError(f"git {args[0]} failed: {last}")


class BlobStore:
    """Object contents through one ``git cat-file --batch`` process, started on first use."""

    def __init__(self, repo: GitRepo) -> None:
        self._proc = subprocess.Popen(
            ["git", "-C", str(repo.path), "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_git_env(),
        )

    def read(self, sha: str, limit: int | None = None) -> bytes:
        """An object's content by name; ObjectTooLarge (content skipped) when it exceeds ``limit`` bytes."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        if "\n" in sha:  # one request per line: a newline would desynchronise every later answer
            raise ContentUnavailable(sha)
        try:
            self._proc.stdin.write(sha.encode() + b"\n")
            self._proc.stdin.flush()
        except OSError:  # cat-file died (a partial clone's failed lazy fetch): no content, not a crash
            raise ContentUnavailable(sha) from None
        header = self._proc.stdout.readline().split()
        if len(header) != 3:  # "<sha> missing" (partial clone, damaged mirror)
            raise ContentUnavailable(sha)
        size = int(header[2])
        if limit is not None and size > limit:
            remaining = size + 1  # skip it and its newline, so that the next answer lines up
            while remaining > 0 and (chunk := self._proc.stdout.read(min(1 << 16, remaining))):
                remaining -= len(chunk)
            raise ObjectTooLarge(sha, size)
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)  # the newline after each object
        return data

    def read_many(self, shas: list[str]) -> dict[str, bytes | None]:
        """Several objects in one round trip (None for a missing one). Keep the list short (< 1000):
        all requests are written before any answer is read, so they must fit in the pipe."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        found: dict[str, bytes | None] = {}
        try:
            self._proc.stdin.write("".join(f"{sha}\n" for sha in shas).encode())
            self._proc.stdin.flush()
        except OSError:
            return dict.fromkeys(shas)
        for sha in shas:
            header = self._proc.stdout.readline().split()
            if len(header) != 3:
                found[sha] = None
                continue
            found[sha] = self._proc.stdout.read(int(header[2]))
            self._proc.stdout.read(1)
        return found

    def loader(self, sha: str | None):  # type: ignore[no-untyped-def]
        if not sha or sha == ZERO_SHA:
            return None
        return lambda: self._read_inspectable(sha)

    def _read_inspectable(self, sha: str) -> bytes:
        """A changed file's content for detectors; one past the inspection limit is skipped unread."""
        try:
            return self.read(sha, limit=MAX_INSPECT_BYTES)
        except ObjectTooLarge as exc:
            raise ContentTooLarge(exc.size) from None

    def close(self) -> None:
        close_pipe_process(self._proc)


class ObjectTooLarge(Exception):
    def __init__(self, name: str, size: int) -> None:
        super().__init__(f"{name}: {size} bytes")
        self.size = size


def close_pipe_process(proc: subprocess.Popen[bytes]) -> None:
    """End a long-lived ``git cat-file --batch*`` process: closing its input lets it exit."""
    if proc.stdin:
        proc.stdin.close()
    if proc.stdout:
        proc.stdout.close()
    proc.wait()


def parse_log(chunks: Iterator[bytes]) -> Iterator[tuple[Commit, list[bytes]]]:
    """Parse a ``git log -z --format=LOG_FORMAT [--raw] [--numstat]`` stream.

    Yields each commit with the NUL-separated tokens of its diff part (empty without
    --raw/--numstat); ``parse_diff_tokens`` turns those into FileChanges.
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        records = pending.split(b"\x1e")
        pending = records.pop()
        for record in records:
            if record:
                yield _parse_record(record)
    if pending:
        yield _parse_record(pending)


def parse_record(record: bytes) -> tuple[Commit, list[bytes]]:
    """One record of a ``LOG_FORMAT`` stream (the bytes between two record separators)."""
    return _parse_record(record)


def _parse_record(record: bytes) -> tuple[Commit, list[bytes]]:
    parts = record.split(b"\0", len(_FIELDS))
    fields = [p.decode("utf-8", "replace") for p in parts[: len(_FIELDS)]]
    sha, parents, an, ae, cn, ce, ad, cd, message = fields
    commit = Commit(
        sha=sha,
        parents=tuple(parents.split()),
        author=Person(an, ae),
        committer=Person(cn, ce),
        authored_at=ad,
        committed_at=cd,
        message=message.rstrip("\n"),
    )
    rest = parts[len(_FIELDS)] if len(parts) > len(_FIELDS) else b""
    tokens = [t for t in rest.lstrip(b"\n").split(b"\0")]
    while tokens and not tokens[-1].strip(b"\n"):
        tokens.pop()
    return commit, tokens


def parse_diff_tokens(tokens: list[bytes], blobs: BlobStore | None) -> list[FileChange]:
    """Turn the -z tokens of ``--raw`` (and optionally ``--numstat``) into FileChanges."""
    files: dict[str, FileChange] = {}
    order: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        if token.startswith(b":"):
            meta = token[1:].split()
            status_code = meta[4].decode()[0] if len(meta) > 4 else "M"
            old_sha, new_sha = meta[2].decode(), meta[3].decode()
            if status_code in "RC":
                old_path, path = _dec(tokens[i + 1]), _dec(tokens[i + 2])
                i += 3
            else:
                old_path, path = None, _dec(tokens[i + 1])
                i += 2
            change = FileChange(
                path=path,
                status=_STATUS.get(status_code, FileStatus.MODIFIED),
                old_path=old_path,
                old_blob=None if old_sha.strip("0") == "" else old_sha,
                new_blob=None if new_sha.strip("0") == "" else new_sha,
                _load_old=blobs.loader(old_sha) if blobs else None,
                _load_new=blobs.loader(new_sha) if blobs else None,
            )
            if path not in files:
                order.append(path)
            files[path] = change
            continue
        numbers = token.split(b"\t")
        if len(numbers) == 3:
            if numbers[2]:
                path = _dec(numbers[2])
                i += 1
            else:  # a rename: the old and new paths follow as their own tokens
                path = _dec(tokens[i + 2])
                i += 3
            target = files.get(path)
            if target is not None:
                if numbers[0] == b"-":
                    target.binary = True
                else:
                    target.added, target.removed = int(numbers[0]), int(numbers[1])
            continue
        i += 1
    return [files[p] for p in order]


def _dec(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").lstrip("\n")
