"""What AI assistance looks like in git history and pull requests: the data the ``ai`` detector reads.

Every entry was seen in real repositories, tool sources or project policies. Identities are matched exactly (email, GitHub login, or the
numeric id inside a GitHub noreply address, which survives a bot's rename), never by a
first name: "Devin", "Jules", "Claude" and "Cursor" are also people and words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from govgate.model import Confidence

UNKNOWN_TOOL = "unknown AI tool"


@dataclass(frozen=True)
class AiIdentity:
    tool: str
    emails: tuple[str, ...] = ()  # exact, lower-case
    logins: tuple[str, ...] = ()  # GitHub logins, lower-case, "[bot]" included where GitHub shows it
    github_ids: tuple[int, ...] = ()  # numeric ids of the accounts above
    reviewer: bool = False  # mainly known as an AI code reviewer (its review is never a human review)


IDENTITIES: tuple[AiIdentity, ...] = (
    # Only the noreply address: people who work at Anthropic commit with @anthropic.com addresses.
    AiIdentity("Claude Code", emails=("noreply@anthropic.com",),
               logins=("claude[bot]", "anthropic-claude[bot]", "claude-code-action[bot]"),
               github_ids=(209825114, 215619710, 208546643)),
    AiIdentity("Aider", emails=("aider@aider.chat", "noreply@aider.dev", "noreply@aider.chat")),
    AiIdentity("GitHub Copilot",
               logins=("copilot", "copilot[bot]", "copilot-swe-agent[bot]", "copilot-pull-request-reviewer[bot]"),
               github_ids=(198982749, 175728472, 223556219, 167198135)),
    AiIdentity("OpenAI Codex", emails=("noreply@openai.com",),
               logins=("openai-codex[bot]", "chatgpt-codex-connector[bot]"), github_ids=(215057067, 199175422)),
    AiIdentity("Cursor", emails=("cursoragent@cursor.com",), logins=("cursor[bot]",), github_ids=(206951365,)),
    AiIdentity("OpenHands", emails=("openhands@all-hands.dev", "opendevin@all-hands.dev")),
    AiIdentity("Amp", emails=("amp@ampcode.com",)),
    AiIdentity("Devin", logins=("devin-ai-integration[bot]",), github_ids=(158243242,)),
    AiIdentity("Google Jules", logins=("google-labs-jules[bot]",), github_ids=(161369871,)),
    AiIdentity("Gemini Code Assist", logins=("gemini-code-assist[bot]",), github_ids=(176961590,), reviewer=True),
    AiIdentity("Factory Droid", logins=("factory-droid[bot]",), github_ids=(138933559,)),
    AiIdentity("Amazon Q Developer", logins=("amazon-q-developer[bot]",), github_ids=(208079219,)),
    AiIdentity("Cline", logins=("cline[bot]",), github_ids=(205137888,)),
    AiIdentity("Continue", logins=("continue[bot]",), github_ids=(230936708,)),
    AiIdentity("Sourcegraph Cody", logins=("sourcegraph-cody[bot]",), github_ids=(201248094,)),
    AiIdentity("JetBrains AI", logins=("jetbrains-ai[bot]",), github_ids=(220155983,)),
    AiIdentity("Sweep", logins=("sweep-ai[bot]",)),
    AiIdentity("opencode", emails=("noreply@opencode.ai",), logins=("opencode-agent[bot]",)),
    AiIdentity("CodeRabbit", logins=("coderabbitai[bot]",), github_ids=(136622811,), reviewer=True),
)

# GraphQL shows app logins without "[bot]"; these bare names are still unambiguous. "cursor",
# "claude", "cline" and "continue" are left out: people and organisations hold those logins.
AMBIGUOUS_BARE_LOGINS = frozenset({"cursor", "claude", "cline", "continue"})

GITHUB_NOREPLY = re.compile(r"^(?:(?P<id>\d+)\+)?(?P<login>[^@\s]+)@users\.noreply\.github\.com$", re.IGNORECASE)

# aider renames the author to "Name (aider)" when the AI wrote the edit; as committer only,
# it means aider committed the user's own edits.
AIDER_AUTHOR_SUFFIX = re.compile(r"\s\(aider\)\s*$", re.IGNORECASE)
AIDER_SUBJECT_PREFIX = re.compile(r"^aider:\s", re.IGNORECASE)

# Value of "Assisted-by"/"Generated-by"/"Co-authored-by-AI" -> tool, first match wins.
TOOL_NAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), tool) for pattern, tool in (
        (r"\bclaude[ -]code\b", "Claude Code"),
        (r"\bclaude\b", "Claude"),
        (r"\bcopilot\b", "GitHub Copilot"),
        (r"\bcodex\b", "OpenAI Codex"),
        (r"\b(?:chatgpt|gpt-?\d[\w.-]*|openai)\b", "ChatGPT"),
        (r"\bcursor\b", "Cursor"),
        (r"\baider\b", "Aider"),
        (r"\bgemini\b", "Gemini"),
        (r"\bdevin\b", "Devin"),
        (r"\bjules\b", "Google Jules"),
        (r"\bamp\b", "Amp"),
        (r"\bopencode\b", "opencode"),
        (r"\b(?:openhands|opendevin)\b", "OpenHands"),
        (r"\bcody\b", "Sourcegraph Cody"),
        (r"\b(?:amazon q|codewhisperer)\b", "Amazon Q Developer"),
        # A model named without its tool ("Opus 4.7", "claude-sonnet-4-5") is its vendor's assistant.
        (r"\b(?:opus|sonnet|haiku)\b", "Claude"),
        (r"\bqwen", "Qwen"),
        (r"\bdeepseek\b", "DeepSeek"),
        (r"\bgrok\b", "Grok"),
        (r"\b(?:mistral|codestral|devstral)\b", "Mistral"),
        (r"\bllama\b", "Llama"),
        (r"\b(?:llm|ai|chatbot|language model)\b", UNKNOWN_TOOL),
    )
)


# Tool -> the company (or project) behind it, so that one vendor's tools can be counted together.
# A tool missing here (a custom trailer's tool, a free-text value) has no known vendor.
TOOL_VENDORS: dict[str, str] = {
    "Claude Code": "Anthropic", "Claude": "Anthropic",
    "GitHub Copilot": "GitHub", "OpenAI Codex": "OpenAI", "ChatGPT": "OpenAI",
    "Cursor": "Anysphere (Cursor)", "Aider": "Aider (open source)", "OpenHands": "All Hands AI", "Amp": "Amp",
    "Devin": "Cognition", "Google Jules": "Google", "Gemini": "Google", "Gemini Code Assist": "Google",
    "Factory Droid": "Factory", "Amazon Q Developer": "Amazon", "Cline": "Cline", "Continue": "Continue",
    "Sourcegraph Cody": "Sourcegraph", "JetBrains AI": "JetBrains", "Sweep": "Sweep", "opencode": "opencode (open source)",
    "CodeRabbit": "CodeRabbit", "Replit Agent": "Replit", "Replit Assistant": "Replit", "Entire": "Entire",
    "Qwen": "Alibaba", "DeepSeek": "DeepSeek", "Grok": "xAI", "Mistral": "Mistral AI", "Llama": "Meta",
}
UNKNOWN_VENDOR = "unknown vendor"


def vendor_of(tool: str) -> str | None:
    return TOOL_VENDORS.get(tool)


def vendors_of(tool_vendors: dict[str, str]) -> list[str]:
    """The vendors behind a change's tools (tool -> vendor), each once, sorted."""
    return sorted(set(tool_vendors.values()))


