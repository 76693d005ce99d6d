"""Knowledge-loss paths: where recent changes came mostly from AI-assisted commits or newcomers.

*Recent* means the ``window_days`` before the newest audited change. A path is a directory cut at
``depth`` components (``src/api/v2/x.py`` counts for ``src/api``; files at the top count for ``.``).
A recent change's author is a *newcomer* to a path when none of the changes older than the window
that touched the path had them as an author: the audited changes older than the window, and the
history before the audited range (the baseline the audit reads after it, ``observe_baseline``).
Without any older history newcomer shares are reported as unknown. A path is named when it
had at least ``min_changes`` recent changes and more than half were AI-assisted or by newcomers.

The stream is newest first: recent changes come first and leave, per path, the authors whose
prior history is still to be found; older changes only cross names off that list, so memory is
bounded by the recent window, not by the history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from govgate.model import Change

if TYPE_CHECKING:
    from govgate.audit.record import ChangeRecord

WINDOW_DAYS = 90
DEPTH = 2
MIN_CHANGES = 3
MAX_PATHS = 25
MAX_PATHS_PER_CHANGE = 200  # a tree-wide reformat says little about who knows which directory


@dataclass
class _PathStats:
    changes: int = 0
    ai_assisted: int = 0
    by_author: Counter[str] = field(default_factory=Counter)


def knowledge_paths(change: Change, depth: int = DEPTH) -> set[str]:
    """The folders (cut at ``depth``) a change touched, as the tracker counts them."""
    found: set[str] = set()
    for path in change.paths():
        parts = path.split("/")[:-1][:depth]
        found.add("/".join(parts) if parts else ".")
        if len(found) >= MAX_PATHS_PER_CHANGE:
            break
    return found


class KnowledgeTracker:
    def __init__(self, window_days: int = WINDOW_DAYS, depth: int = DEPTH, min_changes: int = MIN_CHANGES) -> None:
        self.window_days = window_days
        self.depth = depth
        self.min_changes = min_changes
        self.window_start: dt.datetime | None = None
        self.older_seen = False
        self._recent: dict[str, _PathStats] = {}
        self._unknown: dict[str, set[str]] = {}  # path -> recent authors with no older change there (yet)

    def observe(self, record: ChangeRecord, when: dt.datetime | None) -> None:
        if when is None:
            return
        if self.window_start is None:
            self.window_start = when - dt.timedelta(days=self.window_days)
        paths = record.knowledge_paths
        ai_assisted = record.ai_assisted
        if when >= self.window_start:
            author = record.author_email
            for path in paths:
                stats = self._recent.setdefault(path, _PathStats())
                stats.changes += 1
                stats.ai_assisted += ai_assisted
                stats.by_author[author] += 1
                self._unknown.setdefault(path, set()).add(author)
            return
        self._cross_off(paths, record.commit_authors)

    def observe_baseline(self, change: Change) -> None:
        """A change from before the audited range: it only shows who had worked on a path before."""
        self._cross_off(knowledge_paths(change, self.depth), [c.author.email.lower() for c in change.commits])

    def _cross_off(self, paths: Iterable[str], commit_authors: Iterable[str]) -> None:
        self.older_seen = True
        if not self._unknown:
            return
        authors = set(commit_authors)
        for path in paths:
            waiting = self._unknown.get(path)
            if waiting:
                waiting -= authors
                if not waiting:
                    del self._unknown[path]

    def to_dict(self) -> dict[str, Any]:
        rows: list[dict[str, Any]] = []
        for path, stats in self._recent.items():
            if stats.changes < self.min_changes:
                continue
            newcomers = self._unknown.get(path, set())
            newcomer_changes = sum(count for author, count in stats.by_author.items() if author in newcomers)
            ai_share = stats.ai_assisted / stats.changes
            newcomer_share = newcomer_changes / stats.changes if self.older_seen else None
            reasons = []
            if ai_share > 0.5:
                reasons.append("mostly AI-assisted")
            if newcomer_share is not None and newcomer_share > 0.5:
                reasons.append("mostly by authors new to it")
            if not reasons:
                continue
            rows.append({
                "path": path,
                "recent_changes": stats.changes,
                "ai_assisted": stats.ai_assisted,
                "ai_share": round(ai_share, 4),
                "newcomer_changes": newcomer_changes if self.older_seen else None,
                "newcomer_share": round(newcomer_share, 4) if newcomer_share is not None else None,
                "authors": len(stats.by_author),
                "reasons": reasons,
            })
        rows.sort(key=lambda r: (-(r["recent_changes"] * max(r["ai_share"], r["newcomer_share"] or 0)), r["path"]))
        return {
            "window_days": self.window_days,
            "window_start": self.window_start.date().isoformat() if self.window_start else None,
            "depth": self.depth,
            "history_before_window": self.older_seen,
            "paths": rows[:MAX_PATHS],
        }
