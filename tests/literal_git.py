"""Real git objects with any bytes in them, written the way an attacker would: ``git hash-object
--literally`` for commits that ``git commit`` refuses to make, ``git mktree -z`` for any file name."""

from __future__ import annotations

import subprocess
from pathlib import Path

AUTHOR = b"Alice Example <alice@example.com>"
AI_TRAILER = b"Co-authored-by: Claude <noreply@anthropic.com>"


def git_bytes(repo: Path, *args: str, stdin: bytes = b"") -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=True).stdout


def init(repo: Path) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    return repo


def blob(repo: Path, data: bytes) -> str:
    return git_bytes(repo, "hash-object", "-w", "--stdin", stdin=data).decode().strip()


def tree(repo: Path, files: dict[bytes, bytes]) -> str:
    """A tree of top-level files: name (any bytes but NUL and '/') -> content."""
    entries = b"".join(b"100644 blob %s\t%s\0" % (blob(repo, data).encode(), name) for name, data in files.items())
    return git_bytes(repo, "mktree", "-z", stdin=entries).decode().strip()


def commit(repo: Path, tree_sha: str, parents: list[str], message: bytes, *, author: bytes = AUTHOR,
           when: int = 1_767_225_600) -> str:
    """A commit object written as given (no checks), then made the tip of main."""
    header = b"tree %s\n" % tree_sha.encode()
    header += b"".join(b"parent %s\n" % p.encode() for p in parents)
    header += b"author %s %d +0000\ncommitter %s %d +0000\n" % (author, when, AUTHOR, when)
    sha = git_bytes(repo, "hash-object", "-w", "-t", "commit", "--literally", "--stdin", stdin=header + b"\n" + message)
    sha_text = sha.decode().strip()
    git_bytes(repo, "update-ref", "refs/heads/main", sha_text)
    return sha_text
