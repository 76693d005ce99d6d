"""What the organisational memory and the freezes said about a change, for the check formats.

Renders the engine's MemoryReport and FreezeReport (never re-deriving them): for each touched
entry, why the path looks the way it does, who knows it, what depends on it; and the freeze
windows holding the change with the emergency path's state.
"""

from __future__ import annotations

from collections.abc import Callable

from govgate.memory.model import TouchedEntry
from govgate.policy.memory_state import MemoryReport
from govgate.verdict import Verdict

WHY_LINES = 6
TOUCHED_SHOWN = 3


def entry_title(touched: TouchedEntry) -> str:
    entry = touched.entry
    level = f" [fragile: {entry.fragile.value}]" if entry.fragile else ""
    label = f"{entry.id}: " if entry.id else ""
    return f"{label}{', '.join(entry.paths)}{level}"


def touched_text(touched: TouchedEntry) -> str:
    shown = ", ".join(touched.paths[:TOUCHED_SHOWN])
    more = len(touched.paths) - TOUCHED_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def knowers_text(touched: TouchedEntry, report: MemoryReport) -> str:
    if not touched.entry.knows:
        return "nobody named (add `knows`)"
    names = ", ".join(k.text for k in touched.entry.knows)
    approved = [s for s in report.approvals.counted if any(k.approves_as(s) for k in touched.entry.knows)]
    return names + (f" (approved by {', '.join(approved)})" if approved else " (none has approved)")


def staleness(touched: TouchedEntry, report: MemoryReport) -> str | None:
    entry = touched.entry
    if not entry.is_stale(report.today, report.stale_after_days):
        return None
    if entry.reviewed is None:
        return "never reviewed: confirm it is still true and add `reviewed: YYYY-MM-DD`"
    return f"last reviewed {entry.reviewed.isoformat()}, more than {report.stale_after_days} days ago"


def text_lines(verdict: Verdict) -> list[str]:
    """Indented lines for the text format: each touched entry, then the freeze."""
    lines: list[str] = []
    report = verdict.memory
    if report is not None:
        for touched in report.touched:
            lines.append(f"  memory {entry_title(touched)}  (touched: {touched_text(touched)})")
            why = touched.entry.why.splitlines() or ["(no `why` written yet)"]
            lines += [f"    why: {why[0]}", *(f"         {line}" for line in why[1:WHY_LINES])]
            if len(why) > WHY_LINES:
                lines.append("         …")
            lines.append(f"    knows: {knowers_text(touched, report)}")
            if touched.entry.depends_on:
                lines.append(f"    depends on it: {', '.join(touched.entry.depends_on)}")
            if touched.entry.links:
                lines.append(f"    links: {' '.join(touched.entry.links)}")
            stale = staleness(touched, report)
            if stale:
                lines.append(f"    ! {stale}")
        lines += [f"    ! {note}" for note in report.notes()] if report.touched else []
    lines += freeze_lines(verdict, lambda text: text)
    return lines


def freeze_lines(verdict: Verdict, escape: Callable[[str], str]) -> list[str]:
    freeze = verdict.freeze
    if freeze is None or not freeze.frozen:
        return []
    lines = [f"  frozen at {freeze.at.isoformat(timespec='minutes')} by {escape(f.describe())}" for f in freeze.frozen_by]
    path = freeze.emergency
    if path is not None and freeze.emergency_taken:
        lines.append(f"  emergency path taken: label {escape(path.label)!s}, approved by {escape(', '.join(freeze.approvals.counted))}")
    elif path is not None:
        lines.append(f"  emergency path: {escape(path.describe())}" + ("" if freeze.open_to_change else " (closed for this change)"))
    return lines


def markdown_lines(verdict: Verdict, md: Callable[[object], str], code: Callable[[object], str]) -> list[str]:
    """A section for the job summary; every value from the memory file is escaped like change data."""
    lines: list[str] = []
    report = verdict.memory
    if report is not None and report.touched:
        lines += [f"#### Organisational memory for the touched paths ({code(report.source)})", ""]
        for touched in report.touched:
            entry = touched.entry
            level = f" — fragile: **{entry.fragile.value}**" if entry.fragile else ""
            lines.append(f"- **{md(entry.id or ', '.join(entry.paths))}** {code(', '.join(entry.paths))}{level}")
            lines.append(f"  - touched: {md(touched_text(touched))}")
            lines.append(f"  - why: {md(entry.why) if entry.why else '_not written yet_'}")
            lines.append(f"  - knows: {md(knowers_text(touched, report))}")
            if entry.depends_on:
                lines.append(f"  - depends on it: {md(', '.join(entry.depends_on))}")
            if entry.links:
                lines.append("  - links: " + " ".join(code(link) for link in entry.links))
            stale = staleness(touched, report)
            if stale:
                lines.append(f"  - ⚠️ {md(stale)}")
        lines += [f"- ⚠️ {md(note)}" for note in report.notes()]
        lines.append("")
    frozen = freeze_lines(verdict, lambda text: md(text))
    if frozen:
        lines += ["#### ❄️ Release freeze", "", *(f"- {line.strip()}" for line in frozen), ""]
    return lines


def annotation_notes(verdict: Verdict) -> list[tuple[str, str, str, str]]:
    """(kind, file, title, message) for each touched entry: a notice at its first touched file."""
    report = verdict.memory
    if report is None:
        return []
    notes = []
    for touched in report.touched:
        entry = touched.entry
        parts = [entry.why or "no `why` written yet", f"Knows it: {knowers_text(touched, report)}."]
        if entry.depends_on:
            parts.append(f"Depends on it: {', '.join(entry.depends_on)}.")
        if entry.links:
            parts.append("Links: " + " ".join(entry.links))
        level = f" (fragile: {entry.fragile.value})" if entry.fragile else ""
        notes.append(("notice", touched.paths[0], f"govgate memory: {entry.name}{level}", " ".join(parts)))
    return notes
