"""`govgate check` with an organisational memory: shown at review time, enforced from the base revision.

Every trust rule is an ATTACK paired with a CONTROL: the same setup without the attack first
gives the safe verdict, so no test passes because the rule never fired.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BOB, Author, CliResult, RepoBuilder, judge_range, run_cli
from tests.github_case import actions_env, pull_request_event, serve_evidence, write_event
from tests.github_server import GitHubServer, review
from tests.memory_support import AI_TRAILER, LEDGER_MEMORY, memory_repo, without_entry

LEDGER = "services/payments/ledger/write.py"
MALLORY = Author("Mallory Friend", "mallory@example.com")
DAVE = Author("Dave Knower", "dave@example.com")


def rule(data: dict, rule_id: str) -> dict:
    return next(r for r in data["rules"] if r["id"] == rule_id)


def ai_ledger_change(builder: RepoBuilder, extra: str = "", files: dict | None = None,
                     committer: Author | None = None) -> None:
    """An AI-assisted ledger change; a reviewer who committed the agent's work makes its Reviewed-by count
    (a trailer in an AI-assisted commit nobody else committed is the agent's own word)."""
    builder.commit("Retry ledger writes once" + AI_TRAILER + extra,
                   {LEDGER: "def write(entry):\n    return retry(entry)\n", **(files or {})}, committer=committer)


def test_the_touched_entry_is_shown_in_every_format(repo: RepoBuilder) -> None:
    base = memory_repo(repo)
    repo.commit("Tidy the ledger", {LEDGER: "def write(entry):\n    return entry  # tidy\n"})
    text = run_cli("check", "--repo", str(repo.path), "--base", base, "--now", "2026-03-01")
    assert text.code == 0, text.stdout + text.stderr
    assert "memory ledger: services/payments/ledger/** [fragile: high]  (touched: services/payments/ledger/write.py)" in text.stdout
    assert "why: Ledger writes are retried twice on purpose" in text.stdout
    assert "knows: @carol, dave@example.com (none has approved)" in text.stdout
    assert "depends on it: services/billing/**, invoice-mailer" in text.stdout
    assert "stale" not in text.stdout
    data = judge_range(repo, base, "HEAD", None, "--now", "2026-03-01")
    block = data["memory"]
    assert block["source"] == f".govgate/memory.yml@{base[:12]}" and block["fragile"] == "high"
    assert [e["id"] for e in block["entries"]] == ["ledger"] and block["entries"][0]["touched"] == [LEDGER]
    assert block["entries"][0]["stale"] is False and block["knowers"] == ["@carol", "dave@example.com"]
    markdown = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "markdown").stdout
    assert "#### Organisational memory for the touched paths" in markdown and "fragile: **high**" in markdown
    github = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "github").stdout
    notice = next(line for line in github.splitlines() if line.startswith("::notice file=services/payments/ledger/write.py"))
    assert "title=govgate memory%3A ledger (fragile%3A high)" in notice and "Knows it: @carol, dave@example.com" in notice
    # A year later the entry is stale, and says so.
    later = run_cli("check", "--repo", str(repo.path), "--base", base, "--now", "2027-03-01")
    assert "! last reviewed 2026-01-15, more than 365 days ago" in later.stdout


def test_an_ai_change_to_a_fragile_path_needs_a_knower_offline_declared_is_enough(repo: RepoBuilder) -> None:
    base = memory_repo(repo)
    repo.branch("control")
    ai_ledger_change(repo)
    control = judge_range(repo, base)
    assert control["verdict"] == "fail"
    failing = rule(control, "ai-fragile-needs-knower")
    assert failing["status"] == "fail"
    assert failing["unmet"][0]["reasons"] == ["has 0 of 1 approval by a knower (@carol, dave@example.com)"]

    repo.checkout("main")
    repo.branch("knower-reviewed")
    ai_ledger_change(repo, f"\nReviewed-by: {DAVE.name} <{DAVE.email}>", committer=DAVE)
    passed = judge_range(repo, base)
    assert rule(passed, "ai-fragile-needs-knower")["status"] == "pass", passed["rules"]
    assert passed["memory"]["knower_approvals"] == ["dave@example.com"]

    repo.checkout("main")
    repo.branch("someone-else")
    ai_ledger_change(repo, f"\nReviewed-by: {BOB.name} <{BOB.email}>", committer=BOB)
    other = judge_range(repo, base)
    assert rule(other, "ai-fragile-needs-knower")["status"] == "fail"  # a review, but not by someone who knows it


