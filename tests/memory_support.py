"""Helpers for the organisational-memory tests: memory files and repositories that carry one."""

from __future__ import annotations

from tests.conftest import RepoBuilder

AI_TRAILER = "\n\nCo-authored-by: Claude <noreply@anthropic.com>"

LEDGER_MEMORY = """\
version: 1
stale_after_days: 365
entries:
  - id: ledger
    paths: ["services/payments/ledger/**"]
    why: |
      Ledger writes are retried twice on purpose: the bank API drops one in a thousand.
      Idempotency keys live in Redis, not in the database.
    fragile: high
    knows: ["@carol", "dave@example.com"]
    depends_on: ["services/billing/**", "invoice-mailer"]
    links: ["https://runbooks.example.com/ledger"]
    reviewed: 2026-01-15
  - id: docs
    paths: ["docs/**"]
    why: Rendered by the old site generator.
    fragile: low
"""


def memory_repo(builder: RepoBuilder, memory: str | None = LEDGER_MEMORY) -> str:
    """Commit a base with the memory file and a ledger and docs file on main; returns the base sha."""
    files: dict[str, str | bytes | None] = {
        "services/payments/ledger/write.py": "def write(entry):\n    return entry\n",
        "docs/index.md": "# docs\n",
    }
    if memory is not None:
        files[".govgate/memory.yml"] = memory
    builder.commit("Add the ledger and its memory", files)
    return builder.head()


def without_entry(memory: str, entry_id: str) -> str:
    """The memory text with one entry removed (what an attacking change would commit)."""
    blocks = memory.split("\n  - ")
    return "\n  - ".join(b for b in blocks if not b.startswith(f"id: {entry_id}\n"))
