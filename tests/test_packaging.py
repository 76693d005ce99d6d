"""The wheel ships the policy presets inside the package, and an installed govgate finds them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

from govgate.project import PROJECT_URL

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


def test_sdist_and_wheel_build_and_pass_twine_check(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    files = sorted(dist.iterdir())
    assert sorted(p.suffix for p in files) == [".gz", ".whl"]
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    wheel = next(p for p in files if p.suffix == ".whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("govgate-0.1.0.dist-info/METADATA").decode()
        names = set(archive.namelist())
    assert "License-Expression: MIT" in metadata and "govgate-0.1.0.dist-info/licenses/LICENSE" in names
    assert "Requires-Python: >=3.11" in metadata and "Classifier: Programming Language :: Python :: 3.11" in metadata
    assert f"Project-URL: Source, {PROJECT_URL}" in metadata
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert sorted(r.split()[1].lower() for r in requires) == [
        "click>=8.1", "google-re2>=1.1", "jsonschema>=4.18", "pyyaml>=6.0", "tzdata>=2023.3"]
    with tarfile.open(next(p for p in files if p.suffix == ".gz")) as sdist:
        shipped = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "CHANGELOG.md", "action.yml", "requirements/action.txt", "schema/policy.schema.json",
            ".pre-commit-hooks.yaml"} <= shipped


def test_gitpython_is_never_imported_at_run_time() -> None:
    # Import every module of the package, then look: GitPython is only a test dependency.
    probe = ("import importlib, pkgutil, sys, govgate\n"
             "for m in pkgutil.walk_packages(govgate.__path__, 'govgate.'):\n"
             "    importlib.import_module(m.name)\n"
             "print(sorted(n for n in sys.modules if n == 'git' or n.startswith('git.')))")
    result = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
    # Control: the probe does see GitPython when something imports it.
    seen = subprocess.run([sys.executable, "-I", "-c", "import git, sys; print('git' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert seen.stdout.strip() == "True"


def test_project_url_is_the_same_everywhere() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    urls = pyproject["project"]["urls"]
    assert urls["Homepage"] == urls["Source"] == PROJECT_URL
    assert all(url.startswith(PROJECT_URL) for url in urls.values())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    other = {url for url in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", readme) if "govgate" in url}
    assert other <= {PROJECT_URL}, other
