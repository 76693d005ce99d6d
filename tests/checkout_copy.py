"""This checkout's files as they are now (committed or not), copied into another git repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMIT = ["-c", "user.name=govgate tests", "-c", "user.email=tests@govgate.invalid", "commit", "-q", "--allow-empty"]


def copy_working_tree(target: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def commit_all(target: Path, message: str) -> str:
    subprocess.run(["git", "add", "-A"], cwd=target, check=True, capture_output=True)
    subprocess.run(["git", *COMMIT, "-m", message], cwd=target, check=True, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=target, capture_output=True, text=True, check=True).stdout.strip()


def snapshot(target: Path) -> str:
    """A new repository holding the working tree as one commit (pre-commit installs from a revision)."""
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(target)], check=True, capture_output=True)
    copy_working_tree(target)
    return commit_all(target, "snapshot of the working tree")


def clean_clone(target: Path) -> str:
    """A clone with this repository's history, and the working tree's changes on top as one commit."""
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(target)], check=True, capture_output=True)
    copy_working_tree(target)
    return commit_all(target, "the working tree")
