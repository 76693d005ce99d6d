"""The audit's organisational-memory sections, for the text and HTML reports: the knowledge map
(orphaned and bus-factor-1 areas), AI-assisted changes to fragile paths without a knower's
approval, and changes merged inside freeze windows. Renders the summary; computes nothing."""

from __future__ import annotations

from html import escape
from typing import Any

from govgate.audit.summary import AuditSummary
from govgate.memory.mining import AreaFacts
from govgate.model import KnowledgeStatus

AREAS_SHOWN = 15
EXAMPLES_SHOWN = 10
STATUS_WORDS = {
    KnowledgeStatus.ORPHANED: "orphaned",
    KnowledgeStatus.BUS_FACTOR_1: "bus factor 1",
    KnowledgeStatus.SHARED: "shared",
    KnowledgeStatus.NO_HISTORY: "no human history",
}


def knowers_text(area: AreaFacts) -> str:
    parts = []
    for person, share in area.knowers[:4]:
        left = person in area.departed
        when = person.last_active.date().isoformat() if person.last_active else "never"
        parts.append(f"{person.handle} {share:.0%}" + (f" (left; last commit {when})" if left else ""))
    return "; ".join(parts) or "nobody"


def text_lines(summary: AuditSummary) -> list[str]:
    memory = summary.memory
    lines: list[str] = []
    areas = memory.knowledge_areas()
    if areas:
        counts = memory.status_counts()
        options = memory.miner.options
        lines.append(f"knowledge map (areas changed in this range; departed: no commit for {options.departed_days} days "
                     f"before {memory.now.date().isoformat()}; {memory.older_changes} older changes read for who knew them):")
        lines.append("  " + ", ".join(f"{STATUS_WORDS[s]} {counts[s.value]}" for s in KnowledgeStatus if counts[s.value]))
        risky = [a for a in areas if a.status in (KnowledgeStatus.ORPHANED, KnowledgeStatus.BUS_FACTOR_1)]
        for area in risky[:AREAS_SHOWN]:
            lines.append(f"  {STATUS_WORDS[area.status]:<13} {area.glob}: {area.changes} changes; {knowers_text(area)}")
        if len(risky) > AREAS_SHOWN:
            lines.append(f"  … and {len(risky) - AREAS_SHOWN} more (--format json lists them)")
        lines.append("")
    lines += _memory_file_lines(summary)
    if memory.fragile_ai_changes:
        lines.append(f"AI-assisted changes to fragile paths without a knower's approval: {memory.fragile_ai_changes}")
        lines.append("  by entry: " + ", ".join(f"{name} {count}" for name, count in memory.fragile_ai.most_common()))
        lines += [f"  x {_ref(e)} (knowers: {', '.join(e['knowers']) or 'none named'})"
                  for e in memory.fragile_examples[:EXAMPLES_SHOWN]]
        lines.append("")
    if memory.freeze_changes:
        lines.append(f"changes merged inside freeze windows: {memory.freeze_changes} "
                     f"({memory.freeze_violations} without the emergency path)")
        for window, counts in sorted(memory.windows.items()):
            lines.append(f"  {window}: {counts['inside']} inside, {counts['violations']} violations, "
                         f"{counts['emergency']} through the emergency path")
        lines += [f"  x {_ref(e)}: {e['window']}" for e in memory.freeze_examples[:EXAMPLES_SHOWN]]
        lines.append("")
    return lines


def _memory_file_lines(summary: AuditSummary) -> list[str]:
    memory = summary.memory
    stale, departed = memory.stale_entries(), memory.departed_knowers()
    if memory.memory is None or not (stale or departed):
        return []
    lines = [f"memory file {memory.memory.source}: {len(memory.memory.entries)} entries, {len(stale)} stale, "
             f"{len(departed)} knower{'s' if len(departed) != 1 else ''} named who left"]
    lines += [f"  stale: {e.name} ({'last reviewed ' + e.reviewed.isoformat() if e.reviewed else 'never reviewed'})"
              for e in stale[:EXAMPLES_SHOWN]]
    lines += [f"  left: {e.name} names {k.text} (last commit {p.last_active.date().isoformat() if p.last_active else '?'})"
              for e, k, p in departed[:EXAMPLES_SHOWN]]
    return [*lines, ""]


def _ref(example: dict[str, Any]) -> str:
    title = example["title"] if len(example["title"]) <= 60 else example["title"][:59] + "…"
    return f"{example['id']} {(example['date'] or '')[:10]} {title!r}"


