"""govgate audit over history: which commits make a change, known answers, ranges, filters, bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from govgate.sources import history_walk
from govgate.sources.git import GitRepo
from govgate.sources.history import HistoryOptions, HistorySource
from tests.audit_support import audit, audit_json, generate, git
from tests.conftest import BOB, Author, RepoBuilder

CAROL = Author("Carol Kernel", "carol@example.org")
MAINTAINER = Author("Dave Maintainer", "davem@example.org")  # applies and commits patches others wrote


def _changes(path: Path, **options: object) -> list:
    source = HistorySource(GitRepo.open(path), HistoryOptions(**options))  # type: ignore[arg-type]
    try:
        return list(source.changes())
    finally:
        source.close()


def _brought_in(path: Path, merge: str) -> set[str]:
    """What git itself says a merge brought in: M^1..M without M."""
    out = git(path, "rev-list", f"{merge}^1..{merge}")
    return set(out.split()) - {merge}


# -- generated histories with known answers ---------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("generated") / "repo"
    truth = generate(path, 300, seed=11, initial_files=120)
    return path, truth


def test_generated_history_known_answers(generated: tuple[Path, object]) -> None:
    path, truth = generated
    changes, summary = audit_json(path)
    totals = summary["totals"]
    assert summary["schema"] == "govgate/audit/v1"
    assert len(changes) == totals["changes"] == truth.changes  # type: ignore[attr-defined]
    assert sum(1 for c in changes if c["change"]["kind"] == "merge") == truth.merges  # type: ignore[attr-defined]
    assert totals["ai_assisted"] == truth.ai_changes  # type: ignore[attr-defined]
    assert sum(totals["ai_tools"].values()) >= truth.ai_changes  # type: ignore[attr-defined]
    assert totals["ai"]["unreviewed"] == truth.unreviewed_ai  # type: ignore[attr-defined]
    assert totals["other"]["unreviewed"] == truth.unreviewed_other  # type: ignore[attr-defined]
    reverted = {len(changes) - 1 - i for i, c in enumerate(changes) if c["audit"]["reverted_by"]}
    fixed = {len(changes) - 1 - i for i, c in enumerate(changes) if c["audit"]["fixed_by"]}
    assert reverted == truth.reverted  # type: ignore[attr-defined]
    assert fixed == truth.fixed  # type: ignore[attr-defined]
    assert totals["ai"]["reverted"] + totals["other"]["reverted"] == len(truth.reverted)  # type: ignore[attr-defined]
    assert sum(m["changes"] for m in summary["months"]) == truth.changes  # type: ignore[attr-defined]
    side = sum(len(c["change"]["commits"]) - 1 for c in changes)
    assert side == truth.side_commits  # type: ignore[attr-defined]


@pytest.mark.parametrize("tiny_window", [False, True])
def test_each_merge_holds_exactly_what_it_brought_in(
    generated: tuple[Path, object], monkeypatch: pytest.MonkeyPatch, tiny_window: bool
) -> None:
    path, _ = generated
    if tiny_window:  # force fork points outside the read-ahead window and the holder resolution path
        monkeypatch.setattr(history_walk, "READ_AHEAD", 2)
        monkeypatch.setattr(history_walk, "HOLD_LIMIT", 1)
    merges = [c for c in _changes(path) if c.kind == "merge"]
    assert merges
    for change in merges:
        assert {c.sha for c in change.commits[1:]} == _brought_in(path, change.head), change.id


def _tricky_topology(path: Path) -> RepoBuilder:
    """Long-lived branch merged twice, main merged into a feature, stacked branches, a criss-cross branch."""
    b = RepoBuilder(path)
    step = iter(range(1, 1000))

    def commit(message: str) -> str:
        return b.commit(message, date=f"2025-01-01T00:{next(step) % 60:02d}:00Z")

    commit("m0")
    b.branch("develop")
    commit("d1")
    commit("d2")
    b.checkout("main")
    commit("m1")
    b.git("merge", "--no-ff", "-q", "-m", "Merge branch 'develop'", "develop")
    b.branch("feature")
    commit("f1")
    b.checkout("main")
    commit("m2")
    b.checkout("feature")
    b.git("merge", "--no-ff", "-q", "-m", "Merge branch 'main' into feature", "main")
    commit("f2")
    b.checkout("develop")
    commit("d3")
    b.checkout("main")
    b.git("merge", "--no-ff", "-q", "-m", "Merge branch 'develop'", "develop")
    b.git("merge", "--no-ff", "-q", "-m", "Merge pull request #5 from acme/feature", "feature")
    b.branch("stack-a")
    commit("a1")
    b.branch("stack-b")
    commit("b1")
    b.checkout("main")
    b.git("merge", "--no-ff", "-q", "-m", "Merge pull request #6 from acme/stack-a", "stack-a")
    b.git("merge", "--no-ff", "-q", "-m", "Merge pull request #7 from acme/stack-b", "stack-b")
    fork = b.head()
    commit("m3")
    b.branch("y", "HEAD")
    commit("y1")
    b.branch("x", fork)
    commit("x1")
    b.git("merge", "--no-ff", "-q", "-m", "Merge branch 'y' into x", "y")
    b.checkout("main")
    b.git("merge", "--no-ff", "-q", "-m", "Merge pull request #8 from acme/x", "x")
    return b


@pytest.mark.parametrize("tiny_window", [False, True])
def test_merge_groups_on_tricky_topologies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_window: bool) -> None:
    b = _tricky_topology(tmp_path / "repo")
    if tiny_window:
        monkeypatch.setattr(history_walk, "READ_AHEAD", 1)
        monkeypatch.setattr(history_walk, "HOLD_LIMIT", 1)
    changes = _changes(b.path)
    first_parent = git(b.path, "rev-list", "--first-parent", "HEAD").split()
    assert [c.head for c in changes] == first_parent
    for change in changes:
        expected = _brought_in(b.path, change.head) if change.kind == "merge" else set()
        assert {c.sha for c in change.commits[1:]} == expected, change.title
    by_title = {c.commits[0].subject: c for c in changes}
    assert [c.subject for c in by_title["Merge pull request #7 from acme/stack-b"].commits[1:]] == ["b1"]
    assert {c.subject for c in by_title["Merge pull request #5 from acme/feature"].commits[1:]} == {
        "f2", "Merge branch 'main' into feature", "f1"}


# -- real-shaped messages -----------------------------------------------------------------------------


def _real_shaped(path: Path) -> tuple[RepoBuilder, dict[str, str]]:
    """Messages modelled on real ones: kernel trailer blocks, GitHub merge and squash subjects, a revert."""
    b = RepoBuilder(path)
    shas: dict[str, str] = {}
    b.commit("Initial commit", {"README.md": "# widgets\n"}, date="2025-01-02T10:00:00Z")
    shas["fastpath"] = b.commit(
        "net: add tcp_close fast path\n\nSkip the slow path when the socket has no pending data.\n\n"
        "Signed-off-by: Carol Kernel <carol@example.org>\n",
        {"net/tcp.c": "int tcp_close(void) { return 0; }\n"}, author=CAROL, date="2025-01-03T10:00:00Z")
    b.branch("feature-login")
    b.commit("Add login rate limiting\n\nCount failed attempts per account.\n",
             {"src/auth/limits.py": "MAX_ATTEMPTS = 5\n"}, date="2025-01-04T10:00:00Z")
    b.commit("Wire rate limiting into the login view\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
             "Co-Authored-By: Claude <noreply@anthropic.com>\n",
             {"src/auth/views.py": "from .limits import MAX_ATTEMPTS\n"}, date="2025-01-04T11:00:00Z")
    b.checkout("main")
    b.git("merge", "--no-ff", "-q", "-m",
          "Merge pull request #42 from acme/feature-login\n\nAdd login rate limiting", "feature-login")
    shas["merge42"] = b.head()
    shas["squash57"] = b.commit(
        "Add retry to webhook sender (#57)\n\n* add retry with backoff\n\n"
        "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>\n",
        {"src/hooks/send.py": "RETRIES = 3\n"}, date="2025-02-01T10:00:00Z")
    b.commit(
        "net: fix use-after-free in tcp_close\n\nThe fast path freed the socket before the timer fired.\n\n"
        f'Fixes: {shas["fastpath"][:12]} ("net: add tcp_close fast path")\n'
        "Reported-by: syzbot+0123456789abcdef@syzkaller.appspotmail.com\n"
        "Reviewed-by: Bob Reviewer <bob@example.com>\n"
        "Assisted-by: Claude:claude-opus-4-6\n"
        "Signed-off-by: Carol Kernel <carol@example.org>\n"
        "Link: https://lore.kernel.org/r/20250301-tcp-uaf-v1-1-carol@example.org\n",
        {"net/tcp.c": "int tcp_close(void) { return 1; }\n"}, author=CAROL, committer=MAINTAINER,
        date="2025-03-01T10:00:00Z")
    b.commit(f'Revert "Add retry to webhook sender (#57)"\n\nThis reverts commit {shas["squash57"]}.\n',
             {"src/hooks/send.py": "RETRIES = 0\n"}, author=BOB, date="2025-03-02T10:00:00Z")
    return b, shas


def test_real_shaped_history(tmp_path: Path) -> None:
    b, shas = _real_shaped(tmp_path / "repo")
    git(b.path, "update-ref", "refs/pull/99/head", git(b.path, "rev-parse", "main~3").strip())
    changes, summary = audit_json(b.path)
    by_subject = {c["change"]["subject"]: c for c in changes}
    assert len(changes) == 6 == summary["totals"]["changes"]

    merge = by_subject["Merge pull request #42 from acme/feature-login"]
    assert merge["change"]["id"] == "#42" and merge["change"]["kind"] == "merge"
    assert merge["change"]["title"] == "Add login rate limiting"
    assert merge["change"]["pull_request"]["number"] == 42
    assert len(merge["change"]["commits"]) == 3 and merge["change"]["files"] == 2
    assert merge["ai_assisted"] and merge["ai"]["tools"]

    squash = by_subject["Add retry to webhook sender (#57)"]
    assert squash["change"]["id"] == "#57" and squash["change"]["kind"] == "commit"
    assert squash["ai_assisted"]
    assert squash["audit"]["reverted_by"] == [changes[0]["change"]["id"]]

    fix = by_subject["net: fix use-after-free in tcp_close"]
    assert fix["ai_assisted"]
    assert fix["questions"]["reviewed"]["status"] == "satisfied"
    fastpath = by_subject["net: add tcp_close fast path"]
    assert fastpath["change"]["id"] == shas["fastpath"][:12]
    assert fastpath["audit"]["fixed_by"] == [fix["change"]["id"]]
    assert fastpath["questions"]["reviewed"]["status"] != "satisfied"

    totals = summary["totals"]
    assert totals["ai_assisted"] == 3
    assert totals["ai"]["reverted"] == 1 and totals["other"]["fixed"] == 1
    assert totals["ai"]["unreviewed"] == 2 and totals["other"]["unreviewed"] == 3


def test_refs_pull_and_other_branches_are_never_audited(tmp_path: Path) -> None:
    b, _ = _real_shaped(tmp_path / "repo")
    b.branch("unmerged")
    b.commit("Experiment (#77)\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n", {"x.py": "x = 1\n"})
    git(b.path, "update-ref", "refs/pull/77/head", b.head())
    b.checkout("main")
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(b.path), str(mirror)], check=True)
    assert "refs/pull/77/head" in git(mirror, "for-each-ref", "--format=%(refname)")
    for path in (b.path, mirror):
        changes, summary = audit_json(path, "main")
        assert summary["totals"]["changes"] == 6
        assert not any(c["change"]["subject"].startswith("Experiment") for c in changes)


def test_ranges_dates_and_paths(tmp_path: Path) -> None:
    b, _ = _real_shaped(tmp_path / "repo")
    changes, _ = audit_json(b.path, "main~2..main")
    assert [c["change"]["subject"] for c in changes] == [
        'Revert "Add retry to webhook sender (#57)"', "net: fix use-after-free in tcp_close"]
    changes, summary = audit_json(b.path, "--since", "2025-02-01", "--until", "2025-03-01")
    assert [c["change"]["date"][:10] for c in changes] == ["2025-03-01", "2025-02-01"]
    assert summary["range"]["since"].startswith("2025-02-01T00:00:00")
    changes, _ = audit_json(b.path, "--path", "net/**")
    assert {c["change"]["subject"] for c in changes} == {"net: fix use-after-free in tcp_close", "net: add tcp_close fast path"}
    changes, _ = audit_json(b.path, "--path", "src/auth/*.py", "--path", "README.md")
    assert {c["change"]["id"] for c in changes} == {"#42", changes[-1]["change"]["id"]}


def test_empty_range_says_so_and_exits_0(tmp_path: Path) -> None:
    b, _ = _real_shaped(tmp_path / "repo")
    result = audit(b.path, "HEAD..HEAD")
    assert result.code == 0
    assert "no changes to audit in HEAD..HEAD" in result.stderr
    assert "no changes in this range" in result.stdout
    changes, summary = audit_json(b.path, "--since", "2030-01-01")
    assert changes == [] and summary["totals"]["changes"] == 0


@pytest.mark.parametrize(("args", "message"), [
    (("--repo", "/nonexistent-dir"), "no such directory"),
    (("no-such-branch",), "unknown revision 'no-such-branch'"),
    (("main...HEAD",), "symmetric ranges"),
    (("--since", "yesterday-ish"), "--since 'yesterday-ish': not a date"),
    (("--until", "2025-13-45"), "not a date"),
    (("--since", "2025-03-01", "--until", "2025-01-01"), "is after --until"),
    (("--policy", "POLICY"), "malformed YAML"),
    (("--policy", "no-such-preset"), "unknown preset"),
])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    b = RepoBuilder(tmp_path / "repo")
    b.commit("Initial commit", {"README.md": "x\n"})
    policy = tmp_path / "bad.yml"
    policy.write_text("version: 1\nrules: [unclosed\n")
    args = tuple(str(policy) if a == "POLICY" else a for a in args)
    output = tmp_path / "report.txt"
    result = audit(b.path, *args, "--output", str(output)) if args[0] != "--repo" else audit(Path(args[1]), *args[2:])
    assert result.code == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("govgate: error:") and "Traceback" not in result.stderr
    assert not output.exists()


def test_not_a_repository_exits_2(tmp_path: Path) -> None:
    result = audit(tmp_path)
    assert result.code == 2 and "not a git repository" in result.stderr


def test_exit_code_is_a_report_unless_asked(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    b.commit("Initial commit", {"README.md": "x\n"})
    b.commit("Add users table (#3)\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n", {
        "db/migrations/versions/0001_users.py":
            "revision = '0001'\ndown_revision = None\n\n\ndef upgrade():\n    op.create_table('users')\n\n\n"
            "def downgrade():\n    pass\n"})
    plain = audit(b.path, "--format", "json")
    assert plain.code == 0
    assert '"verdict":"fail"' in plain.stdout
    strict = audit(b.path, "--fail-on-violations")
    assert strict.code == 1
    assert "worst offenders" in strict.stdout and "#3" in strict.stdout


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty
    import sys

    b, _ = _real_shaped(tmp_path / "repo")
    report = tmp_path / "report.json"
    quiet = audit(b.path, "--format", "json", "--output", str(report))
    assert quiet.code == 0 and quiet.stderr == "" and quiet.stdout == ""
    assert report.read_text().count("\n") == 7  # six changes and the summary

    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "govgate", "audit", "--repo", str(b.path), "--output", os.devnull],
                              stderr=terminal, stdout=subprocess.DEVNULL, timeout=60, check=False)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert proc.returncode == 0
    text = shown.decode()
    assert "\r" in text and "6/6  6 changes audited" in text  # click's bar, ending full


def test_knowledge_loss_paths(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    b.commit("Initial commit", {"README.md": "x\n"}, date="2024-01-01T10:00:00Z")
    for day in range(1, 5):  # Alice knows src/billing from long ago
        b.commit(f"Billing tweak {day}", {"src/billing/rates.py": f"RATE = {day}\n"}, date=f"2024-02-0{day}T10:00:00Z")
    for day in range(1, 5):  # recently: newcomers in src/billing, AI agents in src/search
        b.commit(f"Billing change {day}", {"src/billing/rates.py": f"RATE = {10 + day}\n"}, author=BOB,
                 date=f"2025-06-0{day}T10:00:00Z")
        b.commit(f"Search change {day}\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
                 {"src/search/index.py": f"SIZE = {day}\n"}, date=f"2025-06-0{day}T12:00:00Z")
    b.commit("Billing fix by Alice", {"src/billing/rates.py": "RATE = 0\n"}, date="2025-06-10T10:00:00Z")
    _, summary = audit_json(b.path)
    knowledge = summary["knowledge_loss"]
    assert knowledge["window_start"] == "2025-03-12" and knowledge["history_before_window"]
    paths = {row["path"]: row for row in knowledge["paths"]}
    assert set(paths) == {"src/billing", "src/search"}
    assert paths["src/billing"]["recent_changes"] == 5 and paths["src/billing"]["newcomer_changes"] == 4
    assert paths["src/billing"]["reasons"] == ["mostly by authors new to it"]
    assert paths["src/search"]["ai_share"] == 1.0 and "mostly AI-assisted" in paths["src/search"]["reasons"]


MIGRATION = "def upgrade():\n    op.create_table('t')\n\n\ndef downgrade():\n    pass\n"
WAIVERS = (
    "version: 1\nextends: default\nrules: []\nwaivers:\n"
    "  - {rule: migrations-must-reverse, change: '#3', reason: forward-only, approved_by: dba, expires: 2999-01-01}\n"
    "  - {rule: migrations-must-reverse, change: '#4', reason: old, approved_by: dba, expires: 2001-01-01}\n"
    "  - {rule: migrations-must-reverse, change: '#77', reason: never used, approved_by: dba, expires: 2999-01-01}\n")


def squash_merge(b: RepoBuilder, number: int, title: str, files: dict[str, str | bytes | None]) -> str:
    """What GitHub's squash button leaves: refs/pull/N/head at the PR's head, one "Title (#N)" commit on main."""
    b.branch(f"pr{number}")
    b.git("update-ref", f"refs/pull/{number}/head", b.commit(title, files))
    b.checkout("main")
    return b.commit(f"{title} (#{number})", files)


def test_waiver_notes_across_the_run(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    b.commit("Initial commit", {"README.md": "x\n"})
    squash_merge(b, 3, "Add t", {"db/migrations/versions/0001_t.py": "revision = '1'\ndown_revision = None\n" + MIGRATION})
    squash_merge(b, 4, "Add u", {"db/migrations/versions/0002_u.py": "revision = '2'\ndown_revision = '1'\n" + MIGRATION})
    policy = tmp_path / "policy.yml"
    policy.write_text(WAIVERS)
    changes, summary = audit_json(b.path, "--policy", str(policy))
    statuses = {w["change"]: w["status"] for w in summary["waivers"]}
    assert statuses == {"#3": "applied", "#4": "expired", "#77": "not_matched"}
    by_id = {c["change"]["id"]: c for c in changes}
    assert by_id["#3"]["verdict"] == "pass" and by_id["#4"]["verdict"] == "fail"
    text = audit(b.path, "--policy", str(policy)).stdout
    assert "! migrations-must-reverse on #77 (dba, expires 2999-01-01): matched no audited change" in text
    assert "on #4 (dba, expires 2001-01-01): expired" in text


def test_a_direct_push_naming_a_waived_pull_request_does_not_inherit_its_waiver(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    b.commit("Initial commit", {"README.md": "x\n"})
    merged = squash_merge(b, 3, "Add t", {"db/migrations/versions/0001_t.py": "revision = '1'\ndown_revision = None\n" + MIGRATION})
    # The attack: a commit pushed straight to main, its subject claiming #3 (and with it #3's waiver).
    pushed = b.commit("Add v (#3)", {"db/migrations/versions/0002_v.py": "revision = '2'\ndown_revision = '1'\n" + MIGRATION})
    # The same claim on a merge commit whose second parent is not the pull request's head.
    b.branch("side")
    b.commit("Add w", {"db/migrations/versions/0003_w.py": "revision = '3'\ndown_revision = '2'\n" + MIGRATION})
    b.checkout("main")
    b.git("merge", "--no-ff", "-q", "-m", "Merge pull request #3 from someone/side", "side")
    fake_merge = b.head()
    policy = tmp_path / "policy.yml"
    policy.write_text(WAIVERS)
    changes, _ = audit_json(b.path, "--policy", str(policy))
    by_sha = {c["change"]["sha"]: c for c in changes}
    # Control: the squash merge GitHub made is proven by refs/pull/3/head and keeps its waiver.
    assert by_sha[merged]["verdict"] == "pass"
    assert [w["status"] for w in by_sha[merged]["waivers"] if w["change"] == "#3"] == ["applied"]
    for sha in (pushed, fake_merge):
        assert by_sha[sha]["change"]["id"] == "#3" and by_sha[sha]["verdict"] == "fail"
        assert [w["status"] for w in by_sha[sha]["waivers"] if w["change"] == "#3"] == ["unproven"]
    # Without refs/pull/*, nothing offline proves even the real merge.
    b.git("update-ref", "-d", "refs/pull/3/head")
    changes, summary = audit_json(b.path, "--policy", str(policy))
    assert {c["change"]["sha"]: c["verdict"] for c in changes}[merged] == "fail"
    assert {w["change"]: w["status"] for w in summary["waivers"]}["#3"] == "unproven"


@pytest.mark.parametrize("output_format", ["json", "csv"])
def test_worker_processes_give_the_same_report(generated: tuple[Path, object], output_format: str) -> None:
    """Workers return finished records; merged in order, they make the very bytes one process writes."""
    path, truth = generated
    alone = audit(path, "--format", output_format, "--jobs", "1")
    workers = audit(path, "--format", output_format, "--jobs", "2")
    assert alone.code == workers.code == 0, workers.stderr
    assert alone.stdout.count("\n") > truth.changes  # type: ignore[attr-defined]  # a line per change, and more
    assert workers.stdout == alone.stdout
