"""Detector dispatch: a detector sees only the files it declares it can speak to, a change none of
them speaks to costs them nothing, and only contents some detector reads are fetched from git."""

from __future__ import annotations

from pathlib import Path

import pytest

from govgate.detectors import all_detectors, run_detectors, scope_matcher
from govgate.pipeline import evaluate
from govgate.policy.loader import find_policy, load_policy
from govgate.sources.git import BlobStore, GitRepo
from govgate.sources.history import HistoryOptions, HistorySource
from tests.conftest import RepoBuilder

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  strategy: {type: Recreate}
  template: {spec: {containers: [{name: web, image: web:1}]}}
"""
DOCS = {"docs/guide.md": "# Guide\n", "docs/faq.md": "# FAQ\n", "img/logo.png": b"\x89PNG\r\n\x1a\n\0\0"}


@pytest.fixture
def requested(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every object id asked of ``git cat-file --batch`` (the real one still answers)."""
    asked: list[str] = []
    real_many, real_one = BlobStore.read_many, BlobStore.read

    def many(self: BlobStore, shas: list[str]) -> dict[str, bytes | None]:
        asked.extend(shas)
        return real_many(self, shas)

    def one(self: BlobStore, sha: str, limit: int | None = None) -> bytes:
        asked.append(sha)
        return real_one(self, sha, limit)

    monkeypatch.setattr(BlobStore, "read_many", many)
    monkeypatch.setattr(BlobStore, "read", one)
    return asked


def _audit_in_process(path: Path) -> list:
    policy = load_policy(find_policy(None, path))
    source = HistorySource(GitRepo.open(path), HistoryOptions(), prefetch=lambda f: scope_matcher().is_read(f))
    try:
        return [evaluate(change, policy) for change in source.changes()]
    finally:
        source.close()


def _blob(builder: RepoBuilder, rev: str, path: str) -> str:
    return builder.git("rev-parse", f"{rev}:{path}").strip()


def test_changes_no_detector_reads_fetch_no_content(tmp_path: Path, requested: list[str]) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Docs", DOCS)
    builder.commit("More docs", {"docs/guide.md": "# Guide\n\nMore.\n", "img/logo.png": b"\x89PNG\r\n\x1a\n\1"})
    verdicts = _audit_in_process(builder.path)
    assert len(verdicts) == 2
    assert requested == []  # not one blob was read


def test_only_contents_a_detector_reads_are_fetched(tmp_path: Path, requested: list[str]) -> None:
    """Control for the test above: the same kind of change plus a deployment reads the deployment, and only it."""
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Docs", DOCS)
    builder.commit("Deploy", {"deploy/web.yaml": DEPLOYMENT, "docs/guide.md": "# Guide\n\nDeploy.\n", "notes.txt": "x\n"})
    verdicts = _audit_in_process(builder.path)
    assert set(requested) == {_blob(builder, "HEAD", "deploy/web.yaml")}
    recreate = [e for e in verdicts[0].evidence if "Recreate" in e.detail]
    assert recreate, "the deployment was read and judged"


def test_a_detector_sees_only_its_own_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import local_change

    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Base", {"README.md": "x\n"})
    base = builder.head()
    builder.commit("Mixed", {"deploy/web.yaml": DEPLOYMENT, "src/app.py": "x = 1\n", "docs/a.md": "a\n"})
    change = local_change(builder, base)
    seen: dict[str, list[str]] = {}
    for detector in all_detectors():
        real = detector.detect

        def recording(change, settings, _real=real, _name=detector.name):  # type: ignore[no-untyped-def]
            seen[_name] = [f.path for f in change.files]
            return _real(change, settings)

        monkeypatch.setattr(detector, "detect", recording)
    run_detectors(change, {})
    assert seen["k8s_deployment"] == ["deploy/web.yaml"]
    assert seen["feature_flags"] == ["src/app.py"]
    assert "terraform" not in seen and "migrations_sql" not in seen  # nothing of theirs: not called at all
    # control: detectors that look at every change see every file
    assert sorted(seen["risk"]) == sorted(seen["tests_changed"]) == ["deploy/web.yaml", "docs/a.md", "src/app.py"]


def test_every_detector_declares_its_scope() -> None:
    for detector in all_detectors():
        assert hasattr(detector, "speaks_to") and hasattr(detector, "reads"), detector.name
        if detector.speaks_to is not None:
            assert detector.speaks_to, f"{detector.name}: an empty scope would never run"