# -- HTML ---------------------------------------------------------------------------------------------

HTML_CSS = """
.km-counts{display:flex;gap:12px;margin:8px 0}.km-count{border-radius:6px;padding:6px 12px;background:#f1f5f9}
.km-count b{font-size:20px;display:block}.km-orphaned{background:#fee2e2}.km-bus{background:#ffedd5}
.km-badge{border-radius:4px;padding:0 6px;white-space:nowrap}.left{color:#b91c1c;text-decoration:line-through}
"""
_BADGE = {KnowledgeStatus.ORPHANED: "km-orphaned", KnowledgeStatus.BUS_FACTOR_1: "km-bus"}


def html_section(summary: AuditSummary, table: Any) -> str:
    """``table(head, rows, raw=True)`` is the report's own table renderer."""
    memory = summary.memory
    parts: list[str] = []
    areas = memory.knowledge_areas()
    if areas:
        parts.append(_knowledge_map(summary, areas, table))
    stale, departed = memory.stale_entries(), memory.departed_knowers()
    if memory.memory is not None and (stale or departed):
        rows = [(escape(e.name), "stale: " + escape(e.reviewed.isoformat() if e.reviewed else "never reviewed"))
                for e in stale]
        rows += [(escape(e.name), f"names {escape(k.text)}, whose last commit was "
                  + escape(p.last_active.date().isoformat() if p.last_active else "?")) for e, k, p in departed]
        parts.append(f"<h3>The memory file ({escape(memory.memory.source)}) is ageing</h3>"
                     + table(("entry", "why it needs attention"), rows, raw=True))
    if memory.fragile_ai_changes:
        rows = [(escape(e["id"]), escape((e["date"] or "")[:10]), escape(e["title"]), escape(", ".join(e["entries"])),
                 escape(e["fragile"]), escape(", ".join(e["knowers"]) or "none named")) for e in memory.fragile_examples]
        parts.append(f"<h3>AI-assisted changes to fragile paths without a knower's approval ({memory.fragile_ai_changes})</h3>"
                     + table(("change", "date", "title", "memory entries", "fragile", "knowers"), rows, raw=True))
    if memory.freeze_changes:
        rows = [(escape(e["id"]), escape((e["date"] or "")[:10]), escape(e["title"]), escape(e["window"]))
                for e in memory.freeze_examples]
        parts.append(f"<h3>Merged inside freeze windows: {memory.freeze_changes} "
                     f"({memory.freeze_violations} without the emergency path)</h3>"
                     + table(("change", "merged", "title", "window"), rows, raw=True))
    if not parts:
        return ""
    return ('<h2 id="organisational-memory">Where the organisation is forgetting</h2>' + "".join(parts))


def _knowledge_map(summary: AuditSummary, areas: list[AreaFacts], table: Any) -> str:
    memory = summary.memory
    counts = memory.status_counts()
    tiles = "".join(
        f'<div class="km-count {_BADGE.get(status, "")}"><b>{counts[status.value]}</b>{escape(STATUS_WORDS[status])}</div>'
        for status in KnowledgeStatus if status is not KnowledgeStatus.NO_HISTORY)
    rows = []
    for area in areas[:AREAS_SHOWN * 2]:
        badge = f'<span class="km-badge {_BADGE.get(area.status, "")}">{escape(STATUS_WORDS[area.status])}</span>'
        people = "; ".join(
            (f'<span class="left" title="last commit {escape(p.last_active.date().isoformat() if p.last_active else "never")}">'
             f"{escape(p.handle)}</span>" if p in area.departed else escape(p.handle)) + f" {share:.0%}"
            for p, share in area.knowers[:4]) or "nobody"
        last = escape(area.last_change.date().isoformat()) if area.last_change else ""
        rows.append((f"<code>{escape(area.glob)}</code>", badge, str(area.changes), people, last))
    note = (f'<p class="muted">Areas changed in this range. A knower holds at least 10% of an area\'s changes, weighted by '
            f"recency; struck through: no commit for {memory.miner.options.departed_days} days before "
            f"{escape(memory.now.date().isoformat())} (departed). {memory.older_changes} changes before the range were read "
            "to know who knew each area.</p>")
    return (f'<div class="km-counts">{tiles}</div>' + note
            + table(("area", "who knows it", "changes", "knowers (share)", "last change"), rows, raw=True))