def test_attack_dropping_the_entry_in_the_change_is_judged_by_the_base_memory(repo: RepoBuilder) -> None:
    base = memory_repo(repo)
    repo.branch("control")
    ai_ledger_change(repo)
    assert rule(judge_range(repo, base), "ai-fragile-needs-knower")["status"] == "fail"

    repo.checkout("main")
    repo.branch("attack")
    ai_ledger_change(repo, files={".govgate/memory.yml": without_entry(LEDGER_MEMORY, "ledger")})
    attack = judge_range(repo, base)
    assert rule(attack, "ai-fragile-needs-knower")["status"] == "fail"
    assert attack["memory"]["source"] == f".govgate/memory.yml@{base[:12]}"
    # Editing the memory file is editing what governs the gate: it needs a human approval too.
    assert rule(attack, "policy-change-needs-review")["status"] == "fail"
    # Had the memory come from the change, the rule would not have applied at all.
    repo.checkout("main")
    no_entry_base = repo.commit("Memory without the ledger", {".govgate/memory.yml": without_entry(LEDGER_MEMORY, "ledger")})
    ai_ledger_change(repo)
    assert rule(judge_range(repo, no_entry_base), "ai-fragile-needs-knower")["status"] == "skipped"


def test_attack_naming_a_friend_as_knower_in_the_change_does_not_count(repo: RepoBuilder) -> None:
    base = memory_repo(repo)
    friendly = LEDGER_MEMORY.replace('knows: ["@carol", "dave@example.com"]',
                                     'knows: ["@carol", "dave@example.com", "mallory@example.com"]')
    trailer = f"\nReviewed-by: {MALLORY.name} <{MALLORY.email}>"
    repo.branch("attack")
    ai_ledger_change(repo, trailer, files={".govgate/memory.yml": friendly}, committer=MALLORY)
    attack = judge_range(repo, base)
    assert rule(attack, "ai-fragile-needs-knower")["status"] == "fail"
    assert attack["memory"]["knowers"] == ["@carol", "dave@example.com"]

    # CONTROL: when the base itself names Mallory, the same review counts.
    repo.checkout("main")
    friendly_base = repo.commit("Mallory knows the ledger", {".govgate/memory.yml": friendly})
    repo.branch("control")
    ai_ledger_change(repo, trailer, committer=MALLORY)
    control = judge_range(repo, friendly_base)
    assert rule(control, "ai-fragile-needs-knower")["status"] == "pass"


def test_the_author_naming_themself_a_knower_cannot_approve_their_own_change(repo: RepoBuilder) -> None:
    self_known = LEDGER_MEMORY.replace('knows: ["@carol", "dave@example.com"]', 'knows: ["alice@example.com"]')
    base = memory_repo(repo, self_known)
    ai_ledger_change(repo, "\nReviewed-by: Alice Example <alice@example.com>")  # alice is the author
    data = judge_range(repo, base)
    assert data["memory"]["knowers"] == ["alice@example.com"]
    assert [e["kind"] for e in data["questions"]["reviewed"]["evidence"]] == ["self-review"]
    assert rule(data, "ai-fragile-needs-knower")["status"] == "fail"


def test_fragility_levels_and_the_not_fragile_condition(repo: RepoBuilder, tmp_path: Path) -> None:
    base = memory_repo(repo)
    policy = tmp_path / "p.yml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - id: high\n    when: {fragile: high}\n    require: {reviewed: {by_knowers: 1}}\n"
        "  - id: medium\n    when: {fragile: medium}\n    require: {reviewed: {approvals: 1}}\n"
        "  - id: any\n    when: {fragile: true}\n    require: {reviewed: {approvals: 1}}\n"
        "  - id: calm\n    when: {fragile: false}\n    require: {tested: {tests_changed: true}}\n", encoding="utf-8")
    repo.branch("docs")
    repo.commit("Docs", {"docs/index.md": "# docs, better\n"})  # docs: fragile low
    statuses = {r["id"]: r["status"] for r in judge_range(repo, base, "HEAD", str(policy))["rules"]}
    assert statuses == {"high": "skipped", "medium": "skipped", "any": "fail", "calm": "skipped"}
    repo.checkout("main")
    repo.branch("readme")
    repo.commit("Readme", {"README.md": "# new\n"})  # no entry
    statuses = {r["id"]: r["status"] for r in judge_range(repo, base, "HEAD", str(policy))["rules"]}
    assert statuses == {"high": "skipped", "medium": "skipped", "any": "skipped", "calm": "fail"}
    repo.checkout("main")
    repo.commit("Ledger", {LEDGER: "x = 2\n"})
    data = judge_range(repo, base, "HEAD", str(policy))
    assert {r["id"]: r["status"] for r in data["rules"]}["high"] == "fail"
    assert "has 0 of 1 approval by a knower" in rule(data, "high")["message"]


def test_no_knowers_named_fails_closed_with_what_to_do(repo: RepoBuilder, tmp_path: Path) -> None:
    base = memory_repo(repo)
    policy = tmp_path / "p.yml"
    policy.write_text("version: 1\nrules:\n  - id: k\n    when: {fragile: true}\n    require: {reviewed: {by_knowers: 1}}\n",
                      encoding="utf-8")
    repo.commit("Docs", {"docs/index.md": "# docs, better\n"}, author=BOB)
    data = judge_range(repo, base, "HEAD", str(policy))
    assert rule(data, "k")["unmet"][0]["reasons"] == [
        "no knower can approve: the touched memory entries name no knowers (add `knows` to the entries for these paths)"]


def test_a_change_writing_an_invalid_memory_file_is_told_so(repo: RepoBuilder) -> None:
    base = memory_repo(repo)
    repo.commit("Break the memory", {".govgate/memory.yml": "version: 1\nentries:\n  - paths: [a]\n    fragil: high\n"})
    data = judge_range(repo, base)
    assert any("the memory file this change writes is invalid" in p and "unknown key 'fragil'" in p for p in data["problems"])
    assert data["memory"]["source"] == f".govgate/memory.yml@{base[:12]}"


def test_an_invalid_memory_file_at_the_base_stops_the_check(repo: RepoBuilder) -> None:
    repo.commit("Broken memory", {".govgate/memory.yml": "version: 1\nentries:\n  - paths: [a]\n    knows: [bob]\n"})
    base = repo.head()
    repo.commit("A change", {"x.txt": "1\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", base)
    assert result.code == 2
    assert f".govgate/memory.yml@{base[:12]}:4: entries[0].knows[0]: 'bob' does not fit: write @login" in result.stderr


def test_the_policy_can_move_the_memory_file(repo: RepoBuilder, tmp_path: Path) -> None:
    repo.commit("Memory elsewhere", {"docs/memory.yml": LEDGER_MEMORY, LEDGER: "x = 1\n"})
    base = repo.head()
    policy = tmp_path / "p.yml"
    policy.write_text("version: 1\nextends: default\nmemory: {file: docs/memory.yml}\nrules: []\n", encoding="utf-8")
    ai_ledger_change(repo)
    data = judge_range(repo, base, "HEAD", str(policy))
    assert data["memory"]["source"] == f"docs/memory.yml@{base[:12]}"
    assert rule(data, "ai-fragile-needs-knower")["status"] == "fail"


# -- with a forge: a knower's approval must be verified -------------------------------------------------

def forge_case(tmp_path: Path, server: GitHubServer, reviews: list[dict], memory: str = LEDGER_MEMORY,
               trailer: str = "", committer: Author | None = None) -> CliResult:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit("Initial commit", {"README.md": "# Hello World\n"})
    base = memory_repo(builder, memory)
    builder.branch("changes")
    ai_ledger_change(builder, trailer, committer=committer)
    head = builder.head()
    serve_evidence(server, head, reviews=[{**r, "commit_id": head} for r in reviews])
    env = actions_env(server, "pull_request", write_event(tmp_path, pull_request_event(base, head)))
    return run_cli("check", "--format", "json", cwd=builder.path, env=env)


def test_forge_a_verified_approval_by_a_knower_counts(tmp_path: Path, github_server: GitHubServer) -> None:
    result = forge_case(tmp_path, github_server, [review("Carol", "APPROVED", "")])
    data = result.json()
    assert rule(data, "ai-fragile-needs-knower")["status"] == "pass", data["rules"]
    assert data["memory"]["knower_approvals"] == ["carol"]


def test_forge_attack_a_knowers_trailer_is_only_declared(tmp_path: Path, github_server: GitHubServer) -> None:
    control = forge_case(tmp_path / "control", github_server, [review("carol", "APPROVED", "")])
    assert rule(control.json(), "ai-fragile-needs-knower")["status"] == "pass"
    attack = forge_case(tmp_path / "attack", github_server, [review("bob", "APPROVED", "")],
                        trailer=f"\nReviewed-by: {DAVE.name} <{DAVE.email}>", committer=DAVE)
    data = attack.json()
    assert attack.code == 1 and rule(data, "ai-fragile-needs-knower")["status"] == "fail"
    assert ("has 0 of 1 approval by a knower (@carol, dave@example.com); dave@example.com only declared: this needs verified"
            in rule(data, "ai-fragile-needs-knower")["unmet"][0]["reasons"])


def test_forge_a_noreply_email_knower_is_matched_to_its_login(tmp_path: Path, github_server: GitHubServer) -> None:
    memory = LEDGER_MEMORY.replace('"dave@example.com"', '"1234567+dave-k@users.noreply.github.com"')
    result = forge_case(tmp_path, github_server, [review("dave-k", "APPROVED", "")], memory=memory)
    assert rule(result.json(), "ai-fragile-needs-knower")["status"] == "pass"


def test_forge_team_knowers_are_reported_not_assumed(tmp_path: Path, github_server: GitHubServer) -> None:
    memory = LEDGER_MEMORY.replace('knows: ["@carol", "dave@example.com"]', 'knows: ["@acme/payments"]')
    data = forge_case(tmp_path, github_server, [review("carol", "APPROVED", "")], memory=memory).json()
    assert rule(data, "ai-fragile-needs-knower")["status"] == "fail"
    assert any("team knowers (@acme/payments) cannot be matched" in note for note in data["memory"]["notes"])
