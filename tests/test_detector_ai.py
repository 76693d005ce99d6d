"""The ai detector on real git repositories, with the literal markers real agents write.

Commit messages and PR bodies below copy real ones: Claude Code's trailer and footer, the
Copilot coding agent's identity and PR-body comment, Replit's and Entire's trailers, the Linux
kernel's Assisted-by form, and the traps of chaoss/disclosure's message detector tests
(chaoss/disclosure detection/message tests: "Entire-Metadata mentioned", "raider: fix").
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from govgate.detectors.ai import DETECTOR, ai_tool_for_identity, is_ai_identity, is_ai_login
from govgate.errors import PolicyError
from govgate.model import Confidence, Question, Trust
from govgate.policy.loader import parse_policy
from tests.conftest import ALICE, Author, RepoBuilder, detect, local_change, run_cli

CLAUDE_TRAILER = "Co-Authored-By: Claude <noreply@anthropic.com>"
CLAUDE_FOOTER = "🤖 Generated with [Claude Code](https://claude.com/claude-code)"


def _one_commit(repo: RepoBuilder, message: str, by: Author = ALICE, committer: Author | None = None, **pr: object):
    base = repo.head()
    repo.commit(message, {"app.py": f"print({len(message)})\n"}, author=by, committer=committer)
    return local_change(repo, base, **pr)


def _found(repo: RepoBuilder, message: str, **kwargs: object) -> dict[str, list]:
    evidence = detect(DETECTOR, _one_commit(repo, message, **kwargs))
    assert all(e.question is Question.AI_ASSISTED and e.supports for e in evidence)
    by_kind: dict[str, list] = {}
    for item in evidence:
        by_kind.setdefault(item.kind, []).append(item)
    return by_kind


# --- commit trailers -------------------------------------------------------------------------

@pytest.mark.parametrize("trailer", [
    CLAUDE_TRAILER,
    "Co-authored-by: Claude Opus 4.6 <noreply@anthropic.com>",
    "Co-Authored-By: Claude Sonnet 4.5 (1M context) <noreply@anthropic.com>",
    "co-authored-by: claude <NOREPLY@ANTHROPIC.COM>",
])
def test_claude_co_author_trailer_variants(repo: RepoBuilder, trailer: str) -> None:
    message = f"Add retry to the fetcher\n\nRetries three times with backoff.\n\n{trailer}\n"
    change = _one_commit(repo, message)
    [evidence] = detect(DETECTOR, change)
    assert evidence.kind == "co-author-trailer"
    assert evidence.subject == "Claude Code"
    assert evidence.trust is Trust.DECLARED and evidence.confidence is Confidence.HIGH
    sha12 = change.commits[0].sha[:12]
    assert evidence.location.where == f"{trailer.split(':')[0]} trailer of {sha12}"
    assert evidence.location.line == 5


def test_marker_before_a_later_block_is_found_where_gits_parser_misses_it(repo: RepoBuilder) -> None:
    message = f"Fix parser\n\n{CLAUDE_TRAILER}\n\nFollow-up notes written after the trailers.\n"
    change = _one_commit(repo, message)
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True,
                            check=True).stdout
    assert "anthropic" not in parsed  # git's own parser only reads the last paragraph
    [evidence] = detect(DETECTOR, change)
    assert evidence.subject == "Claude Code" and evidence.location.line == 3


@pytest.mark.parametrize("footer", [
    CLAUDE_FOOTER,
    "🤖 Generated with [Claude Code](https://claude.ai/code)",
    "Generated with Claude Code",
])
def test_claude_code_footer(repo: RepoBuilder, footer: str) -> None:
    found = _found(repo, f"Refactor config loading\n\n{footer}\n")
    [evidence] = found["footer"]
    assert evidence.subject == "Claude Code" and evidence.location.line == 3
    assert evidence.location.where.startswith("footer of ")


def test_claude_footer_and_trailer_together(repo: RepoBuilder) -> None:
    found = _found(repo, f"Add cache\n\n{CLAUDE_FOOTER}\n\n{CLAUDE_TRAILER}\n")
    assert set(found) == {"footer", "co-author-trailer"}


def test_claude_session_trailer(repo: RepoBuilder) -> None:
    found = _found(repo, "Tidy imports\n\nClaude-Session: https://claude.ai/code/session_01AbCdEfGh\n")
    assert found["declared-trailer"][0].subject == "Claude Code"


def test_opencode_footer_and_trailer(repo: RepoBuilder) -> None:
    message = ("Add health endpoint\n\n🤖 Generated with [opencode](https://opencode.ai)\n\n"
               "Co-Authored-By: opencode <noreply@opencode.ai>\n")
    found = _found(repo, message)
    assert found["footer"][0].subject == "opencode"
    assert found["co-author-trailer"][0].subject == "opencode"


def test_amp_trailers(repo: RepoBuilder) -> None:
    message = ("Speed up search\n\nAmp-Thread-ID: https://ampcode.com/threads/T-5c1e3a9b-8f2d-4e6a-9b1c-0d2e3f4a5b6c\n"
               "Co-authored-by: Amp <amp@ampcode.com>\n")
    found = _found(repo, message)
    assert found["declared-trailer"][0].subject == "Amp"
    assert found["co-author-trailer"][0].subject == "Amp"


@pytest.mark.parametrize(("trailers", "subject", "confidence"), [
    ("Replit-Commit-Author: Agent", "Replit Agent", Confidence.HIGH),
    ("Replit-Commit-Author: Agent\nReplit-Commit-Session-Id: 5e5ec4ea-3b62-4fbd-8ff5-a1174ccc19b4", "Replit Agent",
     Confidence.HIGH),
    ("Replit-Commit-Author: Assistant", "Replit Assistant", Confidence.LOW),
    ("Replit-Commit-Author: Assistant\nReplit-Commit-Session-Id: 1234a1ab-12ab-1234-abcd-0123456a1234",
     "Replit Assistant", Confidence.MEDIUM),
])
def test_replit_trailer(repo: RepoBuilder, trailers: str, subject: str, confidence: Confidence) -> None:
    [evidence] = _found(repo, f"Update merchant portal components\n\n{trailers}\n")["replit-trailer"]
    assert evidence.subject == subject and evidence.confidence is confidence


@pytest.mark.parametrize("message", [
    "this is a commit message with\nEntire-Metadata mentioned",
    "this is a commit message with\nReplit-Commit-Author: SomeOtherReplitProduct",
    "this is a commit message with\nReplit-Commit-Author: Assistant mentioned",
    "Published your App\n\nReplit-Commit-Author: Deployment\nReplit-Commit-Deployment-Build-Id: cf3bfff2-d039",
    "raider: fix the tests",
    "fix the aider: integration test",
    "normal commit message with no AI signatures",
    "Fix cursor position after paste\n\nThe cursor jumped to the end; Jules noticed it first.",
    "Thanks Devin J. Pohly for the report\n\nCo-authored-by: Devin J. Pohly <djpohly@gmail.com>",
    "Pair session\n\nCo-authored-by: Jules Martin <jules@example.org>\nCo-authored-by: Claude Monet <claude@example.org>",
    "Docs\n\nCo-authored-by: Jane Engineer <jane@anthropic.com>",
    "Docs\n\nGenerated with [Claude Code] is a footer we strip from commits.",
    "Policy\n\nAI-Assisted: false",
    "Credits\n\nAssisted-by: Jane Doe <jane@example.com>",
    "Release\n\nClaude-Session: see the notes",
])
def test_traps_are_not_markers(repo: RepoBuilder, message: str) -> None:
    assert detect(DETECTOR, _one_commit(repo, message)) == []


def test_crlf_messages(repo: RepoBuilder) -> None:
    found = _found(repo, "this is some commit message\r\n\r\nEntire-Metadata: ab123cdefg12\r\n"
                         "Replit-Commit-Author: Agent\r\nSomeOther: Trailer\r\n")
    assert found["declared-trailer"][0].subject == "Entire"
    assert found["replit-trailer"][0].subject == "Replit Agent"


def test_entire_checkpoint(repo: RepoBuilder) -> None:
    [evidence] = _found(repo, "this is some commit message\n\nEntire-Checkpoint: ab123cdefg12\n")["declared-trailer"]
    assert evidence.subject == "Entire"


@pytest.mark.parametrize(("trailer", "subject", "confidence"), [
    ("Assisted-by: Claude:claude-3-opus coccinelle sparse", "Claude", Confidence.HIGH),
    ("Assisted-by: Claude:claude-opus-4-6", "Claude", Confidence.HIGH),
    ("Assisted-by: Codex:GPT-5.4", "OpenAI Codex", Confidence.HIGH),
    ("Assisted-by: Claude Opus 4.6", "Claude", Confidence.HIGH),
    ("Assisted-by: generic LLM chatbot", "generic LLM chatbot", Confidence.HIGH),
    ("Generated-by: GitHub Copilot", "GitHub Copilot", Confidence.HIGH),
    ("Generated-by: in-house assistant", "in-house assistant", Confidence.MEDIUM),
    ("Co-authored-by-AI: GitHub Copilot (gpt-4.1)", "GitHub Copilot", Confidence.HIGH),
    ("AI-Assisted: true", "unknown AI tool", Confidence.HIGH),
    ("Ai-assisted: true", "unknown AI tool", Confidence.HIGH),
])
def test_declared_assistance_trailers(repo: RepoBuilder, trailer: str, subject: str, confidence: Confidence) -> None:
    [evidence] = _found(repo, f"mm: fix page refcount\n\nLonger explanation.\n\n{trailer}\n"
                              "Signed-off-by: Alice Example <alice@example.com>\n")["declared-trailer"]
    assert evidence.subject == subject and evidence.confidence is confidence
    assert evidence.location.line == 5


# --- identities ----------------------------------------------------------------------------

COPILOT_AGENT = Author("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com")


@pytest.mark.parametrize(("author", "tool"), [
    (COPILOT_AGENT, "GitHub Copilot"),
    (Author("Copilot", "198982749+Copilot@users.noreply.github.com"), "GitHub Copilot"),
    (Author("Renamed", "198982749+renamed-agent[bot]@users.noreply.github.com"), "GitHub Copilot"),
    (Author("Cursor Agent", "cursoragent@cursor.com"), "Cursor"),
    (Author("Devin AI", "158243242+devin-ai-integration[bot]@users.noreply.github.com"), "Devin"),
    (Author("google-labs-jules[bot]", "161369871+google-labs-jules[bot]@users.noreply.github.com"), "Google Jules"),
    (Author("Paul Gauthier (aider)", "paul@example.com"), "Aider"),
])
def test_agent_author_identities(repo: RepoBuilder, author: Author, tool: str) -> None:
    [evidence] = _found(repo, "Initial plan", by=author)["agent-author"]
    assert evidence.subject == tool and evidence.trust is Trust.DECLARED
    assert evidence.location.where.startswith("author of ")


def test_aider_as_committer_only_is_not_ai(repo: RepoBuilder) -> None:
    committer = Author("Alice Example (aider)", "alice@example.com")
    assert detect(DETECTOR, _one_commit(repo, "Rename helper", committer=committer)) == []


def test_bot_that_is_not_an_agent(repo: RepoBuilder) -> None:
    dependabot = Author("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    assert detect(DETECTOR, _one_commit(repo, "Bump requests from 2.31.0 to 2.32.0", by=dependabot)) == []


@pytest.mark.parametrize("subject", ["aider: fix the login bug", "Aider: refactor auth module"])
def test_aider_subject_prefix(repo: RepoBuilder, subject: str) -> None:
    [evidence] = _found(repo, subject)["aider-subject"]
    assert evidence.subject == "Aider" and evidence.confidence is Confidence.MEDIUM


def test_aider_co_author_trailer(repo: RepoBuilder) -> None:
    found = _found(repo, "Add CSV export\n\nCo-authored-by: aider (openai/gpt-4o) <aider@aider.chat>\n")
    assert found["co-author-trailer"][0].subject == "Aider"


@pytest.mark.parametrize(("trailer", "tool"), [
    ("Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>", "GitHub Copilot"),
    ("Co-authored-by: Copilot Autofix powered by AI <175728472+Copilot@users.noreply.github.com>", "GitHub Copilot"),
    ("Co-authored-by: Copilot App <223556219+copilot-app@users.noreply.github.com>", "GitHub Copilot"),
    ("Co-authored-by: Codex <noreply@openai.com>", "OpenAI Codex"),
    ("Co-authored-by: Cursor <cursoragent@cursor.com>", "Cursor"),
    ("Co-authored-by: openhands <openhands@all-hands.dev>", "OpenHands"),
    ("Co-authored-by: gemini-code-assist[bot] <176961590+gemini-code-assist[bot]@users.noreply.github.com>",
     "Gemini Code Assist"),
    ("Co-authored-by: factory-droid[bot] <138933559+factory-droid[bot]@users.noreply.github.com>", "Factory Droid"),
])
def test_co_author_identities(repo: RepoBuilder, trailer: str, tool: str) -> None:
    [evidence] = _found(repo, f"Fix flaky timeout\n\n{trailer}\n")["co-author-trailer"]
    assert evidence.subject == tool


def test_is_ai_identity_and_login() -> None:
    assert is_ai_identity("Claude", "noreply@anthropic.com")
    assert not is_ai_identity("Claude", "claude@example.com")
    assert not is_ai_identity("Jane", "jane@anthropic.com")
    assert is_ai_identity("coderabbitai[bot]", "")
    assert is_ai_identity("x", "136622811+coderabbitai[bot]@users.noreply.github.com")
    assert ai_tool_for_identity("x", "999+chatgpt-codex-connector[bot]@users.noreply.github.com") == "OpenAI Codex"
    assert not is_ai_identity("Devin", "devin@example.com")
    for login in ("coderabbitai[bot]", "CodeRabbitAI", "chatgpt-codex-connector[bot]", "cursor[bot]",
                  "gemini-code-assist[bot]", "Copilot", "copilot-pull-request-reviewer[bot]", "devin-ai-integration"):
        assert is_ai_login(login), login
    for login in ("cursor", "claude", "devin", "jules", "dependabot[bot]", "renovate[bot]", "alice"):
        assert not is_ai_login(login), login


# --- branch, labels, PR author, PR body ------------------------------------------------------

@pytest.mark.parametrize(("branch", "tool"), [
    ("copilot/fix-flaky-test", "GitHub Copilot"),
    ("copilot/fix-5d8c0b3e-1a2b-4c3d-9e8f-0a1b2c3d4e5f", "GitHub Copilot"),
    ("codex/github-mention-add-retry", "OpenAI Codex"),
    ("claude/issue-42-20250612-1503", "Claude Code"),
    ("devin/1718200000-fix-login", "Devin"),
    ("openhands-fix-issue-7", "OpenHands"),
    ("openhands/add-tests", "OpenHands"),
    ("cursor/add-dark-mode-9f65", "Cursor"),
])
def test_agent_branches(repo: RepoBuilder, branch: str, tool: str) -> None:
    [evidence] = _found(repo, "Add feature", branch=branch)["branch"]
    assert evidence.subject == tool and evidence.confidence is Confidence.MEDIUM


@pytest.mark.parametrize("branch", ["cursor/blink-fix", "devin/feature", "claude/notes", "feature/copilot-docs",
                                    "main", "codex"])
def test_ordinary_branches(repo: RepoBuilder, branch: str) -> None:
    assert detect(DETECTOR, _one_commit(repo, "Add feature", branch=branch)) == []


def test_labels_default_and_configured(repo: RepoBuilder) -> None:
    change = _one_commit(repo, "Add feature", labels=("AI-Generated", "team:search", "agent-work"))
    [label] = detect(DETECTOR, change)
    assert label.kind == "label" and "'AI-Generated'" in label.detail and label.location.where == "PR labels"
    [both] = detect(DETECTOR, change, {"labels": ["Agent-Work"]})
    assert both.attrs["occurrences"] == 2
    assert detect(DETECTOR, _one_commit(repo, "Add feature", labels=("ai", "enhancement"))) == []


def test_pr_author_from_flags_is_declared_and_from_api_is_verified(repo: RepoBuilder) -> None:
    change = _one_commit(repo, "Add feature", author="devin-ai-integration[bot]")
    [flagged] = detect(DETECTOR, change)
    assert flagged.kind == "pr-author" and flagged.subject == "Devin" and flagged.trust is Trust.DECLARED
    change.pull_request.author_login, change.pull_request.author_type = "Copilot", "Bot"  # as the API reports it
    [api] = detect(DETECTOR, change)
    assert api.subject == "GitHub Copilot" and api.trust is Trust.VERIFIED


@pytest.mark.parametrize("login", ["cursor", "claude", "alice"])
def test_pr_author_humans(repo: RepoBuilder, login: str) -> None:
    assert detect(DETECTOR, _one_commit(repo, "Add feature", author=login)) == []


def _with_body(repo: RepoBuilder, tmp_path: Path, body: str):
    path = tmp_path / "body.md"
    path.write_text(body, encoding="utf-8")
    return _one_commit(repo, "Add feature", body_file=path)


@pytest.mark.parametrize(("body", "tool", "kind"), [
    ("## Summary\n- adds retry\n\n_Generated by [Claude Code](https://claude.ai/code)_\n", "Claude Code", "footer"),
    ("Fixes the tokenizer.\n\nThis PR was written primarily by Claude Code.\n", "Claude Code", "pr-body-disclosure"),
    ("This pull request contains changes generated by a Cursor Cloud Agent\n", "Cursor", "pr-body-disclosure"),
    ("Fix it.\n\n<!-- START COPILOT CODING AGENT SUFFIX -->\n\n- Fixes #10595\n", "GitHub Copilot", "pr-body-marker"),
    ("## Testing\n\nAll green.\n\nLink to Devin run: https://app.devin.ai/sessions/d1991f5d4f0a47d994adb358b084d182\n"
     "Requested by: Nathan (nate@example.com)\n", "Devin", "pr-body-marker"),
    ("## Summary\n- parse flags\n\n---\n\nhttps://chatgpt.com/codex/tasks/task_e_68521a6ba6148321a7881ab0d9cc070f\n",
     "OpenAI Codex", "pr-body-marker"),
    ("Squash me\n\nCo-authored-by: Claude <noreply@anthropic.com>\n", "Claude Code", "co-author-trailer"),
    ("This PR was generated with an AI coding assistant and reviewed by me.\n", "unknown AI tool",
     "pr-body-disclosure"),
])
def test_pr_body_markers(repo: RepoBuilder, tmp_path: Path, body: str, tool: str, kind: str) -> None:
    evidence = [e for e in detect(DETECTOR, _with_body(repo, tmp_path, body)) if e.kind == kind]
    assert [e.subject for e in evidence] == [tool]
    assert evidence[0].location.where == "PR body" and evidence[0].location.line >= 1


def test_devin_run_link_located_on_its_line(repo: RepoBuilder, tmp_path: Path) -> None:
    body = "Intro\r\n\r\nLink to Devin run: https://app.devin.ai/sessions/d1991f5d4f0a47d994adb358b084d182\r\n"
    [evidence] = detect(DETECTOR, _with_body(repo, tmp_path, body))
    assert evidence.confidence is Confidence.HIGH and evidence.location.line == 3


@pytest.mark.parametrize("body", [
    "<!-- If this PR was generated by Claude Code, say so below. -->\n\nManual change.\n",
    "This PR was not written by Copilot.\n",
    "This PR fixes code that was generated by Copilot last year.\n",
    "This change was written by Devin J. Pohly and reviewed by Jules.\n",
    "The code was written by Claude, our new teammate.\n",
    "> [!NOTE]\n> Reviewed by [Cursor Bugbot](https://cursor.com/bugbot) for commit 4d92305.\n",
    "Moves the cursor to the end of the line.\n",
])
def test_pr_body_non_markers(repo: RepoBuilder, tmp_path: Path, body: str) -> None:
    assert detect(DETECTOR, _with_body(repo, tmp_path, body)) == []


# --- settings --------------------------------------------------------------------------------

def test_configured_markers(repo: RepoBuilder, tmp_path: Path) -> None:
    path = tmp_path / "body.md"
    path.write_text("Drafted with our internal helper (ticket AIH-12).\n", encoding="utf-8")
    base = repo.head()
    repo.commit("Add export\n\nX-Helper: Orion\nX-Helper: nobody\n", {"x.py": "x = 1\n"},
                author=Author("Build Agent", "agent@corp.example"))
    change = local_change(repo, base, body_file=path, author="corp-agent", branch="agents/task-12")
    settings = {
        "trailers": [{"key": "X-Helper", "values": ["orion"], "tool": "Orion"}],
        "emails": ["AGENT@corp.example"], "logins": ["corp-agent"], "branches": ["agents/*"],
        "body_patterns": [r"internal helper \(ticket AIH-\d+\)"],
    }
    evidence = detect(DETECTOR, change, settings)
    kinds = {e.kind: e for e in evidence}
    assert set(kinds) == {"custom-trailer", "agent-author", "pr-author", "branch", "pr-body-pattern"}
    assert kinds["custom-trailer"].subject == "Orion" and kinds["custom-trailer"].location.line == 3
    assert detect(DETECTOR, change) == []  # none of these without the settings


def test_invalid_body_pattern_is_a_policy_error(repo: RepoBuilder) -> None:
    with pytest.raises(PolicyError, match="body_patterns"):
        detect(DETECTOR, _one_commit(repo, "x"), {"body_patterns": ["(unclosed"]})


def test_settings_schema_is_strict() -> None:
    good = "version: 1\nrules: []\nsettings:\n  ai:\n    trailers: [{key: X-Helper, values: [orion], tool: Orion}]\n"
    assert parse_policy(good, "good.yml").settings["ai"]["trailers"][0]["tool"] == "Orion"
    with pytest.raises(PolicyError):
        parse_policy("version: 1\nrules: []\nsettings:\n  ai:\n    trailer: [{key: X}]\n", "typo.yml")
    with pytest.raises(PolicyError):
        parse_policy("version: 1\nrules: []\nsettings:\n  ai:\n    trailers: [{key: X, value: y}]\n", "typo.yml")


def test_repeated_markers_merge_into_one_evidence(repo: RepoBuilder) -> None:
    base = repo.head()
    for number in range(3):
        repo.commit(f"Step {number}\n\n{CLAUDE_TRAILER}\n", {"app.py": f"x = {number}\n"})
    [evidence] = detect(DETECTOR, local_change(repo, base))
    assert evidence.attrs["occurrences"] == 3 and len(evidence.attrs["locations"]) == 3


# --- end to end ------------------------------------------------------------------------------

def test_cli_fails_ai_assisted_change_without_review(repo: RepoBuilder, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "version: 1\n"
        "rules:\n"
        "  - id: ai-needs-review\n"
        "    when: {ai_assisted: true}\n"
        "    require:\n"
        "      reviewed: {approvals: 1, trust: declared}\n"
        "    severity: error\n",
        encoding="utf-8",
    )
    base = repo.head()
    repo.commit(f"Rewrite payment retries\n\n{CLAUDE_FOOTER}\n\n{CLAUDE_TRAILER}\n",
                {"payments/retry.py": "def retry():\n    return 3\n"})
    args = ["check", "--repo", str(repo.path), "--base", base, "--policy", str(policy), "--format", "json"]
    result = run_cli(*args)
    assert result.code == 1, result.stderr
    data = result.json()
    assert data["ai_assisted"] is True and data["verdict"] == "fail"
    [rule] = data["rules"]
    assert rule["id"] == "ai-needs-review" and rule["status"] == "fail"

    repo.commit("Review\n\nReviewed-by: Bob Reviewer <bob@example.com>\n", {"payments/retry.py": "def retry():\n    return 4\n"})
    assert run_cli(*args).code == 0

    human_base = repo.head()
    repo.commit("Plain human change", {"payments/retry.py": "def retry():\n    return 5\n"})
    plain = run_cli("check", "--repo", str(repo.path), "--base", human_base, "--policy", str(policy), "--format", "json")
    assert plain.code == 0 and plain.json()["ai_assisted"] is False


def test_cli_default_policy_fails_risky_ai_change_without_review(repo: RepoBuilder) -> None:
    base = repo.head()
    repo.commit(f"Rewrite payment retries\n\n{CLAUDE_FOOTER}\n\n{CLAUDE_TRAILER}\n",
                {"payments/retry.py": "def retry():\n    return 3\n"})
    args = ["check", "--repo", str(repo.path), "--base", base, "--format", "json"]  # the embedded default policy
    result = run_cli(*args)
    assert result.code == 1, result.stderr
    data = result.json()
    assert data["ai_assisted"] is True and data["risk"]["level"] in ("medium", "high")
    failed = {rule["id"] for rule in data["rules"] if rule["status"] == "fail"}
    assert "ai-risky-needs-human-review" in failed

    repo.commit("Test retries\n\nReviewed-by: Bob Reviewer <bob@example.com>\n",
                {"tests/test_retry.py": "def test_retry():\n    assert True\n"})
    passed = run_cli(*args)
    assert passed.code == 0, passed.stdout
    assert passed.json()["questions"]["reviewed"]["status"] == "satisfied"


# --- tools and vendors --------------------------------------------------------------------------

@pytest.mark.parametrize(("trailer", "tool", "vendor"), [
    ("Assisted-by: Opus 4.7", "Claude", "Anthropic"),  # a model named alone is its vendor's assistant
    ("Assisted-by: claude-sonnet-4-5", "Claude", "Anthropic"),
    ("Assisted-by: Codex:GPT-5.4", "OpenAI Codex", "OpenAI"),
    ("Assisted-by: gpt-5", "ChatGPT", "OpenAI"),
    ("Assisted-by: Qwen3-Coder", "Qwen", "Alibaba"),
    ("Assisted-by: Zed:zeta-2 clang-format", "Zed", None),  # unknown agent: kernel AGENT:MODEL keeps the agent
    ("Assisted-by: generic LLM chatbot", "generic LLM chatbot", None),
])
def test_declared_tools_are_normalised_to_tool_and_vendor(repo: RepoBuilder, trailer: str, tool: str, vendor: str | None) -> None:
    [evidence] = _found(repo, f"Tidy\n\n{trailer}\n")["declared-trailer"]
    assert evidence.subject == tool
    assert evidence.attrs.get("vendor") == vendor


def test_one_vendor_is_one_vendor_in_the_check_json(repo: RepoBuilder) -> None:
    """Claude Code's co-author trailer, a kernel-style Claude trailer and a bare model name: two tools, one vendor."""
    base = repo.head()
    repo.commit(f"Add retry\n\n{CLAUDE_TRAILER}\n", {"app.py": "a = 1\n"})
    repo.commit("Tidy retry\n\nAssisted-by: Claude:claude-opus-4-7\n", {"app.py": "a = 2\n"})
    repo.commit("Docs\n\nAssisted-by: Opus 4.7\n", {"README.md": "x\n"})
    result = run_cli("check", "--repo", str(repo.path), "--base", base, "--format", "json")
    data = result.json()
    assert data["ai"]["tools"] == ["Claude", "Claude Code"]  # ai.tools is kept as it was: tool names
    assert data["ai"]["vendors"] == ["Anthropic"]
    assert data["ai"]["tool_vendors"] == {"Claude": "Anthropic", "Claude Code": "Anthropic"}
    assert all(e["attrs"]["vendor"] == "Anthropic" for e in data["ai"]["evidence"])
