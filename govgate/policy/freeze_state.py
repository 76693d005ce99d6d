"""Whether a change is frozen at a moment, and whether it took the emergency path.

Part of the engine: ``when: {frozen: ...}`` and ``require: {freeze: {emergency: true}}`` read
this report, and formats render it. The emergency path needs the label *and* verified approvals
by the people it names: a label alone is something the change's author can add.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from govgate.memory.model import Knower
from govgate.model import Change, Evidence, Trust
from govgate.policy.freeze import EmergencyPath, Freezes, FreezeWindow, Span, local_text
from govgate.policy.memory_state import KnowerApprovals, approvals_by


@dataclass(frozen=True)
class FrozenBy:
    window: FreezeWindow
    span: Span

    def describe(self) -> str:
        tz = self.window.tz
        until = local_text(self.span.end, tz) if self.span.end else f"the tag {self.window.tag} appears"
        return f"{self.window.id} (from {local_text(self.span.start, tz)} until {until}, {self.window.zone})"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.window.id, "kind": self.window.kind.value, "timezone": self.window.zone,
                "start": self.span.start.isoformat(), "end": self.span.end.isoformat() if self.span.end else None,
                "description": self.window.describe()}


@dataclass
class FreezeReport:
    at: dt.datetime
    frozen_by: list[FrozenBy]
    emergency: EmergencyPath | None
    label_present: bool
    approvals: KnowerApprovals
    open_to_change: bool  # no window in force closes the emergency path for this change

    @property
    def frozen(self) -> bool:
        return bool(self.frozen_by)

    @property
    def emergency_taken(self) -> bool:
        return (self.frozen and self.emergency is not None and self.open_to_change and self.label_present
                and len(self.approvals.counted) >= self.emergency.approvals)

    def unmet(self) -> list[str]:
        """Why the emergency path was not taken (empty when it was)."""
        if self.emergency_taken:
            return []
        reasons = ["frozen by " + "; ".join(f.describe() for f in self.frozen_by)]
        path = self.emergency
        if path is None:
            return [*reasons, "the policy defines no emergency path (freezes.emergency)"]
        if not self.open_to_change:
            return [*reasons, "the emergency path is closed for this change by the window"]
        if not self.label_present:
            reasons.append(f"label {path.label!r} is missing")
        if len(self.approvals.counted) < path.approvals:
            have = f"{len(self.approvals.counted)} of {path.approvals} verified approvals by {' or '.join(path.approvers)}"
            if self.approvals.weaker:
                have += f" ({', '.join(self.approvals.weaker)} only declared)"
            reasons.append(have)
        return reasons

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"at": self.at.isoformat(), "frozen": self.frozen,
                                "windows": [f.to_dict() for f in self.frozen_by]}
        if self.emergency is not None:
            data["emergency"] = {"label": self.emergency.label, "approvers": list(self.emergency.approvers),
                                 "approvals_needed": self.emergency.approvals, "label_present": self.label_present,
                                 "approved_by": self.approvals.counted, "open": self.open_to_change,
                                 "taken": self.emergency_taken}
        return data


def assess_freeze(change: Change, freezes: Freezes | None, at: dt.datetime, ai_assisted: bool,
                  reviewed: Sequence[Evidence]) -> FreezeReport | None:
    if freezes is None:
        return None
    paths = change.paths()
    frozen_by = []
    for window in freezes.windows:
        if not window.covers(paths):
            continue
        span = window.span_at(at, ai_assisted)
        if span is not None:
            frozen_by.append(FrozenBy(window, span))
    path = freezes.emergency
    open_to_change = all(f.window.emergency and (f.window.ai.emergency or not ai_assisted) for f in frozen_by)
    label_present = path is not None and path.label.lower() in {label.lower() for label in change.labels}
    approvers = [Knower.parse(a) for a in path.approvers] if path else []
    approvals = approvals_by(approvers, reviewed, Trust.VERIFIED, on_head=False)
    return FreezeReport(at, frozen_by, path, label_present, approvals, open_to_change)
