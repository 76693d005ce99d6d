"""README's first command works on a stock machine: the distribution's python3 with venv, nothing else.

It runs literally, in a clean clone, offline: pip finds the build backend and the dependencies in
the action's hash-checked wheel directory (``PIP_NO_INDEX``, ``PIP_FIND_LINKS``) instead of PyPI.
On Debian 12 (this project's development and CI machine) ``python3`` is the distribution's own
3.11, which refuses a bare ``pip install .`` (PEP 668): the control shows the old README command
failing there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.action_runner import InstalledAction
from tests.checkout_copy import ROOT, clean_clone

STOCK_PYTHON = Path("/usr/bin/python3")


def first_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block is not None
    return block.group(1).strip()


def stock_python() -> Path:
    """The distribution's python3 where it is 3.11+ with venv, else this interpreter."""
    probe = "import sys, ensurepip; sys.exit(sys.version_info < (3, 11))"
    if STOCK_PYTHON.exists() and subprocess.run([str(STOCK_PYTHON), "-I", "-c", probe], capture_output=True).returncode == 0:
        return STOCK_PYTHON
    return Path(sys.executable)


def shell_env(tmp_path: Path, wheels: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(stock_python())
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR")}
    return {**keep, "PATH": f"{bin_dir}:/usr/bin:/bin", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def test_readme_first_command_installs_and_runs_in_a_fresh_venv(tmp_path: Path, installed_action: InstalledAction) -> None:
    command = first_command()
    assert command.startswith("python3 -m venv ") and "pip install ." in command
    clone = tmp_path / "clone"
    clean_clone(clone)
    wheels = next(iter(installed_action.cache.saved.values()))
    proc = subprocess.run(["bash", "-c", command], cwd=clone, env=shell_env(tmp_path, wheels), capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # the gate ran: pass or fail, not an error
    verdict = re.search(r"^govgate: (PASS|FAIL)  .*$", proc.stdout, re.M)  # after pip's own lines
    assert verdict is not None and " commit" in verdict.group(0), proc.stdout + proc.stderr


def test_control_a_bare_pip_install_is_refused_by_the_stock_python(tmp_path: Path) -> None:
    python = stock_python()
    marker = subprocess.run([str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if not (Path(marker) / "EXTERNALLY-MANAGED").exists():
        pytest.skip(f"{python} is not marked externally managed (PEP 668) on this machine")
    proc = subprocess.run([str(python), "-m", "pip", "install", "--dry-run", "--no-index", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0 and "externally-managed-environment" in proc.stdout + proc.stderr