@dataclass(frozen=True)
class TrailerMarker:
    """A ``Key: value`` line that marks AI work when its value is a known one."""

    key: str  # lower-case
    tool: str | None  # None: the value names the tool (see TOOL_NAMES)
    confidence: Confidence
    value_pattern: str | None = None  # the whole value must match (None: any value)
    values: tuple[str, ...] = ()  # or it must be one of these (case-insensitive)


_ID_TOKEN = r"[A-Za-z0-9][A-Za-z0-9._:/+=-]*"  # one token: an id is never prose

TRAILER_MARKERS: tuple[TrailerMarker, ...] = (
    TrailerMarker("claude-session", "Claude Code", Confidence.HIGH,
                  value_pattern=r"(?:https?://claude\.(?:ai|com)/code/)?session_[A-Za-z0-9_-]+"),
    TrailerMarker("amp-thread-id", "Amp", Confidence.HIGH,
                  value_pattern=r"(?:https?://(?:www\.)?ampcode\.com/threads/)?T-[0-9A-Fa-f-]{8,}"),
    TrailerMarker("entire-checkpoint", "Entire", Confidence.MEDIUM, value_pattern=_ID_TOKEN),
    TrailerMarker("entire-metadata", "Entire", Confidence.MEDIUM, value_pattern=_ID_TOKEN),
    # Linux kernel, Fedora, LLVM, git.git: "Assisted-by: AGENT:MODEL [TOOLS]" or free text.
    TrailerMarker("assisted-by", None, Confidence.HIGH),
    TrailerMarker("co-authored-by-ai", None, Confidence.HIGH),  # OpenLiberty
    # Apache's "Generated-by: <tool>": medium unless the value names an AI tool, because
    # "generated by" also describes code generators.
    TrailerMarker("generated-by", None, Confidence.MEDIUM),
    TrailerMarker("ai-assisted", UNKNOWN_TOOL, Confidence.HIGH, values=("true", "yes")),
)

# Replit writes "Agent" when its agent made the commit, "Assistant" for the weaker, prompted
# assistant; other values (Deployment, ...) are other products. Prior art (chaoss/disclosure)
# raises confidence one step when a Replit-Commit-Session-Id accompanies the trailer.
REPLIT_AUTHOR_KEY = "replit-commit-author"
REPLIT_SESSION_KEY = "replit-commit-session-id"
REPLIT_VALUES = {"agent": ("Replit Agent", Confidence.HIGH), "assistant": ("Replit Assistant", Confidence.LOW)}

