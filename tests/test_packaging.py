"""The wheel ships the policy presets inside the package, and an installed govgate finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_presets_and_installed_copy_uses_them(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("govgate-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for preset in ("default", "strict", "ai-strict"):
        assert f"govgate/policies/{preset}.yml" in names
    assert "govgate/policy/schema.py" in names

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    probe = "from govgate.policy.loader import find_policy; print(find_policy(None, None))"
    env = {**os.environ, "PYTHONPATH": str(target)}
    found = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert Path(found.stdout.strip()) == target / "govgate" / "policies" / "default.yml"
