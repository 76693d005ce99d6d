"""Helpers shared by the audit tests: run the real CLI and split its JSON lines, generated histories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import CliResult, run_cli

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from history_gen import HistoryGenerator, Truth, generate  # noqa: E402

__all__ = ["HistoryGenerator", "Truth", "audit", "audit_json", "generate", "git", "summary_of"]


def audit(repo: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return run_cli("audit", "--repo", str(repo), *args, env=env, timeout=120)


def audit_json(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per-change objects (newest first) and the final summary of ``audit --format json``."""
    result = audit(repo, "--format", "json", *args, env=env)
    assert result.code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines, "no output"
    return lines[:-1], lines[-1]


def summary_of(repo: Path, *args: str) -> dict[str, Any]:
    return audit_json(repo, *args)[1]


def git(repo: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout
