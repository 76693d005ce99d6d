"""`govgate audit` with organisational memory and freezes, on real histories built here: each change is
judged with the memory of its own base and at its own merge time; the knowledge map reads history
before the range; freeze windows are crossed in several time zones and across a DST change."""

from __future__ import annotations

from pathlib import Path

from tests.audit_support import audit, audit_json
from tests.conftest import ALICE, Author, RepoBuilder
from tests.memory_support import AI_TRAILER, LEDGER_MEMORY, without_entry

CAROL = Author("Carol Departed", "carol@example.com")
BOB = Author("Bob Builder", "bob@example.com")
DAVE = Author("Dave Knower", "dave@example.com")
LEDGER = "services/payments/ledger/write.py"


def day(text: str, time: str = "12:00:00+00:00") -> str:
    return f"{text}T{time}"


def test_each_change_is_judged_by_the_memory_of_its_own_base(repo: RepoBuilder) -> None:
    repo.commit("Ledger", {LEDGER: "x = 0\n"}, date=day("2026-01-01"))
    before_memory = repo.commit("AI ledger change before any memory" + AI_TRAILER, {LEDGER: "x = 1\n"}, date=day("2026-01-02"))
    repo.commit("Write down what we know", {".govgate/memory.yml": LEDGER_MEMORY}, date=day("2026-01-03"))
    unreviewed = repo.commit("AI ledger change" + AI_TRAILER, {LEDGER: "x = 2\n"}, date=day("2026-01-04"))
    reviewed = repo.commit(f"AI ledger change, reviewed{AI_TRAILER}\nReviewed-by: {DAVE.name} <{DAVE.email}>",
                           {LEDGER: "x = 3\n"}, date=day("2026-01-05"), committer=DAVE)
    # ATTACK: drop the entry and change the fragile path in the same change: its base still has the entry.
    attack = repo.commit("Simplify the memory and the ledger" + AI_TRAILER,
                         {".govgate/memory.yml": without_entry(LEDGER_MEMORY, "ledger"), LEDGER: "x = 4\n"}, date=day("2026-01-06"))
    after = repo.commit("AI ledger change after the entry was dropped" + AI_TRAILER, {LEDGER: "x = 5\n"}, date=day("2026-01-07"))
    changes, summary = audit_json(repo.path)
    by_sha = {c["change"]["sha"]: c for c in changes}

    def knower_rule(sha: str) -> str:
        return next(r["status"] for r in by_sha[sha]["rules"] if r["id"] == "ai-fragile-needs-knower")

    assert by_sha[before_memory]["memory"] is None and knower_rule(before_memory) == "skipped"
    assert knower_rule(unreviewed) == "fail" and by_sha[unreviewed]["memory"]["fragile"] == "high"
    assert knower_rule(reviewed) == "pass"
    assert knower_rule(attack) == "fail" and by_sha[attack]["memory"]["entries"][0]["id"] == "ledger"
    assert knower_rule(after) == "skipped" and by_sha[after]["memory"]["entries"] == []
    fragile = summary["fragile_ai_without_knower"]
    assert fragile["changes"] == 2 and fragile["by_entry"] == {"ledger": 2}
    assert {e["sha"] for e in fragile["examples"]} == {unreviewed, attack}
    text = audit(repo.path).stdout
    assert "AI-assisted changes to fragile paths without a knower's approval: 2" in text and "by entry: ledger 2" in text


def test_a_broken_memory_version_is_reported_on_the_changes_it_would_have_judged(repo: RepoBuilder) -> None:
    repo.commit("Broken memory", {".govgate/memory.yml": "version: 1\nentries:\n  - paths: [a]\n    knows: [bob]\n"})
    judged = repo.commit("A change", {"a/x.py": "1\n"})
    repo.commit("Fixed memory", {".govgate/memory.yml": LEDGER_MEMORY})
    changes, _ = audit_json(repo.path)
    problems = next(c for c in changes if c["change"]["sha"] == judged)["problems"]
    assert any("the memory file at the base cannot be used" in p and "'bob' does not fit" in p for p in problems)