# Whole lines a tool appends to a commit message or PR body ("🤖 Generated with [Claude Code](...)",
# "_Generated by [Claude Code](...)_", opencode's copy of the same footer).
FOOTER = re.compile(
    r"^[_*]*(?:🤖\s*)?Generated (?:with|by) \[?(?P<tool>Claude Code|opencode)\]?"
    r"(?:\(\s*https?://[^)\s]*\s*\))?\.?[_*]*$",
    re.IGNORECASE,
)
FOOTER_TOOLS = {"claude code": "Claude Code", "opencode": "opencode"}

# Branch names agents create: (regex on the full branch name, tool, confidence).
BRANCHES: tuple[tuple[re.Pattern[str], str, Confidence], ...] = tuple(
    (re.compile(pattern), tool, confidence) for pattern, tool, confidence in (
        (r"^copilot/.+", "GitHub Copilot", Confidence.MEDIUM),
        (r"^codex/.+", "OpenAI Codex", Confidence.MEDIUM),
        (r"^claude/issue-\d+(?:-.*)?$", "Claude Code", Confidence.MEDIUM),
        (r"^devin/\d{9,}-.+", "Devin", Confidence.MEDIUM),
        (r"^openhands-fix-issue-\d+", "OpenHands", Confidence.MEDIUM),
        (r"^openhands/.+", "OpenHands", Confidence.MEDIUM),
        # Cursor cloud agents push "cursor/<slug>-<4 hex>" (Cursor staff on the forum; sanity-io/sanity#14270);
        # a bare "cursor/" prefix could be a human's branch about cursors.
        (r"^cursor/.+-[0-9a-f]{4}$", "Cursor", Confidence.MEDIUM),
    )
)

DEFAULT_LABELS = ("ai-generated", "ai-assisted", "ai-authored", "ai-agent", "llm-generated")

# Text agents leave in the PR descriptions they write (matched on the raw body, HTML comments included).
BODY_MARKERS: tuple[tuple[re.Pattern[str], str, Confidence], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), tool, confidence) for pattern, tool, confidence in (
        (r"<!--\s*START COPILOT (?:CODING AGENT|ORIGINAL PROMPT)", "GitHub Copilot", Confidence.HIGH),
        (r"Link to Devin run\W{0,6}\s*https://app\.devin\.ai/sessions/", "Devin", Confidence.HIGH),
        (r"https://app\.devin\.ai/sessions/[0-9a-f]{16,}", "Devin", Confidence.MEDIUM),
        (r"https://chatgpt\.com/codex/tasks/task_\w+", "OpenAI Codex", Confidence.MEDIUM),
        (r"CURSOR_AGENT_PR_BODY_BEGIN", "Cursor", Confidence.HIGH),
        (r"https://cursor\.com/(?:agents/bc-|background-agent\?bcId=bc-)[0-9a-f-]+", "Cursor", Confidence.MEDIUM),
        (r"https://claude\.ai/code/session_\w+", "Claude Code", Confidence.MEDIUM),
    )
)

# Disclosures in prose ("This PR was written primarily by Claude Code."): the tool must be
# named unambiguously, so a colleague called Claude or Devin never matches.
PROSE_TOOLS = (
    r"(?P<tool>Claude Code|Claude (?:Opus|Sonnet|Haiku)\b[\w .-]*?|GitHub Copilot(?: coding agent)?|Copilot"
    r"|OpenAI Codex|Codex|Cursor (?:Cloud |Background )?Agent|Aider|Devin AI|Google Jules|ChatGPT|GPT-\d[\w.]*"
    r"|Gemini(?: CLI| Code Assist)?|opencode|OpenHands|(?:AI|LLM)(?: (?:coding )?(?:agent|assistant|tool|model))?)"
)
PROSE_DISCLOSURE = re.compile(
    # The sentence must be about this PR: "This PR fixes code that was generated by Copilot" is not a disclosure.
    r"\b(?:this|the)\s+(?:pr|pull request|change|changeset|patch|commit|diff)(?:\s+\(?#\d+\)?)?\s+"
    r"(?:(?:was|were|is|are|has been|have been)\s+(?:\w+\s+){0,2}?|contains?\s+(?:changes|code|commits)\s+)"
    r"(?:written|generated|authored|created|produced|implemented|co-authored|made)\b[^.\n]{0,25}?"
    r"\b(?:by|with|using)\s+(?:the\s+|an?\s+)?" + PROSE_TOOLS + r"(?![\w-])",
    re.IGNORECASE,
)
PROSE_NEGATION = re.compile(r"\b(?:not|never|no|without)\b", re.IGNORECASE)


def prose_tool(name: str) -> str:
    """Map the tool named in a disclosure to the table's tool name."""
    for pattern, tool in TOOL_NAMES:
        if pattern.search(name):
            return tool
    return name
