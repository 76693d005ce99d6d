"""Helpers for the rollout/rollback detector tests: fixtures from tests/data/deploy, real commits."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from govgate.model import Change, Evidence
from tests.conftest import RepoBuilder, detect, local_change

DEPLOY_DATA = Path(__file__).resolve().parent / "data" / "deploy"


def fixture(name: str) -> str:
    """A file recreated from a public repository (see tests/data/SOURCES.md)."""
    return (DEPLOY_DATA / name).read_text(encoding="utf-8")


def commit_change(builder: RepoBuilder, files: dict[str, str | bytes | None], message: str = "Change deploy config") -> Change:
    """Commit ``files`` on top of HEAD and read that commit back as a Change through the local git source."""
    base = builder.head()
    builder.commit(message, files)
    return local_change(builder, base)


def run(detector: object, change: Change, settings: dict | None = None) -> list[Evidence]:
    return detect(detector, change, settings)


def kinds(evidence: Iterable[Evidence]) -> list[str]:
    return [e.kind for e in evidence]


def only(evidence: Iterable[Evidence], kind: str) -> Evidence:
    found = [e for e in evidence if e.kind == kind]
    assert len(found) == 1, f"expected one {kind}, got {[e.kind for e in evidence]}"
    return found[0]


def make_unreadable(builder: RepoBuilder, rev_path: str) -> None:
    """Delete the loose object behind ``REV:path``, as a partial clone or damaged mirror would lack it."""
    sha = builder.git("rev-parse", rev_path).strip()
    (builder.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()


def assert_common_shape(evidence: Iterable[Evidence]) -> None:
    """What every rollout/rollback finding must carry: inferred trust, a file location, known facets."""
    allowed = {"rollout": {"gradual", "flagged", "plan"}, "rollback": {"reversible_migrations", "revert_path", "plan"}}
    for item in evidence:
        assert item.question.value in allowed, item
        assert item.trust.value == "inferred", item
        assert item.location.path, item
        assert item.facets <= allowed[item.question.value], item
        if item.supports and not item.unavailable:
            assert item.facets, f"supporting evidence without a facet: {item}"
            if item.question.value == "rollback":
                assert item.attrs.get("path_kind"), item
        else:
            assert item.severity in ("error", "warning"), item


def line_of(text: str, needle: str) -> int:
    """The 1-based number of the first line of text that contains needle."""
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)
