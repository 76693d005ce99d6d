"""`govgate memory suggest` on real git histories built here: departed authors, .mailmap and noreply
identities, bots, reverts and fixes, renames; and the draft merge that keeps every byte people wrote."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import subprocess
from pathlib import Path

import pytest

from govgate.memory.draft import merge_draft
from govgate.memory.loader import parse_memory
from govgate.memory.mining import MiningOptions
from govgate.memory.suggest import mine, tracked_entries
from govgate.model import KnowledgeStatus
from govgate.sources.git import GitRepo
from tests.conftest import Author, RepoBuilder, run_cli

CAROL = Author("Carol Departed", "carol@example.com")
ALICE = Author("Alice Example", "alice@example.com")
BOB = Author("Bob Builder", "bob@example.com")
BOT = Author("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
NOW = "2026-06-01T00:00:00+00:00"


def day(text: str) -> str:
    return f"{text}T12:00:00+00:00"


def knowledge_history(builder: RepoBuilder) -> None:
    """legacy/ by Carol (gone since 2024) and touched by a bot since; api/ by Alice and Bob; billing/ by Alice."""
    for n in range(6):
        builder.commit(f"Legacy step {n}", {f"legacy/l{n}.py": f"x = {n}\n"}, author=CAROL, date=day(f"2023-0{n + 1}-10"))
    builder.commit("Carol's last change", {"README.md": "# carol was here\n"}, author=CAROL, date=day("2024-01-05"))
    for n in range(5):
        builder.commit(f"API {n}", {f"api/a{n}.py": f"a = {n}\n"}, author=ALICE, date=day(f"2026-01-{n + 10}"))
        builder.commit(f"API review {n}", {f"api/a{n}.py": f"a = {n}  # bob\n"}, author=BOB, date=day(f"2026-02-{n + 10}"))
        builder.commit(f"Billing {n}", {f"billing/b{n}.py": f"b = {n}\n"}, author=ALICE, date=day(f"2026-03-{n + 10}"))
    for n in range(6):
        builder.commit(f"Bump dependency {n}", {"legacy/l0.py": f"x = {n} # bumped\n"}, author=BOT, date=day(f"2026-04-{n + 10}"))


def suggest_json(builder: RepoBuilder, *extra: str) -> dict:
    result = run_cli("memory", "suggest", "--repo", str(builder.path), "--dry-run", "--format", "json", "--now", NOW,
                     *extra)
    assert result.code == 0, result.stderr
    return json.loads(result.stderr)  # with --dry-run the draft goes to stdout and the report to stderr


def areas_by_glob(report: dict) -> dict[str, dict]:
    return {a["glob"]: a for section in ("orphaned", "brittle", "bus_factor_1") for a in report[section]}


def test_departed_knowers_make_an_area_orphaned_and_a_lone_knower_bus_factor_1(repo: RepoBuilder) -> None:
    knowledge_history(repo)
    report = suggest_json(repo)
    areas = areas_by_glob(report)
    legacy = areas["legacy/**"]
    assert legacy["status"] == "orphaned" and legacy["changes"] == 12
    assert [(k["who"], k["departed"]) for k in legacy["knowers"]] == [("carol@example.com", True)]  # the bot knows nothing
    assert legacy["knowers"][0]["last_active"].startswith("2024-01-05")
    billing = areas["billing/**"]
    assert billing["status"] == "bus_factor_1" and [k["who"] for k in billing["knowers"]] == ["alice@example.com"]
    assert "api/**" not in areas  # Alice and Bob both know it: shared, not a risk
    # With a shorter departure threshold, still orphaned; with a very long one, Carol has not left.
    stayed = areas_by_glob(suggest_json(repo, "--departed-days", "1000"))
    assert "legacy/**" not in {a["glob"] for a in suggest_json(repo, "--departed-days", "1000")["orphaned"]}
    assert stayed["legacy/**"]["status"] == "bus_factor_1"


def test_mailmap_and_noreply_identities_are_one_person(repo: RepoBuilder) -> None:
    old = Author("Alice Maiden", "alice@old.example")
    web = Author("Alice Example", "1234567+alice-gh@users.noreply.github.com")
    for n in range(4):
        repo.commit(f"Old {n}", {f"core/c{n}.py": f"c = {n}\n"}, author=old, date=day(f"2023-0{n + 1}-01"))
    for n in range(3):
        repo.commit(f"New {n}", {f"core/c{n}.py": f"c = {n} # new\n"}, author=ALICE, date=day(f"2026-0{n + 1}-01"))
    repo.commit("Edit on the web", {"core/c3.py": "c = 3 # web\n"}, author=web, date=day("2026-04-01"))
    # CONTROL: without a .mailmap the maiden identity is somebody else, and gone.
    control = areas_by_glob(suggest_json(repo))["core/**"]
    assert {k["who"]: k["departed"] for k in control["knowers"]} == {"@alice-gh": False, "alice@old.example": True}
    repo.commit("Add a mailmap", {".mailmap": "Alice Example <alice@example.com> Alice Maiden <alice@old.example>\n"},
                author=ALICE, date=day("2026-04-02"))
    merged = areas_by_glob(suggest_json(repo))["core/**"]
    assert [(k["who"], k["share"], k["departed"]) for k in merged["knowers"]] == [("@alice-gh", 1.0, False)]
    assert merged["status"] == "bus_factor_1"


def test_reverted_and_fixed_changes_make_an_area_brittle(repo: RepoBuilder) -> None:
    shas = [repo.commit(f"Sync {n}", {"sync/engine.py": f"v = {n}\n"}, author=ALICE, date=day(f"2026-01-{n + 10}"))
            for n in range(8)]
    for n in range(8):
        repo.commit(f"Docs {n}", {"docs/d.md": f"{n}\n"}, author=BOB, date=day(f"2026-02-{n + 10}"))
    repo.commit(f'Revert "Sync 2"\n\nThis reverts commit {shas[2]}.', {"sync/engine.py": "v = 1\n"}, author=BOB,
                date=day("2026-03-01"))
    repo.commit(f'Revert "Sync 5"\n\nThis reverts commit {shas[5]}.', {"sync/engine.py": "v = 4\n"}, author=BOB,
                date=day("2026-03-02"))
    repo.commit(f"Handle empty batches\n\nFixes: {shas[6][:12]}", {"sync/engine.py": "v = 7\n"}, author=ALICE,
                date=day("2026-03-03"))
    areas = areas_by_glob(suggest_json(repo))
    sync = areas["sync/**"]
    assert sync["changes"] == 11 and sync["reverted_or_fixed"] == 3 and sync["brittleness"] == round(3 / 11, 4)
    assert "docs/**" not in {a["glob"] for a in suggest_json(repo)["brittle"]}
    draft = run_cli("memory", "suggest", "--repo", str(repo.path), "--dry-run", "--now", NOW).stdout
    entry = draft.split("- id: sync")[1]
    assert "fragile: high  # suggested: 3 of 11 changes were later reverted or fixed" in entry


def test_renames_carry_older_history_to_the_current_path(repo: RepoBuilder) -> None:
    for n in range(5):
        repo.commit(f"Old home {n}", {"lib/parser.py": "x = 1\n" * 40 + f"y = {n}\n"}, author=CAROL, date=day(f"2023-0{n + 1}-01"))
    repo.commit("Move the parser", {"lib/parser.py": None, "src/parser.py": "x = 1\n" * 40 + "y = 4\n"}, author=ALICE,
                date=day("2026-01-01"))
    orphaned = suggest_json(repo, "--min-changes", "2")["orphaned"]
    # The move is no one's knowledge: Carol's five changes followed the file to src/, and lib/ is gone.
    assert [(a["glob"], a["changes"], [k["who"] for k in a["knowers"]]) for a in orphaned] == [
        ("src/**", 5, ["carol@example.com"])]


def test_bots_agents_and_sweeping_changes_give_no_knowledge(repo: RepoBuilder) -> None:
    agent = Author("Paul Example (aider)", "paul@example.com")
    for n in range(5):
        repo.commit(f"Agent {n}", {f"gen/g{n}.py": f"g = {n}\n"}, author=agent, date=day(f"2026-01-{n + 10}"))
    repo.commit("Reformat everything", {f"gen/g{n}.py": f"g = {n}  # fmt\n" for n in range(5)}, author=BOB,
                date=day("2026-02-01"))
    with _opened(repo.path) as git_repo:
        mined = mine(git_repo, "HEAD", MiningOptions(now=dt.datetime.fromisoformat(NOW), max_files=3, min_changes=2),
                     None, tracked_entries(None)).history
    gen = next(a for a in mined.areas if a.path == "gen")
    assert gen.changes == 5 and gen.status is KnowledgeStatus.NO_HISTORY and mined.sweeping == 1


class _opened:
    def __init__(self, path: Path) -> None:
        self.repo = GitRepo.open(path)

    def __enter__(self) -> GitRepo:
        return self.repo

    def __exit__(self, *exc: object) -> None:
        self.repo.close()


# -- the draft merge: text people wrote stays byte for byte -------------------------------------------

HUMAN_FILE = """\
# Our memory. Keep entries short.
version: 1
stale_after_days: 180   # we review twice a year

