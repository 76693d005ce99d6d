"""Who a commit identity is: GitHub noreply addresses, bots and AI agents.

Pure functions on names and emails; ``.mailmap`` resolution (which needs git) lives in ``mailmap``.
"""

from __future__ import annotations

import re

# GitHub's commit addresses for users who keep their email private: ``ID+login@`` (since 2017) or ``login@``.
_NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\[bot\])?)@users\.noreply\.github\.com$")
_SERVICE_ADDRESSES = frozenset({"noreply@github.com", "action@github.com", "actions@github.com"})


def noreply_login(email: str) -> str | None:
    """The GitHub login behind a noreply address (lower case), else None."""
    match = _NOREPLY.match(email.strip().lower())
    return match.group("login") if match else None


def is_machine(name: str, email: str) -> bool:
    """A bot, a forge's own committer identity or an AI agent: never a knower of anything."""
    lowered_name, lowered_email = name.strip().lower(), email.strip().lower()
    if lowered_email in _SERVICE_ADDRESSES or "[bot]" in lowered_name or "[bot]" in lowered_email:
        return True
    from govgate.detectors.ai import is_ai_identity  # the AI detector owns the list of agent identities

    return is_ai_identity(name, email)
