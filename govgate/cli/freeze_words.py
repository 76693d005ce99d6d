"""The freeze windows of a policy in words, and which of them hold at a moment (for ``policy explain``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from govgate.policy.freeze import Freezes, FreezeWindow, local_text


def in_force(window: FreezeWindow, at: dt.datetime) -> str | None:
    """'until …' when the window holds at ``at`` for other or AI-assisted changes, else None."""
    for ai_assisted, who in ((False, ""), (True, " for AI-assisted changes")):
        span = window.span_at(at, ai_assisted)
        if span is not None:
            until = local_text(span.end, window.tz) if span.end else f"the tag {window.tag} appears"
            return f"in force{who} until {until} ({window.zone})"
    return None


def freeze_lines(freezes: Freezes | None, at: dt.datetime | None) -> list[str]:
    if freezes is None or not freezes.windows:
        return []
    moment = at or dt.datetime.now(dt.UTC)
    lines = ["", "freezes:"]
    for window in freezes.windows:
        state = in_force(window, moment)
        lines.append(f"  {window.id}: {window.describe()}" + (f"  [{state}]" if state else ""))
        if window.tag and window.tag_time is None and window.planned is not None and window.planned < moment:
            lines.append(f"    (release tag {window.tag} is read from the repository when a change is judged)")
    path = freezes.emergency
    lines.append(f"  emergency path: {path.describe()}" if path else "  no emergency path: frozen means frozen")
    return lines


def freezes_dict(freezes: Freezes | None, at: dt.datetime | None) -> dict[str, Any] | None:
    if freezes is None:
        return None
    moment = at or dt.datetime.now(dt.UTC)
    return {
        "at": moment.isoformat(),
        "windows": [{"id": w.id, "kind": w.kind.value, "timezone": w.zone, "description": w.describe(),
                     "in_force": in_force(w, moment)} for w in freezes.windows],
        "emergency": freezes.emergency.describe() if freezes.emergency else None,
    }
