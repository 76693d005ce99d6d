"""CODEOWNERS parsing and matching, checked against GitHub's documented example."""

from __future__ import annotations

import pytest

from govgate.sources.codeowners import find_codeowners, is_user_owner, owned_by, owners_of, parse_codeowners

# GitHub's example CODEOWNERS from "About code owners" (docs.github.com), as reproduced in the
# public file lunasec-io/lunasec `CODEOWNERS` (commit 0826ddf523fd0e0e49231decb4173957fb807df4);
# comments shortened, patterns and owners verbatim.
GITHUB_DOCS_EXAMPLE = """\
# This is a comment.
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
/apps/ @octocat
/apps/github
"""

ENTRIES = parse_codeowners(GITHUB_DOCS_EXAMPLE)


@pytest.mark.parametrize(("path", "owners"), [
    ("README.md", ("@global-owner1", "@global-owner2")),
    ("src/app.js", ("@js-owner",)),
    ("cmd/main.go", ("docs@example.com",)),
    ("notes/todo.txt", ("@octo-org/octocats",)),
    ("build/logs/2024/run.log", ("@doctocat",)),
    ("build/logs/today.txt", ("@doctocat",)),  # the later /build/logs/ beats *.txt
    ("docs/getting-started.md", ("@doctocat",)),  # /docs/ comes after docs/*
    ("src/apps/x.py", ("@octocat",)),  # apps/ anywhere
    ("apps/web/index.js", ("@octocat",)),
    ("apps/github/index.js", ()),  # owners left empty: nobody owns it
    ("scripts/deploy.js", ("@doctocat", "@octocat")),
])
def test_last_matching_pattern_wins(path: str, owners: tuple[str, ...]) -> None:
    assert owners_of(path, ENTRIES) == owners


def test_double_star_spans_directories() -> None:
    entries = parse_codeowners("**/logs @octocat\nsrc/**/*.sql @dba\n")
    assert owners_of("var/app/logs", entries) == ("@octocat",)
    assert owners_of("var/app/logs/a.log", entries) == ("@octocat",)
    assert owners_of("src/db/v1/001.sql", entries) == ("@dba",)
    assert owners_of("src/001.sql", entries) == ("@dba",)


def test_docs_star_owns_direct_children_only() -> None:
    entries = parse_codeowners("docs/*  docs@example.com\n")
    assert owners_of("docs/getting-started.md", entries) == ("docs@example.com",)
    assert owners_of("docs/build-app/troubleshooting.md", entries) is None


def test_no_match_negation_and_anchoring() -> None:
    entries = parse_codeowners("/src/ @core\n!src/vendor @nobody\nlib/util.py @util\n")
    assert owners_of("README.md", entries) is None
    assert owners_of("src/vendor/x.c", entries) == ("@core",)  # GitHub has no negation
    assert owners_of("lib/util.py", entries) == ("@util",)
    assert owners_of("pkg/lib/util.py", entries) is None  # a pattern with a slash is anchored
    assert owners_of("pkg/src/x.c", entries) is None


def test_owner_kinds_and_case_insensitive_logins() -> None:
    assert is_user_owner("@octocat") and not is_user_owner("@octo-org/octocats") and not is_user_owner("a@b.c")
    assert owned_by("OctoCat", ("@octocat", "@org/team"))
    assert not owned_by("octo", ("@octocat",))


def test_the_first_codeowners_location_found_wins() -> None:
    files = {"CODEOWNERS": "* @root\n", "docs/CODEOWNERS": "* @docs\n", ".github/CODEOWNERS": "* @dotgithub\n"}
    assert find_codeowners(files.get) == (".github/CODEOWNERS", "* @dotgithub\n")
    del files[".github/CODEOWNERS"]
    assert find_codeowners(files.get) == ("CODEOWNERS", "* @root\n")
    assert find_codeowners({}.get) is None
