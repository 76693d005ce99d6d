"""Plain git plumbing shared by the local and history sources.

git is driven through subprocess rather than GitPython on the hot path: a streamed
``git log`` and one long-lived ``git cat-file --batch`` are what keep govgate within a
small factor of git itself, and GitPython's import alone costs more than our start-up budget.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from govgate.errors import GitError
from govgate.limits import MAX_INSPECT_BYTES
from govgate.model import Commit, ContentTooLarge, ContentUnavailable, FileChange, FileStatus, Person
from govgate.sources.git_credentials import FetchCredentials

ZERO_SHA = "0" * 40

# Framing of every ``git log`` stream govgate parses. A commit's message, names and paths may hold
# any byte (a fixed separator such as \x1e or NUL can be written into a commit with
# ``git hash-object --literally``), so records and fields are delimited by markers drawn at random
# for each run: no commit written before the run can contain them, so none can split a record or
# forge one. Every field is found by position between two markers, never by its content.
_NONCE = os.urandom(16).hex()
RECORD_MARK = f"{_NONCE}R"
FIELD_MARK = f"{_NONCE}F"
_RECORD = RECORD_MARK.encode()
_FIELD = FIELD_MARK.encode()
_FIELDS = ("%H", "%P", "%an", "%ae", "%cn", "%ce", "%aI", "%cI", "%B")


def log_format(*placeholders: str) -> str:
    """A ``--format`` whose records and fields ``log_records`` and ``record_fields`` split back."""
    return RECORD_MARK + FIELD_MARK.join(placeholders) + FIELD_MARK


LOG_FORMAT = log_format(*_FIELDS)
GITLINK_MODE = b"160000"
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a submodule entry: its "blob" is a commit of another repository

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
    """Object contents through one ``git cat-file --batch`` process.

    Answers are length-prefixed (``<sha> <type> <size>``, then exactly that many bytes), and each
    header must name the object asked for: a reply out of step (git died mid-object) ends the
    process, the objects it owed read as unavailable, and the next read starts a fresh one.
    """

    def __init__(self, repo: GitRepo, extra_env: dict[str, str] | None = None) -> None:
        self._args = ["git", "-C", str(repo.path), "cat-file", "--batch"]
        self._env = {**_git_env(), **(extra_env or {})}
        self._proc: subprocess.Popen[bytes] | None = None

    def read(self, sha: str, limit: int | None = None) -> bytes:
        """An object's content by name; ObjectTooLarge (content skipped) when it exceeds ``limit`` bytes."""
        if "\n" in sha:  # one request per line: a newline would desynchronise every later answer
            raise ContentUnavailable(sha)
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(sha.encode() + b"\n")
            proc.stdin.flush()
            data = self._answer(proc.stdout, sha, limit)
        except (OSError, _OutOfStep):  # cat-file died (a partial clone's failed lazy fetch): no content, not a crash
            self.close()
            raise ContentUnavailable(sha) from None
        if data is None:
            raise ContentUnavailable(sha)
        return data

    def read_many(self, shas: list[str]) -> dict[str, bytes | None]:
        """Several objects in one round trip (None for a missing one).
        Keep the list short (< 1000): all requests are written before any answer is read, so
        they must fit in the pipe."""
        found: dict[str, bytes | None] = dict.fromkeys(shas)
        shas = [sha for sha in shas if "\n" not in sha]  # one request per line
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write("".join(f"{sha}\n" for sha in shas).encode())
            proc.stdin.flush()
            for sha in shas:
                found[sha] = self._answer(proc.stdout, sha)
        except (OSError, _OutOfStep):  # cat-file died (a partial clone's failed lazy fetch): no content, not a crash
            self.close()
        return found

    @staticmethod
    def _answer(stdout: IO[bytes], name: str, limit: int | None = None) -> bytes | None:
        header = stdout.readline()
        if not header.endswith(b"\n"):
            raise _OutOfStep  # end of output: git died
        line = header[:-1]
        if line.endswith((b" missing", b" ambiguous")):
            return None  # partial clone, damaged mirror
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[2].isdigit():
            raise _OutOfStep
        if _OBJECT_ID.fullmatch(name) and parts[0].decode("ascii", "replace") != name:
            raise _OutOfStep  # an answer about another object than the one asked for
        size = int(parts[2])
        if limit is not None and size > limit:
            remaining = size + 1  # skip it and its newline, so that the next answer lines up
            while remaining > 0 and (chunk := stdout.read(min(1 << 16, remaining))):
                remaining -= len(chunk)
            if remaining:
                raise _OutOfStep
            raise ObjectTooLarge(name, size)
        data = stdout.read(size)
        if len(data) != size or stdout.read(1) != b"\n":
            raise _OutOfStep
        return data

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

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, env=self._env)
        return self._proc

    def close(self) -> None:
        if self._proc is not None:
            close_pipe_process(self._proc)
            self._proc = None


