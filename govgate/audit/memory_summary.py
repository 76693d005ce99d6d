"""What an audit says about organisational memory and freezes.

* **knowledge map**: per area (directory or file) touched in the audited range, who knows it from
  history (``govgate.memory.mining``: recency-weighted authorship, departures, mailmap), and whether
  it is orphaned (every knower left) or has a bus factor of one. The history read includes changes
  before the range (the baseline), so people who knew an area before it stay known;
* **fragile paths changed by AI-assisted changes without a knower's review**: the engine's memory
  report for each verdict (the memory in force at the change's base, as the gate would have read it);
* **freezes**: the changes merged inside a freeze window, and those of them that did not take the
  emergency path (violations), per window;
* **the memory file at the tip, against history**: entries not reviewed for ``stale_after_days``, and
  knowers it names who have left (no commit for the departure horizon).

Bounded memory: counters, a bounded list of examples, and the miner's per-area records.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from govgate.audit.failures import ChangeFacts
from govgate.audit.record import ChangeRecord
from govgate.memory.mining import AreaFacts, HistoryMiner, MinedHistory, MiningOptions
from govgate.memory.model import Knower, Memory, MemoryEntry
from govgate.memory.people import Mailmap, PersonFacts
from govgate.model import Change, KnowledgeStatus

EXAMPLES = 50
MAP_LIMIT = 50


class MemorySummary:
    def __init__(self, now: dt.datetime | None = None) -> None:
        # By default the start of today (UTC): two audits on the same day write the same report.
        self.now = now or dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time.min, dt.UTC)
        self.miner = HistoryMiner(MiningOptions(now=self.now))
        self.mined: MinedHistory | None = None
        self.memory: Memory | None = None
        self.range_changes = 0
        self.older_changes = 0
        self.fragile_ai: Counter[str] = Counter()  # memory entry -> AI-assisted changes without a knower's approval
        self.fragile_ai_changes = 0
        self.fragile_examples: list[dict[str, Any]] = []
        self.windows: dict[str, Counter[str]] = {}  # window id -> inside / violations / emergency
        self.freeze_changes = 0
        self.freeze_violations = 0
        self.freeze_examples: list[dict[str, Any]] = []

    def observe(self, record: ChangeRecord, facts: ChangeFacts) -> None:
        """A judged change of the audited range."""
        self.range_changes += 1
        self.miner.observe_input(record.mining, facts, mark=True)
        self._fragile(record)
        self._freeze(record)

    def observe_older(self, change: Change, facts: ChangeFacts) -> None:
        """A change before the audited range: it tells who knew what, nothing else."""
        self.older_changes += 1
        self.miner.observe(change, facts)

    def finish(self, mailmap: Mailmap, existing_files: Iterable[str] | None, memory: Memory | None = None) -> None:
        self.mined = self.miner.finish(mailmap, existing_files)
        self.memory = memory

    def _fragile(self, record: ChangeRecord) -> None:
        fragile = record.fragile  # set when an AI-assisted change touched fragile memory without a knower's approval
        if fragile is None:
            return
        self.fragile_ai_changes += 1
        self.fragile_ai.update(fragile["entries"])
        if len(self.fragile_examples) < EXAMPLES:
            self.fragile_examples.append({**_change_ref(record), **fragile})

    def _freeze(self, record: ChangeRecord) -> None:
        freeze = record.freeze  # set when the change landed inside a freeze window
        if freeze is None:
            return
        self.freeze_changes += 1
        violation = not freeze["emergency_taken"]
        self.freeze_violations += violation
        for window in freeze["windows"]:
            counts = self.windows.setdefault(window, Counter())
            counts["inside"] += 1
            counts["violations" if violation else "emergency"] += 1
        if violation and len(self.freeze_examples) < EXAMPLES:
            self.freeze_examples.append({**_change_ref(record), "windows": freeze["windows"], "window": freeze["window"]})

    # -- reading the result ---------------------------------------------------------------------------

    def knowledge_areas(self) -> list[AreaFacts]:
        """Areas touched in the audited range, riskiest first: orphaned, then bus factor 1, by activity."""
        if self.mined is None:
            return []
        marked = self.miner.marked
        rank = {KnowledgeStatus.ORPHANED: 0, KnowledgeStatus.BUS_FACTOR_1: 1, KnowledgeStatus.SHARED: 2,
                KnowledgeStatus.NO_HISTORY: 3}
        areas = [a for a in self.mined.reported() if a.path in marked]
        return sorted(areas, key=lambda a: (rank[a.status], -a.activity, a.path))

    def stale_entries(self) -> list[MemoryEntry]:
        return self.memory.stale(self.now.date()) if self.memory else []

    def departed_knowers(self) -> list[tuple[MemoryEntry, Knower, PersonFacts]]:
        """Knowers the memory names who have left: the entry still points at someone who is gone."""
        if self.memory is None or self.mined is None:
            return []
        found = []
        for entry in self.memory.entries:
            for knower in entry.knows:
                person = self.mined.person(knower)
                if person is not None and person.departed(self.now, self.miner.options.departed_days):
                    found.append((entry, knower, person))
        return found

    def status_counts(self) -> dict[str, int]:
        counts = Counter(a.status.value for a in self.knowledge_areas())
        return {status.value: counts[status.value] for status in KnowledgeStatus}

    def to_dict(self) -> dict[str, Any]:
        options = self.miner.options
        return {
            "knowledge_map": {
                "as_of": self.now.isoformat(),
                "departed_days": options.departed_days,
                "half_life_days": options.half_life_days,
                "changes_read": {"audited": self.range_changes, "before_the_range": self.older_changes},
                "areas_touched": self.status_counts(),
                "areas": [a.to_dict() for a in self.knowledge_areas()[:MAP_LIMIT]],
            },
            "fragile_ai_without_knower": {
                "changes": self.fragile_ai_changes,
                "by_entry": dict(self.fragile_ai.most_common()),
                "examples": self.fragile_examples,
            },
            "memory_file": self._memory_file_dict(),
            "freezes": {
                "changes_inside": self.freeze_changes,
                "violations": self.freeze_violations,
                "windows": {window: dict(counts) for window, counts in sorted(self.windows.items())},
                "examples": self.freeze_examples,
            },
        }


    def _memory_file_dict(self) -> dict[str, Any] | None:
        if self.memory is None:
            return None
        return {
            "source": self.memory.source,
            "entries": len(self.memory.entries),
            "stale": [{"entry": e.name, "reviewed": e.reviewed.isoformat() if e.reviewed else None}
                      for e in self.stale_entries()],
            "departed_knowers": [{"entry": e.name, "knower": k.text,
                                  "last_commit": p.last_active.isoformat() if p.last_active else None}
                                 for e, k, p in self.departed_knowers()],
        }


def _change_ref(record: ChangeRecord) -> dict[str, Any]:
    return {"id": record.id, "sha": record.sha, "date": record.date, "title": record.title, "author": record.author}
