"""The memory file: strict schema with file:line errors, the CLI around it, and reading it from git objects."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from govgate.errors import MemoryFileError
from govgate.memory.loader import parse_memory
from govgate.memory.model import KnowerKind
from govgate.model import Fragility
from tests.conftest import RepoBuilder, run_cli
from tests.memory_support import LEDGER_MEMORY, memory_repo


def test_a_valid_file_becomes_typed_entries() -> None:
    memory = parse_memory(LEDGER_MEMORY, "memory.yml")
    ledger, docs = memory.entries
    assert ledger.id == "ledger" and ledger.fragile is Fragility.HIGH and ledger.line == 4
    assert [(k.kind, k.key) for k in ledger.knows] == [(KnowerKind.LOGIN, "carol"), (KnowerKind.EMAIL, "dave@example.com")]
    assert ledger.why.startswith("Ledger writes are retried twice") and ledger.reviewed.isoformat() == "2026-01-15"
    assert docs.fragile is Fragility.LOW and docs.knows == ()
    touched = memory.touched(["services/payments/ledger/write.py", "README.md", "docs/a.md"])
    assert [(t.entry.id, t.paths) for t in touched] == [("ledger", ("services/payments/ledger/write.py",)),
                                                       ("docs", ("docs/a.md",))]


@pytest.mark.parametrize(("text", "expected"), [
    ("version: 1\nentries:\n  - paths: [a]\n    fragil: high\n",
     "m.yml:4: entries[0].fragil: unknown key 'fragil'; expected one of: depends_on, fragile, id, knows, links, mined, "
     "paths, reviewed, why"),
    ("version: 1\nentries:\n  - paths: [a]\n    knows: [alice]\n",
     "m.yml:4: entries[0].knows[0]: 'alice' does not fit: write @login, @org/team or an email address"),
    ("version: 1\nentries:\n  - paths: [a]\n    fragile: extreme\n",
     "m.yml:4: entries[0].fragile: 'extreme' is not allowed; expected one of: low, medium, high, critical"),
    ("version: 1\nentries:\n  - why: no paths\n", "m.yml:3: entries[0]: 'paths' is a required property"),
    ("version: 1\nentries:\n  - {id: a, paths: [x]}\n  - {id: a, paths: [y]}\n",
     "m.yml:4: entries[1].id: duplicate entry id 'a' (first on line 3)"),
    ("version: 1\nentries:\n  - paths: [a]\n    reviewed: '2026-02-30'\n",
     "m.yml:4: entries[0].reviewed: '2026-02-30' is not a calendar date"),
    ("version: 1\nentries:\n  - paths: [a]\n    reviewed: 2026-02-30\n",
     "m.yml:4: entries[0].reviewed: '2026-02-30' is not a calendar date"),
    ("version: 2\nentries: []\n", "m.yml:1: version: 2 is not allowed; expected one of: 1"),
    ("", "m.yml: the memory file is empty"),
    ("- just\n- a list\n", "m.yml:1: the memory file must be a mapping with 'version' and 'entries'"),
    ("version: 1\nentries:\n  - paths: [a]\n    paths: [b]\n", "m.yml:4: entries[0].paths: duplicate key (first given on line 3)"),
    ("version: 1\nentries:\n  - paths: ['lib/**', 'lib/[z-a]']\n",
     "m.yml:3: entries[0].paths[1]: 'lib/[z-a]' is not a valid glob: bad character range z-a"),
])
def test_every_problem_names_file_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(MemoryFileError) as caught:
        parse_memory(text, "m.yml")
    assert caught.value.message.startswith(expected), caught.value.message


def test_validate_cli_reports_stale_and_incomplete_entries_and_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "memory.yml"
    good.write_text(LEDGER_MEMORY, encoding="utf-8")
    result = run_cli("memory", "validate", str(good), "--now", "2026-06-01")
    assert result.code == 0, result.stderr
    assert "valid (2 entries)" in result.stdout
    assert "stale: docs (line 14): never reviewed" in result.stdout
    assert "incomplete: docs (line 14): no knows" in result.stdout
    assert "ledger" not in result.stdout.split("valid")[1]  # reviewed 2026-01-15: fresh on 2026-06-01
    later = run_cli("memory", "validate", str(good), "--now", "2027-06-01", "--fail-on-stale")
    assert later.code == 1 and "stale: ledger (line 4): last reviewed 2026-01-15" in later.stdout
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nentries:\n  - paths: [a]\n    owner: bob\n", encoding="utf-8")
    result = run_cli("memory", "validate", str(good), str(bad))
    assert result.code == 2
    assert f"{bad}:4: entries[0].owner: unknown key 'owner'" in result.stderr and "Traceback" not in result.stderr


def test_a_memory_file_past_the_size_limit_is_refused_unparsed(tmp_path: Path) -> None:
    from govgate.limits import MAX_MEMORY_BYTES

    padded = tmp_path / "memory.yml"
    padding = "# " + "x" * 78 + "\n"
    # Control: the same file padded to just under the limit validates.
    padded.write_text(LEDGER_MEMORY + padding * ((MAX_MEMORY_BYTES - len(LEDGER_MEMORY)) // len(padding) - 1),
                      encoding="utf-8")
    assert run_cli("memory", "validate", str(padded), "--now", "2026-06-01").code == 0
    padded.write_text(LEDGER_MEMORY + padding * (MAX_MEMORY_BYTES // len(padding) + 1), encoding="utf-8")
    result = run_cli("memory", "validate", str(padded))
    assert result.code == 2 and f"{padded}: the memory file is larger than 4096 KiB" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_writes_a_file_that_validates_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / ".govgate" / "memory.yml"
    assert run_cli("memory", "init", "-o", str(target)).code == 0
    assert run_cli("memory", "validate", str(target)).code == 0
    again = run_cli("memory", "init", "-o", str(target))
    assert again.code == 2 and "already exists" in again.stderr


def test_schema_is_printed_as_json() -> None:
    result = run_cli("memory", "schema")
    assert result.code == 0
    schema = json.loads(result.stdout)
    assert schema["$defs"]["entry"]["additionalProperties"] is False
    assert schema["$defs"]["entry"]["properties"]["fragile"]["enum"] == ["low", "medium", "high", "critical"]


def test_explain_reads_a_revision_like_the_gate(repo: RepoBuilder) -> None:
    base = memory_repo(repo)
    repo.commit("Drop the memory", {".govgate/memory.yml": None})
    result = run_cli("memory", "explain", "services/payments/ledger/write.py", "--rev", base, "--repo", str(repo.path),
                     "--now", "2026-02-01")
    assert result.code == 0, result.stderr
    assert "ledger [fragile: high]" in result.stdout and "knows: @carol, dave@example.com" in result.stdout
    assert "depends on it: services/billing/**, invoice-mailer" in result.stdout and "stale" not in result.stdout
    as_json = run_cli("memory", "explain", "docs/x.md", "--rev", base, "--repo", str(repo.path), "-f", "json")
    assert [e["id"] for e in as_json.json()["entries"]] == ["docs"]
    gone = run_cli("memory", "explain", "--rev", "HEAD", "--repo", str(repo.path))
    assert gone.code == 2 and ".govgate/memory.yml does not exist at HEAD" in gone.stderr


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_a_symlinked_memory_file_is_never_followed(repo: RepoBuilder) -> None:
    repo.commit("Real file elsewhere", {"elsewhere.yml": LEDGER_MEMORY})
    repo.symlink(".govgate/memory.yml", "../elsewhere.yml")
    repo.commit("Link the memory")
    base = repo.head()
    repo.commit("A change", {"x.txt": "x\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", base)
    assert result.code == 2
    assert f"memory file .govgate/memory.yml at {base[:12]} (the base revision) is a symbolic link (mode 120000)" in result.stderr


def test_no_memory_file_means_no_memory_block_and_an_unchanged_verdict(repo: RepoBuilder) -> None:
    base = repo.head()
    repo.commit("A change", {"services/payments/ledger/write.py": "x = 1\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "json")
    assert result.code == 0 and result.json()["memory"] is None and result.json()["freeze"] is None


def test_help_on_every_memory_command() -> None:
    for args in (("memory", "--help"), ("memory", "validate", "--help"), ("memory", "explain", "--help"),
                 ("memory", "init", "--help"), ("memory", "schema", "--help"), ("memory", "suggest", "--help")):
        result = run_cli(*args)
        assert result.code == 0 and "Usage:" in result.stdout, args
    assert "memory" in run_cli("--help").stdout


def test_the_readme_examples_are_valid() -> None:
    from govgate.policy.loader import parse_policy

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    memory = readme.split("### The memory file (`.govgate/memory.yml`)", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert [e.id for e in parse_memory(memory, "README memory").entries] == ["payments-ledger"]
    freezes = readme.split("## Release freezes", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    policy = parse_policy("version: 1\n" + freezes, "README freezes")
    assert policy.freezes is not None and [w.id for w in policy.freezes.windows] == ["year-end", "weekend", "nightly",
                                                                                       "release-2.4"]