class _OutOfStep(Exception):
    """cat-file's answer does not match the request: the rest of its output cannot be trusted."""


class ObjectTooLarge(Exception):
    def __init__(self, name: str, size: int) -> None:
        super().__init__(f"{name}: {size} bytes")
        self.size = size


def close_pipe_process(proc: subprocess.Popen[bytes]) -> None:
    """End a long-lived ``git cat-file --batch*`` process: closing its input lets it exit."""
    for pipe in (proc.stdin, proc.stdout):
        if pipe:
            try:
                pipe.close()
            except OSError:  # it already died: nothing left to flush to
                pass
    proc.wait()


def parse_log(chunks: Iterable[bytes]) -> Iterator[tuple[Commit, list[bytes]]]:
    """Parse a ``git log -z --format=LOG_FORMAT [--raw] [--numstat]`` stream.

    Yields each commit with the NUL-separated tokens of its diff part (empty without
    --raw/--numstat); ``parse_diff_tokens`` turns those into FileChanges.
    """
    for record in log_records(chunks):
        fields = record_fields(record)
        yield commit_of(fields), diff_tokens(fields[-1])


def log_records(chunks: Iterable[bytes], marker: bytes = _RECORD) -> Iterator[bytes]:
    """The records of a stream, split on ``marker`` as the bytes arrive.

    Only bytes not searched yet are searched, so a record larger than a read (a merge touching
    100,000 files) costs linear time, not a rescan per read.
    """
    buffer = bytearray()
    searched = 0  # buffer[:searched] holds no marker start
    for chunk in chunks:
        buffer += chunk
        start = 0
        while (found := buffer.find(marker, max(start, searched))) >= 0:
            if found > start:
                yield bytes(buffer[start:found])
            start = found + len(marker)
        if start:
            del buffer[:start]
        searched = max(0, len(buffer) - len(marker) + 1)
    if buffer:
        yield bytes(buffer)


def record_fields(record: bytes, count: int = len(_FIELDS)) -> list[bytes]:
    """The ``count`` fields of one record (``LOG_FORMAT``'s by default), then what follows them."""
    fields = record.split(_FIELD)
    if len(fields) != count + 1:
        raise GitError(f"unexpected git log output ({len(fields)} fields in a record)", "report this with your git version")
    return fields


def commit_of(fields: list[bytes]) -> Commit:
    sha, parents, an, ae, cn, ce, ad, cd, message = (f.decode("utf-8", "replace") for f in fields[: len(_FIELDS)])
    return Commit(
        sha=sha,
        parents=tuple(parents.split()),
        author=Person(an, ae),
        committer=Person(cn, ce),
        authored_at=ad,
        committed_at=cd,
        message=message.rstrip("\n"),
    )


def commit_from_object(sha: str, raw: bytes) -> Commit:
    """A commit from its raw object (``git cat-file commit``): header lines up to the first empty
    line, split on newlines only (a name may hold any other line-breaking character), then the message."""
    header, _, message = raw.partition(b"\n\n")
    fields: dict[bytes, list[bytes]] = {}
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        fields.setdefault(key, []).append(value)
    author, authored_at = identity_of(fields.get(b"author", [b""])[0].decode("utf-8", "replace"))
    committer, committed_at = identity_of(fields.get(b"committer", [b""])[0].decode("utf-8", "replace"))
    return Commit(sha=sha, parents=tuple(p.decode("ascii", "replace") for p in fields.get(b"parent", [])),
                  author=author, committer=committer, authored_at=authored_at, committed_at=committed_at,
                  message=message.decode("utf-8", "replace").rstrip("\n"))


