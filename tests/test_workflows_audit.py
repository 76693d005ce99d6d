"""action.yml, the example workflows and this repository's own workflows pass zizmor with zero
findings (offline, default persona), and every action they use is pinned by a full commit sha
with its version in a comment."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
AUDITED = [ROOT / "action.yml", *sorted((ROOT / "examples" / "workflows").glob("*.yml")),
           *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
PINNED = re.compile(r"^\s*-?\s*uses:\s*(?P<ref>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # v\d+(\.\d+)*\s*$")
LOCAL = re.compile(r"^\s*-?\s*uses:\s*(\$/|\./)")


def zizmor(*paths: Path) -> list[dict]:
    executable = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    if executable is None:
        pytest.fail("zizmor is not installed: pip install -e '.[test]'")
    proc = subprocess.run([executable, "--offline", "--no-progress", "--format", "json", *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (0, 10, 11, 12, 13, 14), proc.stderr  # 1x: findings of some severity
    return json.loads(proc.stdout or "[]")


def test_the_audited_set_is_what_we_ship() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in AUDITED}
    assert {"action.yml", "examples/workflows/govgate-pull-request.yml", ".github/workflows/release.yml",
            ".github/workflows/govgate.yml"} <= names


def test_zizmor_reports_nothing() -> None:
    findings = zizmor(*AUDITED)
    assert findings == [], "\n".join(f"{f['ident']}: {f['desc']}" for f in findings)


def test_control_zizmor_flags_an_unpinned_action_and_persisted_credentials(tmp_path: Path) -> None:
    risky = tmp_path / "risky.yml"
    risky.write_text("on: pull_request\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
                     "    permissions: {contents: read}\n    steps:\n      - uses: actions/checkout@v4\n", encoding="utf-8")
    assert {f["ident"] for f in zizmor(risky)} >= {"unpinned-uses", "artipacked"}


@pytest.mark.parametrize("path", AUDITED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_action_is_pinned_by_sha_with_its_version(path: Path) -> None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"^\s*-?\s*uses:", line) and not LOCAL.match(line):
            assert PINNED.match(line), f"{path.name}: not pinned by sha with a version comment: {line.strip()}"


@pytest.mark.parametrize("path", AUDITED[1:], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_checkout_drops_its_credentials(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for job in data["jobs"].values():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