entries:
  # The ledger is the scary one.
  - id: ledger
    paths: ['services/payments/ledger/**']     # odd spacing on purpose
    why: |
      Writes are retried twice on purpose.

      Ask Carol before touching the retry loop.
    fragile: critical
    knows: ["@carol"]
    mined:
      as_of: 2025-01-01
      changes: 3
    reviewed: 2026-01-15

  - {id: flow-entry, paths: [docs/**], why: "Rendered by the old site generator."}
  - id: no-facts-yet
    paths:
      - "api/**"
    why: >
      folded text
      that continues
    # a trailing comment inside the entry
# a comment after the list
"""


def _areas(repo: RepoBuilder) -> object:
    knowledge_history(repo)
    with _opened(repo.path) as git_repo:
        memory = parse_memory(HUMAN_FILE, "memory.yml")
        return mine(git_repo, "HEAD", MiningOptions(now=dt.datetime.fromisoformat(NOW)), None, tracked_entries(memory)).history


def test_merge_keeps_every_byte_people_wrote(repo: RepoBuilder) -> None:
    history = _areas(repo)
    facts = {int(k): v for k, v in history.tracked.items()}
    result = merge_draft(HUMAN_FILE, history.riskiest(5), facts, dt.date(2026, 6, 1), "memory.yml", 5)
    assert result.refreshed == ["ledger", "flow-entry", "no-facts-yet"]
    assert result.added == ["legacy", "billing"]
    merged = result.text
    parse_memory(merged, "memory.yml")  # valid
    before, after = HUMAN_FILE.splitlines(keepends=True), merged.splitlines(keepends=True)
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            # Only govgate's own `mined` value may be rewritten (and the flow entry's line, appended to).
            assert all(("as_of" in line or "changes: 3" in line or "flow-entry" in line) for line in before[i1:i2]), before[i1:i2]
    assert "      as_of: 2025-01-01\n" not in merged and "    mined:\n      {as_of: 2026-06-01," in merged
    assert '  - {id: flow-entry, paths: [docs/**], why: "Rendered by the old site generator.", mined: {as_of: 2026-06-01,' in merged
    no_facts = merged.split("  - id: no-facts-yet")[1]
    assert no_facts.startswith("\n    paths:\n      - \"api/**\"\n    why: >\n      folded text\n      that continues\n"
                               "    mined: {as_of: 2026-06-01,")
    assert "    # a trailing comment inside the entry\n" in merged and merged.endswith("# a comment after the list\n")
    # New drafts come after the last entry, in the list's indentation, before the trailing comments.
    assert merged.index("  - id: legacy  # drafted by govgate") > merged.index("folded text")
    assert merged.index("  - id: billing") < merged.index("# a trailing comment inside the entry")
    # Running again changes nothing but what it owns: the same facts give the same text.
    memory = parse_memory(merged, "memory.yml")
    assert [e.id for e in memory.entries] == ["ledger", "flow-entry", "no-facts-yet", "legacy", "billing"]
    again = merge_draft(merged, history.riskiest(5), facts | {3: facts[0], 4: facts[0]}, dt.date(2026, 6, 1), "memory.yml", 5)
    assert again.added == [] and again.text.count("- id: legacy") == 1


def test_merge_refuses_to_write_what_it_cannot_merge(repo: RepoBuilder) -> None:
    history = _areas(repo)
    from govgate.errors import MemoryFileError

    with pytest.raises(MemoryFileError, match="flow list"):
        merge_draft("version: 1\nentries: [{paths: [x]}]\n", history.riskiest(2), {}, dt.date(2026, 6, 1), "m.yml", 5)
    empty = merge_draft("version: 1\nentries: []  # none yet\n", history.riskiest(2), {}, dt.date(2026, 6, 1), "m.yml", 5)
    assert empty.text.startswith("version: 1\nentries: \n  - id: legacy") and empty.text.endswith("  # none yet\n")


def test_suggest_writes_then_merges_without_losing_human_edits(repo: RepoBuilder) -> None:
    knowledge_history(repo)
    first = run_cli("memory", "suggest", "--repo", str(repo.path), "--now", NOW)
    assert first.code == 0, first.stderr
    target = repo.path / ".govgate" / "memory.yml"
    assert "orphaned (every knower has left): 1" in first.stdout and "legacy/**: 12 changes" in first.stdout
    assert "draft into" in first.stdout and "2 new entries (legacy, billing)" in first.stdout
    text = target.read_text(encoding="utf-8")
    assert run_cli("memory", "validate", str(target), "--now", NOW).code == 0
    edited = text.replace('why: ""  # TODO: why does it look this way, and what breaks if it changes?',
                          "why: |\n      Carol's batch importer; nobody else has run it.  # keep\n", 1)
    edited = edited.replace("  - id: billing", "  # billing: ask Alice\n  - id: billing", 1)
    target.write_text(edited, encoding="utf-8")
    repo.commit("More billing", {"billing/b9.py": "b = 9\n"}, author=ALICE, date=day("2026-05-01"))
    second = run_cli("memory", "suggest", "--repo", str(repo.path), "--now", NOW)
    assert second.code == 0, second.stderr
    assert "0 new entries, mined facts refreshed for 2" in second.stdout
    after = target.read_text(encoding="utf-8")
    assert "Carol's batch importer; nobody else has run it.  # keep" in after and "  # billing: ask Alice\n" in after
    assert after.count("changes: 6,") == 1  # billing's facts grew by the new change
    bad = target.read_text(encoding="utf-8").replace("version: 1", "version: 1\nowner: me")
    target.write_text(bad, encoding="utf-8")
    refused = run_cli("memory", "suggest", "--repo", str(repo.path), "--now", NOW)
    assert refused.code == 2 and "unknown key 'owner'" in refused.stderr
    assert target.read_text(encoding="utf-8") == bad


def test_suggest_on_a_bare_mirror_needs_an_output_or_a_dry_run(repo: RepoBuilder, tmp_path: Path) -> None:
    knowledge_history(repo)
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(repo.path), str(mirror)], check=True, env={**os.environ})
    refused = run_cli("memory", "suggest", "--repo", str(mirror), "--now", NOW)
    assert refused.code == 2 and "pass --output FILE, or --dry-run" in refused.stderr
    dry = run_cli("memory", "suggest", "--repo", str(mirror), "--now", NOW, "--dry-run")
    assert dry.code == 0 and "  - id: legacy" in dry.stdout and "orphaned" in dry.stderr
