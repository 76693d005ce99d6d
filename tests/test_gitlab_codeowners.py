"""GitLab's CODEOWNERS: the parser (sections, optional sections, approval counts, exclusions, GitLab's
glob semantics) and ``codeowners: true`` requirements judged by sections through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from govgate.sources.codeowners_gitlab import DEFAULT_SECTION, parse_gitlab_codeowners
from tests.gitlab_case import APPROVED_AT, BOB, PROJECT_ID, MergeRequestCase, case, evidence
from tests.gitlab_server import GitLabServer, user, user_detail

CAROL, DAVE, ERIN, MALLORY = user("carol", 4), user("dave", 5), user("erin", 6), user("mallory", 7)

SECTIONS = """\
# Everything needs someone from the core team
* @bob

[Security][2] @carol @dave
src/

^[Docs] @erin
README.md
"""

CODEOWNERS_POLICY = """\
version: 1
gitlab: {timeout_seconds: 10}
rules:
  - id: code-owners
    require:
      reviewed: {codeowners: true, trust: verified}
"""


def owners_of(text: str, path: str) -> dict[str, tuple[str, ...]]:
    """section -> owners of ``path`` in that section."""
    return {rule.section: rule.owners for rule in parse_gitlab_codeowners(text).rules_for([path])}


# -- the parser ------------------------------------------------------------------------------------------

def test_sections_optional_sections_counts_and_default_owners() -> None:
    parsed = parse_gitlab_codeowners(SECTIONS)
    by_name = {section.name: section for section in parsed.sections}
    assert set(by_name) == {DEFAULT_SECTION, "Security", "Docs"}
    assert by_name["Docs"].optional and not by_name["Security"].optional
    rules = {rule.section: rule for rule in parsed.rules_for(["src/app.py", "README.md"])}
    assert rules["Security"].approvals == 2 and rules["Security"].owners == ("@carol", "@dave")
    assert rules["Security"].paths == ("src/app.py",)
    assert rules["Docs"].optional and rules["Docs"].owners == ("@erin",)
    assert rules[DEFAULT_SECTION].paths == ("src/app.py", "README.md")  # the unnamed section applies on its own


def test_sections_with_one_name_are_one_section_and_a_required_header_wins() -> None:
    text = "^[Ops] @ops\nops/\n[ops]\ndeploy/ @sre\n"
    (section,) = parse_gitlab_codeowners(text).sections
    assert section.name == "Ops" and not section.optional  # one required header makes the section required
    assert owners_of(text, "deploy/x.yml") == {"Ops": ("@sre",)}


def test_each_section_judges_a_path_on_its_own_and_the_last_match_wins_within_it() -> None:
    text = "*.py @python\nsrc/ @src\n[Review]\nsrc/ @reviewers\nsrc/vendor/ @vendor\n"
    assert owners_of(text, "src/vendor/lib.py") == {DEFAULT_SECTION: ("@src",), "Review": ("@vendor",)}


def test_an_entry_written_again_keeps_its_first_place() -> None:
    text = "src/ @first\n*.py @python\nsrc/ @second\n"  # GitLab replaces src/'s owners but not its position
    assert owners_of(text, "src/app.py") == {DEFAULT_SECTION: ("@python",)}


def test_exclusions_take_paths_out_of_their_section_whatever_the_order() -> None:
    text = "[Deps] @deps\n!package-lock.json\n* @deps\n[All]\n* @all\n"
    assert owners_of(text, "package-lock.json") == {"All": ("@all",)}
    assert owners_of(text, "package.json") == {"Deps": ("@deps",), "All": ("@all",)}


def test_comments_escapes_and_owner_references() -> None:
    text = ("# a comment line\n"
            "\\#notes.md @scribe\n"
            "path\\ with\\ spaces/ @space-owner\n"
            "LICENSE @legal jane@example.com not-an-owner # @after-a-hash-is-still-an-owner\n"
            "config/ @@maintainer @group/sub-group\n")
    assert owners_of(text, "#notes.md") == {DEFAULT_SECTION: ("@scribe",)}
    assert owners_of(text, "path with spaces/a.txt") == {DEFAULT_SECTION: ("@space-owner",)}
    assert owners_of(text, "LICENSE") == {DEFAULT_SECTION: ("@legal", "jane@example.com", "@after-a-hash-is-still-an-owner")}
    assert owners_of(text, "config/app.yml") == {DEFAULT_SECTION: ("@@maintainer", "@group/sub-group")}


def test_problems_are_reported_not_fatal() -> None:
    parsed = parse_gitlab_codeowners("[Docs][zero] @docs\ndocs/\n[]\nsrc/\n")
    assert any("not a number of approvals" in p for p in parsed.problems)
    assert any("without a name" in p for p in parsed.problems)
    assert parsed.rules_for(["docs/a.md"])[0].approvals == 1


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("*", ".env", True),  # FNM_DOTMATCH: * matches dotfiles
    ("*", "a/b/c.txt", True),
    ("*.rb", "app/models/user.rb", True),
    ("README", "docs/README", True),  # a relative pattern matches at any depth
    ("/README", "docs/README", False),
    ("/README", "README", True),
    ("docs/", "docs/a/b.md", True),
    ("docs/", "src/docs/a.md", True),
    ("/docs/", "src/docs/a.md", False),
    ("/docs/*", "docs/a.md", True),
    ("/docs/*", "docs/a/b.md", False),  # * never crosses /
    ("/docs/**/*.md", "docs/a/b/c.md", True),
    ("/docs/**/*.md", "docs/c.md", True),
    ("docs", "docs/a.md", False),  # without a trailing slash a name is a file, as GitLab's fnmatch reads it
    ("/src/[ab].py", "src/a.py", True),
    ("/src/[!ab].py", "src/a.py", False),
    ("/src/?.py", "src/c.py", True),
    ("/src/?.py", "src/cd.py", False),
])
def test_patterns_follow_gitlabs_fnmatch(pattern: str, path: str, matches: bool) -> None:
    assert bool(owners_of(f"{pattern} @owner\n", path)) is matches


# -- codeowners: true through the CLI --------------------------------------------------------------------

def owners_case(tmp_path: Path, server: GitLabServer, codeowners: str = SECTIONS, location: str = ".gitlab/CODEOWNERS",
                change: dict[str, str | None] | None = None) -> MergeRequestCase:
    mr = case(tmp_path, server, CODEOWNERS_POLICY, files={location: codeowners},
              change={"src/app.py": "print('hello, world')\n", **(change or {})})
    for person in (CAROL, DAVE, ERIN, MALLORY):
        mr.users[person["id"]] = user_detail(person["username"], person["id"])
        mr.access[person["id"]] = 30
    return mr


def missing(result_json: dict) -> list[str]:
    return [e["detail"] for e in evidence(result_json, "reviewed", "codeowner-missing")]


def test_a_required_section_needs_its_number_of_owner_approvals(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = owners_case(tmp_path, gitlab_server)
    mr.approved_by = [(BOB, APPROVED_AT), (CAROL, APPROVED_AT)]
    short = mr.run()
    assert short.code == 1
    assert missing(short.json()) == ["[Security] src/ (src/app.py): 1 of 2 approvals by @carol or @dave"]
    mr.approved_by.append((DAVE, APPROVED_AT))
    enough = mr.run()
    assert enough.code == 0, enough.stdout  # the optional Docs section (README.md) needs no approval by @erin
    owners = {e["subject"] for e in evidence(enough.json(), "reviewed", "gitlab-approval") if "codeowner_approval" in e["facets"]}
    assert owners == {"bob", "carol", "dave"}
    assert any(e["kind"] == "codeowners-optional" for e in evidence(enough.json(), "reviewed"))


def test_the_default_section_is_required_alongside_named_ones(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = owners_case(tmp_path, gitlab_server)
    mr.approved_by = [(CAROL, APPROVED_AT), (DAVE, APPROVED_AT)]
    result = mr.run()
    assert result.code == 1 and missing(result.json()) == [
        "[codeowners] * (README.md, src/app.py): 0 of 1 approval by @bob"]


def test_codeowners_come_from_the_target_branch_not_the_merge_request(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = owners_case(tmp_path, gitlab_server, codeowners="* @bob\n", change={".gitlab/CODEOWNERS": "* @mallory\n"})
    mr.approved_by = [(MALLORY, APPROVED_AT)]
    attack = mr.run()
    assert attack.code == 1 and missing(attack.json()) == [
        "[codeowners] * (.gitlab/CODEOWNERS, README.md, src/app.py): 0 of 1 approval by @bob"]
    mr.approved_by = [(BOB, APPROVED_AT)]
    assert mr.run().code == 0


def test_gitlab_looks_for_codeowners_in_its_own_places(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = owners_case(tmp_path, gitlab_server, codeowners="* @carol\n", location="docs/CODEOWNERS")
    result = mr.run()  # only bob approved
    assert result.code == 1 and missing(result.json()) == ["[codeowners] * (README.md, src/app.py): 0 of 1 approval by @carol"]
    github_place = owners_case(tmp_path / "github-place", gitlab_server, codeowners="* @carol\n",
                               location=".github/CODEOWNERS")
    found = github_place.run().json()
    assert [e["kind"] for e in evidence(found, "reviewed") if e["kind"].startswith("codeowner")] == ["codeowners-none"]


def test_group_and_role_owners_are_resolved_through_the_api(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    mr = owners_case(tmp_path, gitlab_server, codeowners="* @@maintainer\nsrc/ @platform/security\n")
    mr.approved_by = [(BOB, APPROVED_AT), (CAROL, APPROVED_AT)]
    mr.access[4] = 40  # carol is a Maintainer: she owns * through @@maintainer (roles do not include higher ones)
    gitlab_server.json("groups/platform%2Fsecurity/members/all/3", {**user("bob", 3), "access_level": 30})
    result = mr.run()
    assert result.code == 0, result.stdout
    sent = {s.path for s in gitlab_server.requests if "/groups/" in s.path}
    assert "/api/v4/groups/platform%2Fsecurity/members/all/3" in sent
    mr.approved_by = [(BOB, APPROVED_AT)]  # nobody holds the Maintainer role among the approvers
    assert mr.run().code == 1


def test_a_code_owner_who_pushed_the_commits_cannot_be_the_owners_approval(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    from tests.gitlab_server import push_event

    mr = owners_case(tmp_path, gitlab_server, codeowners="* @bob\n")
    mr.events.append(push_event("bob", 3, ref="feature", commit_to=mr.head, event_id=9))
    result = mr.run()
    assert result.code == 1 and missing(result.json()) == ["[codeowners] * (README.md, src/app.py): 0 of 1 approval by @bob"]


def test_gitlabs_own_rules_are_shown_never_counted(tmp_path: Path, gitlab_server: GitLabServer) -> None:
    from tests.gitlab_server import approval_rule, approval_state

    mr = owners_case(tmp_path, gitlab_server, codeowners="* @carol\n")
    mr.serve()
    gitlab_server.json(f"projects/{PROJECT_ID}/merge_requests/7/approval_state", approval_state([
        approval_rule("*", 1, [BOB], rule_type="code_owner", section="codeowners")]))
    result = mr.run(serve=False)
    assert result.code == 1  # GitLab calls its rule met; govgate's own reading of CODEOWNERS says @carol is missing
    (rule,) = evidence(result.json(), "reviewed", "gitlab-approval-rule")
    assert rule["detail"] == "GitLab's code_owner rule '*': 1 of 1 approvals, met (by @bob)" and rule["discounted"]
