"""What the organisational memory says about a change: the entries it touches, and which knowers approved.

Part of the engine: conditions (``fragile``) and requirements (``by_knowers``) read this report,
and formats render it. A knower's approval must be verified when a forge supplied the change
(a trailer the author wrote proves nothing there); offline, a declared approval is all there is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govgate.memory.model import Knower, KnowerKind, Memory, TouchedEntry
from govgate.model import Change, Evidence, Fragility, Trust


@dataclass
class KnowerApprovals:
    counted: list[str] = field(default_factory=list)  # subjects of approvals by knowers that count
    weaker: list[str] = field(default_factory=list)  # by knowers, but below the trust needed


@dataclass
class MemoryReport:
    source: str
    touched: list[TouchedEntry]
    today: dt.date
    stale_after_days: int
    floor: Trust  # the weakest approval trust that counts for knowers
    approvals: KnowerApprovals

    @property
    def fragility(self) -> Fragility | None:
        levels = [t.entry.fragile for t in self.touched if t.entry.fragile is not None]
        return max(levels, key=lambda level: level.rank) if levels else None

    @property
    def knowers(self) -> tuple[Knower, ...]:
        unique = {k.key: k for t in self.touched for k in t.entry.knows}
        return tuple(unique.values())

    def is_fragile(self, wanted: bool | str) -> bool:
        level = self.fragility
        if isinstance(wanted, bool):
            return (level is not None) == wanted
        return level is not None and level.at_least(Fragility(wanted))

    def notes(self) -> list[str]:
        """What keeps a knower's approval from being recognised, said once."""
        notes = []
        teams = [k.text for k in self.knowers if k.kind is KnowerKind.TEAM]
        if teams:
            notes.append(f"team knowers ({', '.join(teams)}) cannot be matched to reviewers without an organisation-scoped "
                         "token; name people too")
        if self.approvals.weaker:
            notes.append(f"approvals by {', '.join(self.approvals.weaker)} are only declared; with a forge a knower's "
                         "approval must be verified")
        return notes

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fragile": self.fragility.value if self.fragility else None,
            "knowers": [k.text for k in self.knowers],
            "knower_approvals": self.approvals.counted,
            "entries": [{**t.entry.to_dict(), "touched": list(t.paths),
                         "stale": t.entry.is_stale(self.today, self.stale_after_days)} for t in self.touched],
            "notes": self.notes(),
        }


def assess_memory(change: Change, reviewed: Sequence[Evidence], today: dt.date) -> MemoryReport | None:
    memory: Memory | None = change.memory
    if memory is None:
        return None
    touched = memory.touched(change.paths())
    floor = knower_trust_floor(change)
    knowers = tuple({k.key: k for t in touched for k in t.entry.knows}.values())
    return MemoryReport(memory.source, touched, today, memory.stale_after_days, floor,
                        approvals_by(knowers, reviewed, floor, on_head=False))


def knower_trust_floor(change: Change) -> Trust:
    return Trust.VERIFIED if change.forge else Trust.DECLARED


def approvals_by(people: Sequence[Knower], reviewed: Sequence[Evidence], minimum: Trust, *, on_head: bool) -> KnowerApprovals:
    """Distinct approvers among ``people``: those whose approval counts, and those only weaker evidence shows."""
    facet = "approval_on_head" if on_head else "approval"
    found = KnowerApprovals()
    for item in reviewed:
        if not item.supports or item.discounted is not None or item.unavailable or facet not in item.facets:
            continue
        subject = item.subject or ""
        if not any(person.approves_as(subject) for person in people):
            continue
        bucket = found.counted if item.trust.at_least(minimum) else found.weaker
        if subject not in bucket:
            bucket.append(subject)
    found.weaker = [s for s in found.weaker if s not in found.counted]
    return found