def identity_of(line: str) -> tuple[Person, str]:
    """``Name <email> 1700000000 +0100`` -> (Person, ISO 8601 time)."""
    name, _, rest = line.partition(" <")
    email, _, when = rest.partition("> ")
    try:
        seconds, offset = when.split()
        sign = -1 if offset.startswith("-") else 1
        zone = dt.timezone(sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        stamp = dt.datetime.fromtimestamp(int(seconds), zone).isoformat()
    except (ValueError, IndexError, OverflowError, OSError):
        stamp = ""
    return Person(name.strip(), email.strip()), stamp


def diff_tokens(rest: bytes) -> list[bytes]:
    """The NUL-separated diff tokens after a record's last field.

    git writes a NUL after the format and, when a diff follows, one newline before it; exactly
    those are dropped (a file name may itself begin with a newline).
    """
    if rest.startswith(b"\0"):
        rest = rest[1:]
    if rest.startswith(b"\n"):
        rest = rest[1:]
    return rest.split(b"\0") if rest else []


def parse_diff_tokens(tokens: list[bytes], blobs: BlobStore | None) -> list[FileChange]:
    """Turn the -z tokens of ``--raw`` (and optionally ``--numstat``) into FileChanges.

    Tokens are read by position: a path is always the token after its entry, whatever it holds,
    so no file name can pass for an entry. A path is identified by its bytes (two names that are
    not UTF-8 stay two files even when they print alike).
    """
    files: dict[bytes, FileChange] = {}
    i, count = 0, len(tokens)
    while i < count:
        token = tokens[i]
        if token.startswith(b":"):
            meta = token[1:].split()
            if len(meta) < 5 or i + 1 >= count:
                raise GitError("unexpected git diff output (a truncated --raw entry)", "report this with your git version")
            status_code = meta[4][:1].decode()
            old_sha, new_sha = meta[2].decode(), meta[3].decode()
            if status_code in ("R", "C"):
                if i + 2 >= count:
                    raise GitError("unexpected git diff output (a truncated rename)", "report this with your git version")
                old_raw, raw = tokens[i + 1], tokens[i + 2]
                i += 3
            else:
                old_raw, raw = None, tokens[i + 1]
                i += 2
            old_blob = None if old_sha.strip("0") == "" or meta[0] == GITLINK_MODE else old_sha
            new_blob = None if new_sha.strip("0") == "" or meta[1] == GITLINK_MODE else new_sha
            files[raw] = FileChange(
                path=decode_path(raw),
                status=_STATUS.get(status_code, FileStatus.MODIFIED),
                old_path=decode_path(old_raw) if old_raw is not None else None,
                old_blob=old_blob,
                new_blob=new_blob,
                _load_old=blobs.loader(old_blob) if blobs else None,
                _load_new=blobs.loader(new_blob) if blobs else None,
            )
            continue
        numbers = token.split(b"\t", 2)
        if len(numbers) == 3:
            if numbers[2]:
                raw = numbers[2]
                i += 1
            else:  # a rename: the old and new paths follow as their own tokens
                raw = tokens[i + 2] if i + 2 < count else b""
                i += 3
            target = files.get(raw)
            if target is not None:
                if numbers[0] == b"-":
                    target.binary = True
                elif numbers[0].isdigit() and numbers[1].isdigit():
                    target.added, target.removed = int(numbers[0]), int(numbers[1])
            continue
        i += 1
    return list(files.values())


def decode_path(raw: bytes) -> str:
    """A path as text; bytes that are not UTF-8 are kept visible as ``\\xNN`` escapes."""
    return raw.decode("utf-8", "backslashreplace")
