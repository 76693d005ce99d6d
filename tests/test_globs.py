"""Path globs: the semantics every policy `paths` condition and detector setting relies on."""

from __future__ import annotations

import pytest

from govgate.globs import glob_set, path_matches

CASES = [
    ("app/migrations/0001_init.py", "**/migrations/**", True),
    ("migrations/0001_init.py", "**/migrations/**", True),
    ("app/migrations_old/x.py", "**/migrations/**", False),
    ("app/migrations/0001_init.py", "**/migrations/[0-9]*.py", True),
    ("app/migrations/__init__.py", "**/migrations/[0-9]*.py", False),
    ("src/a/b.py", "*.py", True),  # a bare name floats to any depth
    ("src/a/b.pyc", "*.py", False),
    ("docs/guide/x.md", "docs/", True),  # a folder matches everything below it
    ("src/docs/x.md", "docs/", True),
    ("src/docs/x.md", "/docs/**", False),  # anchored at the root
    ("db/migrate/2024_add.rb", "db/migrate/*.rb", True),
    ("x/db/migrate/2024_add.rb", "db/migrate/*.rb", False),
    ("a/b/c/d.tf", "a/**/d.tf", True),
    ("a/d.tf", "a/**/d.tf", True),
    ("Dockerfile", "Dockerfile", True),
    ("services/api/Dockerfile", "Dockerfile", True),
    ("services/api/Dockerfile.dev", "Dockerfile", False),
    ("x/y", "[!a]/y", True),
    ("a/y", "[!a]/y", False),
    ("deploy/k8s/app.yaml", "deploy", True),
    ("a.py", "?.py", True),
    ("ab.py", "?.py", False),
]


@pytest.mark.parametrize(("path", "pattern", "expected"), CASES)
def test_single_patterns(path: str, pattern: str, expected: bool) -> None:
    assert path_matches(path, pattern) is expected


def test_a_set_matches_when_any_pattern_does() -> None:
    patterns = [p for _, p, _ in CASES]
    matcher = glob_set(patterns)
    for path, _, _ in CASES:
        assert matcher(path) is any(path_matches(path, p) for p in patterns)
    assert glob_set(())("anything") is False