def test_a_memory_version_past_the_size_limit_is_refused_as_the_gate_refuses_it(repo: RepoBuilder) -> None:
    from govgate.limits import MAX_MEMORY_BYTES

    padding = "# " + "x" * 78 + "\n"
    repo.commit("Huge memory", {".govgate/memory.yml": LEDGER_MEMORY + padding * (MAX_MEMORY_BYTES // len(padding) + 1)})
    judged = repo.commit("A change", {"a/x.py": "1\n"})
    repo.commit("Normal memory", {".govgate/memory.yml": LEDGER_MEMORY})
    control = repo.commit("Another change", {"a/y.py": "1\n"})
    changes, _ = audit_json(repo.path)
    problems = {c["change"]["sha"]: c["problems"] for c in changes}
    assert any("the memory file at the base cannot be used" in p and f"the limit is {MAX_MEMORY_BYTES:,}" in p
               for p in problems[judged]), problems[judged]
    assert problems[control] == []  # CONTROL: the same history after the file shrank

FREEZE_POLICY = """\
version: 1
extends: default
freezes:
  emergency: {label: freeze-exception, approvers: ["@rita"]}
  windows:
    - id: weekend
      cron: '0 18 * * FRI'
      duration: 62h
      timezone: Europe/Berlin
      paths: [a.py]
    - id: tokyo-new-year
      start: 2026-12-28T00:00
      end: 2027-01-05T00:00
      timezone: Asia/Tokyo
rules: []
"""


def test_an_audit_judges_freezes_at_each_merge_time_across_zones_and_dst(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "freeze.yml"
    policy.write_text(FREEZE_POLICY, encoding="utf-8")
    merged = {
        # Berlin's clocks jump on Sunday 2026-03-29: the weekend window ends Monday 08:00 CEST (06:00 UTC).
        "friday-before": repo.commit("Friday afternoon", {"a.py": "1\n"}, date=day("2026-03-27", "17:59:00+01:00")),
        "saturday": repo.commit("Saturday", {"a.py": "2\n"}, date=day("2026-03-28", "12:00:00+01:00")),
        "monday-0759": repo.commit("Monday early", {"a.py": "3\n"}, date=day("2026-03-30", "07:59:00+02:00")),
        "monday-0800": repo.commit("Monday eight", {"a.py": "4\n"}, date=day("2026-03-30", "06:00:00+00:00")),
        # Merged on the afternoon of the 27th in San Francisco: already the 28th in Tokyo.
        "sf-afternoon": repo.commit("Year end, West Coast", {"b.py": "5\n"}, date=day("2026-12-27", "16:30:00-08:00")),
        "sf-morning": repo.commit("Year end, early", {"b.py": "6\n"}, date=day("2026-12-27", "06:00:00-08:00")),
    }
    changes, summary = audit_json(repo.path, "--policy", str(policy), "--now", "2030-01-01")
    frozen = {c["change"]["sha"]: [w["id"] for w in c["freeze"]["windows"]] for c in changes}
    assert {name: frozen[sha] for name, sha in merged.items()} == {
        "friday-before": [], "saturday": ["weekend"], "monday-0759": ["weekend"], "monday-0800": [],
        "sf-afternoon": ["tokyo-new-year"], "sf-morning": [],
    }
    assert summary["freezes"]["changes_inside"] == 3 and summary["freezes"]["violations"] == 3
    assert summary["freezes"]["windows"] == {"tokyo-new-year": {"inside": 1, "violations": 1},
                                             "weekend": {"inside": 2, "violations": 2}}
    text = audit(repo.path, "--policy", str(policy)).stdout
    assert "changes merged inside freeze windows: 3 (3 without the emergency path)" in text
    assert "weekend: 2 inside, 2 violations, 0 through the emergency path" in text
    html = audit(repo.path, "--policy", str(policy), "--format", "html").stdout
    assert "Merged inside freeze windows: 3 (3 without the emergency path)" in html


def knowledge_history(repo: RepoBuilder, january: bool = False) -> None:
    for n in range(6):
        repo.commit(f"Legacy {n}", {f"legacy/l{n}.py": f"{n}\n"}, author=CAROL, date=day(f"2024-0{n + 1}-10"))
        repo.commit(f"Billing {n}", {f"billing/b{n}.py": f"{n}\n"}, author=BOB, date=day(f"2024-0{n + 1}-11"))
    repo.commit("Carol's last", {"README.md": "bye\n"}, author=CAROL, date=day("2024-06-30"))
    if january:  # older than the 90-day window of an audit of 2026
        repo.commit("Docs in January", {"docs/index.md": "hello\n"}, author=ALICE, date=day("2026-01-15"))
    for n in range(3):
        repo.commit(f"Touch legacy {n}", {f"legacy/l{n}.py": f"{n} new\n"}, author=ALICE, date=day(f"2026-05-0{n + 1}"))
        repo.commit(f"Touch billing {n}", {f"billing/b{n}.py": f"{n} new\n"}, author=BOB, date=day(f"2026-05-1{n + 1}"))


def test_the_knowledge_baseline_comes_from_history_before_the_range(repo: RepoBuilder) -> None:
    knowledge_history(repo, january=True)
    # CONTROL (the old behaviour): with only the audited range as history, Bob looks new to billing/, which he built.
    _, alone = audit_json(repo.path, "--since", "2026-01-01", "--knowledge-days", "0", "--now", "2026-06-01")
    rows = {r["path"]: r for r in alone["knowledge_loss"]["paths"]}
    assert rows["billing"]["newcomer_share"] == 1.0 and alone["knowledge_map"]["changes_read"]["before_the_range"] == 0
    _, summary = audit_json(repo.path, "--since", "2026-01-01", "--now", "2026-06-01")
    rows = {r["path"]: r for r in summary["knowledge_loss"]["paths"]}
    assert "billing" not in rows  # Bob was there before the range
    assert rows["legacy"]["newcomer_share"] == 1.0  # Alice really is new to legacy/
    assert summary["knowledge_map"]["changes_read"] == {"audited": 7, "before_the_range": 14}
    areas = {a["glob"]: a for a in summary["knowledge_map"]["areas"]}
    assert areas["billing/**"]["status"] == "bus_factor_1"
    assert [k["who"] for k in areas["billing/**"]["knowers"]] == ["bob@example.com"]
    legacy = areas["legacy/**"]
    assert legacy["status"] == "bus_factor_1"  # Alice is active now; Carol, who built it, has left
    assert {(k["who"], k["departed"]) for k in legacy["knowers"]} == {("alice@example.com", False), ("carol@example.com", True)}
    assert summary["knowledge_map"]["areas_touched"]["bus_factor_1"] == 2
    # An A..B range takes its baseline from A.
    start = repo.git("rev-list", "-1", "--before=2026-04-01", "HEAD").strip()
    _, ranged = audit_json(repo.path, f"{start}..HEAD", "--now", "2026-06-01")
    assert ranged["knowledge_map"]["changes_read"] == {"audited": 6, "before_the_range": 15}


def test_the_knowledge_map_shows_orphaned_areas_in_every_format(repo: RepoBuilder) -> None:
    knowledge_history(repo)
    for n in range(5):
        repo.commit(f"Reports {n}", {f"reports/r{n}.py": f"{n}\n"}, author=CAROL, date=day(f"2024-06-1{n}"))
    repo.commit("Dependabot bump", {"reports/r0.py": "bumped\n"},
                author=Author("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"), date=day("2026-05-20"))
    _, summary = audit_json(repo.path, "--since", "2026-05-15", "--now", "2026-06-01")
    areas = {a["glob"]: a for a in summary["knowledge_map"]["areas"]}
    assert list(areas) == ["reports/**"]  # only what the range touched
    assert areas["reports/**"]["status"] == "orphaned" and areas["reports/**"]["changes"] == 6
    assert [(k["who"], k["departed"]) for k in areas["reports/**"]["knowers"]] == [("carol@example.com", True)]
    text = audit(repo.path, "--since", "2026-05-15", "--now", "2026-06-01").stdout
    assert "knowledge map (areas changed in this range; departed: no commit for 180 days before 2026-06-01" in text
    html = audit(repo.path, "--since", "2026-05-15", "--now", "2026-06-01", "--format", "html").stdout
    assert '<h2 id="organisational-memory">Where the organisation is forgetting</h2>' in html
    assert '<span class="left" title="last commit 2024-06-30">carol@example.com</span>' in html
    assert "  orphaned      reports/**: 6 changes; carol@example.com 100% (left; last commit 2024-06-30)" in text


def test_workers_judge_memory_and_freezes_like_one_process(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "freeze.yml"
    policy.write_text(FREEZE_POLICY, encoding="utf-8")
    repo.commit("Memory", {".govgate/memory.yml": LEDGER_MEMORY}, date=day("2026-03-01"))
    for n in range(40):
        repo.commit(f"Change {n}" + (AI_TRAILER if n % 3 == 0 else ""), {LEDGER if n % 2 else "docs/x.md": f"{n}\n"},
                    date=day(f"2026-03-{(n % 28) + 1:02d}", "19:00:00+01:00"))
    alone = audit(repo.path, "--format", "json", "--policy", str(policy), "--jobs", "1", "--now", "2026-06-01")
    workers = audit(repo.path, "--format", "json", "--policy", str(policy), "--jobs", "2", "--now", "2026-06-01")
    assert alone.code == workers.code == 0, workers.stderr
    assert workers.stdout == alone.stdout
    assert '"fragile_ai_without_knower":{"changes":' in alone.stdout and '"changes_inside":' in alone.stdout


def test_the_memory_file_at_the_tip_is_checked_against_history(repo: RepoBuilder) -> None:
    knowledge_history(repo)
    memory = ("version: 1\nstale_after_days: 100\nentries:\n"
              "  - {id: legacy, paths: [legacy/**], why: Carol's importer., knows: [carol@example.com, bob@example.com], "
              "reviewed: 2026-05-01}\n"
              "  - {id: billing, paths: [billing/**], why: Bob's., knows: [bob@example.com], reviewed: 2025-01-01}\n")
    repo.commit("Memory", {".govgate/memory.yml": memory}, author=BOB, date=day("2026-05-20"))
    _, summary = audit_json(repo.path, "--since", "2026-05-01", "--now", "2026-06-01")
    assert summary["memory_file"] == {
        "source": f".govgate/memory.yml@{repo.head()[:12]}", "entries": 2,
        "stale": [{"entry": "billing", "reviewed": "2025-01-01"}],
        "departed_knowers": [{"entry": "legacy", "knower": "carol@example.com", "last_commit": "2024-06-30T12:00:00+00:00"}],
    }
    text = audit(repo.path, "--since", "2026-05-01", "--now", "2026-06-01").stdout
    assert "memory file .govgate/memory.yml@" in text and "2 entries, 1 stale, 1 knower named who left" in text
    assert "  left: legacy names carol@example.com (last commit 2024-06-30)" in text
    html = audit(repo.path, "--since", "2026-05-01", "--now", "2026-06-01", "--format", "html").stdout
    assert "is ageing</h3>" in html and "names carol@example.com, whose last commit was 2024-06-30" in html
